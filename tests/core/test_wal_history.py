"""WAL history: every commit of a `-wal` listed, and the database as of each one equal to what it held then.

The databases are built commit by commit (tests/wal_history_builder.py) recording the truth after each;
the evidence folder (a copy taken while the writer holds the log open) is hashed before and after.
"""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.errors import DatabaseOpenError, UserError
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.wal.as_of import open_as_of_commit
from desktop_app.core.wal.frames import _checksum
from desktop_app.core.wal.history import read_wal_history
from tests.conftest import folder_state
from tests.wal_history_builder import WalBuilder, build_history, database_rows


def rows_as_of(path: Path, number: int) -> dict[str, list[tuple[object, ...]]]:
    snapshot = open_as_of_commit(path, number)
    try:
        conn = snapshot.connect()
        try:
            return database_rows(conn)
        finally:
            conn.close()
    finally:
        snapshot.close()


@pytest.mark.parametrize("page_size", [1024, 65536])
def test_every_commit_opens_with_the_rows_the_database_held_then(tmp_path: Path, page_size: int) -> None:
    path, builder = build_history(tmp_path, page_size, rows=120 if page_size == 65536 else 300)
    try:
        before = folder_state(path.parent)
        history = read_wal_history(path)
        assert [c.number for c in history.commits] == list(range(1, len(builder.truths) + 1))
        assert not any(c.stale for c in history.commits)
        assert history.page_size == page_size
        for commit, truth in zip(history.commits, builder.truths, strict=True):
            assert rows_as_of(path, commit.number) == truth, f"commit {commit.number}"
        assert folder_state(path.parent) == before
        assert sorted(os.listdir(path.parent)) == ["history.db", "history.db-wal"]
    finally:
        builder.close()


def test_commits_list_their_frames_pages_sizes_and_tables(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    commits = read_wal_history(path).commits
    assert commits[0].first_frame == 1
    for earlier, later in itertools.pairwise(commits):
        assert later.first_frame == earlier.last_frame + 1
    assert all(1 <= c.pages <= c.last_frame - c.first_frame + 1 for c in commits)
    assert commits[0].tables == ("people",)  # the first commit creates it
    assert commits[1].tables == ("people",)
    assert set(commits[2].tables) == {"items", "(schema)"}
    assert commits[3].tables == ("items",)
    assert commits[4].tables == ("people",)
    assert "(freelist)" in commits[7].tables  # the dropped index's pages went to the freelist
    assert commits[3].db_pages > commits[2].db_pages
    assert len({c.salt for c in commits}) == 1


def test_a_checkpoint_in_the_middle_leaves_stale_commits_marked_and_not_openable(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024, checkpoint_after=6)
    try:
        history = read_wal_history(path)
        current = history.current
        stale = [c for c in history.commits if c.stale]
        assert len(current) == len(builder.since_restart) == 3
        for commit, truth in zip(current, builder.since_restart, strict=True):
            assert rows_as_of(path, commit.number) == truth
        assert stale, "frames from before the checkpoint are listed"
        assert all(c.salt != current[0].salt for c in stale)
        assert all(c.first_frame > current[-1].last_frame for c in stale)
        with pytest.raises(DatabaseOpenError, match=r"stale .* cannot be rebuilt"):
            history.image_as_of(stale[0].number)
        assert any("stale commit" in note for note in history.notes)
    finally:
        builder.close()


def test_a_torn_last_frame_is_ignored_with_a_note(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    whole = read_wal_history(path).commits
    with open(f"{path}-wal", "ab") as wal:
        wal.write(b"\x00\x00\x00\x05" + os.urandom(600))  # half a frame: a write cut short
    history = read_wal_history(path)
    assert history.commits == whole
    assert any("incomplete" in note for note in history.notes)


def test_a_broken_checksum_chain_stops_at_the_last_valid_commit(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    try:
        commits = read_wal_history(path).commits
        broken = commits[4]  # a byte of its second page flipped: it and every later commit are dropped
        frame_bytes = 24 + 1024
        offset = 32 + (broken.first_frame - 1) * frame_bytes + 24 + 500
        data = bytearray(Path(f"{path}-wal").read_bytes())
        data[offset] ^= 0xFF
        Path(f"{path}-wal").write_bytes(data)
        history = read_wal_history(path)
        assert [c.number for c in history.commits] == [1, 2, 3, 4]
        assert any(f"Frame {broken.first_frame} fails the checksum chain" in n for n in history.notes)
        assert rows_as_of(path, 4) == builder.truths[3]
        # SQLite itself agrees: the database it reads is the one as of commit 4.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert database_rows(conn) == builder.truths[3]
        finally:
            conn.close()
    finally:
        builder.close()


def rewrite_checksums(data: bytearray, page_size: int, big_endian: bool) -> None:
    """Compute the header's and every frame's checksum again (after an edit), as SQLite writes them."""
    data[3] = 0x83 if big_endian else 0x82
    seed = _checksum(bytes(data[:24]), big_endian, (0, 0))
    data[24:32] = seed[0].to_bytes(4, "big") + seed[1].to_bytes(4, "big")
    frame = 24 + page_size
    for offset in range(32, len(data) - frame + 1, frame):
        seed = _checksum(
            bytes(data[offset : offset + 8]) + bytes(data[offset + 24 : offset + frame]), big_endian, seed
        )
        data[offset + 16 : offset + 24] = seed[0].to_bytes(4, "big") + seed[1].to_bytes(4, "big")


def test_big_endian_checksums_are_read_like_little_endian_ones(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    little = read_wal_history(path).commits
    data = bytearray(Path(f"{path}-wal").read_bytes())
    rewrite_checksums(data, 1024, big_endian=True)
    Path(f"{path}-wal").write_bytes(data)
    assert read_wal_history(path).commits == little
    assert rows_as_of(path, len(little)) == builder.truths[-1]


def test_frames_after_the_last_commit_are_an_unfinished_transaction_and_ignored(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    try:
        commits = read_wal_history(path).commits
        last = commits[-1]
        data = bytearray(Path(f"{path}-wal").read_bytes())
        frame_end = 32 + last.last_frame * (24 + 1024)
        data[frame_end - (24 + 1024) + 4 : frame_end - (24 + 1024) + 8] = bytes(4)  # no longer a commit frame
        rewrite_checksums(data, 1024, big_endian=False)
        Path(f"{path}-wal").write_bytes(data)
        history = read_wal_history(path)
        assert history.commits == commits[:-1]
        assert any(f"–{last.last_frame} follow the last commit" in note for note in history.notes)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # SQLite agrees (the copy may be touched)
        try:
            assert database_rows(conn) == builder.truths[-2] == rows_as_of(path, len(commits) - 1)
        finally:
            conn.close()
    finally:
        builder.close()


def test_a_damaged_wal_header_lists_no_commit_and_says_why(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    data = bytearray(Path(f"{path}-wal").read_bytes())
    data[24] ^= 0xFF
    Path(f"{path}-wal").write_bytes(data)
    history = read_wal_history(path)
    assert history.commits == []
    assert history.notes == ["The -wal is not read by SQLite: its header's checksum is wrong."]


def test_the_live_folder_of_a_writer_holding_the_log_open_is_read_and_left_as_it_was(tmp_path: Path) -> None:
    _path, builder = build_history(tmp_path, 1024)
    try:
        live = builder.path
        before = folder_state(live.parent)
        names = sorted(os.listdir(live.parent))
        history = read_wal_history(live)
        assert len(history.commits) == len(builder.truths)
        assert rows_as_of(live, 5) == builder.truths[4]
        assert folder_state(live.parent) == before and sorted(os.listdir(live.parent)) == names
    finally:
        builder.close()


def test_a_database_without_a_wal_says_so(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    sqlite3.connect(path).close()
    with pytest.raises(DatabaseOpenError, match="has no -wal file beside it"):
        read_wal_history(path)
    assert os.listdir(tmp_path) == ["plain.db"]


def test_a_commit_that_does_not_exist_is_refused_naming_those_that_do(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    with pytest.raises(DatabaseOpenError, match=r"has no commit 99: it holds commits 1–9"):
        open_as_of_commit(path, 99)


def test_the_snapshot_as_of_a_commit_says_so_and_sees_changes_on_disk(tmp_path: Path) -> None:
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    snapshot = open_as_of_commit(path, 3)
    try:
        assert snapshot.wal_commit == 3
        assert "as of WAL commit 3" in snapshot.mode_reason
        assert not snapshot.changed_on_disk()
        with open(f"{path}-wal", "ab") as wal:
            wal.write(bytes(24 + 1024))
        assert snapshot.changed_on_disk()
    finally:
        snapshot.close()


def test_a_schema_record_longer_than_a_page_still_names_the_tables(tmp_path: Path) -> None:
    columns = ", ".join(f"column_with_a_rather_long_name_{i} TEXT" for i in range(60))
    (tmp_path / "work").mkdir()
    builder = WalBuilder(tmp_path / "work" / "wide.db", 1024)
    builder.commit(f"CREATE TABLE wide ({columns})")
    builder.commit(
        ("INSERT INTO wide (column_with_a_rather_long_name_0) VALUES (?)", [(str(i),) for i in range(50)])
    )
    path = builder.copy_to(tmp_path / "evidence")
    builder.close()
    commits = read_wal_history(path).commits
    assert [c.tables for c in commits] == [("wide",), ("wide",)]
    assert rows_as_of(path, 2) == builder.truths[1]


def test_a_checkpoint_without_a_restart_leaves_only_the_commits_that_can_be_rebuilt_openable(
    tmp_path: Path,
) -> None:
    (tmp_path / "work").mkdir()
    builder = WalBuilder(tmp_path / "work" / "old.db", 1024)
    try:
        builder.commit("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        builder.commit(("INSERT INTO t (v) VALUES (?)", [(f"row {i}" * 5,) for i in range(300)]))
        builder.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # all in the file, log empty
        builder.truths.clear()
        builder.commit("UPDATE t SET v = 'first' WHERE id = 1")  # the first leaf page
        builder.commit("UPDATE t SET v = 'second' WHERE id = 300")  # the last leaf page
        builder.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # both copied; no restart yet
        path = builder.copy_to(tmp_path / "evidence")
        history = read_wal_history(path)
        first, second = history.commits
        # As of the first commit the last leaf held its old row, which the file no longer has.
        assert not first.openable and second.openable
        assert any(
            "A checkpoint already copied" in n and "1 commit(s) cannot be opened" in n for n in history.notes
        )
        with pytest.raises(DatabaseOpenError, match="a checkpoint already copied"):
            open_as_of_commit(path, 1)
        assert rows_as_of(path, 2) == builder.truths[1]
    finally:
        builder.close()


def test_a_checkpoint_held_back_by_a_reader_copies_some_pages_and_every_commit_stays_right(
    tmp_path: Path,
) -> None:
    (tmp_path / "work").mkdir()
    builder = WalBuilder(tmp_path / "work" / "held.db", 1024)
    try:
        builder.commit("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "CREATE TABLE u (x)")
        builder.commit(("INSERT INTO t (v) VALUES (?)", [(f"row {i}" * 5,) for i in range(200)]))
        reader = sqlite3.connect(builder.path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # holds commit 2
        builder.commit("INSERT INTO u VALUES (1)")
        builder.commit("UPDATE t SET v = 'changed' WHERE id % 4 = 0")
        # Copies the pages whose newest frame is in commits 1-2 only (t's leaves are written again later).
        builder.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        path = builder.copy_to(tmp_path / "evidence")
        reader.close()
        history = read_wal_history(path)
        assert [c.openable for c in history.commits] == [True, True, True, True]
        for commit, truth in zip(history.commits, builder.truths, strict=True):
            assert rows_as_of(path, commit.number) == truth
    finally:
        builder.close()


@pytest.mark.parametrize("seed", range(6))
def test_damaged_frames_with_valid_checksums_are_listed_or_refused_never_a_crash(
    tmp_path: Path, seed: int
) -> None:
    """Page numbers, database sizes and page bytes overwritten (checksums made valid again, as a crafted
    file would have them): listing and opening each commit either work or raise a `UserError`."""
    path, builder = build_history(tmp_path, 1024)
    builder.close()
    rng = random.Random(seed)
    data = bytearray(Path(f"{path}-wal").read_bytes())
    frame = 24 + 1024
    frames = (len(data) - 32) // frame
    for _ in range(8):
        offset = 32 + rng.randrange(frames) * frame
        where = rng.choice(["page number", "size", "page"])
        if where == "page number":
            data[offset : offset + 4] = rng.choice([0, 1, 2, 999, 0x7FFFFFFF, 0xFFFFFFFF]).to_bytes(4, "big")
        elif where == "size":
            data[offset + 4 : offset + 8] = rng.choice([1, 3, 10**6, 0xFFFFFFFF]).to_bytes(4, "big")
        else:
            start = offset + 24 + rng.randrange(1024 - 16)
            data[start : start + 16] = rng.randbytes(16)
    rewrite_checksums(data, 1024, big_endian=False)
    Path(f"{path}-wal").write_bytes(data)
    try:
        history = read_wal_history(path)
    except UserError:
        return
    for commit in history.commits:
        try:
            rows_as_of(path, commit.number)
        except (UserError, sqlite3.DatabaseError):
            pass  # a damaged page read by a query: SQLite says so (the CLI turns it into one line)


def test_the_plaso_wal_corpus_file_opens_at_each_of_its_eight_commits(corpus: Path) -> None:
    """A real WAL left by another program: deletes, an update, inserts, ALTER TABLE and CREATE TABLE, each
    seen at its own commit; the last commit is what SQLite reads; the corpus folder is read in place."""
    path = corpus / "plaso" / "wal_database.db"
    before = folder_state(path.parent)
    history = read_wal_history(path)
    assert [c.tables for c in history.commits] == [("MyTable",)] * 6 + [
        ("(schema)",),
        ("(schema)", "NewTable"),
    ]

    def texts(number: int) -> list[object]:
        return [row[0] for row in rows_as_of(path, number)["MyTable"]]

    assert "Deleted Text 1" not in texts(1) and "Deleted Text 2" in texts(1)
    assert "Deleted Text 2" not in texts(2) and "Committed Text 3" in texts(2)
    assert "Modified Committed Text 3" in texts(3) and "Committed Text 3" not in texts(3)
    assert len(rows_as_of(path, 6)["MyTable"][0]) == 3 and len(rows_as_of(path, 7)["MyTable"][0]) == 4
    assert "NewTable" not in rows_as_of(path, 7) and "NewTable" in rows_as_of(path, 8)
    latest = open_snapshot(path)  # the ordinary snapshot: SQLite's own reading of the -wal
    try:
        conn = latest.connect()
        try:
            assert database_rows(conn) == rows_as_of(path, 8)
        finally:
            conn.close()
    finally:
        latest.close()
    assert folder_state(path.parent) == before
