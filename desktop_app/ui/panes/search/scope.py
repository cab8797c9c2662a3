"""The search scope list: tables with their columns, each checkable ("chosen tables and columns")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from desktop_app.core.schema.catalog import Catalog, TableKind
from desktop_app.ui.widgets.full_text_tips import add_full_text_tips
from desktop_app.ui.widgets.names import label_tree_item

_NAME = Qt.ItemDataRole.UserRole
#: table → None when the whole table is chosen, else the chosen columns.
Chosen = dict[str, list[str] | None]


def _state(on: bool) -> Qt.CheckState:
    return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked


class ScopeTree(QTreeWidget):
    """Tables (tri-state) with their columns; `checked()` is what the search's scope becomes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Search in"])
        add_full_text_tips(self)
        self.setUniformRowHeights(True)

    def set_catalog(self, catalog: Catalog | None) -> None:
        """List the catalog's tables, views and columns, keeping what was checked (by name)."""
        chosen = self.checked()
        self.blockSignals(True)
        self.clear()
        for table in catalog.visible_tables() if catalog is not None else []:
            item = QTreeWidgetItem([""])
            label_tree_item(item, 0, table.name)
            if table.kind is not TableKind.TABLE:
                item.setText(0, f"{item.text(0)}  ({table.kind.value})")
            item.setData(0, _NAME, table.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            for column in table.columns:
                if column.hidden == 1:  # a virtual table's hidden column (an FTS table's own name, rank...)
                    continue
                child = QTreeWidgetItem([column.name])
                child.setData(0, _NAME, column.name)
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Unchecked)
                item.addChild(child)
            self.addTopLevelItem(item)
        self._apply(chosen)
        self.blockSignals(False)

    def checked(self) -> Chosen:
        """Table → None when all of it is chosen, else its chosen columns (tables with none left out)."""
        chosen: Chosen = {}
        for row in range(self.topLevelItemCount()):
            item = self.topLevelItem(row)
            state = item.checkState(0)
            if state == Qt.CheckState.Checked:
                chosen[item.data(0, _NAME)] = None
            elif state == Qt.CheckState.PartiallyChecked:
                chosen[item.data(0, _NAME)] = [
                    item.child(i).data(0, _NAME)
                    for i in range(item.childCount())
                    if item.child(i).checkState(0) == Qt.CheckState.Checked
                ]
        return chosen

    def set_checked(self, chosen: Chosen) -> None:
        """Check exactly `chosen` (as `checked()` returns it), without emitting item changes."""
        self.blockSignals(True)
        self._apply(chosen)
        self.blockSignals(False)

    def _apply(self, chosen: Chosen) -> None:
        for row in range(self.topLevelItemCount()):
            item = self.topLevelItem(row)
            name = item.data(0, _NAME)
            wanted = chosen.get(name, [])
            if item.childCount() == 0:
                item.setCheckState(0, _state(name in chosen))
            for i in range(item.childCount()):
                child = item.child(i)
                child.setCheckState(0, _state(wanted is None or child.data(0, _NAME) in wanted))
