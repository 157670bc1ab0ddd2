"""The models of what keeps an account going: coverage, edits, warming, analytics.

The same rules as :mod:`tokportal_async._models`: identity strict, every descriptive field
optional, new values of a value set kept as strings. These answers are less documented
than the accounts': no primary source shows the shape of the analytics, the commenting
profile or a warming session's per-term reports. Where a model says its shape is
*inferred*, it types the fields the sources name and keeps the whole ``data`` object as it
came in ``raw``, so nothing the server sends is lost to a guess.
"""

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._models import raw_field as _raw
from ._public import show_as_public

__all__ = [
    "AccountAnalytics",
    "AnalyticsRefresh",
    "AnalyticsRefreshStatus",
    "CommentingProfile",
    "Coverage",
    "CoverageQuote",
    "CoverageStatus",
    "EditRequest",
    "EditRequestStatus",
    "VideoAnalytics",
    "WarmingSession",
    "WarmingSessionStatus",
]


class CoverageStatus(enum.StrEnum):
    """Where an account's TokPortal Coverage (managed subscription) stands."""

    ACTIVE = "active"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    #: Over for good: an ended coverage cannot be reactivated.
    ENDED = "ended"


class EditRequestStatus(enum.StrEnum):
    """Where a profile edit request stands (``pending`` when created)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class WarmingSessionStatus(enum.StrEnum):
    """Where a warming (rewarm) session stands."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


@attrs.frozen(kw_only=True)
class CoverageQuote:
    """What reactivating a lapsed coverage costs, as quoted now.

    Hand it back whole to ``tp.accounts.reactivate_coverage``: TokPortal refuses a quote
    that has gone stale (``lock_version`` moved on), and the SDK refuses one quoted for
    another account (``account_id``, filled in by the SDK from the call that fetched it).
    """

    credits: int
    current_period_end: datetime | None = None
    #: The version of the subscription the quote was made against, sent back unchanged.
    lock_version: int | str | None = None
    #: The account the quote was fetched for (set by the SDK, not sent by TokPortal).
    account_id: str | None = None
    #: The quote as sent: its values go back exactly as TokPortal wrote them.
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class Coverage:
    """An account's TokPortal Coverage: ``GET /accounts/:id/managed-subscription``.

    ``status`` and ``reactivation_quote`` are documented; the period fields are
    *inferred* (``raw`` keeps the whole answer). Coverage gates rewarms and edit requests:
    without it they fail with ``MANAGED_ACCOUNT_TASK_BLOCKED``.
    """

    status: CoverageStatus | str
    account_id: str | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    reactivation_quote: CoverageQuote | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class EditRequest:
    """A request to change an account's profile (8 credits), as TokPortal records it."""

    edit_request_id: str
    account_id: str | None = None
    status: EditRequestStatus | str | None = None
    requested_username: str | None = None
    requested_visible_name: str | None = None
    requested_biography: str | None = None
    requested_profile_picture_url: str | None = None
    requested_link_in_bio: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class WarmingSession:
    """One warming session of an account: ``GET /accounts/:id/warming-sessions``.

    The counts and times are documented; ``id`` and ``terms`` (the per-term reports with
    their proof links) are *inferred*, kept as the server sends them (``raw`` holds all).
    """

    id: str | None = None
    account_id: str | None = None
    status: WarmingSessionStatus | str | None = None
    terms_total: int | None = None
    terms_verified: int | None = None
    terms_configured: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    terms: list[Mapping[str, Any]] | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class AccountAnalytics:
    """An account's analytics: ``GET /accounts/:id/analytics``.

    *Inferred*: no source shows this answer. The usual counters are typed when present;
    ``raw`` keeps the whole answer.
    """

    account_id: str | None = None
    followers: int | None = None
    following: int | None = None
    likes: int | None = None
    videos: int | None = None
    views: int | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class AnalyticsRefreshStatus:
    """Whether the account's analytics may be refreshed now (refreshes are rate-limited).

    *Inferred* beyond ``can_refresh``; ``raw`` keeps the whole answer.
    """

    can_refresh: bool | None = None
    reason: str | None = None
    next_refresh_at: datetime | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class AnalyticsRefresh:
    """The answer to an analytics refresh. *Inferred*; ``raw`` keeps the whole answer."""

    status: str | None = None
    refresh_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class VideoAnalytics:
    """One video's analytics: ``GET /accounts/:id/analytics/videos``, paged.

    *Inferred*: the usual counters are typed when present; ``raw`` keeps the whole row.
    """

    id: str | None = None
    video_url: str | None = None
    description: str | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    published_at: datetime | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class CommentingProfile:
    """The account's commenting profile after an update.

    *Inferred*: no source shows this answer; ``raw`` keeps all of it.
    """

    account_id: str | None = None
    raw: Mapping[str, Any] = _raw()


show_as_public(globals())
