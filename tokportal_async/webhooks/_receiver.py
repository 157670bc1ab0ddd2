"""``WebhookReceiver``: an aiohttp handler that verifies, deduplicates and hands events on.

What it answers, and why:

- 413 for a body over ``max_body_bytes``, refused from its ``Content-Length`` before a
  byte of it is read (or as soon as a chunked body passes the bound).
- 400 when the signature does not check or the signed body is not an event; the reason
  is logged (``tokportal_async.webhooks``), never returned to the sender.
- 200 for an event handled already (a redelivery), without calling ``on_event``.
- 409 for an event another attempt is handling right now: TokPortal tries again later, so
  the event is not lost if that attempt fails.
- 200 once ``on_event`` returns; 500 if it raises, or if the deduplicator cannot be
  reached (handling an event it cannot record could handle it twice), so that TokPortal
  redelivers.

``on_event`` may be a coroutine function or a plain function; a plain one runs in a
worker thread, so a slow one does not hold up the event loop. To answer fast and work
later, let ``on_event`` put the event on a queue and return.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from ._dedup import Deduplicator, InMemoryDeduplicator
from ._events import WebhookEvent, WebhookPayloadError, construct_event
from ._signature import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    WebhookSignatureError,
    check_tolerance,
)

if TYPE_CHECKING:  # aiohttp is loaded when a request is handled, not on import
    from aiohttp import web

__all__ = ["DEFAULT_MAX_BODY_BYTES", "EventHandler", "WebhookReceiver"]

logger = logging.getLogger("tokportal_async.webhooks")

#: The largest body accepted: TokPortal's events are a few KB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_READ_CHUNK = 64 * 1024

EventHandler = Callable[[WebhookEvent], Awaitable[None] | None]


class _TooLarge(Exception):
    pass


class WebhookReceiver:
    """Receive TokPortal's webhooks in an aiohttp app: ``app.router.add_post(path, r.handle)``.

    Example::

        receiver = webhooks.WebhookReceiver(secret=secret, on_event=on_event)
        app.router.add_post("/tokportal/events", receiver.handle)

    Args:
        secret: the endpoint's ``signing_secret`` (from ``tp.webhooks.create``).
        on_event: called once per event, with the :class:`WebhookEvent`; async or not.
        tolerance: seconds a signature's timestamp may be from now, either way.
        deduplicator: where handled event ids are recorded; an
            :class:`InMemoryDeduplicator` by default (one process). Receivers on many
            processes or machines share a :class:`RedisDeduplicator`.
        max_body_bytes: the largest body read (1 MiB by default).
    """

    def __init__(
        self,
        secret: str | bytes,
        on_event: EventHandler,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        deduplicator: Deduplicator | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if not isinstance(secret, str | bytes) or not secret:
            raise ValueError("secret must be the endpoint's non-empty signing_secret")
        if not callable(on_event):
            raise ValueError(f"on_event must be callable, got {type(on_event).__name__}")
        if deduplicator is not None and not isinstance(deduplicator, Deduplicator):
            raise ValueError(
                "deduplicator must have claim, done and release (a Deduplicator), got "
                f"{type(deduplicator).__name__}"
            )
        if (
            isinstance(max_body_bytes, bool)
            or not isinstance(max_body_bytes, int)
            or max_body_bytes < 1
        ):
            raise ValueError(f"max_body_bytes must be a positive integer, got {max_body_bytes!r}")
        self._secret = secret
        self._on_event = on_event
        self._tolerance = tolerance
        self._deduplicator = deduplicator or InMemoryDeduplicator()
        self._max_body_bytes = max_body_bytes
        # Checked now, not at the first event: a bad tolerance is a bug of the startup.
        check_tolerance(tolerance)

    def __repr__(self) -> str:
        # Never the secret.
        return f"WebhookReceiver(on_event={self._on_event!r}, deduplicator={self._deduplicator!r})"

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler: verify, deduplicate, call ``on_event``, answer."""
        from aiohttp import web

        try:
            body = await self._read(request)
        except _TooLarge:
            logger.warning("Webhook refused: body over %d bytes", self._max_body_bytes)
            return web.json_response({"error": "body too large"}, status=413)
        try:
            event = construct_event(
                body, request.headers.get(SIGNATURE_HEADER, ""), self._secret,
                tolerance=self._tolerance,
            )  # fmt: skip
        except WebhookSignatureError as error:
            logger.warning("Webhook refused: %s (%s)", error, error.reason)
            return web.json_response({"error": "invalid signature"}, status=400)
        except WebhookPayloadError as error:
            logger.warning("Webhook refused: %s", error)
            return web.json_response({"error": "invalid event"}, status=400)
        status = await self.dispatch(event)
        return web.json_response({"received": event.id, "status": status}, status=_HTTP[status])

    async def dispatch(self, event: WebhookEvent) -> str:
        """Hand a verified event to ``on_event`` once, and say what became of it.

        ``"handled"``, ``"duplicate"``, ``"in_progress"`` or ``"failed"``: for a receiver in
        another framework, after :func:`construct_event`.
        """
        try:
            claim = await self._deduplicator.claim(event.id)
        except Exception:
            # The store is down: not handling it now is safe (TokPortal redelivers);
            # handling it unrecorded could handle it twice.
            logger.exception("Webhook %s (%s): the deduplicator failed; not handled now",
                             event.id, event.type)  # fmt: skip
            return "failed"
        if claim != "new":
            logger.info("Webhook %s (%s): %s, not handled again", event.id, event.type, claim)
            return "duplicate" if claim == "duplicate" else "in_progress"
        try:
            if _is_async(self._on_event):
                await self._on_event(event)  # type: ignore[misc]  # async: awaitable
            else:  # a plain function may block: not on the event loop
                result = await anyio.to_thread.run_sync(self._on_event, event)
                if inspect.isawaitable(result):
                    await result
        except Exception:
            logger.exception("Webhook %s (%s): on_event failed; TokPortal will redeliver",
                             event.id, event.type)  # fmt: skip
            await self._settle(self._deduplicator.release, event)
            return "failed"
        # Handled: even if recording it fails, the answer is 200, or it would run twice.
        await self._settle(self._deduplicator.done, event)
        return "handled"

    async def _settle(self, step: Callable[[str], Awaitable[None]], event: WebhookEvent) -> None:
        """Record how handling ended; a store that fails then is logged, not raised."""
        try:
            await step(event.id)
        except Exception:
            logger.exception("Webhook %s (%s): the deduplicator failed to record it",
                             event.id, event.type)  # fmt: skip

    async def _read(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self._max_body_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.read(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self._max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)


_HTTP = {"handled": 200, "duplicate": 200, "in_progress": 409, "failed": 500}


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
