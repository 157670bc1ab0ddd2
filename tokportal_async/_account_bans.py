"""``tp.account_bans``: the bans of delivered accounts, TokPortal's only source of truth.

A validated ban marks the account ``banned`` (it stays listed); how the ban was appealed
and settled is read here. Poll it with a watermark: keep the highest ``updated_at`` seen
and pass it as ``since`` next time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Unpack

from ._constants import DEFAULT_ITER_PER_PAGE
from ._filters import BanFilters
from ._models import AccountBan, Page
from ._paged import PagedEndpoint
from ._pagination import flattens
from ._public import show_as_public
from ._retry import SendRequest

__all__ = ["AsyncAccountBans"]


#: The one list of bans, declared once.
_BANS = PagedEndpoint("/account-bans", AccountBan, BanFilters)


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
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[BanFilters],
    ) -> Page[AccountBan]:
        """One page of bans.

        Args:
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: see :class:`~tokportal_async.BanFilters`:

                - ``status``: only bans in this status (``"appeal_pending"``,
                  ``"appeal_accepted"``, ``"appeal_refused"``, ``"no_appeal_banned"``).
                - ``resolution``: only bans settled this way (``"refund"``, ``"remake"``,
                  ``"no_remake"``, ``"pending"``).
                - ``account_id``: only the bans of this account.
                - ``since``: only bans updated at or after this timezone-aware time: pass
                  the highest ``updated_at`` you have seen.
                - ``include_screenshots``: add ``screenshot_url``, a signed evidence URL
                  valid 7 days.
        """
        return await _BANS.page(self._send, filters, page=page, per_page=per_page)

    def pages(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[BanFilters],
    ) -> AsyncGenerator[Page[AccountBan], None]:
        """Every page of bans matching the filters, fetched lazily.

        With ``concurrency=N``, once the first page reveals ``total_pages`` the rest are
        fetched up to N at a time, still yielded in page order.
        """
        return _BANS.pages(self._send, filters, per_page=per_page, concurrency=concurrency)

    @flattens("pages")
    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[BanFilters],
    ) -> AsyncGenerator[AccountBan, None]:
        """Every ban matching the filters, page after page, fetched lazily.

        Example::

            async for ban in tp.account_bans.iter(since=watermark):
                handle(ban)
                if ban.updated_at and (watermark is None or ban.updated_at > watermark):
                    watermark = ban.updated_at  # store it for the next run
        """
        return _BANS.items(self._send, filters, per_page=per_page, concurrency=concurrency)


show_as_public(globals())
