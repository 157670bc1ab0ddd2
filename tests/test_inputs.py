"""Bad input fails with a clear ValueError before any request; ids stay in their segment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tokportal_async import AsyncTokPortal, NotFoundError
from tokportal_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

Call = Callable[[AsyncTokPortal], Awaitable[Any]]
#: Values of the wrong type, passed as users without a type checker would.
WRONG_TYPE: dict[object, Any] = {"10": "10", "yes": "yes", None: None}


async def _drain(iterator: Any) -> None:
    async for _ in iterator:
        pass


BAD_CALLS: list[tuple[str, Call, str]] = [
    ("per_page=0", lambda tp: tp.accounts.list(per_page=0), "per_page"),
    ("per_page=101", lambda tp: tp.accounts.list(per_page=101), "per_page"),
    ("per_page=True", lambda tp: tp.accounts.list(per_page=True), "per_page"),
    ("per_page='10'", lambda tp: tp.accounts.list(per_page=WRONG_TYPE["10"]), "per_page"),
    ("page=0", lambda tp: tp.accounts.list(page=0), "page"),
    ("page=-1", lambda tp: tp.accounts.bundles("x", page=-1), "page"),
    ("bundles per_page=500", lambda tp: tp.accounts.bundles("x", per_page=500), "per_page"),
    ("banned='yes'", lambda tp: tp.accounts.list(banned=WRONG_TYPE["yes"]), "banned"),
    ("platform=''", lambda tp: tp.accounts.list(platform=""), "platform"),
    ("country=' '", lambda tp: tp.accounts.list(country=" "), "country"),
    ("status=''", lambda tp: tp.accounts.bundles("x", status=""), "status"),
    ("get('')", lambda tp: tp.accounts.get(""), "account_id"),
    ("get('   ')", lambda tp: tp.accounts.get("   "), "account_id"),
    ("get('.')", lambda tp: tp.accounts.get("."), "account_id"),
    ("get('..')", lambda tp: tp.accounts.get(".."), "account_id"),
    ("get(None)", lambda tp: tp.accounts.get(WRONG_TYPE[None]), "account_id"),
    ("bundles('..')", lambda tp: tp.accounts.bundles(".."), "account_id"),
    ("code('')", lambda tp: tp.accounts.verification_code(""), "account_id"),
    ("code accept ''", lambda tp: tp.accounts.verification_code("x", accept_policy=""), "policy"),
    ("wait('.')", lambda tp: tp.accounts.wait_for_verification_code("."), "account_id"),
    (
        "wait timeout<0",
        lambda tp: tp.accounts.wait_for_verification_code("x", timeout=-1),
        "timeout",
    ),
    (
        "wait interval=0",
        lambda tp: tp.accounts.wait_for_verification_code("x", interval=0),
        "interval",
    ),
    ("iter per_page=0", lambda tp: _drain(tp.accounts.iter(per_page=0)), "per_page"),
    ("pages per_page=101", lambda tp: _drain(tp.accounts.pages(per_page=101)), "per_page"),
    ("iter_bundles('')", lambda tp: _drain(tp.accounts.iter_bundles("")), "account_id"),
    (
        "iter_bundles per_page=0",
        lambda tp: _drain(tp.accounts.iter_bundles("x", per_page=0)),
        "per_page",
    ),
]


@pytest.mark.parametrize(("case", "call", "named"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
async def test_bad_input_raises_value_error_before_any_request(
    tp: AsyncTokPortal, sandbox: Sandbox, case: str, call: Call, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        await call(tp)
    assert len(sandbox.state.requests) == 0, case


@pytest.mark.parametrize(
    "hostile_id",
    ["a/b", "x/bundles", "../accounts", "..%2F..", "x?platform=tiktok", "x#frag", "x y", "%2e%2e"],
)
async def test_ids_are_percent_encoded_into_one_segment(
    tp: AsyncTokPortal, sandbox: Sandbox, hostile_id: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await tp.accounts.get(hostile_id)
    assert caught.value.code == "SAVED_ACCOUNT_NOT_FOUND"
    assert caught.value.details == {"id": hostile_id}  # arrived whole, as one path segment
    request = sandbox.state.last_request()
    assert request.query == {}
    assert request.path.count("/") == "/api/ext/accounts/x".count("/")


async def test_hostile_id_in_bundles_stays_in_its_segment(
    tp: AsyncTokPortal, sandbox: Sandbox
) -> None:
    with pytest.raises(NotFoundError):
        await tp.accounts.bundles("../../accounts?x=1")
    assert sandbox.state.last_request().path.endswith("/bundles")


UNDECLARED: list[tuple[str, Call]] = [
    ("accounts.list", lambda tp: tp.accounts.list(platfrom="tiktok")),  # type: ignore[call-arg]
    ("accounts.iter", lambda tp: _drain(tp.accounts.iter(statu="x"))),  # type: ignore[call-arg]
    ("bundles", lambda tp: tp.accounts.bundles("x", platform="tiktok")),  # type: ignore[call-arg]
    ("bans.pages", lambda tp: _drain(tp.account_bans.pages(banned=True))),  # type: ignore[call-arg]
]


@pytest.mark.parametrize(("case", "call"), UNDECLARED, ids=[c[0] for c in UNDECLARED])
async def test_a_filter_no_list_declares_is_a_type_error_before_any_request(
    tp: AsyncTokPortal, sandbox: Sandbox, case: str, call: Call
) -> None:
    # The filters are **kwargs typed by a TypedDict: a misspelt one must fail as loudly
    # as an unknown keyword argument would, not be dropped from the query.
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        await call(tp)
    assert len(sandbox.state.requests) == 0, case
