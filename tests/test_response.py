"""Pure decoding: (status, headers, bytes) to a model or a typed error, without a socket."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from multidict import CIMultiDict

from tokportal_async import (
    Account,
    AccountDetail,
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    Bundle,
    BundleStatus,
    ConflictError,
    EditRequest,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    PolicyTerms,
    PricingChangedError,
    RateLimitError,
    ServerError,
    TokPortalError,
)
from tokportal_async._raw import RawResponse
from tokportal_async._response import (
    decode_data,
    decode_page,
    decode_paid,
    error_for,
    parse_retry_after,
)

from .conftest import sample

REQUEST_ID = "req_0123456789abcdef"


def raw(
    status: int, body: bytes | str | Any, content_type: str = "application/json", **headers: str
) -> RawResponse:
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    all_headers = {"Content-Type": content_type, "X-TokPortal-Request-ID": REQUEST_ID}
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return RawResponse(status=status, headers=all_headers, body=body)


def envelope(code: str, message: str = "nope", **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "VALIDATION_ERROR", BadRequestError),
        (422, "VALIDATION_ERROR", BadRequestError),
        (401, "AUTH_MISSING_KEY", AuthenticationError),
        (401, "AUTH_INVALID_KEY", AuthenticationError),
        (401, "AUTH_REVOKED_KEY", AuthenticationError),
        (403, "SAVED_ACCOUNT_NOT_OWNED", PermissionDeniedError),
        (404, "SAVED_ACCOUNT_NOT_FOUND", NotFoundError),
        (404, "ACCOUNT_NOT_FOUND", NotFoundError),
        (409, "CREDENTIAL_REVEAL_QUOTE_CHANGED", PolicyChangedError),
        (409, "ACCOUNT_INVALID_STATUS", ConflictError),
        (402, "INSUFFICIENT_CREDITS", InsufficientCreditsError),
        (428, "POLICY_ACCEPTANCE_REQUIRED", PolicyAcceptanceRequiredError),
        (429, "RATE_LIMIT_EXCEEDED", RateLimitError),
        (500, "INTERNAL_ERROR", ServerError),
        (503, "SOMETHING_NEW", ServerError),
        (418, "SOMETHING_NEW", APIError),
    ],
)
def test_error_class_follows_status(status: int, code: str, cls: type[APIError]) -> None:
    error = error_for(raw(status, envelope(code, "human text", field="x")))
    assert type(error) is cls
    assert isinstance(error, TokPortalError)
    assert (error.status, error.code, error.message) == (status, code, "human text")
    assert error.details == {"field": "x"}
    assert error.request_id == REQUEST_ID
    assert REQUEST_ID in str(error)
    assert code in str(error)


def test_policy_error_carries_terms_and_how_to_accept() -> None:
    body = envelope(
        "POLICY_ACCEPTANCE_REQUIRED",
        "Accept first",
        policy_version="2026-11-01",
        expected_credit_cost=150,
        disclosure="Support ends.",
    )
    error = error_for(raw(428, body))
    assert isinstance(error, PolicyAcceptanceRequiredError)
    assert error.terms == PolicyTerms(
        policy_version="2026-11-01",
        expected_credit_cost=150,
        details={
            "policy_version": "2026-11-01",
            "expected_credit_cost": 150,
            "disclosure": "Support ends.",
        },
    )
    assert error.policy_version == "2026-11-01"
    text = str(error)
    assert "accept_policy='2026-11-01'" in text
    assert "150 credits" in text
    assert "support" in text


def test_policy_terms_of_odd_types_read_as_none() -> None:
    body = envelope("POLICY_ACCEPTANCE_REQUIRED", policy_version=7, expected_credit_cost="150")
    error = error_for(raw(428, body))
    assert isinstance(error, PolicyAcceptanceRequiredError)
    assert (error.terms.policy_version, error.terms.expected_credit_cost) == (None, None)
    assert "no policy_version" in str(error)


def test_quote_changed_is_a_conflict_with_the_new_terms() -> None:
    body = envelope(
        "CREDENTIAL_REVEAL_QUOTE_CHANGED", policy_version="v2", expected_credit_cost=150
    )
    error = error_for(raw(409, body))
    assert isinstance(error, PolicyChangedError)
    assert isinstance(error, ConflictError)
    assert error.terms.policy_version == "v2"
    assert error.terms.expected_credit_cost == 150
    assert "Nothing was charged" in str(error)


def test_insufficient_credits_carries_the_counts() -> None:
    body = envelope("INSUFFICIENT_CREDITS", required=150, available=40, missing=110)
    error = error_for(raw(402, body))
    assert isinstance(error, InsufficientCreditsError)
    assert (error.required, error.available, error.missing) == (150, 40, 110)
    assert error.status == 402
    assert error.request_id == REQUEST_ID


def test_insufficient_credits_by_code_whatever_the_status() -> None:
    error = error_for(raw(400, envelope("INSUFFICIENT_CREDITS")))
    assert isinstance(error, InsufficientCreditsError)
    assert (error.required, error.available, error.missing) == (None, None, None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"X-TokPortal-Request-ID": "req_a", "x-request-id": "b"}, "req_a"),
        ({"x-request-id": "req_b", "request-id": "c"}, "req_b"),
        ({"request-id": "req_c"}, "req_c"),
        ({}, None),
    ],
)
def test_request_id_falls_back_as_the_official_clients_do(
    header: dict[str, str], expected: str | None
) -> None:
    response = RawResponse(status=404, headers=CIMultiDict(header), body=b"")
    assert response.request_id == expected
    assert error_for(response).request_id == expected


def test_rate_limit_error_reads_retry_after_header_first() -> None:
    body = envelope("RATE_LIMIT_EXCEEDED", retry_after_seconds=9)
    error = error_for(raw(429, body, Retry_After="4"))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 4.0


def test_rate_limit_error_falls_back_to_details() -> None:
    error = error_for(raw(429, envelope("RATE_LIMIT_EXCEEDED", retry_after_seconds=9)))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 9.0


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    headers = {"Retry-After": "Wed, 25 Nov 2026 12:00:30 GMT"}
    assert parse_retry_after(headers, now=now) == 30.0


def test_retry_after_in_the_past_or_unreadable() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "Wed, 25 Nov 2026 11:00:00 GMT"}, now=now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}, {"retry_after_seconds": True}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls"),
    [
        (502, "<html><body>502 Bad Gateway</body></html>", "text/html", ServerError),
        (503, "", "text/plain", ServerError),
        (500, '{"error": {"code": "BOOM", "mess', "application/json", ServerError),
        (404, "Not Found", "text/plain", NotFoundError),
        (401, '["not", "an", "envelope"]', "application/json", AuthenticationError),
    ],
)
def test_error_without_json_envelope_still_typed(
    status: int, body: str, content_type: str, cls: type[APIError]
) -> None:
    error = error_for(raw(status, body, content_type))
    assert type(error) is cls
    assert error.status == status
    assert error.code is None
    assert error.request_id == REQUEST_ID
    assert f"HTTP {status}" in error.message


def test_redirect_is_an_error_that_explains_it_was_not_followed() -> None:
    error = error_for(raw(302, "", Location="https://elsewhere.example/"))
    assert type(error) is APIError
    assert "redirect" in error.message
    assert "base_url" in error.message


def test_a_long_content_type_is_cut_in_the_message() -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        decode_data(raw(200, "<html>", f"text/{'x' * 500}"), AccountDetail)
    assert "a body of type text/xxx" in str(caught.value)
    assert "x" * 100 not in str(caught.value)  # one line of a log, not the server's 500


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<html>maintenance</html>", "text/html", "a body of type text/html that is not valid"),
        ('{"data": {"id": "9f3a', "application/json", "not valid JSON"),
        ("", "application/json", "empty body"),
        (b"\xff\xfe{", "application/json", "not valid JSON"),
        ("[]", "application/json", "'data'"),
        ('{"detail": {}}', "application/json", "'data'"),
    ],
)
def test_bad_success_body_raises_validation_error(
    body: str | bytes, content_type: str, expected: str
) -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        decode_data(raw(200, body, content_type), AccountDetail)
    assert caught.value.status == 200
    assert caught.value.request_id == REQUEST_ID
    assert expected in str(caught.value)
    assert isinstance(caught.value, TokPortalError)


def _seed(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sample(name))
    return loaded


def test_missing_required_field_names_its_path() -> None:
    body = _seed("get_account")
    del body["data"]["platform"]
    with pytest.raises(APIResponseValidationError) as caught:
        decode_data(raw(200, body), AccountDetail)
    assert "required field missing @ $.data.platform" in caught.value.errors
    assert caught.value.__cause__ is not None


def test_wrong_types_are_errors_not_coerced() -> None:
    body = _seed("list_accounts")
    body["data"][0]["username"] = 12345
    body["data"][1]["created_at"] = 1767225600
    body["pagination"]["total"] = "2"
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(raw(200, body), Account)
    errors = caught.value.errors
    assert any("$.data[0].username" in line for line in errors)
    assert any("$.data[1].created_at" in line for line in errors)
    assert any("$.pagination.total" in line for line in errors)


def test_boolean_is_not_an_integer_and_integer_is_not_a_boolean() -> None:
    body = _seed("list_bundles")
    body["data"][0]["videos"]["pending"] = True
    body["data"][0]["wants_moderation"] = 0
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(raw(200, body), Bundle)
    assert any("videos.pending" in line for line in caught.value.errors)
    assert any("wants_moderation" in line for line in caught.value.errors)


def test_naive_timestamp_is_refused() -> None:
    body = _seed("get_account")
    body["data"]["created_at"] = "2026-01-10T08:00:00"
    with pytest.raises(APIResponseValidationError) as caught:
        decode_data(raw(200, body), AccountDetail)
    assert any("created_at" in line for line in caught.value.errors)


def test_null_in_a_required_field_is_an_error() -> None:
    body = _seed("get_account")
    body["data"]["created_at"] = None
    with pytest.raises(APIResponseValidationError):
        decode_data(raw(200, body), AccountDetail)


def test_a_page_with_null_and_missing_fields_decodes() -> None:
    accounts = _seed("list_accounts")
    accounts["data"][0]["biography"] = None
    del accounts["data"][1]["visible_name"]
    page = decode_page(raw(200, accounts), Account)
    assert (page[0].biography, page[1].visible_name) == (None, None)
    assert page[0].username == "coolcreator99"

    bundles = _seed("list_bundles")
    bundles["data"][0]["title"] = None
    del bundles["data"][0]["wants_deep_warming"]
    bundles["data"][0]["videos"]["pending"] = None
    (bundle,) = decode_page(raw(200, bundles), Bundle)
    assert (bundle.title, bundle.wants_deep_warming) == (None, None)
    assert bundle.open_slots == 0  # an unreported slot is not one to post in
    assert bundle.status is BundleStatus.ACCEPTED


@pytest.mark.parametrize(
    ("model", "sample", "field"),
    [(Account, "list_accounts", "id"), (Bundle, "list_bundles", "status")],
)
def test_a_page_with_a_null_identity_field_is_an_error(
    model: type, sample: str, field: str
) -> None:
    body = _seed(sample)
    body["data"][0][field] = None
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(raw(200, body), model)
    assert caught.value.status == 200
    assert caught.value.request_id == REQUEST_ID
    assert any(f"$.data[0].{field}" in line for line in caught.value.errors)


def test_a_wrong_type_in_an_optional_field_is_still_an_error() -> None:
    body = _seed("list_accounts")
    body["data"][0]["biography"] = ["not", "a", "string"]
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(raw(200, body), Account)
    assert any("$.data[0].biography" in line for line in caught.value.errors)


def test_new_bundle_statuses_are_members() -> None:
    bundles = _seed("list_bundles")
    bundles["data"][0]["status"] = "cancelled"
    (bundle,) = decode_page(raw(200, bundles), Bundle)
    assert bundle.status is BundleStatus.CANCELLED
    assert BundleStatus("draft") is BundleStatus.DRAFT


def test_pagination_missing_is_an_error() -> None:
    body = _seed("list_accounts")
    del body["pagination"]
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(raw(200, body), Account)
    assert "pagination" in str(caught.value)


def test_unknown_fields_are_ignored() -> None:
    body = _seed("get_account")
    body["data"]["brand_new_field"] = {"nested": [1, 2]}
    body["data"]["credentials"]["totp_seed"] = "x"
    body["extra_top_level"] = True
    detail = decode_data(raw(200, body), AccountDetail)
    assert detail.username == "coolcreator99"


def test_unknown_enum_values_keep_their_string() -> None:
    accounts = _seed("list_accounts")
    accounts["data"][0]["platform"] = "youtube_shorts"
    page = decode_page(raw(200, accounts), Account)
    assert page[0].platform == "youtube_shorts"
    assert page[1].platform == "tiktok"

    bundles = _seed("list_bundles")
    bundles["data"][0]["status"] = "archived"
    bundles["data"][0]["bundle_type"] = "comments_only"
    (bundle,) = decode_page(raw(200, bundles), Bundle)
    assert (bundle.status, bundle.bundle_type) == ("archived", "comments_only")
    assert not isinstance(bundle.status, BundleStatus)


def test_detail_fields_left_out_read_as_none() -> None:
    body = _seed("get_account")
    del body["data"]["credentials"]
    del body["data"]["last_verification_code"]
    del body["data"]["current_cm_id"]
    detail = decode_data(raw(200, body), AccountDetail)
    assert detail.credentials is None
    assert detail.last_verification_code is None
    assert detail.current_cm_id is None
    assert detail.username == "coolcreator99"


def test_error_answer_to_decode_raises_the_typed_error() -> None:
    with pytest.raises(NotFoundError) as caught:
        decode_data(raw(404, envelope("SAVED_ACCOUNT_NOT_FOUND")), AccountDetail)
    assert caught.value.request_id == REQUEST_ID


# -- paid writes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["BUNDLE_PRICING_CHANGED", "MANAGED_SUBSCRIPTION_QUOTE_CHANGED", "STALE_QUOTE", "PRICE_MOVED"],
)
def test_a_changed_price_is_a_pricing_change_carrying_the_new_terms(code: str) -> None:
    error = error_for(raw(409, envelope(code, quote={"credits": 55, "lock_version": 4})))
    assert isinstance(error, PricingChangedError)
    assert isinstance(error, ConflictError)
    assert error.quote == {"credits": 55, "lock_version": 4}
    assert error.request_id == REQUEST_ID


def test_a_changed_reveal_quote_stays_a_policy_change() -> None:
    error = error_for(raw(409, envelope("CREDENTIAL_REVEAL_QUOTE_CHANGED", policy_version="v2")))
    assert isinstance(error, PolicyChangedError)
    assert not isinstance(error, PricingChangedError)


def test_an_other_conflict_is_a_plain_conflict() -> None:
    error = error_for(raw(409, envelope("ACCOUNT_INVALID_STATUS")))
    assert type(error) is ConflictError


def test_a_paid_answer_gives_data_and_charge_with_the_replay_flag() -> None:
    body = {"data": {"edit_request_id": "er_1"}, "credits_charged": 8, "credits_remaining": 92}
    paid = decode_paid(
        raw(201, body, Idempotent_Replayed="true"),
        EditRequest,
        idempotency_key="k1",
        dry_run=False,
    )
    assert paid.data.edit_request_id == "er_1"
    assert (paid.charge.credits_charged, paid.charge.credits_remaining) == (8, 92)
    assert (paid.charge.replayed, paid.charge.idempotency_key) == (True, "k1")


def test_a_preview_that_does_not_say_so_but_charged_nothing_is_a_preview() -> None:
    body = {"data": None, "credits_charged": 0, "credits_would_charge": 8}
    paid = decode_paid(raw(200, body), EditRequest, idempotency_key="k", dry_run=True)
    assert (paid.charge.dry_run, paid.charge.credits_would_charge, paid.data) == (True, 8, None)


def test_a_paid_answer_with_a_charge_of_the_wrong_type_is_refused() -> None:
    body = {"data": {"edit_request_id": "er_1"}, "credits_charged": "8"}
    with pytest.raises(APIResponseValidationError, match="charge") as caught:
        decode_paid(raw(200, body), EditRequest, idempotency_key="k", dry_run=False)
    assert caught.value.errors == (
        "invalid value for type, expected int | None @ $.credits_charged",
    )


def test_a_paid_answer_about_another_account_is_refused() -> None:
    body = {"data": {"edit_request_id": "er_1", "account_id": "other"}, "credits_charged": 8}
    with pytest.raises(APIResponseValidationError, match="another"):
        decode_paid(
            raw(201, body), EditRequest, idempotency_key="k", dry_run=False,
            identity=("account_id", "mine"),
        )  # fmt: skip
