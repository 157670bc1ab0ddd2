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

Whatever Redis holds, pacing stays on and every take is bounded. A bucket written by a
bug, an older version or a hand (a rate of 0, ``nan`` or ``inf``, tokens of ``-1e300``, a
refill time in the future) is reset to a new bucket when a script reads it, with one
WARNING. A 429 puts the bucket at most :data:`RETRY_AFTER_CAP` seconds into debt (a longer
``Retry-After`` is raised to its caller, not waited out by the fleet). A reply no script
of this version can give (a wait of ``nan``, ``inf`` or below zero) counts as Redis
failing: pacing falls back to the local bucket.

The Redis key is derived from a SHA-256 of the API key, never the key itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import math
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from ._constants import DOCUMENTED_RATE_LIMIT, DOCUMENTED_RATE_WINDOW, RETRY_AFTER_CAP
from ._fork import follow_forks, set_aside
from ._models import RateLimit
from ._pacing import Permit
from ._public import show_as_public
from ._rate_limit import NoTokenInTime, RateLimiter
from ._text import printable

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
#: The largest bucket a shared limiter believes in. TokPortal's is 120; a bucket of more
#: than this is corrupt (a burst that size would be no pacing at all).
MAX_CAPACITY = 100_000
#: The slowest refill believed in: the whole bucket over a day. Slower is corrupt (a rate
#: of almost nothing would hold every request of the fleet for ever).
MAX_WINDOW = 86_400.0
#: The fastest: the whole bucket in a millisecond. Faster is corrupt (pacing off).
MIN_WINDOW = 0.001

# The bucket: a hash of tokens (may be negative: reserved slots), when it was last
# refilled (Redis time), its size and its refill rate (tokens a second). What is read is
# checked first: any field out of what this script ever writes (a number that is not
# finite, a rate that never refills or refills without bound, a debt deeper than
# RETRY_AFTER_CAP allows, a refill time in the future) resets the bucket to a new one,
# and the caller is told (``repaired``), to warn once.
_REFILL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_capacity, min_window, max_window = MAX_CAPACITY, MIN_WINDOW, MAX_WINDOW
local max_debt = MAX_DEBT
local function finite(x) return x ~= nil and x == x and x > -math.huge and x < math.huge end
local repaired = 0
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'hash' and kind ~= 'none' then  -- another type under our key: not a bucket
  redis.call('DEL', KEYS[1])
  repaired = 1
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'capacity', 'rate', 'granted')
if b[1] or b[2] or b[3] or b[4] or b[5] then
  local tk, a, c, r, g = tonumber(b[1]), tonumber(b[2]), tonumber(b[3]), tonumber(b[4]),
    tonumber(b[5])
  local sound = finite(tk) and finite(a) and finite(c) and finite(r) and finite(g)
    and c >= 1 and c <= max_capacity and r >= c / max_window and r <= c / min_window
    and tk <= c and tk >= -(c + max_debt * r) and a <= now + max_debt and g >= 0
  if not sound then
    redis.call('DEL', KEYS[1])
    repaired = 1
    b = {false, false, false, false, false}
  end
end
local capacity = tonumber(b[3]) or tonumber(ARGV[1])
local rate = tonumber(b[4]) or tonumber(ARGV[2])
local tokens = tonumber(b[1]) or 1  -- a new bucket: one probe until the server speaks
local at = tonumber(b[2]) or now
local granted = tonumber(b[5]) or 0
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
"""
for _name, _value in (
    ("MAX_CAPACITY", MAX_CAPACITY),
    ("MIN_WINDOW", MIN_WINDOW),
    ("MAX_WINDOW", MAX_WINDOW),
    ("MAX_DEBT", RETRY_AFTER_CAP),
):
    _REFILL = _REFILL.replace(_name, repr(_value))
_SAVE = """
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now),
           'capacity', tostring(capacity), 'rate', tostring(rate),
           'granted', tostring(granted))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
"""
#: ARGV: default capacity, default rate, the longest wait accepted (-1: any), TTL.
#: Returns {wait, granted, time, repaired}. A wait of 0 took a token: ``granted`` (how
#: many tokens the bucket has granted) and ``time`` (Redis's) are the grant the answer's
#: report refers to. A positive wait is the seconds until a token is due (nothing
#: taken), and -1 says that is longer than the caller can wait. ``repaired`` is 1 when
#: the bucket read was corrupt and was reset.
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
if longest >= 0 and wait > longest then wait = -1 end
return {tostring(wait), tostring(granted), tostring(now), tostring(repaired)}"""
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
if limit >= 1 and limit <= max_capacity and limit ~= capacity then
  capacity = limit  -- a new budget: its rate is learned afresh
  redis.call('HDEL', KEYS[1], 'learned')
end
if finite(learned) and learned >= capacity / max_window and learned <= capacity / min_window then
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
if finite(drain) and drain >= 0 then
  -- A Retry-After past the cap is raised to its caller, not waited out: the fleet's
  -- bucket must not hold more of it than a call would wait.
  tokens = math.min(tokens, 1 - math.min(drain, max_debt) * rate, 0)
end
"""
    + _SAVE
    + "return tostring(repaired)"
)


#: What the shared bucket handed out with a token, for the report of its answer to refer
#: to: how many tokens it had granted by then, and when (Redis's clock).
Grant = tuple[int, float]


class _BadReply(Exception):
    """A reply no script of this version gives: Redis (or what answers as Redis) is wrong."""


class _NotRedis(Exception):
    """redis-py failed in a way Redis never makes it fail (not a ``RedisError``).

    Seen at a server that only looks like Redis (redis-py raises ``AttributeError`` on a
    ``HELLO`` answered with ``+OK``). Only the script call itself is wrapped: an error of
    this module's own code is a bug, and is raised, never taken for Redis failing.
    """


#: The replies to a take, by what the first element says.
_TOOK, _NO_TOKEN_IN_TIME = 0.0, -1.0


def _text(value: Any) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def _take_reply(answer: Any, longest_wait: float) -> tuple[float, Grant | None, bool]:
    """A take's reply, checked: (wait, the grant if a token was taken, repaired).

    A wait that is not a number, not finite, below zero (other than -1), or longer than
    any bucket this script keeps could make (``longest_wait``) is refused: acting on it
    would fail the request, hang it, or send it unpaced.
    """
    if not isinstance(answer, list | tuple) or not answer:
        raise _BadReply(f"a take answered {_text(answer)[:60]!r}, not a list")
    try:
        wait = float(_text(answer[0]))
    except (TypeError, ValueError):
        raise _BadReply(f"a take answered {_text(answer)[:60]!r}") from None
    if not math.isfinite(wait) or (wait < 0 and wait != _NO_TOKEN_IN_TIME):
        raise _BadReply(f"a take answered a wait of {wait!r} seconds")
    if wait > longest_wait:
        raise _BadReply(f"a take answered a wait of {wait:g}s, longer than any bucket allows")
    grant: Grant | None = None
    if wait == _TOOK:
        try:
            grant = (int(_text(answer[1])), float(_text(answer[2])))
        except (IndexError, TypeError, ValueError):
            grant = None  # a script of another version: report without the projection
        if grant is not None and not math.isfinite(grant[1]):
            grant = None
    try:
        repaired = _text(answer[3]) == "1"
    except (IndexError, TypeError):
        repaired = False
    return wait, grant, repaired


def _redis_errors() -> tuple[type[BaseException], ...]:
    """What Redis and the network raise when the shared bucket cannot be used."""
    from redis.exceptions import RedisError

    # TimeoutError: our own bound on a command; OSError: the socket's own failures.
    return (RedisError, OSError, TimeoutError, _BadReply, _NotRedis)


def _check_async_redis(redis: object) -> None:
    """Refuse what is not an asyncio Redis client.

    The message names the type only: a URL given as bytes may hold a password.
    """
    if isinstance(redis, str):
        return
    if not inspect.iscoroutinefunction(getattr(redis, "execute_command", None)) or not hasattr(
        redis, "register_script"
    ):
        raise ValueError(
            "redis must be a redis.asyncio.Redis client or a Redis URL string, got "
            f"{type(redis).__module__}.{type(redis).__qualname__} (a synchronous redis.Redis "
            "would block the event loop)"
        )


def _check_url(url: str) -> None:
    """Refuse a URL redis-py cannot use, before any request, without repeating it."""
    from redis.asyncio.connection import parse_url

    try:
        parse_url(url)
    except (ValueError, TypeError) as exc:
        reason = str(exc).replace(url, "<url>")
        if "://" in reason or "@" in reason:
            reason = "not a Redis URL"  # the message may hold the URL, password and all
        raise ValueError(
            "redis must be a Redis URL such as redis://localhost:6379/0 "
            f"(redis://, rediss:// or unix://): {reason}"
        ) from None


async def _guard_cancellation(task: asyncio.Task[Any] | None, cancelling_before: int) -> None:
    """Raise the cancellation a Redis command returned through, if it did.

    On CPython 3.11, ``asyncio.wait_for`` (which redis-py wraps around socket writes) can
    return normally when a cancellation lands as the write completes, and the cancelled
    task would go on as if never cancelled. ``Task.cancelling()`` still counts the
    request: an anyio scope that cancelled delivers its own cancellation again at the
    checkpoint; a plain ``Task.cancel()`` is raised here.
    """
    if task is not None and task.cancelling() > cancelling_before:
        await anyio.lowlevel.checkpoint()
        raise asyncio.CancelledError


def bucket_key(namespace: str, api_key: str) -> str:
    """The Redis key of an API key's bucket: a hash of the key, never the key."""
    digest = hashlib.sha256(f"tokportal-async|{api_key}".encode()).hexdigest()
    return f"{namespace}:rate-limit:{digest[:40]}"


class RedisRateLimiter:
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

    It holds a :class:`~tokportal_async.RateLimiter` of its own, which follows every
    answer as any client's does, and paces alone while Redis cannot be used.
    """

    def __init__(
        self,
        redis: AsyncRedis | str,
        *,
        limit: int | None = None,
        window: float = DOCUMENTED_RATE_WINDOW,
        namespace: str = "tokportal",
    ) -> None:
        #: This process's own bucket: it learns from every answer, and paces alone while
        #: Redis cannot be used.
        self._local = RateLimiter(
            limit=DOCUMENTED_RATE_LIMIT if limit is None else limit, window=window
        )
        #: The window as configured, before any answer shows the server's.
        self._window = float(window)
        try:
            import redis.asyncio as _available  # noqa: F401 - only: is the extra there?
        except ImportError:
            from ._install import install_hint

            hint = install_hint("redis")
            raise ImportError(f"RedisRateLimiter needs the redis extra: {hint}") from None
        _check_async_redis(redis)
        if isinstance(redis, str):
            _check_url(redis)
        if self.limit > MAX_CAPACITY:
            raise ValueError(f"limit must be at most {MAX_CAPACITY}, got {limit!r}")
        if not MIN_WINDOW <= self.window <= MAX_WINDOW:
            raise ValueError(
                f"window must be from {MIN_WINDOW:g} to {MAX_WINDOW:g} seconds, got {window!r}"
            )
        if not isinstance(namespace, str) or not namespace.strip():
            raise ValueError(f"namespace must be a non-empty string, got {namespace!r}")
        self._url = redis if isinstance(redis, str) else None
        self._redis: AsyncRedis | None = None if isinstance(redis, str) else redis
        self._namespace = namespace
        self._key: str | None = None
        self._scripts: tuple[Any, Any] | None = None
        #: While Redis is out: when to try it again (anyio time), else None.
        self._retry_redis_at: float | None = None
        #: Whether the WARNING for a corrupt bucket was given (once per limiter).
        self._warned_repair = False
        follow_forks(self)

    def __repr__(self) -> str:
        return f"RedisRateLimiter(limit={self.limit}, window={self.window:g})"

    @property
    def limit(self) -> int:
        """The bucket's size: the server's ``X-RateLimit-Limit`` once it sent one."""
        return self._local.limit

    @property
    def window(self) -> float:
        """Seconds over which ``limit`` requests refill (as learned, see RateLimiter)."""
        return self._local.window

    @property
    def share(self) -> float:
        """This client's estimated share of the key, as the local bucket sees it."""
        return self._local.share

    @property
    def pacing(self) -> bool:
        """False once the server showed it has no limit (until it shows one again)."""
        return self._local.pacing

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
        if isinstance(error, _NotRedis):
            # Not Redis failing as Redis fails: a server that only looks like Redis, or a
            # bug of redis-py's. The request still goes on, paced locally, but this is
            # said loudly, with its traceback, every time.
            logger.error(
                "Unexpected error from the shared rate limit in Redis; pacing falls back to "
                "this process's own bucket. Please report it.",
                exc_info=error,
            )
        elif self._retry_redis_at is None:
            logger.warning(
                "The shared rate limit in Redis cannot be used (%s: %s); pacing falls back "
                "to this process's own bucket, and Redis is tried again in %gs.",
                type(error).__name__,
                printable(str(error), limit=200),
                REDIS_RETRY_AFTER,
            )
        self._retry_redis_at = anyio.current_time() + REDIS_RETRY_AFTER

    def _repaired(self) -> None:
        if not self._warned_repair:
            self._warned_repair = True
            logger.warning(
                "The shared rate-limit bucket in Redis held values no version of this SDK "
                "writes (a rate, level or time out of range); it was reset to a new bucket, "
                "which learns the key's budget again from the next answer."
            )

    async def _run(self, script: Any, args: list[Any]) -> Any:
        """One script call, bounded in time, with a cancellation never lost."""
        task = asyncio.current_task()
        cancelling = task.cancelling() if task is not None else 0
        with anyio.fail_after(REDIS_TIMEOUT):
            try:
                answer = await script(keys=[self._key], args=args)
            except _redis_errors():
                raise
            except Exception as error:  # redis-py failing as Redis never makes it fail
                raise _NotRedis(f"{type(error).__name__}: {error}") from error
        await _guard_cancellation(task, cancelling)
        return answer

    def _longest_wait(self) -> float:
        """The longest wait a sound bucket can ask of one take.

        Its deepest debt (a 429's capped Retry-After) and two windows, at the slowest
        refill this client knows of.
        """
        return RETRY_AFTER_CAP + 2 * max(self.window, self._window) + 1.0

    def _args(self, longest: float = -1.0) -> list[Any]:
        return [self.limit, self.limit / self.window, longest, BUCKET_TTL]

    async def acquire(
        self, deadline: float | None = None, *, give_up_at: float | None = None
    ) -> Permit:
        """Take a token from the shared bucket, waiting until one is there.

        The :class:`~tokportal_async.Pacer` protocol. Falls back to the in-process bucket
        while Redis is out of reach. The permit's ``finish`` tells the shared bucket what
        the server said (a 429 puts it in debt).
        """
        local, grant = await self._acquire(give_up_at=give_up_at if deadline is None else deadline)
        return _SharedPermit(self, local, grant)

    async def _acquire(self, *, give_up_at: float | None = None) -> tuple[Permit, Grant | None]:
        """A token from Redis, or from the local bucket while Redis is out.

        Returns the local bucket's permit (it learns from every answer) and the shared
        bucket's grant (``None`` when the token was the local bucket's).
        """
        started = anyio.current_time()
        while True:
            if self._redis_usable() and anyio.current_time() - started > self._longest_wait():
                # Longer than any sound bucket makes a take wait: Redis is not one.
                self._fell_over(_BadReply("no token came in longer than any bucket allows"))
            if not self._redis_usable():
                return await self._local.acquire(give_up_at), None
            now = anyio.current_time()
            longest = -1.0 if give_up_at is None else max(0.0, give_up_at - now)
            try:
                take, _ = self._client()
                answer = await self._run(take, self._args(longest))
                wait, grant, repaired = _take_reply(answer, self._longest_wait())
            except _redis_errors() as error:  # never fails the request: see _fell_over
                self._fell_over(error)
                continue
            self._retry_redis_at = None
            if repaired:
                self._repaired()
            if wait == _NO_TOKEN_IN_TIME:
                raise NoTokenInTime
            if wait == _TOOK:
                return self._local._untaken_permit(), grant
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
        drain = -1.0
        if status == 429:
            # A longer Retry-After is raised to the caller, not waited out: the fleet's
            # bucket holds no more of it than one call would wait.
            drain = min(retry_after or 0.0, RETRY_AFTER_CAP)
        extra = [
            rate_limit.limit if rate_limit else -1,
            rate_limit.remaining if rate_limit else -1,
            self._local.learned_rate or -1,
            drain,
            *(grant or (-1, -1)),
        ]
        try:
            _, observe = self._client()
            answer = await self._run(observe, [*self._args(), *extra])
        except _redis_errors() as error:  # never fails the request: see _fell_over
            self._fell_over(error)
            return
        if _text(answer) == "1":
            self._repaired()

    async def aclose(self) -> None:
        """Close the Redis client if the limiter made it from a URL."""
        if self._url is not None and self._redis is not None:
            client, self._redis, self._scripts = self._redis, None, None
            await client.aclose()

    def _after_fork(self) -> None:
        """In a forked child: the Redis client's connections are the parent's.

        The local bucket sets its own state aside (it follows forks itself).
        """
        if self._url is not None and self._redis is not None:
            set_aside(self._redis)  # the parent's connections: never closed here
            self._redis, self._scripts = None, None


class _SharedPermit:
    """A token of the shared bucket, handed back to both buckets with its answer."""

    __slots__ = ("_grant", "_limiter", "_local")

    def __init__(self, limiter: RedisRateLimiter, local: Permit, grant: Grant | None) -> None:
        self._limiter = limiter
        self._local = local
        self._grant = grant

    async def finish(
        self, status: int | None, rate_limit: RateLimit | None, retry_after: float | None
    ) -> None:
        """Let the local bucket learn from the answer, then tell the shared one."""
        await self._local.finish(status, rate_limit, retry_after)
        if status is not None:
            await self._limiter._report(status, rate_limit, retry_after, self._grant)


show_as_public(globals())
