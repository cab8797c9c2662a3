"""The ER diagram as data (layout without overlaps, an edge per foreign key), its SVG, the readable
schema, and the `erd` command."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.schema.catalog import Catalog, read_catalog
from desktop_app.core.structure.diagram import Diagram, diagram_tables, layout_diagram
from desktop_app.core.structure.diagram_svg import diagram_svg
from desktop_app.core.structure.schema_text import names_read, pretty_sql, schema_entries
from tests.conftest import folder_state
from tests.fixtures import foreign_key_schema

SVG = "{http://www.w3.org/2000/svg}"


def catalog_of(path: Path) -> Catalog:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return read_catalog(conn)


def assert_no_overlaps(diagram: Diagram) -> None:
    boxes = diagram.boxes
    for i, a in enumerate(boxes):
        assert a.width > 0 and a.height > 0
        assert a.x >= 0 and a.x + a.width <= diagram.width and a.y >= 0 and a.y + a.height <= diagram.height
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a.name, b.name)


def declared_edge_count(catalog: Catalog) -> int:
    names = {t.name.lower() for t in diagram_tables(catalog)}
    return sum(
        1 for t in diagram_tables(catalog) for fk in t.foreign_keys if fk.target_table.lower() in names
    )


@pytest.mark.parametrize(
    "relative", ["chinook/Chinook_Sqlite.sqlite", "northwind/northwind.db", "geopackage/gdal_sample.gpkg"]
)
def test_corpus_diagrams_have_every_table_no_overlap_and_an_edge_per_key(corpus: Path, relative: str) -> None:
    catalog = catalog_of(corpus / relative)
    diagram = layout_diagram(catalog)
    assert {b.name for b in diagram.boxes} == {t.name for t in diagram_tables(catalog)}
    assert sum(not e.inferred for e in diagram.edges) == declared_edge_count(catalog)
    assert all(len(e.points) >= 2 for e in diagram.edges)
    assert_no_overlaps(diagram)


def test_chinook_edges_are_its_eleven_foreign_keys(corpus: Path) -> None:
    diagram = layout_diagram(catalog_of(corpus / "chinook" / "Chinook_Sqlite.sqlite"))
    edges = {(e.source, e.target) for e in diagram.edges}
    assert len(diagram.edges) == 11 and ("Employee", "Employee") in edges and ("Track", "Album") in edges
    track = diagram.box("Track")
    assert track is not None
    assert track.lines()[0].startswith("PK") and any(line.startswith("FK") for line in track.lines())


def test_generated_300_tables_lay_out_without_overlaps_and_not_as_one_endless_row(tmp_path: Path) -> None:
    catalog = catalog_of(foreign_key_schema(tmp_path / "many.db"))
    diagram = layout_diagram(catalog)
    assert len(diagram.boxes) == 300
    assert sum(not e.inferred for e in diagram.edges) == declared_edge_count(catalog)
    assert_no_overlaps(diagram)
    assert diagram.width < 4 * diagram.height, "wide layers are wrapped into rows"


def test_inferred_edges_come_from_id_columns_and_can_be_left_out(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE category (id INTEGER PRIMARY KEY);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, category_id INTEGER,"
            " parent_id INTEGER, shop_id INTEGER);"  # no parents / shops table: nothing inferred
            "CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id));"
        )
    catalog = catalog_of(path)
    edges = {(e.source, e.target, e.columns, e.inferred) for e in layout_diagram(catalog).edges}
    assert edges == {
        ("orders", "customers", ("customer_id",), True),
        ("orders", "category", ("category_id",), True),
        ("lines", "orders", ("order_id",), False),
    }
    assert {(e.source, e.target) for e in layout_diagram(catalog, inferred=False).edges} == {
        ("lines", "orders")
    }
    hidden = layout_diagram(catalog, hidden={"orders"})
    assert "orders" not in {b.name for b in hidden.boxes} and hidden.edges == []


def test_boxes_mark_keys_not_null_views_and_virtual_tables(tmp_path: Path) -> None:
    path = tmp_path / "marks.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE p (id INTEGER PRIMARY KEY, k TEXT NOT NULL, g TEXT AS (k || 'x')) STRICT;"
            "CREATE TABLE w (a TEXT PRIMARY KEY, p_ref INTEGER REFERENCES p(id)) WITHOUT ROWID;"
            "CREATE VIEW v AS SELECT * FROM p;"
            "CREATE VIRTUAL TABLE f USING fts5(body);"
        )
    diagram = layout_diagram(catalog_of(path))
    boxes = {b.name: b for b in diagram.boxes}
    assert set(boxes) == {"p", "w", "v", "f"}, "shadow tables of f stay out"
    assert boxes["p"].note == "STRICT" and boxes["w"].note == "WITHOUT ROWID"
    assert boxes["v"].kind == "view" and boxes["f"].title == "f [virtual: fts5]"
    lines = boxes["p"].lines()
    assert lines[0].startswith("PK") and "k TEXT NOT NULL" in lines[1] and "GENERATED" in lines[2]
    assert boxes["w"].lines()[1].startswith("FK")


def test_svg_holds_every_table_and_edge_with_names_escaped(tmp_path: Path) -> None:
    path = tmp_path / "names.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            'CREATE TABLE "a<b>&\'c""" (id INTEGER PRIMARY KEY);'
            'CREATE TABLE "ctl\x01name" (id INTEGER PRIMARY KEY, x INTEGER REFERENCES "a<b>&\'c"""(id));'
        )
    diagram = layout_diagram(catalog_of(path))
    root = ET.fromstring(diagram_svg(diagram).encode())
    names = {g.get("data-name") for g in root.iter(f"{SVG}g")}
    assert names == {"a<b>&'c\"", "ctl\\x01name"}
    assert len([p for p in root.iter(f"{SVG}path") if "edge" in (p.get("class") or "")]) == 1


def test_pretty_sql_lays_out_tables_and_triggers_and_finds_what_they_read() -> None:
    table = pretty_sql("create table t(a int, b text check (b in (1,2)), primary key(a,b)) strict")
    assert table == (
        "create table t (\n    a int,\n    b text check (b in (1,2)),\n    primary key(a,b)\n) strict"
    )
    trigger = pretty_sql(
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT OR REPLACE INTO log VALUES (new.a); "
        "DELETE FROM [old items] WHERE a = 1; END"
    )
    assert trigger.splitlines()[0] == "CREATE TRIGGER x AFTER INSERT ON t"
    assert "\nBEGIN\n    INSERT OR REPLACE INTO log" in trigger and trigger.endswith("\nEND")
    assert names_read(trigger, ["t", "log", "old items", "other"]) == ["t", "log", "old items"]


def test_schema_entries_mark_virtual_shadow_generated_and_automatic_indexes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE p (id INTEGER PRIMARY KEY, k TEXT UNIQUE, g TEXT AS (k || 'x') STORED) STRICT;"
            "CREATE VIRTUAL TABLE f USING fts5(body);"
            "CREATE VIEW v AS SELECT k FROM p JOIN f ON 1;"
        )
    entries = {e.name: e for e in schema_entries(catalog_of(path))}
    assert entries["p"].marks == ["STRICT", "generated column g (stored)"]
    assert entries["f"].kind == "virtual table" and entries["f"].marks == ["virtual table (module fts5)"]
    assert entries["f_data"].hidden and entries["f_data"].kind == "shadow table"
    assert entries["v"].reads == ["f", "p"] or entries["v"].reads == ["p", "f"]
    auto = next(e for e in entries.values() if e.kind == "index")
    assert auto.sql == "" and auto.marks[0].startswith("automatic")


def test_erd_command_writes_svg_and_png_only_where_asked(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    out = tmp_path / "out"
    out.mkdir()
    assert main(["erd", str(source), "--out", str(out / "chinook.svg")]) == 0
    root = ET.parse(out / "chinook.svg").getroot()
    assert {g.get("data-name") for g in root.iter(f"{SVG}g")} == {
        t.name for t in diagram_tables(catalog_of(source))
    }
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "erd", str(source), "--out", str(out / "chinook.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "chinook.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in out.iterdir()) == ["chinook.png", "chinook.svg"]


def test_erd_command_refuses_the_source_and_unknown_formats(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus / "northwind" / "northwind.db"
    before = folder_state(source.parent)
    assert main(["erd", str(source), "--out", str(source) + "-wal"]) == 1
    assert main(["erd", str(source), "--out", str(tmp_path / "x.jpg")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "error: --out must end in .svg or .png."
    assert len(err) == 2 and "Traceback" not in err[0]
    assert folder_state(source.parent) == before and list(tmp_path.iterdir()) == []


def test_a_view_whose_columns_cannot_be_read_says_so_in_its_box(corpus: Path) -> None:
    diagram = layout_diagram(catalog_of(corpus / "northwind" / "northwind.db"))
    box = diagram.box("ProductDetails_V")  # joins on a column Categories does not have
    assert box is not None and box.lines() == ["(its columns could not be read)"]
