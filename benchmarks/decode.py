"""Decoding one 100-account page: json.loads alone vs the SDK's full decode into models.

Run: python benchmarks/decode.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from tokportal_async import Account
from tokportal_async._response import RawResponse, decode_page
from tokportal_async.sandbox._data import generate_accounts

LIST_FIELDS = (
    "id", "platform", "username", "visible_name", "biography", "profile_picture_url",
    "country", "link_in_bio", "profile_url", "tokmail_email", "created_at", "updated_at",
)  # fmt: skip


def page_body(count: int = 100) -> bytes:
    accounts = [{k: a[k] for k in LIST_FIELDS} for a in generate_accounts(0, count)]
    pagination = {"page": 1, "per_page": count, "total": count, "total_pages": 1}
    return json.dumps({"data": accounts, "pagination": pagination}).encode()


def timed(work: Callable[[], object], per_round: int) -> float:
    start = time.perf_counter()
    for _ in range(per_round):
        work()
    return (time.perf_counter() - start) / per_round


def compare(
    baseline: Callable[[], object], candidate: Callable[[], object], rounds: int, per_round: int
) -> tuple[float, float, float]:
    """Medians of both, and the median of per-round ratios.

    The two run back to back in every round, so a noisy neighbour slows both alike and the
    per-round ratio stays meaningful when absolute times do not.
    """
    base_samples, cand_samples, ratios = [], [], []
    for _ in range(rounds):
        base = timed(baseline, per_round)
        cand = timed(candidate, per_round)
        base_samples.append(base)
        cand_samples.append(cand)
        ratios.append(cand / base)
    return (
        statistics.median(base_samples),
        statistics.median(cand_samples),
        statistics.median(ratios),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--per-round", type=int, default=20)
    args = parser.parse_args()
    body = page_body()
    response = RawResponse(status=200, headers={}, body=body)
    assert len(decode_page(response, Account)) == 100

    def loads() -> object:
        return json.loads(body)

    def decode() -> object:
        return decode_page(response, Account)

    compare(loads, decode, 5, args.per_round)  # warm-up: both paths hot
    baseline, models, ratio = compare(loads, decode, args.rounds, args.per_round)
    print(f"{'step':<40} {'median/page':>12} {'ratio':>7}")
    print(f"{'json.loads alone':<40} {baseline * 1e6:>10.1f}us {1.0:>6.2f}x")
    print(f"{'decode_page into models':<40} {models * 1e6:>10.1f}us {ratio:>6.2f}x")


if __name__ == "__main__":
    main()
