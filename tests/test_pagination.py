"""Walking pages against servers that do not advance, lie about their pages, or never end."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import anyio
import pytest
from aiohttp import web

from tokportal_async import (
    APIResponseValidationError,
    AsyncTokPortal,
    TokPortal,
)
from tokportal_async._pagination import page_limit

from .hostile import HANG_GUARD, KEY, account
from .scripted import handler_server

pytestmark = pytest.mark.anyio


# -- Pagination that never advances ------------------------------------------------------


def bundle(n: int) -> dict[str, Any]:
    return {"id": f"b-{n}", "status": "accepted", "created_at": "2026-01-10T08:00:00Z",
            "videos": {"pending": 1}}  # fmt: skip


def ignores_page(request: web.Request) -> dict[str, Any]:
    """Page 1 of 3, whatever page was asked for."""
    per_page = int(request.query.get("per_page", "25"))
    maker = bundle if request.path.endswith("/bundles") else account
    if "/accounts/" in request.path and not request.path.endswith("/bundles"):
        return {"data": {**account(0), "id": request.path.rsplit("/", 1)[1]}}
    return {
        "data": [maker(n) for n in range(per_page)],
        "pagination": {"page": 1, "per_page": per_page, "total": 3 * per_page, "total_pages": 3},
    }


async def drain(walk: AsyncGenerator[Any, None], into: list[Any] | None = None) -> None:
    """Walk to the end (or the error), closing the walk whatever happens."""
    async with aclosing(walk):
        async for item in walk:
            if into is not None:
                into.append(item)


def requested_pages(received: list[web.Request]) -> list[tuple[str, str]]:
    """Each list request as (path, page number)."""
    return [(r.path, r.query.get("page", "1")) for r in received if "per_page" in r.query]


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("iter", {}),
        ("iter", {"concurrency": 4}),
        ("iter_details", {"concurrency": 3}),
        ("iter_open_slots", {}),
        ("iter_bundles", {"account_id": "acc-0"}),
    ],
)
async def test_a_server_that_ignores_the_page_fails_the_walk(
    method: str, args: dict[str, Any]
) -> None:
    async with (
        handler_server(ignores_page) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        with anyio.fail_after(HANG_GUARD), pytest.raises(APIResponseValidationError) as caught:
            await drain(getattr(tp.accounts, method)(**args))
    assert "asked for page 2, got page 1 @ $.pagination.page" in caught.value.errors
    assert caught.value.request_id == "req_scripted_0001"
    pages = requested_pages(received)
    assert len(pages) == len(set(pages))  # no page of any list asked for twice
    assert len(pages) < 40  # bounded by the helpers' concurrency, not endless


@pytest.mark.parametrize(
    "pagination",
    [
        {"page": -5, "per_page": 25, "total": 10, "total_pages": -1},
        {"page": 1, "per_page": 0, "total": 10, "total_pages": 3},
        {"page": 1, "per_page": -25, "total": -10, "total_pages": 3},
    ],
)
async def test_pagination_that_is_not_positive_is_refused(pagination: dict[str, int]) -> None:
    body = {"data": [account(1)], "pagination": pagination}
    async with (
        handler_server(lambda _: body) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            async for _account in tp.accounts.iter():
                pass
    assert any("@ $.pagination." in line for line in caught.value.errors)
    assert len(received) == 1


async def test_a_list_that_never_ends_is_cut_at_the_growth_bound() -> None:
    def one_more_page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        return {
            "data": [account(number * 10 + n) for n in range(10)],
            "pagination": {"page": number, "per_page": 10, "total": 10 * (number + 1),
                           "total_pages": number + 1},
        }  # fmt: skip

    async with (
        handler_server(one_more_page) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        seen: list[Any] = []
        with anyio.fail_after(HANG_GUARD), pytest.raises(APIResponseValidationError) as caught:
            await drain(tp.accounts.iter(per_page=10, concurrency=3), into=seen)
    assert (caught.value.method, caught.value.path) == ("GET", "/accounts")  # the walk's list
    seen = [item.id for item in seen]
    assert len(seen) == len(set(seen))  # nothing repeated on the way
    pages = requested_pages(received)
    assert len(pages) == len(set(pages)) == page_limit(2)


def test_the_facade_and_the_cli_fail_the_walk_too() -> None:
    async def serve_and_walk() -> tuple[BaseException | None, int]:
        async with handler_server(ignores_page) as (url, received):

            def walk() -> BaseException | None:
                with TokPortal(KEY, base_url=url) as tp:
                    try:
                        list(tp.accounts.iter(concurrency=2))
                    except APIResponseValidationError as error:
                        return error
                return None

            error = await anyio.to_thread.run_sync(walk)
            cli = await anyio.run_process(
                [sys.executable, "-m", "tokportal_async", "--api-key", KEY, "--base-url", url,
                 "accounts", "list", "--all", "--format", "jsonl"],
                check=False,
            )  # fmt: skip
            assert cli.returncode == 1, cli.stderr
            assert b"asked for page 2, got page 1" in cli.stderr
            return error, len(requested_pages(received))

    error, requests = anyio.run(serve_and_walk)
    assert isinstance(error, APIResponseValidationError)
    assert requests <= 2 + 3
