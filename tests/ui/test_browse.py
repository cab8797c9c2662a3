"""The Browse pane over real snapshots: lazy paging, sort, filters, copy, cells, and no footprint."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.core.browse.paging import SortKey
from desktop_app.ui.context import AppContext
from desktop_app.ui.models import cell_format
from desktop_app.ui.models.table_model import RawValueRole, WindowedTableModel
from desktop_app.ui.panes.browse.pane import BrowsePane
from tests.conftest import folder_state
from tests.fixtures import database_over, numbers, script_database


@asynccontextmanager
async def browse(qtbot: Any, tmp_path: Path, path: Path) -> AsyncIterator[BrowsePane]:
    """A shown Browse pane over a snapshot of `path`."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = BrowsePane(context)
        qtbot.addWidget(pane)
        pane.resize(900, 500)
        pane.show()
        try:
            yield pane
        finally:
            pane.model.close()
            await pane.model.wait_idle()
            pane.close()


async def settle(pane: BrowsePane, timeout: float = 10.0) -> None:
    """Wait until the count is exact and the (real) rows on screen are loaded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await asyncio.sleep(0.02)
        top = pane.grid.top_row()
        if (
            pane.model.exact
            and not pane.model.busy
            and (pane.model.rowCount() == 0 or pane.model.is_loaded(top))
        ):
            return
    raise AssertionError(f"the grid did not settle: {pane.status.text()}")


def column_values(pane: BrowsePane, column: str) -> list[Any]:
    """Every value of `column` in grid order (all rows must be loaded)."""
    names = [c.name for c in pane.source.columns]  # type: ignore[union-attr]
    index = names.index(column)
    return [pane.model.row_values(r)[index] for r in range(pane.model.rowCount())]  # type: ignore[index]


def make_big_table(path: Path, rows: int) -> None:
    """A rowid table of `rows` rows, generated in SQL."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, label TEXT, amount REAL)")
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
            "INSERT INTO big SELECT i, 'row ' || i, i * 0.25 FROM s",
            (rows,),
        )
    conn.close()


async def test_order_details_of_northwind_browses(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    source = corpus / "northwind" / "northwind.db"
    before_hash = hashlib.sha256(source.read_bytes()).hexdigest()
    before_folder = folder_state(source.parent)
    async with browse(qtbot, tmp_path, source) as pane:
        pane.show_table("Order Details")
        await settle(pane)
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            expected = check.execute('SELECT count(*) FROM "Order Details"').fetchone()[0]
            first = check.execute('SELECT * FROM "Order Details" ORDER BY rowid LIMIT 1').fetchone()
        check.close()
        assert pane.model.rowCount() == expected
        assert pane.picker.currentData() == "Order Details"
        assert pane.model.row_values(0) == tuple(first)
        assert f"rows {expected:,}" in pane.status.text()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before_hash
    assert folder_state(source.parent) == before_folder


async def test_wal_database_shows_eleven_rows(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    folder = corpus / "plaso"
    before = folder_state(folder)
    async with browse(qtbot, tmp_path, folder / "wal_database.db") as pane:
        pane.show_table("MyTable")
        await settle(pane)
        assert pane.model.rowCount() == 11
        assert "NewField" in [c.name for c in pane.source.columns]  # type: ignore[union-attr]
    assert folder_state(folder) == before


async def test_invalid_utf8_cells_show_their_bad_bytes_escaped(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    async with browse(qtbot, tmp_path, corpus / "plaso" / "load_statistics.db") as pane:
        pane.show_table("load_statistics")
        await settle(pane)
        texts = [
            pane.model.data(pane.model.index(r, c))
            for r in range(min(pane.model.rowCount(), 50))
            for c in range(pane.model.columnCount())
        ]
        assert any("\\x" in str(t) for t in texts)  # the bad bytes as \xNN, never hidden
        assert not any("\ufffd" in str(t) for t in texts)


async def test_scrolling_to_the_end_of_a_million_rows_shows_the_last_rowid(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "big.db"
    make_big_table(path, 1_000_000)
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("big")
        await settle(pane)
        assert pane.model.rowCount() == 1_000_000
        bar = pane.view.verticalScrollBar()
        for value in (bar.maximum() // 4, bar.maximum() // 2, bar.maximum()):
            bar.setValue(value)  # a drag: intermediate positions, then the end
            await asyncio.sleep(0)
        await settle(pane)
        last_row = pane.model.rowCount() - 1
        assert pane.model.is_loaded(last_row)
        assert pane.model.data(pane.model.index(last_row, 0)) == "1000000"
        assert pane.model.row_key(last_row) == (1_000_000,)
        # Only pages near the places visited were fetched, never the rows in between.
        assert pane.model.fetches_started < 20
        assert pane.model.loaded_rows <= pane.model.cached_pages * pane.model.page_rows


async def test_sorting_and_filtering_match_the_equivalent_sql(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    async with browse(qtbot, tmp_path, source) as pane:
        pane.show_table("Track")
        await settle(pane)
        pane.set_sort([SortKey("Composer", descending=True), SortKey("Milliseconds")])
        pane.set_filters({"Name": "love*", "Bytes": ">5000000"})
        await settle(pane)
        pane.view.scrollToBottom()
        await settle(pane)
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            expected = [
                r[0]
                for r in check.execute(
                    "SELECT TrackId FROM Track WHERE Name LIKE 'love%' AND Bytes > 5000000 "
                    "ORDER BY Composer DESC, Milliseconds ASC, TrackId"
                )
            ]
            total = check.execute("SELECT count(*) FROM Track").fetchone()[0]
        check.close()
        assert 0 < len(expected) < 500
        assert column_values(pane, "TrackId") == expected
        assert pane.model.headerData(2, Qt.Orientation.Horizontal) is not None
        assert f"filtered from {total:,}" in pane.status.text()
        headers = [
            pane.model.headerData(c, Qt.Orientation.Horizontal) for c in range(pane.model.columnCount())
        ]
        assert "Composer ▼1" in headers and "Milliseconds ▲2" in headers


async def test_without_rowid_compound_key_table_pages_correctly(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "pairs.db"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "pa irs"(a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID')
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
            'INSERT INTO "pa irs" SELECT char(65 + i % 5), i, i FROM s'
        )
        expected = [tuple(r) for r in conn.execute('SELECT a, b FROM "pa irs" ORDER BY a, b')]
    conn.close()
    async with browse(qtbot, tmp_path, path) as pane:
        pane.model.page_rows = 100
        pane.show_table("pa irs")
        await settle(pane)
        seen: list[tuple[Any, ...]] = []
        for start in range(0, 3000, 100):
            pane.scroll_to_row(start + 50)
            await settle(pane)
            seen.extend(pane.model.row_key(r) for r in range(start, start + 100))  # type: ignore[misc]
        assert seen == expected


async def test_repeated_fetch_more_adds_no_duplicate_rows(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "view.db"
    make_big_table(path, 1000)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW v AS SELECT id, label FROM big")
    conn.close()
    async with database_over(path) as (database, _catalog):
        from desktop_app.core.browse.row_sources import QueryRowSource

        model = WindowedTableModel(page_rows=100)
        source = await QueryRowSource.create(database, "SELECT * FROM v;")
        counted = asyncio.Event()
        original_count = source.count

        async def slow_count(cancel: Any) -> int:
            await counted.wait()  # keep the count unknown while fetchMore fires
            return await original_count(cancel)

        source.count = slow_count  # type: ignore[method-assign]
        model.set_source(source)
        for _ in range(30):
            model.fetchMore()
            model.fetchMore()
            await asyncio.sleep(0.01)
        loaded = [model.row_values(r) for r in range(model.rowCount())]
        ids = [row[0] for row in loaded if row is not None]
        assert ids == sorted(set(ids))
        assert ids[: len(ids)] == list(range(1, len(ids) + 1))
        counted.set()
        await model.wait_idle()
        assert model.rowCount() == 1000 and model.exact
        model.close()
        await model.wait_idle()


async def test_slow_rows_show_placeholders_after_a_short_hold(qtbot: Any) -> None:
    from PySide6.QtWidgets import QTableView

    from desktop_app.core.browse.paging import Page
    from desktop_app.core.browse.row_sources import ColumnInfo
    from desktop_app.ui.models.table_model import PLACEHOLDER_GRACE_MS, track_viewport

    release = asyncio.Event()

    class SlowSource:
        def __init__(self) -> None:
            self.columns = [ColumnInfo("n")]

        async def estimate(self) -> int:
            return 100_000

        async def count(self, cancel: Any) -> int:
            return 100_000

        async def prepare(self, cancel: Any, progress: Any = None) -> None:
            return None

        async def fetch(self, start: int, count: int, cancel: Any) -> Page:
            if start > 0:
                await release.wait()
            return Page(start, [(i,) for i in range(start, start + count)], [() for _ in range(count)])

    model = WindowedTableModel(page_rows=100)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    tracker = track_viewport(view, model)
    view.resize(300, 300)
    view.show()
    model.set_source(SlowSource())  # type: ignore[arg-type]
    for _ in range(200):
        await asyncio.sleep(0.01)
        if model.exact and model.is_loaded(0):
            break
    tracker.hold()
    view.scrollTo(model.index(50_000, 0))
    assert not view.viewport().updatesEnabled()  # the old frame stays while the rows load
    assert model.data(model.index(50_000, 0)) == cell_format.PLACEHOLDER
    await asyncio.sleep(PLACEHOLDER_GRACE_MS / 1000 + 0.1)
    assert view.viewport().updatesEnabled()  # too slow: placeholders are shown
    release.set()
    await model.wait_idle()
    assert model.data(model.index(50_000, 0)) == "50000"
    model.close()


async def test_a_jump_to_longer_values_widens_columns_with_one_repaint(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QEvent, QObject

    path = tmp_path / "widening.db"
    columns = [f"c{i}" for i in range(12)]
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE t(id INTEGER PRIMARY KEY, {', '.join(columns)})")
        long_or_short = "CASE WHEN i >= 1500 THEN printf('%.40c', 'w') ELSE 'a' END"
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000) "
            f"INSERT INTO t SELECT i, {', '.join(long_or_short for _ in columns)} FROM s"
        )
    conn.close()

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("t")
        await settle(pane)
        bar = pane.view.horizontalScrollBar()
        narrow = pane.view.columnWidth(1)
        assert bar.maximum() == 0  # twelve narrow columns fit
        pane.tracker._grace.setInterval(60_000)  # no placeholder frame, however slow the machine
        counter = PaintCounter()
        pane.view.viewport().installEventFilter(counter)
        pane.scroll_to_row(1600, select=False)
        await settle(pane)
        await asyncio.sleep(0.1)
        assert pane.view.columnWidth(1) > narrow
        assert bar.maximum() > 0  # the scroll range follows the wider columns
        assert counter.paints == 1  # the rows and the new widths in one paint, not one after the other
        for logical, editor in enumerate(pane.header.editors):
            assert editor.geometry().x() == pane.header.sectionViewportPosition(logical)
            assert editor.width() == pane.header.sectionSize(logical)


async def test_row_numbers_fit_the_largest_row_without_asking_the_model(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    make_big_table(path, 123_456)
    async with browse(qtbot, tmp_path, path) as pane:
        measured: list[int] = []  # vertical sections the model was asked to size
        original = pane.model.headerData

        def counting(section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
            if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.SizeHintRole:
                measured.append(section)
            return original(section, orientation, role)

        pane.model.headerData = counting  # type: ignore[method-assign]
        pane.show_table("big")
        await settle(pane)
        pane.scroll_to_row(123_455, select=False)
        await settle(pane)
        rows = pane.view.verticalHeader()
        assert rows.width() >= rows.fontMetrics().horizontalAdvance("123456")
        assert measured == []  # Qt's own header asks for 200 sections each time the row count changes
        assert pane.model.headerData(123_455, Qt.Orientation.Vertical) == "123456"


async def test_null_is_distinct_from_empty_text_and_numbers_align_right(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "cells.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE c(n, t, b)")
        conn.execute("INSERT INTO c VALUES (NULL, '', x'89504e470d0a1a0a0000'), (42, 'NULL', NULL)")
    conn.close()
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("c")
        await settle(pane)
        model = pane.model
        null, empty, text_null = model.index(0, 0), model.index(0, 1), model.index(1, 1)
        assert model.data(null) == "NULL" and model.data(null, Qt.ItemDataRole.FontRole).italic()
        assert model.data(empty) == ""
        assert model.data(text_null) == "NULL" and model.data(text_null, Qt.ItemDataRole.FontRole) is None
        assert model.data(model.index(1, 0), Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
        assert model.data(model.index(0, 2)).startswith("<BLOB 10 B image/png")
        assert pane.grab().save(str(tmp_path / "cells.png"))


async def test_copy_selection_as_tsv_and_csv_with_headers(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "copy.db"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "it\'s"(a, "b c")')
        conn.execute("INSERT INTO \"it's\" VALUES (1, 'x\ty'), (NULL, 'say \"hi\"'), (3, 'z')")
    conn.close()
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("it's")
        await settle(pane)
        pane.view.selectAll()
        tsv = await pane.copy_selection("\t", headers=False)
        assert tsv == '1\t"x\ty"\n\t"say ""hi"""\n3\tz\n'
        assert QGuiApplication.clipboard().text() == tsv
        pane.set_column_visible(0, False)
        csv_text = await pane.copy_selection(",", headers=True)
        assert csv_text == 'b c\nx\ty\n"say ""hi"""\nz\n'


async def test_show_row_scrolls_to_and_selects_the_row(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    make_big_table(path, 50_000)
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("big")
        await settle(pane)
        pane.set_sort([SortKey("label", descending=True)])
        await settle(pane)
        pane.show_row("big", {"rowid": 12_345})
        for _ in range(200):
            await asyncio.sleep(0.02)
            if pane.view.currentIndex().isValid():
                break
        await settle(pane)
        current = pane.view.currentIndex()
        assert pane.model.row_key(pane.model.real_row(current.row())) == (12_345,)
        assert pane.view.selectionModel().isRowSelected(current.row())


async def test_long_text_opens_whole_in_the_cell_viewer(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "long.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t(doc)")
        conn.execute("INSERT INTO t VALUES (?)", ('{"a": [1, 2], "b": "' + "x" * 9000 + '"}',))
        conn.execute("INSERT INTO t VALUES (x'00ff')")
    conn.close()
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("t")
        await settle(pane)
        assert cell_format.display_text(pane.model.data(pane.model.index(0, 0), RawValueRole)).endswith("…")
        pane.open_cell(pane.model.index(0, 0))
        for _ in range(100):
            await asyncio.sleep(0.02)
            if pane.viewer is not None and pane.viewer.isVisible():
                break
        assert pane.viewer is not None
        assert '"a": [\n' in pane.viewer.shown_text and len(pane.viewer.shown_text) > 9000
        blobs: list[tuple[Any, ...]] = []
        pane.show_blob_requested.connect(lambda *args: blobs.append(args))
        pane.open_cell(pane.model.index(1, 0))
        await asyncio.sleep(0.05)
        assert blobs == [("t", "doc", {"rowid": 2}, b"\x00\xff")]
        pane.viewer.close()


async def test_state_survives_a_reload(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    make_big_table(path, 20_000)
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("big")
        await settle(pane)
        pane.set_sort([SortKey("amount", descending=True)])
        pane.set_filters({"label": "row 1*"})
        await settle(pane)
        pane.scroll_to_row(5000, select=False)
        await settle(pane)
        state = pane.save_state()
        pane.context.set_database(pane.context.database, pane.context.catalog)
        pane.restore_state(state)
        await settle(pane)
        assert pane.save_state() == state
        assert [e.text() for e in pane.header.editors][1] == "row 1*"


async def test_header_clicks_sort_and_typed_filters_apply_after_a_pause(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    async with browse(qtbot, tmp_path, corpus / "chinook" / "Chinook_Sqlite.sqlite") as pane:
        pane.show_table("Album")
        await settle(pane)
        tooltip = pane.model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        assert "AlbumId" in tooltip and "INTEGER" in tooltip and "primary key" in tooltip
        assert "Artist(ArtistId)" in pane.model.headerData(
            2, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
        )

        def click(section: int, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
            x = pane.header.sectionViewportPosition(section) + pane.header.sectionSize(section) // 2
            qtbot.mouseClick(pane.header.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(x, 5))

        click(2)
        click(1, Qt.KeyboardModifier.ControlModifier)
        click(1, Qt.KeyboardModifier.ControlModifier)
        assert pane.sort == [SortKey("ArtistId"), SortKey("Title", descending=True)]
        assert pane.model.headerData(2, Qt.Orientation.Horizontal) == "ArtistId ▲1"
        pane.header.editors[1].setText("the*")
        await asyncio.sleep(0.1)
        assert pane.filters == {}  # still typing
        await asyncio.sleep(0.5)
        assert pane.filters == {"Title": "the*"}
        await settle(pane)
        titles = column_values(pane, "Title")
        assert titles and all(t.lower().startswith("the") for t in titles)
        pane.header.editors[2].setText(">")
        pane.header.apply_now()
        assert pane.header.editors[2].styleSheet() and "Filter not applied" in pane.status.text()
        assert pane.filters == {"Title": "the*"}


@pytest.fixture(autouse=True)
def _clipboard_app() -> None:
    QApplication.instance() or QApplication([])


def test_cells_spell_out_bidi_overrides_and_nul() -> None:
    assert cell_format.display_text("\u202etxt.exe") == "⟨U+202E⟩txt.exe"
    assert cell_format.display_text("a\x00b\nc") == "a␀b⏎c"
    assert cell_format.display_text("مرحبا") == "مرحبا"  # right-to-left text itself is left alone


async def test_columns_are_fitted_once_per_table_and_the_users_widths_are_remembered(
    qtbot: Any, tmp_path: Path
) -> None:
    path = script_database(
        tmp_path / "widths.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT, c TEXT);"
        f"INSERT INTO t (b, c) {numbers(100)} SELECT 'a' || i, 'x' FROM numbers;"
        f"INSERT INTO t (b, c) {numbers(3)} SELECT '{'z' * 60}', 'x' FROM numbers;",
    )
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("t")
        await settle(pane)
        await asyncio.sleep(0.05)
        fitted = [pane.view.columnWidth(c) for c in range(3)]
        pane.set_sort([SortKey("b", descending=True)])  # the widest values come to the top
        await settle(pane)
        pane.set_filters({"b": "z"})
        await settle(pane)
        await asyncio.sleep(0.05)
        assert [pane.view.columnWidth(c) for c in range(3)] == fitted  # the grid does not jump
        pane.header.resizeSection(2, 233)  # the user drags a column wider...
        QTest.mouseRelease(pane.header.viewport(), Qt.MouseButton.LeftButton)  # ...and lets go
        await asyncio.sleep(0.05)
        pane.set_filters({})
        await settle(pane)
        assert pane.view.columnWidth(2) == 233
    async with browse(qtbot, tmp_path, path) as pane:  # the same database another time
        pane.show_table("t")
        await settle(pane)
        await asyncio.sleep(0.05)
        assert pane.view.columnWidth(2) == 233
        assert pane.view.columnWidth(1) == fitted[1]
