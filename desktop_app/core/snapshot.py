"""Open a database file read-only and copy it into an in-process memory database (the snapshot).

The user's folder is left exactly as it was: a WAL-mode file nobody else has open is first copied with
its `-wal` into a private temporary folder, because even a `mode=ro` connection leaves `-shm`/`-wal`
files behind. Databases too large for memory open in *direct* read-only mode with the same API.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop_app.core.connection import ConnectionHook, configure_connection, untrusted_schema_function
from desktop_app.core.errors import DatabaseOpenError, SnapshotClosed
from desktop_app.core.jobs import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.limits import LIMITS
from desktop_app.core.source import (
    Fingerprint,
    SourceHeader,
    available_memory_bytes,
    check_readable_database,
    shm_in_use,
    sidecar,
)
from desktop_app.core.sqlite_lib import raise_memdb_limit, sqlite_library

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
MEMDB_DEFAULT_MAX_BYTES = 1 << 30
_generations = itertools.count(1)


class SnapshotMode(StrEnum):
    """Where reads are answered from."""

    MEMORY = "snapshot"
    DIRECT = "direct read-only"


@dataclass
class Snapshot:
    """An immutable copy of a database (or a read-only view of it in direct mode)."""

    path: Path
    mode: SnapshotMode
    generation: int
    uri: str
    fingerprint: Fingerprint
    header: SourceHeader
    elapsed_s: float
    #: Why direct mode was chosen, or how the source was read (e.g. "WAL copied privately").
    notes: list[str] = field(default_factory=list)
    #: The function that made the schema unreadable with `trusted_schema=OFF` (so it is trusted), or None.
    schema_needs: str | None = None
    _keeper: sqlite3.Connection | None = None
    _private_dir: tempfile.TemporaryDirectory[str] | None = None
    _closed: bool = False

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._closed

    @property
    def size_bytes(self) -> int:
        """Size of the database that was copied (page size × page count of the snapshot)."""
        return self.header.database_bytes

    def connect(self, hooks: Sequence[ConnectionHook] = ()) -> sqlite3.Connection:
        """Return a new query-only connection to the snapshot, usable from any thread."""
        if self._closed:
            raise SnapshotClosed()
        conn = sqlite3.connect(
            self.uri, uri=True, check_same_thread=False, timeout=LIMITS.busy_timeout_s, isolation_level=None
        )
        configure_connection(conn, hooks, trust_schema=self.schema_trusted)
        return conn

    @property
    def schema_trusted(self) -> bool:
        """True when connections must trust the schema to read it (user functions stay off then)."""
        return self.schema_needs is not None

    def changed_on_disk(self) -> bool:
        """True when the source file or its `-wal` differ from when the snapshot was taken."""
        return Fingerprint.of(self.path) != self.fingerprint

    def close(self) -> None:
        """Free the snapshot's memory and private files (connections still open keep the memory)."""
        if self._closed:
            return
        self._closed = True
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if self._private_dir is not None:
            self._private_dir.cleanup()
            self._private_dir = None


def open_snapshot(
    path: str | Path,
    *,
    generation: int | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    force_direct: bool = False,
) -> Snapshot:
    """Snapshot the database at `path` into memory (blocking: run it off the UI thread).

    Raises `DatabaseOpenError` with a message for the user when the file cannot be read as a database,
    and `Cancelled` when `cancel` fires.
    """
    started = time.perf_counter()
    source = Path(path).absolute()
    fingerprint = Fingerprint.of(source)
    header = check_readable_database(source)
    cancel = cancel or CancelToken()
    private_dir: tempfile.TemporaryDirectory[str] | None = None
    notes: list[str] = []
    try:
        read_from = source
        if header.is_wal:
            try:
                private_dir = tempfile.TemporaryDirectory(prefix="snapshot-browser-")
                read_from = _private_rollback_copy(source, Path(private_dir.name), cancel, notes)
            except OSError as exc:  # e.g. the temporary folder's disk is full
                raise DatabaseOpenError(
                    f"“{source.name}” could not be copied to a private temporary folder: "
                    f"{exc.strerror or exc}.",
                    details=str(exc),
                ) from None
        schema_needs = _check_schema_readable(read_from, source.name)
        if schema_needs is not None:
            notes.append(
                f"The schema uses {schema_needs}, which this SQLite does not mark safe: the schema is "
                "trusted so the database can be read, and your own SQL functions are off for it."
            )
        direct_reason = _direct_mode_reason(read_from, force_direct)
        if direct_reason is None:
            try:
                snapshot_uri, keeper = _copy_into_memory(read_from, source.name, progress, cancel)
            except _MemoryFull:
                direct_reason = "the database did not fit in memory"
        if direct_reason is not None:
            notes.append(f"Direct read-only mode: {direct_reason}.")
            mode, snapshot_uri, keeper = SnapshotMode.DIRECT, _readonly_uri(read_from), None
        else:
            mode = SnapshotMode.MEMORY
    except BaseException:
        if private_dir is not None:
            private_dir.cleanup()
        raise
    if keeper is not None:
        header = _memory_header(keeper, header)
    return Snapshot(
        path=source,
        mode=mode,
        generation=generation if generation is not None else next(_generations),
        uri=snapshot_uri,
        fingerprint=fingerprint,
        header=header,
        elapsed_s=time.perf_counter() - started,
        notes=notes,
        schema_needs=schema_needs,
        _keeper=keeper,
        _private_dir=private_dir if mode is SnapshotMode.DIRECT else _cleanup_now(private_dir),
    )


def _cleanup_now(private_dir: tempfile.TemporaryDirectory[str] | None) -> None:
    """The private copy is not needed once the snapshot is in memory."""
    if private_dir is not None:
        private_dir.cleanup()


class _MemoryFull(Exception):
    """The memory database hit its size cap during the copy."""


def _readonly_uri(path: Path) -> str:
    return path.as_uri() + "?mode=ro"


def _connect_source(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(
        _readonly_uri(path), uri=True, check_same_thread=False, timeout=LIMITS.busy_timeout_s
    )


def _open_error(exc: sqlite3.Error, name: str) -> DatabaseOpenError:
    """Translate SQLite's error on opening into words for the user."""
    text = str(exc)
    lowered = text.lower()
    if "file is not a database" in lowered or "not a database" in lowered:
        message = (
            f"“{name}” is not a readable SQLite database. It may be encrypted (for example with SQLCipher)."
        )
    elif "malformed" in lowered or "corrupt" in lowered:
        message = f"“{name}” is damaged (the database image is malformed) and cannot be opened."
    elif "locked" in lowered or "busy" in lowered:
        message = (
            f"“{name}” is locked by another program that is writing to it. Try again when it has finished."
        )
    elif getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK":
        # A "-journal" beside the file says a writer stopped mid-transaction: only a rollback gives a
        # consistent database, and rolling back would change the user's file.
        message = (
            f"“{name}” has an unfinished transaction (a hot journal, “{name}-journal”, left by a program "
            "that stopped while writing). Rolling it back would change the file, so it is not opened. "
            "Copy the database and its -journal to another folder and open the copy in sqlite3 "
            "(which rolls it back), then browse the copy."
        )
    elif "unable to open" in lowered:
        message = f"“{name}” could not be opened."
    else:
        message = f"“{name}” could not be read as a database: {text}."
    return DatabaseOpenError(message, details=f"SQLite said: {text}")


def _check_schema_readable(path: Path, name: str) -> str | None:
    """Read the schema once so a corrupt, encrypted or locked file fails now, with a clear message.

    Returns the function that makes the schema unreadable with `trusted_schema=OFF`, or None.
    """
    try:
        conn = _connect_source(path)
    except sqlite3.Error as exc:
        raise _open_error(exc, name) from None
    try:
        needs_trust = untrusted_schema_function(conn)
        if needs_trust is not None:
            conn.execute("PRAGMA trusted_schema=ON")
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        return needs_trust
    except sqlite3.Error as exc:
        raise _open_error(exc, name) from None
    except UnicodeDecodeError:  # SQLite's complaint quotes schema text that is not UTF-8: a damaged schema
        raise DatabaseOpenError(
            f"“{name}” is damaged (its schema cannot be read) and cannot be opened."
        ) from None
    finally:
        conn.close()


def _private_rollback_copy(source: Path, folder: Path, cancel: CancelToken, notes: list[str]) -> Path:
    """Return a private rollback-mode copy of a WAL database, with the `-wal` frames folded in."""
    copy = folder / "snapshot-source.db"
    if shm_in_use(source):
        # Another program has it open: its -shm/-wal are its own. A read-only backup gives a consistent copy.
        notes.append("The database is open in another program; a consistent copy was read from it.")
        src = _connect_source(source)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst, pages=LIMITS.backup_pages_per_step, progress=_cancel_check(cancel))
        except sqlite3.Error as exc:
            raise _open_error(exc, source.name) from None
        finally:
            src.close()
            dst.close()
    else:
        shutil.copyfile(source, copy)
        wal = sidecar(source, "-wal")
        if wal.exists():
            shutil.copyfile(wal, sidecar(copy, "-wal"))
            notes.append("Newest changes were read from the -wal file (through a private copy).")
    cancel.raise_if_cancelled()
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error as exc:
        raise _open_error(exc, source.name) from None
    finally:
        conn.close()
    return copy


def _cancel_check(cancel: CancelToken):  # type: ignore[no-untyped-def]
    def check(_status: int, _remaining: int, _total: int) -> None:
        cancel.raise_if_cancelled()

    return check


def _direct_mode_reason(path: Path, force_direct: bool) -> str | None:
    """Return why the database should be read in place rather than copied, or None to copy it."""
    if force_direct:
        return "requested"
    size = path.stat().st_size
    cap = _memdb_cap()
    if size > cap:
        return f"the database ({size / 2**30:.1f} GiB) is larger than the memory database limit"
    available = available_memory_bytes()
    if available is not None and size > available * LIMITS.snapshot_ram_share:
        return (
            f"the database ({size / 2**20:,.0f} MiB) is more than "
            f"{LIMITS.snapshot_ram_share:.0%} of the memory available"
        )
    return None


def _memdb_cap() -> int:
    """Return the size a memdb snapshot may grow to (raised per database when the library allows it)."""
    return LIMITS.memdb_max_bytes if sqlite_library() is not None else MEMDB_DEFAULT_MAX_BYTES


def _copy_into_memory(
    read_from: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> tuple[str, sqlite3.Connection]:
    """Copy `read_from` into a new named memdb; return its URI and the keeper connection."""
    memdb_uri = f"file:/snap-{uuid.uuid4().hex}?vfs=memdb"
    keeper = sqlite3.connect(memdb_uri, uri=True, check_same_thread=False, isolation_level=None)
    try:
        raise_memdb_limit(memdb_uri, LIMITS.memdb_max_bytes)
        src = _connect_source(read_from)
        try:
            _backup_with_progress(src, keeper, name, progress, cancel)
        finally:
            src.close()
        keeper.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        keeper.close()
        if "full" in str(exc).lower() or "out of memory" in str(exc).lower():
            raise _MemoryFull() from exc
        raise _open_error(exc, name) from None
    except MemoryError as exc:  # the machine ran out part way: the file can still be read in place
        keeper.close()
        raise _MemoryFull() from exc
    except BaseException:
        keeper.close()
        raise
    return memdb_uri, keeper


def _backup_with_progress(
    src: sqlite3.Connection,
    dst: sqlite3.Connection,
    name: str,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> None:
    busy_since: list[float | None] = [None]

    def on_step(status: int, remaining: int, total: int) -> None:
        cancel.raise_if_cancelled()
        if status in (SQLITE_BUSY, SQLITE_LOCKED):
            now = time.monotonic()
            if busy_since[0] is None:
                busy_since[0] = now
            elif now - busy_since[0] > LIMITS.busy_timeout_s:
                raise DatabaseOpenError(
                    f"“{name}” is locked by another program that is writing to it. "
                    "Try again when it has finished."
                )
        else:
            busy_since[0] = None
        progress(Progress(total - remaining, total, "Copying into memory"))

    src.backup(dst, pages=LIMITS.backup_pages_per_step, progress=on_step)


def _memory_header(keeper: sqlite3.Connection, header: SourceHeader) -> SourceHeader:
    """The snapshot's own page size and count (a WAL source grows once its frames are folded in)."""
    page_size = keeper.execute("PRAGMA page_size").fetchone()[0]
    page_count = keeper.execute("PRAGMA page_count").fetchone()[0]
    return SourceHeader(
        page_size=page_size,
        page_count=page_count,
        is_wal=header.is_wal,
        text_encoding=header.text_encoding,
        user_version=header.user_version,
        application_id=header.application_id,
    )
