"""Walking a paginated list, trusting the server's ``pagination`` over our own request."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from ._concurrency import map_ordered
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
    fetch_page: Callable[[int], Awaitable[Page[T]]], *, concurrency: int = 1
) -> AsyncGenerator[Page[T], None]:
    """Yield pages from the first until the last.

    One request at a time by default. With ``concurrency`` above 1, once the first page
    reveals ``total_pages`` the rest are fetched up to ``concurrency`` at a time, still
    yielded in page order and never more than ``concurrency`` held at once.

    Each page is fully read (its HTTP response released) before it is yielded, so a
    consumer that stops early leaves no connection behind. Page numbers only go up, and a
    short or empty page ends the walk, so it ends even if ``total`` changes while it runs;
    if the list grew, the walk goes on past the ``total_pages`` it first saw.
    """
    requested = 1
    page = await fetch_page(requested)
    yield page
    while not is_last_page(page):
        # Trust the server's page number, but always move forward: a server that keeps
        # answering page 1 must not keep us asking for page 2.
        first = max(requested, page.pagination.page) + 1
        if concurrency == 1:
            requested = first
            page = await fetch_page(requested)
            yield page
            continue
        numbers = range(first, max(first, page.pagination.total_pages) + 1)
        async with aclosing(map_ordered(fetch_page, numbers, concurrency=concurrency)) as ahead:
            asked = iter(numbers)  # pages come back in the order they were asked for
            async for page in ahead:
                requested = next(asked)
                yield page
                if is_last_page(page):
                    return
