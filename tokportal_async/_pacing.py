"""The pacing protocol: what the client asks of whatever paces its requests.

Before each attempt the client awaits ``pacer.acquire(deadline)`` for a :class:`Permit`,
and once the attempt has ended it awaits ``permit.finish(status, rate_limit,
retry_after)`` with what the server said (``status`` is ``None`` when no answer came).
:class:`~tokportal_async.RateLimiter` (one process) and
:class:`~tokportal_async.RedisRateLimiter` (a fleet) implement it; so can a bucket in your
own store, or a no-op. Pass one as ``AsyncTokPortal(rate_limiter=...)``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._models import RateLimit
from ._public import show_as_public

__all__ = ["Pacer", "Permit"]


@runtime_checkable
class Permit(Protocol):
    """The right to send one attempt, handed back with what its answer said."""

    async def finish(
        self, status: int | None, rate_limit: RateLimit | None, retry_after: float | None
    ) -> None:
        """Say how the attempt ended.

        ``status`` is its HTTP status (``None``: no answer came), ``rate_limit`` the key's
        budget from the answer's ``X-RateLimit-*`` headers, and ``retry_after`` a 429's
        ``Retry-After`` in seconds.

        Called once per permit, also when the attempt failed or was cancelled (then
        shielded from the cancellation, so it should not block).
        """
        ...


@runtime_checkable
class Pacer(Protocol):
    """Whatever paces a client's requests to the key's budget.

    Example, a pacer that never waits::

        class NoPacing:
            async def acquire(self, deadline: float | None = None) -> "NoPacing":
                return self

            async def finish(self, status, rate_limit, retry_after) -> None:
                pass

            async def aclose(self) -> None:
                pass

        tp = AsyncTokPortal(rate_limiter=NoPacing())
    """

    async def acquire(self, deadline: float | None = None) -> Permit:
        """Wait until one more attempt may be sent, and return its permit.

        ``deadline`` is a time on ``anyio.current_time()``'s clock (a retry's deadline;
        ``None`` for a first attempt): when no permit can come before it, raise
        ``TimeoutError`` at once, and the client gives the last answer to the caller.
        """
        ...

    async def aclose(self) -> None:
        """Release what the pacer holds; called when the client closes."""
        ...


show_as_public(globals())
