"""The sandbox's aiohttp application: the Accounts endpoints, served faithfully.

Every answer carries ``X-TokPortal-Request-ID``; every error uses the documented envelope
``{"error": {"code", "message", "details"}}`` with the documented codes and statuses. The
live profile adds what TokPortal serves now: ``reveal-credentials`` and the verification
code behind the policy flow, credits, ``/account-bans`` and the version headers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from ._care_app import add_care_routes
from ._data import BAN_RESOLUTIONS, BAN_STATUSES, LIVE_BUNDLE_STATUSES
from ._faults import Fault
from ._http import (
    API_PREFIX,
    KEY,
    STATE_KEY,
    STOPPING_KEY,
    Refusal,
    accounts_of,
    authenticate,
    choice_param,
    error_response,
    live_only,
    misbehave,
    owned_account,
    paginate,
    parse_json,
    request_id,
    state_of,
    unserved,
)
from ._state import RecordedRequest, SandboxState
from ._webhook_app import add_webhook_routes

__all__ = ["API_PREFIX", "STATE_KEY", "STOPPING_KEY", "create_app"]

_CONTROL_PREFIX = f"{API_PREFIX}/_sandbox/"
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
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
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
        return await misbehave(request, fault)
    limit_headers: dict[str, str] = {}
    try:
        key = request[KEY] = authenticate(request, state)
        if state.rate_limiter is not None:
            decision = state.rate_limiter.take(key)
            limit_headers = decision.headers
            if not decision.allowed:
                raise Refusal(
                    429,
                    "RATE_LIMIT_EXCEEDED",
                    "Rate limit exceeded. Slow down and retry after the indicated time.",
                    {"retry_after_seconds": decision.retry_after},
                )
        response = await handler(request)
    except Refusal as refusal:
        response = error_response(refusal)
    except web.HTTPNotFound:
        response = error_response(unserved(request))
    except web.HTTPMethodNotAllowed:
        response = error_response(
            Refusal(405, "METHOD_NOT_ALLOWED", "Method not allowed on this endpoint.")
        )
    response.headers.update(limit_headers)
    response.headers["X-TokPortal-Request-ID"] = request_id()
    if state.live:
        response.headers.update(_LIVE_HEADERS)
    if fault is Fault.TRUNCATE and isinstance(response, web.Response) and response.body:
        return await _truncate(request, response)
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


def _list_fields(account: dict[str, Any], *, live: bool) -> dict[str, Any]:
    fields = {name: account[name] for name in _LIST_FIELDS}
    if live:
        # The live API flags bans, and sends null where the original page shows strings.
        fields["banned"] = account["banned"]
        fields["biography"] = account["biography"] or None
    return fields


async def list_accounts(request: web.Request) -> web.Response:
    """``GET /accounts``: filters ``platform``, ``country``, ``banned``; paginated."""
    state = state_of(request)
    platform = choice_param(request, "platform", _PLATFORMS)
    banned = choice_param(request, "banned", ("true", "false"))
    country = request.query.get("country")
    matching = [
        account
        for account in accounts_of(request)
        if (platform is None or account["platform"] == platform)
        and (country is None or account["country"].upper() == country.upper())
        and (banned is None or account["banned"] == (banned == "true"))
    ]
    return paginate(request, matching, functools.partial(_list_fields, live=state.live))


async def get_account(request: web.Request) -> web.Response:
    """``GET /accounts/:id``: the listing's fields plus the detail fields.

    Live: metadata only ("ordinary account tools never return passwords or codes").
    The original page (the seed profile): with ``credentials`` and ``last_verification_code``.
    """
    state = state_of(request)
    account = owned_account(request)
    data = _list_fields(account, live=state.live)
    if not state.omit_credentials:
        data["credentials"] = account["credentials"]
    if not state.live:
        data["last_verification_code"] = account["last_verification_code"]
    data["current_cm_id"] = account["current_cm_id"]
    return web.json_response({"data": data})


async def list_bundles(request: web.Request) -> web.Response:
    """``GET /accounts/:id/bundles``: filter ``status``; paginated."""
    account = owned_account(request)
    status = choice_param(request, "status", LIVE_BUNDLE_STATUSES)
    bundles = state_of(request).bundles(account["id"])
    matching = [b for b in bundles if status is None or b["status"] == status]
    return paginate(request, matching, dict)


def _acceptance(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return None
    payload = parse_json(body)
    if not isinstance(payload, dict) or payload.get("acknowledge_support_forfeit") is not True:
        return None
    version = payload.get("policy_version")
    if not isinstance(version, str) or not version.strip():
        raise Refusal(
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
        raise Refusal(
            428,
            "POLICY_ACCEPTANCE_REQUIRED",
            "Accept the credential reveal policy to retrieve this secret.",
            terms,
        )
    if acceptance["policy_version"] != state.policy_version:
        raise Refusal(
            409,
            "CREDENTIAL_REVEAL_QUOTE_CHANGED",
            "The reveal terms changed; nothing was charged. Review the new terms.",
            terms,
        )
    cost = terms["expected_credit_cost"]
    if state.credits < cost:
        raise Refusal(
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
    state.debit(cost, "credential_reveal", f"Credential reveal policy accepted ({account_id})")
    state.acknowledged.add(account_id)


async def _sensitive_account(request: web.Request) -> dict[str, Any]:
    """The account of a secret-bearing call, once the policy lets the call through."""
    state = state_of(request)
    account = owned_account(request)
    if "Idempotency-Key" in request.headers:
        raise Refusal(
            400,
            "IDEMPOTENCY_KEY_NOT_ALLOWED_FOR_SENSITIVE_RESPONSE",
            "Secret-bearing calls do not accept Idempotency-Key.",
        )
    _check_policy(state, account["id"], _acceptance(await request.read()))
    return account


async def verification_code(request: web.Request) -> web.Response:
    """``POST /accounts/:id/verification-code``, behind the policy flow where it is on."""
    state = state_of(request)
    account = await _sensitive_account(request)
    found = state.read_verification_code(account["id"])
    if found is None:
        raise Refusal(
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
    state = state_of(request)
    live_only(state)
    account = await _sensitive_account(request)
    state.webhooks.emit(
        "account.revealed",
        {"account_id": account["id"], "saved_account_id": account["id"],
         "username": account["username"], "platform": account["platform"],
         "management_ended": True},
    )  # fmt: skip
    return web.json_response({"data": account["credentials"]})


def _since_param(request: web.Request) -> datetime | None:
    raw = request.query.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Refusal(
            400,
            "VALIDATION_ERROR",
            "since must be an ISO 8601 timestamp with a timezone.",
            {"field": "since", "value": raw},
        )
    return moment


async def list_bans(request: web.Request) -> web.Response:
    """``GET /account-bans`` (live): filters, a ``since`` watermark, optional screenshots."""
    state = state_of(request)
    live_only(state)
    status = choice_param(request, "status", BAN_STATUSES)
    resolution = choice_param(request, "resolution", BAN_RESOLUTIONS)
    screenshots = choice_param(request, "include_screenshots", ("true", "false"))
    account_id = request.query.get("account_id")
    since = _since_param(request)
    owned = {account["id"] for account in accounts_of(request)}
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

    return paginate(request, matching, fields)


async def trigger_verification_code(request: web.Request) -> web.Response:
    """Sandbox only: send a code to the inbox, readable after ``delay_seconds``."""
    account = owned_account(request)
    raw = request.query.get("delay_seconds", "3")
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 3600:
        raise Refusal(
            400, "VALIDATION_ERROR", "delay_seconds must be from 0 to 3600.",
            {"field": "delay_seconds", "value": raw},
        )  # fmt: skip
    state_of(request).trigger_verification_code(account["id"], delay=delay)
    return web.json_response({"data": {"account_id": account["id"], "arrives_in_seconds": delay}})


async def acknowledge(request: web.Request) -> web.Response:
    """Sandbox only: stage the policy as accepted for an account (no 428, no charge)."""
    account = owned_account(request)
    state_of(request).acknowledge(account["id"])
    return web.json_response({"data": {"account_id": account["id"], "acknowledged": True}})


async def stage_ban(request: web.Request) -> web.Response:
    """Sandbox only: ban an account now (its ban record, and ``account.banned``)."""
    account = owned_account(request)
    ban = state_of(request).ban_account(account["id"])
    return web.json_response({"data": ban})


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
    app.router.add_post(
        f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/verification-code/trigger",
        trigger_verification_code,
    )
    app.router.add_post(f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/acknowledge", acknowledge)
    app.router.add_post(f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/ban", stage_ban)
    add_care_routes(app)
    add_webhook_routes(app)
    return app
