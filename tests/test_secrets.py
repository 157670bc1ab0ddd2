"""The API key and passwords never reach a repr, a str, an exception or a log line."""

from __future__ import annotations

import asyncio
import logging
import traceback

import anyio
import pytest

from tokportal_async import (
    APIConnectionError,
    AsyncTokPortal,
    AuthenticationError,
    NotFoundError,
    TokPortal,
)
from tokportal_async.sandbox import Sandbox
from tokportal_async.testing import fast_retries

from .conftest import client_for
from .hostile import ACCOUNT_ID, BROKEN_HTTP, KEY, assert_no_key
from .scripted import Reply, raw_server, scripted_server

pytestmark = pytest.mark.anyio


async def test_client_repr_hides_key(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as tp:
        assert sandbox.api_key not in repr(tp)
        assert sandbox.api_key not in str(tp)
        assert sandbox.api_key not in repr(tp._transport)
        assert sandbox.api_key not in repr(tp.accounts.__dict__)


async def test_revealed_credentials_and_codes_hide_in_reprs(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    record = sandbox.state.accounts[0]
    sandbox.state.acknowledge(record["id"])
    sent = sandbox.state.trigger_verification_code(record["id"], delay=0)
    code = await tp.accounts.verification_code(record["id"])
    credentials = await tp.accounts.reveal_credentials(record["id"])
    secrets = [
        record["credentials"]["password"],
        record["credentials"]["social_credentials"]["password"],
        sent,
    ]
    assert credentials.social_credentials is not None
    shown = [repr(credentials), str(credentials), str(code), repr(code)]
    shown.append(repr(credentials.social_credentials))
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "password='***'" in repr(credentials)
    # ...while the values themselves stay plain strings users can log in with.
    assert credentials.password == secrets[0]
    assert code.verification_code == sent


async def test_seed_detail_repr_hides_passwords_and_codes() -> None:
    async with Sandbox(accounts=2, profile="seed") as sandbox, client_for(sandbox) as tp:
        record = sandbox.state.accounts[0]
        sent = sandbox.state.trigger_verification_code(record["id"], delay=0)
        await tp.accounts.verification_code(record["id"])
        detail = await tp.accounts.get(record["id"])
    assert detail.credentials is not None
    assert detail.last_verification_code == sent
    for secret in (record["credentials"]["password"], sent):
        assert secret not in repr(detail)
        assert secret not in str(detail)


async def test_no_secret_in_logs_at_any_level(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record = sandbox.state.accounts[0]
    sandbox.state.trigger_verification_code(record["id"], delay=0)
    async with client_for(sandbox) as tp:
        await tp.accounts.get(record["id"])
        version = sandbox.state.policy_version
        code = await tp.accounts.verification_code(record["id"], accept_policy=version)
        await tp.accounts.reveal_credentials(record["id"])
        assert code.verification_code
        with pytest.raises(NotFoundError):
            await tp.accounts.get("missing")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert sandbox.api_key not in logged
    assert record["credentials"]["password"] not in logged


async def test_errors_and_tracebacks_never_show_the_key(sandbox: Sandbox) -> None:
    key = "tok_live_" + "f" * 32
    async with AsyncTokPortal(key, base_url=sandbox.base_url) as tp:
        with pytest.raises(AuthenticationError) as caught:
            await tp.accounts.get("x")
    text = "".join(traceback.format_exception(caught.value))
    assert key not in text
    assert key not in repr(caught.value)


async def test_no_secret_in_logs_through_retries_and_rate_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Sandbox(accounts=20, fault_rate=0.5, fault_seed=3, rate_limit=1000) as sandbox:
        record = sandbox.state.accounts[0]
        sent = sandbox.state.trigger_verification_code(record["id"], delay=0)
        tp = client_for(sandbox, timeout=1)
        fast_retries(tp, max_retries=10)
        sandbox.state.acknowledge(record["id"])
        async with tp:
            await tp.accounts.get(record["id"])
            async for _bundle in tp.accounts.iter_bundles(record["id"], per_page=1):
                pass
            sandbox.state.faults.rate = 0  # a fault on a POST would not be retried
            await tp.accounts.verification_code(record["id"])
            assert (await tp.accounts.reveal_credentials(record["id"])).password
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Retrying GET" in logged  # the logs did speak...
    for secret in (
        sandbox.api_key,
        record["credentials"]["password"],
        record["credentials"]["social_credentials"]["password"],
        sent,
    ):
        assert secret not in logged  # ...and said nothing secret


# -- The key in a chained exception --------------------------------------------------------


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
