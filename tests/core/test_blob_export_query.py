"""Bulk export of the blobs of a query result (not a table column)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.blobs.export import BlobExportCancelled, export_query_column
from desktop_app.core.errors import UserError
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.snapshot import open_snapshot

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "q.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
        conn.executemany(
            "INSERT INTO files (name, data) VALUES (?, ?)",
            [
                ("a.png", PNG),
                ("../../etc/passwd", b"%PDF-1.4 x"),
                ("none", None),
                ("num", 7),
                ("txt", "héllo"),
            ],
        )
    conn.close()
    return path


@pytest.fixture
def conn(db_path: Path):  # type: ignore[no-untyped-def]
    snapshot = open_snapshot(db_path)
    connection = snapshot.connect()
    yield connection
    connection.close()
    snapshot.close()


def test_query_column_is_exported_by_name_with_row_fields(conn: sqlite3.Connection, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_query_column(
        conn, "SELECT f.name, f.data AS payload, f.id FROM files f ORDER BY id", "payload", out,
        pattern="{id}-{name}{ext}",
    )  # fmt: skip
    assert result.file_names == ["1-a.png.png", "2-.._.._etc_passwd.pdf", "5-txt.txt"]
    assert (result.skipped_null, result.skipped_not_blob) == (1, 1)
    assert hashlib.sha256((out / "1-a.png.png").read_bytes()).digest() == hashlib.sha256(PNG).digest()
    assert (out / "5-txt.txt").read_text("utf-8") == "héllo"
    assert sorted(p.name for p in out.iterdir()) == sorted(result.file_names)


def test_query_column_by_position_and_default_names(conn: sqlite3.Connection, tmp_path: Path) -> None:
    result = export_query_column(
        conn, "SELECT data, data FROM files WHERE typeof(data) = 'blob' ORDER BY id", 1, tmp_path / "o"
    )
    assert result.file_names == ["1.png", "2.pdf"]


def test_bad_queries_and_columns_are_messages(conn: sqlite3.Connection, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="query failed"):
        export_query_column(conn, "SELECT nope FROM files", 0, tmp_path)
    with pytest.raises(UserError, match="no column 'x'"):
        export_query_column(conn, "SELECT data FROM files", "x", tmp_path)
    with pytest.raises(UserError, match="not a column here"):
        export_query_column(conn, "SELECT data FROM files", 0, tmp_path, pattern="{nope}")
    with pytest.raises(UserError):
        export_query_column(conn, "DELETE FROM files", 0, tmp_path)
    assert conn.execute("SELECT count(*) FROM files").fetchone() == (5,)


def test_cancelled_before_the_first_row(conn: sqlite3.Connection, tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(BlobExportCancelled):
        export_query_column(conn, "SELECT data FROM files", 0, tmp_path / "c", cancel=token)


def test_cli_exports_a_query_column(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    code = main(["blobs", str(db_path), "--query", "SELECT id, data FROM files", "--column", "data",
                 "--out", str(out), "--name", "{id}{ext}"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["1.png", "2.pdf", "5.txt"]
