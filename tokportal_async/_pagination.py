"""Walking a paginated list, trusting the server's ``pagination`` over our own request."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from ._concurrency import map_ordered
from ._errors import APIResponseValidationError
from ._models import Page

__all__ = ["flattens", "is_last_page", "items_of", "page_limit", "walk_pages"]

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


async def items_of(pages: AsyncGenerator[Page[T], None]) -> AsyncGenerator[T, None]:
    """The items of ``pages``, in order; ``pages`` is closed however the walk ends."""
    async with aclosing(pages):
        async for page in pages:
            for item in page.data:
                yield item


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


def page_limit(first_total_pages: int) -> int:
    """The most pages a walk asks for: what the first answer reported, and as much again.

    The list is live, so a walk follows it when it grows while being walked; but a server
    that keeps reporting one more page must not keep a walk going for ever.
    """
    return 2 * first_total_pages + GROWTH_SLACK_PAGES


#: Pages a walk may go past twice the first ``total_pages``, for a list that starts tiny.
GROWTH_SLACK_PAGES = 10


async def walk_pages(
    fetch_page: Callable[[int], Awaitable[Page[T]]], *, path: str, concurrency: int = 1
) -> AsyncGenerator[Page[T], None]:
    """Yield pages from the first until the last of the list at ``path`` (``GET``).

    ``fetch_page(n)`` must return page ``n`` (the resources' ``list`` checks the answer's
    page number), so each page is asked for once, in order, and a server that ignores
    ``?page=`` fails the walk instead of repeating it.

    One request at a time by default. With ``concurrency`` above 1, once the first page
    reveals ``total_pages`` the rest are fetched up to ``concurrency`` at a time, still
    yielded in page order and never more than ``concurrency`` held at once.

    Each page is fully read (its HTTP response released) before it is yielded, so a
    consumer that stops early leaves no connection behind. A short or empty page ends the
    walk, so it ends even if ``total`` changes while it runs; if the list grew, the walk
    goes on past the ``total_pages`` it first saw, up to :func:`page_limit`.
    """
    page = await fetch_page(1)
    yield page
    limit = page_limit(page.pagination.total_pages)
    number = 1
    while not is_last_page(page):
        if number >= limit:
            raise APIResponseValidationError(
                f"TokPortal kept reporting more pages: stopped after {number}, twice the "
                f"{(limit - GROWTH_SLACK_PAGES) // 2} the first page reported plus "
                f"{GROWTH_SLACK_PAGES}. If the list really grows that fast, walk it again",
                status=200,
                errors=(f"more than {limit} pages @ $.pagination.total_pages",),
                method="GET",
                path=path,
            )
        if concurrency == 1:
            number += 1
            page = await fetch_page(number)
            yield page
            continue
        last = min(max(number + 1, page.pagination.total_pages), limit)
        numbers = range(number + 1, last + 1)
        async with aclosing(map_ordered(fetch_page, numbers, concurrency=concurrency)) as ahead:
            async for page in ahead:
                number += 1
                yield page
                if is_last_page(page):
                    return
