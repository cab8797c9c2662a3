"""Binary values: where a blob lives, what it is, and reading it in bounded pieces.

Values in rowid tables are read with incremental blob I/O (`blobopen`), so a window or a chunk
costs only its own bytes. Rows without a rowid (WITHOUT ROWID tables, views, virtual tables,
VIRTUAL generated columns) fall back to selecting the value, by primary key or given key values,
with `substr` windows so Python still holds only what it asked for. TEXT stored in a blob column
counts as a blob of its UTF-8 bytes (raw bytes kept in a UTF-8 database, even invalid ones).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from desktop_app.core.blobs.sniff import extension_for, sniff_mime
from desktop_app.core.browse.rows import rowid_name, virtual_rowid_name
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Table, TableKind, read_table
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import qualified, quote_identifier

T = TypeVar("T")

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
_VIRTUAL_GENERATED = 2  # `Column.hidden` of a VIRTUAL generated column
_KINDS = {TableKind.VIEW: "view", TableKind.VIRTUAL: "virtual"}


def human_size(size: int) -> str:
    """Return a byte count for people: `761 B`, `12.3 KB`, `4.0 MB` (units of 1024)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _SIZE_UNITS[1:]:
        value /= 1024
        shown = f"{value:.1f}" if value < 100 else f"{value:.0f}"
        if float(shown) < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{shown} {unit}"
    raise AssertionError("unreachable")


class NotABlob(UserError):
    """The value is a number, which has no bytes to show or export."""


@dataclass(frozen=True)
class BlobRef:
    """Where one value lives: a column of a row found by rowid, or by key values when there is none."""

    schema: str
    table: str
    column: str
    rowid: int | None = None
    key: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def by_key(cls, schema: str, table: str, column: str, key: Mapping[str, Any]) -> BlobRef:
        """Return a reference to the row whose `key` columns hold the given values."""
        return cls(schema, table, column, None, tuple(key.items()))

    @property
    def row_label(self) -> str:
        """A short description of the row for messages (`rowid 5`, `id=7, lang='en'`)."""
        if self.rowid is not None:
            return f"rowid {self.rowid}"
        return ", ".join(f"{name}={value!r}" for name, value in self.key) or "row"


#: A value in hand or a reference to one in the database.
BlobSource = bytes | bytearray | memoryview | str | BlobRef


@dataclass(frozen=True)
class BlobSummary:
    """What a cell holds, for grids and the Blobs pane: storage class, size in bytes, sniffed type, label."""

    storage: str  # "blob", "text", "null", "integer" or "real"
    size: int | None
    mime: str
    label: str

    @property
    def extension(self) -> str:
        """The file extension that fits the sniffed type (with its dot), or "" for non-blobs."""
        return extension_for(self.mime) if self.mime else ""


def describe_blob(value: Any, total_size: int | None = None) -> BlobSummary:
    """Summarise a cell from its value or just its first bytes (`total_size` = the whole size then)."""
    if value is None:
        return BlobSummary("null", None, "", "NULL")
    if isinstance(value, bool | int | float):
        storage = "real" if isinstance(value, float) else "integer"
        return BlobSummary(storage, None, "", str(value))
    if isinstance(value, str):
        head = value[: LIMITS.blob_sniff_bytes].encode("utf-8")[: LIMITS.blob_sniff_bytes]
        size = total_size if total_size is not None else len(value.encode("utf-8"))
        return _describe_bytes(head, size, "text")
    head = bytes(value[: LIMITS.blob_sniff_bytes])
    return _describe_bytes(head, total_size if total_size is not None else len(value), "blob")


def _describe_bytes(head: bytes, size: int, storage: str) -> BlobSummary:
    """Summarise a text or blob value from its first bytes, its size and its storage class."""
    tag = storage.upper()
    mime = sniff_mime(head)
    label = f"<{tag} {human_size(size)} {mime}>" if size else f"<{tag} empty>"
    return BlobSummary(storage, size, mime, label)


@dataclass(frozen=True)
class TableAccess:
    """How values of one table or view can be reached: rowid (and blobopen) or key columns."""

    schema: str
    table: str
    kind: str  # "table", "virtual" or "view"
    columns: tuple[str, ...]
    rowid_name: str | None  # an unshadowed name for the rowid, None when there is none
    key_columns: tuple[str, ...]  # primary key columns (used when there is no rowid)
    utf8: bool  # database text encoding is UTF-8 (so TEXT can be read as raw bytes)
    virtual_generated: frozenset[str] = field(default_factory=frozenset)

    @property
    def source_sql(self) -> str:
        """The quoted, schema-qualified name for a FROM clause."""
        return qualified(self.schema, self.table)

    def column_name(self, column: str) -> str:
        """Return the table's spelling of `column`; raise UserError when it has no such column."""
        for name in self.columns:
            if name == column:
                return name
        for name in self.columns:
            if name.casefold() == column.casefold():
                return name
        raise UserError(f"{self.table!r} has no column named {column!r}.")

    def can_blobopen(self, column: str) -> bool:
        """True when `column` can be read with incremental blob I/O."""
        return (
            self.kind == "table"
            and self.rowid_name is not None
            and column.casefold() not in self.virtual_generated
        )


def table_access(conn: sqlite3.Connection, schema: str, table: str) -> TableAccess:
    """Inspect `schema.table` (a table or view) to know how to reach its values."""
    try:
        return _inspect(conn, schema, table)
    except sqlite3.OperationalError as exc:  # unknown schema, a virtual table whose module is missing
        raise UserError(f"Cannot read {table!r} in {schema!r}: {exc}.") from exc
    except UnicodeDecodeError:  # SQLite's message quotes a name whose bytes are not UTF-8
        raise UserError(
            f"Cannot read {table!r}: its definition refers to a name that is not valid UTF-8."
        ) from None


def _inspect(conn: sqlite3.Connection, schema: str, table: str) -> TableAccess:
    found = read_table(conn, table, schema)
    if found is None:
        raise UserError(f"There is no table or view named {table!r}.")
    if found.error is not None:
        raise UserError(f"Cannot read {table!r} in {schema!r}: {found.error}.")
    kind = _KINDS.get(found.kind, "table")
    columns = tuple(c.name for c in found.columns)
    generated = frozenset(c.name.casefold() for c in found.columns if c.hidden == _VIRTUAL_GENERATED)
    utf8 = str(conn.execute("PRAGMA encoding").fetchone()[0]).upper() == "UTF-8"
    return TableAccess(
        schema, found.name, kind, columns, _rowid_name(conn, found), tuple(found.primary_key), utf8, generated
    )


def _rowid_name(conn: sqlite3.Connection, table: Table) -> str | None:
    if table.kind is not TableKind.VIRTUAL:
        return rowid_name(table)
    try:
        return virtual_rowid_name(conn, table)
    except sqlite3.Error:  # e.g. an FTS table whose content table is gone: found by key, if at all
        return None


class BlobReader:
    """Random access to one value's bytes; only the bytes asked for are read."""

    size: int
    #: SQLite's storage class of the value: "blob", or "text" (read as its UTF-8 bytes).
    storage: str = "blob"

    def read_at(self, offset: int, length: int) -> bytes:
        """Return up to `length` bytes starting at `offset`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the reader holds."""

    def chunks(self, chunk_bytes: int | None = None, cancel: CancelToken | None = None) -> Iterator[bytes]:
        """Yield the whole value in chunks of `chunk_bytes`, checking `cancel` between chunks."""
        step = chunk_bytes or LIMITS.blob_chunk_bytes
        for offset in range(0, self.size, step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            yield self.read_at(offset, step)

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BytesReader(BlobReader):
    """A value already in memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read_at(self, offset: int, length: int) -> bytes:
        return self._data[offset : offset + max(0, length)]


class _IncrementalReader(BlobReader):
    def __init__(self, blob: sqlite3.Blob) -> None:
        self._blob = blob
        self.size = len(blob)

    def read_at(self, offset: int, length: int) -> bytes:
        if offset >= self.size or length <= 0:
            return b""
        self._blob.seek(offset)
        return self._blob.read(min(length, self.size - offset))

    def close(self) -> None:
        self._blob.close()


class _WindowReader(BlobReader):
    """Reads `substr` windows of a row without rowid (SQLite loads the value, Python gets the window)."""

    def __init__(
        self, conn: sqlite3.Connection, value_sql: str, from_where: str, params: tuple, size: int
    ) -> None:
        self._conn = conn
        self._sql = f"SELECT substr({value_sql}, ?, ?) {from_where}"
        self._params = params
        self.size = size

    def read_at(self, offset: int, length: int) -> bytes:
        if offset >= self.size or length <= 0:
            return b""
        row = self._conn.execute(
            self._sql, (offset + 1, min(length, self.size - offset), *self._params)
        ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""


def _row_filter(access: TableAccess, ref: BlobRef) -> tuple[str, tuple]:
    """Return `FROM … WHERE … LIMIT 1` and its parameters for the row `ref` names."""
    if ref.rowid is not None:
        if access.rowid_name is None:
            raise UserError(f"{access.table!r} has no rowid; refer to its rows by key instead.")
        return f"FROM {access.source_sql} WHERE {access.rowid_name} = ? LIMIT 1", (ref.rowid,)
    if not ref.key:
        raise UserError("Pick a row first: the value has neither a rowid nor key values.")
    conditions = " AND ".join(f"{quote_identifier(name)} IS ?" for name, _ in ref.key)
    return f"FROM {access.source_sql} WHERE {conditions} LIMIT 1", tuple(value for _, value in ref.key)


def open_blob(conn: sqlite3.Connection, ref: BlobRef, access: TableAccess | None = None) -> BlobReader | None:
    """Open the value `ref` names for reading; None when it is NULL, NotABlob when it is a number."""
    access = access or table_access(conn, ref.schema, ref.table)
    column = access.column_name(ref.column)
    quoted = quote_identifier(column)
    from_where, params = _row_filter(access, ref)
    row = conn.execute(f"SELECT typeof({quoted}), length({quoted}) {from_where}", params).fetchone()
    if row is None:
        raise UserError(f"{access.table!r} has no row with {ref.row_label}.")
    storage = row[0]
    if storage == "null":
        return None
    if storage not in ("blob", "text"):
        raise NotABlob(f"{access.table}.{column} at {ref.row_label} holds {storage!r}, not a blob.")
    reader = _open_reader(conn, access, ref, (column, storage, row[1]), (from_where, params))
    reader.storage = storage
    return reader


def _open_reader(
    conn: sqlite3.Connection,
    access: TableAccess,
    ref: BlobRef,
    value: tuple[str, str, int],
    where: tuple[str, tuple],
) -> BlobReader:
    """The cheapest reader for a text or blob value: blobopen, a `substr` window, or the bytes whole."""
    column, storage, length = value
    from_where, params = where
    quoted = quote_identifier(column)
    if storage == "text" and not access.utf8:
        # A UTF-16 database stores text as UTF-16; the value is its UTF-8 form, so convert it whole.
        text = conn.execute(f"SELECT {quoted} {from_where}", params).fetchone()[0]
        return BytesReader(str(text).encode("utf-8"))
    if ref.rowid is not None and access.can_blobopen(column):
        try:
            return _IncrementalReader(
                conn.blobopen(access.table, column, ref.rowid, readonly=True, name=access.schema)
            )
        except sqlite3.OperationalError:
            pass  # e.g. a column blobopen cannot see; selecting still works
    value_sql = f"CAST({quoted} AS BLOB)"
    size = (
        length
        if storage == "blob"
        else conn.execute(f"SELECT length({value_sql}) {from_where}", params).fetchone()[0]
    )
    return _WindowReader(conn, value_sql, from_where, params, int(size))


def open_source(
    conn: sqlite3.Connection, source: BlobSource | None, access: TableAccess | None = None
) -> BlobReader | None:
    """Open a value in hand or in the database for reading; None when it is NULL."""
    if source is None:
        return None
    if isinstance(source, bool | int | float):
        raise NotABlob(f"The value {source!r} is a number, not a blob.")
    if isinstance(source, BlobRef):
        return open_blob(conn, source, access)
    if isinstance(source, str):
        reader = BytesReader(source.encode("utf-8"))
        reader.storage = "text"
        return reader
    return BytesReader(bytes(source))


def blob_size(conn: sqlite3.Connection, source: BlobSource) -> int | None:
    """Return the size in bytes of a value (None for NULL)."""
    reader = open_source(conn, source)
    if reader is None:
        return None
    with reader:
        return reader.size


def describe_ref(conn: sqlite3.Connection, ref: BlobRef) -> BlobSummary:
    """Summarise a value in the database from its first bytes and its size."""
    reader = open_blob(conn, ref)
    if reader is None:
        return describe_blob(None)
    with reader:
        return _describe_bytes(reader.read_at(0, LIMITS.blob_sniff_bytes), reader.size, reader.storage)


def read_blob_range(conn: sqlite3.Connection, ref: BlobSource, offset: int, length: int) -> bytes:
    """Return `length` bytes of a value from `offset` (fewer at its end; b"" for NULL), reading no more."""
    if offset < 0 or length < 0:
        raise ValueError("offset and length must not be negative")
    reader = open_source(conn, ref)
    if reader is None:
        return b""
    with reader:
        return reader.read_at(offset, length)


def iter_blob_chunks(
    conn: sqlite3.Connection,
    source: BlobSource,
    *,
    chunk_bytes: int | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Iterator[bytes]:
    """Yield a value in chunks (nothing for NULL), reporting bytes done of the size."""
    with cancellable(conn, cancel):
        reader = open_source(conn, source)
        if reader is None:
            return
        with reader:
            yield from _chunks_with_progress(reader, chunk_bytes, progress, cancel)


def _chunks_with_progress(
    reader: BlobReader, chunk_bytes: int | None, progress: ProgressCallback, cancel: CancelToken | None
) -> Iterator[bytes]:
    done = 0
    for chunk in reader.chunks(chunk_bytes, cancel):
        done += len(chunk)
        progress(Progress(done, reader.size, "Reading blob"))
        yield chunk


def read_blob(
    conn: sqlite3.Connection,
    source: BlobSource,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> bytes | None:
    """Return a whole value (e.g. for an image preview) read in chunks; None for NULL."""
    return _fold_chunks(conn, source, b"".join, progress, cancel)


def blob_sha256(
    conn: sqlite3.Connection,
    source: BlobSource,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> str | None:
    """Return the hex SHA-256 of a value, streamed in chunks; None for NULL."""

    def digest(chunks: Iterator[bytes]) -> str:
        hashed = hashlib.sha256()
        for chunk in chunks:
            hashed.update(chunk)
        return hashed.hexdigest()

    return _fold_chunks(conn, source, digest, progress, cancel)


def _fold_chunks(
    conn: sqlite3.Connection,
    source: BlobSource,
    fold: Callable[[Iterator[bytes]], T],
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> T | None:
    """`fold` of the value's chunks (read with progress, stoppable); None for NULL."""
    with _open_interruptible(conn, source, cancel) as reader:
        if reader is None:
            return None
        return fold(_chunks_with_progress(reader, None, progress, cancel))


@contextmanager
def _open_interruptible(
    conn: sqlite3.Connection, source: BlobSource, cancel: CancelToken | None
) -> Iterator[BlobReader | None]:
    """The value's reader (None for NULL) for the block, with `cancel` able to interrupt SQLite."""
    with cancellable(conn, cancel):
        reader = open_source(conn, source)
        if reader is None:
            yield None
            return
        with reader:
            yield reader
