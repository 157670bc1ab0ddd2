"""Under faults and rate limits the SDK keeps working, loses nothing, duplicates nothing."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from tokportal_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncTokPortal,
    RateLimiter,
    ServerError,
)
from tokportal_async._models import RateLimit
from tokportal_async.sandbox import Fault, RecordedRequest, Sandbox
from tokportal_async.testing import fast_retries

from .conftest import client_for
from .scripted import Reply, scripted_server, silent_server

pytestmark = pytest.mark.anyio

RETRY_LOG = "Retrying "
#: How long a stalled request is waited for: a loopback answer takes milliseconds, so
#: half a second is generous, and each stall the sandbox plays costs no more than that.
STALL_TIMEOUT = 0.5


def retries_logged(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.getMessage().startswith(RETRY_LOG))


async def test_iterating_10000_accounts_under_20_percent_faults_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with Sandbox(accounts=10_000, fault_rate=0.2, fault_seed=7) as sandbox:
        tp = fast_retries(client_for(sandbox, timeout=STALL_TIMEOUT), max_retries=10)
        async with tp:
            ids = [account.id async for account in tp.accounts.iter(per_page=100)]
        injected = sandbox.state.faults.injected
        expected = [a["id"] for a in sandbox.state.accounts]
    assert len(ids) == 10_000  # 0 lost...
    assert len(set(ids)) == 10_000  # ...0 duplicated
    assert ids == expected  # and in order
    assert sum(injected.values()) > 0
    assert_one_retry_per_fault(retries_logged(caplog), injected)


def assert_one_retry_per_fault(retries: int, injected: Counter[Fault]) -> None:
    """Every fault cost one retry of ours, except drops that aiohttp retried itself.

    aiohttp sends an idempotent request once more, silently, when a reused keep-alive
    connection turns out closed: a dropped connection may never reach our policy.
    """
    total = sum(injected.values())
    assert total - injected[Fault.DROP] <= retries <= total


async def test_fetching_1000_details_concurrently_under_faults_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with Sandbox(accounts=1_000, fault_rate=0.2, fault_seed=11) as sandbox:
        wanted = [a["id"] for a in sandbox.state.accounts]
        details: Counter[str] = Counter()
        limiter = anyio.CapacityLimiter(50)
        tp = fast_retries(client_for(sandbox, timeout=STALL_TIMEOUT), max_retries=10)
        async with tp:

            async def fetch(account_id: str) -> None:
                async with limiter:
                    detail = await tp.accounts.get(account_id)
                details[detail.id] += 1

            async with anyio.create_task_group() as group:
                for account_id in wanted:
                    group.start_soon(fetch, account_id)
        injected = sandbox.state.faults.injected
    assert set(details) == set(wanted)
    assert set(details.values()) == {1}
    assert sum(injected.values()) > 0
    assert set(injected) == set(Fault)  # every kind of fault was met and survived
    assert_one_retry_per_fault(retries_logged(caplog), injected)


async def test_a_burst_stays_inside_the_servers_bucket() -> None:
    # The documented bucket, with its window shrunk from a minute to one second so the
    # test paces in seconds: 120 requests at once, then 120 a second.
    async with Sandbox(accounts=10, rate_limit=120, rate_window=1) as sandbox:
        tp = client_for(sandbox, rate_limiter=RateLimiter(limit=120, window=1))
        async with tp, anyio.create_task_group() as group:
            for _ in range(300):
                group.start_soon(tp.accounts.list)
        served = len(sandbox.state.requests)
        rejected = sandbox.state.rate_limiter.rejected if sandbox.state.rate_limiter else -1
    assert rejected == 0
    assert served == 300
    assert tp.rate_limit is not None
    assert tp.rate_limit.limit == 120


async def test_a_429_drains_the_bucket_and_the_client_adapts() -> None:
    # The client believes in a bigger budget than the server grants: the first wave meets
    # 429s, after which the client paces to the server's headers and loses nothing.
    async with Sandbox(accounts=10, rate_limit=10, rate_window=0.5) as sandbox:
        bucket = RateLimiter(limit=100, window=0.5)
        tp = fast_retries(client_for(sandbox, rate_limiter=bucket), max_retries=5)
        async with tp:
            async with anyio.create_task_group() as group:
                for _ in range(30):
                    group.start_soon(tp.accounts.list)
            assert sandbox.state.rate_limiter is not None
            first_wave = sandbox.state.rate_limiter.rejected
            assert bucket.limit == 10  # learned from X-RateLimit-Limit
            async with anyio.create_task_group() as group:
                for _ in range(15):
                    group.start_soon(tp.accounts.list)
            second_wave = sandbox.state.rate_limiter.rejected - first_wave
    assert first_wave > 0
    assert second_wave == 0
    # Alone on its key: those 429s told the budget, not that others spend it. A client that
    # took them for others would have halved its pace.
    assert bucket.share == 1.0


async def test_rate_limit_headers_are_kept_on_the_client() -> None:
    async with Sandbox(accounts=3, rate_limit=120) as sandbox, client_for(sandbox) as tp:
        before = tp.rate_limit
        await tp.accounts.list()
        await tp.accounts.list()
        limit = tp.rate_limit
    assert before is None
    assert limit is not None
    assert limit.limit == 120
    assert limit.remaining == 118
    assert limit.reset is not None
    assert limit.reset.tzinfo is not None


async def test_a_server_without_limits_pauses_pacing(tp: AsyncTokPortal) -> None:
    limiter = tp.rate_limiter
    assert limiter is not None
    paced_before = limiter.pacing  # the documented budget, until the server answers
    await tp.accounts.list()
    assert paced_before
    assert not limiter.pacing
    assert tp.rate_limit is None


async def test_pacing_can_be_switched_off(sandbox: Sandbox) -> None:
    async with client_for(sandbox, rate_limiter=False) as tp:
        assert tp.rate_limiter is None
        assert len(await tp.accounts.list()) == 25


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_bad_rate_limiter_settings_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(limit=value)
    with pytest.raises(ValueError, match="rate_limiter"):
        AsyncTokPortal("k", rate_limiter="fast")  # type: ignore[arg-type]


async def test_retry_after_is_never_undercut(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    body = {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}}
    page = {"data": [], "pagination": {"page": 1, "per_page": 25, "total": 0, "total_pages": 0}}
    limited = Reply(429, json=body, headers={"Retry-After": "0.2"})
    async with scripted_server(limited, Reply(json=page)) as server:
        tp = fast_retries(AsyncTokPortal("k", base_url=server.base_url), max_retries=2)
        async with tp:
            await tp.accounts.list()
    (retry,) = [r for r in caplog.records if r.getMessage().startswith(RETRY_LOG)]
    assert isinstance(retry.args, tuple)
    method, path, reason, attempt, _attempts, wait, request_id = retry.args
    assert (method, path, reason, attempt) == ("GET", "/accounts", "HTTP 429", 2)
    assert isinstance(wait, float)
    assert wait >= 0.2
    assert request_id == "req_scripted_0001"


async def test_retry_deadline_bounds_the_retries() -> None:
    async with scripted_server(Reply(503)) as server:
        tp = AsyncTokPortal("k", base_url=server.base_url, max_retries=5, retry_deadline=0)
        async with tp:
            with pytest.raises(ServerError):
                await tp.accounts.list()
    assert len(server.received) == 1


async def test_timed_out_post_is_not_retried_and_says_why() -> None:
    async with silent_server() as base_url:
        tp = AsyncTokPortal("k", base_url=base_url, timeout=0.3, max_retries=3)
        async with tp:
            with pytest.raises(APITimeoutError) as caught:
                await tp.accounts.verification_code("acc-1")
    assert "check the account's state" in str(caught.value)


async def test_5xx_on_post_is_not_retried_and_says_why() -> None:
    async with scripted_server(Reply(502)) as server:
        tp = fast_retries(AsyncTokPortal("k", base_url=server.base_url), max_retries=3)
        async with tp:
            with pytest.raises(ServerError) as caught:
                await tp.accounts.verification_code("acc-1")
    assert len(server.received) == 1
    assert caught.value.status == 502
    assert "may have reached TokPortal" in str(caught.value)


async def test_cancelling_iteration_mid_page_releases_the_connection(
    sandbox: Sandbox,
) -> None:
    sandbox.state.latency = 30  # every answer would take 30 s: the page stays in flight
    in_flight = anyio.Event()

    def on_request(_request: RecordedRequest) -> None:
        in_flight.set()

    sandbox.state.request_hooks.append(on_request)
    async with client_for(sandbox) as tp:
        with anyio.CancelScope() as scope:

            async def walk() -> None:
                async for _account in tp.accounts.iter():
                    pass

            async with anyio.create_task_group() as group:
                group.start_soon(walk)
                await in_flight.wait()
                scope.cancel()
        session = tp._transport._session
        assert session is not None
        connector = session.connector
        assert connector is not None
        assert len(connector._acquired) == 0  # the in-flight connection was released


async def test_connection_errors_become_api_connection_errors_after_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with Sandbox(accounts=5, fault_rate=1.0, fault_kinds=(Fault.DROP,)) as sandbox:
        tp = fast_retries(client_for(sandbox), max_retries=2)
        async with tp:
            with pytest.raises(APIConnectionError):
                await tp.accounts.list()
    assert retries_logged(caplog) == 2


async def test_pacing_never_stalls_when_no_answer_ever_comes() -> None:
    # Five calls against a bucket of two, to a port nobody listens on: each must fail
    # with a connection error, none may wait forever for a token.
    from .scripted import refused_base_url

    tp = AsyncTokPortal(
        "k",
        base_url=refused_base_url(),
        max_retries=0,
        rate_limiter=RateLimiter(limit=2, window=0.5),
    )
    failures = 0

    async def call() -> None:
        nonlocal failures
        try:
            await tp.accounts.list()
        except APIConnectionError:
            failures += 1

    async with tp:
        with anyio.fail_after(60):  # a guard against a hang, not a measurement
            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(call)
    assert failures == 5


async def test_the_refill_window_is_learned_from_the_reset_header() -> None:
    # The server refills its 40 tokens every second; the client knows the limit but
    # assumes TokPortal's documented minute, which would pace to one request every 1.5 s.
    async with Sandbox(accounts=10, rate_limit=40, rate_window=1) as sandbox:
        bucket = RateLimiter(limit=40, window=60)
        async with client_for(sandbox, rate_limiter=bucket) as tp:
            with anyio.fail_after(60):  # 60 paced at 2/3 a second would take 90 s
                async with anyio.create_task_group() as group:
                    for _ in range(100):
                        group.start_soon(tp.accounts.list)
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    assert tp.rate_limiter is not None
    assert tp.rate_limiter.limit == 40
    # Learned from below: never a faster refill than the server's, and close to it.
    assert 1.0 <= tp.rate_limiter.window <= 2.0
    assert rejected == 0
    assert len(sandbox.state.requests) == 100


async def test_the_learned_rate_never_exceeds_what_reset_proves() -> None:
    now = 1_000_000.0
    bucket = RateLimiter(limit=100, window=60, wall_clock=lambda: now)
    for _ in range(3):
        await bucket.acquire()  # three requests on their way

    def answer(remaining: int, reset_in: float) -> None:
        reset = datetime.fromtimestamp(now + reset_in, UTC)
        bucket.release(
            status=200, rate_limit=RateLimit(limit=100, remaining=remaining, reset=reset)
        )

    answer(remaining=99, reset_in=1)  # a deficit of 1: too small to learn from
    assert bucket.window == 60
    answer(remaining=49, reset_in=10)  # 51 spent (50, less the rounding) in 10 s: 5 a second
    assert bucket.window == pytest.approx(20)
    answer(remaining=20, reset_in=40)  # a slower bound (2 a second) does not lower it
    assert bucket.window == pytest.approx(20)
