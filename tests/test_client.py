"""Constructing the client, its settings, its headers and its lifecycle."""

from __future__ import annotations

import enum

import aiohttp
import pytest

from tokportal_async import AsyncTokPortal, __version__
from tokportal_async.sandbox import Sandbox

from .conftest import client_for

pytestmark = pytest.mark.anyio


def test_missing_key_names_the_environment_variable() -> None:
    with pytest.raises(ValueError, match="TOKPORTAL_API_KEY"):
        AsyncTokPortal()


def test_blank_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        AsyncTokPortal("   ")


def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKPORTAL_API_KEY", "sk_" + "a" * 64)
    monkeypatch.setenv("TOKPORTAL_BASE_URL", "http://127.0.0.1:9/api/ext/")
    tp = AsyncTokPortal()
    assert tp.base_url == "http://127.0.0.1:9/api/ext"


def test_default_base_url() -> None:
    assert AsyncTokPortal("k").base_url == "https://app.tokportal.com/api/ext"


def test_argument_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKPORTAL_BASE_URL", "https://env.example/api/ext")
    assert AsyncTokPortal("k", base_url="https://arg.example/x").base_url == (
        "https://arg.example/x"
    )


@pytest.mark.parametrize(
    "base_url", ["http://api.tokportal.example/api/ext", "http://10.0.0.8/x", "ftp://host/x", "/x"]
)
def test_insecure_or_odd_base_url_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AsyncTokPortal("k", base_url=base_url)


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000/api/ext", "http://localhost/api", "http://[::1]:80/x"]
)
def test_plain_http_is_allowed_on_loopback(base_url: str) -> None:
    AsyncTokPortal("k", base_url=base_url)


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_bad_max_retries_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AsyncTokPortal("k", max_retries=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -5, True, "10"])
def test_bad_timeout_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        AsyncTokPortal("k", timeout=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="connect_timeout"):
        AsyncTokPortal("k", connect_timeout=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, True, "10", float("nan")])
def test_bad_retry_deadline_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="retry_deadline"):
        AsyncTokPortal("k", retry_deadline=value)  # type: ignore[arg-type]


def test_client_can_be_built_outside_an_event_loop() -> None:
    # aiohttp refuses to create a session without a running loop: we must not create one.
    tp = AsyncTokPortal("k", max_retries=0, timeout=5)
    assert tp.max_retries == 0
    assert not tp.is_closed


async def test_identifies_itself_in_headers(tp: AsyncTokPortal, sandbox: Sandbox) -> None:
    await tp.accounts.list()
    headers = sandbox.state.last_request().headers
    assert headers["User-Agent"] == f"tokportal-async/{__version__}"
    assert headers["X-TokPortal-Client"] == f"tokportal-async/{__version__}"
    assert headers["Accept"] == "application/json"


async def test_works_without_async_with_until_closed(sandbox: Sandbox) -> None:
    tp = client_for(sandbox)
    assert len(await tp.accounts.list()) == 25
    await tp.aclose()
    assert tp.is_closed
    await tp.aclose()  # twice is fine


async def test_used_after_close_raises_runtime_error(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as tp:
        await tp.accounts.list()
    with pytest.raises(RuntimeError, match="closed"):
        await tp.accounts.list()
    with pytest.raises(RuntimeError, match="closed"):
        await tp.accounts.get("x")
    with pytest.raises(RuntimeError, match="closed"):
        async with tp:
            pass
    assert len(sandbox.state.requests) == 1


async def test_owned_session_is_closed(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as tp:
        await tp.accounts.list()
        session = tp._transport._session
        assert session is not None
        assert not session.closed
    assert session.closed


async def test_injected_session_is_used_and_never_closed(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession(headers={"X-Trace": "mine"}) as session:
        async with AsyncTokPortal(
            sandbox.api_key, base_url=sandbox.base_url, session=session
        ) as tp:
            assert len(await tp.accounts.list(per_page=3)) == 3
        assert not session.closed
        assert sandbox.state.last_request().headers["X-Trace"] == "mine"
        # The key is sent per request, never stored on the user's session.
        assert "X-API-Key" not in session.headers
        async with session.get(sandbox.base_url + "/accounts") as response:
            assert response.status == 401


def test_injected_session_must_be_a_client_session() -> None:
    with pytest.raises(ValueError, match="session"):
        AsyncTokPortal("k", session=object())  # type: ignore[arg-type]


async def test_many_concurrent_first_requests_share_one_session(sandbox: Sandbox) -> None:
    import anyio

    tp = client_for(sandbox)
    sessions = set()

    async def one() -> None:
        await tp.accounts.list(per_page=1)
        sessions.add(id(tp._transport._session))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(one)
    await tp.aclose()
    assert len(sessions) == 1


@pytest.mark.parametrize("key", ["sk_a\rb", "sk_a\nb", "sk_a\x00b", "sk_a\x7fb", "sk_\x1bx"])
def test_a_key_with_control_characters_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(ValueError, match="control character") as caught:
        AsyncTokPortal(key)
    assert key not in str(caught.value)
    assert key.split("_")[1] not in str(caught.value)


def test_a_key_with_a_trailing_newline_is_trimmed() -> None:
    AsyncTokPortal("sk_abc\n")  # as read from a file: trimmed, not refused


@pytest.mark.parametrize(
    "base_url",
    ["https://user:s3cret-pass@app.tokportal.com/api/ext", "http://user@127.0.0.1:8000/api"],
)
def test_credentials_in_base_url_are_refused_without_echoing_them(base_url: str) -> None:
    with pytest.raises(ValueError, match="user name or password") as caught:
        AsyncTokPortal("k", base_url=base_url)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://api.localhost/x", "http://localhost.evil.example/x", "http://127.0.0.1.nip.io/x"],
)
def test_plain_http_is_refused_for_names_that_only_look_local(base_url: str) -> None:
    with pytest.raises(ValueError, match="plain http"):
        AsyncTokPortal("k", base_url=base_url)


def test_every_exported_class_is_named_by_the_public_module() -> None:
    import tokportal_async

    classes = [
        getattr(tokportal_async, name)
        for name in tokportal_async.__all__
        if isinstance(getattr(tokportal_async, name), type)
    ]
    assert len(classes) > 40
    for cls in classes:
        assert cls.__module__ == "tokportal_async", cls
        if not issubclass(cls, enum.Enum):  # an enum's repr names no module at all
            assert repr(cls) == f"<class 'tokportal_async.{cls.__qualname__}'>"


def test_a_traceback_names_the_public_module() -> None:
    import traceback

    from tokportal_async import NotFoundError

    error = NotFoundError("No such account", status=404, code="SAVED_ACCOUNT_NOT_FOUND")
    last = traceback.format_exception(error)[-1]
    assert last.startswith("tokportal_async.NotFoundError: No such account")
