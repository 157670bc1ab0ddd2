"""What the tests of misbehaving servers share: an account, its answers, a key to look for.

Each such test names a defect found by trying the SDK against broken servers; it failed
before the fix. Hang guards (``fail_after``) only turn a hang into a failure: nothing
asserts on how long a call took.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

ACCOUNT_ID = "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"
DETAIL = {"data": {"id": ACCOUNT_ID, "platform": "tiktok", "created_at": "2026-01-10T08:00:00Z"}}
CODE = {"data": {"account_id": ACCOUNT_ID, "verification_code": "123456", "source": "email"}}
#: A guard against hangs, far above any honest run: hitting it is the failure.
HANG_GUARD = 30


KEY = "sk_" + "ab" * 32
BROKEN_HTTP = {
    "bad status line": b"HTTP/1.1 abc OK\r\n\r\n",
    "bad header line": b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_8.9\r\n",
    "header over 8 KB": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
    "bad chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
}


def reachable(error: BaseException) -> Iterator[BaseException]:
    """Every exception reachable from ``error``: causes, contexts, exceptions in args."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += [a for a in current.args if isinstance(a, BaseException)]


def assert_no_key(error: BaseException, key: str = KEY) -> None:
    for exc in reachable(error):
        state = vars(exc) if hasattr(exc, "__dict__") else {}
        for text in (repr(exc), str(exc), repr(exc.args), repr(state)):
            assert key not in text, (type(exc), text)
        assert key not in repr(getattr(exc, "__notes__", None))
    # Every frame's locals, as traceback's capture_locals shows them, but the test's own
    # (the test holds the key itself, in its server's script).
    pending = [traceback.TracebackException.from_exception(error, capture_locals=True)]
    while pending:
        report = pending.pop()
        for frame in report.stack:
            if "/tests/" not in frame.filename:
                assert key not in repr(frame.locals), frame.filename
        pending += [r for r in (report.__cause__, report.__context__) if r is not None]


def account(n: int) -> dict[str, Any]:
    """A listed account, as the API sends it, with the id ``acc-<n>``."""
    return {"id": f"acc-{n}", "platform": "tiktok", "created_at": "2026-01-10T08:00:00Z"}
