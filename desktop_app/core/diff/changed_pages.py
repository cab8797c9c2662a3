"""Which tables can differ between two memory snapshots, found from their pages before any row is read.

Two generations of one file share most of their pages byte for byte. When a table's b-tree in B has the
same root page as in A and none of the pages B's b-tree is made of differs from A's page of that number,
reading the table in A visits exactly the same bytes as in B: its rows are equal, and it is not compared.
B's pages are assigned to b-trees by walking each b-tree's interior pages (cheap: a few hundred pages for
a 200 MB table) and the free list; a changed page left unassigned (an overflow or pointer-map page) is
looked up with SQLite's `dbstat`, which lists every page of every b-tree. Any doubt means "compare it".

Within a rowid table that may differ, a leaf page that is a leaf of the table on both sides and unchanged
holds the same rows on both (a rowid is in one place only): only the rowids of the other leaves, on
either side, need comparing — their ranges, read from each leaf's first and last cell. A changed page
no b-tree walk reaches (an overflow page) means the whole table.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable

from desktop_app.core.diff.schema_changes import compared_tables
from desktop_app.core.errors import RecoveryError
from desktop_app.core.limits import LIMITS
from desktop_app.core.pagefile.btree import PageKind, page_type, signed64, varint
from desktop_app.core.pagefile.freelist import freelist_trunks
from desktop_app.core.pagefile.image import DatabaseImage, page_format
from desktop_app.core.pagefile.owners import btree_pages
from desktop_app.core.pagefile.snapshot_bytes import ImageBytes, snapshot_bytes
from desktop_app.core.schema.catalog import SCHEMA_TABLE_NAMES, Catalog, Table, TableKind, btree_roots
from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode
from desktop_app.core.sqlite.guard import unguarded

#: Pages compared at once before looking at single pages (most of a large image is unchanged).
_CHUNK_PAGES = 32
#: Owner of the schema table's pages (its changes are read from the catalogs) and of free pages.
_SCHEMA, _FREE = "\x00schema", "\x00free"
#: Virtual table modules whose rows live in shadow tables of this database (other modules: always compared).
_SHADOWED_MODULES = frozenset({"fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"})


#: Rowid ranges (first, last), both included, that hold every row a table may differ in.
RowidRanges = list[tuple[int, int]]


def changed_tables(
    a: Snapshot, b: Snapshot, catalog_a: Catalog, catalog_b: Catalog, limit_bytes: int | None = None
) -> dict[str, RowidRanges | None] | None:
    """The compared tables whose rows may differ between `a` and `b`, each with the rowid ranges its
    differences lie in (None: anywhere), or None when this cannot be told cheaply (a direct snapshot,
    images over `diff_page_compare_bytes`, different page formats)."""
    limit = LIMITS.diff_page_compare_bytes if limit_bytes is None else limit_bytes
    if a.mode is not SnapshotMode.MEMORY or b.mode is not SnapshotMode.MEMORY:
        return None
    if max(a.size_bytes, b.size_bytes) > limit:
        return None
    conn_a, conn_b = a.connect(), b.connect()
    try:
        # Both images are read where they lie: a 200 MB copy held the GIL (and the window) for ~130 ms.
        with snapshot_bytes(conn_a) as image_a, snapshot_bytes(conn_b) as image_b:
            return _changed_tables(conn_a, conn_b, image_a, image_b, catalog_a, catalog_b)
    except sqlite3.Error:
        return None
    finally:
        conn_a.close()
        conn_b.close()


def _changed_tables(
    conn_a: sqlite3.Connection,
    conn_b: sqlite3.Connection,
    image_a: ImageBytes,
    image_b: ImageBytes,
    catalog_a: Catalog,
    catalog_b: Catalog,
) -> dict[str, RowidRanges | None] | None:
    roots_a, roots_b = btree_roots(conn_a), btree_roots(conn_b)
    try:
        pages_a, pages_b = DatabaseImage(image_a), DatabaseImage(image_b)
    except RecoveryError:  # not a database image: no page format to compare by
        return None
    page_size = pages_a.page_size
    if page_format(image_a) != page_format(image_b) or len(image_a) % page_size:
        return None
    changed = changed_pages(image_a, image_b, page_size)
    if not changed:
        return {}
    walk_a, walk_b = _Walk(pages_a, roots_a), _Walk(pages_b, roots_b)
    owners = walk_b.owners(set(changed), conn_b)
    candidates = _candidates(catalog_a, catalog_b, roots_a, roots_b, set(owners.values()))
    unreached = {roots_b.get(owners[p], (owners[p], 0))[0] for p in walk_b.unreached}
    result: dict[str, RowidRanges | None] = {}
    for name in candidates:
        table = catalog_b.table(name)
        same = name in roots_a and roots_a.get(name) == roots_b.get(name)
        if table is None or not same or name in unreached or not _rowid_table(table):
            result[name] = None
        else:
            result[name] = _ranges(walk_a, walk_b, roots_b[name][1], set(changed))
    return result


def _rowid_table(table: Table) -> bool:
    return table.kind is TableKind.TABLE and not table.without_rowid


def _ranges(walk_a: _Walk, walk_b: _Walk, root: int, changed: set[int]) -> RowidRanges | None:
    """Rowid ranges of the leaves of the table at `root` that are not the same leaf on both sides."""
    leaves_a, leaves_b = walk_a.leaves(root), walk_b.leaves(root)
    if leaves_a is None or leaves_b is None:
        return None
    safe = (leaves_a & leaves_b) - changed
    try:
        extents = [walk_a.extent(p) for p in leaves_a - safe] + [walk_b.extent(p) for p in leaves_b - safe]
    except (IndexError, ValueError, struct.error):  # a page that does not read as a leaf: the whole table
        return None
    if any(e is None for e in extents):
        return None
    return merge_ranges([e for e in extents if e != ()])  # type: ignore[misc]


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> RowidRanges:
    """`ranges` sorted, with overlapping and adjacent ones joined."""
    merged: RowidRanges = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def changed_pages(image_a: ImageBytes, image_b: ImageBytes, page_size: int) -> list[int]:
    """Numbers (1-based) of the pages that differ between the two images, pages past the shorter one
    included."""
    view_a, view_b = memoryview(image_a), memoryview(image_b)

    def same(offset: int, size: int) -> bool:
        # Small copies compared as bytes (memcmp): a memoryview `==` compares byte by byte in Python's
        # struct machinery, ~30x slower; the GIL changes hands between chunks.
        return bytes(view_a[offset : offset + size]) == bytes(view_b[offset : offset + size])

    common = min(len(image_a), len(image_b)) // page_size * page_size
    changed = []
    step = page_size * _CHUNK_PAGES
    for chunk in range(0, common, step):
        size = min(step, common - chunk)
        if same(chunk, size):
            continue
        changed.extend(
            offset // page_size + 1
            for offset in range(chunk, chunk + size, page_size)
            if not same(offset, page_size)
        )
    changed.extend(range(common // page_size + 1, max(len(image_a), len(image_b)) // page_size + 1))
    return changed


class _Walk:
    """The b-trees of one image, walked through their interior pages (leaves are not read)."""

    def __init__(self, image: DatabaseImage, roots: dict[str, tuple[str, int]]) -> None:
        self.image, self.roots = image, roots
        self.pages = image.page_count
        self._data, self._page_size = image.data, image.page_size
        self._walked: dict[int, tuple[set[int], set[int]]] = {}
        #: Changed pages no walk reached (set by `owners`).
        self.unreached: set[int] = set()

    def owners(self, wanted: set[int], conn: sqlite3.Connection) -> dict[int, str]:
        """The b-tree (by name) each of the `wanted` pages belongs to; pages of no b-tree are left out."""
        owners: dict[int, str] = {}
        for name, root in [(_SCHEMA, 1), *((n, r) for n, (_t, r) in self.roots.items())]:
            interior, leaves = self._walk(root)
            for page in (interior | leaves) & wanted:
                owners[page] = name
        for page in self._free_pages():
            if page in wanted and page not in owners:
                owners[page] = _FREE
        self.unreached = wanted - owners.keys()
        if self.unreached:
            with unguarded(conn):
                rows = conn.execute("SELECT name, pageno FROM dbstat WHERE aggregate = 0").fetchall()
            for name, page in rows:
                if page in self.unreached:
                    owners[page] = _SCHEMA if name in SCHEMA_TABLE_NAMES else name
            self.unreached &= owners.keys()
        return owners

    def leaves(self, root: int) -> set[int] | None:
        """The leaf pages of the table b-tree at `root`, or None when it does not read as one."""
        interior, leaves = self._walk(root)
        if any(page_type(self.image.page(p), p) != PageKind.TABLE_INTERIOR for p in interior):
            return None
        return leaves

    def extent(self, page: int) -> tuple[int, int] | tuple[()] | None:
        """The first and last rowid of a table leaf page, () when it holds no row, None when unreadable."""
        data, size = self._data, self._page_size
        start = (page - 1) * size
        header, end = start + (100 if page == 1 else 0), start + size
        if data[header] != PageKind.TABLE_LEAF:
            return None
        cells = (data[header + 3] << 8) | data[header + 4]
        if cells == 0:
            return ()
        last_pointer = header + 6 + 2 * cells
        if last_pointer + 2 > end:
            return None
        first = _rowid(data, start + ((data[header + 8] << 8) | data[header + 9]), end)
        last = _rowid(data, start + ((data[last_pointer] << 8) | data[last_pointer + 1]), end)
        return None if first > last else (first, last)

    def _walk(self, root: int) -> tuple[set[int], set[int]]:
        """The interior and leaf pages of the b-tree at `root` (overflow pages are not followed)."""
        if root not in self._walked:
            self._walked[root] = btree_pages(self.image, root)
        return self._walked[root]

    def _free_pages(self) -> Iterable[int]:
        """Trunk and leaf pages of the free list."""
        image = self.image
        for trunk, leaves in freelist_trunks(image.page, self.pages, image.header.freelist_trunk):
            yield trunk
            yield from leaves


def _rowid(data: memoryview, offset: int, end: int) -> int:
    """The rowid of the table leaf cell at `offset`: a varint (payload size), then the rowid's."""
    _size, offset = varint(data, offset, end)
    return signed64(varint(data, offset, end)[0])


def _candidates(
    catalog_a: Catalog,
    catalog_b: Catalog,
    roots_a: dict[str, tuple[str, int]],
    roots_b: dict[str, tuple[str, int]],
    changed_btrees: set[str],
) -> frozenset[str]:
    old, new = compared_tables(catalog_a), compared_tables(catalog_b)
    candidates = set()
    shadows_changed = False
    for btree in changed_btrees - {_SCHEMA, _FREE}:
        table = roots_b.get(btree, (btree, 0))[0]
        if table in new:
            candidates.add(table)
        else:  # a shadow table: its virtual table stands for it
            shadows_changed = True
    for name in old.keys() | new.keys():
        if _may_differ(old.get(name), new.get(name), shadows_changed, roots_a, roots_b):
            candidates.add(name)
    for btree, (table, root) in roots_a.items():  # an index moved, added or dropped: look at its table
        if roots_b.get(btree) != (table, root):
            candidates.add(table)
    for btree, (table, _root) in roots_b.items():
        if btree not in roots_a:
            candidates.add(table)
    return frozenset(candidates)


def _may_differ(
    before: Table | None,
    after: Table | None,
    shadows_changed: bool,
    roots_a: dict[str, tuple[str, int]],
    roots_b: dict[str, tuple[str, int]],
) -> bool:
    """True for a table on one side only, redefined, moved to another root page, or a virtual table whose
    rows may have changed (a shadow table changed, or its rows live elsewhere)."""
    if before is None or after is None or before.sql != after.sql:
        return True
    if after.kind is TableKind.VIRTUAL:
        return shadows_changed or (after.module or "").lower() not in _SHADOWED_MODULES
    return roots_a.get(after.name) != roots_b.get(after.name)
