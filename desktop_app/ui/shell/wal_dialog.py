"""File → WAL history: the commits the open database's `-wal` still holds, each openable or comparable.

A window-level dialog rather than a Structure tab: the `-wal` belongs to the file, not to the schema the
window shows, and "Open as of this commit" replaces what every pane shows (the window does that).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractItemView, QDialog, QLabel, QTableView, QWidget

from desktop_app.core.wal.history import WalCommit, WalHistory
from desktop_app.ui.models.list_model import ListTableModel
from desktop_app.ui.widgets.hint_label import hint_label
from desktop_app.ui.widgets.layout import hbox, push_button, vbox

COLUMNS = ("Commit", "Frames", "Pages", "DB pages", "Tables", "Salt")
OVERWRITTEN_TIP = (
    "Cannot be rebuilt: a checkpoint already copied pages later commits wrote into the database file, over "
    "the versions this commit saw."
)
STALE_TIP = (
    "From before the last checkpoint (other salts): SQLite no longer reads it, and it cannot be rebuilt "
    "because the database file already holds later versions of its pages."
)


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
        # A model in a table view: a -wal of single-row commits lists tens of thousands of them (tree
        # items took 5 s for 50,000 and a tree view lays out every row: 0.4 s; a table view none).
        self.model = CommitsModel(self)
        self.commits = QTableView()
        self.commits.setModel(self.model)
        self.commits.verticalHeader().hide()
        self.commits.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.commits.horizontalHeader().setStretchLastSection(True)
        self.commits.setShowGrid(False)
        self.commits.setWordWrap(False)
        self.commits.setAlternatingRowColors(True)
        self.commits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.commits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for column, width in enumerate((80, 90, 60, 70, 260)):
            self.commits.setColumnWidth(column, width)
        self.commits.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.commits.doubleClicked.connect(lambda *_: self._open())
        self.notes = hint_label(selectable=True)
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
        self.model.set_items(history.commits)
        if current:
            self.choose(current[-1].number)
        self.notes.setText("\n".join(history.notes))
        self._update_buttons()

    def show_error(self, message: str) -> None:
        """Say why the history could not be read."""
        self.summary.setText(message)
        self._update_buttons()

    def chosen(self) -> WalCommit | None:
        """The commit selected, if any."""
        index = self.commits.currentIndex()
        return self.model.item_at(index.row()) if index.isValid() else None

    def choose(self, number: int) -> None:
        """Select commit `number` (listed in order: row = number - 1)."""
        index = self.model.index(number - 1, 0)
        self.commits.setCurrentIndex(index)
        self.commits.scrollTo(index)

    def _update_buttons(self) -> None:
        commit = self.chosen()
        usable = commit is not None and commit.openable
        self.open_button.setEnabled(usable)
        self.compare_button.setEnabled(usable)

    def _open(self) -> None:
        commit = self.chosen()
        if commit is not None and commit.openable:
            self.open_requested.emit(commit.number)

    def _compare(self) -> None:
        commit = self.chosen()
        if commit is not None and commit.openable:
            self.compare_requested.emit(commit.number)


class CommitsModel(ListTableModel[WalCommit]):
    """The commits as rows; those that cannot be opened greyed, with why in their tooltip."""

    headers = COLUMNS

    def cell(self, commit: WalCommit, column: int, role: int) -> object:
        """A commit's fact, its alignment, colour and tooltip."""
        if role == Qt.ItemDataRole.DisplayRole:
            return _cells(commit)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column < 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not commit.openable:
            return QPalette().color(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.ToolTipRole:
            if commit.stale:
                return STALE_TIP
            if not commit.openable:
                return OVERWRITTEN_TIP
            return ", ".join(commit.tables) if column == 4 else None
        return None


def _cells(commit: WalCommit) -> tuple[str, ...]:
    mark = " (stale)" if commit.stale else "" if commit.openable else " (gone)"
    return (
        f"{commit.number}{mark}",
        f"{commit.first_frame}–{commit.last_frame}",
        f"{commit.pages:,}",
        f"{commit.db_pages:,}",
        ", ".join(commit.tables),
        commit.salt,
    )
