"""The snapshot: every kind of bad input gets a clear message, and the user's folder is never touched."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, DatabaseOpenError
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.snapshot import memory_copy
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot
from tests.conftest import folder_state
from tests.snapshot_limits import lower_snapshot_limits


def make_db(path: Path, rows: int = 100, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def test_snapshot_copies_rows_into_memory(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db")
    snap = open_snapshot(source)
    try:
        assert snap.mode is SnapshotMode.MEMORY
        assert "vfs=memdb" in snap.uri
        conn = snap.connect()
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
        conn.close()
    finally:
        snap.close()


def test_snapshot_is_independent_of_later_changes_to_the_file(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db")
    snap = open_snapshot(source)
    writer = sqlite3.connect(source)
    writer.execute("DELETE FROM t")
    writer.commit()
    writer.close()
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
    assert snap.changed_on_disk()
    conn.close()
    snap.close()


def test_snapshot_connections_are_query_only(tmp_path: Path) -> None:
    snap = open_snapshot(make_db(tmp_path / "a.db"))
    conn = snap.connect()
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        conn.execute("DELETE FROM t")  # the guard refuses it first
    assert conn.execute("PRAGMA query_only").fetchone()[0] == 1  # and query_only stands behind it
    assert conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
    conn.close()
    snap.close()


def test_progress_reports_pages_and_ends_complete(tmp_path: Path) -> None:
    source = make_db(tmp_path / "big.db", rows=20000)
    seen: list[Progress] = []
    snap = open_snapshot(source, progress=seen.append)
    snap.close()
    assert seen and seen[-1].done == seen[-1].total


def test_cancel_stops_the_copy(tmp_path: Path) -> None:
    source = make_db(tmp_path / "big.db", rows=20000)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        open_snapshot(source, cancel=token)


def test_close_frees_the_memory_database(tmp_path: Path) -> None:
    snap = open_snapshot(make_db(tmp_path / "a.db"))
    uri = snap.uri
    snap.close()
    fresh = sqlite3.connect(uri, uri=True)
    assert fresh.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0] == 0
    fresh.close()


def test_generations_increase_and_can_be_given(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db")
    first = open_snapshot(source)
    second = open_snapshot(source)
    third = open_snapshot(source, generation=first.generation + 100)
    assert second.generation > first.generation
    assert third.generation == first.generation + 100
    for snap in (first, second, third):
        snap.close()


def test_direct_mode_reads_the_file_read_only(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db")
    before = folder_state(tmp_path)
    snap = open_snapshot(source, force_direct=True)
    assert snap.mode is SnapshotMode.DIRECT
    assert snap.notes and "Direct" in snap.notes[0]
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM t")
    conn.close()
    snap.close()
    assert folder_state(tmp_path) == before


def test_database_larger_than_the_memory_cap_opens_in_direct_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_db(tmp_path / "a.db")
    monkeypatch.setattr(memory_copy, "memdb_cap", lambda: 1024)
    snap = open_snapshot(source)
    assert snap.mode is SnapshotMode.DIRECT
    assert "larger than the memory database limit" in snap.notes[0]
    snap.close()


def test_fingerprint_notices_a_new_wal_file(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db", wal=True)
    snap = open_snapshot(source)
    assert not snap.changed_on_disk()
    writer = sqlite3.connect(source)
    writer.execute("INSERT INTO t (v) VALUES ('new')")
    writer.commit()
    assert snap.changed_on_disk()
    writer.close()
    snap.close()


# ----- the WAL corpus file and zero footprint ------------------------------------------------------


def test_wal_rows_visible_without_touching_folder(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wal"
    folder.mkdir()
    for name in ("wal_database.db", "wal_database.db-wal"):
        shutil.copyfile(corpus / "plaso" / name, folder / name)
    before = folder_state(folder)
    snap = open_snapshot(folder / "wal_database.db")
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM MyTable").fetchone()[0] == 11
    columns = [r[1] for r in conn.execute("PRAGMA table_info(MyTable)")]
    assert "NewField" in columns
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'NewTable'").fetchone()[0] == 1
    conn.close()
    snap.close()
    assert folder_state(folder) == before


def test_wal_corpus_file_in_place_leaves_no_sidecars(corpus: Path) -> None:
    folder = corpus / "plaso"
    before = folder_state(folder)
    snap = open_snapshot(folder / "wal_database.db")
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM MyTable").fetchone()[0] == 11
    conn.close()
    snap.close()
    assert folder_state(folder) == before


def test_stale_shm_is_ignored_and_left_as_it_was(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    writer = sqlite3.connect(make_db(live / "a.db", wal=True))
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO t (v) VALUES ('only in wal')")
    writer.commit()
    stale = tmp_path / "stale"
    stale.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(live / f"a.db{suffix}", stale / f"a.db{suffix}")
    writer.close()
    before = folder_state(stale)
    snap = open_snapshot(stale / "a.db")
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t WHERE v = 'only in wal'").fetchone()[0] == 1
    conn.close()
    snap.close()
    assert folder_state(stale) == before


def test_wal_database_open_in_another_program_is_read_consistently(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db", wal=True)
    writer = sqlite3.connect(source)
    writer.execute("INSERT INTO t (v) VALUES ('committed')")
    writer.commit()
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t (v) VALUES ('uncommitted')")
    snap = open_snapshot(source)
    conn = snap.connect()
    values = {r[0] for r in conn.execute("SELECT v FROM t")}
    assert "committed" in values and "uncommitted" not in values
    conn.close()
    snap.close()
    writer.rollback()
    writer.close()


def test_invalid_utf8_text_is_readable(corpus: Path) -> None:
    snap = open_snapshot(corpus / "plaso" / "load_statistics.db")
    conn = snap.connect()
    values = [r[0] for r in conn.execute("SELECT resource_url_hash FROM load_statistics")]
    assert values and any("\ufffd" in v for v in values if isinstance(v, str))
    conn.close()
    snap.close()


# ----- bad input --------------------------------------------------------------------------------------


def test_missing_file_says_it_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(DatabaseOpenError, match="does not exist"):
        open_snapshot(tmp_path / "nope.db")


def test_directory_says_it_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatabaseOpenError, match="is a folder"):
        open_snapshot(tmp_path)


def test_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(DatabaseOpenError, match="empty"):
        open_snapshot(empty)


def test_text_file_is_not_a_database(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("hello, this is not a database\n" * 10)
    with pytest.raises(DatabaseOpenError, match="not a SQLite database"):
        open_snapshot(text)


def test_encrypted_file_says_it_may_be_encrypted(tmp_path: Path) -> None:
    encrypted = tmp_path / "secret.db"
    encrypted.write_bytes(os.urandom(4096 * 4))
    with pytest.raises(DatabaseOpenError, match="encrypted"):
        open_snapshot(encrypted)


def test_truncated_corpus_file_says_it_is_damaged(corpus: Path) -> None:
    with pytest.raises(DatabaseOpenError, match="damaged"):
        open_snapshot(corpus / "mbtiles" / "corrupt.mbtiles")


def test_truncated_header_says_it_is_truncated(tmp_path: Path) -> None:
    short = tmp_path / "short.db"
    short.write_bytes(b"SQLite format 3\x00" + b"\x10\x00")
    with pytest.raises(DatabaseOpenError, match="truncated"):
        open_snapshot(short)


def test_unreadable_file_says_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_db(tmp_path / "a.db")

    def deny(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(DatabaseOpenError, match="permission"):
        open_snapshot(source)


def test_file_locked_by_a_writer_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lower_snapshot_limits(monkeypatch, busy_timeout_s=0.2)
    source = make_db(tmp_path / "a.db")
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO t (v) VALUES ('x')")
    try:
        with pytest.raises(DatabaseOpenError, match="locked by another program"):
            open_snapshot(source)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_file_written_while_copied_gives_a_consistent_snapshot(tmp_path: Path) -> None:
    source = make_db(tmp_path / "a.db", rows=50000)
    stop = threading.Event()

    def write() -> None:
        conn = sqlite3.connect(source, timeout=5)
        while not stop.is_set():
            conn.execute("INSERT INTO t (v) VALUES ('during copy')")
            conn.commit()
            time.sleep(0.001)
        conn.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        snap = open_snapshot(source)
    finally:
        stop.set()
        thread.join()
    conn = snap.connect()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] >= 50000
    conn.close()
    snap.close()


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH '{folder}/evil.db' AS e",
        "ATTACH 'file:{folder}/evil2.db' AS e",
        "VACUUM INTO '{folder}/copy.db'",
        "PRAGMA query_only=OFF",
        "PRAGMA trusted_schema=ON",
        "PRAGMA writable_schema=1",
        "PRAGMA journal_mode=WAL",
    ],
)
def test_nothing_outside_the_snapshot_can_be_created_or_unlocked(tmp_path: Path, sql: str) -> None:
    source = make_db(tmp_path / "a.db")
    outside = tmp_path / "outside"
    outside.mkdir()
    snap = open_snapshot(source)
    conn = snap.connect()
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql.format(folder=outside))
    assert list(outside.iterdir()) == []
    assert conn.execute("PRAGMA query_only").fetchone()[0] == 1
    assert conn.execute("PRAGMA table_info(t)").fetchall()  # read-only pragmas with arguments still work
    conn.close()
    snap.close()


def test_extension_loading_is_off(tmp_path: Path) -> None:
    snap = open_snapshot(make_db(tmp_path / "a.db"))
    conn = snap.connect()
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("SELECT load_extension('/nonexistent/ext')")
    conn.close()
    snap.close()


def test_running_out_of_memory_while_copying_falls_back_to_direct_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_db(tmp_path / "a.db")
    before = folder_state(tmp_path)

    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError()

    monkeypatch.setattr(memory_copy, "backup_with_progress", exhausted)
    snap = open_snapshot(source)
    try:
        assert snap.mode is SnapshotMode.DIRECT_FALLBACK and snap.mode.direct
        assert any("did not fit in memory" in note for note in snap.notes)
        conn = snap.connect()
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
        conn.close()
    finally:
        snap.close()
    assert folder_state(tmp_path) == before


def test_the_memory_cap_stays_below_sqlites_largest_allocation() -> None:
    # memdb doubles its buffer up to the cap; SQLite refuses one allocation of 0x7fffff00 bytes or more.
    assert memory_copy.LIMITS.memdb_max_bytes < 0x7FFFFF00
