"""Webhooks: signatures, events, deduplication, and receivers fed by the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from tokportal_async import AsyncTokPortal, TokPortalError
from tokportal_async.sandbox import Sandbox
from tokportal_async.webhooks import (
    AccountEventData,
    BanEventData,
    CreditsEventData,
    InMemoryDeduplicator,
    RedisDeduplicator,
    SubscriptionEventData,
    WarmingEventData,
    WebhookEvent,
    WebhookEventType,
    WebhookPayloadError,
    WebhookReceiver,
    WebhookSignatureError,
    construct_event,
    sign,
    verify_signature,
)

pytestmark = pytest.mark.anyio

SECRET = "whsec_test_secret_0123456789"
NOW = 1_780_000_000


def event_body(event_type: str = "account.banned", event_id: str = "evt_1", **data: Any) -> bytes:
    payload = {
        "id": event_id,
        "type": event_type,
        "created_at": "2026-12-01T10:00:00Z",
        "api_version": "2026-05-25",
        "data": data or {"username": "cool_creator", "platform": "tiktok",
                         "banned_at": "2026-12-01T09:59:00Z"},
    }  # fmt: skip
    return json.dumps(payload).encode()


# -- verify_signature ------------------------------------------------------------------------


async def test_a_signature_made_as_tokportal_makes_it_verifies() -> None:
    body = event_body()
    digest = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert verify_signature(body, f"t={NOW},v1={digest}", SECRET, now=NOW) is True
    assert sign(body, SECRET, timestamp=NOW) == f"t={NOW},v1={digest}"


async def test_any_of_several_v1_signatures_may_match() -> None:
    body = event_body()
    good = sign(body, SECRET, timestamp=NOW).split("v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert verify_signature(body, header, SECRET, now=NOW)


REFUSALS: list[tuple[str, Callable[[bytes], tuple[bytes, str, str, float]], str, str]] = [
    ("tampered body", lambda b: (b.replace(b"tiktok", b"tiktak"), sign(b, SECRET, timestamp=NOW),
                                 SECRET, NOW), "mismatch", "body was changed"),
    ("wrong secret", lambda b: (b, sign(b, "whsec_other", timestamp=NOW), SECRET, NOW),
     "mismatch", "another secret"),
    ("stale", lambda b: (b, sign(b, SECRET, timestamp=NOW - 301), SECRET, NOW),
     "timestamp_too_old", "301s old"),
    ("future", lambda b: (b, sign(b, SECRET, timestamp=NOW + 400), SECRET, NOW),
     "timestamp_in_future", "in the future"),
    ("no v1", lambda b: (b, f"t={NOW}", SECRET, NOW), "no_v1_signature", "no v1"),
    ("no t", lambda b: (b, "v1=abc", SECRET, NOW), "malformed_header", "no timestamp"),
    ("empty", lambda b: (b, "", SECRET, NOW), "malformed_header", "missing"),
    ("bad t", lambda b: (b, "t=soon,v1=abc", SECRET, NOW), "malformed_header", "whole number"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "reason", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_a_bad_signature_is_refused_with_the_check_that_failed(
    case: str, make: Callable[[bytes], tuple[bytes, str, str, float]], reason: str, says: str
) -> None:
    body, header, secret, now = make(event_body())
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(body, header, secret, now=now)
    assert caught.value.reason == reason
    assert says in str(caught.value)
    assert isinstance(caught.value, TokPortalError)
    expected = hmac.new(secret.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert SECRET not in str(caught.value)
    assert expected not in str(caught.value)


async def test_the_tolerance_holds_both_ways_up_to_its_edge() -> None:
    body = event_body()
    for moment in (NOW - 300, NOW + 300):
        assert verify_signature(body, sign(body, SECRET, timestamp=moment), SECRET, now=NOW)
    with pytest.raises(WebhookSignatureError):
        verify_signature(
            body, sign(body, SECRET, timestamp=NOW - 11), SECRET, now=NOW, tolerance=10
        )


@pytest.mark.parametrize("tolerance", [0, -1, float("inf"), float("nan"), True, "300"])
async def test_a_tolerance_that_is_not_a_positive_number_is_a_value_error(tolerance: Any) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        verify_signature(b"{}", f"t={NOW},v1=00", SECRET, now=NOW, tolerance=tolerance)


async def test_an_empty_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_signature(b"{}", f"t={NOW},v1=00", "", now=NOW)


# -- construct_event -------------------------------------------------------------------------


async def test_an_account_banned_event_is_typed() -> None:
    body = event_body()
    event = construct_event(body, sign(body, SECRET, timestamp=NOW), SECRET, now=NOW)
    assert isinstance(event, WebhookEvent)
    assert (event.id, event.type, event.api_version) == ("evt_1", "account.banned", "2026-05-25")
    assert event.type is WebhookEventType.ACCOUNT_BANNED
    assert isinstance(event.data, BanEventData)
    assert (event.data.username, event.data.platform) == ("cool_creator", "tiktok")
    assert event.data.banned_at is not None
    assert event.data.banned_at.tzinfo is not None


@pytest.mark.parametrize(
    ("event_type", "model"),
    [
        ("account.revealed", AccountEventData),
        ("account.finalized", AccountEventData),
        ("account.ban_appeal.resolved", BanEventData),
        ("subscription.lapsed", SubscriptionEventData),
        ("warming.term_verified", WarmingEventData),
        ("credits.restored", CreditsEventData),
    ],
)
async def test_each_family_gets_its_data_model_and_keeps_the_rest(
    event_type: str, model: type[Any]
) -> None:
    body = event_body(event_type, management_ended=True, something_new=[1, 2])
    event = construct_event(body, sign(body, SECRET, timestamp=NOW), SECRET, now=NOW)
    assert isinstance(event.data, model)
    assert event.data.raw["something_new"] == [1, 2]


async def test_an_unknown_type_is_kept_with_its_data_as_a_mapping() -> None:
    body = event_body("video.ai_labeled", video_id="v_1", label="ai")
    event = construct_event(body, sign(body, SECRET, timestamp=NOW), SECRET, now=NOW)
    assert event.type == "video.ai_labeled"
    assert event.data == {"video_id": "v_1", "label": "ai"}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"type": "account.banned"}', b'{"id": 5, "type": "x"}',
     b'{"id": "e", "type": "account.banned", "data": {"banned_at": 12}}'],
)  # fmt: skip
async def test_a_signed_body_that_is_not_an_event_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        construct_event(body, sign(body, SECRET, timestamp=NOW), SECRET, now=NOW)


async def test_the_signature_is_checked_before_the_body_is_parsed() -> None:
    with pytest.raises(WebhookSignatureError):
        construct_event(b"not json", sign(b"other", SECRET, timestamp=NOW), SECRET, now=NOW)


def test_importing_webhooks_loads_no_http_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import tokportal_async.webhooks; "
        "loaded = [m for m in sys.modules if m.startswith('aiohttp') or m in "
        "('tokportal_async._client', 'tokportal_async._transport')]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, on our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- deduplication ---------------------------------------------------------------------------


async def test_the_in_memory_store_claims_settles_and_forgets() -> None:
    now = [0.0]
    store = InMemoryDeduplicator(
        ttl=100, processing_timeout=10, max_entries=2, clock=lambda: now[0]
    )
    assert await store.claim("a") == "new"
    assert await store.claim("a") == "in_progress"
    await store.release("a")
    assert await store.claim("a") == "new"
    await store.done("a")
    assert await store.claim("a") == "duplicate"
    now[0] = 101
    assert await store.claim("a") == "new"  # forgotten after its time to live
    now[0] = 200
    assert await store.claim("b") == "new"  # a abandoned (its claim expired) ...
    assert await store.claim("c") == "new"
    assert len(store) == 2  # ... and the oldest forgotten past max_entries


async def test_the_redis_store_is_shared_by_receivers(fresh_redis: str) -> None:
    first, second = RedisDeduplicator(fresh_redis), RedisDeduplicator(fresh_redis)
    try:
        assert await first.claim("e1") == "new"
        assert await second.claim("e1") == "in_progress"
        await first.release("e1")
        assert await second.claim("e1") == "new"
        await first.release("e1")  # not first's claim any more: second's stays
        assert await first.claim("e1") == "in_progress"
        await second.done("e1")
        assert await first.claim("e1") == "duplicate"
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_redis_store_refuses_what_is_not_redis_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="bytes") as caught:
        RedisDeduplicator(b"redis://:hunter2@localhost")
    assert "hunter2" not in str(caught.value)


# -- WebhookReceiver -------------------------------------------------------------------------


@asynccontextmanager
async def serving(receiver: WebhookReceiver, path: str = "/events") -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post(path, receiver.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()


async def post(url: str, body: bytes, signature: str) -> tuple[int, Any]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"TokPortal-Signature": signature}) as response,
    ):
        return response.status, await response.json()


async def test_the_receiver_refuses_bad_signatures_with_400_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[WebhookEvent] = []

    async def on_event(event: WebhookEvent) -> None:
        handled.append(event)

    receiver = WebhookReceiver(SECRET, on_event)
    body = event_body()
    async with serving(receiver) as url:
        with caplog.at_level(logging.WARNING, logger="tokportal_async.webhooks"):
            status, answer = await post(url, body + b" ", sign(body, SECRET))
        assert (status, answer) == (400, {"error": "invalid signature"})  # no reason given away
        assert "mismatch" in caplog.text
        status, _ = await post(url, body, sign(body, SECRET))
        assert status == 200
    assert [e.id for e in handled] == ["evt_1"]


async def test_a_ten_megabyte_body_is_refused_unread() -> None:
    receiver = WebhookReceiver(SECRET, lambda event: None)
    async with serving(receiver) as url:
        port = int(url.split(":")[2].split("/")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # The headers promise 10 MB; not a byte of the body is ever sent.
        writer.write(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10485760\r\nTokPortal-Signature: t=1,v1=00\r\n\r\n"
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_a_chunked_body_past_the_bound_is_refused() -> None:
    import aiohttp

    receiver = WebhookReceiver(SECRET, lambda event: None, max_body_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 100

    async with (
        serving(receiver) as url,
        aiohttp.ClientSession() as session,
        session.post(url, data=chunks()) as response,
    ):
        assert response.status == 413


async def test_a_sync_callback_runs_off_the_event_loop() -> None:
    import threading

    threads: list[int] = []
    receiver = WebhookReceiver(SECRET, lambda event: threads.append(threading.get_ident()))
    body = event_body()
    async with serving(receiver) as url:
        assert (await post(url, body, sign(body, SECRET)))[0] == 200
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


async def test_a_deduplicator_that_is_down_makes_the_receiver_answer_500_and_say_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[str] = []

    async def on_event(event: WebhookEvent) -> None:
        handled.append(event.id)

    from .scripted import refused_base_url

    down = RedisDeduplicator("redis://" + refused_base_url().split("//")[1].split("/")[0])
    receiver = WebhookReceiver(SECRET, on_event, deduplicator=down)
    body = event_body()
    async with serving(receiver) as url:
        with caplog.at_level(logging.ERROR, logger="tokportal_async.webhooks"):
            status, answer = await post(url, body, sign(body, SECRET))
    await down.aclose()
    assert (status, answer["status"]) == (500, "failed")  # TokPortal redelivers later
    assert handled == []
    assert "deduplicator failed" in caplog.text


async def test_receiver_arguments_are_checked_at_once() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookReceiver("", lambda event: None)
    with pytest.raises(ValueError, match="on_event"):
        WebhookReceiver(SECRET, "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance"):
        WebhookReceiver(SECRET, lambda event: None, tolerance=0)
    with pytest.raises(ValueError, match="deduplicator"):
        WebhookReceiver(SECRET, lambda event: None, deduplicator=object())  # type: ignore[arg-type]
    assert SECRET not in repr(WebhookReceiver(SECRET, lambda event: None))


# -- end to end, from the sandbox ------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(accounts=5, webhook_retry_delay=0.01, webhook_timeout=5) as running:
        yield running


async def test_an_event_redelivered_after_a_500_is_handled_exactly_once(sandbox: Sandbox) -> None:
    calls: list[str] = []
    handled: list[WebhookEvent] = []
    done = asyncio.Event()

    async def on_event(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("the database is down")  # TokPortal must redeliver
        handled.append(event)
        done.set()

    async with AsyncTokPortal(**sandbox.client_kwargs()) as tp:
        endpoint = await tp.webhooks.create("http://127.0.0.1:1/placeholder", ["account.banned"])
        assert endpoint.signing_secret is not None
        receiver = WebhookReceiver(endpoint.signing_secret, on_event)
        async with serving(receiver) as url:
            await tp.webhooks.update(endpoint.id, url=url)
            account_id = sandbox.state.accounts[0]["id"]
            sandbox.state.ban_account(account_id)
            with anyio_fail_after(10):
                await done.wait()
            attempts = [d async for d in tp.webhooks.iter_deliveries(endpoint.id)]
    assert calls == [handled[0].id] * 2
    assert len(handled) == 1
    assert isinstance(handled[0].data, BanEventData)
    assert handled[0].data.username == sandbox.state.accounts[0]["username"]
    assert [(a.attempt, a.success, a.status_code) for a in attempts] == [
        (2, True, 200),
        (1, False, 500),
    ]


async def test_two_receivers_sharing_redis_handle_an_event_once(
    sandbox: Sandbox, fresh_redis: str
) -> None:
    handled: list[tuple[str, str]] = []
    done = asyncio.Event()
    stores = [RedisDeduplicator(fresh_redis), RedisDeduplicator(fresh_redis)]
    second_url = ""

    def handler(name: str) -> Callable[[WebhookEvent], Any]:
        async def on_event(event: WebhookEvent) -> None:
            if name == "first":
                # The first machine fails, and the redelivery lands on the second.
                sandbox.state.webhooks.endpoints[endpoint.id]["url"] = second_url
                raise RuntimeError("first machine down")
            handled.append((name, event.id))
            done.set()

        return on_event

    async with AsyncTokPortal(**sandbox.client_kwargs()) as tp:
        endpoint = await tp.webhooks.create("http://127.0.0.1:1/x", ["credits.restored"])
        secret = endpoint.signing_secret
        assert secret is not None
        first = WebhookReceiver(secret, handler("first"), deduplicator=stores[0])
        second = WebhookReceiver(secret, handler("second"), deduplicator=stores[1])
        async with serving(first) as first_url, serving(second) as url:
            second_url = url
            await tp.webhooks.update(endpoint.id, url=first_url)
            sandbox.state.restore_credits(25, "refund")
            with anyio_fail_after(10):
                await done.wait()
            (event,) = [e for e in sandbox.state.webhooks.events if e["type"] == "credits.restored"]
            body = json.dumps(event).encode()
            # A late redelivery to either machine is a duplicate, not handled again.
            for target in (first_url, second_url):
                status, answer = await post(target, body, sign(body, secret))
                assert (status, answer["status"]) == (200, "duplicate")
    for store in stores:
        await store.aclose()
    assert handled == [("second", event["id"])]


async def test_a_redelivery_while_the_first_runs_is_answered_409(fresh_redis: str) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def slow(event: WebhookEvent) -> None:
        started.set()
        await release.wait()
        handled.append(event.id)

    stores = [RedisDeduplicator(fresh_redis), RedisDeduplicator(fresh_redis)]
    receivers = [WebhookReceiver(SECRET, slow, deduplicator=store) for store in stores]
    body = event_body()
    async with serving(receivers[0]) as one, serving(receivers[1]) as other:
        first = asyncio.create_task(post(one, body, sign(body, SECRET)))
        await started.wait()
        assert (await post(other, body, sign(body, SECRET)))[0] == 409
        release.set()
        assert (await first)[0] == 200
    for store in stores:
        await store.aclose()
    assert handled == ["evt_1"]


def anyio_fail_after(seconds: float) -> Any:
    import anyio

    return anyio.fail_after(seconds)
