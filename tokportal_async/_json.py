"""The JSON parser: orjson when the ``speed`` extra installed it, else the standard one.

Both take the body's bytes as they are and raise a ``ValueError`` on anything that is not
valid UTF-8 JSON, so the choice changes the speed, never the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["PARSER", "loads"]

loads: Callable[[bytes], Any]
try:
    import orjson
except ImportError:  # the speed extra is not installed
    import json

    loads = json.loads
    PARSER = "json"
else:
    loads = orjson.loads
    PARSER = "orjson"
