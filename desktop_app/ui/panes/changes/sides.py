"""What the Changes pane can compare: the current snapshot, a kept generation, the file now, another file."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.diff.history import SnapshotHistory
from desktop_app.core.errors import EncryptedDatabase, SeveralDatabases, UserError
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot


@dataclass(frozen=True)
class Side:
    """One side of a comparison: kind is "current", "generation", "disk" or "file"."""

    kind: str
    generation: int | None = None
    path: Path | None = None
    #: The database inside a packed file, and the key of an encrypted one (memory only), for "file"/"disk".
    member: str | None = field(default=None, compare=False)
    key: CipherKey | None = field(default=None, compare=False, repr=False)

    def label(self, history: SnapshotHistory | None = None) -> str:
        """What the side is called in the pane."""
        if self.kind == "current":
            return "Current snapshot"
        if self.kind == "disk":
            return "The file on disk now"
        if self.kind == "file":
            return f"File: {self.path.name if self.path else '?'}"
        snapshot = history.find(self.generation) if history is not None and self.generation else None
        if snapshot is not None and snapshot.wal_commit is not None:
            return f"As of WAL commit {snapshot.wal_commit}"
        when = time.strftime("%H:%M:%S", time.localtime(snapshot.taken_at)) if snapshot else "?"
        return f"As it was at {when}"  # an earlier snapshot, by the time it was taken


class SideSnapshot:
    """The snapshot of a side while one comparison runs; snapshots it took itself are closed after."""

    def __init__(self, snapshot: Snapshot, owned: bool) -> None:
        self.snapshot, self.owned = snapshot, owned

    def close(self) -> None:
        """Close the snapshot if this comparison took it."""
        if self.owned:
            self.snapshot.close()


def resolve(
    side: Side, current: Snapshot | None, history: SnapshotHistory, cancel: CancelToken
) -> SideSnapshot:
    """The snapshot for `side` (blocking: a fresh snapshot of a file is taken here, off the UI thread)."""
    if side.kind == "current":
        if current is None:
            raise UserError("No database is open.")
        return SideSnapshot(current, owned=False)
    if side.kind == "generation":
        kept = history.find(side.generation or 0)
        if kept is None:
            raise UserError(
                "That earlier snapshot is no longer kept (the memory budget for earlier snapshots let it go)."
            )
        return SideSnapshot(kept, owned=False)
    path = side.path if side.kind == "file" else (current.path if current is not None else None)
    if path is None:
        raise UserError("No database is open.")
    member = side.member if side.kind == "file" or current is None else side.member or current.member
    try:
        return SideSnapshot(open_snapshot(path, cancel=cancel, member=member, key=side.key), owned=True)
    except (EncryptedDatabase, SeveralDatabases) as exc:
        raise SideNeedsInput(side, path, member, exc) from None


class SideNeedsInput(UserError):
    """A side's file is encrypted or holds several databases: the pane asks, then compares again."""

    def __init__(self, side: Side, path: Path, member: str | None, error: UserError) -> None:
        super().__init__(error.message, details=error.details)
        self.side, self.path, self.member, self.error = side, path, member, error
