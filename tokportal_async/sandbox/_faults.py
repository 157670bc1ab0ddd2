"""Misbehaviour on cue: the faults a real API and the proxies in front of it produce.

Whether a request meets a fault, and which, depends only on the seed, the request line and
how many times that request line was seen before. Concurrency does not change the draw, so
a run with the same seed and the same requests meets the same faults, and a retried request
draws again, as a real retry would.
"""

from __future__ import annotations

import enum
import random
from collections import Counter

import attrs

__all__ = ["DEFAULT_STALL_SECONDS", "Fault", "FaultPlan"]


#: How long a stalled request hangs by default: long enough to be a stall for a client
#: with a short timeout, short enough that a demo with faults does not sit still.
DEFAULT_STALL_SECONDS = 5.0


class Fault(enum.StrEnum):
    """One way an answer can go wrong."""

    HTTP_500 = "500"  # the API fails, with its JSON error envelope
    HTTP_502 = "502"
    HTTP_503 = "503"  # overloaded: with Retry-After
    HTML_502 = "html"  # a proxy's HTML error page
    DROP = "drop"  # the connection closes with no answer
    STALL = "stall"  # the request hangs until the client gives up
    TRUNCATE = "truncate"  # a 200 whose body stops halfway


@attrs.define
class FaultPlan:
    """Which share of requests fail, and how; deterministic under ``seed``."""

    rate: float = 0.0
    kinds: tuple[Fault, ...] = tuple(Fault)
    seed: int = 0
    #: How long a stall lasts at most, if the client does not give up first.
    stall_seconds: float = DEFAULT_STALL_SECONDS
    injected: Counter[Fault] = attrs.field(factory=Counter)
    _seen: Counter[str] = attrs.field(factory=Counter)

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be from 0 to 1, got {self.rate!r}")
        if self.rate and not self.kinds:
            raise ValueError("a fault rate needs at least one kind of fault")

    def draw(self, request_line: str) -> Fault | None:
        """The fault for this request, or ``None``; counts what it injects."""
        if not self.rate:
            return None
        nth = self._seen[request_line]
        self._seen[request_line] += 1
        rng = random.Random(f"{self.seed}|{request_line}|{nth}")
        if rng.random() >= self.rate:
            return None
        fault = rng.choice(self.kinds)
        self.injected[fault] += 1
        return fault
