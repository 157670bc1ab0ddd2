"""One way to drive either client from a synchronous test, so scenarios run through both.

``AsyncDriver`` runs an ``AsyncTokPortal`` on a blocking portal of its own (the test
awaits nothing); ``SyncDriver`` calls the generated ``TokPortal``. Both expose
``call(method, ...)`` for a method and ``collect(method, ...)`` for an iterator, returning
a list. ``method`` names a method of ``accounts`` (``"get"``), of another resource
(``"account_bans.list"``), or of the client itself (``"tp.request"``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, Protocol

from anyio.from_thread import BlockingPortal, start_blocking_portal

from tokportal_async import AsyncTokPortal, TokPortal


def target(client: Any, method: str) -> Any:
    """The bound method ``method`` names on ``client`` (see the module's docstring)."""
    owner, _, name = method.rpartition(".")
    if owner == "tp":
        return getattr(client, name)
    return getattr(getattr(client, owner or "accounts"), name)


class Driver(Protocol):
    kind: str
    client: Any  # the AsyncTokPortal or TokPortal driven

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any: ...

    def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]: ...

    def close(self) -> None: ...


class SyncDriver:
    kind = "sync"

    def __init__(self, **client_kwargs: Any) -> None:
        self.client = TokPortal(**client_kwargs)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return target(self.client, method)(*args, **kwargs)

    def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        iterator: Iterator[Any] = target(self.client, method)(*args, **kwargs)
        return list(iterator)

    def close(self) -> None:
        self.client.close()


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


class AsyncDriver:
    kind = "async"

    def __init__(self, **client_kwargs: Any) -> None:
        self._portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.client = AsyncTokPortal(**client_kwargs)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.portal.call(partial(target(self.client, method), *args, **kwargs))

    def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        iterator = target(self.client, method)(*args, **kwargs)
        return self.portal.call(_collect, iterator)

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self._portal_cm.__exit__(None, None, None)


#: Both clients, for ``pytest.mark.parametrize``.
KINDS = ["async", "sync"]


def make_driver(kind: str, **client_kwargs: Any) -> Driver:
    return SyncDriver(**client_kwargs) if kind == "sync" else AsyncDriver(**client_kwargs)
