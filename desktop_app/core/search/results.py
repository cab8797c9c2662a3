"""What a search reports: hits, and the events of a search as it streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Method(StrEnum):
    """How a table was searched.

    The values are words for the user: the Search pane says "searched by …" and "found by …" with
    them, and `search --json` writes them as each table's `method`.
    """

    SCAN = "scan"
    FTS = "full-text table"
    INDEX = "search index"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RowKey:
    """Where a hit's row is: its rowid, or its primary-key values (WITHOUT ROWID tables)."""

    columns: tuple[str, ...]
    values: tuple[Any, ...]
    is_rowid: bool

    def as_dict(self) -> dict[str, Any]:
        """Column name → value."""
        return dict(zip(self.columns, self.values, strict=True))

    def label(self) -> str:
        """A short text form, e.g. `rowid=5` or `a=1, b='x'`."""
        return ", ".join(f"{name}={value!r}" for name, value in zip(self.columns, self.values, strict=True))


@dataclass(frozen=True)
class Hit:
    """One matching value: a (row, column) of a table or view."""

    table: str
    column: str
    #: None for views (and the rare table whose rowid cannot be reached).
    key: RowKey | None
    #: The value's storage class: text, integer, real or blob.
    value_type: str
    snippet: str
    #: (start, end) of each match inside `snippet`, to highlight.
    spans: tuple[tuple[int, int], ...]
    #: Character offset of the first match in the whole value.
    match_start: int
    method: Method = Method.SCAN

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "table": self.table,
            "column": self.column,
            "key": self.key.as_dict() if self.key else None,
            "type": self.value_type,
            "snippet": self.snippet,
            "spans": [list(span) for span in self.spans],
            "match_start": self.match_start,
            "method": self.method.value,
        }


@dataclass(frozen=True)
class SearchStarted:
    """The first event: which tables will be searched, and whether the index answers."""

    tables: tuple[str, ...]
    uses_index: bool
    #: Why the index is not used for this search (None when it is, or when there is none).
    note: str | None = None


@dataclass(frozen=True)
class HitBatch:
    """Hits found in one table since the last batch."""

    table: str
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class TableDone:
    """One table is finished (searched, skipped or failed): progress is `tables_done` of `tables_total`."""

    table: str
    hits: int
    truncated: bool
    method: Method
    tables_done: int
    tables_total: int
    #: Why the table was skipped or failed, or how it was searched when that is worth saying.
    note: str | None = None
    error: bool = False


@dataclass(frozen=True)
class SearchFinished:
    """The last event of a search that was not cancelled."""

    hits: int
    tables_done: int
    tables_total: int
    #: True when a limit stopped the search (or a table) before everything was seen.
    truncated: bool
    elapsed_s: float


SearchEvent = SearchStarted | HitBatch | TableDone | SearchFinished


@dataclass
class SearchResult:
    """Every event of a search, collected (for the CLI and tests)."""

    started: SearchStarted
    hits: list[Hit] = field(default_factory=list)
    tables: list[TableDone] = field(default_factory=list)
    finished: SearchFinished | None = None

    def table(self, name: str) -> TableDone | None:
        """The report of table `name`."""
        return next((t for t in self.tables if t.table == name), None)
