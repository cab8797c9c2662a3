"""Where a database's size goes: pages and bytes per table and index, from SQLite's `dbstat` table."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from desktop_app.core.errors import UserError
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import SCHEMA_TABLE_NAMES, Catalog, TableKind
from desktop_app.core.sqlite.interrupt import cancellable

#: Rows of `dbstat` (one a page) between two progress reports and cancel checks from Python.
_REPORT_EVERY = 4096


class SpaceUnavailable(UserError):
    """This SQLite was built without the `dbstat` virtual table."""


@dataclass
class ObjectSpace:
    """The pages of one b-tree (a table, an index, the schema) and how full they are."""

    name: str
    kind: str  #: "table", "index", "schema" (the schema table), "shadow", "internal" or "unknown"
    table: str  #: the table an index belongs to (the name itself for a table)
    pages: int = 0
    bytes: int = 0  #: pages × page size
    leaf_pages: int = 0
    interior_pages: int = 0
    overflow_pages: int = 0  #: pages holding the part of a large value that does not fit its cell
    payload_bytes: int = 0  #: bytes of stored content (keys and values)
    unused_bytes: int = 0  #: free bytes inside these pages
    cells: int = 0


@dataclass
class SpaceReport:
    """Space per b-tree, largest first, with the totals of every page `dbstat` lists and the free list."""

    objects: list[ObjectSpace]
    page_size: int
    page_count: int  #: pages in the database file
    freelist_pages: int  #: pages on the free list (unused, kept for reuse)
    totals: ObjectSpace = field(default_factory=lambda: ObjectSpace("(all)", "total", ""))

    @property
    def other_pages(self) -> int:
        """Pages neither in a b-tree nor free: the lock-byte page and pointer-map pages (auto_vacuum)."""
        return self.page_count - self.totals.pages - self.freelist_pages


def read_space(
    conn: sqlite3.Connection,
    cancel: CancelToken,
    progress: ProgressCallback = ignore_progress,
    *,
    catalog: Catalog | None = None,
    schema: str = "main",
) -> SpaceReport:
    """Walk `dbstat` once (one row a page) and add up each b-tree's pages, overflow and unused bytes.

    Reads every page of the database (seconds for gigabytes); `progress` counts pages against the page
    count, and `cancel` stops it. Raises `SpaceUnavailable` when this SQLite has no `dbstat`.
    """
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
    freelist = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    kinds = _kinds(catalog)
    by_name: dict[str, ObjectSpace] = {}
    totals = ObjectSpace("(all)", "total", "")
    label = "Measuring space…"
    progress(Progress(0, page_count, label))
    try:
        with cancellable(conn, cancel):
            cursor = conn.execute(
                "SELECT name, pagetype, pgsize, payload, unused, ncell FROM dbstat(?)", (schema,)
            )
            for done, (name, pagetype, pgsize, payload, unused, ncell) in enumerate(cursor, 1):
                entry = by_name.get(name)
                if entry is None:
                    kind, table = kinds.get(name, ("unknown", name))
                    entry = by_name[name] = ObjectSpace(name, kind, table)
                for target in (entry, totals):
                    _add(target, pagetype, pgsize, payload, unused, ncell)
                if done % _REPORT_EVERY == 0:
                    cancel.raise_if_cancelled()
                    progress(Progress(done, page_count, label))
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc) and "dbstat" in str(exc):
            raise SpaceUnavailable(
                "Space per table needs SQLite's dbstat table, which this SQLite was built without "
                "(SQLITE_ENABLE_DBSTAT_VTAB)."
            ) from None
        raise
    progress(Progress(totals.pages, page_count, label))
    objects = sorted(by_name.values(), key=lambda o: (-o.bytes, o.name))
    return SpaceReport(objects, page_size, page_count, freelist, totals)


def _add(target: ObjectSpace, pagetype: str, pgsize: int, payload: int, unused: int, ncell: int) -> None:
    target.pages += 1
    target.bytes += int(pgsize)
    target.payload_bytes += int(payload or 0)
    target.unused_bytes += int(unused or 0)
    target.cells += int(ncell or 0)
    if pagetype == "leaf":
        target.leaf_pages += 1
    elif pagetype == "internal":
        target.interior_pages += 1
    elif pagetype == "overflow":
        target.overflow_pages += 1


def _kinds(catalog: Catalog | None) -> dict[str, tuple[str, str]]:
    """b-tree name → (kind, its table), from the catalog."""
    kinds: dict[str, tuple[str, str]] = {name: ("schema", name) for name in SCHEMA_TABLE_NAMES}
    if catalog is None:
        return kinds
    for table in catalog.tables:
        if table.kind is TableKind.SHADOW:
            kind = "shadow"
        elif table.internal:
            kind = "internal"
        else:
            kind = table.kind.value
        kinds[table.name] = (kind, table.name)
    for index in catalog.indexes:
        kinds[index.name] = ("index", index.table)
    return kinds
