"""CSV export through the UI: every row (not only what the grid fetched), options remembered, cancel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from desktop_app.core.export.csv_file import BlobEncoding, CsvOptions, LineEnding, Quoting, table_export_sql
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import (
    load_csv_options,
    run_csv_export,
    safe_file_name,
    save_csv_options,
    start_export,
)
from desktop_app.ui.widgets.export_dialog import ExportDialog
from tests.ui.helpers import wait_for
from tests.ui.test_sql_pane import make_database, run, sql_pane


def leftovers(folder: Path) -> list[str]:
    """Partial files an export might have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


async def export_through_dialog(dialog: ExportDialog, path: Path) -> Any:
    """Fill in the file, press Export, and wait for the job to end; returns the job."""
    dialog.set_path(str(path))
    assert dialog.export_button.isEnabled(), dialog.problem.text()
    dialog.export_button.click()
    assert dialog.job is not None
    job = dialog.job
    await wait_for(lambda: job.done, timeout=30, message="the export job")
    return job


async def test_export_from_result_tab_writes_every_row(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=100_000)) as pane:
        tabs = await run(pane, "SELECT id, name, score, NULL AS empty FROM t ORDER BY id")
        tab = tabs[0]
        assert tab.outcome is not None and tab.outcome.rows == 100_000
        progress: list[Any] = []
        pane.status_message.connect(progress.append)
        tab.export_button.click()
        dialog = pane.findChild(ExportDialog)
        assert dialog is not None and dialog.isVisible()
        target = tmp_path / "out" / "all rows.csv"
        target.parent.mkdir()
        job = await export_through_dialog(dialog, target)
        assert job.last_progress is not None and job.last_progress.total == 100_000
        with target.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["id", "name", "score", "empty"]
        assert len(rows) == 100_001
        assert rows[-1] == ["100000", "name 100000", "150000.0", ""]
        assert tab.model.loaded_rows < 100_000, "the grid held only what it showed"
        assert any("Exported 100,000 rows" in message for message in progress)
        assert leftovers(target.parent) == []


async def test_cancelled_export_leaves_no_file(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=1000)) as pane:
        target = tmp_path / "cancelled.csv"
        endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n"
        million = "SELECT a.id, b.name, a.score FROM t AS a, t AS b"
        for sql, phase in ((endless, "counting"), (million, "writing")):
            messages: list[str] = []
            job = run_csv_export(pane.context, sql, str(target), CsvOptions(), notify=messages.append)
            assert job is not None
            if phase == "writing":
                await wait_for(
                    lambda job=job: job.last_progress and job.last_progress.done > 0, message="rows"
                )
                assert job.last_progress.total == 1_000_000
            else:
                await wait_for(lambda job=job: job.last_progress is not None, message="counting")
            job.cancel()
            await wait_for(lambda job=job: job.done, timeout=2, message=f"the cancel while {phase}")
            assert not target.exists()
            assert leftovers(tmp_path) == []
            assert messages == ["Export of cancelled.csv stopped; no file was written."]


async def test_duplicate_column_names_and_blobs_export(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        tabs = await run(pane, "SELECT 1 AS a, 2 AS a, x'00ff' AS b, 'multi\nline \"q\"' AS a")
        assert [c.name for c in tabs[0].model.source.columns] == ["a", "a", "b", "a"]  # type: ignore[union-attr]
        target = tmp_path / "dups.csv"
        options = CsvOptions(blobs=BlobEncoding.HEX, line_ending=LineEnding.LF)
        job = run_csv_export(pane.context, tabs[0].sql, str(target), options)
        assert job is not None
        await wait_for(lambda: job.done, message="export")
        with target.open(newline="", encoding="utf-8") as handle:
            assert list(csv.reader(handle)) == [["a", "a", "b", "a"], ["1", "2", "00FF", 'multi\nline "q"']]


async def test_export_of_a_pragma_and_of_an_awkward_table(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        for sql, name, expected_rows in (
            ("PRAGMA table_info(t)", "pragma.csv", 4),
            (table_export_sql("Order Details"), "odd.csv", 1),
        ):
            job = run_csv_export(pane.context, sql, str(tmp_path / name), CsvOptions())
            assert job is not None
            await wait_for(lambda job=job: job.done, message=name)
            assert len((tmp_path / name).read_text(encoding="utf-8").splitlines()) == expected_rows


async def test_dialog_remembers_the_chosen_options(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        dialog = start_export(pane, pane.context, "SELECT * FROM t", "t")
        qtbot.addWidget(dialog)
        chosen = CsvOptions(
            header=False,
            delimiter="#",
            quote_char="'",
            quoting=Quoting.NON_NUMERIC,
            line_ending=LineEnding.LF,
            bom=True,
            null="NULL",
            blobs=BlobEncoding.SKIP,
            formula_guard=True,
        )
        dialog.set_options(chosen)
        assert dialog.custom_delimiter.isEnabled() and dialog.custom_delimiter.text() == "#"
        target = tmp_path / "t.csv"
        await export_through_dialog(dialog, target)
        assert target.read_bytes().startswith(b"\xef\xbb\xbf1#'name 1'#1.5\n")
        reopened = start_export(pane, pane.context, "SELECT * FROM t", "t")
        qtbot.addWidget(reopened)
        assert reopened.options() == chosen
        assert reopened.path() == str(tmp_path / "t.csv"), "the last folder is remembered"
        reopened.reject()


async def test_dialog_explains_bad_choices_and_blocks_export(qtbot: Any, tmp_path: Path) -> None:
    context = AppContext(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = start_export(None, context, "SELECT 1", "q/1: odd")
    qtbot.addWidget(dialog)
    assert Path(dialog.path()).name == "q_1_ odd.csv"
    dialog.delimiter.setCurrentIndex(dialog.delimiter.findData("other"))
    dialog.custom_delimiter.setText("a")
    assert not dialog.export_button.isEnabled()
    assert "cannot be the CSV delimiter" in dialog.problem.text()
    dialog.custom_delimiter.setText("~")
    assert dialog.export_button.isEnabled()
    dialog.set_path(str(tmp_path))
    assert not dialog.export_button.isEnabled()
    assert "is a folder" in dialog.problem.text()
    existing = tmp_path / "there.csv"
    existing.write_text("old")
    dialog.set_path(str(existing))
    assert "will be replaced" in dialog.path_note.text()
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("formula" in text and "Spreadsheets" in text for text in texts), "the guard is explained"
    dialog.reject()


def test_options_round_trip_through_settings(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert load_csv_options(settings) == CsvOptions()
    options = CsvOptions(delimiter="\t", header=False, null="\\N", bom=True, quoting=Quoting.ALL)
    save_csv_options(settings, options)
    settings.sync()
    assert load_csv_options(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)) == options
    assert safe_file_name(' /..:"') == "export"
