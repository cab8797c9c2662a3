"""Space per table and index: totals equal dbstat's, the same on a memory snapshot as on the file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot
from desktop_app.core.structure import space as space_module
from desktop_app.core.structure.space import SpaceReport, read_space


def make_db(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA page_size = 1024")
        conn.executescript(
            """
            CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
            CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);
            CREATE INDEX small_name ON small(name);
            CREATE TABLE gone (x);
            """
        )
        conn.executemany("INSERT INTO small (name) VALUES (?)", [(f"name {i}",) for i in range(500)])
        conn.executemany("INSERT INTO blobs (data) VALUES (?)", [(bytes(5000),) for _ in range(20)])
        conn.executemany("INSERT INTO gone VALUES (?)", [("x" * 500,) for _ in range(50)])
        conn.execute("DELETE FROM gone")  # leaves free pages
        conn.commit()
    return path


def dbstat_totals(conn: sqlite3.Connection) -> dict[str, tuple[int, int, int, int]]:
    """name → (pages, bytes, overflow pages, unused bytes) as dbstat adds them up itself."""
    rows = conn.execute(
        "SELECT name, count(*), sum(pgsize), sum(pagetype = 'overflow'), sum(unused) "
        "FROM dbstat GROUP BY name"
    ).fetchall()
    return {name: (pages, size, overflow, unused) for name, pages, size, overflow, unused in rows}


def space_of(
    path: Path, *, force_direct: bool = False
) -> tuple[SpaceReport, dict[str, tuple[int, int, int, int]]]:
    snapshot = open_snapshot(path, force_direct=force_direct)
    assert snapshot.mode is (SnapshotMode.DIRECT if force_direct else SnapshotMode.MEMORY)
    try:
        with closing(snapshot.connect()) as conn:
            report = read_space(conn, CancelToken(), catalog=read_catalog(conn))
            return report, dbstat_totals(conn)
    finally:
        snapshot.close()


def figures(report: SpaceReport) -> dict[str, tuple[int, int, int, int]]:
    return {o.name: (o.pages, o.bytes, o.overflow_pages, o.unused_bytes) for o in report.objects}


def test_space_per_object_and_totals_equal_dbstat(tmp_path: Path) -> None:
    report, expected = space_of(make_db(tmp_path / "space.db"))
    assert figures(report) == expected
    totals = report.totals
    assert totals.pages == sum(v[0] for v in expected.values())
    assert totals.bytes == sum(v[1] for v in expected.values())
    assert totals.unused_bytes == sum(v[3] for v in expected.values())
    assert report.freelist_pages > 0
    assert report.page_count == totals.pages + report.freelist_pages + report.other_pages
    assert report.other_pages == 0


def test_objects_are_sorted_largest_first_with_their_kind_and_table(tmp_path: Path) -> None:
    report, _ = space_of(make_db(tmp_path / "space.db"))
    assert report.objects[0].name == "blobs" and report.objects[0].overflow_pages > 0
    assert [o.bytes for o in report.objects] == sorted((o.bytes for o in report.objects), reverse=True)
    kinds = {o.name: (o.kind, o.table) for o in report.objects}
    assert kinds["small_name"] == ("index", "small")
    assert kinds["sqlite_autoindex_small_1"] == ("index", "small")
    assert kinds["sqlite_schema"] == ("schema", "sqlite_schema")
    assert kinds["small"] == ("table", "small")


def test_a_memory_snapshot_reports_the_same_space_as_the_file(tmp_path: Path) -> None:
    path = make_db(tmp_path / "space.db")
    memory, _ = space_of(path)
    direct, _ = space_of(path, force_direct=True)
    with closing(sqlite3.connect(path)) as conn:
        on_file = dbstat_totals(conn)
    assert figures(memory) == figures(direct) == on_file
    assert (memory.page_count, memory.freelist_pages) == (direct.page_count, direct.freelist_pages)


def test_corpus_space_totals_equal_dbstat(corpus: Path) -> None:
    for file in ("chinook/Chinook_Sqlite.sqlite", "geopackage/gdal_sample.gpkg", "duckdb-sqlite/fts.db"):
        report, expected = space_of(corpus / file)
        assert figures(report) == expected, file
        assert report.page_count == report.totals.pages + report.freelist_pages + report.other_pages


def test_space_reports_progress_in_pages_and_stops_when_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(space_module, "_REPORT_EVERY", 10)
    path = make_db(tmp_path / "space.db")
    cancel = CancelToken()
    heard: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        heard.append(progress)
        if progress.done >= 20:
            cancel.cancel()

    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn, pytest.raises(Cancelled):
            read_space(conn, cancel, on_progress)
    finally:
        snapshot.close()
    assert heard[0].done == 0 and heard[0].total == snapshot.header.page_count
    assert [p.done for p in heard[1:]] == [10, 20]


def test_without_dbstat_space_says_so(tmp_path: Path) -> None:
    path = make_db(tmp_path / "space.db")
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:

            class NoDbstat:
                """A connection whose SQLite lacks dbstat."""

                def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
                    return conn.execute(sql.replace("FROM dbstat", "FROM no_dbstat"), *args)

                def __getattr__(self, name: str) -> object:
                    return getattr(conn, name)

            with pytest.raises(space_module.SpaceUnavailable, match="dbstat"):
                read_space(NoDbstat(), CancelToken())  # type: ignore[arg-type]
    finally:
        snapshot.close()
