"""Control characters from the server are shown escaped.

In the command line's output and errors, and in log lines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import anyio
import pytest
from aiohttp import web

from tokportal_async import (
    APIVersionWarning,
    AsyncTokPortal,
)
from tokportal_async.testing import fast_retries

from .hostile import ACCOUNT_ID, DETAIL, KEY, account
from .scripted import handler_server, raw_server

pytestmark = pytest.mark.anyio


# -- Control characters from the server ---------------------------------------------------

EVIL = "Gone\r\x1b[2J\x1b[31mPWNED\x0b\x0c\x7f\x9b"
RAW_CONTROLS = ("\r", "\x1b", "\x0b", "\x0c", "\x7f", "\x9b")


def test_the_cli_escapes_control_characters_from_the_server() -> None:
    def evil(request: web.Request) -> Any:
        if request.path.endswith("/accounts"):
            evil_account = {**account(1), "biography": EVIL, "username": EVIL}
            pagination = {"page": 1, "per_page": 25, "total": 1, "total_pages": 1}
            return {"data": [evil_account], "pagination": pagination}
        body = {"error": {"code": "SAVED_ACCOUNT_NOT_FOUND", "message": EVIL}}
        return web.json_response(body, status=404)

    async def run_cli() -> list[str]:
        async with handler_server(evil) as (url, _received):
            outputs = []
            for args in (
                ["accounts", "get", "x"],
                ["accounts", "list", "--format", "table"],
                ["accounts", "list", "--format", "json"],
                ["accounts", "list", "--format", "jsonl"],
            ):
                done = await anyio.run_process(
                    [sys.executable, "-m", "tokportal_async", "--api-key", KEY,
                     "--base-url", url, *args],
                    check=False,
                )  # fmt: skip
                outputs.append(done.stdout.decode() + done.stderr.decode())
            return outputs

    error, table, as_json, as_lines = anyio.run(run_cli)
    assert "PWNED" in error
    assert "\\x1b[31mPWNED" in error  # shown, escaped
    for shown in (error, table, as_json, as_lines):
        assert not any(char in shown for char in RAW_CONTROLS), repr(shown)
    assert json.loads(as_json)["data"][0]["biography"] == EVIL  # JSON stays lossless
    assert json.loads(as_lines)["username"] == EVIL


async def test_log_lines_escape_what_the_server_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "tokportal_async")
    body = json.dumps(DETAIL).encode()
    head = (
        b"Content-Type: application/json\r\nX-TokPortal-Request-ID: req\x1b[2J\r\n"
        b"X-TokPortal-API-Version: v\x1b[31m\r\nContent-Length: %d\r\n\r\n"
    )
    answers = iter(
        [
            b"HTTP/1.1 503 Busy\r\n" + head % 2 + b"{}",
            b"HTTP/1.1 200 OK\r\n" + head % len(body) + body,
        ]
    )

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(next(answers))
        await writer.drain()

    with pytest.warns(APIVersionWarning) as warned:
        async with (
            raw_server(reply) as url,
            fast_retries(AsyncTokPortal(KEY, base_url=url)) as tp,
        ):
            await tp.accounts.get(ACCOUNT_ID)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Retrying GET" in logged
    assert "request id req\\x1b[2J" in logged
    assert "\x1b" not in logged
    shown = "\n".join(str(w.message) for w in warned)
    assert "API version v\\x1b[31m" in shown
    assert "\x1b" not in shown
