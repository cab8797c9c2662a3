"""GUI bootstrap: arguments, QApplication, the qasync loop, the first window."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import threading
from collections.abc import Sequence

from desktop_app import __version__

log = logging.getLogger(__name__)
ORGANIZATION = "SnapshotBrowser"
APPLICATION = "SQLite Snapshot Browser"


def build_parser() -> argparse.ArgumentParser:
    """Arguments of `snapshot-browser`."""
    parser = argparse.ArgumentParser(prog="snapshot-browser", description="Browse a SQLite database safely.")
    parser.add_argument("file", nargs="?", help="database file or file:// URI to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo database")
    parser.add_argument(
        "--table", "-t", metavar="NAME", help="show this table in Browse once the file is open"
    )
    parser.add_argument("--sql", metavar="FILE.sql", help="open this .sql file in the SQL editor")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="register the app for .db files (Linux, this user)",
    )
    parser.add_argument("--uninstall-desktop-entry", action="store_true", help="undo --install-desktop-entry")
    return parser


def _desktop_entry_command(args: argparse.Namespace) -> int | None:
    if not (args.install_desktop_entry or args.uninstall_desktop_entry):
        return None
    from desktop_app.core.errors import UserError
    from desktop_app.desktop_integration import install_desktop_entry, uninstall_desktop_entry

    try:
        if args.install_desktop_entry:
            for path in install_desktop_entry():
                print(f"installed {path}")
        else:
            for path in uninstall_desktop_entry():
                print(f"removed {path}")
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def create_lazy_qt_types() -> None:
    """Create now the Qt classes and enums that PySide otherwise creates on their first use.

    The first use can come at any moment: the first `viewport()` of a scroll area made 70 enum classes
    (10–20 ms measured), a stall in the middle of the first scroll. All of them take ~50 ms once the
    main window exists.
    """
    from PySide6 import QtCore, QtGui, QtWidgets

    for module in (QtCore, QtGui, QtWidgets):
        for name in dir(module):
            getattr(module, name, None)


def freeze_start_up_objects() -> None:
    """Keep the garbage collector from rescanning start-up objects (call once the window is up).

    They live for the whole session; full collections over them stalled the UI for 30–60 ms while
    browsing or typing a search.
    """
    gc.freeze()


def warm_up_database_layer() -> threading.Thread:
    """Import SQLAlchemy in a thread once the window is up (half a second the window need not wait for),
    then freeze its objects too, as start-up objects are."""

    def work() -> None:
        import sqlalchemy.ext.asyncio  # noqa: F401

        import desktop_app.core.database  # noqa: F401 - what the first opened database needs

        freeze_start_up_objects()

    thread = threading.Thread(target=work, name="warm-up", daemon=True)
    thread.start()
    return thread


def finish_start_up() -> None:
    """What the app does once its window is up; the benchmarks call it too, to measure the same program."""
    create_lazy_qt_types()
    freeze_start_up_objects()
    warm_up_database_layer()


def initial_path(args: argparse.Namespace) -> str | None:
    """The file to open at start: a path (spaces, non-ASCII) or a `file://` URI from a file manager."""
    if not args.file:
        return None
    from desktop_app.desktop_integration import path_from_argument

    return str(path_from_argument(args.file))


def main(argv: Sequence[str] | None = None) -> int:
    """Start the GUI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table is not None and not (args.file or args.demo):
        parser.error("--table needs a FILE (or --demo) to open")
    handled = _desktop_entry_command(args)
    if handled is not None:
        return handled

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.database import stop_leaked_connections
    from desktop_app.core.errors import UserError
    from desktop_app.core.resources import resource_path
    from desktop_app.ui.crash import install_crash_handlers
    from desktop_app.ui.file_open import FileOpenFilter
    from desktop_app.ui.fonts import install_emoji_fallback
    from desktop_app.ui.gui_thread_gc import collect_garbage_on_gui_thread
    from desktop_app.ui.main_window import MainWindow, wait_for_closing_windows
    from desktop_app.ui.theme import apply_theme, read_choice

    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread(app)  # before any worker thread runs: Qt objects die on their thread
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("snapshot-browser")
    install_emoji_fallback(app)  # emoji in names drawn, not boxes (when the system has an emoji font)
    icon = resource_path("icons/snapshot-browser.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    from PySide6.QtCore import QSettings

    apply_theme(read_choice(QSettings()))  # System by default: light or dark as the desktop is
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_crash_handlers(loop)
    quitting = asyncio.Event()
    app.aboutToQuit.connect(quitting.set)
    window = MainWindow()
    window.show()
    finish_start_up()
    app.installEventFilter(FileOpenFilter(window, app))
    if args.sql and window.panes.sql.open_sql_file(args.sql):
        window.show_pane(window.panes.sql)
    if args.demo:
        window.open_demo(table=args.table)
    else:
        try:
            path = initial_path(args)
        except UserError as exc:
            from desktop_app.ui.widgets.error_dialog import show_user_error

            show_user_error(window, "Cannot open the file", exc)
            path = None
        if path:
            window.open_path(path, table=args.table)
    with loop:
        loop.run_until_complete(quitting.wait())
        loop.run_until_complete(wait_for_closing_windows())
    leaked = stop_leaked_connections()
    if leaked:
        log.warning("stopped %d database connection(s) left open by a task destroyed mid-query", leaked)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
