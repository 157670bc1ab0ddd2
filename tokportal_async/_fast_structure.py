"""Prebuilt structure functions for the happy path: strict, and cheap per field.

cattrs' generated functions call a hook per field; with the strict hooks this SDK needs
(``_converter``), that is a Python call for every string of every account. These functions
do the same checks inline (``type(v) is str``), build the model directly, and raise
:class:`FastPathMiss` at the first surprise. They never explain: the caller then runs the
detailed cattrs converter on the same data, which either finds the problem and says where,
or accepts what this path was too strict to. So they may refuse more than cattrs, never
accept more.

The rules of each leaf come from :mod:`tokportal_async._leaf_rules`, the table the
converter's hooks are made from too. Supported field types are the ones the models use:
``str``, ``int``, ``bool``, aware ``datetime``, open enums (``Platform | str``), attrs
classes, ``X | None`` of those, and ``list[X]``; generic classes (``Page[Account]``) are
specialised per argument.
"""

from __future__ import annotations

import enum
import itertools
import linecache
import operator
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from ._leaf_rules import SCALARS, aware_timestamp, enum_members

__all__ = ["FastPathMiss", "make_fast_structure"]


#: Numbers the generated sources, so that each has a file name of its own in linecache.
_SOURCES = itertools.count()


class FastPathMiss(Exception):
    """The data is not exactly what the happy path expects; ask the detailed converter."""


def _miss(*_: object) -> Any:
    raise FastPathMiss


def _aware(value: object) -> datetime:
    """The table's timestamp rule; a refusal is a miss (explained by the converter)."""
    try:
        return aware_timestamp(value)
    except (TypeError, ValueError):  # what the rule raises for data, and nothing else
        raise FastPathMiss from None


#: The table's scalars checked inline; a float converts (an int becomes one), and is left
#: to the detailed converter.
_INLINE_SCALARS = tuple(scalar for scalar in SCALARS if scalar is not float)


def _is_not(tp: type, local: str) -> str:
    """Source that is true when ``local`` is not of the JSON types the table gives ``tp``."""
    accepted = SCALARS[tp].accepted
    if len(accepted) == 1:
        return f"type({local}) is not {accepted[0].__name__}"
    return f"type({local}) not in ({', '.join(t.__name__ for t in accepted)})"


def _required(getter: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``getter`` that turns a missing key into a miss, and lets every other error through."""

    def get_required(data: dict[str, Any]) -> Any:
        try:
            return getter(data)
        except KeyError:
            raise FastPathMiss from None

    return get_required


class _Builder:
    """Writes one function per model, sharing helpers through one namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"_miss": _miss, "_aware": _aware}
        self.built: dict[Any, str] = {}

    def _name(self, value: object, prefix: str) -> str:
        name = f"_{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def expression(self, tp: Any, value: str) -> str:
        """Python source that checks ``value`` (an expression) is a ``tp`` and converts it."""
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp in _INLINE_SCALARS:
            return f"(_miss() if {_is_not(tp, value)} else {value})"
        if tp is datetime:
            return f"_aware({value})"
        if origin in (typing.Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            enums = [a for a in members if isinstance(a, type) and issubclass(a, enum.Enum)]
            if len(members) == 2 and enums and str in members:  # an open enum: Member | str
                table = self._name(enum_members(enums[0]), "members")
                inner = f"(_miss() if {_is_not(str, value)} else {table}.get({value}, {value}))"
                if len(args) == 2:
                    return inner
                return f"(None if {value} is None else {inner})"  # Member | str | None
            if len(members) == 1 and len(args) == 2:  # X | None
                inner = self.expression(members[0], value)
                return f"(None if {value} is None else {inner})"
            raise NotImplementedError(f"no fast path for {tp!r}")
        if origin is list:
            item = self.expression(args[0], "_item")
            return f"([{item} for _item in {value}] if type({value}) is list else _miss())"
        if attrs.has(origin or tp):
            return f"{self.function(tp)}({value})"
        raise NotImplementedError(f"no fast path for {tp!r}")

    def assign(self, tp: Any, local: str) -> list[str]:
        """Statements that check and convert the field held in ``local``, in place."""
        # Checks as statements rather than expressions: no re-binding of what is already
        # right, which is most fields. Two timestamps per account add up, too.
        if tp in _INLINE_SCALARS:
            return [f"    if {_is_not(tp, local)}: _miss()"]
        for scalar in _INLINE_SCALARS:
            if tp == scalar | None:
                return [f"    if {local} is not None and {_is_not(scalar, local)}: _miss()"]
        if tp is datetime:
            return [f"    {local} = _aware({local})"]
        if tp == datetime | None:
            return [f"    if {local} is not None: {local} = _aware({local})"]
        return [f"    {local} = {self.expression(tp, local)}"]

    def function(self, model: Any) -> str:
        """The name of ``model``'s structure function, writing it on first use."""
        if model in self.built:
            return self.built[model]
        name = f"_structure{len(self.built)}"
        self.built[model] = name
        cls = typing.get_origin(model) or model
        parameters = getattr(cls, "__parameters__", ())
        bindings: dict[TypeVar, Any] = dict(zip(parameters, typing.get_args(model), strict=False))
        hints = typing.get_type_hints(cls)
        target = self._name(cls, "model")
        lines = [f"def {name}(o):", "    if type(o) is not dict: _miss()"]
        fields = attrs.fields(cls)
        required = [f for f in fields if f.default is attrs.NOTHING]
        if required:
            # One C call fetches every required key; a missing one is a miss.
            getter = self._name(_required(operator.itemgetter(*(f.name for f in required))), "get")
            # (itemgetter of one key returns the value itself, of several a tuple)
            targets = ", ".join(f"v_{f.name}" for f in required)
            lines.append(f"    {targets} = {getter}(o)")
        for field in fields:
            if field.default is not attrs.NOTHING:
                default = self._name(field.default, "default")
                lines.append(f"    v_{field.name} = o.get({field.name!r}, {default})")
        for field in fields:
            lines += self.assign(_bind(hints[field.name], bindings), f"v_{field.name}")
        if _plain_slots(cls):
            # Filling the slots directly is what the frozen __init__ does, field by field,
            # without parsing a dozen keyword arguments: half the cost per object.
            lines.append(f"    instance = _new({target})")
            self.namespace["_new"] = object.__new__
            for field in fields:
                setter = self._name(getattr(cls, field.name).__set__, "set")
                lines.append(f"    {setter}(instance, v_{field.name})")
            lines.append("    return instance")
        else:
            arguments = ", ".join(f"{f.alias}=v_{f.name}" for f in fields)
            lines.append(f"    return {target}({arguments})")
        source = "\n".join(lines) + "\n"
        # A file name of its own, and the source in linecache: a traceback through this
        # function shows its lines, not "<string>".
        filename = f"<tokportal_async fast structure {next(_SOURCES)}: {model!r}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")
        exec(code, self.namespace)  # noqa: S102 - our own source, from our own types
        return name


def _plain_slots(cls: type) -> bool:
    """Whether ``cls.__init__`` only stores its arguments in slots, so we may do it instead."""
    return (
        "__slots__" in vars(cls)
        and not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and all(f.validator is None and f.converter is None and f.init for f in attrs.fields(cls))
        and all(hasattr(getattr(cls, f.name, None), "__set__") for f in attrs.fields(cls))
    )


def _bind(tp: Any, bindings: dict[TypeVar, Any]) -> Any:
    """``tp`` with the class's type variables replaced by the model's arguments."""
    if isinstance(tp, TypeVar):
        return bindings.get(tp, tp)
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if not args or origin is None:
        return tp
    bound = tuple(_bind(arg, bindings) for arg in args)
    if origin is types.UnionType:
        return typing.Union[bound]  # noqa: UP007 - rebuilding a union from its parts
    return origin[bound] if len(bound) > 1 else origin[bound[0]]


def make_fast_structure(model: Any) -> Callable[[Any], Any]:
    """A strict function that turns JSON data into ``model``, or raises an exception."""
    builder = _Builder()
    function: Callable[[Any], Any] = builder.namespace[builder.function(model)]
    return function
