"""Where a detail request's time goes: the SDK's call and the floor's, under cProfile.

Both run against the in-memory server (``_fixed_server``), in this process, one after the
other: raw aiohttp + ``json.loads`` (the floor), then ``tp.accounts.get`` with the default
limiter. For each, the profiler's time per request is summed by where the code lives
(aiohttp, asyncio, the SDK, the JSON parsers, the rest), and the SDK's own functions are
listed by their own time. cProfile slows every Python call alike, so the absolute figures
are inflated; the shares are what to read.

Run: python -m benchmarks.profile_request [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
from collections.abc import Awaitable, Callable

import aiohttp

from tokportal_async import AsyncTokPortal

from ._fixed_server import ACCOUNT_ID, fixed_server

KEY = "sk_" + "0" * 64
GROUPS = ("tokportal_async", "aiohttp", "asyncio", "yarl", "multidict", "orjson", "json")


def _group(filename: str, function: str) -> str:
    where = f"{filename} {function}"
    for group in GROUPS:
        if f"/{group}/" in where or f"{group}." in where or f"<{group}" in where:
            return group
    if "fast structure" in filename:
        return "tokportal_async"
    return "other (socket, selectors, builtins)"


def _profile(
    call: Callable[[], Awaitable[object]], requests: int, loop: asyncio.AbstractEventLoop
) -> pstats.Stats:
    async def run() -> None:
        for _ in range(requests):
            await call()

    loop.run_until_complete(run())  # warm: connections, caches, the decoders
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(run())
    profiler.disable()
    return pstats.Stats(profiler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    with fixed_server() as base_url:

        async def open_clients() -> tuple[aiohttp.ClientSession, AsyncTokPortal]:
            return aiohttp.ClientSession(), AsyncTokPortal(KEY, base_url=base_url)

        session, tp = loop.run_until_complete(open_clients())
        url = f"{base_url}/accounts/{ACCOUNT_ID}"
        headers = {"X-API-Key": KEY, "Accept": "application/json"}

        async def floor() -> None:
            async with session.get(url, headers=headers) as response:
                json.loads(await response.read())

        async def sdk() -> None:
            await tp.accounts.get(ACCOUNT_ID)

        profiles = {"floor": _profile(floor, args.requests, loop)}
        profiles["sdk"] = _profile(sdk, args.requests, loop)

        async def close() -> None:
            await session.close()
            await tp.aclose()

        loop.run_until_complete(close())
    loop.close()
    print(f"per request, under cProfile, {args.requests} requests each (us of own time)")
    totals: dict[str, dict[str, float]] = {}
    for name, stats in profiles.items():
        for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
            group = _group(filename, function)
            by_group = totals.setdefault(group, {})
            by_group[name] = by_group.get(name, 0.0) + row[2] / args.requests * 1e6
    print(f"{'where':<38}{'floor':>10}{'sdk':>10}{'sdk - floor':>13}")
    for group, values in sorted(totals.items(), key=lambda kv: -kv[1].get("sdk", 0.0)):
        floor_us, sdk_us = values.get("floor", 0.0), values.get("sdk", 0.0)
        print(f"{group:<38}{floor_us:>10.1f}{sdk_us:>10.1f}{sdk_us - floor_us:>+13.1f}")
    print("\nthe SDK's own functions, by their own time per request (us)")
    own = [
        (row[2] / args.requests * 1e6, f"{filename.split('tokportal_async/')[-1]}:{function}")
        for (filename, _, function), row in profiles["sdk"].stats.items()  # type: ignore[attr-defined]
        if _group(filename, function) == "tokportal_async"
    ]
    for micros, where in sorted(own, reverse=True)[:20]:
        print(f"{micros:8.2f}  {where}")


if __name__ == "__main__":
    main()
