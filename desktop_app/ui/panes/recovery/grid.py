"""The Recovered pane's grid: recovered records with their provenance, filterable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QAbstractTableModel,
    QIdentityProxyModel,
    QModelIndex,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QHeaderView, QWidget

from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.core.recovery.output import LOST_TEXT, PROVENANCE_COLUMNS, export_columns
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.shapes import DEFAULTED_TIP
from desktop_app.ui.models.cell_format import alignment, dim_color, display_text, italic_font

Index = QModelIndex | QPersistentModelIndex
#: The role the filter reads: a row's texts, casefolded, one a line (the filter text is a single line, so
#: it matches within one text, as a search of each column would).
FILTER_ROLE = Qt.ItemDataRole.UserRole + 1
#: The roles a cell answers (`value_data`'s), as the numbers Qt passes: each comparison with a
#: `Qt.ItemDataRole` member is a lookup in Python's enum machinery, a dozen a cell on every paint.
_DISPLAY, _TOOLTIP, _FONT, _FOREGROUND, _ALIGNMENT = (
    role.value
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
    )
)
_ROLES = frozenset({_DISPLAY, _TOOLTIP, _FONT, _FOREGROUND, _ALIGNMENT})


class RecoveredModel(QAbstractTableModel):
    """Records (values, then likely table, source, page, offset, confidence, rowid, lost columns)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[RecoveredRecord] = []
        self.columns: list[str] = []
        self._width = 0

    def set_records(self, records: list[RecoveredRecord], columns: list[str] | None = None) -> None:
        """Show `records` (one table's share them; a mix gets value 1 … N columns); `columns`, when
        given, are theirs as `export_columns` names them (worked out off the GUI thread)."""
        self.beginResetModel()
        self.records = records
        self.columns = (export_columns(records) if columns is None else columns) if records else []
        self._width = len(self.columns) - len(PROVENANCE_COLUMNS)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
                return self.columns[section]
            if orientation == Qt.Orientation.Vertical:
                return str(section + 1)
        return None

    def value(self, row: int, column: int) -> object:
        """The value shown at (row, column): a record value (`LOST` possible) or a provenance field."""
        record = self.records[row]
        if column < self._width:
            return record.values[column] if column < len(record.values) else None
        field = PROVENANCE_COLUMNS[column - self._width]
        if field == "likely table":
            return record.table if record.table is not None else "unknown table"
        if field == "source":
            return record.source.value
        if field == "rowid":
            return record.rowid
        if field == "lost columns":
            return ", ".join(record.columns[i] for i in record.lost)
        return getattr(record, field)

    def shown_texts(self, row: int) -> list[str]:
        """The texts of `row`'s cells as the grid shows them."""
        return [self._cell_data(row, column, _DISPLAY) for column in range(len(self.columns))]

    def row_text(self, row: int) -> str:
        """The texts of `row`'s cells as the filter searches them: casefolded, one a line."""
        texts = []
        for column in range(len(self.columns)):
            value = self.value(row, column)
            texts.append(LOST_TEXT if value is LOST else display_text(value))
        return "\n".join(texts).casefold()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == FILTER_ROLE:
            return self.row_text(index.row())
        if role not in _ROLES:
            return None
        return self._cell_data(index.row(), index.column(), role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan) -> None:
        """Every role a cell is painted with, in one call, its value looked up once: Qt's delegate asks for
        seven, each otherwise a call of `data` (a grid of 30 rows x 15 columns: 3,000 calls into Python
        per paint)."""
        if not index.isValid():
            return
        row, column = index.row(), index.column()
        value = self.value(row, column)
        defaulted = column < self._width and column in self.records[row].defaulted
        for role_data in roleDataSpan:
            role = role_data.role()
            if role in _ROLES:
                role_data.setData(self._role_data(value, column, role, defaulted))

    def _cell_data(self, row: int, column: int, role: int) -> Any:
        defaulted = column < self._width and column in self.records[row].defaulted
        return self._role_data(self.value(row, column), column, role, defaulted)

    def _role_data(self, value: object, column: int, role: int, defaulted: bool) -> Any:
        if type(value) is float and column >= self._width and role in (_DISPLAY, _TOOLTIP):
            return f"{value:.2f}"  # the confidence
        return value_data(value, role, defaulted=defaulted)


def value_data(value: object, role: int, *, defaulted: bool = False) -> Any:
    """How a recovered value looks: ‹lost› and NULL dim italic, and so a default the record predates
    (its column added by ALTER TABLE ADD COLUMN since: not stored), its tooltip saying so."""
    if role == _DISPLAY:
        return LOST_TEXT if value is LOST else display_text(value)
    if role == _FONT:
        return italic_font() if value is LOST or value is None or defaulted else None
    if role == _FOREGROUND:
        return dim_color() if value is LOST or value is None or defaulted else None
    if role == _ALIGNMENT:
        return alignment(value) if value is not LOST else None
    if role == _TOOLTIP:
        if defaulted:
            return f"{display_text(value)} — {DEFAULTED_TIP}"
        return LOST_TEXT if value is LOST else display_text(value)
    return None


def forward_multi_data(proxy: QAbstractProxyModel, index: Index, span: QModelRoleDataSpan) -> None:
    """A proxy's `multiData` as its source answers it (Qt's proxies ask the source once per role)."""
    if index.isValid():
        proxy.sourceModel().multiData(proxy.mapToSource(index), span)


class PassThrough(QIdentityProxyModel):
    """The records as they are (no filter typed), each cell's roles read in one call."""

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan) -> None:
        forward_multi_data(self, index, roleDataSpan)


class RecordFilter(QSortFilterProxyModel):
    """Keeps the records whose values or provenance contain the filter text (case-insensitive).

    Qt's own row filter does the work, reading `FILTER_ROLE`: with no filter text it accepts every row
    without a call into Python (a Python `filterAcceptsRow` was called once per row whenever the grid
    was filled, 0.1 s for 87k records on the GUI thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseSensitive)  # both sides are casefolded

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan) -> None:
        forward_multi_data(self, index, roleDataSpan)

    def set_text(self, text: str) -> None:
        """Filter by `text` ("" shows every record)."""
        self.setFilterFixedString(text.casefold())


class RowNumbers(QHeaderView):
    """The grid's vertical header, the records' numbers, sized from its first and last rows alone.

    Qt's header sizes itself from its first and last 100 rows, each four calls into Python, and does so
    three times when a scan's records are shown (2,500 calls, ~5 ms of the GUI thread). The numbers grow
    down the rows, so the last row's is the widest."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setSectionsClickable(True)  # as QTableView's own vertical header
        self.setHighlightSections(True)

    def sizeHint(self) -> QSize:
        hint = QSize(0, 0)
        for section in {0, self.count() - 1} if self.count() else ():
            hint = hint.expandedTo(self.sectionSizeFromContents(section))
        return hint
