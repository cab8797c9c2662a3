"""Help → About: the versions a bug report needs, and Copy diagnostics that never names a file."""

from __future__ import annotations

import platform
import sqlite3
from pathlib import Path

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

from desktop_app import __version__
from desktop_app.core.diagnostics import EXTRAS
from tests.fixtures import build_edge_case_database
from tests.ui.helpers import close_window, make_window, open_in


async def test_about_lists_versions_and_copies_diagnostics_without_the_file(
    qtbot: object, tmp_path: Path
) -> None:
    path = build_edge_case_database(tmp_path / "secret-name.db")
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        dialog = window.show_about()
        facts = dict(dialog.rows)
        assert facts["SQLite Snapshot Browser"] == __version__
        assert facts["Qt"] == qVersion() and facts["PySide6"] == PySide6.__version__
        assert facts["SQLite library"].startswith(sqlite3.sqlite_version + " (")
        assert facts["Python"].startswith(platform.python_version())
        for extra in EXTRAS:  # each optional package is named, with its version or as missing
            value = facts[f"Extra: {extra.distribution}"]
            assert value.startswith("missing — no ") or f" — {extra.adds}" in value
        assert dialog.table.rowCount() == len(dialog.rows) - 1
        dialog.copy_button.click()
        copied = QGuiApplication.clipboard().text()
        assert copied == dialog.text()
        assert "Qt " in copied and qVersion() in copied and sqlite3.sqlite_version in copied
        assert "secret-name" not in copied and str(tmp_path) not in copied
        assert dialog.copy_button.text() == "Copied"
        dialog.close()
    finally:
        await close_window(window)
