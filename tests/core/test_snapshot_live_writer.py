"""Snapshots of a file another process commits to without pause, in WAL and in rollback-journal mode: each
one whole committed state, none failing as "locked", none hanging (every open has a generous deadline)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode, open_snapshot
from tests.snapshot_limits import lower_snapshot_limits
from tests.wal_writer import invariant_holds, start_writer, stop_writer

#: Far beyond a snapshot of this small file (well under a second): only a hang reaches it.
DEADLINE_S = 120


def snapshot_within_deadline(path: Path) -> Snapshot:
    """`open_snapshot(path)` on a thread; fails the test (instead of hanging it) past `DEADLINE_S`."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(_open(path)), daemon=True)
    worker.start()
    worker.join(DEADLINE_S)
    assert not worker.is_alive(), f"open_snapshot did not return within {DEADLINE_S} s"
    if isinstance(result[0], BaseException):
        raise result[0]
    assert isinstance(result[0], Snapshot)
    return result[0]


def _open(path: Path) -> object:
    try:
        return open_snapshot(path)
    except BaseException as exc:  # handed to the test's thread
        return exc


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_snapshots_while_a_writer_commits_without_pause_succeed_with_one_whole_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path, journal: str
) -> None:
    # Many small backup steps and no fresh start allowed: copying between the writer's commits would fail.
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=8, snapshot_restarts_max=0)
    folder = tmp_path / "user"
    folder.mkdir()
    path, stop_file = folder / "live.db", tmp_path / "stop"
    writer = start_writer(path, stop_file, rows=2000, journal=journal)
    counts = []
    try:
        for _ in range(8):
            snap = snapshot_within_deadline(path)
            try:
                assert snap.mode is SnapshotMode.MEMORY
                conn = snap.connect()
                assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                assert invariant_holds(conn)
                counts.append(conn.execute("SELECT count(*) FROM a").fetchone()[0])
                conn.close()
            finally:
                snap.close()
    finally:
        commits = stop_writer(writer, stop_file)
    assert commits > 0 and counts[-1] > counts[0]  # the writer really committed between the snapshots
    assert sorted(os.listdir(folder)) == ["live.db"]  # its journal or -wal gone with it; nothing of ours
    assert os.listdir(private_temp) == []
