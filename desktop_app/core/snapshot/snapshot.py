"""Open a database file read-only and copy it into an in-process memory database (the snapshot).

The user's folder is left exactly as it was: a WAL-mode file nobody else has open is first copied with
its `-wal` into a private temporary folder, because even a `mode=ro` connection leaves `-shm`/`-wal`
files behind. One that another process has open (its `-wal` and `-shm` are that process's) is read in
place inside one read transaction, so the copy is one committed state. Databases too large for memory
open in *direct* read-only mode with the same API.

Three modes, chosen for the user (`SnapshotMode`, with `Snapshot.mode_reason` saying why): a memory
snapshot; direct read-only (too large for memory, or asked for); and direct because memory ran out while
copying. `open_snapshot(..., on_readable=...)` also hands out a direct *quick view* of the same state as
soon as the file can be read, so a window can show rows while the copy into memory runs.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop_app.core.errors import DatabaseDamaged, DatabaseOpenError, SnapshotClosed
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.snapshot.source_file import (
    Fingerprint,
    SourceHeader,
    available_memory_bytes,
    check_readable_database,
    read_wal_header,
    shm_in_use,
    sidecar,
    wal_commit_bytes,
)
from desktop_app.core.sqlite.connection import ConnectionHook, configure_connection, untrusted_schema_function
from desktop_app.core.sqlite.library import raise_memdb_limit, sqlite_library

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
MEMDB_DEFAULT_MAX_BYTES = 1 << 30
#: Private folders are named so, in `tempfile.gettempdir()`; each holds an `OWNER` file (pid, start time).
PRIVATE_PREFIX = "snapshot-browser-"
OWNER_FILE = "OWNER"
_generations = itertools.count(1)
_stale_folders_swept = False


class SnapshotMode(StrEnum):
    """Where reads are answered from (the value is the name the UI and `info` show)."""

    MEMORY = "memory snapshot"
    DIRECT = "direct read-only"
    #: Direct because the machine ran out of memory while copying (not chosen up front).
    DIRECT_FALLBACK = "direct (memory ran out)"

    @property
    def direct(self) -> bool:
        """True when reads go to the file itself (slower than memory for scans and searches)."""
        return self is not SnapshotMode.MEMORY


#: Why a quick view is direct (`open_snapshot(on_readable=...)`): it stands in while the copy runs.
QUICK_VIEW_REASON = "shown straight from the file while it is copied into memory"


class _SharedFolder:
    """A private folder shared by the snapshots that read from it (a quick view and its successor):
    removed when the last of them is closed."""

    def __init__(self, folder: tempfile.TemporaryDirectory[str]) -> None:
        self._folder = folder
        self._users = 0
        self._lock = threading.Lock()

    def acquire(self) -> _SharedFolder:
        with self._lock:
            self._users += 1
        return self

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self._folder.cleanup()


@dataclass
class Snapshot:
    """An immutable copy of a database (or a read-only view of it in direct mode)."""

    #: The path as the user gave it (shown in the UI and the CLI; a symbolic link stays a link here).
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
    #: The file actually read: `path` with every symbolic link resolved (its sidecars are beside it).
    source: Path | None = None
    #: Why this mode, in words for the user (the status bar's tooltip, `info`'s "mode_reason").
    mode_reason: str = ""
    #: Wall-clock time (`time.time()`) the snapshot's state was read: "opened 12:01".
    taken_at: float = field(default_factory=time.time)
    _keeper: sqlite3.Connection | None = None
    _private_dir: _SharedFolder | None = None
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
        """True when the source file's header or its `-wal`'s frames differ from when the snapshot was taken
        (content: a touched file or an empty `-wal`/`-shm` left by another reader is no change)."""
        return Fingerprint.of(self.source or self.path) != self.fingerprint

    def close(self) -> None:
        """Free the snapshot's memory and private files (connections still open keep the memory)."""
        if self._closed:
            return
        self._closed = True
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if self._private_dir is not None:
            self._private_dir.release()
            self._private_dir = None


def open_snapshot(
    path: str | Path,
    *,
    generation: int | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    force_direct: bool = False,
    on_readable: Callable[[Snapshot], None] | None = None,
) -> Snapshot:
    """Snapshot the database at `path` into memory (blocking: run it off the UI thread).

    `on_readable`, when given, is called (on this thread) with a direct-mode *quick view* of the same
    generation as soon as the database can be read, before a copy into memory of at least
    `progressive_open_min_bytes` starts; the caller owns it and closes it (it keeps a private copy alive
    for as long as it is open). It is not called when the database opens direct anyway.

    Raises `DatabaseOpenError` with a message for the user when the file cannot be read as a database,
    and `Cancelled` when `cancel` fires.
    """
    started = time.perf_counter()
    taken_at = time.time()
    given = Path(path).absolute()
    # Sidecars belong to the real file: a link's own folder may hold a stale or unrelated -wal.
    source = Path(os.path.realpath(given))
    fingerprint = Fingerprint.of(source)
    header = check_readable_database(given)
    cancel = cancel or CancelToken()
    generation = generation if generation is not None else next(_generations)
    _sweep_stale_private_folders_once()
    folder: _SharedFolder | None = None
    notes: list[str] = []
    quick: Snapshot | None = None
    try:
        read_from, direct_reason = source, None
        if header.is_wal:
            # A WAL database nobody has open cannot be read in place without creating -shm/-wal beside
            # it, and `immutable=1` would drop the -wal's rows (not the state the copy will hold): the
            # quick view below waits for the private copy, and reads that. Copying files runs at disk
            # speed, several times faster than the copy into memory that follows.
            private_dir, read_from, direct_reason = _private_copy(source, given.name, progress, cancel, notes)
            folder = _SharedFolder(private_dir).acquire() if private_dir is not None else None
        schema_needs = _check_schema_readable(read_from, given.name)
        if schema_needs is not None:
            notes.append(
                f"The schema uses {schema_needs}, which this SQLite does not mark safe: the schema is "
                "trusted so the database can be read, and your own SQL functions are off for it."
            )
        direct_reason = _direct_mode_reason(read_from, force_direct) or direct_reason
        mode = SnapshotMode.DIRECT
        if direct_reason is None:
            if on_readable is not None and read_from.stat().st_size >= LIMITS.progressive_open_min_bytes:
                quick = Snapshot(
                    path=given,
                    mode=SnapshotMode.DIRECT,
                    generation=generation,
                    uri=_readonly_uri(read_from),
                    fingerprint=fingerprint,
                    header=header,
                    elapsed_s=time.perf_counter() - started,
                    notes=list(notes),
                    schema_needs=schema_needs,
                    source=source,
                    mode_reason=QUICK_VIEW_REASON,
                    taken_at=taken_at,
                    _private_dir=folder.acquire() if folder is not None else None,
                )
                on_readable(quick)
            try:
                snapshot_uri, keeper = _copy_into_memory(read_from, given.name, progress, cancel)
                mode = SnapshotMode.MEMORY
            except _MemoryFull:
                direct_reason = "memory ran out while copying the database"
                mode = SnapshotMode.DIRECT_FALLBACK
                notes.append("Direct read-only mode: the database did not fit in memory.")
        if mode is not SnapshotMode.MEMORY:
            assert direct_reason is not None
            if mode is SnapshotMode.DIRECT:
                notes.append(f"Direct read-only mode: {direct_reason}.")
            snapshot_uri, keeper = _readonly_uri(read_from), None
    except BaseException:
        if folder is not None:
            folder.release()  # a quick view handed out keeps its own hold
        raise
    if keeper is not None:
        header = _memory_header(keeper, header)
        reason = "copied into memory: reads never touch the file"
    else:
        reason = direct_reason or ""
    snapshot = Snapshot(
        path=given,
        mode=mode,
        generation=generation,
        uri=snapshot_uri,
        fingerprint=fingerprint,
        header=header,
        elapsed_s=time.perf_counter() - started,
        notes=notes,
        schema_needs=schema_needs,
        source=source,
        mode_reason=reason,
        taken_at=taken_at,
        _keeper=keeper,
    )
    if folder is not None:
        if mode is SnapshotMode.MEMORY:
            folder.release()  # the copy is in memory; a quick view still reading it keeps it
        else:
            snapshot._private_dir = folder
    return snapshot


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
        return DatabaseDamaged(message, said=text, details=f"SQLite said: {text}")
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
        raise DatabaseDamaged(
            f"“{name}” is damaged (its schema cannot be read) and cannot be opened.",
            said="its schema holds text that is not valid UTF-8",
        ) from None
    finally:
        conn.close()


def _private_copy(
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
    raise _kept_changing(name)


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
        src = _connect_source(source)
    except sqlite3.Error as exc:
        raise _open_error(exc, name) from None
    dst = sqlite3.connect(copy, isolation_level=None)
    try:
        _backup_with_progress(src, dst, name, progress, cancel, hold_read=True)
    except sqlite3.Error as exc:
        raise _open_error(exc, name) from None
    finally:
        src.close()
        dst.close()


def _fold_into_rollback_mode(copy: Path, name: str) -> None:
    """Turn the private copy into a rollback-mode file (memdb cannot hold a WAL-mode database)."""
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error as exc:
        raise _open_error(exc, name) from None
    finally:
        conn.close()


def _temp_folder_error(name: str, exc: OSError) -> DatabaseOpenError:
    return DatabaseOpenError(
        f"“{name}” could not be copied to a private temporary folder: {exc.strerror or exc}.",
        details=str(exc),
    )


def _kept_changing(name: str) -> DatabaseOpenError:
    return DatabaseOpenError(
        f"“{name}” kept changing while it was read: another program is writing to it without pause. "
        f"Gave up after {LIMITS.snapshot_restarts_max} fresh starts; try again when it is quieter.",
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


def new_private_folder() -> tempfile.TemporaryDirectory[str]:
    """A new private folder holding an `OWNER` file, so a later start can tell when its process is gone."""
    folder = tempfile.TemporaryDirectory(prefix=PRIVATE_PREFIX)
    try:
        (Path(folder.name) / OWNER_FILE).write_text(f"{os.getpid()} {_process_start_time(os.getpid())}\n")
    except BaseException:
        folder.cleanup()
        raise
    return folder


def _process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "?" where it cannot be told.

    With the pid it names one process: a pid reused by a later process has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError):
        return "?"


def _owner_alive(pid: int, start_time: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    except OSError:
        return True
    return start_time == "?" or _process_start_time(pid) in (start_time, "?")


def remove_stale_private_folders(temp_dir: Path | None = None) -> list[Path]:
    """Remove the private folders of snapshot-browser processes that are gone; return what was removed.

    Only folders of ours with an `OWNER` file naming a process that no longer runs (or whose pid now
    belongs to a process started at another time) are removed; a live one, or one without an owner
    (still being created, or of an older version), is left alone.
    """
    root = Path(temp_dir or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PRIVATE_PREFIX)]
    except OSError:
        return removed
    for folder in candidates:
        try:
            st = folder.lstat()
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
                continue
            pid_text, start_time = (folder / OWNER_FILE).read_text(encoding="ascii").split()
            pid = int(pid_text)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if pid == os.getpid() or _owner_alive(pid, start_time):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _sweep_stale_private_folders_once() -> None:
    """At the first snapshot of a process (GUI or CLI), free what killed processes left behind."""
    global _stale_folders_swept
    if not _stale_folders_swept:
        _stale_folders_swept = True
        remove_stale_private_folders()


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
                raise _kept_changing(name)
        last_remaining[0] = remaining
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

    if hold_read:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # the read transaction begins here
    try:
        src.backup(dst, pages=LIMITS.backup_pages_per_step, progress=on_step)
    finally:
        if hold_read and src.in_transaction:
            src.execute("COMMIT")


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
