"""Issue 20 figures: `diff --sql` on two 200 MB databases differing in 1% of rows, against `sqldiff`.

`python -m tests.bench.bench_diff [MEGABYTES]` (default 200). A is `make_big_database`'s file; B is a copy
with 0.4% of rows changed, 0.3% deleted and 0.3% added. Both commands run as processes of their own,
writing their SQL to /dev/null: wall time (target ≤ 1.5x sqldiff; sqldiff is the Debian package
sqlite3-tools, and the ratio is skipped with a note when it is absent) and peak resident memory against
the two files' size (target ≤ 1.2x: both snapshots are in memory). Then watch mode in a window over a
database another process commits to 10 times a second: the largest UI stall (target ≤ 30 ms, against
an idle loop of the same run) and how many watched generations the commits landed in.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.common import (
    Figure,
    bench_folder,
    idle_timer_gap,
    largest_timer_gap,
    make_big_database,
    run_on_qasync,
    stall_figure,
)

DEFAULT_MB = 200
ROOT = Path(__file__).resolve().parents[2]


def make_pair(megabytes: int) -> tuple[Path, Path]:
    """A and B (reused between runs): B differs from A in 1% of its rows."""
    folder = bench_folder()
    a = make_big_database(folder / f"diff-a-{megabytes}mb.db", megabytes)
    b = folder / f"diff-b-{megabytes}mb.db"
    if not b.exists() or b.stat().st_mtime < a.stat().st_mtime:
        shutil.copyfile(a, b)
        conn = sqlite3.connect(b)
        rows = conn.execute("SELECT max(id) FROM big").fetchone()[0]
        conn.execute("UPDATE big SET amount = amount + 1, note = 'changed' WHERE id % 250 = 0")
        conn.execute("DELETE FROM big WHERE id % 333 = 1")
        conn.execute(
            "INSERT INTO big (category, amount, label, note, data) SELECT category, amount, label, 'added', data "
            f"FROM big WHERE id % 333 = 2 AND id <= {rows}"
        )
        conn.commit()
        conn.close()
    return a, b


def _timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds of `command` (stdout to /dev/null) and its peak resident memory in bytes."""
    wrapper = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return time.perf_counter() - started, int(out.stdout.split()[-1])


#: A writer committing 10 times a second (one row added, one changed), until its stop file exists.
_WRITER = """
import sqlite3, sys, time, os
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, body TEXT, n)")
conn.execute("INSERT INTO messages(body, n) VALUES ('seed', 0)")
print("ready", flush=True)
commits = 0
while not os.path.exists(sys.argv[2]):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO messages(body, n) VALUES ('new', ?)", (commits,))
    conn.execute("UPDATE messages SET n = n + 1 WHERE id = 1")
    conn.execute("COMMIT")
    commits += 1
    time.sleep(0.1)
conn.close()
print(commits, flush=True)
"""


async def _watch(seconds: float) -> tuple[float, float, int, int]:
    """Watch a database receiving 10 commits/s for `seconds`: (UI stall, idle stall, generations, commits)."""
    from PySide6.QtCore import QSettings

    from desktop_app.app import finish_start_up
    from desktop_app.ui.main_window import MainWindow

    folder = bench_folder() / "watch"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path, stop = folder / "live.db", folder / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(stop)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    window = MainWindow(QSettings(str(bench_folder() / "bench.ini"), QSettings.Format.IniFormat))
    window.show()
    finish_start_up()
    window.open_path(path)
    while window.session.snapshot is None or window.session.busy:
        await asyncio.sleep(0.01)
    pane = window.panes.changes
    pane.watch_box.setChecked(True)
    started = time.perf_counter()
    gap, _ = await largest_timer_gap(asyncio.sleep(seconds))
    idle = await idle_timer_gap(time.perf_counter() - started)
    pane.watch_box.setChecked(False)
    generations = len(pane.timeline) - 1
    window.close()
    await window.session.shutdown()
    stop.touch()
    out, _ = writer.communicate(timeout=30)
    return gap, idle, generations, int(out.split()[-1])


def run(megabytes: int = DEFAULT_MB) -> list[Figure]:
    """`diff --sql` time against sqldiff's, and its peak memory against the two files."""
    a, b = make_pair(megabytes)
    files = a.stat().st_size + b.stat().st_size
    ours_s, ours_rss = _timed([sys.executable, "-m", "desktop_app.cli", "diff", str(a), str(b), "--sql"])
    figures = []
    sqldiff = shutil.which("sqldiff")
    if sqldiff is None:
        figures.append(Figure("diff --sql (sqldiff absent: no ratio)", ours_s, "s", target="≤ 1.5x sqldiff"))
    else:
        theirs_s, _ = _timed([sqldiff, str(a), str(b)])
        figures.append(
            Figure(
                f"diff --sql, 2 × {megabytes} MB, 1% rows differ",
                ours_s,
                "s",
                theirs_s,
                "sqldiff, same files",
                "≤ 1.5x sqldiff",
                ours_s <= 1.5 * theirs_s,
            )
        )
    figures.append(
        Figure(
            "diff --sql peak memory",
            ours_rss / 2**20,
            "MiB",
            files / 2**20,
            "size of the two files",
            "≤ 1.2x",
            ours_rss <= 1.2 * files,
        )
    )
    gap, idle, generations, commits = run_on_qasync(lambda: _watch(10.0))
    figures.append(stall_figure("UI stall, watch mode, 10 commits/s", gap, idle))
    figures.append(
        Figure("watched generations (10 s of 10 commits/s)", generations, "", commits, "commits", "info")
    )
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MB):
        ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
        print(f"{figure.figure}: {figure.value:,.2f} {figure.unit}  ratio {ratio}  target {figure.target}")
