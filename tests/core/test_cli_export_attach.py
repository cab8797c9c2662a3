"""`query --out/--format` writes any export format; `--attach NAME=FILE` joins other databases, untouched."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.export.formats import ExportFormat, available
from tests.conftest import folder_state


@pytest.fixture
def databases(tmp_path: Path) -> Path:
    """A folder with `a.db` (artists) and `b.db` (a WAL database of ratings)."""
    folder = tmp_path / "user"
    folder.mkdir()
    a = sqlite3.connect(folder / "a.db")
    a.executescript(
        "CREATE TABLE artist(id INTEGER PRIMARY KEY, name); INSERT INTO artist VALUES (1,'AC/DC'),(2,'Abba');"
    )
    a.close()
    b = sqlite3.connect(folder / "b.db")
    b.executescript(
        "PRAGMA journal_mode=WAL; CREATE TABLE rating(artist_id, stars);"
        "INSERT INTO rating VALUES (1, 5), (2, 3);"
    )
    b.close()
    return folder


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_out_writes_the_format_named_by_the_extension(
    databases: Path, tmp_path: Path, fmt: ExportFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    if not available(fmt):
        pytest.skip(f"{fmt.value} not installed")
    before = folder_state(databases)
    out = tmp_path / f"artists{fmt.info.extension}"
    assert main(["query", str(databases / "a.db"), "SELECT * FROM artist", "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"2 rows written to {out} ({fmt.info.label})\n"
    assert out.stat().st_size > 0
    assert folder_state(databases) == before


def test_format_overrides_the_extension(databases: Path, tmp_path: Path) -> None:
    out = tmp_path / "artists.txt"
    assert (
        main(
            ["query", str(databases / "a.db"), "SELECT * FROM artist", "--out", str(out), "--format", "jsonl"]
        )
        == 0
    )
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"id": 1, "name": "AC/DC"},
        {"id": 2, "name": "Abba"},
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.txt"], "error: Cannot tell the format from the name 'x.txt': add --format (csv, tsv,"),
        (["--format", "json"], "error: --format goes with --out PATH."),
        (["--attach", "main=b.db"], "error: 'main' is SQLite's own name for a database: choose another."),
        (["--attach", "nothing"], "error: --attach takes NAME=FILE, not 'nothing'."),
        (["--attach", "x=b.db", "--attach", "X=b.db"], "error: A database is already attached as 'X'"),
    ],
)
def test_bad_out_or_attach_is_one_clear_line(
    databases: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(databases)
    before = folder_state(databases)
    assert main(["query", "a.db", "SELECT 1", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert folder_state(databases) == before


@pytest.mark.parametrize("target", ["a.db", "a.db-wal", "b.db", "b.db-shm"])
def test_out_may_not_be_the_source_or_an_attached_file(
    databases: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(databases)
    args = ["query", str(databases / "a.db"), "SELECT 1", "--out", str(databases / target), "--format", "csv"]
    assert main([*args, "--attach", f"b={databases / 'b.db'}"]) == 1
    assert "is the database being read" in capsys.readouterr().err
    assert folder_state(databases) == before


def test_attached_database_joins_with_main_and_stays_untouched(
    databases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(databases)
    sql = (
        "SELECT a.name, r.stars FROM main.artist a JOIN ratings.rating r ON r.artist_id = a.id ORDER BY a.id"
    )
    attach = ["--attach", f"ratings={databases / 'b.db'}"]
    assert main(["query", str(databases / "a.db"), sql, "--json", *attach]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [["AC/DC", 5], ["Abba", 3]]
    assert folder_state(databases) == before  # the WAL file's -wal/-shm neither made nor changed


def test_user_sql_still_cannot_attach_or_write_an_attached_database(
    databases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(databases)
    a, b = str(databases / "a.db"), str(databases / "b.db")
    assert main(["query", a, f"ATTACH '{b}' AS x"]) == 1
    assert "ATTACH is not allowed" in capsys.readouterr().err
    assert main(["query", a, "DELETE FROM r.rating", "--attach", f"r={b}"]) == 1
    assert "not allowed" in capsys.readouterr().err
    assert folder_state(databases) == before


def test_search_finds_text_in_attached_databases(databases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = sqlite3.connect(databases / "c.db")
    extra.executescript("CREATE TABLE note(t); INSERT INTO note VALUES ('loves AC/DC');")
    extra.close()
    before = folder_state(databases)
    assert (
        main(["search", str(databases / "a.db"), "AC/DC", "--json", "--attach", f"n={databases / 'c.db'}"])
        == 0
    )
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert sorted((h["table"], h["column"]) for h in hits) == [("artist", "name"), ("n.note", "t")]
    assert folder_state(databases) == before
