"""The instant search index: same answers as scanning, kept out of the user's data, shared, cancellable."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.search import (
    Hit,
    IndexEstimate,
    IndexLocation,
    IndexTooLarge,
    IndexUnavailable,
    Method,
    RowKey,
    SearchIndex,
    SearchOptions,
    auto_index_wanted,
    collect,
    estimate_index,
    trigram_support,
)
from desktop_app.core.search import index as index_module
from desktop_app.core.snapshot.private_folders import OWNER_FILE, PRIVATE_PREFIX
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.guard import unguarded
from tests.conftest import folder_state

from .test_search_db import build_big_table_database, build_search_database


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    snap = open_snapshot(build_search_database(tmp_path_factory.mktemp("index") / "search.db"))
    yield snap
    snap.close()


@pytest.fixture
def conn(snapshot: Snapshot) -> Iterator[sqlite3.Connection]:
    connection = snapshot.connect()
    yield connection
    connection.close()


@pytest.fixture
def index(snapshot: Snapshot, conn: sqlite3.Connection) -> Iterator[SearchIndex]:
    built = SearchIndex.build(conn, generation=snapshot.generation)
    yield built
    built.detach(conn)
    built.close()


def found(hits: list[Hit]) -> set[tuple[object, ...]]:
    return {(h.table, h.column, h.key, h.value_type, h.snippet, h.spans) for h in hits}


QUERIES = ["Ann", "ann smith", "école", "needle", "pair", '"draft" NEAR', "tokenizer", "ext", "k/1", "*st"]


@pytest.mark.parametrize(
    "options",
    [{}, {"case_sensitive": True}, {"whole_word": True}, {"whole_word": True, "case_sensitive": True}],
    ids=["plain", "case", "word", "word+case"],
)
def test_index_answers_the_same_hits_as_scanning(
    conn: sqlite3.Connection, index: SearchIndex, options: dict[str, bool]
) -> None:
    for text in QUERIES:
        indexed = collect(conn, SearchOptions(text, limit_per_table=None, **options), index=index)
        scanned = collect(conn, SearchOptions(text, limit_per_table=None, **options))
        assert indexed.started.uses_index, text
        assert found(indexed.hits) == found(scanned.hits), (text, options)
        assert {h.method for h in indexed.hits} <= {Method.INDEX}


def test_index_snippet_shows_invalid_utf8_escaped(conn: sqlite3.Connection, index: SearchIndex) -> None:
    hits = collect(conn, SearchOptions("needle", tables=("people",)), index=index).hits
    bad = next(h for h in hits if h.key == RowKey(("rowid",), (7,), True))
    assert (bad.method, bad.snippet, bad.spans) == (Method.INDEX, "\\xc3(needle", ((5, 11),))


def test_index_with_numbers_answers_number_searches(snapshot: Snapshot, conn: sqlite3.Connection) -> None:
    index = SearchIndex.build(conn, generation=snapshot.generation, include_numbers=True)
    try:
        for text in ("12345", "e+20", "2.5", "forty"):
            options = SearchOptions(text, include_numbers=True, limit_per_table=None)
            indexed = collect(conn, options, index=index)
            assert indexed.started.uses_index
            assert found(indexed.hits) == found(collect(conn, options).hits), text
    finally:
        index.detach(conn)
        index.close()


def test_index_lives_in_its_own_memory_database_never_in_main(
    snapshot: Snapshot, conn: sqlite3.Connection
) -> None:
    schema_before = conn.execute("SELECT * FROM main.sqlite_schema").fetchall()
    index = SearchIndex.build(conn, generation=snapshot.generation)
    try:
        attached = {name: file for _seq, name, file in conn.execute("PRAGMA database_list")}
        assert attached[index.schema].startswith("/search-")
        assert conn.execute("SELECT * FROM main.sqlite_schema").fetchall() == schema_before
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute("CREATE TABLE main.intruder (x)")
        with unguarded(conn), pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE main.intruder (x)")  # query_only is back on under the guard
    finally:
        index.detach(conn)
        index.close()
    assert index.schema not in {row[1] for row in conn.execute("PRAGMA database_list")}


def test_index_records_generation_build_time_and_size(snapshot: Snapshot, conn: sqlite3.Connection) -> None:
    ticks: list[Progress] = []
    index = SearchIndex.build(conn, generation=41, progress=ticks.append)
    try:
        assert index.generation == 41
        assert index.built_at > 0 and index.build_seconds > 0
        assert index.size_bytes > 0 and index.entries > 10
        assert "people" in index.tables and "people_view" not in index.tables
        assert index.notes == {"ghost": "no such module: nosuchmodule"}
        assert ticks[-1].done == ticks[-1].total and ticks[-1].total
        assert [t.done for t in ticks] == sorted(t.done for t in ticks)
    finally:
        index.detach(conn)
        index.close()


def test_a_second_pooled_connection_shares_the_index(snapshot: Snapshot, index: SearchIndex) -> None:
    other = snapshot.connect()
    try:
        result = collect(other, SearchOptions("smith"), index=index)
        assert result.started.uses_index
        assert {(h.table, h.method) for h in result.hits} == {("people", Method.INDEX)}
    finally:
        other.close()


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"text": "an"}, "at least 3 characters"),
        ({"text": "a"}, "at least 3 characters"),
        ({"text": "ann", "regex": True}, "regular expressions"),
        ({"text": "secret", "include_blobs": True}, "blobs"),
        ({"text": "12345", "include_numbers": True}, "numbers"),
    ],
)
def test_what_the_index_cannot_answer_is_scanned_with_a_note(
    conn: sqlite3.Connection, index: SearchIndex, options: dict[str, object], reason: str
) -> None:
    search_options = SearchOptions(**options)  # type: ignore[arg-type]
    result = collect(conn, search_options, index=index)
    assert not result.started.uses_index and reason in (result.started.note or "")
    assert found(result.hits) == found(collect(conn, search_options).hits)
    assert result.hits


def test_views_are_scanned_beside_the_index(conn: sqlite3.Connection, index: SearchIndex) -> None:
    result = collect(conn, SearchOptions("zola", include_views=True), index=index)
    assert {(h.table, h.method) for h in result.hits} == {
        ("people", Method.INDEX),
        ("people_view", Method.SCAN),
    }


def test_closed_index_is_not_used(conn: sqlite3.Connection, snapshot: Snapshot) -> None:
    index = SearchIndex.build(conn, generation=snapshot.generation)
    index.detach(conn)
    index.close()
    result = collect(conn, SearchOptions("smith"), index=index)
    assert not result.started.uses_index and "closed" in (result.started.note or "")


def test_large_table_is_indexed_in_slices_with_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "_ROWS_PER_STEP", 7)
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 100))
    conn = snap.connect()
    ticks: list[int] = []
    index = SearchIndex.build(conn, generation=snap.generation, progress=lambda p: ticks.append(p.done))
    try:
        assert len(ticks) > 15  # progress moved inside the big table
        for text in ("row 5", "needle", "filler text", "0"):
            options = SearchOptions(text, limit_per_table=None)
            assert found(collect(conn, options, index=index).hits) == found(collect(conn, options).hits)
        assert index.entries == 2 * 100 + 3
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()


def test_cancelled_build_leaves_the_connection_query_only_and_clean(tmp_path: Path) -> None:
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 2000))
    conn = snap.connect()
    cancel = CancelToken()

    def cancel_soon(progress: Progress) -> None:
        if progress.done > 0:
            cancel.cancel()

    try:
        with pytest.raises(Cancelled):
            SearchIndex.build(conn, generation=1, progress=cancel_soon, cancel=cancel)
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]
    finally:
        conn.close()
        snap.close()


def test_missing_trigram_tokenizer_is_said_clearly(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert trigram_support() is None  # the SQLite here is new enough
    monkeypatch.setattr(index_module, "trigram_support", lambda: "no trigram tokenizer here")
    with pytest.raises(IndexUnavailable, match="no trigram tokenizer here"):
        SearchIndex.build(conn, generation=1)
    assert not auto_index_wanted(conn)


def test_small_snapshots_want_the_index_built_automatically(conn: sqlite3.Connection) -> None:
    assert auto_index_wanted(conn)


def test_utf16_database_is_scanned_and_indexed_alike(tmp_path: Path) -> None:
    path = tmp_path / "utf16.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA encoding = 'UTF-16le'")
    writer.execute("CREATE TABLE t (a TEXT, b)")
    writer.executemany("INSERT INTO t VALUES (?, ?)", [("Grüße aus Köln", 3.25), ("ÉCOLE", None)])
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    index = SearchIndex.build(conn, generation=snap.generation)
    try:
        for options in (SearchOptions("köln"), SearchOptions("COL", case_sensitive=True)):
            scanned = collect(conn, options).hits
            assert len(scanned) == 1
            assert found(collect(conn, options, index=index).hits) == found(scanned)
        assert [h.snippet for h in collect(conn, SearchOptions(r"k.ln$", regex=True)).hits] == [
            "Grüße aus Köln"
        ]
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()


# --- size, place and estimate ----------------------------------------------------------------------


def limits(monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    """Lower the index's limits for one test."""
    monkeypatch.setattr(index_module, "LIMITS", dataclasses.replace(index_module.LIMITS, **changes))


def private_folders(temp: Path) -> list[Path]:
    return sorted(p for p in temp.iterdir() if p.name.startswith(PRIVATE_PREFIX))


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder of its own for the test (where a file-backed index goes)."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_index_stores_no_text_and_no_keys(
    snapshot: Snapshot, conn: sqlite3.Connection, index: SearchIndex
) -> None:
    schema = index.schema
    tables = {row[0] for row in conn.execute(f"SELECT name FROM {schema}.sqlite_schema WHERE type = 'table'")}
    assert tables == {"entries", "entries_data", "entries_idx", "entries_config", "rowkeys"}
    assert "needle" not in str(conn.execute(f"SELECT * FROM {schema}.rowkeys").fetchall())
    # WITHOUT ROWID rows keep their key once each; rowid tables none.
    assert conn.execute(f"SELECT k0, k1 FROM {schema}.rowkeys").fetchall() == [("k/1", 1), ("k/1", 2)]
    assert index.tables["pairs"].keyed and not index.tables["people"].keyed


def test_a_table_whose_rows_have_no_key_is_scanned_beside_the_index(
    conn: sqlite3.Connection, index: SearchIndex
) -> None:
    assert "shadowed" in index.scanned and "shadowed" not in index.tables
    options = SearchOptions("unaddressable")
    result = collect(conn, options, index=index)
    assert result.started.uses_index
    assert [(h.table, h.method) for h in result.hits] == [("shadowed", Method.SCAN)]
    assert found(result.hits) == found(collect(conn, options).hits)


def test_rowids_too_far_apart_are_numbered_through_their_keys(tmp_path: Path) -> None:
    path = tmp_path / "far.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE far (t TEXT)")
    rows = [(-(2**63), "lowest needle"), (0, "middle"), (2**63 - 1, "highest needle")]
    writer.executemany("INSERT INTO far (rowid, t) VALUES (?, ?)", rows)
    writer.execute("CREATE TABLE near (t TEXT)")
    writer.execute("INSERT INTO near VALUES ('near needle')")
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    index = SearchIndex.build(conn, generation=snap.generation)
    try:
        assert index.tables["far"].keyed and not index.tables["near"].keyed
        options = SearchOptions("needle", limit_per_table=None)
        indexed = collect(conn, options, index=index)
        assert {h.method for h in indexed.hits} == {Method.INDEX}
        assert found(indexed.hits) == found(collect(conn, options).hits)
        assert len(indexed.hits) == 3
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()


def test_estimate_is_within_a_generous_factor_of_the_built_index(tmp_path: Path) -> None:
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 5000))
    conn = snap.connect()
    try:
        estimate = estimate_index(conn)
        index = SearchIndex.build(conn, generation=snap.generation, estimate=estimate)
        try:
            assert estimate.location is IndexLocation.MEMORY and estimate.refusal is None
            assert index.estimate is estimate
            text = conn.execute("SELECT sum(length(t) + length(u)) + 3 * length('small needle') FROM a_big")
            assert estimate.text_chars == pytest.approx(text.fetchone()[0], rel=0.25)
            assert estimate.values == pytest.approx(index.entries, rel=0.25)
            assert index.size_bytes / 3 <= estimate.size_bytes <= index.size_bytes * 3
            assert "of memory" in estimate.summary() and estimate.summary().startswith("about ")
        finally:
            index.detach(conn)
            index.close()
    finally:
        conn.close()
        snap.close()


def test_estimate_samples_sparse_rowids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits(monkeypatch, search_estimate_count_max_bytes=0)  # as on a database too large to count
    path = tmp_path / "sparse.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE s (t TEXT)")
    writer.executemany(
        "INSERT INTO s (rowid, t) VALUES (?, ?)", [(i * 37, f"value {i:06}") for i in range(4000)]
    )
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    try:
        estimate = estimate_index(conn)
        assert estimate.values == pytest.approx(4000, rel=0.25)
        assert estimate.text_chars == pytest.approx(4000 * 12, rel=0.25)
    finally:
        conn.close()
        snap.close()


@pytest.mark.parametrize("counted", [True, False], ids=["counted", "sampled"])
def test_estimate_of_clustered_rowids_stays_within_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: bool
) -> None:
    """Found by the property test: two rows 159 apart, 2**40 after a first one, were "7 billion rows"."""
    if not counted:
        limits(monkeypatch, search_estimate_count_max_bytes=0)
    path = tmp_path / "clustered.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE c (t TEXT)")
    far = [(2**40 + i * 159, f"far {i}") for i in range(300)]
    writer.executemany("INSERT INTO c (rowid, t) VALUES (?, ?)", [(0, "AAAA"), *far])
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    try:
        estimate = estimate_index(conn)
        assert estimate.refusal is None and estimate.location is IndexLocation.MEMORY
        assert estimate.values <= path.stat().st_size  # sampled: may miss the cluster, never explode
        if counted:
            assert estimate.values == pytest.approx(301, rel=0.25)
        index = SearchIndex.build(conn, generation=snap.generation, estimate=estimate)
        index.detach(conn)
        index.close()
    finally:
        conn.close()
        snap.close()


def test_index_too_large_for_memory_is_built_in_a_private_temporary_file(
    tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, search_index_ram_share=0.0)
    user_folder = tmp_path / "user"
    user_folder.mkdir()
    path = build_search_database(user_folder / "search.db")
    before = folder_state(user_folder)
    snap = open_snapshot(path)
    conn = snap.connect()
    other = snap.connect()
    index = SearchIndex.build(conn, generation=snap.generation)
    try:
        assert index.location is IndexLocation.FILE and index.path is not None
        (folder,) = private_folders(temp)
        assert index.path.parent == folder.resolve() and (folder / OWNER_FILE).exists()
        assert index.schema not in {row[1] for row in conn.execute("PRAGMA database_list")}  # builder let go
        for reader in (conn, other):
            for text in QUERIES:
                options = SearchOptions(text, limit_per_table=None)
                indexed = collect(reader, options, index=index)
                assert indexed.started.uses_index
                assert found(indexed.hits) == found(collect(reader, options).hits), text
        files = {row[1]: row[2] for row in other.execute("PRAGMA database_list")}
        assert files[index.schema] == str(index.path)
        with unguarded(other):  # read-only for searching connections, whatever the guard allows
            other.execute("PRAGMA query_only=OFF")
            try:
                with pytest.raises(sqlite3.OperationalError, match="readonly"):
                    other.execute(f"INSERT INTO {index.schema}.rowkeys (seq) VALUES (0)")
            finally:
                other.execute("PRAGMA query_only=ON")
        assert folder_state(user_folder) == before
    finally:
        index.detach(conn)
        index.detach(other)
        index.close()
        other.close()
        conn.close()
        snap.close()
    assert private_folders(temp) == []
    assert folder_state(user_folder) == before
    assert index.unusable_for(SearchOptions("needle")) == "the search index was closed"


def test_index_over_every_budget_is_refused_with_a_clear_message(
    snapshot: Snapshot, conn: sqlite3.Connection, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, search_index_ram_share=0.0, search_index_max_bytes=1000)
    estimate = estimate_index(conn)
    assert estimate.location is IndexLocation.FILE
    assert estimate.refusal is not None
    assert "more than the limit for a search index (1 KB)" in estimate.refusal
    assert "Searches scan the tables instead" in estimate.refusal
    with pytest.raises(IndexTooLarge, match="would take about"):
        SearchIndex.build(conn, generation=snapshot.generation)
    assert private_folders(temp) == []
    assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]


def test_index_that_outgrows_its_cap_while_building_stops_and_leaves_nothing(
    tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 3000))
    conn = snap.connect()
    limits(monkeypatch, search_index_max_bytes=64 << 10)
    low = IndexEstimate(10, 10, 10 << 10, 0.1, IndexLocation.FILE)  # an estimate far too low
    try:
        with pytest.raises(IndexTooLarge, match="outgrew the limit for a search index"):
            SearchIndex.build(conn, generation=snap.generation, estimate=low)
        assert private_folders(temp) == []
        assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
    finally:
        conn.close()
        snap.close()


def test_cli_index_flag_reports_the_estimate_and_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop_app.cli import main

    path = build_search_database(tmp_path / "search.db")
    assert main(["search", str(path), "needle", "--index"]) == 0
    err = capsys.readouterr().err
    assert "index: building, about " in err and " of memory, ~" in err
    assert "bytes (memory), built in" in err
    assert main(["search", str(path), "needle", "--index", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["index"]
    assert summary["location"] == "memory" and summary["scanned"] == {
        "shadowed": summary["scanned"]["shadowed"]
    }
    assert summary["estimate"]["location"] == "memory" and summary["estimate"]["refusal"] is None
    assert summary["size_bytes"] / 3 <= summary["estimate"]["size_bytes"] <= summary["size_bytes"] * 3


def test_cli_index_over_budget_scans_with_the_reason(
    tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop_app.cli import main

    limits(monkeypatch, search_index_ram_share=0.0, search_index_max_bytes=1000)
    path = build_search_database(tmp_path / "search.db")
    assert main(["search", str(path), "needle", "--index", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["uses_index"] is False and "index" not in report
    assert "would take about" in report["index_refused"]
    assert {h["method"] for h in report["hits"]} == {"scan"}
    assert private_folders(temp) == []


# --- index answers == scan answers on generated data -----------------------------------------------

#: Values never hold a NUL here: the scan's LIKE/GLOB pre-filter stops at one (see the test after this one).
_ALPHABET = "abcAB é'\"%_"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-(2**40), 2**40),
            st.one_of(st.none(), st.text(_ALPHABET, max_size=12), st.integers(-999, 999), st.floats(-9, 9)),
            st.text(_ALPHABET, max_size=12),
        ),
        max_size=12,
        unique_by=lambda row: row[0],
    ),
    needles=st.lists(st.text(_ALPHABET + "\x00", min_size=3, max_size=5), min_size=1, max_size=3),
    case_sensitive=st.booleans(),
    whole_word=st.booleans(),
)
def test_index_answers_equal_scan_answers_on_generated_data(
    tmp_path: Path,
    rows: list[tuple[int, object, str]],
    needles: list[str],
    case_sensitive: bool,
    whole_word: bool,
) -> None:
    path = tmp_path / f"gen-{uuid.uuid4().hex}.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE r (a, b TEXT)")
    writer.execute("CREATE TABLE w (k TEXT, n INTEGER, a, b TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID")
    writer.executemany("INSERT INTO r (rowid, a, b) VALUES (?, ?, ?)", rows)
    writer.executemany("INSERT INTO w VALUES (?, ?, ?, ?)", [(b, i, a, b) for i, a, b in rows])
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    try:
        for numbers in (False, True):
            index = SearchIndex.build(conn, generation=snap.generation, include_numbers=numbers)
            try:
                texts = [*needles, *(str(b)[:4] for _i, b, _c in rows[:3] if len(str(b)) >= 3)]
                for text in texts:
                    options = SearchOptions(
                        text,
                        case_sensitive=case_sensitive,
                        whole_word=whole_word,
                        include_numbers=numbers,
                        limit_per_table=None,
                        limit=None,
                    )
                    indexed = collect(conn, options, index=index)
                    if not indexed.started.uses_index:
                        assert "\x00" in text
                        continue
                    assert found(indexed.hits) == found(collect(conn, options).hits), text
                    assert [h.key for h in indexed.hits] == [h.key for h in collect(conn, options).hits]
            finally:
                index.detach(conn)
                index.close()
    finally:
        conn.close()
        snap.close()
        path.unlink()


def test_index_finds_text_after_a_nul_character_in_a_value(tmp_path: Path) -> None:
    """The trigram tokenizer stops at a NUL: such values are candidates of every search, checked exactly."""
    path = tmp_path / "nul.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE t (a TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("\x00AAA",), ("x\x00yy AAA",), ("AAA",), ("BBB",)])
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    index = SearchIndex.build(conn, generation=snap.generation)
    try:
        hits = collect(conn, SearchOptions("aaa", limit_per_table=None), index=index).hits
        assert [h.key.values for h in hits if h.key] == [(1,), (2,), (3,)]
        assert {h.method for h in hits} == {Method.INDEX}
        assert collect(conn, SearchOptions("bbb"), index=index).hits[0].key == RowKey(("rowid",), (4,), True)
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()
