"""The row numbers down the side of a grid, sized without asking the model."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionHeader, QWidget


class RowNumberHeader(QHeaderView):
    """A vertical header of fixed-height rows, as wide as the largest row number needs.

    Qt's own header measures itself by asking the model's `headerData` for four roles of 200 sections,
    again whenever the row count or the layout changes: for a Python model, 800 Python calls (2–4 ms
    measured) on the way to many repaints of a large table. The largest label is known from the row
    count, so this header measures that one alone. (Painting stays Qt's: a Python `paintSection` was
    measured slower than Qt's own with its `headerData` calls.)
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setSectionsClickable(True)  # as QTableView's own: a click selects the row
        self.setHighlightSections(True)
        self._size_for: tuple[int, int, int] | None = None  # (digits, font height, section size)
        self._size = QSize()

    def _rows(self) -> int:
        """The largest row number: the real row count of a windowed model (numbers are real rows)."""
        model = self.model()
        if model is None:
            return 0
        total = getattr(model, "total_rows", None)
        return total if isinstance(total, int) else model.rowCount(self.rootIndex())

    def _label_size(self) -> QSize:
        """The size of the widest label, e.g. "88888" for up to 99,999 rows (cached per digit count)."""
        digits = len(str(max(self._rows(), 1)))
        key = (digits, self.fontMetrics().height(), self.defaultSectionSize())
        if key != self._size_for:
            option = QStyleOptionHeader()
            self.initStyleOption(option)
            option.text = "8" * digits
            bold = QFont(self.font())
            bold.setBold(True)  # as Qt measures sections: a selected row's number is drawn bold
            option.fontMetrics = QFontMetrics(bold)
            text = option.fontMetrics.size(0, option.text)
            size = self.style().sizeFromContents(QStyle.ContentsType.CT_HeaderSection, option, text, self)
            self._size = QSize(size.width(), max(size.height(), self.defaultSectionSize()))
            self._size_for = key
        return QSize(self._size)

    def sizeHint(self) -> QSize:
        """Wide enough for the largest row number."""
        return self._label_size()

    def sectionSizeFromContents(self, _logical_index: int) -> QSize:
        """Every section is the same size: that of the largest row number."""
        return self._label_size()
