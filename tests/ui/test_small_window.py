"""Small windows and high-DPI screens: every pane works at 1024×600 with the sidebar at least 220 px wide
(toolbars wrap instead of widening their pane), the sidebar's Rows column narrows with the sidebar, and
image previews are drawn in device pixels."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from desktop_app.ui.panes.blobs import image_view
from tests.ui.helpers import close_window, make_window, open_in

SMALL = (1024, 600)
SIDEBAR_MIN = 220


async def test_every_pane_fits_a_1024x600_window_beside_a_220px_sidebar(
    qtbot: object, tmp_path: Path, corpus: Path
) -> None:
    window = make_window(tmp_path)
    window.resize(*SMALL)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    tabs = window.tabs
    # What the window needs besides the pane: the sidebar, the splitter handle, the tab bar and frame.
    frame_width = tabs.minimumSizeHint().width() - max(
        p.minimumSizeHint().width() for p in window.panes.values()
    )
    chrome_height = window.minimumSizeHint().height() - tabs.minimumSizeHint().height()
    too_big = {
        name: (hint.width(), hint.height())
        for name, pane in window.panes.items()
        if (hint := pane.minimumSizeHint()).width() + frame_width + SIDEBAR_MIN + 8 > SMALL[0]
        or hint.height() + chrome_height > SMALL[1]
    }
    assert not too_big, too_big
    minimum = window.minimumSizeHint()
    assert minimum.width() <= SMALL[0] and minimum.height() <= SMALL[1], minimum
    for pane in window.panes.values():
        window.show_pane(pane)
        await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert window.width() == SMALL[0] and window.schema_tree.width() >= SIDEBAR_MIN, (
            type(pane).__name__,
            window.width(),
            window.schema_tree.width(),
        )
    await close_window(window)


async def test_narrow_sidebar_narrows_the_rows_column(qtbot: object, tmp_path: Path, corpus: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    split = window.schema_tree.parentWidget()
    split.setSizes([150, window.width() - 150])
    await asyncio.sleep(0.1)
    tree = window.schema_tree.tree
    assert tree.columnWidth(1) <= tree.viewport().width() // 3 + 1
    assert tree.columnWidth(0) >= tree.viewport().width() // 2
    await close_window(window)


def test_image_preview_is_drawn_in_device_pixels_on_a_2x_screen(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_view._Canvas, "devicePixelRatioF", lambda _self: 2.0)
    canvas = image_view._Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    image = QImage(1000, 500, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    canvas.set_image(image)
    scaled = canvas._scaled
    points = scaled.deviceIndependentSize().toSize()
    assert scaled.devicePixelRatio() == 2.0
    assert (scaled.width(), scaled.height()) == (points.width() * 2, points.height() * 2)
    assert points.width() <= 400 and points.width() == round(1000 * canvas.scale)
