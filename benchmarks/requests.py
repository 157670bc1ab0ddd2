"""Per request, side by side, what a user pays: the SDK's whole call against the floor.

The floor is raw aiohttp + ``json.loads`` on the same server, in the same process, with
rounds interleaved. The server is ``_fixed_server``: it answers from memory in its own
process, with TokPortal's headers (``X-RateLimit-*`` included, so the default limiter does
its whole work), in tens of microseconds. Against the sandbox, which spends hundreds of
microseconds on each request and sends no rate-limit headers, the SDK's own cost was
diluted: this script said 1.13x while the whole path cost 1.34x.

Rows, each ``requests`` sequential calls a round:

- detail: the floor, ``await tp.accounts.get(id)`` with the default limiter and with
  ``rate_limiter=False``, the blocking facade, httpx, the official ``tokportal`` SDK;
- page: the floor, ``await tp.accounts.list(per_page=100)``.

Each row reports its median time per request, the median and p25-p75 of its per-round
ratios to its floor, and the client's CPU per request (the server runs elsewhere).

With ``--tls`` the sandbox serves HTTPS with a certificate from a local CA (``trustme``),
and the rows are the SDK, the floor and the official SDK.

Run: python -m benchmarks.requests [--tls] [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import tokportal
import trustme

from tokportal_async import AsyncTokPortal, TokPortal

from ._fixed_server import ACCOUNT_ID, fixed_server
from ._sandbox_process import sandbox_process
from ._timing import print_table, summarize

FLOOR = "raw aiohttp + json.loads"


@contextmanager
def local_authority() -> Iterator[tuple[list[str], ssl.SSLContext, str]]:
    """Sandbox TLS options, a client context trusting the CA, and the CA's PEM path."""
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1")
    with tempfile.TemporaryDirectory() as folder:
        cert, key, ca = (Path(folder) / n for n in ("cert.pem", "key.pem", "ca.pem"))
        server.private_key_and_cert_chain_pem.write_to_path(str(cert))
        server.private_key_pem.write_to_path(str(key))
        authority.cert_pem.write_to_path(str(ca))
        context = ssl.create_default_context()
        authority.configure_trust(context)
        yield ["--tls-cert", str(cert), "--tls-key", str(key)], context, str(ca)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if args.tls:
        with local_authority() as (options, context, ca_file):
            os.environ["SSL_CERT_FILE"] = ca_file  # urllib's default context, for tokportal
            with sandbox_process("--accounts", "50", *options) as (base_url, key):
                samples = measure_tls(base_url, key, args.rounds, args.requests, context)
        title = "Per request over TLS (HTTPS on loopback, a local CA, the sandbox)"
        print_table(title, summarize(samples, FLOOR), FLOOR)
        return
    with fixed_server() as base_url:
        times, cpu = measure(base_url, args.rounds, args.requests)
    print_spread("Per request: one account's detail (650 B), server answering from memory",
                 times, cpu, FLOOR, DETAIL_ROWS)  # fmt: skip
    print_spread("Per request: one page of 100 accounts", times, cpu, PAGE_FLOOR, PAGE_ROWS)


DETAIL_ROWS = [
    FLOOR,
    "tokportal_async get (default limiter)",
    "tokportal_async get (rate_limiter=False)",
    "TokPortal (facade) get",
    "httpx.AsyncClient + .json()",
    "tokportal (official)",
]
PAGE_FLOOR = "raw aiohttp + json.loads, page"
PAGE_ROWS = [PAGE_FLOOR, "tokportal_async list(per_page=100)"]


def print_spread(
    title: str,
    times: dict[str, list[float]],
    cpu: dict[str, list[float]],
    floor: str,
    rows: list[str],
) -> None:
    """Median per request, per-round ratios to ``floor`` (median, p25-p75), CPU per request."""
    print(f"\n{title}")
    print(f"{'':<42} {'median':>9} {'ratio':>7} {'p25-p75':>13} {'client CPU':>11}")
    for name in rows:
        ratios = sorted(t / f for t, f in zip(times[name], times[floor], strict=True))
        quartiles = statistics.quantiles(ratios, n=4)
        print(
            f"{name:<42} {statistics.median(times[name]) * 1e6:>7.0f}us "
            f"{statistics.median(ratios):>6.2f}x {quartiles[0]:>6.2f}-{quartiles[2]:.2f}x "
            f"{statistics.median(cpu[name]) * 1e6:>9.0f}us"
        )


def measure(
    base_url: str, rounds: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per request, per round, for every row."""
    key = "sk_" + "b" * 64
    loop = asyncio.new_event_loop()
    headers = {"X-API-Key": key, "Accept": "application/json"}

    async def open_clients() -> tuple[aiohttp.ClientSession, AsyncTokPortal, AsyncTokPortal, Any]:
        raw = aiohttp.ClientSession()
        sdk = AsyncTokPortal(key, base_url=base_url)
        unpaced = AsyncTokPortal(key, base_url=base_url, rate_limiter=False)
        other = httpx.AsyncClient(headers=headers)
        return raw, sdk, unpaced, other

    raw, sdk, unpaced, other = loop.run_until_complete(open_clients())
    detail_url = f"{base_url}/accounts/{ACCOUNT_ID}"
    page_url = f"{base_url}/accounts?per_page=100"

    async def floor_once() -> None:
        async with raw.get(detail_url, headers=headers) as response:
            json.loads(await response.read())

    async def floor_page_once() -> None:
        async with raw.get(page_url, headers=headers) as response:
            json.loads(await response.read())

    async def httpx_once() -> None:
        (await other.get(detail_url)).json()

    def async_round(once: Callable[[], Awaitable[object]]) -> Callable[[], tuple[float, float]]:
        async def run() -> tuple[float, float]:
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                await once()
            return (
                (time.perf_counter() - start) / requests,
                (time.process_time() - cpu) / requests,
            )

        return lambda: loop.run_until_complete(run())

    def sync_round(once: Callable[[], object]) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                once()
            return (
                (time.perf_counter() - start) / requests,
                (time.process_time() - cpu) / requests,
            )

        return run

    facade = TokPortal(key, base_url=base_url)
    official = tokportal.TokPortal(key, base_url=base_url)
    rows: dict[str, Callable[[], tuple[float, float]]] = {
        FLOOR: async_round(floor_once),
        DETAIL_ROWS[1]: async_round(lambda: sdk.accounts.get(ACCOUNT_ID)),
        DETAIL_ROWS[2]: async_round(lambda: unpaced.accounts.get(ACCOUNT_ID)),
        DETAIL_ROWS[3]: sync_round(lambda: facade.accounts.get(ACCOUNT_ID)),
        DETAIL_ROWS[4]: async_round(httpx_once),
        DETAIL_ROWS[5]: sync_round(lambda: official.accounts.get(ACCOUNT_ID)),
        PAGE_FLOOR: async_round(floor_page_once),
        PAGE_ROWS[1]: async_round(lambda: sdk.accounts.list(per_page=100)),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for round_number in range(rounds + 1):
        for name, run in rows.items():
            seconds, used = run()
            if round_number:  # the first round warms connections up
                times[name].append(seconds)
                cpu[name].append(used)
    facade.close()

    async def close_clients() -> None:
        await raw.close()
        await sdk.aclose()
        await unpaced.aclose()
        await other.aclose()

    loop.run_until_complete(close_clients())
    loop.close()
    return times, cpu


def measure_tls(
    base_url: str, key: str, rounds: int, requests: int, tls: ssl.SSLContext
) -> dict[str, list[float]]:
    """The SDK, the floor and the official SDK over HTTPS, against the sandbox."""
    loop = asyncio.new_event_loop()
    headers = {"X-API-Key": key, "Accept": "application/json"}

    async def open_clients() -> tuple[aiohttp.ClientSession, aiohttp.ClientSession]:
        return (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)),
        )

    raw, sdk_session = loop.run_until_complete(open_clients())
    sdk = AsyncTokPortal(key, base_url=base_url, session=sdk_session)
    account_id = loop.run_until_complete(sdk.accounts.list(per_page=1)).data[0].id
    url = f"{base_url}/accounts/{account_id}"

    async def floor_once() -> None:
        async with raw.get(url, headers=headers) as response:
            json.loads(await response.read())

    def timed(once: Callable[[], object], is_async: bool) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for _ in range(requests):
                if is_async:
                    loop.run_until_complete(once())  # type: ignore[arg-type]
                else:
                    once()
            return (time.perf_counter() - start) / requests

        return run

    official = tokportal.TokPortal(key, base_url=base_url)
    rows = {
        FLOOR: timed(floor_once, True),
        "tokportal_async": timed(lambda: sdk.accounts.get(account_id), True),
        "tokportal (official)": timed(lambda: official.accounts.get(account_id), False),
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for round_number in range(rounds + 1):
        for name, run in rows.items():
            seconds = run()
            if round_number:
                samples[name].append(seconds)

    async def close_clients() -> None:
        await raw.close()
        await sdk.aclose()
        await sdk_session.close()

    loop.run_until_complete(close_clients())
    loop.close()
    return samples


if __name__ == "__main__":
    main()
