"""tokportal_async: the async-first Python SDK for TokPortal's Accounts API.

Example::

    from tokportal_async import AsyncTokPortal

    async with AsyncTokPortal() as tp:          # key from TOKPORTAL_API_KEY
        async for account in tp.accounts.iter(platform="tiktok"):
            detail = await tp.accounts.get(account.id)

Without ``await``, ``TokPortal`` offers the same methods as plain calls.
"""

from ._accounts import AsyncAccounts
from ._client import AsyncTokPortal
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    RateLimitError,
    ServerError,
    TokPortalError,
    VerificationCodeNotFoundError,
)
from ._models import (
    Account,
    AccountBundle,
    AccountDetail,
    Bundle,
    BundleStatus,
    BundleType,
    CodeSource,
    Credentials,
    Page,
    Pagination,
    Platform,
    RateLimit,
    SocialCredentials,
    VerificationCode,
    VideoSlotSummary,
)
from ._rate_limit import RateLimiter
from ._sync_client import Accounts, TokPortal
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "Account",
    "AccountBundle",
    "AccountDetail",
    "Accounts",
    "AsyncAccounts",
    "AsyncTokPortal",
    "AuthenticationError",
    "BadRequestError",
    "Bundle",
    "BundleStatus",
    "BundleType",
    "CodeSource",
    "ConflictError",
    "Credentials",
    "NotFoundError",
    "Page",
    "Pagination",
    "PermissionDeniedError",
    "Platform",
    "PolicyAcceptanceRequiredError",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "ServerError",
    "SocialCredentials",
    "TokPortal",
    "TokPortalError",
    "VerificationCode",
    "VerificationCodeNotFoundError",
    "VideoSlotSummary",
    "__version__",
]
