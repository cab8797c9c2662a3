"""`snapshot-browser-cli diff A B`: counts, rows as JSON, SQL that turns A into B, one-line errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.conftest import folder_state
from tests.core.diff_helpers import apply_to_copy, diff_files, make_db

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
