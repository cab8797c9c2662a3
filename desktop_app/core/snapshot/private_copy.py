"""The private copy of a WAL database: its files copied (bounded, regular files only) or, while another
program has it open, one committed state backed up; then folded into rollback mode for memdb."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

from desktop_app.core.errors import DatabaseOpenError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, ProgressCallback
from desktop_app.core.snapshot.open_errors import kept_changing, open_error
from desktop_app.core.snapshot.private_folders import new_private_folder
from desktop_app.core.snapshot.reading import backup_with_progress, connect_source
from desktop_app.core.snapshot.source_file import (
    Fingerprint,
    read_wal_header,
    shm_in_use,
    sidecar,
    wal_commit_bytes,
)


def private_copy(
    source: Path, name: str, progress: ProgressCallback, cancel: CancelToken, notes: list[str]
) -> tuple[tempfile.TemporaryDirectory[str] | None, Path, str | None]:
    """Make a private rollback-mode copy of a WAL database; return its folder, its path and None.

    Nobody has the database open: its file and `-wal` are copied as files (regular files only, the `-wal`
    only up to its last valid commit), and the copy is taken again when another program opened or
    changed the database meanwhile. Another process has it open: it may be appending to the `-wal`, so
    that file is never copied; SQLite reads one committed state in place, inside one read transaction.
    Starts over at most `snapshot_restarts_max` times, then raises `DatabaseOpenError`.

    When the copy would not fit the temporary folder (`private_copy_max_bytes`, free space), a database
    another process has open is read in place in direct mode instead (returns None, `source` and why):
    its `-wal` and `-shm` are there already, so that leaves nothing new beside it. Nobody has it open:
    refused, because opening it in place would create `-shm`/`-wal` beside it, and `immutable=1` would
    drop the `-wal`'s rows and read garbage once another program writes while the snapshot is open.
    """
    for _attempt in range(LIMITS.snapshot_restarts_max + 1):
        in_use = shm_in_use(source)
        before = None if in_use else Fingerprint.of(source)
        database_bytes, wal_bytes = _private_copy_sizes(source, in_use, cancel)
        # Folding the -wal in writes its pages into the copy while the copied -wal still exists.
        needed = database_bytes + (wal_bytes if in_use else 2 * wal_bytes)
        too_large = _over_temporary_budget(name, needed)
        if too_large is not None:
            if in_use:
                notes.append("The database is open in another program and too large to copy privately.")
                return None, source, "a private copy would not fit the temporary folder"
            raise too_large
        try:
            private_dir = new_private_folder()
        except OSError as exc:
            raise _temp_folder_error(name, exc) from None
        copy = Path(private_dir.name) / "snapshot-source.db"
        try:
            if in_use:
                _consistent_copy(source, copy, name, progress, cancel)
            else:
                _copy_regular_file(source, copy, database_bytes, cancel)
                if wal_bytes:
                    _copy_regular_file(sidecar(source, "-wal"), sidecar(copy, "-wal"), wal_bytes, cancel)
            if in_use or (not shm_in_use(source) and Fingerprint.of(source) == before):
                _fold_into_rollback_mode(copy, name)
                if in_use:
                    notes.append("The database is open in another program; one committed state was read.")
                elif wal_bytes:
                    notes.append("Newest changes were read from the -wal file (through a private copy).")
                return private_dir, copy, None
        except OSError as exc:  # e.g. the temporary folder's disk is full
            private_dir.cleanup()
            raise _temp_folder_error(name, exc) from None
        except BaseException:
            private_dir.cleanup()
            raise
        private_dir.cleanup()  # opened or changed while copied: the copy may mix two states
        cancel.raise_if_cancelled()
    raise kept_changing(name)


def _private_copy_sizes(source: Path, in_use: bool, cancel: CancelToken) -> tuple[int, int]:
    """Bytes of the database file and of the part of its `-wal` a private copy holds.

    Refuses (`DatabaseOpenError`) a `-wal` that is not a regular file, without reading it.
    """
    wal = sidecar(source, "-wal")
    header = read_wal_header(wal)
    if header is None:
        wal_bytes = 0
    elif in_use:  # being appended to: never scanned; its size bounds what the backup adds
        wal_bytes = header.file_size
    else:
        wal_bytes = wal_commit_bytes(wal, header, cancel.raise_if_cancelled)
    return source.stat().st_size, wal_bytes


def _over_temporary_budget(name: str, needed: int) -> DatabaseOpenError | None:
    """The error to give when `needed` bytes do not fit the temporary folder, or None when they do."""
    folder = tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    cap = LIMITS.private_copy_max_bytes
    if needed <= cap and needed <= free:
        return None
    bound = "the limit for a private copy" if needed > cap else "free space"
    return DatabaseOpenError(
        f"“{name}” is a WAL database; reading it without touching its folder needs a private copy of "
        f"{_size(needed)}, more than {bound} in the temporary folder ({_size(free)} free, limit "
        f"{_size(cap)}). Free some space or point TMPDIR at a larger disk.",
        details=f"temporary folder {folder}: {needed} bytes needed, {free} free, limit {cap}",
    )


def _consistent_copy(
    source: Path, copy: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> None:
    """Back the live database up into `copy` inside one read transaction: one committed state."""
    try:
        src = connect_source(source)
    except sqlite3.Error as exc:
        raise open_error(exc, name) from None
    dst = sqlite3.connect(copy, isolation_level=None)
    try:
        backup_with_progress(src, dst, name, progress, cancel, hold_read=True)
    except sqlite3.Error as exc:
        raise open_error(exc, name) from None
    finally:
        src.close()
        dst.close()


def _fold_into_rollback_mode(copy: Path, name: str) -> None:
    """Turn the private copy into a rollback-mode file (memdb cannot hold a WAL-mode database)."""
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error as exc:
        raise open_error(exc, name) from None
    finally:
        conn.close()


def _temp_folder_error(name: str, exc: OSError) -> DatabaseOpenError:
    return DatabaseOpenError(
        f"“{name}” could not be copied to a private temporary folder: {exc.strerror or exc}.",
        details=str(exc),
    )


def _copy_regular_file(source: Path, target: Path, length: int, cancel: CancelToken) -> None:
    """Copy the first `length` bytes of the regular file `source` (never through a link, never blocking)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:  # the source, not the temporary folder: say so
        message = f"“{source.name}” cannot be read: {exc.strerror}."
        raise DatabaseOpenError(message, details=str(source)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a FIFO or device since it was checked
            raise DatabaseOpenError(f"“{source.name}” is not a regular file.", details=str(source))
        with open(target, "xb") as out:
            copied = 0
            while copied < length:
                cancel.raise_if_cancelled()
                chunk = os.pread(fd, min(8 << 20, length - copied), copied)
                if not chunk:
                    break
                out.write(chunk)
                copied += len(chunk)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"
