"""Figures for faults and rate limits: what is lost, duplicated, retried, and how long.

1. Iterating 10,000 accounts, then fetching 1,000 details 50 at a time, against a sandbox
   that answers 20% of requests with a fault (5xx, HTML 502, drop, stall, truncated body):
   items returned, lost, duplicated; faults injected and retries made.
2. A burst of 600 concurrent requests against the sandbox's token bucket (120 requests
   per window, refilled continuously; the window shrunk from TokPortal's 60 s so the run
   takes seconds): time against the bucket's bound, (600 - 120) / refill rate, and 429s.

Run: python -m benchmarks.reliability [--window SECONDS]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter

import anyio

from tokportal_async import AsyncTokPortal, RateLimiter
from tokportal_async.sandbox import Sandbox


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Retrying"):
            self.retries += 1


async def faults(counter: _RetryCounter) -> None:
    async with (
        Sandbox(accounts=10_000, fault_rate=0.2, fault_seed=7) as sandbox,
        AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url, timeout=2, max_retries=10) as tp,
    ):
        counter.retries = 0
        start = time.perf_counter()
        ids = [a.id async for a in tp.accounts.iter(per_page=100)]
        elapsed = time.perf_counter() - start
        report("iterate 10,000", ids, 10_000, sandbox, counter.retries, elapsed)

        sandbox.state.faults.injected.clear()
        counter.retries = 0
        wanted = [a["id"] for a in sandbox.state.accounts[:1000]]
        got: list[str] = []
        limiter = anyio.CapacityLimiter(50)

        async def fetch(account_id: str) -> None:
            async with limiter:
                got.append((await tp.accounts.get(account_id)).id)

        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for account_id in wanted:
                group.start_soon(fetch, account_id)
        elapsed = time.perf_counter() - start
        report("get 1,000 details", got, 1_000, sandbox, counter.retries, elapsed)


def report(
    name: str, ids: list[str], expected: int, sandbox: Sandbox, retries: int, elapsed: float
) -> None:
    counts = Counter(ids)
    lost = expected - len(counts)
    duplicated = sum(n - 1 for n in counts.values())
    injected = sandbox.state.faults.injected
    kinds = ", ".join(f"{kind.value} {n}" for kind, n in sorted(injected.items()))
    print(
        f"{name:<18} returned {len(ids):>6}  lost {lost}  duplicated {duplicated}  "
        f"faults {sum(injected.values()):>4} ({kinds})  retries {retries:>4}  {elapsed:5.1f}s"
    )


async def burst(window: float, requests: int = 600, limit: int = 120) -> None:
    async with Sandbox(accounts=10, rate_limit=limit, rate_window=window) as sandbox:
        bucket = RateLimiter(limit=limit, window=window)
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, rate_limiter=bucket
        ) as tp:
            start = time.perf_counter()
            async with anyio.create_task_group() as group:
                for _ in range(requests):
                    group.start_soon(tp.accounts.list)
            elapsed = time.perf_counter() - start
        assert sandbox.state.rate_limiter is not None
        rejected = sandbox.state.rate_limiter.rejected
    bound = (requests - limit) / (limit / window)
    print(
        f"burst of {requests} against {limit} per {window:g}s: {elapsed:.2f}s, "
        f"bound {bound:.2f}s ({elapsed / bound:.3f}x), 429s: {rejected}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=float, default=5.0)
    args = parser.parse_args()
    counter = _RetryCounter()
    logger = logging.getLogger("tokportal_async")
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    anyio.run(faults, counter)
    anyio.run(burst, args.window)


if __name__ == "__main__":
    main()
