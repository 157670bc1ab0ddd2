"""A keep-alive HTTP server that answers from memory, in its own process: a fast floor.

The sandbox spends hundreds of microseconds on each request (routing, its state, JSON),
which hides what the client costs: both the SDK and raw aiohttp wait for it, so their
ratio shrinks toward 1. This server answers every ``GET /api/ext/accounts/<id>`` with one
pre-rendered account detail (about 650 bytes) and every ``GET /api/ext/accounts?...`` with
one pre-rendered page of 100 accounts, with the headers TokPortal sends (request id, API
version, ``X-RateLimit-*`` with a budget that never runs out), in tens of microseconds.

Run as ``python -m benchmarks._fixed_server``: it prints its base URL, then serves until
its standard input closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ACCOUNT_ID = "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"


def _account(n: int, account_id: str | None = None) -> dict[str, Any]:
    name = f"dailycreator{n:03d}"
    return {
        "id": account_id or f"9f3a7b2e-1c4d-4e8f-a5b6-{n:012d}",
        "platform": "tiktok",
        "username": name,
        "visible_name": "Daily Creator",
        "biography": "Recipes in 60 seconds",
        "profile_picture_url": f"https://pub.r2.dev/profile-pictures/pfp-{n:04d}.jpg",
        "country": "FR",
        "link_in_bio": f"https://linktr.ee/{name}",
        "profile_url": f"https://www.tiktok.com/@{name}",
        "tokmail_email": f"{name}@tokmail.io",
        "created_at": "2026-03-01T14:18:00Z",
        "updated_at": "2026-03-12T19:47:00Z",
        "banned": False,
    }


DETAIL = json.dumps(
    {
        "data": {
            **_account(0, ACCOUNT_ID),
            "credentials": None,
            "last_verification_code": None,
            "current_cm_id": "cm_48d2a1",
        }
    }
).encode()
PAGE = json.dumps(
    {
        "data": [_account(n) for n in range(100)],
        "pagination": {"page": 1, "per_page": 100, "total": 100, "total_pages": 1},
    }
).encode()


def _answer(body: bytes) -> bytes:
    reset = int(time.time()) + 60
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-TokPortal-Request-ID: req_0123456789abcdef01234567\r\n"
        "X-TokPortal-API-Version: 2026-05-25\r\nX-RateLimit-Limit: 1000000\r\n"
        f"X-RateLimit-Remaining: 999999\r\nX-RateLimit-Reset: {reset}\r\n\r\n"
    )
    return head.encode() + body


class _Answering(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.detail, self.page = _answer(DETAIL), _answer(PAGE)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:  # GETs only: a request is its head
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            target = head.split(b" ", 2)[1]
            assert self.transport is not None
            self.transport.write(self.page if b"?" in target else self.detail)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Answering, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/api/ext", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it
    server.close()


@contextmanager
def fixed_server() -> Iterator[str]:
    """The server in a child process; yields its base URL."""
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._fixed_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


if __name__ == "__main__":
    asyncio.run(_serve())
