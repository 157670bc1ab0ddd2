"""The models of webhook endpoint management: endpoints, deliveries, the event catalog."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._models import _secret, raw_field
from ._public import show_as_public

__all__ = ["WebhookDelivery", "WebhookEndpoint", "WebhookEventDescription"]


@attrs.frozen(kw_only=True)
class WebhookEndpoint:
    """A URL TokPortal sends events to, and which events.

    ``signing_secret`` comes once, in the answer to ``tp.webhooks.create``: store it
    then (it verifies every event). Its ``repr()`` shows ``'***'``; everywhere else it is
    ``None``.
    """

    id: str
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    signing_secret: str | None = _secret()


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """One attempt to deliver an event to an endpoint, and how it went.

    *Inferred* beyond ``id``: ``raw`` keeps the whole record.
    """

    id: str
    endpoint_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    success: bool | None = None
    status_code: int | None = None
    attempt: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class WebhookEventDescription:
    """One event type TokPortal sends (from ``GET /webhooks/events``)."""

    type: str
    description: str | None = None
    raw: Mapping[str, Any] = raw_field()


show_as_public(globals())
