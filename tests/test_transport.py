"""Transport failures, bad bodies over the wire, and the retry policy, on real sockets."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from tokportal_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncTokPortal,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from tokportal_async.testing import fast_retries

from .scripted import DROP, REQUEST_ID, Reply, refused_base_url, scripted_server, silent_server

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
