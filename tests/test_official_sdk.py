"""TokPortal's own SDK (``tokportal`` from PyPI) reads the sandbox: it keeps the sandbox
honest to the real API's shape, and our models must read what it reads."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import pytest
from tokportal import TokPortal, TokPortalApiError

from tokportal_async import Account, AccountDetail, AsyncTokPortal, Bundle
from tokportal_async._converter import make_converter, structure
from tokportal_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

# Strict in tests: a field the sandbox sends that the models lack shows up as an error.
STRICT = make_converter(forbid_extra_keys=True)


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))


@pytest.mark.parametrize("profile", ["live", "seed"])
async def test_official_sdk_lists_and_reads_accounts(profile: Any) -> None:
    async with Sandbox(accounts=60, profile=profile) as sandbox:
        await _official_sdk_lists_and_reads_accounts(sandbox)


async def _official_sdk_lists_and_reads_accounts(sandbox: Sandbox) -> None:
    official = TokPortal(sandbox.api_key, base_url=sandbox.base_url)
    listing = await _call(official.accounts.list, platform="tiktok", per_page=10)
    assert set(listing) == {"data", "pagination"}
    assert len(listing["data"]) == 10
    first = listing["data"][0]
    assert first["platform"] == "tiktok"
    assert ("banned" in first) is sandbox.state.live
    detail = await _call(official.accounts.get, first["id"])
    assert ("credentials" in detail["data"]) is not sandbox.state.live
    bundles = await _call(official.accounts.bundles, first["id"], status="accepted")
    assert "pagination" in bundles

    # Every field the official SDK received fits our models exactly, no more, no less.
    for item in listing["data"]:
        structure(item, Account, converter=STRICT)
    structure(detail["data"], AccountDetail, converter=STRICT)
    for item in bundles["data"]:
        structure(item, Bundle, converter=STRICT)
    assert (
        sandbox.state.last_request().headers["X-TokPortal-Client"].startswith("tokportal-python/")
    )


async def test_official_sdk_and_ours_agree(sandbox: Sandbox) -> None:
    official = TokPortal(sandbox.api_key, base_url=sandbox.base_url)
    theirs = await _call(official.accounts.list, country="UK", per_page=50)
    async with AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp:
        ours = await tp.accounts.list(country="UK", per_page=50)
    assert [a.id for a in ours] == [a["id"] for a in theirs["data"]]
    assert ours.pagination.total == theirs["pagination"]["total"]


async def test_official_sdk_sees_the_documented_error_envelope(sandbox: Sandbox) -> None:
    official = TokPortal(sandbox.api_key, base_url=sandbox.base_url)
    account_id = sandbox.state.accounts[0]["id"]
    sandbox.state.acknowledge(account_id)
    with pytest.raises(TokPortalApiError) as caught:
        await _call(official.accounts.verification_code, account_id)
    assert caught.value.status == 404
    assert caught.value.code == "VERIFICATION_CODE_NOT_FOUND"
    assert caught.value.request_id
    assert caught.value.request_id.startswith("req_")


async def test_official_sdk_reads_the_policy_flow() -> None:
    async with Sandbox(accounts=2) as sandbox:  # the live profile
        official = TokPortal(sandbox.api_key, base_url=sandbox.base_url)
        account_id = sandbox.state.accounts[0]["id"]
        sandbox.state.trigger_verification_code(account_id, delay=0)
        with pytest.raises(TokPortalApiError) as caught:
            await _call(official.accounts.verification_code, account_id)
        assert caught.value.status == 428
        assert caught.value.details is not None
        version = caught.value.details["policy_version"]
        acceptance = {"acknowledge_support_forfeit": True, "policy_version": version}
        answer = await _call(official.accounts.verification_code, account_id, acceptance=acceptance)
        assert answer["data"]["source"] == "email"
