"""A table whose pages are corrupt: the grid says so where the rows would be, and keeps the rows it read."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop_app.ui.models import cell_format
from desktop_app.ui.panes.browse.pane import BrowsePane
from tests.conftest import folder_state
from tests.ui.test_browse import browse

ROWS = 5000


def make_corrupt_table(path: Path) -> int:
    """A table of `ROWS` rows over ~200 pages, five middle pages overwritten: the schema loads, scans fail.

    Returns how many rows a scan reads before it fails.
    """
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, label TEXT)")
    conn.execute(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
        "INSERT INTO big SELECT i, 'row ' || i || ' ' || printf('%.150c', 'x') FROM s",
        (ROWS,),
    )
    conn.commit()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        for number in range(pages // 2, pages // 2 + 5):  # leaf pages in the middle of the table
            handle.seek((number - 1) * page_size)
            handle.write(b"\xa5" * page_size)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    readable, failing = 0, ROWS  # the longest prefix a scan reads: bisect on LIMIT
    try:
        while failing - readable > 1:
            middle = (readable + failing) // 2
            try:
                conn.execute("SELECT count(*) FROM (SELECT id FROM big LIMIT ?)", (middle,)).fetchone()
                readable = middle
            except sqlite3.DatabaseError as exc:
                assert "malformed" in str(exc)
                failing = middle
    finally:
        conn.close()
    assert 0 < readable < ROWS - 100
    return readable


async def _until(condition: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the grid did not settle"
        await asyncio.sleep(0.02)


def _visible(pane: BrowsePane, row: int) -> bool:
    return 0 <= pane.view.rowViewportPosition(row) < pane.view.viewport().height()


async def test_corrupt_pages_show_the_error_over_the_grid_and_keep_the_readable_rows(
    qtbot: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "corrupt.db"
    readable = make_corrupt_table(db)
    before = folder_state(folder)
    async with browse(qtbot, tmp_path, db) as pane:
        pane.show_table("big")
        model = pane.model
        await _until(lambda: model.count_error is not None)
        pane.scroll_to_row(readable - 4, select=False)
        await _until(lambda: model.first_unreadable_row is not None and not model.busy)
        await _until(lambda: model.is_loaded(readable - 1))
        assert _visible(pane, readable - 1) and _visible(pane, readable)
        pane.grab().save(str(tmp_path / "corrupt.png"))

        # Every row before the damage is shown as read, down to the last one; the next says why not.
        assert model.first_unreadable_row == readable
        assert model.row_values(readable - 1)[0] == readable  # type: ignore[index]
        assert model.index(readable - 1, 0).data() == str(readable)
        assert model.index(readable, 1).data() == cell_format.UNREADABLE
        assert "malformed" in model.index(readable, 1).data(Qt.ItemDataRole.ToolTipRole)
        assert model.rowCount() >= readable + 1

        # The error is written over the grid itself, not only in the status line.
        message = pane.read_error
        assert message.isVisible() and message.parent() is pane.view
        assert f"row {readable + 1:,}" in message.label.text()
        assert "malformed" in message.label.text() and "damaged" in message.label.text()
        assert pane.view.rect().contains(message.geometry())

        # Reopening the table starts clean; the message comes back only with the error.
        pane.model.set_source(None)
        assert not message.isVisible()
    assert folder_state(folder) == before
