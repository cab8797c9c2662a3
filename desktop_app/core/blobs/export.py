"""Writing blobs to files: one value to a chosen path, or a whole column / query result to a folder.

Every file is written under a temporary name in the target folder and renamed when complete, so an
interrupted export never leaves a half file that looks finished. Values stream in chunks (blobopen
where the row has a rowid), so memory stays flat whatever the blob sizes. NULLs are skipped and
counted; empty blobs become empty files unless `skip_empty` is set (an empty value is still a value).
Numbers in a blob column are skipped and counted as "not a blob".
"""

from __future__ import annotations

import errno
import itertools
import os
import sqlite3
import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack

from desktop_app.core.blobs.files import (
    FolderWriter,
    move_no_clobber,
    open_folder,
    prepare_folder,
    temp_name,
    write_new_file,
)
from desktop_app.core.blobs.names import (
    DEFAULT_NAME_PATTERN,
    SPECIAL_FIELDS,
    NamePattern,
    format_name_value,
    parse_name_pattern,
    sanitize_file_name,
)
from desktop_app.core.blobs.sniff import extension_for, sniff_mime
from desktop_app.core.blobs.values import (
    BlobRef,
    BlobSource,
    NotABlob,
    TableAccess,
    human_size,
    open_source,
    table_access,
)
from desktop_app.core.errors import Cancelled, ExportError, UserError
from desktop_app.core.export.output_paths import FolderReplacedError, SourceFiles
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.sqlite.guard import check_user_sql, refused_error
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier

#: (row values for the name pattern, the value or where it lives).
ExportItem = tuple[Mapping[str, Any], BlobSource | int | float | None]

# Progress is reported at most this often: a smooth bar, and cheap for a million tiny rows.
_PROGRESS_INTERVAL_S = LIMITS.progress_interval_s
# Errors that will hit every following file too: stop the export rather than fail row by row.
_FOLDER_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None)) if code is not None
)
# Enough of a value to tell its type, Office documents included (told by their first ZIP members).
_SNIFF_BYTES = 8 << 10
_NUMBER_PLACEHOLDER = 0  # stands for a number found in the column; only its type matters
_NULL, _BLOB, _NUMBER = 0, 1, 2  # storage classes as the column scan reports them


@dataclass(frozen=True)
class ExportFailure:
    """A row whose value could not be written, and why."""

    row: str
    reason: str


@dataclass
class BlobExportResult:
    """What a bulk export did: files written, rows skipped (by reason) and rows that failed."""

    folder: Path
    file_names: list[str] = field(default_factory=list)
    bytes_written: int = 0
    rows: int = 0  #: rows looked at: written, skipped or failed
    skipped_null: int = 0
    skipped_empty: int = 0
    skipped_not_blob: int = 0
    failures: list[ExportFailure] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """The files written, in row order."""
        return [self.folder / name for name in self.file_names]

    @property
    def written(self) -> int:
        """Number of files written."""
        return len(self.file_names)

    @property
    def skipped(self) -> int:
        """Rows skipped for any reason (NULL, empty, a number)."""
        return self.skipped_null + self.skipped_empty + self.skipped_not_blob

    @property
    def failed(self) -> int:
        """Rows that could not be written."""
        return len(self.failures)

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        skipped = []
        for count, reason in (
            (self.skipped_null, "NULL"),
            (self.skipped_empty, "empty"),
            (self.skipped_not_blob, "not a blob"),
        ):
            if count:
                skipped.append(f"{count} {reason}")
        text = (
            f"Wrote {self.written} file{'s' if self.written != 1 else ''} ({human_size(self.bytes_written)})"
        )
        text += f" to {self.folder}"
        if skipped:
            text += f"; skipped {', '.join(skipped)}"
        if self.failures:
            text += f"; {self.failed} failed"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data for JSON output."""
        return {
            "folder": str(self.folder),
            "rows": self.rows,
            "written": self.written,
            "bytes_written": self.bytes_written,
            "skipped": {
                "null": self.skipped_null,
                "empty": self.skipped_empty,
                "not_blob": self.skipped_not_blob,
            },
            "failed": [{"row": failure.row, "reason": failure.reason} for failure in self.failures],
            "files": list(self.file_names),
        }


class BlobExportCancelled(Cancelled):
    """The user stopped a bulk export; `result` holds what was written before the stop."""

    def __init__(self, result: BlobExportResult) -> None:
        super().__init__(f"Stopped. {result.summary()}")
        self.result = result


class _Ticker:
    """Reports progress at most every _PROGRESS_INTERVAL_S (and always at the end)."""

    def __init__(self, progress: ProgressCallback, total: int | None, label: str) -> None:
        self._progress = progress
        self._total = total
        self._label = label
        self._last = 0.0

    def tick(self, done: int, detail: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= _PROGRESS_INTERVAL_S:
            self._last = now
            label = f"{self._label}: {detail}" if detail else self._label
            self._progress(Progress(done, self._total, label))


def _row_label(row: Mapping[str, Any], source: Any, n: int) -> str:
    if isinstance(source, BlobRef):
        return source.row_label
    if row.get("rowid") is not None:
        return f"rowid {row['rowid']}"
    return f"row {n}"


def _name_values(row: Mapping[str, Any], source: Any, n: int, extension: str) -> dict[str, Any]:
    values = dict(row)
    rowid = values.get("rowid")
    if rowid is None and isinstance(source, BlobRef):
        rowid = source.rowid
    pk = values.get("pk")
    if pk is None and isinstance(source, BlobRef) and source.key:
        pk = "-".join(format_name_value(value) for _, value in source.key)
    pk = pk if pk is not None else rowid if rowid is not None else n
    values.update(rowid=rowid if rowid is not None else pk, pk=pk, n=n, ext=extension)
    return values


def _is_interrupt(exc: BaseException) -> bool:
    return "interrupt" in str(exc).lower()


def export_blobs(
    conn: sqlite3.Connection,
    items: Iterable[ExportItem],
    folder: str | os.PathLike[str],
    *,
    pattern: str = DEFAULT_NAME_PATTERN,
    overwrite: bool = False,
    skip_empty: bool = False,
    total: int | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    source_path: str | os.PathLike[str] | None = None,
) -> BlobExportResult:
    """Write each item's value to a file in `folder`, named by `pattern`; stream, never hold a column.

    `items` yields (row values, value): the value is bytes/str in hand, a `BlobRef` to stream, or
    None. Pattern fields: any key of the row values, `{rowid}`, `{pk}` (key, else rowid, else n),
    `{n}` (1-based row position), `{ext}` (extension of the sniffed type, with its dot). No file may
    be the database at `source_path` or one of its sidecars: such a row fails with the reason.
    """
    name_pattern = parse_name_pattern(pattern)
    source_files = SourceFiles.of(source_path) if source_path is not None else None
    if source_files is not None:  # a folder named like a sidecar would stop SQLite from making one
        source_files.check_path(folder, hint="choose another folder")
    writer = FolderWriter(prepare_folder(folder), overwrite, source_files)
    try:
        return _BulkExport(conn, name_pattern, writer, skip_empty, total, progress, cancel).run(items)
    finally:
        writer.close()


class _BulkExport:
    """The state of one bulk export: where files go, how they are named, and what happened so far."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        name_pattern: NamePattern,
        writer: FolderWriter,
        skip_empty: bool,
        total: int | None,
        progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> None:
        self.conn = conn
        self.name_pattern = name_pattern
        self.writer = writer
        self.result = BlobExportResult(writer.root)
        self.skip_empty = skip_empty
        self.ticker = _Ticker(progress, total, "Exporting blobs")
        self.cancel = cancel
        self.accesses: dict[tuple[str, str], TableAccess] = {}
        self.wants_extension = any(field.casefold() == "ext" for field in name_pattern.fields)

    def run(self, items: Iterable[ExportItem]) -> BlobExportResult:
        result = self.result
        try:
            with cancellable(self.conn, self.cancel):
                for n, (row, source) in enumerate(items, start=1):
                    if self.cancel is not None:
                        self.cancel.raise_if_cancelled()
                    if n == 1:
                        self.name_pattern.check_fields(tuple(row))
                    result.rows = n
                    self._export(row, source, n)
                    self.ticker.tick(n)
        except Cancelled as exc:
            raise BlobExportCancelled(result) from exc
        self.ticker.tick(result.rows, force=True)
        return result

    def _export(self, row: Mapping[str, Any], source: Any, n: int) -> None:
        if type(source) is bytes:  # the common case first
            self._write(row, source, n, source, len(source), ())
        elif source is None:
            self.result.skipped_null += 1
        elif isinstance(source, bytes | bytearray | memoryview | str):
            data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
            self._write(row, source, n, data, len(data), ())
        elif isinstance(source, BlobRef):
            self._export_ref(row, source, n)
        else:
            self.result.skipped_not_blob += 1

    def _export_ref(self, row: Mapping[str, Any], ref: BlobRef, n: int) -> None:
        try:
            key = (ref.schema, ref.table)
            access = self.accesses.get(key) or self.accesses.setdefault(key, table_access(self.conn, *key))
            reader = open_source(self.conn, ref, access)
        except NotABlob:
            self.result.skipped_not_blob += 1
            return
        except (UserError, sqlite3.Error) as exc:
            if _is_interrupt(exc):
                raise
            self.result.failures.append(ExportFailure(ref.row_label, str(exc)))
            return
        if reader is None:
            self.result.skipped_null += 1
            return
        with reader:
            chunks = reader.chunks(None, self.cancel)
            head = next(chunks, b"")
            self._write(row, ref, n, head, reader.size, chunks)

    def _write(
        self, row: Mapping[str, Any], source: Any, n: int, head: bytes, size: int, rest: Iterable[bytes]
    ) -> None:
        result = self.result
        if size == 0 and self.skip_empty:
            result.skipped_empty += 1
            return
        extension = extension_for(sniff_mime(head[:_SNIFF_BYTES])) if self.wants_extension else ""
        raw_name = self.name_pattern.render(_name_values(row, source, n, extension))
        name = sanitize_file_name(raw_name, fallback=f"blob-{n}")
        on_chunk = None
        if size > len(head):  # several chunks: report progress inside this value

            def on_chunk(done: int) -> None:
                self.ticker.tick(n - 1, f"{name} {human_size(done)} of {human_size(size)}")

        try:
            if size == len(head):  # the whole value is in hand: one create-and-write, no temporary name
                written_as = self.writer.write_whole(name, head)
            else:
                written_as = self.writer.write(name, itertools.chain((head,), rest), on_chunk)
        except FolderReplacedError as exc:  # every later file would go elsewhere: stop here
            raise ExportError(f"{exc.message} {result.summary()}") from exc
        except ExportError as exc:
            result.failures.append(ExportFailure(_row_label(row, source, n), exc.message))
            return
        except sqlite3.Error as exc:
            if _is_interrupt(exc):
                raise
            result.failures.append(ExportFailure(_row_label(row, source, n), str(exc)))
            return
        except OSError as exc:
            if exc.errno in _FOLDER_ERRNOS:
                raise ExportError(
                    f"Cannot write to {result.folder}: {exc.strerror}. {result.summary()}"
                ) from exc
            result.failures.append(
                ExportFailure(_row_label(row, source, n), f"{name}: {exc.strerror or exc}")
            )
            return
        result.file_names.append(written_as)
        result.bytes_written += size


class BlobExportOptions(TypedDict, total=False):
    """The keywords `export_column` and `export_query_column` pass on to `export_blobs` (see there)."""

    pattern: str
    overwrite: bool
    skip_empty: bool
    progress: ProgressCallback
    cancel: CancelToken | None
    source_path: str | os.PathLike[str] | None


def export_column(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    folder: str | os.PathLike[str],
    *,
    schema: str = "main",
    **options: Unpack[BlobExportOptions],
) -> BlobExportResult:
    """Export every value of `table.column` (a table or view) to files in `folder`; see `export_blobs`."""
    access = table_access(conn, schema, table)
    column = access.column_name(column)
    name_pattern = parse_name_pattern(options.get("pattern", DEFAULT_NAME_PATTERN))
    name_pattern.check_fields(access.columns)
    # Counting fails e.g. for an FTS table whose external content table is gone.
    with _starting_scan(conn, options.get("cancel"), folder, f"Cannot read {access.table!r}"):
        total = conn.execute(f"SELECT count(*) FROM {access.source_sql}").fetchone()[0]
    items = _column_items(conn, access, column, name_pattern)
    return _export_scan(conn, items, folder, f"Reading {access.table!r} failed", total=total, **options)


@contextmanager
def _starting_scan(
    conn: sqlite3.Connection, cancel: CancelToken | None, folder: str | os.PathLike[str], failed: str
) -> Iterator[None]:
    """Run the statements that start an export: a stop is an empty cancelled result, an error a message."""
    try:
        with cancellable(conn, cancel):
            yield
    except Cancelled as exc:
        raise BlobExportCancelled(BlobExportResult(Path(folder))) from exc
    except sqlite3.Error as exc:
        raise refused_error(conn, exc) or UserError(f"{failed}: {exc}.") from exc


def _export_scan(
    conn: sqlite3.Connection,
    items: Generator[ExportItem, None, None],
    folder: str | os.PathLike[str],
    failed: str,
    **options: Any,
) -> BlobExportResult:
    """`export_blobs` (with its keyword `options`) over a running scan, finished at once however it ends."""
    try:
        return export_blobs(conn, items, folder, **options)
    except sqlite3.Error as exc:  # the scan itself failed part way (interrupts arrive as Cancelled)
        raise ExportError(f"{failed}: {exc}. Files already written are complete.") from exc
    finally:
        items.close()  # finishes the scan's statement, even when the export stopped early


def _column_items(
    conn: sqlite3.Connection, access: TableAccess, column: str, name_pattern: NamePattern
) -> Generator[ExportItem, None, None]:
    """Yield (name values, value) per row: small values inline from the scan, large ones as a BlobRef."""
    quoted = quote_identifier(column)
    keys = access.key_columns
    addressable = access.rowid_name is not None or bool(keys)
    # Raw bytes of TEXT in a UTF-8 database; a UTF-16 one's text comes as str and is encoded here.
    value_sql = f"CAST({quoted} AS BLOB)" if access.utf8 else quoted
    if not addressable:  # a view: no way back to the row, so the value is selected in the scan
        inline = f"CASE WHEN typeof({quoted}) IN ('blob', 'text') THEN {value_sql} END"
    elif access.utf8:
        inline = (
            f"CASE WHEN typeof({quoted}) IN ('blob', 'text')"
            f" AND length({quoted}) <= :inline THEN {value_sql} END"
        )
    else:  # UTF-16 text is converted whole anyway, so take it from the scan
        inline = (
            f"CASE WHEN typeof({quoted}) = 'text'"
            f" OR (typeof({quoted}) = 'blob' AND length({quoted}) <= :inline) THEN {quoted} END"
        )
    name_columns = [
        access.column_name(field)
        for field in dict.fromkeys(name_pattern.fields)
        if field not in SPECIAL_FIELDS and field.casefold() not in SPECIAL_FIELDS
    ]
    name_max = LIMITS.blob_file_name_max_bytes
    select = [
        access.rowid_name or "NULL",
        # A number, not typeof()'s text: text goes through the connection's Python text_factory.
        f"CASE typeof({quoted}) WHEN 'blob' THEN {_BLOB} WHEN 'text' THEN {_BLOB} WHEN 'null' THEN {_NULL}"
        f" ELSE {_NUMBER} END",
        inline,
        *(quote_identifier(key) for key in keys),
        *(
            f"CASE WHEN typeof({q}) IN ('text', 'blob') THEN substr({q}, 1, {name_max}) ELSE {q} END"
            for q in map(quote_identifier, name_columns)
        ),
    ]
    sql = f"SELECT {', '.join(select)} FROM {access.source_sql}"
    cursor = conn.execute(sql, {"inline": LIMITS.blob_chunk_bytes})
    try:
        key_count = len(keys)
        for rowid, storage, value, *rest in cursor:
            values: dict[str, Any] = (
                dict(zip(name_columns, rest[key_count:], strict=True)) if name_columns else {}
            )
            if keys:
                values["pk"] = "-".join(format_name_value(v) for v in rest[:key_count])
            else:
                values["pk"] = rowid
            values["rowid"] = rowid
            if storage == _NULL:
                yield values, None
            elif storage == _NUMBER:
                yield values, _NUMBER_PLACEHOLDER
            elif value is not None:
                yield values, value.encode("utf-8") if isinstance(value, str) else value
            elif access.rowid_name is not None:
                yield values, BlobRef(access.schema, access.table, column, rowid)
            else:
                key = tuple(zip(keys, rest[:key_count], strict=True))
                yield values, BlobRef(access.schema, access.table, column, None, key)
    finally:
        cursor.close()


def export_query_column(
    conn: sqlite3.Connection,
    sql: str,
    column: int | str,
    folder: str | os.PathLike[str],
    *,
    params: Sequence[Any] | Mapping[str, Any] = (),
    **options: Unpack[BlobExportOptions],
) -> BlobExportResult:
    """Export one column of a query's result (by position, or by its first column of that name) to files.

    A result row cannot be reached again, so each value comes with its row, one row at a time (the
    query streams; only the current row is held). Text values are written as UTF-8. Name fields: the
    result's columns, `{n}`, `{ext}` (`{rowid}`/`{pk}` mean `{n}` unless the result has such a column);
    the default `pattern` is `{n}{ext}`.
    """
    check_user_sql(sql)
    options.setdefault("pattern", "{n}{ext}")
    name_pattern = parse_name_pattern(options["pattern"])
    with _starting_scan(conn, options.get("cancel"), folder, "The query failed"):
        cursor = conn.execute(sql, params)
    if cursor.description is None:
        cursor.close()
        raise UserError("The statement returns no rows, so it has no blobs to export.")
    names = [entry[0] for entry in cursor.description]
    try:
        index = _result_column(names, column)
        name_pattern.check_fields(names)
    except UserError:
        cursor.close()
        raise
    try:
        return _export_scan(
            conn, _query_items(cursor, names, index), folder, "The query failed part way", **options
        )
    finally:
        cursor.close()  # also when the export stopped before reading a row


def _result_column(names: Sequence[str], column: int | str) -> int:
    if isinstance(column, int):
        if not 0 <= column < len(names):
            raise UserError(f"The result has {len(names)} columns; there is no column {column + 1}.")
        return column
    for index, name in enumerate(names):
        if name == column or name.casefold() == column.casefold():
            return index
    raise UserError(f"The result has no column {column!r}; its columns are {', '.join(map(repr, names))}.")


def _query_items(
    cursor: sqlite3.Cursor, names: Sequence[str], index: int
) -> Generator[ExportItem, None, None]:
    name_max = LIMITS.blob_file_name_max_bytes
    try:
        for row in cursor:
            values: dict[str, Any] = {}
            for name, value in zip(names, row, strict=True):
                if name not in values:  # a repeated name means its first column, as in SQL
                    values[name] = value[:name_max] if isinstance(value, str | bytes) else value
            value = row[index]
            if value is None:
                yield values, None
            elif isinstance(value, int | float):
                yield values, _NUMBER_PLACEHOLDER
            else:
                yield values, value.encode("utf-8") if isinstance(value, str) else value
    finally:
        cursor.close()


def suggested_file_name(ref: BlobRef | None, mime: str) -> str:
    """Return a safe default file name for one value, e.g. `images-tile_data-12.png`."""
    extension = extension_for(mime) if mime else ""
    if ref is None:
        return sanitize_file_name("blob" + extension)
    where = ref.rowid if ref.rowid is not None else "-".join(format_name_value(v) for _, v in ref.key)
    return sanitize_file_name(f"{ref.table}-{ref.column}-{where}{extension}")


def export_blob(
    conn: sqlite3.Connection,
    source: BlobSource,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    source_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write one value to `path` (chosen by the user), streamed via a temporary file; return the path.

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    target = Path(path).expanduser()
    source_files = SourceFiles.of(source_path) if source_path is not None else None
    if source_files is not None:
        source_files.check_path(target)
    folder_path = target.parent.resolve()
    if not folder_path.is_dir():
        raise ExportError(f"The folder {target.parent} does not exist.")
    target = folder_path / target.name
    name = target.name
    with open_folder(folder_path, source_files) as folder:
        try:
            folder.check_name(name)
            if not overwrite and folder.exists(name):
                raise ExportError(f"{target} already exists.")
            temp = temp_name()
            with cancellable(conn, cancel):
                reader = open_source(conn, source)
                if reader is None:
                    raise ExportError("The value is NULL: there is nothing to export.")
                with reader:
                    size = reader.size

                    def on_chunk(done: int) -> None:
                        progress(Progress(done, size, f"Exporting {name}"))

                    write_new_file(folder, temp, reader.chunks(None, cancel), on_chunk)
            try:
                folder.check_name(name)  # again: the file at `name` may have changed meanwhile
                if overwrite:
                    folder.replace(temp, name)
                elif not move_no_clobber(folder, temp, name):
                    raise ExportError(f"{target} already exists.")
            finally:
                folder.remove_quietly(temp)
        except NotABlob as exc:
            raise ExportError(exc.message) from exc
        except OSError as exc:
            raise ExportError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    return target
