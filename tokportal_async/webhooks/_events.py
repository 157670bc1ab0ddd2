"""Webhook events, typed: the envelope, and the data of the events the sources describe.

The envelope is ``{id, type, created_at?, api_version?, data}`` (inferred from
integrations; ``GET /webhooks/events`` serves TokPortal's own list). ``type`` is an open
set: a type the SDK does not know is kept, with its ``data`` as a mapping, never refused.
The data models follow the SDK's tolerant rule: every field optional, the whole object
kept in ``raw``, a value of the wrong type an error.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .._converter import DecodeError, structure
from .._errors import TokPortalError
from .._json import loads
from .._models import raw_field as _raw
from ._signature import DEFAULT_TOLERANCE, verify_signature

__all__ = [
    "AccountEventData",
    "BanEventData",
    "CreditsEventData",
    "SubscriptionEventData",
    "WarmingEventData",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookPayloadError",
    "construct_event",
    "parse_event",
]


class WebhookPayloadError(TokPortalError):
    """A signed webhook body that is not the event envelope (not JSON, no ``id`` ...).

    ``errors`` lists what is wrong, one line per problem with its JSON path.
    """

    errors: tuple[str, ...]

    def __init__(self, message: str, *, errors: tuple[str, ...] = ()) -> None:
        self.errors = errors
        super().__init__(message + (": " + "; ".join(errors) if errors else ""))


class WebhookEventType(enum.StrEnum):
    """The event types TokPortal's official SDKs list (the docs list more; all are kept)."""

    WEBHOOK_TEST = "webhook.test"
    BUNDLE_CREATED = "bundle.created"
    BUNDLE_PUBLISHED = "bundle.published"
    BUNDLE_CANCELLED = "bundle.cancelled"
    BUNDLE_ARCHIVED = "bundle.archived"
    ACCOUNT_CONFIGURED = "account.configured"
    ACCOUNT_PUBLISHED = "account.published"
    ACCOUNT_IN_REVIEW = "account.in_review"
    ACCOUNT_PENDING_CORRECTIONS = "account.pending_corrections"
    ACCOUNT_FINALIZED = "account.finalized"
    ACCOUNT_REMADE = "account.remade"
    ACCOUNT_BANNED = "account.banned"
    ACCOUNT_BAN_APPEAL_SUBMITTED = "account.ban_appeal.submitted"
    ACCOUNT_BAN_APPEAL_RESOLVED = "account.ban_appeal.resolved"
    ACCOUNT_BAN_RESOLUTION_DECIDED = "account.ban_resolution.decided"
    ACCOUNT_REVEALED = "account.revealed"
    VIDEO_CONFIGURED = "video.configured"
    VIDEO_IN_REVIEW = "video.in_review"
    VIDEO_PUBLISHED = "video.published"
    VIDEO_PENDING_CORRECTIONS = "video.pending_corrections"
    VIDEO_FINALIZED = "video.finalized"
    WARMING_SESSION_STARTED = "warming.session_started"
    WARMING_TERM_VERIFIED = "warming.term_verified"
    WARMING_SESSION_COMPLETED = "warming.session_completed"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_LAPSED = "subscription.lapsed"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    SUBSCRIPTION_REACTIVATED = "subscription.reactivated"
    SUBSCRIPTION_ENDED = "subscription.ended"
    CREDITS_RESTORED = "credits.restored"


@attrs.frozen(kw_only=True)
class AccountEventData:
    """The data of an ``account.*`` event (configured, finalized, remade, revealed ...).

    ``saved_account_id`` is what ``tp.accounts.get`` takes; it changes on every remake
    and is null before ``account.in_review``. ``account.revealed`` carries
    ``management_ended``. *Inferred* beyond those: ``raw`` keeps the whole object.
    """

    account_id: str | None = None
    saved_account_id: str | None = None
    bundle_id: str | None = None
    username: str | None = None
    platform: str | None = None
    status: str | None = None
    management_ended: bool | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class BanEventData:
    """The data of ``account.banned`` and the ban appeal and resolution events.

    ``account.banned`` carries ``username``, ``platform`` and ``banned_at``; *inferred*
    beyond those (``raw`` keeps the whole object).
    """

    account_id: str | None = None
    saved_account_id: str | None = None
    ban_id: str | None = None
    bundle_id: str | None = None
    username: str | None = None
    platform: str | None = None
    banned_at: datetime | None = None
    status: str | None = None
    resolution: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class SubscriptionEventData:
    """The data of a ``subscription.*`` (coverage) event. *Inferred*; ``raw`` keeps all."""

    account_id: str | None = None
    saved_account_id: str | None = None
    status: str | None = None
    current_period_end: datetime | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class WarmingEventData:
    """The data of a ``warming.*`` event. *Inferred*; ``raw`` keeps all."""

    account_id: str | None = None
    session_id: str | None = None
    term: str | None = None
    terms_verified: int | None = None
    terms_total: int | None = None
    status: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class CreditsEventData:
    """The data of ``credits.restored``. *Inferred*; ``raw`` keeps all."""

    amount: int | None = None
    total_credits: int | None = None
    reason: str | None = None
    raw: Mapping[str, Any] = _raw()


EventData = (
    AccountEventData
    | BanEventData
    | SubscriptionEventData
    | WarmingEventData
    | CreditsEventData
    | Mapping[str, Any]
)

#: Ban events first: they are ``account.*`` events too.
_BAN_TYPES = frozenset(
    {
        "account.banned",
        "account.ban_appeal.submitted",
        "account.ban_appeal.resolved",
        "account.ban_resolution.decided",
    }
)


def _data_model(event_type: str) -> type | None:
    """The model of an event type's data, or ``None`` for one kept as a mapping."""
    if event_type in _BAN_TYPES:
        return BanEventData
    family = event_type.partition(".")[0]
    return {
        "account": AccountEventData,
        "subscription": SubscriptionEventData,
        "warming": WarmingEventData,
        "credits": CreditsEventData,
    }.get(family)


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One event TokPortal sent: what happened (``type``) and to what (``data``).

    ``id`` is stable across redeliveries: deduplicate on it. ``data`` is typed for the
    account, ban, subscription (coverage), warming and credits events, and a mapping for
    any other type (bundles, videos, ``webhook.test``, types added later).
    """

    id: str
    type: WebhookEventType | str
    created_at: datetime | None = None
    api_version: str | None = None
    data: Any = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class _Envelope:
    id: str
    type: str
    created_at: datetime | None = None
    api_version: str | None = None


_KNOWN_TYPES = {member.value: member for member in WebhookEventType}


def parse_event(payload: bytes | str) -> WebhookEvent:
    """An event from a body already verified (see :func:`construct_event`).

    Raises:
        WebhookPayloadError: the body is not JSON, or not the event envelope.
    """
    try:
        document = loads(payload if isinstance(payload, bytes) else payload.encode("utf-8"))
    except ValueError:
        raise WebhookPayloadError("the webhook body is not valid JSON") from None
    if not isinstance(document, dict):
        raise WebhookPayloadError("the webhook body is not a JSON object")
    try:
        envelope = structure(document, _Envelope)
        data: Any = document.get("data")
        model = _data_model(envelope.type)
        if model is not None:
            data = structure({} if data is None else data, model, path="$.data")
        elif data is None:
            data = {}
    except DecodeError as exc:
        raise WebhookPayloadError(
            "the webhook body is not the event envelope", errors=exc.errors
        ) from None
    return WebhookEvent(
        id=envelope.id,
        type=_KNOWN_TYPES.get(envelope.type, envelope.type),
        created_at=envelope.created_at,
        api_version=envelope.api_version,
        data=data,
    )


def construct_event(
    payload: bytes | str,
    signature: str,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a webhook's signature, then decode it: the one call a receiver needs.

    Example::

        event = webhooks.construct_event(raw_body, signature_header, secret)

    Raises:
        WebhookSignatureError: the signature does not check (see :func:`verify_signature`).
        WebhookPayloadError: signed, but not the event envelope.
    """
    verify_signature(payload, signature, secret, tolerance=tolerance, now=now)
    return parse_event(payload)
