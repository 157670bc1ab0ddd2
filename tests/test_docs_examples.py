"""Every example of the README and of the documentation runs, as written, against a sandbox.

A page's Python examples run one after another in one namespace, as a reader types them
into ``python -m asyncio`` (whose prompt accepts a top-level ``await``): an example that
awaits runs on one event loop kept for the page, one that does not runs as plain code
(``asyncio.run(main())`` included). A page whose examples define tests is one test module,
run by pytest in a fresh interpreter, as its reader would. The ``$`` lines of ``console``
examples run in bash. Each page gets a fresh sandbox, reached through
``TOKPORTAL_API_KEY`` and ``TOKPORTAL_BASE_URL``, with ``ACCOUNT_ID`` its first account
(and ``TOKPORTAL_WEBHOOK_SECRET`` a made-up secret).

``bash`` blocks are what these tests cannot run: installing from a registry, or a server
that serves until Ctrl+C. CI runs the README's install and test commands itself.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from tokportal_async import AsyncTokPortal, TokPortal
from tokportal_async.sandbox import serve_in_thread

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: What a fence may say it holds: run (python, console), or not (the rest).
LANGUAGES = {"python", "console", "bash", "text"}
EXPECTED_EXIT = re.compile(r"#\s*exits (\d+)")


@attrs.frozen
class Example:
    page: Path
    line: int
    language: str
    source: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples_of(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    return [
        Example(page, text.count("\n", 0, match.start()) + 2, match[1], match[2])
        for match in FENCE.finditer(text)
    ]


RUNNABLE = [
    page
    for page in PAGES
    if any(example.language in ("python", "console") for example in examples_of(page))
]


def test_every_example_says_what_it_holds() -> None:
    for page in PAGES:
        for example in examples_of(page):
            assert example.language in LANGUAGES, f"{example.where}: ```{example.language}"


def test_the_readme_and_the_docs_have_examples_to_run() -> None:
    names = {page.name for page in RUNNABLE}
    assert {"README.md", "bulk.md", "credentials.md", "testing.md", "cli.md"} <= names


def _run_python(example: Example, namespace: dict[str, Any], portal: BlockingPortal) -> None:
    code = compile(
        example.source,
        example.where,
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    if code.co_flags & inspect.CO_COROUTINE:  # it awaits, as at python -m asyncio's prompt
        portal.call(_awaited, code, namespace)
    else:
        exec(code, namespace)  # noqa: S102 - the documentation's own example


async def _awaited(code: Any, namespace: dict[str, Any]) -> None:
    await eval(code, namespace)  # noqa: S307 - the documentation's own example


def _close_what_was_left(namespace: dict[str, Any], portal: BlockingPortal) -> None:
    """Examples that end with a client open (a page's session goes on) are closed here."""
    for value in namespace.values():
        if isinstance(value, AsyncTokPortal) and not value.is_closed:
            portal.call(value.aclose)
        elif isinstance(value, TokPortal):
            value.close()


def _run_as_test_module(examples: list[Example], directory: Path) -> None:
    module = directory / f"test_{examples[0].page.stem.replace('-', '_')}_examples.py"
    module.write_text("\n\n".join(e.source for e in examples), encoding="utf-8")
    tests = sum(len(re.findall(r"^(?:async )?def test_", e.source, re.M)) for e in examples)
    result = subprocess.run(  # noqa: S603 - pytest, on the documentation's own tests
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
         str(module)],
        capture_output=True, text=True, timeout=300, check=False, cwd=directory,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tests} passed" in result.stdout


def _run_commands(example: Example, env: dict[str, str], directory: Path) -> None:
    for line in example.source.splitlines():
        if not line.startswith("$ "):
            continue  # what the command prints
        command = line[2:]
        expected = EXPECTED_EXIT.search(command)
        result = subprocess.run(  # noqa: S603 - bash, on the documentation's own command
            ["bash", "-c", command],  # noqa: S607 - bash from PATH, as the reader has it
            capture_output=True, text=True, timeout=120, check=False, cwd=directory, env=env,
        )  # fmt: skip
        code = int(expected[1]) if expected else 0
        assert result.returncode == code, f"{example.where}: {command}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{example.where}: {command}"


@pytest.mark.parametrize("page", RUNNABLE, ids=[page.name for page in RUNNABLE])
def test_the_examples_of_a_page_run_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = examples_of(page)
    python = [e for e in examples if e.language == "python"]
    with serve_in_thread(accounts=30) as sandbox:
        monkeypatch.setenv("TOKPORTAL_API_KEY", sandbox.api_key)
        monkeypatch.setenv("TOKPORTAL_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("TOKPORTAL_WEBHOOK_SECRET", "whsec_docs_example")
        monkeypatch.chdir(tmp_path)
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "ACCOUNT_ID": sandbox.state.accounts[0]["id"],
        }
        if any(re.search(r"^(?:async )?def test_", e.source, re.M) for e in python):
            _run_as_test_module(python, tmp_path)
            python = []
        with start_blocking_portal() as portal:
            namespace: dict[str, Any] = {"__name__": "__main__"}
            try:
                for example in examples:
                    if example.language == "console":
                        _run_commands(example, env, tmp_path)
                    elif example in python:
                        _run_python(example, namespace, portal)
            finally:
                _close_what_was_left(namespace, portal)
