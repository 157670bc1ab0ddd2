"""Public names shown as ``tokportal_async.X``, wherever they are defined.

The classes users see live in private modules (``_errors``, ``_models``). Without this, a
traceback says ``tokportal_async._errors.NotFoundError`` and a repr of a class
``<class 'tokportal_async._models.Account'>``: a path users must not import from. Each
defining module hands its public classes here at its end.

attrs classes have their annotations resolved first: ``typing.get_type_hints`` resolves
them in the module ``__module__`` names, which after this is the package, whose names
load lazily. Code that needs a model's field types reads ``attrs.fields(cls)``.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["PUBLIC_MODULE", "show_as_public"]

PUBLIC_MODULE = "tokportal_async"


def show_as_public(namespace: dict[str, Any]) -> None:
    """Name the package as the module of each class it exports from this module.

    Called at the end of a defining module with its ``globals()``; which names are public
    is the package's own table of them (``tokportal_async._LOCATIONS``), so it is said once.
    """
    from . import _LOCATIONS

    here = "." + namespace["__name__"].rpartition(".")[2]
    for name, location in _LOCATIONS.items():
        if location != here:
            continue
        cls = namespace[name]
        if attrs.has(cls):
            attrs.resolve_types(cls)
        cls.__module__ = PUBLIC_MODULE
