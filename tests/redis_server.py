"""A real redis-server on a free loopback port, in a temporary directory, for a test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Start redis-server (no persistence) and yield its URL; stop it after.

    In CI (``CI=true``) a missing redis-server fails the test: ``.ci/run`` installs it,
    and a silent skip would hide a broken install.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing; .ci/run installs it (apt-get install)")
        pytest.skip("redis-server is not installed: apt-get install redis-server")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - the real server, from PATH
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(directory), "--protected-mode", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # its own word that it listens: no polling, no sleeping
        if "Ready to accept connections" in line:
            break
    else:
        raise RuntimeError(f"redis-server did not start (exit {process.wait()})")
    # Keep reading its log, so a full pipe never blocks it.
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    drain.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)
        drain.join(timeout=30)  # the pipe ends with the process
        process.stdout.close()
