"""One hung request must not hold the rest up: bulk helpers against stalling requests.

300 accounts, 10% of requests stalling 2 s (then dropped, and retried by the SDK), 10
requests at a time: ``get_many`` (workers pulling the next id) against ``iter_details``
and ``iter_open_slots``, in order (the default, with a window of finished results held
ahead) and ``ordered=False``. Rounds are interleaved; the table gives medians and the
median per-round ratio to ``get_many``. The fault draw is deterministic per seed, and
each round uses the next seed, so every row of a round meets the same stalls.

Run: python -m benchmarks.stalls [--rounds N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from tokportal_async import AsyncTokPortal
from tokportal_async.sandbox import Sandbox

from ._timing import summarize

ACCOUNTS = 300
CONCURRENCY = 10


async def _timed(seed: int, run: Callable[[AsyncTokPortal, list[str]], Awaitable[Any]]) -> float:
    async with Sandbox(
        accounts=ACCOUNTS, fault_rate=0.1, fault_kinds=("stall",), fault_seed=seed, stall_seconds=2
    ) as sandbox:
        ids = [a["id"] for a in sandbox.state.accounts]
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, max_retries=5, rate_limiter=False
        ) as tp:
            started = time.perf_counter()
            await run(tp, ids)
            return time.perf_counter() - started


async def _get_many(tp: AsyncTokPortal, ids: list[str]) -> None:
    await tp.accounts.get_many(ids, concurrency=CONCURRENCY, return_exceptions=True)


def _walk(method: str, *, ordered: bool) -> Callable[[AsyncTokPortal, list[str]], Awaitable[Any]]:
    async def run(tp: AsyncTokPortal, ids: list[str]) -> None:
        options: dict[str, Any] = {"concurrency": CONCURRENCY, "ordered": ordered}
        walk = (
            tp.accounts.iter_details(**options)
            if method == "iter_details"
            else tp.accounts.iter_open_slots(ids, **options)
        )
        async for _item in walk:
            pass

    return run


ROWS: dict[str, Callable[[AsyncTokPortal, list[str]], Awaitable[Any]]] = {
    "get_many": _get_many,
    "iter_details": _walk("iter_details", ordered=True),
    "iter_details ordered=False": _walk("iter_details", ordered=False),
    "iter_open_slots": _walk("iter_open_slots", ordered=True),
    "iter_open_slots ordered=False": _walk("iter_open_slots", ordered=False),
}


async def main(rounds: int) -> None:
    samples: dict[str, list[float]] = {name: [] for name in ROWS}
    for round_number in range(rounds):
        for name, run in ROWS.items():
            samples[name].append(await _timed(100 + round_number, run))
    print(f"\n{ACCOUNTS} accounts, 10% of requests stalling 2 s, concurrency {CONCURRENCY}, "
          f"{rounds} interleaved rounds")  # fmt: skip
    print(f"{'':<32} {'median':>9} {'min-max':>15} {'vs get_many':>12}")
    for name, median, ratio in summarize(samples, "get_many"):
        spread = f"{min(samples[name]):.1f}-{max(samples[name]):.1f}s"
        print(f"{name:<32} {median:>8.2f}s {spread:>15} {ratio:>11.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    anyio.run(main, parser.parse_args().rounds)
