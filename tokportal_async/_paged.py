"""Paged endpoints: one declaration gives a resource its ``list``, ``pages`` and ``iter``.

A paged endpoint is its path, its item model and its filters, declared once as a
``TypedDict``. The resource's three methods take the filters as ``**filters:
Unpack[TheFilters]`` (typed for the caller, declared nowhere else), and hand them here:
the checks and the query string come from the declared types, and one walker serves
every list, with ``concurrency`` for all of them.
"""

from __future__ import annotations

import types
import typing
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from ._concurrency import check_concurrency
from ._models import Page
from ._pagination import items_of, walk_pages
from ._response import decode_page
from ._retry import SendRequest
from ._validation import check_filter, check_flag, check_page, check_per_page, path_segment

__all__ = ["PagedEndpoint", "iso_utc"]

T = TypeVar("T")

#: How one filter's value is checked and written into the query string (``None``: left out).
Encode = Callable[[str, Any], str | None]


def iso_utc(name: str, moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC with ``Z``, as TokPortal writes timestamps."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time is ambiguous by hours; guessing would skip or repeat records.
        raise ValueError(
            f"{name} must be timezone-aware (for example datetime.now(UTC)), got {moment!r}"
        )
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or 9999-12-31 west of it
        raise ValueError(f"{name} is out of range once converted to UTC, got {moment!r}") from None
    return in_utc.isoformat().replace("+00:00", "Z")


def _day_or_time(name: str, moment: date | datetime | None) -> str | None:
    """A day as ``YYYY-MM-DD``, an instant as :func:`iso_utc` writes it."""
    if moment is None or isinstance(moment, datetime):
        return iso_utc(name, moment)
    if not isinstance(moment, date):
        raise ValueError(f"{name} must be a date or a datetime, got {type(moment).__name__}")
    return moment.isoformat()


def _flag(name: str, value: object) -> str | None:
    flag = check_flag(name, value)
    return None if flag is None else "true" if flag else "false"


def _text(name: str, value: Any) -> str | None:
    check_filter(name, value)
    return value  # type: ignore[no-any-return]  # checked: a non-blank str or None


def _encoder(name: str, hint: Any) -> Encode:
    """The check a filter's declared type calls for: a time, a flag, or a value set's text."""
    kinds = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
    if date in kinds:
        return _day_or_time
    if datetime in kinds:
        return iso_utc
    if bool in kinds:
        return _flag
    if str in kinds:  # a value set (Platform | str): open, so any non-blank text
        return _text
    raise TypeError(f"filter {name!r}: no query encoding for {hint!r}")


class PagedEndpoint(Generic[T]):
    """A ``GET`` list of ``item`` under ``path`` (``{name}`` holes for ids), and its filters.

    Every method takes the filters as the caller passed them (a mapping of the declared
    names): an undeclared name is a ``TypeError``, as for any unknown keyword argument; a
    bad value is a ``ValueError``; both before any request.
    """

    def __init__(self, path: str, item: type[T], filters: type[Mapping[str, Any]]) -> None:
        self._path = path
        self.item = item
        hints = typing.get_type_hints(filters)
        self._encoders = {name: _encoder(name, hint) for name, hint in hints.items()}

    def path(self, **ids: str) -> str:
        """The path with each ``{name}`` hole filled by its id, checked and encoded."""
        return self._path.format_map(
            {name: path_segment(name, value) for name, value in ids.items()}
        )

    def query(
        self, caller: str, filters: Mapping[str, Any], *, page: int | None, per_page: int | None
    ) -> dict[str, str]:
        """The query string of one page's request: the given filters, page and size."""
        unknown = [name for name in filters if name not in self._encoders]
        if unknown:
            raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
        params: dict[str, str] = {}
        for name, encode in self._encoders.items():
            text = encode(name, filters.get(name))
            if text is not None:
                params[name] = text
        check_page(page)
        check_per_page(per_page)
        if page is not None:
            params["page"] = str(page)
        if per_page is not None:
            params["per_page"] = str(per_page)
        return params

    async def page(
        self,
        send: SendRequest,
        filters: Mapping[str, Any],
        *,
        caller: str = "list",
        page: int | None = None,
        per_page: int | None = None,
        ids: Mapping[str, str] | None = None,
    ) -> Page[T]:
        """One page: the request, and the answer checked to be the page asked for."""
        path = self.path(**(ids or {}))
        params = self.query(caller, filters, page=page, per_page=per_page)
        response = await send("GET", path, params=params)
        return decode_page(response, self.item, expected_page=page)

    async def pages(
        self,
        send: SendRequest,
        filters: Mapping[str, Any],
        *,
        caller: str = "pages",
        per_page: int,
        concurrency: int = 1,
        ids: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[Page[T], None]:
        """Every page, lazily, ``concurrency`` at a time once the first tells how many."""
        path = self.path(**(ids or {}))
        self.query(caller, filters, page=None, per_page=per_page)  # before any request
        check_concurrency(concurrency)

        async def fetch(number: int) -> Page[T]:
            return await self.page(
                send, filters, caller=caller, page=number, per_page=per_page, ids=ids
            )

        walk = walk_pages(fetch, path=path, concurrency=concurrency)
        async with aclosing(walk) as pages:
            async for page in pages:
                yield page

    async def items(
        self,
        send: SendRequest,
        filters: Mapping[str, Any],
        *,
        caller: str = "iter",
        per_page: int,
        concurrency: int = 1,
        ids: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[T, None]:
        """Every item of every page, in list order (see :meth:`pages`)."""
        pages = self.pages(
            send, filters, caller=caller, per_page=per_page, concurrency=concurrency, ids=ids
        )
        async with aclosing(items_of(pages)) as found:
            async for item in found:
                yield item
