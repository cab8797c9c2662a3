"""View → Numbers: full precision and thousands separators, for every grid, remembered in settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu

from desktop_app.ui.models.cell_format import NUMBERS, load_number_display, save_number_display


def add_number_options(menu: QMenu, settings: QSettings) -> dict[str, QAction]:
    """Add the Numbers submenu to `menu` (reading the saved choice first); its actions by attribute name."""
    load_number_display(settings)
    numbers = menu.addMenu("&Numbers")
    actions: dict[str, QAction] = {}
    for attribute, label, tip in (
        (
            "full_precision",
            "&Full precision",
            "Reals with 17 significant digits, not the shortest exact form",
        ),
        ("thousands", "&Thousands separators", "Group digits with commas: 1,234,567"),
    ):
        action = numbers.addAction(label)
        action.setCheckable(True)
        action.setChecked(getattr(NUMBERS, attribute))
        action.setToolTip(tip)
        action.toggled.connect(lambda on, a=attribute: _set(settings, a, on))
        actions[attribute] = action
    return actions


def _set(settings: QSettings, attribute: str, on: bool) -> None:
    setattr(NUMBERS, attribute, on)
    save_number_display(settings)
    for window in QApplication.topLevelWidgets():  # every grid of every window follows the choice
        for view in window.findChildren(QAbstractItemView):
            view.viewport().update()
