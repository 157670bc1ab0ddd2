"""Exit codes of the command line, one per kind of failure a script may branch on."""

from __future__ import annotations

from typing import Final

from .._errors import (
    APIConnectionError,
    AuthenticationError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    PricingChangedError,
    RateLimitError,
    ServerError,
    TokPortalError,
)

__all__ = ["exit_code_for"]

#: An API error with no code of its own below (a 400, another 409, a bad response).
API_ERROR: Final = 1
#: Bad command line: an unknown option, a missing argument, an invalid value.
USAGE: Final = 2
#: The key is missing, unknown or revoked, or the account is not yours.
AUTH: Final = 3
#: No such account (or, for ``code``, no verification code yet).
NOT_FOUND: Final = 4
#: The key's request budget is spent; retry after the time the error gives.
RATE_LIMITED: Final = 5
#: TokPortal or the network failed: 5xx, connection errors, timeouts.
UNAVAILABLE: Final = 6
#: The account owner must accept the policy (428), or accept it again because the terms
#: changed (409 ``CREDENTIAL_REVEAL_QUOTE_CHANGED``): run again with ``--accept-policy``.
POLICY: Final = 7
#: Too few credits for the call (402 ``INSUFFICIENT_CREDITS``); nothing was charged.
CREDITS: Final = 8
#: The price of a paid call changed since it was quoted (409); nothing was charged: fetch
#: the new price and run the command again.
PRICE_CHANGED: Final = 9
#: Interrupted with Ctrl+C (SIGINT), as shells report a command that SIGINT ended.
INTERRUPTED: Final = 130


def exit_code_for(error: TokPortalError) -> int:
    """The exit code that tells a script what kind of failure ``error`` is."""
    if isinstance(error, PolicyAcceptanceRequiredError | PolicyChangedError):
        return POLICY
    if isinstance(error, InsufficientCreditsError):
        return CREDITS
    if isinstance(error, PricingChangedError):
        return PRICE_CHANGED
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return AUTH
    if isinstance(error, NotFoundError):
        return NOT_FOUND
    if isinstance(error, RateLimitError):
        return RATE_LIMITED
    if isinstance(error, ServerError | APIConnectionError):
        return UNAVAILABLE
    return API_ERROR
