"""Issue 21 figure: how fast an integrity check stops when cancelled (target ≤ 200 ms), on a large file.

`python -m tests.bench.bench_structure [ROWS]` (default 20,000,000 rows: the 300 MB file `bench_scale`
caches as `scale-300mb.db`; 150000000 takes its 2.1 GB `scale-2gb-150m-rows.db`). The check runs on a memory snapshot and on a direct read-only view of the
same file; it is cancelled from another thread at several points of its run, and the time from
`cancel()` to `Cancelled` is measured. Baselines, same run: SQLite's own `interrupt()` of a plain
`PRAGMA integrity_check` on the file (what any stop costs at best), and the whole check on the file.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.structure.health import integrity_check
from tests.bench.bench_scale import make_rows_file
from tests.bench.common import Figure, bench_folder, run_on_qasync, stall_figure

DEFAULT_ROWS = 20_000_000
#: Row counts whose file `bench_scale` already caches (same generator, same arguments).
CACHED = {20_000_000: ("scale-300mb.db", 2**31 - 1), 150_000_000: ("scale-2gb-150m-rows.db", 2**23 - 1)}
#: Shares of the whole check's time at which it is cancelled.
CANCEL_AT = (0.05, 0.25, 0.5, 0.75, 0.9)
TARGET_S = 0.200


def _stop_latency(start: Callable[[], None], stop: Callable[[], None], delay_s: float) -> float:
    """Run `start` in a thread, call `stop` after `delay_s`; seconds from `stop` until `start` returned."""
    ended: list[float] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            start()
        except (Cancelled, sqlite3.OperationalError):
            pass
        except BaseException as exc:  # reported below: a bench must not hide a failure
            failures.append(exc)
        ended.append(time.perf_counter())

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(delay_s)
    stopped = time.perf_counter()
    stop()
    thread.join()
    if failures:
        raise failures[0]
    return max(0.0, ended[0] - stopped)


def _ours(path: Path, whole_s: float, force_direct: bool) -> list[float]:
    snapshot = open_snapshot(path, force_direct=force_direct)
    try:
        with closing(snapshot.connect()) as conn:
            latencies = []
            for share in CANCEL_AT:
                cancel = CancelToken()
                check = functools.partial(integrity_check, conn, cancel)
                latencies.append(_stop_latency(check, cancel.cancel, whole_s * share))
            return latencies
    finally:
        snapshot.close()


def _sqlite_alone(path: Path, whole_s: float) -> list[float]:
    latencies = []
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)) as conn:
        for share in CANCEL_AT:
            latencies.append(
                _stop_latency(
                    lambda: conn.execute("PRAGMA integrity_check").fetchall(), conn.interrupt, whole_s * share
                )
            )
    return latencies


def _whole(path: Path) -> tuple[float, float]:
    """The whole check: ours on a memory snapshot, and SQLite's on the file."""
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            started = time.perf_counter()
            assert integrity_check(conn, CancelToken()).ok
            ours = time.perf_counter() - started
    finally:
        snapshot.close()
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        started = time.perf_counter()
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        alone = time.perf_counter() - started
    return ours, alone


async def _pane_check(path: Path, stop_after_s: float) -> tuple[float, float, float]:
    """The Structure pane runs the integrity check as a job and Stop is clicked after `stop_after_s`.

    Returns the largest gap of a 10 ms timer meanwhile, the time from Stop until the job has ended (its
    worker thread free again), and the idle loop's largest gap over as long.
    """
    from PySide6.QtCore import QSettings

    from desktop_app.app import finish_start_up
    from desktop_app.core.database import Database
    from desktop_app.core.schema.catalog import read_catalog
    from desktop_app.ui.context import AppContext
    from desktop_app.ui.job_center import Job
    from desktop_app.ui.panes.structure.pane import StructurePane
    from tests.bench.common import gap_until_stopped

    snapshot = await asyncio.to_thread(open_snapshot, path)
    database = Database(snapshot)
    context = AppContext(QSettings(str(bench_folder() / "bench-settings.ini"), QSettings.Format.IniFormat))
    context.set_database(database, await database.run_sync(read_catalog))
    pane = StructurePane(context)
    pane.resize(1000, 700)
    pane.show()
    finish_start_up()
    jobs: list[Job] = []
    try:
        return await gap_until_stopped(
            lambda: jobs.append(pane.run_health("full")),
            pane.health_view.stop_button.click,
            lambda: jobs[0].done,
            stop_after_s,
        )
    finally:
        pane.close()
        await database.close()
        snapshot.close()


def run(rows: int = DEFAULT_ROWS) -> list[Figure]:
    """Cancel latency of the integrity check (memory and direct), and the whole check against SQLite's."""
    name, n_below = CACHED.get(rows, (f"structure-{rows}.db", 2**31 - 1))
    path = make_rows_file(bench_folder() / name, rows, n_below=n_below)
    size = f"{path.stat().st_size / 1e6:,.0f} MB"
    ours_whole, alone_whole = _whole(path)
    baseline = max(_sqlite_alone(path, alone_whole))
    figures = [
        Figure(
            f"{size}: integrity check, whole (memory)", ours_whole, "s", alone_whole, "sqlite3 on the file"
        ),
    ]
    for mode, direct in (("memory", False), ("direct", True)):
        latencies = _ours(path, ours_whole, direct)
        worst = max(latencies)
        figures.append(
            Figure(
                f"{size}: integrity check stops ({mode}, worst of {len(latencies)})",
                worst * 1000,
                "ms",
                baseline * 1000,
                "sqlite3 interrupt() alone",
                "≤ 200 ms",
                worst <= TARGET_S,
            )
        )
        figures.append(
            Figure(
                f"{size}: integrity check stops ({mode}, median)", statistics.median(latencies) * 1000, "ms"
            )
        )
    gap, stop_s, idle = run_on_qasync(lambda: _pane_check(path, min(ours_whole / 2, 5.0)))
    figures.append(stall_figure(f"{size}: UI stall while the Structure pane checks, until Stop", gap, idle))
    figures.append(
        Figure(
            f"{size}: Structure pane, Stop to the check's end",
            stop_s * 1000,
            "ms",
            baseline * 1000,
            "sqlite3 interrupt() alone",
            "≤ 200 ms",
            stop_s <= TARGET_S,
        )
    )
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS):
        print(
            f"{figure.figure}: {figure.value:,.3f} {figure.unit}  ratio {figure.ratio or 0:.2f}x  {figure.target}"
        )
