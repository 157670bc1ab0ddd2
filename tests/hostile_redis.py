"""A raw server on loopback that speaks just enough of Redis's protocol (RESP2) to answer
every script call with a reply of our choosing: what a broken proxy, a wrong server or a
bug would send. ``HELLO`` is refused as a Redis older than 6 refuses it (the client then
speaks RESP2), unless ``hello`` says otherwise; everything else is answered ``+OK``, as a
real server answers the client's connection set-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs


def _encode(value: object) -> bytes:
    if isinstance(value, list):
        return b"*%d\r\n" % len(value) + b"".join(_encode(item) for item in value)
    if isinstance(value, int):
        return b":%d\r\n" % value
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


async def _read_command(reader: asyncio.StreamReader) -> list[bytes]:
    header = await reader.readline()
    if not header:
        raise EOFError
    if not header.startswith(b"*"):
        return header.split()  # an inline command
    words = []
    for _ in range(int(header[1:])):
        length = int((await reader.readline())[1:])
        words.append((await reader.readexactly(length + 2))[:-2])
    return words


@attrs.define
class HostileRedis:
    """Answers EVALSHA/EVAL with ``reply`` (RESP-encoded as given); counts script calls."""

    reply: object
    #: What HELLO is answered with (raw RESP); ``+OK`` is what no Redis says.
    hello: bytes = b"-ERR unknown command 'HELLO'\r\n"
    script_calls: int = 0
    url: str = ""
    #: Every connection accepted, closed when the server stops, whatever its handler is
    #: doing then: a handler still waiting when the test's loop ends would leak its socket.
    writers: list[asyncio.StreamWriter] = attrs.Factory(list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while True:
                command = await _read_command(reader)
                name = command[0].upper() if command else b""
                if name == b"HELLO":
                    writer.write(self.hello)
                elif name in (b"EVALSHA", b"EVAL"):
                    self.script_calls += 1
                    writer.write(_encode(self.reply))
                else:
                    writer.write(b"+OK\r\n")
                await writer.drain()
        except (EOFError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def hostile_redis(reply: object, **options: Any) -> AsyncIterator[HostileRedis]:
    """A :class:`HostileRedis` listening on a free loopback port."""
    hostile = HostileRedis(reply, **options)
    server = await asyncio.start_server(hostile.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hostile.url = f"redis://127.0.0.1:{port}/0"
    try:
        yield hostile
    finally:
        server.close()
        for writer in hostile.writers:
            writer.close()
        await server.wait_closed()
