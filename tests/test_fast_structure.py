"""The fast decoding path never accepts what the detailed cattrs converter refuses.

For every field of the seed's examples, each wrong-typed replacement is tried: where the
fast path builds a model, the detailed converter must build the very same model.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import cattrs
import pytest

from tokportal_async import Account, AccountDetail, Bundle, Page, VerificationCode
from tokportal_async._converter import _DETAILED, _FAST
from tokportal_async._fast_structure import FastPathMiss

from .conftest import sample

REPLACEMENTS: list[Any] = [None, 0, 1, True, False, 1.5, "", "x", "2026-01-01T00:00:00", [], {}]
CASES = [
    ("list_accounts", Page[Account]),
    ("list_bundles", Page[Bundle]),
    ("get_account", AccountDetail),
    ("verification_code", VerificationCode),
]


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(data)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(("name", "model"), CASES, ids=[c[0] for c in CASES])
def test_fast_path_agrees_with_the_detailed_converter(name: str, model: Any) -> None:
    loaded = json.loads(sample(name))
    data = loaded if name.startswith("list") else loaded["data"]
    fast = _FAST[model]
    assert fast(data) == _DETAILED.structure(data, model)
    tried = 0
    for path in leaf_paths(data):
        for value in [*REPLACEMENTS, "MISSING"]:
            candidate = replaced(data, path, value)
            if value == "MISSING" and path:
                parent = candidate
                for step in path[:-1]:
                    parent = parent[step]
                del parent[path[-1]]
            tried += 1
            try:
                built = fast(candidate)
            except (FastPathMiss, KeyError, TypeError, ValueError, AttributeError):
                continue  # refused: the detailed converter will explain, or accept
            try:
                expected = _DETAILED.structure(candidate, model)
            except cattrs.BaseValidationError:
                pytest.fail(f"fast path accepted {value!r} at {path} that cattrs refuses")
            assert built == expected, (path, value)
    assert tried == len(list(leaf_paths(data))) * (len(REPLACEMENTS) + 1)
