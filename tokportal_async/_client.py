"""``AsyncTokPortal``: the client users hold, and the one place requests leave from."""

from __future__ import annotations

import functools
import logging
import time
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ._account_bans import AsyncAccountBans
from ._accounts import AsyncAccounts
from ._api_response import APIResponse
from ._constants import (
    API_VERSION_HEADER,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_TIMEOUT,
    KNOWN_API_VERSION,
)
from ._credits import AsyncCredits
from ._errors import APIVersionWarning
from ._idempotency import idempotency_key as check_idempotency_key
from ._idempotency import write_headers
from ._json import dumps
from ._models import RateLimit
from ._public import show_as_public
from ._query import query
from ._rate_limit import Grant, RateLimiter
from ._raw import RawResponse
from ._response import error_for, rate_limit_of
from ._retry import RetryMode, RetryPolicy, send_with_retries
from ._settings import resolve_api_key, resolve_base_url
from ._text import printable
from ._transport import Transport, timeout_of
from ._validation import check_positive_seconds, check_retries, request_method, request_path
from ._webhook_endpoints import AsyncWebhooks

if TYPE_CHECKING:  # aiohttp is the transport's: here it only types two arguments
    import aiohttp

__all__ = ["AsyncTokPortal"]

logger = logging.getLogger("tokportal_async")

#: Methods that only read, and so are safe to send again after any failure.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The ends of the paths TokPortal never replays (``reject-sensitive-response``).
_SECRET_BEARING = ("/reveal-credentials", "/verification-code")


def _note_api_version(version: str) -> None:
    if version != KNOWN_API_VERSION:
        # Python's default filter shows each version's warning once per process (one
        # message from one place), however many clients meet it; no state of our own.
        warnings.warn(
            f"TokPortal answered with API version {printable(version, limit=40)}; this SDK "
            f"was written against {KNOWN_API_VERSION}. New fields and values are read as "
            "they come, but check the changelog of the API.",
            APIVersionWarning,
            stacklevel=1,
        )


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
        max_response_bytes: the most bytes of one answer to read, after decompression
            (default 16 MiB, a hundred times the largest real page); a larger body raises
            :class:`APIResponseValidationError` without being held in memory.
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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        check_retries(max_retries)
        check_positive_seconds("retry_deadline", retry_deadline, allow_zero=True)
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise ValueError(
                f"max_response_bytes must be a positive integer, got {max_response_bytes!r}"
            )
        if not isinstance(rate_limiter, RateLimiter | bool):
            raise ValueError(
                f"rate_limiter must be True, False or a RateLimiter, got {rate_limiter!r}"
            )
        self._transport = Transport(
            api_key=resolve_api_key(api_key),
            base_url=resolve_base_url(base_url),
            timeout=timeout_of(timeout, connect_timeout),
            max_response_bytes=max_response_bytes,
            session=session,
        )
        self._retry_policy = RetryPolicy(max_retries=max_retries, deadline=float(retry_deadline))
        self._rate_limiter: RateLimiter | None = (
            RateLimiter() if rate_limiter is True else rate_limiter or None
        )
        if self._rate_limiter is not None:
            self._rate_limiter._bind(self._transport.api_key)
        self._rate_limit: RateLimit | None = None
        self._api_version: str | None = None

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
    def api_version(self) -> str | None:
        """The ``X-TokPortal-API-Version`` of the last answer (``"2026-05-25"``), if any."""
        return self._api_version

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
        """Delivered accounts: list, read, credentials, codes, coverage, edits, warming."""
        return AsyncAccounts(self._request)

    @functools.cached_property
    def account_bans(self) -> AsyncAccountBans:
        """Bans of delivered accounts: appeal status and resolution."""
        return AsyncAccountBans(self._request)

    @functools.cached_property
    def credits(self) -> AsyncCredits:
        """Your credit balance and its history."""
        return AsyncCredits(self._request)

    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        """The endpoints TokPortal sends account events to, and their deliveries."""
        return AsyncWebhooks(self._request)

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
        if self._rate_limiter is not None:
            await self._rate_limiter.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool | None] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
    ) -> APIResponse:
        """Call any TokPortal operation the SDK has no method for, with the same care.

        The same key handling, pacing, timeouts, retries, error mapping and request ids as
        every typed method; the answer is an :class:`APIResponse` to read yourself.

        Example::

            balance = await tp.request("GET", "/credits/balance")
            print(balance.status, balance.request_id, balance.json())

        Args:
            method: ``"GET"``, ``"POST"``, ``"PATCH"`` ...
            path: relative to ``base_url`` (``"/credits/balance"``). A URL, a scheme, a
                path starting with ``//``, ``..`` segments or a query are refused.
            params: the query string; ``None`` values are left out, booleans are sent as
                ``true``/``false``.
            json: a JSON body: anything ``json.dumps`` encodes, without ``NaN`` or
                ``Infinity`` (a ``datetime``, a ``set`` or ``bytes`` is a ``ValueError``,
                raised before any request).
            idempotent: whether sending the request twice is harmless. By default only
                GET, HEAD and OPTIONS are; any other method is sent again only when it
                provably had no effect (the connection never opened, or a 429). Pass
                ``True`` for an operation you know is safe to repeat.
            idempotency_key: send this ``Idempotency-Key`` (the same on every retry), for
                a ``standard`` write: TokPortal then replays its first answer instead of
                acting twice, so the request is retried like a read. Refused for the
                secret-bearing calls (``reveal-credentials``, ``verification-code``),
                which TokPortal never replays.

        Raises:
            APIError: a non-2xx answer, as its typed subclass.
            APIConnectionError: no answer came.
        """
        method = request_method(method)
        path = request_path(path)
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"params must be a mapping, got {type(params).__name__}")
        if idempotent is not None and not isinstance(idempotent, bool):
            raise ValueError(f"idempotent must be True, False or None, got {idempotent!r}")
        if any(not isinstance(name, str) or not name for name in params or {}):
            raise ValueError("params names must be non-empty strings")
        headers = None
        if idempotency_key is not None:
            if path.rstrip("/").endswith(_SECRET_BEARING):
                raise ValueError(
                    f"{path} is a secret-bearing call: TokPortal refuses an Idempotency-Key "
                    "there and never replays it"
                )
            headers = write_headers(check_idempotency_key(idempotency_key))
        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        mode = RetryMode.IDEMPOTENT if safe or headers else RetryMode.UNSENT_ONLY
        response = await self._request(
            method, path, params=query(**(params or {})), json=json, mode=mode, headers=headers
        )
        if response.ok:
            return APIResponse(response)
        raise error_for(response)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        mode: RetryMode = RetryMode.IDEMPOTENT,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Send a request under the retry policy; the answer may be an error status.

        ``headers`` go with every attempt unchanged: an ``Idempotency-Key`` among them is
        the same on each retry, which is what lets TokPortal replay instead of charging
        again.
        """
        # First, before any frame holds the key: a body that is not JSON is the caller's
        # ValueError, never an error from inside the HTTP client (see _json.dumps).
        body = None if json is None else dumps(json)
        transport = self._transport
        limiter = self._rate_limiter

        grant: Grant | None = None  # what the limiter handed out with this attempt's token

        async def pace(give_up_at: float | None) -> None:
            nonlocal grant
            if limiter is not None:
                grant = await limiter._acquire(give_up_at=give_up_at)

        async def send() -> RawResponse:
            sent_at = time.time() if limiter is not None else None  # what Reset is read against
            try:
                response = await transport.request(
                    method, path, params=params, body=body, headers=headers
                )
            except BaseException:
                if limiter is not None:
                    limiter.release(status=None, rate_limit=None)
                raise
            rate_limit = rate_limit_of(response.headers)
            if rate_limit is not None:
                self._rate_limit = rate_limit
            api_version = response.headers.get(API_VERSION_HEADER)
            if api_version:
                self._api_version = api_version
            if limiter is not None:
                limiter.release(status=response.status, rate_limit=rate_limit, sent_at=sent_at)
                retry_after = response.retry_after if response.status == 429 else None
                await limiter._report(response.status, rate_limit, retry_after, grant)
            if logger.isEnabledFor(logging.DEBUG):  # escaping costs a little per request
                logger.debug(
                    "%s %s: HTTP %d (request id %s)",
                    method,
                    path,
                    response.status,
                    printable(response.request_id or "none", limit=128),
                )
            if api_version:  # last: a filter may turn the warning into an error
                _note_api_version(api_version)
            return response

        return await send_with_retries(
            send, policy=self._retry_policy, mode=mode, method=method, path=path, pace=pace
        )


show_as_public(globals())
