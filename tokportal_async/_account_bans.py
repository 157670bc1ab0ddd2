"""``tp.account_bans``: the bans of delivered accounts, TokPortal's only source of truth.

A validated ban marks the account ``banned`` (it stays listed); how the ban was appealed
and settled is read here. Poll it with a watermark: keep the highest ``updated_at`` seen
and pass it as ``since`` next time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime

from ._concurrency import check_concurrency
from ._constants import DEFAULT_ITER_PER_PAGE
from ._models import AccountBan, BanResolutionKind, BanStatus, Page
from ._pagination import flattens, items_of, walk_pages
from ._public import show_as_public
from ._query import query
from ._response import decode_page
from ._retry import SendRequest
from ._validation import check_filter, check_page, check_per_page

__all__ = ["AsyncAccountBans"]


def _iso_utc(name: str, moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC with ``Z``, as TokPortal writes timestamps."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time is ambiguous by hours; guessing would skip or repeat bans.
        raise ValueError(
            f"{name} must be timezone-aware (for example datetime.now(UTC)), got {moment!r}"
        )
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or 9999-12-31 west of it
        raise ValueError(f"{name} is out of range once converted to UTC, got {moment!r}") from None
    return in_utc.isoformat().replace("+00:00", "Z")


def _ban_filters(
    status: BanStatus | str | None,
    resolution: BanResolutionKind | str | None,
    account_id: str | None,
    since: datetime | None,
    include_screenshots: bool | None,
    page: int | None,
    per_page: int | None,
) -> dict[str, str]:
    check_filter("status", status)
    check_filter("resolution", resolution)
    check_filter("account_id", account_id)
    if include_screenshots is not None and not isinstance(include_screenshots, bool):
        raise ValueError(
            f"include_screenshots must be True, False or None, got {include_screenshots!r}"
        )
    check_page(page)
    check_per_page(per_page)
    return query(
        status=status,
        resolution=resolution,
        account_id=account_id,
        since=_iso_utc("since", since),
        include_screenshots=include_screenshots,
        page=page,
        per_page=per_page,
    )


class AsyncAccountBans:
    """Bans of your delivered accounts: their appeal status and resolution.

    Reached as ``tp.account_bans`` on an :class:`~tokportal_async.AsyncTokPortal`.

    Example::

        async for ban in tp.account_bans.iter(resolution="pending", since=watermark):
            print(ban.account_id, ban.status, ban.resolution)
    """

    def __init__(self, send: SendRequest) -> None:
        self._send = send  # the client's requests: paced, retried, typed

    async def list(
        self,
        *,
        status: BanStatus | str | None = None,
        resolution: BanResolutionKind | str | None = None,
        account_id: str | None = None,
        since: datetime | None = None,
        include_screenshots: bool | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Page[AccountBan]:
        """One page of bans.

        Args:
            status: only bans in this status (``"appeal_pending"``, ``"appeal_accepted"``,
                ``"appeal_refused"``, ``"no_appeal_banned"``).
            resolution: only bans settled this way (``"refund"``, ``"remake"``,
                ``"no_remake"``, ``"pending"``).
            account_id: only the bans of this account.
            since: only bans updated at or after this timezone-aware time: pass the
                highest ``updated_at`` you have seen.
            include_screenshots: add ``screenshot_url``, a signed evidence URL valid 7 days.
            page: 1-based page number.
            per_page: 1 to 100.
        """
        params = _ban_filters(
            status, resolution, account_id, since, include_screenshots, page, per_page
        )
        response = await self._send("GET", "/account-bans", params=params)
        return decode_page(response, AccountBan, expected_page=page)

    async def pages(
        self,
        *,
        status: BanStatus | str | None = None,
        resolution: BanResolutionKind | str | None = None,
        account_id: str | None = None,
        since: datetime | None = None,
        include_screenshots: bool | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
    ) -> AsyncGenerator[Page[AccountBan], None]:
        """Every page of bans matching the filters, fetched lazily.

        With ``concurrency=N``, once the first page reveals ``total_pages`` the rest are
        fetched up to N at a time, still yielded in page order.
        """
        _ban_filters(status, resolution, account_id, since, include_screenshots, None, per_page)
        check_concurrency(concurrency)

        async def fetch(number: int) -> Page[AccountBan]:
            return await self.list(
                status=status,
                resolution=resolution,
                account_id=account_id,
                since=since,
                include_screenshots=include_screenshots,
                page=number,
                per_page=per_page,
            )

        walk = walk_pages(fetch, path="/account-bans", concurrency=concurrency)
        async with aclosing(walk) as pages:
            async for page in pages:
                yield page

    @flattens("pages")
    async def iter(
        self,
        *,
        status: BanStatus | str | None = None,
        resolution: BanResolutionKind | str | None = None,
        account_id: str | None = None,
        since: datetime | None = None,
        include_screenshots: bool | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
    ) -> AsyncGenerator[AccountBan, None]:
        """Every ban matching the filters, page after page, fetched lazily.

        Example::

            async for ban in tp.account_bans.iter(since=watermark):
                handle(ban)
                if ban.updated_at and (watermark is None or ban.updated_at > watermark):
                    watermark = ban.updated_at  # store it for the next run
        """
        pages = self.pages(
            status=status,
            resolution=resolution,
            account_id=account_id,
            since=since,
            include_screenshots=include_screenshots,
            per_page=per_page,
            concurrency=concurrency,
        )
        async with aclosing(items_of(pages)) as bans:
            async for ban in bans:
                yield ban


show_as_public(globals())
