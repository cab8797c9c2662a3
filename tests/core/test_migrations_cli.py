"""`snapshot-browser-cli migrations`: text and JSON, a plain answer when there is no tool, user errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main


def _knex_project(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "data" / "app.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE knex_migrations (id integer PRIMARY KEY, name varchar(255), batch integer,"
        " migration_time datetime);"
        "INSERT INTO knex_migrations (name, batch, migration_time) VALUES"
        " ('20240101_init.js', 1, 1704103200000), ('20240102_gone.js', 2, 1704189600000)"
    )
    conn.commit()
    conn.close()
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("20240101_init.js", "20240103_next.js"):
        (folder / name).write_text("exports.up = () => {};\n")
    return db, folder


def test_text_report_lists_history_pending_and_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, folder = _knex_project(tmp_path)
    before = sorted(p.name for p in db.parent.iterdir())
    assert main(["migrations", str(db), "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Knex (table knex_migrations)" in out
    assert "current version: 20240102_gone.js" in out
    assert "pending (1):" in out and "20240103_next.js" in out
    assert "missing from the folder (1):" in out and "20240102_gone.js" in out
    assert sorted(p.name for p in db.parent.iterdir()) == before  # nothing written beside the database


def test_json_report_is_plain_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, folder = _knex_project(tmp_path)
    assert main(["migrations", str(db), "--folder", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True
    (tool,) = data["tools"]
    assert tool["tool"] == "knex"
    assert [row["batch"] for row in tool["history"]] == [1, 2]
    assert tool["history"][0]["applied_at"] == "2024-01-01T10:00:00+00:00"
    assert [item["id"] for item in tool["pending"]["pending"]] == ["20240103_next.js"]


def test_database_without_migration_tool_says_so_and_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "plain.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    assert main(["migrations", str(db)]) == 0
    assert capsys.readouterr().out.startswith("No migration tool found: ")
    assert main(["migrations", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] is False


def test_tool_filter_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, _folder = _knex_project(tmp_path)
    assert main(["migrations", str(db), "--tool", "flyway"]) == 0
    assert "No migration tool found" in capsys.readouterr().out
    assert main(["migrations", str(db), "--tool", "nonsense"]) == 1
    assert "error: Unknown migration tool" in capsys.readouterr().err
    assert main(["migrations", str(db), "--folder", str(tmp_path / "absent")]) == 1
    assert "error: Migrations folder not found" in capsys.readouterr().err
