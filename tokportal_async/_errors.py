"""The one error tree of the SDK.

Every failure a user can see is a :class:`TokPortalError`. Errors the server answered with
are :class:`APIError` subclasses chosen by HTTP status (and, for the verification code, by
the error code); transport failures are :class:`APIConnectionError`. Foreign exceptions
(aiohttp, json, cattrs) are translated at one boundary each and chained with ``from``.

Messages never contain the API key, a password or a verification code: they are built only
from the server's error message, its code, the status and the request id.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Self

from ._models import PolicyTerms
from ._public import show_as_public

__all__ = [
    "APICertificateError",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "APIVersionWarning",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "ConflictError",
    "InsufficientCreditsError",
    "NotFoundError",
    "PermissionDeniedError",
    "PolicyAcceptanceRequiredError",
    "PolicyChangedError",
    "PricingChangedError",
    "RateLimitError",
    "ServerError",
    "TokPortalError",
    "VerificationCodeNotFoundError",
]


#: Said by the error of a call with effects that was not sent again, because the first
#: attempt may have reached the server (the verification code may have been revealed, and
#: credits debited).
UNCERTAIN_OUTCOME = (
    "the request may have reached TokPortal, so it was not sent again: check the account's "
    "state before calling again"
)


class TokPortalError(Exception):
    """Root of every error this SDK raises; ``except TokPortalError`` catches them all.

    Attributes:
        account_id: the account the failed call was about, when one call of a bulk
            helper (``get_many``, ``iter_details``, ``iter_open_slots``) or ``get``
            failed for it; else ``None``.
    """

    account_id: str | None = None


class APIError(TokPortalError):
    """The API answered, and the answer is an error (or not the JSON the contract promises).

    Attributes:
        status: the HTTP status code.
        code: the machine-readable ``error.code`` (``None`` when the body had none).
            Branch on this, never on ``message``.
        message: the human-readable text from the server, or one we wrote.
        details: ``error.details`` from the body, or an empty dict.
        request_id: the ``X-TokPortal-Request-ID`` header; quote it to TokPortal support.
        method: the HTTP method of the request this answered (``"GET"``).
        path: the path of that request, relative to the base URL (``"/accounts/…"``).
    """

    status: int
    code: str | None
    message: str
    details: Mapping[str, Any]
    request_id: str | None
    method: str | None
    path: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.request_id = request_id
        self.method = method
        self.path = path
        super().__init__(self._summary())

    def _summary(self) -> str:
        facts = [f"status {self.status}"]
        if self.code:
            facts.append(f"code {self.code}")
        if self.request_id:
            facts.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(facts)})"

    def _with_message(self, message: str) -> Self:
        """The same error (class and attributes) with another message."""
        clone = copy.copy(self)
        clone.message = message
        clone.args = (clone._summary(),)
        return clone

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r}, method={self.method!r}, path={self.path!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ does not survive the default pickling of exceptions, which
        # multiprocessing and concurrent.futures rely on to hand errors back.
        return (_rebuild_api_error, (type(self), self.__dict__.copy()))


def _rebuild_api_error(cls: type[APIError], state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._summary())
    return error


class BadRequestError(APIError):
    """400 or 422: a parameter was invalid (``VALIDATION_ERROR``)."""


class AuthenticationError(APIError):
    """401: the key is missing, unknown or revoked (``AUTH_*``)."""


class PermissionDeniedError(APIError):
    """403: the key is valid but the resource is not yours (``SAVED_ACCOUNT_NOT_OWNED``)."""


class NotFoundError(APIError):
    """404: no such resource (``ACCOUNT_NOT_FOUND``, ``SAVED_ACCOUNT_NOT_FOUND``)."""


class VerificationCodeNotFoundError(NotFoundError):
    """No verification code in the account's inbox yet (``VERIFICATION_CODE_NOT_FOUND``).

    Chosen by the error code whatever the HTTP status, since TokPortal does not document
    it. Trigger the code on the platform, wait a few seconds and retry, or call
    :meth:`AsyncAccounts.wait_for_verification_code`.
    """


class ConflictError(APIError):
    """409: the request conflicts with the account's current state.

    ``ACCOUNT_INVALID_STATUS`` and ``ACCOUNT_NOT_CONFIGURED`` are raised as this class;
    a changed quote on a secret-bearing call is its subclass :class:`PolicyChangedError`.
    """


def _terms_of(details: Mapping[str, Any] | None) -> PolicyTerms:
    """The policy terms a 428 or a changed quote carries in ``error.details``."""
    details = dict(details or {})
    version = details.get("policy_version")
    cost = details.get("expected_credit_cost")
    return PolicyTerms(
        policy_version=version if isinstance(version, str) else None,
        expected_credit_cost=cost if isinstance(cost, int) and not isinstance(cost, bool) else None,
        details=details,
    )


#: What every policy error says about accepting, so no message understates it.
_ACCEPTING = (
    "Accepting may debit credits and permanently ends TokPortal support for the account; "
    "the SDK never accepts for you"
)


class _TermsError(APIError):
    """An error that quotes the terms the account owner must accept (428 or 409)."""

    terms: PolicyTerms

    def __init__(self, message: str, **fields: Any) -> None:  # APIError's keywords
        self.terms = _terms_of(fields.get("details"))
        super().__init__(message, **fields)

    @property
    def policy_version(self) -> str | None:
        """The exact version of the terms to accept (``terms.policy_version``)."""
        return self.terms.policy_version

    def _how_to_accept(self) -> str:
        terms = self.terms
        cost = (
            f" (expected cost: {terms.expected_credit_cost} credits)"
            if terms.expected_credit_cost is not None
            else ""
        )
        if terms.policy_version is None:
            return f"the server named no policy_version to accept{cost}"
        return f"once the account owner agrees, pass accept_policy={terms.policy_version!r}{cost}"


class PolicyAcceptanceRequiredError(_TermsError):
    """428: revealing this secret needs the account owner's explicit acceptance.

    Nothing was charged or revealed. ``terms`` says what accepting costs
    (``terms.expected_credit_cost``) and which version to accept; accepting may debit
    credits and permanently detaches the account from TokPortal support. To accept, call
    again with ``accept_policy=error.terms.policy_version``.

    Attributes:
        terms: the :class:`PolicyTerms` quoted by the server.
        policy_version: the same as ``terms.policy_version``.
    """

    def _summary(self) -> str:
        return f"{super()._summary()}. {_ACCEPTING}: {self._how_to_accept()}."


class PolicyChangedError(_TermsError, ConflictError):
    """409 ``CREDENTIAL_REVEAL_QUOTE_CHANGED``: the terms changed since they were shown.

    Nothing was charged. ``terms`` holds the new terms: show them to the account owner
    and ask again; never retry automatically with the new version.

    Attributes:
        terms: the new :class:`PolicyTerms`.
        policy_version: the same as ``terms.policy_version``.
    """

    def _summary(self) -> str:
        return (
            f"{super()._summary()}. Nothing was charged; the new terms need fresh consent. "
            f"{_ACCEPTING}: {self._how_to_accept()}."
        )


class PricingChangedError(ConflictError):
    """409: the price of a paid write changed since it was quoted; nothing was charged.

    ``BUNDLE_PRICING_CHANGED``, or a coverage quote gone stale (its ``lock_version``
    moved on). ``details`` holds the new terms as the server states them (``quote`` is
    ``details["quote"]`` when the server nests it there, else ``details`` itself). Show
    them, get fresh consent, and call again: the new call gets a new idempotency key. The
    SDK never retries it.

    Attributes:
        quote: the new terms, as sent.
    """

    quote: Mapping[str, Any]

    def __init__(self, message: str, **fields: Any) -> None:  # APIError's keywords
        details = fields.get("details") or {}
        nested = details.get("quote") if isinstance(details, Mapping) else None
        self.quote = dict(nested if isinstance(nested, Mapping) else details)
        super().__init__(message, **fields)

    def _summary(self) -> str:
        return (
            f"{super()._summary()}. Nothing was charged; fetch the new price and call again "
            "once it is accepted"
        )


def _count(details: Mapping[str, Any], name: str) -> int | None:
    value = details.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class InsufficientCreditsError(APIError):
    """402 ``INSUFFICIENT_CREDITS``: the account has too few credits for this call.

    Nothing was charged. Top up, then call again; the SDK never retries it.

    Attributes:
        required: credits the call needs (``None`` if the server did not say).
        available: credits the account has.
        missing: ``required - available`` (as the server says it, or computed from the
            two when it says only those).
    """

    required: int | None
    available: int | None
    missing: int | None

    def __init__(self, message: str, **fields: Any) -> None:  # APIError's keywords
        facts = fields.get("details") or {}
        self.required = _count(facts, "required")
        self.available = _count(facts, "available")
        self.missing = _count(facts, "missing")
        if self.missing is None and self.required is not None and self.available is not None:
            self.missing = max(0, self.required - self.available)
        super().__init__(message, **fields)


class RateLimitError(APIError):
    """429: the key's request budget is spent (``RATE_LIMIT_EXCEEDED``).

    Attributes:
        retry_after: seconds to wait before the next request, from the ``Retry-After``
            header (seconds or HTTP date) or ``details.retry_after_seconds``; ``None``
            when the server said neither.
    """

    retry_after: float | None

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        self.retry_after = retry_after  # then APIError's keywords
        super().__init__(message, **fields)


class ServerError(APIError):
    """5xx: TokPortal, or a proxy in front of it, failed. Safe reads are retried first."""


class APIResponseValidationError(APIError):
    """The server answered, but not with the JSON the contract promises.

    Raised for a body that is not JSON, truncated JSON, or JSON missing a documented field
    or carrying one of the wrong type. ``errors`` lists what was wrong, one readable line
    per problem with its JSON path (``"required field missing @ $.data[0].id"``).
    """

    errors: tuple[str, ...]

    def __init__(self, message: str, *, errors: tuple[str, ...] = (), **fields: Any) -> None:
        self.errors = errors  # then APIError's keywords
        super().__init__(message, **fields)

    def _summary(self) -> str:
        summary = super()._summary()
        if not self.errors:
            return summary
        return summary + ": " + "; ".join(self.errors)


class APIConnectionError(TokPortalError):
    """The request did not get an answer: the connection failed, broke or was refused.

    Attributes:
        message: what went wrong, without the request line.
        method: the HTTP method of the failed request.
        path: the path of the failed request, relative to the base URL.
        request_sent: ``False`` only when the request provably never reached TokPortal
            (the connection could not be opened), so it had no effect; ``True`` when it
            may have (a reset, a timeout, a broken answer).
        retryable: ``False`` when sending again cannot help (a certificate, a TLS
            handshake that fails as it is); such a failure is never retried.
    """

    #: Whether sending again may help. ``False`` for failures that repeat as they are: a
    #: certificate, a TLS handshake that cannot succeed.
    retryable: bool = True

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool = True) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.request_sent = request_sent
        super().__init__(f"{message} ({method} {path})")

    def _with_message(self, message: str) -> Self:
        """The same failure (class and attributes) with another message."""
        clone = copy.copy(self)
        clone.message = message
        clone.args = (f"{message} ({self.method} {self.path})",)
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_connection_error, (type(self), self.args[0], self.__dict__.copy()))


def _rebuild_connection_error(
    cls: type[APIConnectionError], text: str, state: dict[str, Any]
) -> APIConnectionError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, text)
    return error


class APITimeoutError(APIConnectionError):
    """The request ran out of time: connecting, or waiting for the answer."""


class APICertificateError(APIConnectionError):
    """TLS with TokPortal failed: its certificate is not trusted. Nothing was sent.

    Never retried: sending again will not fix a certificate. Check the clock, a proxy that
    intercepts TLS, or pass a ``session`` whose connector trusts your private CA.
    """

    retryable = False


class APIVersionWarning(UserWarning):
    """TokPortal answered with an API version this SDK was not written against.

    New fields and values are read as they come (TokPortal promises them to be
    non-breaking), so nothing fails; check the API's changelog. Python shows it once per
    version and process; ``warnings.filterwarnings("ignore", category=APIVersionWarning)``
    silences it.
    """


class BulkError(ExceptionGroup[TokPortalError], TokPortalError):
    """Some accounts of a bulk call failed: here is everything it fetched, and every failure.

    Raised by ``get_many`` (without ``return_exceptions``) once every account has been
    tried, so that one exhausted retry does not throw away the rest of the job. Retry only
    what failed::

        try:
            details = await tp.accounts.get_many(ids)
        except BulkError as failed:
            details = list(failed.results.values())
            retry_later = list(failed.errors)  # the ids that failed

    It is an ``ExceptionGroup`` of the failures (``except* NotFoundError`` works) and a
    :class:`TokPortalError` (``except TokPortalError`` still catches it).

    A failure that would repeat for every account (the key refused, TLS failing) ends the
    walk at once: the ids never tried are in ``unfinished``.

    Attributes:
        results: what succeeded, by account id, in input order.
        errors: what failed, by account id, in input order; each error's ``account_id``
            says the same.
        unfinished: ids never tried, because the walk ended early (usually empty).
    """

    results: dict[str, Any]
    errors: dict[str, TokPortalError]
    unfinished: tuple[str, ...]

    def __new__(
        cls,
        message: str,
        errors: Mapping[str, TokPortalError],
        results: Mapping[str, Any] | None = None,
        unfinished: tuple[str, ...] = (),
    ) -> Self:
        self = super().__new__(cls, message, list(errors.values()))
        self.errors = dict(errors)
        self.results = dict(results or {})
        self.unfinished = tuple(unfinished)
        return self

    def __init__(
        self,
        message: str,
        errors: Mapping[str, TokPortalError],
        results: Mapping[str, Any] | None = None,
        unfinished: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, list(errors.values()))

    def derive(self, excs: Sequence[TokPortalError]) -> BulkError:  # type: ignore[override]
        """The same group with only ``excs`` (what ``except*`` leaves), results kept."""
        kept = {id(error) for error in excs}
        errors = {key: error for key, error in self.errors.items() if id(error) in kept}
        return BulkError(self.message, errors, self.results, self.unfinished)

    def __reduce__(self) -> tuple[Any, ...]:
        return (BulkError, (self.message, self.errors, self.results, self.unfinished))


show_as_public(globals())
