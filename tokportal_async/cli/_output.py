r"""Turning models into what the command prints: JSON, JSON lines, CSV or a table.

Secret fields (passwords, verification codes) are masked unless the user asked for
secrets; the API key is never part of any model, so it can never be printed.

Every value comes from the server, so none may reach a terminal raw: control characters
(a CR, an ANSI escape) are shown escaped in tables, escaped as ``\uXXXX`` in JSON (which
stays valid and lossless), and in CSV when it is written to a terminal.
"""

from __future__ import annotations

import csv
import enum
import json
import typing
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import attrs

from .._models import SECRET, Page
from .._text import printable

__all__ = ["FORMATS", "Printer", "to_record"]

FORMATS = ("table", "json", "jsonl", "csv")
MASK = "***"


def _value(value: Any, show_secrets: bool) -> Any:
    if attrs.has(type(value)):
        return to_record(value, show_secrets=show_secrets)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_value(item, show_secrets) for item in value]
    return value


def to_record(model: Any, *, show_secrets: bool = False) -> dict[str, Any]:
    """A model as plain JSON data, with secrets masked unless ``show_secrets``."""
    record: dict[str, Any] = {}
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if field.metadata.get(SECRET) and value is not None and not show_secrets:
            record[field.name] = MASK
        else:
            record[field.name] = _value(value, show_secrets)
    return record


def _json(value: Any, indent: int | None = None) -> str:
    """JSON text without a raw control character: those JSON leaves raw are escaped too."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == "\n" else json.dumps(char)[1:-1] for char in text
    )


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, bool):  # as in JSON, not Python's True and False
            flat[f"{prefix}{key}"] = "true" if value else "false"
        else:
            flat[f"{prefix}{key}"] = "" if value is None else value
    return flat


def heading(column: str) -> str:
    """A table column's heading, in words.

    ``videos.total`` is ``VIDEOS TOTAL``, and ``resolution.resolution`` (a field named as
    its object) is ``RESOLUTION``.
    """
    parts = column.split(".")
    if len(parts) > 1 and parts[-1] == parts[-2]:
        parts.pop()
    return " ".join(parts).replace("_", " ").upper()


@attrs.define
class Printer:
    """Writes records in one format to one stream, as they come (no buffering of lists)."""

    format: str
    stream: TextIO
    columns: Sequence[str] | None = None
    #: The model the records come from: its fields head a CSV even when no record came.
    model: type | None = None

    def many(
        self, records: Iterable[dict[str, Any]], *, envelope: dict[str, Any] | None = None
    ) -> int:
        """Write records; for JSON, a list (or ``envelope`` with them as ``data``)."""
        if self.format == "json":
            data = list(records)
            payload: Any = data if envelope is None else {"data": data, **envelope}
            self.stream.write(_json(payload, indent=2) + "\n")
            return len(data)
        if self.format == "jsonl":
            count = 0
            for record in records:
                self.stream.write(_json(record) + "\n")
                count += 1
            return count
        rows = [_flat(record) for record in records]
        columns = list(self.columns or _all_keys(rows) or columns_of(self.model))
        if self.format == "csv":
            if self.stream.isatty():
                rows = [{k: printable(str(v)) for k, v in row.items()} for row in rows]
            writer = csv.DictWriter(self.stream, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        else:
            self._table(rows, columns)
        return len(rows)

    def page(self, page: Page[Any]) -> int:
        """Write one page's items; for JSON, with its ``pagination`` beside ``data``.

        A table ends with where the page sits ("page 1 of 4, 87 in all"), so that a
        reader knows there is more than one screen shows.
        """
        envelope = {"pagination": to_record(page.pagination)}
        count = self.many((to_record(item) for item in page), envelope=envelope)
        if self.format == "table":
            where = page.pagination
            self.stream.write(f"page {where.page} of {where.total_pages}, {where.total} in all\n")
        return count

    def one(self, record: dict[str, Any]) -> None:
        """Write one record; as a table, one ``field  value`` line per field."""
        if self.format in ("json", "jsonl"):
            indent = 2 if self.format == "json" else None
            self.stream.write(_json(record, indent=indent) + "\n")
            return
        flat = _flat(record)
        if self.format == "csv":
            self.columns = self.columns or list(flat)
            self.many([record])
            return
        width = max(len(key) for key in flat)
        for key, value in flat.items():
            self.stream.write(f"{key:<{width}}  {printable(str(value))}\n")

    def _table(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        if not rows:
            self.stream.write("(none)\n")
            return
        cells = [[printable(str(row.get(c, ""))) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        headings = [heading(c) for c in columns]
        widths = [max(w, len(h)) for w, h in zip(widths, headings, strict=True)]
        line = "  ".join(f"{h:<{w}}" for h, w in zip(headings, widths, strict=True))
        self.stream.write(line.rstrip() + "\n")
        for row in cells:
            text = "  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True))
            self.stream.write(text.rstrip() + "\n")


def columns_of(model: type | None, prefix: str = "") -> list[str]:
    """The flattened column names of a model's records (``videos.total``), in field order."""
    if model is None or not attrs.has(model):
        return []
    hints = typing.get_type_hints(model)
    columns: list[str] = []
    for field in attrs.fields(model):
        hint = hints[field.name]
        nested = [t for t in (hint, *typing.get_args(hint)) if attrs.has(t)]
        if nested:
            columns += columns_of(nested[0], f"{prefix}{field.name}.")
        else:
            columns.append(f"{prefix}{field.name}")
    return columns


def _all_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)
