"""Walking a paginated list, trusting the server's ``pagination`` over our own request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from ._models import Page

__all__ = ["flattens", "is_last_page", "walk_pages"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: The attribute :func:`flattens` sets, read by the facade generator.
FLATTENS_ATTRIBUTE = "__tokportal_flattens__"


def flattens(pages_method: str) -> Callable[[F], F]:
    """Mark an async item iterator as the items of ``pages_method``, with the same arguments.

    The blocking facade then walks the page iterator instead, and crosses threads once per
    page instead of once per item.
    """

    def mark(method: F) -> F:
        setattr(method, FLATTENS_ATTRIBUTE, pages_method)
        return method

    return mark


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
