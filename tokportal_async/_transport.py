"""The aiohttp transport: the session, the headers, the URL, and nothing else.

It sends one request, reads the whole answer (up to ``max_response_bytes``), and returns a
:class:`RawResponse`, or raises :class:`APIConnectionError` when no answer came, saying
whether the request may have reached TokPortal (``request_sent``). It does not interpret
statuses; :mod:`tokportal_async._response` does, without a socket.

The key is sent per request rather than set on the session: an injected session then never
learns it, and redirects are not followed at all (aiohttp forwards custom headers such as
``X-API-Key`` to a redirect's new origin), so the key only goes to ``base_url``.

Every request on the wire is one attempt of the retry policy: aiohttp's own silent re-send
of an idempotent request after a dropped keep-alive connection is refused, so the SDK
counts, paces and logs every attempt itself.

aiohttp's exceptions carry the request (its headers, the key among them) in their
attributes and in the locals of their tracebacks. An error of the SDK is chained to a
scrubbed copy only: no traceback, no further chain, no request headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._constants import CLIENT_ID
from ._errors import (
    APICertificateError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
)
from ._fork import follow_forks, set_aside
from ._raw import RawResponse, request_id_of
from ._text import printable
from ._validation import check_positive_seconds

__all__ = ["Transport", "timeout_of"]

#: aiohttp's default pool size; bulk helpers bound their concurrency below it, because a
#: request queued for a pooled connection spends its timeout waiting.
CONNECTION_LIMIT = 100
#: What replaces the key wherever it would otherwise show.
MASK = "***"


class _ResendRefused(Exception):
    """aiohttp tried to send the request a second time on its own; we refuse."""


def _masked(value: Any, secret: str) -> Any:
    """``value`` without the key: a request's headers masked, a string's occurrences too."""
    if isinstance(value, aiohttp.RequestInfo):
        headers = CIMultiDict(value.headers)
        if "X-API-Key" in headers:
            headers["X-API-Key"] = MASK
        return aiohttp.RequestInfo(
            value.url, value.method, CIMultiDictProxy(headers), value.real_url
        )
    if isinstance(value, str):
        return value.replace(secret, MASK)
    return value


def _scrubbed(exc: BaseException, secret: str) -> BaseException:
    """``exc`` made safe to keep as a cause: no traceback, no chain, no secret in its state."""
    exc.__traceback__ = None
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    if hasattr(exc, "__notes__"):
        del exc.__notes__
    if isinstance(getattr(exc, "request_info", None), aiohttp.RequestInfo):
        exc.request_info = _masked(exc.request_info, secret)  # type: ignore[attr-defined]
    exc.args = tuple(_masked(arg, secret) for arg in exc.args)
    state = vars(exc) if hasattr(exc, "__dict__") else {}
    if any(secret in text for text in (repr(exc), str(exc), repr(exc.args), repr(state))):
        # Some state we do not know still holds the key: keep only the kind of failure.
        return APIConnectionError(
            f"{type(exc).__name__} (details withheld: they held the API key)",
            method="?",
            path="?",
        )
    return exc


class Transport:
    """Sends requests to one TokPortal base URL with one key over one aiohttp session."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: URL,
        timeout: aiohttp.ClientTimeout,
        max_response_bytes: int,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ValueError(f"session must be an aiohttp.ClientSession, got {session!r}")
        self._api_key = api_key
        self._api_key_bytes = api_key.encode("utf-8")
        self._base_url = base_url
        #: The base URL as text, which every request's URL starts with.
        self._base = str(base_url)
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._session = session
        self._owns_session = session is None
        self._closed = False
        #: The event loop the session belongs to, fixed at first use.
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set in a forked child when the session was passed in: it cannot be replaced.
        self._inherited_session = False
        follow_forks(self)
        self._headers = {
            "X-API-Key": api_key,
            "Accept": "application/json",
            "User-Agent": CLIENT_ID,
            "X-TokPortal-Client": CLIENT_ID,
        }
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self._base_url)!r})"

    @property
    def api_key(self) -> str:
        """The key requests are sent with (kept out of every repr)."""
        return self._api_key

    @property
    def base_url(self) -> URL:
        """The URL every request path is relative to."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    def _after_fork(self) -> None:
        """In a forked child: the session, its loop and sockets are the parent's."""
        if self._session is None:
            return
        if self._owns_session:
            set_aside(self._session)  # never closed nor finalized here
            self._session, self._loop = None, None  # a new one is made on first use
        else:
            self._inherited_session = True

    def _check_owner(self) -> None:
        """Refuse use from another event loop, or of a session passed in before a fork."""
        if self._inherited_session:
            raise RuntimeError(
                "This TokPortal client was created before os.fork() with a session you "
                "passed in, whose connections belong to the parent process. Create the "
                "client (and its session) in the child process."
            )
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError(
                "This AsyncTokPortal is bound to the event loop it first ran on, and is now "
                "used from another one (each asyncio.run() starts a new loop). Create one "
                "client per event loop, or use the blocking TokPortal from several threads."
            )
        self._loop = loop

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(
                "This TokPortal client is closed; create a new client to send more requests."
            )
        self._check_owner()
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
        return URL(self._base + path, encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,  # noqa: ASYNC109 - aiohttp's, per request
    ) -> RawResponse:
        """Send one request and return its whole answer, whatever the status.

        ``body`` is an already encoded JSON document (see :func:`._json.dumps`);
        ``headers`` are the call's own (``Idempotency-Key``, the dry-run switch), added to
        the client's.
        """
        session = self._ensure_session()
        url = self.url_for(path)
        if params:
            url = url.with_query(params)
        dispatches = 0

        async def one_dispatch_only(
            request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
        ) -> aiohttp.ClientResponse:
            nonlocal dispatches
            dispatches += 1
            if dispatches > 1:
                raise _ResendRefused
            return await handler(request)

        try:
            async with session.request(
                method,
                url,
                headers=self._headers_for(body, headers),
                data=body,
                allow_redirects=False,
                timeout=timeout or self._timeout,
                raise_for_status=False,  # statuses are ours to read, even on a strict session
                middlewares=(one_dispatch_only,),
            ) as response:
                return RawResponse(
                    status=response.status,
                    headers=response.headers,
                    body=await self._read(response, method, path),
                    # No redirect is followed: the address that answered is the one asked.
                    url=self._base + path,
                    method=method,
                    path=path,
                )
        except APIError:
            raise
        except (TimeoutError, aiohttp.ClientError, _ResendRefused) as exc:
            failure = self._failure(exc, method, path)
            raise failure from _scrubbed(exc, self._api_key)

    def _headers_for(
        self, body: bytes | None, extra: Mapping[str, str] | None
    ) -> Mapping[str, str]:
        base = self._headers if body is None else self._json_headers
        return base if not extra else {**base, **extra}

    async def _read(self, response: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        """The whole body, decompressed, refused past ``max_response_bytes`` as it arrives."""
        limit = self._max_response_bytes
        announced = response.content_length
        if announced is not None and announced > limit:
            raise describe_oversized(
                response.status, response.headers, announced, limit, method=method, path=path
            )
        if announced is not None and "Content-Encoding" not in response.headers:
            # A length within the limit, and no decompression that could grow it: aiohttp
            # reads no further than the length, in one call instead of a loop of chunks.
            body = await response.read()
        else:
            body = await self._read_bounded(response, limit, method, path)
        if response.status >= 300 and self._api_key_bytes in body:
            # A server that echoes the key in an error message must not put it in ours.
            body = body.replace(self._api_key_bytes, MASK.encode())
        return body

    async def _read_bounded(
        self, response: aiohttp.ClientResponse, limit: int, method: str, path: str
    ) -> bytes:
        """A body of unknown or compressed length, stopped as soon as it passes ``limit``."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise describe_oversized(
                    response.status, response.headers, size, limit, method=method, path=path
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _failure(self, exc: BaseException, method: str, path: str) -> APIConnectionError:
        """The SDK's error for a transport failure, saying whether the request went out."""
        host = self._base_url.host
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            verify = getattr(exc.certificate_error, "verify_message", None)
            return APICertificateError(
                f"TLS with {host} failed: its certificate is not trusted "
                f"({printable(str(verify or 'verification failed'), limit=120)})",
                method=method,
                path=path,
                request_sent=False,
            )
        if isinstance(exc, aiohttp.ClientSSLError):
            return _tls_failure(exc, host, method, path)
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return APITimeoutError(
                f"Could not connect to {host} in time", method=method, path=path, request_sent=False
            )
        if isinstance(exc, TimeoutError):  # asyncio.TimeoutError is this builtin since 3.11
            return APITimeoutError("TokPortal did not answer in time", method=method, path=path)
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror or type(exc.os_error).__name__
            return APIConnectionError(
                f"Could not connect to {host}: {reason}",
                method=method,
                path=path,
                request_sent=False,
            )
        if isinstance(exc, _ResendRefused):
            return APIConnectionError(
                "The connection closed before TokPortal answered",
                method=method,
                path=path,
            )
        if isinstance(exc, aiohttp.ClientResponseError):  # the answer was not valid HTTP
            detail = printable(exc.message.replace(self._api_key, MASK), limit=120)
            return APIConnectionError(
                f"TokPortal's answer could not be read as HTTP ({detail})",
                method=method,
                path=path,
            )
        return APIConnectionError(
            f"The connection to TokPortal failed: {type(exc).__name__}", method=method, path=path
        )

    async def aclose(self) -> None:
        """Close the session if this transport created it; an injected one stays open.

        In a child process after ``os.fork()``, the parent's session was set aside: only a
        session made in the child is closed.
        """
        if self._closed:
            return
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop():
            if not loop.is_closed():
                self._check_owner()  # raises: close it on the loop that owns it
            # Its loop is gone, and the connections can no longer be closed from here.
            self._closed = True
            return
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()


#: What a TLS handshake's failure usually means, by OpenSSL's reason.
_TLS_HINTS = {
    "WRONG_VERSION_NUMBER": "the server does not speak TLS; is the URL http?",
    "UNSUPPORTED_PROTOCOL": "the server offers no TLS version this Python accepts",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server offers no TLS version this Python accepts",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server and this Python share no cipher",
}


def _tls_failure(
    exc: aiohttp.ClientSSLError, host: str | None, method: str, path: str
) -> APIConnectionError:
    """A handshake that failed for another reason than the certificate: say which.

    Not a certificate error, and not retried: the same handshake fails the same way.
    """
    cause = getattr(exc, "os_error", None) or exc
    reason = getattr(cause, "reason", None) or type(cause).__name__
    hint = _TLS_HINTS.get(str(reason), "the TLS handshake did not complete")
    error = APIConnectionError(
        f"TLS with {host} failed: {hint} ({printable(str(reason), limit=60)})",
        method=method,
        path=path,
        request_sent=False,
    )
    error.retryable = False
    return error


def describe_oversized(
    status: int,
    headers: Mapping[str, str],
    size: int,
    limit: int,
    *,
    method: str | None = None,
    path: str | None = None,
) -> APIResponseValidationError:
    """The error for a body past ``max_response_bytes`` (announced or as it arrived)."""
    return APIResponseValidationError(
        f"TokPortal answered HTTP {status} with a body of more than {limit} bytes "
        f"(max_response_bytes); reading stopped at {size} bytes",
        status=status,
        request_id=request_id_of(headers),
        errors=(f"body larger than {limit} bytes",),
        method=method,
        path=path,
    )


def timeout_of(
    timeout: float | aiohttp.ClientTimeout, connect_timeout: float
) -> aiohttp.ClientTimeout:
    """The aiohttp timeout for ``timeout`` and ``connect_timeout`` seconds.

    ``timeout`` bounds a whole request (connecting, sending, reading the whole body, so a
    stalled read ends too); ``connect_timeout`` bounds opening a connection. A
    ClientTimeout is used as given.
    """
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout
    check_positive_seconds("timeout", timeout)
    check_positive_seconds("connect_timeout", connect_timeout)
    return aiohttp.ClientTimeout(
        total=float(timeout), sock_connect=float(min(timeout, connect_timeout))
    )
