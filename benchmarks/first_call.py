"""A fresh process's first call: import, construct, one request, against raw aiohttp's.

What a cron job, a CLI command or a serverless function pays before its first answer.
Each case is a fresh interpreter that imports, opens a client, reads one account from the
in-memory server (``_fixed_server``) and exits; cases run interleaved round by round, so
that a noisy machine slows them alike. Reported: each case's median wall time and p25-p75,
and its median excess over raw aiohttp (``aiohttp`` + ``json.loads``) in the same round.

Run: python -m benchmarks.first_call [--rounds N] [--baseline DIR]
(``--baseline`` adds another checkout of the package as a case, for a before and after.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._fixed_server import ACCOUNT_ID, fixed_server

ROOT = Path(__file__).resolve().parent.parent
#: Where the processes run: a directory that holds no package.
NEUTRAL = tempfile.gettempdir()
KEY = "sk_" + "0" * 64

RAW = f"""
import asyncio, json, sys
import aiohttp
async def main(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={{"X-API-Key": {KEY!r}}}) as response:
            json.loads(await response.read())
asyncio.run(main(sys.argv[1] + "/accounts/" + sys.argv[2]))
"""
SDK = f"""
import asyncio, sys
from tokportal_async import AsyncTokPortal
async def main(base_url, account_id):
    async with AsyncTokPortal({KEY!r}, base_url=base_url) as tp:
        await tp.accounts.get(account_id)
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _compile(package: Path) -> None:
    """Byte-compile a checkout's package, as installing a wheel does.

    Without it, a process would compile every module from source (this machine sets
    ``PYTHONDONTWRITEBYTECODE``), which no installed copy does.
    """
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "compileall", "-q", str(package / "tokportal_async")],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def _run(source: str, base_url: str, package: Path | None) -> float:
    env = dict(os.environ)
    if package is not None:
        env["PYTHONPATH"] = str(package)
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter, our own source
        [sys.executable, "-c", source, base_url, ACCOUNT_ID],
        env=env,
        check=True,
        cwd=NEUTRAL,  # not a checkout: with -c, the working directory comes first on sys.path
    )
    return time.perf_counter() - started


def _imported(package: Path) -> str:
    """The file ``import tokportal_async`` finds with ``package`` on the path."""
    done = subprocess.run(
        [sys.executable, "-c", "import tokportal_async; print(tokportal_async.__file__)"],
        env={**os.environ, "PYTHONPATH": str(package)},
        capture_output=True,
        text=True,
        check=True,
        cwd=NEUTRAL,
    )
    return done.stdout.strip()


def _spread(values: list[float]) -> str:
    low, _, high = statistics.quantiles(values, n=4)
    return f"{statistics.median(values) * 1e3:6.0f} ms ({low * 1e3:.0f}-{high * 1e3:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured too")
    args = parser.parse_args()
    cases: dict[str, tuple[str, Path | None]] = {
        "raw aiohttp + json.loads": (RAW, None),
        "tokportal_async (this checkout)": (SDK, ROOT),
    }
    if args.baseline is not None:
        cases["tokportal_async (baseline)"] = (SDK, args.baseline.resolve())
    times: dict[str, list[float]] = {name: [] for name in cases}
    for name, (_, package) in cases.items():
        if package is not None:
            _compile(package)
            print(f"{name}: {_imported(package)}")
    with fixed_server() as base_url:
        for source, package in cases.values():
            _run(source, base_url, package)  # warm the disk cache: not a first run's cost
        for number in range(args.rounds):
            order = list(cases.items())
            if number % 2:
                order.reverse()  # neither side always meets a warmer machine
            for name, (source, package) in order:
                times[name].append(_run(source, base_url, package))
    raw = times["raw aiohttp + json.loads"]
    print(f"{args.rounds} interleaved rounds; a fresh process each: import, construct, one GET")
    for name, values in times.items():
        excess = statistics.median(v - r for v, r in zip(values, raw, strict=True))
        print(f"{name:<34}{_spread(values):>26}   {excess * 1e3:+6.0f} ms over raw")


if __name__ == "__main__":
    main()
