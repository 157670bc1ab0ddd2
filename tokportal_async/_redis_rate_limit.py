"""One rate budget for every process and machine that shares a key: a bucket in Redis.

TokPortal's 120 requests a minute belong to the key, not to a process. Four web workers,
a task queue and a cron job on another machine each pacing themselves overshoot together.
:class:`RedisRateLimiter` keeps the key's bucket in Redis, where every client of every
process pointed at the same Redis and key takes from it.

Each take is one Lua script, atomic in Redis, so concurrent takers never over-grant: it
takes a token if one is there, or says how long until one will be, and the taker asks
again then (at least every quarter second, so that news from the server, which may free
tokens or take them away, reaches every waiter). Time is Redis's own (``TIME``), so
machines whose clocks disagree still agree on the bucket.

A new bucket holds a single token until the first answer is heard: a fleet starting at
once sends one request, learns the key's real budget from its headers (``Remaining``
becomes the bucket's level), and only then bursts, instead of sending the documented
120 into a budget that may be smaller.

What the server says still wins, for everyone: its ``X-RateLimit-Limit`` sets the size,
a ``Remaining`` below the shared level lowers it, the refill rate learned from
``X-RateLimit-Reset`` is shared, and a 429 empties the bucket until its ``Retry-After``.

If Redis cannot be reached or errs, pacing falls back to this process's own bucket (which
has followed every answer all along), says so once at WARNING, and tries Redis again a
little later: a request never fails because of the limiter.

The Redis key is derived from a SHA-256 of the API key, never the key itself.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

import anyio

from ._constants import DOCUMENTED_RATE_LIMIT, DOCUMENTED_RATE_WINDOW
from ._fork import set_aside
from ._models import RateLimit
from ._rate_limit import NoTokenInTime, RateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis as AsyncRedis

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("tokportal_async")

#: Seconds to wait for Redis before falling back: it answers a take in well under a
#: millisecond, and a request must not wait long on its pacing's bookkeeping.
REDIS_TIMEOUT = 1.0
#: The longest a waiter sleeps before asking the shared bucket again.
POLL_INTERVAL = 0.25
#: Seconds before Redis is tried again after it failed.
REDIS_RETRY_AFTER = 10.0
#: Seconds an idle bucket outlives its last use in Redis (a full window is enough to
#: forget nothing; a day keeps stray keys from piling up).
BUCKET_TTL = 86_400

# The bucket: a hash of tokens (may be negative: reserved slots), when it was last
# refilled (Redis time), its size and its refill rate (tokens a second).
_REFILL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'capacity', 'rate')
local capacity = tonumber(b[3]) or tonumber(ARGV[1])
local rate = tonumber(b[4]) or tonumber(ARGV[2])
local tokens = tonumber(b[1]) or 1  -- a new bucket: one probe until the server speaks
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
"""
_SAVE = """
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now),
           'capacity', tostring(capacity), 'rate', tostring(rate))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
"""
#: ARGV: default capacity, default rate, the longest wait accepted (-1: any), TTL.
#: Takes a token and returns 0; or returns the seconds until one is due (taking nothing),
#: or -1 when that is longer than the caller can wait.
TAKE_SCRIPT = (
    _REFILL
    + """
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
"""
    + _SAVE
    + """
local longest = tonumber(ARGV[3])
if longest >= 0 and wait > longest then return '-1' end
return tostring(wait)"""
)
#: ARGV: default capacity, default rate, unused, TTL, then the server's limit (or -1),
#: its remaining (or -1), a learned rate (or -1), and seconds a 429 asked to wait (or -1).
OBSERVE_SCRIPT = (
    _REFILL
    + """
local limit, remaining = tonumber(ARGV[5]), tonumber(ARGV[6])
local learned, drain = tonumber(ARGV[7]), tonumber(ARGV[8])
if limit >= 1 then capacity = limit end
if learned > 0 then rate = learned end
if remaining >= 0 then
  if redis.call('HEXISTS', KEYS[1], 'heard') == 0 then
    tokens = remaining  -- the first answer: the server's own count, past the probe
    redis.call('HSET', KEYS[1], 'heard', '1')
  else
    tokens = math.min(tokens, remaining)  -- others outside this bucket spend too
  end
end
if drain >= 0 then tokens = math.min(tokens, 1 - drain * rate, 0) end
"""
    + _SAVE
    + "return 'ok'"
)


def bucket_key(namespace: str, api_key: str) -> str:
    """The Redis key of an API key's bucket: a hash of the key, never the key."""
    digest = hashlib.sha256(f"tokportal-async|{api_key}".encode()).hexdigest()
    return f"{namespace}:rate-limit:{digest[:40]}"


class RedisRateLimiter(RateLimiter):
    """A rate budget shared through Redis by every client that uses the same key.

    Pass it as ``rate_limiter=`` to :class:`~tokportal_async.AsyncTokPortal` or
    :class:`~tokportal_async.TokPortal`, one limiter per client::

        AsyncTokPortal(rate_limiter=RedisRateLimiter("redis://localhost:6379/0"))

    Args:
        redis: a ``redis.asyncio.Redis`` client (used as is, never closed), or a Redis URL
            (the limiter makes its client on first use and closes it with the client).
        limit: the bucket's size until the server's ``X-RateLimit-Limit`` says otherwise
            (default: TokPortal's documented 120).
        window: seconds over which ``limit`` refills until ``X-RateLimit-Reset`` shows it.
        namespace: the prefix of the Redis key.

    Needs the ``redis`` extra: ``pip install "tokportal-async[redis]"``.
    """

    def __init__(
        self,
        redis: AsyncRedis | str,
        *,
        limit: int | None = None,
        window: float = DOCUMENTED_RATE_WINDOW,
        namespace: str = "tokportal",
    ) -> None:
        super().__init__(limit=DOCUMENTED_RATE_LIMIT if limit is None else limit, window=window)
        try:
            import redis.asyncio as _available  # noqa: F401 - only: is the extra there?
        except ImportError:
            raise ImportError(
                'RedisRateLimiter needs the redis extra: pip install "tokportal-async[redis]"'
            ) from None
        if not isinstance(redis, str) and not hasattr(redis, "register_script"):
            raise ValueError(f"redis must be a redis.asyncio.Redis or a URL, got {redis!r}")
        if not isinstance(namespace, str) or not namespace.strip():
            raise ValueError(f"namespace must be a non-empty string, got {namespace!r}")
        self._url = redis if isinstance(redis, str) else None
        self._redis: AsyncRedis | None = None if isinstance(redis, str) else redis
        self._namespace = namespace
        self._key: str | None = None
        self._scripts: tuple[Any, Any] | None = None
        #: While Redis is out: when to try it again (anyio time), else None.
        self._retry_redis_at: float | None = None

    def __repr__(self) -> str:
        return f"RedisRateLimiter(limit={self.limit}, window={self.window:g})"

    def _bind(self, api_key: str) -> None:
        self._key = bucket_key(self._namespace, api_key)

    def _client(self) -> Any:
        if self._redis is None:
            from redis.asyncio import Redis

            assert self._url is not None
            self._redis = Redis.from_url(
                self._url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        if self._scripts is None:
            self._scripts = (
                self._redis.register_script(TAKE_SCRIPT),
                self._redis.register_script(OBSERVE_SCRIPT),
            )
        return self._scripts

    def _redis_usable(self) -> bool:
        if self._key is None:
            return False  # not given to a client yet
        if self._retry_redis_at is None:
            return True
        return anyio.current_time() >= self._retry_redis_at

    def _fell_over(self, error: BaseException) -> None:
        if self._retry_redis_at is None:
            logger.warning(
                "The shared rate limit in Redis cannot be used (%s); pacing falls back to "
                "this process's own bucket, and Redis is tried again in %gs.",
                type(error).__name__,
                REDIS_RETRY_AFTER,
            )
        self._retry_redis_at = anyio.current_time() + REDIS_RETRY_AFTER

    def _args(self, longest: float = -1.0) -> list[Any]:
        return [self.limit, self.limit / self.window, longest, BUCKET_TTL]

    async def acquire(self, *, give_up_at: float | None = None) -> None:
        """Take a token from the shared bucket, waiting until one is there.

        Falls back to the in-process bucket while Redis is out of reach.
        """
        while True:
            if not self._redis_usable():
                await super().acquire(give_up_at=give_up_at)
                return
            now = anyio.current_time()
            longest = -1.0 if give_up_at is None else max(0.0, give_up_at - now)
            try:
                take, _ = self._client()
                with anyio.fail_after(REDIS_TIMEOUT):
                    wait = float(await take(keys=[self._key], args=self._args(longest)))
            except Exception as error:  # any failure of Redis: never of the request
                self._fell_over(error)
                continue
            self._retry_redis_at = None
            if wait < 0:
                raise NoTokenInTime
            if wait == 0:
                self._in_flight += 1
                return
            await anyio.sleep(min(wait, POLL_INTERVAL))  # then ask again

    async def _report(
        self, status: int, rate_limit: RateLimit | None, retry_after: float | None
    ) -> None:
        """Tell the shared bucket what the server said: for every process, not just this."""
        if not self._redis_usable() or (rate_limit is None and status != 429):
            return
        extra = [
            rate_limit.limit if rate_limit else -1,
            rate_limit.remaining if rate_limit else -1,
            self._learned_rate or -1,
            (retry_after or 0.0) if status == 429 else -1,
        ]
        try:
            _, observe = self._client()
            with anyio.fail_after(REDIS_TIMEOUT):
                await observe(keys=[self._key], args=[*self._args(), *extra])
        except Exception as error:  # any failure of Redis: never of the request
            self._fell_over(error)

    async def aclose(self) -> None:
        """Close the Redis client if the limiter made it from a URL."""
        if self._url is not None and self._redis is not None:
            client, self._redis, self._scripts = self._redis, None, None
            await client.aclose()

    def _after_fork(self) -> None:
        super()._after_fork()
        if self._url is not None and self._redis is not None:
            set_aside.append(self._redis)  # the parent's connections: never closed here
            self._redis, self._scripts = None, None
