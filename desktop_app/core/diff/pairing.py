"""Putting the two sides on one connection: side B attached to a connection of side A.

B's memory snapshot is attached as it is (a named memdb is visible to every connection of this process).
When that cannot be done — B is read straight from its file, or its text encoding differs from A's (SQLite
attaches only databases of the main database's encoding) — B's compared tables are first copied, page by
page, into a private memory database in A's encoding, with no column types so every value keeps its
storage class, and rowids (or keys) kept.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field

from desktop_app.core.diff.schema_changes import compared_tables
from desktop_app.core.diff.values import use_exact_text
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Catalog, Table, TableKind, read_catalog
from desktop_app.core.snapshot.reading import begin_read, readonly_uri_path
from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode
from desktop_app.core.sqlite.guard import (
    attach_memory_database,
    attach_read_only_file,
    detach_database,
    unguarded,
)
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier

#: The schema name side B is attached under on A's connection.
B_SCHEMA = "diff_b"
#: Names SQLite accepts for a rowid; the first one no column takes is used.
ROWID_NAMES = ("rowid", "_rowid_", "oid")


@dataclass
class Pair:
    """A connection to side A with side B attached as `B_SCHEMA`, and both catalogs."""

    conn: sqlite3.Connection
    catalog_a: Catalog
    catalog_b: Catalog
    #: "encoding: UTF-8 → UTF-16le" and the like.
    settings: list[str] = field(default_factory=list)
    #: How B was attached, in words ("copied into A's encoding", …), or "".
    note: str = ""
    #: Table name → its name in `B_SCHEMA` (the same, unless B's tables were copied under plain names).
    b_names: dict[str, str] = field(default_factory=dict)
    _scratch: sqlite3.Connection | None = None

    def close(self) -> None:
        """Close the connection and free a copy of B made for the comparison."""
        try:
            detach_database(self.conn, B_SCHEMA)
        except sqlite3.Error:
            pass
        self.conn.close()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None


_SETTINGS = ("encoding", "page_size", "user_version", "application_id", "auto_vacuum")


def open_pair(
    a: Snapshot,
    b: Snapshot,
    cancel: CancelToken | None = None,
    progress: ProgressCallback = ignore_progress,
    *,
    in_place: bool = False,
) -> Pair:
    """Connect to `a` and attach `b` to it (copying B's tables when it cannot be attached as it is).

    `in_place` (a comparison run once, e.g. the CLI's): a B read straight from its file is attached as it
    is rather than copied, and both sides are read inside one read transaction held until `close`, so each
    file shows one committed state (a program writing either waits until then)."""
    cancel = cancel or CancelToken()
    conn = a.connect()
    use_exact_text(conn)
    if b.schema_trusted and not a.schema_trusted:  # B's schema loads only trusted (see Snapshot.schema_needs)
        with unguarded(conn):
            conn.execute("PRAGMA trusted_schema=ON")
    b_conn = b.connect()
    use_exact_text(b_conn)
    scratch: sqlite3.Connection | None = None
    try:
        if in_place:  # B's state is held from here: the attached B below reads the same one
            begin_read(b_conn, b.path.name)
        catalog_b = read_catalog(b_conn)
        facts_b = _facts(b_conn)
        encoding_a = conn.execute("PRAGMA encoding").fetchone()[0]
        same_encoding = encoding_a == facts_b["encoding"]
        note, b_names = "", dict[str, str]()
        if b.mode is SnapshotMode.MEMORY and same_encoding:
            attach_memory_database(conn, b.uri, B_SCHEMA)
        elif in_place and b.mode.direct and same_encoding:
            attach_read_only_file(conn, readonly_uri_path(b.uri), B_SCHEMA)
        else:
            why = "B is read from its file" if b.mode.direct else "the two use different text encodings"
            note = f"B's tables were copied into memory for the comparison ({why})."
            scratch = _copy_side(
                b_conn, catalog_b, encoding_a, cancel, progress, b_names, same_encoding=same_encoding
            )
            attach_memory_database(conn, _scratch_uri(scratch), B_SCHEMA)
        if in_place:  # ATTACH cannot run inside a transaction: A's state is held from here
            begin_read(conn, a.path.name, ("main", B_SCHEMA))
        catalog_a = read_catalog(conn)
        facts_a = _facts(conn)
        settings = [f"{n}: {facts_a[n]} → {facts_b[n]}" for n in _SETTINGS if facts_a[n] != facts_b[n]]
        return Pair(conn, catalog_a, catalog_b, settings, note=note, b_names=b_names, _scratch=scratch)
    except BaseException:
        conn.close()
        if scratch is not None:
            scratch.close()
        raise
    finally:
        b_conn.close()


def _facts(conn: sqlite3.Connection) -> dict[str, object]:
    return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _SETTINGS}


def usable_rowid(table: Table) -> str | None:
    """The name that reaches `table`'s rowid (none when every alias is a column, or it has no rowid)."""
    if table.without_rowid or table.kind is TableKind.VIEW:
        return None
    alias = rowid_alias(table)
    if alias is not None:
        return alias
    names = {c.name.lower() for c in table.columns}
    return next((n for n in ROWID_NAMES if n not in names), None)


def rowid_alias(table: Table) -> str | None:
    """The INTEGER PRIMARY KEY column that is the rowid of `table` under its own name, or None."""
    key = [c for c in table.columns if c.pk_position]
    if table.kind is TableKind.TABLE and len(key) == 1 and key[0].declared_type.upper() == "INTEGER":
        return key[0].name
    return None


def key_and_columns(rowid: str | None, columns: list[str]) -> list[str]:
    """The rowid (unless it is one of `columns`, an INTEGER PRIMARY KEY) and `columns`, quoted."""
    head = [quote_identifier(rowid)] if rowid is not None and rowid not in columns else []
    return head + [quote_identifier(c) for c in columns]


def compared_columns(table: Table) -> list[str]:
    """The columns compared: stored ones (generated and virtual tables' hidden columns follow from them)."""
    return [c.name for c in table.columns if c.hidden == 0]


_scratch_uris: dict[int, str] = {}


def _scratch_uri(keeper: sqlite3.Connection) -> str:
    return _scratch_uris[id(keeper)]


def _copy_side(
    source: sqlite3.Connection,
    catalog: Catalog,
    encoding: str,
    cancel: CancelToken,
    progress: ProgressCallback,
    names: dict[str, str],
    same_encoding: bool,
) -> sqlite3.Connection:
    """Copy the compared tables of `source` into a new private memdb in `encoding`; return its keeper."""
    uri = f"file:/diff-{uuid.uuid4().hex}?vfs=memdb"
    keeper = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    _scratch_uris[id(keeper)] = uri
    keeper.execute(f"PRAGMA encoding = '{encoding}'")
    tables = [
        t for t in compared_tables(catalog).values() if t.kind is not TableKind.VIEW and t.error is None
    ]
    for number, table in enumerate(tables):
        progress(Progress(number, len(tables), f"copying {table.name}"))
        columns = compared_columns(table)
        rowid = usable_rowid(table)
        copy = names[table.name] = f"t{number}"  # sqlite_sequence and the like cannot be created by name
        listed = ", ".join(quote_identifier(c) for c in columns)
        keeper.execute(f"CREATE TABLE {copy}({listed or 'x'})")
        if table.primary_key and rowid is None:
            keys = ", ".join(quote_identifier(c) for c in table.primary_key)
            keeper.execute(f"CREATE INDEX k{number} ON {copy}({keys})")
        targets = key_and_columns(rowid, columns)
        if not columns:
            continue
        # Each value travels with a flag "was text", text as its bytes: text that is not valid UTF-8 keeps
        # every byte (Python would replace them) and comes back as TEXT in the same encoding. In another
        # encoding SQLite converts text for Python, where it is always valid.
        if same_encoding:
            selected = [
                f"typeof({t}) = 'text', CASE WHEN typeof({t}) = 'text' THEN CAST({t} AS BLOB) ELSE {t} END"
                for t in targets
            ]
        else:
            selected = [f"0, {t}" for t in targets]
        values = [
            f"CASE WHEN ?{2 * i + 1} THEN CAST(?{2 * i + 2} AS TEXT) ELSE ?{2 * i + 2} END"
            for i in range(len(targets))
        ]
        insert = f"INSERT INTO {copy}({', '.join(targets)}) VALUES ({', '.join(values)})"
        with cancellable(source, cancel):
            cursor = source.execute(f"SELECT {', '.join(selected)} FROM {table.quoted}")
            keeper.execute("BEGIN")
            while rows := cursor.fetchmany(LIMITS.page_rows):
                keeper.executemany(insert, rows)
            keeper.execute("COMMIT")
    return keeper
