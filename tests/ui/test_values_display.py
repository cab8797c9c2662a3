"""Values people can read: timestamps decoded per column (guess, override remembered per database), the
value inspector (raw, time, JSON tree with paths and filters, geometry), numbers and invalid UTF-8."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_app.core.values.geometry import decode_geometry
from desktop_app.ui.models import cell_format
from desktop_app.ui.panes.browse.pane import BrowsePane
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_browse import browse, settle

_TOOLTIP = Qt.ItemDataRole.ToolTipRole


def _column(pane: BrowsePane, name: str) -> int:
    assert pane.source is not None
    return [c.name for c in pane.source.columns].index(name)


def _utc(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds").replace(
        "+00:00", "Z"
    )


def _database(path: Path, create: str, insert: str, rows: list[tuple[Any, ...]]) -> Path:
    """A new database at `path`: one table made by `create`, filled with `rows` through `insert`."""
    conn = sqlite3.connect(path)
    conn.execute(create)
    conn.executemany(insert, rows)
    conn.commit()
    conn.close()
    return path


def _first(path: Path, sql: str) -> Any:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute(sql).fetchone()
    finally:
        conn.close()


async def _show(pane: BrowsePane, table: str) -> None:
    pane.show_table(table)
    await settle(pane)


async def _inspect(pane: BrowsePane, row: int, column: int) -> None:
    pane.show_details(True)
    pane.view.setCurrentIndex(pane.model.index(row, column))
    await pane.inspect.wait_idle()


@pytest.mark.parametrize(
    ("folder", "file", "table", "column", "encoding", "to_utc"),
    [
        (
            "plaso",
            "places.sqlite",
            "moz_places",
            "last_visit_date",
            "prtime",
            lambda v: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=v),
        ),
        (
            "plaso",
            "History",
            "urls",
            "last_visit_time",
            "webkit_us",
            lambda v: datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=v),
        ),
        (
            "northwind",
            "northwind.db",
            "Orders",
            "OrderDate",
            "iso8601",
            lambda v: datetime.fromisoformat(v).replace(tzinfo=UTC),
        ),
    ],
)
async def test_corpus_timestamps_are_guessed_and_decoded_in_tooltip_and_inspector(
    qtbot: Any,
    tmp_path: Path,
    corpus: Path,
    folder: str,
    file: str,
    table: str,
    column: str,
    encoding: str,
    to_utc: Any,
) -> None:
    path = corpus / folder / file
    before = folder_state(path.parent)
    (stored,) = _first(path, f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 1')
    expected = _utc(to_utc(stored))
    async with browse(qtbot, tmp_path, path) as pane:
        await _show(pane, table)
        position = _column(pane, column)
        # The guess from a sample of the whole column (a job) may follow the first rows' guess.
        await wait_for(lambda: pane.model.time_encoding(position) is not None, message="the time guess")
        assert pane.model.time_encoding(position).name == encoding  # type: ignore[union-attr]
        row = next(r for r in range(pane.model.rowCount()) if pane.model.row_values(r)[position] == stored)  # type: ignore[index]
        tooltip = pane.model.data(pane.model.index(row, position), _TOOLTIP)
        assert tooltip.startswith(f"{expected}  (UTC)")
        assert pane.model.data(pane.model.index(row, position)) == cell_format.display_text(
            stored
        )  # as stored
        await _inspect(pane, row, position)
        assert pane.inspector.time.text().startswith(f"{expected}  (UTC)")
        assert pane.inspector.encoding.currentData() is None  # automatic
    assert folder_state(path.parent) == before


COCOA = _utc(datetime(2001, 1, 1, tzinfo=UTC) + timedelta(seconds=1_600_000_000))


async def test_time_override_and_show_as_time_are_remembered_per_database_across_windows(
    qtbot: Any, tmp_path: Path
) -> None:
    path = _database(
        tmp_path / "events.db",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, counter INTEGER)",
        "INSERT INTO events (counter) VALUES (?)",
        [(1_600_000_000 + i,) for i in range(20)],
    )
    other = tmp_path / "other.db"
    other.write_bytes(path.read_bytes())

    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        pane = window.panes.browse
        await _show(pane, "events")
        assert pane.model.time_encoding(1).name == "unix_s"  # type: ignore[union-attr]  # the guess
        assert pane.model.data(pane.model.index(0, 1)) == "1600000000"  # as stored until asked
        pane.times.choose("counter", "cocoa_s")
        pane.times.show_as_time("counter", True)
        assert pane.model.data(pane.model.index(0, 1)) == COCOA
    finally:
        await close_window(window)

    window = make_window(tmp_path)  # the same settings file: a later session
    try:
        await open_in(window, path)
        pane = window.panes.browse
        await _show(pane, "events")
        assert pane.model.time_overrides == {"counter": "cocoa_s"}
        assert pane.model.data(pane.model.index(0, 1)) == COCOA
    finally:
        await close_window(window)

    window = make_window(tmp_path)  # another database (the same table): its own choices, none
    try:
        await open_in(window, other)
        pane = window.panes.browse
        await _show(pane, "events")
        assert pane.model.time_encoding(1).name == "unix_s"  # type: ignore[union-attr]
        assert pane.model.data(pane.model.index(0, 1)) == "1600000000"
        tooltip = pane.model.data(pane.model.index(0, 1), _TOOLTIP)
        assert tooltip.startswith("2020-09-13T12:26:40Z  (UTC)\nUnix seconds")
    finally:
        await close_window(window)


async def test_not_a_timestamp_override_stops_the_guess(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    async with browse(qtbot, tmp_path, corpus / "plaso" / "History") as pane:
        await _show(pane, "urls")
        position = _column(pane, "last_visit_time")
        pane.times.choose("last_visit_time", "")
        assert pane.model.time_encoding(position) is None
        assert pane.model.guessed_time_encoding(position).name == "webkit_us"  # type: ignore[union-attr]
        await _inspect(pane, 0, position)
        assert pane.inspector.encoding.currentText() == "Not a timestamp"
        assert pane.model.data(pane.model.index(0, position), _TOOLTIP) is None


DOCS = [
    {"a": {"b": [1, 2, {"c": "x"}]}, "tag": "red", "n": 1.5, "ok": True, "none": None},
    {"a": {"b": [1, 2, {"c": "y"}]}, "tag": "blue", "n": 2, "ok": False},
    {"a": {"b": [1, 2, {"c": "x"}]}, "tag": "red", "n": 1.5, "ok": True, "none": None},
    {"a": {"b": [3]}, "tag": "red", "odd key": {"q": 1}},
]


def _json_database(path: Path) -> Path:
    rows = [(json.dumps(d),) for d in DOCS] + [("not json",)]
    return _database(
        path,
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, doc TEXT)",
        "INSERT INTO docs (doc) VALUES (?)",
        rows,
    )


def _one_document(path: Path, document: Any) -> Path:
    """A database whose table `t` holds `document` as JSON text in its one row."""
    return _database(path, "CREATE TABLE t (doc TEXT)", "INSERT INTO t VALUES (?)", [(json.dumps(document),)])


async def _inspect_document(pane: BrowsePane) -> None:
    await _show(pane, "t")
    await _inspect(pane, 0, 0)


def _select_path(pane: BrowsePane, keys: list[str | int]) -> None:
    """Select the JSON tree node reached from the root through `keys` (expanding on the way)."""
    model = pane.inspector.json_model
    assert model is not None
    index = model.index(0, 0)
    for key in keys:
        pane.inspector.tree.expand(index)
        rows = [model.index(r, 0, index) for r in range(model.rowCount(index))]
        index = next(i for i in rows if model.node(i).key == key)  # type: ignore[union-attr]
    pane.inspector.tree.setCurrentIndex(index)


@pytest.mark.parametrize(
    ("keys", "path", "value"),
    [
        (["a", "b", 2, "c"], "$.a.b[2].c", "x"),
        (["n"], "$.n", 1.5),
        (["ok"], "$.ok", True),
        (["none"], "$.none", None),
        (["a", "b", 2], "$.a.b[2]", {"c": "x"}),
    ],
)
async def test_json_tree_copies_exact_paths_and_filters_give_the_rows_direct_sql_gives(
    qtbot: Any, tmp_path: Path, keys: list[str | int], path: str, value: Any
) -> None:
    database = _json_database(tmp_path / "docs.db")
    async with browse(qtbot, tmp_path, database) as pane:
        await _show(pane, "docs")
        await _inspect(pane, 0, 1)
        assert pane.inspector.json_box.isVisibleTo(pane)
        _select_path(pane, keys)
        pane.inspector.copy_path()
        assert QGuiApplication.clipboard().text() == path
        pane.inspector.request_filter()
        assert pane.filters == {"doc": pane.header.editors[1].text()}  # shown in the column's filter box
        await settle(pane)
        shown = [pane.model.row_values(r)[0] for r in range(pane.model.rowCount())]  # type: ignore[index]
    conn = sqlite3.connect(database)
    if value is None:
        where, params = "json_type(doc, ?) = 'null'", (path,)
    else:
        bound = int(value) if isinstance(value, bool) else json.dumps(value, separators=(",", ":"))
        bound = value if isinstance(value, str | float) else bound
        where, params = "json_extract(doc, ?) = ?", (path, bound)
    expected = [r[0] for r in conn.execute(f"SELECT id FROM docs WHERE json_valid(doc) AND {where}", params)]
    conn.close()
    assert shown == expected and expected


async def test_a_key_holding_a_quote_has_no_path_and_cannot_be_filtered(qtbot: Any, tmp_path: Path) -> None:
    database = _one_document(tmp_path / "quote.db", {'say "hi"': 1, "odd key": 2})
    async with browse(qtbot, tmp_path, database) as pane:
        await _inspect_document(pane)
        _select_path(pane, ["odd key"])
        assert pane.inspector.path.text() == '$."odd key"' and pane.inspector.filter_button.isEnabled()
        _select_path(pane, ['say "hi"'])
        assert (
            not pane.inspector.filter_button.isEnabled() and not pane.inspector.copy_path_button.isEnabled()
        )


async def test_geopackage_geometry_shows_as_wkt_with_type_and_bounds(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    path = corpus / "geopackage" / "gdal_sample.gpkg"
    before = folder_state(path.parent)
    (blob,) = _first(path, "SELECT geom FROM polygon2d WHERE fid = 1")
    async with browse(qtbot, tmp_path, path) as pane:
        await _show(pane, "polygon2d")
        await _inspect(pane, 0, _column(pane, "geom"))
        assert pane.inspector.geometry_box.isVisibleTo(pane)
        assert pane.inspector.wkt.toPlainText() == decode_geometry(blob).wkt  # type: ignore[union-attr]
        assert pane.inspector.wkt.toPlainText().startswith("POLYGON ((0 0, 0 10, 10 10")
        info = pane.inspector.geometry_info.text()
        assert "POLYGON · geopackage · SRID 32631" in info and "x 0 … 10, y 0 … 10" in info
        assert not pane.inspector.json_box.isVisibleTo(pane)
    assert folder_state(path.parent) == before


async def test_geopackage_geometry_cells_show_a_short_decoded_form_and_wkt_with_bounds_on_hover(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    path = corpus / "geopackage" / "gdal_sample.gpkg"
    before = folder_state(path.parent)
    async with browse(qtbot, tmp_path, path) as pane:
        await _show(pane, "point2d")
        cell = pane.model.index(0, _column(pane, "geom"))
        assert cell.data() == "POINT (1 2)"
        await _show(pane, "polygon2d")
        cell = pane.model.index(0, _column(pane, "geom"))
        assert cell.data() == "POLYGON … (10 points)"  # its WKT is too long for a cell
        tooltip = cell.data(Qt.ItemDataRole.ToolTipRole)
        assert tooltip.startswith("POLYGON · geopackage · SRID 32631\nbounds: x 0 … 10, y 0 … 10\n")
        assert tooltip.endswith("POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (1 1, 1 9, 9 9, 9 1, 1 1))")
    assert folder_state(path.parent) == before


async def test_invalid_utf8_is_escaped_in_the_inspector(qtbot: Any, tmp_path: Path, corpus: Path) -> None:
    async with browse(qtbot, tmp_path, corpus / "plaso" / "load_statistics.db") as pane:
        await _show(pane, "load_statistics")
        position = _column(pane, "resource_url_hash")
        await _inspect(pane, 0, position)
        assert "\\x" in pane.inspector.raw.toPlainText() and "\ufffd" not in pane.inspector.raw.toPlainText()
        assert "not valid UTF-8" in pane.inspector.kind.text()


def test_numbers_show_shortest_exact_form_and_the_view_options() -> None:
    saved = (cell_format.NUMBERS.full_precision, cell_format.NUMBERS.thousands)
    try:
        cell_format.NUMBERS.full_precision = cell_format.NUMBERS.thousands = False
        assert cell_format.display_text(482992.2) == "482992.2"
        assert cell_format.display_text(482992.2000000001) == "482992.2000000001"  # another double: kept
        assert cell_format.display_text(1234567) == "1234567" and cell_format.display_text(1) == "1"
        cell_format.NUMBERS.thousands = True
        assert cell_format.display_text(482992.2) == "482,992.2"
        assert cell_format.display_text(1234567) == "1,234,567"
        cell_format.NUMBERS.full_precision = True
        assert cell_format.display_text(482992.2) == "482,992.20000000001"
    finally:
        cell_format.NUMBERS.full_precision, cell_format.NUMBERS.thousands = saved


async def test_number_view_options_are_remembered(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        window.number_actions["thousands"].setChecked(True)
        assert cell_format.display_text(1234.5) == "1,234.5"
    finally:
        window.number_actions["thousands"].setChecked(False)
        await close_window(window)
    window = make_window(tmp_path)
    try:
        assert not window.number_actions["thousands"].isChecked()
        window.number_actions["full_precision"].setChecked(True)
    finally:
        await close_window(window)
    window = make_window(tmp_path)
    try:
        assert window.number_actions["full_precision"].isChecked() and cell_format.NUMBERS.full_precision
        window.number_actions["full_precision"].setChecked(False)
    finally:
        await close_window(window)
    await wait_for(lambda: True)


async def test_sql_results_inspector_decodes_times_and_remembers_the_choice_per_database(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    from tests.ui.test_sql_pane import run, sql_pane

    path = corpus / "plaso" / "History"
    (stored,) = _first(path, "SELECT last_visit_time FROM urls ORDER BY id LIMIT 1")
    expected = _utc(datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=stored))
    async with sql_pane(qtbot, tmp_path, path) as pane:
        (tab,) = await run(pane, "SELECT id, last_visit_time, '{\"a\": [1, 2]}' AS doc FROM urls ORDER BY id")
        await wait_for(lambda: tab.model.is_loaded(0), message="the first rows")
        assert tab.model.time_encoding(1).name == "webkit_us"  # type: ignore[union-attr]  # first rows' guess
        assert tab.model.data(tab.model.index(0, 1), _TOOLTIP).startswith(f"{expected}  (UTC)")
        tab.show_inspector(True)
        assert tab.inspector_open
        tab.view.setCurrentIndex(tab.model.index(0, 1))
        await tab.inspect.wait_idle()
        assert tab.inspector.time.text().startswith(expected)
        tab.view.setCurrentIndex(tab.model.index(0, 2))
        assert tab.inspector.json_box.isVisibleTo(tab) and not tab.inspector.filter_button.isVisibleTo(tab)
        tab.times.choose("last_visit_time", "")  # not a timestamp: remembered for this database's results
        (again,) = await run(pane, "SELECT id, last_visit_time FROM urls ORDER BY id")
        await wait_for(lambda: again.model.is_loaded(0), message="the first rows")
        assert again.model.time_encoding(1) is None
        assert again.model.time_overrides == {"last_visit_time": ""}


async def test_header_menu_offers_show_as_time_and_every_encoding(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    from PySide6.QtWidgets import QMenu

    async with browse(qtbot, tmp_path, corpus / "plaso" / "History") as pane:
        await _show(pane, "urls")
        position = _column(pane, "last_visit_time")
        menu = QMenu(pane)
        pane.times.add_to_menu(menu, position)
        show = next(a for a in menu.actions() if a.text() == "Show as time")
        assert show.isEnabled() and not show.isChecked()
        submenu = next(a.menu() for a in menu.actions() if a.text() == "Interpret as")
        labels = [a.text() for a in submenu.actions() if not a.isSeparator()]
        assert labels[0] == "Automatic (Chrome/WebKit (µs since 1601))" and labels[-1] == "Not a timestamp"
        assert len(labels) == 13  # automatic, 11 encodings, not a timestamp
        next(a for a in submenu.actions() if a.text() == "Windows FILETIME (100 ns since 1601)").trigger()
        assert pane.model.time_encoding(position).name == "filetime"  # type: ignore[union-attr]
        show.trigger()
        assert pane.model.time_shown(position)


async def test_json_tree_builds_members_only_when_expanded(qtbot: Any, tmp_path: Path) -> None:
    database = _one_document(tmp_path / "wide.db", {f"k{i}": {"inner": list(range(50))} for i in range(500)})
    async with browse(qtbot, tmp_path, database) as pane:
        await _inspect_document(pane)
        model = pane.inspector.json_model
        assert model is not None and model.rowCount(model.index(0, 0)) == 500
        root = model.root
        assert root._children is not None and all(child._children is None for child in root.children)
        _select_path(pane, ["k7", "inner", 3])
        assert pane.inspector.path.text() == "$.k7.inner[3]"
        assert sum(child._children is not None for child in root.children) == 1
