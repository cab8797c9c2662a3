"""The window's colours, in one place: the light and dark palettes, and every colour that carries meaning
(errors, highlights, diff rows, SQL tokens, the structure diagram) for each of them.

No other module names a colour (a test enforces it). Call these when a widget is styled or painted, not at
import time: the application and its palette may not exist yet, and the theme can change while the
program runs (View → Theme, or the system switching to dark). Widgets styled once with a style sheet use
`follow` so they are styled again when it changes.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.ui.settings import read_str

THEME_KEY = "view/theme"


class ThemeChoice(enum.StrEnum):
    """What View → Theme offers: follow the system, or always light, or always dark."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class BoxColours:
    """Colours of a box that stands out from the window: a warning or an error (colour names)."""

    background: str
    border: str
    text: str


@dataclass(frozen=True)
class Scheme:
    """Every colour of one theme, as colour names ("#rrggbb", or "#aarrggbb" for a tint)."""

    # The palette.
    window: str
    window_text: str
    base: str
    alternate_base: str
    text: str
    button: str
    highlight: str
    highlighted_text: str
    link: str
    tooltip_base: str
    disabled_text: str
    placeholder: str
    mid: str
    # Text that carries meaning, on the base or the window.
    error: str
    ok: str
    warning: str
    info: str
    dim: str
    blob: str
    user_function: str
    # A search match inside a value.
    match_background: str
    match_text: str
    # Rows of the Changes pane (drawn under `text`), and flagged query-plan steps.
    diff_added: str
    diff_removed: str
    diff_changed: str
    plan_scan: str
    plan_big_scan: str
    # The SQL editor.
    sql: dict[str, str]
    current_line: str
    error_line: str
    error_token: str
    # The structure diagram and its space chart.
    diagram_canvas: str
    diagram_box: str
    diagram_frame: str
    diagram_text: str
    diagram_fill: dict[str, str]
    diagram_edge: str
    diagram_inferred: str
    chart_content: str
    chart_overflow: str
    chart_unused: str
    # The checkerboard behind transparent images, and shadows.
    checker_light: str
    checker_dark: str
    image_frame: str
    shadow: str
    warning_box: BoxColours
    error_box: BoxColours
    ok_box: BoxColours


#: Every colour as (light, dark), side by side so each pair is chosen (and checked) together.
_COLOURS: dict[str, Any] = {
    "window": ("#efefef", "#2b2b2b"),
    "window_text": ("#1a1a1a", "#e6e6e6"),
    "base": ("#ffffff", "#1e1e1e"),
    "alternate_base": ("#f5f5f5", "#252525"),
    "text": ("#1a1a1a", "#e6e6e6"),
    "button": ("#e8e8e8", "#3a3a3a"),
    "highlight": ("#2f65ca", "#2f5fb3"),
    "highlighted_text": ("#ffffff", "#ffffff"),
    "link": ("#1a5fb4", "#8ab4f8"),
    "tooltip_base": ("#ffffdc", "#3a3a3a"),
    "disabled_text": ("#8a8a8a", "#7d7d7d"),
    "placeholder": ("#6b6b6b", "#9a9a9a"),
    "mid": ("#b8b8b8", "#4a4a4a"),
    "error": ("#b00020", "#ff8a80"),
    "ok": ("#1e6b45", "#7bd88f"),
    "warning": ("#7a4f00", "#f0c674"),
    "info": ("#1f5fa8", "#8ab4f8"),
    "dim": ("#595959", "#a8a8a8"),
    "blob": ("#1f5f8f", "#7fc1ea"),
    "user_function": ("#1a5fb4", "#8ab4f8"),
    "match_background": ("#ffd966", "#ffd966"),
    "match_text": ("#000000", "#000000"),
    "diff_added": ("#d9f2e3", "#1f3d2b"),
    "diff_removed": ("#fbdcdc", "#4a2020"),
    "diff_changed": ("#fbecb8", "#463b14"),
    "plan_scan": ("#fff4ce", "#463b14"),
    "plan_big_scan": ("#fde2e2", "#4a2020"),
    "current_line": ("#1c788cc8", "#1e8ca0ff"),
    "error_line": ("#28e63c3c", "#40e63c3c"),
    "error_token": ("#3cff5050", "#60ff5050"),
    "diagram_canvas": ("#fafafa", "#1e1e1e"),
    "diagram_box": ("#ffffff", "#2b2b2b"),
    "diagram_frame": ("#5f6368", "#8a8f98"),
    "diagram_text": ("#202124", "#e6e6e6"),
    "diagram_edge": ("#1a73e8", "#8ab4f8"),
    "diagram_inferred": ("#9aa0a6", "#8a8f98"),
    "chart_content": ("#1a73e8", "#5b9cf0"),
    "chart_overflow": ("#f29900", "#f0a030"),
    "chart_unused": ("#bdc1c6", "#5f6368"),
    "checker_light": ("#ffffff", "#4a4a4a"),
    "checker_dark": ("#e3e3e3", "#3a3a3a"),
    "image_frame": ("#3c000000", "#50ffffff"),
    "shadow": ("#46000000", "#8c000000"),
    "warning_box": (BoxColours("#fff4ce", "#e0c97f", "#4d3a00"), BoxColours("#4a3f1a", "#8a7332", "#f5e6b3")),
    "error_box": (BoxColours("#fde2e2", "#b42828", "#8a1010"), BoxColours("#4a1f1f", "#a04040", "#ffb4ab")),
    "ok_box": (BoxColours("#e6f4ea", "#5fae7f", "#0d652d"), BoxColours("#1f3d2b", "#4f8a63", "#b8f0c8")),
    # Colours by kind: the SQL editor's by token kind, the diagram's box fills by kind of table.
    "sql": {
        "keyword": ("#1f3fa6", "#7aa7ff"),
        "type": ("#0b6e63", "#5fd3c0"),
        "function": ("#7b2d9b", "#d7a3ff"),
        "string": ("#2a6e12", "#9ad27a"),
        "identifier": ("#7a4f00", "#f0c674"),
        "number": ("#a84800", "#ff9e64"),
        "param": ("#b0205e", "#ff7ab2"),
        "comment": ("#5f6368", "#9a9fa8"),
    },
    "diagram_fill": {
        "table": ("#e8f0fe", "#223a5e"),
        "view": ("#e6f4ea", "#1f3d2b"),
        "virtual": ("#fef7e0", "#463b14"),
        "other": ("#eeeeee", "#3a3a3a"),
    },
}


def _side(value: Any, dark: bool) -> Any:
    if isinstance(value, dict):
        return {name: _side(pair, dark) for name, pair in value.items()}
    return value[1] if dark else value[0]


LIGHT = Scheme(**{name: _side(pair, False) for name, pair in _COLOURS.items()})
DARK = Scheme(**{name: _side(pair, True) for name, pair in _COLOURS.items()})

#: Series colours of charts (Tableau 10): distinct, and readable on light and dark backgrounds.
CHART_SERIES = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip

#: The background of pictures written to files (a diagram saved as PNG): white, whatever the theme.
EXPORT_BACKGROUND = "#ffffff"


def palette() -> QPalette:
    """The application's palette (a default one before the application exists)."""
    app = QGuiApplication.instance()
    return app.palette() if isinstance(app, QGuiApplication) else QPalette()


def is_dark() -> bool:
    """True when text is drawn light on dark (a dark theme)."""
    return palette().color(QPalette.ColorRole.Base).lightness() < 128


def scheme() -> Scheme:
    """The colours of the theme in use."""
    return DARK if is_dark() else LIGHT


def chart_colours() -> tuple[str, str]:
    """A chart's background and the colour of its axes and labels, in the theme in use."""
    colours = scheme()
    return colours.base, colours.text


def colour(name: str) -> QColor:
    """`name` ("#rrggbb" or "#aarrggbb") as a QColor."""
    return QColor(name)


def error_colour() -> QColor:
    """Text of errors: what failed, a value that could not be read."""
    return QColor(scheme().error)


def ok_colour() -> QColor:
    """Text that confirms something worked."""
    return QColor(scheme().ok)


def warning_colour() -> QColor:
    """Text of a warning line."""
    return QColor(scheme().warning)


def info_colour() -> QColor:
    """Text of a neutral notice."""
    return QColor(scheme().info)


def link_colour(*, inferred: bool = False) -> QColor:
    """Text of a value that leads somewhere (a foreign key); a guessed link is drawn fainter."""
    colour = QColor(palette().color(QPalette.ColorRole.Link))
    if inferred:
        colour.setAlpha(150)
    return colour


def match_colours() -> tuple[QColor, QColor]:
    """(background, text) of a search match inside a value: a marker yellow under black on any theme."""
    return QColor(scheme().match_background), QColor(scheme().match_text)


def dim_colour() -> QColor:
    """Text that matters less (hints, notes, hidden objects), still readable (4.5:1 on the window)."""
    return QColor(scheme().dim)


def blob_colour() -> QColor:
    """Text of blob labels in a grid, set apart from text values."""
    return QColor(scheme().blob)


def disabled_text_colour() -> QColor:
    """Text that stands for no value (NULL, rows still loading): the palette's disabled text."""
    return palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def diff_colours() -> tuple[QColor, QColor, QColor]:
    """(added, removed, changed) row backgrounds of the Changes pane, under the palette's text."""
    s = scheme()
    return QColor(s.diff_added), QColor(s.diff_removed), QColor(s.diff_changed)


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
    return scheme().warning_box


def error_box() -> BoxColours:
    """A box that says something failed: an error message, a failed row, input not accepted."""
    return scheme().error_box


def ok_box() -> BoxColours:
    """A box that says all is well (a healthy database)."""
    return scheme().ok_box


def box_style(selector: str, box: BoxColours, *, radius: int = 4) -> str:
    """A style sheet drawing `selector` as `box`: its background and a thin border."""
    return (
        f"{selector} {{ background: {box.background}; border: 1px solid {box.border}; "
        f"border-radius: {radius}px; }}"
    )


def label_box_style(box: BoxColours, *, padding: int = 6) -> str:
    """A style sheet drawing a QLabel as `box`, its text in the box's colour."""
    return (
        f"QLabel {{ background: {box.background}; color: {box.text}; padding: {padding}px; "
        "border-radius: 3px; }"
    )


def bad_input_style(selector: str = "QLineEdit") -> str:
    """A style sheet marking the input of `selector` as not accepted (the error box's background)."""
    return f"{selector} {{ background: {error_box().background}; }}"


# ----- the palettes and switching between them ---------------------------------------------------------


def build_palette(colours: Scheme) -> QPalette:
    """A complete QPalette from `colours` (disabled text greyed in every group)."""
    role = QPalette.ColorRole
    result = QPalette()
    roles = {
        role.Window: colours.window,
        role.WindowText: colours.window_text,
        role.Base: colours.base,
        role.AlternateBase: colours.alternate_base,
        role.Text: colours.text,
        role.Button: colours.button,
        role.ButtonText: colours.window_text,
        role.BrightText: colours.error,
        role.Highlight: colours.highlight,
        role.HighlightedText: colours.highlighted_text,
        role.Link: colours.link,
        role.LinkVisited: colours.link,
        role.ToolTipBase: colours.tooltip_base,
        role.ToolTipText: colours.text,
        role.PlaceholderText: colours.placeholder,
        role.Mid: colours.mid,
        role.Dark: colours.mid,
        role.Light: colours.button,
        role.Midlight: colours.button,
        role.Shadow: colours.mid,
    }
    for name, value in roles.items():
        result.setColor(name, QColor(value))
    for name in (role.Text, role.WindowText, role.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, name, QColor(colours.disabled_text))
    return result


class _Theme(QObject):
    """The application's theme: the user's choice, applied to the palette, and followed when the system
    switches between light and dark."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.choice = ThemeChoice.LIGHT
        self._system_palette: QPalette | None = None
        self._following = False

    def apply(self, choice: ThemeChoice, system: Qt.ColorScheme | None = None) -> None:
        """Apply `choice`; `system` is the desktop's scheme when it just told us (else asked)."""
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        if self._system_palette is None:
            self._system_palette = QPalette(app.palette())
        hints = app.styleHints()
        if not self._following:
            hints.colorSchemeChanged.connect(self._system_changed)
            self._following = True
        self.choice = choice
        if choice is ThemeChoice.SYSTEM:
            hints.unsetColorScheme()
            wanted = hints.colorScheme() if system is None else system
        else:
            wanted = Qt.ColorScheme.Dark if choice is ThemeChoice.DARK else Qt.ColorScheme.Light
            hints.setColorScheme(wanted)  # native styles (title bars, Windows 11, macOS) follow too
        if wanted is Qt.ColorScheme.Dark:
            if app.style().name().lower() == "windowsvista":  # draws its own light controls over any palette
                app.setStyle("Fusion")
            app.setPalette(build_palette(DARK))
        elif wanted is Qt.ColorScheme.Light:
            app.setPalette(build_palette(LIGHT))
        else:  # the system says neither: its own palette
            app.setPalette(self._system_palette)
        self.changed.emit()

    def _system_changed(self, system: Qt.ColorScheme) -> None:
        if self.choice is ThemeChoice.SYSTEM:
            self.apply(ThemeChoice.SYSTEM, system)


@functools.cache
def notifier() -> _Theme:
    """The one theme object; its `changed` signal fires after the palette changed."""
    return _Theme()


def read_choice(settings: QSettings) -> ThemeChoice:
    """The theme the user chose (System when none or an unknown one is stored)."""
    stored = read_str(settings, THEME_KEY, ThemeChoice.SYSTEM.value)
    try:
        return ThemeChoice(stored)
    except ValueError:
        return ThemeChoice.SYSTEM


def apply_theme(choice: ThemeChoice) -> None:
    """Use `choice` for the whole application from now on (every window, every pane)."""
    notifier().apply(choice)


def current_choice() -> ThemeChoice:
    """The theme last applied."""
    return notifier().choice


class _Restyle(QObject):
    """Styles its parent widget again whenever the theme changes (dies with the widget)."""

    def __init__(self, widget: QWidget, style: Callable[[], str]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._style = style
        notifier().changed.connect(self.apply)
        self.apply()

    def apply(self) -> None:
        self._widget.setStyleSheet(self._style())


def follow(widget: QWidget, style: Callable[[], str]) -> None:
    """Give `widget` the style sheet `style()` now and again after every theme change."""
    _Restyle(widget, style)
