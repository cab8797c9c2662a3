"""Laying widgets out in one call: rows, columns, splitters and buttons, as every pane builds them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLayout,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: What a row or column holds: a widget or layout, `(widget or layout, stretch)`, or an int (a gap in px).
Part = QWidget | QLayout | int | tuple[QWidget | QLayout, int]


def _fill(layout: QBoxLayout, parts: Sequence[Part], margins: int | None) -> None:
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    for part in parts:
        item, stretch = part if isinstance(part, tuple) else (part, 0)
        if isinstance(item, int):
            layout.addSpacing(item)
        elif isinstance(item, QLayout):
            layout.addLayout(item, stretch)
        else:
            layout.addWidget(item, stretch)


def hbox(*parts: Part, margins: int | None = None, parent: QWidget | None = None) -> QHBoxLayout:
    """`parts` side by side (the layout of `parent`, when given)."""
    layout = QHBoxLayout(parent) if parent is not None else QHBoxLayout()
    _fill(layout, parts, margins)
    return layout


def vbox(*parts: Part, margins: int | None = None, parent: QWidget | None = None) -> QVBoxLayout:
    """`parts` one above the other (the layout of `parent`, when given)."""
    layout = QVBoxLayout(parent) if parent is not None else QVBoxLayout()
    _fill(layout, parts, margins)
    return layout


def splitter(
    *parts: QWidget | tuple[QWidget, int],
    sizes: Sequence[int] = (),
    orientation: Qt.Orientation = Qt.Orientation.Horizontal,
) -> QSplitter:
    """`parts` side by side (or stacked) with handles between; `(widget, stretch)` sets a stretch factor."""
    split = QSplitter(orientation)
    for index, part in enumerate(parts):
        widget, stretch = part if isinstance(part, tuple) else (part, None)
        split.addWidget(widget)
        if stretch is not None:
            split.setStretchFactor(index, stretch)
    if sizes:
        split.setSizes(list(sizes))
    return split


def tabs(*pages: tuple[QWidget, str]) -> QTabWidget:
    """A tab widget with one tab per `(widget, title)`, in order."""
    widget = QTabWidget()
    for page, title in pages:
        widget.addTab(page, title)
    return widget


def push_button(text: str, clicked: Callable[[], object], tooltip: str = "") -> QPushButton:
    """A button saying `text` that calls `clicked` (and explains itself in `tooltip`)."""
    button = QPushButton(text)
    if tooltip:
        button.setToolTip(tooltip)
    button.clicked.connect(lambda _checked=False: clicked())
    return button


def tool_button(text: str, tooltip: str) -> QToolButton:
    """A flat tool button saying `text` (raised under the mouse), explained in `tooltip`."""
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tooltip)
    button.setAutoRaise(True)
    return button


def with_button(field: QWidget, text: str, clicked: Callable[[], object]) -> QHBoxLayout:
    """`field` taking the width, and beside it a button saying `text` (a path and its "Choose…")."""
    return hbox((field, 1), push_button(text, clicked))
