"""Excel `.xlsx` export through xlsxwriter in constant-memory mode (rows go to disk as they are written).

Excel keeps numbers as doubles, so integers beyond ±2⁵³ (which a double cannot hold exactly) are
written as text, exact; floats are written with `repr` so they read back bit for bit (xlsxwriter's
own `%.16G` drops the 17th digit); infinities are the text `Infinity`/`-Infinity`; NULL is an empty
cell; blobs are base64 text (hex on request); text longer than Excel's 32,767 characters is cut (and
the result says so). Text is never read as a formula, URL or number. Past Excel's 1,048,576 rows a
sheet, the rows continue on a new sheet (`Sheet2`, …) with the header again, and the result says so.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import BlobEncoding, FormatWriter, Page, SettingsMixin, float_text
from desktop_app.core.limits import LIMITS

#: Largest integer a double holds exactly: beyond it Excel would round.
_EXACT_INT = 2**53
#: Longest text in one Excel cell.
_CELL_CHARS = 32_767
_PLAIN = frozenset({int, float, str, type(None)})


class _ExactNumbers(Worksheet):
    """A worksheet writing numbers with `repr` (exact) instead of `%.16G` (loses the 17th digit)."""

    def _xml_number_element(self, number: Any, attributes: Any = ()) -> None:
        attr = "".join(f' {key}="{self._escape_attributes(value)}"' for key, value in attributes)
        self.fh.write(f"<c{attr}><v>{number!r}</v></c>")


@dataclass(frozen=True)
class XlsxOptions(SettingsMixin):
    """What the Excel file holds besides the values."""

    header: bool = True
    blobs: BlobEncoding = BlobEncoding.BASE64


class XlsxWriter(FormatWriter):
    """An Excel workbook written row by row; a new sheet each time one is full."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: XlsxOptions) -> None:
        super().__init__(output, columns)
        self._options = options
        self._encode_blob = options.blobs.encoder()
        self._book = Workbook(
            output.binary,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": None,
            },
        )
        self._sheet_rows = LIMITS.xlsx_sheet_rows
        self._sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._sheets += 1
        self._sheet = self._book.add_worksheet(f"Sheet{self._sheets}", worksheet_class=_ExactNumbers)
        self._row = 0
        if self._options.header:
            self._sheet.write_row(0, 0, [self._text(c) for c in self.columns])
            self._row = 1

    def _text(self, text: str) -> str:
        if len(text) > _CELL_CHARS:
            self.note(f"Excel cells hold at most {_CELL_CHARS:,} characters: longer text was cut.")
            return text[:_CELL_CHARS]
        return text

    def _cell(self, value: Any) -> Any:
        kind = type(value)
        if kind is int or kind is bool:
            return value if -_EXACT_INT <= value <= _EXACT_INT else str(value)
        if kind is float:
            return float_text(value) if math.isinf(value) else value
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return self._text(self._encode_blob(bytes(value)))
        return self._text(str(value))

    def write_page(self, page: Page) -> None:
        """Write the rows of `page`, starting a new sheet when this one is full."""
        sheet_rows = self._sheet_rows
        for row in page:
            if self._row >= sheet_rows:
                self._new_sheet()
            cells = list(map(self._cell, row))
            self._sheet.write_row(self._row, 0, cells)
            self._row += 1

    def abort(self) -> None:
        """Close and remove the temporary file each sheet keeps its rows in (constant-memory mode)."""
        for sheet in self._book.worksheets():
            handle = getattr(sheet, "row_data_fh", None)
            if handle is not None and not handle.closed:
                handle.close()
            name = getattr(sheet, "row_data_filename", None)
            if name:
                with contextlib.suppress(OSError):
                    os.remove(name)

    def finish(self) -> None:
        """Write the workbook's zip directory."""
        if self._sheets > 1:
            rows = f"{self._sheet_rows:,} rows"
            self.notes.insert(
                0, f"Excel holds {rows} a sheet: the rows continue on Sheet2 to Sheet{self._sheets}."
            )
        self._book.close()
