"""A real, local TokPortal for tests, demos and development: ``tokportal_async.sandbox``.

It serves the four Accounts endpoints over HTTP from generated, deterministic data, with
the documented errors, pagination and request ids, and optionally the live API's policy
flow for verification codes. Start it with ``python -m tokportal_async.sandbox`` or
in-process with ``async with Sandbox() as sandbox``, or from a background thread for
synchronous code with ``with serve_in_thread() as sandbox``.

A sandbox-only endpoint, ``POST /api/ext/_sandbox/accounts/{id}/verification-code/trigger``
(query ``delay_seconds``), sends a verification code to an account's inbox, as requesting a
login code on TikTok would.
"""

from ._app import API_PREFIX, create_app
from ._faults import Fault, FaultPlan
from ._limits import TokenBuckets
from ._server import Sandbox
from ._state import RecordedRequest, SandboxState
from ._thread import serve_in_thread

__all__ = [
    "API_PREFIX",
    "Fault",
    "FaultPlan",
    "RecordedRequest",
    "Sandbox",
    "SandboxState",
    "TokenBuckets",
    "create_app",
    "serve_in_thread",
]
