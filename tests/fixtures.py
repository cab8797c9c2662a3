"""One database full of awkward cases (Datasette-style), built by code for any test that wants it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path
from typing import Any

from desktop_app.core.database import Database
from desktop_app.core.schema.catalog import Catalog, read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot

#: Table names every feature must handle.
AWKWARD_TABLES = [
    "it's",
    'q"t',
    "table]name",
    "Order Details",
    "select",
    "",
    "😀 emoji",
    "[x]",
    "`x`",
    "a.b/c",
]


def build_edge_case_database(path: Path) -> Path:
    """Create the edge-case database at `path` and return it."""
    conn = sqlite3.connect(path)
    try:
        for index, name in enumerate(AWKWARD_TABLES):
            quoted = '"' + name.replace('"', '""') + '"'
            conn.execute(f'CREATE TABLE {quoted} (id INTEGER PRIMARY KEY, "col ""quoted""" TEXT, value)')
            conn.executemany(
                f"INSERT INTO {quoted} VALUES (?, ?, ?)",
                [(i, f"row {i} of {name!r}", i * index) for i in range(1, 6)],
            )
        conn.executescript(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
            CREATE TABLE child (
                id INTEGER PRIMARY KEY,
                parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE,
                note TEXT
            );
            CREATE TABLE compound (a TEXT, b INTEGER, payload BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID;
            CREATE TABLE strict_table (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, t TEXT) STRICT;
            CREATE TABLE generated (
                a INTEGER, b INTEGER,
                total INTEGER GENERATED ALWAYS AS (a + b) VIRTUAL,
                doubled INTEGER GENERATED ALWAYS AS (a * 2) STORED
            );
            CREATE TABLE mixed (v);
            CREATE VIEW parent_names AS SELECT name FROM parent;
            CREATE TABLE doomed (x);
            CREATE VIEW broken_view AS SELECT x FROM doomed;
            DROP TABLE doomed;
            CREATE VIRTUAL TABLE docs USING fts5(title, body);
            CREATE INDEX child_parent ON child(parent_id);
            CREATE TRIGGER parent_touch AFTER UPDATE ON parent BEGIN SELECT 1; END;
            """
        )
        conn.executemany("INSERT INTO parent VALUES (?, ?)", [(1, "Ann"), (2, "Émile"), (3, "")])
        conn.executemany("INSERT INTO child VALUES (?, ?, ?)", [(1, 1, None), (2, 2, "")])
        conn.executemany(
            "INSERT INTO compound VALUES (?, ?, ?)",
            [("k/1", 1, b"\x00\x01"), ("k/1", 2, None), ("z", 0, b"")],
        )
        conn.executemany("INSERT INTO strict_table VALUES (?, ?, ?)", [(1, 9223372036854775807, "max")])
        conn.executemany("INSERT INTO generated (a, b) VALUES (?, ?)", [(1, 2), (3, 4)])
        conn.executemany(
            "INSERT INTO mixed VALUES (?)",
            [(1,), (2.5,), ("text",), (b"\xff\xfe",), (None,), (float("inf"),), (-9223372036854775808,)],
        )
        conn.execute("INSERT INTO mixed VALUES (CAST(X'C328' AS TEXT))")  # invalid UTF-8 in TEXT
        conn.execute("INSERT INTO docs VALUES ('Hello', 'a \"quoted\" body with NEAR and -minus')")
        conn.commit()
    finally:
        conn.close()
    return path


def one_empty_table_database(path: Path) -> Path:
    """A database holding one empty table, t(x): for tests about connections and schemas, not data."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    finally:
        conn.close()
    return path


def script_database(path: Path, script: str) -> Path:
    """A database at `path` made by running the SQL `script` (e.g. a table and its rows)."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
    finally:
        conn.close()
    return path


def numbers(n: int) -> str:
    """A `WITH` clause naming `numbers(i)`, the whole numbers from 0 to `n` - 1."""
    return f"WITH RECURSIVE numbers(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM numbers WHERE i < {n - 1})"


@contextmanager
def snapshot_connection(source: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a snapshot of `source`; on the way out, `source`'s folder must be exactly as it was."""
    from tests.conftest import folder_state

    before = sorted(p.name for p in source.parent.iterdir()), folder_state(source.parent)
    snapshot = open_snapshot(source)
    try:
        with closing(snapshot.connect()) as conn:
            yield conn
    finally:
        snapshot.close()
    assert (sorted(p.name for p in source.parent.iterdir()), folder_state(source.parent)) == before


@asynccontextmanager
async def database_over(path: Path) -> AsyncIterator[tuple[Database, Catalog]]:
    """A snapshot of `path` (taken off the loop, as the app does) behind a Database, and its catalog."""
    snapshot = await asyncio.to_thread(open_snapshot, path)
    database = Database(snapshot)
    try:
        yield database, await database.run_sync(read_catalog)
    finally:
        await database.close()
        snapshot.close()


def foreign_key_schema(path: Path, tables: int = 300, *, width: int = 3, extra_column: str = "") -> Path:
    """`tables` tables, most with one or two foreign keys to earlier ones (hubs with many children), some
    related to nothing: the shape of a big application schema, for diagrams. `extra_column` ("v{i} REAL")
    adds a column to each table, `{i}` replaced by its number."""
    with closing(sqlite3.connect(path)) as conn:
        for i in range(tables):
            columns = "id INTEGER PRIMARY KEY, name TEXT NOT NULL"
            if extra_column:
                columns += ", " + extra_column.format(i=i)
            if i >= 20 and i % 4:
                parent = (i * 7) % 20 if i % 3 else i - 1 - (i % 5)
                columns += f", parent_id INTEGER REFERENCES t{parent:0{width}d}(id)"
                if i % 10 == 1:
                    columns += f", other_id INTEGER REFERENCES t{(i * 3) % i:0{width}d}(id)"
            conn.execute(f"CREATE TABLE t{i:0{width}d} ({columns})")
        conn.commit()
    return path


def text_rows_database(
    path: Path,
    rows: int,
    *,
    table: str = "t",
    text: str = "value {i}",
    connect: Callable[[Path], Any] | None = None,
) -> Path:
    """A database holding `table`(id INTEGER PRIMARY KEY, v TEXT) with `rows` rows of `text` (`{i}`: the
    row's number). `connect` makes the connection (e.g. SQLCipher's, already keyed); by default sqlite3's."""
    conn = connect(path) if connect is not None else sqlite3.connect(path)
    try:
        conn.execute(f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, v TEXT)')
        conn.executemany(f'INSERT INTO "{table}" (v) VALUES (?)', [(text.format(i=i),) for i in range(rows)])
        conn.commit()
    finally:
        conn.close()
    return path


def make_user_folder(tmp_path: Path) -> Path:
    """The test's stand-in for the user's folder: `tmp_path/user`, made empty."""
    folder = tmp_path / "user"
    folder.mkdir()
    return folder


def sqlcipher_connector(passphrase: str, *pragmas: str) -> Callable[[Path], Any]:
    """A `connect` for `text_rows_database` that makes a SQLCipher file keyed with `passphrase` (and
    `pragmas`, e.g. SQLCipher 3 settings or a plaintext header); needs the `sqlcipher` extra."""
    import sqlcipher3  # type: ignore[import-not-found]

    def connect(path: Path) -> Any:
        conn = sqlcipher3.connect(str(path))
        conn.execute(f"PRAGMA key = '{passphrase}'")
        for pragma in pragmas:
            conn.execute(pragma)
        return conn

    return connect


def memdb_writable(conn: sqlite3.Connection) -> bool:
    """True when another connection can write the memory snapshot behind `conn` now (no read transaction,
    e.g. a lent image, holds it)."""
    name = next(file for _seq, schema, file in conn.execute("PRAGMA database_list") if schema == "main")
    with closing(sqlite3.connect(f"file:{name}?vfs=memdb", uri=True, timeout=0)) as writer:
        try:
            writer.execute("PRAGMA user_version = 7")
            writer.commit()
        except sqlite3.OperationalError:
            return False
    return True
