"""The sandbox's webhook operations: endpoints, deliveries, retries, tests, the catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ._care_app import _json_body, keyed
from ._data import timestamp
from ._http import API_PREFIX, KEY, Refusal, choice_param, live_only, paginate, state_of
from ._webhook_state import EVENT_DESCRIPTIONS

__all__ = ["add_webhook_routes"]


def _endpoint(request: web.Request) -> dict[str, Any]:
    state = state_of(request)
    live_only(state)
    endpoint_id = request.match_info["endpoint_id"]
    endpoint = state.webhooks.endpoints.get(endpoint_id)
    if endpoint is None or endpoint["owner"] != request[KEY]:
        raise Refusal(
            404, "WEBHOOK_ENDPOINT_NOT_FOUND", "Webhook endpoint not found.", {"id": endpoint_id}
        )
    return endpoint


def _checked_url(value: object) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refusal(400, "VALIDATION_ERROR", "url must be an http(s) URL.", {"field": "url"})
    assert isinstance(value, str)
    return value


def _checked_events(value: object) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(e, str) and e.strip() for e in value)
    ):
        raise Refusal(
            400, "VALIDATION_ERROR", "events must be a non-empty list of event types.",
            {"field": "events"},
        )  # fmt: skip
    return value


async def create_endpoint(request: web.Request) -> web.Response:
    """``POST /webhooks``: the signing secret, once. Refuses an Idempotency-Key."""
    state = state_of(request)
    live_only(state)
    if "Idempotency-Key" in request.headers:
        raise Refusal(
            400,
            "IDEMPOTENCY_KEY_NOT_ALLOWED_FOR_SENSITIVE_RESPONSE",
            "Creating a webhook endpoint does not accept Idempotency-Key.",
        )
    body = await _json_body(request)
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise Refusal(400, "VALIDATION_ERROR", "enabled must be a boolean.", {"field": "enabled"})
    endpoint = state.webhooks.create_endpoint(
        request[KEY], _checked_url(body.get("url")), _checked_events(body.get("events")),
        body.get("description"), enabled,
    )  # fmt: skip
    return web.json_response(
        {"data": state.webhooks.public(endpoint, with_secret=True)}, status=201
    )


async def list_endpoints(request: web.Request) -> web.Response:
    """``GET /webhooks``: filters ``enabled`` and ``event``; paged."""
    state = state_of(request)
    live_only(state)
    enabled = choice_param(request, "enabled", ("true", "false"))
    event = request.query.get("event")
    matching = [
        state.webhooks.public(e)
        for e in state.webhooks.endpoints.values()
        if e["owner"] == request[KEY]
        and (enabled is None or e["enabled"] == (enabled == "true"))
        and (event is None or event in e["events"])
    ]
    return paginate(request, matching, dict)


async def event_catalog(request: web.Request) -> web.Response:
    """``GET /webhooks/events``: the event types, with what each means."""
    live_only(state_of(request))
    events = [{"type": kind, "description": text} for kind, text in EVENT_DESCRIPTIONS.items()]
    return web.json_response({"data": events})


async def get_endpoint(request: web.Request) -> web.Response:
    """``GET /webhooks/{id}``: without the secret."""
    return web.json_response({"data": state_of(request).webhooks.public(_endpoint(request))})


async def update_endpoint(request: web.Request) -> web.Response:
    """``PATCH /webhooks/{id}``: the fields given."""
    endpoint = _endpoint(request)
    body = await _json_body(request)
    if "url" in body:
        endpoint["url"] = _checked_url(body["url"])
    if "events" in body:
        endpoint["events"] = _checked_events(body["events"])
    if "description" in body:
        endpoint["description"] = body["description"]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise Refusal(400, "VALIDATION_ERROR", "enabled must be a boolean.")
        endpoint["enabled"] = body["enabled"]
    endpoint["updated_at"] = timestamp(datetime.now(UTC))
    return web.json_response({"data": state_of(request).webhooks.public(endpoint)})


async def delete_endpoint(request: web.Request) -> web.Response:
    """``DELETE /webhooks/{id}``."""
    endpoint = _endpoint(request)
    del state_of(request).webhooks.endpoints[endpoint["id"]]
    return web.json_response({"data": {"id": endpoint["id"], "deleted": True}})


async def list_deliveries(request: web.Request) -> web.Response:
    """``GET /webhooks/{id}/deliveries``: newest first; ``event_type``, ``success``."""
    endpoint = _endpoint(request)
    success = choice_param(request, "success", ("true", "false"))
    event_type = request.query.get("event_type")
    matching = [
        d
        for d in reversed(state_of(request).webhooks.deliveries)
        if d["endpoint_id"] == endpoint["id"]
        and (event_type is None or d["event_type"] == event_type)
        and (success is None or d["success"] is (success == "true"))
    ]
    return paginate(request, matching, dict)


async def retry_delivery(request: web.Request) -> web.Response:
    """``POST /webhooks/{id}/deliveries/{delivery_id}/retry``: the event, sent again now."""
    endpoint = _endpoint(request)
    webhooks = state_of(request).webhooks
    delivery_id = request.match_info["delivery_id"]
    found = next(
        (d for d in webhooks.deliveries
         if d["id"] == delivery_id and d["endpoint_id"] == endpoint["id"]),
        None,
    )  # fmt: skip
    event = next((e for e in webhooks.events if found and e["id"] == found["event_id"]), None)
    if found is None or event is None:
        raise Refusal(404, "WEBHOOK_DELIVERY_NOT_FOUND", "Delivery not found.", {"id": delivery_id})
    return web.json_response({"data": webhooks.deliver(endpoint, event)})


async def test_endpoint(request: web.Request) -> web.Response:
    """``POST /webhooks/{id}/test``: a ``webhook.test`` event, to this endpoint only."""
    endpoint = _endpoint(request)
    webhooks = state_of(request).webhooks
    event = webhooks.emit("webhook.test", {"endpoint_id": endpoint["id"]}, only=endpoint["id"])
    first = next(d for d in webhooks.deliveries if d["event_id"] == event["id"])
    return web.json_response({"data": first})


def add_webhook_routes(app: web.Application) -> None:
    """Serve the webhook operations on ``app``."""
    webhooks = f"{API_PREFIX}/webhooks"
    one = f"{webhooks}/{{endpoint_id}}"
    app.router.add_post(webhooks, create_endpoint)
    app.router.add_get(webhooks, list_endpoints)
    app.router.add_get(f"{webhooks}/events", event_catalog)  # before {endpoint_id}
    app.router.add_get(one, get_endpoint)
    app.router.add_patch(one, keyed(update_endpoint))
    app.router.add_delete(one, keyed(delete_endpoint))
    app.router.add_get(f"{one}/deliveries", list_deliveries)
    app.router.add_post(f"{one}/deliveries/{{delivery_id}}/retry", keyed(retry_delivery))
    app.router.add_post(f"{one}/test", keyed(test_endpoint))
