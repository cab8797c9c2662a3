"""Hostile databases (tests/hostile.py) through every headless command and every core capability.

The property everywhere: exit status 0 or 1, never a traceback, a one-line message where something
cannot be shown, and the rest of the database still works.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from desktop_app.cli import main
from desktop_app.core.blobs.export import export_column
from desktop_app.core.blobs.values import BlobRef, describe_ref
from desktop_app.core.browse.paging import SortKey, TablePager
from desktop_app.core.database import Database
from desktop_app.core.errors import UserError
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.fixtures import one_empty_table_database
from tests.hostile import (
    AWKWARD_VALUES,
    HOSTILE,
    build_all,
    build_hostile,
    openable_names,
    quote,
    refused_names,
    slow_wanted,
)
from tests.hostile_sweep import exercise_database

T = TypeVar("T")

#: Tables per database whose rows, CSV and blobs the CLI sweep exports (spread over the catalog).
CLI_TABLES = 10
CLI_COLUMNS = 2


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every (fast) hostile database, built once for this module."""
    folder = tmp_path_factory.mktemp("hostile")
    build_all(folder)
    return folder


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run one command in-process; return (exit status, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(code: int, err: str, command: list[str]) -> None:
    """Exit 0/1, no traceback, and every stderr line is one of the command's message kinds."""
    shown = " ".join(part[:40] for part in command)
    assert code in (0, 1), f"{shown}: exit {code}: {err}"
    assert "Traceback" not in err and "something went wrong" not in err, f"{shown}: {err}"
    if code == 1:
        assert err.strip(), f"{shown}: exit 1 without a message"
    for line in err.strip().splitlines():
        assert line.startswith(("error: ", "failed: ", "warning: ", "note: ", "index: ")) or (
            "hits in" in line or "rows written" in line
        ), f"{shown}: unexpected stderr line {line!r}"


def spread(items: list[T], count: int) -> list[T]:
    """At most `count` items taken evenly from `items` (first and last included)."""
    if len(items) <= count:
        return items
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def cli_commands(path: Path, out: Path) -> list[list[str]]:
    """Every headless command over the database at `path` (per-table ones over a spread of tables)."""
    file = str(path)
    commands = [
        ["info", file],
        ["info", file, "--json", "--all"],
        ["search", file, "e"],
        ["search", file, "x", "--json", "--blobs", "--numbers", "--views", "--limit", "50"],
        ["search", file, "[a-z]+\\d", "--regex", "--whole-word", "--case-sensitive", "--no-fts"],
        ["search", file, "needle", "--index", "--json"],
        ["migrations", file],
        ["migrations", file, "--json", "--folder", str(out)],
        ["query", file, "SELECT 1"],
        ["recover", file],
        ["recover", file, "--json"],
    ]
    if not HOSTILE[path.parent.name].opens:
        return [*commands, ["blobs", file, "--table", "t", "--column", "c", "--out", str(out / "b")]]
    snapshot = open_snapshot(path)
    try:
        conn = snapshot.connect()
        try:
            tables = read_catalog(conn).tables
        except sqlite3.Error:
            tables = []
        finally:
            conn.close()
    finally:
        snapshot.close()
    for number, table in enumerate(spread(tables, CLI_TABLES)):
        select = f"SELECT * FROM {quote(table.name)}"
        commands += [
            ["query", file, select, "--json", "--limit", "5"],
            ["query", file, select, "--limit", "5"],
            ["query", file, select, "--csv", str(out / f"t{number}.csv")],
        ]
        commands.append(
            ["blobs", file, "--table", table.name, "--column", "no such column", "--out", str(out)]
        )
        for column in table.columns[:CLI_COLUMNS]:
            target = ["--out", str(out / f"blobs{number}"), "--overwrite", "--json"]
            commands.append(["blobs", file, "--table", table.name, "--column", column.name, *target])
    return commands


@pytest.mark.parametrize("name", [name for name, spec in HOSTILE.items() if slow_wanted() or not spec.slow])
def test_every_command_answers_cleanly(
    name: str, hostile_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_hostile(hostile_dir, name)
    commands = cli_commands(path, tmp_path)
    for command in commands:
        code, out, err = run_cli(capsys, *command)
        assert_clean(code, err, command)
        if code == 0 and "--json" in command:
            json.loads(out)  # valid JSON even with NaN/Inf, bytes and invalid UTF-8 inside
    assert len(commands) >= 9


@pytest.mark.parametrize("name", refused_names())
def test_unreadable_files_are_refused_in_one_line(
    name: str, hostile_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_hostile(hostile_dir, name)
    for command in (["info", str(path)], ["query", str(path), "SELECT 1"], ["search", str(path), "x"]):
        code, _out, err = run_cli(capsys, *command)
        assert code == 1
        assert err.count("\n") == 1 and err.startswith("error: “") and path.name in err


def test_functions_command_lists_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "functions", "--json")
    assert code == 0 and not err
    assert {"regexp", "sha256", "lower"} <= {entry["name"] for entry in json.loads(out)}


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[Database]:
    """The database service over a snapshot of `path`, with the built-in functions, as the app opens it."""
    snapshot = open_snapshot(path)
    database = Database(snapshot, hooks=[FunctionRegistry(None).hook])
    try:
        yield database
    finally:
        await database.close()
        snapshot.close()


@pytest.mark.parametrize("name", openable_names())
async def test_every_core_capability_survives(name: str, hostile_dir: Path, tmp_path: Path) -> None:
    async with opened(build_hostile(hostile_dir, name)) as database:
        report = await exercise_database(database, tmp_path / "out")
    for message in report.messages:
        assert "Traceback" not in message and message.strip()
    assert all(path.resolve().is_relative_to(tmp_path.resolve()) for path in tmp_path.rglob("*"))


async def test_identifiers_are_browsed_exported_and_searched(hostile_dir: Path, tmp_path: Path) -> None:
    async with opened(build_hostile(hostile_dir, "identifiers")) as database:
        report = await exercise_database(database, tmp_path / "out")
        result = await database.execute(f"SELECT * FROM {quote(chr(0x1F600))}")
    assert report.tables > 50 and report.csv_files == report.tables
    # Only numbers in blob columns were refused; every awkward name itself worked.
    assert all("not a blob" in message for message in report.messages), report.messages[:5]
    assert result.rows[0][:2] == (1, b"blob 1")


async def test_broken_objects_are_flagged_and_the_rest_still_works(hostile_dir: Path) -> None:
    async with opened(build_hostile(hostile_dir, "broken_objects")) as database:
        catalog = await database.run_sync(read_catalog)
        fine = await database.execute("SELECT t FROM fine")
        with pytest.raises(UserError, match="nosuchmodule"):
            await database.execute("SELECT * FROM ghost")
        with pytest.raises(UserError, match="doomed"):
            await database.execute("SELECT * FROM view_on_view")
    broken = {t.name for t in catalog.tables if t.error}
    assert {"over_dropped", "over_dropped_star", "view_on_view", "ghost", "missing_function"} <= broken
    assert catalog.table("fine").error is None  # type: ignore[union-attr]
    assert fine.rows == [("still readable",)]


def test_info_reports_broken_objects_with_their_error(
    hostile_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run_cli(capsys, "info", str(build_hostile(hostile_dir, "broken_objects")), "--json")
    tables = {t["name"]: t for t in json.loads(out)["tables"]}
    assert code == 0
    assert "nosuchmodule" in tables["ghost"]["error"] and "doomed" in tables["over_dropped"]["error"]
    assert tables["fine"]["rows"] == 1


async def test_values_survive_exactly(hostile_dir: Path) -> None:
    async with opened(build_hostile(hostile_dir, "values")) as database:
        mixed = (await database.execute("SELECT v, typeof(v) FROM mixed ORDER BY id")).rows
        limits = (await database.execute("SELECT id, v FROM limits ORDER BY id")).rows
        keys = (await database.execute("SELECT k FROM nul_keys ORDER BY k")).rows
    values = [value for value, _kind in mixed]
    kinds = [kind for _value, kind in mixed]
    assert float("inf") in values and float("-inf") in values
    nan_row = next(i for i, v in enumerate(AWKWARD_VALUES) if isinstance(v, float) and math.isnan(v))
    assert kinds[nan_row] == "null"  # SQLite has no NaN: it stores NULL
    assert "nul\x00inside" in values and b"\x00\xff\xfe" in values
    assert "\ufffd(" in values  # invalid UTF-8 shown with U+FFFD, not an error
    assert (-(2**63), -(2**63)) in limits and (2**63 - 1, 2**63 - 1) in limits
    assert ("a\x00b",) in keys and ("a\x00c",) in keys


@pytest.mark.parametrize("encoding", ["utf16le", "utf16be"])
async def test_utf16_databases_read_as_text(
    encoding: str, hostile_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_hostile(hostile_dir, encoding)
    name = quote("😀 " + ("UTF-16le" if encoding == "utf16le" else "UTF-16be"))
    async with opened(path) as database:
        rows = (await database.execute(f'SELECT "é", b FROM {name} ORDER BY id')).rows
        blob = await database.run_sync(describe_ref, BlobRef("main", name.strip('"'), "b", 2))
    assert rows[0] == ("Grüße 😀", b"\x00\x01") and rows[2][0] == "nul\x00inside"
    assert blob.size == len(b"text in blob column") and blob.mime.startswith("text/")
    code, out, _err = run_cli(capsys, "search", str(path), "grüße", "--json")
    assert code == 0 and len(json.loads(out)["hits"]) == 1


def test_header_facts_are_reported(hostile_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = {}
    for name in ("user_version_max", "user_version_min", "page_65536", "page_512", "utf16be"):
        code, out, _err = run_cli(capsys, "info", str(build_hostile(hostile_dir, name)), "--json")
        assert code == 0
        facts[name] = json.loads(out)
    assert facts["user_version_max"]["user_version"] == 2**31 - 1
    assert facts["user_version_max"]["application_id"] == 2**31 - 1
    assert facts["user_version_min"]["user_version"] == -(2**31)
    assert facts["page_65536"]["page_size"] == 65536 and facts["page_512"]["page_size"] == 512
    assert facts["utf16be"]["encoding"] == "UTF-16be"


async def test_wal_frames_are_read_without_touching_the_folder(hostile_dir: Path) -> None:
    path = build_hostile(hostile_dir, "wal_pending")
    before = sorted(p.name for p in path.parent.iterdir())
    async with opened(path) as database:
        rows = (await database.execute("SELECT v FROM base ORDER BY id")).rows
        new = (await database.execute("SELECT x FROM wal_only")).rows
    assert rows == [("checkpointed",), ("only in the wal",)] and new == [("new table",)]
    assert sorted(p.name for p in path.parent.iterdir()) == before == [path.name, path.name + "-wal"]


async def test_wide_table_reads_all_2000_columns(hostile_dir: Path, tmp_path: Path) -> None:
    async with opened(build_hostile(hostile_dir, "wide")) as database:
        result = await database.execute("SELECT * FROM wide")
        catalog = await database.run_sync(read_catalog)
        exported = await database.run_sync(export_column, "wide", "c1999", tmp_path, pattern="{n}.bin")
    assert len(result.columns.names) == 2000 and len(result.rows) == 3
    assert len(catalog.table("wide").columns) == 2000  # type: ignore[union-attr]
    assert exported.written == 3


async def test_wide_table_can_be_browsed(hostile_dir: Path) -> None:
    # Found by the hostile set: two result columns per cell made any table over ~1,000 columns
    # unbrowsable (SQLITE_MAX_COLUMN); the pager now reads slices of columns and zips them.
    async with opened(build_hostile(hostile_dir, "wide")) as database:
        catalog = await database.run_sync(read_catalog)
        pager = TablePager(catalog.table("wide"), sort=[SortKey("c1999", descending=True)])  # type: ignore[arg-type]
        page = await database.run_sync(pager.fetch, 1, 10)
        view = TablePager(catalog.table("wide_view"))  # type: ignore[arg-type]
        with pytest.raises(UserError, match="2,000 columns"):
            await database.run_sync(view.fetch, 0, 10)
    assert [len(row) for row in page.rows] == [2000, 2000]
    assert [row[1999] for row in page.rows] == ["r1c1999", "r0c1999"] and page.keys == [(2,), (1,)]
    assert [row[1000] for row in page.rows] == ["r1c1000", "r0c1000"] and page.rows[0][999] == 999


async def test_json_functions_in_the_schema_do_not_hide_the_database(hostile_dir: Path) -> None:
    async with opened(build_hostile(hostile_dir, "json_schema")) as database:
        catalog = await database.run_sync(read_catalog)
        rows = (await database.execute("SELECT data FROM plain ORDER BY id")).rows
    assert catalog.table("docs") is not None and rows[0] == ('{"name": "b"}',)


def write_shout_functions(folder: Path) -> Path:
    """A user functions file declaring shout(x)."""
    path = folder / "mine.py"
    path.write_text(
        "from desktop_app.functions_api import scalar\n"
        "@scalar(name='shout', narg=1)\n"
        "def shout(x):\n    return str(x).upper()\n"
    )
    return path


async def test_json_schema_is_trusted_and_user_functions_stay_off(hostile_dir: Path, tmp_path: Path) -> None:
    # Found by the hostile set: SQLite < 3.45 does not mark its JSON functions innocuous, so with
    # trusted_schema=OFF a generated column using json_extract made the whole schema "malformed".
    user_file = write_shout_functions(tmp_path)
    snapshot = open_snapshot(build_hostile(hostile_dir, "json_schema"))
    try:
        assert snapshot.schema_needs == "json_extract()"
        assert any("json_extract()" in note for note in snapshot.notes)
        conn = snapshot.connect([FunctionRegistry(user_file).hook])
        functions = {row[0] for row in conn.execute("PRAGMA function_list")}
        assert "median" in functions and "shout" not in functions
        assert conn.execute("SELECT name FROM docs ORDER BY id").fetchall() == [("a",), (None,)]
        conn.close()
    finally:
        snapshot.close()


async def test_distrusting_databases_keep_user_functions(tmp_path: Path) -> None:
    path = one_empty_table_database(tmp_path / "plain.db")
    user_file = write_shout_functions(tmp_path)
    snapshot = open_snapshot(path)
    try:
        conn = snapshot.connect([FunctionRegistry(user_file).hook])
        assert snapshot.schema_needs is None
        assert conn.execute("PRAGMA trusted_schema").fetchone() == (0,)
        assert conn.execute("SELECT shout('a')").fetchone() == ("A",)
        conn.close()
    finally:
        snapshot.close()


async def test_big_blob_streams_whole_into_a_file(hostile_dir: Path, tmp_path: Path) -> None:
    async with opened(build_hostile(hostile_dir, "big_row")) as database:
        summary = await database.run_sync(describe_ref, BlobRef("main", "big", "data", 1))
        result = await database.run_sync(export_column, "big", "data", tmp_path, pattern="{rowid}.bin")
        keyed = await database.run_sync(
            export_column, "big_norowid", "data", tmp_path / "k", pattern="{pk}.bin"
        )
    assert summary.size == 4 << 20 and summary.storage == "blob"
    data = (tmp_path / "1.bin").read_bytes()
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(bytes(4 << 20)).hexdigest()
    assert result.written == 2 and keyed.written == 1 and (tmp_path / "k" / "k.bin").stat().st_size == 3 << 20


def test_invalid_utf8_names_are_listed_and_refused_clearly(
    hostile_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(build_hostile(hostile_dir, "invalid_utf8_names"))
    code, out, _err = run_cli(capsys, "info", path, "--json")
    names = [t["name"] for t in json.loads(out)["tables"]]
    assert code == 0 and "bad\ufffd(" in names and "fine" in names
    code, _out, err = run_cli(capsys, "query", path, 'SELECT * FROM "bad\ufffd("')
    assert code == 1 and err.startswith("error: ") and "no such table" in err
    assert run_cli(capsys, "query", path, "SELECT x FROM fine")[0] == 0


async def test_names_that_are_not_utf8_give_messages_not_decode_errors(hostile_dir: Path) -> None:
    async with opened(build_hostile(hostile_dir, "invalid_utf8_names")) as database:
        catalog = await database.run_sync(read_catalog)
        for view in ("bad_alias", "bad_missing"):
            with pytest.raises(UserError, match="not valid UTF-8"):
                await database.execute(f"SELECT * FROM {view}")
        assert (await database.execute("SELECT x FROM fine")).rows == [(1,)]
    assert "not valid UTF-8" in (catalog.table("bad_missing").error or "")  # type: ignore[union-attr]


def test_blob_export_of_an_fts_table_without_its_content_is_a_message(
    hostile_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(build_hostile(hostile_dir, "fts"))
    code, _out, err = run_cli(
        capsys, "blobs", path, "--table", "orphan_fts", "--column", "body", "--out", str(tmp_path)
    )
    assert code == 1 and err.startswith("error: Cannot read 'orphan_fts'") and "orphan_src" in err


def test_schema_that_needs_trust_is_read_by_the_cli_with_its_note(
    hostile_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(build_hostile(hostile_dir, "json_schema"))
    code, out, _err = run_cli(capsys, "info", path, "--json")
    assert code == 0 and "json_extract()" in " ".join(json.loads(out)["notes"])
    code, out, _err = run_cli(capsys, "query", path, "SELECT name FROM docs ORDER BY id")
    assert code == 0 and [line.strip() for line in out.splitlines()[2:4]] == ["a", "NULL"]


async def test_truncated_result_gives_its_connection_back_at_once(hostile_dir: Path) -> None:
    async with opened(build_hostile(hostile_dir, "fk_chain")) as database:
        result = await database.execute("SELECT * FROM t1, t2, t3, t4", max_rows=0)
        assert result.truncated is False or result.rows == []
        await database.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", max_rows=5
        )
        assert database.engine.sync_engine.pool.checkedout() == 0


async def test_empty_database_has_nothing_and_still_answers(hostile_dir: Path, tmp_path: Path) -> None:
    async with opened(build_hostile(hostile_dir, "empty_schema")) as database:
        report = await exercise_database(database, tmp_path)
        catalog = await database.run_sync(read_catalog)
    assert catalog.tables == [] and report.messages == []


@pytest.mark.slow
async def test_row_of_100_mb_is_described_and_exported_in_chunks(tmp_path: Path) -> None:
    path = build_hostile(tmp_path, "huge_row")
    async with opened(path) as database:
        summary = await database.run_sync(describe_ref, BlobRef("main", "big", "data", 1))
        result = await database.run_sync(export_column, "big", "data", tmp_path / "out", pattern="{rowid}")
        report = await exercise_database(database, tmp_path / "sweep", deep=False)
    assert summary.size == 100 << 20 and result.written == 2
    assert (tmp_path / "out" / "1").stat().st_size == 100 << 20
    assert report.tables == 2
