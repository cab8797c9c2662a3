"""File → Open Recent and the start page's list: the files opened last, shared by every window.

A mixin of MainWindow (tests reach `window._recent()` and `window._refresh_recent()`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.ui.settings import read_str_list
from desktop_app.ui.shell.windows import WINDOWS

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

RECENT_KEY = "recent_files"
MAX_RECENT = 12


class RecentFiles:
    """The recent files of one window's menu and start page."""

    def _recent(self: MainWindow) -> list[str]:
        return read_str_list(self.settings, RECENT_KEY)

    def _remember(self: MainWindow, path: str) -> None:
        known = self._recent()
        if known[:1] == [path]:
            # Already first (every watched generation opens it again): a settings write and every
            # window's menu rebuilt would change nothing, and the write is disk I/O on the GUI thread.
            return
        recent = [path] + [p for p in known if p != path]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        for window in WINDOWS:  # every window's Open Recent menu lists it
            window._refresh_recent()

    def _forget_recent(self: MainWindow, path: str) -> None:
        self.settings.setValue(RECENT_KEY, [p for p in self._recent() if p != path])
        self._refresh_recent()

    def _refresh_recent(self: MainWindow) -> None:
        recent = self._recent()
        self.start_page.set_recent(recent)
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path)
            if not Path(path).exists():
                action.setText(f"{path} (missing)")
                action.setEnabled(False)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear list")
        clear.triggered.connect(lambda: (self.settings.setValue(RECENT_KEY, []), self._refresh_recent()))

    def _last_folder(self: MainWindow) -> str:
        recent = self._recent()
        return str(Path(recent[0]).parent) if recent else str(Path.home())
