"""Processing each event once: a claim on its id, settled when the handler is done.

TokPortal redelivers an event (same ``id``) until a receiver answers 2xx, and a slow
receiver may see the redelivery while the first attempt still runs. So a receiver claims
the id before handling it:

- ``"new"``: nobody has it; handle it, then :meth:`~Deduplicator.done` (or
  :meth:`~Deduplicator.release` if handling failed, so the redelivery is handled).
- ``"duplicate"``: handled already; answer 2xx without handling it again.
- ``"in_progress"``: another attempt is handling it now; answer non-2xx, so TokPortal
  tries again later rather than losing it if that attempt fails.

A claim that is never settled (a process killed mid-event) expires after
``processing_timeout`` seconds, and a done id is forgotten after ``ttl`` seconds (longer
than TokPortal's redelivery window).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_PROCESSING_TIMEOUT",
    "DEFAULT_TTL",
    "Claim",
    "Deduplicator",
    "InMemoryDeduplicator",
    "RedisDeduplicator",
]

Claim = Literal["new", "duplicate", "in_progress"]

#: How long a handled id is remembered: three days, past TokPortal's redeliveries.
DEFAULT_TTL = 3 * 24 * 3600.0
#: How long an unsettled claim blocks others: a handler that runs longer is presumed dead.
DEFAULT_PROCESSING_TIMEOUT = 300.0
#: Ids an in-memory store holds at most (the oldest are forgotten first).
DEFAULT_MAX_ENTRIES = 100_000


@runtime_checkable
class Deduplicator(Protocol):
    """Where receivers record which event ids they handle and have handled."""

    async def claim(self, event_id: str) -> Claim:
        """Claim ``event_id`` for handling (see the module's docstring)."""
        ...

    async def done(self, event_id: str) -> None:
        """Record ``event_id`` as handled: later deliveries are duplicates."""
        ...

    async def release(self, event_id: str) -> None:
        """Give up the claim on ``event_id`` (its handling failed): a redelivery is new."""
        ...


def _seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


class InMemoryDeduplicator:
    """A :class:`Deduplicator` in this process's memory: bounded, with a time to live.

    Right for one receiver process. For several (many web workers, many machines), use
    :class:`RedisDeduplicator`, which they share.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        processing_timeout: float = DEFAULT_PROCESSING_TIMEOUT,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = _seconds("ttl", ttl)
        self._processing_timeout = _seconds("processing_timeout", processing_timeout)
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        self._max_entries = max_entries
        self._clock = clock
        #: id -> (done, expires at), oldest first.
        self._entries: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def __repr__(self) -> str:
        return f"InMemoryDeduplicator(entries={len(self._entries)}, ttl={self._ttl:g})"

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, event_id: str) -> Claim:
        """Claim ``event_id`` for handling."""
        now = self._clock()
        entry = self._entries.get(event_id)
        if entry is not None and entry[1] > now:
            return "duplicate" if entry[0] else "in_progress"
        self._put(event_id, done=False, expires_at=now + self._processing_timeout)
        return "new"

    async def done(self, event_id: str) -> None:
        """Record ``event_id`` as handled."""
        self._put(event_id, done=True, expires_at=self._clock() + self._ttl)

    async def release(self, event_id: str) -> None:
        """Give up the claim on ``event_id``."""
        entry = self._entries.get(event_id)
        if entry is not None and not entry[0]:
            del self._entries[event_id]

    def _put(self, event_id: str, *, done: bool, expires_at: float) -> None:
        self._entries[event_id] = (done, expires_at)
        self._entries.move_to_end(event_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


#: A claim is taken only if the id is free, and settled only by the same claim: a release
#: after the claim expired and another receiver took it leaves the other's claim alone.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisDeduplicator:
    """A :class:`Deduplicator` in Redis, shared by every receiver (the ``redis`` extra).

    A claim is ``SET key <token> NX EX processing_timeout``; done is ``SET key done EX
    ttl``. Keys are ``<prefix><event id>``.

    Args:
        redis: a ``redis://`` URL, or a ``redis.asyncio.Redis`` client (not closed here).
    """

    def __init__(
        self,
        redis: Any,
        *,
        ttl: float = DEFAULT_TTL,
        processing_timeout: float = DEFAULT_PROCESSING_TIMEOUT,
        prefix: str = "tokportal:webhook-event:",
    ) -> None:
        try:
            import redis.asyncio as redis_asyncio
        except ImportError as exc:  # pragma: no cover - the extra is installed in CI
            from .._install import install_hint

            raise ImportError(
                f"RedisDeduplicator needs redis-py: {install_hint('redis')}", name="redis"
            ) from exc
        if isinstance(redis, str):
            self._client = redis_asyncio.Redis.from_url(redis)
            self._owns_client = True
        elif isinstance(redis, redis_asyncio.Redis):
            self._client = redis
            self._owns_client = False
        else:
            # The type only: a URL-like object may hold a password.
            raise ValueError(
                "redis must be a redis:// URL or a redis.asyncio.Redis client, got "
                f"{type(redis).__name__}"
            )
        self._ttl = _seconds("ttl", ttl)
        self._processing_timeout = _seconds("processing_timeout", processing_timeout)
        self._prefix = prefix
        self._release_script = self._client.register_script(_RELEASE)
        self._tokens: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"RedisDeduplicator(prefix={self._prefix!r}, ttl={self._ttl:g})"

    async def claim(self, event_id: str) -> Claim:
        """Claim ``event_id`` for handling."""
        import uuid

        key = self._prefix + event_id
        token = uuid.uuid4().hex
        timeout_ms = int(self._processing_timeout * 1000)
        current = None
        for _ in range(2):  # a claim that expires between SET and GET is tried once more
            if await self._client.set(key, token, nx=True, px=timeout_ms):
                self._tokens[event_id] = token
                return "new"
            current = await self._client.get(key)
            if current is not None:
                break
        return "duplicate" if current == b"done" else "in_progress"

    async def done(self, event_id: str) -> None:
        """Record ``event_id`` as handled."""
        self._tokens.pop(event_id, None)
        await self._client.set(self._prefix + event_id, "done", px=int(self._ttl * 1000))

    async def release(self, event_id: str) -> None:
        """Give up this receiver's claim on ``event_id``."""
        token = self._tokens.pop(event_id, None)
        if token is not None:
            await self._release_script(keys=[self._prefix + event_id], args=[token])

    async def aclose(self) -> None:
        """Close the Redis client if this store made it from a URL."""
        if self._owns_client:
            await self._client.aclose()
