"""Bulk fetching against a server 20 ms away (the sandbox in another process, ``--latency``).

1. Details of 2,000 accounts at concurrency 1, 10 and 50: ``tp.accounts.get_many``; a
   hand-written aiohttp + ``asyncio.gather`` under a semaphore (models left out); and the
   official ``tokportal`` SDK in a thread pool of that many workers. Each is set against
   the ideal: requests x latency / concurrency.
2. Listing 10,000 accounts, 100 a page: one page at a time vs ``iter(concurrency=10)``.

Concurrency 1 takes 40 s a run per client (2,000 x 20 ms), so it runs once; the others
run ``--rounds`` times (medians).

Run: python -m benchmarks.bulk [--accounts N] [--rounds N] [--skip-serial]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import tokportal

from tokportal_async import Account, AsyncTokPortal

from ._sandbox_process import sandbox_process

LATENCY = 0.020


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-serial", action="store_true", help="leave concurrency 1 out")
    args = parser.parse_args()
    levels = [10, 50] if args.skip_serial else [1, 10, 50]
    with sandbox_process(
        "--accounts", str(max(args.accounts, 10_000)), "--latency", str(LATENCY)
    ) as (base_url, key):
        details(base_url, key, args.accounts, levels, args.rounds)
        listing(base_url, key, args.rounds)


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def details(base_url: str, key: str, count: int, levels: list[int], rounds: int) -> None:
    loop = asyncio.new_event_loop()
    sdk = AsyncTokPortal(key, base_url=base_url)
    ids = [a.id for a in loop.run_until_complete(_first_ids(sdk, count))]
    headers = {"X-API-Key": key, "Accept": "application/json"}
    official = tokportal.TokPortal(key, base_url=base_url)
    print(f"\nDetails of {count} accounts, {LATENCY * 1000:.0f} ms server latency")
    print(f"{'concurrency':>11} {'client':<30} {'median':>9} {'vs ideal':>9} {'vs gather':>10}")
    for level in levels:
        ideal = count * LATENCY / level

        async def hand_written(level: int = level) -> None:
            limit = asyncio.Semaphore(level)
            async with aiohttp.ClientSession() as session:

                async def one(account_id: str) -> object:
                    async with (
                        limit,
                        session.get(
                            f"{base_url}/accounts/{account_id}", headers=headers
                        ) as response,
                    ):
                        return json.loads(await response.read())["data"]

                await asyncio.gather(*(one(i) for i in ids))

        def in_loop(make: Callable[[], Awaitable[object]]) -> Callable[[], object]:
            return lambda: loop.run_until_complete(make())

        def threads(level: int = level) -> None:
            with ThreadPoolExecutor(max_workers=level) as pool:
                list(pool.map(official.accounts.get, ids))

        rows: dict[str, Callable[[], object]] = {
            "aiohttp + gather (no models)": in_loop(hand_written),
            "tokportal_async get_many": in_loop(
                lambda level=level: sdk.accounts.get_many(ids, concurrency=level)  # type: ignore[misc]
            ),
            "tokportal (official), threads": threads,
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(1 if level == 1 else rounds):
            for name, run in rows.items():
                times[name].append(_timed(run))
        base = times["aiohttp + gather (no models)"]
        for name, values in times.items():
            ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
            median = statistics.median(values)
            print(f"{level:>11} {name:<30} {median:>8.2f}s {median / ideal:>8.2f}x {ratio:>9.2f}x")
    loop.run_until_complete(sdk.aclose())
    loop.close()


async def _first_ids(sdk: AsyncTokPortal, count: int) -> list[Account]:
    accounts = []
    async for account in sdk.accounts.iter(concurrency=10):
        accounts.append(account)
        if len(accounts) == count:
            break
    return accounts


def listing(base_url: str, key: str, rounds: int) -> None:
    loop = asyncio.new_event_loop()
    sdk = AsyncTokPortal(key, base_url=base_url)

    async def walk(concurrency: int) -> int:
        return sum([1 async for _ in sdk.accounts.iter(per_page=100, concurrency=concurrency)])

    times: dict[int, list[float]] = {1: [], 10: []}
    for _ in range(rounds):
        for concurrency in times:
            start = time.perf_counter()
            assert loop.run_until_complete(walk(concurrency)) == 10_000
            times[concurrency].append(time.perf_counter() - start)
    print(f"\nListing 10,000 accounts, 100 a page, {LATENCY * 1000:.0f} ms server latency")
    sequential = statistics.median(times[1])
    for concurrency, values in times.items():
        median = statistics.median(values)
        label = "one page at a time" if concurrency == 1 else f"iter(concurrency={concurrency})"
        print(f"{label:<30} {median:>8.2f}s {sequential / median:>8.2f}x faster")
    loop.run_until_complete(sdk.aclose())
    loop.close()


if __name__ == "__main__":
    main()
