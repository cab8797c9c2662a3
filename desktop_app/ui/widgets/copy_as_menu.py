"""The "Copy as" submenu shared by the Browse grid and the SQL results: formats, and headers on or off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from desktop_app.core.export.clipboard import CopyFormat, compose
from desktop_app.ui.models import cell_format
from desktop_app.ui.models.selection import Selected


@dataclass
class CopyHeaders:
    """Whether Copy as CSV/TSV starts with a header row (kept while the grid lives)."""

    on: bool = True


def add_copy_as_menu(menu: QMenu, headers: CopyHeaders, copy: Callable[[CopyFormat, bool], None]) -> QMenu:
    """Add "Copy as ▸" to `menu`: one entry per format, and a check box for CSV/TSV headers."""
    submenu = menu.addMenu("Copy as")
    for fmt in CopyFormat:
        submenu.addAction(fmt.value).triggered.connect(lambda _=False, f=fmt: copy(f, headers.on))
    submenu.addSeparator()
    toggle = submenu.addAction("Column names first (CSV, TSV)")
    toggle.setCheckable(True)
    toggle.setChecked(headers.on)
    toggle.toggled.connect(lambda on: setattr(headers, "on", on))
    return submenu


def copied_message(selected: Selected) -> str:
    """The status bar's words after a copy (saying so when the rows were capped)."""
    rows, cells = len(selected.cells.rows), selected.cells.cell_count
    if rows < selected.selected_rows:
        return f"Copied the first {rows:,} of {selected.selected_rows:,} selected rows."
    return f"Copied {rows:,} row{'s' if rows != 1 else ''} ({cells:,} cells)."


def copy_selected(fmt: CopyFormat, selected: Selected, *, headers: bool, table: str) -> tuple[str, str]:
    """Put `selected` on the clipboard as `fmt`; return the text and the status bar's words for it."""
    text = compose(fmt, selected.cells, headers=headers, table=table, text_of=cell_format.clipboard_text)
    QGuiApplication.clipboard().setText(text)
    return text, copied_message(selected)
