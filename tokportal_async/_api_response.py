"""``APIResponse``: what :meth:`AsyncTokPortal.request` returns for any operation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._public import show_as_public
from ._raw import RawResponse
from ._response import decode_json

__all__ = ["APIResponse"]


class APIResponse:
    """A successful (2xx) answer to :meth:`AsyncTokPortal.request`, fully read.

    Error answers never get here: they are raised as the typed errors of the SDK.

    Attributes:
        status: the HTTP status code.
        headers: the response headers (case-insensitive).
        request_id: ``X-TokPortal-Request-ID`` (or its fallbacks), for support.
        content: the body, as bytes.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: RawResponse) -> None:
        self._raw = raw

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self._raw.status

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers; lookups ignore case."""
        return self._raw.headers

    @property
    def request_id(self) -> str | None:
        """The request id support asks for."""
        return self._raw.request_id

    @property
    def content(self) -> bytes:
        """The body as bytes."""
        return self._raw.body

    def json(self) -> Any:
        """The body decoded as JSON (the whole envelope, ``data`` included).

        ``None`` for an empty body (a 204, a HEAD). A body that is not JSON raises
        :class:`~tokportal_async.APIResponseValidationError` with the status and request id.
        """
        if not self._raw.body.strip():
            return None
        return decode_json(self._raw)

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status}] request_id={self.request_id!r}>"


show_as_public(globals())
