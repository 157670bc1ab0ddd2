"""The API key and passwords never reach a repr, a str, an exception or a log line."""

from __future__ import annotations

import logging
import traceback

import pytest

from tokportal_async import AsyncTokPortal, AuthenticationError, NotFoundError
from tokportal_async.sandbox import Sandbox

from .conftest import client_for

pytestmark = pytest.mark.anyio


async def test_client_repr_hides_key(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as tp:
        assert sandbox.api_key not in repr(tp)
        assert sandbox.api_key not in str(tp)
        assert sandbox.api_key not in repr(tp._transport)
        assert sandbox.api_key not in repr(tp.accounts.__dict__)


async def test_detail_repr_hides_passwords_and_codes(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    record = sandbox.state.accounts[0]
    sent = sandbox.state.trigger_verification_code(record["id"], delay=0)
    code = await tp.accounts.verification_code(record["id"])
    detail = await tp.accounts.get(record["id"])
    secrets = [
        record["credentials"]["password"],
        record["credentials"]["social_credentials"]["password"],
        sent,
    ]
    assert detail.credentials is not None
    shown = [repr(detail), str(detail), repr(detail.credentials), str(code), repr(code)]
    shown.append(repr(detail.credentials.social_credentials))
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "password='***'" in repr(detail.credentials)
    # ...while the values themselves stay plain strings users can log in with.
    assert detail.credentials.password == secrets[0]
    assert code.verification_code == sent


async def test_no_secret_in_logs_at_any_level(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record = sandbox.state.accounts[0]
    sandbox.state.trigger_verification_code(record["id"], delay=0)
    async with client_for(sandbox) as tp:
        await tp.accounts.get(record["id"])
        await tp.accounts.verification_code(record["id"])
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
