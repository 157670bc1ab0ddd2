"""Shared measuring: interleaved rounds, medians, and ratios to a baseline."""

from __future__ import annotations

import statistics


def summarize(samples: dict[str, list[float]], baseline: str) -> list[tuple[str, float, float]]:
    """``(name, median seconds, median of per-round ratios to baseline)`` for each row.

    Rows run back to back in every round, so a per-round ratio compares two measurements
    taken under the same load: it stays meaningful on a noisy machine where absolute
    times do not.
    """
    base = samples[baseline]
    rows = []
    for name, values in samples.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        rows.append((name, statistics.median(values), ratio))
    return rows


def print_table(title: str, rows: list[tuple[str, float, float]], baseline: str) -> None:
    print(f"\n{title}")
    print(f"{'':<34} {'median':>11} {'vs ' + baseline:>22}")
    for name, seconds, ratio in rows:
        print(f"{name:<34} {seconds * 1e6:>9.0f}us {ratio:>21.2f}x")
