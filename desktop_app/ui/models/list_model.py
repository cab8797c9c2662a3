"""A read-only table model over a Python list: one row per item, one column per header."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


class ListTableModel(QAbstractTableModel, Generic[T]):
    """Rows of `items`, columns named by `headers`; a subclass says what each cell shows in `cell`."""

    #: The column titles (a subclass sets them).
    headers: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[T] = []

    def set_items(self, items: Iterable[T]) -> None:
        """Show `items` (in order)."""
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def item_at(self, row: int) -> T | None:
        """The item of row `row`, if there is one."""
        return self.items[row] if 0 <= row < len(self.items) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """One row per item."""
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """One column per header."""
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        """The column titles (also as tooltips: a narrow column cuts its title)."""
        if orientation == Qt.Orientation.Horizontal and role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        """What `cell` says for the item of the index's row."""
        item = self.item_at(index.row()) if index.isValid() else None
        return None if item is None else self.cell(item, index.column(), role)

    def cell(self, item: T, column: int, role: int) -> Any:
        """What `item` shows in `column` for `role` (None: nothing)."""
        raise NotImplementedError
