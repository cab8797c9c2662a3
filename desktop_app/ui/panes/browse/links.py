"""Cells that hold a foreign key drawn as links: underlined in the link colour; an inferred key (guessed
from a `<name>_id` column) fainter, with a dashed underline. Ctrl+click or the menu follows them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem, QToolTip, QWidget

from desktop_app.ui import theme
from desktop_app.ui.models.table_model import RawValueRole

AnyIndex = QModelIndex | QPersistentModelIndex


class LinkDelegate(QStyledItemDelegate):
    """Draws the cells of `links` columns (column index → inferred) as links when they hold a value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: Column index → True when the reference is inferred, False when declared.
        self.links: dict[int, bool] = {}
        #: Column index → what the link points at, for the tooltip ("Artist(ArtistId)").
        self.targets: dict[int, str] = {}

    def _link(self, index: AnyIndex) -> bool | None:
        inferred = self.links.get(index.column())
        if inferred is None or index.data(RawValueRole) is None:
            return None
        return inferred

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """Link colour, and an underline for a declared key."""
        super().initStyleOption(option, index)
        inferred = self._link(index)
        if inferred is None:
            return
        option.palette.setColor(QPalette.ColorRole.Text, theme.link_colour(inferred=inferred))
        if not inferred:
            option.font.setUnderline(True)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """The cell, then a dashed underline under an inferred link."""
        super().paint(painter, option, index)
        if self._link(index) is not True:
            return
        painter.save()
        pen = QPen(theme.link_colour(inferred=True))
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        y = option.rect.bottom() - 3
        painter.drawLine(QPoint(option.rect.left() + 4, y), QPoint(option.rect.right() - 4, y))
        painter.restore()

    def helpEvent(
        self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: AnyIndex
    ) -> bool:
        """Say where the link goes and how to follow it."""
        inferred = self._link(index)
        if inferred is None:
            return super().helpEvent(event, view, option, index)
        target = self.targets.get(index.column(), "")
        kind = "inferred from the column's name (no FOREIGN KEY declared)" if inferred else "foreign key"
        QToolTip.showText(
            event.globalPos(), f"→ {target} — {kind}\nCtrl+click to open the referenced row", view
        )
        return True
