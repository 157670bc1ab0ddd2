"""Start the sandbox in a separate process on loopback, as a server the benchmarks call."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sandbox_process(*options: str) -> Iterator[tuple[str, str]]:
    """``(base_url, api_key)`` of a sandbox running in its own process until exit.

    ``options`` are the command line's (``--accounts``, ``--latency``, ``--tls-cert``...).
    """
    process = subprocess.Popen(  # noqa: S603 - our own module, our own interpreter
        [sys.executable, "-m", "tokportal_async.sandbox", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
        yield settings["TOKPORTAL_BASE_URL"], settings["TOKPORTAL_API_KEY"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
