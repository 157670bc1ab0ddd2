"""What importing the SDK costs, and what its pytest plugin adds to every pytest run.

Each case runs in a fresh interpreter (no warm module cache in the process), interleaved
round by round so that a noisy machine slows every case alike. Reported: the median wall
time of the process and its spread, and the cost over the bare interpreter (for imports)
or over pytest without the plugin (for the plugin).

Run: python -m benchmarks.imports [--rounds N] [--package-path DIR]
(``--package-path`` measures another checkout of the package, for a before and after.)
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

IMPORTS = {
    "python -c pass": ["-c", "pass"],
    "import aiohttp": ["-c", "import aiohttp"],
    "import tokportal_async": ["-c", "import tokportal_async"],
    "from tokportal_async import AsyncTokPortal": [
        "-c",
        "from tokportal_async import AsyncTokPortal",
    ],
    "tokportal-async --version": ["-m", "tokportal_async", "--version"],
    # The first client of a fresh process, opened (its pool made), against raw aiohttp's.
    "raw aiohttp: import + open a session": [
        "-c",
        "import asyncio, aiohttp\n"
        "async def main():\n"
        "    async with aiohttp.ClientSession():\n"
        "        pass\n"
        "asyncio.run(main())",
    ],
    "tokportal_async: import + open a client": [
        "-c",
        "import asyncio\n"
        "from tokportal_async import AsyncTokPortal\n"
        "async def main():\n"
        "    async with AsyncTokPortal('sk_' + '0' * 64, base_url='http://127.0.0.1:9/api/ext'):\n"
        "        pass\n"
        "asyncio.run(main())",
    ],
}
PYTEST = {
    "pytest, plugin disabled": ["-p", "no:tokportal_sandbox"],
    "pytest, plugin installed": [],
}


def _time(arguments: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *arguments],
        check=True,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--package-path", type=Path, help="a checkout to import instead")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.package_path:
        env["PYTHONPATH"] = str(args.package_path.resolve())
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        (project / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
        cases = {
            **IMPORTS,
            **{
                name: ["-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
                for name, extra in PYTEST.items()
            },
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, argv in cases.items():
                times[name].append(_time(argv, env, project))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nImport cost, fresh interpreters, median of {args.rounds} interleaved rounds")
    print(f"{'case':<45} {'median':>9} {'spread':>9} {'cost':>9}")
    for name, values in times.items():
        spread = max(values) - min(values)
        base = "pytest, plugin disabled" if name.startswith("pytest") else "python -c pass"
        cost = median[name] - median[base]
        print(
            f"{name:<45} {median[name] * 1e3:>7.1f}ms {spread * 1e3:>7.1f}ms {cost * 1e3:>+7.1f}ms"
        )


if __name__ == "__main__":
    main()
