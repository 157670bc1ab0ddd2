"""The sandbox's operations with effects and its credits, as the live API plays them.

Coverage, edit requests, rewarms, warming, analytics and the commenting profile.

Every write is keyed the way TokPortal's ``standard`` policy says: an answer is stored
under its ``Idempotency-Key`` and replayed, with ``Idempotent-Replayed: true`` and no
second debit, for any later request with that key. ``X-TokPortal-Dry-Run: true`` turns a
write into a free preview with the real checks and the real price. Paid writes answer
``credits_charged`` and ``credits_remaining`` beside ``data``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ._care_state import EDIT_REQUEST_PRICE, REWARM_PRICE_PER_TERM, StoredAnswer
from ._data import timestamp
from ._http import (
    API_PREFIX,
    KEY,
    Refusal,
    choice_param,
    error_response,
    live_only,
    misbehave,
    owned_account,
    paginate,
    parse_json,
    state_of,
)
from ._state import REVEAL_CREDIT_COST, SandboxState

__all__ = ["add_care_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

_DRY_RUN_HEADER = "X-TokPortal-Dry-Run"
_DRY_RUN_NOTICE = "Dry run: validated and priced, nothing was created or charged."
_VIDEO_SORT_FIELDS = ("views", "likes", "comments", "shares", "published_at")


def _is_dry_run(request: web.Request) -> bool:
    return request.headers.get(_DRY_RUN_HEADER, "").strip().lower() == "true"


def keyed(handler: Handler) -> Handler:
    """A ``standard`` write: replayed under its key, and faults staged after its effect."""

    async def answer_once(request: web.Request) -> web.StreamResponse:
        state = state_of(request)
        live_only(state)
        care = state.care
        key = request.headers.get("Idempotency-Key")
        dry_run = _is_dry_run(request)
        fingerprint = (request.method, request.path, await request.read())
        slot = (request[KEY], key) if key and not dry_run else None
        stored = care.stored_answers.get(slot) if slot else None
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise Refusal(
                    422,
                    "IDEMPOTENCY_KEY_REUSED",
                    "This Idempotency-Key was already used with a different request.",
                )
            return web.Response(
                status=stored.status,
                body=stored.body,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            response = await handler(request)
        except Refusal as refusal:
            response = error_response(refusal)
        if slot is not None and response.status < 500 and response.status != 429:
            assert isinstance(response.body, bytes)
            care.stored_answers[slot] = StoredAnswer(
                fingerprint=fingerprint, status=response.status, body=response.body
            )
        if not dry_run and response.status < 300 and care.after_effect_faults:
            # The write took effect; the answer is lost on the way back.
            return await misbehave(request, care.after_effect_faults.pop(0))
        return response

    return answer_once  # type: ignore[return-value]  # StreamResponse for the faults


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise Refusal(400, "VALIDATION_ERROR", "The body must be a JSON object.")
    return payload


def _paid(
    request: web.Request,
    cost: int,
    kind: str,
    act: Callable[[], dict[str, Any]],
    *,
    breakdown: dict[str, Any],
    status: int = 200,
) -> web.Response:
    """Price a write: preview it in a dry run, else check the balance, act and debit."""
    state = state_of(request)
    cost_breakdown = {**breakdown, "total": cost}
    if _is_dry_run(request):
        return _preview(state, cost, cost_breakdown)
    if state.credits < cost:
        raise Refusal(
            402,
            "INSUFFICIENT_CREDITS",
            "Not enough credits for this operation.",
            {"required": cost, "available": state.credits, "missing": cost - state.credits,
             "breakdown": cost_breakdown},
        )  # fmt: skip
    data = act()
    state.debit(cost, kind, f"{kind} ({request.match_info.get('account_id')})", cost_breakdown)
    return web.json_response(
        {"data": data, "credits_charged": cost, "credits_remaining": state.credits},
        status=status,
    )


def _free(request: web.Request, act: Callable[[], dict[str, Any]]) -> web.Response:
    """A write that costs nothing: previewed in a dry run, else done."""
    if _is_dry_run(request):
        return _preview(state_of(request), 0, {"total": 0})
    return web.json_response({"data": act()})


def _preview(state: SandboxState, cost: int, cost_breakdown: dict[str, Any]) -> web.Response:
    """A dry run's answer: validated and priced, nothing done, nothing charged."""
    return web.json_response(
        {
            "data": None,
            "credits_charged": 0,
            "credits_would_charge": cost,
            "credits_remaining": state.credits,
            "cost_breakdown": cost_breakdown,
            "dry_run": True,
            "dry_run_notice": _DRY_RUN_NOTICE,
        }
    )


def _account(request: web.Request) -> tuple[SandboxState, str]:
    state = state_of(request)
    live_only(state)
    return state, owned_account(request)["id"]


def _require_coverage(state: SandboxState, account_id: str) -> None:
    status = state.care.coverage_of(account_id)["status"]
    if status != "active":
        raise Refusal(
            409,
            "MANAGED_ACCOUNT_TASK_BLOCKED",
            f"TokPortal Coverage is {status} for this account: reactivate it first.",
            {"coverage_status": status},
        )


# -- coverage -----------------------------------------------------------------------------


async def get_coverage(request: web.Request) -> web.Response:
    """``GET /accounts/:id/managed-subscription``."""
    state, account_id = _account(request)
    return web.json_response({"data": state.care.coverage_answer(account_id)})


async def reactivate_coverage(request: web.Request) -> web.Response:
    """``POST .../managed-subscription/reactivate``: paid, at the current quote only."""
    state, account_id = _account(request)
    body = await _json_body(request)
    care = state.care
    coverage = care.coverage_of(account_id)
    if coverage["status"] == "active":
        raise Refusal(409, "MANAGED_SUBSCRIPTION_ALREADY_ACTIVE", "Coverage is already active.")
    if coverage["status"] == "ended":
        raise Refusal(409, "MANAGED_SUBSCRIPTION_ENDED", "Ended coverage cannot be reactivated.")
    quote = care.quote(account_id)
    assert quote is not None
    if (
        body.get("expected_credits") != quote["credits"]
        or body.get("expected_lock_version") != quote["lock_version"]
    ):
        raise Refusal(
            409,
            "MANAGED_SUBSCRIPTION_QUOTE_CHANGED",
            "The reactivation quote changed; nothing was charged. Fetch the new quote.",
            {"quote": quote},
        )

    def act() -> dict[str, Any]:
        now = datetime.now(UTC)
        coverage.update(status="active", current_period_start=timestamp(now))
        coverage["current_period_end"] = quote["current_period_end"]
        coverage["lock_version"] += 1
        care.coverage_changed(account_id)
        return care.coverage_answer(account_id)

    return _paid(request, quote["credits"], "coverage_reactivation", act,
                 breakdown={"coverage": quote["credits"]})  # fmt: skip


async def cancel_coverage(request: web.Request) -> web.Response:
    """``POST .../managed-subscription/cancel``: not refunded."""
    state, account_id = _account(request)
    care = state.care
    coverage = care.coverage_of(account_id)
    if coverage["status"] != "active":
        raise Refusal(409, "MANAGED_SUBSCRIPTION_NOT_ACTIVE", f"Coverage is {coverage['status']}.")

    def act() -> dict[str, Any]:
        coverage["status"] = "cancelled"
        coverage["lock_version"] += 1
        care.coverage_changed(account_id)
        return care.coverage_answer(account_id)

    return _free(request, act)


# -- edit requests ------------------------------------------------------------------------


async def get_edit_request(request: web.Request) -> web.Response:
    """``GET /accounts/:id/edit-request``: the active request, or ``null``."""
    state, account_id = _account(request)
    return web.json_response({"data": state.care.edit_requests.get(account_id)})


def _required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Refusal(400, "VALIDATION_ERROR", f"{name} is required.", {"field": name})
    return value


async def create_edit_request(request: web.Request) -> web.Response:
    """``POST /accounts/:id/edit-request``: 8 credits, needs coverage and a CM."""
    state, account_id = _account(request)
    body = await _json_body(request)
    username = _required_text(body, "requested_username")
    visible_name = _required_text(body, "requested_visible_name")
    _require_coverage(state, account_id)
    account = state.find(account_id)[0]
    assert account is not None
    if account["current_cm_id"] is None:
        raise Refusal(400, "EDIT_REQUEST_NO_CM", "No community manager is assigned.")
    care = state.care
    if account_id in care.edit_requests:
        raise Refusal(409, "EDIT_REQUEST_ALREADY_ACTIVE", "An edit request is already active.")

    def act() -> dict[str, Any]:
        record = {
            "edit_request_id": care.new_id("er"),
            "account_id": account_id,
            "status": "pending",
            "requested_username": username,
            "requested_visible_name": visible_name,
            "requested_biography": body.get("requested_biography"),
            "requested_profile_picture_url": body.get("requested_profile_picture_url"),
            "requested_link_in_bio": body.get("requested_link_in_bio"),
            "created_at": timestamp(datetime.now(UTC)),
        }
        care.edit_requests[account_id] = record
        care.emit("account.edit_request.created", {"account_id": account_id, **record})
        return record

    return _paid(request, EDIT_REQUEST_PRICE, "edit_request", act,
                 breakdown={"edit_request": EDIT_REQUEST_PRICE}, status=201)  # fmt: skip


# -- warming ------------------------------------------------------------------------------


async def rewarm(request: web.Request) -> web.Response:
    """``POST /accounts/:id/rewarm``: 5 credits a term, 3 to 30 terms by threes."""
    state, account_id = _account(request)
    terms = (await _json_body(request)).get("search_terms")
    if (
        not isinstance(terms, list)
        or not all(isinstance(term, str) and term.strip() for term in terms)
        or not 3 <= len(terms) <= 30
        or len(terms) % 3
    ):
        raise Refusal(
            400,
            "VALIDATION_ERROR",
            "search_terms must be 3 to 30 non-empty terms, in multiples of 3.",
            {"field": "search_terms"},
        )
    _require_coverage(state, account_id)
    cost = REWARM_PRICE_PER_TERM * len(terms)
    return _paid(request, cost, "rewarm", lambda: state.care.start_warming(account_id, terms),
                 breakdown={"terms": len(terms), "per_term": REWARM_PRICE_PER_TERM})  # fmt: skip


async def warming_sessions(request: web.Request) -> web.Response:
    """``GET /accounts/:id/warming-sessions``: unpaged; sessions progress as they are read."""
    state, account_id = _account(request)
    state.care.progress_warming(account_id)
    return web.json_response({"data": state.care.warming.get(account_id, [])})


# -- analytics ----------------------------------------------------------------------------


async def analytics(request: web.Request) -> web.Response:
    """``GET /accounts/:id/analytics``."""
    state, account_id = _account(request)
    return web.json_response({"data": state.care.analytics(account_id)})


async def can_refresh(request: web.Request) -> web.Response:
    """``GET /accounts/:id/analytics/can-refresh``: no while a refresh runs."""
    state, account_id = _account(request)
    busy = account_id in state.care.refreshing
    return web.json_response(
        {"data": {"can_refresh": not busy, "reason": "refresh_in_progress" if busy else None}}
    )


async def refresh(request: web.Request) -> web.Response:
    """``POST /accounts/:id/analytics/refresh``: one at a time per account."""
    state, account_id = _account(request)
    options = await _json_body(request)
    care = state.care
    if account_id in care.refreshing:
        raise Refusal(409, "ANALYTICS_REFRESH_IN_PROGRESS", "A refresh is already running.")

    def act() -> dict[str, Any]:
        care.refreshing.add(account_id)
        return {"status": "queued", "refresh_id": care.new_id("ar"), "options": options}

    return _free(request, act)


async def video_analytics(request: web.Request) -> web.Response:
    """``GET /accounts/:id/analytics/videos``: paged, ``sort_by`` and ``sort_order``."""
    state, account_id = _account(request)
    sort_by = choice_param(request, "sort_by", _VIDEO_SORT_FIELDS) or "published_at"
    order = choice_param(request, "sort_order", ("asc", "desc")) or "desc"
    videos = sorted(
        state.care.videos(account_id), key=lambda video: video[sort_by], reverse=order == "desc"
    )
    return paginate(request, videos, dict)


# -- commenting profile -------------------------------------------------------------------


async def commenting_profile(request: web.Request) -> web.Response:
    """``PATCH /accounts/:id/commenting-profile``: the fields given, merged."""
    state, account_id = _account(request)
    changes = await _json_body(request)
    if not changes:
        raise Refusal(400, "VALIDATION_ERROR", "Nothing to update.")
    profiles = state.care.commenting_profiles

    def act() -> dict[str, Any]:
        profile = profiles.setdefault(account_id, {})
        profile.update(changes)
        return {"account_id": account_id, **profile}

    return _free(request, act)


# -- credits ------------------------------------------------------------------------------


async def credit_balance(request: web.Request) -> web.Response:
    """``GET /credits/balance``: the newer shape, or the older ``{"credits": N}``."""
    state = state_of(request)
    live_only(state)
    if state.care.balance_shape == "old":
        return web.json_response({"data": {"credits": state.credits}})
    return web.json_response(
        {
            "data": {
                "total_credits": state.credits,
                "expiring_within_7_days": 0,
                "upcoming_expirations": [],
                "last_updated": timestamp(datetime.now(UTC)),
            }
        }
    )


async def credit_costs(request: web.Request) -> web.Response:
    """``GET /credit-costs``: what each paid operation costs."""
    live_only(state_of(request))
    return web.json_response(
        {
            "data": {
                "edit_request": EDIT_REQUEST_PRICE,
                "rewarm_per_term": REWARM_PRICE_PER_TERM,
                "credential_reveal": REVEAL_CREDIT_COST,
            }
        }
    )


def _day_param(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        datetime.fromisoformat(raw)
    except ValueError:
        raise Refusal(
            400, "VALIDATION_ERROR", f"{name} must be an ISO 8601 date.", {"field": name}
        ) from None
    return raw


async def credit_history(request: web.Request) -> web.Response:
    """``GET /credits/history``: newest first, ``date_from``/``date_to``, paged."""
    state = state_of(request)
    live_only(state)
    start, end = _day_param(request, "date_from"), _day_param(request, "date_to")
    rows = [
        row
        for row in reversed(state.care.transactions)
        if (start is None or row["created_at"][: len(start)] >= start)
        and (end is None or row["created_at"][: len(end)] <= end)
    ]
    return paginate(request, rows, dict)


async def stage_coverage(request: web.Request) -> web.Response:
    """Sandbox only: set an account's coverage ``status`` (``?price=`` for its quote)."""
    account = owned_account(request)
    status = request.query.get("status", "")
    if status not in ("active", "lapsed", "cancelled", "ended"):
        raise Refusal(
            400, "VALIDATION_ERROR", "status must be one of: active, cancelled, ended, lapsed.",
            {"field": "status", "value": status},
        )  # fmt: skip
    raw_price = request.query.get("price")
    price = int(raw_price) if raw_price and raw_price.isdigit() else None
    if raw_price is not None and price is None:
        raise Refusal(400, "VALIDATION_ERROR", "price must be a whole number of credits.")
    care = state_of(request).care
    care.set_coverage(account["id"], status, price=price)
    return web.json_response({"data": care.coverage_answer(account["id"])})


def add_care_routes(app: web.Application) -> None:
    """Serve the operations with effects and the credits on ``app``."""
    account = f"{API_PREFIX}/accounts/{{account_id}}"
    coverage = f"{account}/managed-subscription"
    app.router.add_get(coverage, get_coverage)
    app.router.add_post(f"{coverage}/reactivate", keyed(reactivate_coverage))
    app.router.add_post(f"{coverage}/cancel", keyed(cancel_coverage))
    app.router.add_get(f"{account}/edit-request", get_edit_request)
    app.router.add_post(f"{account}/edit-request", keyed(create_edit_request))
    app.router.add_post(f"{account}/rewarm", keyed(rewarm))
    app.router.add_get(f"{account}/warming-sessions", warming_sessions)
    app.router.add_get(f"{account}/analytics", analytics)
    app.router.add_get(f"{account}/analytics/can-refresh", can_refresh)
    app.router.add_post(f"{account}/analytics/refresh", keyed(refresh))
    app.router.add_get(f"{account}/analytics/videos", video_analytics)
    app.router.add_patch(f"{account}/commenting-profile", keyed(commenting_profile))
    app.router.add_get(f"{API_PREFIX}/credits/balance", credit_balance)
    app.router.add_get(f"{API_PREFIX}/credits/history", credit_history)
    app.router.add_get(f"{API_PREFIX}/credit-costs", credit_costs)
    app.router.add_post(f"{API_PREFIX}/_sandbox/accounts/{{account_id}}/coverage", stage_coverage)
