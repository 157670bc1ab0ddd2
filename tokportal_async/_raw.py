"""An HTTP answer as the transport hands it up: below both the transport and the decoding.

Importing the transport must not build the converter, so the answer's type lives here,
with nothing above it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import attrs

from ._constants import REQUEST_ID_HEADERS
from ._json import loads
from ._retry_after import parse_retry_after

__all__ = ["ErrorFields", "RawResponse", "request_id_of"]


class ErrorFields(NamedTuple):
    """What an error envelope says, as far as it can be read: each part may be missing."""

    code: str | None
    message: str | None
    details: dict[str, Any]


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id support asks for: ``X-TokPortal-Request-ID``, else the fallbacks.

    TokPortal's own clients fall back to ``x-request-id``, then ``request-id``.
    """
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


@attrs.define(kw_only=True)
class RawResponse:
    """An HTTP answer, fully read: what the decoding and the retry policy work on.

    Read-only by convention (``attrs.evolve`` makes a changed copy): not frozen, because a
    frozen class's ``__init__`` costs twice as much, and one is made per request.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    #: The address that answered (the base URL and the path, without the query), for
    #: errors about the address itself (a 404 for an endpoint that is not there). Never
    #: holds the key: that travels in a header.
    url: str | None = None
    #: Why the retry policy stopped at this answer, said by the error it becomes.
    retry_note: str | None = None
    #: The request this answered (its method, and its path under the base URL), which
    #: every error made from the answer names.
    method: str | None = None
    path: str | None = None

    @property
    def request_id(self) -> str | None:
        """The request id support asks for (see :func:`request_id_of`)."""
        return request_id_of(self.headers)

    @functools.cached_property
    def error(self) -> ErrorFields:
        """``error.code``, ``error.message`` and ``error.details`` from the body, read once.

        The retry policy (for ``details.retry_after_seconds``) and the error it raises both
        need them; a body that is not the envelope gives ``(None, None, {})``.
        """
        try:
            payload = loads(self.body)
        except ValueError:
            return ErrorFields(None, None, {})
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return ErrorFields(None, None, {})
        code, message, details = error.get("code"), error.get("message"), error.get("details")
        return ErrorFields(
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
            details if isinstance(details, dict) else {},
        )

    @functools.cached_property
    def retry_after(self) -> float | None:
        """The seconds this answer asks to wait, read once (see :func:`parse_retry_after`).

        The retry policy, the rate limiter and the error it becomes all need it.
        """
        return parse_retry_after(self.headers, self.error.details)

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300
