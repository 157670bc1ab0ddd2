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
a ``Remaining`` below the shared level lowers it (allowing for what refilled since the
request's token was granted), the highest refill rate any client learned from
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
from ._rate_limit import Grant, NoTokenInTime, RateLimiter

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
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'capacity', 'rate', 'granted')
local capacity = tonumber(b[3]) or tonumber(ARGV[1])
local rate = tonumber(b[4]) or tonumber(ARGV[2])
local tokens = tonumber(b[1]) or 1  -- a new bucket: one probe until the server speaks
local at = tonumber(b[2]) or now
local granted = tonumber(b[5]) or 0
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
"""
_SAVE = """
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now),
           'capacity', tostring(capacity), 'rate', tostring(rate),
           'granted', tostring(granted))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
"""
#: ARGV: default capacity, default rate, the longest wait accepted (-1: any), TTL.
#: Takes a token and returns {0, how many tokens the bucket has granted, Redis time}: the
#: grant, which the answer's report refers to. Or returns {the seconds until a token is
#: due} (taking nothing), or {-1} when that is longer than the caller can wait.
TAKE_SCRIPT = (
    _REFILL
    + """
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  granted = granted + 1
else
  wait = (1 - tokens) / rate
end
"""
    + _SAVE
    + """
local longest = tonumber(ARGV[3])
if longest >= 0 and wait > longest then return {'-1'} end
if wait > 0 then return {tostring(wait)} end
return {'0', tostring(granted), tostring(now)}"""
)
#: ARGV: default capacity, default rate, unused, TTL, then the server's limit (or -1),
#: its remaining (or -1), a learned rate (or -1), seconds a 429 asked to wait (or -1), and
#: the grant the answered request was sent on (its count and Redis time; or -1, -1).
#:
#: ``Remaining`` is the server's level when the request reached it, rounded down. By the
#: time the answer is reported, the server has refilled since: the cap adds what has
#: refilled since the grant that no later grant has spent. Capping at the bare
#: ``Remaining`` would throw away the refill of every round trip, on every answer, and a
#: busy fleet whose answers come back slowly would run well below the budget. (Later
#: grants are not subtracted from ``Remaining`` itself: the server may have counted some
#: of them already, and during a burst that would count them twice.)
OBSERVE_SCRIPT = (
    _REFILL
    + """
local limit, remaining = tonumber(ARGV[5]), tonumber(ARGV[6])
local learned, drain = tonumber(ARGV[7]), tonumber(ARGV[8])
local sent_granted, sent_at = tonumber(ARGV[9]), tonumber(ARGV[10])
if limit >= 1 and limit ~= capacity then
  capacity = limit  -- a new budget: its rate is learned afresh
  redis.call('HDEL', KEYS[1], 'learned')
end
if learned > 0 then
  -- Each client's learned rate is a lower bound of the true one: the highest of them all
  -- is the best; until the first, the documented default only holds the place.
  if redis.call('HEXISTS', KEYS[1], 'learned') == 0 then
    rate = learned
    redis.call('HSET', KEYS[1], 'learned', '1')
  else
    rate = math.max(rate, learned)
  end
end
if remaining >= 0 then
  if redis.call('HEXISTS', KEYS[1], 'heard') == 0 then
    tokens = remaining  -- the first answer: the server's own count, past the probe
    redis.call('HSET', KEYS[1], 'heard', '1')
  else
    local ceiling = remaining  -- others outside this bucket spend too
    if sent_granted >= 0 and sent_granted <= granted then
      local unspent = math.max(0, now - sent_at) * rate - (granted - sent_granted)
      ceiling = remaining + math.max(0, unspent)
    end
    tokens = math.min(tokens, ceiling)
  end
end
if drain >= 0 then tokens = math.min(tokens, 1 - drain * rate, 0) end
"""
    + _SAVE
    + "return 'ok'"
)


def _grant_of(answer: Any) -> Grant | None:
    try:
        return (int(answer[1]), float(answer[2]))
    except (IndexError, TypeError, ValueError):
        return None  # a script of another version: report without the projection


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

    Needs the ``redis`` extra (from a clone: ``pip install ".[redis]"``).
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
            from ._install import install_hint

            hint = install_hint("redis")
            raise ImportError(f"RedisRateLimiter needs the redis extra: {hint}") from None
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
        await self._acquire(give_up_at=give_up_at)

    async def _acquire(self, *, give_up_at: float | None = None) -> Grant | None:
        while True:
            if not self._redis_usable():
                await super().acquire(give_up_at=give_up_at)
                return None
            now = anyio.current_time()
            longest = -1.0 if give_up_at is None else max(0.0, give_up_at - now)
            try:
                take, _ = self._client()
                with anyio.fail_after(REDIS_TIMEOUT):
                    answer = await take(keys=[self._key], args=self._args(longest))
                wait = float(answer[0])
            except Exception as error:  # any failure of Redis: never of the request
                self._fell_over(error)
                continue
            self._retry_redis_at = None
            if wait < 0:
                raise NoTokenInTime
            if wait == 0:
                self._in_flight += 1
                return _grant_of(answer)
            await anyio.sleep(min(wait, POLL_INTERVAL))  # then ask again

    async def _report(
        self,
        status: int,
        rate_limit: RateLimit | None,
        retry_after: float | None,
        grant: Grant | None = None,
    ) -> None:
        """Tell the shared bucket what the server said: for every process, not just this."""
        if not self._redis_usable() or (rate_limit is None and status != 429):
            return
        extra = [
            rate_limit.limit if rate_limit else -1,
            rate_limit.remaining if rate_limit else -1,
            self._learned_rate or -1,
            (retry_after or 0.0) if status == 429 else -1,
            *(grant or (-1, -1)),
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
