"""Setting clients up anew in a child made by ``os.fork()``.

A child inherits the parent's memory but not its threads: a client made before the fork
holds a loop nobody runs, sockets the parent still uses, and locks that a thread which no
longer exists may have held. Every object holding such things registers here; right after
a fork, in the child (which has one thread then), each one's ``_after_fork()`` sets the
parent's things aside, never closing nor finalizing them (that could end the parent's
connections, or wait forever for the parent's thread), and starts afresh lazily.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "follow_forks", "set_aside"]


class ForkAware(Protocol):
    """An object that knows how to start afresh in a forked child."""

    def _after_fork(self) -> None: ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()
#: What the parent's objects held, kept alive for the child's whole life: finalized in
#: the child, they would close the parent's sockets or wait for the parent's thread.
_kept: list[object] = []


def follow_forks(obj: ForkAware) -> None:
    """Call ``obj._after_fork()`` in every child forked while ``obj`` lives."""
    _live.add(obj)


def set_aside(held: object) -> None:
    """In a forked child: keep what the parent's object held alive, never finalized.

    A session, a Redis client or a loop thread's portal of the parent's: closing or
    finalizing it here would end the parent's connections or wait for its thread.
    """
    _kept.append(held)


def _after_fork_in_child() -> None:
    for obj in list(_live):
        obj._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
