"""The headless commands stop on Ctrl-C and at a time limit, and stream their output in bounded memory."""

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

REPO = Path(__file__).resolve().parents[2]
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT {start} UNION ALL SELECT x+1 FROM c) SELECT count(*) AS n FROM c"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tiny.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


def _marker_functions(tmp_path: Path) -> tuple[Path, Path]:
    """A functions file whose `started()` creates a marker file: the statement is running from then on."""
    marker = tmp_path / "started"
    functions = tmp_path / "marker_functions.py"
    functions.write_text(
        "from pathlib import Path\n"
        "from desktop_app.functions_api import scalar\n\n"
        "@scalar\n"
        "def started() -> int:\n"
        f"    Path({str(marker)!r}).touch()\n"
        "    return 1\n",
        encoding="utf-8",
    )
    return functions, marker


def _start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app.cli", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_when_started(process: subprocess.Popen[str], marker: Path) -> tuple[str, str]:
    while not marker.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    time.sleep(0.2)  # well inside SQLite's loop, which calls no Python code from here on
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=60)


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.timeout(90)
def test_ctrl_c_stops_an_endless_recursive_cte_with_exit_130_and_no_partial_csv(tmp_path: Path) -> None:
    db = _database(tmp_path)
    functions, marker = _marker_functions(tmp_path)
    out = tmp_path / "out" / "rows.csv"
    out.parent.mkdir()
    process = _start_cli(
        "query", str(db), ENDLESS.format(start="started()"), "--functions", str(functions), "--csv", str(out)
    )
    _stdout, stderr = _interrupt_when_started(process, marker)
    assert process.returncode == 130
    assert stderr == "interrupted\n"
    assert _listing(out.parent) == []  # neither rows.csv nor its temporary file
    assert _listing(db.parent) == ["tiny.db"]


@pytest.mark.timeout(90)
def test_ctrl_c_stops_a_blob_export_of_an_endless_query_leaving_no_partial_file(tmp_path: Path) -> None:
    db = _database(tmp_path)
    out = tmp_path / "blobs"
    # Endless rows of 3 MB blobs: the stop lands while one is written, or between two.
    sql = ENDLESS.format(start=1).replace("count(*) AS n", "x, zeroblob(3000000) AS b")
    process = _start_cli(
        "blobs", str(db), "--query", sql, "--column", "b", "--out", str(out), "--name", "{n}.bin"
    )
    _stdout, stderr = _interrupt_when_started(process, out / "2.bin")
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "interrupted"
    written = _listing(out)
    assert not [name for name in written if name.endswith(".partial")]
    assert all((out / name).stat().st_size == 3_000_000 for name in written)  # whole files only


def test_time_limit_stops_an_endless_query_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    assert main(["query", str(db), ENDLESS.format(start=1), "--time-limit", "0.5"]) == 1
    assert capsys.readouterr().err == "error: stopped after 0.5 s (time limit)\n"


def test_a_query_within_its_time_limit_is_not_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    assert main(["query", str(db), "SELECT 41 + 1 AS answer", "--time-limit", "30"]) == 0
    assert "42" in capsys.readouterr().out


def test_negative_time_limit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(_database(tmp_path)), "SELECT 1", "--time-limit", "-1"]) == 1
    assert capsys.readouterr().err == "error: --time-limit must be 0 (none) or more seconds.\n"


def test_json_output_keeps_its_shape_with_no_rows_and_with_several_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    assert main(["query", str(db), "SELECT x FROM t", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"columns": ["x"], "rows": []}
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2500) SELECT x, x'00' FROM c"
    )
    assert main(["query", str(db), sql, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["columns"] == ["x", "x'00'"]
    assert [row[0] for row in data["rows"]] == list(range(1, 2501))
    assert data["rows"][0][1] == {"$base64": "AA=="}


def test_table_output_counts_every_row_across_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(tmp_path)
    sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2500) SELECT x FROM c"
    assert main(["query", str(db), sql]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "x" and lines[2] == "1" and lines[-2] == "2500" and lines[-1] == "(2,500 rows)"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [["--json"], []], ids=["json", "table"])
def test_output_of_200k_rows_streams_in_bounded_memory(tmp_path: Path, mode: list[str]) -> None:
    pytest.importorskip("resource")
    db = _database(tmp_path)
    # 200,000 rows of ~500 characters: held in memory (as before) the process peaked at ~210 MB.
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
        "SELECT x, printf('%.500c', 'a') || x AS t FROM c"
    )
    out = tmp_path / "out.txt"
    # A fresh parent process, so RUSAGE_CHILDREN's peak is this command's alone.
    measure = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'wb') as out:\n"
        "    status = subprocess.run(sys.argv[2:], stdout=out).returncode\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(status, peak // 1024 if sys.platform != 'darwin' else peak // (1 << 20))\n"
    )
    command = [sys.executable, "-m", "desktop_app.cli", "query", str(db), sql, *mode]
    result = subprocess.run(
        [sys.executable, "-c", measure, str(out), *command],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=110,
        check=True,
    )
    status, peak_mb = map(int, result.stdout.split())
    assert status == 0
    assert peak_mb < 120
    if mode:
        with out.open(encoding="utf-8") as handle:
            rows = json.load(handle)["rows"]
        assert len(rows) == 200_000 and rows[-1][0] == 200_000
    else:
        assert out.read_text(encoding="utf-8").splitlines()[-1] == "(200,000 rows)"
