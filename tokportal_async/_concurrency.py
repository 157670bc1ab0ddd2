"""Bounded concurrency with results in order, for the bulk helpers.

Three shapes. :func:`gather_bounded` runs jobs to completion inside an anyio task group: a
fixed set of workers pulls the next index, so 10,000 jobs make ``concurrency`` tasks, not
10,000, and the first failure cancels the rest. :func:`map_ordered` and
:func:`map_unordered` are for async generators, which must not keep a task group or cancel
scope open across ``yield`` (a scope would then cancel whatever the consumer happens to be
doing, and the blocking facade resumes each step from a different task). Their jobs are
tasks of the event loop, owned by the generator: at most ``concurrency`` in flight, and
cancelled and awaited when the generator finishes, fails or is closed. ``map_ordered``
yields in input order, holding up to ``window`` results ahead so that one slow job does
not stop the others; ``map_unordered`` yields as jobs finish.

The vocabulary is anyio's wherever the shape allows it: task groups, cancel scopes,
sleeps. The generators alone use asyncio tasks, on purpose: anyio has no task that a
generator can own across ``yield`` without a scope, and the SDK runs on asyncio anyway
(aiohttp does). They still wait for their abandoned tasks under an anyio shield, so a
cancelled consumer cannot leave a request running.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)
from typing import Any, TypeVar

import anyio

from ._validation import check_count

__all__ = [
    "check_concurrency",
    "gather_bounded",
    "gather_settled",
    "map_ordered",
    "map_unordered",
]

S = TypeVar("S")
T = TypeVar("T")


def check_concurrency(concurrency: int) -> None:
    """``concurrency`` is a whole number of requests in flight, at least 1."""
    check_count("concurrency", concurrency, minimum=1)


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first leaf of a (possibly nested) exception group."""
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


async def gather_bounded(
    job: Callable[[S], Awaitable[T]],
    items: Sequence[S],
    *,
    concurrency: int,
    capture: type[BaseException] | None = None,
) -> list[T | BaseException]:
    """``[await job(item) for item in items]``, ``concurrency`` at a time, in input order.

    An exception of type ``capture`` is put in the result list in its item's place; any
    other cancels the remaining jobs and is raised as itself, not wrapped in a group.
    """
    outcomes, _ = await gather_settled(
        job, items, concurrency=concurrency, capture=capture, fatal=lambda _: False
    )
    return outcomes


async def gather_settled(
    job: Callable[[S], Awaitable[T]],
    items: Sequence[S],
    *,
    concurrency: int,
    capture: type[BaseException] | None,
    fatal: Callable[[BaseException], bool],
) -> tuple[list[T | BaseException], list[int]]:
    """Every item's outcome, ``concurrency`` at a time: a failure does not stop the others.

    A fixed set of workers pulls the next index, so 10,000 jobs make ``concurrency``
    tasks, not 10,000. An exception of type ``capture`` takes its item's place in the
    outcomes, and the walk goes on; one that ``fatal`` says will repeat for every item (a
    refused key) lets the jobs in flight finish and starts no more. Any other exception
    cancels everything and is raised as itself, not wrapped in a group. Returns the
    outcomes of the items that ran, by position (the others hold ``None``), and the
    positions never started.
    """
    outcomes: list[Any] = [None] * len(items)
    started = [False] * len(items)
    indices = iter(range(len(items)))  # shared: each worker takes the next index
    stop = False

    async def worker() -> None:
        nonlocal stop
        for index in indices:
            if stop:
                return
            started[index] = True
            try:
                outcomes[index] = await job(items[index])
            except Exception as exc:
                if capture is None or not isinstance(exc, capture):
                    raise
                outcomes[index] = exc
                stop = stop or fatal(exc)

    try:
        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, len(items))):
                group.start_soon(worker)
    except ExceptionGroup as errors:
        # Callers catch NotFoundError, not an ExceptionGroup around it.
        raise _first_error(errors) from None
    return outcomes, [index for index, ran in enumerate(started) if not ran]


async def _aiter(items: AsyncIterable[S] | Iterable[S]) -> AsyncGenerator[S, None]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _retrieve(task: asyncio.Task[Any]) -> None:
    # A look-ahead task abandoned by a closed generator must not log "exception was never
    # retrieved": its outcome no longer matters to anyone.
    if not task.cancelled():
        task.exception()


async def map_ordered(
    job: Callable[[S], Awaitable[T]],
    items: AsyncIterable[S] | Iterable[S],
    *,
    concurrency: int,
    window: int | None = None,
) -> AsyncGenerator[T, None]:
    """Yield ``await job(item)`` for each item in order, ``concurrency`` jobs at a time.

    Up to ``window`` (at least ``concurrency``; ``concurrency`` by default) results are
    held ahead of the consumer: a wider window lets the other jobs go on while the one at
    the head of the line is slow, at the cost of holding their results.
    """
    slots = asyncio.Semaphore(concurrency)

    async def bounded(item: S) -> T:
        async with slots:
            return await job(item)

    source = _aiter(items)
    pending: deque[asyncio.Task[T]] = deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < max(concurrency, window or 0):
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                pending.append(_start(bounded(item)))
            if not pending:
                return
            yield await pending.popleft()
    finally:
        await _abandon(pending, source, items)


async def map_unordered(
    job: Callable[[S], Awaitable[T]],
    items: AsyncIterable[S] | Iterable[S],
    *,
    concurrency: int,
) -> AsyncGenerator[T, None]:
    """Yield ``await job(item)`` for each item as it finishes, ``concurrency`` at a time.

    A slow job holds up nothing but itself; at most ``concurrency`` results are held.
    """
    source = _aiter(items)
    running: set[asyncio.Task[T]] = set()
    exhausted = False
    try:
        while True:
            while not exhausted and len(running) < concurrency:
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                running.add(_start(job(item)))
            if not running:
                return
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        await _abandon(running, source, items)


def _start(coro: Awaitable[T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(coro)
    task.add_done_callback(_retrieve)
    return task


async def _abandon(
    tasks: Iterable[asyncio.Task[Any]],
    source: AsyncGenerator[Any, None],
    items: AsyncIterable[Any] | Iterable[Any],
) -> None:
    """Cancel the jobs still running and wait for them, so no request outlives the walk."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    with anyio.CancelScope(shield=True):
        await asyncio.gather(*tasks, return_exceptions=True)
        await source.aclose()
        if isinstance(items, AsyncGenerator):
            await items.aclose()
