"""Shared pieces of the benchmarks: result rows, generated data, and the UI stall meter."""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import resource
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
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


class CallbackClock:
    """How long each top-level Qt event the GUI thread handles takes (asyncio callbacks included: qasync
    runs each from a Qt timer event), recorded between `start()` and `stop()`: a stall meter the machine's
    load barely moves.

    Two measures per callback. Its thread CPU time: what it costs on any machine. And its wall time less
    the time the thread sat runnable waiting for a core (Linux's per-thread run-queue delay,
    /proc/thread-self/schedstat): what a quiet machine would show, as it keeps the time spent blocked
    (on the GIL, a lock, a thread starting), which CPU time leaves out. Without schedstat, wall time.
    Beside them, `quiet_gap`: the largest gap of a 10 ms timer less the run-queue wait within it, the
    stall meter `largest_timer_gap` as a quiet machine would read it (consecutive callbacks add up there).
    """

    def __init__(self) -> None:
        self.recording = False
        #: The five longest callbacks by CPU time and by wall time less run-queue wait: (seconds, what).
        self.longest: list[tuple[float, str]] = []
        self.longest_quiet: list[tuple[float, str]] = []
        self.over: list[float] = []  # CPU seconds of every callback above the stall target
        self.total = 0.0  # CPU seconds of every timed callback: against the thread's own, what is outside
        #: CPU seconds of each cycle collection while recording, by generation (they run inside callbacks).
        self.collections: dict[int, list[float]] = {}
        self._collecting = 0.0
        self.quiet_gap = 0.0
        self.idle_quiet_gap = 0.0  # a caller's place for the same reading over an idle loop
        #: The longest the GUI thread sat blocked between two ticks beyond the timer's own 10 ms: neither
        #: running nor runnable, so waiting for the GIL (or a lock) — a worker computing in Python.
        self.blocked = 0.0
        self.idle_blocked = 0.0  # a caller's place for the same reading over an idle loop
        self._depth = 0
        self._schedstat: int | None = None
        self._timer: Any = None
        self._last = (0.0, 0.0)  # the previous tick: wall clock, run-queue wait
        self._last_cpu = 0.0  # and the thread's CPU time then

    def start(self) -> None:
        """Forget what was recorded and record from now on (call on the GUI thread)."""
        self.longest, self.longest_quiet, self.over, self.total = [], [], [], 0.0
        self.collections = {}
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)
        if self._schedstat is None:
            with suppress(OSError):
                self._schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        from PySide6.QtCore import QTimer

        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)
        self.quiet_gap, self._last = 0.0, (time.perf_counter(), self._waited_s())
        self.blocked, self._last_cpu = 0.0, time.thread_time()
        self._timer.start()
        self.recording = True

    def stop(self) -> float:
        """Stop recording; the longest callback's CPU seconds (0 when none ran)."""
        self.recording = False
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        return self.longest[0][0] if self.longest else 0.0

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = time.thread_time()
        else:
            self.collections.setdefault(info["generation"], []).append(time.thread_time() - self._collecting)

    def _tick(self) -> None:
        now, waited, cpu = time.perf_counter(), self._waited_s(), time.thread_time()
        quiet = (now - self._last[0]) - (waited - self._last[1])
        self.quiet_gap = max(self.quiet_gap, quiet)
        if self._schedstat is not None:
            self.blocked = max(self.blocked, quiet - (cpu - self._last_cpu) - self._timer.interval() / 1000)
        self._last, self._last_cpu = (now, waited), cpu

    def _waited_s(self) -> float:
        """The GUI thread's run-queue delay so far (0 without schedstat)."""
        if self._schedstat is None:
            return 0.0
        return int(os.pread(self._schedstat, 64, 0).split()[1]) / 1e9

    def timed(self, deliver: Callable[[], bool], receiver: Any, event: Any) -> bool:
        """Deliver one event, timing it when it is a top-level one and recording is on."""
        if not self.recording or self._depth:
            self._depth += 1
            try:
                return deliver()
            finally:
                self._depth -= 1
        handle = None
        if type(receiver).__name__ == "_SimpleTimer":  # qasync's: one asyncio callback per timer event
            handle = getattr(receiver, "_SimpleTimer__callbacks", {}).get(event.timerId())
        self._depth += 1
        waited, wall, cpu = self._waited_s(), time.perf_counter(), time.thread_time()
        try:
            return deliver()
        finally:
            self._depth -= 1
            cpu = time.thread_time() - cpu
            quiet = time.perf_counter() - wall - (self._waited_s() - waited)
            self.total += cpu
            if cpu > STALL_TARGET_S:
                self.over.append(cpu)
            if len(self.longest) < 5 or cpu > self.longest[-1][0]:
                self.longest = _top(self.longest, cpu, handle, receiver, event)
            if len(self.longest_quiet) < 5 or quiet > self.longest_quiet[-1][0]:
                self.longest_quiet = _top(self.longest_quiet, quiet, handle, receiver, event)


def _top(kept: list[tuple[float, str]], seconds: float, handle: Any, receiver: Any, event: Any) -> list:
    what = repr(handle)[:160] if handle is not None else f"{type(receiver).__name__} {event.type().name}"
    return sorted([*kept, (seconds, what)], reverse=True)[:5]


#: Set by `use_callback_clock()` before the first `run_on_qasync`: the application then times its events.
CLOCK: CallbackClock | None = None


def use_callback_clock() -> CallbackClock:
    """Make `run_on_qasync`'s application time every top-level event (call before its first run; the
    overridden `notify` costs every event a Python call, so only the benchmarks that read it ask for it)."""
    global CLOCK
    if CLOCK is None:
        if _LOOP is not None:
            raise RuntimeError("use_callback_clock() must come before the first run_on_qasync()")
        CLOCK = CallbackClock()
    return CLOCK


def _application() -> Any:
    from PySide6.QtWidgets import QApplication

    clock = CLOCK
    if clock is None:
        return QApplication.instance() or QApplication([])

    class ClockedApplication(QApplication):
        def notify(self, receiver: Any, event: Any) -> bool:
            return clock.timed(
                lambda: super(ClockedApplication, self).notify(receiver, event), receiver, event
            )

    return ClockedApplication([])


def run_on_qasync(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` on the process's one qasync loop over an offscreen QApplication.

    One loop per process: a second qasync loop over the same QApplication after closing the first hangs.
    """
    global _LOOP
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if _LOOP is None:
        import qasync

        from desktop_app.ui.gui_thread_gc import collect_garbage_on_gui_thread

        app = _application()
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
