"""The value actions of a grid cell's context menu, the same in Browse and in SQL results."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu

from desktop_app.ui.models import cell_format


def add_value_actions(
    menu: QMenu,
    value: object,
    *,
    on_filter: Callable[[bool], object] | None,
    on_find: Callable[[], object],
    why_not: str = "",
) -> None:
    """Add "Filter on this value", "Exclude this value" (`on_filter(exclude)`) and "Find in results".

    With `on_filter` None the filter actions are shown disabled, with `why_not` as their tooltip.
    """
    shown = cell_format.display_text(value)
    if len(shown) > 30:
        shown = shown[:29] + "…"
    for label, exclude in ((f"Filter on this value ({shown})", False), ("Exclude this value", True)):
        action = menu.addAction(label)
        if on_filter is None:
            action.setEnabled(False)
            action.setToolTip(why_not)
        else:
            action.triggered.connect(lambda _=False, e=exclude: on_filter(e))
    menu.setToolTipsVisible(True)
    menu.addAction("Find in results…\tCtrl+F").triggered.connect(on_find)
