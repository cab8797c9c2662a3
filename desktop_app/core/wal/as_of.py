"""A read-only snapshot of a WAL database as of one commit of its `-wal`, built in memory."""

from __future__ import annotations

import time
from pathlib import Path

from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.snapshot.snapshot import Snapshot, image_snapshot
from desktop_app.core.snapshot.source_file import Fingerprint
from desktop_app.core.wal.history import WalHistory, read_wal_history


def open_as_of_commit(
    path: str | Path,
    number: int,
    *,
    generation: int | None = None,
    history: WalHistory | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Snapshot:
    """Snapshot the database at `path` as it was after commit `number` of its `-wal` (blocking).

    `history` is reused when the caller listed the commits already. Raises `DatabaseOpenError` when there
    is no `-wal`, no such commit, or the commit is stale (from before the last checkpoint).
    """
    started = time.perf_counter()
    taken_at = time.time()
    cancel = cancel or CancelToken()
    given = Path(path).absolute()
    fingerprint = Fingerprint.of(given.resolve())
    history = history or read_wal_history(given, progress, cancel)
    image = history.image_as_of(number)
    cancel.raise_if_cancelled()
    snapshot = image_snapshot(
        given,
        image,
        given.name,
        generation=generation,
        fingerprint=fingerprint,
        notes=[
            f"The database as of commit {number} of its -wal (of {len(history.current)}), rebuilt in memory "
            "from the database file and the -wal's frames; neither was opened in place."
        ],
        reason=f"as of WAL commit {number}, rebuilt in memory: reads never touch the file",
        progress=progress,
        cancel=cancel,
        taken_at=taken_at,
        started=started,
    )
    snapshot.wal_commit = number
    return snapshot
