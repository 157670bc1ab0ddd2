"""``AsyncTokPortal``: the client users hold, and the one place requests leave from."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._accounts import AsyncAccounts
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._response import RawResponse
from ._retry import RetryMode, RetryPolicy, send_with_retries
from ._settings import resolve_api_key, resolve_base_url, resolve_timeout
from ._transport import Transport

__all__ = ["AsyncTokPortal"]


class AsyncTokPortal:
    """Async client for TokPortal's Accounts API.

    Example::

        async with AsyncTokPortal() as tp:  # the key comes from TOKPORTAL_API_KEY
            async for account in tp.accounts.iter(platform="tiktok"):
                detail = await tp.accounts.get(account.id)

    Args:
        api_key: your API key; defaults to the ``TOKPORTAL_API_KEY`` environment variable.
        base_url: defaults to ``TOKPORTAL_BASE_URL``, then
            ``https://app.tokportal.com/api/ext``. Plain ``http`` only for loopback hosts.
        timeout: seconds for a whole request, or an ``aiohttp.ClientTimeout``.
        max_retries: how many times a failed request that is safe to repeat is sent again
            (default 2; 0 turns retries off).
        session: an ``aiohttp.ClientSession`` to send requests with. The client uses it and
            never closes it; without one, the client creates its own and always closes it.

    Use it as ``async with``, or call :meth:`aclose` when done. One client is meant to be
    shared by every task of a program: it holds the connection pool.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ValueError(f"session must be an aiohttp.ClientSession, got {session!r}")
        self._transport = Transport(
            api_key=resolve_api_key(api_key),
            base_url=resolve_base_url(base_url),
            timeout=resolve_timeout(timeout),
            session=session,
        )
        self._retry_policy = RetryPolicy(max_retries=max_retries)

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The URL every request path is relative to."""
        return str(self._transport.base_url)

    @property
    def max_retries(self) -> int:
        """How many times a request that is safe to repeat is sent again."""
        return self._retry_policy.max_retries

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has run; a closed client refuses new requests."""
        return self._transport.closed

    @functools.cached_property
    def accounts(self) -> AsyncAccounts:
        """Delivered accounts: list, get, bundles and verification codes."""
        return AsyncAccounts(self)

    async def __aenter__(self) -> Self:
        self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only if the client created it). Safe to call twice."""
        await self._transport.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        mode: RetryMode = RetryMode.IDEMPOTENT,
    ) -> RawResponse:
        """Send a request under the retry policy; the answer may be an error status."""
        transport = self._transport

        async def send() -> RawResponse:
            return await transport.request(method, path, params=params, json=json)

        return await send_with_retries(
            send, policy=self._retry_policy, mode=mode, method=method, path=path
        )
