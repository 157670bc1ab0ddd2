"""The sandbox's aiohttp application: the Accounts endpoints, served faithfully.

Every answer carries ``X-TokPortal-Request-ID``; every error uses the documented envelope
``{"error": {"code", "message", "details"}}`` with the documented codes and statuses. The
live profile adds what TokPortal serves now: ``reveal-credentials`` and the verification
code behind the policy flow, credits, ``/account-bans`` and the version headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from ._data import BAN_RESOLUTIONS, BAN_STATUSES, LIVE_BUNDLE_STATUSES
from ._faults import Fault
from ._state import RecordedRequest, SandboxState

__all__ = ["API_PREFIX", "STATE_KEY", "STOPPING_KEY", "create_app"]

API_PREFIX = "/api/ext"
STATE_KEY = web.AppKey("tokportal_sandbox_state", SandboxState)
#: Set when the sandbox stops, so stalled requests end instead of holding shutdown up.
STOPPING_KEY = web.AppKey("tokportal_sandbox_stopping", asyncio.Event)
_CONTROL_PREFIX = f"{API_PREFIX}/_sandbox/"
_PROXY_502_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)
_KEY = web.RequestKey("tokportal_sandbox_key", str)
#: Bytes of each request body the request log keeps: the API's bodies are tiny, and a
#: client flooding the sandbox with large ones must not grow its memory.
MAX_RECORDED_BODY = 4096

_LIST_FIELDS = (
    "id", "platform", "username", "visible_name", "biography", "profile_picture_url",
    "country", "link_in_bio", "profile_url", "tokmail_email", "created_at", "updated_at",
)  # fmt: skip
_PLATFORMS = frozenset({"tiktok", "instagram", "youtube"})
#: The headers the live API adds to every answer.
_LIVE_HEADERS = {"X-TokPortal-API-Version": "2026-05-25", "X-TokPortal-API-Stability": "stable"}
_DEFAULT_PER_PAGE = 25
_MAX_PER_PAGE = 100

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refusal(Exception):
    """An error answer, raised from deep in a handler and rendered by the middleware."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _request_id() -> str:
    """A fresh ``X-TokPortal-Request-ID`` value, shaped like the live API's."""
    return f"req_{uuid.uuid4().hex[:24]}"


def _error_response(refusal: _Refusal) -> web.Response:
    error: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
    if refusal.details is not None:
        error["details"] = refusal.details
    return web.json_response({"error": error}, status=refusal.status)


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def _authenticate(request: web.Request, state: SandboxState) -> str:
    key = request.headers.get("X-API-Key")
    if not key:
        raise _Refusal(401, "AUTH_MISSING_KEY", "Missing X-API-Key header.")
    if key in state.revoked_keys:
        raise _Refusal(401, "AUTH_REVOKED_KEY", "This API key has been revoked.")
    if key not in (state.api_key, state.other_api_key):
        raise _Refusal(401, "AUTH_INVALID_KEY", "Invalid API key.")
    return key


@web.middleware
async def _api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = _state(request)
    body = await request.read()
    headers = CIMultiDict(request.headers)
    headers.popall("X-API-Key", None)
    state.record(
        RecordedRequest(
            method=request.method,
            path=request.raw_path.split("?", 1)[0],
            query=dict(request.query),
            headers=headers,
            body=body[:MAX_RECORDED_BODY],  # the log stays small, whatever is sent
        )
    )
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        return await _answer(request, handler, state)
    finally:
        state.in_flight -= 1


async def _answer(
    request: web.Request, handler: Handler, state: SandboxState
) -> web.StreamResponse:
    if state.latency > 0:
        await asyncio.sleep(state.latency)  # the server's own slowness, not a test's wait
    fault = None
    if not request.raw_path.startswith(_CONTROL_PREFIX):
        fault = state.faults.draw(f"{request.method} {request.raw_path}")
    if fault is not None and fault is not Fault.TRUNCATE:
        return await _misbehave(request, fault)
    limit_headers: dict[str, str] = {}
    try:
        key = request[_KEY] = _authenticate(request, state)
        if state.rate_limiter is not None:
            decision = state.rate_limiter.take(key)
            limit_headers = decision.headers
            if not decision.allowed:
                raise _Refusal(
                    429,
                    "RATE_LIMIT_EXCEEDED",
                    "Rate limit exceeded. Slow down and retry after the indicated time.",
                    {"retry_after_seconds": decision.retry_after},
                )
        response = await handler(request)
    except _Refusal as refusal:
        response = _error_response(refusal)
    except web.HTTPNotFound:
        response = _error_response(_unserved(request))
    except web.HTTPMethodNotAllowed:
        response = _error_response(
            _Refusal(405, "METHOD_NOT_ALLOWED", "Method not allowed on this endpoint.")
        )
    response.headers.update(limit_headers)
    response.headers["X-TokPortal-Request-ID"] = _request_id()
    if state.live:
        response.headers.update(_LIVE_HEADERS)
    if fault is Fault.TRUNCATE and isinstance(response, web.Response) and response.body:
        return await _truncate(request, response)
    return response


async def _misbehave(request: web.Request, fault: Fault) -> web.StreamResponse:
    """Answer as a failing server or proxy would."""
    request_id = {"X-TokPortal-Request-ID": _request_id()}
    if fault is Fault.STALL:
        stopping = request.app[STOPPING_KEY]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), _state(request).faults.stall_seconds)
    if fault in (Fault.DROP, Fault.STALL):
        # Hang up without a word; aiohttp then has nowhere to write the empty answer.
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)
    if fault is Fault.HTML_502:
        return web.Response(
            status=502, text=_PROXY_502_PAGE, content_type="text/html", headers=request_id
        )
    status = int(fault.value)
    response = _error_response(
        _Refusal(status, "INTERNAL_ERROR" if status == 500 else "UPSTREAM_UNAVAILABLE",
                 "The sandbox failed on purpose (fault injection).")
    )  # fmt: skip
    response.headers.update(request_id)
    if status == 503:
        response.headers["Retry-After"] = "0"
    return response


async def _truncate(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the headers and half of the body, promising all of it, then hang up."""
    body = response.body
    assert isinstance(body, bytes)
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    assert request.transport is not None
    request.transport.close()
    return stream


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _Refusal(
            400,
            "VALIDATION_ERROR",
            f"{name} must be an integer from {low} to {high}.",
            {"field": name, "value": raw},
        )
    return value


def _choice_param(request: web.Request, name: str, allowed: Collection[str]) -> str | None:
    raw = request.query.get(name)
    if raw is not None and raw not in allowed:
        raise _Refusal(
            400,
            "VALIDATION_ERROR",
            f"{name} must be one of: {', '.join(sorted(allowed))}.",
            {"field": name, "value": raw},
        )
    return raw


def _paginate(
    request: web.Request,
    items: list[dict[str, Any]],
    fields: Callable[[dict[str, Any]], dict[str, Any]],
) -> web.Response:
    page = _int_param(request, "page", 1, 1, 1_000_000)
    per_page = _int_param(request, "per_page", _DEFAULT_PER_PAGE, 1, _MAX_PER_PAGE)
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


def _list_fields(account: dict[str, Any], *, live: bool) -> dict[str, Any]:
    fields = {name: account[name] for name in _LIST_FIELDS}
    if live:
        # The live API flags bans, and sends null where the original page shows strings.
        fields["banned"] = account["banned"]
        fields["biography"] = account["biography"] or None
    return fields


#: The code of an answer to a path under the API that the sandbox does not play: not
#: NOT_FOUND, whose advice (check base_url) would be wrong here.
NOT_SERVED = "SANDBOX_ENDPOINT_NOT_SERVED"


def _unserved(request: web.Request) -> _Refusal:
    """The 404 for a path the sandbox has no handler for."""
    if not request.path.startswith(API_PREFIX + "/"):
        return _Refusal(404, "NOT_FOUND", "No such endpoint.")
    operation = f"{request.method} {request.path.removeprefix(API_PREFIX)}"
    return _Refusal(
        404,
        NOT_SERVED,
        f"The sandbox does not serve {operation}: it plays TokPortal's accounts, bans and "
        "policy operations only. Try this call against TokPortal itself",
        {"method": request.method, "path": request.path.removeprefix(API_PREFIX)},
    )


def _live_only(state: SandboxState) -> None:
    if not state.live:
        raise _Refusal(
            404,
            NOT_SERVED,
            "The sandbox's seed profile does not serve this endpoint: the original Accounts "
            "page has no such operation. Use the live profile",
        )


def _accounts_of(request: web.Request) -> list[dict[str, Any]]:
    """The accounts of the key that made the request, in list order."""
    state = _state(request)
    if request[_KEY] == state.api_key:
        return state.accounts
    return [a for a in (state.find(i)[0] for i in state.foreign_account_ids) if a]


def _owned_account(request: web.Request) -> dict[str, Any]:
    account_id = request.match_info["account_id"]
    account, owner = _state(request).find(account_id)
    if account is None:
        raise _Refusal(
            404, "SAVED_ACCOUNT_NOT_FOUND", "Saved account not found.", {"id": account_id}
        )
    if owner != request[_KEY]:
        raise _Refusal(403, "SAVED_ACCOUNT_NOT_OWNED", "This account belongs to another user.")
    return account


async def list_accounts(request: web.Request) -> web.Response:
    """``GET /accounts``: filters ``platform``, ``country``, ``banned``; paginated."""
    state = _state(request)
    platform = _choice_param(request, "platform", _PLATFORMS)
    banned = _choice_param(request, "banned", ("true", "false"))
    country = request.query.get("country")
    matching = [
        account
        for account in _accounts_of(request)
        if (platform is None or account["platform"] == platform)
        and (country is None or account["country"].upper() == country.upper())
        and (banned is None or account["banned"] == (banned == "true"))
    ]
    return _paginate(request, matching, functools.partial(_list_fields, live=state.live))


async def get_account(request: web.Request) -> web.Response:
    """``GET /accounts/:id``: the listing's fields plus the detail fields.

    Live: metadata only ("ordinary account tools never return passwords or codes").
    The original page (the seed profile): with ``credentials`` and ``last_verification_code``.
    """
    state = _state(request)
    account = _owned_account(request)
    data = _list_fields(account, live=state.live)
    if not state.omit_credentials:
        data["credentials"] = account["credentials"]
    if not state.live:
        data["last_verification_code"] = account["last_verification_code"]
    data["current_cm_id"] = account["current_cm_id"]
    return web.json_response({"data": data})


async def list_bundles(request: web.Request) -> web.Response:
    """``GET /accounts/:id/bundles``: filter ``status``; paginated."""
    account = _owned_account(request)
    status = _choice_param(request, "status", LIVE_BUNDLE_STATUSES)
    bundles = _state(request).bundles(account["id"])
    matching = [b for b in bundles if status is None or b["status"] == status]
    return _paginate(request, matching, dict)


def _acceptance(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        raise _Refusal(400, "VALIDATION_ERROR", "The body is not valid JSON.") from None
    if not isinstance(payload, dict) or payload.get("acknowledge_support_forfeit") is not True:
        return None
    version = payload.get("policy_version")
    if not isinstance(version, str) or not version.strip():
        raise _Refusal(
            400, "VALIDATION_ERROR", "policy_version is required.", {"field": "policy_version"}
        )
    return payload


def _check_policy(state: SandboxState, account_id: str, acceptance: dict[str, Any] | None) -> None:
    """The two-step policy: 428 with the terms, 409 on a stale version, 402 when short.

    The first accepted call for an account records the acknowledgment and debits the
    quoted credits; from then on both sensitive endpoints answer that account freely.
    """
    if not state.require_policy_acceptance or account_id in state.acknowledged:
        return
    terms = state.policy_terms(account_id)
    if acceptance is None:
        raise _Refusal(
            428,
            "POLICY_ACCEPTANCE_REQUIRED",
            "Accept the credential reveal policy to retrieve this secret.",
            terms,
        )
    if acceptance["policy_version"] != state.policy_version:
        raise _Refusal(
            409,
            "CREDENTIAL_REVEAL_QUOTE_CHANGED",
            "The reveal terms changed; nothing was charged. Review the new terms.",
            terms,
        )
    cost = terms["expected_credit_cost"]
    if state.credits < cost:
        raise _Refusal(
            402,
            "INSUFFICIENT_CREDITS",
            "Not enough credits for this operation.",
            {
                "required": cost,
                "available": state.credits,
                "missing": cost - state.credits,
                "breakdown": [{"item": "credential_reveal", "credits": cost}],
            },
        )
    state.credits -= cost
    state.credits_charged += cost
    state.acknowledged.add(account_id)


async def _sensitive_account(request: web.Request) -> dict[str, Any]:
    """The account of a secret-bearing call, once the policy lets the call through."""
    state = _state(request)
    account = _owned_account(request)
    if "Idempotency-Key" in request.headers:
        raise _Refusal(
            400,
            "IDEMPOTENCY_KEY_NOT_ALLOWED_FOR_SENSITIVE_RESPONSE",
            "Secret-bearing calls do not accept Idempotency-Key.",
        )
    _check_policy(state, account["id"], _acceptance(await request.read()))
    return account


async def verification_code(request: web.Request) -> web.Response:
    """``POST /accounts/:id/verification-code``, behind the policy flow where it is on."""
    state = _state(request)
    account = await _sensitive_account(request)
    found = state.read_verification_code(account["id"])
    if found is None:
        raise _Refusal(
            404,
            "VERIFICATION_CODE_NOT_FOUND",
            "No verification code found in the inbox. Make sure you triggered the code from "
            "the platform first and wait a few seconds before retrying.",
        )
    code, source = found
    return web.json_response(
        {"data": {"account_id": account["id"], "verification_code": code, "source": source}}
    )


async def reveal_credentials(request: web.Request) -> web.Response:
    """``POST /accounts/:id/reveal-credentials`` (live): the passwords, behind the policy."""
    _live_only(_state(request))
    account = await _sensitive_account(request)
    return web.json_response({"data": account["credentials"]})


async def credit_balance(request: web.Request) -> web.Response:
    """``GET /credits/balance`` (live): one of the operations outside the typed surface."""
    state = _state(request)
    _live_only(state)
    return web.json_response({"data": {"balance": state.credits, "currency": "credits"}})


def _since_param(request: web.Request) -> datetime | None:
    raw = request.query.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Refusal(
            400,
            "VALIDATION_ERROR",
            "since must be an ISO 8601 timestamp with a timezone.",
            {"field": "since", "value": raw},
        )
    return moment


async def list_bans(request: web.Request) -> web.Response:
    """``GET /account-bans`` (live): filters, a ``since`` watermark, optional screenshots."""
    state = _state(request)
    _live_only(state)
    status = _choice_param(request, "status", BAN_STATUSES)
    resolution = _choice_param(request, "resolution", BAN_RESOLUTIONS)
    screenshots = _choice_param(request, "include_screenshots", ("true", "false"))
    account_id = request.query.get("account_id")
    since = _since_param(request)
    owned = {account["id"] for account in _accounts_of(request)}
    matching = sorted(
        (
            ban
            for ban in state.bans
            if ban["account_id"] in owned
            and (status is None or ban["status"] == status)
            and (resolution is None or (ban["resolution"] or {}).get("resolution") == resolution)
            and (account_id is None or ban["account_id"] == account_id)
            and (since is None or datetime.fromisoformat(ban["updated_at"]) >= since)
        ),
        key=lambda ban: (ban["updated_at"], ban["id"]),
    )

    def fields(ban: dict[str, Any]) -> dict[str, Any]:
        if screenshots != "true":
            return ban
        signed = f"https://sandbox.tokportal.invalid/ban-evidence/{ban['id']}.png?sig=sandbox"
        return {**ban, "screenshot_url": signed}

    return _paginate(request, matching, fields)


async def trigger_verification_code(request: web.Request) -> web.Response:
    """Sandbox only: send a code to the inbox, readable after ``delay_seconds``."""
    account = _owned_account(request)
    raw = request.query.get("delay_seconds", "3")
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 3600:
        raise _Refusal(
            400, "VALIDATION_ERROR", "delay_seconds must be from 0 to 3600.",
            {"field": "delay_seconds", "value": raw},
        )  # fmt: skip
    _state(request).trigger_verification_code(account["id"], delay=delay)
    return web.json_response({"data": {"account_id": account["id"], "arrives_in_seconds": delay}})


async def acknowledge(request: web.Request) -> web.Response:
    """Sandbox only: stage the policy as accepted for an account (no 428, no charge)."""
    account = _owned_account(request)
    _state(request).acknowledge(account["id"])
    return web.json_response({"data": {"account_id": account["id"], "acknowledged": True}})


def create_app(state: SandboxState) -> web.Application:
    """The sandbox as an aiohttp application over ``state``, rooted at ``/api/ext``."""
    app = web.Application(middlewares=[_api_middleware])
    app[STATE_KEY] = state
    app[STOPPING_KEY] = asyncio.Event()
    accounts = f"{API_PREFIX}/accounts"
    app.router.add_get(accounts, list_accounts)
    app.router.add_get(accounts + "/{account_id}", get_account)
    app.router.add_get(accounts + "/{account_id}/bundles", list_bundles)
    app.router.add_post(accounts + "/{account_id}/verification-code", verification_code)
    app.router.add_post(accounts + "/{account_id}/reveal-credentials", reveal_credentials)
    app.router.add_get(f"{API_PREFIX}/account-bans", list_bans)
    app.router.add_get(f"{API_PREFIX}/credits/balance", credit_balance)
    app.router.add_post(
        f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/verification-code/trigger",
        trigger_verification_code,
    )
    app.router.add_post(f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/acknowledge", acknowledge)
    return app
