"""The sandbox's options: one definition, the same names and units from every entry point."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from typing import Any

import attrs
import pytest

from tokportal_async.sandbox import Fault, Sandbox, SandboxOptions, SandboxState, serve_in_thread
from tokportal_async.sandbox.__main__ import _parser

pytestmark = pytest.mark.anyio

#: A value other than the default for every option, as Python takes it.
CHANGED: dict[str, Any] = {
    "accounts": 7,
    "seed": 3,
    "api_key": "sk_test_options",
    "profile": "seed",
    "require_policy_acceptance": True,
    "omit_credentials": True,
    "policy_version": "2027-01-01",
    "credits": 5,
    "latency": 0.25,
    "fault_rate": 0.5,
    "fault_kinds": (Fault.HTTP_500, Fault.DROP),
    "fault_seed": 9,
    "stall_seconds": 0.5,
    "rate_limit": 10,
    "rate_window": 2.0,
    "webhook_retry_delay": 0.5,
    "webhook_max_attempts": 2,
    "webhook_timeout": 3.0,
    "host": "127.0.0.2",
    "port": 1234,
}


def _as_flags(values: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, tuple):
            flags += [flag, ",".join(kind.value for kind in value)]
        else:
            flags += [flag, str(value)]
    return flags


def test_the_example_changes_every_option() -> None:
    defaults = SandboxOptions()
    assert set(CHANGED) == {field.name for field in attrs.fields(SandboxOptions)}
    assert all(CHANGED[name] != getattr(defaults, name) for name in CHANGED)


def test_the_command_line_reaches_every_option_under_its_name() -> None:
    arguments = _parser("sandbox").parse_args(_as_flags(CHANGED))
    assert SandboxOptions.from_arguments(arguments) == SandboxOptions(**CHANGED)


def test_the_command_line_keeps_its_fixed_port_and_the_other_defaults() -> None:
    options = SandboxOptions.from_arguments(_parser("sandbox").parse_args([]))
    assert options == SandboxOptions(port=8765)


def test_python_entry_points_take_options_or_their_fields() -> None:
    options = SandboxOptions(accounts=4, profile="seed", latency=0.5)
    assert SandboxState(options).options == options
    assert SandboxState(accounts=4, profile="seed", latency=0.5).options == options
    assert SandboxState(options, accounts=6).options == attrs.evolve(options, accounts=6)
    with serve_in_thread(options, accounts=3) as sandbox:
        assert sandbox.state.options.accounts == 3
        assert sandbox.state.latency == 0.5  # seconds, as everywhere


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accounts", -1),
        ("credits", -5),
        ("latency", -0.1),
        ("fault_rate", 1.5),
        ("stall_seconds", 0),
        ("rate_limit", 0),
        ("rate_window", 0),
        ("port", 70_000),
        ("profile", "beta"),
        ("fault_kinds", ("meltdown",)),
        ("policy_version", ""),
        ("policy_version", "   "),
        ("policy_version", "2026\n11"),
    ],
)
def test_a_bad_value_is_refused_before_anything_starts(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        Sandbox(**{field: value})


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(TypeError, match="latency_ms"):
        SandboxOptions(latency_ms=20)  # type: ignore[call-arg]


def _sandbox_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module, our own interpreter
        [sys.executable, "-W", "error", "-m", "tokportal_async", "sandbox", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["--latency", "-1"],
        ["--accounts", "-3"],
        ["--port", "99999"],
        ["--fault-rate", "2"],
        ["--policy-version", " "],
    ],
)
def test_the_sandbox_command_refuses_a_bad_value_in_one_line(arguments: list[str]) -> None:
    result = _sandbox_command(*arguments)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("tokportal-async sandbox: error: ")
    assert result.stdout == ""


def test_the_sandbox_command_says_in_one_line_that_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _sandbox_command("--port", str(port))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_the_documentation_lists_every_option() -> None:
    doc = SandboxOptions.__doc__ or ""
    help_text = _parser("sandbox").format_help()
    for field in attrs.fields(SandboxOptions):
        assert f"{field.name}:" in doc
        assert "--" + field.name.replace("_", "-") in help_text


def test_argparse_namespace_without_a_field_keeps_its_default() -> None:
    assert SandboxOptions.from_arguments(argparse.Namespace(accounts=2)) == SandboxOptions(
        accounts=2
    )
