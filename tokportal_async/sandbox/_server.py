"""Running the sandbox: in-process as an async context manager, on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ._app import API_PREFIX, create_app
from ._state import SandboxState

__all__ = ["Sandbox"]


class Sandbox:
    """A local TokPortal serving generated, deterministic data over real HTTP.

    Example::

        async with Sandbox(accounts=250) as sandbox:
            async with AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp:
                page = await tp.accounts.list()

    Args:
        accounts: how many accounts the sandbox user owns.
        seed: the same seed always gives the same accounts, ids and bundles.
        host: where to listen; loopback by default, and it should stay there.
        port: 0 picks a free port.
        require_policy_acceptance: answer verification-code calls with the live API's
            two-step policy flow (428, then acceptance, or 409 if the terms changed).
        omit_credentials: leave ``credentials`` out of account details, as newer
            deployments do.
        clock: the time source for code arrival (tests may pass their own).
    """

    def __init__(
        self,
        *,
        accounts: int = 250,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        require_policy_acceptance: bool = False,
        omit_credentials: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = SandboxState(
            seed=seed,
            accounts=accounts,
            api_key=api_key,
            require_policy_acceptance=require_policy_acceptance,
            omit_credentials=omit_credentials,
            clock=clock,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
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
        runner = web.AppRunner(create_app(self.state), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{host}:{port}{API_PREFIX}"

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None:
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
