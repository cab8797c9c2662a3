"""Table names on screen: a table named "" is labelled `(empty name)` in italics everywhere, with its
exact quoted name in a tooltip, and can be used in every pane (the Blobs pane included)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt

from desktop_app.ui.widgets.names import EMPTY_NAME
from tests.ui.helpers import close_window, make_window, open_in, wait_for


def empty_named_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE "" (id INTEGER PRIMARY KEY, b BLOB, t TEXT);
        INSERT INTO "" VALUES (1, x'00ff10', 'a needle here'), (2, x'01', 'none');
        CREATE TABLE other (x TEXT);
        """
    )
    conn.close()
    return path


async def test_empty_named_table_is_labelled_everywhere_and_usable_in_blobs(
    qtbot: object, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    await open_in(window, empty_named_database(tmp_path / "empty.db"))

    item = window.schema_tree._table_items[""]
    assert (item.text(0), item.font(0).italic()) == (EMPTY_NAME, True)
    assert '""' in item.toolTip(0)

    picker = window.panes["browse"].picker
    index = picker.findData("")
    assert picker.itemText(index).startswith(EMPTY_NAME)
    assert picker.itemData(index, Qt.ItemDataRole.ToolTipRole) == '""'
    assert picker.itemData(index, Qt.ItemDataRole.FontRole).italic()

    blobs = window.panes["blobs"]
    window.show_pane(blobs)
    index = blobs.table_box.findData("")
    assert blobs.table_box.itemText(index) == EMPTY_NAME
    blobs.table_box.setCurrentIndex(index)
    blobs.table_box.activated.emit(index)
    await wait_for(lambda: blobs.summary is not None, message="the first value of the empty-named table")
    assert blobs.viewer.details["Cell"].text() == f"{EMPTY_NAME}.b · rowid 1"
    assert blobs.viewer.details["Size"].text().endswith("(3 bytes)")
    assert blobs.export_button.isEnabled()
    blobs.step(1)
    await wait_for(lambda: blobs.row_box.text() == "2", message="the next row")

    search = window.panes["search"]
    window.show_pane(search)
    search.query.setText("needle")
    search.search_now()
    await wait_for(lambda: not search.searching and search.results.hit_count, message="the search")
    name = search.results.item(0, 0)
    assert name.text().startswith(EMPTY_NAME + "  (") and name.font().italic()
    assert name.toolTip().startswith('"":')
    await close_window(window)
