"""An HTTP answer as the transport hands it up: below both the transport and the decoding.

Importing the transport must not build the converter, so the answer's type lives here,
with nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._constants import REQUEST_ID_HEADERS

__all__ = ["RawResponse", "request_id_of"]


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id support asks for: ``X-TokPortal-Request-ID``, else the fallbacks.

    TokPortal's own clients fall back to ``x-request-id``, then ``request-id``.
    """
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


@attrs.frozen(kw_only=True)
class RawResponse:
    """An HTTP answer, fully read: what the decoding and the retry policy work on."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    #: The URL that answered, for errors that are about the address itself (a 404 for an
    #: endpoint that is not there). Never holds the key: that travels in a header.
    url: str | None = None
    #: Why the retry policy stopped at this answer, said by the error it becomes.
    retry_note: str | None = None

    @property
    def request_id(self) -> str | None:
        """The request id support asks for (see :func:`request_id_of`)."""
        return request_id_of(self.headers)

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300
