"""The Search pane over real snapshots: streamed hits, cancel on typing, bad input, the instant index."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from desktop_app.core import regexes
from desktop_app.core.database import Database
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.search import Hit, HitBatch, Method, SearchFinished, SearchOptions
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.search.pane import EMPTY_HINT, SearchPane
from desktop_app.ui.panes.search.stream import HITS_PER_TURN, EventPipe
from tests.fixtures import numbers, script_database
from tests.ui.helpers import close_window, make_window, open_in, wait_for


async def open_database(path: Path, generation: int | None = None) -> tuple[Snapshot, Database, Any]:
    snapshot = await asyncio.to_thread(open_snapshot, path, generation=generation)
    database = Database(snapshot)
    return snapshot, database, await database.run_sync(read_catalog)


@asynccontextmanager
async def search_pane(
    qtbot: Any, tmp_path: Path, path: Path, *, auto_index: bool = False
) -> AsyncIterator[SearchPane]:
    """A shown Search pane over a snapshot of `path` (automatic indexing off unless asked for)."""
    snapshot, database, catalog = await open_database(path)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("search/auto_index", auto_index)
    context = AppContext(settings)
    context.set_database(database, catalog)
    pane = SearchPane(context)
    qtbot.addWidget(pane)
    pane.resize(1100, 600)
    pane.show()
    try:
        yield pane
    finally:
        await context.jobs.wait_all()
        pane.index_panel.reset()
        database = context.database or database
        await database.close()
        snapshot.close()


async def run_search(pane: SearchPane, text: str | None = None, timeout: float = 20.0) -> None:
    """Search for `text` (or the current text) at once and wait until it ends."""
    if text is not None:
        pane.query.setText(text)
    pane.search_now()
    await wait_for(lambda: not pane.searching, timeout=timeout, message="the search to end")


def build_database(path: Path, *, big_rows: int = 0) -> Path:
    """Awkward names, a WITHOUT ROWID table, a view, an FTS5 table, and a table whose module is missing."""
    conn = sqlite3.connect(path)
    conn.executescript(
        '''
        CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, note TEXT);
        CREATE TABLE pairs (a TEXT, b INTEGER, label TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
        CREATE TABLE "it's ""odd""" ("col ]x" TEXT, "select" TEXT);
        CREATE VIEW people_view AS SELECT name, note FROM people;
        CREATE VIRTUAL TABLE mail USING fts5(sender, subject);
        CREATE TABLE zz_last (t TEXT);
        INSERT INTO people VALUES (1, 'Ann Smith', 'likes "quotes" and NEAR-by -minus *star'),
                                  (2, 'Bob needle', 'plain'), (3, 'Émile', 'needle in a haystack');
        INSERT INTO pairs VALUES ('k/1', 1, 'first needle pair'), ('k/1', 2, 'second pair');
        INSERT INTO "it's ""odd""" VALUES ('hello needle', 'select me');
        INSERT INTO mail VALUES ('alice@example.com', 'report "draft" NEAR deadline');
        INSERT INTO zz_last VALUES ('needle at the end');
        '''
    )
    if big_rows:
        conn.execute("CREATE TABLE a_big (id INTEGER PRIMARY KEY, t TEXT)")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO a_big SELECT i, 'row ' || i || ' some filler text' FROM n",
            (big_rows,),
        )
    conn.commit()
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute(
        "INSERT INTO sqlite_schema VALUES "
        "('table', 'ghost', 'ghost', 0, 'CREATE VIRTUAL TABLE ghost USING nosuchmodule(a, b)')"
    )
    conn.commit()
    conn.close()
    return path


def found(pane: SearchPane) -> set[tuple[Any, ...]]:
    return {(h.table, h.column, h.key, h.snippet, h.spans) for h in pane.results.all_hits()}


# --- searching ------------------------------------------------------------------------------------


async def test_chinook_artist_hit_is_shown_and_double_click_asks_to_open_its_row(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    async with search_pane(qtbot, tmp_path, corpus / "chinook" / "Chinook_Sqlite.sqlite") as pane:
        requests: list[tuple[str, dict[str, Any]]] = []
        pane.open_row_requested.connect(lambda table, key: requests.append((table, key)))
        await run_search(pane, "AC/DC")
        artist = pane.results.hits_of("Artist")
        assert [(h.column, h.snippet, h.spans) for h in artist] == [("Name", "AC/DC", ((0, 5),))]
        assert "hits in 11 of 11 tables" in pane.summary.text()
        index = pane.results.index(0, 0, pane.results.table_index("Artist"))
        pane.results_view.scrollTo(index)
        rect = pane.results_view.visualRect(index)
        viewport = pane.results_view.viewport()
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())  # a real double-click
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())  # starts with a press
        assert len(requests) == 1
        table, key = requests[0]
        assert table == "Artist" and key in ({"rowid": 1}, {"ArtistId": 1})


async def test_snippet_of_invalid_utf8_text_shows_its_bad_bytes_escaped(qtbot: Any, tmp_path: Path) -> None:
    path = script_database(
        tmp_path / "bad.db",
        "CREATE TABLE t (note TEXT); INSERT INTO t VALUES (CAST(X'6E6565646C65FF2062616420C328' AS TEXT));",
    )
    async with search_pane(qtbot, tmp_path, path) as pane:
        await run_search(pane, "needle")
        [hit] = pane.results.all_hits()
        assert (hit.snippet, hit.spans) == ("needle\\xff bad \\xc3(", ((0, 6),))
        item = pane.results.itemFromIndex(pane.results.index(0, 1, pane.results.table_index("t")))
        assert item.text() == hit.snippet  # the row shows it as Browse would, no U+FFFD


async def test_typing_a_new_query_cancels_the_running_search_and_never_shows_its_hits(
    qtbot: Any, tmp_path: Path
) -> None:
    path = build_database(tmp_path / "big.db", big_rows=200_000)
    async with search_pane(qtbot, tmp_path, path) as pane:
        pane.checks["regex"].setChecked(True)  # a regular expression runs Python per value: slow
        shown: list[tuple[str, str]] = []
        add_hits = pane.results.add_hits

        def spy(table: str, hits: Any) -> None:
            shown.extend((pane.query.text(), hit.snippet) for hit in hits)
            add_hits(table, hits)

        pane.results.add_hits = spy  # type: ignore[method-assign]
        pane.query.setText(r"row \d+7 some")
        await wait_for(lambda: pane.searching, message="the debounced search to start")
        first = pane._search.job
        assert first is not None
        await wait_for(lambda: pane.results.hit_count > 0, message="first hits")
        assert not first.done
        pane.query.setText("needle")
        assert first.cancel_token.cancelled and pane.results.hit_count == 0
        await wait_for(lambda: pane.searching and pane._search.job is not first, message="the second search")
        await wait_for(lambda: not pane.searching, message="the second search to end")
        after = shown[[q for q, _ in shown].index("needle") :]
        assert after and all("needle" in snippet.lower() for _q, snippet in after)
        assert "a_big" not in pane.results.tables()
        assert {"people", "pairs", 'it\'s "odd"', "zz_last"} <= set(pane.results.tables())


async def test_empty_query_shows_a_hint_and_starts_no_search(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        await run_search(pane, "needle")
        pane.query.setText("")
        pane.search_now()
        assert not pane.searching and pane.results.hit_count == 0
        assert EMPTY_HINT in pane.message.text()


async def test_invalid_regular_expression_is_shown_inline(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        pane.checks["regex"].setChecked(True)
        pane.query.setText("needle(")
        pane.search_now()
        assert not pane.searching
        assert "Invalid regular expression" in pane.message.text() and pane.message.isVisible()
        assert pane.query.styleSheet()  # the box is marked
        pane.query.setText("need(le)")
        await run_search(pane)
        assert "Invalid" not in pane.message.text() and pane.results.hit_count > 0


async def test_unsupported_regular_expression_names_the_construct_inline(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        pane.checks["regex"].setChecked(True)
        pane.query.setText(r"(n)\1")
        pane.search_now()
        assert not pane.searching
        assert "RE2 syntax, which does not support backreferences" in pane.message.text()


async def test_without_re2_the_pane_says_how_to_get_regular_expressions_and_plain_search_works(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(regexes, "re2", None)
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        assert pane.checks["regex"].toolTip() == regexes.unavailable_message()
        pane.checks["regex"].setChecked(True)
        pane.query.setText("needle")
        pane.search_now()
        assert not pane.searching
        assert "pip install google-re2" in pane.message.text()
        pane.checks["regex"].setChecked(False)
        await run_search(pane, "needle")
        assert pane.results.hit_count > 0


@pytest.mark.parametrize("text", ['"draft" NEAR', "NEAR-by -minus *star", '"quotes"'])
async def test_fts_syntax_characters_are_plain_text(qtbot: Any, tmp_path: Path, text: str) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        await run_search(pane, text)
        hits = pane.results.all_hits()
        assert hits and all(text.lower() in h.snippet.lower() for h in hits)
        assert "error" not in pane.message.text().lower()


async def test_unreadable_table_is_noted_and_the_others_are_searched(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        await run_search(pane, "needle")
        ghost = pane.results.report_of("ghost")
        assert ghost is not None and ghost.error and "nosuchmodule" in (ghost.note or "")
        note = pane.results.index(pane.results.tables().index("ghost"), 1)
        assert "nosuchmodule" in note.data()
        assert {"people", "pairs", "zz_last"} <= set(pane.results.tables())
        assert "1 table could not be searched" in pane.summary.text()


async def test_without_rowid_hit_opens_by_primary_key_and_view_hit_says_why_not(
    qtbot: Any, tmp_path: Path
) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        requests: list[tuple[str, Any]] = []
        pane.open_row_requested.connect(lambda table, key: requests.append((table, key)))
        pane.checks["include_views"].setChecked(True)
        await run_search(pane, "needle")
        pane.open_hit(pane.results.hits_of("pairs")[0])
        pane.open_hit(pane.results.hits_of('it\'s "odd"')[0])
        assert requests == [("pairs", {"a": "k/1", "b": 1}), ('it\'s "odd"', {"rowid": 1})]
        pane.open_hit(pane.results.hits_of("people_view")[0])
        assert len(requests) == 2 and "a view has no row key" in pane.message.text()


async def test_enter_on_a_hit_asks_to_open_its_row(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        requests: list[tuple[str, Any]] = []
        pane.open_row_requested.connect(lambda table, key: requests.append((table, key)))
        await run_search(pane, "haystack")
        QTest.keyClick(pane.query, Qt.Key.Key_Down)
        QTest.keyClick(pane.results_view, Qt.Key.Key_Return)
        assert requests == [("people", {"rowid": 3})]


async def test_chosen_columns_limit_the_search(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_database(tmp_path / "s.db")) as pane:
        pane.scope.setCurrentIndex(1)
        pane.query.setText("needle")
        pane.search_now()
        assert "Tick the tables or columns" in pane.message.text()
        pane.scope_tree.set_checked({"people": ["note"], "zz_last": None})
        await run_search(pane)
        where = {(h.table, h.column) for h in pane.results.all_hits()}
        assert where == {("people", "note"), ("zz_last", "t")}


async def test_stop_keeps_the_hits_found_so_far(qtbot: Any, tmp_path: Path) -> None:
    path = build_database(tmp_path / "big.db", big_rows=200_000)
    async with search_pane(qtbot, tmp_path, path) as pane:
        pane.checks["regex"].setChecked(True)
        pane.query.setText(r"row \d+7 some")
        pane.search_now()
        await wait_for(lambda: pane.results.hit_count > 0, message="first hits")
        pane.stop_button.click()
        await wait_for(lambda: not pane.searching, message="the search to stop")
        assert pane.results.hit_count > 0 and pane.summary.text().startswith("Stopped")


async def test_events_reach_the_ui_in_order_at_most_hits_per_turn_at_a_time() -> None:
    hit = Hit("t", "c", None, "text", "x", ((0, 1),), 0)
    events: list[Any] = [HitBatch("t", (hit,) * 600) for _ in range(4)]
    events.append(SearchFinished(2400, 1, 1, False, 0.1))
    turns: list[list[Any]] = []
    pipe = EventPipe(asyncio.get_running_loop(), turns.append)
    await asyncio.to_thread(lambda: [pipe.put(event) for event in events])
    await wait_for(lambda: any(events[-1] in turn for turn in turns), message="every event")
    delivered = [event for turn in turns for event in turn]
    assert [h for e in delivered if isinstance(e, HitBatch) for h in e.hits] == [hit] * 2400
    assert delivered[-1] == events[-1]
    assert len(turns) >= 2400 / HITS_PER_TURN
    assert all(sum(len(e.hits) for e in turn if isinstance(e, HitBatch)) <= HITS_PER_TURN for turn in turns)


# --- the instant index ----------------------------------------------------------------------------


def build_indexable_database(path: Path, rows: int = 20_000) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT, n INTEGER)")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO docs SELECT i, 'Title ' || i, "
        "CASE WHEN i % 997 = 0 THEN 'a Needle here ' || i ELSE 'hay ' || hex(randomblob(6)) END, i FROM n",
        (rows,),
    )
    conn.execute("CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    conn.execute("INSERT INTO keyed VALUES ('x', 'needles and pins'), ('y', 'no')")
    conn.commit()
    conn.close()
    return path


async def test_index_builds_and_answers_the_same_hits_as_scanning(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_indexable_database(tmp_path / "i.db")) as pane:
        scanned = {}
        for text in ("needle", "NEEDLE here", "title 19"):
            await run_search(pane, text)
            scanned[text] = found(pane)
        assert pane.index_panel.build() is not None
        assert "Building" in pane.index_panel.label.text()
        await wait_for(lambda: pane.index_panel.index is not None, message="the index")
        assert "ready" in pane.index_panel.label.text() and pane.index_panel.button.text() == "Drop index"
        for text, expected in scanned.items():
            await run_search(pane, text)
            assert found(pane) == expected and expected
            assert {h.method for h in pane.results.all_hits()} == {Method.INDEX}
            assert "instant index" in pane.summary.text()
        await run_search(pane, "ne")
        assert "needs at least 3 characters" in pane.message.text()
        assert {h.method for h in pane.results.all_hits()} == {Method.SCAN}


async def test_database_change_closes_the_old_index_and_drops_a_build_in_progress(
    qtbot: Any, tmp_path: Path
) -> None:
    path = build_indexable_database(tmp_path / "i.db")
    async with search_pane(qtbot, tmp_path, path) as pane:
        pane.index_panel.build()
        await wait_for(lambda: pane.index_panel.index is not None, message="the index")
        old = pane.index_panel.index
        assert old is not None
        snapshot, database, catalog = await open_database(path, generation=2)
        snapshot3, database3, catalog3 = await open_database(path, generation=3)
        previous = pane.context.database
        try:
            pane.context.set_database(database, catalog)
            assert old.unusable_for(SearchOptions("needle")) == "the search index was closed"
            assert pane.index_panel.index is None
            job = pane.index_panel.build()  # a build of generation 2, overtaken at once by generation 3
            assert job is not None
            pane.context.set_database(database3, catalog3)
            assert job.cancel_token.cancelled
            await wait_for(lambda: job.done, message="the cancelled build to end")
            assert pane.index_panel.index is None and not pane.index_panel.building
            await run_search(pane, "needle")
            assert pane.results.hit_count > 0
            assert {h.method for h in pane.results.all_hits()} == {Method.SCAN}
        finally:
            pane.context.set_database(previous, None)
            for db, snap in ((database, snapshot), (database3, snapshot3)):
                await db.close()
                snap.close()


async def test_small_database_gets_the_index_built_automatically(qtbot: Any, tmp_path: Path) -> None:
    path = build_indexable_database(tmp_path / "i.db", rows=500)
    async with search_pane(qtbot, tmp_path, path, auto_index=True) as pane:
        await wait_for(lambda: pane.index_panel.index is not None, message="the automatic index")
        index, database = pane.index_panel.index, pane.context.database
        assert index is not None and database is not None and index.generation == database.generation
        await run_search(pane, "needles")
        assert [h.method for h in pane.results.all_hits()] == [Method.INDEX]


async def test_reload_restores_the_query_and_searches_the_new_generation(qtbot: Any, tmp_path: Path) -> None:
    path = build_database(tmp_path / "s.db")
    async with search_pane(qtbot, tmp_path, path) as pane:
        await run_search(pane, "haystack")
        state = pane.save_state()
        snapshot, database, catalog = await open_database(path, generation=2)
        previous = pane.context.database
        try:
            pane.context.set_database(database, catalog)
            assert pane.results.hit_count == 0
            pane.restore_state(state)
            await wait_for(lambda: pane.results.hit_count == 1 and not pane.searching, message="search again")
        finally:
            await pane.context.jobs.wait_all()
            pane.context.set_database(previous, None)
            await database.close()
            snapshot.close()


# --- through the real window ----------------------------------------------------------------------


async def test_hit_opens_the_browse_pane_at_its_row(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    window = make_window(tmp_path)
    try:
        browse = window.panes.get("browse")
        if browse is None or not hasattr(browse, "show_row") or "search" not in window.panes:
            pytest.skip("the Browse pane with show_row is not in the window yet")
        await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
        pane = window.panes["search"]
        assert isinstance(pane, SearchPane)
        window.show_pane(pane)
        await run_search(pane, "AC/DC")
        pane.open_hit(pane.results.hits_of("Artist")[0])
        assert window.tabs.currentWidget() is browse

        def selected_name() -> object:
            row = browse.view.selectionModel().currentIndex().row()  # type: ignore[attr-defined]
            values = browse.model.row_values(row) if row >= 0 else None  # type: ignore[attr-defined]
            return values[1] if values else None

        await wait_for(lambda: selected_name() == "AC/DC", message="the AC/DC row selected in Browse")
        assert browse.table.name == "Artist"  # type: ignore[attr-defined]
    finally:
        await close_window(window)


async def test_index_offer_shows_the_estimated_size_place_and_time(qtbot: Any, tmp_path: Path) -> None:
    async with search_pane(qtbot, tmp_path, build_indexable_database(tmp_path / "i.db")) as pane:
        await wait_for(lambda: pane.index_panel.estimate is not None, message="the index estimate")
        estimate = pane.index_panel.estimate
        assert estimate is not None and estimate.refusal is None
        text = pane.index_panel.label.text()
        assert f"Build index: {estimate.summary()}" in text
        assert " of memory, ~" in text and pane.index_panel.button.isEnabled()
        pane.index_panel.build()
        assert estimate.summary() in pane.index_panel.label.text()  # said while building too
        await wait_for(lambda: pane.index_panel.index is not None, message="the index")
        index = pane.index_panel.index
        assert index is not None and index.estimate is estimate  # the planned estimate was used
        assert index.size_bytes / 3 <= estimate.size_bytes <= index.size_bytes * 3
        assert "in memory" in pane.index_panel.label.text()


async def test_index_over_every_budget_is_not_offered_and_says_why(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.search import index as index_module

    lowered = dataclasses.replace(
        index_module.LIMITS, search_index_ram_share=0.0, search_index_max_bytes=1000
    )
    monkeypatch.setattr(index_module, "LIMITS", lowered)
    async with search_pane(
        qtbot, tmp_path, build_indexable_database(tmp_path / "i.db"), auto_index=True
    ) as pane:
        await wait_for(lambda: pane.index_panel.estimate is not None, message="the index estimate")
        assert "would take about" in pane.index_panel.label.text()
        assert "Searches scan the tables instead" in pane.index_panel.label.text()
        assert not pane.index_panel.button.isEnabled()
        assert pane.index_panel.index is None and not pane.index_panel.building  # not even automatically
        await run_search(pane, "needle")
        assert {h.method for h in pane.results.all_hits()} == {Method.SCAN}


async def test_show_more_continues_a_table_cut_at_its_hit_limit_until_all_are_shown(
    qtbot: Any, tmp_path: Path
) -> None:
    path = script_database(
        tmp_path / "many.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        f"INSERT INTO notes (body) {numbers(2500)} SELECT 'needle ' || i FROM numbers;",
    )
    async with search_pane(qtbot, tmp_path, path) as pane:
        await run_search(pane, "needle")
        assert len(pane.results.hits_of("notes")) == 1000
        assert pane.more_button.isVisible() and pane.more_button.text() == "Show 1,000 more in “notes”"
        for shown in (2000, 2500):
            pane.more_button.click()
            await wait_for(lambda s=shown: len(pane.results.hits_of("notes")) == s, message=f"{shown} hits")
        await wait_for(lambda: not pane.more_button.isVisible(), message="no more to show")
        keys = {hit.key for hit in pane.results.hits_of("notes")}
        assert len(keys) == 2500
        table_row = pane.results.item(0, 0).text()
        assert table_row == "notes  (2,500 hits)"
