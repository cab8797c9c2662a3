"""Issue 2 figures: snapshot time vs a bare backup, concurrent queries, peak memory, UI stall while opening."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from desktop_app.app import finish_start_up
from desktop_app.core.database import Database
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.bench.common import (
    Figure,
    bench_folder,
    best_of,
    idle_timer_gap,
    largest_timer_gap,
    make_big_database,
    run_on_qasync,
    sqlite_cli,
    stall_figure,
)
from tests.wal_writer import start_writer, stop_writer

HEAVY = "SELECT category, count(*), sum(amount), max(length(note)) FROM big GROUP BY category"


def bare_backup(path: Path) -> None:
    """The baseline: Python's sqlite3 backup of the same file into a private memory database."""
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dst = sqlite3.connect(":memory:")
    src.backup(dst, pages=1024)
    src.close()
    dst.close()


def snapshot_once(path: Path) -> None:
    open_snapshot(path).close()


def cli_restore(cli: str, path: Path) -> float:
    started = time.perf_counter()
    subprocess.run([cli, ":memory:", f".restore '{path}'", "SELECT 1"], check=True, capture_output=True)
    return time.perf_counter() - started


async def concurrent_vs_serial(path: Path) -> tuple[float, float]:
    snapshot = open_snapshot(path)
    db = Database(snapshot)
    try:
        await db.execute(HEAVY, use_cache=False)  # warm the pool
        started = time.perf_counter()
        await db.execute(HEAVY, use_cache=False)
        await db.execute(HEAVY + " -- 2", use_cache=False)
        serial = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(db.execute(HEAVY, use_cache=False), db.execute(HEAVY + " -- 3", use_cache=False))
        concurrent = time.perf_counter() - started
    finally:
        await db.close()
        snapshot.close()
    return concurrent, serial


# ru_maxrss survives fork+exec on Linux (the child would report the parent's peak): use VmHWM instead.
PEAK_SCRIPT = """
import json, sys
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.bench.common import current_rss_bytes, peak_rss_bytes
idle = current_rss_bytes()
snap = open_snapshot(sys.argv[1])
print(json.dumps({"growth": peak_rss_bytes() - idle}))
"""


def peak_memory_growth(path: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path)], check=True, capture_output=True, text=True
    )
    return int(json.loads(out.stdout)["growth"])


async def ui_stall_while_opening(path: Path) -> tuple[float, float]:
    from PySide6.QtCore import QSettings

    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(bench_folder() / "bench.ini"), QSettings.Format.IniFormat))
    window.show()
    finish_start_up()  # as the app does once its window is up

    async def open_and_wait() -> None:
        window.open_path(path)
        while window.session.snapshot is None or window.session.busy:
            await asyncio.sleep(0.005)

    started = time.perf_counter()
    gap, _ = await largest_timer_gap(open_and_wait())
    idle = await idle_timer_gap(time.perf_counter() - started)
    window.close()
    await window.session.shutdown()
    return gap, idle


async def first_rows_while_opening(path: Path) -> tuple[float, float, float]:
    """Window shown → (schema in the tree, first rows painted in Browse, memory snapshot adopted), in s."""
    from PySide6.QtCore import QEvent, QObject, QSettings

    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(bench_folder() / "bench.ini"), QSettings.Format.IniFormat))
    window.show()
    finish_start_up()
    pane = window.panes["browse"]
    marks: dict[str, float] = {}

    class PaintWatch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "rows" not in marks and pane.model.is_loaded(0):
                marks["rows"] = time.perf_counter()  # this paint draws the first rows
            return False

    watch = PaintWatch()
    pane.view.viewport().installEventFilter(watch)
    started = time.perf_counter()
    window.open_path(path)
    while window.session.snapshot is None or window.session.busy or "rows" not in marks:
        if "schema" not in marks and window.schema_tree.tree.topLevelItemCount():
            marks["schema"] = time.perf_counter()
        await asyncio.sleep(0.002)
    memory = time.perf_counter() - started
    pane.view.viewport().removeEventFilter(watch)
    window.close()
    await window.session.shutdown()
    return marks["schema"] - started, marks["rows"] - started, memory


def snapshot_while_another_process_writes(megabytes: int) -> list[Figure]:
    """Snapshot a WAL database while another process commits without pause, against the same file quiet.

    While the writer runs the snapshot is read in place inside one read transaction; quiet (the writer
    closed), the file is copied privately. Both end in memory.
    """
    folder = bench_folder() / "wal-writer"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path, stop_file = folder / "live.db", bench_folder() / "wal-writer.stop"
    stop_file.unlink(missing_ok=True)
    writer = start_writer(path, stop_file, rows=megabytes * 2**20 // 460)  # two rows of ~230 bytes
    try:
        busy, _ = best_of(3, lambda: snapshot_once(path))
    finally:
        commits = stop_writer(writer, stop_file)
    quiet, _ = best_of(3, lambda: snapshot_once(path))
    size = path.stat().st_size / 2**20
    shutil.rmtree(folder, ignore_errors=True)
    return [
        Figure(f"snapshot of {size:.0f} MB WAL, another process writing", busy, "s", quiet,
               "same file, nobody writing", "≤ 3x", busy <= 3 * quiet),
        Figure("commits by the other process meanwhile", commits, "", None, "", "info"),
    ]  # fmt: skip


def time_to_first_window() -> float:
    script = (
        "import time, os; t=time.perf_counter(); os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "from PySide6.QtWidgets import QApplication\nfrom PySide6.QtCore import QSettings\n"
        "app = QApplication([])\nfrom desktop_app.ui.main_window import MainWindow\n"
        f"w = MainWindow(QSettings({str(bench_folder() / 'ttfw.ini')!r}, QSettings.Format.IniFormat))\n"
        "w.show(); app.processEvents()\n"
        "print(time.perf_counter() - t)"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    return time.perf_counter() - started


def run(size: int = 200) -> list[Figure]:
    """`size` is the generated database's size in MB (the issue's figure is 200 MB)."""
    path = make_big_database(bench_folder() / f"snapshot-{size}mb.db", size)
    file_bytes = path.stat().st_size
    bare, _ = best_of(3, lambda: bare_backup(path))
    ours, _ = best_of(3, lambda: snapshot_once(path))
    figures = [
        Figure(
            f"snapshot of {size} MB", ours, "s", bare, "bare sqlite3 backup", "≤ 1.15x", ours / bare <= 1.15
        ),
    ]
    cli = sqlite_cli()
    if cli:
        restore = min(cli_restore(cli, path) for _ in range(3))
        figures.append(
            Figure(f"snapshot of {size} MB vs CLI", ours, "s", restore, "sqlite3 .restore", "info")
        )
    concurrent, serial = run_on_qasync(lambda: concurrent_vs_serial(path))
    figures.append(
        Figure("two heavy aggregates at once", concurrent, "s", serial, "one after the other", "≤ 0.65x",
               concurrent / serial <= 0.65)
    )  # fmt: skip
    growth = peak_memory_growth(path)
    figures.append(
        Figure("peak memory of a snapshot", growth / 2**20, "MB", file_bytes / 2**20, "file size", "≤ 1.2x",
               growth <= 1.2 * file_bytes)
    )  # fmt: skip
    stall, idle = run_on_qasync(lambda: ui_stall_while_opening(path))
    figures.append(stall_figure("UI stall while snapshotting", stall, idle))
    runs = [run_on_qasync(lambda: first_rows_while_opening(path)) for _ in range(3)]
    schema, rows, memory = (min(run[i] for run in runs) for i in range(3))
    figures.append(
        Figure(f"window shown → schema shown, {size} MB", schema, "s", None, "", "≤ 0.5 s", schema <= 0.5)
    )
    figures.append(
        Figure(
            f"window shown → first rows painted, {size} MB",
            rows,
            "s",
            memory,
            "window shown → memory snapshot in place",
            "≤ 0.5 s",
            rows <= 0.5,
        )
    )
    figures.append(Figure("time to first window", time_to_first_window(), "s", None, "", "info"))
    figures.extend(snapshot_while_another_process_writes(max(size // 4, 10)))
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 200):
        print(figure.as_dict())
