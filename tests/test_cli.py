"""The command line, run as a user runs it: a subprocess, against a sandbox."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tokportal_async._install import hint_for
from tokportal_async.sandbox import Sandbox, SandboxState, serve_in_thread

from .cli_run import against, cli
from .scripted import refused_base_url, silent_server

#: The data `--sandbox` serves: the default seed, the default 250 accounts.
DEFAULT_DATA = SandboxState()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=30) as running:
        yield running


def test_list_prints_json_and_nothing_else() -> None:
    result = cli("--sandbox", "accounts", "list", "--per-page", "5", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    payload = json.loads(result.stdout)
    assert [a["id"] for a in payload["data"]] == [a["id"] for a in DEFAULT_DATA.accounts[:5]]
    assert payload["pagination"] == {"page": 1, "per_page": 5, "total": 250, "total_pages": 50}


def test_list_all_as_json_lines_and_csv() -> None:
    lines = cli(
        "--sandbox", "accounts", "list", "--all", "--platform", "tiktok", "--format", "jsonl"
    )
    assert lines.returncode == 0, lines.stderr
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    expected = [a["id"] for a in DEFAULT_DATA.accounts if a["platform"] == "tiktok"]
    assert [r["id"] for r in records] == expected
    table = cli("--sandbox", "accounts", "list", "--all", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(rows) == 250
    assert rows[0]["created_at"].endswith("Z")


def test_table_is_readable() -> None:
    result = cli("--sandbox", "accounts", "list", "--per-page", "3", "--format", "table")
    header, *rows, where = result.stdout.splitlines()
    assert re.split(r"\s{2,}", header) == ["ID", "PLATFORM", "USERNAME", "COUNTRY", "PROFILE URL"]
    assert len(rows) == 3
    assert where == "page 1 of 84, 250 in all"  # one page of many says so


def test_an_empty_csv_still_has_its_header(sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[0]["id"]
    result = cli(
        *against(sandbox), "accounts", "bundles", account_id, "--status", "cancelled",
        "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (header,) = result.stdout.splitlines()
    assert header.split(",")[:3] == ["id", "status", "created_at"]
    assert "videos.total" in header.split(",")


def test_a_broken_pipe_exits_quietly() -> None:
    # `| head -1`: the reader takes one line and leaves while the export still writes.
    with subprocess.Popen(
        [sys.executable, "-W", "error", "-m", "tokportal_async", "--sandbox", "accounts",
         "export", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read()
        assert process.wait(timeout=120) == 0
    assert json.loads(first)["id"] == DEFAULT_DATA.accounts[0]["id"]
    assert errors == b""


def test_export_takes_the_filters_of_list(sandbox: Sandbox) -> None:
    result = cli(*against(sandbox), "accounts", "export", "--platform", "instagram")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [a["id"] for a in sandbox.state.accounts if a["platform"] == "instagram"]
    assert [r["id"] for r in records] == expected
    assert 0 < len(expected) < len(sandbox.state.accounts)


def test_get_prints_metadata_without_credentials() -> None:
    record = DEFAULT_DATA.accounts[0]
    result = cli("--sandbox", "accounts", "get", record["id"], "--format", "json")
    assert result.returncode == 0, result.stderr
    detail = json.loads(result.stdout)
    assert detail["id"] == record["id"]
    assert detail["banned"] is record["banned"]
    assert detail["credentials"] is None


def test_reveal_prints_the_terms_then_masks_secrets_unless_asked(sandbox: Sandbox) -> None:
    record = sandbox.state.accounts[0]
    password = record["credentials"]["password"]
    terms = cli(*against(sandbox), "accounts", "reveal", record["id"], "--format", "json")
    assert terms.returncode == 7
    assert terms.stdout == ""
    version = sandbox.state.policy_version
    cost = sandbox.state.policy_terms(record["id"])["expected_credit_cost"]
    assert f"--accept-policy {version}" in terms.stderr
    assert f"expected credit cost: {cost}" in terms.stderr
    assert "support" in terms.stderr
    assert sandbox.state.credits_charged == 0

    # Paying and then masking what was bought is refused before anything is sent.
    masked = cli(
        *against(sandbox), "accounts", "reveal", record["id"], "--accept-policy", version,
        "--format", "json",
    )  # fmt: skip
    assert masked.returncode == 2
    assert "add --show-secrets" in masked.stderr
    assert sandbox.state.credits_charged == 0
    bought = cli(
        *against(sandbox), "accounts", "reveal", record["id"], "--accept-policy", version,
        "--show-secrets", "--format", "json",
    )  # fmt: skip
    assert bought.returncode == 0, bought.stderr
    assert json.loads(bought.stdout)["password"] == password
    assert sandbox.state.credits_charged == cost
    again = cli(*against(sandbox), "accounts", "reveal", record["id"], "--format", "json")
    # acknowledged once: no --accept-policy needed again, no second charge, masked unasked
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["password"] == "***"
    assert password not in again.stdout
    assert sandbox.state.credits_charged == cost


def test_reveal_without_credits_exits_8(sandbox: Sandbox) -> None:
    record = next(
        a
        for a in sandbox.state.accounts
        if sandbox.state.policy_terms(a["id"])["expected_credit_cost"]
    )
    sandbox.state.credits = 10
    version = sandbox.state.policy_version
    result = cli(
        *against(sandbox), "accounts", "reveal", record["id"], "--accept-policy", version,
        "--show-secrets",
    )  # fmt: skip
    assert result.returncode == 8
    assert "INSUFFICIENT_CREDITS" in result.stderr
    assert "10 available" in result.stderr


def test_bans_list_and_banned_filter(sandbox: Sandbox) -> None:
    banned = [a["id"] for a in sandbox.state.accounts if a["banned"]]
    assert banned
    listed = cli(*against(sandbox), "accounts", "list", "--banned", "--all", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [a["id"] for a in json.loads(listed.stdout)] == banned
    bans = cli(*against(sandbox), "bans", "list", "--all", "--format", "json")
    assert bans.returncode == 0, bans.stderr
    assert sorted(b["account_id"] for b in json.loads(bans.stdout)) == sorted(banned)
    one = cli(*against(sandbox), "bans", "list", "--account", banned[0], "--format", "json")
    assert [b["account_id"] for b in json.loads(one.stdout)["data"]] == [banned[0]]
    late = cli(*against(sandbox), "bans", "list", "--since", "2999-01-01T00:00:00Z")
    assert late.returncode == 0, late.stderr
    naive = cli(*against(sandbox), "bans", "list", "--since", "2026-01-01T00:00:00")
    assert naive.returncode == 2
    assert "timezone" in naive.stderr


def test_bundles_with_open_slots() -> None:
    account_id = DEFAULT_DATA.accounts[0]["id"]
    result = cli("--sandbox", "accounts", "bundles", account_id, "--open-slots", "--format", "json")
    assert result.returncode == 0, result.stderr
    expected = [b["id"] for b in DEFAULT_DATA.bundles(account_id) if b["videos"]["pending"] > 0]
    assert [b["id"] for b in json.loads(result.stdout)] == expected


def test_code_is_masked_unless_asked(sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[0]["id"]
    sandbox.state.acknowledge(account_id)
    code = sandbox.state.trigger_verification_code(account_id, delay=0)
    masked = cli(*against(sandbox), "accounts", "code", account_id, "--format", "json")
    assert masked.returncode == 0, masked.stderr
    assert json.loads(masked.stdout)["verification_code"] == "***"
    assert "--show-secrets" in masked.stderr
    shown = cli(
        *against(sandbox), "accounts", "code", account_id, "--show-secrets", "--format", "json"
    )
    assert json.loads(shown.stdout) == {
        "account_id": account_id,
        "verification_code": code,
        "source": "cached",
    }


def test_code_waits_for_the_code(sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[1]["id"]
    # Here on the first poll: the waiting itself (every 5 s) is the client's, tested there.
    sandbox.state.trigger_verification_code(account_id, delay=0)
    version = sandbox.state.policy_version
    result = cli(
        *against(sandbox), "accounts", "code", account_id, "--wait", "30",
        "--accept-policy", version, "--show-secrets", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "email"
    posts = [r for r in sandbox.state.requests if r.path.endswith("/verification-code")]
    assert [bool(r.body) for r in posts] == [True] + [False] * (len(posts) - 1)


def test_export_details_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "accounts.jsonl"
    result = cli(
        "--sandbox",
        "accounts",
        "export",
        "--details",
        "--output",
        str(target),
        "--concurrency",
        "5",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "accounts reveal" in result.stderr  # details never reveal passwords
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in records] == [a["id"] for a in DEFAULT_DATA.accounts]
    assert {r["credentials"] for r in records} == {None}


def test_not_found_is_one_line_with_code_and_request_id() -> None:
    result = cli("--sandbox", "accounts", "get", "no-such-account")
    assert result.returncode == 4
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.count("SAVED_ACCOUNT_NOT_FOUND") == 1  # said once
    assert "request id req_" in line
    verbose = cli("--sandbox", "--verbose", "accounts", "get", "no-such-account")
    assert verbose.returncode == 4
    assert "Traceback" in verbose.stderr


def test_auth_errors_never_print_the_key(sandbox: Sandbox) -> None:
    wrong = "tok_live_" + "0" * 32
    result = cli("--api-key", wrong, "--base-url", sandbox.base_url, "accounts", "list")
    assert result.returncode == 3
    assert "AUTH_INVALID_KEY" in result.stderr
    assert wrong not in result.stderr + result.stdout
    missing = cli("accounts", "list")
    assert missing.returncode == 3
    assert "TOKPORTAL_API_KEY" in missing.stderr


def test_key_and_base_url_from_the_environment(sandbox: Sandbox) -> None:
    env = {"TOKPORTAL_API_KEY": sandbox.api_key, "TOKPORTAL_BASE_URL": sandbox.base_url}
    result = cli("accounts", "list", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pagination"]["total"] == 30


def test_rate_limited_exit_code() -> None:
    with serve_in_thread(accounts=3, rate_limit=1, rate_window=3600) as sandbox:
        assert cli(*against(sandbox), "accounts", "list").returncode == 0
        result = cli(*against(sandbox), "accounts", "list")
    assert result.returncode == 5
    assert "RATE_LIMIT_EXCEEDED" in result.stderr
    # What the server asked (up to the hour the bucket needs to refill), before the error.
    assert re.search(r"asks to wait \d+s before the next request", result.stderr)


def test_an_unknown_endpoint_names_the_url_tried(sandbox: Sandbox) -> None:
    base_url = sandbox.base_url.removesuffix("/api/ext")  # the usual mistake
    result = cli("--api-key", sandbox.api_key, "--base-url", base_url, "accounts", "list")
    assert result.returncode == 4
    assert f"no endpoint at {base_url}/accounts" in result.stderr
    assert "https://app.tokportal.com/api/ext" in result.stderr


def test_network_failure_exit_code() -> None:
    result = cli("--api-key", "k", "--base-url", refused_base_url(), "accounts", "list")
    assert result.returncode == 6
    assert "APIConnectionError" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert cli("accounts", "list", "--no-such-option").returncode == 2
    bad = cli("--sandbox", "accounts", "list", "--per-page", "500")
    assert bad.returncode == 2
    assert "per_page" in bad.stderr


def test_version_and_help() -> None:
    assert "tokportal-async" in cli("--version").stdout
    assert "accounts" in cli("--help").stdout


def test_without_the_extra_it_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from tokportal_async.cli import main\n"
        "sys.exit(main(['accounts', 'list']))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    # Installed from this clone (it is not on PyPI): the hint names the clone.
    root = Path(__file__).resolve().parent.parent
    assert f'{root}[cli]"' in result.stderr
    assert "pip install" in result.stderr


@pytest.mark.parametrize(
    ("origin", "hint"),
    [
        (None, 'pip install "tokportal-async[cli]"'),
        (
            {"url": "file:///home/me/tokportal%20async", "dir_info": {}},
            'pip install "/home/me/tokportal async[cli]"',
        ),
        (
            {"url": "file:///src/tp", "dir_info": {"editable": True}},
            'pip install -e "/src/tp[cli]"',
        ),
        (
            {"url": "https://example.com/tp.git", "vcs_info": {"vcs": "git", "commit_id": "ab12"}},
            'pip install "tokportal-async[cli] @ git+https://example.com/tp.git@ab12"',
        ),
        (
            {"url": "https://example.com/tp-0.1.0.tar.gz", "archive_info": {}},
            'pip install "tokportal-async[cli] @ https://example.com/tp-0.1.0.tar.gz"',
        ),
    ],
)
def test_the_install_hint_names_where_the_package_came_from(
    origin: dict[str, Any] | None, hint: str
) -> None:
    assert hint_for("cli", origin) == hint


def test_sandbox_command_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tokportal_async", "sandbox", "--port", "0", "--accounts", "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
        key, base_url = settings["TOKPORTAL_API_KEY"], settings["TOKPORTAL_BASE_URL"]
        result = cli(
            "--api-key", key, "--base-url", base_url, "accounts", "list", "--format", "json"
        )
        assert json.loads(result.stdout)["pagination"]["total"] == 7
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"], ids=["year-1", "max"]
)
def test_a_since_out_of_range_in_utc_is_one_line_and_exit_2(sandbox: Sandbox, since: str) -> None:
    result = cli(*against(sandbox), "bans", "list", "--since", since)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "out of range" in line
    assert "Traceback" not in result.stderr


@pytest.mark.anyio
async def test_ctrl_c_exits_130_with_one_line() -> None:
    """SIGINT while a request waits on a server that never answers."""
    received = anyio.Event()
    async with silent_server(on_request=received.set) as base_url:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-W", "error", "-m", "tokportal_async", "--api-key", "sk_" + "a" * 64,
            "--base-url", base_url, "accounts", "list",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("TOKPORTAL_")},
        )  # fmt: skip
        with anyio.fail_after(60):
            await received.wait()  # the command is inside its request: interrupt it there
            process.send_signal(signal.SIGINT)
            stdout, stderr = await process.communicate()
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines() == ["tokportal-async: interrupted"]
    assert stdout == b""


def test_https_against_http_names_the_reason(sandbox: Sandbox) -> None:
    https_url = sandbox.base_url.replace("http://", "https://")
    result = cli("--api-key", sandbox.api_key, "--base-url", https_url, "accounts", "list")
    assert result.returncode == 6
    assert "does not speak TLS; is the URL http?" in result.stderr
    assert "Certificate" not in result.stderr


@pytest.mark.parametrize("url", ["notaurl", "http://localhost:6379/0", "redis//typo"])
def test_a_bad_redis_url_is_a_usage_error(url: str) -> None:
    result = cli("--sandbox", "--redis", url, "accounts", "list")
    assert result.returncode == 2
    assert "Redis URL" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("missing", ["click", "anyio", "aiohttp", "cattrs", "attrs", "backoff"])
def test_a_missing_dependency_gets_the_install_hint(missing: str) -> None:
    """As in a clone run without installing: the module cannot be imported at all."""
    program = (
        "import sys; sys.modules[sys.argv[1]] = None\n"  # import of it raises ImportError
        "from tokportal_async.cli import main; sys.exit(main(['accounts', 'list']))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-W", "error", "-c", program, missing],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"{missing} is not installed" in line
    assert "pip install" in line
    assert "Traceback" not in result.stderr


def test_the_hint_for_an_uninstalled_clone_names_the_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    from tokportal_async import _install

    def not_installed(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    clone = Path(_install.__file__).resolve().parent.parent
    assert _install.install_hint("cli") == f'pip install -e "{clone}[cli]"'


def test_stage_acknowledge_and_code_set_the_scene_of_a_running_sandbox(sandbox: Sandbox) -> None:
    account_id = sandbox.state.accounts[2]["id"]
    refused = cli(*against(sandbox), "accounts", "code", account_id)
    assert refused.returncode == 7  # the live flow: accept first
    staged = cli(*against(sandbox), "stage", "acknowledge", account_id)
    assert staged.returncode == 0, staged.stderr
    assert account_id in sandbox.state.acknowledged
    sent = cli(*against(sandbox), "stage", "code", account_id)
    assert sent.returncode == 0, sent.stderr
    code = cli(*against(sandbox), "accounts", "code", account_id, "--show-secrets",
               "--format", "json")  # fmt: skip
    assert code.returncode == 0, code.stderr
    assert len(json.loads(code.stdout)["verification_code"]) == 6
    assert sandbox.state.credits_charged == 0  # staged, never charged


def test_changed_terms_say_so_and_name_the_option_not_python(sandbox: Sandbox) -> None:
    record = sandbox.state.accounts[3]
    result = cli(
        *against(sandbox), "accounts", "reveal", record["id"], "--accept-policy", "1999-01-01",
        "--show-secrets",
    )  # fmt: skip
    assert result.returncode == 7
    assert "changed since they were shown" in result.stderr
    assert "must accept TokPortal's terms for this account first" not in result.stderr
    assert f"--accept-policy {sandbox.state.policy_version}" in result.stderr
    assert "accept_policy=" not in result.stderr  # Python syntax, not a command line
    assert sandbox.state.credits_charged == 0


def test_csv_booleans_read_as_in_json(sandbox: Sandbox) -> None:
    result = cli(*against(sandbox), "accounts", "list", "--all", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["banned"] for row in rows} == {"true", "false"}


def test_table_headings_read_as_words(sandbox: Sandbox) -> None:
    result = cli(*against(sandbox), "bans", "list", "--format", "table")
    assert result.returncode == 0, result.stderr
    header = re.split(r"\s{2,}", result.stdout.splitlines()[0].strip())
    assert header == ["ID", "ACCOUNT ID", "USERNAME", "STATUS", "RESOLUTION", "UPDATED AT"]


def test_the_sandbox_command_helps_as_every_other_command() -> None:
    sandbox_help = cli("sandbox", "--help")
    list_help = cli("accounts", "list", "--help")
    assert sandbox_help.returncode == list_help.returncode == 0
    assert sandbox_help.stdout.startswith("Usage: tokportal-async sandbox [OPTIONS]")
    assert list_help.stdout.startswith("Usage: tokportal-async accounts list [OPTIONS]")
    assert "--fault-rate RATE" in sandbox_help.stdout
    assert "Share of requests (0-1)" in sandbox_help.stdout  # capitalised, as click's


@pytest.mark.parametrize(
    "command",
    ["accounts export --details", "accounts export", "accounts list --all --format json",
     "accounts export --details --format csv", "bans list --all --format jsonl"],
)  # fmt: skip
def test_a_reader_that_leaves_early_ends_the_command_quietly(command: str, tmp_path: Path) -> None:
    shell = (
        f"{sys.executable} -W error -m tokportal_async --sandbox {command} 2>stderr.txt "
        "| head -1 >/dev/null; echo ${PIPESTATUS[0]}; cat stderr.txt"
    )
    result = subprocess.run(  # noqa: S603 - a user's shell, running our own command
        ["/bin/bash", "-c", shell],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    status, *stderr = result.stdout.splitlines()
    assert status == "0"
    assert [line for line in stderr if not line.startswith("note: ")] == []


def test_stage_sends_an_id_as_one_path_segment(sandbox: Sandbox) -> None:
    """An id holding a slash is encoded as one segment, which the request path refuses
    before anything is sent: it never reaches another endpoint."""
    result = cli(*against(sandbox), "stage", "acknowledge", "a/../../accounts")
    assert result.returncode == 2
    assert "encoded slash" in result.stderr
    assert not [r for r in sandbox.state.requests if "_sandbox" in r.path]
