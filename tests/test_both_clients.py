"""Shared scenarios, run through AsyncTokPortal and the blocking TokPortal alike.

The same assertions on both clients keep the facade from drifting from the async API:
same results, same errors with the same attributes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tokportal_async import (
    Account,
    AccountDetail,
    AuthenticationError,
    BulkError,
    Bundle,
    CodeSource,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    VerificationCode,
    VerificationCodeNotFoundError,
)
from tokportal_async.sandbox import Sandbox, serve_in_thread

from .drivers import KINDS, Driver, make_driver


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=120) as running:
        yield running


def test_list(client: Driver, sandbox: Sandbox) -> None:
    page = client.call("list", platform="tiktok", per_page=10)
    assert isinstance(page, Page)
    assert all(isinstance(a, Account) and a.platform == "tiktok" for a in page)
    assert page.pagination.per_page == 10
    assert sandbox.state.last_request().query == {"platform": "tiktok", "per_page": "10"}


def test_iterate(client: Driver, sandbox: Sandbox) -> None:
    accounts = client.collect("iter", per_page=50)
    assert [a.id for a in accounts] == [a["id"] for a in sandbox.state.accounts]
    pages = client.collect("pages", per_page=50)
    assert [len(p) for p in pages] == [50, 50, 20]


def test_get(client: Driver, sandbox: Sandbox) -> None:
    record = sandbox.state.accounts[5]
    detail = client.call("get", record["id"])
    assert isinstance(detail, AccountDetail)
    assert detail.id == record["id"]
    assert detail.banned is record["banned"]
    assert detail.credentials is None  # the live API keeps them behind reveal_credentials


@pytest.mark.parametrize("kind", KINDS)
def test_get_on_the_seed_profile_includes_credentials(kind: str) -> None:
    with serve_in_thread(accounts=3, profile="seed") as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        try:
            record = sandbox.state.accounts[1]
            detail = driver.call("get", record["id"])
            assert detail.credentials is not None
            assert detail.credentials.password == record["credentials"]["password"]
            assert detail.banned is None  # the original page has no bans
        finally:
            driver.close()


def test_bundles(client: Driver, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[0]["id"]
    page = client.call("bundles", account_id, per_page=100)
    assert all(isinstance(b, Bundle) for b in page)
    every = client.collect("iter_bundles", account_id, per_page=1)
    assert [b.id for b in every] == [b.id for b in page]
    assert len(client.collect("bundle_pages", account_id, per_page=1)) == len(every)


def test_verification_code(client: Driver, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[1]["id"]
    sandbox.state.acknowledge(account_id)  # the owner accepted the policy earlier
    with pytest.raises(VerificationCodeNotFoundError):
        client.call("verification_code", account_id)
    sent = sandbox.state.trigger_verification_code(account_id, delay=0)
    code = client.call("wait_for_verification_code", account_id, timeout=5, interval=0.05)
    assert isinstance(code, VerificationCode)
    assert code.verification_code == sent
    assert code.source is CodeSource.EMAIL
    assert client.call("verification_code", account_id).source is CodeSource.CACHED


def test_errors_carry_the_same_attributes(client: Driver, sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.call("get", "nope")
    assert (missing.value.status, missing.value.code) == (404, "SAVED_ACCOUNT_NOT_FOUND")
    assert missing.value.request_id
    with pytest.raises(PermissionDeniedError) as foreign:
        client.call("get", sandbox.state.foreign_account_ids[0])
    assert foreign.value.code == "SAVED_ACCOUNT_NOT_OWNED"
    with pytest.raises(ValueError, match="per_page"):
        client.call("list", per_page=1000)
    with pytest.raises(ValueError, match="account_id"):
        client.collect("iter_bundles", "..")


@pytest.mark.parametrize("kind", KINDS)
def test_bad_key(kind: str, sandbox: Sandbox) -> None:
    driver = make_driver(kind, api_key="tok_live_nope", base_url=sandbox.base_url)
    try:
        with pytest.raises(AuthenticationError) as caught:
            driver.call("list")
        assert caught.value.code == "AUTH_INVALID_KEY"
    finally:
        driver.close()


@pytest.mark.parametrize("kind", KINDS)
def test_policy_flow(kind: str) -> None:
    with serve_in_thread(accounts=3) as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        try:
            account_id = sandbox.state.accounts[0]["id"]
            sandbox.state.trigger_verification_code(account_id, delay=0)
            with pytest.raises(PolicyAcceptanceRequiredError) as terms:
                driver.call("verification_code", account_id)
            version = terms.value.terms.policy_version
            sandbox.state.policy_version = "changed"
            with pytest.raises(PolicyChangedError) as changed:
                driver.call("verification_code", account_id, accept_policy=version)
            assert isinstance(changed.value, ConflictError)
            assert changed.value.terms.policy_version == "changed"
            code = driver.call("verification_code", account_id, accept_policy="changed")
            assert code.source == "email"
        finally:
            driver.close()


def test_bulk(client: Driver, sandbox: Sandbox) -> None:
    ids = [a["id"] for a in sandbox.state.accounts[:25]]
    details = client.call("get_many", ids, concurrency=5)
    assert [d.id for d in details] == ids
    with pytest.raises(BulkError) as caught:
        client.call("get_many", [*ids[:3], "missing"])
    assert list(caught.value.results) == ids[:3]
    assert isinstance(caught.value.errors["missing"], NotFoundError)
    assert caught.value.errors["missing"].account_id == "missing"
    mixed = client.call("get_many", [ids[0], "missing"], return_exceptions=True)
    assert isinstance(mixed[0], AccountDetail)
    assert isinstance(mixed[1], NotFoundError)
    every = [a["id"] for a in sandbox.state.accounts]
    assert [a.id for a in client.collect("iter", per_page=25, concurrency=3)] == every
    assert [d.id for d in client.collect("iter_details", concurrency=6)] == every
    found = client.collect("iter_open_slots", ids[:10], concurrency=3)
    assert all(f.bundle.open_slots > 0 and f.account_id in ids for f in found)
