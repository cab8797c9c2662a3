"""Browse's side panel and links: column profiles that equal direct SQL, Stop, a top value that filters,
foreign keys followed there and back, rows referencing a row, filter/exclude on a cell and Ctrl+F find."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt

from desktop_app.core.profile.model import Stage
from desktop_app.ui.panes.browse.pane import BrowsePane
from desktop_app.ui.panes.browse.profile_panel import ProfilePanel, value_text
from desktop_app.ui.widgets import find_bar
from tests.fixtures import database_over
from tests.ui.test_browse import browse, column_values, make_big_table, settle


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait until `condition()` is true (the loop keeps running meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def browsing(qtbot: Any, tmp_path: Path, path: Path, table: str) -> AsyncIterator[BrowsePane]:
    """A Browse pane showing `table` of `path`, its rows counted."""
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table(table)
        await settle(pane)
        yield pane


async def profiled(pane: BrowsePane, column: str) -> ProfilePanel:
    """Profile `column` and wait for the complete figures."""
    pane.profile_column(column)
    await until(lambda: complete(pane.profile_panel) and column in pane.profile_panel.cards)
    return pane.profile_panel


def complete(panel: ProfilePanel) -> bool:
    """Every card shows a complete profile and the job has ended."""
    cards = panel.cards.values()
    done = all(c.profile and c.profile.stage is Stage.COMPLETE for c in cards)
    return bool(cards) and not panel.running and done


def direct(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the file itself (read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def column_index(pane: BrowsePane, name: str) -> int:
    return [c.name for c in pane.source.columns].index(name)  # type: ignore[union-attr]


def mixed_database(path: Path) -> Path:
    """`mixed(id, v, b, n)`: v holds every storage class and NULLs, b blobs, n numbers for a histogram."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE mixed(id INTEGER PRIMARY KEY, v, b BLOB, n REAL)")
    rows = [
        (1, 7, b"\x00\x01", 1.5),
        (2, 7, b"\x00\x01", 2.5),
        (3, 2.25, None, 3.5),
        (4, "seven", b"\xff", None),
        (5, "", b"", 10.0),
        (6, b"\x07", None, 20.0),
        (7, None, b"\x00\x01", 20.0),
        (8, None, None, -4.0),
    ]
    conn.executemany("INSERT INTO mixed VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


async def test_profile_of_chinook_columns_equals_direct_sql(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    async with browsing(qtbot, tmp_path, source, "Track") as pane:
        assert not pane.details.is_open  # collapsed until asked for
        pane.profile_all_columns()
        panel = pane.profile_panel
        assert pane.details.is_open and pane.details.currentWidget() is panel
        assert pane.details.objectName() == "details"
        await until(lambda: complete(panel))
        for column in ("Composer", "UnitPrice", "GenreId", "Milliseconds"):
            c = f'"{column}"'
            rows, nulls, distinct, low, high = direct(
                source,
                f"SELECT count(*), count(*) - count({c}), count(DISTINCT {c}), min({c}), max({c}) FROM Track",
            )[0]
            shown = panel.card_figures(column)
            assert shown["Rows"] == f"{rows:,}"
            assert shown["NULLs"].startswith(f"{nulls:,}")
            assert shown["Distinct"] == f"{distinct:,}"
            assert (shown["Min"], shown["Max"]) == (value_text(low), value_text(high))
            top = direct(
                source,
                f"SELECT {c}, count(*) FROM Track WHERE {c} IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
            )
            card = panel.cards[column]
            assert [(v, n) for v, n in card.profile.top] == top  # type: ignore[union-attr]
            if top[0][1] > 1:
                assert card.top_rows() == [(value_text(v), f"{n:,}") for v, n in top]
            else:
                assert card.top_title.text() == "Top values: every value occurs once"
        histogram = panel.cards["Milliseconds"].histogram
        assert histogram is not None
        numbers = direct(source, "SELECT count(Milliseconds) FROM Track")[0][0]
        assert sum(b.count for b in histogram.bins) == numbers
        assert "Complete" in panel.state.text()


async def test_profile_shows_mixed_storage_classes_and_lengths(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        shown = (await profiled(pane, "v")).card_figures("v")
        assert shown["Storage"] == "integer 2, real 1, text 2, blob 1"
        assert shown["NULLs"] == "2 (25.0%)"
        assert shown["Distinct"] == "5"
        assert shown["Length"] == "0 – 5 characters (bytes for blobs)"
        assert (shown["Min"], shown["Max"]) == ("2.25", value_text(b"\x07"))
        shown = (await profiled(pane, "b")).card_figures("b")
        assert shown["Storage"] == "blob 5"
        assert shown["Length"] == "0 – 2 bytes"
        histogram = (await profiled(pane, "n")).cards["n"].histogram
        assert histogram is not None and sum(b.count for b in histogram.bins) == 7
        pane.grab().save(str(tmp_path / "profile.png"))  # paints the histogram without error


async def test_opening_the_profile_beside_the_grid_repaints_none_of_its_rows(
    qtbot: Any, tmp_path: Path
) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        viewport = pane.view.viewport()
        painted: list[tuple[int, int]] = []  # (left, width) of each paint of the grid's rows

        class Paints(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if watched is viewport and event.type() == QEvent.Type.Paint:
                    rect = event.rect()  # type: ignore[attr-defined]
                    painted.append((rect.x(), rect.width()))
                return False

        paints = Paints()
        viewport.installEventFilter(paints)
        try:
            wide = viewport.width()
            pane.column_profile.details.show_tab(pane.profile_panel)
            await asyncio.sleep(0.1)
            narrow = viewport.width()
            assert narrow < wide and painted == []  # the rows shown stay as they were painted
            assert pane.profile_panel.isVisible()
        finally:
            viewport.removeEventFilter(paints)


async def test_stop_ends_the_profile_and_keeps_the_figures_so_far(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    make_big_table(path, 400_000)
    async with browsing(qtbot, tmp_path, path, "big") as pane:
        panel = pane.profile_panel
        pane.profile_all_columns()
        await until(lambda: any(c.profile is not None for c in panel.cards.values()))
        assert panel.stop_button.isEnabled()
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        await until(lambda: not panel.running)
        assert panel.state.text().startswith("Stopped")
        assert not panel.stop_button.isEnabled()
        assert any(c.profile is not None for c in panel.cards.values())  # what was shown stays
        assert not all(c.profile and c.profile.stage is Stage.COMPLETE for c in panel.cards.values())


async def test_a_second_profile_of_one_generation_comes_from_the_cache(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        first = (await profiled(pane, "n")).cards["n"].profile
        assert (await profiled(pane, "n")).cards[
            "n"
        ].profile is first  # the very object kept for this generation


async def test_clicking_a_top_value_filters_browse_on_it(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    async with browsing(qtbot, tmp_path, source, "Track") as pane:
        card = (await profiled(pane, "Composer")).cards["Composer"]
        value, count = card.profile.top[1]  # type: ignore[union-attr]
        second_line = card.top.contentsRect().top() + int(1.5 * card.top.fontMetrics().lineSpacing())
        qtbot.mouseClick(card.top, Qt.MouseButton.LeftButton, pos=QPoint(4, second_line))
        await settle(pane)
        assert pane.filters == {"Composer": f'="{value}"'}
        assert pane.model.total_rows == count
        assert set(column_values(pane, "Composer")) == {value}
        editor = pane.header.editors[column_index(pane, "Composer")]
        assert editor.text() == f'="{value}"'  # the filter box says what is applied


async def test_following_a_foreign_key_lands_on_the_row_and_back_returns(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    async with browsing(qtbot, tmp_path, source, "Track") as pane:
        album = column_index(pane, "AlbumId")
        assert pane.links.links[album] is False  # declared
        assert column_index(pane, "TrackId") not in pane.links.links
        pane.scroll_to_row(1500)
        await settle(pane)
        expected = pane.model.row_values(1500)[album]  # type: ignore[index]
        assert pane.follow_link(1500, album)
        await until(lambda: pane.table.name == "Album" and pane.view.currentIndex().isValid())  # type: ignore[union-attr]
        await settle(pane)
        current = pane.model.real_row(pane.view.currentIndex().row())
        assert pane.model.row_values(current)[column_index(pane, "AlbumId")] == expected  # type: ignore[index]
        assert pane.back_button.isEnabled() and not pane.forward_button.isEnabled()
        pane.go_back()
        await settle(pane)
        assert pane.table.name == "Track"  # type: ignore[union-attr]
        assert pane.model.real_row(pane.view.currentIndex().row()) == 1500
        assert pane.forward_button.isEnabled()
        pane.go_forward()
        await settle(pane)
        assert pane.table.name == "Album"  # type: ignore[union-attr]


async def test_rows_referencing_a_row_are_listed_and_open_filtered(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    async with browsing(qtbot, tmp_path, source, "Album") as pane:
        album_id = pane.model.row_values(0)[column_index(pane, "AlbumId")]  # type: ignore[index]
        found = await pane.incoming_of(0)
        track = next(r for r in found if r.table == "Track")
        assert track.count == direct(source, "SELECT count(*) FROM Track WHERE AlbumId = ?", album_id)[0][0]
        assert not track.inferred
        pane.open_incoming(track)
        await settle(pane)
        assert pane.table.name == "Track"  # type: ignore[union-attr]
        assert pane.filters == {"AlbumId": f"={album_id}"}
        assert pane.model.total_rows == track.count
        pane.go_back()
        await settle(pane)
        assert pane.table.name == "Album" and not pane.filters  # type: ignore[union-attr]


async def test_filter_and_exclude_on_cells_including_null_and_blobs(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        b = column_index(pane, "b")
        cases = [
            (2, b, False, "b IS NULL"),  # id 3: NULL
            (2, b, True, "b IS NOT NULL"),
            (0, b, False, "b = x'0001'"),  # a blob
            (0, b, True, "b <> x'0001'"),
            (3, column_index(pane, "v"), False, "v = 'seven'"),
            (2, column_index(pane, "v"), True, "v <> 2.25"),
            (5, column_index(pane, "v"), False, "v = x'07'"),
        ]
        for row, column, exclude, where in cases:
            pane.set_filters({})
            await settle(pane)
            await pane._filter_cell(row, column, exclude)
            await settle(pane)
            expected = [r[0] for r in direct(path, f"SELECT id FROM mixed WHERE {where} ORDER BY id")]
            assert column_values(pane, "id") == expected, where


async def test_find_in_browse_counts_matches_and_walks_them(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        pane.find_bar.open_bar()
        assert pane.find_bar.isVisible()
        pane.find_bar.text.setText("00")  # the hex of the blobs 0001 (rows 1, 2, 7); no NULL matches
        await until(lambda: pane.find_bar.finished)
        b = column_index(pane, "b")
        assert pane.find_bar.matches == [(0, b), (1, b), (6, b)]
        assert pane.find_bar.count.text() == "3 matches"
        assert pane.find_bar.next() == (0, b)
        assert pane.find_bar.next() == (1, b)
        assert pane.find_bar.previous() == (0, b)
        assert pane.find_bar.previous() == (6, b)  # wraps
        assert pane.view.currentIndex().column() == b
        pane.find_bar.text.setText("SEVEN")  # case-insensitive text
        await until(lambda: pane.find_bar.finished)
        assert pane.find_bar.matches == [(3, column_index(pane, "v"))]
        pane.find_bar.text.setText("NULL")
        await until(lambda: pane.find_bar.finished)
        assert pane.find_bar.matches == []
        assert pane.find_bar.count.text() == "no matches"


async def test_find_stops_at_its_match_limit_and_says_so(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(find_bar, "LIMITS", dataclasses.replace(find_bar.LIMITS, find_max_matches=5))
    path = tmp_path / "big.db"
    make_big_table(path, 3000)
    async with browsing(qtbot, tmp_path, path, "big") as pane:
        pane.find_bar.open_bar()
        pane.find_bar.text.setText("row")
        await until(lambda: pane.find_bar.capped)
        assert pane.find_bar.matches == [(r, 1) for r in range(5)]
        assert pane.find_bar.count.text() == "5+ matches (stopped looking)"


async def test_an_inferred_key_is_a_link_marked_as_such_and_followed(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "inferred.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE artist(id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE album(id INTEGER PRIMARY KEY, title TEXT, artist_id INTEGER);
            WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500)
            INSERT INTO artist SELECT i, 'artist ' || i FROM s;
            INSERT INTO album SELECT id, 'album ' || id, 501 - id FROM artist WHERE id <= 50;
            """
        )
    conn.close()
    async with browsing(qtbot, tmp_path, path, "album") as pane:
        column = column_index(pane, "artist_id")
        assert pane.links.links == {column: True}  # inferred, drawn dashed and fainter
        assert pane.links.targets[column] == "artist(id)"
        assert pane.follow_link(9, column)  # album 10 → artist 491
        await until(lambda: pane.table.name == "artist" and pane.view.currentIndex().isValid())  # type: ignore[union-attr]
        await settle(pane)
        current = pane.model.real_row(pane.view.currentIndex().row())
        assert pane.model.row_values(current)[0] == 491  # type: ignore[index]
        pane.go_back()
        await settle(pane)
        assert pane.table.name == "album"  # type: ignore[union-attr]


async def test_a_new_snapshot_clears_the_profile_shown(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        panel = await profiled(pane, "n")
        first = pane.context.database, pane.context.catalog
        async with database_over(path) as (database, catalog):
            pane.context.set_database(database, catalog)  # a reload: the same table, a new generation
            await settle(pane)
            assert pane.table is not None and pane.table.name == "mixed"
            assert panel.cards == {} and panel.heading.text().startswith("Right-click a column header")
            await pane.model.wait_idle()
            pane.context.set_database(*first)
            await settle(pane)


async def test_the_profile_button_opens_the_current_column_and_closes_the_panel(
    qtbot: Any, tmp_path: Path
) -> None:
    path = mixed_database(tmp_path / "mixed.db")
    async with browsing(qtbot, tmp_path, path, "mixed") as pane:
        pane.view.setCurrentIndex(pane.model.index(0, column_index(pane, "n")))
        qtbot.mouseClick(pane.profile_button, Qt.MouseButton.LeftButton)
        assert pane.details.is_open and pane.profile_button.isChecked()
        await until(lambda: complete(pane.profile_panel))
        assert pane.profile_panel.columns == ["n"]
        pane.view.setCurrentIndex(pane.model.index(0, column_index(pane, "v")))  # the profile follows
        await until(lambda: complete(pane.profile_panel) and pane.profile_panel.columns == ["v"])
        qtbot.mouseClick(pane.profile_button, Qt.MouseButton.LeftButton)
        assert not pane.details.is_open and not pane.profile_button.isChecked()
