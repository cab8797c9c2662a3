"""The value inspector: one cell shown every way it can be read — its raw value (escaped text or hex),
storage class and length; the time it encodes; its JSON as a collapsible tree with paths; its geometry
as WKT with type and bounds. Browse and SQL results show it beside their grid."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeView,
    QWidget,
)

from desktop_app.core.blobs.values import human_size
from desktop_app.core.browse.paging import Truncated
from desktop_app.core.limits import LIMITS
from desktop_app.core.sqlite.values import RawText, storage_class
from desktop_app.core.values.geometry import decode_geometry, geometry_summary
from desktop_app.core.values.json_tree import JsonNode, NotJson, looks_like_json, parse_json
from desktop_app.core.values.jsonb import (
    column_hints_json,
    jsonb_document,
    looks_like_large_jsonb,
    sqlite_reads_jsonb,
)
from desktop_app.core.values.timestamps import ENCODINGS, format_time
from desktop_app.ui.models.cell_format import NULL_TEXT, plain_text
from desktop_app.ui.models.column_times import NOT_A_TIMESTAMP, ColumnTime
from desktop_app.ui.widgets.cell_viewer import CellViewer, value_text
from desktop_app.ui.widgets.layout import hbox, vbox

#: Bytes of a blob written out in hex (the Blobs pane shows all of it).
HEX_PREVIEW_BYTES = 4096
#: Bytes per hex line (the side panel is narrow).
HEX_LINE_BYTES = 8
#: Lines of raw text shown above a JSON tree or a geometry.
RAW_LINES_BESIDE = 5
FILTER_TIP = "Show only the rows whose JSON has this value at this path"
JSONB_FILTER_TIP = (
    "Not for JSONB here: this SQLite is older than 3.45, so its json_extract cannot read JSONB blobs "
    "(the app decodes them itself only to show them)"
)
_ANY = QModelIndex | QPersistentModelIndex


class JsonTreeModel(QAbstractItemModel):
    """A JSON document as a tree (key, value or summary, JSON type); members are built when expanded."""

    HEADERS = ("Key", "Value", "Type")

    def __init__(self, root: JsonNode, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = root
        self._parents: dict[int, tuple[JsonNode, int]] = {}  # id(node) → (parent node, row)

    def node(self, index: _ANY) -> JsonNode | None:
        """The node at `index`."""
        return index.internalPointer() if index.isValid() else None  # type: ignore[no-any-return]

    def index(self, row: int, column: int, parent: _ANY = QModelIndex()) -> QModelIndex:  # noqa: B008
        """The index of member `row` of `parent` (the document itself at the top)."""
        if not parent.isValid():
            return self.createIndex(row, column, self.root) if row == 0 else QModelIndex()
        node = parent.internalPointer()
        children = node.children
        if not 0 <= row < len(children):
            return QModelIndex()
        child = children[row]
        self._parents[id(child)] = (node, row)
        return self.createIndex(row, column, child)

    def parent(self, index: _ANY = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        """The container holding `index`'s node."""
        node = self.node(index)
        if node is None or node is self.root:
            return QModelIndex()
        holder, _ = self._parents[id(node)]
        if holder is self.root:
            return self.createIndex(0, 0, self.root)
        return self.createIndex(self._parents[id(holder)][1], 0, holder)

    def rowCount(self, parent: _ANY = QModelIndex()) -> int:  # noqa: B008
        """Members of `parent` (1 at the top: the document)."""
        if not parent.isValid():
            return 1
        return parent.internalPointer().child_count if parent.column() == 0 else 0

    def columnCount(self, parent: _ANY = QModelIndex()) -> int:  # noqa: B008
        """Key, value, type."""
        return 3

    def hasChildren(self, parent: _ANY = QModelIndex()) -> bool:  # noqa: B008
        """True for a non-empty object or array (without building its members)."""
        return self.rowCount(parent) > 0

    def data(self, index: _ANY, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Key, value summary and type; the path as tooltip."""
        node = self.node(index)
        if node is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return "$" if node is self.root else str(node.key)
            return node.preview() if index.column() == 1 else node.type
        if role == Qt.ItemDataRole.ToolTipRole:
            return node.path or "A key holding a double quote has no SQLite JSON path"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


def raw_description(value: Any) -> str:
    """Storage class and length: `text · 12 characters`, `blob · 1,024 bytes`, `integer`, `NULL`."""
    if value is None:
        return NULL_TEXT
    if isinstance(value, Truncated):
        unit = "bytes" if value.is_blob else "characters"
        return (
            f"{'blob' if value.is_blob else 'text'} · {value.size:,} {unit} (first {len(value.head):,} shown)"
        )
    kind = storage_class(value)
    if isinstance(value, bytes):
        return f"blob · {len(value):,} bytes"
    if isinstance(value, str):
        note = " · not valid UTF-8: bad bytes shown as \\xNN" if isinstance(value, RawText) else ""
        return f"text · {len(value):,} characters{note}"
    return kind


def hex_text(data: bytes, limit: int = HEX_PREVIEW_BYTES) -> str:
    """`data` as lines of `HEX_LINE_BYTES` hex bytes with their offsets (the first `limit` bytes)."""
    step = HEX_LINE_BYTES
    lines = [f"{at:06x}  {data[at : at + step].hex(' ')}" for at in range(0, min(len(data), limit), step)]
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes (open the cell in the Blobs pane)")
    return "\n".join(lines)


class ValueInspector(QWidget):
    """Shows one cell: raw, as a time, as a JSON tree, as geometry (only the readings that apply)."""

    #: "Filter on this path = value": (column, JSON path, JSON value).
    filter_requested = Signal(str, str, object)
    #: The user picked how the column reads as time: (column, encoding name, `NOT_A_TIMESTAMP`, or None
    #: for the automatic guess).
    encoding_chosen = Signal(str, object)

    def __init__(self, parent: QWidget | None = None, *, filterable: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("value_inspector")
        self.column = ""
        self.value: Any = None
        self._viewer: CellViewer | None = None
        #: The value is JSONB this SQLite cannot read: shown from the app's decoder, not filterable.
        self._jsonb_unreadable = False
        self._declared_type = ""
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.title = QLabel("Select a cell to see its value.")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold")
        self.kind = QLabel()
        self.kind.setWordWrap(True)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setFont(fixed)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.open_button = QPushButton("Open in window")
        self.open_button.setToolTip("The whole value in its own window (wrap, JSON formatting, copy)")
        self.open_button.clicked.connect(self._open_window)
        self.raw_box = QGroupBox("Raw value")
        vbox(self.raw, hbox(1, self.open_button), parent=self.raw_box, margins=6)

        self.time = QLabel()
        self.time.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time.setFont(fixed)
        self.encoding = QComboBox()
        self.encoding.setToolTip("How this column stores time (remembered for this database)")
        self.encoding.activated.connect(self._on_encoding_picked)
        self.time_box = QGroupBox("Time")
        vbox(self.time, hbox(QLabel("Read as:"), (self.encoding, 1)), parent=self.time_box, margins=6)

        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.json_model: JsonTreeModel | None = None
        self.path = QLabel()
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path.setFont(fixed)
        self.copy_path_button = QPushButton("Copy path")
        self.copy_path_button.clicked.connect(self.copy_path)
        self.filter_button = QPushButton("Filter on this path = value")
        self.filter_button.setToolTip(FILTER_TIP)
        self.filter_button.clicked.connect(self.request_filter)
        self.filter_button.setVisible(filterable)
        self.json_box = QGroupBox("JSON")
        vbox(
            (self.tree, 1),
            self.path,
            hbox(self.copy_path_button, self.filter_button, 1),
            parent=self.json_box,
            margins=6,
        )

        self.geometry_info = QLabel()
        self.geometry_info.setWordWrap(True)
        self.geometry_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.wkt = QPlainTextEdit()
        self.wkt.setReadOnly(True)
        self.wkt.setFont(fixed)
        self.geometry_box = QGroupBox("Geometry")
        vbox(self.geometry_info, (self.wkt, 1), parent=self.geometry_box, margins=6)

        vbox(
            self.title,
            self.kind,
            self.time_box,
            (self.raw_box, 2),
            (self.json_box, 4),
            (self.geometry_box, 2),
            parent=self,
            margins=4,
        )
        self.show_value(None, column="", where="", placeholder=True)

    # --- showing a value ---------------------------------------------------------------------------

    def show_value(
        self,
        value: Any,
        *,
        column: str,
        where: str,
        time: ColumnTime | None = None,
        placeholder: bool = False,
        declared_type: str = "",
    ) -> None:
        """Show `value` of `column` (`where` says which row) and, by `time`, how the column reads as time;
        `declared_type` (like the column's name) may say the column holds JSON."""
        self.column, self.value = column, value
        self._declared_type = declared_type
        self.title.setText("Select a cell to see its value." if placeholder else f"{column} — {where}")
        self.kind.setText("" if placeholder else raw_description(value))
        self.raw_box.setVisible(not placeholder)
        self.raw.setPlainText(self._raw_text(value))
        binary = isinstance(value, bytes) or (isinstance(value, Truncated) and value.is_blob)
        self.raw.setLineWrapMode(
            QPlainTextEdit.LineWrapMode.NoWrap if binary else QPlainTextEdit.LineWrapMode.WidgetWidth
        )
        self.open_button.setEnabled(not isinstance(value, bytes | Truncated))
        self._show_time(value, time or ColumnTime(), placeholder)
        jsonb = self._show_json(value)
        if jsonb:
            self.kind.setText(
                f"{self.kind.text()} · JSONB"
                + (" (decoded by the app: this SQLite is older than 3.45)" if self._jsonb_unreadable else "")
            )
        elif isinstance(value, bytes) and not sqlite_reads_jsonb() and looks_like_large_jsonb(value):
            self.kind.setText(
                f"{self.kind.text()} · looks like JSONB, too large for the app to decode "
                f"(over {human_size(LIMITS.jsonb_decode_max_bytes)})"
            )
        self._show_geometry(value)
        # Beside a tree or a WKT the raw text is a reminder: a few lines; alone it takes the room.
        decoded = not self.json_box.isHidden() or not self.geometry_box.isHidden()
        self.raw.setMaximumHeight(
            self.fontMetrics().lineSpacing() * RAW_LINES_BESIDE if decoded else 16777215
        )

    @staticmethod
    def _raw_text(value: Any) -> str:
        if isinstance(value, Truncated):
            return hex_text(value.head) if isinstance(value.head, bytes) else plain_text(value.head) + "…"
        if isinstance(value, bytes):
            return hex_text(value) if value else "(empty blob)"
        return value_text(value)

    def _show_time(self, value: Any, time: ColumnTime, placeholder: bool) -> None:
        encoding, guessed, override = time.encoding, time.guessed, time.override
        # Any number may be a time in an encoding not guessed; text only when its column reads as time.
        candidate = isinstance(value, int | float) and not isinstance(value, bool)
        self.time_box.setVisible(
            not placeholder and (candidate or encoding is not None or override is not None)
        )
        self.encoding.clear()
        automatic = f"Automatic ({guessed.label if guessed else 'not a timestamp'})"
        self.encoding.addItem(automatic, None)
        for choice in ENCODINGS:
            self.encoding.addItem(choice.label, choice.name)
        self.encoding.addItem("Not a timestamp", NOT_A_TIMESTAMP)
        self.encoding.setCurrentIndex(max(self.encoding.findData(override), 0) if override is not None else 0)
        moment = encoding.decode(value) if encoding is not None else None
        if encoding is None:
            self.time.setText("Not read as a time. Pick an encoding below to decode this column.")
        elif moment is None:
            self.time.setText(f"This value does not read as {encoding.label}.")
        else:
            self.time.setText(f"{format_time(moment)}  (UTC)\n{encoding.label}")

    def _show_json(self, value: Any) -> bool:
        """Show `value`'s JSON tree if it has one; True when it was read as JSONB."""
        root = None
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if isinstance(text, str) and looks_like_json(text):
            try:
                root = parse_json(text)
            except NotJson:
                root = None
        jsonb = False
        if root is None and isinstance(value, bytes):
            root = jsonb_document(value, hinted=column_hints_json(self.column, self._declared_type))
            jsonb = root is not None
        self._jsonb_unreadable = jsonb and not sqlite_reads_jsonb()
        self.json_box.setTitle("JSON (stored as JSONB)" if jsonb else "JSON")
        self.filter_button.setToolTip(JSONB_FILTER_TIP if self._jsonb_unreadable else FILTER_TIP)
        self.json_box.setVisible(root is not None)
        old, self.json_model = self.json_model, JsonTreeModel(root, self) if root is not None else None
        self.tree.setModel(self.json_model)
        if old is not None:
            old.deleteLater()
        if self.json_model is not None:
            self.tree.selectionModel().currentChanged.connect(self._on_json_current)
            top = self.json_model.index(0, 0)
            self.tree.expand(top)
            self.tree.setCurrentIndex(top)
            self.tree.resizeColumnToContents(0)
        self._on_json_current()
        return jsonb

    def _show_geometry(self, value: Any) -> None:
        geometry = decode_geometry(value) if isinstance(value, bytes) else None
        self.geometry_box.setVisible(geometry is not None)
        if geometry is None:
            self.geometry_info.clear()
            self.wkt.clear()
            return
        self.geometry_info.setText(geometry_summary(geometry))
        self.wkt.setPlainText(geometry.wkt)

    # --- JSON actions --------------------------------------------------------------------------------

    def current_node(self) -> JsonNode | None:
        """The JSON node selected in the tree."""
        if self.json_model is None:
            return None
        return self.json_model.node(self.tree.currentIndex())

    def _on_json_current(self, *_args: object) -> None:
        node = self.current_node()
        addressable = node is not None and node.path is not None
        if node is None:
            self.path.setText("")
        else:
            self.path.setText(node.path or "(this key cannot be written as a path)")
        self.copy_path_button.setEnabled(addressable)
        self.filter_button.setEnabled(addressable and not self._jsonb_unreadable)

    def copy_path(self) -> None:
        """Put the selected node's path (`$.a.b[2]`) on the clipboard."""
        node = self.current_node()
        if node is not None and node.path is not None:
            QGuiApplication.clipboard().setText(node.path)

    def request_filter(self) -> None:
        """Ask the grid to show only rows with the selected node's value at its path."""
        node = self.current_node()
        if node is not None and node.path is not None and not self._jsonb_unreadable:
            self.filter_requested.emit(self.column, node.path, node.value)

    # --- time and window -----------------------------------------------------------------------------

    def _on_encoding_picked(self, index: int) -> None:
        self.encoding_chosen.emit(self.column, self.encoding.itemData(index))

    def _open_window(self) -> None:
        if self._viewer is None:
            self._viewer = CellViewer(self)
        self._viewer.show_value(self.value, self.title.text())
