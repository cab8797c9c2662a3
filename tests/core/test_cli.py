"""The headless commands: clear one-line errors, exit status, JSON and CSV out."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_info_json_lists_tables_and_counts(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(corpus / "chinook" / "Chinook_Sqlite.sqlite"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    tracks = next(t for t in report["tables"] if t["name"] == "Track")
    assert tracks["rows"] == 3503 and report["mode"] == "memory snapshot" and report["page_size"] == 4096


def test_query_csv_writes_every_row(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    assert (
        main(
            [
                "query",
                str(corpus / "chinook" / "Chinook_Sqlite.sqlite"),
                "SELECT * FROM Track",
                "--csv",
                str(out),
            ]
        )
        == 0
    )
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["TrackId", "Name"] and len(rows) == 3504


def test_query_json_with_limit(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus / "northwind" / "northwind.db")
    assert main(["query", path, 'SELECT * FROM "Order Details"', "--json", "--limit", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["rows"]) == 3 and "OrderID" in data["columns"]


def test_bad_sql_is_one_line_and_exit_1(corpus: Path) -> None:
    result = run_cli("query", str(corpus / "chinook" / "Chinook_Sqlite.sqlite"), "SELEC 1")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "syntax error" in result.stderr
    assert "Traceback" not in result.stderr


def test_write_statement_is_refused(corpus: Path) -> None:
    result = run_cli("query", str(corpus / "chinook" / "Chinook_Sqlite.sqlite"), "DELETE FROM Track")
    assert result.returncode == 1 and "read-only" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.db", None, "does not exist"),
        ("empty.db", b"", "empty"),
        ("text.db", b"hello" * 100, "not a SQLite"),
    ],
)
def test_bad_files_are_one_line_and_exit_1(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_cli("info", str(path))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and "snapshot-browser-cli" in result.stdout
