"""Serving the sandbox from a background thread, for synchronous code and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from anyio.from_thread import start_blocking_portal

from ._options import SandboxOptions
from ._server import Sandbox

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(options: SandboxOptions | None = None, /, **fields: Any) -> Iterator[Sandbox]:
    """A running :class:`Sandbox` on its own event loop thread, stopped on exit.

    Takes the same arguments as :class:`Sandbox`: a :class:`SandboxOptions`, its fields as
    keywords, ``ssl_context`` and ``clock``. Its ``state`` may be changed from
    the calling thread between requests.

    Example::

        with serve_in_thread(accounts=50) as sandbox, TokPortal(**sandbox.client_kwargs()) as tp:
            print(tp.accounts.list().pagination.total)
    """
    with (
        start_blocking_portal(name="tokportal-sandbox") as portal,
        portal.wrap_async_context_manager(Sandbox(options, **fields)) as sandbox,
    ):
        yield sandbox
