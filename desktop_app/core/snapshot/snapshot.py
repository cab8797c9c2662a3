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
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from desktop_app.core.errors import DatabaseOpenError, SnapshotClosed
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.snapshot.encrypted import (
    ENTROPY_SAMPLE_BYTES,
    USUAL_PLAINTEXT_HEADER,
    CipherKey,
    decrypt_into_memory,
    looks_encrypted,
    looks_encrypted_behind_plain_header,
    needs_key,
)
from desktop_app.core.snapshot.memory_copy import (
    MemoryFull,
    copy_into_memory,
    direct_mode_reason,
    image_into_memory,
    memory_header,
    schema_check,
)
from desktop_app.core.snapshot.open_errors import open_error
from desktop_app.core.snapshot.packed import packed_format, read_member
from desktop_app.core.snapshot.private_copy import private_copy
from desktop_app.core.snapshot.private_folders import SharedFolder, sweep_stale_private_folders_once
from desktop_app.core.snapshot.reading import connect_source, readonly_uri
from desktop_app.core.snapshot.source_file import (
    HEADER_BYTES,
    SQLITE_MAGIC,
    Fingerprint,
    SourceHeader,
    check_readable_database,
    parse_header,
    read_source_head,
)
from desktop_app.core.sqlite.connection import ConnectionHook, configure_connection

_generations = itertools.count(1)


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
    #: The database inside a packed file (`path` is the archive), or None.
    member: str | None = None
    #: True when the file was decrypted (SQLCipher) into memory.
    encrypted: bool = False
    #: The 100-byte header of the database unpacked or decrypted into memory (the file's own is not it).
    image_header: bytes | None = None
    #: The commit of the `-wal` this snapshot shows the database as of (rebuilt in memory), or None.
    wal_commit: int | None = None
    _keeper: sqlite3.Connection | None = None
    _private_dir: SharedFolder | None = None
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
        if self.encrypted:  # sorts and temporary tables of decrypted data never spill to a file
            conn.execute("PRAGMA temp_store = MEMORY")
        configure_connection(conn, hooks, trust_schema=self.schema_trusted)
        return conn

    @property
    def database_header(self) -> bytes | None:
        """The database's 100-byte header as the snapshot read it (journal mode, last writer...), if known."""
        if self.image_header is not None:
            return self.image_header
        return self.fingerprint.database.header if self.fingerprint.database is not None else None

    @property
    def schema_trusted(self) -> bool:
        """True when connections must trust the schema to read it (user functions stay off then)."""
        return self.schema_needs is not None

    def changed_on_disk(self) -> bool:
        """True when the source file's header or its `-wal`'s frames differ from when the snapshot was taken
        (content: a touched file or an empty `-wal`/`-shm` left by another reader is no change)."""
        packed = self.fingerprint.tail is not None
        return Fingerprint.of(self.source or self.path, packed=packed) != self.fingerprint

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
    member: str | None = None,
    key: CipherKey | None = None,
) -> Snapshot:
    """Snapshot the database at `path` into memory (blocking: run it off the UI thread).

    `on_readable`, when given, is called (on this thread) with a direct-mode *quick view* of the same
    generation as soon as the database can be read, before a copy into memory of at least
    `progressive_open_min_bytes` starts; the caller owns it and closes it (it keeps a private copy alive
    for as long as it is open). It is not called when the database opens direct anyway.

    A packed file (told by its first bytes: gzip, bzip2, xz, Zstandard, zip, tar, Anki packages) is
    unpacked into memory; `member` names the database inside it when it holds several. An encrypted
    (SQLCipher) file is decrypted into memory with `key`. Neither is ever written to disk.

    Raises `DatabaseOpenError` with a message for the user when the file cannot be read as a database
    (`EncryptedDatabase` when it looks encrypted and no key or a wrong one was given, `SeveralDatabases`
    when a packed file holds several and `member` is None), and `Cancelled` when `cancel` fires.
    """
    started = time.perf_counter()
    taken_at = time.time()
    given = Path(path).absolute()
    # Sidecars belong to the real file: a link's own folder may hold a stale or unrelated -wal.
    source = Path(os.path.realpath(given))
    cancel = cancel or CancelToken()
    generation = generation if generation is not None else next(_generations)
    head, size = read_source_head(given, ENTROPY_SAMPLE_BYTES)
    if not head.startswith(SQLITE_MAGIC) or looks_encrypted_behind_plain_header(head, size):
        fmt = packed_format(head)
        if fmt is not None or key is not None or _looks_encrypted(head, size):
            try:
                return _open_in_memory_image(given, source, fmt, member, key, generation, progress, cancel)
            except MemoryError:
                raise _out_of_memory(given.name, "unpacked" if fmt is not None else "decrypted") from None
    fingerprint = Fingerprint.of(source)
    header = check_readable_database(given)
    sweep_stale_private_folders_once()
    folder: SharedFolder | None = None
    notes: list[str] = []
    try:
        read_from, direct_reason = source, None
        if header.is_wal:
            # A WAL database nobody has open cannot be read in place without creating -shm/-wal beside
            # it, and `immutable=1` would drop the -wal's rows (not the state the copy will hold): the
            # quick view below waits for the private copy, and reads that. Copying files runs at disk
            # speed, several times faster than the copy into memory that follows.
            private_dir, read_from, direct_reason = private_copy(source, given.name, progress, cancel, notes)
            folder = SharedFolder(private_dir).acquire() if private_dir is not None else None
        schema_needs = _check_schema_readable(read_from, given.name)
        if schema_needs is not None:
            notes.append(_schema_trusted_note(schema_needs))
        # The file read in place: the quick view and the snapshot are this, told how they read it.
        in_place = Snapshot(
            path=given,
            mode=SnapshotMode.DIRECT,
            generation=generation,
            uri=readonly_uri(read_from),
            fingerprint=fingerprint,
            header=header,
            elapsed_s=0.0,
            notes=notes,
            schema_needs=schema_needs,
            source=source,
            taken_at=taken_at,
        )
        direct_reason = direct_mode_reason(read_from, force_direct) or direct_reason
        mode = SnapshotMode.DIRECT
        if direct_reason is None:
            if on_readable is not None and read_from.stat().st_size >= LIMITS.progressive_open_min_bytes:
                shared = folder.acquire() if folder is not None else None
                on_readable(
                    replace(
                        in_place,
                        elapsed_s=time.perf_counter() - started,
                        notes=list(notes),
                        mode_reason=QUICK_VIEW_REASON,
                        _private_dir=shared,
                    )
                )
            try:
                snapshot_uri, keeper = copy_into_memory(read_from, given.name, progress, cancel)
                mode = SnapshotMode.MEMORY
            except MemoryFull:
                direct_reason = "memory ran out while copying the database"
                mode = SnapshotMode.DIRECT_FALLBACK
                notes.append("Direct read-only mode: the database did not fit in memory.")
        if mode is not SnapshotMode.MEMORY:
            assert direct_reason is not None
            if mode is SnapshotMode.DIRECT:
                notes.append(f"Direct read-only mode: {direct_reason}.")
            snapshot_uri, keeper = in_place.uri, None
    except BaseException:
        if folder is not None:
            folder.release()  # a quick view handed out keeps its own hold
        raise
    if keeper is not None:
        header = memory_header(keeper, header)
        reason = "copied into memory: reads never touch the file"
    else:
        reason = direct_reason or ""
    if folder is not None and mode is SnapshotMode.MEMORY:
        folder.release()  # the copy is in memory; a quick view still reading it keeps it
        folder = None
    return replace(
        in_place,
        mode=mode,
        uri=snapshot_uri,
        header=header,
        elapsed_s=time.perf_counter() - started,
        mode_reason=reason,
        _keeper=keeper,
        _private_dir=folder,
    )


def _looks_encrypted(head: bytes, size: int) -> bool:
    return looks_encrypted(head, size) or looks_encrypted_behind_plain_header(head, size)


def _plaintext_header(head: bytes, size: int) -> int:
    """The plaintext header size to offer for a file that looks encrypted (0: none)."""
    return USUAL_PLAINTEXT_HEADER if looks_encrypted_behind_plain_header(head, size) else 0


def _open_in_memory_image(
    given: Path,
    source: Path,
    fmt: str | None,
    member: str | None,
    key: CipherKey | None,
    generation: int,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Snapshot:
    """Snapshot a packed or encrypted file: its database is unpacked or decrypted into memory only."""
    started = time.perf_counter()
    taken_at = time.time()
    fingerprint = Fingerprint.of(source, packed=True)
    notes: list[str] = []
    encrypted = False
    if fmt is not None:
        name, image = read_member(source, fmt, member, progress, cancel)
        notes.append(f"“{name}” was unpacked from the {fmt} file into memory; nothing was written to disk.")
        shown = f"{name} in {given.name}"
        reason = "unpacked into memory: reads never touch the file"
        head = bytes(image[:ENTROPY_SAMPLE_BYTES])
        if not image.startswith(SQLITE_MAGIC) or looks_encrypted_behind_plain_header(head, len(image)):
            # An encrypted database in the archive: its ciphertext, unpacked in memory, is decrypted there.
            if key is None:
                raise needs_key(shown, _plaintext_header(head, len(image)))
            image = decrypt_into_memory(image, key, progress, cancel, shown)
            encrypted = True
            notes.append(
                f"Decrypted in memory ({key.settings.describe()}); neither the unpacked file nor the "
                "plaintext was written to disk."
            )
            reason = "unpacked and decrypted into memory: reads never touch the file"
    else:
        if key is None:
            head, size = read_source_head(source, ENTROPY_SAMPLE_BYTES)
            raise needs_key(given.name, _plaintext_header(head, size))
        name, shown, encrypted = None, given.name, True
        image = decrypt_into_memory(source, key, progress, cancel)
        notes.append(
            f"Decrypted into memory ({key.settings.describe()}); the plaintext was never written to disk."
        )
        reason = "decrypted into memory: reads never touch the file"
    snapshot = image_snapshot(
        given,
        image,
        shown,
        generation=generation,
        fingerprint=fingerprint,
        notes=notes,
        reason=reason,
        progress=progress,
        cancel=cancel,
        taken_at=taken_at,
        started=started,
    )
    snapshot.member, snapshot.encrypted = name, encrypted
    return snapshot


def image_snapshot(
    given: Path,
    image: bytearray,
    shown: str,
    *,
    generation: int | None,
    fingerprint: Fingerprint,
    notes: list[str],
    reason: str,
    progress: ProgressCallback,
    cancel: CancelToken,
    taken_at: float,
    started: float,
) -> Snapshot:
    """A memory snapshot of a database image held in memory (unpacked, decrypted, rebuilt from a -wal);
    `image` is consumed. `shown` names it in messages, `reason` says where it came from."""
    if not image.startswith(SQLITE_MAGIC) or len(image) < HEADER_BYTES:
        raise DatabaseOpenError(f"“{shown}” is not a SQLite database, so it cannot be opened.")
    image_header = bytes(image[:HEADER_BYTES])
    header = parse_header(image_header, len(image))
    uri, keeper, schema_needs = image_into_memory(image, shown, progress, cancel)
    if schema_needs is not None:
        notes.append(_schema_trusted_note(schema_needs))
    return Snapshot(
        path=given,
        mode=SnapshotMode.MEMORY,
        generation=generation if generation is not None else next(_generations),
        uri=uri,
        fingerprint=fingerprint,
        header=memory_header(keeper, replace(header, is_wal=False)),
        elapsed_s=time.perf_counter() - started,
        notes=notes,
        schema_needs=schema_needs,
        source=Path(os.path.realpath(given)),
        mode_reason=reason,
        taken_at=taken_at,
        image_header=image_header,
        _keeper=keeper,
    )


def _schema_trusted_note(schema_needs: str) -> str:
    """The note saying why the schema is trusted: it uses `schema_needs`, which SQLite does not mark safe."""
    return (
        f"The schema uses {schema_needs}, which this SQLite does not mark safe: the schema is "
        "trusted so the database can be read, and your own SQL functions are off for it."
    )


def _out_of_memory(name: str, what: str) -> DatabaseOpenError:
    """A packed or encrypted database did not fit in memory (it has no file to be read from in place)."""
    return DatabaseOpenError(
        f"“{name}” did not fit in the memory available: a {what} database is held in memory whole (it has "
        "no file to be read from in place). Free some memory, or unpack or decrypt it yourself and open "
        "the result.",
    )


def _check_schema_readable(path: Path, name: str) -> str | None:
    """Read the schema once so a corrupt, encrypted or locked file fails now, with a clear message.

    Returns the function that makes the schema unreadable with `trusted_schema=OFF`, or None.
    """
    try:
        conn = connect_source(path, polled=True)
    except sqlite3.Error as exc:
        raise open_error(exc, name) from None
    try:
        return schema_check(conn, name)
    finally:
        conn.close()
