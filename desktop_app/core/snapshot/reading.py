"""Reading the source with SQLite: its read-only connection, and the step-wise backup both copies use."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback
from desktop_app.core.snapshot.open_errors import kept_changing, locked_by_writer

SQLITE_BUSY = 5
SQLITE_LOCKED = 6


def readonly_uri(path: Path) -> str:
    """The URI that opens `path` read-only (SQLite may still create `-shm`/`-wal` beside a WAL file)."""
    return path.as_uri() + "?mode=ro"


def connect_source(path: Path) -> sqlite3.Connection:
    """A read-only connection to the file at `path`, usable from any thread."""
    return sqlite3.connect(
        readonly_uri(path), uri=True, check_same_thread=False, timeout=LIMITS.busy_timeout_s
    )


def backup_with_progress(
    src: sqlite3.Connection,
    dst: sqlite3.Connection,
    name: str,
    progress: ProgressCallback,
    cancel: CancelToken,
    hold_read: bool = False,
) -> None:
    """Back `src` up into `dst` in steps, with progress and cancel; bounded when the source keeps changing.

    SQLite starts a step-wise backup over whenever another connection changed the source between two
    steps (a database written without pause restarts it forever): count those fresh starts.
    `hold_read` keeps one read transaction open on `src` for the whole backup (a WAL database another
    process writes): every step reads the same committed state, so the backup never starts over, and the
    writer is not blocked (it only cannot checkpoint past that state until the copy ends).
    """
    busy_since: list[float | None] = [None]
    restarts = [0]
    last_remaining: list[int | None] = [None]

    def on_step(status: int, remaining: int, total: int) -> None:
        cancel.raise_if_cancelled()
        if last_remaining[0] is not None and remaining > last_remaining[0]:
            restarts[0] += 1
            if restarts[0] > LIMITS.snapshot_restarts_max:
                raise kept_changing(name)
        last_remaining[0] = remaining
        if status in (SQLITE_BUSY, SQLITE_LOCKED):
            now = time.monotonic()
            if busy_since[0] is None:
                busy_since[0] = now
            elif now - busy_since[0] > LIMITS.busy_timeout_s:
                raise locked_by_writer(name)
        else:
            busy_since[0] = None
        progress(Progress(total - remaining, total, "Copying into memory"))

    if hold_read:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # the read transaction begins here
    try:
        src.backup(dst, pages=LIMITS.backup_pages_per_step, progress=on_step)
    finally:
        if hold_read and src.in_transaction:
            src.execute("COMMIT")
