"""What a database contains: tables, views, virtual and shadow tables, columns, keys, indexes, triggers."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from desktop_app.core.schema.fts import SHADOW_SUFFIXES, virtual_module
from desktop_app.core.sqlite.guard import PRIVATE_SCHEMA_PREFIX
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.quoting import qualified, quote_identifier, quote_string

#: A module name where `virtual_module` cannot parse the statement's head.
_VIRTUAL_MODULE = re.compile(r"\bUSING\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
#: Suffixes of the shadow tables FTS3/4/5 and R*Tree create beside a virtual table.
_SHADOW_SUFFIXES = (*SHADOW_SUFFIXES, "_node", "_parent", "_rowid")
#: The table options after a CREATE TABLE's closing parenthesis: WITHOUT ROWID and STRICT, in any order.
_COMMENT = re.compile(r"/\*.*?(?:\*/|$)|--[^\n]*", re.DOTALL)
_GAP = r"(?:\s|/\*.*?\*/|--[^\n]*(?:\n|$))*"
_OPTION = rf"(?:WITHOUT{_GAP}ROWID|STRICT)"
_TABLE_OPTIONS = re.compile(
    rf"\)({_GAP}{_OPTION}{_GAP}(?:,{_GAP}{_OPTION}{_GAP})*);?{_GAP}$", re.IGNORECASE | re.DOTALL
)

#: The statement that creates an empty `sqlite_stat1` (CREATE TABLE refuses the name): ANALYZE of the
#: schema table, which has no index to describe.
CREATE_STAT1_SQL = "ANALYZE sqlite_schema"
#: The names SQLite gives the b-tree that holds the schema itself (dbstat reports it by the legacy one).
SCHEMA_TABLE_NAMES = frozenset({"sqlite_schema", "sqlite_master"})
#: The schema table's name as SQLite spells it today.
SCHEMA_TABLE = "sqlite_schema"


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


class TableKind(StrEnum):
    """What kind of relation a catalog entry is."""

    TABLE = "table"
    VIEW = "view"
    VIRTUAL = "virtual"
    SHADOW = "shadow"


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
    rows = _schema_rows(conn, schema, ("table", "view", "index", "trigger"))
    tables = _tables(conn, schema, rows, hidden=True)
    for table in tables:
        if table.kind is TableKind.TABLE and table.error is None:
            _read_foreign_keys(conn, table)
    indexes_sql = {name: sql for kind, name, _tbl, sql in rows if kind == "index"}
    triggers = [Trigger(name, tbl_name, sql or "") for kind, name, tbl_name, sql in rows if kind == "trigger"]
    indexes = [
        idx
        for table in tables
        if table.kind is TableKind.TABLE
        for idx in _read_indexes(conn, table, indexes_sql)
    ]
    return Catalog(tables, indexes, triggers)


def read_tables(conn: sqlite3.Connection, schema: str = "main", *, hidden: bool = True) -> list[Table]:
    """The tables and views of `schema` by name, with their columns but no indexes, triggers or foreign keys.

    Cheaper than `read_catalog` for readers that need only names, columns and keys (search, migrations).
    Without `hidden`, shadow and internal tables are left out (and their columns are never read).
    """
    return _tables(conn, schema, _schema_rows(conn, schema, ("table", "view")), hidden=hidden)


def read_table(conn: sqlite3.Connection, name: str, schema: str = "main") -> Table | None:
    """The table or view called `name` in `schema` (exact match first, then case-insensitive), or None.

    Raises `sqlite3.Error` when `schema` cannot be read (say it is not attached).
    """
    master = _master(schema)
    select = f"SELECT type, name, tbl_name, sql FROM {master} WHERE type IN ('table', 'view')"
    row = conn.execute(f"{select} AND name = ?", (name,)).fetchone()
    if row is None:  # names are case-insensitive in SQLite (ASCII only, like lower())
        row = conn.execute(f"{select} AND lower(name) = lower(?)", (name,)).fetchone()
    if row is None:
        return None
    table = _make_table(row[0], row[1], row[3], schema, _table_list_flags(conn, schema, row[1]).get(row[1]))
    _read_columns(conn, table)
    return table


def table_declared_by(sql: str) -> Table | None:
    """The table one CREATE TABLE statement declares, read by SQLite in a scratch memory database
    (deleted-record recovery learns dropped tables' columns from statements carved from free space)."""
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute("PRAGMA trusted_schema = OFF")
        scratch.execute(sql)
        names = [r[0] for r in scratch.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
        return read_table(scratch, names[0]) if len(names) == 1 else None
    except sqlite3.Error:
        return None
    finally:
        scratch.close()


def index_names(conn: sqlite3.Connection, table: str, schema: str = "main") -> list[str]:
    """Names of the indexes on `table` (automatic ones too), without reading their columns."""
    return [row[0] for row in _index_list(conn, table, schema)]


def schema_sql_containing(conn: sqlite3.Connection, word: str) -> list[str]:
    """The CREATE statements of `main` and `temp` whose text contains `word` (ASCII case-insensitive)."""
    pattern = f"%{word}%"
    rows = conn.execute("SELECT sql FROM sqlite_schema WHERE sql LIKE ?", (pattern,)).fetchall()
    rows += conn.execute("SELECT sql FROM sqlite_temp_schema WHERE sql LIKE ?", (pattern,)).fetchall()
    return [sql for (sql,) in rows]


def root_pages(conn: sqlite3.Connection, schema: str = "main") -> list[tuple[str, str, str, int]]:
    """(type, name, table name, root page) of every b-tree in the schema (tables and indexes)."""
    sql = f"SELECT type, name, tbl_name, rootpage FROM {_master(schema)} WHERE type IN ('table', 'index')"
    return [(kind, name, table, root or 0) for kind, name, table, root in conn.execute(sql).fetchall()]


def btree_roots(conn: sqlite3.Connection, schema: str = "main") -> dict[str, tuple[str, int]]:
    """Every table and index stored in a b-tree: name → (the table it belongs to, its root page)."""
    return {name: (table, root) for _kind, name, table, root in root_pages(conn, schema) if name and root > 0}


def declared_options(sql: str | None) -> tuple[bool, bool]:
    """(WITHOUT ROWID, STRICT) as a CREATE TABLE statement declares them, in either order.

    Only for SQLite before 3.37, which has no `PRAGMA table_list` to say so.
    """
    tail = _TABLE_OPTIONS.search(sql or "")
    if tail is None:
        return False, False
    words = {word.upper() for word in re.findall(r"[A-Za-z]+", _COMMENT.sub(" ", tail.group(1)))}
    return "ROWID" in words, "STRICT" in words


def _master(schema: str) -> str:
    return "sqlite_temp_master" if schema == "temp" else f"{quote_identifier(schema)}.sqlite_master"


def _schema_rows(
    conn: sqlite3.Connection, schema: str, types: tuple[str, ...]
) -> list[tuple[str, str, str, str | None]]:
    marks = ", ".join("?" for _ in types)
    # A damaged schema row can hold a blob or number where text belongs: read every column as text.
    sql = (
        "SELECT type, CAST(name AS TEXT), CAST(tbl_name AS TEXT), CAST(sql AS TEXT) "
        f"FROM {_master(schema)} WHERE type IN ({marks}) ORDER BY name"
    )
    rows = conn.execute(sql, types).fetchall()
    return [row for row in rows if row[1] is not None]


def _tables(
    conn: sqlite3.Connection, schema: str, rows: list[tuple[str, str, str, str | None]], *, hidden: bool
) -> list[Table]:
    flags = _table_list_flags(conn, schema)
    tables = [
        _make_table(kind, name, sql, schema, flags.get(name))
        for kind, name, _tbl, sql in rows
        if kind in ("table", "view")
    ]
    _mark_shadow_tables(tables)
    if not hidden:
        tables = [t for t in tables if not t.hidden_by_default]
    for table in tables:
        _read_columns(conn, table)
    return tables


def _table_list_flags(
    conn: sqlite3.Connection, schema: str, name: str | None = None
) -> dict[str, tuple[str, bool, bool]]:
    """name → (type, without_rowid, strict) from `PRAGMA table_list` (SQLite ≥ 3.37), else empty."""
    argument = f"({quote_string(name)})" if name is not None else ""
    try:
        rows = conn.execute(f"PRAGMA {quote_identifier(schema)}.table_list{argument}").fetchall()
    except sqlite3.Error:
        return {}
    return {row[1]: (row[2], bool(row[4]), bool(row[5])) for row in rows}


def _make_table(
    kind: str, name: str, sql: str | None, schema: str, flag: tuple[str, bool, bool] | None
) -> Table:
    text = sql or ""
    if kind == "view":
        table_kind = TableKind.VIEW
    elif (flag is not None and flag[0] == "virtual") or text.lstrip().upper().startswith("CREATE VIRTUAL"):
        table_kind = TableKind.VIRTUAL
    elif flag is not None and flag[0] == "shadow":
        table_kind = TableKind.SHADOW
    else:
        table_kind = TableKind.TABLE
    module = None
    if table_kind is TableKind.VIRTUAL:
        loose = _VIRTUAL_MODULE.search(text)
        module = virtual_module(text)[0] or (loose.group(1).lower() if loose else None)
    without_rowid, strict = flag[1:] if flag is not None else declared_options(text)
    return Table(
        name=name,
        kind=table_kind,
        sql=sql,
        schema=schema,
        without_rowid=without_rowid,
        strict=strict,
        module=module,
        internal=name.lower().startswith("sqlite_"),
    )


def _mark_shadow_tables(tables: list[Table]) -> None:
    """Mark shadow tables `PRAGMA table_list` could not tell (old SQLite, the module not loaded)."""
    virtual = [t.name for t in tables if t.kind is TableKind.VIRTUAL]
    for table in tables:
        if table.kind is TableKind.TABLE and any(
            table.name.startswith(v + "_") and table.name[len(v) :] in _SHADOW_SUFFIXES for v in virtual
        ):
            table.kind = TableKind.SHADOW


def _read_columns(conn: sqlite3.Connection, table: Table) -> None:
    with _noting_errors(table):
        rows = conn.execute(
            'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?)',
            (table.name, table.schema),
        ).fetchall()
        table.columns = [Column(r[0], r[1] or "", bool(r[2]), r[3], int(r[4]), int(r[5])) for r in rows]


def _read_foreign_keys(conn: sqlite3.Connection, table: Table) -> None:
    with _noting_errors(table):
        fk_rows = conn.execute(
            'SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?, ?) '
            "ORDER BY id, seq",
            (table.name, table.schema),
        ).fetchall()
        table.foreign_keys = _group_foreign_keys(fk_rows)


@contextmanager
def _noting_errors(table: Table) -> Iterator[None]:
    """Keep why `table` cannot be read in its `error` instead of raising."""
    try:
        yield
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
        result = []
        for name, unique, origin, partial in _index_list(conn, table.name, table.schema):
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


def _index_list(conn: sqlite3.Connection, table: str, schema: str) -> list[tuple[str, int, str, int]]:
    return conn.execute(
        'SELECT name, "unique", origin, partial FROM pragma_index_list(?, ?)', (table, schema)
    ).fetchall()


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
    with stoppable(conn, deadline=time.monotonic() + budget_s) as stop:
        try:
            return RowCount(conn.execute(sql).fetchone()[0], True)
        except sqlite3.OperationalError:
            if not stop.timed_out:
                raise
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


def attached_schemas(conn: sqlite3.Connection) -> list[str]:
    """Names of the databases attached beside `main` (not `temp`), in the order they were attached.

    The program's own private attachments (the search index) are left out.
    """
    names = [row[1] for row in conn.execute("PRAGMA database_list")]
    return [n for n in names if n not in ("main", "temp") and not n.startswith(PRIVATE_SCHEMA_PREFIX)]
