"""Client-side pacing: a token bucket shared by every task of one client.

TokPortal allows 120 requests per minute per key, as a token bucket that refills
continuously with bursts of up to 120. A bulk job that fires thousands of requests at once
would spend most of them on 429s; this bucket holds each request until the budget allows
it, so the job runs at the budget's pace instead.

It starts from the documented budget, then follows the server: every answer's
``X-RateLimit-Limit`` sets the bucket's size, and its ``X-RateLimit-Remaining`` (less
the requests still in flight, which the server has not counted yet) caps the bucket's
level. A server that answers successfully without those headers (a private deployment, a
sandbox without its limiter) is taken to have no limit, and pacing pauses until a header
or a 429 says otherwise. A 429 empties the bucket: every request then waits for it to
refill.

The refill rate is learned too: ``X-RateLimit-Reset`` is when the server's bucket will be
full again, in whole seconds rounded up, so ``(limit - remaining - 1) / (reset - now)``
understates the true rate (the one token covers ``Remaining`` being rounded down). The
bucket paces to the highest such rate seen (the window is then ``limit`` over it), from
answers whose deficit is large enough for that one token to be a small part of it.

And the client's share of the key: a 429 that this bucket did not foresee means others
spend the key too, so the bucket's refill rate is cut to half (once per round trip) and
grows back by 1% per answer. Clients sharing a key this way converge on equal shares, as
TCP's congestion control does, and a client alone keeps its whole share. It is no exact
count of the others: a fleet of known size does better with
``RateLimiter(limit=120 // processes)``, and a fleet of any size with
:class:`~tokportal_async.RedisRateLimiter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio

from ._clock import loop_time
from ._constants import DOCUMENTED_RATE_LIMIT, DOCUMENTED_RATE_WINDOW
from ._fork import follow_forks
from ._models import RateLimit
from ._pacing import Permit
from ._public import show_as_public
from ._validation import check_positive_seconds

__all__ = ["NoTokenInTime", "RateLimiter"]

#: The smallest share of a key's refill a client slows to (1/64: a fleet of 64).
MIN_SHARE = 1 / 64
#: How a client's share moves: cut by this factor on a 429 it meets (others spend the
#: key too), and grown by this much per answer that took a token. Multiplicative cuts and
#: additive growth make clients that share a key converge on equal shares, as TCP's
#: congestion control does.
SHARE_CUT = 0.5
SHARE_GROWTH = 0.01


class _Share:
    """This client's share of the key's refill: 1 alone, less while others spend it too.

    One cut per round trip, as TCP cuts once per window: the requests already on their
    way when a 429 cuts the share were sent at the old pace, so their 429s tell nothing
    new. Cutting again for each of them would drive the share to its floor in one burst.
    """

    def __init__(self) -> None:
        self.share = 1.0
        #: Answers still due to requests that left before the last cut.
        self._before_cut = 0

    def observe(self, *, limited: bool, in_flight: int) -> None:
        """Take in one answer: a 429 (``limited``) cuts the share, any other grows it.

        ``in_flight`` counts the requests still unanswered after this one.
        """
        sent_before_cut = self._before_cut > 0
        self.answered()
        if not limited:
            self.share = min(1.0, self.share + SHARE_GROWTH)
        elif not sent_before_cut:
            self.share = max(MIN_SHARE, self.share * SHARE_CUT)
            self._before_cut = in_flight

    def answered(self) -> None:
        """Count one request ended, answered or not.

        :meth:`observe` counts the answers that tell of the key; this alone counts the
        rest (no headers, or no answer).
        """
        self._before_cut = max(0, self._before_cut - 1)

    def forget_in_flight(self) -> None:
        """In a forked child: the parent's requests will not be answered here."""
        self._before_cut = 0


#: The smallest deficit, as a share of the limit, that the refill rate is learned from:
#: ``Remaining`` is rounded down by up to one token, under 10% of a tenth of the bucket.
LEARNING_DEFICIT = 0.1


class NoTokenInTime(TimeoutError):
    """No token can be had before the caller's deadline (a retry that cannot start in time)."""


class _BucketPermit:
    """A token of a :class:`RateLimiter`: handed back with its answer by :meth:`finish`."""

    __slots__ = ("_limiter", "_sent_at")

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        # What X-RateLimit-Reset is read against: the send, not the answer's arrival.
        self._sent_at = time.time()

    async def finish(
        self, status: int | None, rate_limit: RateLimit | None, retry_after: float | None
    ) -> None:
        """Count the attempt as answered (or failed: ``status`` is ``None``), and learn."""
        self._limiter.release(status=status, rate_limit=rate_limit, sent_at=self._sent_at)


class RateLimiter:
    """A token bucket of ``limit`` requests per ``window`` seconds, refilled continuously.

    Pass one to ``AsyncTokPortal(rate_limiter=...)`` to tune pacing, or pass
    ``rate_limiter=False`` to switch it off. One limiter serves one client (one event loop).

    Args:
        limit: the bucket's size, and how many requests one window allows.
        window: seconds over which ``limit`` requests refill, until the server's headers
            show its own.
        wall_clock: the time source ``X-RateLimit-Reset`` (a Unix time) is read against.
        clock: the monotonic time source the bucket refills by (default: the event
            loop's, the clock ``anyio.current_time`` reads). Tests pass their own to move
            time by hand; waits still run on the event loop's clock.
    """

    def __init__(
        self,
        *,
        limit: int = DOCUMENTED_RATE_LIMIT,
        window: float = DOCUMENTED_RATE_WINDOW,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = loop_time,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        check_positive_seconds("window", window)
        self._window = float(window)
        self._wall_clock = wall_clock
        self._clock = clock
        #: The refill rate learned from X-RateLimit-Reset (tokens a second), if any yet.
        self._learned_rate: float | None = None
        #: This client's share of the key, when other clients spend it too.
        self._share = _Share()
        self._capacity = float(limit)
        self._tokens = float(limit)
        #: Since a 429 and until an answer shows the server has tokens again, the bucket
        #: holds one token at most (see :meth:`release`).
        self._refused = False
        self._refilled_at: float | None = None
        self._in_flight = 0
        self._waiting = 0
        #: Requests sent before the server's headers were heard: not answered yet, and all.
        self._sent_blind = 0
        self._blind_total = 0
        self._first_done = False
        #: None until the first answer; then whether the server reports a limit at all.
        self._server_limits: bool | None = None
        #: The queue of waiters, and what wakes them: made by the first request that waits.
        #: (Making anyio's primitives loads its event-loop backend, tens of milliseconds
        #: that a program whose requests never wait need not pay.)
        self._lock: anyio.Lock | None = None
        self._changed: anyio.Event | None = None
        follow_forks(self)

    def _after_fork(self) -> None:
        """In a forked child: the parent's waiters and requests in flight are not here."""
        self._lock = None
        self._changed = None
        self._in_flight = 0
        self._waiting = 0
        self._sent_blind = 0
        self._share.forget_in_flight()

    def __repr__(self) -> str:
        return f"RateLimiter(limit={int(self._capacity)}, window={self.window:g})"

    @property
    def limit(self) -> int:
        """The bucket's current size: the server's ``X-RateLimit-Limit`` once it sent one."""
        return int(self._capacity)

    @property
    def window(self) -> float:
        """Seconds over which ``limit`` requests refill.

        As given, until the server's ``X-RateLimit-Reset`` shows how fast its bucket
        really refills.
        """
        return self._capacity / self._rate()

    @property
    def share(self) -> float:
        """This client's estimated share of the key's budget: 1 while it spends alone.

        Without a shared bucket, a client sees others spend its key only through the
        server: ``X-RateLimit-Remaining`` falling faster than its own spending, until a
        429 its own bucket did not foresee. It then halves its share (once per round
        trip), and grows it back by 1% per answer as the others stop.
        """
        return self._share.share

    @property
    def pacing(self) -> bool:
        """False once the server showed it has no limit (until it shows one again)."""
        return self._server_limits is not False

    @property
    def learned_rate(self) -> float | None:
        """The refill rate ``X-RateLimit-Reset`` proved (tokens a second), once it did."""
        return self._learned_rate

    def _key_rate(self) -> float:
        """How fast the key's bucket refills, for all its users together."""
        return self._learned_rate or self._capacity / self._window

    def _rate(self) -> float:
        return self._key_rate() * self._share.share

    def _learn_rate(self, rate_limit: RateLimit, sent_at: float | None) -> None:
        """Raise the refill rate to what ``X-RateLimit-Reset`` proves, at least.

        ``sent_at`` is when the answered request left (wall clock). The server wrote
        ``Reset`` later than that, so the time to full measured from the send is never
        shorter than the server's: the rate it gives never exceeds the server's, however
        late the answer arrives. (Measured from the answer's arrival, a loaded machine
        overstated it.) Without it, the arrival time stands in.
        """
        deficit = rate_limit.limit - rate_limit.remaining
        if rate_limit.reset is None or deficit < max(2, rate_limit.limit * LEARNING_DEFICIT):
            return  # Remaining is rounded down: on a small deficit that error is large
        seconds = rate_limit.reset.timestamp() - (
            self._wall_clock() if sent_at is None else sent_at
        )
        if seconds <= 0:
            return  # the clocks disagree: nothing can be learned from it
        # One token less: Remaining was rounded down (the true deficit may be up to one
        # token smaller), which would otherwise overstate.
        observed = (deficit - 1) / seconds
        if self._learned_rate is None or observed > self._learned_rate:
            self._learned_rate = observed

    def _refill(self, now: float) -> None:
        # Nothing refills before the first request ends: a full bucket on the server starts
        # refilling only when our first request reaches it, which we learn no sooner than
        # its answer. Refilling from our own first send would run ahead of the server.
        if self._refilled_at is not None and self._first_done:
            elapsed = now - self._refilled_at
            ceiling = 1.0 if self._refused else self._capacity
            self._tokens = min(ceiling, self._tokens + elapsed * self._rate())
        self._refilled_at = now

    def _notify(self) -> None:
        # Waiters sleep until their token is due or until the picture changes.
        if self._changed is not None:
            self._changed.set()
            self._changed = anyio.Event()

    def _queued(self) -> bool:
        """Whether requests are queued for a token (one holds the lock, others behind it)."""
        return self._lock is not None and self._lock.locked()

    def _waiters(self) -> anyio.Lock:
        """The fair lock waiters queue on, made when the first request has to wait."""
        if self._lock is None:
            self._lock = anyio.Lock()
            self._changed = anyio.Event()
        return self._lock

    def _take(self) -> bool:
        """Take a token if one is free now."""
        self._refill(self._clock())
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _token_due_in(self) -> float:
        """Seconds until a newcomer at the back of the queue would get a token, at best."""
        return max(0.0, (self._waiting + 1 - self._tokens) / self._rate())

    async def acquire(
        self, deadline: float | None = None, *, give_up_at: float | None = None
    ) -> Permit:
        """Wait for a token; its permit is finished with the attempt's answer.

        The :class:`~tokportal_async.Pacer` protocol.

        A free token is taken without yielding to the event loop (an anyio lock always
        yields, which costs a loop iteration on every request). Waiters queue on a fair
        lock and are served in arrival order, so no task starves.

        With ``deadline`` (a time on ``anyio.current_time()``'s clock; ``give_up_at`` is
        its older name), the wait ends there with ``TimeoutError``; and it is not even
        begun when the bucket's refill rate says no token can come in time (a retry in a
        429 storm fails fast).
        """
        # The common case first, in one frame: a token is free and nobody queues for one.
        if not self.pacing or (not self._queued() and self._take()):
            self._sent()
        else:
            await self._wait_for_token(give_up_at if deadline is None else deadline)
        return _BucketPermit(self)

    def _untaken_permit(self) -> Permit:
        """A permit for a request whose token came from elsewhere (a shared bucket).

        Counted in flight here all the same, so that its answer is learned from like any
        other, and this bucket is ready to take over should the shared one fail.
        """
        self._in_flight += 1
        return _BucketPermit(self)

    async def _wait_for_token(self, give_up_at: float | None) -> None:
        """Wait for a token (none while pacing is paused); count one request in flight."""
        if give_up_at is not None:
            self._refill(self._clock())
            if loop_time() + self._token_due_in() > give_up_at:
                raise NoTokenInTime
        self._waiting += 1
        try:
            with anyio.move_on_after(
                None if give_up_at is None else give_up_at - loop_time()
            ) as scope:
                async with self._waiters():
                    while self.pacing and not self._take():
                        wait = (1 - self._tokens) / self._rate()
                        changed = self._changed
                        assert changed is not None  # made with the lock
                        with anyio.move_on_after(wait):
                            await changed.wait()
                    self._sent()
        finally:
            self._waiting -= 1
        if scope.cancelled_caught:
            raise NoTokenInTime

    def _sent(self) -> None:
        """Count a request on its way (and whether it left before the budget was known)."""
        self._in_flight += 1
        if self._server_limits is not True:
            self._sent_blind += 1
            self._blind_total += 1

    def _bind(self, api_key: str) -> None:
        """Hear which key the bucket paces (a shared bucket is per key; this one is not)."""

    async def aclose(self) -> None:
        """Release what the limiter holds (nothing, for this one)."""

    def release(
        self, *, status: int | None, rate_limit: RateLimit | None, sent_at: float | None = None
    ) -> None:
        """Count a request as answered (``status``) or failed (``None``), and learn from it.

        ``sent_at`` is the wall-clock time (``time.time()``) the request was sent, which
        the refill rate is learned against.
        """
        self._in_flight -= 1
        # Answers come back roughly in the order their requests left: the first ones are
        # those sent before the bucket knew the server's budget.
        blind = self._sent_blind > 0
        if blind:
            self._sent_blind -= 1
        now = self._clock()
        self._refill(now)  # before the first end, this only sets the clock's start
        self._first_done = True
        if status is None or rate_limit is None:
            self._share.answered()
        if status is None:
            if self._queued():
                self._notify()
            return
        if rate_limit is not None:
            self._server_limits = True
            if rate_limit.limit != self._capacity:
                self._learned_rate = None  # a new budget: its rate is learned afresh
            self._capacity = float(max(1, rate_limit.limit))
            self._learn_rate(rate_limit, sent_at)
            # A 429 to a request sent blind is this client's own doing when it sent more
            # than the whole budget before knowing it; otherwise others spend the key too.
            own_doing = blind and self._blind_total > rate_limit.limit
            self._share.observe(limited=status == 429 and not own_doing, in_flight=self._in_flight)
            # The server's count, less what we sent that it has not counted yet, can only
            # lower our estimate: answers overtake each other on the way back, and an older
            # answer's higher Remaining must not hand out tokens the server no longer has.
            server_view = float(rate_limit.remaining - self._in_flight)
            self._tokens = min(self._capacity, self._tokens, server_view)
        elif 200 <= status < 300 and self._server_limits is None:
            self._server_limits = False
        if status == 429:
            # Drain to match: the server has nothing left, and what is in flight will take
            # the next tokens. The request itself waits out Retry-After in the retry loop;
            # other requests wait for the refill rather than for a Retry-After that may be
            # long (the retry loop raises those to the caller instead of waiting).
            self._server_limits = True
            self._tokens = min(self._tokens, float(-self._in_flight))
            # And refill one token at a time until an answer shows the server has some
            # again. The requests this 429 refused all wait out the same Retry-After; a
            # bucket refilled meanwhile would send them back together, into the others
            # that share the key, to be refused again. One at a time, each answer tells
            # whether the next may follow (TCP's restart after a loss).
            self._refused = True
        else:
            # The server took this request: it can take more if it says so, or if it says
            # nothing of its budget and answered without an error.
            has_room = rate_limit.remaining > 0 if rate_limit is not None else status < 400
            if has_room:
                self._refused = False
        if self._queued():
            self._notify()  # only a queued waiter can care


show_as_public(globals())
