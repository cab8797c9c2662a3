"""Which grid columns hold timestamps: guessed from the first rows a grid loads, overridden per column by
the user, and the overrides remembered per database (QSettings)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings

from desktop_app.core.browse.paging import Truncated
from desktop_app.core.browse.row_sources import ColumnInfo
from desktop_app.core.values.timestamps import TimeEncoding, encoding_named, format_time, guess_time_encoding
from desktop_app.ui.settings import database_key, read_json

#: An override meaning "this column is not a timestamp" (nothing decoded, even when guessed).
NOT_A_TIMESTAMP = ""
#: Rows of the first page the guess looks at (each value is tried under every encoding, on the UI thread).
SAMPLE_ROWS = 64
#: Values looked at in all (a wide table gets fewer rows per column: the guess stays within a frame).
SAMPLE_VALUES = 1500
_PREFIX = "values/times/"


@dataclass(frozen=True)
class ColumnTime:
    """How a column reads as time: the encoding in use, the automatic guess, the user's choice."""

    encoding: TimeEncoding | None = None
    guessed: TimeEncoding | None = None
    override: str | None = None  #: an encoding name, `NOT_A_TIMESTAMP`, or None for the guess


def guess_times(columns: Sequence[ColumnInfo], rows: Sequence[Sequence[Any]]) -> dict[int, TimeEncoding]:
    """Column position → the encoding its sample reads as (columns that read as no time left out)."""
    sample = rows[: max(8, min(SAMPLE_ROWS, SAMPLE_VALUES // max(len(columns), 1)))]
    found: dict[int, TimeEncoding] = {}
    for position, column in enumerate(columns):
        values = [row[position] for row in sample if not isinstance(row[position], Truncated)]
        encoding = guess_time_encoding(column.name, column.declared_type, values)
        if encoding is not None:
            found[position] = encoding
    return found


def effective_encoding(guessed: TimeEncoding | None, override: str | None) -> TimeEncoding | None:
    """The encoding a column is read with: the user's override (by name, or "not a timestamp"), else the
    guess."""
    if override is None:
        return guessed
    return None if override == NOT_A_TIMESTAMP else encoding_named(override)


def time_text(value: Any, encoding: TimeEncoding) -> str | None:
    """`value` decoded as a UTC time under `encoding` (ISO-8601), or None when it does not decode."""
    moment = encoding.decode(value)
    return format_time(moment) if moment is not None else None


class TimePreferences:
    """Per database (by its path) and table: the encoding chosen for a column, and the columns shown as
    time in the grid. One JSON value per database; results of SQL queries use the table name ""."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def load(self, database_path: str | None, table: str) -> tuple[dict[str, str], set[str]]:
        """(column → encoding name or `NOT_A_TIMESTAMP`, columns shown as time) for `table`."""
        entry = self._tables(database_path).get(table, {})
        encodings = entry.get("encodings", {}) if isinstance(entry, dict) else {}
        shown = entry.get("shown", []) if isinstance(entry, dict) else []
        return (
            {str(k): str(v) for k, v in encodings.items()} if isinstance(encodings, dict) else {},
            {str(name) for name in shown} if isinstance(shown, list) else set(),
        )

    def save(self, database_path: str | None, table: str, encodings: dict[str, str], shown: set[str]) -> None:
        """Remember `table`'s choices for the database at `database_path` (nothing without a path)."""
        if database_path is None:
            return
        tables = self._tables(database_path)
        tables[table] = {"encodings": dict(encodings), "shown": sorted(shown)}
        value = {"path": database_path, "tables": tables}
        self.settings.setValue(_PREFIX + database_key(database_path), json.dumps(value))

    def _tables(self, database_path: str | None) -> dict[str, Any]:
        if database_path is None:
            return {}
        stored = read_json(self.settings, _PREFIX + database_key(database_path), {})
        tables = stored.get("tables", {})
        return tables if isinstance(tables, dict) else {}
