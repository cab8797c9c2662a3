"""`snapshot-browser-cli search`: hits as lines or JSON, options, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main

from .test_search_db import build_search_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_search_database(tmp_path_factory.mktemp("cli") / "search.db")


def test_json_reports_the_chinook_artist_hit(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", str(corpus / "chinook" / "Chinook_Sqlite.sqlite"), "AC/DC", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hits"][0] == {
        "table": "Artist",
        "column": "Name",
        "key": {"rowid": 1},
        "type": "text",
        "snippet": "AC/DC",
        "spans": [[0, 5]],
        "match_start": 0,
        "method": "scan",
    }
    assert len(report["hits"]) == 9 and report["truncated"] is False
    assert {t["table"] for t in report["tables"] if t["hits"]} == {"Artist", "Track"}


def test_lines_name_table_key_and_column(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", str(database), "second pair"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "pairs  a='k/1', b=2  label: second pair\n"
    assert "1 hits in" in captured.err and "ghost: cannot be read" in captured.err


def test_options_and_scope_reach_the_search(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", str(database), r"\d{5}", "--regex", "--numbers", "--table", "people", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(h["column"], h["snippet"]) for h in report["hits"]] == [("age", "12345")]
    assert [t["table"] for t in report["tables"]] == ["people"]
    args = ["search", str(database), "BOB", "--whole-word", "--case-sensitive", "--column", "people", "name"]
    assert main(args) == 0
    assert capsys.readouterr().out == ""


def test_limit_stops_the_search(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", str(database), "e", "--limit", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["hits"]) == 2 and report["truncated"] is True


def test_index_flag_builds_and_uses_the_index(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", str(database), "smith", "--index", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["uses_index"] is True and report["index"]["entries"] > 0
    assert [h["method"] for h in report["hits"]] == ["search index"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--json"], "Type something to search for"),
        (["a(", "--regex"], "Invalid regular expression"),
        (["x", "--table", "nope"], "No table or view named 'nope'"),
        (["x", "--limit", "0"], "--limit must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    database: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["search", str(database), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
