"""Columns fitted to the texts of the rows in view (ui/widgets/column_fit.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView

from desktop_app.ui.widgets.column_fit import COLUMN_MAX_PX, COLUMN_MIN_PX, fit_columns_to_rows_in_view


def test_columns_fit_the_widest_text_in_view_within_bounds(qtbot: Any) -> None:
    model = QStandardItemModel(1000, 4)
    model.setHorizontalHeaderLabels(["id", "a rather long header", "note", "body"])
    for row in range(1000):
        model.setItem(row, 0, QStandardItem(str(row)))
        model.setItem(row, 1, QStandardItem("x"))
        model.setItem(row, 2, QStandardItem("short" if row < 900 else "a note far down, never in view"))
        model.setItem(row, 3, QStandardItem("w" * 200))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 300)
    view.show()
    fit_columns_to_rows_in_view(view)
    metrics = view.fontMetrics()
    widths = [view.columnWidth(c) for c in range(4)]
    assert widths[1] >= metrics.horizontalAdvance("a rather long header")  # the header counts
    assert COLUMN_MIN_PX <= widths[0] < widths[1]
    assert widths[2] < metrics.horizontalAdvance("a note far down, never in view")  # rows out of view do not
    assert widths[3] == COLUMN_MAX_PX  # a very long text is elided, not given the whole width
    view.scrollToBottom()
    fit_columns_to_rows_in_view(view)
    assert view.columnWidth(2) >= metrics.horizontalAdvance("a note far down, never in view")
