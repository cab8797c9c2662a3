"""Progressive open in the window: rows from a direct view at once, the copy into memory in the background,
then the memory snapshot in their place without the user's place moving; Stop keeps the direct view; the
three modes named in the status bar. The copy is held back by the test (no timing), limits are lowered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.progress import Progress
from desktop_app.core.snapshot import memory_copy
from desktop_app.core.snapshot import snapshot as snapshot_module
from desktop_app.core.snapshot.snapshot import SnapshotMode
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.shell.job_status import JobStatus
from tests.conftest import folder_state
from tests.core.test_snapshot_wal import make_wal_db
from tests.fixtures import make_user_folder, text_rows_database
from tests.snapshot_limits import lower_snapshot_limits
from tests.ui.helpers import close_window, make_window, open_in, wait_for

ROWS = 5000


@pytest.fixture
def user_db(tmp_path: Path) -> Path:
    return text_rows_database(make_user_folder(tmp_path) / "big.db", ROWS)


@pytest.fixture
def held_copy(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every file opens progressively, and its copy into memory reports 42% then waits for the event
    (or for Stop)."""
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0)
    gate = threading.Event()
    real = snapshot_module.copy_into_memory

    def held(read_from: Path, name: str, progress: object, cancel: object) -> object:
        progress(Progress(42, 100, "Copying into memory"))  # type: ignore[operator]
        while not gate.wait(0.01):
            cancel.raise_if_cancelled()  # type: ignore[attr-defined]
        return real(read_from, name, progress, cancel)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot_module, "copy_into_memory", held)
    yield gate
    gate.set()


def browse(window: MainWindow) -> object:
    return window.panes["browse"]


def job_status(window: MainWindow) -> JobStatus:
    found = window.findChild(JobStatus)
    assert found is not None
    return found


async def show_quick_view(window: MainWindow, path: Path) -> object:
    window.open_path(path)
    await wait_for(lambda: window.session.loading is not None, message="the quick view")
    pane = browse(window)
    await wait_for(lambda: pane.model.is_loaded(0), message="first rows")  # type: ignore[attr-defined]
    return pane


async def test_rows_show_before_the_copy_ends_then_memory_keeps_the_place(
    qtbot: object, tmp_path: Path, user_db: Path, held_copy: threading.Event
) -> None:
    before = folder_state(user_db.parent)
    window = make_window(tmp_path)
    pane = await show_quick_view(window, user_db)
    snapshot = window.session.snapshot
    assert snapshot is not None and snapshot.mode is SnapshotMode.DIRECT and window.session.busy
    assert pane.model.row_values(0) == (1, "value 0")  # type: ignore[attr-defined]
    # The status bar says what is still loading, and the mode label says the view is direct for now.
    await wait_for(lambda: "42%" in job_status(window).label.text(), message="progress")
    assert job_status(window).label.text().startswith("Copying into memory… 42%")
    assert window.mode_label.text().startswith("direct read-only · ")
    assert window.mode_label.text().endswith("copying into memory…")
    assert "while it is copied into memory" in window.mode_label.toolTip()
    assert not window.banner.isVisible()  # a quick view is no cause for alarm
    # The user scrolls and selects while the copy runs.
    await wait_for(lambda: pane.model.exact, message="count")  # type: ignore[attr-defined]
    pane.scroll_to_row(3000)  # type: ignore[attr-defined]
    await wait_for(lambda: pane.model.is_loaded(pane.view.rowAt(0)), message="rows at 3000")  # type: ignore[attr-defined]
    top = pane.view.rowAt(0)  # type: ignore[attr-defined]
    current = pane.view.currentIndex()  # type: ignore[attr-defined]
    assert current.row() == 3000 and top > 2900
    held_copy.set()
    await wait_for(lambda: not window.session.busy, message="the memory snapshot")
    assert window.session.snapshot is not None
    assert window.session.snapshot.mode is SnapshotMode.MEMORY
    assert window.session.snapshot.generation == snapshot.generation
    assert pane.view.rowAt(0) == top  # type: ignore[attr-defined]
    assert pane.view.currentIndex().row() == 3000  # type: ignore[attr-defined]
    assert pane.view.currentIndex().column() == current.column()  # type: ignore[attr-defined]
    assert [r.top() for r in pane.view.selectionModel().selection()] == [3000]  # type: ignore[attr-defined]
    # The rows already on screen stay there: the same data, now read from memory (no "…" flash).
    assert pane.model.is_loaded(top)  # type: ignore[attr-defined]
    assert pane.model.row_values(3000) == (3001, "value 3000")  # type: ignore[attr-defined]
    assert pane.source.database is window.context.database  # type: ignore[attr-defined]
    assert pane.picker.currentData() == "t"  # type: ignore[attr-defined]
    label = window.mode_label.text()
    assert label.startswith("memory snapshot · ") and " · opened " in label and "generation" not in label
    assert not window.banner.isVisible()
    await close_window(window)
    assert snapshot.closed  # the quick view was freed
    assert folder_state(user_db.parent) == before


async def test_stop_during_the_copy_keeps_the_direct_view_working(
    qtbot: object,
    tmp_path: Path,
    private_temp: Path,
    held_copy: threading.Event,
) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=ROWS)  # newest rows only in its -wal
    assert isinstance(path, Path)
    before = folder_state(folder)
    window = make_window(tmp_path)
    pane = await show_quick_view(window, path)
    assert folder_state(folder) == before  # read from the private copy, not in place
    status = job_status(window)
    # Stop acts on the job the status bar shows (a pane's own quick job may show for a moment).
    await wait_for(lambda: status.label.text().startswith("Copying into memory… 42%"), message="the copy")
    status.stop.click()
    await wait_for(lambda: not window.session.busy, message="stopped")
    snapshot = window.session.snapshot
    assert snapshot is not None and snapshot.mode is SnapshotMode.DIRECT and not snapshot.closed
    assert window.session.copy_stopped == "the copy into memory was stopped"
    assert window.mode_label.text().endswith(" · copy stopped")
    assert "Staying direct" in window.mode_label.toolTip()
    assert "Staying in direct read-only mode" in window.statusBar().currentMessage()
    # Still browsable to the end: new pages are read through the direct view.
    await wait_for(lambda: pane.model.exact and pane.model.rowCount() == ROWS, message="count")  # type: ignore[attr-defined]
    pane.scroll_to_row(ROWS - 1)  # type: ignore[attr-defined]
    await wait_for(lambda: pane.model.is_loaded(ROWS - 1), message="last rows")  # type: ignore[attr-defined]
    assert pane.model.row_values(ROWS - 1) == (ROWS, f"value {ROWS - 1}")  # type: ignore[attr-defined]
    assert folder_state(folder) == before
    await close_window(window)
    assert snapshot.closed and list(private_temp.iterdir()) == []
    assert folder_state(folder) == before


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (SnapshotMode.DIRECT, "larger than the memory database limit"),
        (SnapshotMode.DIRECT_FALLBACK, "memory ran out while copying"),
    ],
)
async def test_a_wal_file_too_big_for_memory_stays_direct_with_a_banner_and_no_footprint(
    qtbot: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    private_temp: Path,
    mode: SnapshotMode,
    why: str,
) -> None:
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0, memdb_max_bytes=4096)
    if mode is SnapshotMode.DIRECT_FALLBACK:
        monkeypatch.setattr(memory_copy, "memdb_cap", lambda: 1 << 40)  # the copy starts, then fills
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=300)
    assert isinstance(path, Path)
    before = folder_state(folder)
    window = make_window(tmp_path)
    await open_in(window, path)
    snapshot = window.session.snapshot
    assert snapshot is not None and snapshot.mode is mode and window.session.loading is None
    assert window.mode_label.text().startswith(f"{mode.value} · ")
    assert why in window.mode_label.toolTip() and "slower than in memory" in window.mode_label.toolTip()
    assert window.banner.isVisible() and "Reads go to the file itself" in window.banner.label.text()
    assert mode.value in window.windowTitle()
    pane = browse(window)
    await wait_for(lambda: pane.model.is_loaded(299), message="the -wal's rows")  # type: ignore[attr-defined]
    assert pane.model.row_values(299) == (300, "value 299")  # type: ignore[attr-defined]
    search = window.panes["search"]
    assert "slower than in memory" in search.index_panel.label.text()  # type: ignore[attr-defined]
    assert folder_state(folder) == before
    await close_window(window)
    assert folder_state(folder) == before and list(private_temp.iterdir()) == []


async def test_reload_says_when_it_was_taken(qtbot: object, tmp_path: Path, user_db: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, user_db)
    assert " · opened " in window.mode_label.text()
    window.reload()
    await wait_for(lambda: not window.session.busy, message="reload")
    assert " · reloaded " in window.mode_label.text() and "Memory snapshot — " in window.mode_label.toolTip()
    await close_window(window)
