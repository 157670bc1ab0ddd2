"""Paid writes: charged at most once whatever the network does, and free to preview.

Each test counts what the sandbox received (requests, their ``Idempotency-Key`` and
``X-TokPortal-Dry-Run`` headers) and what it debited (its ledger), through both clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tokportal_async import (
    APIResponseValidationError,
    AsyncTokPortal,
    BadRequestError,
    ConflictError,
    Coverage,
    EditRequest,
    InsufficientCreditsError,
    PaidResult,
    PricingChangedError,
    ServerError,
    WarmingSession,
)
from tokportal_async.sandbox import Fault, RecordedRequest, Sandbox, serve_in_thread
from tokportal_async.testing import fast_retries

from .drivers import KINDS, Driver, make_driver
from .scripted import Reply, scripted_server
from .staging import managed_account

TERMS = ["fitness", "gym", "protein"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=12, credits=10_000) as running:
        yield running


@pytest.fixture(params=KINDS)
def client(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Driver]:
    # A short timeout: a stalled answer must turn into a retry within the test.
    driver = make_driver(request.param, **sandbox.client_kwargs(), timeout=1.0)
    fast_retries(driver.client)
    yield driver
    driver.close()


def lapse(sandbox: Sandbox, account_id: str, price: int = 40) -> None:
    sandbox.state.care.set_coverage(account_id, "lapsed", price=price)


def writes(sandbox: Sandbox, suffix: str) -> list[RecordedRequest]:
    return [r for r in sandbox.state.requests if r.method != "GET" and r.path.endswith(suffix)]


def debits(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [t for t in sandbox.state.care.transactions if t["amount"] < 0]


#: Each paid write: (its path's end, how to call it through a driver, what it costs, model).
PaidCall = Callable[[Driver, Sandbox, str, dict[str, Any]], Any]


def _reactivate(client: Driver, sandbox: Sandbox, account_id: str, kw: dict[str, Any]) -> Any:
    lapse(sandbox, account_id)
    quote = client.call("coverage", account_id).reactivation_quote
    return client.call("reactivate_coverage", account_id, quote, **kw)


def _edit(client: Driver, sandbox: Sandbox, account_id: str, kw: dict[str, Any]) -> Any:
    return client.call(
        "create_edit_request", account_id, username="new_name", visible_name="New Name", **kw
    )


def _rewarm(client: Driver, sandbox: Sandbox, account_id: str, kw: dict[str, Any]) -> Any:
    return client.call("rewarm", account_id, TERMS, **kw)


PAID: list[tuple[str, PaidCall, int, type]] = [
    ("managed-subscription/reactivate", _reactivate, 40, Coverage),
    ("edit-request", _edit, 8, EditRequest),
    ("rewarm", _rewarm, 15, WarmingSession),
]
PAID_IDS = [p[0].split("/")[-1] for p in PAID]


@pytest.mark.parametrize(("suffix", "call", "price", "model"), PAID, ids=PAID_IDS)
def test_a_paid_write_returns_its_data_and_its_charge(
    client: Driver, sandbox: Sandbox, suffix: str, call: PaidCall, price: int, model: type
) -> None:
    account_id = managed_account(sandbox)
    before = sandbox.state.credits
    done = call(client, sandbox, account_id, {})
    assert isinstance(done, PaidResult)
    assert isinstance(done.data, model)
    charge = done.charge
    assert (charge.credits_charged, charge.credits_remaining) == (price, before - price)
    assert (charge.dry_run, charge.replayed) == (False, False)
    (sent,) = writes(sandbox, suffix)
    assert sent.headers["Idempotency-Key"] == charge.idempotency_key
    assert "X-TokPortal-Dry-Run" not in sent.headers
    assert sandbox.state.credits == before - price
    assert [t["amount"] for t in debits(sandbox)] == [-price]


@pytest.mark.parametrize("fault", [Fault.HTTP_500, Fault.HTTP_503, Fault.DROP, Fault.STALL])
@pytest.mark.parametrize(("suffix", "call", "price", "model"), PAID, ids=PAID_IDS)
def test_an_answer_lost_after_the_server_acted_is_retried_with_the_same_key_and_charged_once(
    client: Driver,
    sandbox: Sandbox,
    suffix: str,
    call: PaidCall,
    price: int,
    model: type,
    fault: Fault,
) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.faults.stall_seconds = 3.0  # longer than the client's 1 s timeout
    before = sandbox.state.credits
    sandbox.state.care.after_effect_faults.append(fault)
    done = call(client, sandbox, account_id, {})
    first, second = writes(sandbox, suffix)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert done.charge.idempotency_key == first.headers["Idempotency-Key"]
    assert done.charge.replayed is True  # the first attempt's answer, replayed
    assert isinstance(done.data, model)
    assert sandbox.state.credits == before - price
    assert len(debits(sandbox)) == 1


@pytest.mark.parametrize(("suffix", "call", "price", "model"), PAID, ids=PAID_IDS)
def test_a_dry_run_sends_the_header_debits_nothing_and_prices_the_call(
    client: Driver, sandbox: Sandbox, suffix: str, call: PaidCall, price: int, model: type
) -> None:
    account_id = managed_account(sandbox)
    before = sandbox.state.credits
    preview = call(client, sandbox, account_id, {"dry_run": True})
    (sent,) = writes(sandbox, suffix)
    assert sent.headers["X-TokPortal-Dry-Run"] == "true"  # on the wire, not only asked for
    charge = preview.charge
    assert charge.dry_run is True
    assert (charge.credits_charged, charge.credits_would_charge) == (0, price)
    assert charge.cost_breakdown is not None
    assert charge.cost_breakdown["total"] == price
    assert sandbox.state.credits == before
    assert debits(sandbox) == []


@pytest.mark.anyio
async def test_a_dry_run_answered_as_a_real_call_is_an_error_not_a_preview() -> None:
    # A proxy that drops the header makes the server act for real: the caller must know.
    real = Reply(json={"data": {"id": "ws_1"}, "credits_charged": 15, "credits_remaining": 5})
    async with (
        scripted_server(real) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url) as tp,
    ):
        with pytest.raises(APIResponseValidationError, match="dry run") as caught:
            await tp.accounts.rewarm("acc_1", TERMS, dry_run=True)
    assert caught.value.status == 200
    assert "credits_charged=15" in str(caught.value)


def test_every_call_gets_its_own_key_and_a_caller_key_replays(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    first = client.call("rewarm", account_id, TERMS)
    second = client.call("rewarm", account_id, TERMS)
    assert first.charge.idempotency_key != second.charge.idempotency_key
    assert len(debits(sandbox)) == 2  # two calls, two rewarms: a key is not a dedup of intent

    mine = client.call("rewarm", account_id, TERMS, idempotency_key="order-1234-rewarm")
    again = client.call("rewarm", account_id, TERMS, idempotency_key="order-1234-rewarm")
    assert (mine.charge.replayed, again.charge.replayed) == (False, True)
    assert again.data == mine.data
    assert len(debits(sandbox)) == 3


def test_a_key_reused_for_another_request_is_refused_and_never_retried(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    client.call("rewarm", account_id, TERMS, idempotency_key="k-1")
    with pytest.raises(BadRequestError) as caught:
        client.call("rewarm", account_id, [*TERMS, "a", "b", "c"], idempotency_key="k-1")
    assert caught.value.status == 422
    assert len(writes(sandbox, "rewarm")) == 2  # the 422 was sent once


def test_a_stale_coverage_quote_is_a_pricing_change_and_the_next_call_has_a_new_key(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    lapse(sandbox, account_id, price=40)
    quote = client.call("coverage", account_id).reactivation_quote
    sandbox.state.care.change_coverage_quote(account_id, price=55)
    with pytest.raises(PricingChangedError) as caught:
        client.call("reactivate_coverage", account_id, quote)
    assert caught.value.status == 409
    assert caught.value.quote["credits"] == 55
    assert "Nothing was charged" in str(caught.value)
    assert len(writes(sandbox, "reactivate")) == 1  # a 409 is never retried
    fresh = client.call("coverage", account_id).reactivation_quote
    done = client.call("reactivate_coverage", account_id, fresh)
    first, second = writes(sandbox, "reactivate")
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert done.charge.credits_charged == 55
    assert done.data.status == "active"


def test_tasks_without_coverage_are_blocked_and_nothing_is_charged(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    lapse(sandbox, account_id)
    with pytest.raises(ConflictError) as caught:
        client.call("rewarm", account_id, TERMS)
    assert caught.value.code == "MANAGED_ACCOUNT_TASK_BLOCKED"
    assert caught.value.account_id == account_id
    assert debits(sandbox) == []


def test_too_few_credits_is_refused_with_the_missing_amount(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.credits = 10
    with pytest.raises(InsufficientCreditsError) as caught:
        client.call("rewarm", account_id, TERMS)
    assert (caught.value.required, caught.value.missing) == (15, 5)
    assert len(writes(sandbox, "rewarm")) == 1


BAD_INPUT: list[tuple[str, Callable[[Driver, str], Any], str]] = [
    ("two terms", lambda c, a: c.call("rewarm", a, ["a", "b"]), "3 to 30"),
    ("four terms", lambda c, a: c.call("rewarm", a, ["a", "b", "c", "d"]), "multiple of 3"),
    ("33 terms", lambda c, a: c.call("rewarm", a, ["t"] * 33), "3 to 30"),
    ("one string", lambda c, a: c.call("rewarm", a, "fitness,gym,protein"), "list of terms"),
    ("blank term", lambda c, a: c.call("rewarm", a, ["a", " ", "c"]), "non-empty"),
    (
        "empty username",
        lambda c, a: c.call("create_edit_request", a, username="", visible_name="N"),
        "username",
    ),
    (
        "blank visible name",
        lambda c, a: c.call("create_edit_request", a, username="n", visible_name="  "),
        "visible_name",
    ),
    (
        "picture not a URL",
        lambda c, a: c.call(
            "create_edit_request", a, username="n", visible_name="N", profile_picture_url="x"
        ),
        "profile_picture_url",
    ),
    ("not a quote", lambda c, a: c.call("reactivate_coverage", a, {"credits": 40}), "quote"),
    ("bad key", lambda c, a: c.call("rewarm", a, TERMS, idempotency_key="has space"), "key"),
    ("dry_run='yes'", lambda c, a: c.call("rewarm", a, TERMS, dry_run="yes"), "dry_run"),
    ("empty profile", lambda c, a: c.call("update_commenting_profile", a), "at least one"),
    ("post_limit=0", lambda c, a: c.call("refresh_analytics", a, post_limit=0), "post_limit"),
    ("bad account id", lambda c, a: c.call("rewarm", "..", TERMS), "account_id"),
]


@pytest.mark.parametrize(("case", "call", "named"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_refused_before_anything_is_sent(
    client: Driver, sandbox: Sandbox, case: str, call: Callable[[Driver, str], Any], named: str
) -> None:
    account_id = managed_account(sandbox)
    with pytest.raises(ValueError, match=named):
        call(client, account_id)
    assert len(sandbox.state.requests) == 0, case


def test_a_quote_from_another_account_is_refused_before_sending(
    client: Driver, sandbox: Sandbox
) -> None:
    first, second = (str(a["id"]) for a in sandbox.state.accounts[:2])
    lapse(sandbox, first)
    quote = client.call("coverage", first).reactivation_quote
    assert quote.account_id == first
    with pytest.raises(ValueError, match="made for account"):
        client.call("reactivate_coverage", second, quote)
    assert writes(sandbox, "reactivate") == []


def test_request_sends_a_caller_key_and_retries_a_keyed_write_like_a_read(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.care.after_effect_faults.append(Fault.HTTP_502)
    answer = client.call(
        "tp.request",
        "POST",
        f"/accounts/{account_id}/rewarm",
        json={"search_terms": TERMS},
        idempotency_key="raw-rewarm-1",
    )
    assert answer.headers["Idempotent-Replayed"] == "true"
    assert [r.headers["Idempotency-Key"] for r in writes(sandbox, "rewarm")] == ["raw-rewarm-1"] * 2
    assert len(debits(sandbox)) == 1


@pytest.mark.parametrize(
    "path", ["/accounts/x/reveal-credentials", "/accounts/x/verification-code/", "/webhooks"]
)
def test_request_refuses_a_key_on_secret_bearing_calls(
    client: Driver, sandbox: Sandbox, path: str
) -> None:
    with pytest.raises(ValueError, match="secret-bearing"):
        client.call("tp.request", "POST", path, idempotency_key="k")
    assert len(sandbox.state.requests) == 0


def test_request_takes_a_key_on_paths_that_only_look_secret_bearing(
    client: Driver, sandbox: Sandbox
) -> None:
    """Only the declared operations are refused: a read of a webhook list, or a path that
    merely ends in the same word under another resource, is sent with its key."""
    client.call("tp.request", "GET", "/webhooks", idempotency_key="k")
    assert [r.headers.get("Idempotency-Key") for r in sandbox.state.requests] == ["k"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_write_without_a_key_stays_unretried_after_it_may_have_acted(kind: str) -> None:
    # The control: the same lost answer, sent through tp.request without a key, is not
    # sent again, because nothing would stop the server from acting twice.
    with serve_in_thread(accounts=3) as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        fast_retries(driver.client)
        try:
            account_id = managed_account(sandbox)
            sandbox.state.care.after_effect_faults.append(Fault.HTTP_500)
            with pytest.raises(ServerError):
                driver.call(
                    "tp.request", "POST", f"/accounts/{account_id}/rewarm",
                    json={"search_terms": TERMS},
                )  # fmt: skip
            assert len(writes(sandbox, "rewarm")) == 1
        finally:
            driver.close()
