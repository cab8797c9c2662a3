"""How one cell value looks in a grid and on the clipboard: NULL, numbers, long text, blobs, bad text.

Numbers show at their shortest exact form (View menu: full precision, thousands separators); text that
is not valid UTF-8 shows its bad bytes as `\\xNN`; integers (booleans, enums) show as stored.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QFont

from desktop_app.core.browse.paging import Truncated
from desktop_app.core.schema.visible_names import BIDI_REORDERING
from desktop_app.core.sqlite.values import RawText
from desktop_app.core.values.geometry import Geometry, decode_geometry, geometry_summary, short_text
from desktop_app.core.values.numbers import format_number
from desktop_app.core.values.text import plain_text
from desktop_app.ui import theme
from desktop_app.ui.settings import read_bool

try:
    from desktop_app.core.blobs.values import describe_blob
except ImportError:  # pragma: no cover - the blobs module is optional for the grid
    describe_blob = None  # type: ignore[assignment]

#: Shown in a row that is still being fetched.
PLACEHOLDER = "…"
#: Shown in a row that could not be read (a damaged page); the cell's tooltip says why.
UNREADABLE = "⚠ unreadable"
#: Shown for SQL NULL (styled grey italic so it never looks like the text "NULL").
NULL_TEXT = "NULL"
#: Characters of text shown in a cell before it is cut with "…" (the cell viewer shows all of it).
DISPLAY_MAX_CHARS = 200
_ALIGN_NUMBER = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ALIGN_TEXT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
#: One line per cell; bidi overrides, embeddings and isolates spelled out (a value must not be able to
#: show itself reversed, as "\u202etxt.exe" would), NUL shown.
_ON_ONE_LINE = str.maketrans(
    {"\n": "⏎", "\r": "", "\t": " ", "\x00": "␀"} | {char: f"⟨U+{ord(char):04X}⟩" for char in BIDI_REORDERING}
)


@dataclass
class NumberDisplay:
    """How grids write numbers (View menu; one choice for every grid of the program)."""

    full_precision: bool = False  #: REALs with 17 significant digits instead of the shortest exact form
    thousands: bool = False  #: digits grouped with commas


#: The choice every grid follows (read on each paint: plain attribute lookups).
NUMBERS = NumberDisplay()
_FULL_PRECISION_KEY = "view/full_precision"
_THOUSANDS_KEY = "view/thousands"


def load_number_display(settings: QSettings) -> None:
    """Set `NUMBERS` from the saved View options."""
    NUMBERS.full_precision = read_bool(settings, _FULL_PRECISION_KEY)
    NUMBERS.thousands = read_bool(settings, _THOUSANDS_KEY)


def save_number_display(settings: QSettings) -> None:
    """Remember `NUMBERS` as the View options."""
    settings.setValue(_FULL_PRECISION_KEY, NUMBERS.full_precision)
    settings.setValue(_THOUSANDS_KEY, NUMBERS.thousands)


def number_text(value: int | float) -> str:
    """A number as grids write it under the current `NUMBERS` choice."""
    if not (NUMBERS.full_precision or NUMBERS.thousands):
        return repr(value)  # for a float: the shortest form that round-trips
    return format_number(value, full_precision=NUMBERS.full_precision, thousands=NUMBERS.thousands)


def is_number(value: Any) -> bool:
    """True for integers and reals (not bools, which SQLite never returns)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_blob(value: Any) -> bool:
    """True for a blob, whole or held in part."""
    if isinstance(value, Truncated):
        return value.is_blob
    return isinstance(value, bytes | bytearray | memoryview)


def blob_label(value: bytes | Truncated) -> str:
    """`<BLOB 12.3 KB image/png>` for a blob (sniffed from its first bytes)."""
    head, size = (value.head, value.size) if isinstance(value, Truncated) else (bytes(value), len(value))
    if describe_blob is not None:
        return describe_blob(head, total_size=size).label
    return f"<BLOB {size:,} bytes>" if size else "<BLOB empty>"


@functools.lru_cache(maxsize=1024)
def _decoded_geometry(value: bytes) -> Geometry | None:
    return decode_geometry(value)


def cell_geometry(value: Any) -> Geometry | None:
    """The geometry a whole blob cell holds (GeoPackage, SpatiaLite, WKB), or None.

    Cached per value: the grid asks on every paint, and a cell's bytes object stays the same meanwhile.
    """
    if type(value) is not bytes or not (value[:2] == b"GP" or value[:1] in (b"\x00", b"\x01")):
        return None
    return _decoded_geometry(value)


def display_text(value: Any) -> str:
    """The one-line text a grid cell shows for `value`."""
    # Called for every visible cell on each paint: the common exact types are tested first.
    kind = type(value)
    if kind is str:
        text = value
    elif kind is float or kind is int:
        return number_text(value)
    elif value is None:
        return NULL_TEXT
    elif is_blob(value):
        geometry = cell_geometry(value)
        return short_text(geometry) if geometry is not None else blob_label(value)
    else:
        head = value.head if isinstance(value, Truncated) else value
        text = plain_text(head) if isinstance(head, str) else str(head)
    cut = len(text) > DISPLAY_MAX_CHARS or kind is Truncated
    return text[:DISPLAY_MAX_CHARS].translate(_ON_ONE_LINE) + ("…" if cut else "")


def alignment(value: Any) -> int:
    """Numbers right-aligned, everything else left."""
    return _ALIGN_NUMBER if is_number(value) else _ALIGN_TEXT


@functools.cache
def dim_color() -> QColor:
    """The grey used for NULL and for rows still loading (cached: the grid asks for it per cell)."""
    return theme.disabled_text_colour()


@functools.cache
def error_color() -> QColor:
    """The red of rows that could not be read (cached: the grid asks for it per cell)."""
    return theme.error_colour()


@functools.cache
def blob_color() -> QColor:
    """A colour that sets blob labels apart from text."""
    return theme.blob_colour()


@functools.cache
def italic_font() -> QFont:
    """The font for NULL."""
    font = QFont()
    font.setItalic(True)
    return font


def tooltip_text(value: Any) -> str | None:
    """A tooltip for values that do not fit in a cell (long or multi-line text)."""
    if isinstance(value, Truncated) and isinstance(value.head, str):
        head = plain_text(value.head)[: DISPLAY_MAX_CHARS * 4]
        return f"{head}…\n({value.size:,} characters: open the cell to see all)"
    if isinstance(value, RawText):
        return plain_text(value)[: DISPLAY_MAX_CHARS * 4] + "\n(not valid UTF-8: bad bytes shown as \\xNN)"
    geometry = cell_geometry(value)
    if geometry is not None:
        return f"{geometry_summary(geometry)}\n{geometry.wkt[: DISPLAY_MAX_CHARS * 4]}"
    if isinstance(value, str) and (len(value) > DISPLAY_MAX_CHARS // 4 or "\n" in value):
        return value[: DISPLAY_MAX_CHARS * 4]
    return None


def clipboard_text(value: Any) -> str:
    """How a value is copied: NULL as empty, numbers as written, blobs as their label."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if is_blob(value):
        return blob_label(value)
    if isinstance(value, Truncated):
        return str(value.head)
    return str(value)


def format_rows(rows: Iterable[Sequence[Any]], headers: Sequence[str] | None, delimiter: str) -> str:
    """Rows as TSV or CSV (by `delimiter`), quoting cells holding the delimiter, quotes or newlines."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if headers is not None:
        writer.writerow(headers)
    for row in rows:
        writer.writerow([clipboard_text(v) for v in row])
    return out.getvalue()
