"""The sandbox's own robustness against hostile requests."""

from __future__ import annotations

import aiohttp
import pytest

from tokportal_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


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
