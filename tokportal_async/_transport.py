"""The aiohttp transport: the session, the headers, the URL, and nothing else.

It sends one request, reads the whole answer, and returns a :class:`RawResponse`, or raises
:class:`APIConnectionError` / :class:`APITimeoutError` when no answer came. It does not
interpret statuses; :mod:`tokportal_async._response` does, without a socket.

The key is sent per request rather than set on the session: an injected session then never
learns it, and redirects are not followed at all (aiohttp forwards custom headers such as
``X-API-Key`` to a redirect's new origin), so the key only goes to ``base_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from ._constants import CLIENT_ID
from ._errors import APIConnectionError, APITimeoutError
from ._response import RawResponse

__all__ = ["Transport"]

#: aiohttp's default pool size; bulk helpers bound their concurrency below it, because a
#: request queued for a pooled connection spends its timeout waiting.
CONNECTION_LIMIT = 100


class Transport:
    """Sends requests to one TokPortal base URL with one key over one aiohttp session."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: URL,
        timeout: aiohttp.ClientTimeout,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._headers = {
            "X-API-Key": api_key,
            "Accept": "application/json",
            "User-Agent": CLIENT_ID,
            "X-TokPortal-Client": CLIENT_ID,
        }

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self._base_url)!r})"

    @property
    def base_url(self) -> URL:
        """The URL every request path is relative to."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(
                "This TokPortal client is closed; create a new client to send more requests."
            )
        if self._session is None:
            # Created here, inside the running loop, never in __init__: aiohttp binds a
            # session to the loop that creates it, and refuses to create one without a loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT),
                timeout=self._timeout,
            )
        return self._session

    def open(self) -> None:
        """Create the owned session now (``async with`` does), rather than on first use."""
        self._ensure_session()

    def url_for(self, path: str) -> URL:
        """``base_url`` joined with an already percent-encoded ``path`` (``/accounts/x``)."""
        # encoded=True: the path's %2F must stay %2F; re-encoding or normalizing it would
        # let an id containing "/" address another resource.
        return URL(str(self._base_url) + path, encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> RawResponse:
        """Send one request and return its whole answer, whatever the status."""
        session = self._ensure_session()
        url = self.url_for(path)
        if params:
            url = url.with_query(params)
        try:
            async with session.request(
                method,
                url,
                headers=self._headers,
                json=json,
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                body = await response.read()
                return RawResponse(status=response.status, headers=response.headers, body=body)
        except TimeoutError as exc:  # asyncio.TimeoutError is this builtin since 3.11
            raise APITimeoutError(
                "TokPortal did not answer in time", method=method, path=path
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"Could not connect to {self._base_url.host}: {exc.os_error.strerror or exc}",
                method=method,
                path=path,
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"The connection to TokPortal failed: {type(exc).__name__}",
                method=method,
                path=path,
            ) from exc

    async def aclose(self) -> None:
        """Close the session if this transport created it; an injected one stays open."""
        if self._closed:
            return
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
