"""The operations that keep an account going, and credits, through both clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tokportal_async import (
    AccountAnalytics,
    AnalyticsRefresh,
    AnalyticsRefreshStatus,
    BadRequestError,
    CommentingProfile,
    ConflictError,
    Coverage,
    CoverageQuote,
    CoverageStatus,
    CreditBalance,
    CreditTransaction,
    EditRequest,
    EditRequestStatus,
    NotFoundError,
    Page,
    VideoAnalytics,
    WarmingSession,
    WarmingSessionStatus,
)
from tokportal_async.sandbox import Sandbox, serve_in_thread

from .drivers import KINDS, Driver, make_driver
from .staging import managed_account

TERMS = ["fitness", "gym", "protein", "yoga", "run", "swim"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=6, credits=1_000) as running:
        yield running


# -- coverage -------------------------------------------------------------------------------


def test_coverage_reads_the_status_and_a_quote_only_when_lapsed(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    active = client.call("coverage", account_id)
    assert isinstance(active, Coverage)
    assert active.status is CoverageStatus.ACTIVE
    assert active.reactivation_quote is None
    assert active.current_period_end is not None
    assert active.raw["status"] == "active"  # the whole answer is kept

    sandbox.state.care.set_coverage(account_id, "lapsed", price=70)
    lapsed = client.call("coverage", account_id)
    assert lapsed.status == "lapsed"
    quote = lapsed.reactivation_quote
    assert isinstance(quote, CoverageQuote)
    assert (quote.credits, quote.account_id) == (70, account_id)
    assert quote.lock_version == sandbox.state.care.coverage[account_id]["lock_version"]


def test_an_unknown_coverage_status_is_kept_as_a_string(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.care.set_coverage(account_id, "suspended_for_review")
    assert client.call("coverage", account_id).status == "suspended_for_review"


def test_cancel_coverage_is_keyed_and_then_blocks_tasks(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    cancelled = client.call("cancel_coverage", account_id)
    assert cancelled.status is CoverageStatus.CANCELLED
    sent = sandbox.state.last_request("managed-subscription/cancel")
    assert sent.headers["Idempotency-Key"]
    with pytest.raises(ConflictError) as caught:
        client.call("create_edit_request", account_id, username="n", visible_name="N")
    assert caught.value.code == "MANAGED_ACCOUNT_TASK_BLOCKED"
    with pytest.raises(ConflictError):
        client.call("cancel_coverage", account_id)  # not active any more


# -- edit requests --------------------------------------------------------------------------


def test_the_active_edit_request_is_none_then_the_one_created(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    assert client.call("edit_request", account_id) is None
    created = client.call(
        "create_edit_request",
        account_id,
        username="new_name",
        visible_name="New Name",
        biography="Fresh start",
        link_in_bio="https://example.com/me",
    ).data
    assert isinstance(created, EditRequest)
    assert created.status is EditRequestStatus.PENDING
    assert (created.requested_username, created.requested_biography) == ("new_name", "Fresh start")
    body = sandbox.state.last_request("edit-request").body
    assert b'"requested_link_in_bio"' in body
    assert b'"requested_profile_picture_url"' not in body  # not given, not sent
    assert client.call("edit_request", account_id) == created


def test_an_edit_request_without_a_community_manager_is_refused(
    client: Driver, sandbox: Sandbox
) -> None:
    account = next(a for a in sandbox.state.accounts if a["current_cm_id"])
    account["current_cm_id"] = None
    with pytest.raises(BadRequestError) as caught:
        client.call("create_edit_request", account["id"], username="n", visible_name="N")
    assert (caught.value.code, caught.value.status) == ("EDIT_REQUEST_NO_CM", 400)
    assert sandbox.state.credits == 1_000


# -- warming --------------------------------------------------------------------------------


def test_warming_sessions_progress_until_complete(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    assert client.call("warming_sessions", account_id) == []
    started = client.call("rewarm", account_id, TERMS).data
    assert isinstance(started, WarmingSession)
    assert (started.terms_total, started.terms_verified) == (6, 0)
    seen = []
    for _ in range(3):
        (session,) = client.call("warming_sessions", account_id)
        seen.append((session.status, session.terms_verified))
    assert seen == [
        (WarmingSessionStatus.IN_PROGRESS, 3),
        (WarmingSessionStatus.COMPLETED, 6),
        (WarmingSessionStatus.COMPLETED, 6),
    ]
    assert session.completed_at is not None
    assert session.terms is not None
    assert all(report["proof_url"] for report in session.terms)


# -- analytics ------------------------------------------------------------------------------


def test_analytics_types_what_it_knows_and_keeps_the_rest(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    analytics = client.call("analytics", account_id)
    assert isinstance(analytics, AccountAnalytics)
    assert analytics.followers is not None
    assert analytics.raw["engagement_rate"] > 0  # no field for it: kept in raw
    assert "engagement_rate" not in repr(analytics)  # raw stays out of the repr


def test_a_refresh_runs_once_and_can_refresh_says_so(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    assert client.call("can_refresh_analytics", account_id).can_refresh is True
    refreshed = client.call("refresh_analytics", account_id, include_posts=True, post_limit=50)
    assert isinstance(refreshed, AnalyticsRefresh)
    assert refreshed.raw["options"] == {"includePosts": True, "postLimit": 50}
    status = client.call("can_refresh_analytics", account_id)
    assert isinstance(status, AnalyticsRefreshStatus)
    assert (status.can_refresh, status.reason) == (False, "refresh_in_progress")
    with pytest.raises(ConflictError):
        client.call("refresh_analytics", account_id)


def test_video_analytics_page_and_iterate_in_the_order_asked(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    page = client.call("video_analytics", account_id, per_page=3, sort_by="views")
    assert isinstance(page, Page)
    assert page.pagination.total == 7
    every = client.collect(
        "iter_video_analytics", account_id, per_page=2, sort_by="views", sort_order="asc"
    )
    assert all(isinstance(video, VideoAnalytics) for video in every)
    views = [video.views for video in every]
    assert views == sorted(views)
    assert len(every) == 7
    request = sandbox.state.last_request("analytics/videos")
    assert request.query["sort_order"] == "asc"


def test_a_video_filter_no_list_declares_is_refused(client: Driver, sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="sort"):
        client.call("video_analytics", managed_account(sandbox), sort="views")
    assert len(sandbox.state.requests) == 0


# -- commenting profile ---------------------------------------------------------------------


def test_the_commenting_profile_merges_a_mapping_and_keywords(
    client: Driver, sandbox: Sandbox
) -> None:
    account_id = managed_account(sandbox)
    client.call("update_commenting_profile", account_id, {"tone": "friendly"})
    updated = client.call("update_commenting_profile", account_id, language="fr", emojis=False)
    assert isinstance(updated, CommentingProfile)
    assert updated.account_id == account_id
    assert dict(updated.raw) == {
        "account_id": account_id,
        "tone": "friendly",
        "language": "fr",
        "emojis": False,
    }
    assert sandbox.state.last_request("commenting-profile").method == "PATCH"


# -- credits --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["new", "old"])
def test_the_balance_is_read_from_either_documented_shape(
    client: Driver, sandbox: Sandbox, shape: str
) -> None:
    sandbox.state.care.balance_shape = shape
    balance = client.call("credits.balance")
    assert isinstance(balance, CreditBalance)
    assert balance.total_credits == 1_000
    assert (balance.upcoming_expirations is None) == (shape == "old")


def test_credit_history_lists_every_debit_newest_first(client: Driver, sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    client.call("rewarm", account_id, TERMS[:3])
    client.call("create_edit_request", account_id, username="n", visible_name="N")
    history = client.collect("credits.iter_history", per_page=1)
    assert all(isinstance(row, CreditTransaction) for row in history)
    assert [(row.type, row.amount) for row in history] == [("edit_request", -8), ("rewarm", -15)]
    assert history[0].balance_after == 1_000 - 15 - 8
    today = datetime.now(UTC).date()
    assert len(client.call("credits.history", date_from=today)) == 2
    assert len(client.call("credits.history", date_to=today - timedelta(days=1))) == 0
    assert sandbox.state.last_request("credits/history").query["date_to"] == str(
        today - timedelta(days=1)
    )


def test_history_dates_are_checked_before_sending(client: Driver, sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="date_from"):
        client.call("credits.history", date_from="2026-01-01")
    with pytest.raises(ValueError, match="timezone-aware"):
        client.call("credits.history", date_to=datetime(2026, 1, 1))
    assert len(sandbox.state.requests) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_seed_profile_does_not_serve_the_live_operations(kind: str) -> None:
    with serve_in_thread(accounts=2, profile="seed") as sandbox:
        driver = make_driver(kind, **sandbox.client_kwargs())
        try:
            account_id = str(sandbox.state.accounts[0]["id"])
            for method in ("coverage", "analytics", "warming_sessions"):
                with pytest.raises(NotFoundError) as caught:
                    driver.call(method, account_id)
                assert caught.value.code == "SANDBOX_ENDPOINT_NOT_SERVED"
        finally:
            driver.close()
