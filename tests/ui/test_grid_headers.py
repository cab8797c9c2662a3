"""Grid headers: every grid's column titles have a tooltip with the full title (a long one is cut on
screen), and the hex view's ASCII column keeps its width in a narrow pane (the view scrolls instead)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt

from desktop_app.core.migrations.model import AppliedMigration
from desktop_app.ui.panes.blobs.hex_view import ROW_BYTES, HexView
from desktop_app.ui.panes.functions.function_list import FunctionListModel
from desktop_app.ui.panes.migrations.views import HistoryModel
from desktop_app.ui.panes.search.results import SearchResultsModel

LONG = "a_very_long_tool_specific_column_name_that_no_header_section_shows_whole"


def titles_and_tips(model: QAbstractItemModel) -> list[tuple[Any, Any]]:
    horizontal = Qt.Orientation.Horizontal
    return [
        (
            model.headerData(s, horizontal, Qt.ItemDataRole.DisplayRole),
            model.headerData(s, horizontal, Qt.ItemDataRole.ToolTipRole),
        )
        for s in range(model.columnCount())
    ]


def test_every_grid_header_has_its_full_title_as_tooltip(qtbot: Any) -> None:
    history = HistoryModel()
    history.set_history([AppliedMigration("1", extra={LONG: "x"})])
    hex_view = HexView()
    qtbot.addWidget(hex_view)
    models = [history, hex_view.model, FunctionListModel(), SearchResultsModel()]
    for model in models:
        pairs = titles_and_tips(model)
        assert pairs and all(title and tip and str(title) in str(tip) for title, tip in pairs), (model, pairs)
    assert LONG.replace("_", " ") in [tip for _title, tip in titles_and_tips(history)]


def test_hex_view_ascii_column_keeps_the_width_of_its_text_and_a_narrow_pane_scrolls(qtbot: Any) -> None:
    view = HexView()
    qtbot.addWidget(view)
    view.resize(380, 300)
    view.show()
    view.set_blob(1000, None)
    qtbot.waitExposed(view)
    for width in (1200, 300):  # resized by the user: wider, then narrower than the dump
        view.resize(width, 300)
        qtbot.waitUntil(lambda w=width: view.table.viewport().width() in range(w - 30, w))
    table = view.table
    ascii_width = table.fontMetrics().horizontalAdvance("W" * ROW_BYTES)
    # The ASCII column has the width of its text whatever the view's history (a stretched last column
    # was cut to the default section width when the view started narrow).
    assert ascii_width <= table.columnWidth(2) <= ascii_width + 32, (table.columnWidth(2), ascii_width)
    whole = sum(table.columnWidth(c) for c in range(3))
    # The narrow view scrolls to the end of the ASCII column.
    assert table.horizontalScrollBar().maximum() >= whole - table.viewport().width() > 0
