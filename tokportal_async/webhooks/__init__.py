"""TokPortal's webhooks: verify a signature, decode an event, receive events once.

Importing this module does not load the HTTP client (only a receiver's ``handle`` loads
aiohttp, when a request comes), so a receiver in any framework pays for what it uses::

    from tokportal_async import webhooks

    event = webhooks.construct_event(raw_body, signature_header, secret)
    if event.type == "account.banned":
        print(event.data.username, event.data.banned_at)

``WebhookReceiver`` does the whole job in an aiohttp app: bounded body, signature first,
deduplication on the event id (in memory, or in Redis for many receivers), and answers
that make TokPortal redeliver what failed.
"""

import attrs

from ._dedup import (
    DEFAULT_PROCESSING_TIMEOUT,
    DEFAULT_TTL,
    Claim,
    Deduplicator,
    InMemoryDeduplicator,
    RedisDeduplicator,
)
from ._events import (
    AccountEventData,
    BanEventData,
    CreditsEventData,
    SubscriptionEventData,
    WarmingEventData,
    WebhookEvent,
    WebhookEventType,
    WebhookPayloadError,
    construct_event,
    parse_event,
)
from ._receiver import DEFAULT_MAX_BODY_BYTES, EventHandler, WebhookReceiver
from ._signature import (
    DEFAULT_TOLERANCE,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    WebhookSignatureError,
    sign,
    verify_signature,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_PROCESSING_TIMEOUT",
    "DEFAULT_TOLERANCE",
    "DEFAULT_TTL",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "AccountEventData",
    "BanEventData",
    "Claim",
    "CreditsEventData",
    "Deduplicator",
    "EventHandler",
    "InMemoryDeduplicator",
    "RedisDeduplicator",
    "SubscriptionEventData",
    "WarmingEventData",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookSignatureError",
    "construct_event",
    "parse_event",
    "sign",
    "verify_signature",
]

# Shown as tokportal_async.webhooks.X (reprs, tracebacks, the docs), where users import it.
# Annotations are resolved first, in the defining module: they name its imports.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and _value.__module__.startswith(__name__ + "."):
        if attrs.has(_value):
            attrs.resolve_types(_value)
        _value.__module__ = __name__
del _name, _value
