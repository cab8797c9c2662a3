"""Column profiles: every figure equals direct SQL, on awkward data, the corpus and hostile databases."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled
from desktop_app.core.profile import run as run_module
from desktop_app.core.profile.cache import ProfileCache
from desktop_app.core.profile.model import Stage
from desktop_app.core.profile.run import ProfileError, profile_columns, profile_table
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import read_table
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.values.text import InvalidText
from tests.conftest import folder_state
from tests.fixtures import build_edge_case_database
from tests.hostile import build_hostile, openable_names

ODD = 'od"d col'


def _build(path: Path) -> Path:
    conn = sqlite3.connect(path)
    odd = ODD.replace('"', '""')
    conn.execute(f'CREATE TABLE "t a""b" (id INTEGER PRIMARY KEY, "{odd}", n REAL, ts INTEGER)')
    rows = []
    for i in range(1, 301):
        value = [i % 7, i * 0.5, f"text {i % 5}", bytes([i % 3, 255]), None][i % 5]
        rows.append((i, value, None if i % 11 == 0 else (i % 13) * 1.5, 1_600_000_000 + i * 86_400))
    conn.executemany('INSERT INTO "t a""b" VALUES (?, ?, ?, ?)', rows)
    conn.execute("""INSERT INTO "t a""b" VALUES (301, CAST(X'61FF62' AS TEXT), 1e300, NULL)""")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def snapshot_conn(tmp_path: Path):
    (tmp_path / "src").mkdir()
    source = _build(tmp_path / "src" / "data.db")
    before = sorted(p.name for p in source.parent.iterdir()), folder_state(source.parent)
    snapshot = open_snapshot(source)
    conn = snapshot.connect()
    yield snapshot, conn
    conn.close()
    snapshot.close()
    assert (sorted(p.name for p in source.parent.iterdir()), folder_state(source.parent)) == before


def _as_read(value: object) -> object:
    """A value as the connection reads it (invalid UTF-8 as U+FFFD), to compare with direct SQL."""
    return value.raw.decode("utf-8", "replace") if isinstance(value, InvalidText) else value


def _direct(conn: sqlite3.Connection, table: str, column: str) -> dict:
    t, c = '"' + table.replace('"', '""') + '"', '"' + column.replace('"', '""') + '"'
    one = conn.execute(
        f"SELECT count(*), count({c}), count(DISTINCT {c}), min({c}), max({c}) FROM {t}"
    ).fetchone()
    types = dict(
        conn.execute(f"SELECT typeof({c}), count(*) FROM {t} WHERE {c} IS NOT NULL GROUP BY 1").fetchall()
    )
    top = conn.execute(
        f"SELECT {c}, count(*) AS n FROM {t} WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT 10"
    ).fetchall()
    length = conn.execute(
        f"SELECT min(length({c})), max(length({c})) FROM {t} WHERE typeof({c}) IN ('text', 'blob')"
    ).fetchone()
    return {
        "count": one[0],
        "nulls": one[0] - one[1],
        "distinct": one[2],
        "min": one[3],
        "max": one[4],
        "types": types,
        "top": [tuple(r) for r in top],
        "length": tuple(length) if length[0] is not None else None,
    }


def test_profile_figures_equal_direct_sql_on_mixed_types_nulls_blobs_and_bad_text(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    for profile in profile_table(conn, table):
        expected = _direct(conn, 't a"b', profile.name)
        got = {k: getattr(profile, k) for k in expected}
        got["min"], got["max"] = _as_read(got["min"]), _as_read(got["max"])
        got["top"] = [(_as_read(v), n) for v, n in got["top"]]
        assert got == expected, profile.name
        if profile.histogram is not None:
            assert sum(b.count for b in profile.histogram) == sum(
                n for kind, n in profile.types.items() if kind in ("integer", "real")
            )
    odd = profile_table(conn, table, [ODD])[0]
    assert odd.types == {"integer": 60, "real": 60, "text": 61, "blob": 60}


def test_text_that_is_not_utf8_keeps_its_bytes_in_min_max_and_top(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (v)")
    conn.execute("INSERT INTO t VALUES (CAST(X'61FF62' AS TEXT)), (CAST(X'61FF62' AS TEXT)), ('z\ufffd')")
    conn.commit()
    conn.close()
    snapshot = open_snapshot(path)
    reader = snapshot.connect()
    try:
        (profile,) = profile_table(reader, read_table(reader, "t"))
    finally:
        reader.close()
        snapshot.close()
    assert profile.min == InvalidText(b"a\xffb") and str(profile.min) == "a\\xffb"
    assert profile.max == "z\ufffd"  # a real U+FFFD stays what it is
    assert profile.top == [(InvalidText(b"a\xffb"), 2), ("z\ufffd", 1)]


def test_histogram_bins_cover_the_range_and_small_integers_get_one_bin_each(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    (n,) = profile_table(conn, table, ["n"])
    assert n.histogram[0].low == 0.0 and n.histogram[-1].high == 1e300
    assert sum(b.count for b in n.histogram) == 274
    (odd,) = profile_table(conn, table, [ODD])
    integers = [b for b in odd.histogram]
    assert odd.histogram is not None and integers[0].low == 0


def test_integer_timestamps_get_time_bins(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    (ts,) = profile_table(conn, read_table(conn, 't a"b'), ["ts"])
    assert ts.time_encoding == "unix_s"
    assert ts.histogram[0].low_time == "2020-09-14T12:26:40Z"
    assert sum(b.count for b in ts.histogram) == 300


def test_a_per_column_override_replaces_the_time_guess(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    (ts,) = profile_table(conn, table, ["ts"], time_encodings={"ts": None})
    assert ts.time_encoding is None and ts.histogram[0].low_time is None
    (ts,) = profile_table(conn, table, ["ts"], time_encodings={"ts": "unix_ms"})
    assert (
        ts.time_encoding == "unix_ms" and ts.histogram[0].low_time == "1970-01-19T12:28:06.400000Z"
    )  # 1,600,086,400 ms


def test_cheap_figures_come_first_then_complete_ones(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    stages = [(p.name, p.stage) for p in profile_columns(conn, read_table(conn, 't a"b'))]
    assert stages[:4] == [(n, Stage.CHEAP) for n in ("id", ODD, "n", "ts")]
    assert stages[4:] == [(n, Stage.COMPLETE) for n in ("id", ODD, "n", "ts")]
    first = next(profile_columns(conn, read_table(conn, 't a"b')))
    assert first.distinct is None and first.count == 301


def test_big_tables_show_figures_of_their_first_rows_before_scanning_all(
    snapshot_conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _snapshot, conn = snapshot_conn
    monkeypatch.setattr(run_module, "LIMITS", dataclasses.replace(run_module.LIMITS, profile_sample_rows=100))
    monkeypatch.setattr(run_module, "_COLUMNS_A_STATEMENT", 3)  # two statements for four columns
    profiles = list(profile_columns(conn, read_table(conn, 't a"b')))
    assert [p.stage for p in profiles] == [Stage.SAMPLE] * 4 + [Stage.CHEAP] * 4 + [Stage.COMPLETE] * 4
    sampled = {p.name: p for p in profiles[:4]}
    first_rows = '(SELECT * FROM "t a""b" LIMIT 100)'
    for name, profile in sampled.items():
        c = '"' + name.replace('"', '""') + '"'
        nulls, low, high = conn.execute(
            f"SELECT 100 - count({c}), min({c}), max({c}) FROM {first_rows}"
        ).fetchone()
        assert (profile.count, profile.sampled_rows, profile.nulls, profile.min, profile.max) == (
            301,
            100,
            nulls,
            low,
            high,
        )
    assert sampled[ODD].types == {"integer": 20, "real": 20, "text": 20, "blob": 20}


def test_complete_profiles_are_cached_per_generation(snapshot_conn) -> None:
    snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    cache = ProfileCache()
    first = profile_table(conn, table, generation=snapshot.generation, cache=cache)
    assert len(cache) == 4
    again = list(profile_columns(conn, table, generation=snapshot.generation, cache=cache))
    assert [p.stage for p in again] == [Stage.COMPLETE] * 4 and again == first
    later = [p.stage for p in profile_columns(conn, table, generation=snapshot.generation + 1, cache=cache)]
    assert later[0] is Stage.CHEAP  # a new snapshot starts afresh
    assert len(cache) == 8
    cache.forget_generation(snapshot.generation)
    assert len(cache) == 4  # only the new generation's are left


def _big_two_column_table(tmp_path: Path) -> Path:
    path = tmp_path / "big.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE big (a, b)")
    conn.execute(
        "INSERT INTO big SELECT random(), hex(randomblob(8)) FROM "
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000) SELECT x FROM c)"
    )
    conn.commit()
    conn.close()
    return path


def test_cancelling_stops_a_long_profile(tmp_path: Path) -> None:
    snapshot = open_snapshot(_big_two_column_table(tmp_path))
    reader = snapshot.connect()
    try:
        cancel = CancelToken()
        stages = profile_columns(reader, read_table(reader, "big"), cancel=cancel)
        next(stages)
        threading.Timer(0.05, cancel.cancel).start()
        with pytest.raises(Cancelled):
            list(stages)
        assert reader.execute("SELECT count(*) FROM big").fetchone()[0] == 300000  # usable afterwards
    finally:
        reader.close()
        snapshot.close()


def test_unknown_column_is_refused_with_the_columns_named(snapshot_conn) -> None:
    _snapshot, conn = snapshot_conn
    with pytest.raises(ProfileError, match=r"has no column nope \(its columns: id, od\"d col, n, ts\)"):
        profile_table(conn, read_table(conn, 't a"b'), ["nope"])


def test_views_without_rowid_and_virtual_tables_are_profiled(tmp_path: Path) -> None:
    snapshot = open_snapshot(build_edge_case_database(tmp_path / "edge.db"))
    conn = snapshot.connect()
    try:
        for name in ("parent_names", "compound", "docs", "mixed", "generated", "select", ""):
            table = read_table(conn, name)
            for profile in profile_table(conn, table):
                expected = _direct(conn, name, profile.name)
                assert (profile.count, profile.nulls, profile.distinct) == (
                    expected["count"],
                    expected["nulls"],
                    expected["distinct"],
                ), (name, profile.name)
        (mixed,) = profile_table(conn, read_table(conn, "mixed"))
        assert mixed.types == {"integer": 2, "real": 2, "text": 2, "blob": 1}
    finally:
        conn.close()
        snapshot.close()


_PROFILED_HOSTILE = ("identifiers", "values", "invalid_utf8_names", "schema_features", "fts", "empty_tables")


@pytest.mark.parametrize("name", [n for n in openable_names() if n in _PROFILED_HOSTILE])
def test_hostile_databases_profile_without_error(tmp_path: Path, name: str) -> None:
    path = build_hostile(tmp_path, name)
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    try:
        from desktop_app.core.schema.catalog import read_tables

        for table in read_tables(conn, hidden=False):
            if table.error:
                continue
            try:
                profiles = profile_table(conn, table)
            except ProfileError as exc:  # a missing module, an FTS table whose content table is gone
                assert str(exc).startswith("The table cannot be read: no such ")
                continue
            assert all(p.stage is Stage.COMPLETE for p in profiles)
    finally:
        conn.close()
        snapshot.close()


def test_corpus_timestamps_are_read_in_their_encodings(corpus: Path) -> None:
    cases = [
        ("plaso/places.sqlite", "moz_places", "last_visit_date", "prtime", "2011-07-01T11:16:21.371935Z"),
        ("plaso/History", "urls", "last_visit_time", "webkit_us", "2011-04-07T12:03:11Z"),
        ("northwind/northwind.db", "Orders", "OrderDate", "iso8601", "2016-07-04T00:00:00Z"),
    ]
    for file, table_name, column, encoding, first in cases:
        before = folder_state((corpus / file).parent)
        snapshot = open_snapshot(corpus / file)
        conn = snapshot.connect()
        try:
            (profile,) = profile_table(conn, read_table(conn, table_name), [column])
        finally:
            conn.close()
            snapshot.close()
        assert profile.time_encoding == encoding, file
        assert profile.histogram[0].low_time == first, file
        assert folder_state((corpus / file).parent) == before


def test_two_connections_give_the_same_profiles_in_the_same_order(snapshot_conn) -> None:
    snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        opened.append(snapshot.connect())
        return opened[-1]

    alone = list(profile_columns(conn, table))
    together = list(profile_columns(conn, table, connect=connect))
    assert [(p.name, p.stage) for p in together] == [(p.name, p.stage) for p in alone]
    assert together == alone
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")  # the second connection is closed once the profile ends


def test_cancelling_stops_both_connections_of_a_profile(tmp_path: Path) -> None:
    snapshot = open_snapshot(_big_two_column_table(tmp_path))
    reader = snapshot.connect()
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        opened.append(snapshot.connect())
        return opened[-1]

    try:
        cancel = CancelToken()
        stages = profile_columns(reader, read_table(reader, "big"), cancel=cancel, connect=connect)
        next(stages)
        threading.Timer(0.05, cancel.cancel).start()
        with pytest.raises(Cancelled):
            list(stages)
        assert [t.name for t in threading.enumerate() if t.name == "profile lane"] == []
        assert reader.execute("SELECT count(*) FROM big").fetchone()[0] == 300000  # usable afterwards
        assert len(opened) == 1
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            opened[0].execute("SELECT 1")
    finally:
        reader.close()
        snapshot.close()


def test_a_job_failing_on_one_connection_is_the_error_raised_not_the_other_ones_stop(snapshot_conn) -> None:
    snapshot, conn = snapshot_conn
    second = snapshot.connect()
    other_started = threading.Event()

    def waits_for_a_stop(_conn: sqlite3.Connection, cancel: CancelToken) -> None:
        assert other_started.wait(10)  # so the failing job runs on the other connection
        while not cancel.cancelled:
            threading.Event().wait(0.01)
        raise Cancelled()

    def fails(_conn: sqlite3.Connection, _cancel: CancelToken) -> None:
        other_started.set()
        raise ProfileError("The table cannot be read: boom")

    try:
        with pytest.raises(ProfileError, match="boom"):
            list(run_module._in_lanes([waits_for_a_stop, fails], (conn, second), CancelToken()))
    finally:
        second.close()
    assert [t.name for t in threading.enumerate() if t.name == "profile lane"] == []


def test_leaving_a_two_connection_profile_early_ends_its_lanes(snapshot_conn) -> None:
    snapshot, conn = snapshot_conn
    stages = profile_columns(conn, read_table(conn, 't a"b'), connect=snapshot.connect)
    assert next(stages).stage is Stage.CHEAP
    stages.close()
    assert [t.name for t in threading.enumerate() if t.name == "profile lane"] == []
    assert conn.execute('SELECT count(*) FROM "t a""b"').fetchone()[0] == 301


def test_a_low_priority_profile_runs_its_statements_in_a_niced_thread(
    snapshot_conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _snapshot, conn = snapshot_conn
    table = read_table(conn, 't a"b')
    ran_in: set[tuple[str, int | None]] = set()
    complete = run_module._complete

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        thread = threading.current_thread()
        nice = os.getpriority(os.PRIO_PROCESS, thread.native_id) if sys.platform == "linux" else None
        ran_in.add((thread.name, nice))
        return complete(*args, **kwargs)

    monkeypatch.setattr(run_module, "_complete", recording)
    niced = list(profile_columns(conn, table, low_priority=True))
    lane = ("profile lane", run_module._LANE_NICE if sys.platform == "linux" else None)
    assert ran_in == {lane}
    assert [t.name for t in threading.enumerate() if t.name == "profile lane"] == []
    ran_in.clear()
    assert list(profile_columns(conn, table)) == niced
    assert {name for name, _nice in ran_in} == {threading.current_thread().name}
