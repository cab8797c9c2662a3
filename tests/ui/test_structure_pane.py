"""The Structure pane over real snapshots: the ER diagram, its exports, health checks and space.

Screenshots are saved under tmp_path; with STRUCTURE_SHOTS set to a folder, copies go there too (for a
person to look at them).
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt

from desktop_app.core.progress import CancelToken
from desktop_app.core.structure.diagram import diagram_tables
from desktop_app.core.structure.space import read_space
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.sql.results import PlanView
from desktop_app.ui.panes.structure.pane import HEALTHY_WORDS, StructurePane
from tests.conftest import CORPUS, folder_state
from tests.core.test_structure_health import make_index_mismatch
from tests.fixtures import database_over, foreign_key_schema
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.helpers import shot as save_shot
from tests.ui.test_sql_pane import sql_pane
from tests.ui.test_sql_pane import tabs as sql_tabs

CHINOOK = CORPUS / "chinook" / "Chinook_Sqlite.sqlite"
NORTHWIND = CORPUS / "northwind" / "northwind.db"
GEOPACKAGE = CORPUS / "geopackage" / "gdal_sample.gpkg"


def shot(widget: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot of `widget` under tmp_path (and in $STRUCTURE_SHOTS when set)."""
    return save_shot(widget, tmp_path, name, "STRUCTURE_SHOTS")


@asynccontextmanager
async def pane_over(
    qtbot: Any, path: Path, tmp_path: Path, size: tuple[int, int] = (1024, 600)
) -> AsyncIterator[StructurePane]:
    """A shown Structure pane over a snapshot of `path`, with its diagram, schema and facts read."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = StructurePane(context)
        qtbot.addWidget(pane)
        pane.resize(*size)
        pane.show()
        await wait_for(
            lambda: pane.diagram is not None and pane.facts is not None and not pane.busy, message="structure"
        )
        try:
            yield pane
        finally:
            context.set_database(None, None)
            pane.close()


def declared_keys(pane: StructurePane) -> int:
    """Foreign keys of the shown tables whose parent is shown too."""
    catalog = pane.context.catalog
    assert catalog is not None
    shown = {t.name.lower() for t in diagram_tables(catalog)} - {n.lower() for n in pane.hidden}
    return sum(
        1
        for t in diagram_tables(catalog)
        if t.name.lower() in shown
        for fk in t.foreign_keys
        if fk.target_table.lower() in shown
    )


@pytest.mark.parametrize("name", ["chinook", "northwind", "geopackage", "generated300"])
async def test_diagram_draws_every_table_and_one_edge_per_foreign_key(
    qtbot: Any, tmp_path: Path, name: str
) -> None:
    path = {"chinook": CHINOOK, "northwind": NORTHWIND, "geopackage": GEOPACKAGE}.get(name)
    if path is None:
        path = foreign_key_schema(tmp_path / "generated300.db", extra_column="v{i} REAL")
    elif not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    async with pane_over(qtbot, path, tmp_path) as pane:
        catalog = pane.context.catalog
        assert catalog is not None
        assert set(pane.view.table_items) == {t.name for t in diagram_tables(catalog)}
        declared = [e for e in pane.diagram.edges if not e.inferred]  # type: ignore[union-attr]
        assert len(declared) == declared_keys(pane)
        top_level = [item for item in pane.view.scene().items() if item.parentItem() is None]
        assert len(top_level) == len(pane.view.table_items) + len(pane.diagram.edges)  # type: ignore[union-attr]
        shot(pane, tmp_path, f"structure-{name}-1024x600.png")
        pane.resize(1800, 1100)
        pane.view.fit()
        shot(pane, tmp_path, f"structure-{name}-large.png")
        pane.view.resetTransform()
        pane.view.centerOn(pane.view.table_items[sorted(pane.view.table_items)[0]])
        shot(pane, tmp_path, f"structure-{name}-actual-size.png")


async def test_hiding_a_table_and_inferred_links_relayout_without_them(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);"  # no declared key
            "CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id));"
        )
    async with pane_over(qtbot, path, tmp_path) as pane:
        edges = {(e.source, e.target, e.inferred) for e in pane.diagram.edges}  # type: ignore[union-attr]
        assert edges == {("orders", "customers", True), ("lines", "orders", False)}
        pane.inferred_box.setChecked(False)
        await wait_for(lambda: not pane.busy and len(pane.diagram.edges) == 1, message="relayout")  # type: ignore[union-attr]
        pane.set_shown("orders", False)
        await wait_for(lambda: not pane.busy and "orders" not in pane.view.table_items, message="hidden")
        assert set(pane.view.table_items) == {"customers", "lines"} and pane.diagram.edges == []  # type: ignore[union-attr]


async def test_svg_and_png_exports_hold_every_table_and_write_only_the_chosen_file(
    qtbot: Any, tmp_path: Path
) -> None:
    if not NORTHWIND.exists():
        pytest.skip("corpus missing")
    out = tmp_path / "out"
    out.mkdir()
    async with pane_over(qtbot, NORTHWIND, tmp_path) as pane:
        assert pane.export_diagram(out / "northwind.svg", "svg")
        texts = {el.text or "" for el in ET.parse(out / "northwind.svg").iter() if el.tag.endswith("text")}
        for name in pane.view.table_items:
            assert any(text.startswith(name) for text in texts), name
        assert pane.export_diagram(out / "northwind.png", "png")
        assert (out / "northwind.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert sorted(p.name for p in out.iterdir()) == ["northwind.png", "northwind.svg"]
        before = folder_state(NORTHWIND.parent)
        assert not pane.export_diagram(NORTHWIND, "svg")
        assert "database" in pane.diagram_note.text().lower() or "source" in pane.diagram_note.text().lower()
        assert folder_state(NORTHWIND.parent) == before


async def test_clicking_a_table_in_the_diagram_opens_it_in_browse(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    window = make_window(tmp_path)
    qtbot.addWidget(window)
    try:
        await open_in(window, CHINOOK)
        pane = window.panes["structure"]
        assert isinstance(pane, StructurePane)
        window.show_pane(pane)
        await wait_for(lambda: pane.diagram is not None and not pane.busy, message="diagram")
        pane.view.centerOn(pane.view.table_items["Album"])
        point = pane.view.view_point_of("Album")
        assert point is not None
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        browse = window.panes["browse"]
        await wait_for(lambda: browse.table is not None and browse.table.name == "Album", message="Browse")  # type: ignore[attr-defined]
        assert window.tabs.currentWidget() is browse
    finally:
        await close_window(window)


async def test_health_finds_a_damaged_index_and_links_it_to_its_row(qtbot: Any, tmp_path: Path) -> None:
    path = make_index_mismatch(tmp_path / "damaged.db")
    async with pane_over(qtbot, path, tmp_path) as pane:
        pane.tabs.setCurrentWidget(pane.health_view)
        pane.run_health("full")
        await wait_for(lambda: not pane.busy, message="integrity check")
        view = pane.health_view
        assert view.table.rowCount() >= 1
        assert view.table.item(0, 0).text() == "row 1 missing from index i1"
        assert "damaged" in view.summary.text()
        asked: list[tuple[str, object]] = []
        pane.open_row_requested.connect(lambda table, key: asked.append((table, key)))
        view.table.cellDoubleClicked.emit(0, 0)
        assert asked == [("t", {"rowid": 1})]
        shot(pane, tmp_path, "structure-health-damaged.png")


async def test_health_of_an_intact_file_says_so_plainly(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    async with pane_over(qtbot, CHINOOK, tmp_path) as pane:
        pane.tabs.setCurrentWidget(pane.health_view)
        pane.run_health("quick")
        await wait_for(lambda: not pane.busy, message="quick check")
        assert pane.health_view.summary.text().startswith(HEALTHY_WORDS)
        assert "Every foreign key points at an existing row." in pane.health_view.summary.text()
        assert pane.health_view.table.rowCount() == 0
        shot(pane, tmp_path, "structure-health-chinook.png")


async def test_space_figures_are_the_cores(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    async with pane_over(qtbot, CHINOOK, tmp_path) as pane:
        pane.tabs.setCurrentWidget(pane.space_view)
        pane.measure_space()
        await wait_for(lambda: not pane.busy, message="space")
        table = pane.space_view.table
        shown = {
            table.item(r, 0).text(): (int(table.item(r, 3).text()), int(table.item(r, 4).text()))
            for r in range(table.rowCount())
        }
        async with database_over(CHINOOK) as (database, catalog):
            report = await database.run_sync(lambda conn: read_space(conn, CancelToken(), catalog=catalog))
        assert shown == {o.name: (o.pages, o.bytes) for o in report.objects}
        assert [
            table.item(r, 4).data(Qt.ItemDataRole.DisplayRole) for r in range(table.rowCount())
        ] == sorted((o.bytes for o in report.objects), reverse=True)
        shot(pane, tmp_path, "structure-space-chinook.png")


async def test_schema_and_facts_are_readable(qtbot: Any, tmp_path: Path) -> None:
    if not GEOPACKAGE.exists():
        pytest.skip("corpus missing")
    async with pane_over(qtbot, GEOPACKAGE, tmp_path) as pane:
        assert pane.facts_view.rows["Created by"].startswith("GeoPackage")
        pane.tabs.setCurrentWidget(pane.facts_view)
        shot(pane, tmp_path, "structure-facts-geopackage.png")
        pane.tabs.setCurrentWidget(pane.schema_view)
        virtual = next(e for e in pane.entries if e.kind == "virtual table")
        assert pane.schema_view.select(virtual.name)
        assert "virtual table (module rtree)" in pane.schema_view.marks.text()
        trigger = next(e for e in pane.entries if e.kind == "trigger")
        assert pane.schema_view.select(trigger.name)
        assert "reads: " in pane.schema_view.marks.text()
        assert "\nBEGIN\n" in pane.schema_view.text.toPlainText()
        shot(pane, tmp_path, "structure-schema-geopackage.png")


async def test_query_plan_flags_big_full_scans_and_sorts_and_names_the_index(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "plan.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER, v TEXT); CREATE INDEX big_k ON big(k);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO big SELECT i, i % 97, 'x' FROM n;"
        )
    async with sql_pane(qtbot, tmp_path, path) as pane:
        pane.set_sql("SELECT v FROM big WHERE v LIKE 'x%' ORDER BY v")
        assert pane.explain() is not None
        await wait_for(lambda: not pane.running, message="explain")
        view = sql_tabs(pane)[0].custom_view
        assert isinstance(view, PlanView)
        flagged = dict(view.flagged())
        assert flagged["SCAN big"] == "full scan of ≈ 20,000 rows"
        assert flagged["USE TEMP B-TREE FOR ORDER BY"] == "temporary b-tree (a sort)"
        scan = view.topLevelItem(0)
        assert scan.background(0).color().name() == "#fde2e2"  # big: over LIMITS.plan_big_scan_rows
        shot(pane, tmp_path, "structure-plan-flags.png")
        pane.set_sql("SELECT v FROM big WHERE k = 3")
        pane.explain()
        await wait_for(lambda: not pane.running, message="explain with an index")
        view = sql_tabs(pane)[0].custom_view
        assert isinstance(view, PlanView) and view.flagged() == []
        assert view.topLevelItem(0).text(2) == "big_k"


async def test_stop_ends_a_running_check_and_says_nothing_was_found(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "rows.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); CREATE INDEX tb ON t(b);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) "
            "INSERT INTO t SELECT i, printf('%08d', i) FROM n;"
        )
    async with pane_over(qtbot, path, tmp_path) as pane:
        job = pane.run_health("full")
        assert job is not None and pane.health_view.stop_button.isEnabled()
        pane.health_view.stop_button.click()
        await wait_for(lambda: job.done, message="the stopped check to end")
        assert not pane.busy and pane.health_view.full_button.isEnabled()
        assert pane.health_view.summary.text() == "Stopped before it finished: nothing was found or changed."
        assert pane.health_view.table.rowCount() == 0


async def test_left_out_tables_and_tab_come_back_after_a_reload(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    async with pane_over(qtbot, CHINOOK, tmp_path) as pane:
        pane.set_shown("Genre", False)
        pane.tabs.setCurrentWidget(pane.schema_view)
        state = pane.save_state()
        assert state == {"tab": 1, "hidden": ["Genre"]}
        pane.context.set_database(pane.context.database, pane.context.catalog)  # what a reload does
        pane.restore_state(state)
        await wait_for(lambda: pane.diagram is not None and not pane.busy, message="relayout")
        assert "Genre" not in pane.view.table_items and len(pane.view.table_items) == 10
        assert pane.tabs.currentWidget() is pane.schema_view
