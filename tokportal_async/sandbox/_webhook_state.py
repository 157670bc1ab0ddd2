"""The sandbox's webhooks: endpoints, the events its state emits, and their deliveries.

Deliveries are signed as TokPortal signs them.

An event goes to every enabled endpoint subscribed to its type. A delivery that gets no
2xx in ``webhook_timeout`` seconds is tried again after ``webhook_retry_delay`` seconds,
doubling, up to ``webhook_max_attempts``; every attempt is recorded, as
``GET /webhooks/{id}/deliveries`` serves it. Deliveries run on the sandbox's event loop;
an event emitted from another thread (a test staging a ban) is handed to that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..webhooks._signature import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign
from ._data import timestamp

if TYPE_CHECKING:
    import aiohttp

__all__ = ["API_VERSION", "EVENT_DESCRIPTIONS", "WebhookState"]

API_VERSION = "2026-05-25"
#: The most of a receiver's answer read: its status is what counts.
_MAX_RECEIVER_ANSWER = 64 * 1024
#: The events the sandbox emits, and when.
EVENT_DESCRIPTIONS = {
    "webhook.test": "A test event, sent by POST /webhooks/{id}/test.",
    "account.banned": "A ban of the account was validated.",
    "account.revealed": "The account's credentials were revealed; TokPortal's management ended.",
    "account.verification_code.received": "A verification code reached the account's inbox.",
    "account.edit_request.created": "A profile edit request was created.",
    "subscription.lapsed": "The account's coverage lapsed.",
    "subscription.cancelled": "The account's coverage was cancelled.",
    "subscription.reactivated": "The account's coverage was reactivated.",
    "subscription.ended": "The account's coverage ended for good.",
    "warming.session_started": "A warming session started.",
    "warming.term_verified": "A warming term was verified.",
    "warming.session_completed": "A warming session completed.",
    "credits.restored": "Credits were given back.",
}


class WebhookState:
    """Endpoints, emitted events and delivery attempts, and the loop that delivers."""

    def __init__(
        self,
        *,
        retry_delay: float,
        max_attempts: int,
        timeout: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._now = now
        self._ids = itertools.count(1)
        #: Endpoints by id: ``owner`` (the API key), ``url``, ``events``, ``secret`` ...
        self.endpoints: dict[str, dict[str, Any]] = {}
        #: Every event emitted, oldest first.
        self.events: list[dict[str, Any]] = []
        #: Every delivery attempt, oldest first.
        self.deliveries: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- endpoints --------------------------------------------------------------------------

    def create_endpoint(
        self, owner: str, url: str, events: list[str], description: str | None, enabled: bool
    ) -> dict[str, Any]:
        """Register an endpoint; its record holds the signing secret."""
        now = timestamp(self._now())
        endpoint: dict[str, Any] = {
            "id": f"we_{next(self._ids):04d}",
            "owner": owner,
            "url": url,
            "events": events,
            "description": description,
            "enabled": enabled,
            "created_at": now,
            "updated_at": now,
            "secret": "whsec_" + secrets.token_hex(24),
        }
        self.endpoints[endpoint["id"]] = endpoint
        return endpoint

    @staticmethod
    def public(endpoint: dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
        """An endpoint as the API answers it (the secret only when created)."""
        fields = {k: v for k, v in endpoint.items() if k not in ("owner", "secret")}
        if with_secret:
            fields["signing_secret"] = endpoint["secret"]
        return fields

    # -- events -----------------------------------------------------------------------------

    def emit(
        self, event_type: str, data: dict[str, Any], *, only: str | None = None
    ) -> dict[str, Any]:
        """Record an event and deliver it to every endpoint that wants it (or ``only`` one).

        Returns the event; its deliveries start on the sandbox's loop.
        """
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": event_type,
            "created_at": timestamp(self._now()),
            "api_version": API_VERSION,
            "data": data,
        }
        self.events.append(event)
        for endpoint in list(self.endpoints.values()):
            wanted = event_type in endpoint["events"] or "*" in endpoint["events"]
            if endpoint["id"] == only or (only is None and endpoint["enabled"] and wanted):
                self.deliver(endpoint, event)
        return event

    def deliver(self, endpoint: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        """Start delivering ``event`` to ``endpoint``; its first attempt's record."""
        record = self._attempt_record(endpoint, event, attempt=1)
        loop = self._loop
        if loop is None or loop.is_closed():
            record["error"] = "the sandbox is not running"
            record["success"] = False
            return record
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._spawn(endpoint, event, record)
        else:  # staged from another thread: the loop delivers
            loop.call_soon_threadsafe(self._spawn, endpoint, event, record)
        return record

    def _attempt_record(
        self, endpoint: dict[str, Any], event: dict[str, Any], *, attempt: int
    ) -> dict[str, Any]:
        record = {
            "id": f"wd_{next(self._ids):04d}",
            "endpoint_id": endpoint["id"],
            "event_id": event["id"],
            "event_type": event["type"],
            "attempt": attempt,
            "success": None,
            "status_code": None,
            "error": None,
            "duration_ms": None,
            "created_at": timestamp(self._now()),
        }
        self.deliveries.append(record)
        return record

    def _spawn(
        self, endpoint: dict[str, Any], event: dict[str, Any], record: dict[str, Any]
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(endpoint, event, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, endpoint: dict[str, Any], event: dict[str, Any], record: dict[str, Any]
    ) -> None:
        body = json.dumps(event).encode()
        delay = self.retry_delay
        while True:
            await self._attempt(endpoint, event, body, record)
            if record["success"] or record["attempt"] >= self.max_attempts:
                return
            await asyncio.sleep(delay)  # the sender's backoff, not a test's wait
            delay *= 2
            record = self._attempt_record(endpoint, event, attempt=record["attempt"] + 1)

    async def _attempt(
        self, endpoint: dict[str, Any], event: dict[str, Any], body: bytes, record: dict[str, Any]
    ) -> None:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "TokPortal-Webhooks/sandbox",
            SIGNATURE_HEADER: sign(body, endpoint["secret"]),
            EVENT_ID_HEADER: event["id"],
            EVENT_TYPE_HEADER: event["type"],
        }
        started = time.monotonic()
        try:
            async with self._session.post(
                endpoint["url"],
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                await response.content.read(_MAX_RECEIVER_ANSWER)  # a receiver may talk on
                record["status_code"] = response.status
                record["success"] = 200 <= response.status < 300
                if not record["success"]:
                    record["error"] = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            record["success"] = False
            record["error"] = (
                type(error).__name__ if isinstance(error, TimeoutError) else str(error)
            )
        record["duration_ms"] = int((time.monotonic() - started) * 1000)

    # -- the loop ---------------------------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on ``loop`` (the sandbox's, once it runs)."""
        self._loop = loop

    async def aclose(self) -> None:
        """Stop delivering: pending attempts are cancelled, the HTTP session closed."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._loop = None
