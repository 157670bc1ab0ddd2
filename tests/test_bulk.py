"""Bulk fetching: get_many, concurrent pages, pipelined details, open slots across accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest

import tokportal_async
import tokportal_async.sandbox
from tokportal_async import (
    AccountBundle,
    AccountDetail,
    AsyncTokPortal,
    AuthenticationError,
    BulkError,
    NotFoundError,
    PermissionDeniedError,
    TokPortalError,
)
from tokportal_async.sandbox import Sandbox

from .conftest import client_for

pytestmark = pytest.mark.anyio


def other_tasks() -> set[asyncio.Task[object]]:
    """Tasks the SDK started that are still running (the sandbox's own are left out)."""
    sdk = str(Path(tokportal_async.__file__).parent)
    sandbox = str(Path(tokportal_async.sandbox.__file__).parent)
    running = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        where = code.co_filename if code is not None else ""
        mine = where.startswith(sdk) and not where.startswith(sandbox)
        if mine and task is not asyncio.current_task():
            running.add(task)
    return running


def acquired_connections(tp: AsyncTokPortal) -> int:
    session = tp._transport._session
    assert session is not None
    assert session.connector is not None
    return len(session.connector._acquired)


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[Sandbox]:
    # A little latency keeps requests in flight long enough to overlap: the server's own
    # slowness, not a wait in the test.
    async with Sandbox(accounts=250, latency=0.05) as sandbox:
        yield sandbox


# -- get_many ------------------------------------------------------------------------------


async def test_get_many_returns_details_in_input_order(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    ids = [a["id"] for a in sandbox.state.accounts[:40]]
    ids.reverse()
    ids.append(ids[0])  # a repeated id is fetched and returned again
    details = await tp.accounts.get_many(ids, concurrency=7)
    assert all(isinstance(d, AccountDetail) for d in details)
    assert [d.id for d in details] == ids


async def test_get_many_of_nothing_is_empty(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    assert await tp.accounts.get_many([]) == []
    assert len(sandbox.state.requests) == 0


async def test_get_many_bounds_requests_in_flight(slow_sandbox: Sandbox) -> None:
    ids = [a["id"] for a in slow_sandbox.state.accounts[:30]]
    async with client_for(slow_sandbox) as tp:
        details = await tp.accounts.get_many(ids, concurrency=5)
    assert len(details) == 30
    assert slow_sandbox.state.max_in_flight == 5


async def test_get_many_tries_every_account_and_raises_what_it_fetched_and_what_failed(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    ids = [a["id"] for a in sandbox.state.accounts[:30]]
    foreign = sandbox.state.foreign_account_ids[0]
    asked = [*ids[:3], "no-such-account", *ids[3:], foreign]
    with pytest.raises(BulkError) as caught:
        await tp.accounts.get_many(asked, concurrency=5)
    failed = caught.value
    assert list(failed.results) == ids  # every detail fetched, in input order
    assert all(failed.results[i].id == i for i in ids)
    assert list(failed.errors) == ["no-such-account", foreign]
    assert isinstance(failed.errors["no-such-account"], NotFoundError)
    assert isinstance(failed.errors[foreign], PermissionDeniedError)
    assert all(error.account_id == i for i, error in failed.errors.items())
    assert failed.unfinished == ()
    assert isinstance(failed, TokPortalError)  # `except TokPortalError` still catches it
    assert "2 of 32 accounts failed" in str(failed)
    # An ExceptionGroup of the failures: except* (split) picks a kind, and the results
    # stay with it.
    missing, rest = failed.split(NotFoundError)
    assert isinstance(missing, BulkError)
    assert isinstance(rest, BulkError)
    assert list(missing.errors) == ["no-such-account"]
    assert list(missing.results) == ids
    assert list(rest.errors) == [foreign]


async def test_get_many_stops_early_when_every_call_would_fail_alike(
    slow_sandbox: Sandbox,
) -> None:
    ids = [a["id"] for a in slow_sandbox.state.accounts[:30]]
    async with AsyncTokPortal("sk_" + "0" * 64, base_url=slow_sandbox.base_url) as tp:
        with pytest.raises(BulkError) as caught:
            await tp.accounts.get_many(ids, concurrency=5)
        assert other_tasks() == set()  # no orphan task keeps running
        assert acquired_connections(tp) == 0
    failed = caught.value
    assert all(isinstance(e, AuthenticationError) for e in failed.errors.values())
    assert len(failed.errors) <= 5  # those already in flight
    assert failed.unfinished == tuple(ids[len(failed.errors) :])
    assert "not tried" in str(failed)


async def test_get_many_can_return_errors_in_place(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    good = [a["id"] for a in sandbox.state.accounts[:3]]
    foreign = sandbox.state.foreign_account_ids[0]
    results = await tp.accounts.get_many(
        [good[0], "missing", good[1], foreign, good[2]], return_exceptions=True
    )
    assert [type(r) for r in results] == [
        AccountDetail,
        NotFoundError,
        AccountDetail,
        PermissionDeniedError,
        AccountDetail,
    ]


@pytest.mark.parametrize(
    ("ids", "concurrency", "named"),
    [
        ("a-single-id-string", 10, "account_ids"),
        (["ok", ""], 10, "account_id"),
        (["ok", ".."], 10, "account_id"),
        (["ok"], 0, "concurrency"),
        (["ok"], True, "concurrency"),
    ],
)
async def test_get_many_checks_input_before_any_request(
    tp: AsyncTokPortal, sandbox: Sandbox, ids: list[str], concurrency: int, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        await tp.accounts.get_many(ids, concurrency=concurrency)
    assert len(sandbox.state.requests) == 0


async def test_cancelling_get_many_leaves_nothing_behind(slow_sandbox: Sandbox) -> None:
    ids = [a["id"] for a in slow_sandbox.state.accounts[:50]]
    async with client_for(slow_sandbox) as tp:
        first_arrived = anyio.Event()
        slow_sandbox.state.request_hooks.append(lambda _request: first_arrived.set())
        async with anyio.create_task_group() as group:
            group.start_soon(tp.accounts.get_many, ids)
            await first_arrived.wait()
            group.cancel_scope.cancel()
        assert other_tasks() == set()
        assert acquired_connections(tp) == 0


# -- concurrent pages --------------------------------------------------------------------------


async def test_iter_with_concurrency_matches_sequential_order(slow_sandbox: Sandbox) -> None:
    async with client_for(slow_sandbox) as tp:
        ids = [a.id async for a in tp.accounts.iter(per_page=20, concurrency=4)]
    assert ids == [a["id"] for a in slow_sandbox.state.accounts]
    assert slow_sandbox.state.max_in_flight == 4
    numbers = [int(r.query["page"]) for r in slow_sandbox.state.requests]
    assert sorted(numbers) == list(range(1, 14))  # each page asked for exactly once


async def test_concurrent_pages_stop_when_the_list_shrinks(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    seen = 0
    async for page in tp.accounts.pages(per_page=50, concurrency=3):
        seen += len(page)
        if page.pagination.page == 1:
            sandbox.state.remove_accounts(150)  # 250 -> 100 while pages 2-4 may be in flight
    assert seen <= 250
    assert seen >= 100


async def test_concurrent_pages_go_on_when_the_list_grows(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    ids: list[str] = []
    async for page in tp.accounts.pages(per_page=50, concurrency=2):
        ids.extend(a.id for a in page)
        if page.pagination.page == 1:
            sandbox.state.add_accounts(100)  # 250 -> 350: more pages than first announced
    assert ids == [a["id"] for a in sandbox.state.accounts]


async def test_breaking_out_of_concurrent_pages_cancels_the_look_ahead(
    slow_sandbox: Sandbox,
) -> None:
    async with client_for(slow_sandbox) as tp:
        async with aclosing(tp.accounts.iter(per_page=10, concurrency=5)) as accounts:
            async for _account in accounts:
                break
        assert other_tasks() == set()
        assert acquired_connections(tp) == 0


# -- pipelined details ---------------------------------------------------------------------


async def test_iter_details_yields_every_account_in_order(slow_sandbox: Sandbox) -> None:
    async with client_for(slow_sandbox) as tp:
        details = [d async for d in tp.accounts.iter_details(per_page=50, concurrency=8)]
    assert [d.id for d in details] == [a["id"] for a in slow_sandbox.state.accounts]
    by_id = {a["id"]: a for a in slow_sandbox.state.accounts}
    assert all(d.current_cm_id == by_id[d.id]["current_cm_id"] for d in details)
    # details and the next page of the listing were in flight together
    assert 8 < slow_sandbox.state.max_in_flight <= 8 + 2


async def test_iter_details_filters(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    got = [d.id async for d in tp.accounts.iter_details(platform="instagram", country="US")]
    expected = [
        a["id"]
        for a in sandbox.state.accounts
        if a["platform"] == "instagram" and a["country"] == "US"
    ]
    assert got == expected


async def test_leaving_iter_details_early_cancels_what_is_in_flight(
    slow_sandbox: Sandbox,
) -> None:
    async with client_for(slow_sandbox) as tp:
        async with aclosing(tp.accounts.iter_details(concurrency=10)) as details:
            async for _detail in details:
                break
        assert other_tasks() == set()
        assert acquired_connections(tp) == 0


async def test_iter_details_raises_a_failure_as_itself(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    sandbox.state.revoked_keys.add(sandbox.api_key)
    from tokportal_async import AuthenticationError

    with pytest.raises(AuthenticationError):
        async for _detail in tp.accounts.iter_details():
            pass


# -- open slots ----------------------------------------------------------------------------


def expected_open_slots(sandbox: Sandbox, ids: list[str], status: str | None = None) -> list[
    tuple[str, str]
]:  # fmt: skip
    return [
        (account_id, bundle["id"])
        for account_id in ids
        for bundle in sandbox.state.bundles(account_id)
        if bundle["videos"]["pending"] > 0 and (status is None or bundle["status"] == status)
    ]


async def test_open_slots_of_given_accounts(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    ids = [a["id"] for a in sandbox.state.accounts[:30]]
    found = [f async for f in tp.accounts.iter_open_slots(ids, concurrency=6)]
    assert all(isinstance(f, AccountBundle) for f in found)
    assert all(f.bundle.videos and f.bundle.open_slots == f.bundle.videos.pending for f in found)
    assert all(f.bundle.open_slots > 0 for f in found)
    assert [(f.account_id, f.bundle.id) for f in found] == expected_open_slots(sandbox, ids)
    assert found, "the sandbox should have bundles with free slots"


async def test_open_slots_of_every_account_with_status(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    found = [f async for f in tp.accounts.iter_open_slots(status="accepted")]
    ids = [a["id"] for a in sandbox.state.accounts]
    expected = expected_open_slots(sandbox, ids, status="accepted")
    assert [(f.account_id, f.bundle.id) for f in found] == expected


async def test_open_slots_checks_its_input(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="account_ids"):
        await anext(tp.accounts.iter_open_slots("one-id"))
    with pytest.raises(ValueError, match="account_id"):
        await anext(tp.accounts.iter_open_slots(["ok", "."]))
    assert len(sandbox.state.requests) == 0
