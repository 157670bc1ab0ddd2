"""Bulk jobs on a flaky server: every id exactly once, failures in their place, and one
hung request does not hold the rest up."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import anyio
import pytest
from aiohttp import web

from tokportal_async import (
    AccountBundle,
    AccountDetail,
    AsyncTokPortal,
    BulkError,
    NotFoundError,
    TokPortal,
    TokPortalError,
)
from tokportal_async.sandbox import Sandbox
from tokportal_async.testing import fast_retries

from .scripted import handler_server

pytestmark = pytest.mark.anyio

KEY = "sk_" + "cd" * 32
HANG_GUARD = 60
IDS = [f"acc-{n:02d}" for n in range(20)]


def failing(account_id: str) -> bool:
    return int(account_id[-2:]) % 3 == 0


def some_fail(request: web.Request) -> Any:
    """20 accounts; every third one's detail and bundles answer 404."""
    parts = request.path.split("/")
    if request.path.endswith("/accounts"):
        accounts = [
            {"id": i, "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"} for i in IDS
        ]
        pagination = {"page": 1, "per_page": 100, "total": 20, "total_pages": 1}
        return {"data": accounts, "pagination": pagination}
    account_id = parts[4]
    if failing(account_id):
        body = {"error": {"code": "SAVED_ACCOUNT_NOT_FOUND", "message": "Gone."}}
        return web.json_response(body, status=404)
    if request.path.endswith("/bundles"):
        bundle = {"id": f"b-{account_id}", "status": "accepted",
                  "created_at": "2026-01-01T00:00:00Z", "videos": {"pending": 2}}  # fmt: skip
        pagination = {"page": 1, "per_page": 100, "total": 1, "total_pages": 1}
        return {"data": [bundle], "pagination": pagination}
    return {"data": {"id": account_id, "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"}}


def key_of(item: Any) -> str:
    if isinstance(item, AccountDetail):
        return item.id
    if isinstance(item, AccountBundle):
        return item.account_id
    assert isinstance(item, NotFoundError)
    return "error"


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("method", ["iter_details", "iter_open_slots"])
async def test_return_exceptions_puts_each_failure_in_its_place(kind: str, method: str) -> None:
    async with handler_server(some_fail) as (url, _received):

        async def walk_async(**options: Any) -> list[Any]:
            async with AsyncTokPortal(KEY, base_url=url, max_retries=0) as tp:
                walk = getattr(tp.accounts, method)(**options)
                return [item async for item in walk]

        def walk_sync(**options: Any) -> list[Any]:
            with TokPortal(KEY, base_url=url, max_retries=0) as tp:
                return list(getattr(tp.accounts, method)(**options))

        async def walk(**options: Any) -> list[Any]:
            if kind == "async":
                return await walk_async(**options)
            return await anyio.to_thread.run_sync(lambda: walk_sync(**options))

        in_order = await walk(return_exceptions=True, concurrency=4)
        as_done = await walk(return_exceptions=True, concurrency=4, ordered=False)
        with pytest.raises(NotFoundError):
            await walk(concurrency=4)
    expected = ["error" if failing(i) else i for i in IDS]
    assert [key_of(item) for item in in_order] == expected
    assert Counter(key_of(item) for item in as_done) == Counter(expected)
    assert all(isinstance(i, TokPortalError) for i in in_order if key_of(i) == "error")


@pytest.mark.parametrize("ordered", [True, False])
async def test_a_stalled_request_does_not_hold_up_the_others(ordered: bool) -> None:
    """The first detail answers only once 30 others have: possible only if they go on."""
    others = asyncio.Event()
    answered = 0
    ids = [f"acc-{n:03d}" for n in range(60)]

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal answered
        if request.path.endswith("/accounts"):
            accounts = [
                {"id": i, "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"} for i in ids
            ]
            pagination = {"page": 1, "per_page": 100, "total": 60, "total_pages": 1}
            return web.json_response({"data": accounts, "pagination": pagination})
        account_id = request.path.rsplit("/", 1)[1]
        if account_id == ids[0]:
            await others.wait()  # stalled until the rest of the walk has moved on
        else:
            answered += 1
            if answered >= 30:
                others.set()
        detail = {"id": account_id, "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"}
        return web.json_response({"data": detail})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/ext"
    try:
        async with AsyncTokPortal(KEY, base_url=url, rate_limiter=False) as tp:
            with anyio.fail_after(HANG_GUARD):
                walk = tp.accounts.iter_details(concurrency=5, ordered=ordered)
                details = [d.id async for d in walk]
    finally:
        await runner.cleanup()
    assert sorted(details) == ids
    if ordered:
        assert details == ids


@pytest.mark.parametrize("helper", ["get_many", "iter_details", "iter_open_slots"])
async def test_every_id_exactly_once_under_faults_of_every_kind(helper: str) -> None:
    async with Sandbox(accounts=2000, fault_rate=0.2, fault_seed=7, stall_seconds=0.05) as sb:
        ids = [a["id"] for a in sb.state.accounts]
        outcomes = {}
        for retries in (2, 5):
            async with AsyncTokPortal(
                sb.api_key, base_url=sb.base_url, timeout=5, max_retries=retries
            ) as tp:
                fast_retries(tp)
                with anyio.fail_after(HANG_GUARD):
                    outcomes[retries] = await _run(tp, helper, ids)
        assert sb.state.faults.injected  # the faults did happen
    for retries, results in outcomes.items():
        if helper == "iter_open_slots":
            # Each account gives its bundles with free slots, or one error: never twice.
            owners = [r.account_id for r in results if isinstance(r, AccountBundle)]
            expected = {
                a: sum(1 for b in sb.state.bundles(a) if b["videos"]["pending"] > 0) for a in ids
            }
            if retries == 5:
                assert Counter(owners) == Counter({a: n for a, n in expected.items() if n})
        else:
            assert len(results) == len(ids)
            done = [r.id for r in results if isinstance(r, AccountDetail)]
            assert len(done) == len(set(done))
            assert all(isinstance(r, AccountDetail | TokPortalError) for r in results)
            if helper == "get_many":
                assert [
                    r.id if isinstance(r, AccountDetail) else i
                    for r, i in zip(results, ids, strict=True)
                ] == ids
            if retries == 5:
                assert done == ids
    failed_with_few_retries = sum(isinstance(r, TokPortalError) for r in outcomes[2])
    assert failed_with_few_retries > 0  # with the default 2 retries, some ids do fail


async def _run(tp: AsyncTokPortal, helper: str, ids: list[str]) -> list[Any]:
    if helper == "get_many":
        return await tp.accounts.get_many(ids, concurrency=50, return_exceptions=True)
    if helper == "iter_details":
        walk = tp.accounts.iter_details(concurrency=50, return_exceptions=True)
        return [item async for item in walk]
    slots = tp.accounts.iter_open_slots(ids, concurrency=50, return_exceptions=True)
    return [item async for item in slots]


@pytest.mark.parametrize("helper", ["get_many", "iter_details", "iter_open_slots"])
async def test_a_bulk_job_with_default_settings_keeps_what_it_fetched(helper: str) -> None:
    """2,000 accounts, 10% faults, the default retries: some ids exhaust them. Every
    fetched result and every failure comes back, each failure naming its account."""
    async with Sandbox(accounts=2000, fault_rate=0.1, fault_seed=3, stall_seconds=0.05) as sb:
        ids = [a["id"] for a in sb.state.accounts]
        async with AsyncTokPortal(sb.api_key, base_url=sb.base_url, timeout=5) as tp:
            fast_retries(tp)  # the same retries, without their waits
            with anyio.fail_after(HANG_GUARD):
                if helper == "get_many":
                    with pytest.raises(BulkError) as caught:
                        await tp.accounts.get_many(ids, concurrency=50)
                    results = list(caught.value.results.values())
                    errors = list(caught.value.errors.values())
                    assert caught.value.unfinished == ()
                    assert list(caught.value.errors) == [e.account_id for e in errors]
                else:
                    walk = getattr(tp.accounts, helper)
                    options: dict[str, Any] = {"ordered": False, "return_exceptions": True}
                    if helper == "iter_open_slots":
                        options["account_ids"] = ids
                    items = [item async for item in walk(concurrency=50, **options)]
                    results = [i for i in items if not isinstance(i, TokPortalError)]
                    errors = [i for i in items if isinstance(i, TokPortalError)]
    assert errors  # with the default 2 retries, some ids do fail
    failed = [e.account_id for e in errors]
    assert None not in failed  # each failure says whose it is, even unordered
    assert len(set(failed)) == len(failed)
    if helper == "iter_open_slots":
        owners = {r.account_id for r in results}
        assert not owners & set(failed)
        return
    fetched = [r.id for r in results]
    assert len(fetched) + len(failed) == len(ids)  # every id: fetched or failed, once
    assert set(fetched) | set(failed) == set(ids)
