"""The emoji fallback font: chosen from the system's families when there is one, nothing changed otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from desktop_app.ui import fonts
from desktop_app.ui.fonts import emoji_family, install_emoji_fallback, with_emoji_fallback

LINUX = ["DejaVu Sans", "Liberation Serif", "noto color emoji", "Noto Emoji"]


def test_the_preferred_emoji_family_is_chosen_whatever_its_case() -> None:
    assert emoji_family(LINUX) == "noto color emoji"
    assert emoji_family(["Arial", "Segoe UI Emoji", "Segoe UI"]) == "Segoe UI Emoji"
    assert emoji_family(["Helvetica", "Symbola"]) == "Symbola"
    assert emoji_family(["DejaVu Sans", "Liberation Mono"]) is None


def test_the_font_keeps_its_families_and_gains_the_emoji_one_last() -> None:
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Liberation Sans"])
    fallback = with_emoji_fallback(font, LINUX)
    assert fallback is not None and fallback.families() == [
        "DejaVu Sans",
        "Liberation Sans",
        "noto color emoji",
    ]
    assert fallback.pointSizeF() == font.pointSizeF()
    assert with_emoji_fallback(fallback, LINUX) is None  # already there
    assert with_emoji_fallback(font, ["DejaVu Sans"]) is None  # the system has none: nothing changes


@pytest.mark.parametrize(("system", "expected"), [(LINUX, "noto color emoji"), (["DejaVu Sans"], None)])
def test_install_sets_the_application_font_only_when_an_emoji_font_exists(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, system: list[str], expected: str | None
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.font()
    monkeypatch.setattr(fonts.QFontDatabase, "families", staticmethod(lambda *_args: system))
    try:
        assert install_emoji_fallback(app) == expected
        families = app.font().families()
        assert (families[-1] == expected) if expected else families == before.families()
    finally:
        app.setFont(before)
