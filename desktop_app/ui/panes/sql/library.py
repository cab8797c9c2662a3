"""Query history (per database and of all) and saved queries (per database), in QSettings; their menus."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLineEdit, QMenu, QToolButton, QWidget, QWidgetAction

from desktop_app.core.limits import LIMITS
from desktop_app.ui.settings import database_key, read_json

_HISTORY_KEY = "sql/history"
_SAVED_PREFIX = "sql/saved/"


class QueryLibrary:
    """History and saved queries in `settings` (JSON values; saved queries keyed by a hash of the path)."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    @staticmethod
    def _history_key(database_path: str | None) -> str:
        if database_path is None:
            return _HISTORY_KEY
        return f"{_HISTORY_KEY}/{database_key(database_path)}"

    def history(self, database_path: str | None = None) -> list[str]:
        """Queries run on the database at `database_path` (on any, when None), newest first."""
        return [str(entry) for entry in read_json(self.settings, self._history_key(database_path), [])]

    def remember(self, sql: str, database_path: str | None = None) -> None:
        """Put `sql` first in the history of all databases and of `database_path` (once each), dropping the
        oldest beyond the limit."""
        sql = sql.strip()
        if not sql:
            return
        for path in {None, database_path}:
            history = [sql] + [entry for entry in self.history(path) if entry != sql]
            self.settings.setValue(self._history_key(path), json.dumps(history[: LIMITS.sql_history_entries]))

    def clear_history(self, database_path: str | None = None) -> None:
        """Forget the queries run on `database_path` (every query, when None)."""
        if database_path is None:
            self.settings.beginGroup(_HISTORY_KEY)
            self.settings.remove("")
            self.settings.endGroup()
        self.settings.setValue(self._history_key(database_path), "[]")

    @staticmethod
    def _key(database_path: str) -> str:
        return _SAVED_PREFIX + database_key(database_path)

    def saved(self, database_path: str) -> dict[str, str]:
        """Name → SQL of the queries saved for the database at `database_path`."""
        stored = read_json(self.settings, self._key(database_path), {})
        queries = stored.get("queries", {})
        return {str(k): str(v) for k, v in queries.items()} if isinstance(queries, dict) else {}

    def save(self, database_path: str, name: str, sql: str) -> None:
        """Save `sql` as `name` for that database (replacing a query of the same name)."""
        queries = self.saved(database_path)
        queries[name] = sql
        self._store(database_path, queries)

    def delete(self, database_path: str, name: str) -> None:
        """Forget the saved query `name` of that database."""
        queries = self.saved(database_path)
        queries.pop(name, None)
        self._store(database_path, queries)

    def _store(self, database_path: str, queries: dict[str, str]) -> None:
        value = json.dumps({"path": database_path, "queries": queries})
        self.settings.setValue(self._key(database_path), value)


def _menu_label(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


class QueryLibraryButtons(QWidget):
    """ "History" and "Saved" buttons with their menus; `chosen(sql)` when the user picks a query."""

    chosen = Signal(str)
    message = Signal(str)

    def __init__(
        self,
        library: QueryLibrary,
        current_sql: Callable[[], str],
        database_path: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self._current_sql = current_sql
        self._database_path = database_path
        self.history_menu = QMenu(self)
        self.history_menu.aboutToShow.connect(self._fill_history)
        self.saved_menu = QMenu(self)
        self.saved_menu.aboutToShow.connect(self._fill_saved)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, tip, menu in (
            ("History", "Queries run before (newest first)", self.history_menu),
            ("Saved", "Queries saved for this database", self.saved_menu),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            button.setMenu(menu)
            layout.addWidget(button)

    def _fill_history(self) -> None:
        menu = self.history_menu
        menu.clear()
        path = self._database_path()
        search = QLineEdit()
        search.setPlaceholderText("Search the history…")
        field = QWidgetAction(menu)
        field.setDefaultWidget(search)
        menu.addAction(field)
        history = self.library.history(path) if path is not None else self.library.history()
        entries = self._add_entries(menu, history)
        if not history:
            menu.addAction("(no queries on this database yet)").setEnabled(False)
        everywhere = menu.addMenu("All databases")
        entries += self._add_entries(everywhere, self.library.history())
        search.textChanged.connect(lambda text: _filter(entries, text))
        menu.addSeparator()
        clear = menu.addAction("Clear this database's history")
        clear.setEnabled(bool(history) and path is not None)
        clear.triggered.connect(lambda: self.library.clear_history(path))
        menu.addAction("Clear all history").triggered.connect(lambda: self.library.clear_history(None))
        search.setFocus()

    def _add_entries(self, menu: QMenu, history: list[str]) -> list[tuple[QAction, str]]:
        entries = []
        for sql in history:
            action = menu.addAction(_menu_label(sql))
            action.setToolTip(sql[:2000])
            action.triggered.connect(lambda _checked=False, s=sql: self.chosen.emit(s))
            entries.append((action, sql))
        return entries

    def _fill_saved(self) -> None:
        menu = self.saved_menu
        menu.clear()
        path = self._database_path()
        save = menu.addAction("Save current query…")
        save.setEnabled(path is not None and bool(self._current_sql().strip()))
        save.triggered.connect(self._ask_name)
        queries = self.library.saved(path) if path else {}
        if not queries:
            return
        menu.addSeparator()
        delete = QMenu("Delete", menu)
        for name, sql in sorted(queries.items(), key=lambda kv: kv[0].lower()):
            action = menu.addAction(name)
            action.setToolTip(sql[:2000])
            action.triggered.connect(lambda _checked=False, s=sql: self.chosen.emit(s))
            delete.addAction(name).triggered.connect(lambda _c=False, n=name: self._delete(n))
        menu.addSeparator()
        menu.addMenu(delete)

    def _ask_name(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save query")
        dialog.setLabelText("Name for this query (kept for this database):")
        dialog.textValueSelected.connect(self.save_current)
        dialog.open()

    def save_current(self, name: str) -> None:
        """Save the editor's text as `name` for the open database."""
        path, name = self._database_path(), name.strip()
        if path is not None and name:
            self.library.save(path, name, self._current_sql())
            self.message.emit(f"Saved query “{name}”.")

    def _delete(self, name: str) -> None:
        path = self._database_path()
        if path is not None:
            self.library.delete(path, name)
            self.message.emit(f"Deleted saved query “{name}”.")


def _filter(entries: list[tuple[QAction, str]], text: str) -> None:
    """Show only the history entries containing `text` (any case)."""
    needle = text.strip().lower()
    for action, sql in entries:
        action.setVisible(not needle or needle in sql.lower())
