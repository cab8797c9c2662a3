"""Python's cycle collector run on the GUI thread only, so Qt objects are never destroyed on another thread.

CPython runs an automatic collection on whichever thread happens to allocate when a threshold is crossed:
often a database or `asyncio.to_thread` worker. A pane, model or timer caught in a reference cycle was then
destroyed on that worker; Qt cannot stop a timer from another thread ("QObject::~QObject: Timers cannot
be stopped from another thread"), left it registered on the GUI thread, and the next time it fired the
process crashed (segmentation fault in QTimerInfoList::activateTimers). So automatic collection is turned
off and a timer on the GUI thread does the same work at the same thresholds.

A pause lasts as long as the generations collected are big. A worker allocating hard (a recovery scan)
fills the youngest generation between two checks, so checks come often; and a full collection, which
walks every long-lived object, follows CPython's own rule: only once the objects moved into the oldest
generation since the last full one exceed a quarter of those that were there after it.

A worker that builds a big long-lived result (a 1 GB recovery scan: ~900k records, 7-9M objects) would
still set off a full collection every 10 s, each 1.4-2.1 s on the GUI thread: `LongLivedWork` holds
full collections off while it runs and freezes what the work kept once it is done.
"""

from __future__ import annotations

import gc
import time
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread looks at the collector's counts (a check is a few microseconds). Every 100 ms
#: a worker allocating hard left 50-100k new objects: each young collection then paused the UI 30-75 ms.
CHECK_INTERVAL_MS = 10
#: How often it looks once nothing was due for IDLE_AFTER_S: looking every 10 ms cost an idle window
#: 17 ms of CPU a second, this 5-6 ms (every 100 ms: 2 ms).
IDLE_CHECK_INTERVAL_MS = 50
#: A worker allocating hard can be kept off the GIL for a look or two: slowing down at the first look
#: with nothing due let the young generations grow 2-3 times bigger in half the runs measured.
IDLE_AFTER_S = 1.0
#: Least time between two full collections (on top of CPython's rule, FULL_COLLECTION_GROWTH).
FULL_COLLECTION_SPACING_S = 10.0
#: CPython's rule: a full collection once the objects moved into the oldest generation since the last
#: one exceed this share of the long-lived objects it left (so full collections cost linear time overall).
FULL_COLLECTION_GROWTH = 0.25


def full_collection_due(pending: int, long_lived: int, since_last_full_s: float) -> bool:
    """Whether a full collection is due, once the oldest generation's count is over its threshold:
    `pending` objects moved into the oldest generation since the last full collection left `long_lived`."""
    return pending > long_lived * FULL_COLLECTION_GROWTH and since_last_full_s >= FULL_COLLECTION_SPACING_S


def tracked_objects(*generations: int) -> int:
    """How many objects the collector tracks in `generations`.

    Counted inside C calls only: a list from `gc.get_objects()` held across a bytecode let a worker run
    while it held an extra reference to every young object, a tuple the worker was still building
    among them, which then failed to grow ("SystemError: bad argument to internal function" in the
    worker's `tuple(...)`; seen in a recovery scan, once the GIL changed hands more often)."""
    return sum(map(len, map(gc.get_objects, generations)))


class GuiThreadCollector(QObject):
    """Owns the collection of reference cycles while it runs (see the module's docstring)."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        self._last_full = time.monotonic()
        self._last_due = float("-inf")
        self._pending = 0
        self._long_lived = 0
        self._deferred = 0  # LongLivedWork blocks running
        self._freeze_pending = False
        self._measure_long_lived()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        gc.disable()
        self._timer.start()

    def _measure_long_lived(self) -> None:
        # Counting the oldest generation costs about a third of collecting it (70 ms for 3M objects
        # against 210 ms): done only after a full collection, or once a freeze or a full collection
        # run by someone else (`gc.collect()`) changed it.
        self._long_lived = tracked_objects(2)
        self._full_collections = gc.get_stats()[2]["collections"]
        self._frozen = gc.get_freeze_count()

    def check(self) -> int | None:
        """Collect the generation CPython would collect now, if any; returns it (None: nothing due)."""
        generation = self._collect_what_is_due()
        now = time.monotonic()
        if generation is not None:
            self._last_due = now
        interval = CHECK_INTERVAL_MS if now - self._last_due < IDLE_AFTER_S else IDLE_CHECK_INTERVAL_MS
        if self._timer.interval() != interval:
            self._timer.setInterval(interval)
        return generation

    def _collect_what_is_due(self) -> int | None:
        if self._freeze_pending:
            self._freeze_pending = False
            gc.collect(1)
            gc.freeze()  # the next look sees the freeze count changed and counts the (few) long-lived
            return 1
        count0, count1, count2 = gc.get_count()
        limit0, limit1, limit2 = self._thresholds
        if limit0 == 0 or count0 <= limit0:
            return None
        # CPython collects the middle generation every limit0 * limit1 new objects or so; a worker
        # allocating hard between two checks would make it far bigger (25-56 ms pauses), so its size
        # counts too.
        young = tracked_objects(0, 1)
        if count1 <= limit1 and young <= limit0 * limit1:
            gc.collect(0)
            return 0
        if count2 > limit2 and not self._deferred:
            if (
                gc.get_stats()[2]["collections"] != self._full_collections
                or gc.get_freeze_count() != self._frozen
            ):
                self._pending = 0
                self._measure_long_lived()
            now = time.monotonic()
            if full_collection_due(self._pending, self._long_lived, now - self._last_full):
                gc.collect(2)
                self._last_full = now
                self._pending = 0
                self._measure_long_lived()
                return 2
        # What survives this collection moves into the oldest generation. Collecting the youngest first
        # stops tracking the tuples of atoms (half of a recovery scan's objects), as CPython's count does.
        gc.collect(0)
        survivors = tracked_objects(1)
        self._pending += max(0, survivors - gc.collect(1))
        return 1

    def defer_full_collections(self) -> None:
        """Run no full collection until `end_deferral` (young generations are still collected)."""
        self._deferred += 1

    def end_deferral(self, *, freeze: bool) -> None:
        """End one `defer_full_collections`. With `freeze`, the next look collects the young generations
        and freezes every object left (`gc.freeze`, as start-up does): what the work kept is never
        walked again.
        Without, what moved into the oldest generation meanwhile counts as long-lived, so no full
        collection falls due for it at once; it waits for the heap's next growth by a quarter."""
        self._deferred -= 1
        if freeze:
            # At the next look, a timer callback of its own: collecting the young generations over a
            # big result took 12 ms for 87k records, on top of the callback that shows them.
            self._freeze_pending = True
            self._timer.setInterval(CHECK_INTERVAL_MS)
        else:
            self._long_lived += self._pending
            self._pending = 0

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


class LongLivedWork:
    """`with LongLivedWork() as work:` around awaiting a worker that builds many objects meant to stay
    (a recovery scan's records): no full collection on the GUI thread meanwhile. Call `work.keep()` once
    its result is in hand: what the work left is then frozen, never walked again (the objects are freed as
    usual once nothing refers to them). A block left without `keep()` (an error, Stop) freezes nothing:
    what the work left may be garbage held in cycles, which a later full collection frees. Does nothing
    when the GUI-thread collector is not running."""

    def __init__(self) -> None:
        self._collector: GuiThreadCollector | None = None
        self._keep = False

    def keep(self) -> None:
        """The work's result stays: freeze it at the block's end."""
        self._keep = True

    def __enter__(self) -> LongLivedWork:
        self._collector = _running
        if self._collector is not None:
            self._collector.defer_full_collections()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._collector is not None:
            self._collector.end_deferral(freeze=self._keep and kind is None)
