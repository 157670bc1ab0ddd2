r"""The JSON parser: orjson when the ``speed`` extra installed it, else the standard one.

The choice changes the speed, never the outcome. orjson is the stricter of the two, so the
standard library's parser is held to orjson's rules: no ``NaN`` or ``Infinity``, no number
that overflows to infinity (``1e400``), no byte-order mark, no lone surrogate escape
(``"\\ud800"``), no invalid UTF-8, and nesting too deep to parse is refused rather than
raising ``RecursionError``. Integers past 64 bits become floats, as orjson makes them.
Every refusal is a ``ValueError``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads", "stdlib_loads"]

#: orjson's integer range: unsigned 64-bit above zero, signed 64-bit below.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: A ``\uD800``-``\uDFFF`` escape: a surrogate, which must come in a valid pair.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]!r} is infinity when parsed as double")
    return value


def _int64_or_float(text: str) -> int | float:
    value = int(text)
    if _INT_MIN <= value <= _INT_MAX:
        return value
    return _finite_float(text)


def _check_strings(value: Any) -> None:
    """Refuse any string (key or value) holding a lone surrogate: it is not Unicode text."""
    pending = [value]
    while pending:  # a loop, not recursion: the document may be deep
        item = pending.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def stdlib_loads(body: bytes) -> Any:
    """The standard library's parser, held to orjson's rules (see the module docstring)."""
    text = body.decode("utf-8")  # strict; a BOM stays a character that json refuses
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_int64_or_float,
        )
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None
    if _SURROGATE_ESCAPE.search(body):  # rare (escaped emoji): only then walk the strings
        _check_strings(value)
    return value


loads: Callable[[bytes], Any]
try:
    import orjson
except ImportError:  # the speed extra is not installed
    loads = stdlib_loads
else:
    loads = orjson.loads


def dumps(value: Any, *, name: str = "json") -> bytes:
    """``value`` as a JSON request body (UTF-8), or a ``ValueError`` saying why it is not one.

    Encoded before a request is built, so that a value the encoder refuses (a
    ``datetime``, a ``set``, ``bytes``, a cycle) fails here, in a frame that holds only
    the value, and never inside the HTTP client, whose frames hold the request headers
    (the API key among them) for error trackers that record locals. ``NaN`` and
    ``Infinity`` are not JSON, and are refused too.
    """
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        raise ValueError(f"{name} is nested too deeply to send as JSON") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} cannot be sent as JSON: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not Unicode text
        raise ValueError(f"{name} holds a string that is not valid Unicode") from None
