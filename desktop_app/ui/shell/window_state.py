"""What a window remembers between sessions: its size and place, its splitters, and for each database the
pane and table last shown.

Saved when a window closes (or closes its database), read when one opens. A size saved on a larger
screen is fitted into the screen the window opens on, so a window never starts partly off screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

from desktop_app.ui.settings import read_json

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

GEOMETRY_KEY = "window/geometry"
SPLITTERS_KEY = "window/splitters"
PLACES_KEY = "window/places"
#: Databases whose last pane and table are remembered (the most recently closed ones).
MAX_PLACES = 50
#: The smallest window restored: below this the panes cannot show their controls.
MIN_SIZE = (640, 400)


@dataclass(frozen=True)
class Place:
    """Where the user was in one database: the pane in front and the table in Browse."""

    pane: str
    table: str | None


def fit_on_screen(frame: QRect, available: QRect) -> QRect:
    """`frame` moved (and shrunk if need be) to lie wholly inside `available`."""
    width = max(min(frame.width(), available.width()), min(MIN_SIZE[0], available.width()))
    height = max(min(frame.height(), available.height()), min(MIN_SIZE[1], available.height()))
    x = min(max(frame.x(), available.left()), available.left() + available.width() - width)
    y = min(max(frame.y(), available.top()), available.top() + available.height() - height)
    return QRect(x, y, width, height)


def _available(frame: QRect) -> QRect | None:
    screen = QGuiApplication.screenAt(frame.center()) or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def splitters_of(name: str, root: QWidget) -> dict[str, QSplitter]:
    """`root`'s splitters, named `name/0`, `name/1`… in the order they were made."""
    found = root.findChildren(QSplitter)
    if isinstance(root, QSplitter):
        found = [root, *found]
    return {f"{name}/{i}": split for i, split in enumerate(found)}


def save_window(settings: QSettings, window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
    """Keep `window`'s normal geometry, whether it is maximized, and each splitter's sizes."""
    frame = window.normalGeometry() if window.isMaximized() else window.geometry()
    geometry = [frame.x(), frame.y(), frame.width(), frame.height(), window.isMaximized()]
    settings.setValue(GEOMETRY_KEY, json.dumps(geometry))
    # Only splitters on screen, every part shown: a pane never opened, or a part hidden for now, reports
    # sizes (zeros) that would collapse it next time. Sizes saved earlier for the others are kept.
    sizes = read_json(settings, SPLITTERS_KEY, {})
    for name, split in splitters.items():
        shown = split.isVisible() and all(split.widget(i).isVisibleTo(split) for i in range(split.count()))
        if shown and all(size > 0 for size in split.sizes()):
            sizes[name] = split.sizes()
    settings.setValue(SPLITTERS_KEY, json.dumps(sizes))


def restore_window(settings: QSettings, window: QMainWindow, splitters: dict[str, QSplitter]) -> bool:
    """Give `window` its saved geometry (fitted to the screen) and splitter sizes; False when none saved."""
    saved = read_json(settings, GEOMETRY_KEY, [])
    restored = False
    if len(saved) == 5 and all(type(v) is int for v in saved[:4]):
        frame = QRect(saved[0], saved[1], saved[2], saved[3])
        available = _available(frame)
        window.setGeometry(fit_on_screen(frame, available) if available is not None else frame)
        if saved[4] is True:
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        restored = True
    sizes = read_json(settings, SPLITTERS_KEY, {})
    for name, split in splitters.items():
        wanted = sizes.get(name)
        if (
            isinstance(wanted, list)
            and len(wanted) == split.count()
            and all(isinstance(v, int) and v >= 0 for v in wanted)
        ):
            split.setSizes(wanted)
    return restored


def place_key(path: str, member: str | None = None) -> str:
    """The key a database's place is kept under: its path, and the member of a packed file."""
    return f"{path}\n{member}" if member else path


def remember_place(settings: QSettings, key: str, place: Place) -> None:
    """Keep `place` for the database `key` (the most recent MAX_PLACES databases are kept)."""
    places = read_json(settings, PLACES_KEY, {})
    places.pop(key, None)
    places[key] = {"pane": place.pane, "table": place.table}
    settings.setValue(PLACES_KEY, json.dumps(dict(list(places.items())[-MAX_PLACES:])))


def recall_place(settings: QSettings, key: str) -> Place | None:
    """Where the user was when the database `key` was last closed, if known."""
    saved = read_json(settings, PLACES_KEY, {}).get(key)
    if not isinstance(saved, dict) or not isinstance(saved.get("pane"), str):
        return None
    table = saved.get("table")
    return Place(saved["pane"], table if isinstance(table, str) else None)


class WindowPlaces:
    """A MainWindow mixin: its splitters by name, and the place each database was left at."""

    def _splitters(self: MainWindow) -> dict[str, QSplitter]:
        found = {"window/0": self.main_splitter}
        for name, pane in self.panes.items():
            found.update(splitters_of(name, pane))
        return found

    def _place_key(self: MainWindow) -> str | None:
        snapshot = self.session.snapshot
        return None if snapshot is None else place_key(str(snapshot.path), snapshot.member)

    def _remember_place(self: MainWindow) -> None:
        """Keep the pane in front and Browse's table for this database, for when it opens again."""
        key = self._place_key()
        if key is None:
            return
        shown = self.tabs.currentWidget()
        current = next((name for name, pane in self.panes.items() if pane is shown), "browse")
        table = self.panes.browse.table
        remember_place(self.settings, key, Place(current, table.name if table is not None else None))

    def _restore_place(self: MainWindow) -> bool:
        """Show the pane and table this database was left at; False when none is known (or it is gone)."""
        key, catalog = self._place_key(), self.context.catalog
        place = recall_place(self.settings, key) if key is not None else None
        if place is None or catalog is None:
            return False
        if place.table is not None and catalog.table(place.table) is not None:
            self.panes.browse.show_table(place.table)
        elif place.table is not None:
            return False
        self.show_pane(self.panes.get(place.pane, self.panes.browse))
        return True
