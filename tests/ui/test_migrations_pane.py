"""The Migrations pane over real snapshots: detected tools, history and warnings, a folder's pending files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt

from desktop_app.core.errors import UserError
from desktop_app.core.migrations import known_tools
from desktop_app.core.migrations import pending as pending_module
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.migrations.pane import MigrationsPane, folder_setting_key
from tests.conftest import CORPUS
from tests.fixtures import database_over
from tests.ui.helpers import close_window, make_window, open_in, wait_for

WORLD = CORPUS / "world" / "world.db"
PRISMA_START_MS = 1_704_067_200_000  # 2024-01-01 00:00:00 UTC


def build(path: Path, script: str, rows: list[tuple[str, tuple[Any, ...]]] = ()) -> Path:  # type: ignore[assignment]
    """A database made of `script` plus parameterised inserts."""
    conn = sqlite3.connect(path)
    conn.executescript(script)
    for sql, params in rows:
        conn.execute(sql, params)
    conn.commit()
    conn.close()
    return path


def django_and_alembic(path: Path) -> Path:
    """Django's table (as `migrate` creates it) beside Alembic's one-row version table."""
    return build(
        path,
        """
        CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
            "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
        INSERT INTO django_migrations (app, name, applied) VALUES
            ('shop', '0001_initial', '2024-01-01 12:01:00.123456'),
            ('shop', '0002_add_email', '2024-01-02 12:01:00.123456');
        CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
        INSERT INTO alembic_version VALUES ('ae1027a6acf');
        """,
    )


def prisma_with_failure(path: Path) -> Path:
    """Prisma's table with one finished migration and one that failed (neither finished nor rolled back)."""
    insert = (
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at,"
        " started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)"
    )
    return build(
        path,
        'CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL,'
        ' "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,'
        ' "started_at" DATETIME NOT NULL DEFAULT current_timestamp,'
        ' "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)',
        [
            (
                insert,
                (str(uuid.uuid4()), hashlib.sha256(b"a").hexdigest(), PRISMA_START_MS + 50,
                 "20240101000001_init", None, PRISMA_START_MS, 1),
            ),
            (
                insert,
                (str(uuid.uuid4()), hashlib.sha256(b"b").hexdigest(), None,
                 "20240101000002_add_email", "Error: table exists", PRISMA_START_MS + 60_000, 0),
            ),
        ],
    )  # fmt: skip


def rails(path: Path, versions: list[str]) -> Path:
    """Rails' schema_migrations with ar_internal_metadata beside it."""
    return build(
        path,
        "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);"
        "CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar,"
        " created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);"
        "INSERT INTO ar_internal_metadata VALUES ('environment', 'development', '2024-01-01', '2024-01-01');",
        [("INSERT INTO schema_migrations VALUES (?)", (v,)) for v in versions],
    )


def settings_in(tmp_path: Path) -> QSettings:
    """Settings in a private ini file."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@asynccontextmanager
async def pane_over(qtbot: Any, path: Path, settings: QSettings) -> AsyncIterator[MigrationsPane]:
    """A shown Migrations pane over a snapshot of `path`, with its first read done."""
    async with database_over(path) as (database, catalog):
        context = AppContext(settings)
        context.set_database(database, catalog)
        pane = MigrationsPane(context)
        qtbot.addWidget(pane)
        pane.resize(1100, 700)
        pane.show()
        await settled(pane)
        try:
            yield pane
        finally:
            context.set_database(None, None)
            pane.close()


async def settled(pane: MigrationsPane) -> None:
    """Wait until the pane's read is done."""
    await wait_for(lambda: not pane.busy, message="the migration status read")


def history_column(pane: MigrationsPane, title: str) -> list[str]:
    """The shown text of one column of the selected tool's history."""
    model = pane.detail.history_model
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    column = titles.index(title)
    return [model.data(model.index(row, column)) or "" for row in range(model.rowCount())]


def tool_list_texts(pane: MigrationsPane) -> list[str]:
    """The entries of the tool list."""
    return [pane.tool_list.item(row).text() for row in range(pane.tool_list.count())]


async def test_django_and_alembic_in_one_database_are_both_listed(qtbot: Any, tmp_path: Path) -> None:
    path = django_and_alembic(tmp_path / "app.db")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        assert pane.stack.currentIndex() == 1
        entries = tool_list_texts(pane)
        assert [entry.splitlines()[0] for entry in entries] == ["Alembic", "Django"]
        assert "current: ae1027a6acf" in entries[0]
        assert "2 applied" in entries[1]

        assert pane.select_tool("django")
        assert pane.detail.heading.text() == "Django"
        assert "django_migrations" in pane.detail.subtitle.text()
        assert history_column(pane, "ID") == ["shop.0001_initial", "shop.0002_add_email"]
        applied = history_column(pane, "Applied (local time)")
        assert all(len(text) == len("2024-01-01 12:01:00") for text in applied)
        pane.grab().save(str(tmp_path / "django_alembic.png"))


async def test_prisma_failed_migration_is_shown_as_a_warning_and_in_the_history(
    qtbot: Any, tmp_path: Path
) -> None:
    path = prisma_with_failure(tmp_path / "prisma.db")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        assert "⚠ 1 warning" in tool_list_texts(pane)[0]
        assert pane.detail.warnings_box.isVisibleTo(pane)
        assert "20240101000002_add_email" in pane.detail.warnings.text()
        assert "failed" in pane.detail.warnings.text()
        assert history_column(pane, "Status") == ["✓ succeeded", "✗ failed / dirty"]
        model = pane.detail.history_model
        failed_background = model.data(model.index(1, 0), Qt.ItemDataRole.BackgroundRole)
        assert failed_background is not None
        assert model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is None


async def test_chosen_folder_shows_pending_and_missing_and_is_remembered_for_that_database_only(
    qtbot: Any, tmp_path: Path
) -> None:
    first = rails(tmp_path / "first.db", ["20240101000001", "20240101000002"])
    second = rails(tmp_path / "second.db", ["20240101000001"])
    project = tmp_path / "project"
    (project / "db" / "migrate").mkdir(parents=True)
    for stamp, name in [("20240101000001", "create_users"), ("20240101000003", "add_index")]:
        (project / "db" / "migrate" / f"{stamp}_{name}.rb").write_text(
            "class M < ActiveRecord::Migration; end\n"
        )
    settings = settings_in(tmp_path)

    async with pane_over(qtbot, first, settings) as pane:
        assert "Choose the project's migrations folder" in pane.detail.pending.intro.text()
        pane.choose_folder()
        assert pane._dialog is not None
        pane._dialog.fileSelected.emit(str(project))  # what picking the folder in the dialog does
        pane._dialog.close()
        await settled(pane)

        pending = pane.selected_status().pending  # type: ignore[union-attr]
        assert pending is not None
        assert [item.id for item in pending.pending] == ["20240101000003"]
        assert [row.id for row in pending.missing] == ["20240101000002"]
        tree = pane.detail.pending.tree
        sections = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
        assert sections == ["Not applied yet (1)", "Applied, but the file is missing from the folder (1)"]
        assert tree.topLevelItem(0).child(0).text(0) == "20240101000003"
        assert pane.detail.tabs.tabText(1) == "Pending (1) ⚠ 1"
        assert "1 pending · 1 missing" in tool_list_texts(pane)[0]
        assert pane.folder_edit.text() == str(project)
        pane.grab().save(str(tmp_path / "pending.png"))

        async with database_over(second) as (database, catalog):
            pane.context.set_database(database, catalog)
            await settled(pane)
            assert pane.folder() is None
            assert pane.folder_edit.text() == ""
            assert pane.selected_status().pending is None  # type: ignore[union-attr]

    assert settings.value(folder_setting_key(first)) == str(project)
    assert settings.value(folder_setting_key(second)) is None
    async with pane_over(qtbot, first, settings) as pane:
        assert pane.compared_folder == str(project)
        assert [item.id for item in pane.selected_status().pending.pending] == ["20240101000003"]  # type: ignore[union-attr]


async def test_remembered_folder_that_is_gone_is_reported_and_history_still_shown(
    qtbot: Any, tmp_path: Path
) -> None:
    path = rails(tmp_path / "app.db", ["20240101000001"])
    settings = settings_in(tmp_path)
    settings.setValue(folder_setting_key(path), str(tmp_path / "deleted"))
    async with pane_over(qtbot, path, settings) as pane:
        assert "no longer exists" in pane.message.text()
        assert history_column(pane, "ID") == ["20240101000001"]


async def test_database_without_migration_tool_says_so_and_lists_known_tools(
    qtbot: Any, tmp_path: Path
) -> None:
    path = build(tmp_path / "plain.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        assert pane.stack.currentIndex() == 0
        text = pane.empty.text()
        assert "No migration tool found" in text
        assert all(label in text for _key, label in known_tools())
        assert pane.tool_list.count() == 0


async def test_world_corpus_database_is_detected_as_rails_in_the_window(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        await open_in(window, WORLD)
        pane = window.panes["migrations"]
        assert isinstance(pane, MigrationsPane)
        await settled(pane)
        status = pane.selected_status()
        assert status is not None and status.tool == "rails"
        assert pane.detail.heading.text().startswith("Rails")
        assert history_column(pane, "ID") == ["20121004210237"]
    finally:
        await close_window(window)


async def test_allow_import_is_off_by_default_and_explains_the_risk(qtbot: Any, tmp_path: Path) -> None:
    path = django_and_alembic(tmp_path / "app.db")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        assert not pane.allow_import.isChecked()
        assert "EXECUTES" in pane.allow_import.toolTip()
        assert "nothing is applied" in pane.read_only_note.text()


async def test_selected_tool_and_tab_come_back_after_a_reload(qtbot: Any, tmp_path: Path) -> None:
    path = django_and_alembic(tmp_path / "app.db")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        pane.select_tool("django")
        pane.detail.tabs.setCurrentIndex(1)
        state = pane.save_state()
        pane.context.set_database(None, None)
        async with database_over(path) as (database, catalog):
            pane.context.set_database(database, catalog)
            pane.restore_state(state)
            await settled(pane)
            assert pane.selected_status().tool == "django"  # type: ignore[union-attr]
            assert pane.detail.tabs.currentIndex() == 1


async def test_a_failed_read_is_shown_in_the_pane(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = rails(tmp_path / "app.db", ["20240101000001"])
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:

        def refuse(*_args: Any, **_kwargs: Any) -> None:
            raise UserError("The folder cannot be read.", details="permission denied")

        monkeypatch.setattr("desktop_app.ui.panes.migrations.pane.migration_status", refuse)
        pane.refresh()
        await settled(pane)
        assert pane.message.text() == "The folder cannot be read."
        assert pane.details_button.isVisibleTo(pane)


async def test_folder_walk_that_skipped_files_or_hit_a_limit_shows_a_note(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_files_walked=3)
    )
    path = rails(tmp_path / "app.db", ["20240101000001"])
    migrate = tmp_path / "project" / "db" / "migrate"
    migrate.mkdir(parents=True)
    (migrate / "20240101000001_create_users.rb").write_text("class M < ActiveRecord::Migration; end\n")
    os.mkfifo(migrate / "20240101000002_pipe.rb")
    (migrate / "20240101000003_zero.rb").symlink_to("/dev/zero")
    (migrate / "20240101000004_more.rb").write_text("class N < ActiveRecord::Migration; end\n")
    async with pane_over(qtbot, path, settings_in(tmp_path)) as pane:
        pane.set_folder(str(tmp_path / "project"))
        await settled(pane)
        pane.detail.tabs.setCurrentIndex(1)
        view = pane.detail.pending
        assert view.walk_note_box.isVisibleTo(pane)
        lines = view.walk_note.text().splitlines()
        assert lines[0] == (
            f"⚠ Possibly incomplete: the walk of {migrate} stopped after 3 files (migration_files_walked). "
            "Pending, missing and heads may be incomplete."
        )
        assert "possibly incomplete" in pane.detail.tabs.tabText(1)
        assert "pending?" in tool_list_texts(pane)[0]
        pane.grab().save(str(tmp_path / "migrations_walk_note.png"))

        monkeypatch.setattr(
            pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_files_walked=50)
        )
        pane.refresh()
        await settled(pane)
        assert view.walk_note.text() == (
            "⚠ 2 files named like a migration were not read (listed under “Not read”)."
        )
        not_read = view.tree.topLevelItem(view.tree.topLevelItemCount() - 1)
        assert [
            (not_read.child(i).text(0), not_read.child(i).text(1)) for i in range(not_read.childCount())
        ] == [
            ("20240101000002_pipe.rb", "a named pipe (FIFO), not a regular file"),
            ("20240101000003_zero.rb", "a link to /dev/zero, outside the project folder"),
        ]
        assert pane.detail.tabs.tabText(1) == "Pending (1)"
        assert tool_list_texts(pane)[0].endswith("1 applied · 1 pending")
        pane.grab().save(str(tmp_path / "migrations_skipped_note.png"))
