"""``AsyncTokPortal``: the client users hold, and the one place requests leave from."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._accounts import AsyncAccounts
from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_TIMEOUT,
)
from ._models import RateLimit
from ._rate_limit import RateLimiter
from ._response import RawResponse, rate_limit_of
from ._retry import RetryMode, RetryPolicy, send_with_retries
from ._settings import resolve_api_key, resolve_base_url, resolve_timeout
from ._transport import Transport
from ._validation import check_positive_seconds

__all__ = ["AsyncTokPortal"]

logger = logging.getLogger("tokportal_async")


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
        timeout: seconds for a whole request, reading the body included (default 60), or
            an ``aiohttp.ClientTimeout`` used as given.
        connect_timeout: seconds to open a connection (default 10).
        max_retries: how many times a failed request that is safe to repeat is sent again
            (default 2; 0 turns retries off).
        retry_deadline: no retry starts later than this many seconds after the first
            attempt (default 60).
        rate_limiter: pace requests to the key's budget (``True``, the default: 120 per
            minute until the server's ``X-RateLimit-*`` headers say otherwise), a tuned
            :class:`RateLimiter`, or ``False`` to send requests as fast as they come.
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
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        rate_limiter: RateLimiter | bool = True,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        check_positive_seconds("retry_deadline", retry_deadline, allow_zero=True)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ValueError(f"session must be an aiohttp.ClientSession, got {session!r}")
        if not isinstance(rate_limiter, RateLimiter | bool):
            raise ValueError(
                f"rate_limiter must be True, False or a RateLimiter, got {rate_limiter!r}"
            )
        self._transport = Transport(
            api_key=resolve_api_key(api_key),
            base_url=resolve_base_url(base_url),
            timeout=resolve_timeout(timeout, connect_timeout),
            session=session,
        )
        self._retry_policy = RetryPolicy(max_retries=max_retries, deadline=float(retry_deadline))
        self._rate_limiter: RateLimiter | None = (
            RateLimiter() if rate_limiter is True else rate_limiter or None
        )
        self._rate_limit: RateLimit | None = None

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
    def rate_limit(self) -> RateLimit | None:
        """The key's budget from the last ``X-RateLimit-*`` headers seen, if any yet."""
        return self._rate_limit

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The bucket that paces this client's requests, or ``None`` when switched off."""
        return self._rate_limiter

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
        limiter = self._rate_limiter

        async def send() -> RawResponse:
            if limiter is not None:
                await limiter.acquire()
            try:
                response = await transport.request(method, path, params=params, json=json)
            except BaseException:
                if limiter is not None:
                    limiter.release(status=None, rate_limit=None)
                raise
            rate_limit = rate_limit_of(response.headers)
            if rate_limit is not None:
                self._rate_limit = rate_limit
            if limiter is not None:
                limiter.release(status=response.status, rate_limit=rate_limit)
            logger.debug(
                "%s %s: HTTP %d (request id %s)", method, path, response.status, response.request_id
            )
            return response

        return await send_with_retries(
            send, policy=self._retry_policy, mode=mode, method=method, path=path
        )
