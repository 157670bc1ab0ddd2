"""Running the sandbox: in-process as an async context manager, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ._app import API_PREFIX, STOPPING_KEY, create_app
from ._options import SandboxOptions
from ._state import SandboxState

__all__ = ["Sandbox"]


class Sandbox:
    """A local TokPortal serving generated, deterministic data over real HTTP.

    Example::

        async with Sandbox(accounts=250) as sandbox:
            async with AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp:
                page = await tp.accounts.list()

    Args:
        options: a :class:`SandboxOptions`; its fields may also be given as keywords
            (``Sandbox(accounts=20, fault_rate=0.1)``), and keywords win over ``options``.
            They are documented there: the data (``accounts``, ``seed``, ``api_key``), the
            profile (``"live"``, the default, or ``"seed"``) and its overrides, the policy
            and credits, ``latency``, the faults, the rate limit, ``host`` and ``port``.
        ssl_context: serve HTTPS with this server context (for example one made with
            ``trustme``); plain HTTP without one.
        clock: the time source for code arrival (tests may pass their own).
    """

    def __init__(
        self,
        options: SandboxOptions | None = None,
        /,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        **fields: Any,
    ) -> None:
        self._ssl_context = ssl_context
        self.state = SandboxState(options, clock=clock, **fields)
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self._base_url!r})"

    @property
    def api_key(self) -> str:
        """The key of the sandbox's user."""
        return self.state.api_key

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api/ext``, once started."""
        if self._base_url is None:
            raise RuntimeError("The sandbox is not running; use 'async with Sandbox()'.")
        return self._base_url

    async def start(self) -> None:
        """Start listening; :attr:`base_url` is known from then on."""
        self._app = create_app(self.state)
        self.state.webhooks.bind(asyncio.get_running_loop())
        # handler_cancellation: a client that gives up on a stalled request frees it.
        runner = web.AppRunner(self._app, access_log=None, handler_cancellation=True)
        await runner.setup()
        options = self.state.options
        site = web.TCPSite(runner, options.host, options.port, ssl_context=self._ssl_context)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self._ssl_context is not None else "http"
        self._base_url = f"{scheme}://{host}:{port}{API_PREFIX}"

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None and self._app is not None:
            self._app[STOPPING_KEY].set()
            await self.state.webhooks.aclose()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def client_kwargs(self) -> dict[str, Any]:
        """``api_key`` and ``base_url`` for a client pointed at this sandbox."""
        return {"api_key": self.api_key, "base_url": self.base_url}
