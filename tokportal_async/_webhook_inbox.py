"""``WebhookInbox``: a receiver on 127.0.0.1 for tests, to register, act, and await events.

It runs its own event loop in a thread, so sync and async tests use it alike. Every
delivery is kept as it came (raw body and headers, verified or not); events that verify
with the inbox's secret are decoded and can be awaited. It can also answer badly on
purpose (``fail_next``), to see redelivery happen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Self

import anyio.to_thread
import attrs

from ._loopback import serve_post
from .webhooks import (
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    construct_event,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from aiohttp import web
    from anyio.from_thread import BlockingPortal

    from ._client import AsyncTokPortal
    from ._sync_client import TokPortal
    from ._webhook_models import WebhookEndpoint

__all__ = ["ReceivedDelivery", "WebhookInbox"]

#: How long a wait for an event lasts by default: deliveries on loopback take milliseconds.
DEFAULT_WAIT = 10.0


@attrs.frozen(kw_only=True)
class ReceivedDelivery:
    """One request the inbox received: the raw body, the headers, and what it answered."""

    body: bytes
    headers: dict[str, str]
    status: int
    event: WebhookEvent | None


class WebhookInbox:
    """A webhook receiver for tests, on a free port of 127.0.0.1.

    Example::

        with WebhookInbox() as inbox:
            endpoint = inbox.register(tp, ["account.banned"])  # tp: a TokPortal
            sandbox.state.ban_account(account_id)
            event = inbox.wait_for("account.banned")
    """

    def __init__(self, secret: str | None = None, *, path: str = "/tokportal/events") -> None:
        #: The signing secret events are verified with (``register`` sets it).
        self.secret = secret
        self.path = path
        self.url = ""
        self._received: list[ReceivedDelivery] = []
        self._changed = threading.Condition()
        self._failures: list[int] = []
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"WebhookInbox(url={self.url!r}, received={len(self._received)})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving; :attr:`url` is known from then on."""
        from anyio.from_thread import start_blocking_portal

        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self.url = self._portal.call(self._serve)

    def close(self) -> None:
        """Stop serving."""
        if self._portal is not None and self._portal_cm is not None:
            if self._runner is not None:
                self._portal.call(self._runner.cleanup)
            self._portal_cm.__exit__(None, None, None)
            self._portal = self._portal_cm = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.close)

    async def _serve(self) -> str:
        self._runner, url = await serve_post(self.path, self._handle)
        return url

    async def _handle(self, request: web.Request) -> web.Response:
        from aiohttp import web

        body = await request.read()
        event = None
        status = 200
        if self.secret is not None:
            try:
                event = construct_event(
                    body, request.headers.get(SIGNATURE_HEADER, ""), self.secret
                )
            except (WebhookSignatureError, WebhookPayloadError):
                status = 400
        with self._changed:
            if status == 200 and self._failures:
                status = self._failures.pop(0)
            self._received.append(
                ReceivedDelivery(
                    body=body, headers=dict(request.headers), status=status, event=event
                )
            )
            self._changed.notify_all()
        return web.json_response({"status": status}, status=status)

    # -- arranging --------------------------------------------------------------------------

    def register(self, tp: TokPortal, events: Iterable[str]) -> WebhookEndpoint:
        """Register this inbox with ``tp`` (a blocking client) for ``events``; keep its secret."""
        endpoint = tp.webhooks.create(self.url, events)
        self.secret = endpoint.signing_secret
        return endpoint

    async def aregister(self, tp: AsyncTokPortal, events: Iterable[str]) -> WebhookEndpoint:
        """:meth:`register`, with an async client."""
        endpoint = await tp.webhooks.create(self.url, events)
        self.secret = endpoint.signing_secret
        return endpoint

    def fail_next(self, times: int = 1, *, status: int = 500) -> None:
        """Answer the next ``times`` verified deliveries with ``status`` (a redelivery follows)."""
        with self._changed:
            self._failures.extend([status] * times)

    # -- reading ----------------------------------------------------------------------------

    @property
    def received(self) -> list[ReceivedDelivery]:
        """Every request received, in order."""
        with self._changed:
            return list(self._received)

    @property
    def events(self) -> list[WebhookEvent]:
        """The verified events received and answered 2xx, in order (redeliveries included)."""
        return [r.event for r in self.received if r.event is not None and r.status < 300]

    def wait_for(
        self, event_type: str | None = None, *, timeout: float = DEFAULT_WAIT, count: int = 1
    ) -> WebhookEvent:
        """The ``count``-th verified event accepted (of ``event_type``, if given), waited for.

        Raises:
            TimeoutError: they did not come within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [e for e in self.events if event_type is None or e.type == event_type]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [str(e.type) for e in self.events]
                    raise TimeoutError(
                        f"no {event_type or 'event'} (#{count}) within {timeout:g}s; received: "
                        f"{seen or 'nothing verified'} of {len(self._received)} requests"
                    )
                self._changed.wait(remaining)

    async def next_event(
        self,
        event_type: str | None = None,
        *,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 - the same as wait_for's, bounds a thread's wait
        count: int = 1,
    ) -> WebhookEvent:
        """:meth:`wait_for`, awaited (the wait runs in a worker thread)."""
        return await anyio.to_thread.run_sync(
            lambda: self.wait_for(event_type, timeout=timeout, count=count)
        )

    def requests_for(self, event_id: str) -> list[ReceivedDelivery]:
        """Every request that carried event ``event_id`` (redeliveries included)."""
        return [r for r in self.received if r.headers.get("TokPortal-Event-Id") == event_id]
