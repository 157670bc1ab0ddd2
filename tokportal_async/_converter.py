"""Every cattrs hook of the SDK, in one private converter.

cattrs coerces by default (``structure(5, str) == "5"``, ``structure(True, int) == 1``), has
no datetime hook on the base converter, and raises on unknown enum values. A client of a
live API needs the opposite on each point: wrong types are errors, timestamps must carry a
timezone, and new enum values are kept as strings. The hooks below say so, and are
registered before any class hook is built, because class hooks capture the leaf hooks that
exist when they are made.

The leaf rules (which JSON types a scalar accepts, what a timestamp is, how an open enum
reads) live in one table, :mod:`tokportal_async._leaf_rules`, which the hooks below are
made from. The happy path does not go through cattrs' per-field hooks at all: prebuilt
functions from :mod:`tokportal_async._fast_structure` check the same table's rules
inline. Only when they refuse (with :class:`FastPathMiss`, and nothing else) does the
detailed converter run, to explain the failure with readable, path-bearing lines (or to
accept what the fast path was too strict to). Any other exception from either path is a
bug and propagates as itself.
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._fast_structure import FastPathMiss, make_fast_structure
from ._leaf_rules import SCALARS, aware_timestamp, enum_members, type_name

if TYPE_CHECKING:  # cattrs loads with the first answer the fast path cannot take
    import cattrs
from ._models import (
    Account,
    AccountBan,
    AccountDetail,
    BanResolutionKind,
    BanStatus,
    Bundle,
    BundleStatus,
    BundleType,
    CodeSource,
    Credentials,
    Page,
    Platform,
    VerificationCode,
)

__all__ = ["DecodeError", "make_converter", "structure"]


class DecodeError(Exception):
    """JSON that does not fit the model; ``errors`` holds one readable line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(errors))


def _scalar(tp: type) -> Callable[[object, type], Any]:
    """The hook of a scalar leaf: exactly the JSON types the table lists for it."""
    rule = SCALARS[tp]
    accepted, name = rule.accepted, rule.name

    def structure_scalar(value: object, _: type) -> Any:
        if type(value) not in accepted:
            raise TypeError(f"expected {name}, got {type_name(value)}")
        # A whole number is a number too, and becomes the float the model holds.
        return float(typing.cast(float, value)) if tp is float else value

    return structure_scalar


def _aware_datetime(value: object, _: type) -> datetime:
    return aware_timestamp(value)


def _open_enum(enum_cls: type[enum.StrEnum]) -> Callable[[object, type], str]:
    """Structure a documented value to its member and an undocumented one to its string."""
    members = enum_members(enum_cls)
    string = _scalar(str)  # an open enum's value is a string first

    def structure_open_enum(value: object, _: type) -> Any:
        return members.get(string(value, str), value)

    return structure_open_enum


def _objects_only(converter: cattrs.Converter) -> Callable[[type], Any]:
    """A hook factory for attrs classes that refuses anything but a JSON object.

    cattrs' own hook reads fields with ``"name" in value``, which a string or a list
    answers too: ``"refund"`` or ``[]`` would become a model of all ``None``, and a ban's
    refund or an account's credentials would be silently lost.
    """

    def factory(cls: type) -> Callable[[object, type], Any]:
        hook: Callable[[Any, Any], Any] = converter.gen_structure_attrs_fromdict(cls)
        # A model of an answer whose shape no source shows keeps all of it in ``raw``.
        keeps_raw = RAW_FIELD in attrs.fields_dict(typing.get_origin(cls) or cls)

        def structure_object(value: object, tp: type) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"expected an object, got {type_name(value)}")
            if keeps_raw:
                return hook({**value, RAW_FIELD: value}, tp)
            return hook(value, tp)

        return structure_object

    return factory


#: The field of a model that keeps the whole JSON object it was decoded from.
RAW_FIELD = "raw"


def _json_object(value: object, _: type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type_name(value)}")
    return value


def _id_like(value: object, _: type) -> int | str:
    """A value kept exactly as sent to be sent back (a quote's ``lock_version``)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer or a string, got {type_name(value)}")
    return value


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _lists_only(converter: cattrs.Converter) -> Callable[[type], Any]:
    """A hook factory for ``list[X]`` that refuses anything but a JSON array.

    cattrs builds a list from any iterable: a string would become its characters and an
    object its keys.
    """
    from cattrs.cols import list_structure_factory

    def factory(list_type: type) -> Callable[[object, type], Any]:
        hook: Callable[[Any, Any], Any] = list_structure_factory(list_type, converter)

        def structure_array(value: object, tp: type) -> Any:
            if not isinstance(value, list):
                raise TypeError(f"expected an array, got {type_name(value)}")
            return hook(value, tp)

        return structure_array

    return factory


def _optional(hook: Callable[[object, type], Any]) -> Callable[[object, type], Any]:
    def structure_optional(value: object, tp: type) -> Any:
        return None if value is None else hook(value, tp)

    return structure_optional


def open_enums() -> tuple[type[enum.StrEnum], ...]:
    """The value sets the API documents, each decoded as an open enum (``Platform | str``).

    A function: the account-care models load with the first care call, or with the
    detailed converter, not with the package.
    """
    from ._care_models import CoverageStatus, EditRequestStatus, WarmingSessionStatus

    return (
        Platform,
        BundleStatus,
        BundleType,
        CodeSource,
        BanStatus,
        BanResolutionKind,
        CoverageStatus,
        EditRequestStatus,
        WarmingSessionStatus,
    )


#: The models responses are decoded into: each has a happy-path function (written on its
#: first answer) and cattrs hooks (built with the detailed converter).
RESPONSE_MODELS: tuple[Any, ...] = (
    Page[Account],
    Page[Bundle],
    Page[AccountBan],
    AccountDetail,
    Credentials,
    VerificationCode,
)


def _configure(converter: cattrs.Converter) -> None:
    converter.register_structure_hook_factory(attrs.has, _objects_only(converter))
    converter.register_structure_hook_factory(_is_list, _lists_only(converter))
    # Generic aliases are not classes: these two are matched by equality.
    converter.register_structure_hook_func(lambda t: t == Mapping[str, Any], _json_object)
    converter.register_structure_hook_func(
        lambda t: t == Mapping[str, Any] | None, _optional(_json_object)
    )
    converter.register_structure_hook(int | str | None, _optional(_id_like))
    for scalar in SCALARS:
        converter.register_structure_hook(scalar, _scalar(scalar))
    converter.register_structure_hook(datetime, _aware_datetime)
    for enum_cls in open_enums():
        hook = _open_enum(enum_cls)
        converter.register_structure_hook(enum_cls | str, hook)
        converter.register_structure_hook(enum_cls | str | None, _optional(hook))
    # Build the class hooks now, after the leaf hooks, and once: the first request should
    # not pay for code generation.
    for model in RESPONSE_MODELS:
        converter.get_structure_hook(model)


def make_converter(*, forbid_extra_keys: bool = False) -> cattrs.Converter:
    """A converter with every hook of the SDK, collecting every problem with its path.

    Args:
        forbid_extra_keys: reject fields the models do not know. Off in production (servers
            add fields); tests turn it on so a field the models miss shows up.
    """
    import cattrs

    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=forbid_extra_keys)
    _configure(converter)
    return converter


@functools.cache
def _detailed() -> cattrs.Converter:
    """The detailed converter, made when first needed.

    The happy path never needs it: importing cattrs and building its hooks (about 30 ms)
    waits for the first answer the fast path cannot take, or the first model it has none
    for.
    """
    return make_converter()


#: The strict happy-path function of each response model read so far.
_FAST: dict[Any, Callable[[Any], Any]] = {}


def _fast_for(model: Any) -> Callable[[Any], Any] | None:
    """``model``'s happy-path function, or ``None`` for a model without one.

    Written on the model's first answer, not at import: a program pays only for the
    models it reads.
    """
    fast = _FAST.get(model)
    if fast is None and model in RESPONSE_MODELS:
        fast = _FAST[model] = make_fast_structure(model)
    return fast


def structure(
    data: Any,
    model: Any,
    *,
    path: str = "$",
    converter: cattrs.Converter | None = None,
) -> Any:
    """Turn decoded JSON into ``model``, or raise :class:`DecodeError` saying what is wrong.

    ``path`` names where ``data`` sits in the response, for the error lines. ``model`` is
    typed ``Any`` because parameterized generics (``Page[Account]``) are not ``type[T]``.
    """
    if converter is not None:
        return _structure_detailed(data, model, path, converter)
    fast = _fast_for(model)
    if fast is not None:
        try:
            return fast(data)
        except FastPathMiss:  # not exactly the happy shape: explained (or accepted) below
            pass
    return _structure_detailed(data, model, path, _detailed())


#: What the hooks raise for data that does not fit (cattrs' own ``KeyError`` for a missing
#: field included): a decode error. Anything else from decoding is a bug, and is raised as
#: itself rather than reported as bad JSON from the server.
DATA_ERRORS = (TypeError, ValueError, KeyError)


def _structure_detailed(data: Any, model: Any, path: str, converter: cattrs.Converter) -> Any:
    import cattrs

    try:
        return converter.structure(data, model)
    except cattrs.BaseValidationError as exc:
        _, bugs = exc.split(DATA_ERRORS)
        if bugs is not None:
            raise _first_leaf(bugs) from None
        raise DecodeError(cattrs.transform_error(exc, path=path)) from exc
    except DATA_ERRORS as exc:  # a hook's refusal at the top level, which cattrs leaves bare
        raise DecodeError([f"{exc} @ {path}"]) from exc


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
