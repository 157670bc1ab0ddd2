"""Idempotency keys and the dry-run switch: the headers that make a paid write safe.

A ``standard`` write (TokPortal's term) takes an ``Idempotency-Key``: TokPortal stores
the first answer under the key and replays it, with ``Idempotent-Replayed: true``, for any
later request with the same key, instead of acting (and charging) again. So the SDK sends
one key per call, the same on every retry of that call: a write whose outcome is unknown
(a timeout, a reset, a 5xx) can then be retried like a read. A fresh call gets a fresh
key, so a deliberate second edit request is a second edit request.
"""

from __future__ import annotations

import re
import uuid

__all__ = [
    "DRY_RUN_HEADER",
    "IDEMPOTENCY_HEADER",
    "REPLAYED_HEADER",
    "idempotency_key",
    "write_headers",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DRY_RUN_HEADER = "X-TokPortal-Dry-Run"
#: Printable ASCII without spaces: a header value that no proxy rewrites or splits.
_KEY = re.compile(r"[!-~]{1,255}")


def idempotency_key(key: str | None) -> str:
    """The caller's key, checked, or a new random one (a UUID4, 122 random bits)."""
    if key is None:
        return str(uuid.uuid4())
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        # The value is not repeated: a key may be derived from something private.
        raise ValueError(
            "idempotency_key must be 1 to 255 printable ASCII characters without spaces, "
            f"got a {type(key).__name__}"
            + (f" of {len(key)} characters" if isinstance(key, str) else "")
        )
    return key


def check_dry_run(dry_run: object) -> bool:
    """``dry_run`` as given, if it is a bool."""
    if not isinstance(dry_run, bool):
        raise ValueError(f"dry_run must be True or False, got {dry_run!r}")
    return dry_run


def write_headers(key: str, *, dry_run: bool = False) -> dict[str, str]:
    """The headers of one keyed write: its key, and the dry-run switch when previewing."""
    headers = {IDEMPOTENCY_HEADER: key}
    if dry_run:
        headers[DRY_RUN_HEADER] = "true"
    return headers
