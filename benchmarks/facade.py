"""The cost of the blocking facade's thread hop, against the same async call, in one run.

Per request (sequential ``get``, sandbox in another process, no added latency):

- ``async``: ``await tp.accounts.get(id)`` on an event loop in this thread (the baseline);
- ``facade``: ``TokPortal.accounts.get(id)``, which hands the coroutine to its background
  loop with ``asyncio.run_coroutine_threadsafe`` and waits on the future;
- ``portal.call``: the same async call through anyio's ``BlockingPortal.call`` on a
  long-lived portal, the obvious alternative.

Rounds interleave the three so that noise from the shared machine hits all alike; ratios
are medians of per-round ratios. Then it counts how often iterating crosses threads.

Run: python benchmarks/facade.py [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from functools import partial
from typing import Any

from anyio.from_thread import start_blocking_portal

from tokportal_async import AsyncTokPortal, TokPortal
from tokportal_async._sync_runtime import PortalRunner

from ._sandbox_process import sandbox_process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with sandbox_process("--accounts", "250") as (base_url, api_key):
        settings: dict[str, Any] = {"api_key": api_key, "base_url": base_url}
        per_request, ratios = measure(settings, args.rounds, args.requests)
        crossings = count_crossings(settings)
    hop, portal_hop = measure_empty_hops(args.rounds, 2000)
    print(f"{'path':<14} {'median/request':>15} {'vs async':>9}")
    for name in ("async", "facade", "portal.call"):
        ratio = 1.0 if name == "async" else ratios[name]
        print(f"{name:<14} {per_request[name] * 1e6:>13.0f}us {ratio:>8.2f}x")
    print(
        f"an empty round trip to the loop thread: {hop * 1e6:.0f}us via the facade's runner, "
        f"{portal_hop * 1e6:.0f}us via portal.call"
    )
    print(
        f"iterating 250 accounts, 100 a page: {crossings} thread crossings "
        "(3 pages + 1 to find the end; 251 if it crossed per item)"
    )


def measure(
    settings: dict[str, Any], rounds: int, requests: int
) -> tuple[dict[str, float], dict[str, float]]:
    samples: dict[str, list[float]] = {"async": [], "facade": [], "portal.call": []}
    loop = asyncio.new_event_loop()
    async_tp = AsyncTokPortal(**settings)
    account_id = loop.run_until_complete(async_tp.accounts.list(per_page=1)).data[0].id

    async def async_round() -> float:
        start = time.perf_counter()
        for _ in range(requests):
            await async_tp.accounts.get(account_id)
        return (time.perf_counter() - start) / requests

    with TokPortal(**settings) as facade, start_blocking_portal() as portal:
        portal_tp = AsyncTokPortal(**settings)

        def facade_round() -> float:
            start = time.perf_counter()
            for _ in range(requests):
                facade.accounts.get(account_id)
            return (time.perf_counter() - start) / requests

        def portal_round() -> float:
            get = partial(portal_tp.accounts.get, account_id)
            start = time.perf_counter()
            for _ in range(requests):
                portal.call(get)
            return (time.perf_counter() - start) / requests

        for _ in range(rounds + 1):  # the first round warms connections up and is dropped
            samples["async"].append(loop.run_until_complete(async_round()))
            samples["facade"].append(facade_round())
            samples["portal.call"].append(portal_round())
        portal.call(portal_tp.aclose)
    loop.run_until_complete(async_tp.aclose())
    loop.close()
    for values in samples.values():
        del values[0]
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios = {
        name: statistics.median(v / a for v, a in zip(values, samples["async"], strict=True))
        for name, values in samples.items()
    }
    return medians, ratios


async def _nothing() -> None:
    return None


def measure_empty_hops(rounds: int, calls: int) -> tuple[float, float]:
    """What one thread round trip costs with no request in it: the facade's floor."""
    runner = PortalRunner()
    runner_samples, portal_samples = [], []
    with start_blocking_portal() as portal:
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(calls):
                runner.call(_nothing())
            runner_samples.append((time.perf_counter() - start) / calls)
            start = time.perf_counter()
            for _ in range(calls):
                portal.call(_nothing)
            portal_samples.append((time.perf_counter() - start) / calls)
    runner.close()
    return statistics.median(runner_samples), statistics.median(portal_samples)


def count_crossings(settings: dict[str, Any]) -> int:
    crossings = 0
    with TokPortal(**settings) as tp:
        runner = tp._runner
        original = PortalRunner.call

        def counting(coro: Any) -> Any:
            nonlocal crossings
            crossings += 1
            return original(runner, coro)

        runner.call = counting  # type: ignore[method-assign]
        assert sum(1 for _ in tp.accounts.iter(per_page=100)) == 250
    return crossings


if __name__ == "__main__":
    main()
