"""The original Accounts page's examples, verbatim, parse into the models field for field."""

from __future__ import annotations

from datetime import UTC, datetime

from tokportal_async import (
    Account,
    AccountDetail,
    Bundle,
    BundleStatus,
    BundleType,
    CodeSource,
    Platform,
    VerificationCode,
    VerificationCodeNotFoundError,
)
from tokportal_async._raw import RawResponse
from tokportal_async._response import decode_data, decode_page, error_for

from .conftest import sample

HEADERS = {"Content-Type": "application/json", "X-TokPortal-Request-ID": "req_seed"}


def answer(name: str, status: int = 200) -> RawResponse:
    return RawResponse(status=status, headers=HEADERS, body=sample(name))


def test_list_accounts_example_parses_field_for_field() -> None:
    page = decode_page(answer("list_accounts"), Account)
    assert len(page) == 2
    assert page.pagination.page == 1
    assert page.pagination.per_page == 20  # the response's value, not the request's
    assert page.pagination.total == 2
    assert page.pagination.total_pages == 1
    first, second = page
    assert first == Account(
        id="9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c",
        platform=Platform.TIKTOK,
        username="coolcreator99",
        visible_name="Cool Creator",
        biography="Lifestyle & trends | DM for collabs",
        profile_picture_url="https://pub-xxx.r2.dev/profile-pictures/pfp-abc123.jpg",
        country="US",
        link_in_bio="https://linktr.ee/coolcreator99",
        profile_url="https://www.tiktok.com/@coolcreator99",
        tokmail_email="coolcreator99@tokmail.io",
        created_at=datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
        updated_at=datetime(2026, 2, 5, 12, 30, tzinfo=UTC),
    )
    assert second.profile_picture_url is None
    assert second.link_in_bio is None
    assert second.username == "trendwatcher22"
    assert second.created_at == datetime(2026, 1, 12, 10, 30, tzinfo=UTC)


def test_get_account_example_parses_with_credentials() -> None:
    detail = decode_data(answer("get_account"), AccountDetail)
    assert isinstance(detail, Account)
    assert detail.id == "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"
    assert detail.platform == "tiktok"
    assert detail.updated_at == datetime(2026, 2, 5, 12, 30, tzinfo=UTC)
    assert detail.credentials is not None
    assert detail.credentials.tokmail_email == "coolcreator99@tokmail.io"
    assert detail.credentials.password == "xK9#mP2$vL7nQ4w"
    assert detail.credentials.social_credentials is not None
    assert detail.credentials.social_credentials.email == "coolcreator99@tokmail.io"
    assert detail.credentials.social_credentials.password == "Tr3nd!Set_42x"
    assert detail.last_verification_code == "482937"
    assert detail.current_cm_id == "cm_abc123"


def test_list_bundles_example_parses_every_field() -> None:
    page = decode_page(answer("list_bundles"), Bundle)
    (bundle,) = page
    assert bundle.id == "b1a2c3d4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    assert bundle.title == "US TikTok Campaign Q1"
    assert bundle.bundle_type is BundleType.ACCOUNT_AND_VIDEOS
    assert bundle.platform is Platform.TIKTOK
    assert bundle.country == "USA"
    assert bundle.status is BundleStatus.ACCEPTED
    assert (bundle.videos_quantity, bundle.edits_quantity, bundle.used_edits) == (10, 2, 1)
    assert bundle.credit_cost == 50
    assert bundle.external_ref == "campaign-q1-2026"
    assert bundle.existing_account_id is None
    assert bundle.auto_finalize_videos is True
    assert bundle.wants_niche_warming is True
    assert bundle.wants_deep_warming is False
    assert bundle.wants_moderation is False
    assert bundle.created_at == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    assert bundle.updated_at == datetime(2026, 2, 1, 14, 30, tzinfo=UTC)
    videos = bundle.videos
    assert videos is not None
    assert (videos.total, videos.pending, videos.configured) == (10, 3, 2)
    assert (videos.published, videos.accepted, videos.finalized) == (5, 0, 0)
    assert page.pagination.per_page == 25


def test_verification_code_example_parses() -> None:
    code = decode_data(answer("verification_code"), VerificationCode)
    assert code.account_id == "9f3a7b2e-1c4d-4e8f-a5b6-7d9e0f1a2b3c"
    assert code.verification_code == "482937"
    assert code.source is CodeSource.EMAIL


def test_code_not_found_example_becomes_its_own_error_whatever_the_status() -> None:
    for status in (404, 400, 422, 200 + 200):
        error = error_for(answer("verification_code_not_found", status=status))
        assert isinstance(error, VerificationCodeNotFoundError), status
        assert error.status == status
        assert error.code == "VERIFICATION_CODE_NOT_FOUND"
        assert error.request_id == "req_seed"
        assert error.message.startswith("No verification code found in the inbox.")
