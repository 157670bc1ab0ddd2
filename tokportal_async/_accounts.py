"""``tp.accounts``: delivered accounts, their bundles, codes and credentials, and iteration."""

from __future__ import annotations

import builtins  # the ``list`` method shadows the type inside AsyncAccounts
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from contextlib import aclosing
from typing import Any, Literal, TypeVar, Unpack, overload

import anyio

from ._about import About as _About
from ._account_care import AccountCare, account_ids
from ._concurrency import (
    check_concurrency,
    gather_bounded,
    gather_settled,
    map_ordered,
    map_unordered,
)
from ._constants import (
    DEFAULT_CODE_POLL_INTERVAL,
    DEFAULT_CODE_WAIT_TIMEOUT,
    DEFAULT_CONCURRENCY,
    DEFAULT_ITER_PER_PAGE,
    ORDERED_WINDOW_FACTOR,
)
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    BulkError,
    TokPortalError,
    VerificationCodeNotFoundError,
)
from ._filters import AccountFilters, BundleFilters
from ._models import (
    Account,
    AccountBundle,
    AccountDetail,
    Bundle,
    BundleStatus,
    Credentials,
    Page,
    VerificationCode,
)
from ._operations import Access, Operation
from ._paged import PagedEndpoint
from ._pagination import flattens
from ._public import show_as_public
from ._response import decode_secret_data
from ._retry import SendRequest
from ._validation import (
    check_filter,
    check_positive_seconds,
    path_segment,
)

__all__ = ["AsyncAccounts"]

S = TypeVar("S")
T = TypeVar("T")


#: The account operations of this module; the rest are AccountCare's.
_GET = Operation("GET", "/accounts/{account_id}")
_REVEAL = Operation("POST", "/accounts/{account_id}/reveal-credentials", Access.SECRET)
_VERIFICATION_CODE = Operation("POST", "/accounts/{account_id}/verification-code", Access.SECRET)
#: The operations whose answers carry secrets, which TokPortal never replays.
SECRET_OPERATIONS = (_REVEAL, _VERIFICATION_CODE)


def _fails_for_all(error: BaseException) -> bool:
    """Whether ``error`` would end every other account's call the same way."""
    if isinstance(error, APIConnectionError):
        return not error.retryable  # a certificate or a TLS handshake: the same for all
    return isinstance(error, AuthenticationError)


def _bulk_summary(total: int, errors: dict[str, TokPortalError], unfinished: int) -> str:
    kinds = Counter(type(error).__name__ for error in errors.values())
    made = ", ".join(f"{count} {name}" for name, count in kinds.most_common())
    summary = f"{len(errors)} of {total} accounts failed ({made})"
    if unfinished:
        summary += f"; {unfinished} not tried: the first failure would repeat for all"
    return summary


def _checked_ids(account_ids: Iterable[str]) -> list[str]:
    """The ids as a list, each checked as a path segment; one bare id string is refused."""
    if isinstance(account_ids, str):
        raise ValueError(
            "account_ids must be a collection of ids, not one id string; for one id use get()"
        )
    ids = list(account_ids)
    for account_id in ids:
        path_segment("account_id", account_id)
    return ids


#: The two lists under accounts, declared once each.
_ACCOUNTS = PagedEndpoint("/accounts", Account, AccountFilters)
_BUNDLES = PagedEndpoint("/accounts/{account_id}/bundles", Bundle, BundleFilters)


def _bulk_map(
    job: Callable[[S], Awaitable[T]],
    items: AsyncIterable[S] | Iterable[S],
    concurrency: int,
    ordered: bool,
) -> AsyncGenerator[T, None]:
    """The bulk helpers' fan-out: in input order with a wide window, or as completed."""
    if not isinstance(ordered, bool):
        raise ValueError(f"ordered must be True or False, got {ordered!r}")
    if ordered:
        return map_ordered(
            job, items, concurrency=concurrency, window=ORDERED_WINDOW_FACTOR * concurrency
        )
    return map_unordered(job, items, concurrency=concurrency)


def _acceptance(accept_policy: str | None) -> dict[str, Any] | None:
    if accept_policy is None:
        return None
    if not isinstance(accept_policy, str) or not accept_policy.strip():
        raise ValueError(
            "accept_policy must be the exact policy_version from a "
            f"PolicyAcceptanceRequiredError, got {accept_policy!r}"
        )
    return {"acknowledge_support_forfeit": True, "policy_version": accept_policy}


class AsyncAccounts(AccountCare):
    """Delivered accounts: every operation TokPortal offers on them.

    Reached as ``tp.accounts`` on an :class:`~tokportal_async.AsyncTokPortal`. Reads: list
    and read accounts, their bundles, coverage, edit request, warming sessions and
    analytics. Charged and guarded by TokPortal's policy: :meth:`reveal_credentials` and
    :meth:`verification_code`. Paid writes, each keyed and previewable with
    ``dry_run=True``: :meth:`reactivate_coverage`, :meth:`create_edit_request`,
    :meth:`rewarm`.
    """

    def __init__(self, send: SendRequest) -> None:
        self._send = send  # the client's requests: paced, retried, typed

    async def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[AccountFilters],
    ) -> Page[Account]:
        """One page of your delivered accounts.

        Args:
            page: 1-based page number (the server's default is 1).
            per_page: 1 to 100 (the server's default is 25).
            **filters: ``platform`` (``"tiktok"``, ``"instagram"``, or a newer one),
                ``country`` (``"US"``, ``"FR"``, ``"UK"``: not validated), ``banned``
                (``True``: only banned accounts, ``False``: only active ones); see
                :class:`~tokportal_async.AccountFilters`.

        Example::

            page = await tp.accounts.list(platform="tiktok", per_page=100)
            print(page.pagination.total, [a.username for a in page])
        """
        return await _ACCOUNTS.page(self._send, filters, page=page, per_page=per_page)

    def pages(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[Page[Account], None]:
        """Every page of accounts matching the filters, fetched lazily.

        One request at a time by default. With ``concurrency=N``, once the first page
        reveals ``total_pages`` the rest are fetched up to N at a time, still yielded in
        page order, with at most N pages held in memory.
        """
        return _ACCOUNTS.pages(self._send, filters, per_page=per_page, concurrency=concurrency)

    @flattens("pages")
    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[Account, None]:
        """Every account matching the filters, page after page, fetched lazily.

        ``concurrency=N`` fetches up to N pages at a time once the first page has told
        how many there are (see :meth:`pages`); accounts still come in list order.

        Example::

            async for account in tp.accounts.iter(platform="tiktok"):
                print(account.username)
        """
        return _ACCOUNTS.items(self._send, filters, per_page=per_page, concurrency=concurrency)

    @overload
    def iter_details(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[False] = False,
        ordered: bool = True,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[AccountDetail, None]: ...

    @overload
    def iter_details(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[True],
        ordered: bool = True,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[AccountDetail | TokPortalError, None]: ...

    @overload
    def iter_details(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool,
        ordered: bool = True,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[AccountDetail | TokPortalError, None]: ...

    async def iter_details(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        ordered: bool = True,
        **filters: Unpack[AccountFilters],
    ) -> AsyncGenerator[AccountDetail | TokPortalError, None]:
        """Every account matching the filters, as :class:`AccountDetail`, pipelined.

        Listing and detail fetches overlap: up to ``concurrency`` details are in flight
        while the next page of the listing is fetched. Details come in list order; to
        keep the others going while one is slow, up to ``8 * concurrency`` finished ones
        are held ahead of the consumer. ``ordered=False`` yields each as it arrives
        instead (holding at most ``concurrency``).

        By default the first failure ends the walk and is raised. With
        ``return_exceptions=True`` an account whose detail failed yields its
        :class:`~tokportal_async.TokPortalError` in its place, and the walk goes on (a
        failure of the listing itself is still raised).

        Example::

            async for detail in tp.accounts.iter_details(platform="tiktok", concurrency=20):
                print(detail.username, detail.current_cm_id)
        """
        check_concurrency(concurrency)  # the listing checks the filters, before any request
        listing = _ACCOUNTS.items(
            self._send,
            filters,
            caller="iter_details",
            per_page=per_page,
            concurrency=min(2, concurrency),  # the next page is listed while details run
        )

        async def detail(account: Account) -> AccountDetail | TokPortalError:
            try:
                return await self.get(account.id)
            except TokPortalError as error:
                if not return_exceptions:
                    raise
                return error

        async with aclosing(_bulk_map(detail, listing, concurrency, ordered)) as details:
            async for account_detail in details:
                yield account_detail

    async def get(self, account_id: str) -> AccountDetail:
        """One account's details.

        The live API returns metadata only (``credentials`` is ``None``); passwords come
        from :meth:`reveal_credentials`. Deployments that still follow the original
        Accounts page include ``credentials`` here.
        """
        ids = account_ids(account_id)
        with _About(account_id):
            # Handed over, never held here: where the answer still carries passwords, a
            # decoding error must reach none of them (decode_secret_data).
            return decode_secret_data(
                await _GET.send(self._send, ids), AccountDetail, identity=("id", account_id)
            )

    @overload
    async def get_many(
        self,
        account_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[False] = False,
    ) -> builtins.list[AccountDetail]: ...

    @overload
    async def get_many(
        self,
        account_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[True],
    ) -> builtins.list[AccountDetail | TokPortalError]: ...

    @overload
    async def get_many(
        self,
        account_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool,
    ) -> builtins.list[AccountDetail] | builtins.list[AccountDetail | TokPortalError]: ...

    async def get_many(
        self,
        account_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
    ) -> builtins.list[AccountDetail] | builtins.list[AccountDetail | TokPortalError]:
        """Many accounts' details at once, ``concurrency`` requests at a time, in input order.

        Every account is tried, whatever happens to the others: at TokPortal's pace (two
        requests a second) a job of thousands runs for many minutes, and one exhausted
        retry must not throw that work away. If any failed, :class:`~tokportal_async.
        BulkError` is raised once all are done, with every detail fetched
        (``.results``) and every failure (``.errors``), by account id, so a caller
        retries only the failures. A failure that would repeat for every account (the
        key refused, TLS failing) ends the walk early; the ids never tried are in
        ``.unfinished``.

        With ``return_exceptions=True`` nothing is raised: every id gets its place in the
        result, its :class:`AccountDetail` or the :class:`~tokportal_async.TokPortalError`
        its request ended with, as ``asyncio.gather`` does. Either way each error's
        ``account_id`` names its account. Requests are paced by the client's rate limiter.

        Example::

            try:
                details = await tp.accounts.get_many(ids, concurrency=20)
            except BulkError as failed:
                details = list(failed.results.values())
                retry_later = list(failed.errors)
        """
        ids = _checked_ids(account_ids)
        check_concurrency(concurrency)
        if return_exceptions:
            return await gather_bounded(  # type: ignore[return-value]  # capture narrows it
                self.get, ids, concurrency=concurrency, capture=TokPortalError
            )
        outcomes, unstarted = await gather_settled(
            self.get, ids, concurrency=concurrency, capture=TokPortalError, fatal=_fails_for_all
        )
        skipped = set(unstarted)
        errors = {
            ids[i]: outcome
            for i, outcome in enumerate(outcomes)
            if isinstance(outcome, TokPortalError)
        }
        if not errors:
            return outcomes  # type: ignore[return-value]  # no error: all details
        results = {
            ids[i]: outcome
            for i, outcome in enumerate(outcomes)
            if i not in skipped and not isinstance(outcome, BaseException)
        }
        unfinished = tuple(ids[i] for i in unstarted)
        raise BulkError(
            _bulk_summary(len(ids), errors, len(unfinished)), errors, results, unfinished
        )

    async def bundles(
        self,
        account_id: str,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[BundleFilters],
    ) -> Page[Bundle]:
        """One page of the bundles (orders) tied to an account, with their video slots.

        Args:
            account_id: the account's id.
            page: 1-based page number.
            per_page: 1 to 100.
            **filters: ``status``: only bundles in this status (``"accepted"``,
                ``"pending_setup"`` ...); see :class:`~tokportal_async.BundleFilters`.
        """
        with _About(account_id):
            return await _BUNDLES.page(
                self._send,
                filters,
                caller="bundles",
                page=page,
                per_page=per_page,
                ids={"account_id": account_id},
            )

    def bundle_pages(
        self,
        account_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[BundleFilters],
    ) -> AsyncGenerator[Page[Bundle], None]:
        """Every page of bundles tied to an account, fetched lazily (see :meth:`pages`)."""
        return _BUNDLES.pages(
            self._send,
            filters,
            caller="bundle_pages",
            per_page=per_page,
            concurrency=concurrency,
            ids={"account_id": account_id},
        )

    @flattens("bundle_pages")
    def iter_bundles(
        self,
        account_id: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        **filters: Unpack[BundleFilters],
    ) -> AsyncGenerator[Bundle, None]:
        """Every bundle tied to an account, page after page, fetched lazily.

        Example::

            async for bundle in tp.accounts.iter_bundles(account_id, status="accepted"):
                print(bundle.title, bundle.videos.pending, "free video slots")
        """
        return _BUNDLES.items(
            self._send,
            filters,
            caller="iter_bundles",
            per_page=per_page,
            concurrency=concurrency,
            ids={"account_id": account_id},
        )

    @overload
    def iter_open_slots(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        status: BundleStatus | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[False] = False,
        ordered: bool = True,
    ) -> AsyncGenerator[AccountBundle, None]: ...

    @overload
    def iter_open_slots(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        status: BundleStatus | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[True],
        ordered: bool = True,
    ) -> AsyncGenerator[AccountBundle | TokPortalError, None]: ...

    @overload
    def iter_open_slots(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        status: BundleStatus | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool,
        ordered: bool = True,
    ) -> AsyncGenerator[AccountBundle | TokPortalError, None]: ...

    async def iter_open_slots(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        status: BundleStatus | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        ordered: bool = True,
    ) -> AsyncGenerator[AccountBundle | TokPortalError, None]:
        """The bundles with free video slots (``open_slots > 0``), across many accounts.

        Walks the bundles of ``account_ids`` (all your accounts when ``None``),
        ``concurrency`` accounts at a time, and yields each bundle with a free slot with
        the account it belongs to, in the order of the accounts (``ordered=False``: as
        each account's walk ends). With ``return_exceptions=True`` an account whose
        bundles could not be listed yields its :class:`~tokportal_async.TokPortalError`
        in its place, and the walk goes on.

        Example::

            async for found in tp.accounts.iter_open_slots(status="accepted"):
                print(found.account_id, found.bundle.title, found.bundle.open_slots)
        """
        check_filter("status", status)
        check_concurrency(concurrency)
        source: Iterable[str] | AsyncIterator[str] = (
            self._all_account_ids() if account_ids is None else _checked_ids(account_ids)
        )

        async def open_bundles(
            account_id: str,
        ) -> builtins.list[AccountBundle] | builtins.list[TokPortalError]:
            try:
                with _About(account_id):  # also for a walk that broke mid-way
                    return [
                        AccountBundle(account_id=account_id, bundle=bundle)
                        async for bundle in self.iter_bundles(account_id, status=status)
                        if bundle.open_slots > 0
                    ]
            except TokPortalError as error:
                if not return_exceptions:
                    raise
                return [error]

        async with aclosing(_bulk_map(open_bundles, source, concurrency, ordered)) as found:
            async for results in found:
                for result in results:
                    yield result

    async def _all_account_ids(self) -> AsyncGenerator[str, None]:
        async with aclosing(self.iter(concurrency=2)) as accounts:
            async for account in accounts:
                yield account.id

    async def reveal_credentials(
        self, account_id: str, *, accept_policy: str | None = None
    ) -> Credentials:
        """The account's passwords: TokMail inbox and social account. A charged call.

        TokPortal guards it with a two-step policy. The first call for an account raises
        :class:`~tokportal_async.PolicyAcceptanceRequiredError` with ``terms``: the
        version to accept and ``expected_credit_cost``. **Accepting may debit credits (150
        for recent accounts) and permanently ends TokPortal support for the account**, so
        the SDK never accepts for you. Once the account owner agrees, call again with
        ``accept_policy=error.terms.policy_version``. The acknowledgment is per account and
        recorded once: later calls for that account need no ``accept_policy``.

        Example::

            try:
                creds = await tp.accounts.reveal_credentials(account_id)
            except PolicyAcceptanceRequiredError as e:
                if owner_agrees(e.terms):  # show the terms to a human
                    creds = await tp.accounts.reveal_credentials(
                        account_id, accept_policy=e.terms.policy_version
                    )

        Never sent with an ``Idempotency-Key``, and sent again only when the first attempt
        provably had no effect (the connection never opened, or a 429).

        Raises:
            PolicyAcceptanceRequiredError: the terms must be accepted first (428).
            PolicyChangedError: the terms changed since they were shown; nothing was
                charged (409 ``CREDENTIAL_REVEAL_QUOTE_CHANGED``).
            InsufficientCreditsError: too few credits (402); nothing was charged.
        """
        return await self._sensitive_post(account_id, _REVEAL, accept_policy, Credentials)

    async def verification_code(
        self, account_id: str, *, accept_policy: str | None = None
    ) -> VerificationCode:
        """The latest 6-digit verification code in the account's TokMail inbox.

        First trigger a code on the platform (request a login code), wait a few seconds,
        then call this; or let :meth:`wait_for_verification_code` poll for you.

        The live API guards this call with the same policy as :meth:`reveal_credentials`:
        the first call for an account may raise
        :class:`~tokportal_async.PolicyAcceptanceRequiredError`. Accepting may debit
        credits and permanently detaches the account from TokPortal support, so the SDK
        never accepts for you: once the account owner agrees, call again with
        ``accept_policy=error.terms.policy_version``.

        Raises:
            VerificationCodeNotFoundError: no code in the inbox yet.
            PolicyAcceptanceRequiredError: the terms must be accepted first (428).
            PolicyChangedError: the terms changed since they were shown; nothing was
                charged (409).
            InsufficientCreditsError: too few credits (402).
        """
        return await self._sensitive_post(
            account_id, _VERIFICATION_CODE, accept_policy, VerificationCode
        )

    async def _sensitive_post(
        self, account_id: str, operation: Operation, accept_policy: str | None, model: type[T]
    ) -> T:
        """A secret-bearing POST: the acceptance body if given, never repeated once sent."""
        ids = account_ids(account_id)
        body = _acceptance(accept_policy)
        # Access.SECRET: no Idempotency-Key, ever (TokPortal rejects it on these calls),
        # and no retry once the request may have reached the server (see RetryMode).
        with _About(account_id):
            # The answer is handed over, never held in a local of this frame: a decoding
            # error passes through it, and its traceback must reach no password.
            return decode_secret_data(
                await operation.send(self._send, ids, json=body),
                model,
                identity=("account_id", account_id),
            )

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
        take 5-10 seconds); any other error is raised at once. ``accept_policy`` goes with
        the first request only: TokPortal records the acknowledgment then (even when no
        code has arrived yet), so later polls are sent without it and can never be
        charged as new acceptances. A 428 on a later poll is raised, never accepted again.

        Raises:
            VerificationCodeNotFoundError: still no code after ``timeout`` seconds; the
                message names the account and how long it waited.
        """
        account_ids(account_id)
        check_positive_seconds("timeout", timeout, allow_zero=True)
        check_positive_seconds("interval", interval)
        _acceptance(accept_policy)
        started = anyio.current_time()
        deadline = started + timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self.verification_code(
                    account_id, accept_policy=accept_policy if attempts == 1 else None
                )
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
                        method=exc.method,
                        path=exc.path,
                    ) from exc
                await anyio.sleep(min(interval, remaining))


show_as_public(globals())
