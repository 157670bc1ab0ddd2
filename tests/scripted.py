"""Small real servers on loopback that misbehave on cue, for transport and retry tests.

``ScriptedServer`` answers each request with the next step of a script (a status with a
body, or a dropped connection); ``SilentServer`` accepts connections and never answers,
or answers only part of a body. Both are real sockets: nothing in aiohttp is mocked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
from aiohttp import web

REQUEST_ID = "req_scripted_0001"


@attrs.frozen
class Reply:
    status: int = 200
    body: bytes | str | None = None
    json: Any = None
    headers: dict[str, str] = attrs.Factory(dict)
    content_type: str = "application/json"


DROP = "drop"  # close the connection without answering


@attrs.define
class ScriptedServer:
    script: list[Reply | str]
    received: list[tuple[str, str]] = attrs.Factory(list)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.received.append((request.method, request.path_qs))
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if step == DROP:
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped on purpose")
        assert isinstance(step, Reply)
        if step.json is not None:
            response = web.json_response(step.json, status=step.status)
        else:
            response = web.Response(
                status=step.status, body=step.body, content_type=step.content_type
            )
        response.headers["X-TokPortal-Request-ID"] = REQUEST_ID
        response.headers.update(step.headers)
        return response


@asynccontextmanager
async def scripted_server(*script: Reply | str) -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer(list(script))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/api/ext"
    try:
        yield server
    finally:
        await runner.cleanup()


@asynccontextmanager
async def silent_server(
    partial: bytes = b"", on_request: Callable[[], None] | None = None
) -> AsyncIterator[str]:
    """A server that reads the request, writes ``partial`` (maybe nothing), then stalls.

    ``on_request`` runs once the request has been read, while the client waits.
    """

    async def stall(writer: asyncio.StreamWriter) -> None:
        if on_request is not None:
            on_request()
        if partial:
            writer.write(partial)
            await writer.drain()

    async with raw_server(stall, then_close=False) as base_url:
        yield base_url


def refused_base_url() -> str:
    """A loopback URL on a port that was free a moment ago: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/ext"


@asynccontextmanager
async def raw_server(
    reply: bytes | Callable[[asyncio.StreamWriter], Any], *, then_close: bool = True
) -> AsyncIterator[str]:
    """A server that reads each request head and answers with ``reply``, byte for byte.

    ``reply`` may be a coroutine function of the writer, to stream (an endless body).
    Not HTTP-aware beyond reading the head: it answers whatever the bytes say.
    """
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            if callable(reply):
                await reply(writer)
            else:
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        if then_close:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/ext"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def handler_server(
    handle: Callable[[web.Request], Any],
) -> AsyncIterator[tuple[str, list[web.Request]]]:
    """A server answering every request with ``handle(request)`` (a dict becomes JSON).

    Yields the base URL and the list of requests received, in order.
    """
    received: list[web.Request] = []

    async def dispatch(request: web.Request) -> web.StreamResponse:
        await request.read()
        received.append(request)
        answer = handle(request)
        if isinstance(answer, web.StreamResponse):
            return answer
        response = web.json_response(answer)
        response.headers["X-TokPortal-Request-ID"] = REQUEST_ID
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/ext", received
    finally:
        await runner.cleanup()
