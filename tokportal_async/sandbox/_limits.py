"""The documented rate limiter: a token bucket per API key, with its headers and its 429."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import attrs

__all__ = ["Decision", "TokenBuckets"]


@attrs.frozen
class Decision:
    """Whether a request may proceed, and the headers that say where the bucket stands."""

    allowed: bool
    headers: dict[str, str]
    retry_after: int = 0


@attrs.define
class TokenBuckets:
    """``limit`` requests per ``window`` seconds per key, refilled continuously.

    TokPortal documents 120 per minute with bursts up to 120; tests shrink the window to
    see pacing in seconds rather than minutes.
    """

    limit: int = 120
    window: float = 60.0
    wall_clock: Callable[[], float] = time.time
    clock: Callable[[], float] = time.monotonic
    rejected: int = 0
    _tokens: dict[str, float] = attrs.field(factory=dict)
    _updated: dict[str, float] = attrs.field(factory=dict)

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.limit / self.window

    def take(self, key: str) -> Decision:
        """Spend one of ``key``'s tokens if it has one."""
        now = self.clock()
        tokens = self._tokens.get(key, float(self.limit))
        if key in self._updated:
            tokens = min(float(self.limit), tokens + (now - self._updated[key]) * self.rate)
        self._updated[key] = now
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._tokens[key] = tokens
        full_in = (self.limit - tokens) / self.rate
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, math.floor(tokens))),
            "X-RateLimit-Reset": str(math.ceil(self.wall_clock() + full_in)),
        }
        if allowed:
            return Decision(True, headers)
        self.rejected += 1
        retry_after = max(1, math.ceil((1 - tokens) / self.rate))
        headers["Retry-After"] = str(retry_after)
        return Decision(False, headers, retry_after)
