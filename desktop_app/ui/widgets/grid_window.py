"""A grid frame for any row count: the view shows a window of rows, our scroll bar spans them all.

Qt keeps row positions in C ints of pixels: past ~110M rows its header loops forever in `paintEvent`.
`WindowedTableModel` therefore shows Qt at most `window_rows` rows from `offset`; this frame keeps the
rows on screen inside that window. Scrolling near the window's edge slides it (a layout change, with
the view's position moved by as many rows, so nothing on screen moves); a jump (our scroll bar,
Ctrl+Home/Ctrl+End, go to row) moves it to centre the target. While every row fits in the window the
offset stays 0, our bar stays hidden and the view's own bar works as it always has.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSignalBlocker, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QScrollBar, QTableView, QWidget

from desktop_app.ui.models.table_model import ViewportTracker, WindowedTableModel

#: Our scroll bar counts in units of `scale` rows so its int range holds any row count.
_BAR_MAX = 2**30


class GridWindow(QWidget):
    """`view` beside a scroll bar over every real row of `model`; put this frame in the layout."""

    def __init__(
        self,
        view: QTableView,
        model: WindowedTableModel,
        tracker: ViewportTracker,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.view, self.model, self.tracker = view, model, tracker
        self.bar = QScrollBar(Qt.Orientation.Vertical, self)
        self.bar.hide()
        self._scale = 1
        self._moving = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(view, 1)
        layout.addWidget(self.bar)
        own = view.verticalScrollBar()
        own.valueChanged.connect(self._on_view_scrolled)
        own.rangeChanged.connect(lambda *_: self._sync())
        self.bar.actionTriggered.connect(lambda _action: tracker.hold())  # before the value moves
        self.bar.valueChanged.connect(self._on_bar_moved)
        model.count_changed.connect(self._sync)
        model.modelReset.connect(self._sync)
        if isinstance(view, GridView):
            view.grid = self

    # --- state ------------------------------------------------------------------------------------

    @property
    def windowed(self) -> bool:
        """True when the table has more rows than the window (our bar drives the position)."""
        return self.model.total_rows > self.model.window_rows

    def top_row(self) -> int:
        """The real row at the top of the viewport."""
        return self.model.real_row(max(self.view.rowAt(0), 0))

    def _rows_on_screen(self) -> int:
        """Rows that fit whole in the viewport (as the view counts them for its own scroll range)."""
        if self.view.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem:
            return max(self.view.verticalScrollBar().pageStep(), 1)
        return max(self.view.viewport().height() // self._row_height(), 1)

    def _row_height(self) -> int:
        return max(self.view.verticalHeader().defaultSectionSize(), 1)

    def _sync(self) -> None:
        """Show our bar (and hide the view's) for a windowed table, at the real top row."""
        windowed = self.windowed
        policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if windowed else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if self.view.verticalScrollBarPolicy() != policy:
            self.view.setVerticalScrollBarPolicy(policy)
        if self.bar.isVisible() != windowed and (self.isVisible() or not windowed):
            self.bar.setVisible(windowed)
        if not windowed:
            return
        total, page = self.model.total_rows, self._rows_on_screen()
        self._scale = -(-total // _BAR_MAX)
        with QSignalBlocker(self.bar):
            self.bar.setRange(0, max(total - page, 0) // self._scale)
            self.bar.setPageStep(max(page // self._scale, 1))
            self.bar.setSingleStep(max(3 // self._scale, 1))
            own = self.view.verticalScrollBar()
            at_end = own.value() == own.maximum() and self.model.offset + self.model.rowCount() >= total
            # At the end the view shows the last row whole, under a partly shown top row.
            self.bar.setValue(self.bar.maximum() if at_end else self.top_row() // self._scale)

    def showEvent(self, event: QShowEvent) -> None:
        """Shown: our bar appears now if the table is windowed."""
        super().showEvent(event)
        self._sync()

    # --- moving -----------------------------------------------------------------------------------

    def _on_view_scrolled(self, _value: int) -> None:
        """The view scrolled (wheel, keys, drag): follow with our bar; slide the window near its edge."""
        if self._moving:
            return
        self._sync()
        if not self.windowed:
            return
        shown, top = self.model.rowCount(), max(self.view.rowAt(0), 0)
        page = self._rows_on_screen()
        margin = max(shown // 4, 2 * page)
        near_start = top < margin and self.model.offset > 0
        near_end = top + page > shown - margin and self.model.offset + shown < self.model.total_rows
        if near_start or near_end:
            self._slide(self.model.window_offset_for(self.model.real_row(top)))

    def _slide(self, offset: int) -> None:
        """Move the window to `offset`, keeping the same real rows on screen."""
        before = self.model.offset
        self._moving = True
        try:
            if self.model.move_window(offset):
                own = self.view.verticalScrollBar()
                unit = (
                    1 if self.view.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem else 0
                )
                own.setValue(own.value() + (before - self.model.offset) * (unit or self._row_height()))
        finally:
            self._moving = False
        self._sync()

    def _on_bar_moved(self, value: int) -> None:
        """Our bar moved (dragged, clicked, wheel over it): show the real row it points at on top."""
        total, page = self.model.total_rows, self._rows_on_screen()
        target = max(0, min(value * self._scale, total - page))
        self._place(target, QAbstractItemView.ScrollHint.PositionAtTop)

    def _place(self, row: int, hint: QAbstractItemView.ScrollHint) -> QModelIndex:
        """Scroll real `row` into view with `hint`, moving the window first when it is not well inside."""
        self._moving = True
        try:
            if not self._well_inside(row):
                self.model.move_window(self.model.window_offset_for(row))
            index = self._index(self.model.view_row(row))
            if hint == QAbstractItemView.ScrollHint.PositionAtTop and index.isValid():
                own = self.view.verticalScrollBar()
                per_item = self.view.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem
                own.setValue(index.row() * (1 if per_item else self._row_height()))
            elif index.isValid():
                self.view.scrollTo(index, hint)
        finally:
            self._moving = False
        self._sync()
        self.tracker.report()
        return index

    def _index(self, view_row: int) -> QModelIndex:
        current = self.view.currentIndex()
        column = current.column() if current.isValid() else -1
        if column < 0 or self.view.isColumnHidden(column):
            columns = range(self.model.columnCount())
            column = next((c for c in columns if not self.view.isColumnHidden(c)), 0)
        return self.model.index(view_row, column)

    def scroll_to_row(self, row: int, hint: QAbstractItemView.ScrollHint) -> QModelIndex:
        """Bring real `row` (clamped to the table) into view; returns its index in the view."""
        total = self.model.total_rows
        if total == 0:
            return QModelIndex()
        row = max(0, min(row, total - 1))
        if self.model.rowCount() < min(total, self.model.window_rows) or (
            self.view.verticalScrollBar().maximum() + self._rows_on_screen() + 1 < self.model.rowCount()
        ):
            self.view.doItemsLayout()  # rows just counted: the scroll range must include them first
        self.tracker.hold()
        index = self._place(row, hint)
        self.tracker.release_if_loaded()  # the row was already on screen
        return index

    def go_to_row(self, row: int, hint: QAbstractItemView.ScrollHint, *, whole_row: bool = False) -> None:
        """Scroll to real `row` and make it the current cell, selected alone (or its whole row)."""
        index = self.scroll_to_row(row, hint)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            if whole_row:
                flags |= QItemSelectionModel.SelectionFlag.Rows
            self.view.selectionModel().setCurrentIndex(index, flags)

    def bring_into_window(self, row: int) -> QModelIndex:
        """Move the window (if needed) so real `row` is well inside it; its index, before any scrolling."""
        total = self.model.total_rows
        if total == 0:
            return QModelIndex()
        row = max(0, min(row, total - 1))
        if not self._well_inside(row):
            self.tracker.hold()  # the old frame stays until the rows there arrive
            self._moving = True
            try:
                self.model.move_window(self.model.window_offset_for(row))
            finally:
                self._moving = False
        return self._index(self.model.view_row(row))

    def _well_inside(self, row: int) -> bool:
        """True when real `row` is in the window, a few screens from any edge that is not the table's."""
        shown, page = self.model.rowCount(), self._rows_on_screen()
        inside = self.model.view_row(row)
        last_offset = max(self.model.total_rows - self.model.window_rows, 0)
        low_ok = inside >= 2 * page or self.model.offset == 0
        high_ok = inside < shown - 2 * page or self.model.offset >= last_offset
        return 0 <= inside < shown and low_ok and high_ok


class GridView(QTableView):
    """A table view whose Ctrl+Home / Ctrl+End reach the first and last real rows of a `GridWindow`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid: GridWindow | None = None

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Ctrl+Home / Ctrl+End go past the window to the table's ends (Qt then selects and scrolls)."""
        ends = (QAbstractItemView.CursorAction.MoveHome, QAbstractItemView.CursorAction.MoveEnd)
        grid = self.grid
        if (
            grid is not None
            and cursorAction in ends
            and modifiers & Qt.KeyboardModifier.ControlModifier
            and grid.windowed
        ):
            end = cursorAction == QAbstractItemView.CursorAction.MoveEnd
            return grid.bring_into_window(grid.model.total_rows - 1 if end else 0)
        return super().moveCursor(cursorAction, modifiers)


def frame_grid(view: QTableView, model: WindowedTableModel, tracker: ViewportTracker) -> GridWindow:
    """Put `view` in a `GridWindow` (add the frame to the layout instead of the view)."""
    return GridWindow(view, model, tracker)
