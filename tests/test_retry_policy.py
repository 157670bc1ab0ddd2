"""The retry loop on its own: a fake send, exact waits, no server and no clock to wait on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import pytest

from tokportal_async import APICertificateError, APIConnectionError, AsyncTokPortal, TokPortal
from tokportal_async._errors import UNCERTAIN_OUTCOME
from tokportal_async._raw import RawResponse
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

pytestmark = pytest.mark.anyio

#: Waits of exactly zero: the loop's decisions without its pauses.
NO_WAIT = RetryPolicy(max_retries=3, jitter=lambda step: 0.0)

Outcome = RawResponse | APIConnectionError


def answer(status: int) -> RawResponse:
    return RawResponse(status=status, headers={}, body=b"{}")


def fake_send(
    outcomes: Iterable[Outcome],
) -> tuple[Callable[[], Awaitable[RawResponse]], list[int]]:
    """A send that plays ``outcomes`` in order, and the list it counts its calls in."""
    queue, calls = list(outcomes), []

    async def send() -> RawResponse:
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
