"""Per request, side by side: a sequential ``get`` of one account, sandbox in another process.

- ``raw aiohttp + json.loads``: the floor: one session, the same headers, no models;
- ``tokportal_async``: ``await tp.accounts.get(id)``;
- ``TokPortal (facade)``: the blocking client;
- ``httpx.AsyncClient``: another async HTTP client, ``response.json()``, no models;
- ``tokportal (official)``: TokPortal's own SDK from PyPI (urllib, a connection per call).

With ``--tls`` the sandbox serves HTTPS with a certificate from a local CA (``trustme``),
and every client trusts that CA; the rows are the SDK, the floor and the official SDK.

Run: python -m benchmarks.requests [--tls] [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
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
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if args.tls:
        with local_authority() as (options, context, ca_file):
            os.environ["SSL_CERT_FILE"] = ca_file  # urllib's default context, for tokportal
            with sandbox_process("--accounts", "50", *options) as (base_url, key):
                samples = measure(base_url, key, args.rounds, args.requests, context)
        title = "Per request over TLS (HTTPS on loopback, a local CA)"
    else:
        with sandbox_process("--accounts", "50") as (base_url, key):
            samples = measure(base_url, key, args.rounds, args.requests, None)
        title = "Per request (plain HTTP on loopback, no added latency)"
    print_table(title, summarize(samples, FLOOR), FLOOR)


def measure(
    base_url: str, key: str, rounds: int, requests: int, tls: ssl.SSLContext | None
) -> dict[str, list[float]]:
    loop = asyncio.new_event_loop()
    headers = {"X-API-Key": key, "Accept": "application/json"}
    connector: Callable[[], aiohttp.TCPConnector] = lambda: aiohttp.TCPConnector(  # noqa: E731
        ssl=tls if tls is not None else True
    )

    async def open_clients() -> tuple[aiohttp.ClientSession, AsyncTokPortal, Any]:
        raw = aiohttp.ClientSession(connector=connector())
        sdk_session = aiohttp.ClientSession(connector=connector()) if tls else None
        sdk = AsyncTokPortal(key, base_url=base_url, session=sdk_session)
        other = httpx.AsyncClient(headers=headers, verify=tls if tls is not None else True)
        return raw, sdk, other

    raw, sdk, other = loop.run_until_complete(open_clients())
    account_id = loop.run_until_complete(sdk.accounts.list(per_page=1)).data[0].id
    url = f"{base_url}/accounts/{account_id}"

    async def floor_once() -> None:
        async with raw.get(url, headers=headers) as response:
            json.loads(await response.read())

    async def sdk_once() -> None:
        await sdk.accounts.get(account_id)

    async def httpx_once() -> None:
        (await other.get(url)).json()

    def async_round(once: Callable[[], Awaitable[None]]) -> Callable[[], float]:
        async def run() -> float:
            start = time.perf_counter()
            for _ in range(requests):
                await once()
            return (time.perf_counter() - start) / requests

        return lambda: loop.run_until_complete(run())

    def sync_round(once: Callable[[], object]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for _ in range(requests):
                once()
            return (time.perf_counter() - start) / requests

        return run

    official = tokportal.TokPortal(key, base_url=base_url)
    rows: dict[str, Callable[[], float]] = {
        FLOOR: async_round(floor_once),
        "tokportal_async": async_round(sdk_once),
    }
    facade = None
    if tls is None:
        facade = TokPortal(key, base_url=base_url)
        rows["TokPortal (facade)"] = sync_round(lambda: facade.accounts.get(account_id))
        rows["httpx.AsyncClient"] = async_round(httpx_once)
    rows["tokportal (official)"] = sync_round(lambda: official.accounts.get(account_id))
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for round_number in range(rounds + 1):
        for name, run in rows.items():
            seconds = run()
            if round_number:  # the first round warms connections up
                samples[name].append(seconds)
    if facade is not None:
        facade.close()

    async def close_clients() -> None:
        await raw.close()
        await sdk.aclose()
        await other.aclose()
        if tls is not None and sdk._transport._session is not None:
            await sdk._transport._session.close()

    loop.run_until_complete(close_clients())
    loop.close()
    return samples


if __name__ == "__main__":
    main()
