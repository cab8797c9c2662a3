"""Deleted-record recovery on generated databases whose deleted rows are known exactly."""

from __future__ import annotations

import mmap
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.errors import RecoveryError
from desktop_app.core.pagefile.image import SQLITE_MAGIC, DatabaseImage
from desktop_app.core.recovery.model import SECURE_DELETE_NOTE
from desktop_app.core.recovery.output import record_as_dict
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.scan import recover, recover_image
from desktop_app.core.recovery.shapes import affinity_of, default_value, shapes_of
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests import recovery_cases as cases
from tests.conftest import folder_state
from tests.fixtures import memdb_writable

#: Recall (of recoverable deleted rows) and precision each kind must reach.
TARGETS: dict[str, tuple[float, float]] = {
    "leaf-deleted": (0.95, 0.99),
    "pages-freed": (0.95, 0.99),
    "integer-key-aliasing": (0.95, 0.99),
    "dropped-table": (0.95, 0.99),
    "overwritten-shorter": (0.95, 0.99),
    "overwritten-longer": (0.95, 0.99),
    "overflow-freed": (0.95, 0.99),
    "auto-vacuum-full": (0.95, 0.99),
    "auto-vacuum-incremental": (0.95, 0.99),
    "auto-vacuum-incremental-pages": (0.95, 0.99),
    "utf-16le": (0.95, 0.99),
    "utf-16be": (0.95, 0.99),
    "without-rowid": (0.95, 0.97),
    "reserved-bytes": (0.95, 0.99),
    "page-size-512": (0.95, 0.99),
    "page-size-1024": (0.95, 0.99),
    "page-size-8192": (0.95, 0.99),
    "page-size-65536": (0.95, 0.99),
    "alter-add-column": (0.95, 0.99),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, cases.Case]:
    folder = tmp_path_factory.mktemp("recovery")
    return {case.kind: case for case in cases.all_cases(folder)}


def _recover(path: Path):  # type: ignore[no-untyped-def]
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            return recover(conn)
    finally:
        snapshot.close()


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_recall_and_precision_reach_the_targets_for_each_case_kind(
    built: dict[str, cases.Case], kind: str
) -> None:
    case = built[kind]
    score = cases.score(case, _recover(case.path))
    recall, precision = TARGETS[kind]
    assert score.recoverable > 0
    assert score.recall >= recall, score
    assert score.precision >= precision, score


def test_every_case_kind_is_scored(built: dict[str, cases.Case]) -> None:
    assert set(built) == set(TARGETS) | {"secure-delete-on"}


def test_secure_delete_recovers_nothing_and_says_why(built: dict[str, cases.Case]) -> None:
    result = _recover(built["secure-delete-on"].path)
    assert result.records == []
    assert result.note == SECURE_DELETE_NOTE
    assert "secure_delete" in result.note


def test_freed_pages_give_back_every_value_including_the_integer_key(built: dict[str, cases.Case]) -> None:
    case = built["integer-key-aliasing"]
    result = _recover(case.path)
    score = cases.score(case, result)
    assert score.complete >= 0.95 * score.recoverable
    freed = [r for r in result.records if r.source == "freelist" and LOST not in r.values]
    assert freed and all(r.values[0] == r.rowid for r in freed)


def test_freeblock_records_mark_the_overwritten_key_as_lost(built: dict[str, cases.Case]) -> None:
    result = _recover(built["leaf-deleted"].path)
    from_freeblocks = [r for r in result.records if r.source == "freeblock"]
    assert from_freeblocks
    assert all(r.values[0] is LOST and r.rowid is LOST for r in from_freeblocks)
    assert all(0.5 <= r.confidence <= 1.0 for r in result.records)


def test_a_freed_cell_whose_tail_lies_under_newer_cells_comes_back_with_the_tail_marked_lost(
    built: dict[str, cases.Case],
) -> None:
    # A balance rebuilt the page: the old cell's freeblock header still says it ran past today's gap.
    case = built["overflow-freed"]
    result = _recover(case.path)
    score = cases.score(case, result)
    assert score.recovered == score.recoverable
    rows = {row[1]: row for row in case.deleted["t"]}
    overrun = [
        r
        for r in result.records
        if r.source.value == "unallocated" and r.values[1] in rows and r.values[4:] == (LOST, LOST)
    ]
    assert overrun
    for record in overrun:
        assert cases.matches(record.values, rows[record.values[1]])


def test_rows_from_before_alter_table_add_column_read_the_added_columns_as_defaults(
    built: dict[str, cases.Case],
) -> None:
    case = built["alter-add-column"]
    result = _recover(case.path)
    truth = {row[1]: row for row in case.deleted["t"]}
    by_width = {}
    for record in result.records:
        assert record.table == "t" and record.columns == ("id", "marker", "n", "x", "note", "data", "score")
        assert cases.matches(record.values, truth[record.values[1]])
        by_width.setdefault(record.defaulted, []).append(record)
    # Rows of the first era predate all three columns, the second era's the last two, the third's none.
    assert set(by_width) == {(4, 5, 6), (5, 6), ()}
    for record in by_width[(4, 5, 6)]:
        assert record.values[4:] == ("none", None, 7)
        assert record_as_dict(record)["defaulted"] == [4, 5, 6]


def test_without_rowid_rows_from_before_an_added_column_come_back_from_freed_pages(tmp_path: Path) -> None:
    path = tmp_path / "wr-altered.db"
    rows = [(f"key-{i:04d}", i, "text " * (i % 9)) for i in range(800)]
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("CREATE TABLE w (k TEXT PRIMARY KEY, n INTEGER, note TEXT) WITHOUT ROWID")
        conn.executemany("INSERT INTO w VALUES (?, ?, ?)", rows)
        conn.execute("ALTER TABLE w ADD COLUMN extra TEXT NOT NULL DEFAULT 'd'")
        conn.execute("DELETE FROM w WHERE n BETWEEN 200 AND 599")
    result = _recover(path)
    gone = {r[0]: (*r, "d") for r in rows if 200 <= r[1] <= 599}
    image = path.read_bytes()
    recoverable = {k for k in gone if k.encode() in image}
    found = {r.values[0]: r for r in result.records if r.values[0] in gone}
    assert len(recoverable) > 300
    # As many as without the ALTER (rows under interior pages and trunks are gone either way).
    assert len(set(found) & recoverable) >= 0.9 * len(recoverable)
    for key, record in found.items():
        assert record.values == gone[key]  # type: ignore[index]
        assert record.defaulted == (3,)
    assert all(r.values[0] in gone for r in result.records)


@pytest.mark.parametrize(
    "default",
    [
        "NULL",
        "7",
        "-7",
        "+7",
        "1.5",
        "-2e3",
        "'a''b'",
        "'12'",
        "' 12 '",
        "'1.0'",
        "x'00ff'",
        "TRUE",
        "FALSE",
        "9223372036854775808",
        "'abc'",
        "0.0",
    ],
)
@pytest.mark.parametrize("declared", ["INTEGER", "REAL", "TEXT", "NUMERIC", "BLOB", ""])
def test_a_literal_default_reads_as_sqlite_reads_it(tmp_path: Path, default: str, declared: str) -> None:
    with closing(sqlite3.connect(tmp_path / "d.db")) as conn:
        conn.execute("CREATE TABLE t (a)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute(f"ALTER TABLE t ADD COLUMN b {declared} DEFAULT {default}")
        expected = conn.execute("SELECT b FROM t").fetchone()[0]
    value = default_value(default, affinity_of(declared))
    assert value is LOST or (type(value), value) == (type(expected), expected)
    if not (declared == "TEXT" and default in ("1.5", "9223372036854775808")):  # SQLite's float text: lost
        assert value is not LOST


def test_dropped_table_is_named_from_its_carved_create_statement(built: dict[str, cases.Case]) -> None:
    result = _recover(built["dropped-table"].path)
    assert result.dropped_tables == ["doomed"]
    assert {r.table for r in result.records} == {"doomed"}
    assert {r.source for r in result.records} == {"dropped-table"}
    assert result.records[0].columns == ("id", "marker", "n", "x", "note", "data", "kind")


def test_without_rowid_records_come_back_in_column_order(built: dict[str, cases.Case]) -> None:
    case = built["without-rowid"]
    result = _recover(case.path)
    assert result.records[0].columns == ("k", "id", "n", "note")
    deleted = {row[0] for row in case.deleted["t"]}
    assert sum(r.values[0] in deleted for r in result.records) >= 0.95 * len(deleted)


def test_copies_of_live_rows_are_set_aside(built: dict[str, cases.Case]) -> None:
    case = built["without-rowid"]
    result = _recover(case.path)
    with closing(sqlite3.connect(case.path)) as conn:
        live = {row[0] for row in conn.execute("SELECT k FROM t")}
    assert result.live_copies > 0
    assert not any(r.values[0] in live for r in result.records)


def test_copies_are_set_aside_alike_when_a_live_row_holds_text_that_is_not_utf8(
    built: dict[str, cases.Case], tmp_path: Path
) -> None:
    found = {}
    for name, text in (("good", "616161"), ("bad", "ff00ff")):  # same length: the same pages either way
        path = tmp_path / f"{name}.db"
        path.write_bytes(built["pages-freed"].path.read_bytes())
        with closing(sqlite3.connect(path)) as conn:
            conn.execute(f"INSERT INTO t (marker, note) VALUES ('last', CAST(x'{text}' AS TEXT))")
            conn.commit()
        found[name] = _recover(path)
    assert found["bad"].live_copies == found["good"].live_copies > 0
    assert found["bad"].records == found["good"].records


@pytest.mark.parametrize("lent", [True, False], ids=["memdb-buffer-lent", "memdb-copied"])
def test_the_scan_reads_the_snapshot_image_byte_for_byte(
    built: dict[str, cases.Case], lent: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.recovery.scan import snapshot_image
    from desktop_app.core.sqlite import library

    if not lent:  # a library whose memdb layout we do not know: the bytes are copied instead
        monkeypatch.setattr(library, "_MEMSTORE_VERSIONS", range(0))
    snapshot = open_snapshot(built["pages-freed"].path)
    try:
        with closing(snapshot.connect()) as conn, snapshot_image(conn) as image:
            assert bytes(image.data) == conn.serialize()
            assert image.data.readonly
            assert isinstance(image.data.obj, mmap.mmap) != lent
    finally:
        snapshot.close()


def test_the_snapshot_image_cannot_change_while_lent_and_is_released_after_a_scan_or_a_stop(
    built: dict[str, cases.Case],
) -> None:
    from desktop_app.core.errors import Cancelled
    from desktop_app.core.progress import CancelToken
    from desktop_app.core.recovery.scan import snapshot_image

    snapshot = open_snapshot(built["leaf-deleted"].path)
    try:
        with closing(snapshot.connect()) as conn:
            with snapshot_image(conn) as image:
                assert not memdb_writable(conn)
                kept = image.data[:16]
            del image
            assert not memdb_writable(conn)  # a view kept past the block keeps the buffer in place
            assert bytes(kept) == SQLITE_MAGIC
            del kept
            assert memdb_writable(conn)
            assert recover(conn).records
            assert memdb_writable(conn)
            token = CancelToken()
            token.cancel()
            with pytest.raises(Cancelled):
                recover(conn, cancel=token)
            assert memdb_writable(conn)
    finally:
        snapshot.close()


def test_recovery_leaves_the_folder_exactly_as_it_was(tmp_path: Path) -> None:
    case = cases.scattered(tmp_path, rows=300)
    before = folder_state(tmp_path)
    result = _recover(case.path)
    assert result.records
    assert folder_state(tmp_path) == before


def test_a_database_with_nothing_deleted_says_so(tmp_path: Path) -> None:
    path = tmp_path / "clean.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (a)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
    result = _recover(path)
    assert result.records == []
    assert result.note


def test_bytes_that_are_not_a_database_are_refused_in_words() -> None:
    with pytest.raises(RecoveryError, match="not a SQLite database"):
        DatabaseImage(b"hello" * 100)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=3000))
def test_random_bytes_never_raise_anything_but_our_error(data: bytes) -> None:
    try:
        recover_image(DatabaseImage(data), [])
    except RecoveryError:
        pass


@pytest.fixture(scope="module")
def sample_image(built: dict[str, cases.Case]) -> tuple[bytes, list]:  # type: ignore[type-arg]
    path = built["page-size-512"].path
    with closing(sqlite3.connect(path)) as conn:
        shapes = shapes_of(read_catalog(conn))
    return path.read_bytes(), shapes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 40_000), st.binary(min_size=1, max_size=64)), max_size=12))
def test_corrupt_pages_never_raise_anything_but_our_error(
    sample_image: tuple[bytes, list],  # type: ignore[type-arg]
    damage: list[tuple[int, bytes]],
) -> None:
    data, shapes = sample_image
    image = bytearray(data)
    for offset, junk in damage:
        at = 16 + offset % (len(image) - 16)  # the magic stays, everything after it may be damaged
        image[at : at + len(junk)] = junk[: len(image) - at]
    assert image.startswith(SQLITE_MAGIC)
    try:
        recover_image(DatabaseImage(bytes(image)), shapes)
    except RecoveryError:
        pass


def test_one_page_image_gives_its_rows_and_its_deleted_ones(tmp_path: Path) -> None:
    from desktop_app.core.recovery.page_records import page_records

    case = cases.scattered(tmp_path, rows=40)  # one leaf page: the root page of t
    with closing(sqlite3.connect(case.path)) as conn:
        shapes = shapes_of(read_catalog(conn))
        live = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
        image = DatabaseImage(conn.serialize())
    page = bytes(image.page(2))  # a copy, as a WAL frame's page would be
    found = page_records(page, 2, image.usable_size, image.encoding, shapes)
    cells = sorted(r.carved.values for r in found if r.place == "cell")
    assert [tuple(v) for v in cells] == [tuple(row) for row in live]
    freed = [r.carved.values for r in found if r.place != "cell"]
    assert len(freed) == len(case.deleted["t"])
    assert all(any(cases.matches(v, row) for row in case.deleted["t"]) for v in freed)


def test_a_cancelled_scan_stops_with_our_error_and_progress_is_reported(tmp_path: Path) -> None:
    from desktop_app.core.errors import Cancelled
    from desktop_app.core.progress import CancelToken, Progress

    case = cases.pages_freed(tmp_path)
    seen: list[Progress] = []
    with closing(sqlite3.connect(case.path)) as conn:
        result = recover(conn, progress=seen.append)
        assert seen[-1].done == seen[-1].total == result.pages_scanned > 0
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            recover(conn, cancel=token)
