"""An emoji fallback for the application font, so an emoji in a name is drawn, not shown as a box.

Qt draws a character the chosen font lacks from the fonts listed after it; the system's default font
rarely holds emoji, and fontconfig does not always fall back to a colour emoji font by itself. At start
the first emoji font the system has is appended to the application font's families; a system without
one is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

#: Emoji fonts in order of preference (Linux, macOS, Windows, then monochrome ones).
EMOJI_FAMILIES = (
    "Noto Color Emoji",
    "Apple Color Emoji",
    "Segoe UI Emoji",
    "Twemoji",
    "JoyPixels",
    "EmojiOne Color",
    "Noto Emoji",
    "Symbola",
)


def emoji_family(available: Iterable[str]) -> str | None:
    """The preferred emoji font among `available` font families (any case), or None."""
    by_lower = {family.lower(): family for family in available}
    return next((by_lower[name.lower()] for name in EMOJI_FAMILIES if name.lower() in by_lower), None)


def with_emoji_fallback(font: QFont, available: Iterable[str]) -> QFont | None:
    """`font` with an emoji font after its own families, or None when none is available or needed."""
    family = emoji_family(available)
    families = list(font.families()) or [font.family()]
    if family is None or family in families:
        return None
    fallback = QFont(font)
    fallback.setFamilies([*families, family])
    return fallback


def install_emoji_fallback(app: QApplication) -> str | None:
    """Give the application font an emoji fallback when the system has an emoji font; return its name."""
    font = with_emoji_fallback(app.font(), QFontDatabase.families())
    if font is None:
        return None
    app.setFont(font)
    return font.families()[-1]
