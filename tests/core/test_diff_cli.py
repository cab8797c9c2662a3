"""`snapshot-browser-cli diff A B`: counts, rows as JSON, SQL that turns A into B, one-line errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import build_parser, main
from desktop_app.cli.common import open_source, source_options
from desktop_app.core.snapshot.snapshot import SnapshotMode
from tests.conftest import folder_state
from tests.core.diff_helpers import apply_to_copy, diff_files, make_db, sql_between
from tests.core.test_diff_sql import AWKWARD_A, AWKWARD_B
from tests.core.test_snapshot_wal import make_wal_db

BASE = "CREATE TABLE t(id INTEGER PRIMARY KEY, v); CREATE TABLE u(k TEXT PRIMARY KEY, n) WITHOUT ROWID;"


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "dbs"
    folder.mkdir()
    a = make_db(
        folder / "a.db", BASE + "INSERT INTO t VALUES (1, 'x'), (2, 1); INSERT INTO u VALUES ('k', 1);"
    )
    b = make_db(
        folder / "b.db", BASE + "INSERT INTO t VALUES (1, 'y'), (3, x'00'); INSERT INTO u VALUES ('k', 1);"
    )
    return a, b


def test_json_has_the_documented_counts(two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_state(two[0].parent)
    assert main(["diff", str(two[0]), str(two[1]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [
        {k: t[k] for k in ("name", "added", "removed", "changed", "schema_changed")} for t in data["tables"]
    ] == [
        {"name": "t", "added": 1, "removed": 1, "changed": 1, "schema_changed": False},
        {"name": "u", "added": 0, "removed": 0, "changed": 0, "schema_changed": False},
    ]
    assert "rows" not in data["tables"][0]
    assert folder_state(two[0].parent) == before


def test_json_rows_carry_old_and_new_values(
    two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(two[0]), str(two[1]), "--json", "--rows", "--table", "t"]) == 0
    data = json.loads(capsys.readouterr().out)
    (table,) = data["tables"]
    assert table["columns"] == ["id", "v"]
    assert sorted(table["rows"], key=lambda r: r["key"]["id"]) == [
        {"change": "changed", "key": {"id": 1}, "old": {"id": 1, "v": "x"}, "new": {"id": 1, "v": "y"}},
        {"change": "removed", "key": {"id": 2}, "old": {"id": 2, "v": 1}},
        {"change": "added", "key": {"id": 3}, "new": {"id": 3, "v": {"blob": "00"}}},
    ]


def test_text_output_names_each_changed_table(
    two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(two[0]), str(two[1])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "+1 row, −1 row, 1 changed in t"
    assert lines[2].split() == ["t", "1", "1", "1", "-"]


def test_sql_applied_to_a_copy_of_a_corpus_file_gives_the_other(corpus: Path, tmp_path: Path) -> None:
    a, b = corpus / "chinook" / "Chinook_Sqlite.sqlite", corpus / "northwind" / "northwind.db"
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "diff", str(a), str(b), "--sql"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == ""
    copy = apply_to_copy(a, result.stdout, tmp_path / "copy.db")
    diff, _rows = diff_files(copy, b)
    assert diff.identical, diff.summary()
    if shutil.which("sqldiff"):
        same = subprocess.run(["sqldiff", str(copy), str(b)], capture_output=True, text=True, check=False)
        assert same.returncode == 0 and same.stdout == ""


def test_sql_of_one_table_changes_only_that_table(two: tuple[Path, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["diff", str(two[0]), str(two[1]), "--sql", "--table", "t"]) == 0
    copy = apply_to_copy(two[0], capsys.readouterr().out, tmp_path / "copy.db")
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, "y"), (3, b"\x00")]
    conn.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--table", "nope"], "error: There is no table called “nope” in either database.\n"),
        (["--rows"], "error: --rows goes with --json.\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    two: tuple[Path, Path], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["diff", str(two[0]), str(two[1]), *extra]) == 1
    assert capsys.readouterr().err == message


def test_missing_file_is_one_line_and_exit_1(
    two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(two[0]), str(two[0].parent / "missing.db")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.db" in err and "does not exist" in err


def test_sql_read_in_place_is_byte_for_byte_the_in_memory_script_and_leaves_the_folder_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dbs"
    folder.mkdir()
    a, b = make_db(folder / "a.db", AWKWARD_A), make_db(folder / "b.db", AWKWARD_B)
    before = folder_state(folder)
    assert main(["diff", str(a), str(b), "--sql"]) == 0
    assert capsys.readouterr().out == sql_between(a, b)
    assert folder_state(folder) == before


def test_sql_against_a_wal_database_reads_its_wal_and_creates_nothing_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dbs"
    folder.mkdir()
    a = make_db(
        folder / "a.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (2, 'x');"
    )
    b = make_wal_db(folder / "b.db", rows=3)
    assert isinstance(b, Path)
    before = folder_state(folder)
    assert sorted(before) == ["a.db", "b.db", "b.db-wal"]
    assert main(["diff", str(a), str(b), "--sql"]) == 0
    script = capsys.readouterr().out
    assert folder_state(folder) == before
    copy = apply_to_copy(a, script, tmp_path / "copy.db")
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [
        (i, f"value {i - 1}") for i in (1, 2, 3)
    ]
    conn.close()


def test_a_file_with_a_journal_beside_it_is_copied_into_memory_not_read_in_place(
    two: tuple[Path, Path],
) -> None:
    a = two[0]
    # Not hot (its first byte is zero), so it is harmless to read past; a writer part way through would
    # leave one like it.
    (a.parent / "a.db-journal").write_bytes(bytes(512))
    options = source_options(build_parser("diff").parse_args(["diff", str(a), str(two[1])]))
    before = folder_state(a.parent)
    snapshots = [open_source(str(path), options, in_place=True) for path in two]
    try:
        assert [s.mode for s in snapshots] == [SnapshotMode.MEMORY, SnapshotMode.DIRECT]
    finally:
        for snapshot in snapshots:
            snapshot.close()
    assert folder_state(a.parent) == before


def test_sql_between_files_in_different_encodings_read_in_place_turns_a_into_b(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dbs"
    folder.mkdir()
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a = make_db(folder / "a.db", base + "INSERT INTO t VALUES (1, 'é'), (2, 'x');")
    b = make_db(
        folder / "b.db",
        base + "INSERT INTO t VALUES (1, 'è'), (3, '😀');",
        pragmas="PRAGMA encoding='UTF-16le';",
    )
    before = folder_state(folder)
    assert main(["diff", str(a), str(b), "--sql"]) == 0
    copy = apply_to_copy(a, capsys.readouterr().out, tmp_path / "copy.db")
    diff, _rows = diff_files(copy, b)
    assert diff.identical, diff.summary()
    assert folder_state(folder) == before
