"""The commands with effects and ``credits``, run as a user runs them, against a sandbox."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tokportal_async.sandbox import RecordedRequest, Sandbox, serve_in_thread

from .cli_run import against, cli
from .staging import managed_account


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=5, credits=500) as running:
        yield running


def debits(sandbox: Sandbox) -> int:
    return sum(-t["amount"] for t in sandbox.state.care.transactions if t["amount"] < 0)


def test_rewarm_dry_run_prints_the_price_and_charges_nothing(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    result = cli(*against(sandbox), "accounts", "rewarm", account_id, "a", "b", "c", "--dry-run")
    assert result.returncode == 0, result.stderr
    charge = json.loads(result.stdout)["charge"]
    assert (charge["dry_run"], charge["credits_would_charge"]) == (True, 15)
    assert "would charge 15 credits; nothing was charged" in result.stderr
    assert sandbox.state.last_request("rewarm").headers["X-TokPortal-Dry-Run"] == "true"
    assert debits(sandbox) == 0


def test_rewarm_prints_the_charge_and_warming_shows_the_session(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    paid = cli(*against(sandbox), "accounts", "rewarm", account_id, "a", "b", "c")
    assert paid.returncode == 0, paid.stderr
    assert "charged 15 credits, 485 remaining" in paid.stderr
    assert json.loads(paid.stdout)["data"]["terms_total"] == 3
    listed = cli(*against(sandbox), "accounts", "warming", account_id, "--format", "jsonl")
    (session,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (session["status"], session["terms_verified"]) == ("completed", 3)


def test_bad_terms_are_a_usage_error_before_any_request(sandbox: Sandbox) -> None:
    result = cli(*against(sandbox), "accounts", "rewarm", managed_account(sandbox), "a", "b")
    assert result.returncode == 2
    assert "3 to 30 terms" in result.stderr
    assert len(sandbox.state.requests) == 0


def test_edit_request_reads_then_creates_with_a_caller_key(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    none = cli(*against(sandbox), "accounts", "edit-request", account_id)
    assert (none.returncode, none.stdout) == (0, "")
    assert "no active edit request" in none.stderr
    args = ["--create", "--username", "new_name", "--visible-name", "New", "--idempotency-key"]
    made = cli(*against(sandbox), "accounts", "edit-request", account_id, *args, "job-7")
    again = cli(*against(sandbox), "accounts", "edit-request", account_id, *args, "job-7")
    assert made.returncode == again.returncode == 0, again.stderr
    assert "charged once" in again.stderr  # the replay says so
    assert json.loads(again.stdout)["charge"]["replayed"] is True
    assert debits(sandbox) == 8
    read = cli(*against(sandbox), "accounts", "edit-request", account_id, "--format", "json")
    assert json.loads(read.stdout)["requested_username"] == "new_name"


def test_edit_request_options_need_create(sandbox: Sandbox) -> None:
    result = cli(*against(sandbox), "accounts", "edit-request", "x", "--username", "n")
    assert result.returncode == 2
    assert "--username needs --create" in result.stderr


def test_coverage_reactivation_and_cancel(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.care.set_coverage(account_id, "lapsed", price=60)
    shown = cli(*against(sandbox), "accounts", "coverage", account_id, "--format", "json")
    assert json.loads(shown.stdout)["reactivation_quote"]["credits"] == 60
    done = cli(*against(sandbox), "accounts", "reactivate-coverage", account_id)
    assert done.returncode == 0, done.stderr
    assert "charged 60 credits" in done.stderr
    cancelled = cli(*against(sandbox), "accounts", "cancel-coverage", account_id, "--yes")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelled"


def test_a_stale_quote_exits_9(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    sandbox.state.care.set_coverage(account_id, "lapsed")

    def change_the_price(request: RecordedRequest) -> None:
        if request.path.endswith("/reactivate"):  # arrived with the quote read before it
            sandbox.state.care.change_coverage_quote(account_id, price=99)

    sandbox.state.request_hooks.append(change_the_price)
    result = cli(*against(sandbox), "accounts", "reactivate-coverage", account_id)
    assert result.returncode == 9, result.stderr
    assert "Nothing was charged" in result.stderr


def test_analytics_and_videos(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    one = cli(*against(sandbox), "accounts", "analytics", account_id, "--refresh")
    assert one.returncode == 0, one.stderr
    assert "refresh requested" in one.stderr
    record = json.loads(one.stdout)
    assert record["followers"] > 0
    assert "engagement_rate" in record  # what the model does not type is still printed
    videos = cli(
        *against(sandbox), "accounts", "analytics", account_id, "--videos",
        "--sort-by", "likes", "--sort-order", "asc", "--format", "jsonl",
    )  # fmt: skip
    likes = [json.loads(line)["likes"] for line in videos.stdout.splitlines()]
    assert likes == sorted(likes)
    assert len(likes) == 7


def test_credits_balance_and_history(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    cli(*against(sandbox), "accounts", "rewarm", account_id, "a", "b", "c")
    balance = cli(*against(sandbox), "credits", "balance", "--format", "json")
    assert json.loads(balance.stdout)["total_credits"] == 485
    history = cli(*against(sandbox), "credits", "history", "--format", "jsonl")
    (row,) = [json.loads(line) for line in history.stdout.splitlines()]
    assert (row["type"], row["amount"], row["balance_after"]) == ("rewarm", -15, 485)
    bad = cli(*against(sandbox), "credits", "history", "--from", "yesterday")
    assert bad.returncode == 2


def _on_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the command with a terminal as stdin and type ``answer`` at the prompt."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKPORTAL_")}
    try:
        process = subprocess.Popen(  # noqa: S603 - our own module, our own interpreter
            [sys.executable, "-W", "error", "-m", "tokportal_async", *args],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.write(leader, answer)  # the terminal buffers it until the prompt reads
        _, err = process.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return process.returncode, err.decode()


def test_a_paid_command_asks_on_a_terminal_and_no_means_nothing_is_sent(
    sandbox: Sandbox,
) -> None:
    account_id = managed_account(sandbox)
    code, err = _on_a_terminal(
        [*against(sandbox), "accounts", "rewarm", account_id, "a", "b", "c"], b"n\n"
    )
    assert code == 1
    assert "Rewarm on 3 terms for 15 credits?" in err
    assert "nothing was done" in err
    assert not any(r.path.endswith("/rewarm") for r in sandbox.state.requests)
    code, err = _on_a_terminal(
        [*against(sandbox), "accounts", "rewarm", account_id, "a", "b", "c"], b"y\n"
    )
    assert code == 0, err
    assert debits(sandbox) == 15


def test_yes_skips_the_question_on_a_terminal(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    code, err = _on_a_terminal(
        [*against(sandbox), "accounts", "cancel-coverage", account_id, "--yes"], b""
    )
    assert code == 0, err
    assert "?" not in err
    assert sandbox.state.care.coverage[account_id]["status"] == "cancelled"


def test_stage_coverage_sets_the_scene_of_a_running_sandbox(sandbox: Sandbox) -> None:
    account_id = managed_account(sandbox)
    staged = cli(*against(sandbox), "stage", "coverage", account_id, "lapsed", "--price", "33")
    assert staged.returncode == 0, staged.stderr
    shown = cli(*against(sandbox), "accounts", "coverage", account_id, "--format", "json")
    assert json.loads(shown.stdout)["reactivation_quote"]["credits"] == 33
    bad = cli(*against(sandbox), "stage", "coverage", account_id, "paused")
    assert bad.returncode == 2
