"""The copy into memory: whether it fits (the memdb cap, the memory available), and the copy itself."""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

from desktop_app.core.errors import DatabaseDamaged, DatabaseOpenError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, ProgressCallback
from desktop_app.core.snapshot.open_errors import open_error
from desktop_app.core.snapshot.reading import backup_with_progress, connect_source, retry_while_locked
from desktop_app.core.snapshot.source_file import SourceHeader
from desktop_app.core.sqlite.connection import untrusted_schema_function
from desktop_app.core.sqlite.library import raise_memdb_limit, sqlite_library

MEMDB_DEFAULT_MAX_BYTES = 1 << 30


class MemoryFull(Exception):
    """The memory database hit its size cap during the copy."""


def direct_mode_reason(path: Path, force_direct: bool) -> str | None:
    """Return why the database should be read in place rather than copied, or None to copy it."""
    if force_direct:
        return "requested"
    size = path.stat().st_size
    cap = memdb_cap()
    if size > cap:
        return f"the database ({size / 2**30:.1f} GiB) is larger than the memory database limit"
    available = available_memory_bytes()
    if available is not None and size > available * LIMITS.snapshot_ram_share:
        return (
            f"the database ({size / 2**20:,.0f} MiB) is more than "
            f"{LIMITS.snapshot_ram_share:.0%} of the memory available"
        )
    return None


def memdb_cap() -> int:
    """Return the size a memdb snapshot may grow to (raised per database when the library allows it)."""
    return LIMITS.memdb_max_bytes if sqlite_library() is not None else MEMDB_DEFAULT_MAX_BYTES


def copy_into_memory(
    read_from: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> tuple[str, sqlite3.Connection]:
    """Copy `read_from` into a new named memdb; return its URI and the keeper connection."""
    memdb_uri = f"file:/snap-{uuid.uuid4().hex}?vfs=memdb"
    keeper = sqlite3.connect(memdb_uri, uri=True, check_same_thread=False, isolation_level=None)
    try:
        raise_memdb_limit(memdb_uri, LIMITS.memdb_max_bytes)
        src = connect_source(read_from, polled=True)
        try:
            backup_with_progress(src, keeper, name, progress, cancel, hold_read=True)
        finally:
            src.close()
        keeper.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        keeper.close()
        if "full" in str(exc).lower() or "out of memory" in str(exc).lower():
            raise MemoryFull() from exc
        raise open_error(exc, name) from None
    except MemoryError as exc:  # the machine ran out part way: the file can still be read in place
        keeper.close()
        raise MemoryFull() from exc
    except BaseException:
        keeper.close()
        raise
    return memdb_uri, keeper


def image_into_memory(
    image: bytearray, name: str, progress: ProgressCallback, cancel: CancelToken
) -> tuple[str, sqlite3.Connection, str | None]:
    """Put a database image held in memory (unpacked or decrypted) into a new named memdb.

    Returns its URI, the keeper connection and the function the schema needs trusted (see
    `untrusted_schema_function`), or None. `image` is consumed (cleared) to free its memory early.
    `deserialize` makes a private memory database other connections cannot see; a backup, at memory
    speed, moves it into the shared named memdb the snapshot's connections open.
    """
    if len(image) > memdb_cap():
        raise DatabaseOpenError(
            f"“{name}” ({len(image) / 2**30:.1f} GiB) is larger than the memory database limit.",
        )
    if len(image) >= 20 and 2 in (image[18], image[19]):
        image[18:20] = b"\x01\x01"  # WAL mode: a memory image has no -wal, read it as a rollback database
    private = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    try:
        try:
            private.deserialize(image)
        except (sqlite3.Error, OverflowError, MemoryError) as exc:
            raise DatabaseOpenError(f"“{name}” could not be read as a database: {exc}.") from None
        image.clear()
        schema_needs = schema_check(private, name)
        memdb_uri = f"file:/snap-{uuid.uuid4().hex}?vfs=memdb"
        keeper = sqlite3.connect(memdb_uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            raise_memdb_limit(memdb_uri, LIMITS.memdb_max_bytes)
            backup_with_progress(private, keeper, name, progress, cancel)
            keeper.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        except sqlite3.Error as exc:
            keeper.close()
            raise open_error(exc, name) from None
        except BaseException:
            keeper.close()
            raise
    finally:
        private.close()
    return memdb_uri, keeper, schema_needs


def schema_check(conn: sqlite3.Connection, name: str) -> str | None:
    """Read the schema once on `conn` so a damaged file fails now; return the function it needs trusted."""
    try:
        needs_trust = retry_while_locked(lambda: untrusted_schema_function(conn), name)
        if needs_trust is not None:
            conn.execute("PRAGMA trusted_schema=ON")
            retry_while_locked(lambda: conn.execute("SELECT count(*) FROM sqlite_schema").fetchone(), name)
        return needs_trust
    except sqlite3.Error as exc:
        raise open_error(exc, name) from None
    except UnicodeDecodeError:  # SQLite's complaint quotes schema text that is not UTF-8: a damaged schema
        raise DatabaseDamaged(
            f"“{name}” is damaged (its schema cannot be read) and cannot be opened.",
            said="its schema holds text that is not valid UTF-8",
        ) from None


def memory_header(keeper: sqlite3.Connection, header: SourceHeader) -> SourceHeader:
    """The snapshot's own page size and count (a WAL source grows once its frames are folded in)."""
    page_size = keeper.execute("PRAGMA page_size").fetchone()[0]
    page_count = keeper.execute("PRAGMA page_count").fetchone()[0]
    return replace(header, page_size=page_size, page_count=page_count)


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
