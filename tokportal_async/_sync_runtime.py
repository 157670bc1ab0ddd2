"""What the generated blocking facade runs on: one event loop in one background thread.

``TokPortal`` (generated into :mod:`tokportal_async._sync_client`) owns a
:class:`PortalRunner`: an anyio blocking portal started once, in the constructor, and
stopped in ``close()``. The async client and its aiohttp session live on that portal's
loop for the facade's whole life, because an aiohttp session is bound to the loop that
made it.

Calls hand their coroutine straight to the portal's loop (``call_soon_threadsafe`` creates
its task) and wait on a plain lock that the task releases when it ends. The portal's own
``BlockingPortal.call`` does more per call (a task-group spawn scheduled from the thread, a
``concurrent.futures.Future`` with its condition variable); ``benchmarks/facade.py`` measures
both against the plain async call.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from ._fork import follow_forks, set_aside

__all__ = ["PortalRunner", "SyncClient"]

T = TypeVar("T")

_THREAD_NAME = "tokportal-async-portal"
#: Seconds an interrupted call waits for its cancelled task to end. Our tasks end at once
#: on cancellation; the bound only keeps a task that swallows it from holding Ctrl+C up.
CANCEL_GRACE = 10.0


class _Closeable(Protocol):
    async def aclose(self) -> None: ...


async def _anext(iterator: AsyncIterator[T]) -> T:
    # A coroutine for run_coroutine_threadsafe: __anext__ returns a mere awaitable.
    return await anext(iterator)


class PortalRunner:
    """Runs coroutines and async iterators on one background event loop, from any thread."""

    def __init__(self) -> None:
        self._closed = False
        self._start()
        follow_forks(self)

    def _start(self) -> None:
        """Start the loop thread: in the constructor, and again in a forked child."""
        self._forked = False
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = start_blocking_portal(
            name=_THREAD_NAME
        )
        portal = self._portal_cm.__enter__()
        self._loop = portal.call(asyncio.get_running_loop)
        self._loop_thread_id = portal.call(threading.get_ident)
        self._lock = threading.Lock()
        # Async generators still open when the runner closes are closed on its loop first,
        # rather than left for the garbage collector to finalize on a stopped loop.
        self._open_generators: weakref.WeakSet[AsyncGenerator[Any, None]] = weakref.WeakSet()

    def _after_fork(self) -> None:
        """In a forked child: the parent's loop thread is not here, and never will be.

        Nothing of it may be waited on, stopped or closed, and the parent's lock may be held
        forever. A fresh thread starts on the next call.
        """
        self._forked = True
        self._lock = threading.Lock()
        set_aside(self._portal_cm)
        self._portal_cm = None
        self._open_generators = weakref.WeakSet()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def _schedule(self, callback: Callable[[], None], coro: Coroutine[Any, Any, Any]) -> None:
        """Queue ``callback`` on the loop, unless the runner is closed or this is the loop.

        In a forked child, a fresh loop thread is started first: the client works there
        as it did in the parent, on connections of its own.
        """
        if self._forked and not self._closed:
            self._start()
        with self._lock:
            if self._closed:
                coro.close()  # never awaited on purpose: no "never awaited" warning
                raise RuntimeError(
                    "This TokPortal client is closed; create a new client to send more requests."
                )
            if threading.get_ident() == self._loop_thread_id:
                coro.close()
                raise RuntimeError(
                    "TokPortal (blocking) was called from its own event loop, where waiting "
                    "would deadlock. In async code, use AsyncTokPortal and await its methods."
                )
            self._loop.call_soon_threadsafe(callback)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (or its exception).

        The caller waits on a plain lock that the task's done-callback releases: cheaper
        than a ``concurrent.futures.Future`` (whose condition variable costs another lock
        round trip), which is most of what one thread hop costs (``benchmarks/facade.py``).
        """
        done = threading.Lock()
        done.acquire()
        started: list[asyncio.Task[T]] = []

        def start() -> None:
            task = self._loop.create_task(coro)
            started.append(task)
            task.add_done_callback(lambda _: done.release())

        try:
            self._schedule(start, coro)
            done.acquire()
        except RuntimeError:
            raise  # refused (closed, or called from the loop): nothing was started
        except BaseException:
            # Interrupted (Ctrl+C) while handing the call over or waiting for it: cancel
            # the task too, if it was queued, so no request goes on behind the caller's back.
            self._interrupted(started, coro, done)
            raise
        task = started[0]
        if task.cancelled() and self._closed:
            raise RuntimeError("The TokPortal client was closed during this call.")
        return task.result()

    def _interrupted(
        self, started: list[asyncio.Task[Any]], coro: Coroutine[Any, Any, Any], done: threading.Lock
    ) -> None:
        """Cancel an interrupted call's task and wait (boundedly) until it has ended.

        Until it has, an iterator it was advancing cannot be closed ("aclose(): asynchronous
        generator is already running"). Callbacks run in order: if the task was queued, it
        exists when this runs; if it never was, there is nothing to wait for. A second
        Ctrl+C stops the wait.
        """

        def cancel() -> None:
            if started:
                started[0].cancel()
            else:
                coro.close()  # never started: nothing runs, nothing to wait for
                done.release()

        self._loop.call_soon_threadsafe(cancel)
        done.acquire(timeout=CANCEL_GRACE)

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """A plain iterator over ``iterator``, one loop round trip per item.

        Leaving the loop early (``break``, an exception, garbage collection) closes the async
        generator on the loop, which releases whatever it holds.
        """
        generator = iterator if isinstance(iterator, AsyncGenerator) else None
        if generator is not None:
            self._open_generators.add(generator)
        finished = False
        try:
            while True:
                try:
                    item = self.call(_anext(iterator))
                except StopAsyncIteration:
                    finished = True  # nothing left to close
                    return
                yield item
        finally:
            if generator is not None:
                self._open_generators.discard(generator)
                if not finished and not self._closed:
                    self.call(generator.aclose())

    def iterate_flat(self, pages: AsyncIterator[Iterable[T]]) -> Iterator[T]:
        """The items of ``pages``, crossing threads once per page rather than per item."""
        for page in self.iterate(pages):
            yield from page

    def close(self, last: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Run ``last()`` (closing the async client), then stop the loop and its thread.

        New calls are refused from the moment this starts; calls still running when the
        loop stops are cancelled and raise ``RuntimeError`` in their threads.
        """
        if self._forked:  # never started here: nothing of this process to stop
            self._closed = True
            return
        with self._lock:
            if self._closed:
                return
            if threading.get_ident() == self._loop_thread_id:
                raise RuntimeError("A TokPortal client cannot be closed from its own event loop.")
            self._closed = True
            leftovers = list(self._open_generators)

        async def finish() -> None:
            for generator in leftovers:
                await generator.aclose()
            if last is not None:
                await last()

        try:
            asyncio.run_coroutine_threadsafe(finish(), self._loop).result()
        finally:
            if self._portal_cm is not None:
                self._portal_cm.__exit__(None, None, None)


def _shutdown(runner: PortalRunner, client: _Closeable) -> None:
    runner.close(client.aclose)


A = TypeVar("A", bound=_Closeable)


def _close_sibling(runner: PortalRunner, client: _Closeable) -> None:
    """What closing a sibling client does: close what it owns (a pacer given to it).

    Its original owns the pool and the thread. Once that is closed, or from the loop's own
    thread (the garbage collector may finalize there), the runner refuses the call, and
    there is nothing left to close.
    """
    if runner.closed:
        return
    try:
        runner.call(client.aclose())
    except RuntimeError:  # closed meanwhile, or called from the loop's own thread
        return


class SyncClient(Generic[A]):
    """The lifecycle half of a blocking client; the generated subclass adds the API."""

    def __init__(self, async_client: A) -> None:
        self._async = async_client
        self._runner = PortalRunner()
        # Closes the session and stops the thread even if the user never calls close(),
        # when the client is garbage collected or at interpreter exit. It holds the runner
        # and the async client, never self, so it does not keep the client alive.
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, async_client)

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    def _sibling(self, async_client: A) -> Self:
        """A client on ``async_client`` (which shares this one's pool), on the same runner.

        It owns no pool and no thread: closing it closes only a pacer it was given, and
        this client's close stops both.
        """
        sibling = type(self).__new__(type(self))
        sibling._async = async_client
        sibling._runner = self._runner
        sibling._finalizer = weakref.finalize(sibling, _close_sibling, self._runner, async_client)
        return sibling

    def close(self) -> None:
        """Close the connection pool and stop the background thread. Safe to call twice."""
        self._finalizer()

    def __enter__(self) -> Self:
        if self._runner.closed:
            raise RuntimeError("This TokPortal client is closed; create a new client.")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
