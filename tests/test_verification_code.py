"""Verification codes: the original page's flow, waiting for one, and the live API's policy flow.

The code's own flow (trigger, email, cache, waiting) is the seed profile's; the policy
around it is the live profile's (see also ``test_policy.py``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tokportal_async import (
    AsyncTokPortal,
    CodeSource,
    ConflictError,
    PolicyAcceptanceRequiredError,
    VerificationCode,
    VerificationCodeNotFoundError,
)
from tokportal_async.sandbox import Sandbox

from .conftest import client_for

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(accounts=250, profile="seed") as running:
        yield running


async def test_no_code_yet_raises_code_not_found(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    with pytest.raises(VerificationCodeNotFoundError) as caught:
        await tp.accounts.verification_code(sandbox.state.accounts[0]["id"])
    assert caught.value.code == "VERIFICATION_CODE_NOT_FOUND"
    assert caught.value.status == 404
    assert caught.value.request_id


async def test_code_comes_from_email_once_then_from_cache(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    account_id = sandbox.state.accounts[1]["id"]
    sent = sandbox.state.trigger_verification_code(account_id, delay=0)
    first = await tp.accounts.verification_code(account_id)
    assert isinstance(first, VerificationCode)
    assert (first.account_id, first.verification_code) == (account_id, sent)
    assert first.source is CodeSource.EMAIL
    second = await tp.accounts.verification_code(account_id)
    assert second.verification_code == sent
    assert second.source is CodeSource.CACHED
    detail = await tp.accounts.get(account_id)
    assert detail.last_verification_code == sent


async def test_code_post_sends_no_body_and_no_idempotency_key(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    account_id = sandbox.state.accounts[1]["id"]
    sandbox.state.trigger_verification_code(account_id, delay=0)
    await tp.accounts.verification_code(account_id)
    request = sandbox.state.last_request("/verification-code")
    assert request.method == "POST"
    assert request.body == b""
    assert "Idempotency-Key" not in request.headers


async def test_code_triggered_over_http_arrives_while_waiting(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    account_id = sandbox.state.accounts[2]["id"]
    async with AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as other:
        response = await other._request(
            "POST",
            f"/_sandbox/accounts/{account_id}/verification-code/trigger",
            params={"delay_seconds": "0.2"},
        )
    assert response.status == 200
    code = await tp.accounts.wait_for_verification_code(account_id, timeout=30, interval=0.05)
    assert code.source == "email"
    assert code.verification_code is not None
    assert len(code.verification_code) == 6
    assert code.verification_code.isdigit()
    polls = [r for r in sandbox.state.requests if r.path.endswith("/verification-code")]
    assert len(polls) >= 2  # it did wait: the first poll found nothing


async def test_wait_gives_up_naming_account_and_wait(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[3]["id"]
    with pytest.raises(VerificationCodeNotFoundError) as caught:
        await tp.accounts.wait_for_verification_code(account_id, timeout=0.2, interval=0.05)
    message = str(caught.value)
    assert account_id in message
    assert "waiting" in message
    assert "timeout 0.2s" in message
    assert caught.value.request_id
    assert caught.value.status == 404


async def test_wait_with_zero_timeout_asks_exactly_once(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    with pytest.raises(VerificationCodeNotFoundError):
        await tp.accounts.wait_for_verification_code(sandbox.state.accounts[0]["id"], timeout=0)
    assert len(sandbox.state.requests) == 1


async def test_wait_raises_other_errors_at_once(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    from tokportal_async import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        await tp.accounts.wait_for_verification_code(sandbox.state.foreign_account_ids[0])
    assert len(sandbox.state.requests) == 1


@pytest.fixture
async def policy_sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(accounts=5) as sandbox:  # the live profile: the policy is on
        yield sandbox


async def test_policy_flow_needs_explicit_acceptance(policy_sandbox: Sandbox) -> None:
    state = policy_sandbox.state
    account_id = state.accounts[0]["id"]
    sent = state.trigger_verification_code(account_id, delay=0)
    async with client_for(policy_sandbox) as tp:
        with pytest.raises(PolicyAcceptanceRequiredError) as caught:
            await tp.accounts.verification_code(account_id)
        error = caught.value
        assert error.status == 428
        assert error.policy_version == state.policy_version
        expected = state.policy_terms(account_id)["expected_credit_cost"]
        assert error.terms.expected_credit_cost == expected
        assert state.credits_charged == 0  # the SDK never accepted on its own

        code = await tp.accounts.verification_code(account_id, accept_policy=error.policy_version)
    assert code.verification_code == sent
    assert state.credits_charged == expected
    body = json.loads(state.last_request("/verification-code").body)
    assert body == {"acknowledge_support_forfeit": True, "policy_version": state.policy_version}
    assert "Idempotency-Key" not in state.last_request("/verification-code").headers


async def test_changed_terms_are_a_conflict_carrying_the_new_terms(
    policy_sandbox: Sandbox,
) -> None:
    state = policy_sandbox.state
    account_id = state.accounts[0]["id"]
    state.trigger_verification_code(account_id, delay=0)
    async with client_for(policy_sandbox) as tp:
        with pytest.raises(PolicyAcceptanceRequiredError) as caught:
            await tp.accounts.verification_code(account_id)
        state.policy_version = "2027-01-01"  # the terms change before the user accepts
        with pytest.raises(ConflictError) as conflict:
            await tp.accounts.verification_code(
                account_id, accept_policy=caught.value.policy_version
            )
    assert conflict.value.code == "CREDENTIAL_REVEAL_QUOTE_CHANGED"
    assert conflict.value.details["policy_version"] == "2027-01-01"
    assert state.credits_charged == 0
    posts = [r for r in state.requests if r.path.endswith("/verification-code")]
    assert len(posts) == 2  # never retried automatically


async def test_policy_error_is_not_waited_out(policy_sandbox: Sandbox) -> None:
    async with client_for(policy_sandbox) as tp:
        with pytest.raises(PolicyAcceptanceRequiredError):
            await tp.accounts.wait_for_verification_code(policy_sandbox.state.accounts[0]["id"])
    assert len(policy_sandbox.state.requests) == 1
