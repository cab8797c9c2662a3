"""A database image as bytes: the 100-byte header and its pages (the snapshot's, or WAL frame images)."""

from __future__ import annotations

import mmap
from dataclasses import dataclass

from desktop_app.core.errors import RecoveryError

HEADER_BYTES = 100
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Byte 56 of the header: the text encoding, as Python's codec names.
ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}
#: The page holding the lock bytes at 1 GiB (never used for data).
LOCK_BYTE_OFFSET = 0x40000000


@dataclass(frozen=True)
class DatabaseHeader:
    """The facts of a database header that page reading and the report need."""

    page_size: int
    reserved: int
    page_count: int
    freelist_trunk: int
    freelist_count: int
    schema_cookie: int
    schema_format: int
    encoding: str
    #: Largest root page (auto_vacuum/incremental databases), 0 when auto_vacuum is off.
    largest_root: int
    incremental_vacuum: bool
    user_version: int
    application_id: int
    change_counter: int
    write_version: int
    read_version: int
    sqlite_version: int

    @property
    def usable_size(self) -> int:
        """Bytes of a page that hold data (the page size less the reserved bytes at its end)."""
        return self.page_size - self.reserved

    @property
    def auto_vacuum(self) -> str:
        """ "none", "full" or "incremental", as `PRAGMA auto_vacuum` names it."""
        if not self.largest_root:
            return "none"
        return "incremental" if self.incremental_vacuum else "full"

    @property
    def journal_mode(self) -> str:
        """ "wal" when the header says WAL (versions 2), else "rollback"."""
        return "wal" if self.write_version == 2 else "rollback"

    def as_dict(self) -> dict[str, object]:
        """The header's facts by name (the report and `--json`)."""
        return {
            "page_size": self.page_size,
            "reserved_bytes": self.reserved,
            "page_count": self.page_count,
            "freelist_pages": self.freelist_count,
            "text_encoding": self.encoding,
            "auto_vacuum": self.auto_vacuum,
            "journal_mode": self.journal_mode,
            "schema_format": self.schema_format,
            "schema_cookie": self.schema_cookie,
            "user_version": self.user_version,
            "application_id": self.application_id,
            "change_counter": self.change_counter,
            "sqlite_version": self.sqlite_version,
        }


def _u32(data: bytes | memoryview, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "big")


def header_page_size(data: bytes | memoryview) -> int:
    """The page size the header's bytes 16-17 name (1 stands for 65536), not checked."""
    raw = int.from_bytes(data[16:18], "big")
    return 65536 if raw == 1 else raw


def page_format(data: bytes | memoryview) -> tuple[bytes, ...]:
    """Header fields that change how every page reads: page size, reserved bytes, text encoding."""
    return bytes(data[16:18]), bytes(data[20:21]), bytes(data[56:60])


def parse_header(data: bytes | memoryview, image_bytes: int | None = None) -> DatabaseHeader:
    """Read the 100-byte header; `RecoveryError` when it is not a SQLite database header."""
    if len(data) < HEADER_BYTES or bytes(data[:16]) != SQLITE_MAGIC:
        raise RecoveryError("This is not a SQLite database image (its header is missing or damaged).")
    raw_size = int.from_bytes(data[16:18], "big")
    page_size = header_page_size(data)
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise RecoveryError(f"The database header names an impossible page size ({raw_size}).")
    reserved = data[20]
    if page_size - reserved < 480:
        raise RecoveryError(f"The database header reserves too many bytes per page ({reserved}).")
    encoding = ENCODINGS.get(_u32(data, 56), "utf-8")
    size = len(data) if image_bytes is None else image_bytes
    return DatabaseHeader(
        page_size=page_size,
        reserved=reserved,
        page_count=size // page_size,
        freelist_trunk=_u32(data, 32),
        freelist_count=_u32(data, 36),
        schema_cookie=_u32(data, 40),
        schema_format=_u32(data, 44),
        encoding=encoding,
        largest_root=_u32(data, 52),
        incremental_vacuum=_u32(data, 64) != 0,
        user_version=_u32(data, 60),
        application_id=_u32(data, 68),
        change_counter=_u32(data, 24),
        write_version=data[18],
        read_version=data[19],
        sqlite_version=_u32(data, 96),
    )


class DatabaseImage:
    """The pages of one database image, numbered from 1 as SQLite numbers them."""

    def __init__(self, data: bytes | bytearray | memoryview | mmap.mmap) -> None:
        self.data = memoryview(data).toreadonly()
        self.header = parse_header(self.data)
        self.page_size = self.header.page_size
        self.usable_size = self.header.usable_size
        self.page_count = self.header.page_count
        self.encoding = self.header.encoding

    def page(self, number: int) -> memoryview:
        """Page `number` (1-based) as a read-only view; `RecoveryError` when it is not in the image."""
        if not 1 <= number <= self.page_count:
            raise RecoveryError(f"Page {number} is not in the database (it has {self.page_count} pages).")
        start = (number - 1) * self.page_size
        return self.data[start : start + self.page_size]

    def has_page(self, number: int) -> bool:
        """True when `number` names a page of the image."""
        return 1 <= number <= self.page_count

    @property
    def lock_byte_page(self) -> int:
        """The page holding the lock bytes (past the end of smaller databases)."""
        return LOCK_BYTE_OFFSET // self.page_size + 1

    def is_pointer_map(self, number: int) -> bool:
        """True for the pointer-map pages of an auto_vacuum database (they hold no records)."""
        if not self.header.largest_root or number < 2:
            return False
        per_map = self.usable_size // 5 + 1
        return (number - 2) % per_map == 0
