"""Servers that misbehave on purpose, and the promises the SDK keeps against them.

Each test names a defect found by trying the SDK against broken servers; it failed before
the fix. Hang guards (``fail_after``) only turn a hang into a failure: nothing here asserts
on how long a call took.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import sys
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from tokportal_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIVersionWarning,
    AsyncTokPortal,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimiter,
    RateLimitError,
    ServerError,
    TokPortal,
)
from tokportal_async._models import RateLimit
from tokportal_async._pagination import page_limit
from tokportal_async._rate_limit import NoTokenInTime
from tokportal_async._response import parse_retry_after
from tokportal_async.sandbox import Fault, Sandbox, serve_in_thread
from tokportal_async.testing import fast_retries

from .scripted import Reply, handler_server, raw_server, refused_base_url, scripted_server

pytestmark = pytest.mark.anyio

ACCOUNT_ID = "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"
DETAIL = {"data": {"id": ACCOUNT_ID, "platform": "tiktok", "created_at": "2026-01-10T08:00:00Z"}}
CODE = {"data": {"account_id": ACCOUNT_ID, "verification_code": "123456", "source": "email"}}
#: A guard against hangs, far above any honest run: hitting it is the failure.
HANG_GUARD = 30


# -- 7. A Retry-After date far in the future ------------------------------------------------

FAR_FUTURE = "Wed, 21 Oct 99999999999999999999 07:28:00 GMT"


def test_an_unrepresentable_retry_after_date_is_absent() -> None:
    assert parse_retry_after({"Retry-After": FAR_FUTURE}) is None
    assert parse_retry_after({"Retry-After": FAR_FUTURE}, {"retry_after_seconds": 2}) == 2.0


@pytest.mark.parametrize("call", ["get", "verification_code", "get_many"])
async def test_a_far_future_retry_after_never_crashes(call: str) -> None:
    limited = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"Retry-After": FAR_FUTURE},
    )
    answer = Reply(json=CODE if call == "verification_code" else DETAIL)
    async with (
        scripted_server(limited, answer) as server,
        fast_retries(AsyncTokPortal("sk_test", base_url=server.base_url)) as tp,
    ):
        result: Any
        if call == "get_many":
            result = await tp.accounts.get_many([ACCOUNT_ID], return_exceptions=True)
            assert [r.id for r in result] == [ACCOUNT_ID]
        else:
            result = await getattr(tp.accounts, call)(ACCOUNT_ID)
            assert result.account_id if call == "verification_code" else result.id
    assert len(server.received) == 2  # the 429 was retried as one without a Retry-After


async def test_a_far_future_retry_after_without_retries_is_a_rate_limit_error() -> None:
    limited = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"Retry-After": FAR_FUTURE},
    )
    async with (
        scripted_server(limited) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, max_retries=0) as tp,
    ):
        results = await tp.accounts.get_many([ACCOUNT_ID, "b"], return_exceptions=True)
    assert all(isinstance(r, RateLimitError) and r.retry_after is None for r in results)


# -- 8. Nonsense rate limits -----------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-5", "-0.5"])
async def test_a_nonsense_rate_limit_is_ignored(limit: str) -> None:
    headers = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"}
    async with (
        scripted_server(Reply(json=DETAIL, headers=headers)) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url, timeout=2) as tp,
    ):
        with anyio.fail_after(HANG_GUARD):  # paced to 1/minute, five calls would hang
            for _ in range(5):
                await tp.accounts.get(ACCOUNT_ID)
        assert tp.rate_limit is None
        assert tp.rate_limiter is not None
        assert tp.rate_limiter.limit == 120
    assert len(server.received) == 5


# -- 4. The key in a chained exception --------------------------------------------------------

KEY = "sk_" + "ab" * 32
BROKEN_HTTP = {
    "bad status line": b"HTTP/1.1 abc OK\r\n\r\n",
    "bad header line": b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_8.9\r\n",
    "header over 8 KB": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
    "bad chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
}


def reachable(error: BaseException) -> Iterator[BaseException]:
    """Every exception reachable from ``error``: causes, contexts, exceptions in args."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += [a for a in current.args if isinstance(a, BaseException)]


def assert_no_key(error: BaseException, key: str = KEY) -> None:
    for exc in reachable(error):
        state = vars(exc) if hasattr(exc, "__dict__") else {}
        for text in (repr(exc), str(exc), repr(exc.args), repr(state)):
            assert key not in text, (type(exc), text)
        assert key not in repr(getattr(exc, "__notes__", None))
    # Every frame's locals, as traceback's capture_locals shows them, but the test's own
    # (the test holds the key itself, in its server's script).
    pending = [traceback.TracebackException.from_exception(error, capture_locals=True)]
    while pending:
        report = pending.pop()
        for frame in report.stack:
            if "/tests/" not in frame.filename:
                assert key not in repr(frame.locals), frame.filename
        pending += [r for r in (report.__cause__, report.__context__) if r is not None]


@pytest.mark.parametrize("reply", BROKEN_HTTP.values(), ids=BROKEN_HTTP)
async def test_no_exception_reachable_from_an_error_holds_the_key(reply: bytes) -> None:
    async with raw_server(reply) as url, AsyncTokPortal(KEY, base_url=url, max_retries=0) as tp:
        with pytest.raises(APIConnectionError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert caught.value.__cause__ is not None  # still chained, to a scrubbed cause
    assert "could not be read as HTTP" in str(caught.value)
    assert_no_key(caught.value)


async def test_a_server_echoing_the_request_as_broken_http_never_shows_the_key() -> None:
    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(head)  # the request line and headers, key included, as the "answer"
            await writer.drain()
        finally:
            writer.close()  # whatever the client did: no socket is left to the collector

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/ext"
    try:
        async with AsyncTokPortal(KEY, base_url=url, max_retries=0) as tp:
            with pytest.raises(APIConnectionError) as caught:
                await tp.accounts.get(ACCOUNT_ID)
    finally:
        server.close()
        await server.wait_closed()
    assert_no_key(caught.value)


@pytest.mark.parametrize("reply", list(BROKEN_HTTP.values())[:2], ids=list(BROKEN_HTTP)[:2])
async def test_the_facade_shows_no_key_either(reply: bytes) -> None:
    async with raw_server(reply) as url:

        def call() -> BaseException:
            with TokPortal(KEY, base_url=url, max_retries=0) as tp:
                try:
                    tp.accounts.get(ACCOUNT_ID)
                except APIConnectionError as error:
                    return error
            raise AssertionError("no error")

        error = await anyio.to_thread.run_sync(call)
    assert_no_key(error)


async def test_a_key_echoed_in_an_error_message_is_masked() -> None:
    echoed = Reply(
        status=401,
        json={"error": {"code": "AUTH_INVALID_KEY", "message": f"Invalid API key {KEY}."}},
    )
    async with (
        scripted_server(echoed) as server,
        AsyncTokPortal(KEY, base_url=server.base_url) as tp,
    ):
        with pytest.raises(AuthenticationError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert caught.value.message == "Invalid API key ***."
    assert_no_key(caught.value)


# -- 10. A session with raise_for_status=True --------------------------------------------------


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


# -- 9. The retry deadline and the rate limiter ------------------------------------------------

SPENT = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
LIMITED = Reply(
    status=429,
    json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
    headers={**SPENT, "Retry-After": "0"},
)


async def test_no_retry_waits_for_a_token_past_the_deadline() -> None:
    # One token per 30 s: a retry's token cannot come within the 2 s deadline.
    async with (
        scripted_server(LIMITED) as server,
        AsyncTokPortal(
            KEY,
            base_url=server.base_url,
            retry_deadline=2,
            max_retries=5,
            rate_limiter=RateLimiter(limit=1, window=30),
        ) as tp,
    ):
        with anyio.fail_after(HANG_GUARD), pytest.raises(RateLimitError) as caught:
            await tp.accounts.get(ACCOUNT_ID)
    assert len(server.received) == 1  # failed fast: no retry, and no wait for one
    assert "gave up after 1 attempt" in str(caught.value)
    assert "deadline" in str(caught.value)


async def test_a_429_storm_fails_the_remaining_requests_fast() -> None:
    storm = Reply(
        status=429,
        json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
        headers={"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "Retry-After": "0"},
    )
    async with (
        scripted_server(storm) as server,
        AsyncTokPortal(
            KEY,
            base_url=server.base_url,
            retry_deadline=0.2,
            rate_limiter=RateLimiter(limit=50, window=1),
        ) as tp,
    ):
        ids = [f"id-{n}" for n in range(50)]
        with anyio.fail_after(HANG_GUARD):
            results = await tp.accounts.get_many(ids, concurrency=50, return_exceptions=True)
    assert len(results) == 50
    assert all(isinstance(r, RateLimitError) for r in results)
    # First attempts are paced; a retry whose token cannot come before its deadline is
    # not waited for. Without that, every id would have been sent three times (150).
    assert len(server.received) < 100
    assert sum("deadline" in str(r) for r in results) > 25


async def test_the_deadline_starts_at_the_first_send_not_in_the_queue() -> None:
    ok = Reply(json=DETAIL, headers=SPENT)
    failing = Reply(status=503, json={"error": {"code": "UPSTREAM"}}, headers=SPENT)
    async with (
        scripted_server(ok, failing, ok) as server,
        AsyncTokPortal(
            KEY, base_url=server.base_url, rate_limiter=RateLimiter(limit=1, window=0.5)
        ) as tp,
    ):
        # The second call queues ~0.5 s for its token, longer than half its deadline: the
        # clock must start when it is sent, or its retry (0.5 s later again) is lost.
        fast_retries(tp, max_retries=2, deadline=0.8)
        async with anyio.create_task_group() as tasks:
            # Tasks start in order, and a free token is taken without yielding: the first
            # call takes the only one.
            tasks.start_soon(tp.accounts.get, ACCOUNT_ID)
            tasks.start_soon(tp.accounts.get, ACCOUNT_ID)
    assert len(server.received) == 3


async def test_the_final_error_says_how_many_attempts_and_why_they_stopped() -> None:
    failing = Reply(status=503, json={"error": {"code": "UPSTREAM", "message": "Down."}})
    async with (
        scripted_server(failing) as server,
        fast_retries(AsyncTokPortal(KEY, base_url=server.base_url, rate_limiter=False)) as tp,
    ):
        with pytest.raises(ServerError) as spent:
            await tp.accounts.get(ACCOUNT_ID)
        fast_retries(tp, max_retries=5, deadline=0)
        with pytest.raises(ServerError) as late:
            await tp.accounts.get(ACCOUNT_ID)
    assert spent.value.message == "Down.; gave up after 3 attempts: retries spent (max_retries=2)"
    assert late.value.message == (
        "Down.; gave up after 1 attempt: retry deadline reached (retry_deadline=0s)"
    )
    async with AsyncTokPortal(KEY, base_url=refused_base_url(), max_retries=1) as tp:
        fast_retries(tp)
        with pytest.raises(APIConnectionError) as refused:
            await tp.accounts.get(ACCOUNT_ID)
    assert "gave up after 2 attempts: retries spent (max_retries=1)" in str(refused.value)
    assert not refused.value.request_sent


async def test_a_retry_that_cannot_get_a_token_in_time_fails_without_waiting() -> None:
    limiter = RateLimiter(limit=1, window=30)
    await limiter.acquire()
    limiter.release(status=429, rate_limit=RateLimit(limit=1, remaining=0, reset=None))
    step = limiter.acquire(give_up_at=anyio.current_time() + 2)
    with pytest.raises(NoTokenInTime):
        step.send(None)  # raised on its very first step: it never suspended to wait
    in_time = limiter.acquire(give_up_at=anyio.current_time() + 60)
    with anyio.move_on_after(0.01):  # a token due in time is waited for, not refused
        await in_time


# -- 1. Pagination that never advances ------------------------------------------------------


def account(n: int) -> dict[str, Any]:
    return {"id": f"acc-{n}", "platform": "tiktok", "created_at": "2026-01-10T08:00:00Z"}


def bundle(n: int) -> dict[str, Any]:
    return {"id": f"b-{n}", "status": "accepted", "created_at": "2026-01-10T08:00:00Z",
            "videos": {"pending": 1}}  # fmt: skip


def ignores_page(request: web.Request) -> dict[str, Any]:
    """Page 1 of 3, whatever page was asked for."""
    per_page = int(request.query.get("per_page", "25"))
    maker = bundle if request.path.endswith("/bundles") else account
    if "/accounts/" in request.path and not request.path.endswith("/bundles"):
        return {"data": {**account(0), "id": request.path.rsplit("/", 1)[1]}}
    return {
        "data": [maker(n) for n in range(per_page)],
        "pagination": {"page": 1, "per_page": per_page, "total": 3 * per_page, "total_pages": 3},
    }


async def drain(walk: AsyncGenerator[Any, None], into: list[Any] | None = None) -> None:
    """Walk to the end (or the error), closing the walk whatever happens."""
    async with aclosing(walk):
        async for item in walk:
            if into is not None:
                into.append(item)


def requested_pages(received: list[web.Request]) -> list[tuple[str, str]]:
    """Each list request as (path, page number)."""
    return [(r.path, r.query.get("page", "1")) for r in received if "per_page" in r.query]


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("iter", {}),
        ("iter", {"concurrency": 4}),
        ("iter_details", {"concurrency": 3}),
        ("iter_open_slots", {}),
        ("iter_bundles", {"account_id": "acc-0"}),
    ],
)
async def test_a_server_that_ignores_the_page_fails_the_walk(
    method: str, args: dict[str, Any]
) -> None:
    async with (
        handler_server(ignores_page) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        with anyio.fail_after(HANG_GUARD), pytest.raises(APIResponseValidationError) as caught:
            await drain(getattr(tp.accounts, method)(**args))
    assert "asked for page 2, got page 1 @ $.pagination.page" in caught.value.errors
    assert caught.value.request_id == "req_scripted_0001"
    pages = requested_pages(received)
    assert len(pages) == len(set(pages))  # no page of any list asked for twice
    assert len(pages) < 40  # bounded by the helpers' concurrency, not endless


@pytest.mark.parametrize(
    "pagination",
    [
        {"page": -5, "per_page": 25, "total": 10, "total_pages": -1},
        {"page": 1, "per_page": 0, "total": 10, "total_pages": 3},
        {"page": 1, "per_page": -25, "total": -10, "total_pages": 3},
    ],
)
async def test_pagination_that_is_not_positive_is_refused(pagination: dict[str, int]) -> None:
    body = {"data": [account(1)], "pagination": pagination}
    async with (
        handler_server(lambda _: body) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            async for _account in tp.accounts.iter():
                pass
    assert any("@ $.pagination." in line for line in caught.value.errors)
    assert len(received) == 1


async def test_a_list_that_never_ends_is_cut_at_the_growth_bound() -> None:
    def one_more_page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        return {
            "data": [account(number * 10 + n) for n in range(10)],
            "pagination": {"page": number, "per_page": 10, "total": 10 * (number + 1),
                           "total_pages": number + 1},
        }  # fmt: skip

    async with (
        handler_server(one_more_page) as (url, received),
        AsyncTokPortal(KEY, base_url=url) as tp,
    ):
        seen: list[Any] = []
        with anyio.fail_after(HANG_GUARD), pytest.raises(APIResponseValidationError):
            await drain(tp.accounts.iter(per_page=10, concurrency=3), into=seen)
    seen = [item.id for item in seen]
    assert len(seen) == len(set(seen))  # nothing repeated on the way
    pages = requested_pages(received)
    assert len(pages) == len(set(pages)) == page_limit(2)


def test_the_facade_and_the_cli_fail_the_walk_too() -> None:
    async def serve_and_walk() -> tuple[BaseException | None, int]:
        async with handler_server(ignores_page) as (url, received):

            def walk() -> BaseException | None:
                with TokPortal(KEY, base_url=url) as tp:
                    try:
                        list(tp.accounts.iter(concurrency=2))
                    except APIResponseValidationError as error:
                        return error
                return None

            error = await anyio.to_thread.run_sync(walk)
            cli = await anyio.run_process(
                [sys.executable, "-m", "tokportal_async", "--api-key", KEY, "--base-url", url,
                 "accounts", "list", "--all", "--format", "jsonl"],
                check=False,
            )  # fmt: skip
            assert cli.returncode == 1, cli.stderr
            assert b"asked for page 2, got page 1" in cli.stderr
            return error, len(requested_pages(received))

    error, requests = anyio.run(serve_and_walk)
    assert isinstance(error, APIResponseValidationError)
    assert requests <= 2 + 3


# -- 12. Control characters from the server ---------------------------------------------------

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


# -- 13. The sandbox's own robustness -----------------------------------------------------------


async def test_the_sandbox_refuses_a_deep_body_and_keeps_its_log_small() -> None:
    async with Sandbox(accounts=2) as sandbox, aiohttp.ClientSession() as session:
        account_id = sandbox.state.accounts[0]["id"]
        url = f"{sandbox.base_url}/accounts/{account_id}/verification-code"
        headers = {"X-API-Key": sandbox.api_key, "Content-Type": "application/json"}
        async with session.post(url, data=b"[" * 100_000, headers=headers) as deep:
            assert deep.status == 400
            assert (await deep.json())["error"]["code"] == "VALIDATION_ERROR"
        big = b'{"padding": "' + b"x" * 900_000 + b'"}'
        async with session.post(url, data=big, headers={"X-API-Key": "wrong"}) as refused:
            assert refused.status == 401
    assert all(len(r.body) <= 4096 for r in sandbox.state.requests)
    assert len(sandbox.state.requests) == 2


# -- get(id) returns that id ----------------------------------------------------------------------

OTHER = "00000000-0000-4000-8000-00000000beef"


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        ("get", {"data": {**DETAIL["data"], "id": OTHER}}),
        ("verification_code", {"data": {**CODE["data"], "account_id": OTHER}}),
        ("reveal_credentials", {"data": {"account_id": OTHER, "password": "p"}}),
    ],
)
async def test_an_answer_about_another_account_is_refused(call: str, answer: Any) -> None:
    async with (
        scripted_server(Reply(json=answer)) as server,
        AsyncTokPortal(KEY, base_url=server.base_url) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            await getattr(tp.accounts, call)(ACCOUNT_ID)
    assert caught.value.request_id == "req_scripted_0001"
    assert OTHER not in str(caught.value)  # someone else's id is not repeated


async def test_credentials_that_name_no_account_are_accepted() -> None:
    answer = {"data": {"tokmail_email": "a@tokmail.io", "password": "p"}}
    async with (
        scripted_server(Reply(json=answer)) as server,
        AsyncTokPortal(KEY, base_url=server.base_url) as tp,
    ):
        assert (await tp.accounts.reveal_credentials(ACCOUNT_ID)).password == "p"
