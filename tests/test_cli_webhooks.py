"""``tokportal-async webhooks``, run as a user runs it: endpoints, deliveries, ``listen``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import IO

import pytest

from tokportal_async.sandbox import Sandbox, serve_in_thread
from tokportal_async.testing import WebhookInbox
from tokportal_async.webhooks import sign

from .cli_run import against, cli


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve_in_thread(accounts=3, webhook_retry_delay=0.01) as running:
        yield running


def test_create_needs_show_secrets_then_prints_the_secret_once(sandbox: Sandbox) -> None:
    url = "http://127.0.0.1:9/events"
    refused = cli(*against(sandbox), "webhooks", "create", url, "--event", "account.banned")
    assert refused.returncode == 2
    assert "--show-secrets" in refused.stderr
    assert sandbox.state.webhooks.endpoints == {}
    made = cli(
        *against(sandbox), "webhooks", "create", url, "--event", "account.banned",
        "--event", "credits.restored", "--show-secrets", "--format", "json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    endpoint = json.loads(made.stdout)
    (stored,) = sandbox.state.webhooks.endpoints.values()
    assert endpoint["signing_secret"] == stored["secret"]
    assert endpoint["events"] == ["account.banned", "credits.restored"]
    listed = cli(*against(sandbox), "webhooks", "list", "--format", "json")
    (row,) = json.loads(listed.stdout)
    assert row["signing_secret"] is None  # shown once, at creation only


def test_test_and_deliveries_show_the_attempts(sandbox: Sandbox) -> None:
    with WebhookInbox() as inbox:
        inbox.fail_next(1)
        endpoint = sandbox.state.webhooks.create_endpoint(
            sandbox.api_key, inbox.url, ["webhook.test"], None, True
        )
        inbox.secret = endpoint["secret"]
        sent = cli(*against(sandbox), "webhooks", "test", endpoint["id"], "--format", "json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["event_type"] == "webhook.test"
        inbox.wait_for("webhook.test")
    shown = cli(*against(sandbox), "webhooks", "deliveries", endpoint["id"], "--format", "jsonl")
    attempts = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(a["attempt"], a["success"]) for a in attempts] == [(2, True), (1, False)]
    failed = cli(*against(sandbox), "webhooks", "deliveries", endpoint["id"], "--failed",
                 "--format", "jsonl")  # fmt: skip
    assert [json.loads(line)["status_code"] for line in failed.stdout.splitlines()] == [500]
    gone = cli(*against(sandbox), "webhooks", "delete", endpoint["id"], "--yes")
    assert gone.returncode == 0, gone.stderr
    assert sandbox.state.webhooks.endpoints == {}


def _listen(*args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """The listener, its URL, and what it said on stderr until it listened."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKPORTAL_")}
    process = subprocess.Popen(  # noqa: S603 - our own module, our own interpreter
        [sys.executable, "-W", "error", "-m", "tokportal_async", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    said = _lines_until(process.stderr, "listening on ")
    return process, said[-1].split()[2], said


def _lines_until(stream: IO[str], marker: str) -> list[str]:
    lines = []
    for line in stream:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"the command ended before printing {marker!r}: {lines}")


def _post(url: str, body: bytes, signature: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - a loopback URL the test made
        url, data=body, headers={"TokPortal-Signature": signature}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_listen_verifies_prints_forwards_and_stops_on_ctrl_c() -> None:
    secret = "whsec_listen_test"
    body = json.dumps(
        {"id": "evt_9", "type": "account.banned",
         "data": {"username": "u9", "platform": "tiktok"}}
    ).encode()  # fmt: skip
    with WebhookInbox(secret) as app:  # the local app events are forwarded to
        process, url, _ = _listen("webhooks", "listen", "--secret", secret, "--forward-to", app.url)
        try:
            assert _post(url, body + b" ", sign(body, secret)) == 400  # tampered: refused
            assert _post(url, body, sign(body, secret)) == 200
            assert process.stdout is not None
            printed = json.loads(process.stdout.readline())
            assert (printed["id"], printed["type"]) == ("evt_9", "account.banned")
            assert printed["data"]["username"] == "u9"
            forwarded = app.wait_for("account.banned")
            assert forwarded.id == "evt_9"  # signed as received: the app verified it
            assert app.received[0].body == body
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "refused a delivery" in err
    assert "Traceback" not in err


def test_listen_needs_a_secret_without_sandbox() -> None:
    result = cli("webhooks", "listen")
    assert result.returncode == 2
    assert "--secret" in result.stderr


def test_listen_with_sandbox_registers_itself_and_prints_staged_events() -> None:
    process, _, said = _listen("--sandbox", "webhooks", "listen", "--format", "jsonl")
    try:
        # It says where its sandbox is, so that a command from another shell acts there.
        (where,) = [line for line in said if line.startswith("sandbox: ")]
        settings = dict(part.split("=", 1) for part in where.split() if "=" in part)
        env = {"TOKPORTAL_BASE_URL": settings["TOKPORTAL_BASE_URL"],
               "TOKPORTAL_API_KEY": settings["TOKPORTAL_API_KEY"]}  # fmt: skip
        accounts = cli("accounts", "list", "--per-page", "1", "--format", "json", env=env)
        account_id = json.loads(accounts.stdout)["data"][0]["id"]
        staged = cli("stage", "ban", account_id, env=env)
        assert staged.returncode == 0, staged.stderr
        assert process.stdout is not None
        printed = json.loads(process.stdout.readline())
        assert printed["type"] == "account.banned"
        assert printed["data"]["account_id"] == account_id
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
