"""Table names on screen: every name visible (an empty one labelled in italics), the exact name in a tooltip.

Used by every list of tables (sidebar tree, pickers, the Blobs pane, search results), so a table whose
name is "" is shown, picked and opened like any other.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItem
from PySide6.QtWidgets import QComboBox, QTreeWidgetItem

from desktop_app.core.schema.visible_names import spelled_out, visible_name

#: How a table whose name is the empty string is labelled (in italics, so no real name looks the same).
EMPTY_NAME = "(empty name)"


def name_label(name: str) -> str:
    """The name as shown: `(empty name)` for "", else the name with invisible characters spelled out."""
    return EMPTY_NAME if name == "" else visible_name(name)


def name_tooltip(name: str, what: str = "") -> str:
    """The exact name, double-quoted as SQL writes it (`""` for the empty name), after `what` if given."""
    quoted = '"' + spelled_out(name).replace('"', '""') + '"'
    return f"{what} {quoted}".strip() if what else quoted


def _italic(font: QFont, name: str) -> QFont:
    font.setItalic(not name.strip())
    return font


def label_tree_item(item: QTreeWidgetItem, column: int, name: str, tooltip: str | None = None) -> None:
    """Label a tree item with `name`: its text, italics when blank, and a tooltip (the quoted name)."""
    item.setText(column, name_label(name))
    item.setFont(column, _italic(item.font(column), name))
    item.setToolTip(column, tooltip if tooltip is not None else name_tooltip(name))


def label_standard_item(item: QStandardItem, name: str, tooltip: str | None = None) -> None:
    """Label a model item with `name`, as `label_tree_item` does."""
    item.setText(name_label(name))
    item.setFont(_italic(item.font(), name))
    item.setToolTip(tooltip if tooltip is not None else name_tooltip(name))


def add_name_item(box: QComboBox, name: str, suffix: str = "") -> None:
    """Add `name` to a picker (its data is the exact name), with the label, italics and tooltip."""
    box.addItem(name_label(name) + suffix, name)
    index = box.count() - 1
    box.setItemData(index, name_tooltip(name), Qt.ItemDataRole.ToolTipRole)
    if not name.strip():
        box.setItemData(index, _italic(box.font(), name), Qt.ItemDataRole.FontRole)
