"""A toolbar row that wraps: its widgets go on as many lines as the width needs.

A pane's toolbar laid out in one `QHBoxLayout` makes the pane as wide as the whole toolbar, so a small
window cannot show it; in a `FlowLayout` the pane is only as wide as its widest widget.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    """Widgets left to right, wrapping onto the next line when the width runs out.

    A widget added with stretch takes the rest of its line (e.g. a search box or a status label).
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretch: set[int] = set()  # ids of the items that take the rest of their line
        self.setSpacing(spacing)
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def add(self, widget: QWidget, stretch: int = 0) -> None:
        """Append `widget`; with `stretch`, it widens to the end of its line."""
        self.addWidget(widget)
        if stretch:
            self._stretch.add(id(self._items[-1]))

    def addItem(self, item: QLayoutItem) -> None:
        """Qt's hook: keep `item`."""
        self._items.append(item)

    def count(self) -> int:
        """Number of items."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        """The item at `index`, or None."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        """Remove and return the item at `index`."""
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._stretch.discard(id(item))
        return item

    def expandingDirections(self) -> Qt.Orientation:
        """Only as wide as it is given."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        """Its height depends on its width (the lines it wraps to)."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The height the items need at `width`."""
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        """Place the items in `rect`."""
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        width = sum(i.sizeHint().width() for i in self._visible()) + self.spacing() * max(
            len(self._visible()) - 1, 0
        )
        height = max((i.sizeHint().height() for i in self._visible()), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """As wide as the widest item (every item on its own line at worst)."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [
            i
            for i in self._items
            if not (i.widget() is not None and i.widget().isHidden() and not _keeps_space(i))
        ]

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        lines: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._visible():
            width = item.sizeHint().width()
            if lines[-1] and used + self.spacing() + width > area.width():
                lines.append([])
                used = 0
            used += (self.spacing() if lines[-1] else 0) + width
            lines[-1].append(item)
        y = area.y()
        for line in lines:
            height = max((i.sizeHint().height() for i in line), default=0)
            if move:
                self._place_line(line, area, y, height)
            y += height + self.spacing()
        return y - self.spacing() - rect.y() + margins.bottom() if lines[0] else 0

    def _place_line(self, line: list[QLayoutItem], area: QRect, y: int, height: int) -> None:
        widths = [min(i.sizeHint().width(), area.width()) for i in line]
        spare = area.width() - sum(widths) - self.spacing() * (len(line) - 1)
        stretched = [n for n, item in enumerate(line) if id(item) in self._stretch]
        for n in stretched:
            widths[n] += max(spare, 0) // len(stretched)
        x = area.x()
        for item, width in zip(line, widths, strict=True):
            item_height = min(height, item.sizeHint().height()) if not _grows_tall(item) else height
            item.setGeometry(QRect(QPoint(x, y + (height - item_height) // 2), QSize(width, item_height)))
            x += width + self.spacing()


def _keeps_space(item: QLayoutItem) -> bool:
    widget = item.widget()
    return widget is not None and widget.sizePolicy().retainSizeWhenHidden()


def _grows_tall(item: QLayoutItem) -> bool:
    widget = item.widget()
    return widget is not None and widget.sizePolicy().verticalPolicy() == QSizePolicy.Policy.Expanding


def flow(*parts: QWidget | tuple[QWidget, int], parent: QWidget | None = None) -> FlowLayout:
    """`parts` side by side, wrapping when the width runs out; `(widget, stretch)` fills its line."""
    layout = FlowLayout(parent)
    for part in parts:
        widget, stretch = part if isinstance(part, tuple) else (part, 0)
        layout.add(widget, stretch)
    return layout


def labelled(text: str, *widgets: QWidget) -> QWidget:
    """A label and its widgets kept together on one line of a `FlowLayout`."""
    group = QWidget()
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(QLabel(text))
    for widget in widgets:
        row.addWidget(widget)
    return group
