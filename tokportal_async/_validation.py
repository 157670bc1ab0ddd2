"""Argument checks that run before any request, each failing with a clear ``ValueError``.

A bad argument is the caller's bug; finding it locally beats a 400 from the server, costs
no rate-limit budget, and keeps a malformed id from ever reaching a URL.
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote, unquote

from ._constants import MAX_PER_PAGE

__all__ = [
    "check_filter",
    "check_flag",
    "check_page",
    "check_per_page",
    "check_positive_seconds",
    "path_segment",
    "request_method",
    "request_path",
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


def check_flag(name: str, value: object) -> bool | None:
    """``value`` as given, if it is ``True``, ``False`` or ``None`` (a flag left out)."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be True, False or None, got {value!r}")
    return value


def check_positive_seconds(name: str, value: float, *, allow_zero: bool = False) -> None:
    """A duration in seconds: a finite number above zero (or at least zero)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")


#: An id made only of the characters no URL encodes (RFC 3986's unreserved).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


def path_segment(name: str, value: str) -> str:
    """``value`` checked and percent-encoded as one URL path segment.

    Every reserved character is encoded (``/`` and ``?`` and ``#`` among them), so an id
    can never climb to another path or add a query. ``.`` and ``..`` survive encoding as
    themselves and would be resolved as dot-segments, so they are refused.
    """
    if type(value) is str and _UNRESERVED.fullmatch(value) and value not in (".", ".."):
        return value  # what quote() would return: nothing in it to encode (most ids)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{name} cannot be {value!r}")
    return quote(value, safe="")


_METHOD = re.compile(r"[A-Za-z]+")
#: Methods no API call needs, and what they would do with the SDK's request.
_REFUSED_METHODS = {
    "TRACE": "its answer echoes the request back, API key included",
    "TRACK": "its answer echoes the request back, API key included",
    "CONNECT": "it names a host to tunnel to, not a path under base_url",
}
#: A scheme at the start of a path (``https:``, ``javascript:``): the path would be a URL.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: What may stand in a path as it is; everything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def request_method(method: str) -> str:
    """An HTTP method name, upper-cased (``"get"`` is ``"GET"``)."""
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise ValueError(f"method must be an HTTP method name such as 'GET', got {method!r}")
    method = method.upper()
    if method in _REFUSED_METHODS:
        raise ValueError(
            f"method {method} is refused: {_REFUSED_METHODS[method]}; TokPortal's API has "
            "no use for it"
        )
    return method


def request_path(path: str) -> str:
    """A path relative to ``base_url``, checked so it can only name TokPortal's API.

    ``"/credits/balance"`` and ``"credits/balance"`` are the same path. Refused: an
    absolute URL or any scheme, a path starting with ``//`` (another host), ``.`` or
    ``..`` segments (also percent-encoded), a query or fragment (pass ``params=``), a
    backslash, and control characters. Anything else is percent-encoded as needed.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"path must be a non-empty string like '/credits/balance', got {path!r}")
    if _SCHEME.match(path) or path.startswith("//"):
        raise ValueError(
            f"path must be relative to base_url, not a URL or another host: got {path!r}"
        )
    if "?" in path or "#" in path:
        raise ValueError(f"path must not carry a query or fragment (use params=), got {path!r}")
    if "\\" in path or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise ValueError(f"path must not contain backslashes or control characters: {path!r}")
    segments = path.split("/")
    if any(unquote(segment) in (".", "..") for segment in segments):
        raise ValueError(f"path must not contain '.' or '..' segments, got {path!r}")
    if any("/" in unquote(segment) or "\\" in unquote(segment) for segment in segments):
        raise ValueError(f"path must not contain an encoded slash or backslash: {path!r}")
    return quote(path if path.startswith("/") else "/" + path, safe=_PATH_SAFE)


def check_count(name: str, value: object, *, minimum: int) -> int:
    """``value`` as given, if it is a whole number of at least ``minimum``; else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_retries(max_retries: object) -> int:
    """``max_retries``: how many times a request may be sent again, 0 or more."""
    return check_count("max_retries", max_retries, minimum=0)
