"""A client made before ``os.fork()`` works in the child, and exit never waits for the
parent's threads: in a plain child, in a ``multiprocessing`` pool, and for the async client.

The children run in subprocesses of their own (a script that forks), so the test process
itself never forks while it has threads.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from tokportal_async.sandbox import Sandbox, serve_in_thread

#: A guard against hangs, far above an honest run: hitting it is the failure.
HANG_GUARD = 60


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=30) as running:
        yield running


def run(script: str, sandbox: Sandbox) -> subprocess.CompletedProcess[str]:
    prologue = (
        "import os, sys, asyncio, multiprocessing\n"
        "from tokportal_async import AsyncTokPortal, TokPortal\n"
        f"KEY, URL = {sandbox.api_key!r}, {sandbox.base_url!r}\n"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, "-W", "error", "-W", "ignore::DeprecationWarning", "-c",
         prologue + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )  # fmt: skip


def test_a_blocking_client_made_before_a_fork_works_in_the_child(sandbox: Sandbox) -> None:
    result = run(
        """
        tp = TokPortal(KEY, base_url=URL)
        parent_total = tp.accounts.list().pagination.total
        pid = os.fork()
        if pid == 0:
            print("child", tp.accounts.list(per_page=5).pagination.total, flush=True)
            sys.exit(0)  # a normal exit: atexit and finalizers run
        _, status = os.waitpid(pid, 0)
        print("parent", parent_total, tp.accounts.list().pagination.total, status, flush=True)
        tp.close()
        """,
        sandbox,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split("\n")[:2]) == ["child 30", "parent 30 30 0"]


def test_a_child_that_never_uses_the_client_exits(sandbox: Sandbox) -> None:
    result = run(
        """
        tp = TokPortal(KEY, base_url=URL)
        tp.accounts.list()
        pid = os.fork()
        if pid == 0:
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("child exited", status)
        """,
        sandbox,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exited 0"


def test_a_pool_with_a_module_level_client_returns(sandbox: Sandbox) -> None:
    result = run(
        """
        tp = TokPortal(KEY, base_url=URL)
        tp.accounts.list()  # the loop thread and pool exist before the workers fork

        def username(account_id):
            return tp.accounts.get(account_id).username

        ids = [a.id for a in tp.accounts.iter()][:8]
        with multiprocessing.get_context("fork").Pool(3) as pool:
            names = pool.map(username, ids)
        print(len(names), len(set(names)), names == [tp.accounts.get(i).username for i in ids])
        """,
        sandbox,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8 8 True"


def test_an_async_client_used_before_a_fork_works_in_the_child(sandbox: Sandbox) -> None:
    result = run(
        """
        tp = AsyncTokPortal(KEY, base_url=URL)

        async def total():
            return (await tp.accounts.list()).pagination.total

        loop = asyncio.new_event_loop()
        print("parent", loop.run_until_complete(total()), flush=True)
        pid = os.fork()
        if pid == 0:
            async def in_child():
                async with tp:
                    return await total()
            print("child", asyncio.run(in_child()), flush=True)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("parent again", loop.run_until_complete(total()), status, flush=True)
        loop.run_until_complete(tp.aclose())
        loop.close()
        """,
        sandbox,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "parent 30"
    assert sorted(lines[1:]) == ["child 30", "parent again 30 0"]


def test_a_session_passed_in_before_a_fork_is_refused_in_the_child(sandbox: Sandbox) -> None:
    result = run(
        """
        import aiohttp

        loop = asyncio.new_event_loop()

        async def make():
            return aiohttp.ClientSession()

        session = loop.run_until_complete(make())
        tp = AsyncTokPortal(KEY, base_url=URL, session=session)
        loop.run_until_complete(tp.accounts.list())
        pid = os.fork()
        if pid == 0:
            async def in_child():
                try:
                    await tp.accounts.list()
                except RuntimeError as error:
                    print("child:", "os.fork()" in str(error), flush=True)
            asyncio.run(in_child())
            os._exit(0)
        os.waitpid(pid, 0)
        loop.run_until_complete(session.close())
        loop.close()
        """,
        sandbox,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child: True"
