"""``tp.accounts``: the four endpoints of delivered accounts, and iteration over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio

from ._constants import DEFAULT_CODE_POLL_INTERVAL, DEFAULT_CODE_WAIT_TIMEOUT, DEFAULT_ITER_PER_PAGE
from ._errors import UNCERTAIN_OUTCOME, ServerError, VerificationCodeNotFoundError
from ._models import (
    Account,
    AccountDetail,
    Bundle,
    BundleStatus,
    Page,
    Platform,
    VerificationCode,
)
from ._pagination import flattens, walk_pages
from ._query import query
from ._response import decode_data, decode_page
from ._retry import RetryMode
from ._validation import (
    check_filter,
    check_page,
    check_per_page,
    check_positive_seconds,
    path_segment,
)

if TYPE_CHECKING:
    from ._client import AsyncTokPortal

__all__ = ["AsyncAccounts"]


def _account_path(account_id: str, *rest: str) -> str:
    return "/".join(("/accounts", path_segment("account_id", account_id), *rest))


def _account_filters(
    platform: Platform | str | None,
    country: str | None,
    banned: bool | None,
    page: int | None,
    per_page: int | None,
) -> dict[str, str]:
    check_filter("platform", platform)
    check_filter("country", country)
    if banned is not None and not isinstance(banned, bool):
        raise ValueError(f"banned must be True, False or None, got {banned!r}")
    check_page(page)
    check_per_page(per_page)
    return query(platform=platform, country=country, banned=banned, page=page, per_page=per_page)


def _bundle_filters(
    status: BundleStatus | str | None, page: int | None, per_page: int | None
) -> dict[str, str]:
    check_filter("status", status)
    check_page(page)
    check_per_page(per_page)
    return query(status=status, page=page, per_page=per_page)


def _acceptance(accept_policy: str | None) -> dict[str, Any] | None:
    if accept_policy is None:
        return None
    if not isinstance(accept_policy, str) or not accept_policy.strip():
        raise ValueError(
            "accept_policy must be the exact policy_version from a "
            f"PolicyAcceptanceRequiredError, got {accept_policy!r}"
        )
    return {"acknowledge_support_forfeit": True, "policy_version": accept_policy}


class AsyncAccounts:
    """Delivered accounts: list and read them, their bundles, and their verification codes.

    Reached as ``tp.accounts`` on an :class:`~tokportal_async.AsyncTokPortal`. Accounts are
    read-only through the API; there are no write methods.
    """

    def __init__(self, client: AsyncTokPortal) -> None:
        self._client = client

    async def list(
        self,
        *,
        platform: Platform | str | None = None,
        country: str | None = None,
        banned: bool | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Page[Account]:
        """One page of your delivered accounts.

        Args:
            platform: only this platform (``"tiktok"``, ``"instagram"``, or a newer one).
            country: only this country code (``"US"``, ``"FR"``, ``"UK"``: not validated).
            banned: only banned (``True``) or only active (``False``) accounts.
            page: 1-based page number (the server's default is 1).
            per_page: 1 to 100 (the server's default is 25).

        Example::

            page = await tp.accounts.list(platform="tiktok", per_page=100)
            print(page.pagination.total, [a.username for a in page])
        """
        params = _account_filters(platform, country, banned, page, per_page)
        response = await self._client._request("GET", "/accounts", params=params)
        return decode_page(response, Account)

    async def pages(
        self,
        *,
        platform: Platform | str | None = None,
        country: str | None = None,
        banned: bool | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
    ) -> AsyncIterator[Page[Account]]:
        """Every page of accounts matching the filters, fetched lazily, one at a time."""
        _account_filters(platform, country, banned, None, per_page)

        async def fetch(number: int) -> Page[Account]:
            return await self.list(
                platform=platform, country=country, banned=banned, page=number, per_page=per_page
            )

        async for page in walk_pages(fetch):
            yield page

    @flattens("pages")
    async def iter(
        self,
        *,
        platform: Platform | str | None = None,
        country: str | None = None,
        banned: bool | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
    ) -> AsyncIterator[Account]:
        """Every account matching the filters, page after page, fetched lazily.

        Example::

            async for account in tp.accounts.iter(platform="tiktok"):
                print(account.username)
        """
        async for page in self.pages(
            platform=platform, country=country, banned=banned, per_page=per_page
        ):
            for account in page.data:
                yield account

    async def get(self, account_id: str) -> AccountDetail:
        """One account with its details and, where the API includes them, its credentials."""
        response = await self._client._request("GET", _account_path(account_id))
        return decode_data(response, AccountDetail)

    async def bundles(
        self,
        account_id: str,
        *,
        status: BundleStatus | str | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Page[Bundle]:
        """One page of the bundles (orders) tied to an account, with their video slots.

        Args:
            account_id: the account's id.
            status: only bundles in this status (``"accepted"``, ``"pending_setup"`` ...).
            page: 1-based page number.
            per_page: 1 to 100.
        """
        path = _account_path(account_id, "bundles")
        params = _bundle_filters(status, page, per_page)
        response = await self._client._request("GET", path, params=params)
        return decode_page(response, Bundle)

    async def bundle_pages(
        self,
        account_id: str,
        *,
        status: BundleStatus | str | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
    ) -> AsyncIterator[Page[Bundle]]:
        """Every page of bundles tied to an account, fetched lazily, one at a time."""
        _account_path(account_id)
        _bundle_filters(status, None, per_page)

        async def fetch(number: int) -> Page[Bundle]:
            return await self.bundles(account_id, status=status, page=number, per_page=per_page)

        async for page in walk_pages(fetch):
            yield page

    @flattens("bundle_pages")
    async def iter_bundles(
        self,
        account_id: str,
        *,
        status: BundleStatus | str | None = None,
        per_page: int = DEFAULT_ITER_PER_PAGE,
    ) -> AsyncIterator[Bundle]:
        """Every bundle tied to an account, page after page, fetched lazily.

        Example::

            async for bundle in tp.accounts.iter_bundles(account_id, status="accepted"):
                print(bundle.title, bundle.videos.pending, "free video slots")
        """
        async for page in self.bundle_pages(account_id, status=status, per_page=per_page):
            for bundle in page.data:
                yield bundle

    async def verification_code(
        self, account_id: str, *, accept_policy: str | None = None
    ) -> VerificationCode:
        """The latest 6-digit verification code in the account's TokMail inbox.

        First trigger a code on the platform (request a login code), wait a few seconds,
        then call this; or let :meth:`wait_for_verification_code` poll for you.

        The live API guards this call with a policy: the first call may raise
        :class:`~tokportal_async.PolicyAcceptanceRequiredError`. Accepting may debit
        credits and permanently detaches the account from TokPortal support, so the SDK
        never accepts for you: once the account owner agrees, call again with
        ``accept_policy=error.policy_version``.

        Raises:
            VerificationCodeNotFoundError: no code in the inbox yet.
            PolicyAcceptanceRequiredError: the terms must be accepted first (428).
            ConflictError: the terms changed since the preview; nothing was charged (409).
        """
        path = _account_path(account_id, "verification-code")
        body = _acceptance(accept_policy)
        # No Idempotency-Key, ever: TokPortal rejects it on secret-bearing calls. And no
        # retry once the request may have reached the server (see RetryMode).
        response = await self._client._request("POST", path, json=body, mode=RetryMode.UNSENT_ONLY)
        try:
            return decode_data(response, VerificationCode)
        except ServerError as exc:
            # A 5xx may come after the code was revealed and credits debited.
            raise exc._with_message(f"{exc.message}; {UNCERTAIN_OUTCOME}") from exc

    async def wait_for_verification_code(
        self,
        account_id: str,
        *,
        timeout: float = DEFAULT_CODE_WAIT_TIMEOUT,  # noqa: ASYNC109 - a public name; it bounds polling
        interval: float = DEFAULT_CODE_POLL_INTERVAL,
        accept_policy: str | None = None,
    ) -> VerificationCode:
        """Poll :meth:`verification_code` until a code arrives or ``timeout`` seconds pass.

        Only ``VERIFICATION_CODE_NOT_FOUND`` is waited out (TokPortal's advice: email can
        take 5-10 seconds); any other error is raised at once. With ``accept_policy``
        every poll is an accepted call.

        Raises:
            VerificationCodeNotFoundError: still no code after ``timeout`` seconds; the
                message names the account and how long it waited.
        """
        _account_path(account_id)
        check_positive_seconds("timeout", timeout, allow_zero=True)
        check_positive_seconds("interval", interval)
        _acceptance(accept_policy)
        started = anyio.current_time()
        deadline = started + timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self.verification_code(account_id, accept_policy=accept_policy)
            except VerificationCodeNotFoundError as exc:
                remaining = deadline - anyio.current_time()
                if remaining <= 0:
                    waited = anyio.current_time() - started
                    raise VerificationCodeNotFoundError(
                        f"No verification code arrived for account {account_id!r} after "
                        f"waiting {waited:.1f}s ({attempts} attempts, timeout {timeout:g}s). "
                        "Trigger a code on the platform first, then wait again",
                        status=exc.status,
                        code=exc.code,
                        details=exc.details,
                        request_id=exc.request_id,
                    ) from exc
                await anyio.sleep(min(interval, remaining))
