"""The database's own facts: its 100-byte header, the pragmas that describe it, and what created it."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from desktop_app.core.schema.catalog import Catalog
from desktop_app.core.snapshot.source_file import HEADER_BYTES, SQLITE_MAGIC
from desktop_app.core.structure.fingerprints import application_id_name, recognise

_AUTO_VACUUM = {0: "none", 1: "full", 2: "incremental"}


@dataclass(frozen=True)
class HeaderFields:
    """The fields of a database file's header that the snapshot's pragmas cannot tell."""

    write_version: int  #: 1 rollback journal, 2 WAL
    read_version: int
    reserved_bytes: int  #: unused bytes at the end of each page (encryption, checksums)
    change_counter: int
    schema_cookie: int
    schema_format: int  #: 1..4; 4 is the default since SQLite 3.3.0
    sqlite_version_number: int  #: SQLITE_VERSION_NUMBER of the library that last wrote the file
    version_valid_for: int

    @property
    def journal(self) -> str:
        """'wal' when the file is in WAL mode (bytes 18/19 are 2), else 'rollback'."""
        return "wal" if self.write_version == 2 or self.read_version == 2 else "rollback"

    @property
    def sqlite_version(self) -> str:
        """The last writer's version as text, e.g. 3040001 → '3.40.1' ('' when the header holds none)."""
        number = self.sqlite_version_number
        if number <= 0:
            return ""
        return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


def parse_header_fields(header: bytes) -> HeaderFields | None:
    """Decode the header fields of `header` (the file's first 100 bytes), or None when it is not one."""
    if len(header) < HEADER_BYTES or not header.startswith(SQLITE_MAGIC):
        return None

    def u32(offset: int) -> int:
        return int.from_bytes(header[offset : offset + 4], "big")

    return HeaderFields(
        write_version=header[18],
        read_version=header[19],
        reserved_bytes=header[20],
        change_counter=u32(24),
        schema_cookie=u32(40),
        schema_format=u32(44),
        sqlite_version_number=u32(96),
        version_valid_for=u32(92),
    )


@dataclass(frozen=True)
class DatabaseFacts:
    """What a database says about itself, and which program made it when that can be told."""

    page_size: int
    page_count: int
    freelist_pages: int
    encoding: str
    user_version: int
    application_id: int
    application_id_name: str | None
    auto_vacuum: str
    journal: str  #: of the source file: 'wal', 'rollback', or 'unknown' without its header
    schema_format: int | None
    sqlite_version: str  #: the SQLite that last wrote the file, '' when unknown
    reserved_bytes: int | None
    change_counter: int | None
    schema_fingerprints: list[str]  #: programs whose tables the schema has (`fingerprints.FINGERPRINTS`)

    @property
    def application(self) -> str | None:
        """The program that created the database, as well as it can be told: the registered
        application_id first, else the first schema fingerprint."""
        return self.application_id_name or next(iter(self.schema_fingerprints), None)

    @property
    def size_bytes(self) -> int:
        """Page size × page count."""
        return self.page_size * self.page_count

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON), with `application` and `size_bytes`."""
        return {**asdict(self), "application": self.application, "size_bytes": self.size_bytes}


def read_facts(conn: sqlite3.Connection, header: bytes | None, catalog: Catalog) -> DatabaseFacts:
    """The facts of the database on `conn` (a snapshot), with `header` the source file's first 100 bytes
    as the snapshot read them (`Snapshot.fingerprint`) and `catalog` its schema.

    Sizes, encoding and ids come from the snapshot's pragmas (a WAL's changes included); the journal mode,
    schema format and last writer's version from the header, which the snapshot does not keep.
    """

    def pragma(name: str) -> Any:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]

    fields = parse_header_fields(header) if header is not None else None
    application_id = int(pragma("application_id"))
    return DatabaseFacts(
        page_size=int(pragma("page_size")),
        page_count=int(pragma("page_count")),
        freelist_pages=int(pragma("freelist_count")),
        encoding=str(pragma("encoding")),
        user_version=int(pragma("user_version")),
        application_id=application_id,
        application_id_name=application_id_name(application_id),
        auto_vacuum=_AUTO_VACUUM.get(int(pragma("auto_vacuum")), "unknown"),
        journal=fields.journal if fields else "unknown",
        schema_format=fields.schema_format if fields else None,
        sqlite_version=fields.sqlite_version if fields else "",
        reserved_bytes=fields.reserved_bytes if fields else None,
        change_counter=fields.change_counter if fields else None,
        schema_fingerprints=recognise(t.name for t in catalog.tables),
    )
