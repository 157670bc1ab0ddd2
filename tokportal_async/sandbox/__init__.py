"""A real, local TokPortal for tests, demos and development: ``tokportal_async.sandbox``.

It serves the Accounts endpoints over HTTP from generated, deterministic data, with the
documented errors, pagination and request ids. The ``live`` profile (the default) plays
TokPortal's API as it is now: credentials and codes behind the two-step policy, credits,
bans, coverage, edit requests, rewarms, analytics, keyed writes replayed under their
``Idempotency-Key``, dry runs, and the version headers; the ``seed`` profile plays its
original Accounts page.
Start it with ``python -m tokportal_async.sandbox`` or
in-process with ``async with Sandbox() as sandbox``, or from a background thread for
synchronous code with ``with serve_in_thread() as sandbox``.

Three sandbox-only endpoints stage a scene from outside the process (``tokportal-async
stage`` uses them): ``POST /api/ext/_sandbox/accounts/{id}/verification-code/trigger``
(query ``delay_seconds``) sends a verification code to an account's inbox, as requesting a
login code on TikTok would; ``POST /api/ext/_sandbox/accounts/{id}/acknowledge`` records
the account owner's acceptance of the policy, as an earlier accepted call would; and
``POST /api/ext/_sandbox/accounts/{id}/coverage`` (query ``status``, ``price``) sets the
account's coverage.
"""

from ._app import API_PREFIX, create_app
from ._faults import Fault, FaultPlan
from ._limits import TokenBuckets
from ._options import SandboxOptions
from ._server import Sandbox
from ._state import PROFILES, Profile, RecordedRequest, SandboxState
from ._thread import serve_in_thread

__all__ = [
    "API_PREFIX",
    "PROFILES",
    "Fault",
    "FaultPlan",
    "Profile",
    "RecordedRequest",
    "Sandbox",
    "SandboxOptions",
    "SandboxState",
    "TokenBuckets",
    "create_app",
    "serve_in_thread",
]
