"""The three ways to hold a database (memory snapshot, direct read-only, direct because memory ran out) and
the quick direct view shown while the copy runs: small files with the limits lowered, the user's folder
compared by listing and hashes every time."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot import memory_copy
from desktop_app.core.snapshot.snapshot import QUICK_VIEW_REASON, Snapshot, SnapshotMode, open_snapshot
from tests.conftest import folder_state
from tests.core.test_snapshot_wal import make_wal_db
from tests.snapshot_limits import lower_snapshot_limits


def run_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The size check lets the copy start, then the memory database's real cap (one page) fills up."""
    monkeypatch.setattr(memory_copy, "memdb_cap", lambda: 1 << 40)
    lower_snapshot_limits(monkeypatch, memdb_max_bytes=4096)


@pytest.fixture
def user_db(tmp_path: Path) -> Path:
    """A rollback-mode database of 2,000 rows (about 90 pages) in a folder of its own."""
    folder = tmp_path / "user"
    folder.mkdir()
    path = folder / "a.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i:04}" * 10,) for i in range(2000)])
    conn.commit()
    conn.close()
    return path


def count(snapshot: Snapshot) -> int:
    conn = snapshot.connect()
    try:
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        conn.close()


def test_a_database_that_fits_is_a_memory_snapshot_saying_why(user_db: Path) -> None:
    before = folder_state(user_db.parent)
    snap = open_snapshot(user_db)
    try:
        assert snap.mode is SnapshotMode.MEMORY and not snap.mode.direct
        assert snap.mode.value == "memory snapshot" and "copied into memory" in snap.mode_reason
        assert count(snap) == 2000
    finally:
        snap.close()
    assert folder_state(user_db.parent) == before


def test_a_database_over_the_memory_limit_opens_direct_saying_why(
    user_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower_snapshot_limits(monkeypatch, memdb_max_bytes=8192)
    before = folder_state(user_db.parent)
    snap = open_snapshot(user_db)
    try:
        assert snap.mode is SnapshotMode.DIRECT and snap.mode.value == "direct read-only"
        assert "larger than the memory database limit" in snap.mode_reason
        assert count(snap) == 2000
    finally:
        snap.close()
    assert folder_state(user_db.parent) == before


def test_memory_running_out_mid_copy_falls_back_to_direct_saying_so(
    user_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_out_of_memory(monkeypatch)
    before = folder_state(user_db.parent)
    snap = open_snapshot(user_db)
    try:
        assert snap.mode is SnapshotMode.DIRECT_FALLBACK and snap.mode.direct
        assert snap.mode.value == "direct (memory ran out)"
        assert snap.mode_reason == "memory ran out while copying the database"
        assert count(snap) == 2000
    finally:
        snap.close()
    assert folder_state(user_db.parent) == before


@pytest.mark.parametrize("way", ["over the limit", "memory ran out"])
def test_direct_modes_on_a_wal_database_show_the_newest_rows_and_leave_no_sidecars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path, way: str
) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=300)
    assert isinstance(path, Path)
    if way == "over the limit":
        lower_snapshot_limits(monkeypatch, memdb_max_bytes=8192)
    else:
        run_out_of_memory(monkeypatch)
    before = folder_state(folder)
    assert sorted(before) == ["w.db", "w.db-wal"]  # the rows are only in the -wal
    snap = open_snapshot(path)
    try:
        assert snap.mode.direct
        assert count(snap) == 300
        assert folder_state(folder) == before  # no -shm, the -wal untouched, while it is open too
    finally:
        snap.close()
    assert folder_state(folder) == before
    assert list(private_temp.iterdir()) == []


def test_the_quick_view_is_direct_and_the_same_generation_as_the_snapshot(
    user_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0)
    before = folder_state(user_db.parent)
    seen: list[tuple[Snapshot, int]] = []
    snap = open_snapshot(user_db, on_readable=lambda quick: seen.append((quick, count(quick))))
    try:
        [(quick, rows)] = seen
        assert quick.mode is SnapshotMode.DIRECT and quick.mode_reason == QUICK_VIEW_REASON
        assert rows == 2000 and quick.generation == snap.generation and snap.mode is SnapshotMode.MEMORY
        assert count(quick) == count(snap) == 2000
    finally:
        quick.close()
        snap.close()
    assert folder_state(user_db.parent) == before


def test_no_quick_view_for_a_small_file_or_one_that_opens_direct_anyway(
    user_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Snapshot] = []
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=user_db.stat().st_size + 1)
    open_snapshot(user_db, on_readable=seen.append).close()
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0, memdb_max_bytes=8192)
    direct = open_snapshot(user_db, on_readable=seen.append)
    direct.close()
    assert seen == [] and direct.mode is SnapshotMode.DIRECT


@pytest.mark.parametrize("quick_closed_first", [True, False])
def test_the_quick_view_of_a_wal_database_reads_the_private_copy_until_both_are_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path, quick_closed_first: bool
) -> None:
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0)
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=300)
    assert isinstance(path, Path)
    before = folder_state(folder)
    seen: list[Snapshot] = []
    snap = open_snapshot(path, on_readable=seen.append)
    [quick] = seen
    assert folder_state(folder) == before  # never read in place (that would create -shm beside it)
    first, second = (quick, snap) if quick_closed_first else (snap, quick)
    first.close()
    assert count(second) == 300  # the private copy is still there for the one left open
    second.close()
    assert list(private_temp.iterdir()) == []
    assert folder_state(folder) == before


def test_stopping_the_copy_keeps_the_quick_view_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path
) -> None:
    lower_snapshot_limits(monkeypatch, progressive_open_min_bytes=0)
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=300)
    assert isinstance(path, Path)
    before = folder_state(folder)
    cancel = CancelToken()
    seen: list[Snapshot] = []

    def stop_at_once(quick: Snapshot) -> None:
        seen.append(quick)
        cancel.cancel()

    with pytest.raises(Cancelled):
        open_snapshot(path, cancel=cancel, on_readable=stop_at_once)
    [quick] = seen
    assert count(quick) == 300
    quick.close()
    assert list(private_temp.iterdir()) == []
    assert folder_state(folder) == before


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("memory snapshot", "copied into memory"),
        ("direct read-only", "larger than the memory database limit"),
        ("direct (memory ran out)", "memory ran out while copying"),
    ],
)
def test_info_json_names_the_mode_and_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    private_temp: Path,
    mode: str,
    reason: str,
) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    path = make_wal_db(folder / "w.db", rows=300)
    assert isinstance(path, Path)
    if mode == "direct read-only":
        lower_snapshot_limits(monkeypatch, memdb_max_bytes=8192)
    elif mode == "direct (memory ran out)":
        run_out_of_memory(monkeypatch)
    before = folder_state(folder)
    assert main(["info", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == mode and reason in report["mode_reason"]
    assert report["tables"][0]["rows"] == 300  # the -wal's rows, in every mode
    assert main(["info", str(path)]) == 0
    assert f"mode: {mode} — " in capsys.readouterr().out
    assert folder_state(folder) == before
