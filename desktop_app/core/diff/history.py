"""Earlier generations of one database kept alive for comparison, within a memory budget."""

from __future__ import annotations

import threading
from collections.abc import Callable

from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode


class SnapshotHistory:
    """Snapshots of earlier generations, oldest first; past `budget_bytes` the oldest are closed.

    Only memory snapshots are kept: a direct one reads the file, which no longer holds that state.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._snapshots: list[Snapshot] = []
        self._lock = threading.Lock()
        #: Called (on the caller's thread) after the kept generations changed.
        self.on_change: Callable[[], None] = lambda: None
        #: Closes the generations `keep` and `set_budget` let go. Freeing a large snapshot takes a while
        #: (tens of ms for 200 MB), so the UI hands them to a worker thread; `clear` always closes at once.
        self.close_dropped: Callable[[list[Snapshot]], None] = close_all

    @property
    def snapshots(self) -> list[Snapshot]:
        """The kept snapshots, oldest first."""
        with self._lock:
            return list(self._snapshots)

    @property
    def used_bytes(self) -> int:
        """Memory the kept snapshots take (their database sizes)."""
        with self._lock:
            return sum(s.size_bytes for s in self._snapshots)

    def keep(self, snapshot: Snapshot) -> bool:
        """Keep `snapshot` (the history owns it from now on); False when it cannot be kept (the caller closes
        it): a direct snapshot, or one larger than the whole budget."""
        if (
            snapshot.mode is not SnapshotMode.MEMORY
            or snapshot.closed
            or snapshot.size_bytes > self.budget_bytes
        ):
            return False
        with self._lock:
            self._snapshots.append(snapshot)
            dropped = self._trim()
        if dropped:
            self.close_dropped(dropped)
        self.on_change()
        return True

    def find(self, generation: int) -> Snapshot | None:
        """The kept snapshot of `generation`, if any."""
        with self._lock:
            return next((s for s in self._snapshots if s.generation == generation), None)

    def set_budget(self, budget_bytes: int) -> None:
        """Change the budget; generations past it are let go at once."""
        with self._lock:
            self.budget_bytes = budget_bytes
            dropped = self._trim()
        if dropped:
            self.close_dropped(dropped)
            self.on_change()

    def clear(self) -> None:
        """Close every kept snapshot (another file was opened, or the window closes)."""
        with self._lock:
            dropped, self._snapshots = self._snapshots, []
        close_all(dropped)
        if dropped:
            self.on_change()

    def _trim(self) -> list[Snapshot]:
        dropped = []
        while self._snapshots and sum(s.size_bytes for s in self._snapshots) > self.budget_bytes:
            dropped.append(self._snapshots.pop(0))
        return dropped


def close_all(snapshots: list[Snapshot]) -> None:
    """Close each of `snapshots` (on the caller's thread)."""
    for snapshot in snapshots:
        snapshot.close()
