"""The main window's menu bar (File, View, Help) and the small actions behind View → Theme and Help.

A mixin of MainWindow: the menus call the window's own slots (open, reload, attach…), and MainWindow
keeps the actions tests and other code reach (`window.stop_action`, `window.theme_actions`…).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop_app.core.logs import log_directory
from desktop_app.ui.shell.about_dialog import AboutDialog
from desktop_app.ui.shell.number_menu import add_number_options
from desktop_app.ui.shell.shortcuts_dialog import ShortcutsDialog, menu_shortcuts
from desktop_app.ui.shell.windows import APP_TITLE, WINDOWS
from desktop_app.ui.theme import THEME_KEY, ThemeChoice, apply_theme, current_choice

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

#: View → Theme's entries, in menu order.
THEME_LABELS = {ThemeChoice.SYSTEM: "&System", ThemeChoice.LIGHT: "&Light", ThemeChoice.DARK: "&Dark"}


class WindowMenus:
    """File, View and Help of one main window."""

    def _build_menus(self: MainWindow) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", self.choose_file, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Open &demo database", self.open_demo)
        file_menu.addSeparator()
        # Not F5: the SQL pane runs with F5, as DB Browser for SQLite does. Ctrl+W is its "close tab".
        self.reload_action = self._action(file_menu, "&Reload snapshot", self.reload, QKeySequence("Ctrl+R"))
        self.attach_action = self._action(
            file_menu, "&Attach database…", self.choose_attachment, QKeySequence("Ctrl+Shift+A")
        )
        self.wal_action = self._action(file_menu, "&WAL history…", self.show_wal_history)
        self.export_menu = file_menu.addMenu("&Export")
        self._action(
            self.export_menu, "&Browsed table as…", self.export_browsed_table, QKeySequence("Ctrl+Shift+E")
        )
        self._action(self.export_menu, "Recovery &report…", self.panes.recovery.choose_report)
        self.close_action = self._action(file_menu, "&Close", self.close_database)
        self.close_action.setShortcuts([QKeySequence("Ctrl+Shift+W"), QKeySequence("Ctrl+F4")])
        file_menu.addSeparator()
        self.stop_action = self._action(file_menu, "&Stop running job", self.stop_focused_job)
        self.stop_action.setShortcuts([QKeySequence("Escape"), QKeySequence("Ctrl+.")])
        self.stop_action.setToolTip("Stop the job of the pane you are in (Esc or Ctrl+.)")
        self.stop_action.setEnabled(False)  # while nothing runs, Esc stays with the widget that has focus
        file_menu.addSeparator()
        # StandardKey.Quit is empty on Windows and on some Linux desktops: one key everywhere.
        self._action(file_menu, "&Quit", self._quit, QKeySequence("Ctrl+Q"))
        view_menu = self.menuBar().addMenu("&View")
        for index, pane in enumerate(self.panes.values(), start=1):
            self._action(
                view_menu, pane.title, lambda p=pane: self.show_pane(p), QKeySequence(f"Ctrl+{index}")
            )
        self._action(
            view_menu,
            "Search everything",
            lambda: self.show_pane(self.panes.search),
            QKeySequence("Ctrl+Shift+F"),
        )
        view_menu.addSeparator()
        self.theme_actions = self._theme_menu(view_menu.addMenu("&Theme"))
        self.number_actions = add_number_options(view_menu, self.settings)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence("F1"))
        self._action(help_menu, "Open log folder", self._open_log_folder)
        self._action(help_menu, f"About {APP_TITLE}", self.show_about)

    def _theme_menu(self: MainWindow, menu: QMenu) -> dict[ThemeChoice, QAction]:
        """View → Theme: System / Light / Dark, one checked; the choice is remembered."""
        group = QActionGroup(self)
        actions: dict[ThemeChoice, QAction] = {}
        for choice, label in THEME_LABELS.items():
            action = self._action(menu, label, lambda c=choice: self.choose_theme(c))
            action.setCheckable(True)
            action.setChecked(choice is current_choice())
            group.addAction(action)
            actions[choice] = action
        return actions

    def choose_theme(self: MainWindow, choice: ThemeChoice) -> None:
        """Use `choice` in every window from now on, and next time the program starts."""
        self.settings.setValue(THEME_KEY, choice.value)
        apply_theme(choice)
        for window in WINDOWS:
            window.theme_actions[choice].setChecked(True)

    def _action(self: MainWindow, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _quit(self: MainWindow) -> None:
        for window in list(WINDOWS):
            window.close()

    def _open_log_folder(self) -> None:
        folder = log_directory()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def show_shortcuts(self: MainWindow) -> ShortcutsDialog:
        """Help → Keyboard shortcuts: every key of the menus and of each pane (non-modal)."""
        panes = [(pane.title, pane.shortcuts()) for pane in self.panes.values()]
        dialog = ShortcutsDialog(menu_shortcuts(self.menuBar()), panes, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_about(self: MainWindow) -> AboutDialog:
        """Help → About: versions, and Copy diagnostics for bug reports (non-modal)."""
        dialog = AboutDialog(APP_TITLE, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
