"""A window remembers its size, its splitters, and per database the pane and table last shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QRect

from desktop_app.ui.shell import window_state
from desktop_app.ui.shell.window_state import MIN_SIZE, fit_on_screen
from tests.fixtures import build_edge_case_database
from tests.ui.helpers import close_window, make_window, open_in


def test_a_window_saved_on_a_bigger_screen_fits_the_smaller_one() -> None:
    small = QRect(0, 0, 1024, 600)
    assert fit_on_screen(QRect(1500, 900, 1800, 1000), small) == QRect(0, 0, 1024, 600)
    # Too small to use: grown to the smallest usable size, and kept inside the screen.
    assert fit_on_screen(QRect(900, 500, 400, 300), small) == QRect(
        1024 - MIN_SIZE[0], 600 - MIN_SIZE[1], *MIN_SIZE
    )
    assert fit_on_screen(QRect(-300, -50, 800, 500), small) == QRect(0, 0, 800, 500)
    # A second screen to the left (negative coordinates) keeps its windows.
    left = QRect(-1920, 0, 1920, 1080)
    assert fit_on_screen(QRect(-1800, 100, 1200, 700), left) == QRect(-1800, 100, 1200, 700)


async def test_reopening_a_database_shows_the_pane_table_and_sizes_left(
    qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The offscreen screen is 800×800; this test stands on a full-HD one.
    monkeypatch.setattr(window_state, "_available", lambda _frame: QRect(0, 0, 1920, 1080))
    path = build_edge_case_database(tmp_path / "edge.db")
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        window.resize(1300, 700)
        window.panes.browse.show_table("child")
        window.show_pane(window.panes.structure)
        window.main_splitter.setSizes([150, 1150])
        await asyncio.sleep(0.05)
        size, tree_width = window.size(), window.main_splitter.sizes()[0]
    finally:
        await close_window(window)

    again = make_window(tmp_path)
    try:
        assert again.size() == size
        await open_in(again, path)
        await asyncio.sleep(0.05)
        assert abs(again.main_splitter.sizes()[0] - tree_width) <= 2
        assert again.panes.browse.table is not None and again.panes.browse.table.name == "child"
        assert again.tabs.currentWidget() is again.panes.structure
    finally:
        await close_window(again)

    # The same settings on a smaller screen: the window starts inside it.
    monkeypatch.setattr(window_state, "_available", lambda _frame: QRect(0, 0, 1024, 600))
    small = make_window(tmp_path)
    try:
        assert small.y() >= 0 and small.y() + small.height() <= 600
    finally:
        await close_window(small)


async def test_a_table_that_is_gone_falls_back_to_the_first_table(qtbot: object, tmp_path: Path) -> None:
    import sqlite3

    path = build_edge_case_database(tmp_path / "edge.db")
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        window.panes.browse.show_table("child")
        window.close_database()
    finally:
        await close_window(window)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE child")
    conn.close()
    again = make_window(tmp_path)
    try:
        await open_in(again, path)
        assert again.panes.browse.table is not None and again.panes.browse.table.name != "child"
        assert again.tabs.currentWidget() is again.panes.browse
    finally:
        await close_window(again)
