"""Walking a paginated list, trusting the server's ``pagination`` over our own request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from ._models import Page

__all__ = ["is_last_page", "walk_pages"]

T = TypeVar("T")


def is_last_page(page: Page[T]) -> bool:
    """Whether nothing can follow ``page``: it is empty, short, or the last one reported.

    Each rule alone ends a walk, because the list is live: items come and go between
    requests, so ``total`` may disagree with what the pages actually hold.
    """
    pagination = page.pagination
    return (
        not page.data
        or len(page.data) < pagination.per_page
        or pagination.page >= pagination.total_pages
    )


async def walk_pages(
    fetch_page: Callable[[int], Awaitable[Page[T]]], *, first: int = 1
) -> AsyncIterator[Page[T]]:
    """Yield pages from ``first`` until the last, one request at a time.

    Each page is fully read (its HTTP response released) before it is yielded, so a
    consumer that stops early leaves no connection behind. The page number strictly
    increases on every step, so the walk ends even if ``total`` grows while it runs.
    """
    number = first
    while True:
        page = await fetch_page(number)
        yield page
        if is_last_page(page):
            return
        number = max(number, page.pagination.page) + 1
