"""Issue 21 figure: how long the ER diagram's layout (grandalf, in the core) takes for many tables.

`python -m tests.bench.bench_diagram [TABLES]` (default 300). Generated schema: hubs with many
children, chains, and tables related to nothing. Measured: reading the catalog, the layout (which the
pane runs in a worker thread), the SVG text, and laying out every CREATE statement for reading.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import closing

from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.structure.diagram import layout_diagram
from desktop_app.core.structure.diagram_svg import diagram_svg
from desktop_app.core.structure.schema_text import pretty_sql, schema_entries
from tests.bench.common import Figure, bench_folder
from tests.fixtures import foreign_key_schema

DEFAULT_TABLES = 300


def make_schema(tables: int) -> str:
    """A database of `tables` tables with foreign keys (built once per size, in the bench folder)."""
    path = bench_folder() / f"diagram-{tables}-tables.db"
    if path.exists():
        return str(path)
    foreign_key_schema(path, tables, width=4, extra_column="created TEXT")
    return str(path)


def _timed(call: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()  # type: ignore[operator]
    return time.perf_counter() - start, result


def run(tables: int = DEFAULT_TABLES) -> list[Figure]:
    """Layout, SVG and schema figures for a generated schema of `tables` tables."""
    with closing(sqlite3.connect(make_schema(tables))) as conn:
        read_s, catalog = _timed(lambda: read_catalog(conn))
    layout_s, diagram = _timed(lambda: layout_diagram(catalog))
    svg_s, _svg = _timed(lambda: diagram_svg(diagram))
    entries_s, entries = _timed(lambda: schema_entries(catalog))
    pretty_s, _ = _timed(lambda: [pretty_sql(e.sql) for e in entries])
    return [
        Figure(f"{tables} tables: read the catalog", read_s),
        Figure(f"{tables} tables: ER diagram layout (worker thread)", layout_s, target="≤ 2 s"),
        Figure(f"{tables} tables: SVG text", svg_s),
        Figure(f"{tables} tables: schema entries (marks, what views/triggers read)", entries_s),
        Figure(f"{tables} tables: every CREATE laid out (sqlparse)", pretty_s),
    ]


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TABLES):
        print(f"{figure.figure}: {figure.value:.3f} {figure.unit}")
