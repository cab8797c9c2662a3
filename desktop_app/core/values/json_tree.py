"""JSON text (or JSONB read as text) as a tree of nodes with SQLite JSON paths, built lazily.

Paths follow SQLite's JSON path syntax: `$.a.b[2]`, with a key that is not a plain word in double
quotes (`$."a b"`). SQLite has no escape inside a quoted key, so a key holding `"` cannot be addressed:
its nodes have `path` None (shown, but not filterable).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.browse.filters import json_path_condition
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.sqlite.values import storage_class

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class NotJson(ValueError):
    """The text is not a JSON document."""


def json_type(value: Any) -> str:
    """The name SQLite's `json_type()` gives `value` (object, array, text, integer, real, true, ...)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    return storage_class(value)


def child_path(path: str | None, key: str | int) -> str | None:
    """The path of member `key` (a string key or an array index) under `path`; None if unaddressable."""
    if path is None:
        return None
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}"
    if '"' in key:
        return None
    return f'{path}."{key}"'


@dataclass
class JsonNode:
    """One value of a document: where it is (`path`), its key in its parent, the value and its type."""

    path: str | None
    key: str | int | None
    value: Any
    type: str
    _children: list[JsonNode] | None = field(default=None, repr=False)

    @property
    def is_container(self) -> bool:
        """True for objects and arrays."""
        return self.type in ("object", "array")

    @property
    def child_count(self) -> int:
        """Members of an object or array (0 for a scalar), without building the children."""
        return len(self.value) if self.is_container else 0

    @property
    def children(self) -> list[JsonNode]:
        """The members, built on first use (a tree view expands one level at a time)."""
        if self._children is None:
            items: Iterator[tuple[str | int, Any]] = (
                (iter(self.value.items()) if self.type == "object" else enumerate(self.value))
                if self.is_container
                else iter(())
            )
            self._children = [JsonNode(child_path(self.path, k), k, v, json_type(v)) for k, v in items]
        return self._children

    def preview(self, max_chars: int = 80) -> str:
        """A one-line summary: `{3 keys}`, `[12 items]`, or the compact value."""
        if self.type == "object":
            return f"{{{self.child_count} key{'s' if self.child_count != 1 else ''}}}"
        if self.type == "array":
            return f"[{self.child_count} item{'s' if self.child_count != 1 else ''}]"
        text = compact_json(self.value)
        return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def parse_json(text: str | bytes) -> JsonNode:
    """The root node of the JSON document `text`; raises `NotJson` when it is not one."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotJson(str(exc)) from None
    return JsonNode("$", None, value, json_type(value))


def looks_like_json(text: str) -> bool:
    """A cheap test before parsing: an object or array (scalars are better shown as themselves)."""
    stripped = text.lstrip()
    return stripped[:1] in ("{", "[")


def compact_json(value: Any) -> str:
    """`value` as SQLite's `json()` writes it: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_text_expression(column: str) -> str:
    """SQL reading `column` as JSON text, whether it holds text or JSONB (SQLite ≥ 3.45 for JSONB)."""
    return f"json({quote_identifier(column)})"


def path_filter(column: str, path: str, value: Any) -> tuple[str, tuple[Any, ...]]:
    """SQL condition "value at `path` of `column` equals `value`", with its parameters (see
    `core/browse/filters.json_path_condition`, the one home of that condition)."""
    condition = json_path_condition(quote_identifier(column), path, value)
    return condition.sql, condition.params
