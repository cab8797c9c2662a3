"""Faults from outside: the file changes under an open snapshot, the disk fills up, the folder refuses
writes, the snapshot or the service closes mid-work. Nothing crashes and nothing half-written is
left looking complete.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.blobs import files as blob_files
from desktop_app.core.blobs.export import export_blob, export_column
from desktop_app.core.blobs.values import BlobRef
from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, DatabaseOpenError, ExportError, SnapshotClosed, UserError
from desktop_app.core.export import atomic
from desktop_app.core.export import csv_file as export
from desktop_app.core.export.csv_file import export_query_csv
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def make_database(path: Path, rows: int = 2000) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(i, f"name {i}", bytes([i % 256]) * 3000) for i in range(1, rows + 1)],
    )
    conn.commit()
    conn.close()
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ----- the source file changes while the snapshot is open ---------------------------------------------


async def test_deleted_source_keeps_the_snapshot_answering_and_reopen_says_so(tmp_path: Path) -> None:
    path = make_database(tmp_path / "gone.db")
    snapshot = open_snapshot(path)
    database = Database(snapshot)
    try:
        path.unlink()
        assert snapshot.changed_on_disk()
        result = await database.execute("SELECT count(*) FROM t")
        assert result.rows == [(2000,)]
        with pytest.raises(DatabaseOpenError, match="does not exist"):
            open_snapshot(path)
    finally:
        await database.close()
        snapshot.close()


async def test_truncated_source_keeps_the_snapshot_and_reopen_reports_damage(tmp_path: Path) -> None:
    path = make_database(tmp_path / "cut.db")
    snapshot = open_snapshot(path)
    database = Database(snapshot)
    try:
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 3)
        assert snapshot.changed_on_disk()
        assert (await database.execute("SELECT sum(length(data)) FROM t")).rows == [(2000 * 3000,)]
        try:
            reopened = open_snapshot(path)
        except DatabaseOpenError as exc:
            assert "damaged" in exc.message or "cannot" in exc.message
        else:  # the schema page survived: the damage shows when reading the lost pages
            reopened_db = Database(reopened)
            with pytest.raises(UserError, match="malformed"):
                await reopened_db.execute("SELECT sum(length(data)) FROM t")
            await reopened_db.close()
            reopened.close()
    finally:
        await database.close()
        snapshot.close()


async def test_replaced_source_keeps_the_old_snapshot_and_reload_shows_the_new_file(tmp_path: Path) -> None:
    path = make_database(tmp_path / "swap.db")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE replacement (v)")
    conn.commit()
    conn.close()
    snapshot = open_snapshot(path)
    try:
        os.replace(other, path)
        assert snapshot.changed_on_disk()
        old = snapshot.connect()
        assert old.execute("SELECT count(*) FROM t").fetchone() == (2000,)
        old.close()
        reloaded = open_snapshot(path, generation=snapshot.generation + 1)
        new = reloaded.connect()
        assert new.execute("SELECT name FROM sqlite_schema").fetchall() == [("replacement",)]
        new.close()
        reloaded.close()
    finally:
        snapshot.close()


async def test_direct_mode_with_deleted_file_gives_messages_not_crashes(tmp_path: Path) -> None:
    path = make_database(tmp_path / "direct.db")
    snapshot = open_snapshot(path, force_direct=True)
    assert snapshot.mode is SnapshotMode.DIRECT
    database = Database(snapshot)
    try:
        assert (await database.execute("SELECT count(*) FROM t")).rows == [(2000,)]
        path.unlink()
        # Pooled connections may keep the deleted inode; new ones cannot open it. Both are fine.
        for sql in ("SELECT count(*) FROM t", "SELECT max(id) FROM t"):
            try:
                await database.execute(sql, use_cache=False)
            except UserError as exc:
                assert exc.message.strip()
    finally:
        await database.close()
        snapshot.close()


async def test_closed_snapshot_refuses_new_work_with_a_message(tmp_path: Path) -> None:
    snapshot = open_snapshot(make_database(tmp_path / "c.db", rows=10))
    database = Database(snapshot)
    assert (await database.execute("SELECT count(*) FROM t")).rows == [(10,)]
    await database.close()
    snapshot.close()
    with pytest.raises(SnapshotClosed):
        await database.execute("SELECT 1", use_cache=False)
    with pytest.raises(SnapshotClosed):
        snapshot.connect()


async def test_closing_the_service_during_a_runaway_query_ends_everything(tmp_path: Path) -> None:
    snapshot = open_snapshot(make_database(tmp_path / "r.db", rows=10))
    database = Database(snapshot)
    before = set(threading.enumerate())
    token = CancelToken()
    running = asyncio.ensure_future(database.execute(RUNAWAY, cancel=token))
    await asyncio.sleep(0.3)
    token.cancel()
    with pytest.raises(Cancelled):
        await asyncio.wait_for(running, 5)
    await asyncio.wait_for(database.close(), 5)
    snapshot.close()
    await wait_for_threads(before)


async def wait_for_threads(before: set[threading.Thread], timeout: float = 5.0) -> None:
    """Threads started since `before` (aiosqlite workers) end within `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        if asyncio.get_running_loop().time() > deadline:
            leaked = [t.name for t in threading.enumerate() if t not in before]
            raise AssertionError(f"threads still running: {leaked}")
        await asyncio.sleep(0.05)


# ----- CSV export: disk full, refused folder ---------------------------------------------------------


class _FillsUp(io.BufferedWriter):
    """A file that fails with ENOSPC once `room` bytes have been written."""

    room = 0

    def write(self, data: Any) -> int:
        if len(data) > type(self).room:
            raise OSError(errno.ENOSPC, "No space left on device")
        type(self).room -= len(data)
        return super().write(data)


@pytest.fixture
def disk_with_room(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FillsUp]]:
    def open_filling(fd: int, _mode: str, **_kwargs: Any) -> _FillsUp:
        return _FillsUp(io.FileIO(fd, "w"), buffer_size=64)

    monkeypatch.setattr(atomic, "open", open_filling, raising=False)
    yield _FillsUp


@pytest.mark.parametrize("room", [0, 100, 20_000])
async def test_disk_full_mid_csv_export_leaves_the_old_file_and_no_part_file(
    tmp_path: Path, disk_with_room: type[_FillsUp], room: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "t.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    disk_with_room.room = room
    snapshot = open_snapshot(make_database(tmp_path / "src.db"))
    database = Database(snapshot)
    try:
        with pytest.raises(ExportError, match="disk is full"):
            await database.run_sync(export_query_csv, "SELECT id, name FROM t", (), target)
        assert (await database.execute("SELECT 1", use_cache=False)).rows == [(1,)]
    finally:
        await database.close()
        snapshot.close()
    assert listing(out) == ["t.csv"] and target.read_text(encoding="utf-8") == "the previous export\n"


async def test_disk_full_when_renaming_into_place_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export.os, "replace", no_room)
    conn = open_snapshot(make_database(tmp_path / "src.db", rows=5)).connect()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="disk is full"):
        export_query_csv(conn, "SELECT * FROM t", path=out / "t.csv")
    assert listing(out) == []


async def test_refused_folder_is_a_message_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.os, "open", refuse)  # root ignores chmod, so the refusal is simulated
    conn = open_snapshot(make_database(tmp_path / "src.db", rows=5)).connect()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="No permission"):
        export_query_csv(conn, "SELECT * FROM t", path=out / "t.csv")
    assert listing(out) == []


# ----- blob export: disk full, refused folder --------------------------------------------------------


class _BlobDisk:
    """Replaces `open` in blob_files: writes fail with `error` once `room` bytes are written in all."""

    def __init__(self, room: int, error: OSError) -> None:
        self.room = room
        self.error = error

    def __call__(self, path: str, mode: str, **kwargs: Any) -> Any:
        disk = self
        raw = open(path, mode, **kwargs)  # noqa: SIM115

        class Limited:
            def write(self, chunk: bytes | memoryview) -> int:
                if len(chunk) > disk.room:
                    raise disk.error
                disk.room -= len(chunk)
                return raw.write(chunk)

            def __enter__(self) -> Limited:
                return self

            def __exit__(self, *exc: object) -> None:
                raw.close()

        return Limited()


def blob_files_written(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


async def test_disk_full_mid_blob_export_stops_with_only_complete_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        blob_files, "open", _BlobDisk(10 * 3000 + 1500, OSError(errno.ENOSPC, "No space left")), raising=False
    )
    snapshot = open_snapshot(make_database(tmp_path / "src.db", rows=40))
    database = Database(snapshot)
    out = tmp_path / "blobs"
    try:
        with pytest.raises(ExportError, match="No space left"):
            await database.run_sync(export_column, "t", "data", out, pattern="{rowid}.bin")
        assert (await database.execute("SELECT 1", use_cache=False)).rows == [(1,)]
    finally:
        await database.close()
        snapshot.close()
    files = blob_files_written(out)
    assert [p.name for p in files] == [f"{i}.bin" for i in sorted(range(1, 11), key=str)]
    assert all(p.read_bytes() == bytes([int(p.stem) % 256]) * 3000 for p in files)


async def test_refused_writes_in_a_blob_export_are_failures_and_leave_nothing_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        blob_files, "open", _BlobDisk(0, PermissionError(errno.EACCES, "Permission denied")), raising=False
    )
    conn = open_snapshot(make_database(tmp_path / "src.db", rows=5)).connect()
    out = tmp_path / "blobs"
    result = export_column(conn, "t", "data", out)
    assert result.written == 0 and result.failed == 5
    assert all("Permission denied" in failure.reason for failure in result.failures)
    assert listing(out) == []


async def test_folder_that_cannot_be_created_is_an_export_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    conn = open_snapshot(make_database(tmp_path / "src.db", rows=2)).connect()
    with pytest.raises(ExportError, match="Cannot create the folder"):
        export_column(conn, "t", "data", tmp_path / "new" / "folder")


async def test_disk_full_on_a_single_blob_export_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        blob_files, "open", _BlobDisk(1000, OSError(errno.ENOSPC, "No space left")), raising=False
    )
    conn = open_snapshot(make_database(tmp_path / "src.db", rows=2)).connect()
    out = tmp_path / "one"
    out.mkdir()
    with pytest.raises(ExportError, match="No space left"):
        export_blob(conn, BlobRef("main", "t", "data", 1), out / "one.bin")
    assert listing(out) == []


def test_snapshot_of_a_file_on_a_full_temporary_disk_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.snapshot import private_copy

    source = tmp_path / "wal.db"
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()

    def full_copy(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(private_copy, "_copy_regular_file", full_copy)
    before = listing(tmp_path)
    with pytest.raises(DatabaseOpenError, match="private temporary folder: No space left"):
        open_snapshot(source)
    assert listing(tmp_path) == before
