"""Before and after in one run: this checkout's request path against another's.

Two worker processes, one per checkout (``PYTHONPATH`` picks the package each imports),
talk to the same in-memory server (``_fixed_server``) in turns: round after round, each
runs every row (the floor, raw aiohttp + ``json.loads``, and the SDK's calls) in its own
process, as a user's program would. Each row's cost is its ratio to the floor measured in
the same round by the same process, so a machine that slows down slows both alike; the
report gives each side's median and p25-p75 of those ratios, side by side.

Run: python -m benchmarks.compare --baseline DIR [--rounds N] [--requests N]
(``DIR``: another checkout, for example ``git worktree add /tmp/before <commit>``.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from ._fixed_server import ACCOUNT_ID, fixed_server

WORKER = Path(__file__).with_name("_compare_worker.py")
ROOT = Path(__file__).resolve().parent.parent
#: Each row, and the floor its ratio is taken against.
ROWS = {
    "get, default limiter": "floor detail",
    "get, rate_limiter=False": "floor detail",
    "facade get": "floor detail",
    "list(per_page=100)": "floor page",
}


class Worker:
    """One checkout's worker process."""

    def __init__(self, name: str, checkout: Path, base_url: str) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our own worker
            [sys.executable, str(WORKER), base_url, ACCOUNT_ID],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.package = json.loads(self._read())["package"]
        self.rounds: list[dict[str, float]] = []

    def _read(self) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        return stdout.readline()

    def run_round(self, requests: int) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(f"{requests}\n")
        stdin.flush()
        self.rounds.append(json.loads(self._read()))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)

    def ratios(self, row: str) -> list[float]:
        return [r[row] / r[ROWS[row]] for r in self.rounds]

    def per_request_us(self, row: str, requests: int) -> float:
        return statistics.median(r[row] for r in self.rounds) / requests * 1e6


def _spread(values: list[float]) -> str:
    low, _, high = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.2f}x ({low:.2f}-{high:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with fixed_server() as base_url:
        before = Worker("before", args.baseline, base_url)
        after = Worker("after", ROOT, base_url)
        try:
            for number in range(args.rounds):
                # Alternate who goes first: neither side always meets a warmer machine.
                order = (before, after) if number % 2 == 0 else (after, before)
                for worker in order:
                    worker.run_round(args.requests)
        finally:
            before.close()
            after.close()
    print(f"before: {before.package}\nafter:  {after.package}")
    print(f"{args.rounds} interleaved rounds of {args.requests} requests per row")
    print(f"{'row':<26}{'before':>24}{'after':>24}{'after, us':>12}")
    report: dict[str, Any] = {}
    for row in ROWS:
        report[row] = (_spread(before.ratios(row)), _spread(after.ratios(row)))
        us = after.per_request_us(row, args.requests)
        print(f"{row:<26}{report[row][0]:>24}{report[row][1]:>24}{us:>12.0f}")
    floor = after.per_request_us("floor detail", args.requests)
    print(f"(ratios to raw aiohttp + json.loads in the same round; floor detail {floor:.0f} us)")


if __name__ == "__main__":
    main()
