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
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import SCHEMA_TABLE_NAMES, Catalog, Table, TableKind, btree_roots
from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode
from desktop_app.core.sqlite.guard import unguarded

#: Pages compared at once before looking at single pages (most of a large image is unchanged).
_CHUNK_PAGES = 32
#: Owner of the schema table's pages (its changes are read from the catalogs) and of free pages.
_SCHEMA, _FREE = "\x00schema", "\x00free"
#: Virtual table modules whose rows live in shadow tables of this database (other modules: always compared).
_SHADOWED_MODULES = frozenset({"fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"})
_INTERIOR_TABLE, _INTERIOR_INDEX, _LEAF_TABLE = 5, 2, 13


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
        # A named memdb cannot be read in place (SQLite serializes only private ones without a copy).
        image_a, image_b = conn_a.serialize(), conn_b.serialize()
        roots_a, roots_b = btree_roots(conn_a), btree_roots(conn_b)
        page_size = _page_size(image_a)
        if page_size is None or _format(image_a) != _format(image_b) or len(image_a) % page_size:
            return None
        changed = changed_pages(image_a, image_b, page_size)
        if not changed:
            return {}
        walk_a, walk_b = _Walk(image_a, page_size, roots_a), _Walk(image_b, page_size, roots_b)
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
    except sqlite3.Error:
        return None
    finally:
        conn_a.close()
        conn_b.close()


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
    except (IndexError, struct.error):  # a page that does not read as a leaf: the whole table
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


def changed_pages(image_a: bytes, image_b: bytes, page_size: int) -> list[int]:
    """Numbers (1-based) of the pages that differ between the two images, pages past the shorter one
    included."""
    view_b = memoryview(image_b)

    def same(offset: int, size: int) -> bool:
        return image_a.startswith(view_b[offset : offset + size], offset)  # memcmp in place, no copy

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


def _page_size(image: bytes) -> int | None:
    if len(image) < 100 or not image.startswith(b"SQLite format 3\x00"):
        return None
    size = struct.unpack_from(">H", image, 16)[0]
    return 65536 if size == 1 else size


def _format(image: bytes) -> tuple[bytes, ...]:
    """Header fields that change how every page reads: page size, reserved bytes, text encoding."""
    return image[16:18], image[20:21], image[56:60]


class _Walk:
    """The b-trees of one image, walked through their interior pages (leaves are not read)."""

    def __init__(self, image: bytes, page_size: int, roots: dict[str, tuple[str, int]]) -> None:
        self.image, self.page_size, self.roots = image, page_size, roots
        self.pages = len(image) // page_size
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
        if any(self.image[self._header(p)] != _INTERIOR_TABLE for p in interior):
            return None
        return leaves

    def extent(self, page: int) -> tuple[int, int] | tuple[()] | None:
        """The first and last rowid of a table leaf page, () when it holds no row, None when unreadable."""
        header, start = self._header(page), (page - 1) * self.page_size
        if self.image[header] != _LEAF_TABLE:
            return None
        cells = struct.unpack_from(">H", self.image, header + 3)[0]
        if cells == 0:
            return ()
        pointers = struct.unpack_from(f">{cells}H", self.image, header + 8)
        first, last = (self._rowid(start + pointers[i]) for i in (0, -1))
        return None if first is None or last is None or first > last else (first, last)

    def _rowid(self, offset: int) -> int | None:
        """The rowid of the table leaf cell at `offset`: a varint (payload size), then the rowid's."""
        _size, offset = _varint(self.image, offset)
        rowid, _ = _varint(self.image, offset)
        return rowid if rowid < 1 << 63 else rowid - (1 << 64)

    def _header(self, page: int) -> int:
        return (page - 1) * self.page_size + (100 if page == 1 else 0)

    def _walk(self, root: int) -> tuple[set[int], set[int]]:
        """The interior and leaf pages of the b-tree at `root` (overflow pages are not followed)."""
        if root in self._walked:
            return self._walked[root]
        interior: set[int] = set()
        leaves: set[int] = set()
        stack = [root]
        while stack:
            page = stack.pop()
            if page in interior or page in leaves or not 1 <= page <= self.pages:
                continue
            start, header = (page - 1) * self.page_size, self._header(page)
            kind = self.image[header]
            if kind not in (_INTERIOR_TABLE, _INTERIOR_INDEX):
                leaves.add(page)
                continue
            interior.add(page)
            cells, _, _, right = struct.unpack_from(">HHBI", self.image, header + 3)
            stack.append(right)
            for pointer in struct.unpack_from(f">{cells}H", self.image, header + 12):
                if pointer + 4 <= self.page_size:
                    stack.append(struct.unpack_from(">I", self.image, start + pointer)[0])
        self._walked[root] = interior, leaves
        return interior, leaves

    def _free_pages(self) -> Iterable[int]:
        """Trunk and leaf pages of the free list."""
        trunk, seen = struct.unpack_from(">I", self.image, 32)[0], set()
        while 1 <= trunk <= self.pages and trunk not in seen:
            seen.add(trunk)
            yield trunk
            start = (trunk - 1) * self.page_size
            following, count = struct.unpack_from(">II", self.image, start)
            count = min(count, self.page_size // 4 - 2)
            yield from struct.unpack_from(f">{count}I", self.image, start + 8)
            trunk = following


def _varint(image: bytes, offset: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `offset`: its value and the offset after it."""
    value = 0
    for i in range(8):
        byte = image[offset + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, offset + i + 1
    return (value << 8) | image[offset + 8], offset + 9


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
