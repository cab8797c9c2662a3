"""`python -m tests.screenshots` writes a named PNG per pane, theme and size (one of each here)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from desktop_app.ui import theme
from tests.screenshots import shoot


async def test_one_pane_one_theme_one_size_is_shot_into_the_folder(qtbot: object, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    notes: list[str] = []
    written = await shoot(
        out, panes=["sql"], themes=["dark"], sizes=[(1920, 1080)], rows=200, report=notes.append
    )
    assert written == [out / "sql-dark-1920x1080.png"]
    assert sorted(p.name for p in out.iterdir()) == ["sql-dark-1920x1080.png"]
    image = QImage(str(written[0]))
    assert (image.width(), image.height()) == (1920, 1080) and notes == []
    # Dark: the editor's background is the dark theme's, the shot is not blank.
    assert image.pixelColor(image.width() // 2, image.height() // 4).lightness() < 80
    assert not theme.is_dark()  # the theme in use before is given back
