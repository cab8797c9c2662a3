"""Facts about the user's database file, read without opening it with SQLite."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import DatabaseOpenError
from desktop_app.core.file_kinds import file_kind
from desktop_app.core.pagefile.image import HEADER_BYTES as HEADER_BYTES
from desktop_app.core.pagefile.image import SQLITE_MAGIC as SQLITE_MAGIC
from desktop_app.core.pagefile.image import header_page_size

WAL_MAGICS = (0x377F0682, 0x377F0683)
WAL_HEADER_BYTES = 32
WAL_FRAME_HEADER_BYTES = 24
#: Byte offsets in the `-shm` file: the eight WAL-index locks (120..127) and the "DMS" lock (128) every
#: connection of another process holds a shared lock on while it has the database open.
SHM_LOCKS_START = 120
SHM_LOCKS_BYTES = 9


@dataclass(frozen=True)
class WalHeader:
    """The 32-byte header of a `-wal` file, and how many whole frames the file's size holds."""

    page_size: int
    checkpoint_sequence: int
    salts: bytes
    file_size: int

    @property
    def frame_bytes(self) -> int:
        """Size of one frame: its 24-byte header and one page."""
        return WAL_FRAME_HEADER_BYTES + self.page_size

    @property
    def whole_frames(self) -> int:
        """Frames that fit whole in the file (a torn last frame is not counted)."""
        return max(0, (self.file_size - WAL_HEADER_BYTES) // self.frame_bytes)


def read_wal_header(wal: Path) -> WalHeader | None:
    """Return the header of the `-wal` at `wal`, or None when there is none SQLite would read frames from.

    None for a missing or empty file, a header shorter than 32 bytes, a wrong magic number or page size
    (SQLite treats each as a WAL without frames). Raises `DatabaseOpenError` when `wal` is not a regular
    file (a symbolic link, FIFO, device...): SQLite refuses to open those, and reading one could hang
    or never end. The file is never followed through a link nor opened in a way that blocks.
    """
    try:
        st = os.lstat(wal)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DatabaseOpenError(f"“{wal.name}” cannot be read: {exc.strerror}.", details=str(wal)) from None
    if not stat.S_ISREG(st.st_mode):
        raise DatabaseOpenError(
            f"“{wal.name}” beside the database is not a regular file ({file_kind(st.st_mode)}), so the "
            "database's newest changes cannot be read safely; SQLite itself refuses to open it.",
            details=str(wal),
        )
    if st.st_size < WAL_HEADER_BYTES:
        return None
    header = _read_head(wal, WAL_HEADER_BYTES)
    if len(header) < WAL_HEADER_BYTES or int.from_bytes(header[0:4], "big") not in WAL_MAGICS:
        return None
    page_size = int.from_bytes(header[8:12], "big")
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return None
    return WalHeader(
        page_size=page_size,
        checkpoint_sequence=int.from_bytes(header[12:16], "big"),
        salts=header[16:24],
        file_size=st.st_size,
    )


def wal_commit_bytes(wal: Path, header: WalHeader, cancel_check: Callable[[], None] | None = None) -> int:
    """Bytes of `wal` up to its last commit frame that carries the header's salts (0 when there is none).

    SQLite reads frames only while their salts match the header and only up to the last commit frame:
    everything after is dead weight (a sparse or padded file), so a private copy need not hold it.
    Reads 24 bytes per frame, never the pages.
    """
    end = 0
    with open(wal, "rb", buffering=0) as handle:
        fd = handle.fileno()
        for index in range(header.whole_frames):
            if cancel_check is not None and index % 4096 == 0:
                cancel_check()
            offset = WAL_HEADER_BYTES + index * header.frame_bytes
            frame = os.pread(fd, WAL_FRAME_HEADER_BYTES, offset)
            if len(frame) < WAL_FRAME_HEADER_BYTES or frame[8:16] != header.salts:
                break
            if int.from_bytes(frame[4:8], "big") != 0:  # "database size after commit": a commit frame
                end = offset + header.frame_bytes
    return end


@dataclass(frozen=True)
class WalState:
    """The content identity of a `-wal`: its salts and checkpoint sequence (new after every restart of the
    log) and its whole frames (more after every commit)."""

    salts: bytes
    checkpoint_sequence: int
    frames: int

    @classmethod
    def of(cls, wal: Path) -> WalState | None:
        """The state of `wal`, or None when it holds no frames (missing, empty, or a bare header)."""
        try:
            header = read_wal_header(wal)
        except DatabaseOpenError:
            return None
        if header is None or header.whole_frames == 0:
            return None
        return cls(header.salts, header.checkpoint_sequence, header.whole_frames)


@dataclass(frozen=True)
class DatabaseState:
    """The content identity of a database file: its size and its 100-byte header (which holds the change
    counter, page count and schema cookie that every commit in rollback mode and every checkpoint changes)."""

    size: int
    header: bytes

    @classmethod
    def of(cls, path: Path) -> DatabaseState | None:
        """The state of the file at `path`, or None when it is missing or not a regular file."""
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                return None
            return cls(st.st_size, _read_head(path, HEADER_BYTES))
        except OSError:
            return None


@dataclass(frozen=True)
class Fingerprint:
    """What the source held when snapshotted: the database file's header and its `-wal`'s frames.

    Content, not presence or times: touching the file, or another reader leaving an empty `-wal` or a
    `-shm` beside it, is no change; a commit (rollback or WAL), a checkpoint or a replaced file is.
    """

    database: DatabaseState | None
    wal: WalState | None
    #: The last bytes of a packed or encrypted file (a packed file's header says little: its trailer
    #: holds the checksum and size of what it holds), None for a plain database.
    tail: bytes | None = None

    @classmethod
    def of(cls, path: Path, *, packed: bool = False) -> Fingerprint:
        """Return the fingerprint of the database at `path` now (`packed`: a packed or encrypted file)."""
        if packed:
            return cls(DatabaseState.of(path), None, _read_tail(path, PACKED_TAIL_BYTES))
        return cls(DatabaseState.of(path), WalState.of(sidecar(path, "-wal")))


PACKED_TAIL_BYTES = 4096


def _read_tail(path: Path, size: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return os.pread(fd, size, max(0, st.st_size - size))
    finally:
        os.close(fd)


def _read_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of a regular file, opened without blocking (a FIFO swapped in is harmless)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class SourceHeader:
    """The parts of the 100-byte SQLite header we decide things by."""

    page_size: int
    page_count: int
    is_wal: bool
    text_encoding: str
    user_version: int
    application_id: int

    @property
    def database_bytes(self) -> int:
        """Size implied by the header (page size × page count)."""
        return self.page_size * self.page_count


def sidecar(path: Path, suffix: str) -> Path:
    """Return the path of a SQLite sidecar file such as `-wal`, `-shm` or `-journal`."""
    return path.with_name(path.name + suffix)


def check_readable_database(path: Path) -> SourceHeader:
    """Return the header of `path`, or raise `DatabaseOpenError` saying plainly why it is not a database."""
    name = path.name or str(path)
    header, size = read_source_head(path, HEADER_BYTES)
    if not header.startswith(SQLITE_MAGIC):
        raise DatabaseOpenError(
            f"“{name}” is not a SQLite database. It may be encrypted (for example with SQLCipher) "
            "or be another kind of file.",
            details=f"{path}: the first bytes are {header[:16].hex(' ')} (hexadecimal), not "
            "“SQLite format 3” and a zero byte.",
        )
    if len(header) < HEADER_BYTES:
        raise DatabaseOpenError(f"“{name}” is truncated: its header is incomplete.", details=str(path))
    return parse_header(header, size)


def read_source_head(path: Path, size: int) -> tuple[bytes, int]:
    """The first `size` bytes of the file at `path` and its size; `DatabaseOpenError` saying plainly why
    it cannot be read (missing, a folder, not a regular file, empty, no permission)."""
    name = path.name or str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DatabaseOpenError(f"“{name}” does not exist.", details=str(path)) from None
    except OSError as exc:
        raise DatabaseOpenError(f"“{name}” cannot be read: {exc.strerror}.", details=str(path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise DatabaseOpenError(f"“{name}” is a folder, not a database file.", details=str(path))
    if not stat.S_ISREG(st.st_mode):
        raise DatabaseOpenError(f"“{name}” is not a regular file.", details=str(path))
    if st.st_size == 0:
        raise DatabaseOpenError(f"“{name}” is empty (0 bytes): it holds no database.", details=str(path))
    try:
        with path.open("rb") as handle:
            return handle.read(size), st.st_size
    except PermissionError:
        raise DatabaseOpenError(f"You do not have permission to read “{name}”.", details=str(path)) from None
    except OSError as exc:
        raise DatabaseOpenError(f"“{name}” cannot be read: {exc.strerror}.", details=str(path)) from None


def parse_header(header: bytes, file_size: int) -> SourceHeader:
    """Decode the fields of a 100-byte SQLite header."""
    page_size = header_page_size(header)
    in_header_pages = int.from_bytes(header[28:32], "big")
    # The in-header page count is only valid when "version-valid-for" matches the change counter.
    valid = header[24:28] == header[92:96] and in_header_pages > 0
    page_count = in_header_pages if valid else (file_size // page_size if page_size else 0)
    encoding = {1: "UTF-8", 2: "UTF-16le", 3: "UTF-16be"}.get(int.from_bytes(header[56:60], "big"), "UTF-8")
    return SourceHeader(
        page_size=page_size,
        page_count=page_count,
        is_wal=header[18] == 2 or header[19] == 2,
        text_encoding=encoding,
        user_version=int.from_bytes(header[60:64], "big", signed=True),
        application_id=int.from_bytes(header[68:72], "big", signed=True),
    )


def shm_in_use(path: Path) -> bool:
    """True when another process has the WAL database open: it holds a lock on the `-shm` file.

    Every connection holds a shared lock on byte 128 (the "DMS" lock) for as long as it has the WAL
    index open, readers and writers alike, between transactions too; bytes 120..127 are only held during
    transactions. A `-shm` nobody locks is stale (left by a crash or committed to a repository) and
    counts as none. Locks of this process itself are not seen (POSIX locks are per process).
    """
    shm = sidecar(path, "-shm")
    try:
        st = os.lstat(shm)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False  # SQLite opens the -shm with O_NOFOLLOW: nobody can hold it open through a link
    try:
        import fcntl
        import struct
    except ImportError:  # Windows: SQLite uses other locks; assume a live writer to stay safe.
        return True
    try:
        fd = os.open(shm, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True
    try:
        # Ask whether a write lock over the WAL-index locks and the DMS lock would conflict with anyone's.
        request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, SHM_LOCKS_START, SHM_LOCKS_BYTES, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
        lock_type = struct.unpack("hhqqi", answer)[0]
        return lock_type != fcntl.F_UNLCK
    except OSError:
        return True
    finally:
        os.close(fd)


def journal_in_use(path: Path) -> bool:
    """True when a rollback-journal writer may be part way through a transaction on `path` (or crashed in
    one): a non-empty `-journal` lies beside it."""
    try:
        return os.stat(sidecar(path, "-journal")).st_size > 0
    except OSError:
        return False
