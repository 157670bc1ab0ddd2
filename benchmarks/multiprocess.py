"""Many processes, one key: the key's budget kept by the whole fleet, with and without Redis.

For 1, 4, 8 and 16 processes sharing one key against the sandbox's bucket (60 requests
per 5 s, refilled continuously), each process runs ``get_many(concurrency=10)`` over its
share of the ids, with default settings otherwise: once with each client's own bucket,
once with :class:`RedisRateLimiter` on a real redis-server. Reported per row: requests
that failed, 429s the server sent, and the wall time over the bucket's bound
``(requests - 60) / 12 per second``. Then the cost of one take, in-process vs Redis.

Run: python -m benchmarks.multiprocess   (needs redis-server and the redis extra)
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from tests.redis_server import redis_server
from tokportal_async import AsyncTokPortal, RateLimiter, RedisRateLimiter, TokPortalError
from tokportal_async._models import RateLimit
from tokportal_async._redis_rate_limit import MAX_CAPACITY
from tokportal_async.sandbox import serve_in_thread

LIMIT, WINDOW = 60, 5.0


def _warm(ready: Any) -> None:
    # Every worker has imported before the clock starts: the rows measure pacing, not
    # sixteen processes starting and importing at once on a few cores.
    import redis.asyncio  # noqa: F401

    import tokportal_async  # noqa: F401

    ready.wait()


def _job(base_url: str, api_key: str, ids: list[str], redis_url: str | None) -> int:
    async def run() -> int:
        limiter: Any = RedisRateLimiter(redis_url) if redis_url else True
        async with AsyncTokPortal(api_key, base_url=base_url, rate_limiter=limiter) as tp:
            results = await tp.accounts.get_many(ids, concurrency=10, return_exceptions=True)
        return sum(isinstance(r, TokPortalError) for r in results)

    return anyio.run(run)


def _row(processes: int, requests: int, redis_url: str | None) -> tuple[int, int, float]:
    if redis_url:
        # Every row's sandbox has the same key: start from a fresh shared bucket, not from
        # the one the previous row left drained.
        import redis

        redis.Redis.from_url(redis_url).flushall()
    with serve_in_thread(accounts=requests, rate_limit=LIMIT, rate_window=WINDOW) as sandbox:
        ids = [a["id"] for a in sandbox.state.accounts]
        shares = [ids[n::processes] for n in range(processes)]
        context = multiprocessing.get_context("spawn")
        ready = context.Barrier(processes + 1)
        with context.Pool(processes, initializer=_warm, initargs=(ready,)) as pool:
            ready.wait()
            started = time.perf_counter()
            failed = pool.starmap(
                _job, [(sandbox.base_url, sandbox.api_key, s, redis_url) for s in shares]
            )
            elapsed = time.perf_counter() - started
        assert sandbox.state.rate_limiter is not None
        bound = (requests - LIMIT) / (LIMIT / WINDOW)
        return sum(failed), sandbox.state.rate_limiter.rejected, elapsed / bound


async def _take_cost(redis_url: str, takes: int = 2000) -> tuple[float, float]:
    heard = RateLimit(limit=MAX_CAPACITY, remaining=MAX_CAPACITY, reset=None)
    costs = []
    limiters: tuple[RateLimiter | RedisRateLimiter, ...] = (
        RateLimiter(limit=MAX_CAPACITY),
        RedisRateLimiter(redis_url, limit=MAX_CAPACITY),  # the largest it believes in
    )
    for limiter in limiters:
        limiter._bind("sk_benchmark")
        for _ in range(2):  # heard: takes never wait on the bucket
            await (await limiter.acquire()).finish(200, heard, None)
        started = time.perf_counter()
        for _ in range(takes):  # what each request pays: a take, and its answer's report
            permit = await limiter.acquire()
            await permit.finish(200, heard, None)
        costs.append((time.perf_counter() - started) / takes)
        await limiter.aclose()
    return costs[0], costs[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, redis_server(Path(directory)) as url:
        print(f"\nOne key, a bucket of {LIMIT} per {WINDOW:g} s; get_many(concurrency=10)")
        line = "{:>9} {:>9} {:>11} {:>7} {:>6} {:>11}"
        print(line.format("processes", "requests", "limiter", "failed", "429s", "wall/bound"))
        for processes in (1, 4, 8, 16):
            requests = 240 if processes <= 4 else 320
            for name, redis_url in (("in-process", None), ("redis", url)):
                failed, rejected, ratio = _row(processes, requests, redis_url)
                print(line.format(processes, requests, name, failed, rejected, f"{ratio:.2f}x"))
        rounds = [anyio.run(_take_cost, url) for _ in range(5)]
        local = statistics.median(r[0] for r in rounds)
        shared = statistics.median(r[1] for r in rounds)
        print(
            f"\nOne take (acquire + finish), median of 5 rounds of 2,000: in-process "
            f"{local * 1e6:.1f}us, Redis {shared * 1e6:.1f}us ({shared / local:.0f}x)"
        )


if __name__ == "__main__":
    main()
