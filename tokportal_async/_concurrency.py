"""Bounded concurrency with results in order, for the bulk helpers.

Two shapes. :func:`gather_bounded` runs jobs to completion inside an anyio task group: a
fixed set of workers pulls the next index, so 10,000 jobs make ``concurrency`` tasks, not
10,000, and the first failure cancels the rest. :func:`map_ordered` is for async
generators, which must not keep a task group or cancel scope open across ``yield`` (a
scope would then cancel whatever the consumer happens to be doing, and the blocking facade
resumes each step from a different task). Its look-ahead jobs are tasks of the event loop,
owned by the generator: at most ``concurrency`` in flight, yielded in input order, and
cancelled and awaited when the generator finishes, fails or is closed.
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

__all__ = ["check_concurrency", "gather_bounded", "map_ordered"]

S = TypeVar("S")
T = TypeVar("T")


def check_concurrency(concurrency: int) -> None:
    """``concurrency`` is a whole number of requests in flight, at least 1."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")


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
    results: list[Any] = [None] * len(items)
    indices = iter(range(len(items)))  # shared: each worker takes the next index

    async def worker() -> None:
        for index in indices:
            try:
                results[index] = await job(items[index])
            except Exception as exc:
                if capture is None or not isinstance(exc, capture):
                    raise
                results[index] = exc

    try:
        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, len(items))):
                group.start_soon(worker)
    except ExceptionGroup as errors:
        # Callers catch NotFoundError, not an ExceptionGroup around it.
        raise _first_error(errors) from None
    return results


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
) -> AsyncGenerator[T, None]:
    """Yield ``await job(item)`` for each item in order, with up to ``concurrency`` ahead.

    Only ``concurrency`` results are held at once, whatever the consumer's pace.
    """
    source = _aiter(items)
    pending: deque[asyncio.Task[T]] = deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < concurrency:
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                task = asyncio.ensure_future(job(item))
                task.add_done_callback(_retrieve)
                pending.append(task)
            if not pending:
                return
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        with anyio.CancelScope(shield=True):
            # Wait for the cancelled jobs, so no request outlives the generator.
            await asyncio.gather(*pending, return_exceptions=True)
            await source.aclose()
            if isinstance(items, AsyncGenerator):
                await items.aclose()
