"""Text from the server made safe to show: no control characters.

A server's message reaches terminals and log files; a carriage return, an ANSI escape or a
form feed in it could rewrite what a user sees. Every such character is shown escaped.
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str, *, limit: int | None = None) -> str:
    r"""``text`` with every non-printable character escaped (``\r``, ``\x1b``...).

    ``limit`` cuts the result to that many characters, marking the cut with ``...``.
    """
    if not text.isprintable():
        text = "".join(char if char.isprintable() else _escaped(char) for char in text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 3)] + "..."
    return text


def _escaped(char: str) -> str:
    escaped = repr(char)[1:-1]
    # repr leaves some non-printable characters (U+2028...) as they are.
    return escaped if escaped != char else f"\\u{ord(char):04x}"
