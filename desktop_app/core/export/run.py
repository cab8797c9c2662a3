"""Run an export of any format: rows streamed in pages into a format writer, atomically, stoppable.

`export_rows` takes pages the caller already has (the CLI's cursor, Browse's row source);
`export_query` runs one read-only statement on a connection and stops SQLite itself on cancel.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypedDict, Unpack

from desktop_app.core.errors import Cancelled, ExportError, QueryError
from desktop_app.core.export.atomic import atomic_output
from desktop_app.core.export.formats import ExportFormat, Options, make_writer
from desktop_app.core.export.writer import ExportResult, FormatWriter, Page
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.sqlite.connection import decode_text
from desktop_app.core.sqlite.guard import check_user_sql, refused_error
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.statements import locate_error, split_statements
from desktop_app.core.sqlite.values import exact_text

ColumnsAndPages = tuple[Sequence[str], Iterable[Page]]
#: Python's sqlite3 message when text is not valid UTF-8 and the text factory is `str`.
_NOT_UTF8 = "Could not decode to UTF-8"


class ExportSettings(TypedDict, total=False):
    """What every export may be given besides its rows, target and format options (all keyword-only)."""

    progress: ProgressCallback
    cancel: CancelToken | None
    #: The row count when known beforehand, for determinate progress.
    total_rows: int | None
    #: The database being read: the output may be neither it nor one of its sidecars.
    source_path: str | os.PathLike[str] | None


class _TextNotUtf8(Exception):
    """The fast `str` text factory met invalid UTF-8: start again with the tolerant decoder."""


def cursor_pages(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    """The rows of `cursor`, a page at a time."""
    while page := cursor.fetchmany(LIMITS.page_rows):
        yield page


def _query_error(exc: sqlite3.Error, sql: str, rows: int, cancel: CancelToken | None) -> Exception:
    """Turn a failure of the query into Cancelled or a QueryError saying nothing was saved."""
    # "interrupted" without our token: the database service interrupted the connection on its own cancel.
    if (cancel is not None and cancel.cancelled) or str(exc) == "interrupted":
        return Cancelled()
    message = str(exc)
    if rows:
        message = f"The query failed after {rows:,} rows, so no file was saved: {message}"
    statements = split_statements(sql)
    offset = locate_error(statements[0], str(exc)) if len(statements) == 1 else None
    return QueryError(message, sql=sql, offset=offset, details=str(exc))


def run_export(
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    options: Options | None,
    source: Callable[[], ColumnsAndPages],
    sql: str = "",
    *,
    strict_text: bool = False,
    **settings: Unpack[ExportSettings],
) -> ExportResult:
    """Write the columns and pages of `source()` to `path` in `fmt`; the file appears only when complete."""
    progress = settings.get("progress", ignore_progress)
    cancel = settings.get("cancel")
    total_rows = settings.get("total_rows")
    started = time.perf_counter()
    rows = 0
    label = f"Exporting {fmt.info.label}"
    with atomic_output(path, settings.get("source_path")) as output:
        writer: FormatWriter | None = None
        try:
            columns, pages = source()
            writer = make_writer(fmt, output, columns, options)
            progress(Progress(0, total_rows, label))
            reported = time.monotonic()
            for page in pages:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if not isinstance(page, Sequence):
                    page = list(page)  # it is walked more than once
                writer.write_page(page)
                rows += len(page)
                if time.monotonic() - reported >= LIMITS.progress_interval_s:
                    progress(Progress(rows, total_rows, label))
                    reported = time.monotonic()
            if cancel is not None:
                cancel.raise_if_cancelled()
            writer.finish()
        except BaseException as exc:
            if writer is not None:
                writer.abort()
            if isinstance(exc, sqlite3.Error):
                if strict_text and _NOT_UTF8 in str(exc):
                    raise _TextNotUtf8() from exc
                raise _query_error(exc, sql, rows, cancel) from exc
            raise
        size = output.commit()
    progress(Progress(rows, total_rows if total_rows is not None else rows, label))
    return ExportResult(rows, size, output.target, time.perf_counter() - started, tuple(writer.notes))


def export_rows(
    pages: Iterable[Page] | sqlite3.Cursor,
    columns: Sequence[str],
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    options: Options | None = None,
    **settings: Unpack[ExportSettings],
) -> ExportResult:
    """Write `columns` and every row of `pages` (or of a cursor, fetched in pages) to `path` in `fmt`.

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    source = cursor_pages(pages) if isinstance(pages, sqlite3.Cursor) else pages
    return run_export(path, fmt, options, lambda: (columns, source), **settings)


def export_query(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    path: str | os.PathLike[str] = "",
    fmt: ExportFormat = ExportFormat.CSV,
    options: Options | None = None,
    **settings: Unpack[ExportSettings],
) -> ExportResult:
    """Run one read-only statement on `conn` and write all its rows to `path` in `fmt`.

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    statements = split_statements(sql)
    if not statements:
        raise QueryError("There is no SQL to export: the text is empty or only comments.", sql=sql)
    if len(statements) > 1:
        raise QueryError(
            f"Export runs one statement, and this text has {len(statements)}. Select the one to export.",
            sql=sql,
            offset=statements[1].start,
        )
    if not path:
        raise ExportError("No file was chosen to export to.")
    check_user_sql(statements[0])
    token = settings["cancel"] = settings.get("cancel") or CancelToken()
    cursor = conn.cursor()
    original_text_factory = conn.text_factory

    def run() -> ColumnsAndPages:
        try:
            cursor.execute(statements[0].text, params)  # `select 1;;` would be refused as two statements
        except sqlite3.Error as exc:
            refused = refused_error(conn, exc, sql)
            if refused is not None:
                raise refused from None
            raise
        if cursor.description is None:
            raise QueryError("This statement returns no rows to export.", sql=sql)
        return [column[0] for column in cursor.description], cursor_pages(cursor)

    def export(*, strict_text: bool = False) -> ExportResult:
        return run_export(path, fmt, options, run, sql, strict_text=strict_text, **settings)

    try:
        with stoppable(conn, token):  # stops SQLite mid-statement, e.g. a long sort
            if original_text_factory is decode_text:
                # `str` decodes in C, a third faster on text-heavy results, and gives the same text for valid
                # UTF-8; on invalid UTF-8 it raises, and the export starts over with the tolerant decoder
                # (which keeps the raw bytes for formats that can write them exactly).
                conn.text_factory = str
                try:
                    return export(strict_text=True)
                except _TextNotUtf8:
                    conn.text_factory = exact_text
            return export()
    finally:
        conn.text_factory = original_text_factory
        cursor.close()
