"""Running the sandbox: in-process as an async context manager, on 127.0.0.1."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ._app import API_PREFIX, STOPPING_KEY, create_app
from ._faults import Fault
from ._state import DEFAULT_CREDITS, DEFAULT_POLICY_VERSION, Profile, SandboxState

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
        api_key: the sandbox user's key (default: derived from ``seed``).
        profile: ``"live"`` (the default) plays TokPortal's API as it is now: details
            without credentials, ``reveal-credentials`` and the verification code behind
            the two-step policy with a per-account acknowledgment, credits, bans, ``sk_``
            keys and the version headers. ``"seed"`` plays the original Accounts page
            exactly: credentials in details, codes without a policy, ``tok_live_`` keys.
        require_policy_acceptance: override the profile: guard the secret-bearing calls
            with the policy flow (428, then acceptance; 409 if the terms changed).
        omit_credentials: override the profile: leave ``credentials`` out of details.
        policy_version: the version of the terms to accept (``state.policy_version``
            can change it mid-run).
        credits: the sandbox user's credit balance; acknowledging the policy for an
            account debits its quote (150 for accounts delivered since February 2026),
            and a balance too low answers 402.
        latency: seconds added before every answer.
        fault_rate: the share of requests (0 to 1) that meet a fault: a 500, 502 or 503,
            a proxy's HTML 502 page, a dropped connection, a stall, or a truncated body.
        fault_kinds: which of those faults (``Fault`` values); all by default.
        fault_seed: the seed of the fault draw (default: ``seed``).
        stall_seconds: how long a stalled request hangs at most.
        rate_limit: enforce the documented token bucket: this many requests per
            ``rate_window`` seconds per key, with ``X-RateLimit-*`` headers and 429s.
            ``None`` (the default) means no limit and no headers.
        rate_window: seconds over which ``rate_limit`` requests refill (TokPortal: 60).
        ssl_context: serve HTTPS with this server context (for example one made with
            ``trustme``); plain HTTP without one.
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
        profile: Profile = "live",
        require_policy_acceptance: bool | None = None,
        omit_credentials: bool | None = None,
        policy_version: str = DEFAULT_POLICY_VERSION,
        credits: int = DEFAULT_CREDITS,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        fault_kinds: tuple[Fault | str, ...] | None = None,
        fault_seed: int | None = None,
        stall_seconds: float = 30.0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssl_context = ssl_context
        self.state = SandboxState(
            seed=seed,
            accounts=accounts,
            api_key=api_key,
            profile=profile,
            require_policy_acceptance=require_policy_acceptance,
            omit_credentials=omit_credentials,
            policy_version=policy_version,
            credits=credits,
            latency=latency,
            fault_rate=fault_rate,
            fault_kinds=fault_kinds,
            fault_seed=fault_seed,
            stall_seconds=stall_seconds,
            rate_limit=rate_limit,
            rate_window=rate_window,
            clock=clock,
        )
        self._host = host
        self._port = port
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
        # handler_cancellation: a client that gives up on a stalled request frees it.
        runner = web.AppRunner(self._app, access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl_context)
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
