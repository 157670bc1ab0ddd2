"""One declaration per paged list: its checks and query string come from the declared types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TypedDict

import pytest

from tokportal_async import Account, Platform
from tokportal_async._paged import PagedEndpoint


class Filters(TypedDict, total=False):
    platform: Platform | str | None
    flag: bool | None
    since: datetime | None


ENDPOINT = PagedEndpoint("/things/{owner_id}/items", Account, Filters)


def test_each_declared_type_gets_its_query_encoding() -> None:
    moment = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    query = ENDPOINT.query(
        "list", {"platform": Platform.TIKTOK, "flag": False, "since": moment}, page=2, per_page=5
    )
    assert query == {
        "platform": "tiktok",
        "flag": "false",
        "since": "2026-05-01T10:00:00Z",
        "page": "2",
        "per_page": "5",
    }


def test_filters_left_out_or_none_are_not_sent() -> None:
    assert ENDPOINT.query("list", {"flag": None}, page=None, per_page=None) == {}


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"platform": ""}, "platform"),
        ({"flag": "yes"}, "flag"),
        ({"since": datetime(2026, 1, 1)}, "since"),
        ({"since": "2026-01-01"}, "since"),
    ],
)
def test_a_bad_value_is_a_value_error_naming_the_filter(
    filters: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        ENDPOINT.query("list", filters, page=None, per_page=None)


def test_an_undeclared_name_is_a_type_error_naming_the_method() -> None:
    with pytest.raises(TypeError, match=r"pages\(\) got an unexpected keyword argument 'owner'"):
        ENDPOINT.query("pages", {"owner": "x"}, page=None, per_page=None)


def test_ids_fill_the_path_one_encoded_segment_each() -> None:
    assert ENDPOINT.path(owner_id="a/b?c") == "/things/a%2Fb%3Fc/items"
    with pytest.raises(ValueError, match="owner_id"):
        ENDPOINT.path(owner_id="..")


def test_a_filter_type_with_no_encoding_is_refused_when_declared() -> None:
    class Odd(TypedDict, total=False):
        size: float | None

    with pytest.raises(TypeError, match="size"):
        PagedEndpoint("/odd", Account, Odd)


def test_utc_times_keep_their_instant() -> None:
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    assert ENDPOINT.query("list", {"since": moment}, page=None, per_page=None) == {
        "since": "2026-05-01T00:00:00Z"
    }
