"""Transport failures, bad bodies over the wire, and the retry policy, on real sockets."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest

from tokportal_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncTokPortal,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from tokportal_async.sandbox import Fault, Sandbox, serve_in_thread
from tokportal_async.testing import fast_retries

from .hostile import ACCOUNT_ID, DETAIL, HANG_GUARD, KEY, assert_no_key
from .scripted import (
    DROP,
    REQUEST_ID,
    Reply,
    raw_server,
    refused_base_url,
    scripted_server,
    silent_server,
)

pytestmark = pytest.mark.anyio

ACCOUNT = {
    "account_id": "acc-1",
    "verification_code": "123456",
    "source": "email",
}
PAGE = {"data": [], "pagination": {"page": 1, "per_page": 25, "total": 0, "total_pages": 0}}
NOT_FOUND = {"error": {"code": "SAVED_ACCOUNT_NOT_FOUND", "message": "no"}}
RATE_LIMITED = {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}}


def client(base_url: str, *, max_retries: int = 2, timeout: float = 10) -> AsyncTokPortal:
    tp = AsyncTokPortal("k", base_url=base_url, max_retries=max_retries, timeout=timeout)
    return fast_retries(tp)  # the policy's shape, not its real-world pauses


async def test_get_is_retried_on_503_until_it_succeeds() -> None:
    async with (
        scripted_server(Reply(503), Reply(502), Reply(json=PAGE)) as server,
        client(server.base_url) as tp,
    ):
        page = await tp.accounts.list()
    assert page.pagination.total == 0
    assert len(server.received) == 3


async def test_get_gives_up_after_max_retries_with_typed_error() -> None:
    async with (
        scripted_server(Reply(500, json={"error": {"code": "X", "message": "m"}})) as srv,
        client(srv.base_url, max_retries=2) as tp,
    ):
        with pytest.raises(ServerError) as caught:
            await tp.accounts.list()
    assert len(srv.received) == 3
    assert caught.value.status == 500
    assert caught.value.request_id == REQUEST_ID


async def test_get_is_not_retried_on_404() -> None:
    async with (
        scripted_server(Reply(404, json=NOT_FOUND)) as server,
        client(server.base_url) as tp,
    ):
        with pytest.raises(NotFoundError):
            await tp.accounts.get("x")
    assert len(server.received) == 1


async def test_max_retries_zero_sends_once() -> None:
    async with (
        scripted_server(Reply(503)) as server,
        client(server.base_url, max_retries=0) as tp,
    ):
        with pytest.raises(ServerError):
            await tp.accounts.list()
    assert len(server.received) == 1


async def test_verification_code_post_is_never_retried_on_5xx() -> None:
    async with (
        scripted_server(Reply(503), Reply(json={"data": ACCOUNT})) as server,
        client(server.base_url) as tp,
    ):
        with pytest.raises(ServerError):
            await tp.accounts.verification_code("acc-1")
    assert server.received == [("POST", "/api/ext/accounts/acc-1/verification-code")]


async def test_verification_code_post_is_retried_after_429() -> None:
    limited = Reply(429, json=RATE_LIMITED, headers={"Retry-After": "0"})
    async with (
        scripted_server(limited, Reply(json={"data": ACCOUNT})) as server,
        client(server.base_url) as tp,
    ):
        code = await tp.accounts.verification_code("acc-1")
    assert code.verification_code == "123456"
    assert len(server.received) == 2


async def test_long_retry_after_is_raised_not_waited() -> None:
    limited = Reply(429, json=RATE_LIMITED, headers={"Retry-After": "3600"})
    async with scripted_server(limited) as server, client(server.base_url) as tp:
        with pytest.raises(RateLimitError) as caught:
            await tp.accounts.list()
    assert caught.value.retry_after == 3600
    assert len(server.received) == 1


async def test_dropped_connection_on_get_is_retried() -> None:
    async with (
        scripted_server(DROP, DROP, Reply(json=PAGE)) as server,
        client(server.base_url, max_retries=3) as tp,
    ):
        page = await tp.accounts.list()
    assert len(page) == 0
    assert len(server.received) == 3


async def test_dropped_connection_on_post_is_not_retried_and_says_why() -> None:
    async with (
        scripted_server(DROP, Reply(json={"data": ACCOUNT})) as server,
        client(server.base_url) as tp,
    ):
        with pytest.raises(APIConnectionError) as caught:
            await tp.accounts.verification_code("acc-1")
    assert len(server.received) == 1
    assert "may have reached TokPortal" in str(caught.value)
    assert "check the account's state" in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_refused_connection_is_a_connection_error_after_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with client(refused_base_url(), max_retries=2) as tp:
        with pytest.raises(APIConnectionError) as caught:
            await tp.accounts.list()
    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.method == "GET"
    assert caught.value.path == "/accounts"
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying GET /accounts")]
    assert len(retries) == 2


async def test_refused_connection_on_post_is_retried_since_nothing_was_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with client(refused_base_url(), max_retries=1) as tp:
        with pytest.raises(APIConnectionError):
            await tp.accounts.verification_code("acc-1")
    assert any(r.getMessage().startswith("Retrying POST") for r in caplog.records)


async def test_server_that_never_answers_times_out() -> None:
    async with silent_server() as base_url, client(base_url, max_retries=0, timeout=0.3) as tp:
        with pytest.raises(APITimeoutError) as caught:
            await tp.accounts.list()
    assert "in time" in str(caught.value)


async def test_stalled_body_read_times_out() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    async with (
        silent_server(partial=head + b'{"data": [') as base_url,
        client(base_url, max_retries=0, timeout=0.3) as tp,
    ):
        with pytest.raises(APITimeoutError):
            await tp.accounts.list()


async def test_html_502_from_a_proxy_is_a_server_error() -> None:
    html = Reply(502, body="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html")
    async with scripted_server(html) as server, client(server.base_url, max_retries=0) as tp:
        with pytest.raises(ServerError) as caught:
            await tp.accounts.list()
    assert caught.value.status == 502
    assert caught.value.request_id == REQUEST_ID
    assert "text/html" in caught.value.message


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body="not json at all", content_type="text/plain"),
        Reply(200, body='{"data": [{"id": "x"', content_type="application/json"),
        Reply(200, body="", content_type="application/json"),
        Reply(200, json={"pagination": PAGE["pagination"]}),
        Reply(200, json={"data": []}),
        Reply(200, json={"data": [{"id": 5}], "pagination": PAGE["pagination"]}),
    ],
    ids=["non-json", "truncated", "empty", "no-data", "no-pagination", "wrong-type"],
)
async def test_bad_200_bodies_over_the_wire_are_typed(reply: Reply) -> None:
    async with scripted_server(reply) as server, client(server.base_url, max_retries=0) as tp:
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.list()
    assert caught.value.status == 200
    assert caught.value.request_id == REQUEST_ID


async def test_redirect_is_not_followed_so_the_key_stays_home() -> None:
    async with scripted_server(Reply(json=PAGE)) as elsewhere:
        redirect = Reply(302, body="", headers={"Location": elsewhere.base_url + "/accounts"})
        async with scripted_server(redirect) as server, client(server.base_url) as tp:
            with pytest.raises(Exception, match="redirect") as caught:
                await tp.accounts.list()
    assert elsewhere.received == []
    assert getattr(caught.value, "status", None) == 302


# -- A session with raise_for_status=True --------------------------------------------------


async def test_a_raise_for_status_session_still_gets_typed_errors() -> None:
    async with (
        Sandbox(accounts=3) as sandbox,
        aiohttp.ClientSession(raise_for_status=True) as session,
        fast_retries(
            AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url, session=session)
        ) as tp,
    ):
        with pytest.raises(NotFoundError) as missing:
            await tp.accounts.get("missing")
        with pytest.raises(BadRequestError):
            await tp.request("GET", "/accounts", params={"per_page": 500})
        assert len(sandbox.state.requests) == 2  # neither 4xx was retried
        assert missing.value.request_id
        assert_no_key(missing.value, sandbox.api_key)
        sandbox.state.faults.rate = 1.0
        sandbox.state.faults.kinds = (Fault("500"),)
        with pytest.raises(ServerError):
            await tp.accounts.get(sandbox.state.accounts[0]["id"])
        assert len(sandbox.state.requests) == 2 + 3  # the 500 was retried twice


# -- Bounded bodies ----------------------------------------------------------------------------

LIMIT = 1024 * 1024


async def test_an_announced_huge_body_is_refused_unread() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    async with (
        raw_server(head, then_close=False) as url,
        AsyncTokPortal(KEY, base_url=url, max_response_bytes=LIMIT) as tp,
    ):
        with anyio.fail_after(HANG_GUARD), pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert caught.value.status == 200
    assert "max_response_bytes" in str(caught.value)


async def test_an_endless_body_is_cut_at_the_limit() -> None:
    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"[" + b" " * 65_534 + b"\r\n"
        while not writer.is_closing():
            writer.write(b"%x\r\n" % (len(chunk) - 2) + chunk)
            await writer.drain()

    async with (
        raw_server(endless) as url,
        AsyncTokPortal(KEY, base_url=url, max_response_bytes=LIMIT, timeout=HANG_GUARD) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert "max_response_bytes" in str(caught.value)
    assert caught.value.errors == (f"body larger than {LIMIT} bytes",)


async def test_a_gzip_bomb_is_cut_at_the_decompressed_limit() -> None:
    bomb = gzip.compress(b"0" * (64 * LIMIT), compresslevel=9)  # 64 MiB in about 64 KiB
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(bomb)
    )
    async with (
        raw_server(head + bomb) as url,
        AsyncTokPortal(KEY, base_url=url, max_response_bytes=LIMIT) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert "max_response_bytes" in str(caught.value)


async def test_a_body_within_the_limit_is_read_whole() -> None:
    async with (
        scripted_server(Reply(json=DETAIL)) as server,
        AsyncTokPortal(KEY, base_url=server.base_url, max_response_bytes=200) as tp,
    ):
        assert (await tp.accounts.get(ACCOUNT_ID)).id == ACCOUNT_ID


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_max_response_bytes_is_checked(value: Any) -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        AsyncTokPortal(KEY, max_response_bytes=value)


# -- aiohttp's silent re-send ---------------------------------------------------------------


@asynccontextmanager
async def closes_kept_alive_connections() -> AsyncIterator[tuple[str, list[int]]]:
    """Answers the first request of each connection, keeps it alive, then drops the next."""
    received: list[int] = []
    body = json.dumps(DETAIL).encode()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            received.append(1)
            writer.write(answer)
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # the next request on the kept connection
            received.append(2)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()  # ...dropped without an answer

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/ext", received
    finally:
        server.close()
        await server.wait_closed()


async def test_aiohttp_never_resends_a_request_behind_the_sdks_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "tokportal_async")
    async with closes_kept_alive_connections() as (url, received):
        async with AsyncTokPortal(KEY, base_url=url, max_retries=0) as tp:
            await tp.accounts.get(ACCOUNT_ID)
            with pytest.raises(APIConnectionError) as caught:
                await tp.accounts.get(ACCOUNT_ID)  # on the kept-alive connection: dropped
        assert received == [1, 2]  # aiohttp did not open a new connection to send it again
        assert caught.value.request_sent
        async with fast_retries(AsyncTokPortal(KEY, base_url=url, max_retries=1)) as tp:
            await tp.accounts.get(ACCOUNT_ID)
            await tp.accounts.get(ACCOUNT_ID)  # dropped, then retried by the SDK: logged
    assert received == [1, 2, 1, 2, 1]
    assert any("Retrying GET" in r.getMessage() for r in caplog.records)


# -- One client, a second event loop -----------------------------------------------------------


def test_a_second_event_loop_gets_a_clear_error() -> None:
    with serve_in_thread(accounts=2) as sandbox:
        tp = AsyncTokPortal(**sandbox.client_kwargs())
        first = sandbox.state.accounts[0]["id"]

        async def use() -> str:
            return (await tp.accounts.get(first)).id

        owner, other = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:
            assert owner.run_until_complete(use()) == first
            with pytest.raises(RuntimeError, match="another one"):
                other.run_until_complete(use())
            with pytest.raises(RuntimeError, match="another one"):
                other.run_until_complete(tp.aclose())
            assert owner.run_until_complete(use()) == first  # still whole on its own loop
            owner.run_until_complete(tp.aclose())
        finally:
            owner.close()
            other.close()
        assert tp.is_closed
        assert len(sandbox.state.requests) == 2
