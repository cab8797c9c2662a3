"""`wal FILE` lists the commits of a -wal; `--as-of-commit N` on query, info and search reads the database
as of one of them. Exit 0 on success, 1 with one line on stderr; the evidence folder stays as it was."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.conftest import folder_state
from tests.wal_history_builder import build_history


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    path, builder = build_history(tmp_path, 1024, checkpoint_after=6)
    builder.close()
    return path


def test_wal_json_lists_every_commit_with_its_facts_and_marks_stale_ones(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(evidence.parent)
    assert main(["wal", str(evidence), "--json"]) == 0
    commits = json.loads(capsys.readouterr().out)["commits"]
    assert [c["number"] for c in commits] == list(range(1, len(commits) + 1))
    current = [c for c in commits if not c["stale"]]
    assert len(current) == 3 and len(commits) > 3
    assert set(commits[0]) == {"number", "frames", "salt", "pages", "db_pages", "tables", "stale", "openable"}
    assert current[0]["frames"][0] == 1
    assert current[-1]["tables"] == ["people"]
    assert folder_state(evidence.parent) == before
    assert sorted(os.listdir(evidence.parent)) == ["history.db", "history.db-wal"]


def test_wal_text_lists_commits_and_notes(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wal", str(evidence)]) == 0
    out = capsys.readouterr().out
    assert "(stale, salt" in out and "note:" in out and "people" in out


def test_query_as_of_a_commit_sees_the_rows_of_that_commit(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(evidence.parent)
    assert main(["query", str(evidence), "SELECT count(*) FROM people", "--json", "--as-of-commit", "2"]) == 0
    as_of = json.loads(capsys.readouterr().out)
    assert main(["query", str(evidence), "SELECT count(*) FROM people", "--json"]) == 0
    now = json.loads(capsys.readouterr().out)
    assert as_of["rows"] == [[150]] and now["rows"] == [[151]]  # commit 2: before the last insert
    assert folder_state(evidence.parent) == before
    assert sorted(os.listdir(evidence.parent)) == ["history.db", "history.db-wal"]


def test_info_and_search_as_of_a_commit(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(evidence), "--json", "--as-of-commit", "2"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["wal_commit"] == 2 and "as of WAL commit 2" in info["mode_reason"]
    assert main(["search", str(evidence), "last", "--json", "--as-of-commit", "2"]) == 0
    assert "last" not in capsys.readouterr().out.split('"hits"')[-1]
    assert main(["search", str(evidence), "last", "--json", "--as-of-commit", "3"]) == 0
    assert '"last"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of-commit", "99"], "has no commit 99: it holds commits 1–3"),
        (["--as-of-commit", "4"], "is stale (from before the last checkpoint)"),
    ],
)
def test_a_commit_that_cannot_be_opened_is_one_line_and_exit_1(
    evidence: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["query", str(evidence), "SELECT 1", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_file_without_a_wal_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plain.db"
    sqlite3.connect(path).close()
    assert main(["wal", str(path)]) == 1
    err = capsys.readouterr().err
    assert "has no -wal file beside it" in err and err.count("\n") == 1
    assert main(["info", str(path), "--as-of-commit", "1"]) == 1
    assert "has no -wal file beside it" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["plain.db"]


def test_an_empty_wal_lists_no_commit_and_as_of_says_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "quiet.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()  # the last close checkpoints: leave an empty -wal as a crashed reader would
    Path(f"{path}-wal").write_bytes(b"")
    assert main(["wal", str(path), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["commits"] == [] and listing["notes"] == [
        "The -wal is empty: every change is in the database file."
    ]
    assert main(["query", str(path), "SELECT 1", "--as-of-commit", "1"]) == 1
    assert "has no commit 1: it holds no commit" in capsys.readouterr().err
