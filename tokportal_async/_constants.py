"""Named defaults, each with the reason it has the value it has."""

from __future__ import annotations

from typing import Final

from ._version import __version__

#: Where TokPortal serves the external API; every path in the contract is relative to it.
DEFAULT_BASE_URL: Final = "https://app.tokportal.com/api/ext"

#: Environment variables read when the constructor is not given a value. The key lives in
#: the environment by TokPortal's own guidance: never in code.
API_KEY_ENV: Final = "TOKPORTAL_API_KEY"
BASE_URL_ENV: Final = "TOKPORTAL_BASE_URL"

#: How TokPortal's own SDKs identify themselves (``X-TokPortal-Client: <name>/<version>``);
#: we send the same shape in both headers so support can tell clients apart.
CLIENT_ID: Final = f"tokportal-async/{__version__}"

#: The server caps ``per_page`` at 100; asking for more is a 400, so we refuse it first.
MAX_PER_PAGE: Final = 100
#: Iterators walk with the largest page: fewer requests against a 120/minute budget.
DEFAULT_ITER_PER_PAGE: Final = 100

#: Seconds for a whole request (connect, send, read). Generous, because a slow page of
#: 100 accounts is still a success; a dead peer is caught by the connect timeout instead.
DEFAULT_TIMEOUT: Final = 60.0
#: Seconds to open a TCP/TLS connection. A healthy API answers a SYN in milliseconds.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0

#: The most bytes of one answer the client reads (after decompression): 16 MiB is more
#: than a hundred times the largest real page (100 accounts, ~70 KB), and still bounds
#: the memory that a broken or hostile server can make one request hold.
DEFAULT_MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024

#: Retries after the first attempt, for requests it is safe to repeat. Two rides out a
#: deploy's brief 502s without hiding an outage for long.
DEFAULT_MAX_RETRIES: Final = 2
#: Backoff between retries when the server gives no Retry-After: 0.5 s, 1 s, 2 s ... capped.
RETRY_BASE_DELAY: Final = 0.5
RETRY_MAX_DELAY: Final = 8.0
#: A Retry-After longer than this is not waited out inside one call: the error is raised so
#: the caller can decide (a minute-long stall inside ``await get()`` would look like a hang).
RETRY_AFTER_CAP: Final = 60.0

#: The documented budget: 120 requests per minute per key, a token bucket that refills
#: continuously with bursts of up to 120. Only the starting point: the server's
#: X-RateLimit-* headers take over from the first answer.
DOCUMENTED_RATE_LIMIT: Final = 120
DOCUMENTED_RATE_WINDOW: Final = 60.0

#: No retry starts later than this many seconds after the first attempt: a call that has
#: been failing for a minute should say so rather than keep a caller waiting.
DEFAULT_RETRY_DEADLINE: Final = 60.0

#: Requests in flight at once for the bulk helpers. Ten hides a distant server's latency
#: well, stays far below aiohttp's pool of 100 (a request queued for a pooled connection
#: spends its timeout waiting), and the rate limiter still paces the whole.
DEFAULT_CONCURRENCY: Final = 10

#: Finished results an ordered bulk walk may hold ahead of its consumer, per request in
#: flight: enough for the other requests to go on for a while when the one at the head of
#: the line stalls (a 2 s stall at 37 requests/s is ~75 results), and still small (a
#: detail is about a kilobyte).
ORDERED_WINDOW_FACTOR: Final = 8

#: The original page's advice for VERIFICATION_CODE_NOT_FOUND: "wait 5-10 seconds and retry".
DEFAULT_CODE_WAIT_TIMEOUT: Final = 60.0
DEFAULT_CODE_POLL_INTERVAL: Final = 5.0

#: Request id headers, in the order TokPortal's own clients read them; every error carries
#: the first one present, and support asks for it.
REQUEST_ID_HEADERS: Final = ("X-TokPortal-Request-ID", "x-request-id", "request-id")

#: The header naming the API version that answered, and the version this SDK was written
#: against. Another version still works (new fields and values are non-breaking by
#: TokPortal's policy) but is worth one warning: the SDK may not know what changed.
API_VERSION_HEADER: Final = "X-TokPortal-API-Version"
KNOWN_API_VERSION: Final = "2026-05-25"
