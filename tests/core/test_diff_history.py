"""Earlier generations kept for comparison: within the memory budget, oldest let go first."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.diff.history import SnapshotHistory
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.core.diff_helpers import make_db


def test_oldest_generations_are_let_go_past_the_budget(tmp_path: Path) -> None:
    path = make_db(tmp_path / "a.db", "CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(20000));")
    snapshots = [open_snapshot(path) for _ in range(3)]
    size = snapshots[0].size_bytes
    history = SnapshotHistory(2 * size)
    changes = []
    history.on_change = lambda: changes.append(len(history.snapshots))
    assert all(history.keep(s) for s in snapshots)
    assert history.snapshots == snapshots[1:] and snapshots[0].closed and not snapshots[1].closed
    assert history.used_bytes == 2 * size and changes == [1, 2, 2]
    assert (
        history.find(snapshots[2].generation) is snapshots[2]
        and history.find(snapshots[0].generation) is None
    )
    history.set_budget(size)
    assert history.snapshots == [snapshots[2]] and snapshots[1].closed
    history.clear()
    assert history.snapshots == [] and snapshots[2].closed


def test_direct_and_oversized_snapshots_are_not_kept(tmp_path: Path) -> None:
    path = make_db(tmp_path / "a.db", "CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(20000));")
    direct = open_snapshot(path, force_direct=True)
    memory = open_snapshot(path)
    try:
        assert not SnapshotHistory(1 << 30).keep(
            direct
        )  # it reads the file, which no longer holds that state
        assert not SnapshotHistory(memory.size_bytes - 1).keep(memory)
    finally:
        direct.close()
        memory.close()


def test_generations_let_go_are_handed_to_the_closer_and_clear_closes_at_once(tmp_path: Path) -> None:
    # The window closes let-go generations in a worker thread (freeing a large one takes a while).
    path = make_db(tmp_path / "a.db", "CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(20000));")
    snapshots = [open_snapshot(path) for _ in range(3)]
    history = SnapshotHistory(snapshots[0].size_bytes)
    handed: list[list] = []
    history.close_dropped = handed.append
    assert all(history.keep(s) for s in snapshots)
    assert handed == [[snapshots[0]], [snapshots[1]]] and not any(s.closed for s in snapshots)
    history.clear()
    assert snapshots[2].closed and len(handed) == 2
    for snapshot in snapshots[:2]:
        snapshot.close()
