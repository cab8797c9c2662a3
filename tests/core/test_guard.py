"""The one guard on user SQL: what got past a looser guard is refused, naming what was refused, and the
folder beside the database never changes whatever statement or URI is tried (property-based).

`GUARD_EXAMPLES=20000 pytest tests/core/test_guard.py` runs the long mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.errors import QueryError, UserError
from desktop_app.core.functions.registry import FunctionRegistry, evaluate_expression
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.guard import (
    GuardRefused,
    attach_private_file,
    check_user_sql,
    detach_database,
    execute_user_sql,
    forget_private_folder,
    private_file_uri,
    register_private_folder,
    unguarded,
)
from tests.core.test_cli import run_cli

LONG_EXAMPLES = int(os.environ.get("GUARD_EXAMPLES", "0"))


def folder_listing(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (recursively, symlinks and folders too) → what it holds."""
    state: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            state[name] = f"link:{os.readlink(path)}"
        elif path.is_dir():
            state[name] = "folder"
        else:
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@pytest.fixture
def wal_folder(tmp_path: Path, corpus: Path) -> Path:
    """A folder with a WAL database (un-checkpointed frames in its -wal) and a plain one beside it."""
    folder = tmp_path / "user folder"
    folder.mkdir()
    for name in ("wal_database.db", "wal_database.db-wal"):
        shutil.copyfile(corpus / "plaso" / name, folder / name)
    plain = sqlite3.connect(folder / "other.db")
    plain.execute("CREATE TABLE kept (x)")
    plain.execute("INSERT INTO kept VALUES (1)")
    plain.commit()
    plain.close()
    return folder


@pytest.fixture
def snapshot(wal_folder: Path) -> Iterator[Snapshot]:
    snap = open_snapshot(wal_folder / "wal_database.db")
    yield snap
    snap.close()


@pytest.fixture
def conn(snapshot: Snapshot) -> Iterator[sqlite3.Connection]:
    connection = snapshot.connect([FunctionRegistry().hook])
    yield connection
    connection.close()


def run(conn: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
    """Run `sql` the way every user statement runs."""
    return execute_user_sql(conn, sql).fetchall()


def attached(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA database_list")}


def test_attach_with_a_second_vfs_is_refused_and_the_wal_stays(
    wal_folder: Path, conn: sqlite3.Connection
) -> None:
    before = folder_listing(wal_folder)
    target = wal_folder / "wal_database.db"
    for uri in (
        f"file:{target}?vfs=memdb&vfs=unix",
        f"file:{target}?vfs=unix",
        f"file:{wal_folder / 'created.db'}?vfs=memdb&vfs=unix",
        "file:/snap-x?vfs=memdb",
    ):
        with pytest.raises(GuardRefused, match="ATTACH is not allowed"):
            run(conn, f"ATTACH '{uri}' AS w")
    assert attached(conn) == {"main"}
    assert folder_listing(wal_folder) == before


def test_vacuum_into_is_refused_before_its_file_exists(wal_folder: Path, conn: sqlite3.Connection) -> None:
    before = folder_listing(wal_folder)
    for sql in (
        f"VACUUM INTO 'file:{wal_folder / 'copy.db'}?vfs=memdb&vfs=unix'",
        f"/* comment */ vacuum main into '{wal_folder / 'copy.db'}'",
    ):
        with pytest.raises(GuardRefused, match="VACUUM is not allowed"):
            run(conn, sql)
    assert folder_listing(wal_folder) == before


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT fts3_tokenizer('simple', x'0000000000000000')", "fts3_tokenizer()"),
        ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer()"),
        ("SELECT hex(FTS3_TOKENIZER('porter'))", "fts3_tokenizer()"),
        ("SELECT load_extension('/nowhere/evil')", "load_extension()"),
        ("PRAGMA wal_checkpoint", "PRAGMA wal_checkpoint"),
        ("PRAGMA main.wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint"),
        ("PRAGMA optimize", "PRAGMA optimize"),
    ],
)
def test_refusals_name_what_was_refused(conn: sqlite3.Connection, sql: str, named: str) -> None:
    with pytest.raises(GuardRefused) as refused:
        run(conn, sql)
    assert named in refused.value.message
    assert "read-only" in refused.value.message


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO MyTable VALUES (1, 2, 3, 4)",
        "WITH x AS (SELECT 1) DELETE FROM MyTable",
        "CREATE TEMP TABLE t (x)",
        "PRAGMA user_version = 7",
        "PRAGMA query_only = OFF",
        "BEGIN IMMEDIATE",
        "SAVEPOINT s",
        "DETACH main",
        "REINDEX",
        "SELECT 1; ATTACH ':memory:' AS x",
    ],
)
def test_writes_and_statement_pairs_are_refused(conn: sqlite3.Connection, sql: str) -> None:
    with pytest.raises(GuardRefused):
        run(conn, sql)
    assert conn.execute("PRAGMA query_only").fetchone() == (1,)


def test_reading_needs_no_more_than_the_guard_allows(conn: sqlite3.Connection) -> None:
    conn_rows = {
        "SELECT count(*) FROM MyTable": [(11,)],
        "SELECT json_extract('{\"a\": [1, 2]}', '$.a[1]'), abs(-2), round(sqrt(16))": [(2, 2, 4.0)],
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3) SELECT sum(x) FROM c": [
            (6,)
        ],
        "SELECT count(*) FROM pragma_table_info('MyTable')": [(4,)],
        "SELECT median(column1) FROM (VALUES (1), (5), (9))": [(5,)],
        "SELECT 'abc' REGEXP 'b'": [(1,)],
        "SELECT row_number() OVER () FROM (VALUES (1))": [(1,)],
        "EXPLAIN QUERY PLAN SELECT * FROM MyTable": None,
        "PRAGMA integrity_check(1)": [("ok",)],
        "EXPLAIN VACUUM": None,  # EXPLAIN only describes
    }
    for sql, expected in conn_rows.items():
        rows = run(conn, sql)
        if expected is not None:
            assert rows == expected, sql


def test_explain_describes_a_write_but_never_attaches(wal_folder: Path, conn: sqlite3.Connection) -> None:
    assert run(conn, "EXPLAIN QUERY PLAN DELETE FROM MyTable WHERE rowid = 1")
    with pytest.raises(GuardRefused, match="ATTACH"):
        run(conn, f"EXPLAIN ATTACH '{wal_folder / 'x.db'}' AS x")
    with pytest.raises(GuardRefused, match="fts3_tokenizer"):
        run(conn, "EXPLAIN SELECT fts3_tokenizer('simple')")
    with pytest.raises(GuardRefused, match="DELETE"):
        run(conn, "DELETE FROM MyTable")  # the permission ends with the EXPLAIN
    assert run(conn, "SELECT count(*) FROM MyTable") == [(11,)]


def test_fts5_and_rtree_functions_are_sqlite_own(tmp_path: Path) -> None:
    source = tmp_path / "fts.db"
    build = sqlite3.connect(source)
    build.execute("CREATE VIRTUAL TABLE notes USING fts5(body)")
    build.execute("INSERT INTO notes VALUES ('the quick brown fox')")
    build.execute("CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)")
    build.execute("INSERT INTO boxes VALUES (1, 0, 10)")
    build.commit()
    build.close()
    snap = open_snapshot(source)
    conn = snap.connect()
    try:
        rows = run(
            conn, "SELECT highlight(notes, 0, '[', ']'), bm25(notes) < 1 FROM notes WHERE notes MATCH 'fox'"
        )
        assert rows == [("the quick brown [fox]", 1)]
        assert run(conn, "SELECT rtreecheck('boxes')") == [("ok",)]
        assert run(conn, "SELECT id FROM boxes WHERE x0 <= 5 AND x1 >= 5") == [(1,)]
    finally:
        conn.close()
        snap.close()


def test_user_functions_are_allowed_only_once_registered(tmp_path: Path, snapshot: Snapshot) -> None:
    functions = tmp_path / "mine.py"
    functions.write_text(
        "from desktop_app.functions_api import scalar\n\n@scalar\ndef twice(x):\n    return x * 2\n",
        encoding="utf-8",
    )
    plain = snapshot.connect()
    with_file = snapshot.connect([FunctionRegistry(functions).hook])
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: twice"):
            run(plain, "SELECT twice(2)")
        assert run(with_file, "SELECT twice(2)") == [(4,)]
    finally:
        plain.close()
        with_file.close()


def test_try_it_box_goes_through_the_guard(conn: sqlite3.Connection) -> None:
    with pytest.raises(GuardRefused, match="fts3_tokenizer"):
        evaluate_expression(conn, "fts3_tokenizer('simple')")
    assert evaluate_expression(conn, "upper('ok')") == "OK"


def test_empty_and_syntax_errors_are_left_to_sqlite(conn: sqlite3.Connection) -> None:
    check_user_sql("selec 1")  # SQLite gives the real message, with its position
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        run(conn, "selec 1")


# --- property-based: generated statements and URIs never change the folder --------------------------

_PARAMETERS = [
    "vfs=memdb", "vfs=unix", "vfs=unix-none", "vfs=unix-dotfile", "vfs=unix-excl", "mode=ro", "mode=rw",
    "mode=rwc", "mode=memory", "immutable=1", "immutable=0", "cache=shared", "cache=private", "nolock=1",
    "psow=0", "vfs=%6Demdb", "vfs=memdb%00", "modeof=x",
]  # fmt: skip
_TARGETS = ["wal_database.db", "wal_database.db-wal", "other.db", "created.db", "sub/new.db", ""]


def _cased(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, flips, strict=True))


@st.composite
def uris(draw: st.DrawFn, folder: Path) -> str:
    target = draw(st.sampled_from(_TARGETS))
    path = str(folder / target) if target else ""
    scheme = draw(st.sampled_from(["file:", "FILE:", "file://localhost", "file://", ""]))
    parameters = draw(st.lists(st.sampled_from(_PARAMETERS), max_size=4))
    parameters = [_cased(draw, p) if draw(st.booleans()) else p for p in parameters]
    query = ("?" + "&".join(parameters)) if parameters and scheme else ""
    return f"{scheme}{path}{query}"


def _literal(draw: st.DrawFn, text: str) -> str:
    quoted = text.replace("'", "''")
    return draw(
        st.sampled_from(
            [f"'{quoted}'", f'"{text}"', f"('{quoted}')", f"'' || '{quoted}'", f"(SELECT '{quoted}')"]
        )
    )


_PREFIXES = ["", "/* c */ ", "-- c\n", "  \n", "EXPLAIN ", "explain query plan "]


@st.composite
def statements(draw: st.DrawFn, folder: Path) -> str:
    uri = _literal(draw, draw(uris(folder)))
    name = draw(st.sampled_from(["w", '"main"', "[x]", "`y`", "temp"]))
    body = draw(
        st.sampled_from(
            [
                f"ATTACH {uri} AS {name}",
                f"attach database {uri} as {name}",
                f"VACUUM INTO {uri}",
                f"vacuum main into {uri}",
                f"SELECT load_extension({uri})",
                "SELECT fts3_tokenizer('simple', x'4141414141414141')",
                "SELECT hex(fts3_tokenizer('simple'))",
                f"WITH x(a) AS (SELECT {uri}) SELECT * FROM x",
                f"SELECT * FROM MyTable WHERE Field1 = {uri}",
                "PRAGMA wal_checkpoint(TRUNCATE)",
                "PRAGMA journal_mode = DELETE",
                "PRAGMA query_only = 0",
                "PRAGMA writable_schema = 1",
                "DETACH main",
                "INSERT INTO MyTable DEFAULT VALUES",
                "CREATE TABLE t AS SELECT 1",
                f"SELECT 1; ATTACH {uri} AS {name}",
                "BEGIN EXCLUSIVE",
                "SELECT count(*) FROM pragma_database_list",
            ]
        )
    )
    prefix = draw(st.sampled_from(_PREFIXES))
    return _cased(draw, prefix + body) if draw(st.booleans()) and "'" not in body else prefix + body


def test_no_generated_statement_changes_the_folder(wal_folder: Path, conn: sqlite3.Connection) -> None:
    before = folder_listing(wal_folder)

    @settings(
        max_examples=LONG_EXAMPLES or 300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(statements(wal_folder))
    def attempt(sql: str) -> None:
        try:
            run(conn, sql)
        except (UserError, QueryError, sqlite3.Error):
            pass  # refused, or SQLite's own error: either way nothing may have happened
        assert attached(conn) <= {"main", "temp"}
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        assert folder_listing(wal_folder) == before, sql

    attempt()


# --- user code is reachable from the schema only when the user allows it --------------------------

MARKER_COLLATION = """
from pathlib import Path
from desktop_app.functions_api import collation

@collation("MARKER")
def marker(a, b):
    Path({marker!r}).write_text("called")
    return (a > b) - (a < b)
"""


@pytest.fixture
def collation_db(tmp_path: Path) -> Path:
    """A database whose view and column name the collation MARKER (as a user's functions file would)."""
    path = tmp_path / "collated.db"
    build = sqlite3.connect(path)
    build.create_collation("MARKER", lambda a, b: (a > b) - (a < b))
    build.execute('CREATE TABLE t (a TEXT COLLATE "marker")')
    build.executemany("INSERT INTO t VALUES (?)", [("b",), ("a",)])
    build.execute("CREATE VIEW v AS SELECT a FROM t ORDER BY a COLLATE [Marker]")
    build.commit()
    build.close()
    return path


def test_a_collation_the_schema_names_is_not_registered_unless_allowed(
    tmp_path: Path, collation_db: Path
) -> None:
    marker = tmp_path / "marker"
    functions = tmp_path / "functions.py"
    functions.write_text(MARKER_COLLATION.format(marker=str(marker)), encoding="utf-8")
    registry = FunctionRegistry(functions)
    snap = open_snapshot(collation_db)
    try:
        conn = snap.connect([registry.hook])
        with pytest.raises(sqlite3.OperationalError, match="no such collation sequence"):
            run(conn, "SELECT * FROM v")
        conn.close()
        assert registry.withheld_collations == {"MARKER"}
        assert not marker.exists()
        registry.allow_schema_collations(True)
        conn = snap.connect([registry.hook])
        assert run(conn, "SELECT * FROM v") == [("a",), ("b",)]
        conn.close()
        assert marker.exists() and registry.withheld_collations == frozenset()
    finally:
        snap.close()


def test_cli_says_which_collation_it_kept_from_the_schema(tmp_path: Path, collation_db: Path) -> None:
    marker = tmp_path / "marker"
    functions = tmp_path / "functions.py"
    functions.write_text(MARKER_COLLATION.format(marker=str(marker)), encoding="utf-8")
    refused = run_cli("query", str(collation_db), "SELECT * FROM v", "--functions", str(functions))
    assert refused.returncode == 1
    assert "note: your collation MARKER is not registered" in refused.stderr
    assert not marker.exists()
    allowed = run_cli(
        "query",
        str(collation_db),
        "SELECT * FROM v",
        "--functions",
        str(functions),
        "--allow-schema-collations",
    )
    assert allowed.returncode == 0, allowed.stderr
    assert marker.exists()


def test_cli_query_refuses_attach_in_one_line(wal_folder: Path) -> None:
    before = folder_listing(wal_folder)
    database = wal_folder / "wal_database.db"
    for sql in (
        f"ATTACH 'file:{database}?vfs=memdb&vfs=unix' AS w",
        f"VACUUM INTO '{wal_folder / 'copy.db'}'",
        "SELECT fts3_tokenizer('simple', x'4141414141414141')",
    ):
        result = run_cli("query", str(database), sql)
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "is not allowed" in result.stderr
        blobs = run_cli(
            "blobs", str(database), "--query", sql, "--column", "1", "--out", str(wal_folder / "x")
        )
        assert blobs.returncode == 1 and "is not allowed" in blobs.stderr, blobs.stderr
    assert folder_listing(wal_folder) == before


# --- the program's own private files (a search index too large for memory) ------------------------


@pytest.fixture
def private_file(tmp_path: Path) -> Iterator[Path]:
    """A database file in a folder registered as the program's private folder (forgotten afterwards)."""
    folder = (tmp_path / "snapshot-browser-test").resolve()
    folder.mkdir()
    path = folder / "search-index.db"
    maker = sqlite3.connect(path)
    maker.execute("CREATE TABLE entries (x)")
    maker.execute("INSERT INTO entries VALUES ('indexed')")
    maker.commit()
    maker.close()
    register_private_folder(folder)
    yield path
    forget_private_folder(folder)


def test_program_attaches_its_private_file_read_only(conn: sqlite3.Connection, private_file: Path) -> None:
    attach_private_file(conn, private_file, "idx")
    assert conn.execute("SELECT x FROM idx.entries").fetchall() == [("indexed",)]
    with unguarded(conn):
        conn.execute("PRAGMA query_only=OFF")
        try:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                conn.execute("INSERT INTO idx.entries VALUES ('written')")
        finally:
            conn.execute("PRAGMA query_only=ON")
    detach_database(conn, "idx")
    assert attached(conn) == {"main"}


def test_a_users_attach_of_the_private_file_is_still_refused(
    conn: sqlite3.Connection, private_file: Path
) -> None:
    before = folder_listing(private_file.parent)
    for uri in (
        str(private_file),
        private_file_uri(private_file),
        private_file_uri(private_file, writable=True),
    ):
        with pytest.raises(GuardRefused, match="ATTACH is not allowed"):
            run(conn, f"ATTACH '{uri}' AS idx")
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute(f"ATTACH '{uri}' AS idx")  # past check_user_sql, the authorizer still refuses
    attach_private_file(conn, private_file, "idx")
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):  # the permit ended with the ATTACH
        conn.execute(f"ATTACH '{private_file_uri(private_file)}' AS again")
    with pytest.raises(GuardRefused, match="DETACH is not allowed"):
        run(conn, "DETACH idx")
    detach_database(conn, "idx")
    assert attached(conn) == {"main"}
    assert folder_listing(private_file.parent) == before


def test_only_files_directly_in_a_registered_private_folder_are_attached(
    conn: sqlite3.Connection, private_file: Path, wal_folder: Path, tmp_path: Path
) -> None:
    folder = private_file.parent
    (folder / "inner").mkdir()
    shutil.copyfile(private_file, folder / "inner" / "deeper.db")
    (folder / "link.db").symlink_to(wal_folder / "other.db")
    os.link(private_file, folder / "hard.db")
    (tmp_path / "folder-link").symlink_to(folder)
    outside = tmp_path / "unregistered"
    outside.mkdir()
    shutil.copyfile(private_file, outside / "copy.db")
    before = folder_listing(wal_folder)
    for path, why in (
        (wal_folder / "other.db", "not in a private folder"),
        (outside / "copy.db", "not in a private folder"),
        (folder / "inner" / "deeper.db", "not in a private folder"),
        (folder / "link.db", "through a link"),
        (tmp_path / "folder-link" / private_file.name, "through a link"),
        (folder / "inner" / ".." / private_file.name, "through a link"),
        (Path(private_file.name), "relative"),
        (folder / "hard.db", "not a regular private file"),
        (folder / "missing.db", "missing"),
    ):
        with pytest.raises(ValueError, match=why):
            attach_private_file(conn, path, "idx")
    forget_private_folder(folder)
    with pytest.raises(ValueError, match="not in a private folder"):
        attach_private_file(conn, private_file, "idx")
    assert attached(conn) == {"main"}
    assert folder_listing(wal_folder) == before
