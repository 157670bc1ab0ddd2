"""Running the command line as a user does: a subprocess of this interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

from tokportal_async.sandbox import Sandbox


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOKPORTAL_")}
    clean.update(env or {})
    return subprocess.run(  # noqa: S603 - our own module, our own interpreter
        [sys.executable, "-W", "error", "-m", "tokportal_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=clean,
    )


def against(sandbox: Sandbox) -> list[str]:
    return ["--api-key", sandbox.api_key, "--base-url", sandbox.base_url]
