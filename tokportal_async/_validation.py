"""Argument checks that run before any request, each failing with a clear ``ValueError``.

A bad argument is the caller's bug; finding it locally beats a 400 from the server, costs
no rate-limit budget, and keeps a malformed id from ever reaching a URL.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from ._constants import MAX_PER_PAGE

__all__ = [
    "check_filter",
    "check_page",
    "check_per_page",
    "check_positive_seconds",
    "path_segment",
]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_page(page: int | None) -> None:
    """``page`` is 1-based."""
    if page is not None and (not _is_int(page) or page < 1):
        raise ValueError(f"page must be an integer >= 1, got {page!r}")


def check_per_page(per_page: int | None) -> None:
    """``per_page`` is 1..100; the server refuses more than 100."""
    if per_page is not None and (not _is_int(per_page) or not 1 <= per_page <= MAX_PER_PAGE):
        raise ValueError(f"per_page must be an integer from 1 to {MAX_PER_PAGE}, got {per_page!r}")


def check_filter(name: str, value: str | None) -> None:
    """A string filter, when given, is a non-blank string; its values are the server's call.

    Values are deliberately not checked against a list: TokPortal adds platforms and
    statuses over time, and country codes follow no one standard (``UK``, not ``GB``).
    """
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{name} must be a non-empty string when given, got {value!r}")


def check_positive_seconds(name: str, value: float, *, allow_zero: bool = False) -> None:
    """A duration in seconds: a finite number above zero (or at least zero)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")


def path_segment(name: str, value: str) -> str:
    """``value`` checked and percent-encoded as one URL path segment.

    Every reserved character is encoded (``/`` and ``?`` and ``#`` among them), so an id
    can never climb to another path or add a query. ``.`` and ``..`` survive encoding as
    themselves and would be resolved as dot-segments, so they are refused.
    """
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{name} cannot be {value!r}")
    return quote(value, safe="")
