"""The blocking facade: generated, typed, and safe with threads, loops and Ctrl+C."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web

from tokportal_async import (
    AccountBans,
    Accounts,
    AsyncAccountBans,
    AsyncAccounts,
    AsyncCredits,
    AsyncTokPortal,
    Credits,
    TokPortal,
)
from tokportal_async._sync_runtime import PortalRunner
from tokportal_async.sandbox import Sandbox, serve_in_thread

from .scripted import silent_server

PORTAL_THREAD = "tokportal-async-portal"


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == PORTAL_THREAD]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=250) as running:
        yield running


@pytest.fixture
def tp(sandbox: Sandbox) -> Iterator[TokPortal]:
    with TokPortal(**sandbox.client_kwargs()) as client:
        yield client


# -- generated, and in step with the async API ----------------------------------------------


def test_generated_facade_is_up_to_date() -> None:
    generator = Path(__file__).resolve().parent.parent / "tools" / "codegen.py"
    check = subprocess.run(  # noqa: S603 - the project's own tool
        [sys.executable, str(generator), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr  # else run: python tools/codegen.py


def _public_methods(cls: type) -> dict[str, Any]:
    """Public methods, the inherited ones too (AsyncAccounts inherits AccountCare)."""
    return {
        name: inspect.getattr_static(cls, name)
        for name in dir(cls)
        if not name.startswith("_") and callable(inspect.getattr_static(cls, name))
    }


def _sync_annotation(annotation: Any) -> Any:
    if not isinstance(annotation, str):
        return annotation  # inspect.Parameter.empty, for self
    annotation = re.sub(r"AsyncGenerator\[(.*), None\]$", r"Iterator[\1]", annotation)
    return re.sub(r"\bAsync(Accounts|AccountBans|Credits)\b", r"\1", annotation)


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"),
    [(AsyncAccounts, Accounts), (AsyncAccountBans, AccountBans), (AsyncCredits, Credits)],
)
def test_every_async_method_has_a_sync_twin_with_the_same_signature(
    async_cls: type, sync_cls: type
) -> None:
    async_methods = _public_methods(async_cls)
    sync_methods = _public_methods(sync_cls)
    assert set(async_methods) == set(sync_methods)
    for name, async_method in async_methods.items():
        async_sig = inspect.signature(async_method)
        sync_sig = inspect.signature(sync_methods[name])
        assert list(async_sig.parameters) == list(sync_sig.parameters), name
        for param_name, async_param in async_sig.parameters.items():
            sync_param = sync_sig.parameters[param_name]
            assert sync_param.kind == async_param.kind, (name, param_name)
            assert sync_param.default == async_param.default, (name, param_name)
            assert sync_param.annotation == _sync_annotation(async_param.annotation)
        assert sync_sig.return_annotation == _sync_annotation(async_sig.return_annotation), name
        assert inspect.getdoc(sync_methods[name]), f"{name} lost its docstring"


def test_client_constructor_matches_less_session() -> None:
    async_params = dict(inspect.signature(AsyncTokPortal.__init__).parameters)
    del async_params["session"]
    sync_params = dict(inspect.signature(TokPortal.__init__).parameters)
    assert async_params.keys() == sync_params.keys()
    for name, param in async_params.items():
        assert (param.kind, param.default) == (sync_params[name].kind, sync_params[name].default)


def test_client_properties_are_mirrored() -> None:
    for name in ("base_url", "max_retries", "is_closed", "accounts"):
        assert hasattr(TokPortal, name), name


def test_static_types_survive(tmp_path: Path) -> None:
    from mypy import api

    example = tmp_path / "uses_facade.py"
    example.write_text(
        "from tokportal_async import TokPortal\n"
        "with TokPortal('k') as tp:\n"
        "    reveal_type(tp.accounts.get('x'))\n"
        "    reveal_type(tp.accounts.iter())\n"
        "    reveal_type(tp.accounts.list().data)\n"
        "    reveal_type(tp.accounts.wait_for_verification_code('x', timeout=3))\n"
    )
    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", os.devnull, str(example)]
    )
    assert "AccountDetail" in stdout, stdout + stderr
    assert 'Revealed type is "typing.Iterator[tokportal_async._models.Account]"' in stdout
    assert 'Revealed type is "list[tokportal_async._models.Account]"' in stdout
    assert 'Revealed type is "tokportal_async._models.VerificationCode"' in stdout
    assert "Any" not in stdout
    assert "error:" not in stdout
    assert status == 0, stdout + stderr


# -- iteration -------------------------------------------------------------------------------


def test_iterator_crosses_threads_once_per_page(
    tp: TokPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossings = 0
    original = PortalRunner.call

    def counting(self: PortalRunner, coro: Any) -> Any:
        nonlocal crossings
        crossings += 1
        return original(self, coro)

    monkeypatch.setattr(PortalRunner, "call", counting)
    accounts = list(tp.accounts.iter(per_page=100))
    assert len(accounts) == 250
    assert crossings == 4  # three pages, and the step that finds the end


def test_iterator_pulls_one_page_at_a_time(tp: TokPortal, sandbox: Sandbox) -> None:
    iterator = tp.accounts.iter(per_page=100)
    assert len(sandbox.state.requests) == 0
    next(iterator)
    assert len(sandbox.state.requests) == 1
    for _ in range(99):
        next(iterator)
    assert len(sandbox.state.requests) == 1
    next(iterator)
    assert len(sandbox.state.requests) == 2


def test_breaking_early_closes_the_generator_and_releases_the_connection(
    tp: TokPortal,
) -> None:
    for _account in tp.accounts.iter(per_page=10):
        break
    gc.collect()
    assert len(tp._runner._open_generators) == 0
    session = tp._async._transport._session
    assert session is not None
    assert len(session.connector._acquired) == 0  # type: ignore[union-attr]
    # ...and the client goes on working.
    assert len(tp.accounts.list(per_page=3)) == 3


def test_closing_the_client_closes_a_half_read_iterator(sandbox: Sandbox) -> None:
    tp = TokPortal(**sandbox.client_kwargs())
    iterator = tp.accounts.iter(per_page=10)
    next(iterator)
    tp.close()
    assert portal_threads() == []
    with pytest.raises(RuntimeError, match="closed"):
        list(iterator)  # the rest of the page in hand, then no more requests


# -- threads and lifecycle ---------------------------------------------------------------------


def test_one_client_is_safe_to_share_between_threads(tp: TokPortal, sandbox: Sandbox) -> None:
    ids = [a["id"] for a in sandbox.state.accounts[:60]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        details = list(pool.map(tp.accounts.get, ids))
    assert [d.id for d in details] == ids
    assert len(portal_threads()) == 1


def test_close_stops_the_portal_thread(sandbox: Sandbox) -> None:
    before = len(portal_threads())
    tp = TokPortal(**sandbox.client_kwargs())
    tp.accounts.list()
    assert len(portal_threads()) == before + 1
    tp.close()
    tp.close()
    assert len(portal_threads()) == before
    assert tp.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        tp.accounts.list()
    with pytest.raises(RuntimeError, match="closed"), tp:
        pass


def test_context_manager_stops_the_thread_even_on_error(sandbox: Sandbox) -> None:
    def fail_midway() -> None:
        with TokPortal(**sandbox.client_kwargs()) as tp:
            tp.accounts.list()
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_midway()
    assert portal_threads() == []


def test_forgotten_client_is_cleaned_up_when_collected(sandbox: Sandbox) -> None:
    tp = TokPortal(**sandbox.client_kwargs())
    tp.accounts.list()
    del tp
    gc.collect()
    assert portal_threads() == []


def test_bad_arguments_start_no_thread() -> None:
    with pytest.raises(ValueError, match="TOKPORTAL_API_KEY"):
        TokPortal()
    assert portal_threads() == []


# -- event loops and interruptions -------------------------------------------------------------


@pytest.mark.anyio
async def test_works_inside_a_running_event_loop(sandbox: Sandbox) -> None:
    # A notebook cell or an async test: the caller's loop is blocked meanwhile, but the
    # facade's own loop does the work, so this completes rather than deadlocks.
    with TokPortal(**sandbox.client_kwargs()) as tp:
        assert len(tp.accounts.list(per_page=2)) == 2


def test_calling_from_its_own_loop_raises_instead_of_deadlocking(tp: TokPortal) -> None:
    async def misuse() -> None:
        tp.accounts.list()

    with pytest.raises(RuntimeError, match="AsyncTokPortal"):
        tp._runner.call(misuse())


def test_keyboard_interrupt_during_a_call_does_not_hang() -> None:
    def interrupt() -> None:
        os.kill(os.getpid(), signal.SIGINT)

    async def serve_stalling(ready: list[str], done: anyio.Event) -> None:
        async with silent_server(on_request=interrupt) as base_url:
            ready.append(base_url)
            await done.wait()

    with anyio.from_thread.start_blocking_portal() as portal:
        done = portal.call(anyio.Event)
        ready: list[str] = []
        future = portal.start_task_soon(serve_stalling, ready, done)
        while not ready:
            portal.call(asyncio.sleep, 0)
        tp = TokPortal("k", base_url=ready[0], timeout=60, max_retries=0)
        with pytest.raises(KeyboardInterrupt):
            tp.accounts.list()
        tp.close()  # the cancelled request does not hold close() up
        portal.call(done.set)
        future.result()
    assert portal_threads() == []


@pytest.mark.parametrize("method", ["iter", "iter_details"])
def test_keyboard_interrupt_during_concurrent_iteration_is_a_keyboard_interrupt(
    method: str,
) -> None:
    """Ctrl+C while pages (or details) are fetched ahead: KeyboardInterrupt, nothing left."""
    stalled: list[str] = []
    cancelled: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/accounts") and request.query.get("page") == "1":
            accounts = [
                {"id": f"a{n}", "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"}
                for n in range(10)
            ]
            pagination = {"page": 1, "per_page": 10, "total": 50, "total_pages": 5}
            return web.json_response({"data": accounts, "pagination": pagination})
        stalled.append(request.path_qs)
        if len(stalled) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C while the requests are in flight
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(request.path_qs)  # the client gave up on it
            raise
        raise AssertionError("unreachable")

    async def serve(ready: list[str], done: anyio.Event) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, handle_signals=False, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.append(f"http://127.0.0.1:{runner.addresses[0][1]}/api/ext")
        try:
            await done.wait()
        finally:
            await runner.cleanup()

    with anyio.from_thread.start_blocking_portal() as portal:
        done = portal.call(anyio.Event)
        ready: list[str] = []
        future = portal.start_task_soon(serve, ready, done)
        while not ready:
            portal.call(asyncio.sleep, 0)
        tp = TokPortal("k", base_url=ready[0], max_retries=0, rate_limiter=False)
        with pytest.raises(KeyboardInterrupt):
            for _item in getattr(tp.accounts, method)(per_page=10, concurrency=4):
                pass
        tp.close()
        portal.call(done.set)
        future.result()
    assert stalled
    assert sorted(cancelled) == sorted(stalled)  # every request in flight was abandoned
    assert portal_threads() == []
