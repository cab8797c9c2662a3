"""The theme: light and dark palettes, readable colour pairs, every colour from theme.py, and the switch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop_app.ui import theme
from desktop_app.ui.theme import DARK, LIGHT, Scheme, ThemeChoice
from tests.fixtures import build_edge_case_database
from tests.ui.helpers import close_window, make_window, open_in

UI = Path(__file__).resolve().parents[2] / "desktop_app" / "ui"

#: A colour written in code: "#rgb"/"#rrggbb"/"#aarrggbb" in a string, QColor of literal numbers or a
#: quoted name, one of Qt's named colours, or rgb()/rgba() in a style sheet.
LITERAL_COLOUR = re.compile(
    r"""["'][^"'\n]*#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3}(?:[0-9a-fA-F]{2})?)?\b"""
    r"""|QColor\(\s*(?:\d|["'])|GlobalColor\.|\brgba?\("""
)


def test_no_colour_is_written_outside_theme_py() -> None:
    offenders = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "theme.py" and path.parent == UI:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if LITERAL_COLOUR.search(line):
                offenders.append(f"{path.relative_to(UI)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_literal_colour_check_catches_each_form() -> None:
    for line in ('QColor("#1a73e8")', "QColor(0, 0, 0, 60)", "x = '#fafafa'", "Qt.GlobalColor.darkGray",
                 '"QLabel { background: #e6f4ea; }"', '"color: rgb(1, 2, 3)"'):  # fmt: skip
        assert LITERAL_COLOUR.search(line), line
    for line in ('box_style("#banner", box)', 'f"#{name}"', "QColor(colours.text)", "# a comment"):
        assert not LITERAL_COLOUR.search(line), line


def _luminance(name: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    colour = QColor(name)
    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_pairs(s: Scheme) -> list[tuple[str, str, str]]:
    """(what, text colour, background) of every pair a user reads in the theme `s`."""
    pairs = [
        ("text on base", s.text, s.base),
        ("text on alternate rows", s.text, s.alternate_base),
        ("window text", s.window_text, s.window),
        ("button text", s.window_text, s.button),
        ("selected text", s.highlighted_text, s.highlight),
        ("tooltip", s.text, s.tooltip_base),
        ("placeholder", s.placeholder, s.base),
        ("search match", s.match_text, s.match_background),
        ("diagram names", s.diagram_text, s.diagram_box),
    ]
    for name in ("error", "ok", "warning", "info", "dim", "blob", "user_function", "link"):
        pairs.append((f"{name} on base", getattr(s, name), s.base))
        pairs.append((f"{name} on window", getattr(s, name), s.window))
    for name in ("diff_added", "diff_removed", "diff_changed", "plan_scan", "plan_big_scan"):
        pairs.append((f"text on {name}", s.text, getattr(s, name)))
    for token, colour in s.sql.items():
        pairs.append((f"SQL {token}", colour, s.base))
    for kind, fill in s.diagram_fill.items():
        pairs.append((f"diagram {kind} header", s.diagram_text, fill))
    for name in ("warning_box", "error_box", "ok_box"):
        box = getattr(s, name)
        pairs.append((name, box.text, box.background))
    return pairs


@pytest.mark.parametrize("scheme", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_colour_pair_has_wcag_aa_contrast(scheme: Scheme) -> None:
    low = [
        f"{what}: {fg} on {bg} = {contrast(fg, bg):.2f}"
        for what, fg, bg in text_pairs(scheme)
        if contrast(fg, bg) < 4.5
    ]
    assert low == []


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.fixture
def light_again() -> Iterator[None]:
    """The test may switch themes; the next test starts light, as the test run does."""
    yield
    theme.apply_theme(ThemeChoice.LIGHT)


def _base(app: QApplication) -> QColor:
    return app.palette().color(QPalette.ColorRole.Base)


async def test_view_theme_dark_recolours_the_window_and_is_remembered(
    tmp_path: Path, light_again: None
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = make_window(tmp_path)
    try:
        await open_in(window, build_edge_case_database(tmp_path / "edge.db"))
        tree = window.schema_tree.tree
        tables = tree.topLevelItem(0)
        column = tables.child(0).child(0)  # a column of the first table: its PK/FK note is dim
        assert column.foreground(1).color().name() == LIGHT.dim
        window.theme_actions[ThemeChoice.DARK].trigger()
        assert column.foreground(1).color().name() == DARK.dim
        assert _base(app).name() == DARK.base
        assert theme.is_dark() and theme.error_colour().name() == DARK.error
        assert window.theme_actions[ThemeChoice.DARK].isChecked()
        # Styled once at creation, styled again for the new theme.
        assert DARK.warning_box.background in window.banner.styleSheet()
        window.settings.sync()
        assert theme.read_choice(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)) is (
            ThemeChoice.DARK
        )
        window.theme_actions[ThemeChoice.LIGHT].trigger()
        assert _base(app).name() == LIGHT.base
        assert LIGHT.warning_box.background in window.banner.styleSheet()
    finally:
        await close_window(window)


def test_system_choice_follows_the_desktop_switching_to_dark(light_again: None) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(ThemeChoice.SYSTEM)
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert _base(app).name() == DARK.base
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert _base(app).name() == LIGHT.base
    # A manual choice is kept whatever the desktop does.
    theme.apply_theme(ThemeChoice.LIGHT)
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert _base(app).name() == LIGHT.base


def test_an_unknown_stored_theme_reads_as_system(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(theme.THEME_KEY, "purple")
    assert theme.read_choice(settings) is ThemeChoice.SYSTEM
