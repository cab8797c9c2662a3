"""Help → Keyboard shortcuts: every key of the window's menus and of each pane, with a filter."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from desktop_app.ui.widgets.layout import vbox


@dataclass(frozen=True)
class Shortcut:
    """One line of the list: where it works, what it does, and its keys as the platform writes them."""

    where: str
    what: str
    keys: str


def _plain(text: str) -> str:
    """A menu text without its mnemonic marks and trailing dots ("&Open…" → "Open")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".")


def _native(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def menu_shortcuts(bar: QMenuBar) -> list[Shortcut]:
    """Every action with a shortcut in the menus of `bar`, named by its menu path ("File › Export")."""
    found: list[Shortcut] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {_plain(action.text())}")
            elif action.shortcuts():
                keys = ", ".join(_native(s) for s in action.shortcuts())
                found.append(Shortcut(path, _plain(action.text()), keys))

    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            walk(menu, _plain(action.text()))
    return found


def _is_keys(text: str) -> bool:
    sequence = QKeySequence(text)
    return not sequence.isEmpty() and sequence.toString() == text


def pane_shortcuts(title: str, pairs: list[tuple[str, str]]) -> list[Shortcut]:
    """A pane's `shortcuts()` as lines of the list (keys written for the platform)."""
    lines = []
    for first, second in pairs:
        keys, what = (first, second) if _is_keys(first) or not _is_keys(second) else (second, first)
        lines.append(Shortcut(title, what, _native(QKeySequence(keys)) or keys))
    return lines


class ShortcutsDialog(QDialog):
    """A table of shortcuts (where, what, keys); typing in the filter keeps the lines that match."""

    def __init__(
        self,
        window_shortcuts: list[Shortcut],
        panes: list[tuple[str, list[tuple[str, str]]]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.lines = list(window_shortcuts)
        for title, pairs in panes:
            self.lines += pane_shortcuts(title, pairs)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: a key or a word…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(len(self.lines), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for row, line in enumerate(self.lines):
            for column, text in enumerate((line.where, line.what, line.keys)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        vbox(self.filter, (self.table, 1), buttons, parent=self)
        self.resize(620, 520)

    def visible_lines(self) -> list[Shortcut]:
        """The lines the filter leaves shown."""
        return [line for row, line in enumerate(self.lines) if not self.table.isRowHidden(row)]

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row, line in enumerate(self.lines):
            haystack = f"{line.where} {line.what} {line.keys}".lower()
            self.table.setRowHidden(row, bool(needle) and needle not in haystack)


def all_key_sequences(actions: list[QAction]) -> list[tuple[str, str]]:
    """(keys, action text) for every shortcut of `actions` (portable text, for comparing)."""
    return [(s.toString(), _plain(a.text())) for a in actions for s in a.shortcuts() if not s.isEmpty()]
