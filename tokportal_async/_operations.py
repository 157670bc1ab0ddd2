"""One declaration per operation: its method, its path, and how it may be sent.

Every call of a resource goes through an :class:`Operation`, which knows what TokPortal's
idempotency policy says about it, and so how the request is sent and retried:

- :attr:`Access.READ` (``not-applicable``): a read, retried on any transient failure.
- :attr:`Access.WRITE` (``standard``): a write sent with an ``Idempotency-Key``, one per
  call and the same on every retry, so it is retried like a read: TokPortal replays the
  first answer instead of acting (and charging) twice. ``dry_run`` adds
  ``X-TokPortal-Dry-Run: true``.
- :attr:`Access.SECRET` (``reject-sensitive-response``): never keyed (TokPortal refuses
  a key there) and sent again only when the first attempt provably had no effect.

A resource method then states the operation, checks its arguments, and picks how the
answer is decoded (``data``, a page, a paid result).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._idempotency import check_dry_run, idempotency_key, write_headers
from ._raw import RawResponse
from ._response import decode_data, decode_optional_data, decode_paid
from ._retry import RetryMode, SendRequest
from ._validation import path_segment

if TYPE_CHECKING:  # the paid-write models load with the first paid call
    from ._credit_models import PaidResult

__all__ = ["Access", "Operation", "secret_bearing"]

T = TypeVar("T")


class Access(enum.Enum):
    """How an operation may be sent and repeated (TokPortal's idempotency policy)."""

    READ = "not-applicable"
    WRITE = "standard"
    SECRET = "reject-sensitive-response"  # noqa: S105 - a policy name, not a password


@attrs.frozen
class Operation:
    """One TokPortal operation: ``method`` on ``path`` (``{name}`` holes for ids)."""

    method: str
    path: str
    access: Access = Access.READ

    def __attrs_post_init__(self) -> None:
        if (self.access is Access.READ) != (self.method == "GET"):
            raise ValueError(f"{self.method} {self.path}: only GET is a read")

    def matches(self, method: str, path: str) -> bool:
        """Whether ``method`` on ``path`` (as sent: ids filled in) is this operation."""
        return method == self.method and bool(_pattern(self.path).fullmatch(path.rstrip("/")))

    def path_for(self, ids: Mapping[str, str]) -> str:
        """The path with each hole filled by its id, checked and encoded as one segment."""
        return self.path.format_map(
            {name: path_segment(name, value) for name, value in ids.items()}
        )

    async def send(
        self,
        send: SendRequest,
        ids: Mapping[str, str],
        *,
        json: Any = None,
        key: str | None = None,
        dry_run: bool = False,
    ) -> RawResponse:
        """Send the operation once (with the client's retries); ``key`` for a write."""
        path = self.path_for(ids)
        if self.access is Access.WRITE:
            if key is None:
                raise AssertionError("a write is sent with its idempotency key")
            headers = write_headers(key, dry_run=dry_run)
            return await send(self.method, path, json=json, headers=headers)
        if self.access is Access.SECRET:
            return await send(self.method, path, json=json, mode=RetryMode.UNSENT_ONLY)
        return await send(self.method, path)

    async def data(
        self,
        send: SendRequest,
        model: type[T],
        ids: Mapping[str, str],
        *,
        json: Any = None,
        key: str | None = None,
        identity: tuple[str, str] | None = None,
    ) -> T:
        """Call, and decode the answer's ``data`` as ``model``."""
        checked = self._key(key)
        response = await self.send(send, ids, json=json, key=checked)
        return decode_data(response, model, identity=identity)

    async def optional_data(
        self, send: SendRequest, model: type[T], ids: Mapping[str, str]
    ) -> T | None:
        """Call a read whose ``data`` may be ``null``."""
        return decode_optional_data(await self.send(send, ids), model)

    async def listed(self, send: SendRequest, model: type[T], ids: Mapping[str, str]) -> list[T]:
        """Call a read whose ``data`` is an unpaged array of ``model``."""
        return decode_data(await self.send(send, ids), list[model])  # type: ignore[valid-type]

    async def paid(
        self,
        send: SendRequest,
        model: type[T],
        ids: Mapping[str, str],
        *,
        json: Any = None,
        key: str | None = None,
        dry_run: bool = False,
        identity: tuple[str, str] | None = None,
    ) -> PaidResult[Any]:
        """Call a paid write, or preview it (``dry_run``); the answer with its charge."""
        dry_run = check_dry_run(dry_run)
        checked = self._key(key)
        assert checked is not None  # a paid operation is a write
        response = await self.send(send, ids, json=json, key=checked, dry_run=dry_run)
        return decode_paid(
            response, model, idempotency_key=checked, dry_run=dry_run, identity=identity
        )

    def _key(self, key: str | None) -> str | None:
        """The key of one call of a write (the caller's, checked, or a new one)."""
        if self.access is not Access.WRITE:
            if key is not None:
                raise ValueError(f"{self.method} {self.path} takes no idempotency key")
            return None
        return idempotency_key(key)


@functools.lru_cache(maxsize=64)
def _pattern(template: str) -> re.Pattern[str]:
    """A path template (``/accounts/{account_id}``) as a pattern: each hole one segment."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def secret_bearing(operations: Iterable[Operation], method: str, path: str) -> bool:
    """Whether ``method`` on ``path`` is one of ``operations`` that are :attr:`Access.SECRET`."""
    return any(op.access is Access.SECRET and op.matches(method, path) for op in operations)
