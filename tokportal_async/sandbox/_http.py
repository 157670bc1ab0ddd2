"""What every sandbox handler shares: errors, keys, parameters, pages, accounts.

The error envelope, the caller's key, query parameters, pages, and the account a
request is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import uuid
from collections.abc import Callable, Collection
from typing import Any

from aiohttp import web

from ._faults import Fault
from ._state import SandboxState

__all__ = [
    "API_PREFIX",
    "KEY",
    "NOT_SERVED",
    "STATE_KEY",
    "STOPPING_KEY",
    "Refusal",
    "accounts_of",
    "authenticate",
    "choice_param",
    "error_response",
    "int_param",
    "live_only",
    "misbehave",
    "owned_account",
    "paginate",
    "parse_json",
    "request_id",
    "state_of",
    "unserved",
]

API_PREFIX = "/api/ext"
STATE_KEY = web.AppKey("tokportal_sandbox_state", SandboxState)
#: Set when the sandbox stops, so stalled requests end instead of holding shutdown up.
STOPPING_KEY = web.AppKey("tokportal_sandbox_stopping", asyncio.Event)
_PROXY_502_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)

#: Set when the sandbox stops, so stalled requests end instead of holding shutdown up.

KEY = web.RequestKey("tokportal_sandbox_key", str)

_DEFAULT_PER_PAGE = 25
_MAX_PER_PAGE = 100


class Refusal(Exception):
    """An error answer, raised from deep in a handler and rendered by the middleware."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def request_id() -> str:
    """A fresh ``X-TokPortal-Request-ID`` value, shaped like the live API's."""
    return f"req_{uuid.uuid4().hex[:24]}"


def error_response(refusal: Refusal) -> web.Response:
    error: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
    if refusal.details is not None:
        error["details"] = refusal.details
    return web.json_response({"error": error}, status=refusal.status)


def state_of(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def authenticate(request: web.Request, state: SandboxState) -> str:
    key = request.headers.get("X-API-Key")
    if not key:
        raise Refusal(401, "AUTH_MISSING_KEY", "Missing X-API-Key header.")
    if key in state.revoked_keys:
        raise Refusal(401, "AUTH_REVOKED_KEY", "This API key has been revoked.")
    if key not in (state.api_key, state.other_api_key):
        raise Refusal(401, "AUTH_INVALID_KEY", "Invalid API key.")
    return key


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or the 400 a body that is not JSON gets."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        raise Refusal(400, "VALIDATION_ERROR", "The body is not valid JSON.") from None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise Refusal(
            400,
            "VALIDATION_ERROR",
            f"{name} must be an integer from {low} to {high}.",
            {"field": name, "value": raw},
        )
    return value


def choice_param(request: web.Request, name: str, allowed: Collection[str]) -> str | None:
    raw = request.query.get(name)
    if raw is not None and raw not in allowed:
        raise Refusal(
            400,
            "VALIDATION_ERROR",
            f"{name} must be one of: {', '.join(sorted(allowed))}.",
            {"field": name, "value": raw},
        )
    return raw


def paginate(
    request: web.Request,
    items: list[dict[str, Any]],
    fields: Callable[[dict[str, Any]], dict[str, Any]],
) -> web.Response:
    page = int_param(request, "page", 1, 1, 1_000_000)
    per_page = int_param(request, "per_page", _DEFAULT_PER_PAGE, 1, _MAX_PER_PAGE)
    total = len(items)
    start = (page - 1) * per_page
    return web.json_response(
        {
            "data": [fields(item) for item in items[start : start + per_page]],
            "pagination": {
                "page": page,
                "per_page": per_page,
                "total": total,
                "total_pages": math.ceil(total / per_page),
            },
        }
    )


#: The code of an answer to a path under the API that the sandbox does not play: not
#: NOT_FOUND, whose advice (check base_url) would be wrong here.
NOT_SERVED = "SANDBOX_ENDPOINT_NOT_SERVED"


def unserved(request: web.Request) -> Refusal:
    """The 404 for a path the sandbox has no handler for."""
    if not request.path.startswith(API_PREFIX + "/"):
        return Refusal(404, "NOT_FOUND", "No such endpoint.")
    operation = f"{request.method} {request.path.removeprefix(API_PREFIX)}"
    return Refusal(
        404,
        NOT_SERVED,
        f"The sandbox does not serve {operation}: it plays TokPortal's accounts, bans, webhooks, "
        "credits and policy operations only. Try this call against TokPortal itself",
        {"method": request.method, "path": request.path.removeprefix(API_PREFIX)},
    )


def live_only(state: SandboxState) -> None:
    if not state.live:
        raise Refusal(
            404,
            NOT_SERVED,
            "The sandbox's seed profile does not serve this endpoint: the original Accounts "
            "page has no such operation. Use the live profile",
        )


def accounts_of(request: web.Request) -> list[dict[str, Any]]:
    """The accounts of the key that made the request, in list order."""
    state = state_of(request)
    if request[KEY] == state.api_key:
        return state.accounts
    return [a for a in (state.find(i)[0] for i in state.foreign_account_ids) if a]


def owned_account(request: web.Request) -> dict[str, Any]:
    account_id = request.match_info["account_id"]
    account, owner = state_of(request).find(account_id)
    if account is None:
        raise Refusal(
            404, "SAVED_ACCOUNT_NOT_FOUND", "Saved account not found.", {"id": account_id}
        )
    if owner != request[KEY]:
        raise Refusal(403, "SAVED_ACCOUNT_NOT_OWNED", "This account belongs to another user.")
    return account


async def misbehave(request: web.Request, fault: Fault) -> web.StreamResponse:
    """Answer as a failing server or proxy would."""
    id_header = {"X-TokPortal-Request-ID": request_id()}
    if fault is Fault.STALL:
        stopping = request.app[STOPPING_KEY]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), state_of(request).faults.stall_seconds)
    if fault in (Fault.DROP, Fault.STALL):
        # Hang up without a word; aiohttp then has nowhere to write the empty answer.
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)
    if fault is Fault.HTML_502:
        return web.Response(
            status=502, text=_PROXY_502_PAGE, content_type="text/html", headers=id_header
        )
    status = int(fault.value)
    response = error_response(
        Refusal(status, "INTERNAL_ERROR" if status == 500 else "UPSTREAM_UNAVAILABLE",
                 "The sandbox failed on purpose (fault injection).")
    )  # fmt: skip
    response.headers.update(id_header)
    if status == 503:
        response.headers["Retry-After"] = "0"
    return response
