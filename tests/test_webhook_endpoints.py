"""``tp.webhooks``: endpoint management through both clients, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tokportal_async import (
    AsyncTokPortal,
    NotFoundError,
    Page,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventDescription,
)
from tokportal_async.sandbox import Sandbox, serve_in_thread
from tokportal_async.testing import WebhookInbox

from .drivers import Driver
from .scripted import Reply, scripted_server


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=2, webhook_retry_delay=0.01) as running:
        yield running


def test_an_endpoint_is_created_with_its_secret_once_then_managed(
    client: Driver, sandbox: Sandbox
) -> None:
    created = client.call(
        "webhooks.create", "https://example.com/hook", ["account.banned"], description="prod"
    )
    assert isinstance(created, WebhookEndpoint)
    secret = created.signing_secret
    assert secret is not None
    assert secret == sandbox.state.webhooks.endpoints[created.id]["secret"]
    assert secret not in repr(created)
    assert "Idempotency-Key" not in sandbox.state.last_request("/webhooks").headers
    fetched = client.call("webhooks.get", created.id)
    assert (fetched.description, fetched.signing_secret) == ("prod", None)
    updated = client.call("webhooks.update", created.id, enabled=False, events=["credits.restored"])
    assert (updated.enabled, updated.events) == (False, ["credits.restored"])
    assert sandbox.state.last_request(created.id).headers["Idempotency-Key"]
    page = client.call("webhooks.list", enabled=False)
    assert isinstance(page, Page)
    assert [e.id for e in page] == [created.id]
    assert client.collect("webhooks.iter", enabled=True) == []
    client.call("webhooks.delete", created.id)
    with pytest.raises(NotFoundError):
        client.call("webhooks.get", created.id)


def test_test_deliveries_and_retry(client: Driver, sandbox: Sandbox) -> None:
    with WebhookInbox() as inbox:
        endpoint = client.call("webhooks.create", inbox.url, ["webhook.test"])
        inbox.secret = endpoint.signing_secret
        inbox.fail_next(1, status=503)
        sent = client.call("webhooks.test", endpoint.id)
        assert isinstance(sent, WebhookDelivery)
        assert sent.event_type == "webhook.test"
        inbox.wait_for("webhook.test")
        failed = client.collect("webhooks.iter_deliveries", endpoint.id, success=False)
        assert [(d.attempt, d.status_code) for d in failed] == [(1, 503)]
        client.call("webhooks.retry_delivery", endpoint.id, failed[0].id)
        inbox.wait_for("webhook.test", count=2)  # the retried event arrived again
        assert len(inbox.requests_for(sent.event_id or "")) == 3


def test_event_types_are_described(client: Driver, sandbox: Sandbox) -> None:
    types = client.call("webhooks.event_types")
    assert all(isinstance(t, WebhookEventDescription) for t in types)
    assert "account.banned" in {t.type for t in types}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "data",
    [
        ["account.banned", "credits.restored"],
        {"events": [{"type": "account.banned"}, "credits.restored"], "signature": {"v": 1}},
        {"event_types": ["account.banned", "credits.restored"]},
    ],
)
async def test_the_event_catalog_is_read_in_each_shape(data: object) -> None:
    async with (
        scripted_server(Reply(json={"data": data})) as server,
        AsyncTokPortal("sk_test", base_url=server.base_url) as tp,
    ):
        types = await tp.webhooks.event_types()
    assert [t.type for t in types] == ["account.banned", "credits.restored"]


BAD: list[tuple[str, dict[str, object], str]] = [
    ("not a url", {"url": "example.com/hook", "events": ["a"]}, "url"),
    ("ftp", {"url": "ftp://example.com/hook", "events": ["a"]}, "url"),
    ("one string", {"url": "https://e.com/h", "events": "account.banned"}, "events"),
    ("no events", {"url": "https://e.com/h", "events": []}, "events"),
    ("blank event", {"url": "https://e.com/h", "events": [" "]}, "events"),
]


@pytest.mark.parametrize(("case", "args", "named"), BAD, ids=[b[0] for b in BAD])
def test_bad_endpoints_are_refused_before_sending(
    client: Driver, sandbox: Sandbox, case: str, args: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        client.call("webhooks.create", args["url"], args["events"])
    with pytest.raises(ValueError, match="at least one"):
        client.call("webhooks.update", "we_1")
    assert len(sandbox.state.requests) == 0, case


@pytest.mark.anyio
async def test_a_key_on_creation_is_refused_by_the_sdk_and_by_the_sandbox() -> None:
    # The SDK never sends one, not even through tp.request; a request that does is refused
    # by the sandbox, as TokPortal refuses it.
    import aiohttp

    from tokportal_async.sandbox import Sandbox as AsyncSandbox

    body = {"url": "https://e.com/h", "events": ["a"]}
    async with AsyncSandbox(accounts=1) as running, AsyncTokPortal(**running.client_kwargs()) as tp:
        with pytest.raises(ValueError, match="secret-bearing"):
            await tp.request("POST", "/webhooks", json=body, idempotency_key="k-1")
        assert len(running.state.requests) == 0
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{running.base_url}/webhooks",
                json=body,
                headers={"X-API-Key": running.api_key, "Idempotency-Key": "k-1"},
            ) as answer,
        ):
            refusal = await answer.json()
    assert answer.status == 400
    assert refusal["error"]["code"] == "IDEMPOTENCY_KEY_NOT_ALLOWED_FOR_SENSITIVE_RESPONSE"
