"""When to send a request again, and how long to wait first: the one retry policy.

Reads (GET) are safe to repeat: they are retried on connection failures, timeouts and the
statuses that mean "try later" (408, 429, 500, 502, 503, 504). The verification-code POST
is not: on the live API an accepted call may debit credits and detach the account, so it
is repeated only where the first attempt provably had no effect (the connection never
opened, or a 429 refused it).

Waits grow exponentially with ``backoff``'s full jitter (uniform up to the exponential
step), and never undercut the server's ``Retry-After``. The loop is our own, not
``backoff``'s decorators: a retry must also end at a deadline it would pass, wait for a
rate-limit token, and tell a call with effects from a read, and the decorators' async
detection warns on Python 3.14.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import anyio
import attrs
import backoff

from ._clock import loop_time
from ._constants import DEFAULT_RETRY_DEADLINE, RETRY_AFTER_CAP, RETRY_BASE_DELAY, RETRY_MAX_DELAY
from ._errors import UNCERTAIN_OUTCOME, APIConnectionError
from ._pacing import Pacer, Permit
from ._raw import RawResponse
from ._text import printable

__all__ = [
    "Decision",
    "Retry",
    "RetryMode",
    "RetryPolicy",
    "SendRequest",
    "Stop",
    "decide",
    "send_with_retries",
]

logger = logging.getLogger("tokportal_async")

#: Statuses after which a safe request may succeed if sent again.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetryMode(enum.Enum):
    """How much a request may be repeated."""

    #: Idempotent reads: repeat on any transport failure and on RETRYABLE_STATUSES.
    IDEMPOTENT = "idempotent"
    #: Calls with effects: repeat only when the server provably did nothing.
    UNSENT_ONLY = "unsent_only"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How many times to retry, and the bounds of the waits between attempts.

    ``deadline`` bounds the whole: no retry starts later than ``deadline`` seconds after
    the first attempt began.
    """

    max_retries: int
    deadline: float = DEFAULT_RETRY_DEADLINE
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    retry_after_cap: float = RETRY_AFTER_CAP
    #: Spreads each wait below its exponential step, so that clients failing together do
    #: not retry together (tests may pass their own to make waits exact).
    jitter: Callable[[float], float] = backoff.full_jitter

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first).

        The jitter of ``min(max_delay, base_delay * 2**retry)``.
        """
        step = self.max_delay if retry >= 64 else min(self.max_delay, self.base_delay * 2**retry)
        return self.jitter(step)


@attrs.frozen
class Retry:
    """Send again after ``wait`` seconds; ``reason`` is what the last attempt met."""

    wait: float
    reason: str


@attrs.frozen
class Stop:
    """No further attempt: the last outcome is final, with ``note`` saying why, if needed."""

    note: str | None = None


Outcome = RawResponse | APIConnectionError
Decision = Retry | Stop


def _attempts(count: int) -> str:
    return f"gave up after {count} attempt{'s' if count != 1 else ''}"


#: A Stop with nothing to say: the outcome of most attempts, made once.
_FINAL = Stop()


def decide(
    policy: RetryPolicy,
    mode: RetryMode,
    attempt: int,
    outcome: Outcome,
    *,
    now: float,
    give_up_at: float,
) -> Decision:
    """What follows attempt number ``attempt`` (1 for the first), whose outcome is ``outcome``.

    Pure: the time (``now``) and the deadline (``give_up_at``) are given, and the jitter
    is the policy's own. A :class:`Stop` carries the note the final error says.
    """
    if isinstance(outcome, APIConnectionError):
        if not outcome.retryable:
            return _FINAL  # a certificate or a TLS mismatch: the same again
        if mode is RetryMode.UNSENT_ONLY and outcome.request_sent:
            return Stop(UNCERTAIN_OUTCOME)  # a call with effects may have taken them
        return _retry_or_stop(policy, attempt, policy.delay(attempt - 1), now, give_up_at,
                              type(outcome).__name__)  # fmt: skip
    status = outcome.status
    if not _status_is_retryable(mode, status):
        if mode is RetryMode.UNSENT_ONLY and status >= 500:
            return Stop(UNCERTAIN_OUTCOME)  # a 5xx may come after a call took effect
        return _FINAL
    retry_after = outcome.retry_after
    if retry_after is not None and retry_after > policy.retry_after_cap:
        # Too long to wait inside one call: let the caller decide.
        return Stop(
            f"{_attempts(attempt)}: TokPortal asked to wait {retry_after:.0f}s, longer than "
            f"the {policy.retry_after_cap:g}s a call waits"
        )
    wait = max(policy.delay(attempt - 1), retry_after or 0.0)
    return _retry_or_stop(policy, attempt, wait, now, give_up_at, f"HTTP {status}")


def _status_is_retryable(mode: RetryMode, status: int) -> bool:
    if mode is RetryMode.IDEMPOTENT:
        return status in RETRYABLE_STATUSES
    return status == 429  # a 429 is refused before the endpoint runs


def _retry_or_stop(
    policy: RetryPolicy, attempt: int, wait: float, now: float, give_up_at: float, reason: str
) -> Decision:
    if attempt > policy.max_retries:
        return Stop(f"{_attempts(attempt)}: retries spent (max_retries={policy.max_retries})")
    if now + wait > give_up_at:
        return Stop(
            f"{_attempts(attempt)}: retry deadline reached (retry_deadline={policy.deadline:g}s)"
        )
    return Retry(wait, reason)


def _final(outcome: Outcome, note: str | None) -> RawResponse:
    """The last answer, carrying ``note`` into the error it becomes; or the failure, raised."""
    if isinstance(outcome, RawResponse):
        return outcome if note is None else attrs.evolve(outcome, retry_note=note)
    if note is None:
        raise outcome
    raise outcome._with_message(f"{outcome.message}; {note}") from outcome.__cause__


class SendRequest(Protocol):
    """How a resource (``tp.accounts``) reaches the API, and all it knows of the client.

    One request, paced and retried under the client's policy; its answer may be an error
    status, which the resource turns into its typed error.
    """

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        mode: RetryMode = RetryMode.IDEMPOTENT,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse: ...


async def send_with_retries(
    send: Callable[[Permit | None], Awaitable[RawResponse]],
    *,
    policy: RetryPolicy,
    mode: RetryMode,
    method: str,
    path: str,
    pacer: Pacer | None = None,
) -> RawResponse:
    """Call ``send(permit)`` until :func:`decide` says stop.

    Before each attempt, ``pacer.acquire(deadline)`` waits for its permit (which ``send``
    finishes with the answer): without a bound for the first attempt, and for every retry
    no later than the deadline. A pacer that says no permit can come in time
    (``TimeoutError``) ends the retries with the last answer. The deadline clock starts
    when the first attempt is sent, not while it waits for its permit: a paced request
    keeps its retries.

    Returns the last answer (successful or not: the caller turns statuses into errors,
    and the answer's ``retry_note`` says why retrying stopped); raises the last
    :class:`APIConnectionError` when no answer ever came, saying the same.
    """
    give_up_at: float | None = None
    attempt = 0
    outcome: Outcome | None = None
    while True:
        permit = None
        if pacer is not None:
            try:
                permit = await pacer.acquire(give_up_at)
            except TimeoutError:  # NoTokenInTime, or a pacer of the user's own
                if outcome is None:
                    raise  # the first attempt waits without a bound: not ours to explain
                reason = "the retry deadline comes before the rate limit allows a retry"
                return _final(outcome, f"{_attempts(attempt)}: {reason}")
        attempt += 1
        if give_up_at is None:
            give_up_at = loop_time() + policy.deadline
        try:
            outcome = await send(permit)
        except APIConnectionError as error:
            outcome = error
        else:
            if outcome.status < 300:
                return outcome  # what decide() says of every 2xx, in any mode (tested)
        decision = decide(policy, mode, attempt, outcome, now=loop_time(), give_up_at=give_up_at)
        if isinstance(decision, Stop):
            return _final(outcome, decision.note)
        request_id = outcome.request_id if isinstance(outcome, RawResponse) else None
        logger.info(
            "Retrying %s %s after %s (attempt %d of %d, waiting %.2fs, request id %s)",
            method,
            path,
            decision.reason,
            attempt + 1,
            policy.max_retries + 1,
            decision.wait,
            printable(request_id) if request_id else None,
        )
        await anyio.sleep(decision.wait)
