"""What a database contains: tables, views, virtual and shadow tables, columns, keys, indexes, triggers."""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass, field
from enum import StrEnum

from desktop_app.core.sqlite.quoting import qualified, quote_identifier, quote_string

_VIRTUAL_MODULE = re.compile(r"\bUSING\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
#: Suffixes of the shadow tables FTS3/4/5 and R*Tree create beside a virtual table.
_SHADOW_SUFFIXES = ("_content", "_segments", "_segdir", "_docsize", "_stat", "_data", "_idx", "_config",
                    "_node", "_parent", "_rowid")  # fmt: skip


class TableKind(StrEnum):
    """What kind of relation a catalog entry is."""

    TABLE = "table"
    VIEW = "view"
    VIRTUAL = "virtual"
    SHADOW = "shadow"


@dataclass(frozen=True)
class Column:
    """One column as `PRAGMA table_xinfo` describes it."""

    name: str
    declared_type: str
    not_null: bool
    default: str | None
    pk_position: int  #: 1-based position in the primary key, 0 when not part of it
    hidden: int  #: 0 normal, 1 hidden (virtual tables), 2 generated virtual, 3 generated stored

    @property
    def generated(self) -> bool:
        """True for generated (computed) columns."""
        return self.hidden in (2, 3)


@dataclass(frozen=True)
class ForeignKey:
    """One foreign-key constraint (possibly several columns)."""

    target_table: str
    from_columns: tuple[str, ...]
    to_columns: tuple[str | None, ...]
    on_update: str
    on_delete: str


@dataclass(frozen=True)
class Index:
    """An index, automatic (from UNIQUE/PRIMARY KEY) or created."""

    name: str
    table: str
    unique: bool
    origin: str  #: "c" CREATE INDEX, "u" UNIQUE constraint, "pk" PRIMARY KEY
    partial: bool
    columns: tuple[str | None, ...]
    sql: str | None


@dataclass(frozen=True)
class Trigger:
    """A trigger and the table it belongs to."""

    name: str
    table: str
    sql: str


@dataclass
class Table:
    """A table, view or virtual table, with what the grid and the tree need to know."""

    name: str
    kind: TableKind
    sql: str | None
    schema: str = "main"
    columns: list[Column] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    without_rowid: bool = False
    strict: bool = False
    module: str | None = None  #: virtual table module, e.g. "fts5"
    internal: bool = False  #: sqlite_* tables kept by SQLite itself
    error: str | None = None  #: why its columns could not be read (e.g. a view over a dropped table)

    @property
    def quoted(self) -> str:
        """The table's name quoted for SQL (schema-qualified outside main)."""
        return qualified(self.schema, self.name)

    @property
    def has_rowid(self) -> bool:
        """True when rows can be addressed by rowid (ordinary rowid tables)."""
        return self.kind in (TableKind.TABLE, TableKind.SHADOW) and not self.without_rowid

    @property
    def primary_key(self) -> list[str]:
        """Primary-key column names in key order (empty when the table has none)."""
        keyed = sorted((c for c in self.columns if c.pk_position), key=lambda c: c.pk_position)
        return [c.name for c in keyed]

    @property
    def hidden_by_default(self) -> bool:
        """Shadow and internal tables are shown only on request."""
        return self.kind is TableKind.SHADOW or self.internal

    def column(self, name: str) -> Column | None:
        """The column called `name`, if any."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Catalog:
    """Everything in one schema of the snapshot."""

    tables: list[Table]
    indexes: list[Index]
    triggers: list[Trigger]

    def table(self, name: str) -> Table | None:
        """The table, view or virtual table called `name` (exact match first, then case-insensitive)."""
        exact = next((t for t in self.tables if t.name == name), None)
        if exact is not None:
            return exact
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)

    def visible_tables(self, include_hidden: bool = False) -> list[Table]:
        """Tables, views and virtual tables, without shadow/internal ones unless asked for."""
        return [t for t in self.tables if include_hidden or not t.hidden_by_default]

    def indexes_of(self, table: str) -> list[Index]:
        """Indexes on `table`."""
        return [i for i in self.indexes if i.table == table]

    def triggers_of(self, table: str) -> list[Trigger]:
        """Triggers on `table`."""
        return [t for t in self.triggers if t.table == table]


def read_catalog(conn: sqlite3.Connection, schema: str = "main") -> Catalog:
    """Read the catalog of `schema`; a table whose columns cannot be read gets an `error`, not a raise."""
    master = "sqlite_temp_master" if schema == "temp" else f"{quote_identifier(schema)}.sqlite_master"
    rows = conn.execute(f"SELECT type, name, tbl_name, sql FROM {master} ORDER BY name").fetchall()
    flags = _table_list_flags(conn, schema)
    tables: list[Table] = []
    indexes_sql: dict[str, str | None] = {}
    triggers: list[Trigger] = []
    for kind, name, tbl_name, sql in rows:
        if kind in ("table", "view"):
            tables.append(_make_table(kind, name, sql, schema, flags.get(name)))
        elif kind == "index":
            indexes_sql[name] = sql
        elif kind == "trigger":
            triggers.append(Trigger(name, tbl_name, sql or ""))
    _mark_shadow_tables(tables)
    for table in tables:
        _read_columns(conn, table)
    indexes = [
        idx
        for table in tables
        if table.kind is TableKind.TABLE
        for idx in _read_indexes(conn, table, indexes_sql)
    ]
    return Catalog(tables, indexes, triggers)


def _table_list_flags(conn: sqlite3.Connection, schema: str) -> dict[str, tuple[str, bool, bool]]:
    """name → (type, without_rowid, strict) from `PRAGMA table_list` (SQLite ≥ 3.37), else empty."""
    try:
        rows = conn.execute(f"PRAGMA {quote_identifier(schema)}.table_list").fetchall()
    except sqlite3.Error:
        return {}
    return {row[1]: (row[2], bool(row[4]), bool(row[5])) for row in rows}


def _make_table(
    kind: str, name: str, sql: str | None, schema: str, flag: tuple[str, bool, bool] | None
) -> Table:
    text = sql or ""
    if kind == "view":
        table_kind = TableKind.VIEW
    elif text.upper().startswith("CREATE VIRTUAL TABLE"):
        table_kind = TableKind.VIRTUAL
    elif flag is not None and flag[0] == "shadow":
        table_kind = TableKind.SHADOW
    else:
        table_kind = TableKind.TABLE
    module_match = _VIRTUAL_MODULE.search(text) if table_kind is TableKind.VIRTUAL else None
    without_rowid = flag[1] if flag else bool(re.search(r"\)\s*WITHOUT\s+ROWID\s*[,;]?\s*$", text, re.I))
    strict = flag[2] if flag else bool(re.search(r"\)\s*(?:WITHOUT\s+ROWID\s*,\s*)?STRICT\s*$", text, re.I))
    return Table(
        name=name,
        kind=table_kind,
        sql=sql,
        schema=schema,
        without_rowid=without_rowid,
        strict=strict,
        module=module_match.group(1).lower() if module_match else None,
        internal=name.lower().startswith("sqlite_"),
    )


def _mark_shadow_tables(tables: list[Table]) -> None:
    """Mark shadow tables of virtual tables where `PRAGMA table_list` could not (old SQLite)."""
    virtual = [t.name for t in tables if t.kind is TableKind.VIRTUAL]
    for table in tables:
        if table.kind is TableKind.TABLE and any(
            table.name.startswith(v + "_") and table.name[len(v) :] in _SHADOW_SUFFIXES for v in virtual
        ):
            table.kind = TableKind.SHADOW


def _read_columns(conn: sqlite3.Connection, table: Table) -> None:
    try:
        rows = conn.execute(
            'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?)',
            (table.name, table.schema),
        ).fetchall()
        table.columns = [Column(r[0], r[1] or "", bool(r[2]), r[3], int(r[4]), int(r[5])) for r in rows]
        if table.kind is TableKind.TABLE:
            fk_rows = conn.execute(
                'SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?, ?) '
                "ORDER BY id, seq",
                (table.name, table.schema),
            ).fetchall()
            table.foreign_keys = _group_foreign_keys(fk_rows)
    except sqlite3.Error as exc:
        table.error = str(exc)
    except UnicodeDecodeError:  # SQLite's message quotes a name whose bytes are not UTF-8
        table.error = "its definition refers to a name that is not valid UTF-8 (a damaged schema?)"


def _group_foreign_keys(rows: list[tuple[int, str, str, str | None, str, str]]) -> list[ForeignKey]:
    grouped: dict[int, list[tuple[int, str, str, str | None, str, str]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [
        ForeignKey(
            target_table=parts[0][1],
            from_columns=tuple(p[2] for p in parts),
            to_columns=tuple(p[3] for p in parts),
            on_update=parts[0][4],
            on_delete=parts[0][5],
        )
        for parts in grouped.values()
    ]


def _read_indexes(conn: sqlite3.Connection, table: Table, sql_by_name: dict[str, str | None]) -> list[Index]:
    try:
        listed = conn.execute(
            'SELECT name, "unique", origin, partial FROM pragma_index_list(?, ?)', (table.name, table.schema)
        ).fetchall()
        result = []
        for name, unique, origin, partial in listed:
            columns = conn.execute(
                "SELECT name FROM pragma_index_info(?, ?) ORDER BY seqno", (name, table.schema)
            ).fetchall()
            result.append(
                Index(
                    name,
                    table.name,
                    bool(unique),
                    origin,
                    bool(partial),
                    tuple(c[0] for c in columns),
                    sql_by_name.get(name),
                )
            )
        return result
    except sqlite3.Error:
        return []


@dataclass(frozen=True)
class RowCount:
    """A table's row count: exact, or an estimate to be refined."""

    value: int | None
    exact: bool

    def label(self) -> str:
        """'1,234', '≈ 1,234' or '?'."""
        if self.value is None:
            return "?"
        return f"{self.value:,}" if self.exact else f"≈ {self.value:,}"


def count_rows(conn: sqlite3.Connection, table: Table, budget_s: float | None = None) -> RowCount:
    """Count `table`'s rows; with `budget_s`, give up after that long and return an estimate instead."""
    sql = f"SELECT count(*) FROM {table.quoted}"
    if budget_s is None:
        return RowCount(conn.execute(sql).fetchone()[0], True)
    deadline = time.monotonic() + budget_s
    stopped = [False]

    def over_budget() -> int:
        if time.monotonic() > deadline:
            stopped[0] = True
            return 1
        return 0

    conn.set_progress_handler(over_budget, 10_000)
    try:
        return RowCount(conn.execute(sql).fetchone()[0], True)
    except sqlite3.OperationalError:
        if not stopped[0]:
            raise
    finally:
        conn.set_progress_handler(None, 0)
    return estimate_rows(conn, table)


def estimate_rows(conn: sqlite3.Connection, table: Table) -> RowCount:
    """A quick estimate: sqlite_stat1 when ANALYZE ran, else max(rowid) for rowid tables."""
    try:
        row = conn.execute(
            f"SELECT stat FROM {qualified(table.schema, 'sqlite_stat1')} "
            f"WHERE tbl = {quote_string(table.name)} "
            "AND idx IS NULL"
        ).fetchone()
        if row and row[0]:
            return RowCount(int(str(row[0]).split()[0]), False)
    except sqlite3.Error:
        pass
    if table.has_rowid:
        try:
            value = conn.execute(f"SELECT max(rowid) FROM {table.quoted}").fetchone()[0]
            return RowCount(int(value) if value is not None else 0, False)
        except sqlite3.Error:
            pass
    return RowCount(None, False)
