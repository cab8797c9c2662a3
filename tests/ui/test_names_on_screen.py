"""Names and labels on screen: a table named "" is labelled `(empty name)` in italics everywhere, with its
exact quoted name in a tooltip, and can be used in every pane (the Blobs pane included); labels a narrow
tree cuts have their whole text as tooltip; earlier snapshots are named by time, not "generation"."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from desktop_app.ui.widgets.full_text_tips import full_text_tip
from desktop_app.ui.widgets.names import EMPTY_NAME
from tests.fixtures import script_database
from tests.ui.helpers import close_window, make_window, open_in, wait_for

LONG_COLUMN = "the_customers_preferred_delivery_address_second_line"


def empty_named_database(path: Path) -> Path:
    return script_database(
        path,
        """
        CREATE TABLE "" (id INTEGER PRIMARY KEY, b BLOB, t TEXT);
        INSERT INTO "" VALUES (1, x'00ff10', 'a needle here'), (2, x'01', 'none');
        CREATE TABLE other (x TEXT);
        """,
    )


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


async def test_cut_tree_labels_have_their_whole_text_as_tooltip(qtbot: object, tmp_path: Path) -> None:
    path = script_database(tmp_path / "long.db", f"CREATE TABLE t ({LONG_COLUMN} TEXT, x INTEGER)")
    window = make_window(tmp_path)
    await open_in(window, path)
    window.schema_tree.parentWidget().setSizes([260, window.width() - 260])
    tree = window.schema_tree.tree
    table = window.schema_tree._table_items["t"]
    table.setExpanded(True)
    await asyncio.sleep(0.05)
    long_column, short_column = table.child(0), table.child(1)
    tip = full_text_tip(tree, tree.indexFromItem(long_column, 0))
    assert tip == f"{LONG_COLUMN}  TEXT"
    assert full_text_tip(tree, tree.indexFromItem(short_column, 0)) is None  # shown whole: no tooltip
    assert full_text_tip(tree, tree.indexFromItem(table, 0)) is None  # has its own tooltip (its name)
    await close_window(window)


async def test_changes_pane_says_when_a_snapshot_was_taken_not_its_generation(
    qtbot: object, tmp_path: Path
) -> None:
    path = empty_named_database(tmp_path / "gens.db")
    window = make_window(tmp_path)
    await open_in(window, path)
    first = window.session.snapshot.generation  # type: ignore[union-attr]
    window.reload()
    await wait_for(lambda: window.session.snapshot.generation != first and not window.session.busy)  # type: ignore[union-attr]
    pane = window.panes.changes
    texts = [pane.side_a.itemText(i) for i in range(pane.side_a.count())]
    texts += [pane.timeline_list.item(i).text() for i in range(pane.timeline_list.count())]
    texts += [w.text() for w in pane.findChildren(QLabel) + pane.findChildren(QAbstractButton)]
    texts += [w.toolTip() for w in pane.findChildren(QWidget)]
    assert any(re.fullmatch(r"As it was at \d\d:\d\d:\d\d", t) for t in texts), texts
    assert not [t for t in texts if "generation" in t.lower()]
    await close_window(window)
