"""tokportal_async: the async-first Python SDK for TokPortal's Accounts API.

Example::

    from tokportal_async import AsyncTokPortal

    async with AsyncTokPortal() as tp:          # key from TOKPORTAL_API_KEY
        async for account in tp.accounts.iter(platform="tiktok"):
            detail = await tp.accounts.get(account.id)

Without ``await``, ``TokPortal`` offers the same methods as plain calls.

Names load on first use (PEP 562), so ``import tokportal_async`` costs about a
millisecond, and the pytest plugin it installs costs every other project's test run
nothing until a test asks for the sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._account_bans import AsyncAccountBans
    from ._accounts import AsyncAccounts
    from ._api_response import APIResponse
    from ._care_models import (
        AccountAnalytics,
        AnalyticsRefresh,
        AnalyticsRefreshStatus,
        CommentingProfile,
        Coverage,
        CoverageQuote,
        CoverageStatus,
        EditRequest,
        EditRequestStatus,
        VideoAnalytics,
        WarmingSession,
        WarmingSessionStatus,
    )
    from ._client import AsyncTokPortal
    from ._credit_models import (
        Charge,
        CreditBalance,
        CreditExpiration,
        CreditTransaction,
        PaidResult,
    )
    from ._credits import AsyncCredits
    from ._errors import (
        APICertificateError,
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APITimeoutError,
        APIVersionWarning,
        AuthenticationError,
        BadRequestError,
        BulkError,
        ConflictError,
        InsufficientCreditsError,
        NotFoundError,
        PermissionDeniedError,
        PolicyAcceptanceRequiredError,
        PolicyChangedError,
        PricingChangedError,
        RateLimitError,
        ServerError,
        TokPortalError,
        VerificationCodeNotFoundError,
    )
    from ._filters import (
        AccountFilters,
        BanFilters,
        BundleFilters,
        CreditHistoryFilters,
        VideoAnalyticsFilters,
        WebhookDeliveryFilters,
        WebhookEndpointFilters,
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
    from ._pacing import Pacer, Permit
    from ._rate_limit import RateLimiter
    from ._redis_rate_limit import RedisRateLimiter
    from ._sync_client import (
        AccountBans,
        Accounts,
        Credits,
        TokPortal,
        Webhooks,
    )
    from ._webhook_endpoints import AsyncWebhooks
    from ._webhook_models import WebhookDelivery, WebhookEndpoint, WebhookEventDescription

#: Where each public name lives: its module is imported the first time the name is used.
_LOCATIONS: dict[str, str] = {
    "AsyncAccountBans": "._account_bans",
    "AsyncAccounts": "._accounts",
    "APIResponse": "._api_response",
    "AsyncTokPortal": "._client",
    "APICertificateError": "._errors",
    "APIConnectionError": "._errors",
    "APIError": "._errors",
    "APIResponseValidationError": "._errors",
    "APITimeoutError": "._errors",
    "APIVersionWarning": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "BulkError": "._errors",
    "ConflictError": "._errors",
    "InsufficientCreditsError": "._errors",
    "NotFoundError": "._errors",
    "PermissionDeniedError": "._errors",
    "PolicyAcceptanceRequiredError": "._errors",
    "PolicyChangedError": "._errors",
    "RateLimitError": "._errors",
    "ServerError": "._errors",
    "TokPortalError": "._errors",
    "VerificationCodeNotFoundError": "._errors",
    "AccountFilters": "._filters",
    "BanFilters": "._filters",
    "BundleFilters": "._filters",
    "Account": "._models",
    "AccountBan": "._models",
    "AccountBundle": "._models",
    "AccountDetail": "._models",
    "BanResolution": "._models",
    "BanResolutionKind": "._models",
    "BanStatus": "._models",
    "Bundle": "._models",
    "BundleStatus": "._models",
    "BundleType": "._models",
    "CodeSource": "._models",
    "Credentials": "._models",
    "Page": "._models",
    "Pagination": "._models",
    "Platform": "._models",
    "PolicyTerms": "._models",
    "RateLimit": "._models",
    "SocialCredentials": "._models",
    "VerificationCode": "._models",
    "VideoSlotSummary": "._models",
    "AsyncCredits": "._credits",
    "AccountAnalytics": "._care_models",
    "AnalyticsRefresh": "._care_models",
    "AnalyticsRefreshStatus": "._care_models",
    "CommentingProfile": "._care_models",
    "Coverage": "._care_models",
    "CoverageQuote": "._care_models",
    "CoverageStatus": "._care_models",
    "EditRequest": "._care_models",
    "EditRequestStatus": "._care_models",
    "VideoAnalytics": "._care_models",
    "WarmingSession": "._care_models",
    "WarmingSessionStatus": "._care_models",
    "Charge": "._credit_models",
    "CreditBalance": "._credit_models",
    "CreditExpiration": "._credit_models",
    "CreditTransaction": "._credit_models",
    "PaidResult": "._credit_models",
    "CreditHistoryFilters": "._filters",
    "VideoAnalyticsFilters": "._filters",
    "PricingChangedError": "._errors",
    "Credits": "._sync_client",
    "AsyncWebhooks": "._webhook_endpoints",
    "WebhookDelivery": "._webhook_models",
    "WebhookEndpoint": "._webhook_models",
    "WebhookEventDescription": "._webhook_models",
    "WebhookDeliveryFilters": "._filters",
    "WebhookEndpointFilters": "._filters",
    "Webhooks": "._sync_client",
    "Pacer": "._pacing",
    "Permit": "._pacing",
    "RateLimiter": "._rate_limit",
    "RedisRateLimiter": "._redis_rate_limit",
    "AccountBans": "._sync_client",
    "Accounts": "._sync_client",
    "TokPortal": "._sync_client",
}


def __getattr__(name: str) -> Any:
    location = _LOCATIONS.get(name)
    if location is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(location, __name__), name)
    globals()[name] = value  # later uses are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LOCATIONS})


__all__ = [
    "APICertificateError",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APITimeoutError",
    "APIVersionWarning",
    "Account",
    "AccountAnalytics",
    "AccountBan",
    "AccountBans",
    "AccountBundle",
    "AccountDetail",
    "AccountFilters",
    "Accounts",
    "AnalyticsRefresh",
    "AnalyticsRefreshStatus",
    "AsyncAccountBans",
    "AsyncAccounts",
    "AsyncCredits",
    "AsyncTokPortal",
    "AsyncWebhooks",
    "AuthenticationError",
    "BadRequestError",
    "BanFilters",
    "BanResolution",
    "BanResolutionKind",
    "BanStatus",
    "BulkError",
    "Bundle",
    "BundleFilters",
    "BundleStatus",
    "BundleType",
    "Charge",
    "CodeSource",
    "CommentingProfile",
    "ConflictError",
    "Coverage",
    "CoverageQuote",
    "CoverageStatus",
    "Credentials",
    "CreditBalance",
    "CreditExpiration",
    "CreditHistoryFilters",
    "CreditTransaction",
    "Credits",
    "EditRequest",
    "EditRequestStatus",
    "InsufficientCreditsError",
    "NotFoundError",
    "Pacer",
    "Page",
    "Pagination",
    "PaidResult",
    "PermissionDeniedError",
    "Permit",
    "Platform",
    "PolicyAcceptanceRequiredError",
    "PolicyChangedError",
    "PolicyTerms",
    "PricingChangedError",
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
    "VideoAnalytics",
    "VideoAnalyticsFilters",
    "VideoSlotSummary",
    "WarmingSession",
    "WarmingSessionStatus",
    "WebhookDelivery",
    "WebhookDeliveryFilters",
    "WebhookEndpoint",
    "WebhookEndpointFilters",
    "WebhookEventDescription",
    "Webhooks",
    "__version__",
]
