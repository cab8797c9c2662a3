"""Reading the source with SQLite: its read-only connection, and the step-wise backup both copies use."""

from __future__ import annotations

import os
import random
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback
from desktop_app.core.snapshot.open_errors import kept_changing, locked_by_writer
from desktop_app.core.sqlite.quoting import quote_identifier

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
#: Between two tries for a read lock a rollback-journal writer holds (seconds, drawn at random).
_LOCK_RETRY_S = (0.0005, 0.002)

T = TypeVar("T")


def readonly_uri(path: Path) -> str:
    """The URI that opens `path` read-only (SQLite may still create `-shm`/`-wal` beside a WAL file)."""
    return path.as_uri() + "?mode=ro"


def readonly_uri_path(uri: str) -> Path:
    """The file a `readonly_uri` opens."""
    return Path(os.fsdecode(urllib.parse.unquote_to_bytes(uri.removeprefix("file://").split("?", 1)[0])))


def connect_source(path: Path, *, polled: bool = False) -> sqlite3.Connection:
    """A read-only connection to the file at `path`, usable from any thread. `polled`: SQLite answers
    "busy" at once, for `retry_while_locked` to try again (the file may have a rollback-journal writer)."""
    timeout = 0.0 if polled else LIMITS.busy_timeout_s
    return sqlite3.connect(readonly_uri(path), uri=True, check_same_thread=False, timeout=timeout)


def retry_while_locked(action: Callable[[], T], name: str) -> T:
    """Run `action` (on a `polled` connection), trying again every millisecond or two while another program
    holds the file locked, for up to `busy_timeout_s`.

    SQLite's own busy handler sleeps up to 100 ms between tries; a rollback-journal writer committing
    without pause holds its lock most of the time and frees it for well under that, so the reader
    almost never got in: a reload waited 5–23 s and then failed as "locked" (measured here, 19 of 30).
    """
    deadline = time.monotonic() + LIMITS.busy_timeout_s
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code not in (SQLITE_BUSY, SQLITE_LOCKED) and "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise locked_by_writer(name) from None
        time.sleep(random.uniform(*_LOCK_RETRY_S))


def begin_read(src: sqlite3.Connection, name: str, schemas: Sequence[str] = ("main",)) -> None:
    """Open a read transaction on `src` (one committed state from now on) over each of its `schemas` (the
    main database, and databases attached to it), waiting out a writer's lock."""

    def begin() -> None:
        if src.in_transaction:
            src.execute("ROLLBACK")
        src.execute("BEGIN")
        for schema in schemas:  # the read transaction of each begins here
            src.execute(f"SELECT count(*) FROM {quote_identifier(schema)}.sqlite_schema").fetchone()

    retry_while_locked(begin, name)


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
    `hold_read` keeps one read transaction open on `src` for the whole backup: every step reads the same
    committed state, so the backup never starts over. A WAL database's writer is not blocked (it only
    cannot checkpoint past that state until the copy ends); a rollback-journal writer waits to commit
    until the copy ends, as it would for `sqlite3_backup_step(-1)` (copying in steps between its commits
    started over at every step and gave up).
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
        begin_read(src, name)
    try:
        src.backup(dst, pages=LIMITS.backup_pages_per_step, progress=on_step)
    finally:
        if hold_read and src.in_transaction:
            src.execute("COMMIT")
