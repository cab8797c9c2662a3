"""What a comparison found: per table, schema changes and row counts; per row, old → new values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from desktop_app.core.diff.values import Value, same_value


class ChangeKind(StrEnum):
    """What happened to a row or a schema object between A and B."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class SchemaChange:
    """One schema object added, dropped or altered (`detail` says how, for tables: which columns)."""

    kind: ChangeKind
    object_type: str  #: "table", "view", "index", "trigger"
    name: str
    table: str
    old_sql: str | None
    new_sql: str | None
    detail: str = ""

    def describe(self) -> str:
        """'table "t" altered: column x added'."""
        text = f"{self.object_type} {self.name!r} {_VERBS[self.kind]}"
        return f"{text}: {self.detail}" if self.detail else text


_VERBS = {ChangeKind.ADDED: "added", ChangeKind.REMOVED: "dropped", ChangeKind.CHANGED: "altered"}


@dataclass(frozen=True)
class RowChange:
    """One row added, removed or changed. `old` and `new` line up with `TableDiff.columns`.

    `count` > 1 only when tables are compared by content: that many identical rows.
    """

    kind: ChangeKind
    key: tuple[Value, ...]
    old: tuple[Value, ...] | None
    new: tuple[Value, ...] | None
    count: int = 1

    def changed_columns(self) -> list[int]:
        """Indexes of the columns whose value differs (every column of an added or removed row)."""
        values = self.old if self.old is not None else self.new
        assert values is not None
        if self.old is None or self.new is None:
            return list(range(len(values)))
        return [i for i, (a, b) in enumerate(zip(self.old, self.new, strict=True)) if not same_value(a, b)]


class Matching(StrEnum):
    """How rows of a table are paired between the two sides."""

    ROWID = "rowid"
    KEY = "primary key"
    #: No key both sides share (or none usable): rows are compared by their whole content, so a changed
    #: row shows as one removed and one added.
    CONTENT = "whole-row content"
    #: Not compared row by row (a view, an FTS index over another table, a table on one side only).
    NONE = "not compared"


@dataclass
class TableDiff:
    """What changed in one table (or view, for schema changes)."""

    name: str
    kind: str  #: "table", "view", "virtual"
    #: Present on side A / side B.
    in_a: bool
    in_b: bool
    matching: Matching = Matching.NONE
    #: The columns of `RowChange.old`/`new`: B's columns in B's order, then the ones only A has.
    columns: list[str] = field(default_factory=list)
    #: The key columns shown for each row ("rowid" or the primary key), empty for content matching.
    key_columns: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    schema_changes: list[SchemaChange] = field(default_factory=list)
    #: Why rows were not compared, or how they were, in words ("compared by whole-row content: …").
    note: str = ""
    #: Set when the table could not be read on one side.
    error: str | None = None
    #: True once its rows have been compared to the end.
    done: bool = False

    @property
    def schema_changed(self) -> bool:
        """True when the table itself or one of its indexes or triggers changed."""
        return bool(self.schema_changes)

    @property
    def rows_changed(self) -> int:
        """Added + removed + changed rows."""
        return self.added + self.removed + self.changed

    @property
    def any_change(self) -> bool:
        """True when anything about the table differs."""
        return self.schema_changed or self.rows_changed > 0 or self.in_a != self.in_b

    def count(self, change: RowChange) -> None:
        """Add `change` to the table's counts."""
        if change.kind is ChangeKind.ADDED:
            self.added += change.count
        elif change.kind is ChangeKind.REMOVED:
            self.removed += change.count
        else:
            self.changed += change.count

    def summary(self) -> str:
        """'+3 rows, 1 changed in messages', 'new table t (3 rows)' or 'no changes in t'."""
        if not self.in_a or not self.in_b:
            rows = self.added or self.removed
            noun = "view" if self.kind == "view" else "table"
            what = f"new {noun}" if not self.in_a else f"dropped {noun}"
            return f"{what} {self.name}" + (f" ({_rows(rows)})" if rows else "")
        bits = []
        if self.added:
            bits.append(f"+{_rows(self.added)}")
        if self.removed:
            bits.append(f"−{_rows(self.removed)}")
        if self.changed:
            bits.append(f"{self.changed:,} changed")
        if self.schema_changed:
            bits.append("schema changed")
        return f"{', '.join(bits) or 'no changes'} in {self.name}"


@dataclass
class DatabaseDiff:
    """The whole comparison: every table's `TableDiff` and the schema changes outside tables."""

    tables: list[TableDiff] = field(default_factory=list)
    #: Database-level facts that differ (encoding, page size, user_version…), as "name: A → B".
    settings: list[str] = field(default_factory=list)
    #: Views, and indexes/triggers whose table is on neither side.
    other_changes: list[SchemaChange] = field(default_factory=list)
    complete: bool = False

    def table(self, name: str) -> TableDiff | None:
        """The entry of `name`, if any."""
        return next((t for t in self.tables if t.name == name), None)

    @property
    def changed_tables(self) -> list[TableDiff]:
        """Tables where anything differs."""
        return [t for t in self.tables if t.any_change]

    @property
    def identical(self) -> bool:
        """True when nothing differs (rows, schema; page size and encoding do not count)."""
        return not self.changed_tables and not self.other_changes

    def summary(self) -> str:
        """One line: '+3 rows in messages, 1 changed in threads' or 'no changes'."""
        parts = [table.summary() for table in self.changed_tables]
        parts += [change.describe() for change in self.other_changes]
        return "; ".join(parts) if parts else "no changes"


def _rows(count: int) -> str:
    return f"{count:,} row{'s' if count != 1 else ''}"
