"""tokportal_async: the async-first Python SDK for TokPortal's Accounts API.

Example::

    from tokportal_async import AsyncTokPortal

    async with AsyncTokPortal() as tp:          # key from TOKPORTAL_API_KEY
        async for account in tp.accounts.iter(platform="tiktok"):
            detail = await tp.accounts.get(account.id)

Without ``await``, ``TokPortal`` offers the same methods as plain calls.
"""

from ._account_bans import AsyncAccountBans
from ._accounts import AsyncAccounts
from ._api_response import APIResponse
from ._client import AsyncTokPortal
from ._errors import (
    APICertificateError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    RateLimitError,
    ServerError,
    TokPortalError,
    VerificationCodeNotFoundError,
)
from ._models import (
    Account,
    AccountBan,
    AccountBundle,
    AccountDetail,
    BanResolution,
    BanResolutionKind,
    BanStatus,
    Bundle,
    BundleStatus,
    BundleType,
    CodeSource,
    Credentials,
    Page,
    Pagination,
    Platform,
    PolicyTerms,
    RateLimit,
    SocialCredentials,
    VerificationCode,
    VideoSlotSummary,
)
from ._rate_limit import RateLimiter
from ._redis_rate_limit import RedisRateLimiter
from ._sync_client import AccountBans, Accounts, TokPortal
from ._version import __version__

__all__ = [
    "APICertificateError",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APITimeoutError",
    "Account",
    "AccountBan",
    "AccountBans",
    "AccountBundle",
    "AccountDetail",
    "Accounts",
    "AsyncAccountBans",
    "AsyncAccounts",
    "AsyncTokPortal",
    "AuthenticationError",
    "BadRequestError",
    "BanResolution",
    "BanResolutionKind",
    "BanStatus",
    "Bundle",
    "BundleStatus",
    "BundleType",
    "CodeSource",
    "ConflictError",
    "Credentials",
    "InsufficientCreditsError",
    "NotFoundError",
    "Page",
    "Pagination",
    "PermissionDeniedError",
    "Platform",
    "PolicyAcceptanceRequiredError",
    "PolicyChangedError",
    "PolicyTerms",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "RedisRateLimiter",
    "ServerError",
    "SocialCredentials",
    "TokPortal",
    "TokPortalError",
    "VerificationCode",
    "VerificationCodeNotFoundError",
    "VideoSlotSummary",
    "__version__",
]
