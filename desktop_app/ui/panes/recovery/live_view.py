"""The recovered row next to the live row with its key: differing cells highlighted as in Changes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QWidget

from desktop_app.core.recovery.live import LiveComparison, LiveMatch
from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.ui import theme
from desktop_app.ui.models.cell_format import display_text
from desktop_app.ui.panes.recovery.grid import value_data
from desktop_app.ui.theme import dim_style
from desktop_app.ui.widgets.layout import vbox

Index = QModelIndex | QPersistentModelIndex
#: The two rows: the record as recovered, and the live row with its key.
ROW_NAMES = ("Recovered", "Live")
_HINT = "Select a recovered row to compare it with the live row that has its key."


class LiveComparisonModel(QAbstractTableModel):
    """Two rows, the recovered values and the live ones; cells that differ get the Changes pane's colour."""

    def __init__(self) -> None:
        super().__init__()
        self.record: RecoveredRecord | None = None
        self.comparison: LiveComparison | None = None

    def set_comparison(self, record: RecoveredRecord | None, comparison: LiveComparison | None) -> None:
        """Show `record` and its comparison (None: the record alone, the live row still being looked up)."""
        self.beginResetModel()
        self.record, self.comparison = record, comparison
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        if parent.isValid() or self.record is None:
            return 0
        return 2 if self.comparison is not None and self.comparison.live is not None else 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.record is None else len(self.record.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or self.record is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.record.columns[section] if 0 <= section < len(self.record.columns) else None
        return ROW_NAMES[section] if 0 <= section < len(ROW_NAMES) else None

    def value(self, row: int, column: int) -> object:
        """The value at (row, column): the recovered one (`LOST` possible) or the live one."""
        assert self.record is not None
        if row == 0:
            return self.record.values[column]
        assert self.comparison is not None and self.comparison.live is not None
        return self.comparison.live[column]

    def differs(self, column: int) -> bool:
        """True when the recovered value in `column` survived and differs from the live one."""
        return self.comparison is not None and column in self.comparison.differs

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.record is None:
            return None
        row, column = index.row(), index.column()
        value = self.value(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and self.differs(column):
            return theme.diff_colours()[2]
        if role == Qt.ItemDataRole.ToolTipRole and self.differs(column):
            live = self.value(1, column)
            return f"recovered: {display_text(self.record.values[column])}\nlive: {display_text(live)}"
        return value_data(value, role, defaulted=row == 0 and column in self.record.defaulted)


class LiveComparisonView(QWidget):
    """A line saying how the selected record stands against the live row, and the two rows side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(_HINT)
        self.label.setWordWrap(True)
        self._dim = True  # the hint and "no live row" lines are dim; a difference is said plainly
        theme.follow(self.label, lambda: dim_style() if self._dim else "")
        self.model = LiveComparisonModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        rows = 2 * (self.table.fontMetrics().height() + 6)
        self.table.setFixedHeight(rows + self.table.horizontalHeader().sizeHint().height() + 24)
        vbox(self.label, self.table, margins=0, parent=self)

    def clear(self) -> None:
        """Nothing selected."""
        self.model.set_comparison(None, None)
        self._say(_HINT, dim=True)

    def show_pending(self, record: RecoveredRecord) -> None:
        """The record is selected; its live row is being looked up."""
        self.model.set_comparison(record, None)
        self._say("Looking up the live row with this key…", dim=True)

    def show_comparison(self, record: RecoveredRecord, comparison: LiveComparison) -> None:
        """The record and the live row with its key, differing cells highlighted."""
        self.model.set_comparison(record, comparison)
        self._say(comparison.message(record.columns), dim=comparison.status is not LiveMatch.DIFFERENT)
        self.table.resizeColumnsToContents()

    def show_failure(self, message: str) -> None:
        """The live row could not be read."""
        self._say(f"The live row could not be read: {message}", dim=False)

    def _say(self, text: str, *, dim: bool) -> None:
        self.label.setText(text)
        if dim != self._dim:
            self._dim = dim
            self.label.setStyleSheet(dim_style() if dim else "")
