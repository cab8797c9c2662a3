"""Reference cycles holding Qt objects are collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.ui import gui_thread_gc
from desktop_app.ui.gui_thread_gc import GuiThreadCollector, collect_garbage_on_gui_thread
from tests.ui.helpers import wait_for


class _CycleWithTimer:
    """A running timer kept alive only by a reference cycle, as a closed pane's could be."""

    def __init__(self, collected_on: list[int]) -> None:
        self.me = self
        self.collected_on = collected_on
        self.timer = QTimer()
        self.timer.start(60_000)

    def __del__(self) -> None:
        self.collected_on.append(threading.get_ident())


def _allocate_containers() -> list[list[int]]:
    """Far more new containers than the collector's first threshold: CPython would collect here."""
    return [[index] for index in range(10 * gc.get_threshold()[0])]


async def test_a_cycle_with_a_running_timer_is_collected_on_the_gui_thread_while_workers_allocate() -> None:
    collect_garbage_on_gui_thread(QApplication.instance() or QApplication([]))
    collected_on: list[int] = []
    _CycleWithTimer(collected_on)
    kept = [await asyncio.to_thread(_allocate_containers) for _ in range(4)]
    await wait_for(lambda: collected_on, message="the cycle to be collected")
    assert collected_on == [threading.main_thread().ident]
    assert len(kept) == 4


def test_stopping_gives_automatic_collection_back() -> None:
    app = QApplication.instance() or QApplication([])
    running = collect_garbage_on_gui_thread(app)
    running.stop()
    assert gc.isenabled()
    collector = collect_garbage_on_gui_thread(app)
    assert collector is not running and isinstance(collector, GuiThreadCollector)
    assert not gc.isenabled()


class _CountedCollector:
    """Stands in for the `gc` and `time` modules: generation sizes and a clock the test sets, collections
    it records."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sizes = [0, 0, 0]
        self.counts = (0, 0, 0)
        self.collected: list[int] = []
        self.found = 0  # unreachable objects the next collection finds
        self.full_collections = 0
        self.frozen = 0

    def isenabled(self) -> bool:
        return False

    def disable(self) -> None:
        pass

    def enable(self) -> None:
        pass

    def get_threshold(self) -> tuple[int, int, int]:
        return (700, 10, 10)

    def get_count(self) -> tuple[int, int, int]:
        return self.counts

    def get_objects(self, generation: int) -> list[None]:
        return [None] * self.sizes[generation]

    def get_stats(self) -> list[dict[str, int]]:
        return [{}, {}, {"collections": self.full_collections}]

    def get_freeze_count(self) -> int:
        return self.frozen

    def freeze(self) -> None:
        self.frozen += sum(self.sizes)
        self.sizes = [0, 0, 0]

    def collect(self, generation: int) -> int:
        self.collected.append(generation)
        survivors = sum(self.sizes[: generation + 1]) - self.found
        self.sizes[: generation + 1] = [0] * (generation + 1)
        self.sizes[min(generation + 1, 2)] += survivors
        self.full_collections += generation == 2
        found, self.found = self.found, 0
        return found

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_CountedCollector]:
    counted = _CountedCollector()
    monkeypatch.setattr(gui_thread_gc, "gc", counted)
    monkeypatch.setattr(gui_thread_gc, "time", counted)
    yield counted
    for collector in (QApplication.instance() or QApplication([])).findChildren(GuiThreadCollector):
        if collector is not gui_thread_gc._running:
            collector.stop()
            collector.setParent(None)


def _start(counted: _CountedCollector, long_lived: int) -> GuiThreadCollector:
    counted.sizes[2] = long_lived
    return GuiThreadCollector(QApplication.instance() or QApplication([]))


def _allocated(counted: _CountedCollector, young: int, gen1_collections_since_full: int = 11) -> None:
    counted.sizes[0] += young
    counted.counts = (young, 11, gen1_collections_since_full)


def test_a_full_collection_waits_until_a_quarter_more_objects_are_long_lived(
    counted: _CountedCollector,
) -> None:
    collector = _start(counted, long_lived=100_000)
    counted.now += 60
    _allocated(counted, 20_000)
    assert collector.check() == 1  # 20,000 moved into the oldest generation: not yet a quarter
    _allocated(counted, 4_000)
    counted.found = 3_000  # garbage found is not long-lived
    assert collector.check() == 1
    _allocated(counted, 5_000)
    assert collector.check() == 1  # 21,000 so far
    _allocated(counted, 1_000)
    assert collector.check() == 2  # 26,000: more than a quarter of 100,000
    assert counted.collected == [0, 1, 0, 1, 0, 1, 2]  # the youngest first: its count is exact
    counted.now += 60
    _allocated(counted, 31_000)
    assert collector.check() == 1
    _allocated(counted, 1_000)
    assert collector.check() == 1  # 31,000: not over a quarter of what the full collection left (126,000)
    _allocated(counted, 701)
    assert collector.check() == 2


def test_a_full_collection_comes_at_most_every_ten_seconds_and_only_past_the_oldest_threshold(
    counted: _CountedCollector,
) -> None:
    collector = _start(counted, long_lived=1_000)
    counted.now += gui_thread_gc.FULL_COLLECTION_SPACING_S - 1
    _allocated(counted, 50_000)
    assert collector.check() == 1  # far more than a quarter, but too soon after the last
    counted.now += 1
    _allocated(counted, 1_000, gen1_collections_since_full=10)
    assert collector.check() == 1  # the oldest generation's count is not over its threshold
    _allocated(counted, 1_000)
    assert collector.check() == 2
    _allocated(counted, 60_000)
    assert collector.check() == 1  # spaced from this one now


def test_young_generations_are_collected_as_cpython_would_and_checked_often_while_objects_pile_up(
    counted: _CountedCollector,
) -> None:
    collector = _start(counted, long_lived=1_000)
    timer = collector.findChild(QTimer)
    counted.counts = (700, 0, 0)
    assert collector.check() is None  # not past the first threshold
    assert timer.interval() == gui_thread_gc.IDLE_CHECK_INTERVAL_MS
    counted.sizes[0], counted.counts = 701, (701, 0, 0)
    assert collector.check() == 0
    assert timer.interval() == gui_thread_gc.CHECK_INTERVAL_MS  # looks often while objects pile up
    counted.sizes[0], counted.counts = 701, (701, 11, 0)
    assert collector.check() == 1  # ten young collections since the middle one
    counted.sizes[0], counted.counts = 7_001, (7_001, 1, 0)
    assert collector.check() == 1  # as many new objects as CPython collects the middle generation at
    assert counted.collected == [0, 0, 1, 0, 1]


def test_no_full_collection_while_long_lived_work_runs_and_what_it_kept_is_frozen(
    counted: _CountedCollector,
) -> None:
    collector = _start(counted, long_lived=100_000)
    gui_thread_gc._running, running = collector, gui_thread_gc._running
    try:
        counted.now += 60
        with gui_thread_gc.LongLivedWork() as work:
            for _ in range(5):
                _allocated(counted, 30_000)
                assert collector.check() == 1  # 150,000 moved into the oldest generation: held off
            work.keep()
        assert counted.frozen == 0  # not in the callback that ends the work: at the next look
        assert collector.check() == 1
        assert counted.collected[-1] == 1  # the young generations collected before the freeze
        assert counted.frozen == 250_000 and counted.sizes == [0, 0, 0]
        _allocated(counted, 1_000)
        assert collector.check() == 1  # the frozen are never walked by a full collection
        assert 2 not in counted.collected
    finally:
        gui_thread_gc._running = running


def test_long_lived_work_that_fails_freezes_nothing_and_sets_off_no_full_collection_at_once(
    counted: _CountedCollector,
) -> None:
    collector = _start(counted, long_lived=100_000)
    gui_thread_gc._running, running = collector, gui_thread_gc._running
    try:
        counted.now += 60
        with pytest.raises(RuntimeError), gui_thread_gc.LongLivedWork():
            _allocated(counted, 60_000)
            assert collector.check() == 1
            raise RuntimeError("stopped before keep()")
        assert counted.frozen == 0
        _allocated(counted, 41_000)
        assert collector.check() == 1  # the 60,000 count as long-lived (160,000), none pending
        _allocated(counted, 1_000)
        assert collector.check() == 2  # 41,000 pending: over a quarter of 160,000
    finally:
        gui_thread_gc._running = running


def test_counting_young_objects_never_lends_a_worker_tuple_under_construction_a_reference() -> None:
    failures: list[BaseException] = []
    done = threading.Event()

    def build_tuples() -> None:
        while not done.is_set():
            try:
                tuple(x for x in range(20))  # grown in place: needs its only reference
            except SystemError as error:
                failures.append(error)
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the GIL changes hands as often as it can
    worker = threading.Thread(target=build_tuples)
    worker.start()
    try:
        counted = [gui_thread_gc.tracked_objects(0, 1) for _ in range(3_000)]
    finally:
        done.set()
        worker.join()
        sys.setswitchinterval(interval)
    assert failures == [] and min(counted) >= 0
