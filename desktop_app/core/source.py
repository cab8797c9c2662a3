"""Facts about the user's database file, read without opening it with SQLite."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import DatabaseOpenError

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100


@dataclass(frozen=True)
class FileStamp:
    """Size and modification time of one file (None when the file does not exist)."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """Return the stamp of `path`, or None if it does not exist."""
        try:
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Fingerprint:
    """What the source looked like when snapshotted: the database file and its `-wal`."""

    database: FileStamp | None
    wal: FileStamp | None

    @classmethod
    def of(cls, path: Path) -> Fingerprint:
        """Return the fingerprint of the database at `path` now."""
        return cls(FileStamp.of(path), FileStamp.of(sidecar(path, "-wal")))


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
            header = handle.read(HEADER_BYTES)
    except PermissionError:
        raise DatabaseOpenError(f"You do not have permission to read “{name}”.", details=str(path)) from None
    except OSError as exc:
        raise DatabaseOpenError(f"“{name}” cannot be read: {exc.strerror}.", details=str(path)) from None
    if not header.startswith(SQLITE_MAGIC):
        raise DatabaseOpenError(
            f"“{name}” is not a SQLite database. It may be encrypted (for example with SQLCipher) "
            "or be another kind of file.",
            details=f"{path}: the first bytes are {header[:16]!r}, not 'SQLite format 3\\0'.",
        )
    if len(header) < HEADER_BYTES:
        raise DatabaseOpenError(f"“{name}” is truncated: its header is incomplete.", details=str(path))
    return parse_header(header, st.st_size)


def parse_header(header: bytes, file_size: int) -> SourceHeader:
    """Decode the fields of a 100-byte SQLite header."""
    raw_page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if raw_page_size == 1 else raw_page_size
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
    """True when another program has the WAL database open (it holds a lock on the `-shm` file).

    A `-shm` nobody locks is stale (left by a crash or committed to a repository) and counts as none.
    """
    shm = sidecar(path, "-shm")
    if not shm.exists():
        return False
    try:
        import fcntl
        import struct
    except ImportError:  # Windows: SQLite uses other locks; assume a live writer to stay safe.
        return True
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return True
    try:
        # Ask whether a write lock on the WAL-index lock bytes (120..127) would conflict with anyone's.
        request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 120, 8, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
        lock_type = struct.unpack("hhqqi", answer)[0]
        return lock_type != fcntl.F_UNLCK
    except OSError:
        return True
    finally:
        os.close(fd)


def available_memory_bytes() -> int | None:
    """Return the memory available to a new allocation, or None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
