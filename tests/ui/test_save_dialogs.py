"""Saving from the window: every save dialog asks before replacing a file, and no save reaches the source.

The database being read (and its -wal/-shm/-journal) is refused as a target with a clear message
where the user chose it; the file's hash is unchanged afterwards.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from desktop_app.core.export.csv_file import CsvOptions
from desktop_app.ui import export_actions
from desktop_app.ui.export_actions import run_csv_export, start_export
from desktop_app.ui.widgets.export_dialog import ExportDialog
from desktop_app.ui.widgets.save_dialog import save_file_dialog
from tests.ui.helpers import wait_for
from tests.ui.test_blobs_pane import blobs_pane, build_db, shown
from tests.ui.test_functions_pane import functions_pane
from tests.ui.test_sql_pane import make_database, sql_pane

REFUSAL = "is the database being read (or one of its -wal/-shm/-journal files)"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def blob_database(path: Path) -> Path:
    return build_db(
        path,
        [
            ("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)", ()),
            ("INSERT INTO t VALUES (1, ?)", (b"x" * 64,)),
        ],
    )


def save_dialog_of(widget: Any) -> QFileDialog:
    dialogs = [d for d in widget.findChildren(QFileDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def assert_confirms_overwrite(dialog: QFileDialog) -> None:
    assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    assert not dialog.testOption(QFileDialog.Option.DontConfirmOverwrite)


async def test_every_save_dialog_asks_before_replacing_a_file(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        csv_dialog = start_export(pane, pane.context, "SELECT * FROM t", "t")
        qtbot.addWidget(csv_dialog)
        csv_dialog._choose_file()
        chooser = save_dialog_of(csv_dialog)
        assert_confirms_overwrite(chooser)
        chooser.reject()
        csv_dialog.reject()
    async with blobs_pane(qtbot, tmp_path, blob_database(tmp_path / "blobs.db")) as blobs:
        blobs.show_cell("t", "data", {"rowid": 1}, None)
        await shown(blobs)
        blobs.choose_save_path()
        chooser = save_dialog_of(blobs)
        assert_confirms_overwrite(chooser)
        chooser.reject()
    async with functions_pane(qtbot, tmp_path) as functions:
        functions.choose_example_target()
        chooser = save_dialog_of(functions)
        assert_confirms_overwrite(chooser)
        chooser.reject()


def test_qts_own_save_dialog_asks_and_no_keeps_the_file(qtbot: Any, tmp_path: Path) -> None:
    existing = tmp_path / "there.csv"
    existing.write_text("keep me")
    dialog = save_file_dialog(None, "Save", str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    chosen: list[str] = []
    dialog.fileSelected.connect(chosen.append)
    dialog.show()
    dialog.selectFile(str(existing))
    questions: list[str] = []

    def answer_no() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer_no)
            return
        questions.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, answer_no)
    dialog.accept()  # Qt asks (modal) before accepting an existing file
    assert len(questions) == 1 and "there.csv" in questions[0] and "already exists" in questions[0]
    assert chosen == [] and existing.read_text() == "keep me"
    dialog.close()


async def test_the_source_database_as_csv_target_is_refused_and_left_unchanged(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_database(tmp_path / "db.sqlite")
    before = sha256(source)
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    async with sql_pane(qtbot, tmp_path, source) as pane:
        dialog = start_export(pane, pane.context, "SELECT * FROM t", "t")
        qtbot.addWidget(dialog)
        assert isinstance(dialog, ExportDialog)
        for target in (source, link, tmp_path / "db.sqlite-journal"):
            dialog.set_path(str(target))
            assert not dialog.export_button.isEnabled()
            assert REFUSAL in dialog.problem.text() and dialog.problem.isVisibleTo(dialog)
        dialog.set_path(str(tmp_path / "fine.csv"))
        assert dialog.export_button.isEnabled()
        dialog.reject()
        # The same refusal from the job itself (e.g. the target became a link after the dialog closed).
        messages: list[str] = []
        shown_errors: list[str] = []
        monkeypatch.setattr(
            export_actions,
            "show_user_error",
            lambda _parent, _title, error: shown_errors.append(error.message),
        )
        job = run_csv_export(pane.context, "SELECT * FROM t", str(link), CsvOptions(), notify=messages.append)
        assert job is not None
        await wait_for(lambda: job.done, message="the refused export")
        assert len(messages) == 1 and REFUSAL in messages[0]
        assert len(shown_errors) == 1 and REFUSAL in shown_errors[0]
    assert sha256(source) == before and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


async def test_saving_a_value_onto_the_source_shows_the_refusal_in_the_pane(
    qtbot: Any, tmp_path: Path
) -> None:
    source = blob_database(tmp_path / "blobs.db")
    before = sha256(source)
    async with blobs_pane(qtbot, tmp_path, source) as pane:
        pane.show_cell("t", "data", {"rowid": 1}, None)
        await shown(pane)
        job = pane.save_to(str(source))
        assert job is not None
        await wait_for(lambda: job.done, message="the refused save")
        assert pane.error_label.isVisibleTo(pane) and REFUSAL in pane.error_label.text()
    assert sha256(source) == before and not (tmp_path / "blobs.db-journal").exists()


async def test_the_example_functions_file_is_never_saved_over_the_source(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        source = pane.context.database.snapshot.path  # type: ignore[union-attr]
        before = sha256(source)
        assert pane.create_from_example(source) is None
        assert REFUSAL in pane.file_status.text()
        assert sha256(source) == before
        target = tmp_path / "mine.py"
        target.write_text("old")
        job = pane.create_from_example(target)
        assert job is not None
        await wait_for(lambda: job.done, message="loading the example")
        assert "def " in target.read_text() and sorted(p.name for p in tmp_path.glob(".*.part")) == []


async def test_a_bulk_export_into_the_source_folder_lists_the_refused_names(
    qtbot: Any, tmp_path: Path
) -> None:
    source = blob_database(tmp_path / "blobs.db")
    before = sha256(source)
    async with blobs_pane(qtbot, tmp_path, source) as pane:
        pane.show_cell("t", "data", {"rowid": 1}, None)
        await shown(pane)
        pane.open_export_dialog()
        await wait_for(lambda: pane.export_dialog is not None, message="the export dialog")
        dialog = pane.export_dialog
        assert dialog is not None
        dialog.folder.setText(str(tmp_path))
        dialog.pattern.setText("blobs.db-journal")
        job = dialog.start_export()
        assert job is not None
        await wait_for(lambda: dialog.result is not None, message="the export")
        assert dialog.result is not None and dialog.result.written == 0
        assert REFUSAL in dialog.failures.item(0).text() and "1 failed" in dialog.summary.text()
        dialog.folder.setText(str(source))  # the database itself as the folder
        job = dialog.start_export()
        assert job is not None
        await wait_for(lambda: dialog.job is None, message="the refused export")
        assert REFUSAL in dialog.message.text()
    assert sha256(source) == before and not (tmp_path / "blobs.db-journal").exists()
