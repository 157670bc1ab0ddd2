"""The live API since the original Accounts page: reveal, the policy, credits, bans,
``tp.request``, and the version headers; both clients where a user reaches them.

Policy tests count the POSTs the sandbox received: one per accepted call, never a resend.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tokportal_async import (
    AccountBan,
    APIConnectionError,
    APIResponse,
    APITimeoutError,
    APIVersionWarning,
    AsyncTokPortal,
    BanResolution,
    BanResolutionKind,
    BanStatus,
    Credentials,
    InsufficientCreditsError,
    NotFoundError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    ServerError,
    VerificationCodeNotFoundError,
)
from tokportal_async.sandbox import RecordedRequest, Sandbox, serve_in_thread
from tokportal_async.testing import fast_retries

from .conftest import client_for
from .drivers import KINDS, Driver, make_driver
from .scripted import Reply, scripted_server


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=40) as running:
        yield running


def posts(sandbox: Sandbox, endpoint: str) -> list[RecordedRequest]:
    return [r for r in sandbox.state.requests if r.method == "POST" and r.path.endswith(endpoint)]


def charged_account(sandbox: Sandbox) -> str:
    """An account whose acknowledgment costs credits (delivered after the cutoff)."""
    state = sandbox.state
    return next(
        str(a["id"]) for a in state.accounts if state.policy_terms(a["id"])["expected_credit_cost"]
    )


# -- reveal_credentials ----------------------------------------------------------------------


def test_reveal_needs_acceptance_then_reveals_once_charged(
    client: Driver, sandbox: Sandbox
) -> None:
    state = sandbox.state
    account_id = charged_account(sandbox)
    record = state.find(account_id)[0]
    assert record is not None
    with pytest.raises(PolicyAcceptanceRequiredError) as caught:
        client.call("reveal_credentials", account_id)
    terms = caught.value.terms
    assert (caught.value.status, terms.policy_version) == (428, state.policy_version)
    assert terms.expected_credit_cost == 150
    assert "consequences" in terms.details
    assert state.credits_charged == 0  # never accepted on the caller's behalf

    credentials = client.call("reveal_credentials", account_id, accept_policy=terms.policy_version)
    assert isinstance(credentials, Credentials)
    assert credentials.password == record["credentials"]["password"]
    assert credentials.social_credentials is not None
    assert (
        credentials.social_credentials.email == record["credentials"]["social_credentials"]["email"]
    )
    assert state.credits_charged == 150

    again = client.call("reveal_credentials", account_id)  # acknowledged once, for good
    assert again == credentials
    assert state.credits_charged == 150
    sent = posts(sandbox, "/reveal-credentials")
    assert [json.loads(r.body) if r.body else None for r in sent] == [
        None,
        {"acknowledge_support_forfeit": True, "policy_version": terms.policy_version},
        None,
    ]
    assert all("Idempotency-Key" not in r.headers for r in sent)


def test_reveal_after_the_terms_changed_is_policy_changed(client: Driver, sandbox: Sandbox) -> None:
    account_id = charged_account(sandbox)
    with pytest.raises(PolicyAcceptanceRequiredError) as caught:
        client.call("reveal_credentials", account_id)
    sandbox.state.policy_version = "2027-02-02"
    with pytest.raises(PolicyChangedError) as changed:
        client.call("reveal_credentials", account_id, accept_policy=caught.value.policy_version)
    assert changed.value.status == 409
    assert changed.value.code == "CREDENTIAL_REVEAL_QUOTE_CHANGED"
    assert changed.value.terms.policy_version == "2027-02-02"
    assert sandbox.state.credits_charged == 0
    assert len(posts(sandbox, "/reveal-credentials")) == 2  # never retried on its own


def test_reveal_without_credits_is_insufficient_credits(client: Driver, sandbox: Sandbox) -> None:
    sandbox.state.credits = 40
    version = sandbox.state.policy_version
    with pytest.raises(InsufficientCreditsError) as caught:
        client.call("reveal_credentials", charged_account(sandbox), accept_policy=version)
    assert (caught.value.required, caught.value.available, caught.value.missing) == (150, 40, 110)
    assert caught.value.request_id
    assert sandbox.state.credits == 40
    assert len(posts(sandbox, "/reveal-credentials")) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_reveal_on_the_seed_profile_is_not_found(kind: str) -> None:
    with serve_in_thread(accounts=2, profile="seed") as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        try:
            with pytest.raises(NotFoundError):
                driver.call("reveal_credentials", sandbox.state.accounts[0]["id"])
        finally:
            driver.close()


def test_accept_policy_must_be_a_version(client: Driver, sandbox: Sandbox) -> None:
    for bad in ("", "  ", 3):
        with pytest.raises(ValueError, match="accept_policy"):
            client.call("reveal_credentials", sandbox.state.accounts[0]["id"], accept_policy=bad)
    with pytest.raises(ValueError, match="account_id"):
        client.call("reveal_credentials", "..")
    assert posts(sandbox, "/reveal-credentials") == []


@pytest.mark.anyio
@pytest.mark.parametrize("endpoint", ["reveal_credentials", "verification_code"])
async def test_sensitive_post_is_not_resent_after_a_5xx(endpoint: str) -> None:
    async with Sandbox(accounts=2, fault_rate=1.0, fault_kinds=("500",)) as sandbox:
        account_id = sandbox.state.accounts[0]["id"]
        async with client_for(sandbox, max_retries=5) as tp:
            with pytest.raises(ServerError) as caught:
                await getattr(tp.accounts, endpoint)(account_id, accept_policy="2026-11-01")
    assert "may have reached TokPortal" in str(caught.value)
    path = "/" + endpoint.replace("_", "-")
    assert len(posts(sandbox, path)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("endpoint", ["reveal_credentials", "verification_code"])
async def test_sensitive_post_is_not_resent_after_a_timeout(endpoint: str) -> None:
    async with Sandbox(
        accounts=2, fault_rate=1.0, fault_kinds=("stall",), stall_seconds=5
    ) as sandbox:
        account_id = sandbox.state.accounts[0]["id"]
        async with client_for(sandbox, max_retries=5, timeout=0.3) as tp:
            with pytest.raises(APITimeoutError) as caught:
                await getattr(tp.accounts, endpoint)(account_id, accept_policy="2026-11-01")
    assert "may have reached TokPortal" in str(caught.value)
    assert len(posts(sandbox, "/" + endpoint.replace("_", "-"))) == 1


# -- verification codes on the live API ----------------------------------------------------


def test_waiting_sends_the_acceptance_with_the_first_poll_only(
    client: Driver, sandbox: Sandbox
) -> None:
    state = sandbox.state
    account_id = charged_account(sandbox)
    arrivals = iter([False, False, True])

    def deliver_on_third_poll(request: RecordedRequest) -> None:
        if request.path.endswith("/verification-code") and next(arrivals):
            state.trigger_verification_code(account_id, delay=0, code="424242")

    state.request_hooks.append(deliver_on_third_poll)
    code = client.call(
        "wait_for_verification_code",
        account_id,
        timeout=30,
        interval=0.01,
        accept_policy=state.policy_version,
    )
    assert code.verification_code == "424242"
    assert [bool(r.body) for r in posts(sandbox, "/verification-code")] == [True, False, False]
    assert state.credits_charged == 150  # one acceptance, one charge


def test_a_428_on_a_later_poll_is_raised_not_accepted_again(
    client: Driver, sandbox: Sandbox
) -> None:
    state = sandbox.state
    account_id = charged_account(sandbox)
    seen = []

    def forget_acknowledgment(request: RecordedRequest) -> None:
        seen.append(request)
        if len(seen) == 2:  # the terms were reset between polls
            state.acknowledged.discard(account_id)

    state.request_hooks.append(forget_acknowledgment)
    with pytest.raises(PolicyAcceptanceRequiredError):
        client.call(
            "wait_for_verification_code",
            account_id,
            timeout=30,
            interval=0.01,
            accept_policy=state.policy_version,
        )
    assert [bool(r.body) for r in posts(sandbox, "/verification-code")] == [True, False]


def test_an_acknowledged_account_needs_no_acceptance(client: Driver, sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[3]["id"]
    sandbox.state.acknowledge(account_id)
    with pytest.raises(VerificationCodeNotFoundError):
        client.call("verification_code", account_id)
    sandbox.state.trigger_verification_code(account_id, delay=0, code="135790")
    assert client.call("verification_code", account_id).verification_code == "135790"
    assert client.call("get", account_id).last_verification_code is None  # never in details
    assert sandbox.state.credits_charged == 0


# -- bans ------------------------------------------------------------------------------------


def test_accounts_carry_banned_and_bans_list_them(client: Driver, sandbox: Sandbox) -> None:
    state = sandbox.state
    banned = {a["id"] for a in state.accounts if a["banned"]}
    assert banned
    accounts = client.collect("iter", per_page=7)
    assert {a.id for a in accounts if a.banned} == banned
    assert all(a.banned is False for a in accounts if a.id not in banned)
    assert [a.id for a in client.collect("iter", banned=True)] == [
        a["id"] for a in state.accounts if a["banned"]
    ]

    bans = client.collect("account_bans.iter", per_page=2)
    assert all(isinstance(b, AccountBan) for b in bans)
    assert {b.account_id for b in bans} == banned
    assert len({b.id for b in bans}) == len(bans)
    by_id = {b["id"]: b for b in state.bans}
    for ban in bans:
        record = by_id[ban.id]
        assert ban.status == record["status"]
        assert isinstance(ban.status, BanStatus)
        assert isinstance(ban.resolution, BanResolution)
        assert ban.resolution.resolution == record["resolution"]["resolution"]
        assert isinstance(ban.resolution.resolution, BanResolutionKind)
        assert ban.updated_at is not None
        assert ban.updated_at.tzinfo is not None
        assert ban.screenshot_url is None
    pages = client.collect("account_bans.pages", per_page=2)
    assert sum(len(p) for p in pages) == len(bans)


def test_ban_filters_go_on_the_query(client: Driver, sandbox: Sandbox) -> None:
    state = sandbox.state
    account_id = state.accounts[0]["id"]
    ban = state.ban_account(
        account_id,
        status="appeal_pending",
        updated_at="2026-12-01T10:00:00Z",
        resolution={"resolution": "pending", "reason_code": None, "refund_credits": None,
                    "resolved_at": None},
    )  # fmt: skip
    since = datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    page = client.call(
        "account_bans.list",
        status="appeal_pending",
        resolution="pending",
        account_id=account_id,
        since=since,
        include_screenshots=True,
        per_page=10,
    )
    assert [b.id for b in page] == [ban["id"]]
    assert page[0].screenshot_url is not None
    assert state.last_request().query == {
        "status": "appeal_pending",
        "resolution": "pending",
        "account_id": account_id,
        "since": "2026-12-01T10:00:00Z",
        "include_screenshots": "true",
        "per_page": "10",
    }
    later = client.call("account_bans.list", since=since + timedelta(seconds=1))
    assert ban["id"] not in {b.id for b in later}
    assert client.call("get", account_id).banned is True


def test_bad_ban_filters_are_refused_before_any_request(client: Driver, sandbox: Sandbox) -> None:
    before = len(sandbox.state.requests)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.call("account_bans.list", since=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="datetime"):
        client.call("account_bans.list", since="2026-01-01")
    with pytest.raises(ValueError, match="status"):
        client.collect("account_bans.iter", status="")
    with pytest.raises(ValueError, match="include_screenshots"):
        client.call("account_bans.list", include_screenshots="yes")
    with pytest.raises(ValueError, match="per_page"):
        client.call("account_bans.list", per_page=101)
    assert len(sandbox.state.requests) == before


@pytest.mark.parametrize("kind", KINDS)
def test_bans_on_the_seed_profile_are_not_found(kind: str) -> None:
    with serve_in_thread(accounts=2, profile="seed") as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        try:
            with pytest.raises(NotFoundError):
                driver.call("account_bans.list")
        finally:
            driver.close()


# -- tp.request ------------------------------------------------------------------------------


def test_request_reaches_any_operation(client: Driver, sandbox: Sandbox) -> None:
    balance = client.call("tp.request", "GET", "/credits/balance")
    assert isinstance(balance, APIResponse)
    assert balance.status == 200
    assert balance.request_id is not None
    assert balance.request_id.startswith("req_")
    assert balance.json()["data"]["total_credits"] == sandbox.state.credits
    assert balance.headers["content-type"].startswith("application/json")
    listed = client.call("tp.request", "get", "accounts", params={"per_page": 2, "banned": False})
    assert len(listed.json()["data"]) == 2
    assert sandbox.state.last_request().query == {"per_page": "2", "banned": "false"}
    with pytest.raises(NotFoundError) as missing:
        client.call("tp.request", "GET", "/accounts/nope")
    assert missing.value.code == "SAVED_ACCOUNT_NOT_FOUND"
    assert missing.value.request_id


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/x",
        "http:/x",
        "//evil.example/x",
        "/accounts/../../admin",
        "/accounts/%2e%2e/x",
        "/accounts?page=2",
        "/accounts#frag",
        "/acc\\ounts",
        "/accounts\r\nX-Injected: 1",
        "",
    ],
)
def test_request_refuses_paths_that_leave_the_api(
    client: Driver, sandbox: Sandbox, path: str
) -> None:
    with pytest.raises(ValueError, match="path"):
        client.call("tp.request", "GET", path)
    assert list(sandbox.state.requests) == []


def test_request_refuses_bad_arguments(client: Driver, sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="method"):
        client.call("tp.request", "GET /x", "/accounts")
    with pytest.raises(ValueError, match="idempotent"):
        client.call("tp.request", "GET", "/accounts", idempotent="yes")
    with pytest.raises(ValueError, match="params"):
        client.call("tp.request", "GET", "/accounts", params=[("a", "b")])
    assert list(sandbox.state.requests) == []


async def _request_twice_failing(method: str, **options: Any) -> tuple[Any, int]:
    """``tp.request`` against a server that answers 503 once, then 200; and the count."""
    failing = Reply(status=503, json={"error": {"code": "UPSTREAM_UNAVAILABLE"}})
    ok = Reply(json={"data": {"ok": True}})
    async with (
        scripted_server(failing, ok) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url) as tp,
    ):
        fast_retries(tp, max_retries=2)
        try:
            outcome: Any = await tp.request(method, "/bundles/x", **options)
        except ServerError as error:
            outcome = error
    return outcome, len(server.received)


@pytest.mark.anyio
async def test_request_retries_reads_and_only_provably_unsent_writes() -> None:
    answer, sent = await _request_twice_failing("GET")
    assert (answer.json(), sent) == ({"data": {"ok": True}}, 2)
    error, sent = await _request_twice_failing("POST", json={"title": "x"})
    assert isinstance(error, ServerError)
    assert sent == 1  # a POST may have taken effect: never resent
    assert "may have reached TokPortal" in str(error)
    answer, sent = await _request_twice_failing("POST", idempotent=True)
    assert (answer.status, sent) == (200, 2)
    error, sent = await _request_twice_failing("GET", idempotent=False)
    assert (type(error), sent) == (ServerError, 1)


@pytest.mark.anyio
async def test_request_with_an_empty_body_reads_none() -> None:
    async with (
        scripted_server(Reply(status=204, body=b"")) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url) as tp,
    ):
        answer = await tp.request("DELETE", "/webhooks/1", idempotent=True)
    assert (answer.status, answer.json()) == (204, None)
    assert "request_id='req_scripted_0001'" in repr(answer)


@pytest.mark.anyio
async def test_request_on_a_closed_connection_is_a_connection_error() -> None:
    from .scripted import refused_base_url

    async with AsyncTokPortal("sk_test", base_url=refused_base_url(), max_retries=0) as tp:
        with pytest.raises(APIConnectionError):
            await tp.request("GET", "/credits/balance")


# -- headers ---------------------------------------------------------------------------------


def test_api_version_is_read_from_live_answers(sandbox: Sandbox) -> None:
    from tokportal_async import TokPortal

    with TokPortal(**sandbox.client_kwargs()) as tp:
        before = tp.api_version
        tp.accounts.list(per_page=1)
        assert (before, tp.api_version) == (None, "2026-05-25")
    with (
        serve_in_thread(accounts=1, profile="seed") as seed,
        TokPortal(**seed.client_kwargs()) as tp,
    ):
        tp.accounts.list()
        assert tp.api_version is None


@pytest.mark.anyio
async def test_another_api_version_is_warned_about_once() -> None:
    """Twice two calls from two clients, under Python's default filter: one warning."""
    headers = {"X-TokPortal-API-Version": "2027-01-15"}
    page = {"data": [], "pagination": {"page": 1, "per_page": 25, "total": 0, "total_pages": 0}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        async with scripted_server(Reply(json=page, headers=headers)) as server:
            for _ in range(2):
                async with AsyncTokPortal("sk_test", base_url=server.base_url) as tp:
                    await tp.accounts.list()
                    await tp.accounts.list()
                    assert tp.api_version == "2027-01-15"
    [warning] = [w for w in caught if issubclass(w.category, APIVersionWarning)]
    assert "2027-01-15" in str(warning.message)
    assert "2026-05-25" in str(warning.message)


def test_keys_look_like_each_profiles(sandbox: Sandbox) -> None:
    key = sandbox.api_key
    assert key.startswith("sk_")
    assert len(key) == 3 + 64
    assert int(key[3:], 16) >= 0
    with serve_in_thread(accounts=1, profile="seed") as seed:
        assert seed.api_key.startswith("tok_live_")
        assert len(seed.api_key) == len("tok_live_") + 32
