"""Every method of ``tp.accounts`` against the sandbox, over real HTTP on loopback."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from tokportal_async import (
    Account,
    AccountDetail,
    AsyncTokPortal,
    AuthenticationError,
    BadRequestError,
    Bundle,
    BundleStatus,
    NotFoundError,
    Page,
    PermissionDeniedError,
    Platform,
)
from tokportal_async.sandbox import Sandbox

from .conftest import client_for

pytestmark = pytest.mark.anyio


async def test_list_returns_first_page_with_server_defaults(tp: AsyncTokPortal) -> None:
    page = await tp.accounts.list()
    assert isinstance(page, Page)
    assert len(page) == 25
    assert page.pagination.page == 1
    assert page.pagination.total == 250
    assert page.pagination.total_pages == 10
    assert all(isinstance(account, Account) for account in page)
    assert all(isinstance(a.created_at, datetime) and a.created_at.tzinfo for a in page)


async def test_list_sends_only_given_parameters(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    await tp.accounts.list()
    assert sandbox.state.last_request("/accounts").query == {}
    await tp.accounts.list(platform="tiktok", country="US", banned=False, page=2, per_page=10)
    assert sandbox.state.last_request("/accounts").query == {
        "platform": "tiktok",
        "country": "US",
        "banned": "false",
        "page": "2",
        "per_page": "10",
    }


async def test_list_filters(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    page = await tp.accounts.list(platform=Platform.INSTAGRAM, country="FR", per_page=100)
    expected = [
        a["id"]
        for a in sandbox.state.accounts
        if a["platform"] == "instagram" and a["country"] == "FR"
    ]
    assert [a.id for a in page] == expected
    assert expected, "the sandbox should have French Instagram accounts"
    banned = await tp.accounts.list(banned=True, per_page=100)
    assert [a.id for a in banned] == [a["id"] for a in sandbox.state.accounts if a["banned"]]


async def test_sandbox_rejects_an_unknown_platform_with_bad_request(tp: AsyncTokPortal) -> None:
    with pytest.raises(BadRequestError) as caught:
        await tp.accounts.list(platform="myspace")
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.status == 400
    assert caught.value.request_id
    assert caught.value.request_id.startswith("req_")


async def test_iter_walks_every_page_once(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    ids = [account.id async for account in tp.accounts.iter(per_page=30)]
    assert ids == [a["id"] for a in sandbox.state.accounts]
    pages = [r for r in sandbox.state.requests if r.path.endswith("/accounts")]
    assert [r.query["page"] for r in pages] == [str(n) for n in range(1, 10)]


async def test_pages_stop_on_short_last_page(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    sizes = [len(page) async for page in tp.accounts.pages()]
    assert sizes == [100, 100, 50]
    assert len([r for r in sandbox.state.requests if r.path.endswith("/accounts")]) == 3


async def test_iter_on_exact_multiple_stops_without_an_extra_request() -> None:
    async with Sandbox(accounts=200) as sandbox, client_for(sandbox) as tp:
        sizes = [len(page) async for page in tp.accounts.pages()]
        assert sizes == [100, 100]
        assert len(sandbox.state.requests) == 2


async def test_iter_with_filters_passes_them_on_every_page(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    found = [a.id async for a in tp.accounts.iter(platform="tiktok", per_page=20)]
    assert found == [a["id"] for a in sandbox.state.accounts if a["platform"] == "tiktok"]
    assert {r.query["platform"] for r in sandbox.state.requests} == {"tiktok"}


async def test_empty_list() -> None:
    async with Sandbox(accounts=0) as sandbox, client_for(sandbox) as tp:
        page = await tp.accounts.list()
        assert len(page) == 0
        assert list(page) == []
        assert page.pagination.total == 0
        assert page.pagination.total_pages == 0
        assert [a async for a in tp.accounts.iter()] == []
        assert len(sandbox.state.requests) == 2


async def test_iter_ends_when_accounts_are_removed_mid_walk(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    seen: list[str] = []
    async for page in tp.accounts.pages(per_page=100):
        seen.extend(a.id for a in page)
        if page.pagination.page == 1:
            sandbox.state.remove_accounts(120)  # total drops from 250 to 130 mid-walk
    assert len(seen) == 130  # page 1 (100), then page 2 of the shrunk list (30): done
    assert len(sandbox.state.requests) == 2


async def test_iter_ends_when_accounts_keep_arriving(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    sizes = []
    async for page in tp.accounts.pages(per_page=100):
        sizes.append(len(page))
        if len(sizes) <= 3:
            sandbox.state.add_accounts(100)  # total grows after each of the first pages
    assert sizes == [100, 100, 100, 100, 100, 50]  # 250 + 300 arrivals, each seen once
    assert len(sandbox.state.requests) == len(sizes)


async def test_get_on_the_live_api_returns_metadata_only(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    record = sandbox.state.accounts[7]
    detail = await tp.accounts.get(record["id"])
    assert isinstance(detail, AccountDetail)
    assert detail.id == record["id"]
    assert detail.username == record["username"]
    assert detail.current_cm_id == record["current_cm_id"]
    assert detail.banned is record["banned"]
    assert detail.credentials is None
    assert detail.last_verification_code is None
    assert "credentials" not in sandbox.state.requests[-1].path  # a GET, nothing revealed


async def test_get_on_the_seed_profile_returns_credentials() -> None:
    async with Sandbox(accounts=8, profile="seed") as sandbox, client_for(sandbox) as tp:
        record = sandbox.state.accounts[7]
        detail = await tp.accounts.get(record["id"])
    assert detail.credentials is not None
    assert detail.credentials.password == record["credentials"]["password"]
    social = detail.credentials.social_credentials
    assert social is not None
    assert social.password == record["credentials"]["social_credentials"]["password"]
    assert detail.last_verification_code is None


async def test_seed_profile_can_leave_credentials_out() -> None:
    async with (
        Sandbox(accounts=3, profile="seed", omit_credentials=True) as sandbox,
        client_for(sandbox) as tp,
    ):
        detail = await tp.accounts.get(sandbox.state.accounts[0]["id"])
        assert detail.credentials is None


async def test_get_unknown_account_is_not_found(tp: AsyncTokPortal) -> None:
    with pytest.raises(NotFoundError) as caught:
        await tp.accounts.get("00000000-0000-4000-8000-000000000000")
    assert caught.value.code == "SAVED_ACCOUNT_NOT_FOUND"
    assert caught.value.status == 404
    assert caught.value.request_id


async def test_get_someone_elses_account_is_permission_denied(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        await tp.accounts.get(sandbox.state.foreign_account_ids[0])
    assert caught.value.code == "SAVED_ACCOUNT_NOT_OWNED"
    assert caught.value.status == 403


async def test_bundles_page_with_status_filter(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[0]["id"]
    everything = await tp.accounts.bundles(account_id, per_page=100)
    assert all(isinstance(b, Bundle) for b in everything)
    assert len(everything) == len(sandbox.state.bundles(account_id))
    status = everything[0].status
    filtered = await tp.accounts.bundles(account_id, status=status)
    assert filtered.pagination.total == sum(1 for b in everything if b.status == status)
    assert all(b.status == status for b in filtered)
    assert sandbox.state.last_request("/bundles").query == {"status": str(status)}


async def test_bundle_slots_add_up(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    for record in sandbox.state.accounts[:20]:
        async for bundle in tp.accounts.iter_bundles(record["id"]):
            v = bundle.videos
            assert v is not None
            assert v.total is not None
            assert v.pending is not None
            assert v.configured is not None
            assert v.published is not None
            assert v.accepted is not None
            assert v.finalized is not None
            assert v.total == v.pending + v.configured + v.published + v.accepted + v.finalized
            assert v.total == bundle.videos_quantity


async def test_iter_bundles_walks_several_pages(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    account = next(a for a in sandbox.state.accounts if len(sandbox.state.bundles(a["id"])) >= 5)
    bundle_ids = [b.id async for b in tp.accounts.iter_bundles(account["id"], per_page=2)]
    assert bundle_ids == [b["id"] for b in sandbox.state.bundles(account["id"])]
    requests = [r for r in sandbox.state.requests if r.path.endswith("/bundles")]
    assert len(requests) == math.ceil(len(bundle_ids) / 2)  # the last page is known as last


async def test_iter_bundles_with_status(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[3]["id"]
    got = [b async for b in tp.accounts.iter_bundles(account_id, status=BundleStatus.ACCEPTED)]
    expected = [b["id"] for b in sandbox.state.bundles(account_id) if b["status"] == "accepted"]
    assert [b.id for b in got] == expected


async def test_bundles_of_unknown_account_is_not_found(tp: AsyncTokPortal) -> None:
    with pytest.raises(NotFoundError):
        await tp.accounts.bundles("no-such-account")


async def test_invalid_key_is_authentication_error(sandbox: Sandbox) -> None:
    async with AsyncTokPortal("tok_live_wrong", base_url=sandbox.base_url) as tp:
        with pytest.raises(AuthenticationError) as caught:
            await tp.accounts.list()
    assert caught.value.code == "AUTH_INVALID_KEY"
    assert caught.value.status == 401
    assert "tok_live_wrong" not in str(caught.value)


async def test_revoked_key_is_authentication_error(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    sandbox.state.revoked_keys.add(sandbox.api_key)
    with pytest.raises(AuthenticationError) as caught:
        await tp.accounts.get(sandbox.state.accounts[0]["id"])
    assert caught.value.code == "AUTH_REVOKED_KEY"
