"""How long an answer asks to wait.

``Retry-After`` (seconds or an HTTP date), else ``details.retry_after_seconds``. Pure, and
read once per answer (``RawResponse.retry_after``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["parse_retry_after"]


def parse_retry_after(
    headers: Mapping[str, str],
    details: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or the error details.

    The header is canonical; ``details.retry_after_seconds`` is the fallback. A value in
    the past is 0; an unreadable one, or a date too far away to represent, is ignored.
    """
    header = headers.get("Retry-After")
    if header is not None:
        header = header.strip()
        seconds: float | None
        try:
            seconds = float(header)
        except ValueError:
            seconds = _seconds_until_http_date(header, now)
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    fallback = (details or {}).get("retry_after_seconds")
    if (
        isinstance(fallback, int | float)
        and not isinstance(fallback, bool)
        and math.isfinite(fallback)
    ):
        return max(0.0, float(fallback))
    return None


def _seconds_until_http_date(value: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # a year past 9999 overflows a C long
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; obsolete forms may omit it
        when = when.replace(tzinfo=UTC)
    try:
        return (when - (now or datetime.now(UTC))).total_seconds()
    except OverflowError:
        return None
