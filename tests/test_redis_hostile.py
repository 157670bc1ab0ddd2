"""The shared bucket under a hostile Redis: corrupt state, impossible replies, long
Retry-Afters, swallowed cancellations and wrong clients. Whatever Redis holds or says, a
take is bounded, pacing stays on, and a request never fails because of the limiter."""

from __future__ import annotations

import asyncio
import logging
import math
import random
from typing import Any

import anyio
import pytest
import redis
import redis.asyncio

from tokportal_async import (
    Account,
    AsyncTokPortal,
    Page,
    RateLimitError,
    RedisRateLimiter,
    TokPortalError,
)
from tokportal_async._constants import RETRY_AFTER_CAP
from tokportal_async._models import RateLimit
from tokportal_async._redis_rate_limit import bucket_key
from tokportal_async.sandbox import Sandbox

from .hostile_redis import hostile_redis
from .scripted import Reply, scripted_server

pytestmark = pytest.mark.anyio

#: A hang guard only: every test here ends in well under a second when it passes.
HANG_GUARD = 20
API_KEY = "sk_test_hostile_redis_0001"


async def _bucket(url: str, api_key: str) -> dict[str, float]:
    client = redis.asyncio.Redis.from_url(url)
    try:
        raw = await client.hgetall(bucket_key("tokportal", api_key))
    finally:
        await client.aclose()
    return {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("retry_after", ["3600", "1e300"])
async def test_a_long_retry_after_puts_the_shared_bucket_no_deeper_than_the_cap(
    fresh_redis: str, retry_after: str
) -> None:
    refused = Reply(
        429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Slow down"}},
        headers={"Retry-After": retry_after, "X-RateLimit-Limit": "120",
                 "X-RateLimit-Remaining": "0"},
    )  # fmt: skip
    async with scripted_server(refused) as server:
        limiter = RedisRateLimiter(fresh_redis)
        async with AsyncTokPortal(API_KEY, base_url=server.base_url, rate_limiter=limiter) as tp:
            with pytest.raises(RateLimitError):  # too long to wait inside a call: raised
                await tp.request("GET", "/accounts")
    bucket = await _bucket(fresh_redis, API_KEY)
    assert math.isfinite(bucket["tokens"])
    # Every process would otherwise wait out the whole Retry-After inside its calls.
    assert bucket["tokens"] >= 1 - RETRY_AFTER_CAP * bucket["rate"] - 1e-6


CORRUPTIONS = [
    ("rate", "0"),
    ("rate", "-1"),
    ("rate", "nan"),
    ("rate", "inf"),
    ("rate", "1e-300"),
    ("tokens", "-inf"),
    ("tokens", "-1e300"),
    ("tokens", "nan"),
    ("capacity", "inf"),
    ("capacity", "0"),
    ("at", "1e300"),
    ("granted", "nonsense"),
]


async def _burst(tp: AsyncTokPortal, requests: int) -> list[Any]:
    results: list[Any] = []

    async def one() -> None:
        try:
            results.append(await tp.accounts.list(per_page=1))
        except TokPortalError as error:
            results.append(error)

    async with anyio.create_task_group() as group:
        for _ in range(requests):
            group.start_soon(one)
    return results


@pytest.mark.parametrize(("field", "value"), [*CORRUPTIONS, ("type", "a string")])
async def test_a_corrupt_bucket_is_reset_with_one_warning_and_pacing_stays_on(
    fresh_redis: str, field: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "tokportal_async")
    async with Sandbox(accounts=3, rate_limit=20, rate_window=1) as sandbox:
        key = bucket_key("tokportal", sandbox.api_key)
        limiter = RedisRateLimiter(fresh_redis, limit=20, window=1)
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, rate_limiter=limiter
        ) as tp:
            await tp.accounts.list(per_page=1)  # the bucket exists and has heard the server
            writer = redis.asyncio.Redis.from_url(fresh_redis)
            if field == "type":
                await writer.delete(key)
                await writer.set(key, value)
            else:
                await writer.hset(key, field, value)
            await writer.aclose()
            with anyio.fail_after(HANG_GUARD):
                results = await _burst(tp, 25)
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    assert not [r for r in results if isinstance(r, TokPortalError)]
    assert rejected == 0  # paced: 25 requests into a budget of 20, none refused
    repairs = [w for w in _warnings(caplog) if "was reset" in w]
    assert len(repairs) == 1
    bucket = await _bucket(fresh_redis, sandbox.api_key)
    assert 0 < bucket["rate"] < math.inf
    assert -math.inf < bucket["tokens"] <= bucket["capacity"]


async def _list_paced_by(redis_url: str) -> Page[Account]:
    """One page from a sandbox, paced by a RedisRateLimiter on ``redis_url``."""
    async with Sandbox(accounts=3) as sandbox:
        limiter = RedisRateLimiter(redis_url)
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, rate_limiter=limiter
        ) as tp:
            with anyio.fail_after(HANG_GUARD):
                return await tp.accounts.list(per_page=2)


HOSTILE_REPLIES = [
    ["nan", "1", "1", "0"],
    ["-5", "1", "1", "0"],
    ["inf", "1", "1", "0"],
    ["1e12", "1", "1", "0"],
    ["-inf", "1", "1", "0"],
    "not a list",
    7,
    [],
]


@pytest.mark.parametrize("reply", HOSTILE_REPLIES, ids=repr)
async def test_an_impossible_reply_falls_back_to_the_local_bucket(
    reply: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "tokportal_async")
    async with hostile_redis(reply) as hostile:
        assert len(await _list_paced_by(hostile.url)) == 2
    assert hostile.script_calls >= 1
    [warning] = [w for w in _warnings(caplog) if "cannot be used" in w]
    assert "falls back" in warning


async def test_a_cancelled_take_stays_cancelled(fresh_redis: str) -> None:
    """Cancel takes at every point of their Redis round trip: none may return normally.

    On CPython 3.11, ``asyncio.wait_for`` inside redis-py returns normally now and then
    when the cancellation lands as its write completes; a few hundred tries find it.
    """
    limiter = RedisRateLimiter(fresh_redis, limit=100_000, window=1)
    limiter._bind(API_KEY)
    full = RateLimit(limit=100_000, remaining=100_000, reset=None)
    await limiter._report(200, full, None)  # heard: takes never wait on the bucket
    await limiter._report(200, full, None)
    chance = random.Random(17)
    cancelled = swallowed = 0
    for _ in range(400):
        tasks = [asyncio.create_task(limiter._acquire()) for _ in range(5)]
        for _ in range(chance.randint(0, 8)):
            await asyncio.sleep(0)  # land the cancellation at another point each time
        for task in tasks:
            cancelled += task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                continue
            swallowed += task.cancelling() > 0  # cancel() was accepted, yet it returned
    await limiter.aclose()
    assert cancelled > 1000
    assert swallowed == 0


async def test_a_cancelled_take_under_an_anyio_scope_ends_the_scope(fresh_redis: str) -> None:
    limiter = RedisRateLimiter(fresh_redis, limit=100_000, window=1)
    limiter._bind(API_KEY)
    full = RateLimit(limit=100_000, remaining=100_000, reset=None)
    await limiter._report(200, full, None)
    await limiter._report(200, full, None)
    ended = 0
    for attempt in range(100):
        with anyio.move_on_after(0) as scope:  # already expired: cancelled at first await
            await limiter._acquire()
            attempt = -1  # reached only if the take ignored the scope
        ended += scope.cancelled_caught and attempt >= 0
    await limiter.aclose()
    assert ended == 100


def test_a_synchronous_redis_client_is_refused() -> None:
    with pytest.raises(ValueError, match=r"redis\.asyncio\.Redis.*synchronous"):
        RedisRateLimiter(redis.Redis())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        b"redis://:hunter2-password@127.0.0.1:6379/0",
        "http://:hunter2-password@127.0.0.1:6379/0",
        "hunter2-password",
    ],
)
def test_a_refused_redis_argument_never_repeats_the_password(bad: Any) -> None:
    with pytest.raises(ValueError, match="redis") as caught:
        RedisRateLimiter(bad)
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value.args)


async def test_a_server_that_is_not_redis_falls_back_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """redis-py itself fails with AttributeError at a server that answers HELLO with +OK:
    not a Redis error, so it is logged with its traceback, and the request still goes on."""
    caplog.set_level(logging.WARNING, "tokportal_async")
    async with hostile_redis(["0", "1", "1", "0"], hello=b"+OK\r\n") as not_redis:
        assert len(await _list_paced_by(not_redis.url)) == 2
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Unexpected error from the shared rate limit" in error.getMessage()
    assert error.exc_info is not None


async def test_a_bug_of_the_limiters_own_is_raised_not_taken_for_redis_failing(
    fresh_redis: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Only Redis's and the network's errors (and redis-py failing as at a server that is
    not Redis) fall back: an error of the limiter's own code reaches the caller."""
    import tokportal_async._redis_rate_limit as shared

    def broken(answer: object, longest_wait: float) -> Any:
        raise TypeError("a bug in reading the reply")

    monkeypatch.setattr(shared, "_take_reply", broken)
    limiter = RedisRateLimiter(fresh_redis)
    limiter._bind(API_KEY)
    with pytest.raises(TypeError, match="a bug in reading the reply"):
        await limiter.acquire()
    await limiter.aclose()
    assert not [r for r in caplog.records if "falls back" in r.getMessage()]
