"""The nouns of the Accounts API as frozen, slotted, keyword-only attrs classes.

Models carry no parsing code: :mod:`tokportal_async._converter` turns JSON into them.

Fields follow the live API one to one. Only what identifies a record is required (ids, an
account's ``platform``, a bundle's or ban's ``status``, ``created_at``); every other field
is ``X | None`` and reads ``None`` when the API sends null or leaves it out, because the
live API does both to fields its documentation shows as strings, and one odd record must
not sink a page of ten thousand. A value of the wrong type is still an error: that is a
broken contract, not drift.

Value sets the API documents are offered as enums (``Platform.TIKTOK``). The API adds
values over time, so a field typed ``Platform | str`` holds the enum member for a known
value and the plain string for a new one: ``account.platform == "tiktok"`` works either way.

Secrets (passwords, verification codes) are plain ``str`` attributes, because users log in
with them, but their ``repr()`` and ``str()`` show ``'***'``.
"""

import enum
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from ._public import show_as_public

__all__ = [
    "Account",
    "AccountBan",
    "AccountBundle",
    "AccountDetail",
    "BanResolution",
    "BanResolutionKind",
    "BanStatus",
    "Bundle",
    "BundleStatus",
    "BundleType",
    "CodeSource",
    "Credentials",
    "Page",
    "Pagination",
    "Platform",
    "PolicyTerms",
    "RateLimit",
    "SocialCredentials",
    "VerificationCode",
    "VideoSlotSummary",
]

T = TypeVar("T")


def _masked(value: object) -> str:
    # None stays visible: "no code yet" is not a secret, and hiding it would mislead.
    return "None" if value is None else "'***'"


#: Field metadata marking a secret: masked in reprs, and left out of CLI output unless
#: the user asks for secrets.
SECRET = "tokportal_secret"  # noqa: S105 - a metadata key, not a password


def raw_field() -> Any:
    """The ``raw`` field of a model whose answer no source shows whole.

    It holds the whole JSON object as sent (the decoder fills it), stays out of ``repr()``
    and of equality: what is typed is what two records are compared by.
    """
    return attrs.field(factory=dict, repr=False, eq=False)


def _secret() -> Any:
    """A ``str | None`` field, ``None`` by default, whose value never reaches ``repr()``."""
    return attrs.field(default=None, repr=_masked, metadata={SECRET: True})


class Platform(enum.StrEnum):
    """Social platforms TokPortal runs accounts on (more may appear: expect plain strings)."""

    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"


class BundleStatus(enum.StrEnum):
    """Bundle statuses, from ``draft`` through ``completed``; ``cancelled`` is terminal."""

    DRAFT = "draft"
    PENDING_SETUP = "pending_setup"
    PUBLISHED = "published"
    PUBLISHED_PRIORITY = "published_priority"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    IN_REVIEW = "in_review"
    FINALIZED = "finalized"
    CANCELLED = "cancelled"


class BundleType(enum.StrEnum):
    """What a bundle (an order) buys: an account, videos, or both."""

    ACCOUNT_ONLY = "account_only"
    ACCOUNT_AND_VIDEOS = "account_and_videos"
    VIDEOS_ONLY = "videos_only"


class BanStatus(enum.StrEnum):
    """Where a ban stands: its appeal pending, decided either way, or not appealed."""

    APPEAL_PENDING = "appeal_pending"
    APPEAL_ACCEPTED = "appeal_accepted"
    APPEAL_REFUSED = "appeal_refused"
    NO_APPEAL_BANNED = "no_appeal_banned"


class BanResolutionKind(enum.StrEnum):
    """How TokPortal settled a ban: credits back, a new account, nothing, or not yet."""

    REFUND = "refund"
    REMAKE = "remake"
    NO_REMAKE = "no_remake"
    PENDING = "pending"


class CodeSource(enum.StrEnum):
    """Where a verification code came from: the inbox just now, or TokPortal's cache."""

    EMAIL = "email"
    CACHED = "cached"


@attrs.frozen(kw_only=True)
class Account:
    """A delivered account, as ``GET /accounts`` lists it (no credentials, no status).

    ``banned`` is ``True`` once TokPortal validated a ban (the account stays listed);
    :class:`AccountBan` records from ``tp.account_bans`` say how it was resolved.
    """

    id: str
    platform: Platform | str
    created_at: datetime
    username: str | None = None
    visible_name: str | None = None
    biography: str | None = None
    profile_picture_url: str | None = None
    country: str | None = None
    link_in_bio: str | None = None
    profile_url: str | None = None
    tokmail_email: str | None = None
    updated_at: datetime | None = None
    banned: bool | None = None


@attrs.frozen(kw_only=True)
class SocialCredentials:
    """The login of the social media account itself."""

    email: str | None = None
    password: str | None = _secret()


@attrs.frozen(kw_only=True)
class Credentials:
    """How to log in to the account's TokMail inbox and to the social account.

    Returned by ``tp.accounts.reveal_credentials()`` (the live API) and, on deployments
    that still send them, inside :class:`AccountDetail`.
    """

    tokmail_email: str | None = None
    password: str | None = _secret()
    social_credentials: SocialCredentials | None = None


@attrs.frozen(kw_only=True)
class AccountDetail(Account):
    """One account with what ``GET /accounts/:id`` adds to the listing.

    The live API returns only non-credential metadata here: ``credentials`` is ``None``
    and passwords come from ``tp.accounts.reveal_credentials()``. Deployments that follow
    the original Accounts page (the sandbox's ``seed`` profile) still include them.
    """

    credentials: Credentials | None = None
    last_verification_code: str | None = _secret()
    current_cm_id: str | None = None


@attrs.frozen(kw_only=True)
class VideoSlotSummary:
    """How a bundle's video slots stand; ``pending`` slots are free to configure."""

    total: int | None = None
    pending: int | None = None
    configured: int | None = None
    published: int | None = None
    accepted: int | None = None
    finalized: int | None = None


@attrs.frozen(kw_only=True)
class Bundle:
    """A bundle (an order) tied to a delivered account, with its video slot summary."""

    id: str
    status: BundleStatus | str
    created_at: datetime
    title: str | None = None
    bundle_type: BundleType | str | None = None
    platform: Platform | str | None = None
    country: str | None = None
    videos_quantity: int | None = None
    edits_quantity: int | None = None
    used_edits: int | None = None
    credit_cost: int | None = None
    external_ref: str | None = None
    existing_account_id: str | None = None
    auto_finalize_videos: bool | None = None
    wants_niche_warming: bool | None = None
    #: Discontinued by TokPortal; expect it to disappear from answers.
    wants_deep_warming: bool | None = None
    #: Ignored by TokPortal; expect it to disappear from answers.
    wants_moderation: bool | None = None
    updated_at: datetime | None = None
    videos: VideoSlotSummary | None = None

    @property
    def open_slots(self) -> int:
        """Video slots still free to configure (``videos.pending``): where to post next.

        0 when the answer did not say: a slot nobody reported is not one to post in.
        """
        if self.videos is None or self.videos.pending is None:
            return 0
        return self.videos.pending


@attrs.frozen(kw_only=True)
class VerificationCode:
    """The latest 6-digit code from the account's TokMail inbox."""

    account_id: str
    verification_code: str | None = _secret()
    source: CodeSource | str | None = None


@attrs.frozen(kw_only=True)
class BanResolution:
    """How a ban was settled: ``refund`` (with ``refund_credits``), ``remake``, ..."""

    resolution: BanResolutionKind | str | None = None
    reason_code: str | None = None
    refund_credits: int | None = None
    resolved_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AccountBan:
    """One ban of a delivered account, from ``GET /account-bans`` (its only source of truth).

    ``updated_at`` is the watermark to resume from: pass the highest one seen as
    ``since`` to ``tp.account_bans.iter()`` next time.
    """

    id: str
    account_id: str
    status: BanStatus | str
    username: str | None = None
    platform: Platform | str | None = None
    bundle_id: str | None = None
    order_id: str | None = None
    reported_at: datetime | None = None
    decided_at: datetime | None = None
    updated_at: datetime | None = None
    resolution: BanResolution | None = None
    #: A signed URL of the ban's evidence, valid 7 days; only with ``include_screenshots``.
    screenshot_url: str | None = None


@attrs.frozen(kw_only=True)
class PolicyTerms:
    """The terms of a secret-bearing call, as TokPortal quotes them before it is accepted.

    Accepting may debit ``expected_credit_cost`` credits and permanently ends TokPortal's
    support of the account. ``details`` keeps everything the server said (the disclosure,
    the consequences, fields added later), of which the first two are typed here.
    """

    policy_version: str | None
    expected_credit_cost: int | None
    details: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Pagination:
    """Where a page sits in a list, as the server reports it (trust it over the request)."""

    page: int
    per_page: int
    total: int
    total_pages: int

    @property
    def has_next(self) -> bool:
        """Whether the server reports pages after this one."""
        return self.page < self.total_pages


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a list endpoint: iterate it, ``len()`` it, or read ``data``."""

    data: list[T]
    pagination: Pagination

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> T:
        return self.data[index]


@attrs.frozen(kw_only=True)
class RateLimit:
    """The key's request budget as the server last reported it (``X-RateLimit-*``)."""

    limit: int
    remaining: int
    reset: datetime | None


@attrs.frozen(kw_only=True)
class AccountBundle:
    """A bundle and the account it was listed for (a bundle does not always say)."""

    account_id: str
    bundle: Bundle


show_as_public(globals())
