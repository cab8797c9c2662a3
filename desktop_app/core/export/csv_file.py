"""CSV and TSV export: the csv module's C writer fed a page at a time (see `run` for the file's life).

Blobs are base64 by default (hex or an empty cell on request); NULL is an empty cell unless the
options name another text; text that is not valid UTF-8 is written with U+FFFD where bytes were bad.
"""

from __future__ import annotations

import csv
import enum
import io
import os
import sqlite3
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Unpack

from desktop_app.core.errors import ExportError
from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import (
    BlobEncoding,
    ExportResult,
    FormatWriter,
    Page,
    Row,
    SettingsMixin,
    has_type,
)
from desktop_app.core.sqlite.quoting import qualified

if TYPE_CHECKING:
    from desktop_app.core.export.run import ExportSettings

__all__ = [
    "BlobEncoding",
    "CsvOptions",
    "ExportResult",
    "LineEnding",
    "Quoting",
    "export_csv",
    "export_query_csv",
]


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
class CsvOptions(SettingsMixin):
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

    @classmethod
    def _valid(cls, values: dict[str, Any]) -> CsvOptions:
        try:
            return cls(**values)
        except ExportError:
            defaults = cls()
            return cls(**{**values, "delimiter": defaults.delimiter, "quote_char": defaults.quote_char})


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
        self._encode_blob = options.blobs.encoder()

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
        return has_type(page, self._special_types)

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


class CsvWriter(FormatWriter):
    """CSV (and TSV: the same with a tab) through the csv module, a page at a time."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: CsvOptions) -> None:
        super().__init__(output, columns)
        self._formatter = _PageFormatter(options)
        self._file = output.text(bom=options.bom)
        if options.header:
            self._file.write(self._formatter.header(self.columns))

    def write_page(self, page: Page) -> None:
        """Write the rows of `page` as CSV lines."""
        self._file.write(self._formatter.format(page))


def export_csv(
    pages: Iterable[Page] | sqlite3.Cursor,
    columns: Sequence[str],
    path: str | os.PathLike[str],
    options: CsvOptions | None = None,
    **settings: Unpack[ExportSettings],
) -> ExportResult:
    """Write `columns` and every row of `pages` (or of a cursor) to a CSV file at `path` (see `export_rows`).

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    from desktop_app.core.export.formats import ExportFormat
    from desktop_app.core.export.run import export_rows

    return export_rows(pages, columns, path, ExportFormat.CSV, options, **settings)


def export_query_csv(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    path: str | os.PathLike[str] = "",
    options: CsvOptions | None = None,
    **settings: Unpack[ExportSettings],
) -> ExportResult:
    """Run one read-only statement on `conn` and write all its rows to a CSV file (see `export_query`).

    `path` may not be the database at `source_path` (the one being read) or one of its sidecars.
    """
    from desktop_app.core.export.formats import ExportFormat
    from desktop_app.core.export.run import export_query

    return export_query(conn, sql, params, path, ExportFormat.CSV, options, **settings)


def table_export_sql(name: str, schema: str = "main") -> str:
    """The statement that exports every row of table or view `name` (for File → Export and the tree)."""
    return f"SELECT * FROM {qualified(schema, name)}"


@dataclass(frozen=True)
class TsvOptions(CsvOptions):
    """CSV options with a tab between values and LF rows, as tab-separated files have."""

    delimiter: str = "\t"
    line_ending: LineEnding = LineEnding.LF
