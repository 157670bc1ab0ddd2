"""Checking a webhook's ``TokPortal-Signature``: HMAC-SHA256 over ``t`` + ``.`` + the body.

The header reads ``t=<unix seconds>,v1=<hex digest>``; several ``v1`` entries (while a
secret is rotated) are each tried. The digest is computed over the *raw* bytes of the
body, before any JSON parsing, and compared in constant time. A timestamp further than
``tolerance`` seconds from now, in the past (a replay) or in the future (a skewed or
forged clock), is refused. No error message repeats the secret or the expected digest.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from .._errors import TokPortalError

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "WebhookSignatureError",
    "check_tolerance",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "TokPortal-Signature"
EVENT_ID_HEADER = "TokPortal-Event-Id"
EVENT_TYPE_HEADER = "TokPortal-Event-Type"
#: Seconds a signature stays valid either side of its timestamp (TokPortal's SDKs' default).
DEFAULT_TOLERANCE = 300
#: The longest header read: a few ``v1`` entries fit; a flood does not get parsed.
_MAX_HEADER = 4096


class WebhookSignatureError(TokPortalError):
    """A webhook's signature does not prove TokPortal sent this body, now.

    The message says which check failed; it never holds the secret or the digest expected.

    Attributes:
        reason: ``"malformed_header"``, ``"no_v1_signature"``, ``"timestamp_too_old"``,
            ``"timestamp_in_future"`` or ``"mismatch"``.
    """

    reason: str

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


def _checked_secret(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("secret must be the endpoint's non-empty signing_secret")
    return secret


def check_tolerance(tolerance: float) -> float:
    """``tolerance`` as seconds, if it is a positive finite number."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise ValueError(f"tolerance must be a number of seconds, got {tolerance!r}")
    if not math.isfinite(tolerance) or tolerance <= 0:
        raise ValueError(f"tolerance must be a finite number of seconds > 0, got {tolerance!r}")
    return float(tolerance)


def _body(payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ValueError(f"payload must be the raw body (bytes), got {type(payload).__name__}")
    return bytes(payload)


def _parse(header: str) -> tuple[int, list[str]]:
    """``(timestamp, [v1 digests])`` of a signature header, or the error saying why not."""
    if not isinstance(header, str) or not header.strip() or len(header) > _MAX_HEADER:
        raise WebhookSignatureError(
            "the TokPortal-Signature header is missing, empty or too long",
            reason="malformed_header",
        )
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                raise WebhookSignatureError(
                    "the TokPortal-Signature timestamp (t=) is not a whole number of seconds",
                    reason="malformed_header",
                )
            timestamp = int(value)
        elif key == "v1":
            digests.append(value.strip().lower())
    if timestamp is None:
        raise WebhookSignatureError(
            "the TokPortal-Signature header has no timestamp (t=)", reason="malformed_header"
        )
    if not digests:
        raise WebhookSignatureError(
            "the TokPortal-Signature header has no v1 signature", reason="no_v1_signature"
        )
    return timestamp, digests


def sign(payload: bytes | str, secret: str | bytes, *, timestamp: int | None = None) -> str:
    """The ``TokPortal-Signature`` header TokPortal would send for ``payload``.

    For tests, and for forwarding an event to your own app signed as TokPortal would.
    """
    moment = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(
        _checked_secret(secret), f"{moment}.".encode() + _body(payload), hashlib.sha256
    ).hexdigest()
    return f"t={moment},v1={digest}"


def verify_signature(
    payload: bytes | str,
    signature: str,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Check that TokPortal signed ``payload`` (the raw body) with ``secret``, recently.

    Returns ``True``; anything else raises.

    Args:
        payload: the request body exactly as received (bytes; never re-serialized JSON).
        signature: the ``TokPortal-Signature`` header.
        secret: the endpoint's ``signing_secret``.
        tolerance: how many seconds the timestamp may be from ``now``, either way.
        now: the current Unix time (for tests); the clock by default.

    Raises:
        WebhookSignatureError: the header is malformed or has no ``v1``, the timestamp
            is too old or in the future, or no signature matches.
        ValueError: an empty secret, a tolerance that is not a positive number.
    """
    key = _checked_secret(secret)
    window = check_tolerance(tolerance)
    body = _body(payload)
    timestamp, digests = _parse(signature)
    current = time.time() if now is None else now
    if timestamp < current - window:
        raise WebhookSignatureError(
            f"the signature's timestamp is {current - timestamp:.0f}s old, beyond the "
            f"{window:g}s tolerance: a replay, or a delivery held up too long",
            reason="timestamp_too_old",
        )
    if timestamp > current + window:
        raise WebhookSignatureError(
            f"the signature's timestamp is {timestamp - current:.0f}s in the future, beyond "
            f"the {window:g}s tolerance: check this machine's clock",
            reason="timestamp_in_future",
        )
    expected = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Every candidate is compared, so the time taken does not say which one was close.
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(expected, digest)
    if not matched:
        raise WebhookSignatureError(
            "no v1 signature matches the body: the body was changed, or it was signed with "
            "another secret",
            reason="mismatch",
        )
    return True
