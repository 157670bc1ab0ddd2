"""What each leaf of a model accepts from JSON: the one table both decoders follow.

The cattrs converter (:mod:`tokportal_async._converter`, which explains a refusal) and the
generated happy-path functions (:mod:`tokportal_async._fast_structure`, which only accept or
miss) read their rules here, so the two can only differ in speed and in how they say no:

- a scalar accepts exactly the JSON types listed for it (``true`` is not a count, ``5`` is
  not a string);
- a timestamp is an ISO 8601 / RFC 3339 string with a timezone;
- an open enum (``Platform | str``) turns a documented value into its member and keeps an
  undocumented one as its string.
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime

__all__ = ["SCALARS", "Scalar", "aware_timestamp", "enum_members", "type_name"]


class Scalar:
    """A scalar leaf: the exact JSON types it accepts, and its name in an error."""

    __slots__ = ("accepted", "name")

    def __init__(self, accepted: tuple[type, ...], name: str) -> None:
        self.accepted = accepted
        self.name = name


#: Every scalar leaf type of the models. JSON parsers make exact types only, so the
#: types are compared exactly (``bool`` is an ``int`` subclass, and is no integer).
SCALARS: dict[type, Scalar] = {
    str: Scalar((str,), "a string"),
    int: Scalar((int,), "an integer"),
    float: Scalar((int, float), "a number"),
    bool: Scalar((bool,), "a boolean"),
}


def type_name(value: object) -> str:
    """A JSON value's type as an error names it (``null`` for ``None``)."""
    return "null" if value is None else type(value).__name__


def aware_timestamp(value: object) -> datetime:
    """An aware datetime from an ISO 8601 / RFC 3339 timestamp string.

    RFC 3339 allows a lower-case ``t`` and ``z``, which Python's parser does not know.

    Raises:
        TypeError: not a string.
        ValueError: not a timestamp, or one without a timezone (it would compare wrongly
            with every aware datetime the user holds).
    """
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 timestamp string, got {type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # A valid timestamp has no other letters to change than those two.
        upper = value.upper()
        if upper == value:
            raise
        parsed = datetime.fromisoformat(upper)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no timezone")
    return parsed


@functools.cache
def enum_members(enum_cls: type[enum.Enum]) -> dict[object, enum.Enum]:
    """An open enum's documented values, each to its member."""
    return {member.value: member for member in enum_cls}
