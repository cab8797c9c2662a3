"""Finding the tables two generations differ in from their pages: counts equal the full comparison's."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.diff.changed_pages import RowidRanges, changed_pages, changed_tables
from desktop_app.core.diff.compare import compare, count_between
from desktop_app.core.diff.model import DatabaseDiff
from desktop_app.core.diff.pairing import open_pair
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from tests.core.diff_helpers import make_db
from tests.fixtures import memdb_writable

BASE = """
CREATE TABLE big(id INTEGER PRIMARY KEY, label TEXT, n INTEGER, data BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000)
INSERT INTO big SELECT x, printf('row %05d', x), x, randomblob(40) FROM c;
CREATE INDEX big_n ON big(n);
CREATE TABLE other(id INTEGER PRIMARY KEY, v);
INSERT INTO other VALUES (1, 'one'), (2, 'two');
CREATE TABLE kv(k TEXT, j INTEGER, v, PRIMARY KEY (k, j)) WITHOUT ROWID;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000)
INSERT INTO kv SELECT printf('key %05d', x), x % 7, x FROM c;
CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB);
INSERT INTO blobs VALUES (1, zeroblob(20000)), (2, zeroblob(20000));
CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
INSERT INTO seq(v) VALUES ('a');
CREATE TABLE nokey(a, b);
INSERT INTO nokey VALUES (1, 1), (1, 1), (2, NULL);
CREATE VIRTUAL TABLE doc USING fts5(title, body);
INSERT INTO doc VALUES ('a', 'alpha'), ('b', 'beta');
CREATE VIEW v AS SELECT id FROM other;
"""

#: What a writer does between two generations, and the tables whose rows it touches.
CHANGES = {
    "insert": ("INSERT INTO other VALUES (3, 'three')", {"other"}),
    "update in place, same size": (
        "UPDATE big SET label = printf('ROW %05d', id) WHERE id % 500 = 0",
        {"big"},
    ),
    "delete (pages freed)": ("DELETE FROM big WHERE id > 1500", {"big"}),
    "without rowid": ("UPDATE kv SET v = -v WHERE j = 3", {"kv"}),
    "overflow pages only": (
        "UPDATE blobs SET b = CAST(zeroblob(19999) || x'01' AS BLOB) WHERE id = 2",
        {"blobs"},
    ),
    "fts": ("INSERT INTO doc VALUES ('c', 'gamma')", {"doc"}),
    "autoincrement": ("INSERT INTO seq(v) VALUES ('b')", {"seq", "sqlite_sequence"}),
    "table without key": ("DELETE FROM nokey WHERE b IS NULL", {"nokey"}),
    "rows added in the middle, pages split": (
        "DELETE FROM big WHERE id % 2 = 0; VACUUM; "
        "INSERT INTO big SELECT id + 1, 'x', id, randomblob(300) FROM big WHERE id BETWEEN 1001 AND 1201",
        None,
    ),
    "rows added at the end": (
        "INSERT INTO big SELECT id + 3000, label, n, data FROM big WHERE id <= 400",
        {"big"},
    ),
    "freed pages reused by another table": (
        "DELETE FROM big WHERE id BETWEEN 100 AND 900; "
        "CREATE TABLE late(x); INSERT INTO late SELECT randomblob(100) FROM big",
        {"big", "late"},
    ),
    "column added": ("ALTER TABLE other ADD COLUMN w DEFAULT 5", {"other"}),
    "index added": ("CREATE INDEX other_v ON other(v)", {"other"}),
    "table dropped": ("DROP TABLE other", {"other"}),
    "table created": ("CREATE TABLE fresh(x); INSERT INTO fresh VALUES (1)", {"fresh"}),
    "vacuum": ("DELETE FROM other WHERE id = 2; VACUUM", None),
    "nothing": ("SELECT 1", set()),
}


def generations(tmp_path: Path, change: str) -> tuple[Snapshot, Snapshot]:
    """Two generations of one file: before and after `change` was committed to it."""
    path = make_db(tmp_path / "live.db", BASE)
    first = open_snapshot(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(change)
    conn.close()
    return first, open_snapshot(path)


def counts(diff: DatabaseDiff) -> dict[str, tuple[object, ...]]:
    return {
        t.name: (t.added, t.removed, t.changed, [c.describe() for c in t.schema_changes], t.in_a, t.in_b)
        for t in diff.tables
    }


def page_candidates(a: Snapshot, b: Snapshot, **kwargs: Any) -> dict[str, RowidRanges | None] | None:
    """`changed_tables` of `a` and `b`, with the catalogs of the pair the comparison opens."""
    pair = open_pair(a, b)
    try:
        return changed_tables(a, b, pair.catalog_a, pair.catalog_b, **kwargs)
    finally:
        pair.close()


def full_comparison(a: Snapshot, b: Snapshot) -> DatabaseDiff:
    """The counts-only comparison of every table, no page shortcut."""
    pair = open_pair(a, b)
    try:
        return compare(pair, rows=False)
    finally:
        pair.close()


@pytest.mark.parametrize("case", list(CHANGES))
def test_counts_from_changed_pages_equal_the_full_comparison(tmp_path: Path, case: str) -> None:
    change, touched = CHANGES[case]
    a, b = generations(tmp_path, change)
    try:
        full = full_comparison(a, b)
        candidates = page_candidates(a, b)
        quick = count_between(a, b)
    finally:
        a.close()
        b.close()
    assert counts(quick) == counts(full)
    assert quick.summary() == full.summary()
    assert candidates is not None
    if touched is not None:  # only the tables the change touched are read (a vacuum moves every page)
        assert set(candidates) == touched
    if case == "nothing":
        assert full.identical


def test_page_compare_is_skipped_over_the_limit_and_for_a_direct_snapshot(tmp_path: Path) -> None:
    a, b = generations(tmp_path, CHANGES["insert"][0])
    direct = open_snapshot(tmp_path / "live.db", force_direct=True)
    try:
        assert page_candidates(a, b, limit_bytes=a.size_bytes - 1) is None
        pair = open_pair(a, b)
        try:
            assert changed_tables(a, direct, pair.catalog_a, pair.catalog_b) is None
        finally:
            pair.close()
        assert counts(count_between(a, direct)) == counts(count_between(a, b))
    finally:
        for snapshot in (a, b, direct):
            snapshot.close()


def test_pages_of_different_page_sizes_fall_back_to_every_table(tmp_path: Path) -> None:
    one = make_db(tmp_path / "one.db", BASE, pragmas="PRAGMA page_size = 1024;")
    two = make_db(
        tmp_path / "two.db",
        BASE + "INSERT INTO other VALUES (9, 'nine');",
        pragmas="PRAGMA page_size = 8192;",
    )
    a, b = open_snapshot(one), open_snapshot(two)
    try:
        assert page_candidates(a, b) is None
        assert count_between(a, b).table("other").added == 1
    finally:
        a.close()
        b.close()


def test_changed_pages_are_numbered_from_one_including_pages_past_the_shorter_image() -> None:
    a = bytes(4096 * 600)
    b = bytearray(a)
    b[4096 * 2 + 7] = 1  # page 3
    b[4096 * 599] = 1  # page 600, in the second chunk
    assert changed_pages(a, bytes(b), 4096) == [3, 600]
    assert changed_pages(a, bytes(b) + bytes(8192), 4096) == [3, 600, 601, 602]


def test_rowid_ranges_cover_only_the_changed_leaves(tmp_path: Path) -> None:
    a, b = generations(tmp_path, "UPDATE big SET n = -n WHERE id IN (10, 2500)")
    try:
        candidates = page_candidates(a, b)
        quick = count_between(a, b)
    finally:
        a.close()
        b.close()
    assert candidates is not None
    ranges = candidates["big"]
    assert ranges is not None and len(ranges) == 2
    assert ranges[0][0] <= 10 <= ranges[0][1] < 2500 and ranges[1][0] <= 2500 <= ranges[1][1]
    assert sum(last - first + 1 for first, last in ranges) < 300  # two leaves' rows, not 3,000
    assert quick.table("big").changed == 2


@pytest.mark.parametrize("seed", range(6))
def test_random_writes_count_the_same_as_the_full_comparison(tmp_path: Path, seed: int) -> None:
    import random

    chooser = random.Random(seed)
    statements = [
        "INSERT INTO big SELECT max(id) + 1, 'new', 1, randomblob(60) FROM big",
        "UPDATE big SET label = 'Row ' || id WHERE id % {m} = {r}",
        "UPDATE big SET data = randomblob(90) WHERE id % {m} = {r}",
        "DELETE FROM big WHERE id % {m} = {r}",
        "INSERT INTO big(label, n, data) SELECT 'copy', n, data FROM big WHERE id % {m} = {r}",
        "UPDATE kv SET v = v || 'x' WHERE j = {r} % 7",
        "DELETE FROM kv WHERE j = {r} % 7 AND k < 'key 00{r}'",
        "UPDATE blobs SET b = randomblob(20000 + {r}) WHERE id = 1",
        "INSERT INTO doc VALUES ('t{r}', 'body {m}')",
        "UPDATE other SET v = v || '!'",
    ]
    script = "; ".join(
        chooser.choice(statements).format(m=chooser.randint(3, 400), r=chooser.randint(0, 2))
        for _ in range(chooser.randint(1, 5))
    )
    a, b = generations(tmp_path, script)
    try:
        full = full_comparison(a, b)
        quick = count_between(a, b)
    finally:
        a.close()
        b.close()
    assert counts(quick) == counts(full), script


@pytest.mark.parametrize("lent", [True, False], ids=["memdb-buffers-lent", "memdb-copied"])
def test_pages_are_compared_in_place_and_both_images_are_let_go(
    tmp_path: Path, lent: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.sqlite import library

    if not lent:  # a library whose memdb layout we do not know: the bytes are copied instead
        monkeypatch.setattr(library, "_MEMSTORE_VERSIONS", range(0))
    a, b = generations(tmp_path, CHANGES["insert"][0])
    try:
        found = page_candidates(a, b)
        assert found is not None and set(found) == CHANGES["insert"][1]
        for snapshot in (a, b):
            with closing(snapshot.connect()) as conn:
                assert memdb_writable(conn)
    finally:
        a.close()
        b.close()
