"""Alembic: the revision graph read with ast by default (nothing runs), alembic's own API when allowed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.core.migrations import ToolStatus, migration_status
from desktop_app.core.sqlite.connection import configure_connection

TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down}
"""
import pathlib

from alembic import op

pathlib.Path({marker!r}, {revision!r}).touch()  # proves the file was executed
{extra}
revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = {depends!r}


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    pass
'''

ANNOTATED = '''"""{message}"""
from typing import Sequence, Union

revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = {depends!r}
'''


class Project:
    """An Alembic project folder with its versions/ and a marker folder that fills up if a file runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "alembic" / "versions"
        self.versions.mkdir(parents=True)
        self.marker = root / "ran"
        self.marker.mkdir()

    def revision(
        self, revision: str, down: str | tuple[str, ...] | None, *, depends: str | None = None
    ) -> None:
        text = TEMPLATE.format(
            message=f"step {revision}",
            revision=revision,
            down=down,
            depends=depends,
            marker=str(self.marker),
            extra="",
        )
        (self.versions / f"{revision}_step.py").write_text(text)

    def annotated(self, revision: str, down: str | None, *, depends: str | None = None) -> None:
        text = ANNOTATED.format(message=f"step {revision}", revision=revision, down=down, depends=depends)
        (self.versions / f"{revision}_step.py").write_text(text)

    def executed(self) -> list[str]:
        return sorted(p.name for p in self.marker.iterdir())


def _database(tmp_path: Path, heads: list[str], table: str = "alembic_version", name: str = "app.db") -> Path:
    db = tmp_path / name
    conn = sqlite3.connect(db)
    quoted = '"' + table.replace('"', '""') + '"'
    conn.execute(f"CREATE TABLE {quoted} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    conn.executemany(f"INSERT INTO {quoted} VALUES (?)", [(h,) for h in heads])
    conn.commit()
    conn.close()
    return db


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    configure_connection(conn)
    return conn


def _alembic(db: Path, folder: Path, **kwargs: object) -> ToolStatus:
    (status,) = migration_status(_connect(db), folder=folder, **kwargs).tools  # type: ignore[arg-type]
    assert status.tool == "alembic"
    assert status.pending is not None
    return status


def test_pending_revisions_are_read_without_executing_any_file(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    project.revision("b2b2", "a1a1")
    project.revision("c3c3", "b2b2")
    status = _alembic(_database(tmp_path, ["b2b2"]), project.root)
    assert status.current_version == "b2b2"
    assert [item.id for item in status.pending.pending] == ["c3c3"]
    assert status.pending.pending[0].name == "step c3c3"
    assert status.pending.heads == ["c3c3"]
    assert status.pending.missing == []
    assert project.executed() == []


def test_all_revisions_applied_leaves_nothing_pending(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    project.revision("b2b2", "a1a1")
    status = _alembic(_database(tmp_path, ["b2b2"]), project.root)
    assert status.pending.pending == [] and status.pending.missing == []


def test_stored_revision_missing_from_folder_is_reported_not_raised(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    project.revision("b2b2", "a1a1")
    status = _alembic(_database(tmp_path, ["dead"]), project.root)
    assert [row.id for row in status.pending.missing] == ["dead"]
    assert [item.id for item in status.pending.pending] == ["a1a1", "b2b2"]
    assert any("unknown revision" in note for note in status.pending.notes)


def test_branches_give_several_heads_and_two_stored_heads_warn(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    project.revision("b2b2", "a1a1")
    project.revision("c3c3", "a1a1")
    status = _alembic(_database(tmp_path, ["b2b2", "c3c3"]), project.root)
    assert status.pending.heads == ["b2b2", "c3c3"]
    assert status.pending.pending == []
    assert any("2 heads" in warning for warning in status.warnings)
    assert any("unmerged" in note for note in status.pending.notes)


def test_merge_revision_and_depends_on_count_as_ancestors(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.annotated("a1a1", None)
    project.annotated("b2b2", "a1a1")
    project.annotated("c3c3", "a1a1")
    project.annotated("m4m4", ("b2b2", "c3c3"))  # type: ignore[arg-type]
    project.annotated("d5d5", "m4m4")
    project.annotated("e6e6", None, depends="d5d5")  # another branch that needs d5d5
    status = _alembic(_database(tmp_path, ["e6e6"]), project.root)
    assert status.pending.pending == []
    assert status.pending.heads == ["d5d5", "e6e6"]
    earlier = _alembic(_database(tmp_path, ["c3c3"], name="earlier.db"), project.root)
    assert [item.id for item in earlier.pending.pending] == ["b2b2", "m4m4", "d5d5", "e6e6"]


def test_alembic_api_when_allowed_agrees_with_ast_and_reads_a_renamed_table(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    project.revision("b2b2", "a1a1")
    project.revision("c3c3", "b2b2")
    table = 'it\'s "versions"'
    db = _database(tmp_path, ["b2b2"], table=table)
    read_only = _alembic(db, project.root)
    imported = _alembic(db, project.root, allow_import=True, connect=lambda: _connect(db))
    assert imported.table == table
    assert [item.id for item in imported.pending.pending] == [item.id for item in read_only.pending.pending]
    assert imported.pending.heads == read_only.pending.heads == ["c3c3"]
    assert any("ScriptDirectory" in note for note in imported.pending.notes)
    assert project.executed() == ["a1a1", "b2b2", "c3c3"]  # importing runs the files: only when allowed


def test_alembic_api_reports_unknown_stored_revision(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    db = _database(tmp_path, ["dead"])
    status = _alembic(db, project.root, allow_import=True, connect=lambda: _connect(db))
    assert [row.id for row in status.pending.missing] == ["dead"]
    assert [item.id for item in status.pending.pending] == ["a1a1"]


def test_revision_file_that_fails_to_import_falls_back_to_ast(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    (project.versions / "b2b2_broken.py").write_text(
        'raise RuntimeError("boom")\nrevision = "b2b2"\ndown_revision = "a1a1"\n'
    )
    status = _alembic(_database(tmp_path, ["a1a1"]), project.root, allow_import=True)
    assert [item.id for item in status.pending.pending] == ["b2b2"]
    assert any("could not load" in note for note in status.pending.notes)


def test_folder_without_revisions_is_not_compared(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    status = _alembic(_database(tmp_path, ["a1a1"]), tmp_path / "empty")
    assert not status.pending.compared
    assert status.pending.missing == []
