"""Many processes, one key: a budget shared through a real Redis, or, without it, each
client slowing to its share when it meets the others."""

from __future__ import annotations

import json
import logging
import multiprocessing
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio

from tokportal_async import AsyncTokPortal, RedisRateLimiter, TokPortalError
from tokportal_async._redis_rate_limit import OBSERVE_SCRIPT, TAKE_SCRIPT
from tokportal_async.sandbox import Sandbox, serve_in_thread

from .redis_server import redis_server

pytestmark = pytest.mark.anyio

HANG_GUARD = 60


async def _burst(sandbox: Sandbox, url: str, clients: int, requests: int) -> list[Any]:
    """``requests`` lists spread over ``clients`` clients, each with its own limiter."""
    results: list[Any] = []
    async with anyio.create_task_group() as group:
        for _ in range(clients):

            async def run() -> None:
                limiter = RedisRateLimiter(url, limit=20, window=1)
                async with AsyncTokPortal(
                    sandbox.api_key, base_url=sandbox.base_url, rate_limiter=limiter
                ) as tp:
                    for _ in range(requests // clients):
                        try:
                            results.append(await tp.accounts.list(per_page=1))
                        except TokPortalError as error:
                            results.append(error)

            group.start_soon(run)
    return results


async def test_clients_of_one_key_share_one_bucket(fresh_redis: str) -> None:
    async with Sandbox(accounts=5, rate_limit=20, rate_window=1) as sandbox:
        with anyio.fail_after(HANG_GUARD):
            results = await _burst(sandbox, fresh_redis, clients=4, requests=48)
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    assert len(results) == 48
    assert not [r for r in results if isinstance(r, TokPortalError)]
    # Four private buckets of 20 would have sent 48 at once into the server's 20.
    assert rejected == 0


def _process_job(base_url: str, api_key: str, redis_url: str, requests: int) -> int:
    """One process of a fleet: its share of requests, each through the shared bucket."""

    async def run() -> int:
        limiter = RedisRateLimiter(redis_url, limit=20, window=1)
        failed = 0
        async with AsyncTokPortal(api_key, base_url=base_url, rate_limiter=limiter) as tp:
            for _ in range(requests):
                try:
                    await tp.accounts.list(per_page=1)
                except TokPortalError:
                    failed += 1
        return failed

    return anyio.run(run)


def test_processes_of_one_key_share_one_bucket(redis_url: str) -> None:
    with serve_in_thread(accounts=5, rate_limit=20, rate_window=1) as sandbox:
        context = multiprocessing.get_context("spawn")
        with context.Pool(4) as pool:
            args = [(sandbox.base_url, sandbox.api_key, redis_url, 12)] * 4
            failed = pool.starmap(_process_job, args)
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    assert failed == [0, 0, 0, 0]
    assert rejected == 0  # 48 requests through a bucket of 20: 28 paced, none refused


async def test_redis_going_away_falls_back_to_the_local_bucket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "tokportal_async")
    server = redis_server(tmp_path)
    url = server.__enter__()
    async with Sandbox(accounts=5) as sandbox:
        limiter = RedisRateLimiter(url)
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, rate_limiter=limiter
        ) as tp:
            for _ in range(5):
                await tp.accounts.list(per_page=1)
            server.__exit__(None, None, None)  # Redis goes away mid-run
            for _ in range(5):  # ...and requests go on, paced by the client's own bucket
                await tp.accounts.list(per_page=1)
    assert len(sandbox.state.requests) == 10
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "falls back" in warnings[0]


async def test_keys_get_their_own_buckets_and_the_key_never_reaches_redis(
    fresh_redis: str,
) -> None:
    async with Sandbox(accounts=5) as sandbox:
        keys = [sandbox.api_key, sandbox.state.other_api_key]
        for key in keys:
            limiter = RedisRateLimiter(fresh_redis)
            async with AsyncTokPortal(key, base_url=sandbox.base_url, rate_limiter=limiter) as tp:
                await tp.accounts.list(per_page=1)
    client = redis.asyncio.Redis.from_url(fresh_redis)
    try:
        stored = [key async for key in client.scan_iter()]
        values = [await client.hgetall(key) for key in stored]
    finally:
        await client.aclose()
    assert len(stored) == 2  # one bucket per API key
    everything = repr(stored) + repr(values)
    for key in keys:
        assert key not in everything
        assert key[3:20] not in everything


async def test_a_redis_client_passed_in_is_used_and_left_open(fresh_redis: str) -> None:
    client = redis.asyncio.Redis.from_url(fresh_redis)
    try:
        async with Sandbox(accounts=2) as sandbox:
            limiter = RedisRateLimiter(client, namespace="fleet-a")
            async with AsyncTokPortal(
                sandbox.api_key, base_url=sandbox.base_url, rate_limiter=limiter
            ) as tp:
                await tp.accounts.list()
        assert await client.ping()  # still open: it is the caller's
        assert [k async for k in client.scan_iter("fleet-a:*")]
    finally:
        await client.aclose()


@pytest.mark.parametrize("bad", [42, None])
def test_a_bad_redis_argument_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="redis"):
        RedisRateLimiter(bad)
    with pytest.raises(ValueError, match="namespace"):
        RedisRateLimiter("redis://127.0.0.1:1/0", namespace="")


def test_the_cli_shares_the_budget_through_redis(redis_url: str) -> None:
    with serve_in_thread(accounts=3, rate_limit=20) as sandbox:
        result = subprocess.run(  # noqa: S603 - our own module, our own interpreter
            [sys.executable, "-W", "error", "-m", "tokportal_async", "--api-key",
             sandbox.api_key, "--base-url", sandbox.base_url, "--redis", redis_url,
             "accounts", "list", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["data"]) == 3

    async def buckets() -> list[bytes]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            return [key async for key in client.scan_iter("tokportal:rate-limit:*")]
        finally:
            await client.aclose()

    assert anyio.run(buckets)  # the run took its token from the shared bucket


def _process_alone(base_url: str, api_key: str, ids: list[str]) -> tuple[int, float]:
    """One process of a fleet without Redis: its own bucket, slowing to its share."""

    async def run() -> tuple[int, float]:
        async with AsyncTokPortal(api_key, base_url=base_url) as tp:
            results = await tp.accounts.get_many(ids, concurrency=10, return_exceptions=True)
            assert tp.rate_limiter is not None
            return sum(isinstance(r, TokPortalError) for r in results), tp.rate_limiter.share

    return anyio.run(run)


def test_processes_without_redis_slow_to_their_share() -> None:
    # Twelve tokens a second: a token every 83 ms, as far above the loopback's round trip
    # and a busy machine's scheduling delays as TokPortal's 500 ms are above the
    # internet's. At 40 a second, those delays alone lost a request in one run of 16.
    with serve_in_thread(accounts=80, rate_limit=24, rate_window=2) as sandbox:
        ids = [a["id"] for a in sandbox.state.accounts]
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            outcomes = pool.starmap(
                _process_alone, [(sandbox.base_url, sandbox.api_key, ids[n::4]) for n in range(4)]
            )
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    assert [failed for failed, _share in outcomes] == [0, 0, 0, 0]
    assert rejected > 0  # they did meet each other...
    assert any(share < 1 for _failed, share in outcomes)  # ...and slowed down for it


async def test_a_client_alone_keeps_its_whole_share() -> None:
    async with (
        Sandbox(accounts=5, rate_limit=20, rate_window=1) as sandbox,
        AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp,
    ):
        for _ in range(30):
            await tp.accounts.list(per_page=1)
        assert tp.rate_limiter is not None
        assert tp.rate_limiter.share == 1.0


class _Bucket:
    """The shared bucket's two scripts, run directly against Redis: what each answer does."""

    KEY = "tokportal:rate-limit:test"

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._take = client.register_script(TAKE_SCRIPT)
        self._observe = client.register_script(OBSERVE_SCRIPT)

    async def take(self) -> list[bytes]:
        return list(await self._take(keys=[self.KEY], args=[10, 10.0, -1, 600]))

    async def observe(
        self, *, limit: int = 10, remaining: int, learned: float = -1.0, grant: Any = (-1, -1)
    ) -> None:
        args = [10, 10.0, -1, 600, limit, remaining, learned, -1, *grant]
        await self._observe(keys=[self.KEY], args=args)

    async def field(self, name: str) -> float:
        return float(await self._client.hget(self.KEY, name))  # type: ignore[arg-type]


@pytest.fixture
async def bucket(fresh_redis: str) -> AsyncIterator[_Bucket]:
    client = redis.asyncio.Redis.from_url(fresh_redis)
    try:
        probe = _Bucket(client)
        await probe.take()  # the probe...
        await probe.observe(remaining=10, learned=10.0)  # ...and the first answer: heard
        yield probe
    finally:
        await client.aclose()


async def test_an_answer_keeps_the_refill_since_its_grant(bucket: _Bucket) -> None:
    granted = await bucket.take()
    assert granted[0] == b"0"
    # Its answer says the server had nothing left then; a second has passed since the
    # grant (a slow round trip) and nobody else took a token: the server refilled since,
    # and so does the shared bucket. Capping at the bare Remaining would empty it.
    long_ago = (int(granted[1]), float(granted[2]) - 1.0)
    await bucket.observe(remaining=0, grant=long_ago)
    assert await bucket.field("tokens") >= 8


async def test_tokens_granted_since_are_not_counted_as_refill(bucket: _Bucket) -> None:
    granted = await bucket.take()
    for _ in range(8):
        await bucket.take()  # others spent what refilled since
    long_ago = (int(granted[1]), float(granted[2]) - 0.1)  # one token's refill
    await bucket.observe(remaining=0, grant=long_ago)
    assert await bucket.field("tokens") <= 0


async def test_an_answer_without_its_grant_caps_at_remaining(bucket: _Bucket) -> None:
    await bucket.take()
    await bucket.observe(remaining=3)
    assert await bucket.field("tokens") <= 3


async def test_the_highest_learned_rate_wins_until_the_budget_changes(bucket: _Bucket) -> None:
    await bucket.observe(remaining=5, learned=12.0)
    await bucket.observe(remaining=5, learned=9.0)  # a client that learned less, later
    assert await bucket.field("rate") == 12.0
    await bucket.observe(limit=20, remaining=5, learned=2.0)  # a new budget: learned afresh
    assert await bucket.field("rate") == 2.0
