"""A hex dump of a value of any size: rows of offset, hex and ASCII, fetched in windows as they are shown.

The model never holds the value: `rowCount` is size/16, and the rows on screen are read as windows of
`LIMITS.hex_window_bytes` through a loader the owner supplies (a job reading `read_blob_range`), kept
in a small LRU cache. A row whose window has not arrived yet shows "…" until it does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.blobs.text_and_hex import format_hex_dump, hex_rows
from desktop_app.core.blobs.values import human_size
from desktop_app.core.limits import LIMITS
from desktop_app.ui.latest import LatestRequest

#: Bytes per row.
ROW_BYTES = 16
#: What a row shows while its window is being read.
LOADING = "…"
#: Most rows a copy puts on the clipboard (the rest would first have to be read).
COPY_MAX_ROWS = LIMITS.hex_window_bytes // ROW_BYTES

#: `loader(offset, length, on_bytes, on_error)` starts reading and calls back on the UI thread.
WindowLoader = Callable[[int, int, Callable[[bytes], None], Callable[[str], None]], None]

_HEADERS = ("Offset", "Hex", "ASCII")
_OFFSET, _HEX, _ASCII = range(3)
_TITLE_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)


class HexModel(QAbstractTableModel):
    """Rows of a hex dump over a value of `size` bytes, read window by window on demand."""

    #: A window could not be read (message for the user).
    failed = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.size = 0
        self._loader: WindowLoader | None = None
        self._windows: OrderedDict[int, bytes] = OrderedDict()
        self._pending: set[int] = set()
        self._values = LatestRequest()
        self._value = self._values.begin()
        self._window_rows = LIMITS.hex_window_bytes // ROW_BYTES
        self._digits = 8

    # --- the value ----------------------------------------------------------------------------

    def set_blob(self, size: int, loader: WindowLoader | None) -> None:
        """Show a value of `size` bytes read through `loader` (None and 0: show nothing)."""
        self.beginResetModel()
        self._value = self._values.begin()  # windows still in flight belong to the previous value
        self.size = max(0, size) if loader is not None else 0
        self._loader = loader
        self._windows.clear()
        self._pending.clear()
        self._digits = max(8, len(f"{max(self.size - 1, 0):x}"))
        self.endResetModel()

    def clear(self) -> None:
        """Show nothing."""
        self.set_blob(0, None)

    @property
    def offset_digits(self) -> int:
        """Hex digits in the offset column (8, more for values past 4 GiB)."""
        return self._digits

    @property
    def cached_windows(self) -> list[int]:
        """Indexes of the windows held, least recently used first."""
        return list(self._windows)

    def is_loaded(self, row: int) -> bool:
        """True when the bytes of `row` are in the cache."""
        return row // self._window_rows in self._windows

    def row_bytes(self, row: int) -> bytes | None:
        """The bytes of `row`, or None while its window is not loaded (asks for it then)."""
        window = self._window(row // self._window_rows)
        if window is None:
            return None
        start = (row % self._window_rows) * ROW_BYTES
        return window[start : start + ROW_BYTES]

    def _window(self, index: int) -> bytes | None:
        data = self._windows.get(index)
        if data is not None:
            self._windows.move_to_end(index)
            return data
        self._request(index)
        return None

    def _request(self, index: int) -> None:
        if self._loader is None or index in self._pending:
            return
        self._pending.add(index)
        offset = index * self._window_rows * ROW_BYTES
        length = min(LIMITS.hex_window_bytes, self.size - offset)

        def arrived(data: bytes) -> None:
            self._store(index, bytes(data))

        def failed(message: str) -> None:
            self._pending.discard(index)
            self.failed.emit(message)

        self._loader(offset, length, self._value.only(arrived), self._value.only(failed))

    def _store(self, index: int, data: bytes) -> None:
        self._pending.discard(index)
        self._windows[index] = data
        self._windows.move_to_end(index)
        while len(self._windows) > LIMITS.hex_cached_windows:
            self._windows.popitem(last=False)
        first = index * self._window_rows
        last = min(first + self._window_rows, self.rowCount()) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, _HEX), self.index(last, _ASCII))

    # --- Qt model -----------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        """One row per 16 bytes."""
        return 0 if parent.isValid() else -(-self.size // ROW_BYTES)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Offset, hex, ASCII."""
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles (their tooltip too)."""
        if role in _TITLE_ROLES and orientation == Qt.Orientation.Horizontal:
            return _HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """The row's offset, hex bytes or printable ASCII."""
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == _OFFSET:
                return f"{row * ROW_BYTES:0{self._digits}x}"
            data = self.row_bytes(row)
            if data is None:
                return LOADING if column == _HEX else ""
            line = hex_rows(data, row * ROW_BYTES, ROW_BYTES)[0]
            return line.hex if column == _HEX else line.ascii
        if role == Qt.ItemDataRole.ForegroundRole and column == _OFFSET:
            return QGuiApplication.palette().placeholderText()
        return None


class HexView(QWidget):
    """The hex dump of one value with a "go to offset" box; Ctrl+C copies the selected rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HexModel(self)
        self.model.failed.connect(self._on_failed)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.table = QTableView()
        self.table.setFont(font)
        self.table.setModel(self.model)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # millions of rows stay cheap
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 4)
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Every column keeps the width of its text: a narrow view scrolls sideways rather than cut ASCII.
        columns.setStretchLastSection(False)
        columns.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.goto = QLineEdit()
        self.goto.setPlaceholderText("Go to offset…")
        self.goto.setToolTip("Byte offset in hex (0x1f40) or decimal (8000); Enter to go")
        self.goto.setMaximumWidth(160)
        self.goto.returnPressed.connect(self._on_goto)
        self.info = QLabel()
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selection)
        bar = QHBoxLayout()
        bar.addWidget(self.goto)
        bar.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._size_columns()

    def set_blob(self, size: int, loader: WindowLoader | None) -> None:
        """Show a value of `size` bytes read through `loader`."""
        self.model.set_blob(size, loader)
        self.goto.clear()
        self._size_columns()
        rows = self.model.rowCount()
        self.info.setText(f"{human_size(size)} · {size:,} bytes · {rows:,} rows" if size else "")
        self.table.scrollToTop()

    def clear(self) -> None:
        """Show nothing."""
        self.set_blob(0, None)

    def go_to_offset(self, offset: int) -> None:
        """Scroll to the row holding byte `offset` and select it."""
        if self.model.size == 0:
            return
        row = min(max(offset, 0), self.model.size - 1) // ROW_BYTES
        index = self.model.index(row, 0)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.table.selectRow(row)

    def copy_selection(self) -> str:
        """Put the selected rows that are loaded on the clipboard as hex dump text; return it."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedIndexes()})
        pieces = []
        for row in rows[:COPY_MAX_ROWS]:
            data = self.model.row_bytes(row)
            if data is not None:
                pieces.append(format_hex_dump(data, row * ROW_BYTES, ROW_BYTES))
        text = "\n".join(pieces)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def _on_goto(self) -> None:
        text = self.goto.text().strip().replace("_", "").replace(",", "")
        try:
            offset = int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            self.info.setText(f"“{self.goto.text()}” is not an offset: write 0x1f40 or 8000.")
            return
        self.go_to_offset(offset)

    def _on_failed(self, message: str) -> None:
        self.info.setText(f"Could not read the bytes: {message}")

    def _size_columns(self) -> None:
        metrics = self.table.fontMetrics()
        padding = 16
        self.table.setColumnWidth(
            _OFFSET, metrics.horizontalAdvance("0" * self.model.offset_digits) + padding
        )
        self.table.setColumnWidth(_HEX, metrics.horizontalAdvance("0" * (ROW_BYTES * 3 + 1)) + padding)
        self.table.setColumnWidth(_ASCII, metrics.horizontalAdvance("W" * ROW_BYTES) + padding)
