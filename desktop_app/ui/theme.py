"""The window's colours for meaning (error, dim, success, information, bad input), in one place.

Each is chosen for the palette in use, so a message stays readable on a dark theme: call these when a
widget is styled, not at import time (the application and its palette may not exist yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class BoxColours:
    """Colours of a box that stands out from the window: a warning or an error (colour names)."""

    background: str
    border: str
    text: str


def palette() -> QPalette:
    """The application's palette (a default one before the application exists)."""
    app = QGuiApplication.instance()
    return app.palette() if isinstance(app, QGuiApplication) else QPalette()


def is_dark() -> bool:
    """True when text is drawn light on dark (a dark theme)."""
    return palette().color(QPalette.ColorRole.Base).lightness() < 128


def _pick(light: str, dark: str) -> QColor:
    return QColor(dark if is_dark() else light)


def error_colour() -> QColor:
    """Text of errors: what failed, a value that could not be read."""
    return _pick("#b00020", "#ff8a80")


def ok_colour() -> QColor:
    """Text that confirms something worked."""
    return _pick("#26734d", "#7bd88f")


def warning_colour() -> QColor:
    """Text of a warning line."""
    return _pick("#8a5a00", "#f0c674")


def info_colour() -> QColor:
    """Text of a neutral notice."""
    return _pick("#1f5fa8", "#8ab4f8")


def link_colour(*, inferred: bool = False) -> QColor:
    """Text of a value that leads somewhere (a foreign key); a guessed link is drawn fainter."""
    colour = QColor(palette().color(QPalette.ColorRole.Link))
    if inferred:
        colour.setAlpha(150)
    return colour


def match_colours() -> tuple[QColor, QColor]:
    """(background, text) of a search match inside a value: a marker yellow under black on any theme."""
    return QColor("#ffd966"), QColor("#000000")


def dim_colour() -> QColor:
    """Text that matters less (hints, notes): the window's text colour, 45% of the way to its background."""
    text, window = palette().color(QPalette.ColorRole.WindowText), palette().color(QPalette.ColorRole.Window)
    mix = [round(t * 0.55 + w * 0.45) for t, w in zip(text.getRgb()[:3], window.getRgb()[:3], strict=True)]
    return QColor(*mix)


def disabled_text_colour() -> QColor:
    """Text that stands for no value (NULL, rows still loading): the palette's disabled text."""
    return palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def text_style(colour: QColor, *, bold: bool = False) -> str:
    """A style sheet giving a label's text `colour`."""
    return f"color: {colour.name()};" + (" font-weight: bold;" if bold else "")


def error_style(*, bold: bool = False) -> str:
    """A style sheet for a label that shows an error."""
    return text_style(error_colour(), bold=bold)


def dim_style() -> str:
    """A style sheet for a label of lesser importance."""
    return text_style(dim_colour())


def ok_style() -> str:
    """A style sheet for a label that confirms success."""
    return text_style(ok_colour())


def warning_box() -> BoxColours:
    """A box that asks for attention: banners, warnings, rolled-back rows."""
    if is_dark():
        return BoxColours("#4a3f1a", "#8a7332", "#f5e6b3")
    return BoxColours("#fff4ce", "#e0c97f", "#4d3a00")


def error_box() -> BoxColours:
    """A box that says something failed: an error message, a failed row, input not accepted."""
    if is_dark():
        return BoxColours("#4a1f1f", "#a04040", "#ffb4ab")
    return BoxColours("#fde2e2", "#b42828", "#8a1010")


def box_style(selector: str, box: BoxColours, *, radius: int = 4) -> str:
    """A style sheet drawing `selector` as `box`: its background and a thin border."""
    return (
        f"{selector} {{ background: {box.background}; border: 1px solid {box.border}; "
        f"border-radius: {radius}px; }}"
    )


def bad_input_style(selector: str = "QLineEdit") -> str:
    """A style sheet marking the input of `selector` as not accepted (the error box's background)."""
    return f"{selector} {{ background: {error_box().background}; }}"
