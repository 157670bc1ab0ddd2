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

from ._constants import DEFAULT_RETRY_DEADLINE, RETRY_AFTER_CAP, RETRY_BASE_DELAY, RETRY_MAX_DELAY
from ._errors import UNCERTAIN_OUTCOME, APIConnectionError
from ._rate_limit import NoTokenInTime
from ._raw import RawResponse
from ._response import retry_after_of
from ._text import printable

__all__ = ["RetryMode", "RetryPolicy", "SendRequest", "send_with_retries"]

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


def _error_is_retryable(mode: RetryMode, error: APIConnectionError) -> bool:
    if not error.retryable:
        return False  # sending again will not fix a certificate or a TLS mismatch
    return mode is RetryMode.IDEMPOTENT or not error.request_sent


def _status_is_retryable(mode: RetryMode, status: int) -> bool:
    if mode is RetryMode.IDEMPOTENT:
        return status in RETRYABLE_STATUSES
    return status == 429  # a 429 is refused before the endpoint runs


def _uncertain(error: APIConnectionError) -> APIConnectionError:
    """The same failure, saying why it was not retried and what to do instead."""
    return error._with_message(f"{error.message}; {UNCERTAIN_OUTCOME}")


def _attempts(count: int) -> str:
    return f"gave up after {count} attempt{'s' if count != 1 else ''}"


def _given_up(error: APIConnectionError, attempts: int, reason: str) -> APIConnectionError:
    """The last failure, saying why retrying stopped."""
    return error._with_message(f"{error.message}; {_attempts(attempts)}: {reason}")


def _noted(response: RawResponse, attempts: int, reason: str) -> RawResponse:
    """The final answer, carrying why retrying stopped into the error it becomes."""
    return attrs.evolve(response, retry_note=f"{_attempts(attempts)}: {reason}")


Pace = Callable[[float | None], Awaitable[None]]


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
    ) -> RawResponse: ...


async def send_with_retries(
    send: Callable[[], Awaitable[RawResponse]],
    *,
    policy: RetryPolicy,
    mode: RetryMode,
    method: str,
    path: str,
    pace: Pace | None = None,
) -> RawResponse:
    """Call ``send`` until it yields a final answer or the policy runs out.

    ``pace(give_up_at)`` waits for the rate limiter's token before each attempt: without
    a bound for the first, and for every retry no later than the deadline, raising
    :class:`NoTokenInTime` past it. The deadline clock starts when the first attempt is
    sent, not while it waits for its token: a paced request keeps its retries.

    Returns the last answer (successful or not: the caller turns statuses into errors,
    and the answer's ``retry_note`` says why retrying stopped); raises the last
    :class:`APIConnectionError` when no answer ever came, saying the same.
    """
    give_up_at: float | None = None
    last: RawResponse | APIConnectionError | None = None
    attempt = 0
    while True:
        if pace is not None:
            try:
                await pace(give_up_at)
            except NoTokenInTime:
                reason = "the retry deadline comes before the rate limit allows a retry"
                if isinstance(last, APIConnectionError):
                    raise _given_up(last, attempt, reason) from last.__cause__
                assert last is not None  # the first attempt waits without a bound
                return _noted(last, attempt, reason)
        attempt += 1
        if give_up_at is None:
            give_up_at = anyio.current_time() + policy.deadline
        try:
            response = await send()
        except APIConnectionError as error:
            if not _error_is_retryable(mode, error):
                if mode is RetryMode.UNSENT_ONLY:
                    raise _uncertain(error) from error.__cause__  # the scrubbed cause
                raise
            wait = policy.delay(attempt - 1)
            stop = _why_stop(policy, attempt, give_up_at, wait)
            if stop is not None:
                raise _given_up(error, attempt, stop) from error.__cause__
            last, request_id, reason = error, None, type(error).__name__
        else:
            if not _status_is_retryable(mode, response.status):
                if mode is RetryMode.UNSENT_ONLY and response.status >= 500:
                    # A 5xx may come after a call with effects took them.
                    return attrs.evolve(response, retry_note=UNCERTAIN_OUTCOME)
                return response
            retry_after = retry_after_of(response)
            if retry_after is not None and retry_after > policy.retry_after_cap:
                # Too long to wait inside one call: let the caller decide.
                return _noted(
                    response,
                    attempt,
                    f"TokPortal asked to wait {retry_after:.0f}s, longer than the "
                    f"{policy.retry_after_cap:g}s a call waits",
                )
            wait = max(policy.delay(attempt - 1), retry_after or 0.0)
            stop = _why_stop(policy, attempt, give_up_at, wait)
            if stop is not None:
                return _noted(response, attempt, stop)
            request_id = printable(response.request_id) if response.request_id else None
            last, reason = response, f"HTTP {response.status}"
        logger.info(
            "Retrying %s %s after %s (attempt %d of %d, waiting %.2fs, request id %s)",
            method,
            path,
            reason,
            attempt + 1,
            policy.max_retries + 1,
            wait,
            request_id,
        )
        await anyio.sleep(wait)


def _why_stop(policy: RetryPolicy, attempt: int, give_up_at: float, wait: float) -> str | None:
    """Why no retry follows attempt number ``attempt``, or ``None`` if one may."""
    if attempt > policy.max_retries:
        return f"retries spent (max_retries={policy.max_retries})"
    if anyio.current_time() + wait > give_up_at:
        return f"retry deadline reached (retry_deadline={policy.deadline:g}s)"
    return None
