"""One side of ``benchmarks.compare``: one version of the SDK, measured on command.

Run as a script (``python benchmarks/_compare_worker.py BASE_URL ACCOUNT_ID``), not as a
module, so that ``PYTHONPATH`` decides which checkout of ``tokportal_async`` it imports.
It prints the file it imported, then for each line ``N`` on its standard input runs one
round, ``N`` sequential requests per row (in slices, the rows taking turns), and prints
the seconds each row took, as JSON.
Rows: the floor (raw aiohttp + ``json.loads``) for a detail and for a 100-account page,
the SDK's detail with its default limiter and without one, its page, and the facade's
detail. Everything runs in this one process, as a user's program would.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

import tokportal_async
from tokportal_async import AsyncTokPortal, TokPortal

KEY = "sk_" + "0" * 64


#: Each row runs in this many slices per round, the slices of all rows taking turns: a
#: burst of noise on the shared machine then falls on every row alike, not on one.
SLICES = 10


def _rows(base_url: str, account_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Each row: an async function running ``n`` sequential requests (the facade's: sync)."""
    session: aiohttp.ClientSession = state["session"]
    paced: AsyncTokPortal = state["paced"]
    unpaced: AsyncTokPortal = state["unpaced"]
    facade: TokPortal = state["facade"]
    detail_url = f"{base_url}/accounts/{account_id}"
    page_url = f"{base_url}/accounts?per_page=100"
    headers = {"X-API-Key": KEY, "Accept": "application/json"}

    async def floor_detail(n: int) -> None:
        for _ in range(n):
            async with session.get(detail_url, headers=headers) as response:
                json.loads(await response.read())

    async def get_paced(n: int) -> None:
        for _ in range(n):
            await paced.accounts.get(account_id)

    async def get_unpaced(n: int) -> None:
        for _ in range(n):
            await unpaced.accounts.get(account_id)

    async def floor_page(n: int) -> None:
        for _ in range(n):
            async with session.get(page_url, headers=headers) as response:
                json.loads(await response.read())

    async def list_page(n: int) -> None:
        for _ in range(n):
            await paced.accounts.list(per_page=100)

    def facade_get(n: int) -> None:
        for _ in range(n):
            facade.accounts.get(account_id)

    return {
        "floor detail": floor_detail,
        "get, default limiter": get_paced,
        "get, rate_limiter=False": get_unpaced,
        "facade get": facade_get,
        "floor page": floor_page,
        "list(per_page=100)": list_page,
    }


def _round(loop: asyncio.AbstractEventLoop, rows: dict[str, Any], count: int) -> dict[str, float]:
    """Seconds each row took for ``count`` requests, its slices interleaved with the others'."""
    times = dict.fromkeys(rows, 0.0)
    per_slice = max(1, count // SLICES)
    for _ in range(SLICES):
        for name, row in rows.items():
            started = time.perf_counter()
            if asyncio.iscoroutinefunction(row):
                loop.run_until_complete(row(per_slice))
            else:
                row(per_slice)  # the facade: called from this thread, as a script does
            times[name] += time.perf_counter() - started
    return {name: seconds * count / (per_slice * SLICES) for name, seconds in times.items()}


def main() -> None:
    base_url, account_id = sys.argv[1], sys.argv[2]
    print(json.dumps({"package": tokportal_async.__file__}), flush=True)
    loop = asyncio.new_event_loop()

    async def open_clients() -> dict[str, Any]:
        return {
            "session": aiohttp.ClientSession(),
            "paced": AsyncTokPortal(KEY, base_url=base_url),
            "unpaced": AsyncTokPortal(KEY, base_url=base_url, rate_limiter=False),
        }

    state = loop.run_until_complete(open_clients())
    state["facade"] = TokPortal(KEY, base_url=base_url)
    rows = _rows(base_url, account_id, state)
    for line in sys.stdin:
        print(json.dumps(_round(loop, rows, int(line))), flush=True)
    state["facade"].close()

    async def close_clients() -> None:
        await state["session"].close()
        await state["paced"].aclose()
        await state["unpaced"].aclose()

    loop.run_until_complete(close_clients())
    loop.close()


if __name__ == "__main__":
    main()
