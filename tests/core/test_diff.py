"""Comparing two databases: every awkward case gives exactly the changes SQLite's storage holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.diff.model import ChangeKind, Matching
from desktop_app.core.diff.values import RawText
from tests.conftest import folder_state
from tests.core.diff_helpers import diff_files, make_db
from tests.hostile import HOSTILE, build_hostile, openable_names


def pair(tmp_path: Path, a: str, b: str, *, pragmas_a: str = "", pragmas_b: str = "") -> tuple[Path, Path]:
    return make_db(tmp_path / "a.db", a, pragmas=pragmas_a), make_db(tmp_path / "b.db", b, pragmas=pragmas_b)


def kinds(changes: list) -> list[tuple[str, tuple]]:  # type: ignore[type-arg]
    return sorted((c.kind.value, c.key) for c in changes)


def test_identical_databases_have_no_changes(tmp_path: Path) -> None:
    script = "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'x'), (2, NULL);"
    diff, rows = diff_files(*pair(tmp_path, script, script))
    assert diff.identical and diff.summary() == "no changes" and rows == {}


def test_null_empty_text_and_zero_are_three_different_values(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a = base + "INSERT INTO t VALUES (1, NULL), (2, ''), (3, 0), (4, NULL), (5, ''), (6, 0);"
    b = base + "INSERT INTO t VALUES (1, ''), (2, 0), (3, NULL), (4, NULL), (5, ''), (6, 0);"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    t = diff.table("t")
    assert (t.added, t.removed, t.changed) == (0, 0, 3)
    assert sorted((c.key[0], c.old[1], c.new[1]) for c in rows["t"]) == [
        (1, None, ""),
        (2, "", 0),
        (3, 0, None),
    ]


def test_integer_real_and_text_one_differ_by_storage_class(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a = base + "INSERT INTO t VALUES (1, 1), (2, 1.0), (3, '1'), (4, 1), (5, x'31');"
    b = base + "INSERT INTO t VALUES (1, 1.0), (2, '1'), (3, 1), (4, 1), (5, '1');"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    got = sorted(
        (c.key[0], c.old[1], type(c.old[1]).__name__, c.new[1], type(c.new[1]).__name__) for c in rows["t"]
    )
    assert got == [
        (1, 1, "int", 1.0, "float"),
        (2, 1.0, "float", "1", "str"),
        (3, "1", "str", 1, "int"),
        (5, b"1", "bytes", "1", "str"),
    ]
    assert diff.table("t").changed == 4


def test_numeric_affinity_columns_still_compare_storage_classes(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, n NUMERIC, s TEXT);"
    a = base + "INSERT INTO t VALUES (1, 'abc', 1), (2, 5, 'x');"
    b = base + "INSERT INTO t VALUES (1, 'abc', '1'), (2, 5.5, 'x');"
    _diff, rows = diff_files(*pair(tmp_path, a, b))
    # TEXT affinity stored 1 as '1' on both sides: row 1 is unchanged; 5 → 5.5 is a change.
    assert [(c.key[0], c.old[1], c.new[1]) for c in rows["t"]] == [(2, 5, 5.5)]


def test_nocase_column_compares_case_exactly(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT COLLATE NOCASE);"
    _diff, rows = diff_files(
        *pair(tmp_path, base + "INSERT INTO t VALUES (1, 'abc');", base + "INSERT INTO t VALUES (1, 'ABC');")
    )
    assert [(c.old[1], c.new[1]) for c in rows["t"]] == [("abc", "ABC")]


def test_blobs_compare_byte_for_byte(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
    a = base + "INSERT INTO t VALUES (1, x'000102'), (2, x''), (3, zeroblob(4000)), (4, x'ff');"
    b = base + "INSERT INTO t VALUES (1, x'000103'), (2, NULL), (3, zeroblob(4000)), (4, x'ff');"
    _diff, rows = diff_files(*pair(tmp_path, a, b))
    assert sorted((c.key[0], c.old[1], c.new[1]) for c in rows["t"]) == [
        (1, b"\x00\x01\x02", b"\x00\x01\x03"),
        (2, b"", None),
    ]


def test_invalid_utf8_text_is_compared_and_kept_by_its_bytes(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
    a = base + "INSERT INTO t VALUES (1, CAST(x'61ff' AS TEXT)), (2, CAST(x'c3' AS TEXT));"
    b = base + "INSERT INTO t VALUES (1, CAST(x'61fe' AS TEXT)), (2, CAST(x'c3' AS TEXT));"
    _diff, rows = diff_files(*pair(tmp_path, a, b))
    (change,) = rows["t"]
    assert (
        isinstance(change.old[1], RawText) and change.old[1].raw == b"a\xff" and change.new[1].raw == b"a\xfe"
    )
    assert change.changed_columns() == [1]


def test_awkward_and_empty_table_and_column_names(tmp_path: Path) -> None:
    base = (
        'CREATE TABLE ""("" INTEGER PRIMARY KEY, "q""t" TEXT, "it\'s" TEXT);'
        + 'CREATE TABLE "select"("from", "😀");'
    )
    a = base + "INSERT INTO \"\" VALUES (1, 'a', 'b'); INSERT INTO \"select\" VALUES (1, 2);"
    b = base + "INSERT INTO \"\" VALUES (1, 'a', 'c'), (2, NULL, NULL); INSERT INTO \"select\" VALUES (1, 3);"
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    empty, select = diff.table(""), diff.table("select")
    assert (empty.added, empty.changed, empty.matching) == (1, 1, Matching.ROWID)
    assert empty.columns == ["", 'q"t', "it's"]
    assert (select.changed, select.added, select.removed) == (1, 0, 0)


def test_composite_text_key_without_rowid(tmp_path: Path) -> None:
    base = "CREATE TABLE k(a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID;"
    a = base + "INSERT INTO k VALUES ('x', 1, 'one'), ('x', 2, 'two'), ('y', 1, 'three');"
    b = base + "INSERT INTO k VALUES ('x', 1, 'ONE'), ('y', 1, 'three'), ('y', 2, 'four');"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    t = diff.table("k")
    assert t.matching is Matching.KEY and t.key_columns == ["a", "b"]
    assert kinds(rows["k"]) == [("added", ("y", 2)), ("changed", ("x", 1)), ("removed", ("x", 2))]


def test_rowid_table_with_text_primary_key_matches_by_rowid(tmp_path: Path) -> None:
    base = "CREATE TABLE p(code TEXT PRIMARY KEY, v);"
    diff, rows = diff_files(
        *pair(tmp_path, base + "INSERT INTO p VALUES ('a', 1);", base + "INSERT INTO p VALUES ('a', 2);")
    )
    assert diff.table("p").matching is Matching.ROWID and kinds(rows["p"]) == [("changed", (1,))]


def test_table_on_one_side_only_counts_all_its_rows(tmp_path: Path) -> None:
    a = "CREATE TABLE gone(x); INSERT INTO gone VALUES (1), (2);"
    b = "CREATE TABLE new(x); INSERT INTO new VALUES (1), (2), (3);"
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    gone, new = diff.table("gone"), diff.table("new")
    assert (gone.in_a, gone.in_b, gone.removed, new.in_a, new.in_b, new.added) == (
        True,
        False,
        2,
        False,
        True,
        3,
    )
    assert [c.describe() for c in gone.schema_changes] == ["table 'gone' dropped"]
    assert [c.describe() for c in new.schema_changes] == ["table 'new' added"]
    assert diff.summary() == "dropped table gone (2 rows); new table new (3 rows)"


def test_column_order_change_is_a_schema_change_but_no_row_change(tmp_path: Path) -> None:
    a = "CREATE TABLE t(id INTEGER PRIMARY KEY, x, y); INSERT INTO t VALUES (1, 'x', 'y');"
    b = "CREATE TABLE t(id INTEGER PRIMARY KEY, y, x); INSERT INTO t VALUES (1, 'y', 'x');"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    t = diff.table("t")
    assert t.rows_changed == 0 and rows == {}
    assert [c.detail for c in t.schema_changes] == ["columns reordered"]


def test_added_and_dropped_columns_are_named(tmp_path: Path) -> None:
    a = "CREATE TABLE t(id INTEGER PRIMARY KEY, old INTEGER, v); INSERT INTO t VALUES (1, 5, 'a');"
    b = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, extra); INSERT INTO t VALUES (1, 'a', 9);"
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    t = diff.table("t")
    assert (
        t.schema_changes[0].detail == "column 'extra' added, column 'old' dropped, column 'v': no type → TEXT"
    )
    assert t.columns == ["id", "v", "extra", "old"] and t.rows_changed == 0


def test_indexes_views_and_triggers_added_dropped_altered(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a = base + (
        "CREATE INDEX i1 ON t(v); CREATE INDEX i2 ON t(id, v); CREATE VIEW w AS SELECT 1;"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;"
    )
    b = base + (
        "CREATE INDEX i1 ON t(v DESC); CREATE INDEX i3 ON t(v, id); CREATE VIEW w AS SELECT 2;"
        "CREATE VIEW w2 AS SELECT 3;"
    )
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    described = sorted(c.describe() for t in diff.tables for c in t.schema_changes)
    assert described == [
        "index 'i1' altered",
        "index 'i2' dropped",
        "index 'i3' added",
        "trigger 'tr' dropped",
        "view 'w' altered: column '2' added, column '1' dropped",
        "view 'w2' added",
    ]
    assert diff.table("t").schema_changed and diff.table("t").rows_changed == 0


def test_sqlite_sequence_is_matched_by_table_name(tmp_path: Path) -> None:
    base = (
        "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
        "CREATE TABLE u(id INTEGER PRIMARY KEY AUTOINCREMENT);"
    )
    a = base + "INSERT INTO t(v) VALUES (1), (2); INSERT INTO u DEFAULT VALUES;"
    b = (
        base
        + "INSERT INTO u DEFAULT VALUES; INSERT INTO t(v) VALUES (1), (2), (3); DELETE FROM t WHERE id = 3;"
    )
    diff, rows = diff_files(*pair(tmp_path, a, b))
    seq = diff.table("sqlite_sequence")
    assert seq.matching is Matching.KEY and seq.key_columns == ["name"]
    assert [(c.key, c.old[1], c.new[1]) for c in rows["sqlite_sequence"]] == [(("t",), 2, 3)]
    assert diff.table("t").rows_changed == 0


def test_sqlite_stat1_is_compared_by_content(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v); CREATE INDEX iv ON t(v);"
    base += "INSERT INTO t VALUES (1, 1), (2, 2);"
    a = base + "ANALYZE;"
    b = base + "INSERT INTO t VALUES (3, 3); ANALYZE;"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    stat = diff.table("sqlite_stat1")
    assert stat.matching is Matching.CONTENT and (stat.added, stat.removed) == (1, 1)
    assert sorted((c.kind.value, c.old or c.new) for c in rows["sqlite_stat1"]) == [
        ("added", ("t", "iv", "3 1")),
        ("removed", ("t", "iv", "2 1")),
    ]


def test_fts_table_compared_once_not_its_shadow_tables(tmp_path: Path) -> None:
    base = "CREATE VIRTUAL TABLE doc USING fts5(title, body);"
    a = base + "INSERT INTO doc VALUES ('a', 'alpha'), ('b', 'beta');"
    b = base + "INSERT INTO doc VALUES ('a', 'alpha'), ('b', 'BETA'), ('c', 'gamma');"
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    assert [t.name for t in diff.tables] == ["doc"]
    doc = diff.table("doc")
    assert (doc.kind, doc.matching, doc.added, doc.changed, doc.columns) == (
        "virtual",
        Matching.ROWID,
        1,
        1,
        ["title", "body"],
    )


def test_table_with_every_rowid_alias_taken_is_compared_by_content(tmp_path: Path) -> None:
    base = "CREATE TABLE odd(rowid, _rowid_, oid);"
    a = base + "INSERT INTO odd VALUES (1, 1, 1), (1, 1, 1), (2, 2, 2);"
    b = base + "INSERT INTO odd VALUES (1, 1, 1), (2, 2, 3);"
    diff, rows = diff_files(*pair(tmp_path, a, b))
    odd = diff.table("odd")
    assert odd.matching is Matching.CONTENT and "whole-row content" in odd.note
    assert sorted((c.kind.value, c.count, c.old or c.new) for c in rows["odd"]) == [
        ("added", 1, (2, 2, 3)),
        ("removed", 1, (1, 1, 1)),
        ("removed", 1, (2, 2, 2)),
    ]


def test_key_change_between_sides_falls_back_to_content(tmp_path: Path) -> None:
    a = "CREATE TABLE t(a, b, PRIMARY KEY(a)) WITHOUT ROWID; INSERT INTO t VALUES (1, 2);"
    b = "CREATE TABLE t(a, b, PRIMARY KEY(a, b)) WITHOUT ROWID; INSERT INTO t VALUES (1, 2), (1, 3);"
    diff, _rows = diff_files(*pair(tmp_path, a, b))
    t = diff.table("t")
    assert t.matching is Matching.CONTENT and (t.added, t.removed) == (1, 0) and t.schema_changed


@pytest.mark.parametrize("encoding", ["UTF-16le", "UTF-16be"])
def test_different_encodings_and_page_sizes_compare_by_value(tmp_path: Path, encoding: str) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
    a, b = pair(
        tmp_path,
        base + "INSERT INTO t VALUES (1, 'héllo'), (2, '😀');",
        base + "INSERT INTO t VALUES (1, 'héllo'), (2, '😁');",
        pragmas_a="PRAGMA page_size=512;",
        pragmas_b=f"PRAGMA encoding='{encoding}'; PRAGMA page_size=8192;",
    )
    diff, rows = diff_files(a, b)
    assert [(c.key[0], c.old[1], c.new[1]) for c in rows["t"]] == [(2, "😀", "😁")]
    assert f"encoding: UTF-8 → {encoding}" in diff.settings and "page_size: 512 → 8192" in diff.settings


def test_direct_mode_side_is_copied_for_comparison(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a, b = pair(
        tmp_path, base + "INSERT INTO t VALUES (1, 1);", base + "INSERT INTO t VALUES (1, 1.0), (2, x'00');"
    )
    diff, rows = diff_files(a, b, force_direct=True)
    assert kinds(rows["t"]) == [("added", (2,)), ("changed", (1,))]
    assert any("copied into memory" in s for s in diff.settings)


def test_pair_read_in_place_attaches_the_files_and_holds_one_state_of_each_until_closed(
    tmp_path: Path,
) -> None:
    import sqlite3

    from desktop_app.core.diff.compare import compare
    from desktop_app.core.diff.pairing import open_pair
    from desktop_app.core.snapshot.snapshot import open_snapshot

    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    a, b = pair(
        tmp_path, base + "INSERT INTO t VALUES (1, 1);", base + "INSERT INTO t VALUES (1, 2), (2, 2);"
    )
    before = folder_state(tmp_path)
    sa, sb = open_snapshot(a, force_direct=True), open_snapshot(b, force_direct=True)
    writer = sqlite3.connect(b, timeout=0)
    try:
        joined = open_pair(sa, sb, in_place=True)
        try:
            assert joined.note == ""  # B attached as it is: nothing copied
            writer.execute("INSERT INTO t VALUES (3, 3)")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.commit()
            diff = compare(joined, rows=False)
            assert (diff.table("t").added, diff.table("t").changed) == (1, 1)
        finally:
            joined.close()
        writer.commit()  # the comparison is over: the writer goes on
    finally:
        writer.close()
        sa.close()
        sb.close()
    after = folder_state(tmp_path)  # b.db changed by the writer only; nothing created beside either
    assert sorted(after) == sorted(before) and after["a.db"] == before["a.db"]


def test_counts_only_agree_with_streamed_rows(tmp_path: Path) -> None:
    from desktop_app.core.diff.compare import diff_snapshots
    from desktop_app.core.snapshot.snapshot import open_snapshot

    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v); CREATE TABLE c(x);"
    a, b = pair(
        tmp_path,
        base + "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3); INSERT INTO c VALUES (1), (1);",
        base + "INSERT INTO t VALUES (2, 2.0), (3, 3), (4, 4); INSERT INTO c VALUES (1), (2);",
    )
    sa, sb = open_snapshot(a), open_snapshot(b)
    try:
        counted = diff_snapshots(sa, sb, rows=False)
        streamed = diff_snapshots(sa, sb, rows=True)
    finally:
        sa.close()
        sb.close()
    for name in ("t", "c"):
        x, y = counted.table(name), streamed.table(name)
        assert (x.added, x.removed, x.changed) == (y.added, y.removed, y.changed)
    assert (counted.table("t").added, counted.table("t").removed, counted.table("t").changed) == (1, 1, 1)


def test_cancel_stops_the_comparison(tmp_path: Path) -> None:
    from desktop_app.core.diff.compare import diff_snapshots
    from desktop_app.core.errors import Cancelled
    from desktop_app.core.progress import CancelToken
    from desktop_app.core.snapshot.snapshot import open_snapshot

    script = (
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v); WITH RECURSIVE n(i) AS "
        "(SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5000) INSERT INTO t SELECT i, i FROM n;"
    )
    a, b = pair(tmp_path, script, script + "UPDATE t SET v = -v;")
    sa, sb = open_snapshot(a), open_snapshot(b)
    cancel = CancelToken()
    seen = []

    def first_page(table, page):  # type: ignore[no-untyped-def]
        seen.extend(page)
        cancel.cancel()

    try:
        with pytest.raises(Cancelled):
            diff_snapshots(sa, sb, on_rows=first_page, cancel=cancel)
    finally:
        sa.close()
        sb.close()
    assert 0 < len(seen) < 5000 and all(c.kind is ChangeKind.CHANGED for c in seen)


def test_integer_and_real_one_differ_where_a_column_can_hold_both(tmp_path: Path) -> None:
    a = (
        "CREATE TABLE s(id INTEGER PRIMARY KEY, v ANY) STRICT; INSERT INTO s VALUES (1, 1);"
        "CREATE TABLE r(id INTEGER PRIMARY KEY, v REAL); INSERT INTO r VALUES (1, 1);"
        "CREATE TABLE n(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO n VALUES (1, 1.0);"
        "CREATE TABLE x(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO x VALUES (1, 1);"
    )
    b = (
        "CREATE TABLE s(id INTEGER PRIMARY KEY, v ANY) STRICT; INSERT INTO s VALUES (1, 1.0);"
        "CREATE TABLE r(id INTEGER PRIMARY KEY, v REAL); INSERT INTO r VALUES (1, 1.0);"
        "CREATE TABLE n(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO n VALUES (1, 1);"
        "CREATE TABLE x(id INTEGER PRIMARY KEY, v); INSERT INTO x VALUES (1, 1.0);"
    )
    diff, rows = diff_files(*pair(tmp_path, a, b))
    # REAL and INTEGER affinity store both spellings alike; ANY and a column whose type changed do not.
    assert {name: diff.table(name).changed for name in "srnx"} == {"s": 1, "r": 0, "n": 0, "x": 1}
    assert [(c.old[1], c.new[1]) for c in rows["x"]] == [(1, 1.0)]


@pytest.mark.parametrize("name", [n for n in openable_names() if not HOSTILE[n].slow])
def test_every_hostile_database_compares_with_itself_and_an_empty_one(tmp_path: Path, name: str) -> None:
    path = build_hostile(tmp_path / "hostile", name)
    before = folder_state(path.parent)
    same, _rows = diff_files(path, path)
    assert same.identical, same.summary()
    empty = make_db(tmp_path / "empty.db", "PRAGMA user_version = 1;")
    grown, _rows = diff_files(empty, path)
    assert all(not t.in_a for t in grown.tables)
    assert folder_state(path.parent) == before


def test_table_whose_name_is_not_utf8_is_reported_and_the_rest_compared(tmp_path: Path) -> None:
    path = build_hostile(tmp_path / "hostile", "invalid_utf8_names")
    diff, _rows = diff_files(path, path)
    bad = next(t for t in diff.tables if t.name.startswith("bad") and t.kind == "table")
    assert bad.error is not None and "could not be compared" in bad.note
    assert diff.table("fine") is not None and diff.table("fine").error is None


def test_side_read_from_its_file_keeps_text_that_is_not_utf8_byte_for_byte(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
    same = "INSERT INTO t VALUES (1, CAST(x'61ff' AS TEXT)), (2, CAST(x'c3' AS TEXT)), (3, 1.0), (4, x'ff');"
    a, b = pair(tmp_path, base + same, base + same + "UPDATE t SET v = CAST(x'61fe' AS TEXT) WHERE id = 1;")
    diff, rows = diff_files(a, b, force_direct=True)
    assert [(c.key[0], c.old[1].raw, c.new[1].raw) for c in rows["t"]] == [(1, b"a\xff", b"a\xfe")]
    assert diff.table("t").changed == 1
