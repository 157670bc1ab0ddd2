"""Peak memory: iterating 100,000 accounts vs collecting them into a list.

The sandbox runs in another process; this process measures its own allocations with
``tracemalloc`` (peak minus the level before the walk), so the server's memory and the
interpreter's baseline stay out of the figures.

Run: python -m benchmarks.memory [--accounts N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc

from tokportal_async import Account, AsyncTokPortal

from ._sandbox_process import sandbox_process

MIB = 1024 * 1024


async def iterate(tp: AsyncTokPortal) -> int:
    count = 0
    async for _account in tp.accounts.iter(per_page=100):
        count += 1
    return count


async def collect(tp: AsyncTokPortal) -> list[Account]:
    return [account async for account in tp.accounts.iter(per_page=100)]


async def measure(base_url: str, key: str, expected: int) -> None:
    async with AsyncTokPortal(key, base_url=base_url) as tp:
        await tp.accounts.list(per_page=100)  # the session, pool and caches exist before
        for name, walk in (("iterate", iterate), ("collect into a list", collect)):
            gc.collect()
            tracemalloc.start()
            before, _ = tracemalloc.get_traced_memory()
            result = await walk(tp)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            got = result if isinstance(result, int) else len(result)
            assert got == expected, got
            print(
                f"{name:<22} {expected:>7} accounts: peak growth {(peak - before) / MIB:8.2f} MiB"
            )
            del result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    with sandbox_process("--accounts", str(args.accounts)) as (base_url, key):
        asyncio.run(measure(base_url, key, args.accounts))


if __name__ == "__main__":
    main()
