"""Shared pieces of the benchmarks: result rows, generated data, and the UI stall meter."""

from __future__ import annotations

import asyncio
import atexit
import os
import resource
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Figure:
    """One line of the benchmark table: our value, the baseline measured in the same run, and the target."""

    figure: str
    value: float
    unit: str = "s"
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        """value / baseline, when there is a baseline."""
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, including the ratio."""
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


#: The UI's event loop must never stall longer than this (the largest gap of a 10 ms timer).
STALL_TARGET_S = 0.030


def stall_figure(name: str, stall_s: float, idle_s: float) -> Figure:
    """A UI stall (largest timer gap) in ms, against the idle loop of the same run, with its 30 ms target."""
    return Figure(
        name, stall_s * 1000, "ms", idle_s * 1000, "idle loop, same run", "≤ 30 ms", stall_s <= STALL_TARGET_S
    )


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Run `fn` `repeats` times and return the fastest wall time and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result  # type: ignore[return-value]


def make_big_database(path: Path, megabytes: int) -> Path:
    """A database of about `megabytes` MB: one wide table of text, numbers and small blobs (reused if present)."""
    if path.exists() and path.stat().st_size >= megabytes * 2**20 * 0.9:
        return path
    path.unlink(missing_ok=True)
    rows = megabytes * 2**20 // 165  # ~165 bytes a row on disk
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, category INTEGER, amount REAL, label TEXT, note TEXT, data BLOB)"
    )
    conn.execute(
        "INSERT INTO big (category, amount, label, note, data) "
        "SELECT abs(random()) % 100, abs(random()) % 100000 / 100.0, "
        "'label ' || hex(randomblob(8)), 'note ' || hex(randomblob(40)), randomblob(32) "
        f"FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {rows}) SELECT x FROM c)"
    )
    conn.commit()
    conn.close()
    return path


def sqlite_cli() -> str | None:
    """Path of the sqlite3 command-line shell (Debian package sqlite3), installing it if allowed."""
    found = shutil.which("sqlite3")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "sqlite3"], capture_output=True, check=False)
        found = shutil.which("sqlite3")
    return found


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (VmHWM; ru_maxrss would include a parent's peak)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    """Resident memory of this process now (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def largest_timer_gap(work: Awaitable[T], interval_ms: int = 10) -> tuple[float, T]:
    """Run `work` on the running qasync loop while a 10 ms QTimer ticks; return the largest gap (s)."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(tick)
    timer.start()
    try:
        result = await work
    finally:
        timer.stop()
    tick()
    return max(gaps) if gaps else 0.0, result


async def idle_timer_gap(seconds: float) -> float:
    """The largest gap of the same timer over `seconds` (at most 10) of an idle loop: the machine's noise."""
    gap, _ = await largest_timer_gap(asyncio.sleep(min(max(seconds, 1.0), 10.0)))
    return gap


_LOOP: asyncio.AbstractEventLoop | None = None


def run_on_qasync(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` on the process's one qasync loop over an offscreen QApplication.

    One loop per process: a second qasync loop over the same QApplication after closing the first hangs.
    """
    global _LOOP
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if _LOOP is None:
        import qasync
        from PySide6.QtWidgets import QApplication

        from desktop_app.ui.gui_thread_gc import collect_garbage_on_gui_thread

        app = QApplication.instance() or QApplication([])
        collect_garbage_on_gui_thread(app)  # as the app does
        app.setQuitOnLastWindowClosed(False)
        _LOOP = qasync.QEventLoop(app)
        # Closing stops the executor's QThreads; Qt aborts the process if it exits with them running.
        atexit.register(_LOOP.close)
    asyncio.set_event_loop(_LOOP)
    return _LOOP.run_until_complete(main())


def bench_folder() -> Path:
    """Where generated benchmark data lives (reused between runs; `BENCH_DIR` overrides)."""
    folder = Path(os.environ.get("BENCH_DIR", Path.home() / ".cache" / "sqlite-snapshot-browser-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def gap_until_stopped(
    start: Callable[[], Any], stop: Callable[[], None], done: Callable[[], bool], stop_after_s: float
) -> tuple[float, float, float]:
    """`start()` a job and `stop()` it after `stop_after_s`: the largest gap of a 10 ms timer meanwhile,
    the time from Stop until `done()`, and the idle loop's largest gap over as long."""
    from tests.bench.bench_browse import until

    stop_s: list[float] = []

    async def start_then_stop() -> None:
        start()
        await asyncio.sleep(stop_after_s)
        clicked = time.perf_counter()
        stop()
        await until(done, timeout=120)
        stop_s.append(time.perf_counter() - clicked)

    started = time.perf_counter()
    gap, _ = await largest_timer_gap(start_then_stop())
    idle = await idle_timer_gap(time.perf_counter() - started)
    return gap, stop_s[0], idle
