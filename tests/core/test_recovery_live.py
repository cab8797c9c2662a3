"""Recovered records compared with the live row that has their key: earlier versions, gone rows, no key."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.core.recovery.live import LiveMatch, compare_with_live, live_copies
from desktop_app.core.recovery.model import RecoveredRecord, Source
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.scan import recover
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests import recovery_cases as cases
from tests.conftest import folder_state

COLUMNS = ("id", "name", "n")


def _record(
    values: tuple[object, ...], rowid: object, *, table: str = "t", dropped: bool = False
) -> RecoveredRecord:
    return RecoveredRecord(table, COLUMNS, values, rowid, Source.FREELIST, 2, 100, 0.9, table_dropped=dropped)


@pytest.fixture
def live(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n REAL)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "one", 1.5), (2, "two", 2.0), (3, "three", None)])
    return conn


def test_a_record_with_a_live_key_is_shown_against_that_row_with_its_differing_values(
    live: sqlite3.Connection,
) -> None:
    [found] = compare_with_live(live, [_record((1, "uno", 1.5), 1)])
    assert found.status is LiveMatch.DIFFERENT
    assert found.live == (1, "one", 1.5)
    assert found.differs == (1,)
    assert found.key_columns == ("rowid",) and found.key == (1,)
    assert found.message(COLUMNS) == "The live row with rowid = 1 differs in 1 column: name."


def test_types_count_a_stored_integer_differs_from_a_real_and_lost_values_are_not_compared(
    live: sqlite3.Connection,
) -> None:
    [typed, lost] = compare_with_live(live, [_record((2, "two", 2), 2), _record((3, LOST, None), 3)])
    assert typed.status is LiveMatch.DIFFERENT and typed.differs == (2,)
    assert lost.status is LiveMatch.IDENTICAL and lost.differs == ()
    assert lost.message(COLUMNS).startswith("Live row identical")


def test_without_a_rowid_the_integer_key_column_finds_the_row_and_no_key_says_so(
    live: sqlite3.Connection,
) -> None:
    by_alias, no_key, gone = compare_with_live(
        live,
        [_record((3, "drei", None), LOST), _record((LOST, "x", 1.0), LOST), _record((9, "nine", 9.0), 9)],
    )
    assert by_alias.status is LiveMatch.DIFFERENT and by_alias.key == (3,) and by_alias.differs == (1,)
    assert no_key.status is LiveMatch.NO_KEY and no_key.live is None
    assert gone.status is LiveMatch.NO_LIVE_ROW
    assert gone.message(COLUMNS) == "No live row with this key (rowid = 9): the row is gone from the table."


def test_records_of_dropped_or_unknown_tables_have_no_live_row_to_compare(live: sqlite3.Connection) -> None:
    dropped, unknown = compare_with_live(
        live, [_record((1, "one", 1.5), 1, dropped=True), _record((1, "one", 1.5), 1, table="nope")]
    )
    assert dropped.status is unknown.status is LiveMatch.NO_TABLE


def test_recovered_old_versions_compare_with_their_live_rows_as_the_truth_says(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    path = folder / "updated.db"
    updated, deleted = cases.updated_without_rowid(path)
    before = folder_state(folder)
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            records = recover(conn).records
            comparisons = compare_with_live(conn, records)
    finally:
        snapshot.close()
    statuses: dict[LiveMatch, int] = {}
    misread = 0
    for record, found in zip(records, comparisons, strict=True):
        statuses[found.status] = statuses.get(found.status, 0) + 1
        key = record.values[0]
        if key is not LOST and key not in updated and key not in deleted:
            misread += 1  # a carving misread (its key cut short): no live row has it
            assert found.status is LiveMatch.NO_LIVE_ROW
            continue
        if found.status is LiveMatch.DIFFERENT:
            old = updated[key]  # type: ignore[index]
            assert found.live == (key, -old[1] - 1, f"{old[2]}longer now")  # type: ignore[operator]
            assert found.differs == tuple(i for i in (1, 2) if record.values[i] is not LOST)
        elif found.status is LiveMatch.NO_LIVE_ROW:
            assert key in deleted
        else:
            assert found.status is LiveMatch.NO_KEY and key is LOST
    # Most old versions lie under their new ones; those that survive are all told apart from gone rows.
    assert statuses[LiveMatch.DIFFERENT] >= 0.3 * len(updated)
    assert statuses[LiveMatch.NO_LIVE_ROW] - misread >= 0.7 * len(deleted)
    assert misread <= 0.1 * len(records)
    assert folder_state(folder) == before


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE s (a TEXT, b INTEGER)",
        "CREATE TABLE s (a TEXT PRIMARY KEY, b INTEGER) WITHOUT ROWID",
        'CREATE TABLE s (a TEXT, b INTEGER, rowid TEXT, "_ROWID_" TEXT)',
        "CREATE TABLE s (a TEXT, b INTEGER, rowid TEXT, _rowid_ TEXT, oid TEXT)",
    ],
)
def test_live_copies_found_by_reading_the_table_are_those_equal_in_every_surviving_value(create: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(create)
    width = len(conn.execute("SELECT * FROM s").description)
    rows = [("x", 1), ("y", 2), ("z", 3)]
    conn.executemany(
        f"INSERT INTO s VALUES ({', '.join('?' * width)})", [(*r, *("k",) * (width - 2)) for r in rows]
    )
    columns = tuple(d[0] for d in conn.execute("SELECT * FROM s").description)
    pad = (LOST,) * (width - 2)

    def record(values: tuple[object, ...]) -> RecoveredRecord:
        return RecoveredRecord("s", columns, (*values, *pad), LOST, Source.FREEBLOCK, 2, 0, 0.9)

    records = [record(("x", 1)), record(("y", 1)), record(("z", 3.0)), record(("z", LOST)), record(("w", 3))]
    # No searchable column: every pattern is matched against the table read once.
    assert live_copies(conn, records) == {0, 3}
