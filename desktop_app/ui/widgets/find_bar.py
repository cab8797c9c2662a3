"""Find in a result grid (Ctrl+F): a bar under the grid that looks through every row, page by page.

The rows are read from the grid's row source in pages (the same reads the grid makes), matched in
`core.browse.find`, and the matches found so far can be walked with Next/Previous while the rest are
still being looked for. A new text, or a new source, starts over.
"""

from __future__ import annotations

import asyncio
import bisect

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QToolButton, QWidget

from desktop_app.core.browse.find import matching_cells
from desktop_app.core.browse.row_sources import RowSource
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.ui.models.table_model import WindowedTableModel
from desktop_app.ui.widgets.grid_window import GridWindow
from desktop_app.ui.widgets.layout import hbox


class FindBar(QWidget):
    """Text box, Previous/Next, the count of matches known so far, and a close button."""

    #: The matches changed (count so far, finished looking).
    matches_changed = Signal(int, bool)

    def __init__(self, grid: GridWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        self.model: WindowedTableModel = grid.model
        self.matches: list[tuple[int, int]] = []
        self.finished = False
        #: True when the look stopped at `LIMITS.find_max_matches` matches.
        self.capped = False
        self._scan: asyncio.Task[None] | None = None
        self._cancel = CancelToken()
        self._source: RowSource | None = None
        self.text = QLineEdit()
        self.text.setPlaceholderText("Find in results")
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(self.start)
        self.text.returnPressed.connect(self.next)
        self.count = QLabel()
        previous, following, close = QToolButton(), QToolButton(), QToolButton()
        for button, text, tip, slot in (
            (previous, "▲", "Previous match (Shift+Enter)", self.previous),
            (following, "▼", "Next match (Enter)", self.next),
            (close, "✕", "Close (Esc)", self.close_bar),
        ):
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
        back = QShortcut(QKeySequence("Shift+Return"), self.text)
        back.activated.connect(self.previous)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.close_bar)
        hbox(QLabel("Find:"), (self.text, 1), previous, following, self.count, close, margins=2, parent=self)
        self.model.modelReset.connect(self._on_source_changed)
        self.hide()

    def open_bar(self) -> None:
        """Show the bar and put the cursor in its text box."""
        self.show()
        self.text.setFocus()
        self.text.selectAll()
        if self.text.text() and self._source is not self.model.source:
            self.start()

    def close_bar(self) -> None:
        """Stop looking and hide the bar."""
        self._stop()
        self.hide()
        self.grid.view.setFocus()

    def start(self) -> None:
        """Look for the text from the first row (the earlier look, if any, stops)."""
        self._stop()
        self.matches, self.finished, self.capped = [], False, False
        needle, source = self.text.text(), self.model.source
        self._source = source
        if not needle or source is None:
            self.finished = True
            self._show_count()
            return
        self._cancel = CancelToken()
        self._scan = asyncio.ensure_future(self._look(source, needle, self._cancel))
        self._show_count()

    async def _look(self, source: RowSource, needle: str, cancel: CancelToken) -> None:
        page, start = LIMITS.page_rows, 0
        try:
            while not cancel.cancelled:
                found = await source.fetch(start, page, cancel)
                if cancel.cancelled:
                    return
                self.matches.extend(matching_cells(found.rows, start, needle))
                if len(self.matches) >= LIMITS.find_max_matches:
                    del self.matches[LIMITS.find_max_matches :]
                    self.capped = True
                    break
                self._show_count()
                if len(found.rows) < page:
                    break
                start += len(found.rows)
                await asyncio.sleep(0)  # let the grid paint between pages
        except UserError as exc:
            if not cancel.cancelled:
                self.count.setText(f"⚠ {exc.message}")
            return
        if not cancel.cancelled:
            self.finished = True
            self._show_count()

    def wait_done(self) -> asyncio.Task[None] | None:
        """The running look, to await in tests."""
        return self._scan

    def _stop(self) -> None:
        self._cancel.cancel()
        self._scan = None

    def _on_source_changed(self) -> None:
        if self.isVisible() and self.text.text() and self._source is not self.model.source:
            self.start()

    def _show_count(self) -> None:
        n = len(self.matches)
        if not self.text.text():
            self.count.setText("")
        elif self.capped:
            self.count.setText(f"{n:,}+ matches (stopped looking)")
        elif self.finished:
            self.count.setText("no matches" if n == 0 else f"{n:,} match{'es' if n != 1 else ''}")
        else:
            self.count.setText(f"{n:,} so far…")
        self.matches_changed.emit(n, self.finished)

    def _current(self) -> tuple[int, int]:
        index = self.grid.view.currentIndex()
        if not index.isValid():
            return (-1, -1)
        return (self.model.real_row(index.row()), index.column())

    def next(self) -> tuple[int, int] | None:
        """Go to the first match after the current cell (wrapping to the first); the cell gone to."""
        if not self.matches:
            return None
        at = bisect.bisect_right(self.matches, self._current())
        return self._go(self.matches[at % len(self.matches)])

    def previous(self) -> tuple[int, int] | None:
        """Go to the last match before the current cell (wrapping to the last); the cell gone to."""
        if not self.matches:
            return None
        at = bisect.bisect_left(self.matches, self._current()) - 1
        return self._go(self.matches[at % len(self.matches)])

    def _go(self, cell: tuple[int, int]) -> tuple[int, int]:
        row, column = cell
        index = self.grid.scroll_to_row(row, QAbstractItemView.ScrollHint.PositionAtCenter)
        if index.isValid():
            index = index.siblingAtColumn(column)
            self.grid.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.grid.view.scrollTo(index)
        at = self.matches.index(cell) + 1
        total = f"{len(self.matches):,}" + ("" if self.finished else "+")
        self.count.setText(f"{at:,} of {total}")
        return cell
