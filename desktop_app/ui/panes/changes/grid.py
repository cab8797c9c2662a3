"""The grid of a table's changed rows: the shared windowed grid, with changed cells highlighted."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from desktop_app.core.diff.change_rows import CellChange
from desktop_app.ui import theme
from desktop_app.ui.models.table_model import RawValueRole, WindowedTableModel

_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)


class ChangesModel(WindowedTableModel):
    """`WindowedTableModel` over a `ChangeRows` source: a changed cell (old → new) gets a background, and
    added and removed rows are tinted by their first column."""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Cell text from the shared model; backgrounds and old/new tooltips for changes."""
        if role == _BACKGROUND and index.isValid():
            raw = super().data(index, RawValueRole)
            added, removed, changed = theme.diff_colours()
            if isinstance(raw, CellChange):
                return changed
            mark = super().data(index.siblingAtColumn(0), RawValueRole)
            if isinstance(mark, str) and mark.startswith("+"):
                return added
            if isinstance(mark, str) and mark.startswith("−"):
                return removed
            return None
        if role == _TOOLTIP and index.isValid():
            raw = super().data(index, RawValueRole)
            if isinstance(raw, CellChange):
                return f"before: {raw.old!r}\nafter: {raw.new!r}"
        return super().data(index, role)
