"""What the app does once its window is up: Qt types created ahead of first use, objects frozen."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# In a fresh interpreter: PySide creates classes and enums on first use, and other tests have used them.
_FIRST_USE_AFTER_START_UP = textwrap.dedent(
    """
    import enum
    from PySide6.QtWidgets import QApplication, QTableView
    from desktop_app.app import finish_start_up

    app = QApplication([])
    view = QTableView()
    finish_start_up()
    made = []
    make = enum.EnumType.__new__
    enum.EnumType.__new__ = lambda *args, **kwargs: made.append(args[1]) or make(*args, **kwargs)
    view.viewport()  # the first viewport() of a scroll area used to make some 70 enum classes
    view.verticalHeader().sizeHint()
    print(len(made))
    """
)


def in_fresh_interpreter(code: str) -> str:
    """What `code` prints, run offscreen in a new Python process (which must succeed)."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_start_up_creates_the_qt_types_a_first_scroll_would_make() -> None:
    assert in_fresh_interpreter(_FIRST_USE_AFTER_START_UP).split()[-1] == "0"


_WINDOW_THEN_WARM_UP = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication
    from desktop_app.app import warm_up_database_layer
    from desktop_app.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow()
    window.show()
    app.processEvents()
    before = sorted(name for name in sys.modules if name.startswith("sqlalchemy"))
    warm_up_database_layer().join(60)
    print(len(before), "sqlalchemy.ext.asyncio" in sys.modules)
    """
)


def test_the_window_shows_before_sqlalchemy_is_imported_then_warms_it_up() -> None:
    assert in_fresh_interpreter(_WINDOW_THEN_WARM_UP).split() == ["0", "True"]
