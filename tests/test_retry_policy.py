"""The retry loop on its own: a fake send, exact waits, no server and no clock to wait on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import pytest

from tokportal_async import (
    APICertificateError,
    APIConnectionError,
    AsyncTokPortal,
    Permit,
    RateLimiter,
    RateLimitError,
    ServerError,
    TokPortal,
)
from tokportal_async._errors import UNCERTAIN_OUTCOME
from tokportal_async._models import RateLimit
from tokportal_async._rate_limit import NoTokenInTime
from tokportal_async._raw import RawResponse
from tokportal_async._response import parse_retry_after
from tokportal_async._retry import (
    Decision,
    Retry,
    RetryMode,
    RetryPolicy,
    Stop,
    decide,
    send_with_retries,
)
from tokportal_async.testing import fast_retries

from .hostile import ACCOUNT_ID, CODE, DETAIL, HANG_GUARD, KEY
from .scripted import Reply, refused_base_url, scripted_server

pytestmark = pytest.mark.anyio

#: Waits of exactly zero: the loop's decisions without its pauses.
NO_WAIT = RetryPolicy(max_retries=3, jitter=lambda step: 0.0)

Outcome = RawResponse | APIConnectionError


def answer(status: int) -> RawResponse:
    return RawResponse(status=status, headers={}, body=b"{}")


def fake_send(
    outcomes: Iterable[Outcome],
) -> tuple[Callable[[Permit | None], Awaitable[RawResponse]], list[int]]:
    """A send that plays ``outcomes`` in order, and the list it counts its calls in."""
    queue, calls = list(outcomes), []

    async def send(permit: Permit | None) -> RawResponse:
        calls.append(1)
        outcome = queue.pop(0)
        if isinstance(outcome, APIConnectionError):
            raise outcome
        return outcome

    return send, calls


async def run(policy: RetryPolicy, mode: RetryMode, outcomes: Iterable[Outcome]) -> Outcome:
    send, _ = fake_send(outcomes)
    try:
        return await send_with_retries(send, policy=policy, mode=mode, method="GET", path="/x")
    except APIConnectionError as error:
        return error


def refused(*, sent: bool) -> APIConnectionError:
    return APIConnectionError("refused", method="POST", path="/x", request_sent=sent)


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retries=9, base_delay=0.5, max_delay=4.0, jitter=lambda step: step)
    assert [policy.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(10_000) == 4.0  # no overflow on a long run


def test_full_jitter_stays_under_the_step() -> None:
    policy = RetryPolicy(max_retries=1, base_delay=1.0, max_delay=1.0)
    assert all(0 <= policy.delay(0) <= 1.0 for _ in range(200))


async def test_a_read_is_retried_until_it_succeeds() -> None:
    send, calls = fake_send([answer(503), answer(502), answer(200)])
    response = await send_with_retries(
        send, policy=NO_WAIT, mode=RetryMode.IDEMPOTENT, method="GET", path="/x"
    )
    assert response.status == 200
    assert len(calls) == 3


async def test_spent_retries_say_so_in_the_final_answer() -> None:
    response = await run(NO_WAIT, RetryMode.IDEMPOTENT, [answer(503)] * 4)
    assert isinstance(response, RawResponse)
    assert response.retry_note == "gave up after 4 attempts: retries spent (max_retries=3)"


async def test_a_call_with_effects_is_never_repeated_after_a_5xx() -> None:
    response = await run(NO_WAIT, RetryMode.UNSENT_ONLY, [answer(503), answer(200)])
    assert isinstance(response, RawResponse)
    assert response.status == 503
    assert response.retry_note == UNCERTAIN_OUTCOME


async def test_a_call_with_effects_is_repeated_only_when_provably_unsent() -> None:
    unsent = await run(NO_WAIT, RetryMode.UNSENT_ONLY, [refused(sent=False), answer(200)])
    assert isinstance(unsent, RawResponse)
    assert unsent.status == 200
    sent = await run(NO_WAIT, RetryMode.UNSENT_ONLY, [refused(sent=True), answer(200)])
    assert isinstance(sent, APIConnectionError)
    assert UNCERTAIN_OUTCOME in sent.message


async def test_a_429_is_retried_even_for_a_call_with_effects() -> None:
    response = await run(NO_WAIT, RetryMode.UNSENT_ONLY, [answer(429), answer(200)])
    assert isinstance(response, RawResponse)
    assert response.status == 200


async def test_a_zero_deadline_allows_no_retry() -> None:
    policy = RetryPolicy(max_retries=5, deadline=0.0, jitter=lambda step: 0.001)
    response = await run(policy, RetryMode.IDEMPOTENT, [answer(503), answer(200)])
    assert isinstance(response, RawResponse)
    assert response.status == 503
    assert "retry deadline reached" in (response.retry_note or "")


async def test_fast_retries_keeps_the_count_and_shortens_the_waits() -> None:
    async with AsyncTokPortal("sk_test", max_retries=4) as tp:
        assert fast_retries(tp) is tp
        assert tp.max_retries == 4
        fast_retries(tp, max_retries=1)
        assert tp.max_retries == 1
    with TokPortal("sk_test") as sync:
        assert fast_retries(sync, max_retries=3) is sync
        assert sync.max_retries == 3


def test_fast_retries_refuses_what_is_not_a_client() -> None:
    with pytest.raises(TypeError, match="AsyncTokPortal or a TokPortal"):
        fast_retries(object())
    with pytest.raises(ValueError, match="max_retries"):
        fast_retries(AsyncTokPortal("sk_test"), max_retries=-1)


# The decision alone: no loop, no clock, no send.

FAR = 1_000.0  # a deadline that never comes


@pytest.mark.parametrize(
    ("mode", "attempt", "outcome", "now", "expected"),
    [
        (RetryMode.IDEMPOTENT, 1, answer(503), 0.0, Retry(0.0, "HTTP 503")),
        (RetryMode.IDEMPOTENT, 4, answer(503), 0.0,
         Stop("gave up after 4 attempts: retries spent (max_retries=3)")),
        (RetryMode.IDEMPOTENT, 1, answer(404), 0.0, Stop()),
        (RetryMode.IDEMPOTENT, 1, answer(200), 0.0, Stop()),
        (RetryMode.UNSENT_ONLY, 1, answer(500), 0.0, Stop(UNCERTAIN_OUTCOME)),
        (RetryMode.UNSENT_ONLY, 1, answer(429), 0.0, Retry(0.0, "HTTP 429")),
        (RetryMode.IDEMPOTENT, 1, APIConnectionError("reset", method="GET", path="/x"), 0.0,
         Retry(0.0, "APIConnectionError")),
        (RetryMode.UNSENT_ONLY, 1, APIConnectionError("reset", method="POST", path="/x"), 0.0,
         Stop(UNCERTAIN_OUTCOME)),
        (RetryMode.UNSENT_ONLY, 1,
         APIConnectionError("refused", method="POST", path="/x", request_sent=False), 0.0,
         Retry(0.0, "APIConnectionError")),
        (RetryMode.IDEMPOTENT, 1,
         APICertificateError("untrusted", method="GET", path="/x", request_sent=False), 0.0,
         Stop()),
        (RetryMode.IDEMPOTENT, 1, answer(503), FAR + 1,
         Stop("gave up after 1 attempt: retry deadline reached (retry_deadline=60s)")),
    ],
)  # fmt: skip
def test_the_decision_for_each_outcome(
    mode: RetryMode, attempt: int, outcome: Outcome, now: float, expected: Decision
) -> None:
    assert decide(NO_WAIT, mode, attempt, outcome, now=now, give_up_at=FAR) == expected


@pytest.mark.parametrize("mode", list(RetryMode))
@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_every_2xx_is_final_as_it_is(mode: RetryMode, status: int) -> None:
    """What the retry loop returns at once for a 2xx, without asking decide()."""
    for attempt in (1, 3, 99):
        decision = decide(NO_WAIT, mode, attempt, answer(status), now=FAR + 1, give_up_at=FAR)
        assert decision == Stop()


def test_retry_after_is_a_floor_and_past_the_cap_a_stop() -> None:
    def asked(seconds: str) -> RawResponse:
        return RawResponse(status=429, headers={"Retry-After": seconds}, body=b"{}")

    assert decide(NO_WAIT, RetryMode.IDEMPOTENT, 1, asked("2"), now=0, give_up_at=FAR) == Retry(
        2.0, "HTTP 429"
    )
    stop = decide(NO_WAIT, RetryMode.IDEMPOTENT, 1, asked("120"), now=0, give_up_at=FAR)
    assert stop == Stop("gave up after 1 attempt: TokPortal asked to wait 120s, longer than "
                        "the 60s a call waits")  # fmt: skip


def test_retry_after_is_read_once_per_answer() -> None:
    response = RawResponse(status=429, headers={"Retry-After": "3"}, body=b"{}")
    first = response.retry_after
    assert first == 3.0
    assert response.retry_after is first  # cached: the limiter and the error reuse it


# -- A Retry-After date far in the future ------------------------------------------------

FAR_FUTURE = "Wed, 21 Oct 99999999999999999999 07:28:00 GMT"


def test_an_unrepresentable_retry_after_date_is_absent() -> None:
    assert parse_retry_after({"Retry-After": FAR_FUTURE}) is None
    assert parse_retry_after({"Retry-After": FAR_FUTURE}, {"retry_after_seconds": 2}) == 2.0


@pytest.mark.parametrize("call", ["get", "verification_code", "get_many"])
async def test_a_far_future_retry_after_never_crashes(call: str) -> None:
    limited = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"Retry-After": FAR_FUTURE},
    )
    answer = Reply(json=CODE if call == "verification_code" else DETAIL)
    async with (
        scripted_server(limited, answer) as server,
        fast_retries(AsyncTokPortal("sk_test", base_url=server.base_url)) as tp,
    ):
        result: Any
        if call == "get_many":
            result = await tp.accounts.get_many([ACCOUNT_ID], return_exceptions=True)
            assert [r.id for r in result] == [ACCOUNT_ID]
        else:
            result = await getattr(tp.accounts, call)(ACCOUNT_ID)
            assert result.account_id if call == "verification_code" else result.id
    assert len(server.received) == 2  # the 429 was retried as one without a Retry-After


async def test_a_far_future_retry_after_without_retries_is_a_rate_limit_error() -> None:
    limited = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"Retry-After": FAR_FUTURE},
    )
    async with (
        scripted_server(limited) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, max_retries=0) as tp,
    ):
        results = await tp.accounts.get_many([ACCOUNT_ID, "b"], return_exceptions=True)
    assert all(isinstance(r, RateLimitError) and r.retry_after is None for r in results)


# -- The retry deadline and the rate limiter ------------------------------------------------

SPENT = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
LIMITED = Reply(
    status=429,
    json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
    headers={**SPENT, "Retry-After": "0"},
)


async def test_no_retry_waits_for_a_token_past_the_deadline() -> None:
    # One token per 30 s: a retry's token cannot come within the 2 s deadline.
    async with (
        scripted_server(LIMITED) as server,
        AsyncTokPortal(
            KEY,
            base_url=server.base_url,
            retry_deadline=2,
            max_retries=5,
            rate_limiter=RateLimiter(limit=1, window=30),
        ) as tp,
    ):
        with anyio.fail_after(HANG_GUARD), pytest.raises(RateLimitError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert len(server.received) == 1  # failed fast: no retry, and no wait for one
    assert "gave up after 1 attempt" in str(caught.value)
    assert "deadline" in str(caught.value)


async def test_a_429_storm_fails_the_remaining_requests_fast() -> None:
    storm = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "Retry-After": "0"},
    )
    async with (
        scripted_server(storm) as server,
        AsyncTokPortal(
            KEY,
            base_url=server.base_url,
            retry_deadline=0.2,
            rate_limiter=RateLimiter(limit=50, window=1),
        ) as tp,
    ):
        ids = [f"id-{n}" for n in range(50)]
        with anyio.fail_after(HANG_GUARD):
            results = await tp.accounts.get_many(ids, concurrency=50, return_exceptions=True)
    assert len(results) == 50
    assert all(isinstance(r, RateLimitError) for r in results)
    # First attempts are paced; a retry whose token cannot come before its deadline is
    # not waited for. Without that, every id would have been sent three times (150).
    assert len(server.received) < 100
    assert sum("deadline" in str(r) for r in results) > 25


async def test_the_deadline_starts_at_the_first_send_not_in_the_queue() -> None:
    ok = Reply(json=DETAIL, headers=SPENT)
    failing = Reply(status=503, json={"error": {"code": "UPSTREAM"}}, headers=SPENT)
    async with (
        scripted_server(ok, failing, ok) as server,
        AsyncTokPortal(
            KEY, base_url=server.base_url, rate_limiter=RateLimiter(limit=1, window=0.5)
        ) as tp,
    ):
        # The second call queues ~0.5 s for its token, longer than half its deadline: the
        # clock must start when it is sent, or its retry (0.5 s later again) is lost.
        fast_retries(tp, max_retries=2, deadline=0.8)
        async with anyio.create_task_group() as tasks:
            # Tasks start in order, and a free token is taken without yielding: the first
            # call takes the only one.
            tasks.start_soon(tp.accounts.get, ACCOUNT_ID)
            tasks.start_soon(tp.accounts.get, ACCOUNT_ID)
    assert len(server.received) == 3


async def test_the_final_error_says_how_many_attempts_and_why_they_stopped() -> None:
    failing = Reply(status=503, json={"error": {"code": "UPSTREAM", "message": "Down."}})
    async with (
        scripted_server(failing) as server,
        fast_retries(AsyncTokPortal(KEY, base_url=server.base_url, rate_limiter=False)) as tp,
    ):
        with pytest.raises(ServerError) as spent:
            await tp.accounts.get(ACCOUNT_ID)
        fast_retries(tp, max_retries=5, deadline=0)
        with pytest.raises(ServerError) as late:
            await tp.accounts.get(ACCOUNT_ID)
    assert spent.value.message == "Down.; gave up after 3 attempts: retries spent (max_retries=2)"
    assert late.value.message == (
        "Down.; gave up after 1 attempt: retry deadline reached (retry_deadline=0s)"
    )
    async with AsyncTokPortal(KEY, base_url=refused_base_url(), max_retries=1) as tp:
        fast_retries(tp)
        with pytest.raises(APIConnectionError) as refused:
            await tp.accounts.get(ACCOUNT_ID)
    assert "gave up after 2 attempts: retries spent (max_retries=1)" in str(refused.value)
    assert not refused.value.request_sent


async def test_a_retry_that_cannot_get_a_token_in_time_fails_without_waiting() -> None:
    limiter = RateLimiter(limit=1, window=30)
    await limiter.acquire()
    limiter.release(status=429, rate_limit=RateLimit(limit=1, remaining=0, reset=None))
    step = limiter.acquire(give_up_at=anyio.current_time() + 2)
    with pytest.raises(NoTokenInTime):
        step.send(None)  # raised on its very first step: it never suspended to wait
    in_time = limiter.acquire(give_up_at=anyio.current_time() + 60)
    with anyio.move_on_after(0.01):  # a token due in time is waited for, not refused
        await in_time
