"""Keyboard shortcuts: every repeated action has one, none is ambiguous, Help lists them all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.shell.shortcuts_dialog import Shortcut, all_key_sequences, pane_shortcuts
from tests.ui.helpers import close_window, make_window


def window_actions(window: MainWindow) -> list[QAction]:
    """Every action of the menus (and the window's own), once each."""
    found: list[QAction] = list(window.actions())

    def walk(menu: QMenu) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub)
            elif action not in found:
                found.append(action)

    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            walk(menu)
    return found


async def test_no_two_window_actions_share_a_key(qtbot: object, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        keys = all_key_sequences(window_actions(window))
        shared = {k: n for k, n in Counter(k for k, _text in keys).items() if n > 1}
        assert shared == {}
        # A pane's key that is also the window's would be ambiguous: Qt then runs neither.
        window_keys = {k for k, _text in keys}
        for name, pane in window.panes.items():
            clashes = [k for k, _what in pane.shortcuts() if QKeySequence(k).toString() in window_keys]
            assert clashes == [], name
    finally:
        await close_window(window)


async def test_every_repeated_action_has_a_shortcut(qtbot: object, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        by_text = {text: k for k, text in all_key_sequences(window_actions(window))}
        repeated = ["Open", "Reload snapshot", "Close", "Attach database", "Browsed table as", "Quit",
                    "Search everything", "Stop running job", "Keyboard shortcuts",
                    *(pane.title for pane in window.panes.values())]  # fmt: skip
        assert [text for text in repeated if text not in by_text] == []
        # F5 runs SQL (as in DB Browser for SQLite); reloading the snapshot has its own key.
        assert window.reload_action.shortcut().toString() == "Ctrl+R"
        assert [s.toString() for s in window.stop_action.shortcuts()] == ["Esc", "Ctrl+."]
    finally:
        await close_window(window)


async def test_help_lists_the_window_and_pane_shortcuts_and_filters_them(
    qtbot: object, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    try:
        dialog = window.show_shortcuts()
        lines = dialog.visible_lines()
        assert (
            Shortcut("File", "Open", QKeySequence("Ctrl+O").toString(QKeySequence.SequenceFormat.NativeText))
            in lines
        )
        assert any(line.what == "Stop running job" and "Esc" in line.keys for line in lines)
        assert Shortcut("Browse", "Go to a row number", "Ctrl+G") in lines
        assert any(line.where == "Structure" and line.keys == "Ctrl+0" for line in lines)
        dialog.filter.setText("ctrl+g")
        assert dialog.visible_lines() == [Shortcut("Browse", "Go to a row number", "Ctrl+G")]
        dialog.close()
    finally:
        await close_window(window)


def test_pane_shortcuts_read_in_either_order() -> None:
    # (keys, what) is the documented order; a pane giving (what, keys) is still listed right.
    assert pane_shortcuts("SQL", [("F5", "Run all"), ("Run the current line", "Shift+F5")]) == [
        Shortcut("SQL", "Run all", "F5"),
        Shortcut("SQL", "Run the current line", "Shift+F5"),
    ]
