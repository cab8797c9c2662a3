"""Health checks on a snapshot: SQLite's own verdict, problems linked to tables, FK violations, stopping."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.cli import check as check_module
from desktop_app.cli import main
from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite import interrupt as stopping
from desktop_app.core.structure.health import (
    ForeignKeyViolation,
    HealthReport,
    check_health,
    integrity_check,
    parse_messages,
    quick_check,
)
from tests.conftest import folder_state

INTACT = [
    "chinook/Chinook_Sqlite.sqlite",
    "northwind/northwind.db",
    "world/world.db",
    "duckdb-sqlite/fts.db",
    "duckdb-sqlite/norowid.db",
    "duckdb-sqlite/borked.db",
    "plaso/places.sqlite",
    "plaso/History",
    "plaso/wal_database.db",
    "plaso/load_statistics.db",
    "mbtiles/plain_1.mbtiles",
    "geopackage/gdal_sample.gpkg",
    "sqlite-test/dbfuzz2-seed1.db",
]
CORRUPT = ["mbtiles/corrupt.mbtiles"]


def sqlite_own_verdict(source: Path, tmp_path: Path) -> list[str]:
    """What SQLite's own `PRAGMA integrity_check` says on a private copy (its `-wal` beside it)."""
    folder = tmp_path / "own"
    folder.mkdir()
    copy = folder / source.name
    shutil.copyfile(source, copy)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, folder / wal.name)
    rows: list[str] = []
    with closing(sqlite3.connect(copy)) as conn:
        try:
            for row in conn.execute("PRAGMA integrity_check"):
                rows.append(str(row[0]))
        except sqlite3.DatabaseError as exc:  # the rows so far, then the error, as sqlite3's shell shows
            rows.append(str(exc))
    return [] if rows == ["ok"] else rows


def check_json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    assert main(["check", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def report_of(path: Path, **options: object) -> HealthReport:
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            return check_health(conn, CancelToken(), catalog=read_catalog(conn), **options)  # type: ignore[arg-type]
    finally:
        snapshot.close()


@pytest.mark.parametrize("file", INTACT + CORRUPT)
def test_check_agrees_with_sqlites_own_integrity_check(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str
) -> None:
    own = sqlite_own_verdict(corpus / file, tmp_path)
    report = check_json(corpus / file, capsys)
    assert report["integrity"] == own
    assert report["ok"] is (not own and not report["foreign_keys"])
    assert (file in CORRUPT) is (not report["ok"])


def test_a_healthy_file_gets_plain_words(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(corpus / "chinook" / "Chinook_Sqlite.sqlite")]) == 0
    assert capsys.readouterr().out.strip() == (
        "No problems found: SQLite's integrity check passed. Every foreign key points at an existing row."
    )


def test_a_file_too_damaged_to_open_is_reported_not_refused(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = check_json(corpus / "mbtiles" / "corrupt.mbtiles", capsys)
    assert report["ok"] is False and report["integrity"] == ["database disk image is malformed"]
    assert report["summary"].endswith("Its foreign keys could not be checked.")  # type: ignore[union-attr]


def make_index_mismatch(path: Path) -> Path:
    """An index whose declared column differs from what it holds: SQLite says rows are missing from it."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE t (a, b); CREATE INDEX i1 ON t(a);"
            "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z');"
        )
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX i1 ON t(b)' WHERE name = 'i1'")
        conn.commit()
    return path


def make_damaged_page(path: Path) -> tuple[Path, int]:
    """A table whose leaf page has two cells swapped (keys out of order); returns the page's number.

    (Pointers overwritten with garbage would not do: SQLite's answer on those varies from run to run.)
    """
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA page_size = 1024")
        conn.executescript("CREATE TABLE keep (x); CREATE TABLE t (a, b);")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, "v" * 100) for i in range(200)])
        conn.commit()
        page = conn.execute(
            "SELECT max(pageno) FROM dbstat WHERE name = 't' AND pagetype = 'leaf'"
        ).fetchone()[0]
    data = bytearray(path.read_bytes())
    start = (page - 1) * 1024 + 8  # past the leaf page's 8-byte header: its cell pointer array
    data[start : start + 4] = data[start + 2 : start + 4] + data[start : start + 2]
    path.write_bytes(bytes(data))
    return path, page


def test_index_problems_name_the_index_its_table_and_the_row(tmp_path: Path) -> None:
    path = make_index_mismatch(tmp_path / "index.db")
    own = sqlite_own_verdict(path, tmp_path)
    report = report_of(path)
    assert report.integrity.messages == own and own
    first = report.integrity.problems[0]
    assert (first.message, first.object, first.table, first.row) == (
        "row 1 missing from index i1",
        "i1",
        "t",
        1,
    )
    assert not report.ok and "problem" in report.summary()


def test_quick_check_skips_index_contents(tmp_path: Path) -> None:
    path = make_index_mismatch(tmp_path / "index.db")
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            assert quick_check(conn, CancelToken()).ok
            assert not integrity_check(conn, CancelToken()).ok
    finally:
        snapshot.close()


def test_page_problems_name_the_page_and_its_table(tmp_path: Path) -> None:
    path, page = make_damaged_page(tmp_path / "page.db")
    own = sqlite_own_verdict(path, tmp_path)
    report = report_of(path)
    assert report.integrity.messages == own and own
    on_page = [p for p in report.integrity.problems if p.page == page]
    assert on_page and all(p.object == "t" == p.table for p in on_page)
    assert on_page[0].database == "main" and on_page[0].message.startswith(
        f"On tree page {page} cell 0: Rowid"
    )


def test_messages_are_parsed_into_what_they_name() -> None:
    problems = parse_messages(
        [
            "*** in database main ***\nOn tree page 3 cell 0: Offset 65535 out of range\n"
            "Page 9 is never used",
            "wrong # of entries in index sqlite_autoindex_t_1",
            "NULL value in Order Details.qty",
            "non-unique entry in index u",
            "CHECK constraint failed in t",
            "Tree 2 page 7 cell 1: 2nd reference to page 12",
        ]
    )
    assert [(p.object, p.page, p.column) for p in problems] == [
        (None, 3, None),
        (None, 9, None),
        ("sqlite_autoindex_t_1", None, None),
        ("Order Details", None, "qty"),
        ("u", None, None),
        ("t", None, None),
        (None, 7, None),
    ]


def test_foreign_key_violations_are_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fk.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id REFERENCES parent(id));
            CREATE TABLE keyed (k TEXT PRIMARY KEY, parent_id REFERENCES parent(id)) WITHOUT ROWID;
            INSERT INTO parent VALUES (1);
            INSERT INTO child VALUES (10, 1), (11, 2), (12, NULL), (13, 3);
            INSERT INTO keyed VALUES ('a', 5);
            """
        )
    report = report_of(path)
    assert report.integrity.ok and not report.ok
    assert sorted(report.foreign_keys, key=lambda v: (v.table, v.rowid or 0)) == [
        ForeignKeyViolation("child", 11, "parent", 0),
        ForeignKeyViolation("child", 13, "parent", 0),
        ForeignKeyViolation("keyed", None, "parent", 0),
    ]
    out = check_json(path, capsys)
    assert out["ok"] is False and out["integrity"] == []
    assert {"table": "child", "rowid": 11, "parent": "parent", "fkid": 0} in out["foreign_keys"]  # type: ignore[operator]
    assert main(["check", str(path)]) == 0
    text = capsys.readouterr().out
    assert "3 rows point at a missing parent row (foreign-key violations)." in text
    assert ["child", "11", "parent", "0"] in [line.split() for line in text.splitlines()]


def test_an_already_cancelled_check_stops_at_once(tmp_path: Path) -> None:
    path = make_index_mismatch(tmp_path / "index.db")
    cancel = CancelToken()
    cancel.cancel()
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn, pytest.raises(Cancelled):
            integrity_check(conn, cancel)
    finally:
        snapshot.close()


def big_database(path: Path, rows: int) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript("CREATE TABLE t (a, b); CREATE INDEX ia ON t(a); CREATE INDEX ib ON t(b);")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO t SELECT i, hex(randomblob(16)) FROM n",
            (rows,),
        )
        conn.commit()
    return path


def test_a_check_stops_when_cancelled_from_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Few instructions between checks, so the first heartbeat comes early on a small database.
    lowered = dataclasses.replace(stopping.LIMITS, progress_handler_ops=100, progress_interval_s=0.0)
    monkeypatch.setattr(stopping, "LIMITS", lowered)
    path = big_database(tmp_path / "big.db", 50_000)
    cancel = CancelToken()
    heard: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        heard.append(progress)
        if len(heard) == 2:  # the first heartbeat inside the statement: cancel from elsewhere
            threading.Thread(target=cancel.cancel).start()

    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            with pytest.raises(Cancelled):
                integrity_check(conn, cancel, on_progress)
            # The connection is usable afterwards, its handler gone.
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 50_000
    finally:
        snapshot.close()
    assert heard[0] == Progress(0, None, "Checking integrity…") and len(heard) >= 2


def test_check_leaves_the_source_folder_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = make_index_mismatch(folder / "index.db")
    with closing(sqlite3.connect(folder / "wal.db")) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        shutil.copyfile(folder / "wal.db-wal", tmp_path / "kept-wal")
    shutil.copyfile(tmp_path / "kept-wal", folder / "wal.db-wal")  # a -wal left beside it, as after a crash
    before = (sorted(p.name for p in folder.iterdir()), folder_state(folder))
    check_json(path, capsys)
    check_json(folder / "wal.db", capsys, "--quick")
    assert main(["check", str(path)]) == 0
    capsys.readouterr()
    assert (sorted(p.name for p in folder.iterdir()), folder_state(folder)) == before


def test_check_refuses_a_missing_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing.db")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "does not exist" in err


def test_check_refuses_a_negative_time_limit(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(corpus / "chinook" / "Chinook_Sqlite.sqlite"), "--time-limit", "-1"]) == 1
    assert capsys.readouterr().err == "error: --time-limit must be 0 (none) or more seconds.\n"


def test_check_stops_at_its_time_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = big_database(tmp_path / "big.db", 100_000)
    assert main(["check", str(path), "--time-limit", "0.000001"]) == 1
    assert capsys.readouterr().err == "error: stopped after 1e-06 s (time limit)\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to the process itself is POSIX")
def test_ctrl_c_stops_check_mid_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lowered = dataclasses.replace(stopping.LIMITS, progress_handler_ops=100, progress_interval_s=0.0)
    monkeypatch.setattr(stopping, "LIMITS", lowered)
    path = big_database(tmp_path / "big.db", 20_000)
    real = check_module.check_health

    def interrupted_once_running(
        conn: sqlite3.Connection, cancel: CancelToken, **options: object
    ) -> HealthReport:
        def on_progress(progress: Progress) -> None:
            if progress.done:  # SQLite is inside the check: Ctrl-C now
                os.kill(os.getpid(), signal.SIGINT)

        return real(conn, cancel, on_progress, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(check_module, "check_health", interrupted_once_running)
    assert main(["check", str(path)]) == 130
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "interrupted\n")
