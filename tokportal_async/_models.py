"""The nouns of the Accounts API as frozen, slotted, keyword-only attrs classes.

Models carry no parsing code: :mod:`tokportal_async._converter` turns JSON into them.
Fields follow the contract one to one, with its types; nullable fields are ``X | None``.

Value sets the API documents are offered as enums (``Platform.TIKTOK``). The API adds
values over time, so a field typed ``Platform | str`` holds the enum member for a known
value and the plain string for a new one: ``account.platform == "tiktok"`` works either way.

Secrets (passwords, verification codes) are plain ``str`` attributes, because users log in
with them, but their ``repr()`` and ``str()`` show ``'***'``.
"""

import enum
from collections.abc import Iterator
from datetime import datetime
from typing import Generic, TypeVar

import attrs

__all__ = [
    "Account",
    "AccountBundle",
    "AccountDetail",
    "Bundle",
    "BundleStatus",
    "BundleType",
    "CodeSource",
    "Credentials",
    "Page",
    "Pagination",
    "Platform",
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


def _secret() -> str:
    """A ``str`` field whose value never reaches ``repr()``."""
    return attrs.field(repr=_masked, metadata={SECRET: True})  # type: ignore[no-any-return]


class Platform(enum.StrEnum):
    """Social platforms TokPortal runs accounts on (more may appear: expect plain strings)."""

    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"


class BundleStatus(enum.StrEnum):
    """Bundle statuses; the first four are the documented filter values of ``bundles()``."""

    PENDING_SETUP = "pending_setup"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    IN_REVIEW = "in_review"
    FINALIZED = "finalized"
    PUBLISHED_PRIORITY = "published_priority"


class BundleType(enum.StrEnum):
    """What a bundle (an order) buys: an account, videos, or both."""

    ACCOUNT_ONLY = "account_only"
    ACCOUNT_AND_VIDEOS = "account_and_videos"
    VIDEOS_ONLY = "videos_only"


class CodeSource(enum.StrEnum):
    """Where a verification code came from: the inbox just now, or TokPortal's cache."""

    EMAIL = "email"
    CACHED = "cached"


@attrs.frozen(kw_only=True)
class Account:
    """A delivered account, as ``GET /accounts`` lists it (no credentials, no status)."""

    id: str
    platform: Platform | str
    username: str
    visible_name: str
    biography: str
    profile_picture_url: str | None
    country: str
    link_in_bio: str | None
    profile_url: str
    tokmail_email: str
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class SocialCredentials:
    """The login of the social media account itself."""

    email: str
    password: str = _secret()


@attrs.frozen(kw_only=True)
class Credentials:
    """How to log in to the account's TokMail inbox and to the social account."""

    tokmail_email: str
    password: str = _secret()
    social_credentials: SocialCredentials


@attrs.frozen(kw_only=True)
class AccountDetail(Account):
    """One account with what ``GET /accounts/:id`` adds to the listing.

    The detail fields are ``None`` where the live API leaves them out: newer deployments
    reveal ``credentials`` through a separate, policy-guarded call, and the detail shape is
    the part of the API that has moved most since the contract was written.
    """

    credentials: Credentials | None = None
    last_verification_code: str | None = attrs.field(
        default=None, repr=_masked, metadata={SECRET: True}
    )
    current_cm_id: str | None = None


@attrs.frozen(kw_only=True)
class VideoSlotSummary:
    """How a bundle's video slots stand; ``pending`` slots are free to configure."""

    total: int
    pending: int
    configured: int
    published: int
    accepted: int
    finalized: int


@attrs.frozen(kw_only=True)
class Bundle:
    """A bundle (an order) tied to a delivered account, with its video slot summary."""

    id: str
    title: str
    bundle_type: BundleType | str
    platform: Platform | str
    country: str
    status: BundleStatus | str
    videos_quantity: int
    edits_quantity: int
    used_edits: int
    credit_cost: int
    external_ref: str | None
    existing_account_id: str | None
    auto_finalize_videos: bool
    wants_niche_warming: bool
    wants_deep_warming: bool
    wants_moderation: bool
    created_at: datetime
    updated_at: datetime
    videos: VideoSlotSummary

    @property
    def open_slots(self) -> int:
        """Video slots still free to configure (``videos.pending``): where to post next."""
        return self.videos.pending


@attrs.frozen(kw_only=True)
class VerificationCode:
    """The latest 6-digit code from the account's TokMail inbox."""

    account_id: str
    verification_code: str = _secret()
    source: CodeSource | str


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
