"""File → WAL history: the commits the open database's `-wal` still holds, each openable or comparable.

A window-level dialog rather than a Structure tab: the `-wal` belongs to the file, not to the schema the
window shows, and "Open as of this commit" replaces what every pane shows (the window does that).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from desktop_app.core.wal.history import WalCommit, WalHistory
from desktop_app.ui.widgets.layout import hbox, push_button, vbox

COLUMNS = ("Commit", "Frames", "Pages", "DB pages", "Tables", "Salt")


class WalHistoryDialog(QDialog):
    """The list of commits; `open_requested(n)` / `compare_requested(n)` for the chosen one."""

    open_requested = Signal(int)
    compare_requested = Signal(int)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"WAL history — {name}")
        self.resize(760, 420)
        self.history: WalHistory | None = None
        self.summary = QLabel(f"Reading the -wal of “{name}”…")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commits = QTreeWidget()
        self.commits.setHeaderLabels(list(COLUMNS))
        self.commits.setRootIsDecorated(False)
        self.commits.setAlternatingRowColors(True)
        self.commits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for column, width in enumerate((80, 90, 60, 70, 260)):
            self.commits.setColumnWidth(column, width)
        self.commits.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.commits.itemDoubleClicked.connect(lambda *_: self._open())
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = push_button(
            "Open as of this commit", self._open, "Show the database as it was after this commit (read-only)"
        )
        self.compare_button = push_button(
            "Compare with now", self._compare, "Open the Changes pane: this commit → the database now"
        )
        buttons = hbox(self.open_button, self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(push_button("Close", self.close))
        vbox(self.summary, (self.commits, 1), self.notes, buttons, parent=self)
        self._update_buttons()

    def set_history(self, history: WalHistory) -> None:
        """Show the commits of `history` (the newest current one chosen)."""
        self.history = history
        current = history.current
        stale = len(history.commits) - len(current)
        self.summary.setText(
            f"{len(current)} commit(s) in the -wal ({history.wal_bytes / 2**20:,.1f} MB, page size "
            f"{history.page_size:,}, checkpoint {history.checkpoint_sequence}, salt {history.salt})"
            + (f"; {stale} stale commit(s) from before the last checkpoint, marked." if stale else ".")
            + " Nothing was opened in place: the file and its -wal were read once, as bytes."
        )
        self.commits.clear()
        self.commits.addTopLevelItems([_item(commit) for commit in history.commits])  # one call: fast
        if current:
            self.commits.setCurrentItem(self.commits.topLevelItem(current[-1].number - 1))
        self.notes.setText("\n".join(history.notes))
        self._update_buttons()

    def show_error(self, message: str) -> None:
        """Say why the history could not be read."""
        self.summary.setText(message)
        self._update_buttons()

    def chosen(self) -> WalCommit | None:
        """The commit selected, if any."""
        item = self.commits.currentItem()
        if item is None or self.history is None:
            return None
        number = item.data(0, Qt.ItemDataRole.UserRole)
        return next((c for c in self.history.commits if c.number == number), None)

    def _update_buttons(self) -> None:
        commit = self.chosen()
        usable = commit is not None and not commit.stale
        self.open_button.setEnabled(usable)
        self.compare_button.setEnabled(usable)
        if commit is not None and commit.stale:
            self.open_button.setToolTip("A stale commit cannot be rebuilt: the file holds later versions")

    def _open(self) -> None:
        commit = self.chosen()
        if commit is not None and not commit.stale:
            self.open_requested.emit(commit.number)

    def _compare(self) -> None:
        commit = self.chosen()
        if commit is not None and not commit.stale:
            self.compare_requested.emit(commit.number)


def _item(commit: WalCommit) -> QTreeWidgetItem:
    label = f"{commit.number} (stale)" if commit.stale else str(commit.number)
    item = QTreeWidgetItem(
        [
            label,
            f"{commit.first_frame}–{commit.last_frame}",
            f"{commit.pages:,}",
            f"{commit.db_pages:,}",
            ", ".join(commit.tables),
            commit.salt,
        ]
    )
    item.setData(0, Qt.ItemDataRole.UserRole, commit.number)
    for column in (0, 1, 2, 3):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if commit.stale:
        tip = (
            "From before the last checkpoint (other salts): SQLite no longer reads it, and it cannot be "
            "rebuilt because the database file already holds later versions of its pages."
        )
        for column in range(len(COLUMNS)):
            item.setForeground(column, QPalette().color(QPalette.ColorRole.PlaceholderText))
            item.setToolTip(column, tip)
    else:
        item.setToolTip(4, ", ".join(commit.tables))
    return item
