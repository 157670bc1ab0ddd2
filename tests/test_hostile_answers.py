"""Money and secrets under answers that are wrong in ways a real server can be: a paid
answer without its id, nested objects of the wrong type, a timestamp in lower case, a
decoding failure in an answer full of passwords, a body the encoder refuses."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tokportal_async import (
    APIResponseValidationError,
    AsyncTokPortal,
    BadRequestError,
    InsufficientCreditsError,
    NotFoundError,
)
from tokportal_async._converter import DecodeError, structure
from tokportal_async._models import AccountBan, AccountDetail, Bundle, Credentials
from tokportal_async.sandbox import Sandbox
from tokportal_async.sandbox._options import DEFAULT_CREDITS

from .conftest import client_for
from .hostile import ACCOUNT_ID, CODE, DETAIL, KEY
from .scripted import Reply, scripted_server

pytestmark = pytest.mark.anyio

API_KEY = "sk_live_frame_locals_key_0123456789"
ASKED = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"  # upper case, as a user may hold it
CANONICAL = ASKED.lower()
PASSWORD, SOCIAL_PASSWORD = "Tr0ub4dor&3-inbox", "correct-horse-battery-social"


def _credentials(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": CANONICAL,
        "tokmail_email": "a@tokmail.io",
        "password": PASSWORD,
        "social_credentials": {"email": "a@tokmail.io", "password": SOCIAL_PASSWORD},
    }
    data.update(changes)
    return {"data": data}


def _client(base_url: str) -> AsyncTokPortal:
    return AsyncTokPortal(API_KEY, base_url=base_url, rate_limiter=False, max_retries=0)


# Money: a paid answer is never thrown away for naming no account.


@pytest.mark.parametrize(
    "answer",
    [
        _credentials(account_id=None),
        {"data": {k: v for k, v in _credentials()["data"].items() if k != "account_id"}},
        _credentials(),  # the canonical lower-case id for an upper-case one asked
    ],
    ids=["null-id", "absent-id", "id-in-another-case"],
)
async def test_a_paid_reveal_is_kept_when_its_answer_names_no_other_account(
    answer: dict[str, Any],
) -> None:
    async with scripted_server(Reply(json=answer)) as server, _client(server.base_url) as tp:
        for _ in range(2):  # and again: every later call is kept too
            credentials = await tp.accounts.reveal_credentials(ASKED)
            assert credentials.password == PASSWORD
            assert credentials.social_credentials is not None
            assert credentials.social_credentials.password == SOCIAL_PASSWORD


async def test_a_verification_code_without_its_id_carries_the_id_asked_for() -> None:
    answer = {"data": {"account_id": None, "verification_code": "123456", "source": "inbox"}}
    async with scripted_server(Reply(json=answer)) as server, _client(server.base_url) as tp:
        code = await tp.accounts.verification_code(ASKED)
    assert code.account_id == ASKED
    assert code.verification_code == "123456"


@pytest.mark.parametrize("other", ["another-account", "4F2504E0-4F89-11D3-9A0C-0305E82C3301"])
async def test_an_answer_about_another_account_is_still_refused(other: str) -> None:
    answer = _credentials(account_id=other)
    async with scripted_server(Reply(json=answer)) as server, _client(server.base_url) as tp:
        with pytest.raises(APIResponseValidationError, match="another record"):
            await tp.accounts.reveal_credentials(ASKED)


def test_missing_credits_are_computed_when_the_server_gives_only_the_counts() -> None:
    error = InsufficientCreditsError(
        "Too few credits",
        status=402,
        code="INSUFFICIENT_CREDITS",
        details={"required": 150, "available": 40},
    )
    assert (error.required, error.available, error.missing) == (150, 40, 110)
    said = InsufficientCreditsError("x", status=402, details={"required": 5, "missing": 3})
    assert said.missing == 3  # the server's own figure wins
    unknown = InsufficientCreditsError("x", status=402, details={"required": 5})
    assert unknown.missing is None


# Decoding: a value of the wrong type is an error, never an empty model.


@pytest.mark.parametrize(
    ("data", "model", "field"),
    [
        ({"id": "b1", "account_id": "a1", "status": "pending", "resolution": "refund"},
         AccountBan, "resolution"),
        ({"id": "b1", "account_id": "a1", "status": "pending", "resolution": []},
         AccountBan, "resolution"),
        ({"password": "x", "social_credentials": "hidden"}, Credentials, "social_credentials"),
        ({"id": "a1", "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z",
          "credentials": "redacted"}, AccountDetail, "credentials"),
        ({"id": "u1", "status": "accepted", "created_at": "2026-01-01T00:00:00Z",
          "videos": "n/a"}, Bundle, "videos"),
    ],
)  # fmt: skip
def test_a_nested_object_of_the_wrong_type_is_an_error(
    data: dict[str, Any], model: type, field: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        structure(data, model, path="$.data")
    assert any(f"$.data.{field}" in line for line in caught.value.errors)


async def test_a_refund_sent_as_a_string_is_an_error_not_a_lost_refund() -> None:
    ban = {"id": "b1", "account_id": "a1", "status": "appeal_accepted", "resolution": "refund"}
    page = {"data": [ban], "pagination": {"page": 1, "per_page": 25, "total": 1,
                                          "total_pages": 1}}  # fmt: skip
    async with scripted_server(Reply(json=page)) as server, _client(server.base_url) as tp:
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.account_bans.list()
    assert caught.value.status == 200
    assert caught.value.request_id == "req_scripted_0001"
    assert any("resolution" in line for line in caught.value.errors)


@pytest.mark.parametrize(
    "stamp", ["2026-03-01T10:00:00z", "2026-03-01t10:00:00Z", "2026-03-01t10:00:00.5+01:00"]
)
def test_rfc3339_lower_case_letters_are_timestamps(stamp: str) -> None:
    ban = {"id": "b1", "account_id": "a1", "status": "pending", "updated_at": stamp}
    decoded = structure(ban, AccountBan)
    assert decoded.updated_at is not None
    assert decoded.updated_at.tzinfo is not None
    assert decoded.updated_at.astimezone(UTC).day == 1


# Secrets: no frame reachable from an error holds the key or a password.


def _shown(value: Any, depth: int, open_objects: bool) -> str:
    """What an error tracker keeps of a local: containers opened, other objects by repr
    (and, with ``open_objects``, their attributes too: stricter than any tracker)."""
    if depth <= 0:
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict):
        items = [f"{_shown(k, depth - 1, open_objects)}: {_shown(v, depth - 1, open_objects)}"
                 for k, v in value.items()]  # fmt: skip
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(_shown(v, depth - 1, open_objects) for v in value) + "]"
    shown = repr(value)
    if open_objects and not isinstance(value, type):
        fields = getattr(value, "__dict__", None) or {
            name: getattr(value, name)
            for name in getattr(type(value), "__slots__", ())
            if hasattr(value, name)
        }
        shown += _shown(dict(fields), depth - 1, open_objects)
    return shown


TESTS = str(Path(__file__).parent)


def reachable_locals(error: BaseException, *, open_objects: bool = False) -> str:
    """Every local of every frame of every traceback reachable from ``error``.

    Except the frames of the tests themselves, which hold the answers they scripted.
    """
    parts: list[str] = []
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        parts += [repr(exc), str(exc), _shown(vars(exc), 4, open_objects)]
        tb = exc.__traceback__
        while tb is not None:
            if not tb.tb_frame.f_code.co_filename.startswith(TESTS):
                parts += [_shown(v, 4, open_objects) for v in tb.tb_frame.f_locals.values()]
            tb = tb.tb_next
        pending += [e for e in (exc.__cause__, exc.__context__) if e is not None]
        pending += list(getattr(exc, "exceptions", ()))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "body",
    [
        {"when": datetime(2026, 1, 1, tzinfo=UTC)},
        {"tags": {"a", "b"}},
        {"raw": b"bytes"},
        {"ratio": math.nan},
        {"ratio": math.inf},
        "cycle",
    ],
    ids=["datetime", "set", "bytes", "nan", "inf", "cycle"],
)
async def test_a_body_that_is_not_json_is_a_value_error_whose_frames_hold_no_key(
    body: Any,
) -> None:
    if body == "cycle":
        body = {}
        body["self"] = body
    async with scripted_server(Reply(json={"data": {}})) as server, _client(server.base_url) as tp:
        with pytest.raises(ValueError, match="json") as caught:
            await tp.request("POST", "/accounts/x/edit-request", json=body)
        assert server.received == []  # refused before any request
    assert API_KEY not in reachable_locals(caught.value)


@pytest.mark.parametrize(
    "bad",
    [
        _credentials(tokmail_email=12345),
        _credentials(social_credentials={"email": "a@tokmail.io", "password": 7}),
        _credentials(social_credentials="hidden"),
        {"data": "not an object", "password": PASSWORD},
    ],
    ids=["wrong-type", "nested-wrong-type", "nested-string", "data-not-object"],
)
async def test_a_reveal_that_fails_decoding_leaves_no_password_in_any_frame(
    bad: dict[str, Any],
) -> None:
    async with scripted_server(Reply(json=bad)) as server, _client(server.base_url) as tp:
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.reveal_credentials(CANONICAL)
    assert caught.value.status == 200
    assert caught.value.request_id == "req_scripted_0001"
    text = reachable_locals(caught.value, open_objects=True)
    assert PASSWORD not in text
    assert SOCIAL_PASSWORD not in text


async def test_a_reveal_whose_body_is_not_json_leaves_no_password_in_any_frame() -> None:
    broken = Reply(body=f'{{"data": {{"password": "{PASSWORD}", '.encode())
    async with scripted_server(broken) as server, _client(server.base_url) as tp:
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.reveal_credentials(CANONICAL)
    assert PASSWORD not in reachable_locals(caught.value, open_objects=True)


@pytest.mark.parametrize("method", ["TRACE", "trace", "CONNECT", "TRACK"])
async def test_methods_that_echo_or_tunnel_are_refused(method: str) -> None:
    async with scripted_server(Reply(json={})) as server, _client(server.base_url) as tp:
        with pytest.raises(ValueError, match="refused"):
            await tp.request(method, "/accounts")
        assert server.received == []


@pytest.mark.parametrize(
    "since",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=["year-1-east", "max-west"],
)
async def test_a_since_out_of_range_in_utc_is_a_value_error_before_any_request(
    since: datetime,
) -> None:
    async with scripted_server(Reply(json={})) as server, _client(server.base_url) as tp:
        with pytest.raises(ValueError, match="since is out of range"):
            await tp.account_bans.list(since=since)
        assert server.received == []


async def test_the_sandbox_refuses_an_acceptance_with_a_blank_version() -> None:
    """The SDK never sends a blank version; the sandbox refuses one as TokPortal would."""
    async with Sandbox(accounts=1) as sandbox, client_for(sandbox) as tp:
        account = sandbox.state.accounts[0]["id"]
        with pytest.raises(BadRequestError, match="policy_version") as caught:
            await tp.request(
                "POST",
                f"/accounts/{account}/reveal-credentials",
                json={"acknowledge_support_forfeit": True, "policy_version": "  "},
            )
        assert caught.value.status == 400
        assert sandbox.state.credits == DEFAULT_CREDITS  # nothing charged


async def test_a_seed_detail_that_fails_decoding_leaves_no_password_in_any_frame() -> None:
    """The original page's details carry credentials: the same care as a reveal."""
    detail = {"data": {"id": CANONICAL, "platform": "tiktok", "created_at": 7,
                       "credentials": _credentials()["data"]}}  # fmt: skip
    async with scripted_server(Reply(json=detail)) as server, _client(server.base_url) as tp:
        with pytest.raises(APIResponseValidationError) as caught:
            await tp.accounts.get(CANONICAL)
    text = reachable_locals(caught.value, open_objects=True)
    assert PASSWORD not in text
    assert SOCIAL_PASSWORD not in text


async def test_an_operation_the_sandbox_does_not_play_says_so() -> None:
    async with Sandbox(accounts=1) as sandbox, client_for(sandbox) as tp:
        with pytest.raises(NotFoundError) as caught:
            await tp.request("GET", "/bundles/b_1/videos")
    assert caught.value.code == "SANDBOX_ENDPOINT_NOT_SERVED"
    assert "sandbox does not serve GET /bundles/b_1/videos" in str(caught.value)
    assert "check base_url" not in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("GET", "/bundles/b_1/videos")


# -- get(id) returns that id ----------------------------------------------------------------------

OTHER = "00000000-0000-4000-8000-00000000beef"


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        ("get", {"data": {**DETAIL["data"], "id": OTHER}}),
        ("verification_code", {"data": {**CODE["data"], "account_id": OTHER}}),
        ("reveal_credentials", {"data": {"account_id": OTHER, "password": "p"}}),
    ],
)
async def test_an_answer_about_another_account_is_refused(call: str, answer: Any) -> None:
    async with (
        scripted_server(Reply(json=answer)) as server,
        AsyncTokPortal(KEY, base_url=server.base_url) as tp,
    ):
        with pytest.raises(APIResponseValidationError) as caught:
            await getattr(tp.accounts, call)(ACCOUNT_ID)
    assert caught.value.request_id == "req_scripted_0001"
    assert OTHER not in str(caught.value)  # someone else's id is not repeated


async def test_credentials_that_name_no_account_are_accepted() -> None:
    answer = {"data": {"tokmail_email": "a@tokmail.io", "password": "p"}}
    async with (
        scripted_server(Reply(json=answer)) as server,
        AsyncTokPortal(KEY, base_url=server.base_url) as tp,
    ):
        assert (await tp.accounts.reveal_credentials(ACCOUNT_ID)).password == "p"
