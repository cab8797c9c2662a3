"""Tooltips with a cell's whole text where a list, tree or table cuts it (and the cell has none of its own).

Installed on the sidebar tree and the lists and trees of the panes, so a name cut by a narrow column can
always be read in full by hovering it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QToolTip

#: Room a cell keeps beside its text (margins, a check box or an icon), in px.
_CELL_PADDING = 8


def full_text_tip(view: QAbstractItemView, index: QModelIndex) -> str | None:
    """The cell's whole text when the cell is too narrow to show it and has no tooltip, else None."""
    if not index.isValid() or index.data(Qt.ItemDataRole.ToolTipRole):
        return None
    text = index.data(Qt.ItemDataRole.DisplayRole)
    if text is None or str(text) == "":
        return None
    font = index.data(Qt.ItemDataRole.FontRole)
    metrics = QFontMetrics(font if isinstance(font, QFont) else view.font())
    lines = str(text).splitlines() or [""]
    needed = max(metrics.horizontalAdvance(line) for line in lines) + _CELL_PADDING
    if index.data(Qt.ItemDataRole.CheckStateRole) is not None or index.data(Qt.ItemDataRole.DecorationRole):
        needed += view.iconSize().width() if view.iconSize().isValid() else 20
    return str(text) if needed > view.visualRect(index).width() else None


class FullTextTips(QObject):
    """Shows `full_text_tip` over `view`'s cells."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On a tooltip request over a cut cell, show its whole text; let every other event through."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = full_text_tip(self._view, self._view.indexAt(event.pos()))
            if tip is not None:
                QToolTip.showText(event.globalPos(), tip, self._view.viewport())
                return True
        return False


def add_full_text_tips(*views: QAbstractItemView) -> None:
    """Give each of `views` tooltips with the whole text of the cells it cuts."""
    for view in views:
        FullTextTips(view)
