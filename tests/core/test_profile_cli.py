"""`snapshot-browser-cli profile`: JSON and table output, clear refusals, time limit and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.conftest import folder_state

REPO = Path(__file__).resolve().parents[2]


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "shop.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE "my items" (id INTEGER PRIMARY KEY, kind, price REAL, added TEXT);
        INSERT INTO "my items" VALUES (1, 'a', 1.5, '2024-01-01'), (2, 'a', 2.5, '2024-02-01'),
            (3, 'b', NULL, '2024-03-01'), (4, X'00FF', 4, NULL);
        CREATE VIEW endless AS
            WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c;
        """
    )
    conn.commit()
    conn.close()
    return path


def test_json_gives_every_figure_per_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _database(tmp_path)
    before = sorted(p.name for p in db.parent.iterdir()), folder_state(db.parent)
    assert main(["profile", str(db), "--table", "my items", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["table"] == "my items"
    columns = {c["name"]: c for c in report["columns"]}
    assert list(columns) == ["id", "kind", "price", "added"]
    kind = columns["kind"]
    assert {k: kind[k] for k in ("count", "nulls", "distinct", "min", "max", "types", "length")} == {
        "count": 4,
        "nulls": 0,
        "distinct": 3,
        "min": "a",
        "max": {"$base64": "AP8="},
        "types": {"text": 3, "blob": 1},
        "length": [1, 2],
    }
    assert kind["top"] == [["a", 2], ["b", 1], [{"$base64": "AP8="}, 1]]
    assert columns["price"]["nulls"] == 1 and columns["price"]["histogram"][0]["low"] == 1.5
    assert columns["added"]["time_encoding"] == "iso8601"
    assert columns["added"]["histogram"][0]["low_time"] == "2024-01-01T00:00:00Z"
    assert (sorted(p.name for p in db.parent.iterdir()), folder_state(db.parent)) == before


def test_one_column_as_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _database(tmp_path)
    assert main(["profile", str(db), "--table", "MY ITEMS", "--column", "kind"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        "kind",
        "  rows 4  nulls 0  distinct 3  types: text 3, blob 1",
        "  min a  max <BLOB 2 bytes>  length 1..2",
    ]
    assert "top: a ×2, b ×1, <BLOB 2 bytes> ×1" in out


def test_unknown_table_or_column_is_one_line_naming_what_there_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    assert main(["profile", str(db), "--table", "nope"]) == 1
    assert capsys.readouterr().err == "error: No table or view called nope (tables: endless, my items).\n"
    assert main(["profile", str(db), "--table", "my items", "--column", "nope"]) == 1
    assert capsys.readouterr().err == (
        "error: my items has no column nope (its columns: id, kind, price, added).\n"
    )


@pytest.mark.timeout(60)
def test_time_limit_stops_a_profile_that_never_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    assert main(["profile", str(db), "--table", "endless", "--time-limit", "0.5"]) == 1
    assert capsys.readouterr().err == "error: stopped after 0.5 s (time limit)\n"


@pytest.mark.timeout(90)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_a_profile_with_exit_130(tmp_path: Path) -> None:
    db = _database(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop_app.cli", "profile", str(db), "--table", "endless"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "interrupted\n")
