"""WAL databases under attack: another program writing, hostile sidecars, symbolic links, stale folders,
and what counts as "changed on disk". The user's folder is compared by listing and hashes every time."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, DatabaseOpenError
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot import private_copy, private_folders
from desktop_app.core.snapshot.private_folders import OWNER_FILE, PRIVATE_PREFIX, remove_stale_private_folders
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot
from desktop_app.core.snapshot.source_file import Fingerprint, shm_in_use
from tests.conftest import folder_state
from tests.snapshot_limits import lower_snapshot_limits
from tests.wal_writer import invariant_holds, start_writer, stop_writer


def listing(folder: Path) -> list[tuple[str, str]]:
    """Names and kinds (file, link, fifo...) of everything in `folder`, links not followed."""
    kinds = []
    for name in sorted(os.listdir(folder)):
        mode = os.lstat(folder / name).st_mode
        kind = "link" if os.path.islink(folder / name) else "fifo" if mode & 0o170000 == 0o010000 else "file"
        kinds.append((name, kind))
    return kinds


def make_wal_db(path: Path, rows: int = 100, keep_open: bool = False) -> sqlite3.Connection | Path:
    """A WAL database whose newest `rows` rows are only in its `-wal` (the writer stays open if asked)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i}",) for i in range(rows)])
    conn.execute("COMMIT")
    if keep_open:
        return conn
    # Copy the db and its -wal as they are now (closing would fold the -wal in and delete it).
    staged = path.with_name(path.name + ".staged")
    staged.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{path}{suffix}", staged / f"x{suffix}")
    conn.close()
    for suffix in ("", "-wal"):
        shutil.move(staged / f"x{suffix}", f"{path}{suffix}")
    staged.rmdir()
    return path


def sparse_state(folder: Path, head: int) -> list[tuple[str, int, int, str]]:
    """Like `folder_state` for a folder holding a huge sparse file: names, sizes, mtimes, hash of the head."""
    state = []
    for p in sorted(folder.iterdir()):
        st = p.stat()
        with p.open("rb") as handle:
            state.append((p.name, st.st_size, st.st_mtime_ns, hashlib.sha256(handle.read(head)).hexdigest()))
    return state


# ----- item 4: another program writing --------------------------------------------------------------


def test_a_reader_between_transactions_of_another_process_is_seen(tmp_path: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=10)
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "c.execute('SELECT count(*) FROM t').fetchone();"
        "print('open', flush=True); sys.stdin.read()"
    )
    reader = subprocess.Popen([sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        # No transaction is open: only the shared lock on shm byte 128 says the database is in use.
        assert shm_in_use(path)
    finally:
        reader.communicate("")
    assert not shm_in_use(path)  # its -shm was removed or is no longer locked


def test_snapshots_while_another_process_commits_are_each_one_whole_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path
) -> None:
    # Small backup steps: the writer commits many times during each copy.
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=8, snapshot_restarts_max=0)
    folder = tmp_path / "user"
    folder.mkdir()
    path, stop_file = folder / "live.db", tmp_path / "stop"
    writer = start_writer(path, stop_file, rows=3000)
    counts = []
    try:
        time.sleep(0.2)
        while_running = listing(folder)
        assert [name for name, _ in while_running] == ["live.db", "live.db-shm", "live.db-wal"]
        for _ in range(5):
            snap = open_snapshot(path)
            try:
                assert snap.mode is SnapshotMode.MEMORY
                assert any("open in another program" in note for note in snap.notes)
                conn = snap.connect()
                assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                assert invariant_holds(conn)
                counts.append(conn.execute("SELECT count(*) FROM a").fetchone()[0])
                conn.close()
            finally:
                snap.close()
            time.sleep(0.05)
        assert listing(folder) == while_running
    finally:
        commits = stop_writer(writer, stop_file)
    assert commits > 0 and counts[-1] > counts[0]  # the writer really wrote between the snapshots
    # Stopped cleanly, the writer folded its -wal in and removed both sidecars: nothing of ours stayed.
    assert listing(folder) == [("live.db", "file")]
    assert os.listdir(private_temp) == []


def test_held_read_transaction_copies_one_state_however_often_the_source_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=1, snapshot_restarts_max=0)
    writer = make_wal_db(tmp_path / "a.db", rows=2000, keep_open=True)
    assert isinstance(writer, sqlite3.Connection)
    # POSIX locks of this process are invisible to it: say another process has it open.
    monkeypatch.setattr(private_copy, "shm_in_use", lambda _path: True)

    def commit_between_steps(_progress: object) -> None:
        writer.execute("INSERT INTO t (v) VALUES ('during the copy')")

    snap = open_snapshot(tmp_path / "a.db", progress=commit_between_steps)
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2000
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    snap.close()
    writer.close()


def test_stop_ends_the_copy_of_a_database_another_process_has_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path
) -> None:
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=1)
    writer = make_wal_db(tmp_path / "a.db", rows=2000, keep_open=True)
    assert isinstance(writer, sqlite3.Connection)
    monkeypatch.setattr(private_copy, "shm_in_use", lambda _path: True)
    token = CancelToken()
    steps: list[object] = []

    def stop_after_a_few_steps(progress: object) -> None:
        steps.append(progress)
        writer.execute("INSERT INTO t (v) VALUES ('during the copy')")
        if len(steps) == 5:
            token.cancel()

    before = listing(tmp_path)
    with pytest.raises(Cancelled):
        open_snapshot(tmp_path / "a.db", progress=stop_after_a_few_steps, cancel=token)
    assert len(steps) == 5 and os.listdir(private_temp) == []
    assert listing(tmp_path) == before
    writer.close()


def test_a_database_another_process_has_open_too_large_to_copy_is_read_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path
) -> None:
    lower_snapshot_limits(monkeypatch, private_copy_max_bytes=16 << 10)
    writer = make_wal_db(tmp_path / "a.db", rows=1000, keep_open=True)
    assert isinstance(writer, sqlite3.Connection)
    monkeypatch.setattr(private_copy, "shm_in_use", lambda _path: True)
    before = listing(tmp_path)  # the writer's -wal and -shm are there already
    snap = open_snapshot(tmp_path / "a.db")
    try:
        assert snap.mode is SnapshotMode.DIRECT
        assert "a private copy would not fit the temporary folder" in " ".join(snap.notes)
        conn = snap.connect()
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1000
        conn.close()
    finally:
        snap.close()
    assert listing(tmp_path) == before and os.listdir(private_temp) == []
    writer.close()


def test_a_rollback_source_is_copied_in_one_read_so_a_writer_cannot_commit_half_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Copied in steps between a writer's commits, the backup started over at every step and gave up: the
    # copy now holds one read transaction, so the writer waits (here: fails at once, it does not wait).
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=1, snapshot_restarts_max=0)
    path = tmp_path / "rollback.db"
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    writer.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 100,) for _ in range(2000)])
    refused = []

    def commit_between_steps(_progress: object) -> None:
        try:
            writer.execute("INSERT INTO t (v) VALUES ('during the copy')")
        except sqlite3.OperationalError as exc:
            refused.append(str(exc))

    snap = open_snapshot(path, progress=commit_between_steps)
    try:
        conn = snap.connect()
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2000
        conn.close()
    finally:
        snap.close()
    assert refused and set(refused) == {"database is locked"}
    writer.execute("INSERT INTO t (v) VALUES ('after the copy')")  # the lock went with the copy
    writer.close()


def test_a_private_copy_that_changed_while_copied_is_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_temp: Path
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=10)
    assert isinstance(path, Path)
    real_copy = private_copy._copy_regular_file
    changes = iter(range(2))

    def copy_then_change(source: Path, *args: object) -> None:
        real_copy(source, *args)  # type: ignore[arg-type]
        if source.name.endswith("-wal") and next(changes, None) is not None:
            # Another program opens it, commits and closes while the first two copies are made.
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("INSERT INTO t (v) VALUES ('late')")
            conn.commit()
            shutil.copyfile(f"{path}-wal", tmp_path / "wal")
            conn.close()  # folds the -wal in: put it back as a live writer would have left it
            shutil.copyfile(tmp_path / "wal", f"{path}-wal")

    monkeypatch.setattr(private_copy, "_copy_regular_file", copy_then_change)
    before = listing(folder)
    snap = open_snapshot(path)
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t WHERE v = 'late'").fetchone()[0] == 2  # the settled state
    conn.close()
    snap.close()
    assert listing(folder) == before
    assert os.listdir(private_temp) == []

    changes = iter(range(100))
    lower_snapshot_limits(monkeypatch, snapshot_restarts_max=1)
    with pytest.raises(DatabaseOpenError, match="kept changing"):
        open_snapshot(path)
    assert os.listdir(private_temp) == []


# ----- item 5: bounded temporary space ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "fifo", "symlink to a regular file"])
def test_a_wal_that_is_not_a_regular_file_is_refused_without_reading_it(
    tmp_path: Path, private_temp: Path, kind: str
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=10)
    wal = folder / "a.db-wal"
    if kind == "fifo":
        wal.unlink()
        os.mkfifo(wal)
    elif kind == "symlink to /dev/zero":
        wal.unlink()
        wal.symlink_to("/dev/zero")
    else:
        shutil.move(wal, tmp_path / "elsewhere-wal")
        wal.symlink_to(tmp_path / "elsewhere-wal")
    before = listing(folder)
    with pytest.raises(
        DatabaseOpenError, match=r"“a\.db-wal” beside the database is not a regular file \(a "
    ):
        open_snapshot(path)
    assert listing(folder) == before
    assert os.listdir(private_temp) == []


def test_a_huge_sparse_wal_is_copied_only_up_to_its_last_valid_commit(
    tmp_path: Path, private_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=100)
    wal = folder / "a.db-wal"
    real_size = wal.stat().st_size
    os.truncate(wal, 64 << 30)  # 64 GiB of holes after the real frames: takes no disk
    copied: list[int] = []
    real_copy = private_copy._copy_regular_file
    monkeypatch.setattr(
        private_copy,
        "_copy_regular_file",
        lambda src, dst, length, cancel: (copied.append(length), real_copy(src, dst, length, cancel)),
    )
    before = sparse_state(folder, real_size)
    snap = open_snapshot(path)
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
    conn.close()
    snap.close()
    assert copied[1] <= real_size  # the -wal's valid frames, not its 64 GiB size
    assert sparse_state(folder, real_size) == before


def test_a_torn_last_frame_is_not_copied(tmp_path: Path, private_temp: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=100)
    with open(folder / "a.db-wal", "ab") as handle:
        handle.write(b"\x01" * 1000)  # half a frame, as a writer killed mid-write leaves
    before = folder_state(folder)
    snap = open_snapshot(path)
    conn = snap.connect()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    snap.close()
    assert folder_state(folder) == before


def test_a_private_copy_over_the_cap_is_refused_clearly(
    tmp_path: Path, private_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=1000)
    lower_snapshot_limits(monkeypatch, private_copy_max_bytes=16 << 10)
    before = folder_state(folder)
    with pytest.raises(
        DatabaseOpenError, match=r"needs a private copy of .* more than the limit for a private"
    ):
        open_snapshot(path)
    assert folder_state(folder) == before and os.listdir(private_temp) == []


def test_a_private_copy_larger_than_the_free_space_is_refused_clearly(
    tmp_path: Path, private_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_wal_db(folder / "a.db", rows=1000)
    real_usage = shutil.disk_usage
    monkeypatch.setattr(private_copy.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=8 << 10))
    before = folder_state(folder)
    with pytest.raises(
        DatabaseOpenError, match=r"more than free space in the temporary folder \(0\.0 MiB free"
    ):
        open_snapshot(path)
    assert folder_state(folder) == before and os.listdir(private_temp) == []


def test_each_private_folder_names_its_owner(tmp_path: Path, private_temp: Path) -> None:
    path = make_wal_db(tmp_path / "a.db", rows=10)
    snap = open_snapshot(path, force_direct=True)  # direct mode keeps its private copy open
    try:
        (folder,) = private_temp.iterdir()
        assert folder.name.startswith(PRIVATE_PREFIX)
        pid, start_time = (folder / OWNER_FILE).read_text().split()
        assert int(pid) == os.getpid() and start_time == private_folders._process_start_time(os.getpid())
        assert remove_stale_private_folders() == []  # ours, alive: kept
    finally:
        snap.close()
    assert os.listdir(private_temp) == []


def test_stale_private_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        alive_start = private_folders._process_start_time(alive.pid)
        owners = {
            "dead": f"{dead_pid} 12345",
            "alive": f"{alive.pid} {alive_start}",
            "reused-pid": f"{alive.pid} {int(alive_start) - 1}" if alive_start != "?" else None,
            "ours": f"{os.getpid()} {private_folders._process_start_time(os.getpid())}",
            "no-owner": None,
        }
        for name, owner in owners.items():
            folder = temp / f"{PRIVATE_PREFIX}{name}"
            folder.mkdir()
            (folder / "snapshot-source.db").write_bytes(b"x" * 100)
            if owner is not None:
                (folder / OWNER_FILE).write_text(owner + "\n")
        (temp / f"{PRIVATE_PREFIX}a-file").write_text("not a folder")
        (temp / "someone-elses").mkdir()
        removed = remove_stale_private_folders(temp)
    finally:
        alive.communicate(b"")
    expected_gone = {"dead"} | ({"reused-pid"} if alive_start != "?" else set())
    assert {p.name.removeprefix(PRIVATE_PREFIX) for p in removed} == expected_gone
    left = sorted(os.listdir(temp))
    assert left == sorted(
        [f"{PRIVATE_PREFIX}{n}" for n in owners if n not in expected_gone]
        + [f"{PRIVATE_PREFIX}a-file", "someone-elses"]
    )


# ----- item 8: a symbolic link to a WAL database ---------------------------------------------------


def test_a_symlink_to_a_wal_database_reads_the_targets_wal(corpus: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    links = tmp_path / "links"
    real.mkdir()
    links.mkdir()
    for name in ("wal_database.db", "wal_database.db-wal"):
        shutil.copyfile(corpus / "plaso" / name, real / name)
    link = links / "evidence.db"
    link.symlink_to(real / "wal_database.db")
    before = (listing(real), folder_state(real), listing(links), folder_state(links))
    snap = open_snapshot(link)
    try:
        assert snap.path == link and snap.source == real / "wal_database.db"
        conn = snap.connect()
        assert conn.execute("SELECT count(*) FROM MyTable").fetchone()[0] == 11
        assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'NewTable'").fetchone()[0] == 1
        conn.close()
        assert not snap.changed_on_disk()
    finally:
        snap.close()
    assert (listing(real), folder_state(real), listing(links), folder_state(links)) == before


# ----- item 13: what counts as a change on disk -----------------------------------------------------


def test_touching_the_file_or_an_empty_wal_and_shm_appearing_is_no_change(tmp_path: Path) -> None:
    rollback = tmp_path / "r.db"
    conn = sqlite3.connect(rollback)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    wal_db = make_wal_db(tmp_path / "w.db", rows=10)
    for path in (rollback, wal_db):
        assert isinstance(path, Path)
        snap = open_snapshot(path)
        try:
            os.utime(path, (1, 1))
            os.utime(path)
            for suffix in ("-shm", "-journal"):
                Path(f"{path}{suffix}").touch()
            if not Path(f"{path}-wal").exists():
                Path(f"{path}-wal").touch()
            else:
                os.utime(f"{path}-wal", (2, 2))
            assert not snap.changed_on_disk()
        finally:
            snap.close()


def test_a_wal_header_without_frames_is_no_change(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = Fingerprint.of(path)
    Path(f"{path}-wal").write_bytes(bytes.fromhex("377f0682002de218") + (4096).to_bytes(4, "big") + bytes(20))
    assert Fingerprint.of(path) == before


def test_a_commit_is_a_change_in_rollback_and_wal_mode(tmp_path: Path) -> None:
    rollback = tmp_path / "r.db"
    conn = sqlite3.connect(rollback)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    snap = open_snapshot(rollback)
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    assert snap.changed_on_disk()
    snap.close()

    writer = make_wal_db(tmp_path / "w.db", rows=10, keep_open=True)
    assert isinstance(writer, sqlite3.Connection)
    snap = open_snapshot(tmp_path / "w.db")
    assert not snap.changed_on_disk()
    writer.execute("INSERT INTO t (v) VALUES ('new')")
    assert snap.changed_on_disk()
    snap.close()
    snap = open_snapshot(tmp_path / "w.db")
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # same rows, but the file itself changed
    writer.execute("INSERT INTO t (v) VALUES ('after a restart of the log')")
    assert snap.changed_on_disk()
    snap.close()
    writer.close()
