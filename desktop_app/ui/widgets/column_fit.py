"""Column widths from the texts of the rows in view, measured without asking the model for every role.

`QTableView.resizeColumnsToContents` asks a Python model for a dozen roles of each cell in view (the
Recovered pane's 30 rows x 15 columns: 2,300 calls, 15-22 ms on the GUI thread), then repaints the grid
a second time on a timer. This reads each cell's text once and resizes with the header's signals
blocked, so the grid is painted once, at its new widths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QTableView

#: A fitted column's least and greatest width in pixels (wider texts are elided; the user may widen it).
COLUMN_MIN_PX, COLUMN_MAX_PX = 40, 320
#: Pixels beside a cell's text (the style's margins and the focus frame).
_TEXT_PADDING_PX = 16


def fit_columns_to_rows_in_view(
    view: QTableView, row_texts: Callable[[int], Sequence[str]] | None = None
) -> None:
    """Give each column of `view` the width of its widest text among the header and the rows in view.

    `row_texts(row)`, when given, says what a row of the view's model shows, a text per column, quicker than
    Qt's `data()` of each cell (a call into Python and back: 2 ms for the Recovered pane's 300 cells)."""
    model = view.model()
    if model is None:
        return
    # Lay the rows out now, not at the next paint: laid out then, the scroll bars appear after that paint
    # and the grid is painted a second time.
    view.executeDelayedItemsLayout()
    metrics = view.fontMetrics()
    first = max(view.rowAt(0), 0)
    row_height = max(view.verticalHeader().defaultSectionSize(), 1)
    last = min(model.rowCount(), first + view.viewport().height() // row_height + 2)
    columns = range(model.columnCount())
    if row_texts is None:
        rows = [
            [str(model.index(row, column).data() or "") for column in columns] for row in range(first, last)
        ]
    else:
        rows = [row_texts(row) for row in range(first, last)]
    header = view.horizontalHeader()
    with QSignalBlocker(header):
        for column in columns:
            texts = [str(model.headerData(column, Qt.Orientation.Horizontal) or "")]
            texts += [row[column] for row in rows]
            widest = max(metrics.horizontalAdvance(text) for text in texts) + _TEXT_PADDING_PX
            header.resizeSection(column, max(COLUMN_MIN_PX, min(widest, COLUMN_MAX_PX)))
    view.updateGeometries()
    view.viewport().update()
