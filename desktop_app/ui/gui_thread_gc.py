"""Python's cycle collector run on the GUI thread only, so Qt objects are never destroyed on another thread.

CPython runs an automatic collection on whichever thread happens to allocate when a threshold is crossed:
often a database or `asyncio.to_thread` worker. A pane, model or timer caught in a reference cycle was then
destroyed on that worker; Qt cannot stop a timer from another thread ("QObject::~QObject: Timers cannot
be stopped from another thread"), left it registered on the GUI thread, and the next time it fired the
process crashed (segmentation fault in QTimerInfoList::activateTimers). So automatic collection is turned
off and a timer on the GUI thread does the same work at the same thresholds.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread looks at the collector's counts (a check is a few microseconds).
CHECK_INTERVAL_MS = 100
#: Least time between two full collections. CPython spaces them by how much is new since the last
#: one, which Python code cannot read; full ones over a big heap stalled the window (see app.py).
FULL_COLLECTION_SPACING_S = 10.0


class GuiThreadCollector(QObject):
    """Owns the collection of reference cycles while it runs (see the module's docstring)."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        self._last_full = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        gc.disable()
        self._timer.start()

    def check(self) -> int | None:
        """Collect the generation CPython would collect now, if any; returns it (None: nothing due)."""
        count0, count1, count2 = gc.get_count()
        limit0, limit1, limit2 = self._thresholds
        if limit0 == 0 or count0 <= limit0:
            return None
        now = time.monotonic()
        if count2 > limit2 and now - self._last_full >= FULL_COLLECTION_SPACING_S:
            generation = 2
            self._last_full = now
        else:
            generation = 1 if count1 > limit1 else 0
        gc.collect(generation)
        return generation

    def stop(self) -> None:
        """Give collection back to CPython (as it was before)."""
        global _running
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
        if _running is self:
            _running = None


_running: GuiThreadCollector | None = None


def collect_garbage_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Start collecting cycles on `app`'s thread only (once: while one runs, later calls return it)."""
    global _running
    if _running is None:
        _running = GuiThreadCollector(app)
    return _running
