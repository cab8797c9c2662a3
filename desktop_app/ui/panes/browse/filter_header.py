"""A table header with a filter box under each column title."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTableView

#: Pause after the last keystroke in a filter box before the filter is applied.
FILTER_DEBOUNCE_MS = 350


class FilterHeader(QHeaderView):
    """A horizontal header with one filter box under each column title."""

    #: The filter texts changed (debounced) or Enter was pressed in a box.
    filters_changed = Signal()

    def __init__(self, parent: QTableView) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.editors: list[QLineEdit] = []
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.filters_changed)
        self.sectionResized.connect(self.place_editors)
        self.sectionMoved.connect(self.place_editors)
        self.sectionCountChanged.connect(self.place_editors)
        parent.horizontalScrollBar().valueChanged.connect(self.place_editors)

    def set_columns(self, names: list[str], texts: dict[str, str]) -> None:
        """One filter box per column, prefilled from `texts`."""
        for editor in self.editors:
            editor.deleteLater()
        self.editors = []
        for name in names:
            editor = QLineEdit(self)
            editor.setPlaceholderText("filter")
            editor.setToolTip(
                f"Filter {name}: text (contains), 5, =x, <>x, >x, <=x, a..b, ab*, a_c, !x*, "
                "NULL, NOT NULL, EMPTY"
            )
            editor.setClearButtonEnabled(True)
            editor.setText(texts.get(name, ""))
            editor.textChanged.connect(lambda _text: self._debounce.start())
            editor.returnPressed.connect(self.apply_now)
            editor.show()
            self.editors.append(editor)
        self.updateGeometries()

    def apply_now(self) -> None:
        """Apply the filters without waiting for the pause."""
        self._debounce.stop()
        self.filters_changed.emit()

    def _editor_height(self) -> int:
        return self.editors[0].sizeHint().height() if self.editors else 0

    def sizeHint(self) -> Any:
        """The title row plus the filter row."""
        size = super().sizeHint()
        size.setHeight(size.height() + self._editor_height() + 2)
        return size

    def updateGeometries(self) -> None:
        """Keep room for the filter row below the titles."""
        self.setViewportMargins(0, 0, 0, self._editor_height() + 2 if self.editors else 0)
        super().updateGeometries()
        self.place_editors()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the boxes at the bottom edge."""
        super().resizeEvent(event)
        self.place_editors()

    def place_editors(self, *_args: object) -> None:
        """Line each box up under its column (after resizes, moves and horizontal scrolling)."""
        height = self._editor_height()
        top = self.height() - height - 1  # the titles take the rest (their size hint is 0 during a reset)
        for logical, editor in enumerate(self.editors):
            editor.setVisible(not self.isSectionHidden(logical))
            editor.setGeometry(self.sectionViewportPosition(logical), top, self.sectionSize(logical), height)
