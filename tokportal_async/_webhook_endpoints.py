"""``tp.webhooks``: the endpoints TokPortal sends events to, and their deliveries.

Receiving and verifying the events themselves is :mod:`tokportal_async.webhooks`.
"""

from __future__ import annotations

import builtins  # the ``list`` method shadows the type inside AsyncWebhooks
from collections.abc import AsyncGenerator, Iterable
from typing import Any, Unpack
from urllib.parse import urlsplit

from ._constants import DEFAULT_ITER_PER_PAGE
from ._filters import WebhookDeliveryFilters, WebhookEndpointFilters
from ._idempotency import idempotency_key as checked_key
from ._models import Page
from ._operations import Access, Operation
from ._paged import PagedEndpoint
from ._pagination import flattens
from ._public import show_as_public
from ._response import decode_data, decode_secret_data, error_for
from ._retry import SendRequest
from ._validation import check_flag
from ._webhook_models import WebhookDelivery, WebhookEndpoint, WebhookEventDescription

__all__ = ["AsyncWebhooks"]

_ENDPOINT = "/webhooks/{endpoint_id}"
# Creating one answers the signing secret: TokPortal refuses a key, and never replays it.
_CREATE = Operation("POST", "/webhooks", Access.SECRET)
_GET = Operation("GET", _ENDPOINT)
_UPDATE = Operation("PATCH", _ENDPOINT, Access.WRITE)
_DELETE = Operation("DELETE", _ENDPOINT, Access.WRITE)
_TEST = Operation("POST", f"{_ENDPOINT}/test", Access.WRITE)
_RETRY = Operation("POST", f"{_ENDPOINT}/deliveries/{{delivery_id}}/retry", Access.WRITE)
_EVENT_TYPES = Operation("GET", "/webhooks/events")
#: The operations whose answers carry secrets (a new endpoint's signing secret).
SECRET_OPERATIONS = (_CREATE,)
_ENDPOINTS = PagedEndpoint("/webhooks", WebhookEndpoint, WebhookEndpointFilters)
_DELIVERIES = PagedEndpoint(f"{_ENDPOINT}/deliveries", WebhookDelivery, WebhookDeliveryFilters)


def _url(url: object) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"url must be an https URL your receiver serves, got {url!r}")
    return url  # type: ignore[return-value]  # checked: a str


def _events(events: Iterable[str]) -> builtins.list[str]:
    if isinstance(events, str | bytes) or not isinstance(events, Iterable):
        raise ValueError(
            "events must be a list of event types such as ['account.banned'], got "
            f"{type(events).__name__}"
        )
    checked = builtins.list(events)
    if not checked or any(not isinstance(e, str) or not e.strip() for e in checked):
        raise ValueError(f"events must be non-empty event type names, got {checked!r}")
    return checked


def _optional_text(name: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _catalog(data: Any) -> Any:
    """The event list, from a bare array or from an object that holds it.

    The object holds it under ``events`` (or ``event_types``), beside the delivery and
    signature rules.
    """
    listed = data.get("events", data.get("event_types", [])) if isinstance(data, dict) else None
    items = data if listed is None else listed
    if not isinstance(items, builtins.list):
        return items  # the decoder says what is wrong with it
    return [{"type": item} if isinstance(item, str) else item for item in items]


class AsyncWebhooks:
    """The endpoints TokPortal sends events to: create, list, update, delete, test.

    Reached as ``tp.webhooks`` on an :class:`~tokportal_async.AsyncTokPortal`.

    Example::

        endpoint = await tp.webhooks.create(
            "https://example.com/tokportal/events", ["account.banned", "account.revealed"]
        )
        save_secret(endpoint.signing_secret)  # returned once: verifies every event
    """

    def __init__(self, send: SendRequest) -> None:
        self._send = send  # the client's requests: paced, retried, typed

    async def create(
        self,
        url: str,
        events: Iterable[str],
        *,
        description: str | None = None,
        enabled: bool = True,
    ) -> WebhookEndpoint:
        """Register ``url`` for ``events``. The answer holds the ``signing_secret``, once.

        Sent without an ``Idempotency-Key`` (TokPortal refuses one here) and not sent again
        once it may have reached TokPortal: after an uncertain failure, :meth:`list` the
        endpoints before creating another.
        """
        body: dict[str, Any] = {"url": _url(url), "events": _events(events)}
        if _optional_text("description", description) is not None:
            body["description"] = description
        body["enabled"] = check_flag("enabled", enabled)
        # Handed over, never held here: the answer carries the signing secret.
        return decode_secret_data(await _CREATE.send(self._send, {}, json=body), WebhookEndpoint)

    async def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[WebhookEndpointFilters],
    ) -> Page[WebhookEndpoint]:
        """One page of your webhook endpoints.

        Args:
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: ``enabled`` and ``event`` (only endpoints subscribed to it); see
                :class:`~tokportal_async.WebhookEndpointFilters`.
        """
        return await _ENDPOINTS.page(self._send, filters, page=page, per_page=per_page)

    def pages(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[WebhookEndpointFilters],
    ) -> AsyncGenerator[Page[WebhookEndpoint], None]:
        """Every page of webhook endpoints, fetched lazily."""
        return _ENDPOINTS.pages(self._send, filters, per_page=per_page, concurrency=concurrency)

    @flattens("pages")
    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[WebhookEndpointFilters],
    ) -> AsyncGenerator[WebhookEndpoint, None]:
        """Every webhook endpoint, page after page."""
        return _ENDPOINTS.items(self._send, filters, per_page=per_page, concurrency=concurrency)

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One webhook endpoint (its ``signing_secret`` is not shown again)."""
        ids = {"endpoint_id": endpoint_id}
        return await _GET.data(self._send, WebhookEndpoint, ids, identity=("id", endpoint_id))

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Iterable[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint: only what is given is sent."""
        body: dict[str, Any] = {}
        if url is not None:
            body["url"] = _url(url)
        if events is not None:
            body["events"] = _events(events)
        if _optional_text("description", description) is not None:
            body["description"] = description
        if check_flag("enabled", enabled) is not None:
            body["enabled"] = enabled
        if not body:
            raise ValueError("update needs at least one of url, events, description, enabled")
        ids = {"endpoint_id": endpoint_id}
        return await _UPDATE.data(
            self._send, WebhookEndpoint, ids, json=body, key=idempotency_key,
            identity=("id", endpoint_id),
        )  # fmt: skip

    async def delete(self, endpoint_id: str, *, idempotency_key: str | None = None) -> None:
        """Delete an endpoint: TokPortal stops sending it events."""
        ids = {"endpoint_id": endpoint_id}
        response = await _DELETE.send(self._send, ids, key=checked_key(idempotency_key))
        if not response.ok:
            raise error_for(response)

    async def deliveries(
        self,
        endpoint_id: str,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[WebhookDeliveryFilters],
    ) -> Page[WebhookDelivery]:
        """One page of an endpoint's delivery attempts, newest first.

        Args:
            endpoint_id: the endpoint's id.
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: ``event_type`` and ``success``; see
                :class:`~tokportal_async.WebhookDeliveryFilters`.
        """
        return await _DELIVERIES.page(
            self._send, filters, caller="deliveries", page=page, per_page=per_page,
            ids={"endpoint_id": endpoint_id},
        )  # fmt: skip

    def delivery_pages(
        self,
        endpoint_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[WebhookDeliveryFilters],
    ) -> AsyncGenerator[Page[WebhookDelivery], None]:
        """Every page of an endpoint's deliveries, fetched lazily."""
        return _DELIVERIES.pages(
            self._send, filters, caller="delivery_pages", per_page=per_page,
            concurrency=concurrency, ids={"endpoint_id": endpoint_id},
        )  # fmt: skip

    @flattens("delivery_pages")
    def iter_deliveries(
        self,
        endpoint_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[WebhookDeliveryFilters],
    ) -> AsyncGenerator[WebhookDelivery, None]:
        """Every delivery attempt of an endpoint, page after page.

        Example::

            async for failed in tp.webhooks.iter_deliveries(endpoint.id, success=False):
                await tp.webhooks.retry_delivery(endpoint.id, failed.id)
        """
        return _DELIVERIES.items(
            self._send, filters, caller="iter_deliveries", per_page=per_page,
            concurrency=concurrency, ids={"endpoint_id": endpoint_id},
        )  # fmt: skip

    async def retry_delivery(
        self, endpoint_id: str, delivery_id: str, *, idempotency_key: str | None = None
    ) -> WebhookDelivery:
        """Send a delivery's event again, now."""
        ids = {"endpoint_id": endpoint_id, "delivery_id": delivery_id}
        return await _RETRY.data(self._send, WebhookDelivery, ids, key=idempotency_key)

    async def test(
        self, endpoint_id: str, *, idempotency_key: str | None = None
    ) -> WebhookDelivery:
        """Send a ``webhook.test`` event to an endpoint; the delivery that carries it."""
        ids = {"endpoint_id": endpoint_id}
        return await _TEST.data(self._send, WebhookDelivery, ids, key=idempotency_key)

    async def event_types(self) -> builtins.list[WebhookEventDescription]:
        """Every event type TokPortal sends, with what it means."""
        response = await _EVENT_TYPES.send(self._send, {})
        return decode_data(
            response,
            builtins.list[WebhookEventDescription],
            adapt=_catalog,
        )


show_as_public(globals())
