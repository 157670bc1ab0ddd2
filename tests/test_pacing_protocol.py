"""The public seams: a pacer of one's own, and settings per client with ``with_options``."""

from __future__ import annotations

from typing import Any

import pytest

from tokportal_async import (
    APITimeoutError,
    AsyncTokPortal,
    Pacer,
    Permit,
    RateLimit,
    RateLimiter,
    ServerError,
    TokPortal,
)
from tokportal_async.sandbox import Sandbox, serve_in_thread
from tokportal_async.testing import fast_retries

from .scripted import Reply, refused_base_url, scripted_server, silent_server

pytestmark = pytest.mark.anyio


class CountingPacer:
    """A pacer that never waits and records what the client tells it."""

    def __init__(self) -> None:
        self.acquired: list[float | None] = []
        self.finished: list[tuple[int | None, RateLimit | None, float | None]] = []
        self.closed = False

    async def acquire(self, deadline: float | None = None) -> Permit:
        self.acquired.append(deadline)
        return self

    async def finish(
        self, status: int | None, rate_limit: RateLimit | None, retry_after: float | None
    ) -> None:
        self.finished.append((status, rate_limit, retry_after))

    async def aclose(self) -> None:
        self.closed = True


async def test_a_pacer_of_ones_own_gets_every_attempt_and_its_answer(sandbox: Sandbox) -> None:
    pacer = CountingPacer()
    assert isinstance(pacer, Pacer)
    async with AsyncTokPortal(**sandbox.client_kwargs(), rate_limiter=pacer) as tp:
        assert tp.pacer is pacer
        assert tp.rate_limiter is None  # the built-in bucket is not what paces
        await tp.accounts.list(per_page=1)
        await tp.accounts.get(sandbox.state.accounts[0]["id"])
    assert pacer.acquired == [None, None]  # first attempts: no deadline
    assert [status for status, _, _ in pacer.finished] == [200, 200]
    assert pacer.closed


async def test_a_retry_acquires_with_its_deadline_and_a_429_reports_its_wait() -> None:
    pacer = CountingPacer()
    limited = Reply(429, json={"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow"}},
                    headers={"Retry-After": "0"})  # fmt: skip
    ok = Reply(json={"data": {"id": "a1", "platform": "tiktok",
                              "created_at": "2026-01-01T00:00:00Z"}})  # fmt: skip
    async with (
        scripted_server(limited, ok) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, rate_limiter=pacer) as tp,
    ):
        fast_retries(tp)
        await tp.accounts.get("a1")
    first, retry = pacer.acquired
    assert first is None
    assert retry is not None  # a retry starts no later than its deadline
    assert [(status, wait) for status, _, wait in pacer.finished] == [(429, 0.0), (200, None)]


class NoRetryInTime(CountingPacer):
    """A pacer of one's own that can never grant a retry before its deadline."""

    async def acquire(self, deadline: float | None = None) -> Permit:
        if deadline is not None:
            raise TimeoutError
        return await super().acquire(deadline)


async def test_a_pacer_that_times_out_a_retry_ends_the_call_with_the_last_answer() -> None:
    failing = Reply(503, json={"error": {"code": "UPSTREAM_UNAVAILABLE", "message": "later"}})
    pacer = NoRetryInTime()
    async with (
        scripted_server(failing, failing) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, rate_limiter=pacer) as tp,
    ):
        fast_retries(tp)
        with pytest.raises(ServerError, match="rate limit allows a retry") as caught:
            await tp.accounts.get("a1")
    assert caught.value.status == 503
    assert [status for status, _, _ in pacer.finished] == [503]  # one attempt, finished


async def test_a_pacer_that_times_out_a_first_attempt_raises_its_timeout() -> None:
    class NeverGrants(CountingPacer):
        async def acquire(self, deadline: float | None = None) -> Permit:
            raise TimeoutError("no permit")

    async with AsyncTokPortal("sk_test", base_url=refused_base_url(),
                              rate_limiter=NeverGrants()) as tp:  # fmt: skip
        with pytest.raises(TimeoutError, match="no permit"):
            await tp.accounts.get("a1")


async def test_an_attempt_without_an_answer_is_finished_without_a_status() -> None:
    pacer = CountingPacer()
    async with AsyncTokPortal(
        "sk_test", base_url=refused_base_url(), rate_limiter=pacer, max_retries=0
    ) as tp:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the kind is not the point here
            await tp.accounts.list()
    assert pacer.finished == [(None, None, None)]


async def test_the_built_in_limiters_follow_the_protocol() -> None:
    limiter = RateLimiter(limit=5)
    assert isinstance(limiter, Pacer)
    permit = await limiter.acquire()
    assert isinstance(permit, Permit)
    await permit.finish(200, RateLimit(limit=5, remaining=4, reset=None), None)
    assert limiter.limit == 5


@pytest.mark.parametrize("value", ["yes", 3, object()])
async def test_what_is_no_pacer_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="Pacer"):
        AsyncTokPortal("sk_test", rate_limiter=value)


# -- with_options ----------------------------------------------------------------------------


async def test_with_options_changes_retries_and_shares_the_pool() -> None:
    failing = Reply(503, json={"error": {"code": "UPSTREAM_UNAVAILABLE", "message": "later"}})
    ok = Reply(json={"data": [], "pagination": {"page": 1, "per_page": 25, "total": 0,
                                                "total_pages": 0}})  # fmt: skip
    async with (
        scripted_server(failing, ok) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, max_retries=0) as tp,
    ):
        patient = fast_retries(tp.with_options(max_retries=2))
        assert (tp.max_retries, patient.max_retries) == (0, 2)
        assert patient.rate_limiter is tp.rate_limiter  # one budget for both
        assert patient._transport is tp._transport  # one pool
        page = await patient.accounts.list()
        assert page.pagination.total == 0
        await patient.aclose()  # closes nothing: the original owns the pool
        assert not tp.is_closed
        server.script[:] = [failing]
        with pytest.raises(ServerError):
            await tp.accounts.list()
    assert patient.is_closed  # closed with its original


async def test_with_options_changes_the_timeout_for_the_copy_only() -> None:
    async with silent_server() as base_url, AsyncTokPortal("sk_test", base_url=base_url) as tp:
        hasty = tp.with_options(timeout=0.2, max_retries=0)
        with pytest.raises(APITimeoutError):
            await hasty.accounts.list()
        assert tp._timeout is None  # the original keeps the transport's 60 s


async def test_with_options_can_pace_separately_or_not_at_all(sandbox: Sandbox) -> None:
    async with AsyncTokPortal(**sandbox.client_kwargs()) as tp:
        unpaced = tp.with_options(rate_limiter=False)
        own = tp.with_options(rate_limiter=True)
        assert unpaced.rate_limiter is None
        assert isinstance(own.rate_limiter, RateLimiter)
        assert own.rate_limiter is not tp.rate_limiter
        assert len(await unpaced.accounts.list(per_page=2)) == 2
    with pytest.raises(ValueError, match="max_retries"):
        tp.with_options(max_retries=-1)
    with pytest.raises(ValueError, match="Pacer"):
        tp.with_options(rate_limiter="fast")  # type: ignore[arg-type]


def test_the_blocking_client_has_with_options_on_the_same_thread() -> None:
    with serve_in_thread(accounts=3) as sandbox, TokPortal(**sandbox.client_kwargs()) as tp:
        patient = tp.with_options(max_retries=4)
        assert isinstance(patient, TokPortal)
        assert patient.max_retries == 4
        assert len(patient.accounts.list(per_page=2)) == 2
        patient.close()  # nothing: the original owns the thread and the pool
        assert len(tp.accounts.list(per_page=1)) == 1


async def test_closing_a_copy_closes_only_the_pacer_it_was_given(sandbox: Sandbox) -> None:
    own, given = CountingPacer(), CountingPacer()
    async with AsyncTokPortal(**sandbox.client_kwargs(), rate_limiter=own) as tp:
        shared = tp.with_options(max_retries=0)
        paced_apart = tp.with_options(rate_limiter=given)
        await shared.aclose()
        await paced_apart.aclose()
        assert (own.closed, given.closed) == (False, True)
        assert not tp.is_closed  # the pool is the original's
        await paced_apart.accounts.list(per_page=1)  # and still serves the copy
    assert own.closed


def test_closing_a_blocking_copy_closes_only_the_pacer_it_was_given() -> None:
    given = CountingPacer()
    with serve_in_thread(accounts=3) as sandbox, TokPortal(**sandbox.client_kwargs()) as tp:
        copy = tp.with_options(rate_limiter=given)
        copy.accounts.list(per_page=1)
        copy.close()
        assert given.closed
        assert len(tp.accounts.list(per_page=1).data) == 1  # the original still works
