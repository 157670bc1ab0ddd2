"""The examples run as users run them: a fresh interpreter, against the sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_cleanly(script: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own script, our own interpreter
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "", "PYTHONPATH": str(script.parent.parent)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "iterated 250 accounts" in result.stdout or script.name != "quickstart.py"
