"""Reading QSettings back as the type that was written.

QSettings hands back what its backend stored: an INI file (Linux, and tests) gives the strings "true",
"12" or a bare string for a one-item list; the Windows registry and macOS give typed values. Every
setting is read through these, never with `settings.value` compared by hand.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from PySide6.QtCore import QSettings

T = TypeVar("T")

_TRUE = frozenset({"true", "1", "yes", "on"})


def read_bool(settings: QSettings, key: str, default: bool = False) -> bool:
    """The boolean at `key` ("true"/"false" from an INI file, a bool elsewhere), else `default`."""
    value = settings.value(key, default)
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    if isinstance(value, bool | int):
        return bool(value)
    return default


def read_str(settings: QSettings, key: str, default: str = "") -> str:
    """The text at `key`, else `default` (also for an empty value)."""
    value = settings.value(key, default)
    if value is None or value == "" or isinstance(value, list | tuple | dict):
        return default
    return str(value)


def read_int(settings: QSettings, key: str, default: int = 0) -> int:
    """The whole number at `key`, else `default` (also for text that is not a number)."""
    value = settings.value(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def read_str_list(settings: QSettings, key: str) -> list[str]:
    """The list of texts at `key` (an INI file gives back a one-item list as a plain string)."""
    value = settings.value(key, [])
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


def read_json(settings: QSettings, key: str, default: T) -> T:
    """The JSON value stored as text at `key` when it has `default`'s type, else `default`."""
    raw = settings.value(key)
    if not isinstance(raw, str):
        return default
    try:
        value: Any = json.loads(raw)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def database_key(database_path: str) -> str:
    """A short key naming a database in settings (a hash of its path: any path is a valid key)."""
    return hashlib.sha1(database_path.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def per_database_key(prefix: str, database_path: str) -> str:
    """`prefix/<hash of the path>`: a key of its own for each database file (a path is no valid key)."""
    return f"{prefix}/{database_key(database_path)}"


def read_column_widths(settings: QSettings, database: str, table: str) -> dict[str, int]:
    """The column widths (column name → px) the user chose for `table` of the database at `database`."""
    widths = read_json(settings, per_database_key("browse/column_widths", database), {}).get(table, {})
    if not isinstance(widths, dict):
        return {}
    return {str(name): int(px) for name, px in widths.items() if isinstance(px, int) and px > 0}


def write_column_widths(settings: QSettings, database: str, table: str, widths: dict[str, int]) -> None:
    """Remember `widths` (column name → px) for `table` of the database at `database`."""
    key = per_database_key("browse/column_widths", database)
    tables = read_json(settings, key, {})
    tables[table] = dict(widths)
    settings.setValue(key, json.dumps(tables))
