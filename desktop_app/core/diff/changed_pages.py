"""Which tables can differ between two memory snapshots, found from their pages before any row is read.

Two generations of one file share most of their pages byte for byte. When a table's b-tree in B has the
same root page as in A and none of the pages B's b-tree is made of differs from A's page of that number,
reading the table in A visits exactly the same bytes as in B: its rows are equal, and it is not compared.
B's pages are assigned to b-trees by walking each b-tree's interior pages (cheap: a few hundred pages for
a 200 MB table) and the free list; a changed page left unassigned (an overflow or pointer-map page) is
looked up with SQLite's `dbstat`, which lists every page of every b-tree. Any doubt means "compare it".
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
_CHUNK_PAGES = 256
#: Owner of the schema table's pages (its changes are read from the catalogs) and of free pages.
_SCHEMA, _FREE = "\x00schema", "\x00free"
#: Virtual table modules whose rows live in shadow tables of this database (other modules: always compared).
_SHADOWED_MODULES = frozenset({"fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"})
_INTERIOR_TABLE, _INTERIOR_INDEX = 5, 2
_LEAVES = frozenset({10, 13})


def changed_tables(
    a: Snapshot, b: Snapshot, catalog_a: Catalog, catalog_b: Catalog, limit_bytes: int | None = None
) -> frozenset[str] | None:
    """Names of the compared tables whose rows may differ between `a` and `b`, or None when this cannot be
    told cheaply (a direct snapshot, images over `diff_page_compare_bytes`, different page formats)."""
    limit = LIMITS.diff_page_compare_bytes if limit_bytes is None else limit_bytes
    if a.mode is not SnapshotMode.MEMORY or b.mode is not SnapshotMode.MEMORY:
        return None
    if max(a.size_bytes, b.size_bytes) > limit:
        return None
    conn_a, conn_b = a.connect(), b.connect()
    try:
        image_a, image_b = conn_a.serialize(), conn_b.serialize()
        roots_a, roots_b = btree_roots(conn_a), btree_roots(conn_b)
        page_size = _page_size(image_a)
        if page_size is None or _format(image_a) != _format(image_b) or len(image_a) % page_size:
            return None
        changed = changed_pages(image_a, image_b, page_size)
        owners = _owners(image_b, page_size, roots_b, changed, conn_b) if changed else {}
    except sqlite3.Error:
        return None
    finally:
        conn_a.close()
        conn_b.close()
    if owners is None:
        return None
    return _candidates(catalog_a, catalog_b, roots_a, roots_b, set(owners.values()))


def changed_pages(image_a: bytes, image_b: bytes, page_size: int) -> list[int]:
    """Numbers (1-based) of the pages that differ between the two images, pages past the shorter one
    included."""
    view_b = memoryview(image_b)
    common = min(len(image_a), len(image_b)) // page_size * page_size
    changed = []
    step = page_size * _CHUNK_PAGES
    for chunk in range(0, common, step):
        end = min(chunk + step, common)
        if image_a.startswith(view_b[chunk:end], chunk):  # memcmp in place, nothing copied
            continue
        for offset in range(chunk, end, page_size):
            if not image_a.startswith(view_b[offset : offset + page_size], offset):
                changed.append(offset // page_size + 1)
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


def _owners(
    image: bytes,
    page_size: int,
    roots: dict[str, tuple[str, int]],
    changed: list[int],
    conn: sqlite3.Connection,
) -> dict[int, str] | None:
    """The b-tree (by name) each changed page of `image` belongs to; pages of no b-tree are left out."""
    wanted = set(changed)
    owners: dict[int, str] = {}
    pages = len(image) // page_size
    for name, root in [(_SCHEMA, 1), *((n, r) for n, (_t, r) in roots.items())]:
        for page in _btree_pages(image, page_size, pages, root):
            if page in wanted:
                owners[page] = name
    for page in _free_pages(image, page_size, pages):
        if page in wanted and page not in owners:
            owners[page] = _FREE
    unclaimed = wanted - owners.keys()
    if unclaimed:
        with unguarded(conn):
            rows = conn.execute("SELECT name, pageno FROM dbstat WHERE aggregate = 0").fetchall()
        for name, page in rows:
            if page in unclaimed:
                owners[page] = _SCHEMA if name in SCHEMA_TABLE_NAMES else name
    return owners


def _btree_pages(image: bytes, page_size: int, pages: int, root: int) -> Iterable[int]:
    """The interior and leaf pages of the b-tree at `root` (overflow pages are not followed)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        page = stack.pop()
        if page in seen or not 1 <= page <= pages:
            continue
        seen.add(page)
        yield page
        start = (page - 1) * page_size
        header = start + (100 if page == 1 else 0)
        kind = image[header]
        if kind in _LEAVES or kind not in (_INTERIOR_TABLE, _INTERIOR_INDEX):
            continue
        cells, _, _, right = struct.unpack_from(">HHBI", image, header + 3)
        stack.append(right)
        for pointer in struct.unpack_from(f">{cells}H", image, header + 12):
            if pointer + 4 <= page_size:
                stack.append(struct.unpack_from(">I", image, start + pointer)[0])


def _free_pages(image: bytes, page_size: int, pages: int) -> Iterable[int]:
    """Trunk and leaf pages of the free list."""
    trunk, seen = struct.unpack_from(">I", image, 32)[0], set()
    while 1 <= trunk <= pages and trunk not in seen:
        seen.add(trunk)
        yield trunk
        start = (trunk - 1) * page_size
        following, count = struct.unpack_from(">II", image, start)
        count = min(count, page_size // 4 - 2)
        yield from struct.unpack_from(f">{count}I", image, start + 8)
        trunk = following


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
