"""Query strings: only the parameters that were given, in the form the API reads."""

from __future__ import annotations

__all__ = ["query"]


def query(**values: str | int | float | bool | None) -> dict[str, str]:
    """The given (non-``None``) values as strings; booleans as ``true``/``false``."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = str(value)
    return params
