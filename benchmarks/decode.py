"""Decoding one 100-account page: the parse alone vs the SDK's whole decode into models.

Rows, all against ``json.loads`` alone (the baseline), measured back to back in every
round so that a noisy neighbour slows all alike:

- ``orjson.loads`` alone (when orjson is installed);
- ``decode_page`` with the standard parser (the SDK without extras);
- ``decode_page`` with orjson (``pip install tokportal-async[speed]``);
- cattrs' preconfigured JSON converter with its defaults, for comparison (it coerces
  instead of checking types, so it does less than the SDK).

Run: python -m benchmarks.decode [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from cattrs.preconf.json import make_converter

from tokportal_async import Account, Page
from tokportal_async import _response as response_module
from tokportal_async._raw import RawResponse
from tokportal_async._response import decode_page
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--per-round", type=int, default=20)
    args = parser.parse_args()
    body = page_body()
    response = RawResponse(status=200, headers={}, body=body)
    cattrs_defaults = make_converter()

    def with_parser(loads: Callable[[bytes], object]) -> Callable[[], object]:
        def decode() -> object:
            response_module.loads = loads  # type: ignore[attr-defined]
            return decode_page(response, Account)

        return decode

    rows: dict[str, Callable[[], object]] = {"json.loads alone": lambda: json.loads(body)}
    try:
        import orjson
    except ImportError:
        orjson = None  # type: ignore[assignment]
    if orjson is not None:
        rows["orjson.loads alone"] = lambda: orjson.loads(body)
    rows["decode_page, standard json"] = with_parser(json.loads)
    if orjson is not None:
        rows["decode_page, orjson ([speed] extra)"] = with_parser(orjson.loads)
    rows["cattrs preconf json, defaults"] = lambda: cattrs_defaults.structure(
        json.loads(body), Page[Account]
    )
    for work in rows.values():
        assert work() is not None
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for round_number in range(args.rounds + 5):
        for name, work in rows.items():
            seconds = timed(work, args.per_round)
            if round_number >= 5:  # five warm-up rounds
                samples[name].append(seconds)
    baseline = samples["json.loads alone"]
    print(f"{'step (one 100-account page)':<40} {'median':>10} {'vs json.loads':>14}")
    for name, values in samples.items():
        ratio = statistics.median(v / b for v, b in zip(values, baseline, strict=True))
        print(f"{name:<40} {statistics.median(values) * 1e6:>8.1f}us {ratio:>13.2f}x")


if __name__ == "__main__":
    main()
