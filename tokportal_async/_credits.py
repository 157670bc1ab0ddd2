"""``tp.credits``: the balance every paid call draws on, and its history."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Unpack

from ._constants import DEFAULT_ITER_PER_PAGE
from ._credit_models import CreditBalance, CreditTransaction
from ._filters import CreditHistoryFilters
from ._models import Page
from ._operations import Operation
from ._paged import PagedEndpoint
from ._pagination import flattens
from ._public import show_as_public
from ._response import decode_data
from ._retry import SendRequest

__all__ = ["AsyncCredits"]

_BALANCE = Operation("GET", "/credits/balance")
_HISTORY = PagedEndpoint("/credits/history", CreditTransaction, CreditHistoryFilters)


def _either_balance_shape(data: Any) -> Any:
    """The older shape (``{"credits": N}``) as the newer one (``total_credits``)."""
    if isinstance(data, dict) and "total_credits" not in data and "credits" in data:
        return {**data, "total_credits": data["credits"]}
    return data


class AsyncCredits:
    """Your TokPortal credits: the balance and every movement.

    Reached as ``tp.credits`` on an :class:`~tokportal_async.AsyncTokPortal`.

    Example::

        balance = await tp.credits.balance()
        print(balance.total_credits, balance.expiring_within_7_days)
    """

    def __init__(self, send: SendRequest) -> None:
        self._send = send  # the client's requests: paced, retried, typed

    async def balance(self) -> CreditBalance:
        """The credit balance, from either shape TokPortal documents.

        An older answer sends only ``credits``: it is read as ``total_credits``.
        """
        response = await _BALANCE.send(self._send, {})
        return decode_data(response, CreditBalance, adapt=_either_balance_shape)

    async def history(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[CreditHistoryFilters],
    ) -> Page[CreditTransaction]:
        """One page of credit movements (charges, refunds, purchases, expirations).

        Args:
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: ``date_from`` and ``date_to`` (a ``date``, or a timezone-aware
                ``datetime``); see :class:`~tokportal_async.CreditHistoryFilters`.
        """
        return await _HISTORY.page(
            self._send, filters, caller="history", page=page, per_page=per_page
        )

    def history_pages(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[CreditHistoryFilters],
    ) -> AsyncGenerator[Page[CreditTransaction], None]:
        """Every page of credit movements, fetched lazily."""
        return _HISTORY.pages(
            self._send, filters, caller="history_pages", per_page=per_page,
            concurrency=concurrency,
        )  # fmt: skip

    @flattens("history_pages")
    def iter_history(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[CreditHistoryFilters],
    ) -> AsyncGenerator[CreditTransaction, None]:
        """Every credit movement, page after page.

        Example::

            async for movement in tp.credits.iter_history(date_from=date(2026, 11, 1)):
                print(movement.created_at, movement.type, movement.amount)
        """
        return _HISTORY.items(
            self._send, filters, caller="iter_history", per_page=per_page,
            concurrency=concurrency,
        )  # fmt: skip


show_as_public(globals())
