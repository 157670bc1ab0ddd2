"""Servers that misbehave on purpose, and the promises the SDK keeps against them.

Each test names a defect found by trying the SDK against broken servers; it failed before
the fix. Hang guards (``fail_after``) only turn a hang into a failure: nothing here asserts
on how long a call took.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tokportal_async import AsyncTokPortal, RateLimitError
from tokportal_async._response import parse_retry_after
from tokportal_async._retry import RetryPolicy

from .scripted import Reply, scripted_server

pytestmark = pytest.mark.anyio

ACCOUNT_ID = "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"
DETAIL = {"data": {"id": ACCOUNT_ID, "platform": "tiktok", "created_at": "2026-01-10T08:00:00Z"}}
CODE = {"data": {"account_id": ACCOUNT_ID, "verification_code": "123456", "source": "email"}}
#: A guard against hangs, far above any honest run: hitting it is the failure.
HANG_GUARD = 30


def fast_retries(tp: AsyncTokPortal, retries: int = 2) -> AsyncTokPortal:
    tp._retry_policy = RetryPolicy(max_retries=retries, base_delay=0.001, max_delay=0.01)
    return tp


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
