"""Pure translation of an HTTP answer into data, a model, or a typed error.

Nothing here touches a socket: a :class:`RawResponse` is the status, headers and bytes of
an answer, and every function below is tested on hand-made ones. The transport produces
them; the resources consume what these functions return.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._constants import DEFAULT_BASE_URL
from ._converter import DecodeError, structure
from ._errors import (
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    PricingChangedError,
    RateLimitError,
    ServerError,
    VerificationCodeNotFoundError,
)
from ._idempotency import REPLAYED_HEADER
from ._json import loads
from ._models import Page, RateLimit
from ._raw import RawResponse
from ._retry_after import parse_retry_after
from ._text import printable

if TYPE_CHECKING:  # the paid-write models load with the first paid call
    from ._credit_models import PaidResult

__all__ = [
    "decode_data",
    "decode_json",
    "decode_optional_data",
    "decode_page",
    "decode_paid",
    "decode_secret_data",
    "error_for",
    "parse_retry_after",
    "rate_limit_of",
]

T = TypeVar("T")

_ERROR_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    428: PolicyAcceptanceRequiredError,
    429: RateLimitError,
}
#: Codes whose meaning does not depend on the status the server picked for them.
_ERROR_BY_CODE: dict[str, type[APIError]] = {
    "VERIFICATION_CODE_NOT_FOUND": VerificationCodeNotFoundError,
    "CREDENTIAL_REVEAL_QUOTE_CHANGED": PolicyChangedError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "BUNDLE_PRICING_CHANGED": PricingChangedError,
}
#: Words of a 409's code that mean "the price moved since the quote" on a paid write (a
#: stale coverage quote has no documented code of its own).
_PRICING_WORDS = ("QUOTE", "PRICING", "PRICE")


def _answered(response: RawResponse) -> dict[str, Any]:
    """What every error made from ``response`` says of it: status, request id, request."""
    return {
        "status": response.status,
        "request_id": response.request_id,
        "method": response.method,
        "path": response.path,
    }


def _describe_body(response: RawResponse) -> str:
    if not response.body.strip():
        return "an empty body"
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    # The server's words: escaped, and short enough for one line of a log.
    return f"a body of type {printable(content_type, limit=60)}" if content_type else "a body"


_UUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")


def same_id(answered: str, asked: str) -> bool:
    """Whether two ids name one record: equal, or the same UUID in another case."""
    if answered == asked:
        return True
    return bool(_UUID.fullmatch(answered) and _UUID.fullmatch(asked)) and (
        answered.lower() == asked.lower()
    )


def _identified(response: RawResponse, data: Any, model: type, field: str, asked: str) -> Any:
    """``data``, checked to be about the record asked for, its id filled in if it had none.

    Only an answer that names *another* record is refused (a mixed-up cache or proxy):
    a null or absent id names none, and the answer is about the one asked for. Refusing
    it would throw away what a paid call bought, on every call alike.
    """
    if not isinstance(data, dict):
        return data  # decoding says what is wrong with it
    answered = data.get(field)
    if answered is None:
        if field in attrs.fields_dict(model):
            return {**data, field: asked}
        return data
    if not isinstance(answered, str) or same_id(answered, asked):
        return data  # a wrong type is decoding's to report
    raise APIResponseValidationError(
        f"TokPortal answered HTTP {response.status} about another record than the one asked "
        f"for ({field} {asked!r})",
        **_answered(response),
        errors=(f"expected {asked!r} @ $.data.{field}",),
    )


def decode_json(response: RawResponse) -> Any:
    """Decode the JSON body, or raise the typed error a broken body deserves."""
    try:
        return loads(response.body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise APIResponseValidationError(
            f"TokPortal answered HTTP {response.status} with {_describe_body(response)} "
            "that is not valid JSON",
            **_answered(response),
        ) from exc


def _envelope(response: RawResponse, *keys: str) -> Any:
    """The JSON object of a success answer, checked to hold every one of ``keys``."""
    if not response.ok:
        raise error_for(response)
    payload = decode_json(response)
    if not keys and not isinstance(payload, dict):  # with keys: the first one's missing
        raise APIResponseValidationError(
            f"TokPortal answered HTTP {response.status} with JSON that is not an object",
            **_answered(response),
            errors=(f"expected an object, got {type(payload).__name__} @ $",),
        )
    for key in keys:
        if not isinstance(payload, dict) or key not in payload:
            raise APIResponseValidationError(
                f"TokPortal answered HTTP {response.status} without the {key!r} field the "
                "contract promises",
                **_answered(response),
                errors=(f"required field missing @ $.{key}",),
            )
    return payload


def _structure(data: Any, model: Any, response: RawResponse, *, path: str, name: str) -> Any:
    try:
        return structure(data, model, path=path)
    except DecodeError as exc:
        raise APIResponseValidationError(
            f"TokPortal answered HTTP {response.status} with JSON that does not match {name}",
            **_answered(response),
            errors=exc.errors,
        ) from exc


def decode_data(
    response: RawResponse,
    model: type[T],
    *,
    identity: tuple[str, str] | None = None,
    adapt: Callable[[Any], Any] | None = None,
) -> T:
    """The ``data`` object of a success answer as ``model``; an error answer raises.

    ``identity`` (a field and the id asked for) is checked when the answer names an id
    there: an answer about another record (a mixed-up cache or proxy) is refused rather
    than handed over as the one asked for. UUIDs compare regardless of case, and an
    answer whose id is null or absent is taken as about the record asked for.
    """
    data = _envelope(response, "data")["data"]
    if adapt is not None:  # one model for an answer TokPortal has sent in two shapes
        data = adapt(data)
    if identity is not None:
        data = _identified(response, data, model, *identity)
    decoded: T = _structure(data, model, response, path="$.data", name=model.__name__)
    return decoded


def decode_optional_data(
    response: RawResponse, model: type[T], *, identity: tuple[str, str] | None = None
) -> T | None:
    """:func:`decode_data` for an answer whose ``data`` may be ``null`` (nothing active)."""
    if response.ok and _envelope(response, "data")["data"] is None:
        return None
    return decode_data(response, model, identity=identity)


def decode_paid(
    response: RawResponse,
    model: type[T],
    *,
    idempotency_key: str,
    dry_run: bool,
    identity: tuple[str, str] | None = None,
) -> PaidResult[Any]:
    """A paid write's answer: ``data`` as ``model`` and the charge beside it.

    A dry run's ``data`` is a preview, kept as sent. A dry run answered as a real call
    (credits charged, and no ``dry_run: true``) is an error, not a preview: something on
    the way (a proxy, a gateway) dropped the dry-run header, and the call ran for real.
    """
    from ._credit_models import Charge, PaidResult

    payload = _envelope(response) if dry_run else _envelope(response, "data")
    # The fields a paid write's answer carries beside ``data``: what it cost.
    sent = {field.name: payload[field.name] for field in attrs.fields(Charge)
            if field.name in payload}  # fmt: skip
    charge: Charge = _structure(sent, Charge, response, path="$", name="the charge fields")
    replayed = response.headers.get(REPLAYED_HEADER, "").strip().lower() == "true"
    charge = attrs.evolve(charge, replayed=replayed, idempotency_key=idempotency_key)
    if not dry_run:
        data = payload["data"]
        if identity is not None:
            data = _identified(response, data, model, *identity)
        decoded = _structure(data, model, response, path="$.data", name=model.__name__)
        return PaidResult(data=decoded, charge=charge)
    if not charge.dry_run and (charge.credits_charged or 0) > 0:
        raise APIResponseValidationError(
            "Asked for a dry run, but TokPortal answered as for a real call "
            f"(credits_charged={charge.credits_charged}): the X-TokPortal-Dry-Run header "
            "was probably dropped on the way, and the call may have taken effect. Check "
            "the account and your credit history before calling again",
            **_answered(response),
            errors=("expected true @ $.dry_run",),
        )
    # Asked for a preview and charged nothing: a preview, whether or not it says so.
    return PaidResult(data=payload.get("data"), charge=attrs.evolve(charge, dry_run=True))


def decode_secret_data(
    response: RawResponse, model: type[T], *, identity: tuple[str, str] | None = None
) -> T:
    """:func:`decode_data` for an answer that carries secrets (passwords, codes).

    An error raised here reaches no secret of the answer: error trackers record the
    locals of every frame in a traceback, and the frames that decoded the answer hold its
    body, passwords in clear. So the error leaves without its cause or context (the
    decoder's own exceptions, whose frames hold the data) and with a traceback that
    starts in a frame which no longer holds the answer.
    """
    try:
        return decode_data(response, model, identity=identity)
    except APIError as exc:
        error = exc
    del response  # this frame is the first of the traceback raised below
    error.__cause__ = error.__context__ = None
    error.__suppress_context__ = True
    raise error.with_traceback(None)


def decode_page(
    response: RawResponse, item_model: type[T], *, expected_page: int | None = None
) -> Page[T]:
    """A list answer (``data`` and ``pagination``) as a :class:`Page` of ``item_model``.

    ``pagination`` must hold a positive ``page`` and ``per_page`` and a ``total`` and
    ``total_pages`` of at least 0; with ``expected_page``, the answer must be that page. A
    server that ignores ``?page=`` would otherwise hand an iterator the same items forever.
    """
    payload = _envelope(response, "data", "pagination")
    page: Page[T] = _structure(
        payload, _page_of(item_model), response, path="$", name=f"Page[{item_model.__name__}]"
    )
    problems = _pagination_problems(page, expected_page)
    if problems:
        raise APIResponseValidationError(
            f"TokPortal answered HTTP {response.status} with pagination that cannot be walked",
            **_answered(response),
            errors=tuple(problems),
        )
    return page


def _pagination_problems(page: Page[Any], expected_page: int | None) -> list[str]:
    pagination = page.pagination
    problems = [
        f"expected {bound}, got {value} @ $.pagination.{name}"
        for name, value, bound in (
            ("page", pagination.page, "an integer >= 1"),
            ("per_page", pagination.per_page, "an integer >= 1"),
            ("total", pagination.total, "an integer >= 0"),
            ("total_pages", pagination.total_pages, "an integer >= 0"),
        )
        if value < (0 if name.startswith("total") else 1)
    ]
    if expected_page is not None and pagination.page != expected_page:
        problems.append(
            f"asked for page {expected_page}, got page {pagination.page} @ $.pagination.page"
        )
    return problems


_PAGE_MODELS: dict[type, Any] = {}


def _page_of(item_model: type[T]) -> Any:
    """``Page[item_model]``, made once: the converter's tables are keyed by it."""
    page_model = _PAGE_MODELS.get(item_model)
    if page_model is None:
        page_model = _PAGE_MODELS[item_model] = Page[item_model]  # type: ignore[valid-type]
    return page_model


def _header_number(raw: str | None) -> float | None:
    """A header's number: a whole one at the cost of ``int()`` (the usual), or a finite float."""
    if raw is None:
        return None
    try:
        return int(raw)  # int() takes the surrounding blanks float() does
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def rate_limit_of(headers: Mapping[str, str]) -> RateLimit | None:
    """The ``X-RateLimit-*`` headers as a :class:`RateLimit`, or ``None`` without them.

    ``Limit`` and ``Remaining`` are required; an unreadable ``Reset`` (a Unix timestamp)
    is ``None`` rather than a reason to drop what the other two say. A limit below 1 is
    nonsense (no key allows zero requests a minute), and the headers are then ignored
    rather than believed: pacing to it would hold every request for a whole window.
    """
    get = headers.get
    limit = _header_number(get("X-RateLimit-Limit"))
    remaining = _header_number(get("X-RateLimit-Remaining"))
    if limit is None or remaining is None or limit < 1:
        return None
    reset = _reset_time(get("X-RateLimit-Reset"))
    return RateLimit(limit=int(limit), remaining=max(0, int(remaining)), reset=reset)


@functools.lru_cache(maxsize=16)
def _reset_time(raw: str | None) -> datetime | None:
    """``X-RateLimit-Reset`` (a Unix time) as a datetime, if it reads as one.

    Remembered: the answers of a burst share the few whole seconds their resets fall on.
    """
    reset_at = _header_number(raw)
    try:
        return datetime.fromtimestamp(reset_at, UTC) if reset_at is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def error_for(response: RawResponse) -> APIError:
    """The typed error for a non-2xx answer, whatever its body looks like.

    The class comes from the error code where the code decides (the verification code),
    else from the status; unknown codes and statuses fall back to the status class.
    """
    code, message, details = response.error
    if message is None:
        if 300 <= response.status < 400:
            message = (
                f"TokPortal answered with a redirect (HTTP {response.status}); the SDK does "
                "not follow redirects, so the API key never leaves the configured origin. "
                "Check base_url"
            )
        else:
            message = (
                f"TokPortal answered HTTP {response.status} with {_describe_body(response)}, "
                "not the JSON error envelope"
            )
    if response.status == 404 and code in (None, "NOT_FOUND") and response.url:
        # Not a record that is missing, an endpoint: the base URL is the usual cause.
        address = response.url.partition("?")[0]
        message = (
            f"{message} (no endpoint at {address}: check base_url; TokPortal's is "
            f"{DEFAULT_BASE_URL})"
        )
    if response.retry_note:
        message = f"{message}; {response.retry_note}"
    cls = _ERROR_BY_CODE.get(code or "")
    if cls is None and response.status == 409 and any(w in (code or "") for w in _PRICING_WORDS):
        cls = PricingChangedError
    cls = cls or _ERROR_BY_STATUS.get(response.status)
    if cls is None:
        cls = ServerError if response.status >= 500 else APIError
    fields: dict[str, Any] = {**_answered(response), "code": code, "details": details}
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=response.retry_after, **fields)
    return cls(message, **fields)
