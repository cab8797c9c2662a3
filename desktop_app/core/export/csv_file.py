"""Export a result to CSV: every row, streamed in pages, and the file appears only when complete.

Rows are written to a hidden temporary file beside the target (`.NAME.<random>.part`, same folder so
the final rename is atomic) and renamed over the target only when the last row is written. On cancel
or any error (the query fails mid-stream, the disk fills up) the temporary file is removed and a file
already at the target is left as it was. A partial CSV cannot be told from a complete one by looking
at it, so we never leave one behind, not even under another name. The target may not be the
database being read or one of its sidecars (see `output_paths`): checked before the first row and
again right before the rename, both through the folder opened once.
"""

from __future__ import annotations

import base64
import csv
import enum
import errno
import io
import itertools
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TextIO

from desktop_app.core.errors import Cancelled, ExportError, QueryError
from desktop_app.core.export.output_paths import OutputFolder, SourceFiles
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.sqlite.connection import decode_text
from desktop_app.core.sqlite.guard import check_user_sql, refused_error
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.quoting import qualified
from desktop_app.core.sqlite.statements import locate_error, split_statements

Row = Sequence[Any]
Page = Sequence[Row]


class Quoting(enum.Enum):
    """Which cells are put in quotes."""

    #: Only cells that contain the delimiter, the quote character, CR or LF.
    MINIMAL = "minimal"
    ALL = "all"
    #: Every cell except INTEGER and REAL values.
    NON_NUMERIC = "non-numeric"


class LineEnding(enum.Enum):
    """What ends a row."""

    LF = "\n"
    CRLF = "\r\n"


class BlobEncoding(enum.Enum):
    """How BLOB values are written."""

    BASE64 = "base64"
    #: Upper-case hex digits, as SQLite's `hex()` gives them.
    HEX = "hex"
    #: An empty cell.
    SKIP = "skip"


_CSV_QUOTING = {
    Quoting.MINIMAL: csv.QUOTE_MINIMAL,
    Quoting.ALL: csv.QUOTE_ALL,
    Quoting.NON_NUMERIC: csv.QUOTE_NONNUMERIC,
}
#: Text a spreadsheet would read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A delimiter or quote character must not appear inside an unquoted number (`-1.5e+16`, `inf`).
_FORBIDDEN_SEPARATORS = frozenset("\r\n\0.+-")


@dataclass(frozen=True)
class CsvOptions:
    """How to write the CSV file; the defaults suit most programs (RFC 4180 with CRLF rows).

    `formula_guard`: spreadsheets (Excel, LibreOffice, Google Sheets) run a cell that starts with `=`,
    `+`, `-` or `@` (also tab or CR) as a formula, so a hostile value stored in a database can fetch
    URLs or run commands when the CSV is opened there. With the guard on, such text cells (and the
    header) get a leading `'`, which spreadsheets show as plain text. It is off by default because it
    changes the data for every other reader (`-5` stored as text becomes `'-5`); numbers and the
    NULL representation are never changed.
    """

    header: bool = True
    #: One character: `,` `;` tab `|` or another that is not a letter, digit, `.`, `+` or `-`.
    delimiter: str = ","
    quote_char: str = '"'
    quoting: Quoting = Quoting.MINIMAL
    line_ending: LineEnding = LineEnding.CRLF
    #: Start the file with a UTF-8 byte-order mark, which Excel needs to read UTF-8 text correctly.
    bom: bool = False
    #: What a NULL becomes (an empty cell by default, like an empty string).
    null: str = ""
    blobs: BlobEncoding = BlobEncoding.BASE64
    formula_guard: bool = False

    def __post_init__(self) -> None:
        for label, char in (("delimiter", self.delimiter), ("quote character", self.quote_char)):
            if len(char) != 1:
                raise ExportError(f"The CSV {label} must be exactly one character, not {char!r}.")
            if char.isalnum() or char in _FORBIDDEN_SEPARATORS:
                raise ExportError(f"{char!r} cannot be the CSV {label}: it can appear inside values.")
        if self.delimiter == self.quote_char:
            raise ExportError("The CSV delimiter and quote character must differ.")

    def to_settings(self) -> dict[str, str | bool]:
        """The options as plain strings and booleans, for the UI to remember."""
        return {
            key: value.name if isinstance(value, enum.Enum) else value for key, value in asdict(self).items()
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> CsvOptions:
        """Options from `to_settings` output; missing, unknown or invalid values get their defaults."""
        defaults = cls()
        values: dict[str, Any] = {}
        for field in fields(cls):
            default = getattr(defaults, field.name)
            raw = settings.get(field.name, default)
            if isinstance(default, enum.Enum):
                kind = type(default)
                by_value = {member.value: member for member in kind}
                values[field.name] = kind.__members__.get(str(raw)) or by_value.get(raw, default)
            elif isinstance(default, bool):
                values[field.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
            else:
                values[field.name] = raw if isinstance(raw, str) else default
        try:
            return cls(**values)
        except ExportError:
            separators = {"delimiter": defaults.delimiter, "quote_char": defaults.quote_char}
            return cls(**{**values, **separators})


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: rows (header excluded), bytes of the file, where, and seconds taken."""

    rows: int
    bytes: int
    path: Path
    elapsed: float


def _encode_blob(encoding: BlobEncoding) -> Callable[[bytes], str]:
    if encoding is BlobEncoding.BASE64:
        return lambda value: base64.b64encode(value).decode("ascii")
    if encoding is BlobEncoding.HEX:
        return lambda value: value.hex().upper()
    return lambda _value: ""


class _PageFormatter:
    """Turns pages of rows into CSV text; pages of plain values take the csv module's C path untouched."""

    _BLOB_TYPES = frozenset({bytes, bytearray})

    def __init__(self, options: CsvOptions) -> None:
        self._options = options
        dialect = {
            "delimiter": options.delimiter,
            "quotechar": options.quote_char,
            "quoting": _CSV_QUOTING[options.quoting],
        }
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=options.line_ending.value, **dialect)
        # Python 3.11's writer with an LF terminator leaves a cell holding a bare CR unquoted, which
        # readers then take for a row end; a CRLF writer quotes it, so rows with CR go through it.
        self._lf_fallback = (
            csv.writer(self._buffer, lineterminator="\r\n", **dialect)
            if options.line_ending is LineEnding.LF
            else None
        )
        special = set(self._BLOB_TYPES)
        if options.null:
            special.add(type(None))
        if options.formula_guard:
            special.add(str)
        self._special_types = frozenset(special)
        # With only blobs to look for, a page is written first and checked after (see `format`).
        # (Not under `python -bb`, where writing a blob's repr raises.)
        self._blobs_only = self._special_types == self._BLOB_TYPES and not sys.flags.bytes_warning
        self._encode_blob = _encode_blob(options.blobs)

    def _guard(self, text: str) -> str:
        if self._options.formula_guard and text.startswith(FORMULA_STARTS):
            return "'" + text
        return text

    def _convert(self, value: Any) -> Any:
        if value is None:
            return self._options.null
        if isinstance(value, str):
            return self._guard(value)
        if isinstance(value, bytes | bytearray):
            return self._guard(self._encode_blob(bytes(value)))
        return value

    def _has_special(self, page: Page) -> bool:
        return not self._special_types.isdisjoint(map(type, itertools.chain.from_iterable(page)))

    def _render(self, rows: Iterable[Row], writer: Any) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        writer.writerows(rows)
        return self._buffer.getvalue()

    def format(self, page: Page) -> str:
        """CSV text for `page` (blobs are `bytes`), every row ended by the chosen line ending."""
        rows: Page = page
        if self._blobs_only:
            text = self._render(page, self._writer)
            # The csv module writes a blob as its repr, b'...' or b"...": a page without that text had no
            # blob, and the per-cell type scan (the slowest step) is skipped. `'` is found fastest.
            if "'" in text and ("b'" in text or 'b"' in text) and self._has_special(page):
                rows = [tuple(map(self._convert, row)) for row in page]
                text = self._render(rows, self._writer)
        else:
            if self._has_special(page):
                rows = [tuple(map(self._convert, row)) for row in page]
            text = self._render(rows, self._writer)
        if self._lf_fallback is not None and "\r" in text:
            text = "".join(self._render([row], self._lf_fallback)[:-2] + "\n" for row in rows)
        return text

    def header(self, columns: Sequence[str]) -> str:
        """CSV text for the header row (column names kept as they are, duplicates included)."""
        return self.format([tuple(map(str, columns))])


def _os_error(exc: OSError, target: Path) -> ExportError:
    folder = target.parent
    messages = {
        errno.ENOSPC: f"The disk is full: {target.name} was not saved.",
        getattr(errno, "EDQUOT", errno.ENOSPC): f"The disk quota is used up: {target.name} was not saved.",
        errno.EACCES: f"No permission to write {target.name} in {folder} (is it open in another program?).",
        errno.EPERM: f"No permission to write {target.name} in {folder}.",
        errno.EROFS: f"{folder} is on a read-only disk.",
        errno.ENOENT: f"The folder {folder} does not exist.",
        errno.ENOTDIR: f"{folder} is not a folder.",
        errno.EISDIR: f"{target} is a folder, not a file.",
        errno.ENAMETOOLONG: f"The file name {target.name} is too long.",
    }
    reason = exc.strerror or str(exc)
    message = messages.get(exc.errno or 0, f"Could not write {target}: {reason}.")
    return ExportError(message, details=str(exc))


class _AtomicOutput:
    """A temporary text file in the target's folder, renamed into place by `commit`."""

    def __init__(self, target: Path, folder: OutputFolder, file: TextIO, temp: str) -> None:
        self.target = target
        self.folder = folder
        self.file = file
        self.temp = temp
        self.committed = False

    def commit(self) -> int:
        """Finish the file, move it to the target and return its size in bytes."""
        self.file.flush()
        size = os.fstat(self.file.fileno()).st_size
        self.file.close()
        # Checked again right before the rename: what is at the name may have changed since the start.
        self.folder.check_name(self.target.name)
        self.folder.replace(self.temp, self.target.name)
        self.committed = True
        return size


@contextmanager
def _atomic_output(
    path: str | os.PathLike[str], options: CsvOptions, source_path: str | os.PathLike[str] | None
) -> Iterator[_AtomicOutput]:
    """Open the temporary file; remove it on leaving unless committed. OSError becomes ExportError."""
    target = Path(path).absolute()
    if target.is_dir():
        raise ExportError(f"{target} is a folder, not a file.")
    source_files = SourceFiles.of(source_path) if source_path is not None else None
    if source_files is not None:
        source_files.check_path(path)
    # Hidden, clearly unfinished, unique; the name is cut so a long target name still fits (255 bytes).
    short_name = target.name.encode()[:64].decode(errors="ignore")
    temp = f".{short_name}.{uuid.uuid4().hex[:12]}.part"
    try:
        # The folder is opened once and every step below goes through it (see OutputFolder).
        folder = OutputFolder(os.path.realpath(target.parent), source_files)
    except OSError as exc:
        raise _os_error(exc, target) from exc
    try:
        folder.check_name(target.name)
        # Mode 0o666 lets the umask decide permissions, as for any new file the user saves; O_BINARY
        # stops Windows from turning "\n" into "\r\n" under the text layer.
        fd = folder.create(temp, 0o666)
    except OSError as exc:
        folder.close()
        raise _os_error(exc, target) from exc
    except BaseException:
        folder.close()
        raise
    encoding = "utf-8-sig" if options.bom else "utf-8"
    # errors="replace": a lone surrogate from a user function must not stop a long export.
    file = open(fd, "w", encoding=encoding, errors="replace", newline="", buffering=1 << 20)  # noqa: SIM115
    output = _AtomicOutput(target, folder, file, temp)
    try:
        yield output
    except OSError as exc:
        raise _os_error(exc, target) from exc
    finally:
        if not output.committed:
            try:
                file.close()
            except OSError:
                pass  # e.g. ENOSPC again while flushing: the file is removed anyway
            folder.remove_quietly(temp)
        folder.close()


def _cursor_pages(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
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


ColumnsAndPages = tuple[Sequence[str], Iterable[Page]]
#: Python's sqlite3 message when text is not valid UTF-8 and the text factory is `str`.
_NOT_UTF8 = "Could not decode to UTF-8"


class _TextNotUtf8(Exception):
    """The fast `str` text factory met invalid UTF-8: start again with the tolerant decoder."""


def _export(
    path: str | os.PathLike[str],
    options: CsvOptions,
    source: Callable[[], ColumnsAndPages],
    progress: ProgressCallback,
    cancel: CancelToken | None,
    total_rows: int | None,
    sql: str = "",
    *,
    strict_text: bool = False,
    source_path: str | os.PathLike[str] | None = None,
) -> ExportResult:
    started = time.perf_counter()
    formatter = _PageFormatter(options)
    rows = 0
    label = "Exporting CSV"
    with _atomic_output(path, options, source_path) as output:
        try:
            columns, pages = source()
            if options.header:
                output.file.write(formatter.header(columns))
            progress(Progress(0, total_rows, label))
            reported = time.monotonic()
            for page in pages:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if not isinstance(page, Sequence):
                    page = list(page)  # it is walked more than once
                output.file.write(formatter.format(page))
                rows += len(page)
                if time.monotonic() - reported >= LIMITS.progress_interval_s:
                    progress(Progress(rows, total_rows, label))
                    reported = time.monotonic()
            if cancel is not None:
                cancel.raise_if_cancelled()
        except sqlite3.Error as exc:
            if strict_text and _NOT_UTF8 in str(exc):
                raise _TextNotUtf8() from exc
            raise _query_error(exc, sql, rows, cancel) from exc
        size = output.commit()
    progress(Progress(rows, total_rows if total_rows is not None else rows, label))
    return ExportResult(rows, size, output.target, time.perf_counter() - started)


def export_csv(
    pages: Iterable[Page] | sqlite3.Cursor,
    columns: Sequence[str],
    path: str | os.PathLike[str],
    options: CsvOptions | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    total_rows: int | None = None,
    *,
    source_path: str | os.PathLike[str] | None = None,
) -> ExportResult:
    """Write `columns` and every row of `pages` (or of a cursor, fetched in pages) to a CSV file at `path`.

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    source = _cursor_pages(pages) if isinstance(pages, sqlite3.Cursor) else pages
    return _export(
        path,
        options or CsvOptions(),
        lambda: (columns, source),
        progress,
        cancel,
        total_rows,
        source_path=source_path,
    )


def export_query_csv(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    path: str | os.PathLike[str] = "",
    options: CsvOptions | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    total_rows: int | None = None,
    *,
    source_path: str | os.PathLike[str] | None = None,
) -> ExportResult:
    """Run one read-only statement on `conn` and write all its rows to a CSV file at `path`.

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
    token = cancel if cancel is not None else CancelToken()
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
        return [column[0] for column in cursor.description], _cursor_pages(cursor)

    def export(*, strict_text: bool = False) -> ExportResult:
        return _export(
            path,
            options or CsvOptions(),
            run,
            progress,
            token,
            total_rows,
            sql,
            strict_text=strict_text,
            source_path=source_path,
        )

    try:
        with stoppable(conn, token):  # stops SQLite mid-statement, e.g. a long sort
            if original_text_factory is decode_text:
                # `str` decodes in C, a third faster on text-heavy results, and gives the same text for valid
                # UTF-8; on invalid UTF-8 it raises, and the export starts over with the tolerant decoder.
                conn.text_factory = str
                try:
                    return export(strict_text=True)
                except _TextNotUtf8:
                    conn.text_factory = original_text_factory
            return export()
    finally:
        conn.text_factory = original_text_factory
        cursor.close()


def table_export_sql(name: str, schema: str = "main") -> str:
    """The statement that exports every row of table or view `name` (for File → Export and the tree)."""
    return f"SELECT * FROM {qualified(schema, name)}"
