"""Issue 18 figures: the Browse grid over 150,000,000 rows (past Qt's int pixel range), Ctrl+End to the end.

`python -m tests.bench.bench_scale_grid [ROWS]` or `python -m tests.bench --only scale_grid` (not in the
default set: the 150M-row file is 1.8 GB, built once in the bench folder and reused; its snapshot needs
~2 GB of memory). Before the sliding window the window froze for ever on such a table; the figures are the
time from Ctrl+End to the last row painted, a jump to the middle and a drag of the scroll bar, and the
largest UI stall meanwhile against the idle loop of the same run.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from desktop_app.app import finish_start_up
from tests.bench.bench_browse import _p95, until
from tests.bench.bench_scale import make_rows_file
from tests.bench.common import (
    Figure,
    bench_folder,
    idle_timer_gap,
    largest_timer_gap,
    run_on_qasync,
    stall_figure,
)

DEFAULT_ROWS = 150_000_000
RANDOM_JUMPS = 40
#: Rows appended per transaction while building the file.
_CHUNK = 10_000_000


def data_path(rows: int) -> Path:
    """The cached file: the 2.1 GB / 150M-row file of `bench_scale` for the default size."""
    if rows == DEFAULT_ROWS:
        return bench_folder() / "scale-2gb-150m-rows.db"
    return bench_folder() / f"grid-{rows}.db"


def make_table(path: Path, rows: int) -> Path:
    """Generate (or reuse) table `t` with `rows` rows, as `bench_scale` does."""
    return make_rows_file(path, rows, n_below=2**23 - 1)


async def browse_to_the_end(path: Path) -> list[Figure]:
    from PySide6.QtCore import QEvent, QObject, QSettings, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.database import Database
    from desktop_app.core.schema.catalog import read_catalog
    from desktop_app.core.snapshot.snapshot import open_snapshot
    from desktop_app.ui.context import AppContext
    from desktop_app.ui.panes.browse.pane import BrowsePane

    started = time.perf_counter()
    snapshot = await asyncio.to_thread(open_snapshot, path)
    snapshot_s = time.perf_counter() - started
    database = Database(snapshot)
    catalog = await database.run_sync(read_catalog)
    context = AppContext(QSettings(str(bench_folder() / "bench-settings.ini"), QSettings.Format.IniFormat))
    context.set_database(database, catalog)
    pane = BrowsePane(context)
    pane.resize(1000, 700)
    pane.show()
    model = pane.model
    finish_start_up()
    started = time.perf_counter()
    pane.show_table("t")
    first_s = await until(lambda: model.is_loaded(0))
    await until(lambda: model.exact, timeout=600)
    count_s = time.perf_counter() - started
    total = model.total_rows
    await asyncio.sleep(0.5)

    class PaintWatch(QObject):
        """Times the first paint of the grid that shows the rows waited for."""

        def __init__(self) -> None:
            super().__init__()
            self.row = 0
            self.painted: float | None = None

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and self.painted is None and model.is_loaded(self.row):
                self.painted = time.perf_counter()
            return False

    watch = PaintWatch()
    pane.view.viewport().installEventFilter(watch)
    found: dict[str, float] = {}

    async def work() -> None:
        pane.view.setFocus()
        watch.row, watch.painted = total - 1, None
        pressed = time.perf_counter()
        key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        QApplication.postEvent(pane.view, key)  # as a user's key press: through the event loop
        await until(lambda: watch.painted is not None)
        found["end"] = (watch.painted or pressed) - pressed
        current = pane.view.currentIndex()
        assert model.real_row(current.row()) == total - 1, "Ctrl+End did not reach the last row"
        await asyncio.sleep(0.2)
        middle = total // 2
        watch.row, watch.painted = middle, None
        jumped = time.perf_counter()
        pane.scroll_to_row(middle)
        await until(lambda: watch.painted is not None)
        found["middle"] = (watch.painted or jumped) - jumped
        await asyncio.sleep(0.2)
        jumps = []
        for row in random.Random(18).sample(range(total), RANDOM_JUMPS):
            watch.row, watch.painted = row, None
            jumped = time.perf_counter()
            pane.scroll_to_row(row)
            await until(lambda: watch.painted is not None)
            jumps.append((watch.painted or jumped) - jumped)
        found["random p95"] = _p95(jumps)
        await asyncio.sleep(0.2)
        bar = pane.grid.bar
        for fraction in (0.2, 0.4, 0.6, 0.33):
            bar.setValue(int(bar.maximum() * fraction))
            await asyncio.sleep(0.02)
        top = pane.grid.top_row()
        await until(lambda: model.is_loaded(top))
        for _ in range(30):
            QApplication.postEvent(
                pane.view,
                QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_PageDown, Qt.KeyboardModifier.NoModifier),
            )
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)

    started = time.perf_counter()
    gap, _ = await largest_timer_gap(work())
    idle_gap = await idle_timer_gap(time.perf_counter() - started)
    pane.view.viewport().removeEventFilter(watch)
    model.close()
    await model.wait_idle()
    pane.close()
    await database.close()
    snapshot.close()
    n = f"{total:,}"
    return [
        Figure(f"snapshot of the {n}-row file", snapshot_s, "s"),
        Figure("first rows visible after the table is picked", first_s * 1000, "ms"),
        Figure(f"rows counted ({n})", count_s, "s"),
        Figure(
            f"Ctrl+End → last of {n} rows painted",
            found["end"] * 1000,
            "ms",
            None,
            "",
            "≤ 2000 ms",
            found["end"] <= 2.0,
        ),
        Figure("go to the middle row → painted", found["middle"] * 1000, "ms"),
        Figure(
            f"random jumps → painted, p95 of {RANDOM_JUMPS}",
            found["random p95"] * 1000,
            "ms",
            None,
            "",
            "≤ 50 ms",
            found["random p95"] <= 0.05,
        ),
        stall_figure("largest gap of a 10 ms timer: end, middle, drag, PageDown", gap, idle_gap),
    ]


def run(size: int = DEFAULT_ROWS) -> list[Figure]:
    """Generate the table (reused between runs) and browse to its end; returns the figures."""
    path = make_table(data_path(size), size)
    return run_on_qasync(lambda: browse_to_the_end(path))


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    for figure in run(rows):
        ok = {True: "ok", False: "MISSED", None: ""}[figure.ok]
        baseline = f"(idle {figure.baseline:,.1f})" if figure.baseline is not None else ""
        print(
            f"{figure.figure:<58} {figure.value:>10,.1f} {figure.unit:<3} {baseline:<14} {figure.target:<10} {ok}"
        )
