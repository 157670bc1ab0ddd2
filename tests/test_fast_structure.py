"""The fast decoding path never accepts what the detailed cattrs converter refuses.

For every field of the original page's examples (and of live answers the sandbox serves), each
wrong-typed replacement is tried: where the fast path builds a model, the detailed
converter must build the very same model; where it refuses, it refuses with
``FastPathMiss`` and nothing else, and the public ``structure`` then says exactly what the
detailed converter says.
"""

from __future__ import annotations

import copy
import json
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from tokportal_async import (
    Account,
    AccountBan,
    AccountDetail,
    Bundle,
    Credentials,
    Page,
    VerificationCode,
)
from tokportal_async import _converter as converter_module
from tokportal_async._converter import (
    _FAST,
    DecodeError,
    _detailed,
    _fast_for,
    _structure_detailed,
    make_converter,
    structure,
)
from tokportal_async._fast_structure import FastPathMiss, make_fast_structure
from tokportal_async.sandbox import SandboxState

from .conftest import sample

REPLACEMENTS: list[Any] = [None, 0, 1, True, False, 1.5, "", "x", "2026-01-01T00:00:00", [], {}]
CASES = [
    ("list_accounts", Page[Account]),
    ("list_bundles", Page[Bundle]),
    ("get_account", AccountDetail),
    ("verification_code", VerificationCode),
    ("live_bans", Page[AccountBan]),
    ("live_credentials", Credentials),
]


def _live_sample(name: str) -> Any:
    state = SandboxState(accounts=30)
    if name == "live_credentials":
        return {"data": state.accounts[0]["credentials"]}
    pagination = {"page": 1, "per_page": 25, "total": 2, "total_pages": 1}
    ban = {**state.bans[0], "screenshot_url": "https://example.invalid/x.png"}
    return {"data": [ban, state.bans[1]], "pagination": pagination}


def _data(name: str) -> Any:
    loaded = _live_sample(name) if name.startswith("live") else json.loads(sample(name))
    return loaded if "list" in name or "bans" in name else loaded["data"]


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
    data = _data(name)
    fast = _fast_for(model)
    assert fast is not None
    assert fast(data) == _detailed().structure(data, model)
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
                expected = _structure_detailed(candidate, model, "$", _detailed())
            except DecodeError:
                expected = None
            try:
                built = fast(candidate)  # anything but a hit or a miss fails the test
            except FastPathMiss:
                # refused: the public path says what the detailed converter says
                if expected is None:
                    with pytest.raises(DecodeError):
                        structure(candidate, model)
                else:
                    assert structure(candidate, model) == expected
                continue
            if expected is None:
                pytest.fail(f"fast path accepted {value!r} at {path} that cattrs refuses")
            assert built == expected, (path, value)
    assert tried == len(list(leaf_paths(data))) * (len(REPLACEMENTS) + 1)


class _InjectedBug(Exception):
    pass


def test_an_unexpected_error_in_the_fast_path_is_never_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: Any) -> Any:
        raise _InjectedBug("a bug in the fast path")

    monkeypatch.setitem(_FAST, Page[Account], broken)
    with pytest.raises(_InjectedBug):
        structure(json.loads(sample("list_accounts")), Page[Account])


def test_a_fast_path_miss_falls_back_to_the_detailed_converter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refusing(data: Any) -> Any:
        raise FastPathMiss

    monkeypatch.setitem(converter_module._FAST, Page[Account], refusing)
    page = structure(json.loads(sample("list_accounts")), Page[Account])
    assert [a.username for a in page] == ["coolcreator99", "trendwatcher22"]


def test_a_traceback_through_a_generated_function_shows_its_lines() -> None:
    structure_account = make_fast_structure(Account)
    try:
        structure_account({"id": 7, "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"})
    except FastPathMiss as miss:
        shown = "".join(traceback.format_exception(miss))
    else:
        pytest.fail("an id of the wrong type is a miss")
    assert "<tokportal_async fast structure" in shown
    assert "_miss()" in shown  # the generated line itself, read back from linecache
    assert "<string>" not in shown


def test_a_bug_in_a_hook_is_raised_as_itself_not_as_bad_json() -> None:
    converter = make_converter()

    def broken(value: object, _: type) -> str:
        raise RuntimeError("a bug in a hook")

    converter.register_structure_hook(str, broken)
    data = {"id": "a1", "platform": "tiktok", "created_at": "2026-01-01T00:00:00Z"}
    with pytest.raises(RuntimeError, match="a bug in a hook"):
        structure(data, Account, converter=converter)
    with pytest.raises(DecodeError):  # while data that does not fit is still a decode error
        structure({"id": 5}, Account, converter=make_converter())


def test_the_happy_path_never_loads_cattrs() -> None:
    # The first client of a process pays for cattrs only when an answer needs explaining.
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from tokportal_async import TokPortal\n"
        "from tokportal_async.sandbox import serve_in_thread\n"
        "with serve_in_thread(accounts=3) as sandbox, TokPortal(**sandbox.client_kwargs()) as tp:\n"
        "    tp.accounts.get(sandbox.state.accounts[0]['id'])\n"
        "    tp.accounts.list(per_page=3)\n"
        "    assert 'cattrs' not in sys.modules, 'cattrs loaded on the happy path'\n"
        "    tp.accounts.coverage(sandbox.state.accounts[0]['id'])  # no fast path for it\n"
        "    assert 'cattrs' in sys.modules\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, on our own code
        [sys.executable, "-W", "error", "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
