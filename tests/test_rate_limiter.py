"""The token bucket on its own: a clock moved by hand, no server, no waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from tokportal_async import (
    AsyncTokPortal,
    RateLimit,
    RateLimiter,
)
from tokportal_async._rate_limit import NoTokenInTime

from .hostile import ACCOUNT_ID, DETAIL, HANG_GUARD
from .scripted import Reply, scripted_server

pytestmark = pytest.mark.anyio


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def headers(limit: int, remaining: int, reset_in: float | None = None) -> RateLimit:
    reset = None if reset_in is None else datetime.now(UTC) + timedelta(seconds=reset_in)
    return RateLimit(limit=limit, remaining=remaining, reset=reset)


async def free_token(bucket: RateLimiter) -> bool:
    """Whether a token can be had now, without waiting."""
    try:
        await bucket.acquire(give_up_at=anyio.current_time())
    except NoTokenInTime:
        return False
    return True


async def spend(bucket: RateLimiter, answers: int, limit: int = 2) -> None:
    for n in range(answers):
        await bucket.acquire()
        bucket.release(status=200, rate_limit=headers(limit, limit - 1 - n))


async def test_the_bucket_refills_by_its_clock() -> None:
    clock = Clock()
    bucket = RateLimiter(limit=2, window=1.0, clock=clock)
    await spend(bucket, 2)
    assert not await free_token(bucket)
    clock.now += 0.5  # two a second: one token back
    assert await free_token(bucket)
    assert not await free_token(bucket)


async def test_nothing_refills_before_the_first_answer() -> None:
    # The server's bucket starts refilling when our first request reaches it, which we
    # learn no sooner than its answer.
    clock = Clock()
    bucket = RateLimiter(limit=1, window=1.0, clock=clock)
    await bucket.acquire()
    clock.now += 5
    assert not await free_token(bucket)


async def test_a_429_empties_the_bucket_until_it_refills() -> None:
    clock = Clock()
    bucket = RateLimiter(limit=10, window=1.0, clock=clock)
    await spend(bucket, 1, limit=10)
    await bucket.acquire()
    bucket.release(status=429, rate_limit=headers(10, 0))
    assert not await free_token(bucket)
    clock.now += 0.1  # ten a second, but the 429 halved this client's share: half a token
    assert not await free_token(bucket)
    clock.now += 0.1
    assert await free_token(bucket)


async def test_remaining_lowers_the_level_but_never_raises_it() -> None:
    clock = Clock()
    bucket = RateLimiter(limit=5, window=1.0, clock=clock)
    await bucket.acquire()
    bucket.release(status=200, rate_limit=headers(5, 0))  # others spent the rest
    assert not await free_token(bucket)


async def test_the_refill_rate_is_learned_from_reset() -> None:
    bucket = RateLimiter(limit=60, window=60.0, clock=Clock())
    await bucket.acquire()
    # 30 of 60 spent, full again in 3 s: at least (30 - 1) / 3 tokens a second.
    bucket.release(status=200, rate_limit=headers(60, 30, reset_in=3))
    assert bucket.window < 60 / 9  # learned: far faster than the given minute


async def test_a_429_to_its_own_blind_burst_does_not_cut_the_share() -> None:
    bucket = RateLimiter(limit=50, window=1.0, clock=Clock())
    for _ in range(8):
        await bucket.acquire()  # sent before any answer, more than the budget of 5
    bucket.release(status=200, rate_limit=headers(5, 0))
    for _ in range(7):
        bucket.release(status=429, rate_limit=headers(5, 0))
    assert bucket.share == 1.0  # its own doing, not others spending the key


async def test_a_429_to_a_blind_burst_within_the_budget_cuts_the_share() -> None:
    bucket = RateLimiter(limit=50, window=1.0, clock=Clock())
    for _ in range(3):
        await bucket.acquire()  # sent before any answer, fewer than the budget of 5
    bucket.release(status=200, rate_limit=headers(5, 0))
    bucket.release(status=429, rate_limit=headers(5, 0))
    assert bucket.share == 0.5  # three cannot spend five: others spend the key too


async def test_a_429_the_bucket_did_not_foresee_cuts_the_share() -> None:
    clock = Clock()
    bucket = RateLimiter(limit=5, window=1.0, clock=clock)
    await spend(bucket, 1, limit=5)  # the budget is known from here on
    await bucket.acquire()
    bucket.release(status=429, rate_limit=headers(5, 0))  # others spend the key too
    assert bucket.share == 0.5


async def test_after_a_429_the_bucket_refills_one_token_at_a_time() -> None:
    # The requests a 429 refused all wait out the same Retry-After: a bucket that refilled
    # meanwhile would send them back together, to be refused together again.
    clock = Clock()
    bucket = RateLimiter(limit=10, window=1.0, clock=clock)
    await spend(bucket, 1, limit=10)
    await bucket.acquire()
    bucket.release(status=429, rate_limit=headers(10, 0))
    clock.now += 5  # long enough to refill the whole bucket
    assert await free_token(bucket)
    assert not await free_token(bucket)  # one at most, until an answer says more
    bucket.release(status=200, rate_limit=headers(10, 5))
    clock.now += 0.5  # five a second at half the share: two and a half tokens
    assert await free_token(bucket)
    assert await free_token(bucket)
    assert not await free_token(bucket)


async def test_the_share_is_cut_once_per_round_trip() -> None:
    clock = Clock()
    bucket = RateLimiter(limit=5, window=1.0, clock=clock)
    await spend(bucket, 1, limit=5)
    for _ in range(2):
        await bucket.acquire()  # on their way together, before either is refused
    for _ in range(2):
        bucket.release(status=429, rate_limit=headers(5, 0))
    assert bucket.share == 0.5  # one cut: the other one was sent at the old pace
    clock.now += 0.9  # a token again, well within a second of the cut
    await bucket.acquire()  # sent after the cut, and refused all the same
    bucket.release(status=429, rate_limit=headers(5, 0))
    assert bucket.share == 0.25


# -- Nonsense rate limits -----------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-5", "-0.5"])
async def test_a_nonsense_rate_limit_is_ignored(limit: str) -> None:
    headers = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"}
    async with (
        scripted_server(Reply(json=DETAIL, headers=headers)) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, timeout=2) as tp,
    ):
        with anyio.fail_after(HANG_GUARD):  # paced to 1/minute, five calls would hang
            for _ in range(5):
                await tp.accounts.get(ACCOUNT_ID)
        assert tp.rate_limit is None
        assert tp.rate_limiter is not None
        assert tp.rate_limiter.limit == 120
    assert len(server.received) == 5


async def test_a_late_answer_never_teaches_a_faster_refill_than_the_servers() -> None:
    """The server refills 40 a second. At the send (t=1000.25) its deficit is 30 tokens, so
    it is full 0.75 s later and says Reset: 1001. The answer arrives 0.3 s late: read
    against the arrival, 29 tokens in 0.45 s would be 64 a second, faster than the truth."""
    arrived, sent = 1000.55, 1000.25
    bucket = RateLimiter(limit=40, window=60, wall_clock=lambda: arrived)
    await bucket.acquire()
    reset = datetime.fromtimestamp(1001, UTC)
    bucket.release(
        status=200, rate_limit=RateLimit(limit=40, remaining=10, reset=reset), sent_at=sent
    )
    assert bucket.window >= 1.0  # 40 a second at most: never faster than the server
    assert bucket.window == pytest.approx(40 / (29 / 0.75))
