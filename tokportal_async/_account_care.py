"""What keeps a delivered account going: coverage, edits, rewarms, warming and analytics.

A part of ``tp.accounts`` (:class:`~tokportal_async.AsyncAccounts` inherits it), kept in
its own module because its operations have effects, and three of them cost credits. Each
method is one declared :class:`~tokportal_async._operations.Operation`, its argument
checks, and its decoding; every write is keyed (see :mod:`tokportal_async._idempotency`).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload
from urllib.parse import urlsplit

import attrs

from ._about import About
from ._constants import DEFAULT_ITER_PER_PAGE
from ._errors import NotFoundError
from ._filters import VideoAnalyticsFilters
from ._models import Page
from ._operations import Access, Operation
from ._paged import PagedEndpoint, iso_utc
from ._pagination import flattens
from ._response import same_id
from ._retry import SendRequest
from ._validation import check_flag, path_segment

if TYPE_CHECKING:  # the care models load with the first care call, not the package
    from ._care_models import (
        AccountAnalytics,
        AnalyticsRefresh,
        AnalyticsRefreshStatus,
        CommentingProfile,
        Coverage,
        CoverageQuote,
        EditRequest,
        VideoAnalytics,
        WarmingSession,
    )
    from ._credit_models import PaidResult

__all__ = ["AccountCare", "account_ids"]

_ACCOUNT = "/accounts/{account_id}"
_COVERAGE = Operation("GET", f"{_ACCOUNT}/managed-subscription")
_REACTIVATE = Operation("POST", f"{_ACCOUNT}/managed-subscription/reactivate", Access.WRITE)
_CANCEL = Operation("POST", f"{_ACCOUNT}/managed-subscription/cancel", Access.WRITE)
_EDIT_REQUEST = Operation("GET", f"{_ACCOUNT}/edit-request")
_CREATE_EDIT_REQUEST = Operation("POST", f"{_ACCOUNT}/edit-request", Access.WRITE)
_REWARM = Operation("POST", f"{_ACCOUNT}/rewarm", Access.WRITE)
_WARMING_SESSIONS = Operation("GET", f"{_ACCOUNT}/warming-sessions")
_ANALYTICS = Operation("GET", f"{_ACCOUNT}/analytics")
_CAN_REFRESH = Operation("GET", f"{_ACCOUNT}/analytics/can-refresh")
_REFRESH = Operation("POST", f"{_ACCOUNT}/analytics/refresh", Access.WRITE)
_COMMENTING_PROFILE = Operation("PATCH", f"{_ACCOUNT}/commenting-profile", Access.WRITE)


@functools.cache
def _video_analytics() -> PagedEndpoint[VideoAnalytics]:
    """The paged endpoint of an account's videos, made with its model's first use."""
    from ._care_models import VideoAnalytics

    return PagedEndpoint(f"{_ACCOUNT}/analytics/videos", VideoAnalytics, VideoAnalyticsFilters)


#: Rewarm terms: 3 to 30, by threes (TokPortal's rule, checked before anything is paid).
MIN_TERMS, MAX_TERMS, TERMS_STEP = 3, 30, 3
#: Codes of a 404 that means "no edit request is active", not "no such account".
_NO_EDIT_REQUEST = frozenset({"EDIT_REQUEST_NOT_FOUND", "NO_ACTIVE_EDIT_REQUEST"})


def account_ids(account_id: str) -> dict[str, str]:
    """The path ids of an account's operations, the id checked before any other argument."""
    path_segment("account_id", account_id)  # checked now: before any other argument's error
    return {"account_id": account_id}


def _text(name: str, value: object, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _url(name: str, value: object) -> str | None:
    if value is None:
        return None
    text = _text(name, value, required=True)
    assert text is not None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    return text


def _search_terms(terms: Iterable[str]) -> builtins.list[str]:
    if isinstance(terms, str | bytes) or not isinstance(terms, Iterable):
        raise ValueError(
            "search_terms must be a list of terms such as ['fitness', 'gym', 'protein'], "
            f"got {type(terms).__name__}"
        )
    checked = builtins.list(terms)
    for term in checked:
        if not isinstance(term, str) or not term.strip():
            raise ValueError(f"each search term must be a non-empty string, got {term!r}")
    count = len(checked)
    if not MIN_TERMS <= count <= MAX_TERMS or count % TERMS_STEP:
        raise ValueError(
            f"search_terms must hold {MIN_TERMS} to {MAX_TERMS} terms, a multiple of "
            f"{TERMS_STEP} (TokPortal charges by the term), got {count}"
        )
    return checked


def _quote_body(account_id: str, quote: CoverageQuote) -> dict[str, Any]:
    from ._care_models import CoverageQuote

    if not isinstance(quote, CoverageQuote):
        raise ValueError(
            "quote must be the CoverageQuote of tp.accounts.coverage(account_id)"
            f".reactivation_quote, got {type(quote).__name__}"
        )
    if quote.account_id is not None and not same_id(quote.account_id, account_id):
        raise ValueError(
            f"this quote was made for account {quote.account_id!r}, not {account_id!r}: "
            "fetch the coverage of the account to reactivate"
        )
    raw = quote.raw
    period_end = raw.get("current_period_end")
    if period_end is None and quote.current_period_end is not None:
        period_end = iso_utc("current_period_end", quote.current_period_end)
    return {
        "expected_credits": raw.get("credits", quote.credits),
        "expected_current_period_end": period_end,
        "expected_lock_version": raw.get("lock_version", quote.lock_version),
    }


class AccountCare:
    """Coverage, edit requests, rewarms, warming sessions, analytics, commenting profile.

    Reached through ``tp.accounts``. The paid writes (:meth:`reactivate_coverage`,
    :meth:`create_edit_request`, :meth:`rewarm`) return a
    :class:`~tokportal_async.PaidResult`; each takes ``dry_run=True`` to preview the
    price for free, and every write takes ``idempotency_key=`` (one is made per call
    otherwise), so a retry after a timeout is charged at most once.
    """

    _send: SendRequest  # the client's requests: set by AsyncAccounts

    # -- coverage ---------------------------------------------------------------------------

    async def coverage(self, account_id: str) -> Coverage:
        """The account's TokPortal Coverage (managed subscription) and its quote.

        Example::

            cov = await tp.accounts.coverage(account_id)
            if cov.status == "lapsed" and cov.reactivation_quote:
                print("reactivating costs", cov.reactivation_quote.credits, "credits")
        """
        ids = account_ids(account_id)
        from ._care_models import Coverage

        with About(account_id):
            found = await _COVERAGE.data(
                self._send, Coverage, ids, identity=("account_id", account_id)
            )
        if found.reactivation_quote is not None:  # stamped, so it is not used for another
            quote = attrs.evolve(found.reactivation_quote, account_id=account_id)
            found = attrs.evolve(found, reactivation_quote=quote)
        return found

    @overload
    async def reactivate_coverage(
        self,
        account_id: str,
        quote: CoverageQuote,
        *,
        dry_run: Literal[False] = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[Coverage]: ...

    @overload
    async def reactivate_coverage(
        self,
        account_id: str,
        quote: CoverageQuote,
        *,
        dry_run: bool,
        idempotency_key: str | None = None,
    ) -> PaidResult[Any]: ...

    async def reactivate_coverage(
        self,
        account_id: str,
        quote: CoverageQuote,
        *,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[Coverage] | PaidResult[Any]:
        """Reactivate a lapsed coverage at the price quoted. Paid: the quote's credits.

        ``quote`` is ``(await tp.accounts.coverage(account_id)).reactivation_quote``.
        TokPortal refuses a quote that went stale since (:class:`~tokportal_async.
        PricingChangedError`: nothing charged; fetch the coverage again and ask again).

        Example::

            done = await tp.accounts.reactivate_coverage(account_id, cov.reactivation_quote)
            print(done.charge.credits_charged, done.charge.credits_remaining)
        """
        ids = account_ids(account_id)
        body = _quote_body(account_id, quote)
        from ._care_models import Coverage

        with About(account_id):
            return await _REACTIVATE.paid(
                self._send, Coverage, ids, json=body, key=idempotency_key, dry_run=dry_run,
                identity=("account_id", account_id),
            )  # fmt: skip

    async def cancel_coverage(
        self, account_id: str, *, idempotency_key: str | None = None
    ) -> Coverage:
        """Cancel ("pause") the account's coverage. Not refunded; it can lapse for good.

        Rewarms and edit requests need coverage: without it they fail with
        ``MANAGED_ACCOUNT_TASK_BLOCKED``.
        """
        ids = account_ids(account_id)
        from ._care_models import Coverage

        with About(account_id):
            return await _CANCEL.data(
                self._send, Coverage, ids, key=idempotency_key, identity=("account_id", account_id)
            )

    # -- edit requests ----------------------------------------------------------------------

    async def edit_request(self, account_id: str) -> EditRequest | None:
        """The account's active edit request, or ``None`` when there is none."""
        ids = account_ids(account_id)
        from ._care_models import EditRequest

        with About(account_id):
            try:
                return await _EDIT_REQUEST.optional_data(self._send, EditRequest, ids)
            except NotFoundError as error:
                # "No active edit request" has no documented code: any 404 about an edit
                # request means none; a 404 about the account is raised.
                if error.code in _NO_EDIT_REQUEST or "EDIT_REQUEST" in (error.code or ""):
                    return None
                raise

    @overload
    async def create_edit_request(
        self,
        account_id: str,
        *,
        username: str,
        visible_name: str,
        biography: str | None = None,
        profile_picture_url: str | None = None,
        link_in_bio: str | None = None,
        dry_run: Literal[False] = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[EditRequest]: ...

    @overload
    async def create_edit_request(
        self,
        account_id: str,
        *,
        username: str,
        visible_name: str,
        biography: str | None = None,
        profile_picture_url: str | None = None,
        link_in_bio: str | None = None,
        dry_run: bool,
        idempotency_key: str | None = None,
    ) -> PaidResult[Any]: ...

    async def create_edit_request(
        self,
        account_id: str,
        *,
        username: str,
        visible_name: str,
        biography: str | None = None,
        profile_picture_url: str | None = None,
        link_in_bio: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[EditRequest] | PaidResult[Any]:
        """Ask TokPortal to change the account's profile. Paid: 8 credits.

        Needs active coverage and a community manager on the account
        (``EDIT_REQUEST_NO_CM`` otherwise).

        Example::

            preview = await tp.accounts.create_edit_request(
                account_id, username="new_name", visible_name="New Name", dry_run=True
            )
            print(preview.charge.credits_would_charge)  # nothing charged
        """
        ids = account_ids(account_id)
        body = {
            "requested_username": _text("username", username, required=True),
            "requested_visible_name": _text("visible_name", visible_name, required=True),
        }
        optional = {
            "requested_biography": _text("biography", biography, required=False),
            "requested_profile_picture_url": _url("profile_picture_url", profile_picture_url),
            "requested_link_in_bio": _url("link_in_bio", link_in_bio),
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        from ._care_models import EditRequest

        with About(account_id):
            return await _CREATE_EDIT_REQUEST.paid(
                self._send, EditRequest, ids, json=body, key=idempotency_key, dry_run=dry_run,
                identity=("account_id", account_id),
            )  # fmt: skip

    # -- warming ----------------------------------------------------------------------------

    @overload
    async def rewarm(
        self,
        account_id: str,
        search_terms: Iterable[str],
        *,
        dry_run: Literal[False] = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[WarmingSession]: ...

    @overload
    async def rewarm(
        self,
        account_id: str,
        search_terms: Iterable[str],
        *,
        dry_run: bool,
        idempotency_key: str | None = None,
    ) -> PaidResult[Any]: ...

    async def rewarm(
        self,
        account_id: str,
        search_terms: Iterable[str],
        *,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> PaidResult[WarmingSession] | PaidResult[Any]:
        """Warm the account again on these search terms. Paid: 5 credits a term.

        3 to 30 terms, in multiples of 3 (checked before anything is sent). Needs active
        coverage. Follow the session with :meth:`warming_sessions`.

        Example::

            done = await tp.accounts.rewarm(account_id, ["fitness", "gym", "protein"])
            print(done.charge.credits_charged)  # 15
        """
        ids = account_ids(account_id)
        body = {"search_terms": _search_terms(search_terms)}
        from ._care_models import WarmingSession

        with About(account_id):
            return await _REWARM.paid(
                self._send, WarmingSession, ids, json=body, key=idempotency_key, dry_run=dry_run,
                identity=("account_id", account_id),
            )  # fmt: skip

    async def warming_sessions(self, account_id: str) -> builtins.list[WarmingSession]:
        """The account's warming sessions, as one list (TokPortal does not page it).

        Example::

            for session in await tp.accounts.warming_sessions(account_id):
                print(session.status, session.terms_verified, "/", session.terms_total)
        """
        ids = account_ids(account_id)
        from ._care_models import WarmingSession

        with About(account_id):
            return await _WARMING_SESSIONS.listed(self._send, WarmingSession, ids)

    # -- analytics --------------------------------------------------------------------------

    async def analytics(self, account_id: str) -> AccountAnalytics:
        """The account's analytics (its shape is inferred: ``raw`` keeps all of it)."""
        ids = account_ids(account_id)
        from ._care_models import AccountAnalytics

        with About(account_id):
            return await _ANALYTICS.data(self._send, AccountAnalytics, ids)

    async def can_refresh_analytics(self, account_id: str) -> AnalyticsRefreshStatus:
        """Whether :meth:`refresh_analytics` may run now (refreshes are rate-limited)."""
        ids = account_ids(account_id)
        from ._care_models import AnalyticsRefreshStatus

        with About(account_id):
            return await _CAN_REFRESH.data(self._send, AnalyticsRefreshStatus, ids)

    async def refresh_analytics(
        self,
        account_id: str,
        *,
        force: bool | None = None,
        include_posts: bool | None = None,
        include_comments: bool | None = None,
        force_posts: bool | None = None,
        bootstrap_posts: bool | None = None,
        post_limit: int | None = None,
        idempotency_key: str | None = None,
    ) -> AnalyticsRefresh:
        """Ask TokPortal to refresh the account's analytics (rate-limited server side).

        Check :meth:`can_refresh_analytics` first. Only the options given are sent.
        """
        ids = account_ids(account_id)
        if post_limit is not None and (
            isinstance(post_limit, bool) or not isinstance(post_limit, int) or post_limit < 1
        ):
            raise ValueError(f"post_limit must be a positive integer, got {post_limit!r}")
        options = {
            "force": check_flag("force", force),
            "includePosts": check_flag("include_posts", include_posts),
            "includeComments": check_flag("include_comments", include_comments),
            "forcePosts": check_flag("force_posts", force_posts),
            "bootstrapPosts": check_flag("bootstrap_posts", bootstrap_posts),
            "postLimit": post_limit,
        }
        body = {name: value for name, value in options.items() if value is not None}
        from ._care_models import AnalyticsRefresh

        with About(account_id):
            return await _REFRESH.data(
                self._send, AnalyticsRefresh, ids, json=body, key=idempotency_key
            )

    async def video_analytics(
        self,
        account_id: str,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[VideoAnalyticsFilters],
    ) -> Page[VideoAnalytics]:
        """One page of the account's videos with their analytics.

        Args:
            account_id: the account's id.
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: ``sort_by`` (a field such as ``"views"``) and ``sort_order``
                (``"asc"`` or ``"desc"``); see :class:`~tokportal_async.
                VideoAnalyticsFilters`.
        """
        with About(account_id):
            return await _video_analytics().page(
                self._send, filters, caller="video_analytics", page=page, per_page=per_page,
                ids={"account_id": account_id},
            )  # fmt: skip

    def video_analytics_pages(
        self,
        account_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[VideoAnalyticsFilters],
    ) -> AsyncGenerator[Page[VideoAnalytics], None]:
        """Every page of the account's video analytics, fetched lazily."""
        return _video_analytics().pages(
            self._send, filters, caller="video_analytics_pages", per_page=per_page,
            concurrency=concurrency, ids={"account_id": account_id},
        )  # fmt: skip

    @flattens("video_analytics_pages")
    def iter_video_analytics(
        self,
        account_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[VideoAnalyticsFilters],
    ) -> AsyncGenerator[VideoAnalytics, None]:
        """Every video of the account with its analytics, page after page.

        Example::

            async for video in tp.accounts.iter_video_analytics(account_id, sort_by="views"):
                print(video.id, video.views)
        """
        return _video_analytics().items(
            self._send, filters, caller="iter_video_analytics", per_page=per_page,
            concurrency=concurrency, ids={"account_id": account_id},
        )  # fmt: skip

    # -- commenting profile -----------------------------------------------------------------

    async def update_commenting_profile(
        self,
        account_id: str,
        changes: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> CommentingProfile:
        """Change the account's commenting profile: ``changes`` and ``fields``, merged.

        TokPortal does not document this body or its answer: the names you pass are sent
        as they are (``update_commenting_profile(account_id, tone="friendly")``), and the
        answer is kept whole in ``raw``.
        """
        ids = account_ids(account_id)
        if changes is not None and not isinstance(changes, Mapping):
            raise ValueError(f"changes must be a mapping, got {type(changes).__name__}")
        body = {**(changes or {}), **fields}
        if not body:
            raise ValueError("update_commenting_profile needs at least one field to change")
        if any(not isinstance(name, str) or not name for name in body):
            raise ValueError("the names of the fields to change must be non-empty strings")
        from ._care_models import CommentingProfile

        with About(account_id):
            return await _COMMENTING_PROFILE.data(
                self._send, CommentingProfile, ids, json=body, key=idempotency_key
            )
