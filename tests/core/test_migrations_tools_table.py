"""The table of tool descriptions: consistent entries, and a new tool added as data alone."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.migrations.detect import read_context
from desktop_app.core.migrations.folders import compare_files
from desktop_app.core.migrations.quirks import highest_id
from desktop_app.core.migrations.readers import read_history
from desktop_app.core.migrations.spec import Files, FolderOptions, Roles, ToolSpec, columns
from desktop_app.core.migrations.tools import ALL_TOOLS, TABLE_TOOLS


def test_every_tool_has_its_own_key_and_label() -> None:
    keys = [tool.key for tool in ALL_TOOLS]
    labels = [tool.label for tool in ALL_TOOLS]
    assert len(set(keys)) == len(keys) == 24
    assert len(set(labels)) == len(labels)


def test_roles_only_read_columns_the_table_can_have() -> None:
    for tool in TABLE_TOOLS:
        assert tool.roles is not None, tool.key
        if tool.allowed is not None:
            assert set(tool.roles.columns) <= tool.allowed | tool.required, tool.key


def test_roles_refuse_a_column_named_in_upper_case() -> None:
    with pytest.raises(ValueError, match="lower case"):
        Roles(id="MigrationId")


def test_every_tool_can_compare_a_folder() -> None:
    for tool in ALL_TOOLS:
        assert tool.compare is not None or tool.files is not None, tool.key
        if tool.files is not None and tool.files.pattern is not None:
            assert tool.files.looked_for and tool.files.label, tool.key


ACME = ToolSpec(
    "acme",
    "Acme migrator",
    read_history,
    columns("step", "ran_at"),
    columns("step", "ran_at"),
    roles=Roles(id="step", applied_at="ran_at"),
    current=highest_id,
    files=Files(re.compile(r"(\d+)-(\w+)\.sql"), "Acme", "N-name.sql", ("steps",)),
)


def test_a_tool_described_only_as_data_is_read_and_compared(tmp_path: Path) -> None:
    db = tmp_path / "acme.db"
    with sqlite3.connect(db) as writer:
        writer.execute("CREATE TABLE acme_log (step TEXT, ran_at TEXT)")
        writer.executemany("INSERT INTO acme_log VALUES (?, ?)", [("1", "2024-01-01T10:00:00"), ("3", None)])
    writer.close()
    (tmp_path / "steps").mkdir()
    for name in ("1-init.sql", "2-users.sql"):
        (tmp_path / "steps" / name).write_text("-- step\n", encoding="utf-8")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ctx = read_context(conn)
        shape = ctx.shapes["acme_log"]
        assert ACME.matches(ctx, shape)
        status = read_history(ACME, ctx, shape)
        report = compare_files(ACME, status, tmp_path, FolderOptions())
    finally:
        conn.close()
    assert (status.tool, status.table, status.current_version) == ("acme", "acme_log", "3")
    assert [(row.id, row.applied_at and row.applied_at.isoformat()) for row in status.history] == [
        ("1", "2024-01-01T10:00:00+00:00"),
        ("3", None),
    ]
    assert [(item.id, item.name) for item in report.pending] == [("2", "users")]
    assert [row.id for row in report.missing] == ["3"]
