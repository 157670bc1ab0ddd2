"""One side of ``benchmarks.compare``: one version of the SDK, measured on command.

Run as a script (``python benchmarks/_compare_worker.py BASE_URL ACCOUNT_ID``), not as a
module, so that ``PYTHONPATH`` decides which checkout of ``tokportal_async`` it imports.
It prints the file it imported, then for each line ``N`` on its standard input runs one
round, ``N`` sequential requests per row, and prints the seconds each row took, as JSON.
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


async def _raw(session: aiohttp.ClientSession, url: str, count: int) -> float:
    headers = {"X-API-Key": KEY, "Accept": "application/json"}
    started = time.perf_counter()
    for _ in range(count):
        async with session.get(url, headers=headers) as response:
            json.loads(await response.read())
    return time.perf_counter() - started


async def _round(
    base_url: str, account_id: str, count: int, state: dict[str, Any]
) -> dict[str, float]:
    session: aiohttp.ClientSession = state["session"]
    paced: AsyncTokPortal = state["paced"]
    unpaced: AsyncTokPortal = state["unpaced"]
    detail_url = f"{base_url}/accounts/{account_id}"
    page_url = f"{base_url}/accounts?per_page=100"
    times = {"floor detail": await _raw(session, detail_url, count)}
    started = time.perf_counter()
    for _ in range(count):
        await paced.accounts.get(account_id)
    times["get, default limiter"] = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(count):
        await unpaced.accounts.get(account_id)
    times["get, rate_limiter=False"] = time.perf_counter() - started
    times["floor page"] = await _raw(session, page_url, count)
    started = time.perf_counter()
    for _ in range(count):
        await paced.accounts.list(per_page=100)
    times["list(per_page=100)"] = time.perf_counter() - started
    return times


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
    facade = TokPortal(KEY, base_url=base_url)
    for line in sys.stdin:
        count = int(line)
        times = loop.run_until_complete(_round(base_url, account_id, count, state))
        started = time.perf_counter()
        for _ in range(count):
            facade.accounts.get(account_id)
        times["facade get"] = time.perf_counter() - started
        print(json.dumps(times), flush=True)
    facade.close()

    async def close_clients() -> None:
        await state["session"].close()
        await state["paced"].aclose()
        await state["unpaced"].aclose()

    loop.run_until_complete(close_clients())
    loop.close()


if __name__ == "__main__":
    main()
