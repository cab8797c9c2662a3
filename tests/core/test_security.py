"""A hostile database cannot make the browser do anything: schema code is distrusted, extensions stay
off, file-touching statements are refused, exported names stay in their folder, and the CSV formula
guard defuses spreadsheet formulas when it is on.
"""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from desktop_app.cli.common import open_connection
from desktop_app.core.blobs.export import export_column
from desktop_app.core.database import Database
from desktop_app.core.errors import QueryError, UserError
from desktop_app.core.export.csv_file import CsvOptions, export_query_csv
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.hostile import AWKWARD_VALUES, DANGEROUS_TARGETS, build_hostile

MARKER_FUNCTIONS = '''
from pathlib import Path
from desktop_app.functions_api import scalar

@scalar
def hostile_marker(value):
    """Leaves a file behind when called: proves whether a call happened."""
    Path({marker!r}).write_text("called")
    return value
'''


@pytest.fixture
async def hostile_service(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    """The dangerous-schema database with a user function that leaves a marker file when it runs."""
    marker = tmp_path / "marker"
    functions = tmp_path / "functions.py"
    functions.write_text(MARKER_FUNCTIONS.format(marker=str(marker)), encoding="utf-8")
    registry = FunctionRegistry(functions)
    assert not registry.problems
    snapshot = open_snapshot(build_hostile(tmp_path / "db", "dangerous_schema"))
    database = Database(snapshot, hooks=[registry.hook])
    yield database, marker
    await database.close()
    snapshot.close()


def dangerous_folder_listing(tmp_path: Path) -> list[str]:
    """What the folder of `hostile_service`'s database holds (its views aim at files beside it)."""
    return sorted(p.name for p in (tmp_path / "db" / "dangerous_schema").iterdir())


async def pooled_settings(database: Database, connections: int = 4) -> list[tuple[int, int]]:
    """(query_only, trusted_schema) of several pooled connections checked out at the same time."""
    gate = asyncio.Event()

    def read(conn: sqlite3.Connection) -> tuple[int, int]:
        values = (
            conn.execute("PRAGMA query_only").fetchone()[0],
            conn.execute("PRAGMA trusted_schema").fetchone()[0],
        )
        return values

    async def hold() -> tuple[int, int]:
        values = await database.run_sync(read)
        await gate.wait()
        return values

    tasks = [asyncio.ensure_future(hold()) for _ in range(connections)]
    await asyncio.sleep(0.2)
    gate.set()
    return list(await asyncio.gather(*tasks))


async def test_every_pooled_connection_is_query_only_and_distrusts_the_schema(
    hostile_service: tuple[Database, Path],
) -> None:
    database, _marker = hostile_service
    assert await pooled_settings(database) == [(1, 0)] * 4


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT load_extension('{folder}/evil')",
        "SELECT load_extension('libc.so.6', 'system')",
    ],
)
async def test_extensions_cannot_be_loaded(
    hostile_service: tuple[Database, Path], sql: str, tmp_path: Path
) -> None:
    database, _marker = hostile_service
    with pytest.raises(UserError, match=r"not authorized|read-only"):
        await database.execute(sql.format(folder=tmp_path), use_cache=False)


def test_cli_and_plain_snapshot_connections_are_configured_the_same(tmp_path: Path) -> None:
    path = build_hostile(tmp_path, "dangerous_schema")
    with open_connection(str(path)) as conn:
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        assert conn.execute("PRAGMA trusted_schema").fetchone() == (0,)
        with pytest.raises(sqlite3.Error, match="not authorized"):
            conn.execute(f"SELECT load_extension('{path.parent / DANGEROUS_TARGETS[0]}')")
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    assert conn.execute("PRAGMA trusted_schema").fetchone() == (0,)
    conn.close()
    snapshot.close()


@pytest.mark.parametrize(
    ("view", "why"),
    [
        ("calls_load_extension", "unsafe use of load_extension"),
        ("calls_readfile", "no such function: readfile"),
        ("calls_writefile", "no such function: writefile"),
        ("calls_edit", "no such function: edit"),
        ("calls_fts3_tokenizer", "unsafe use of fts3_tokenizer"),
        ("calls_ours", "unsafe use of (sha256|regexp)"),
        ("calls_hostile_marker", "unsafe use of hostile_marker"),
    ],
)
async def test_views_calling_dangerous_functions_run_nothing(
    hostile_service: tuple[Database, Path], view: str, why: str, tmp_path: Path
) -> None:
    database, marker = hostile_service
    with pytest.raises(QueryError, match=why):
        await database.execute(f"SELECT * FROM {view}", use_cache=False)
    assert not marker.exists()
    assert dangerous_folder_listing(tmp_path) == ["dangerous_schema.db"]  # nothing written beside it


async def test_the_user_may_call_the_same_function_directly(hostile_service: tuple[Database, Path]) -> None:
    database, marker = hostile_service
    assert (await database.execute("SELECT hostile_marker(v) FROM victim")).rows == [("x",)]
    assert marker.read_text() == "called"  # so the views above really were stopped, not merely missing it


async def test_triggers_never_fire_because_nothing_can_be_written(
    hostile_service: tuple[Database, Path], tmp_path: Path
) -> None:
    database, marker = hostile_service
    for sql in ("INSERT INTO victim (v) VALUES ('y')", "UPDATE victim SET v = hostile_marker(v)"):
        with pytest.raises(QueryError):  # the trigger's missing functions, or read-only: either way, refused
            await database.execute(sql, use_cache=False)
    assert not marker.exists()
    assert dangerous_folder_listing(tmp_path) == ["dangerous_schema.db"]
    assert (await database.execute("SELECT v FROM victim", use_cache=False)).rows == [("x",)]


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH {file} AS other",
        "ATTACH 'file:{path}?mode=rwc' AS other",
        "VACUUM INTO {file}",
        "PRAGMA query_only=OFF",
        "PRAGMA main.query_only=0",
        "PRAGMA trusted_schema=ON",
        "PRAGMA writable_schema=ON",
        "PRAGMA journal_mode=DELETE",
        "PRAGMA user_version=7",
        "PRAGMA temp_store_directory={file}",
        "CREATE TEMP TABLE scratch (x)",
        "CREATE TEMP VIEW victim AS SELECT 'fake' AS v",
        "DETACH main",
    ],
)
async def test_statements_that_touch_files_or_settings_are_refused(
    hostile_service: tuple[Database, Path], tmp_path: Path, sql: str
) -> None:
    database, _marker = hostile_service
    target = tmp_path / "written.db"
    statement = sql.format(file=f"'{target}'", path=target)
    with pytest.raises(UserError):
        await database.execute(statement, use_cache=False)
    assert not target.exists()
    assert await pooled_settings(database) == [(1, 0)] * 4
    assert (await database.execute("SELECT v FROM victim", use_cache=False)).rows == [("x",)]


async def test_reading_pragmas_and_memory_attach_still_work(hostile_service: tuple[Database, Path]) -> None:
    database, _marker = hostile_service
    assert (await database.execute("PRAGMA table_info(victim)")).rows[0][1] == "id"
    assert (await database.execute("SELECT * FROM pragma_database_list")).rows[0][1] == "main"


async def test_names_from_hostile_values_stay_inside_the_export_folder(tmp_path: Path) -> None:
    path = tmp_path / "names.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE files (name TEXT, data BLOB)")
    hostile_names = ["../../escape", "/etc/passwd", "..", ".", "", "a/b/c", "a\\b", "nul\x00byte", "CON",
                     "x" * 400, "\u202etxt.exe", "~", "$HOME", "../" * 30 + "root"]  # fmt: skip
    conn.executemany("INSERT INTO files VALUES (?, ?)", [(name, b"data") for name in hostile_names])
    conn.commit()
    conn.close()
    snapshot = open_snapshot(path)
    database = Database(snapshot)
    root = tmp_path / "exports"
    folder = root / "inside"
    try:
        result = await database.run_sync(export_column, "files", "data", folder, pattern="{name}")
    finally:
        await database.close()
        snapshot.close()
    assert result.written == len(hostile_names) and not result.failures
    assert [p.name for p in root.iterdir()] == ["inside"]
    assert all(p.parent == folder and p.is_file() for p in folder.rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "names.db"]


def read_cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


FORMULA_TEXTS = ['=HYPERLINK("http://example.invalid")', "+1+1", "-2", "@SUM(A1)", "\t=1+1", "\r=1"]


def test_csv_formula_guard_defuses_text_when_on_and_changes_nothing_when_off(tmp_path: Path) -> None:
    conn = open_snapshot(build_hostile(tmp_path / "db", "values")).connect()
    sql = 'SELECT v AS "=cmd", typeof(v) AS kind FROM mixed ORDER BY id'
    guarded = export_query_csv(
        conn, sql, path=tmp_path / "guarded.csv", options=CsvOptions(formula_guard=True)
    )
    plain = export_query_csv(conn, sql, path=tmp_path / "plain.csv")
    assert guarded.rows == plain.rows == len(AWKWARD_VALUES) + 7
    guarded_rows, plain_rows = read_cells(guarded.path), read_cells(plain.path)
    assert guarded_rows[0][0] == "'=cmd" and plain_rows[0][0] == "=cmd"
    for (safe, kind), (raw, _kind) in zip(guarded_rows[1:], plain_rows[1:], strict=True):
        if kind == "text" and raw.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert safe == "'" + raw
        else:
            assert safe == raw  # numbers (also -2**63 and -inf) and ordinary text are unchanged
    for text in FORMULA_TEXTS:
        assert text in [row[0] for row in plain_rows]
        assert "'" + text in [row[0] for row in guarded_rows]
