"""``AsyncTokPortal``: the client users hold, and the one place requests leave from."""

from __future__ import annotations

import copy
import functools
import logging
import sys
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import attrs

from ._account_bans import AsyncAccountBans
from ._accounts import SECRET_OPERATIONS as ACCOUNT_SECRETS
from ._accounts import AsyncAccounts
from ._api_response import APIResponse
from ._constants import (
    API_VERSION_HEADER,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_TIMEOUT,
    KNOWN_API_VERSION,
)
from ._errors import APIVersionWarning
from ._idempotency import idempotency_key as check_idempotency_key
from ._idempotency import write_headers
from ._json import dumps
from ._models import RateLimit
from ._operations import Operation, secret_bearing
from ._pacing import Pacer, Permit
from ._public import show_as_public
from ._query import query
from ._rate_limit import RateLimiter
from ._raw import RawResponse
from ._response import error_for, rate_limit_of
from ._retry import RetryMode, RetryPolicy, send_with_retries
from ._settings import resolve_api_key, resolve_base_url
from ._text import printable
from ._transport import Transport, timeout_of
from ._validation import (
    check_flag,
    check_positive_seconds,
    check_retries,
    request_method,
    request_path,
)

if TYPE_CHECKING:  # aiohttp is the transport's: here it only types two arguments
    import aiohttp

    from ._credits import AsyncCredits
    from ._redis_rate_limit import RedisRateLimiter
    from ._webhook_endpoints import AsyncWebhooks

__all__ = ["AsyncTokPortal"]

logger = logging.getLogger("tokportal_async")

#: Methods that only read, and so are safe to send again after any failure.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_pacer(rate_limiter: object) -> None:
    if isinstance(rate_limiter, bool | Pacer):
        return
    raise ValueError(
        "rate_limiter must be True, False, a RateLimiter or a Pacer (acquire, aclose), "
        f"got {rate_limiter!r}"
    )


def _secret_operations() -> tuple[Operation, ...]:
    """The operations TokPortal never replays (``reject-sensitive-response``), as declared."""
    from ._webhook_endpoints import SECRET_OPERATIONS as WEBHOOK_SECRETS

    return (*ACCOUNT_SECRETS, *WEBHOOK_SECRETS)


def _builtin_bucket(pacer: Pacer | None) -> RateLimiter | RedisRateLimiter | None:
    """``pacer`` if it is one of the SDK's own buckets, else ``None``."""
    if isinstance(pacer, RateLimiter):
        return pacer
    # The Redis limiter's module loads with the limiter (it needs the redis extra): while
    # it is not loaded, no pacer can be one, and the client never loads it for nothing.
    shared = sys.modules.get("tokportal_async._redis_rate_limit")
    if shared is not None and isinstance(pacer, shared.RedisRateLimiter):
        found: RedisRateLimiter = pacer
        return found
    return None


def _note_api_version(version: str) -> None:
    if version != KNOWN_API_VERSION:
        # Python's default filter shows each version's warning once per process (one
        # message from one place), however many clients meet it; no state of our own.
        warnings.warn(
            f"TokPortal answered with API version {printable(version, limit=40)}; this SDK "
            f"was written against {KNOWN_API_VERSION}. New fields and values are read as "
            "they come, but check the changelog of the API.",
            APIVersionWarning,
            stacklevel=1,
        )


class AsyncTokPortal:
    """Async client for TokPortal's Accounts API.

    Example::

        async with AsyncTokPortal() as tp:  # the key comes from TOKPORTAL_API_KEY
            async for account in tp.accounts.iter(platform="tiktok"):
                detail = await tp.accounts.get(account.id)

    Args:
        api_key: your API key; defaults to the ``TOKPORTAL_API_KEY`` environment variable.
        base_url: defaults to ``TOKPORTAL_BASE_URL``, then
            ``https://app.tokportal.com/api/ext``. Plain ``http`` only for loopback hosts.
        timeout: seconds for a whole request, reading the body included (default 60), or
            an ``aiohttp.ClientTimeout`` used as given.
        connect_timeout: seconds to open a connection (default 10).
        max_retries: how many times a failed request that is safe to repeat is sent again
            (default 2; 0 turns retries off).
        retry_deadline: no retry starts later than this many seconds after the first
            attempt (default 60).
        rate_limiter: pace requests to the key's budget (``True``, the default: 120 per
            minute until the server's ``X-RateLimit-*`` headers say otherwise), a tuned
            :class:`RateLimiter`, a :class:`RedisRateLimiter` for a fleet, any
            :class:`Pacer` of your own, or ``False`` to send requests as fast as they come.
        max_response_bytes: the most bytes of one answer to read, after decompression
            (default 16 MiB, a hundred times the largest real page); a larger body raises
            :class:`APIResponseValidationError` without being held in memory.
        session: an ``aiohttp.ClientSession`` to send requests with. The client uses it and
            never closes it; without one, the client creates its own and always closes it.

    Use it as ``async with``, or call :meth:`aclose` when done. One client is meant to be
    shared by every task of a program: it holds the connection pool.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        rate_limiter: Pacer | bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        check_retries(max_retries)
        check_positive_seconds("retry_deadline", retry_deadline, allow_zero=True)
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise ValueError(
                f"max_response_bytes must be a positive integer, got {max_response_bytes!r}"
            )
        _check_pacer(rate_limiter)
        self._transport = Transport(
            api_key=resolve_api_key(api_key),
            base_url=resolve_base_url(base_url),
            timeout=timeout_of(timeout, connect_timeout),
            max_response_bytes=max_response_bytes,
            session=session,
        )
        self._retry_policy = RetryPolicy(max_retries=max_retries, deadline=float(retry_deadline))
        #: The transport's own timeout unless with_options gave this client another.
        self._timeout: aiohttp.ClientTimeout | None = None
        #: Whether aclose() closes the pool: a with_options copy shares its original's.
        self._owns_resources = True
        #: Whether aclose() closes the pacer: a copy closes only one given to it.
        self._owns_pacer = True
        self._rate_limiter: Pacer | None = None
        self._use_pacer(rate_limiter)
        self._rate_limit: RateLimit | None = None
        self._api_version: str | None = None

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The URL every request path is relative to."""
        return str(self._transport.base_url)

    @property
    def max_retries(self) -> int:
        """How many times a request that is safe to repeat is sent again."""
        return self._retry_policy.max_retries

    @property
    def rate_limit(self) -> RateLimit | None:
        """The key's budget from the last ``X-RateLimit-*`` headers seen, if any yet."""
        return self._rate_limit

    @property
    def api_version(self) -> str | None:
        """The ``X-TokPortal-API-Version`` of the last answer (``"2026-05-25"``), if any."""
        return self._api_version

    @property
    def rate_limiter(self) -> RateLimiter | RedisRateLimiter | None:
        """The built-in bucket that paces this client's requests, if one does.

        A :class:`RateLimiter` or a :class:`RedisRateLimiter`; ``None`` when pacing is
        switched off or done by a pacer of your own (see :attr:`pacer`).
        """
        return _builtin_bucket(self._rate_limiter)

    @property
    def pacer(self) -> Pacer | None:
        """Whatever paces this client's requests (see :class:`Pacer`), or ``None``."""
        return self._rate_limiter

    def _use_pacer(self, rate_limiter: Pacer | bool) -> None:
        pacer = RateLimiter() if rate_limiter is True else rate_limiter or None
        bucket = _builtin_bucket(pacer)
        if bucket is not None:
            bucket._bind(self._transport.api_key)  # a shared bucket is per key
        self._rate_limiter = pacer

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        retry_deadline: float | None = None,
        timeout: float | aiohttp.ClientTimeout | None = None,
        connect_timeout: float | None = None,
        rate_limiter: Pacer | bool | None = None,
    ) -> Self:
        """A client with other settings that shares this one's connection pool and pacing.

        For one part of a program that needs other retries or timeouts (a batch job's
        patience, a health check's haste) without a second pool or a second rate budget.
        Only what is given changes. The pool is this client's, closed with it; closing
        the copy closes only a pacer given to it (``rate_limiter=``).

        Example::

            patient = tp.with_options(max_retries=5, timeout=120)
            detail = await patient.accounts.get(account_id)

        Args:
            max_retries: retries per request.
            retry_deadline: seconds after the first attempt past which no retry starts.
            timeout: seconds for a whole request, or an ``aiohttp.ClientTimeout``.
            connect_timeout: seconds to open a connection (with ``timeout``: default 10).
            rate_limiter: another pacer, ``True`` for a bucket of its own, ``False`` for
                none; by default the same as this client's (one budget for both).
        """
        changes: dict[str, Any] = {}
        if max_retries is not None:
            changes["max_retries"] = check_retries(max_retries)
        if retry_deadline is not None:
            check_positive_seconds("retry_deadline", retry_deadline, allow_zero=True)
            changes["deadline"] = float(retry_deadline)
        if rate_limiter is not None:
            _check_pacer(rate_limiter)
        new_timeout = self._timeout
        if timeout is not None or connect_timeout is not None:
            new_timeout = timeout_of(
                DEFAULT_TIMEOUT if timeout is None else timeout,
                DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
            )
        clone = copy.copy(self)
        for resource in _RESOURCES:
            clone.__dict__.pop(resource, None)  # bound to the original's request method
        clone._retry_policy = attrs.evolve(self._retry_policy, **changes)
        clone._timeout = new_timeout
        clone._owns_resources = False
        clone._owns_pacer = rate_limiter is not None
        if rate_limiter is not None:
            clone._use_pacer(rate_limiter)
        return clone

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has run; a closed client refuses new requests."""
        return self._transport.closed

    @functools.cached_property
    def accounts(self) -> AsyncAccounts:
        """Delivered accounts: list, read, credentials, codes, coverage, edits, warming."""
        return AsyncAccounts(self._request)

    @functools.cached_property
    def account_bans(self) -> AsyncAccountBans:
        """Bans of delivered accounts: appeal status and resolution."""
        return AsyncAccountBans(self._request)

    @functools.cached_property
    def credits(self) -> AsyncCredits:
        """Your credit balance and its history."""
        from ._credits import AsyncCredits  # its models load with it, not with the client

        return AsyncCredits(self._request)

    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        """The endpoints TokPortal sends account events to, and their deliveries."""
        from ._webhook_endpoints import AsyncWebhooks  # its models load with it

        return AsyncWebhooks(self._request)

    async def __aenter__(self) -> Self:
        self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only if the client created it). Safe to call twice.

        A :meth:`with_options` copy closes only a pacer it was given: the client it came
        from owns the pool.
        """
        if self._owns_resources:
            await self._transport.aclose()
        if self._owns_pacer and self._rate_limiter is not None:
            await self._rate_limiter.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool | None] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
    ) -> APIResponse:
        """Call any TokPortal operation the SDK has no method for, with the same care.

        The same key handling, pacing, timeouts, retries, error mapping and request ids as
        every typed method; the answer is an :class:`APIResponse` to read yourself.

        Example::

            balance = await tp.request("GET", "/credits/balance")
            print(balance.status, balance.request_id, balance.json())

        Args:
            method: ``"GET"``, ``"POST"``, ``"PATCH"`` ...
            path: relative to ``base_url`` (``"/credits/balance"``). A URL, a scheme, a
                path starting with ``//``, ``..`` segments or a query are refused.
            params: the query string; ``None`` values are left out, booleans are sent as
                ``true``/``false``.
            json: a JSON body: anything ``json.dumps`` encodes, without ``NaN`` or
                ``Infinity`` (a ``datetime``, a ``set`` or ``bytes`` is a ``ValueError``,
                raised before any request).
            idempotent: whether sending the request twice is harmless. By default only
                GET, HEAD and OPTIONS are; any other method is sent again only when it
                provably had no effect (the connection never opened, or a 429). Pass
                ``True`` for an operation you know is safe to repeat.
            idempotency_key: send this ``Idempotency-Key`` (the same on every retry), for
                a ``standard`` write: TokPortal then replays its first answer instead of
                acting twice, so the request is retried like a read. Refused for the
                secret-bearing calls (``reveal-credentials``, ``verification-code``,
                creating a webhook endpoint), which TokPortal never replays.

        Raises:
            APIError: a non-2xx answer, as its typed subclass.
            APIConnectionError: no answer came.
        """
        method = request_method(method)
        path = request_path(path)
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"params must be a mapping, got {type(params).__name__}")
        check_flag("idempotent", idempotent)
        if any(not isinstance(name, str) or not name for name in params or {}):
            raise ValueError("params names must be non-empty strings")
        headers = None
        if idempotency_key is not None:
            if secret_bearing(_secret_operations(), method, path):
                raise ValueError(
                    f"{path} is a secret-bearing call: TokPortal refuses an Idempotency-Key "
                    "there and never replays it"
                )
            headers = write_headers(check_idempotency_key(idempotency_key))
        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        mode = RetryMode.IDEMPOTENT if safe or headers else RetryMode.UNSENT_ONLY
        response = await self._request(
            method, path, params=query(**(params or {})), json=json, mode=mode, headers=headers
        )
        if response.ok:
            return APIResponse(response)
        raise error_for(response)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        mode: RetryMode = RetryMode.IDEMPOTENT,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Send a request under the retry policy; the answer may be an error status.

        ``headers`` go with every attempt unchanged: an ``Idempotency-Key`` among them is
        the same on each retry, which is what lets TokPortal replay instead of charging
        again.
        """
        # First, before any frame holds the key: a body that is not JSON is the caller's
        # ValueError, never an error from inside the HTTP client (see _json.dumps).
        body = None if json is None else dumps(json)
        transport = self._transport
        timeout = self._timeout

        async def send(permit: Permit | None) -> RawResponse:
            try:
                response = await transport.request(
                    method, path, params=params, body=body, headers=headers, timeout=timeout
                )
            except BaseException:
                if permit is not None:
                    with anyio.CancelScope(shield=True):  # counted even when cancelled
                        await permit.finish(None, None, None)
                raise
            rate_limit = rate_limit_of(response.headers)
            if rate_limit is not None:
                self._rate_limit = rate_limit
            api_version = response.headers.get(API_VERSION_HEADER)
            if api_version:
                self._api_version = api_version
            if permit is not None:
                retry_after = response.retry_after if response.status == 429 else None
                await permit.finish(response.status, rate_limit, retry_after)
            if logger.isEnabledFor(logging.DEBUG):  # escaping costs a little per request
                logger.debug(
                    "%s %s: HTTP %d (request id %s)",
                    method,
                    path,
                    response.status,
                    printable(response.request_id or "none", limit=128),
                )
            if api_version:  # last: a filter may turn the warning into an error
                _note_api_version(api_version)
            return response

        return await send_with_retries(
            send,
            policy=self._retry_policy,
            mode=mode,
            method=method,
            path=path,
            pacer=self._rate_limiter,
        )


#: The client's resources (``tp.accounts`` ...): cached, each bound to its client.
_RESOURCES = tuple(
    name
    for name, member in vars(AsyncTokPortal).items()
    if isinstance(member, functools.cached_property)
)


show_as_public(globals())
