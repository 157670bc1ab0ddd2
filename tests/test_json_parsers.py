"""Both JSON parsers give the same outcome on the same bytes: only speed differs.

The standard library's parser is held to orjson's rules; each input below goes through
both, and either both give the same value or both refuse with a ``ValueError``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tokportal_async import APIResponseValidationError
from tokportal_async._json import stdlib_loads
from tokportal_async._raw import RawResponse
from tokportal_async._response import decode_json

INPUTS = [
    b'{"a": [1, 2.5, "x", null, true, false]}',
    b"NaN",
    b"[Infinity]",
    b"-Infinity",
    b"1e400",
    b"-1E400",
    b"1e-400",
    b"1" + b"0" * 400,
    b"\xef\xbb\xbf{}",
    b'"\\ud800"',
    b'"\\udc00x"',
    b'{"\\ud800": 1}',
    b'["ok", ["\\udfff"]]',
    b'"\\ud83d\\ude00"',
    b'"\\\\ud800"',  # an escaped backslash, then plain text: no surrogate at all
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b'{"a": 1, "a": 2}',
    b"[1,]",
    b'"\xff"',
    b"\xed\xa0\x80",  # a surrogate encoded as UTF-8 bytes: invalid UTF-8
    b" {} ",
    b"",
    b"[" * 100_000,
    b"[" * 100 + b"]" * 100,
]


def outcome(parse: Callable[[bytes], Any], body: bytes) -> tuple[str, Any]:
    try:
        return ("value", parse(body))
    except ValueError:
        return ("refused", None)


@pytest.mark.parametrize("body", INPUTS, ids=[repr(b[:24]) for b in INPUTS])
def test_both_parsers_agree(body: bytes) -> None:
    assert outcome(stdlib_loads, body) == outcome(orjson.loads, body)


def test_the_agreement_is_not_vacuous() -> None:
    outcomes = [outcome(stdlib_loads, body)[0] for body in INPUTS]
    assert outcomes.count("value") >= 8
    assert outcomes.count("refused") >= 12


def test_without_the_speed_extra_a_deep_body_is_a_validation_error() -> None:
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "from tokportal_async import APIResponseValidationError\n"
        "from tokportal_async._raw import RawResponse\n"
        "from tokportal_async._response import decode_json\n"
        "import tokportal_async._json as j; assert j.loads is j.stdlib_loads\n"
        "try:\n"
        "    decode_json(RawResponse(status=200, headers={}, body=b'[' * 100_000))\n"
        "except APIResponseValidationError as error:\n"
        "    print('validation error', error.status)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "validation error 200"


@pytest.mark.parametrize("body", [b"NaN", b"[" * 100_000, b'"\\ud800"', b"1e400"])
def test_a_body_neither_parser_handles_is_a_validation_error(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokportal_async import _response

    for parse in (stdlib_loads, orjson.loads):
        monkeypatch.setattr(_response, "loads", parse)
        with pytest.raises(APIResponseValidationError) as caught:
            decode_json(RawResponse(status=200, headers={"x-request-id": "req_1"}, body=body))
        assert (caught.value.status, caught.value.request_id) == (200, "req_1")
