"""File → WAL history: the commits listed (stale ones marked), "Open as of this commit" shows that generation
(labelled in the title and status bar), "Compare with now" opens the Changes pane; the folder untouched."""

from __future__ import annotations

import os
from pathlib import Path

from desktop_app.ui.panes.changes.sides import Side
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.wal_history_builder import build_history


async def test_wal_history_lists_commits_opens_one_and_compares_it_with_now(
    qtbot: object, tmp_path: Path
) -> None:
    path, builder = build_history(tmp_path, 1024, checkpoint_after=6)
    builder.close()
    before = folder_state(path.parent)
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        dialog = window.show_wal_history()
        assert dialog is not None
        await wait_for(lambda: dialog.history is not None, message="the WAL history")
        model = dialog.commits.model()
        assert model.rowCount() == len(dialog.history.commits) > 3  # type: ignore[union-attr]
        labels = [model.index(row, 0).data() for row in range(model.rowCount())]
        assert labels[:3] == ["1", "2", "3"] and all(label.endswith("(stale)") for label in labels[3:])
        assert dialog.chosen().number == 3  # type: ignore[union-attr]  # the newest current commit
        dialog.choose(4)
        assert not dialog.open_button.isEnabled() and not dialog.compare_button.isEnabled()

        dialog.choose(2)
        dialog.open_button.click()
        await wait_for(
            lambda: window.session.snapshot is not None and window.session.snapshot.wal_commit == 2,
            message="the database as of commit 2",
        )
        await wait_for(lambda: not window.session.busy, message="the open job")
        assert "as of WAL commit 2" in window.windowTitle()
        assert window.mode_label.text().startswith("as of WAL commit 2")
        assert window.context.catalog is not None
        assert window.context.catalog.table("items").column("price") is not None  # type: ignore[union-attr]

        dialog.choose(1)
        dialog.compare_button.click()
        changes = window.panes.changes
        await wait_for(lambda: changes.diff is not None, message="the comparison")
        assert changes.chosen_side(changes.side_b) == Side(
            "disk"
        )  # the window shows a commit: now = the file
        assert "As of WAL commit 1" in changes.side_a.currentText()
        changed = {t.name: (t.added, t.removed, t.changed) for t in changes.diff.changed_tables}  # type: ignore[union-attr]
        assert changed["people"][0] == 1  # the row inserted by the last commit
        dialog.close()
        assert window.wal_dialog is None and dialog.history is None  # the bytes it held are let go
    finally:
        await close_window(window)
    assert folder_state(path.parent) == before
    assert sorted(os.listdir(path.parent)) == ["history.db", "history.db-wal"]
