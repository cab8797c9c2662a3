"""Walk a database image: which pages are live, free or orphaned, and carve records from free space."""

from __future__ import annotations

import gc
import marshal
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext

import numpy as np

from desktop_app.core.errors import Cancelled, RecoveryError
from desktop_app.core.pagefile.btree import (
    BTreePage,
    PageKind,
    freeblock_chain,
    freeblocks,
    left_children,
    local_size,
    parse_btree_page,
    read_overflow,
    unallocated,
    varint,
)
from desktop_app.core.pagefile.freelist import freelist_trunks
from desktop_app.core.pagefile.headers import PageHeaders, any_nonzero, page_headers
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.pagefile.snapshot_bytes import ImageBytes, snapshot_bytes
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.recovery.carve import Carved, Region, carve_range, clobbered_cell, intact_cells
from desktop_app.core.recovery.gil import in_page_order, release
from desktop_app.core.recovery.live import live_copies
from desktop_app.core.recovery.model import (
    NO_FREE_SPACE_NOTE,
    NOTHING_FOUND_NOTE,
    SECURE_DELETE_NOTE,
    RecoveredRecord,
    RecoveryResult,
    Source,
)
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.schema_remnants import dropped_shapes, live_roots
from desktop_app.core.recovery.shapes import SCHEMA_SHAPE, Shape, shapes_of
from desktop_app.core.schema.catalog import SCHEMA_TABLE, Catalog, read_catalog

_PROGRESS_EVERY = 256
_ZEROS = bytes(65536)


@contextmanager
def snapshot_image(conn: sqlite3.Connection, schema: str = "main") -> Iterator[DatabaseImage]:
    """The snapshot's bytes for the `with` block, from its memory database (the user's file is never read
    again): a memdb's own buffer where it can be lent, else a copy. Nothing read from the image may keep
    a view of it past the block (records hold copies of their bytes)."""
    with ExitStack() as lender:
        try:
            data = lender.enter_context(snapshot_bytes(conn, schema))
            image = DatabaseImage(data)
        except MemoryError:
            raise RecoveryError(
                "There is not enough memory to read the database's pages for recovery."
            ) from None
        except sqlite3.Error as exc:
            raise RecoveryError(f"The database's pages cannot be read for recovery ({exc}).") from None
        del data
        yield image


def recover(
    conn: sqlite3.Connection,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    image: ImageBytes | None = None,
) -> RecoveryResult:
    """Recover deleted records from the snapshot behind `conn` (its bytes come from memory, not the file;
    `image`: those bytes where the caller holds them already, e.g. a child process in shared memory)."""
    with _collection_put_off():
        return _recover(conn, progress, cancel, image)


@contextmanager
def _collection_put_off() -> Iterator[None]:
    """Automatic cycle collection off for the block where it is on (the app's GUI thread collects
    instead: nothing changes there). A scan makes no reference cycles, but each collection while its
    records pile up walked them all again (a fifth of a dense scan's time). What the block allocated
    then joins the oldest generation unexamined: a young collection over every record would otherwise
    follow at once (0.1-0.6 s, on Stop too); full collections look at it in their own time."""
    if not gc.isenabled() or gc.get_freeze_count():  # frozen objects are someone else's: left alone
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def _recover(
    conn: sqlite3.Connection, progress: ProgressCallback, cancel: CancelToken | None, held: ImageBytes | None
) -> RecoveryResult:
    catalog = read_catalog(conn)
    shapes = shapes_of(catalog)
    with snapshot_image(conn) if held is None else nullcontext(DatabaseImage(held)) as image:
        result = recover_image(image, shapes, progress=progress, cancel=cancel)
    del image
    copies = live_copies(conn, result.records, cancel, _searchable(catalog, shapes))
    result.live_copies = len(copies)
    result.records = [r for i, r in enumerate(result.records) if i not in copies]
    if not result.records:
        result.note = result.note or NOTHING_FOUND_NOTE
        if result.note == NOTHING_FOUND_NOTE and copies:
            result.note = "Free space holds only copies of rows that are still in the database."
        if result.zeroed:
            result.note = SECURE_DELETE_NOTE
    return result


def _searchable(catalog: Catalog, shapes: Sequence[Shape]) -> dict[str, set[str]]:
    """Per table, the columns SQLite finds values in without reading every row: the rowid alias, the
    first key of a WITHOUT ROWID table, the first column of each index."""
    found: dict[str, set[str]] = {}
    for shape in shapes:
        if shape.is_index:
            continue
        if shape.alias is not None:
            found.setdefault(shape.name, set()).add(shape.columns[shape.alias])
        elif shape.index_btree:
            found.setdefault(shape.name, set()).add(shape.columns[0])
    for index in catalog.indexes:
        if index.columns and index.columns[0] is not None and not index.partial:
            found.setdefault(index.table, set()).add(index.columns[0])
    return found


def recover_image(
    image: DatabaseImage,
    shapes: Sequence[Shape],
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> RecoveryResult:
    """Carve every free region of `image` against `shapes` (the live tables' and indexes' layouts)."""
    return _Scan(image, list(shapes), progress, cancel).run()


class _Scan:
    def __init__(
        self,
        image: DatabaseImage,
        shapes: list[Shape],
        progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> None:
        self.image = image
        self.shapes = shapes
        self.progress = progress
        self.cancel = cancel
        self.usable = image.usable_size
        self.trunks: set[int] = set()
        self.free: set[int] = set()
        #: Per page number, the index into `names` of the b-tree it belongs to (0: none).
        self.owner_id = np.zeros(image.page_count + 1, dtype=np.int32)
        self.names: list[str] = [""]
        #: Live leaf pages in the order the walk reached them, a run of them per tree walked.
        self.leaf_runs: list[np.ndarray] = []
        #: The leaves the page-by-page walk of one tree reached, in order.
        self.leaf_order: list[int] = []
        self.claimed_overflow: set[int] = set()
        self.found: dict[tuple[object, ...], RecoveredRecord] = {}
        self.free_bytes = 0
        self.nonzero_free_bytes = 0
        self.result = RecoveryResult(image.header, [])
        #: Pages read of the `total` the scan reads (its progress).
        self.done = 0
        self.total = 0
        self._facts: dict[int, _TableFacts] = {}  # by id (each holds its shape)

    def run(self) -> RecoveryResult:
        self.headers = page_headers(self.image)
        self._read_freelist()
        roots = live_roots(self.image)
        self.leaf = self.headers.leaf
        for root, name in sorted(roots.items()):
            self.names.append(name)
            self._walk_tree(root, len(self.names) - 1)
        self.leaves = self._walked_leaves()
        orphans = self._orphans()
        live_names = set(roots.values())
        dropped = dropped_shapes(self.image, self._schema_leaves(), live_names)
        self.result.dropped_tables = [s.name for s in dropped]
        live = [s for s in self.shapes if s.name in live_names or not live_names]
        self.all_shapes = [*live, *(o for s in live for o in s.older), *dropped]
        by_name = {s.name: s for s in self.shapes}
        by_name[SCHEMA_TABLE] = SCHEMA_SHAPE
        self.result.free_pages = len(self.free) + len(self.trunks)
        self.result.orphan_pages = len(orphans)
        tree_shapes = [by_name.get(name) for name in self.names]
        to_carve = self._leaves_to_carve([s is not None and not s.is_index for s in tree_shapes])
        self.total = len(self.leaves) + len(self.free) + len(self.trunks) + len(orphans)
        self.done = len(self.leaves) - len(to_carve)  # the leaves with nothing to carve are read
        self.progress(Progress(self.done, self.total, "reading free space"))
        self._carve_leaves(to_carve, tree_shapes)
        loose: list[tuple[int, Source]] = []
        for number in sorted(self.free | orphans):
            self._tick()
            source = Source.DROPPED_TABLE if number in orphans else Source.FREELIST
            if not self._carve_free_page(number, source):
                loose.append((number, source))
        for number in sorted(self.trunks):
            self._tick()
            loose.append((number, Source.FREELIST))
        for number, source in loose:
            if number not in self.claimed_overflow:
                self._scan_loose(number, source)
        self.result.records = in_page_order(self.found.values())
        release(self.found)
        self.result.pages_scanned = self.total
        self.result.zeroed = bool(self.free_bytes) and not self.nonzero_free_bytes
        self.result.note = self._note()
        self.progress(Progress(self.total, self.total, "recovery done"))
        return self.result

    def _carve_leaves(self, to_carve: list[int], tree_shapes: list[Shape | None]) -> None:
        """Carve the live leaves `to_carve`, their header fields taken from those read for every page (the
        checks `parse_btree_page` makes of a leaf's header made for all at once)."""
        headers = self.headers
        pages = np.array(to_carve, dtype=np.int64)
        readable = _pointers_in_content(self.image, headers, pages).tolist()
        # (each field taken for these pages alone: a list of every page's is a Python int a page)
        trees, chains = self.owner_id[pages].tolist(), headers.first_freeblock[pages].tolist()
        table_leaves = (headers.kind[pages] == PageKind.TABLE_LEAF.value).tolist()
        gaps = zip(headers.gap_start[pages].tolist(), headers.gap_end[pages].tolist(), strict=True)
        shapes_of_tree: dict[int, list[Shape]] = {}
        for number, ok, tree, table_leaf, chain, gap in zip(
            to_carve, readable, trees, table_leaves, chains, gaps, strict=True
        ):
            self._tick()
            shape = tree_shapes[tree]
            if shape is not None and ok:
                shapes = shapes_of_tree.get(tree)
                if shapes is None:
                    shapes = shapes_of_tree[tree] = [shape, *shape.older]
                self._carve_live(number, table_leaf, chain, gap, shapes)

    # ---- page classes ------------------------------------------------------------------------------

    def _read_freelist(self) -> None:
        image = self.image
        chain = freelist_trunks(image.page, image.page_count, image.header.freelist_trunk, self.usable)
        for trunk, leaves in chain:
            self.trunks.add(trunk)
            self.free.update(leaf for leaf in leaves if image.has_page(leaf) and leaf not in self.trunks)
        self.free -= self.trunks

    def _walk_tree(self, root: int, tree: int) -> None:
        """Own the pages of the b-tree at `root`: interior pages are parsed, leaves only told by their
        header fields (read for all pages at once)."""
        if self._walk_levels(root, tree):
            return
        self.leaf_order = []
        stack = [root]
        owner, leaf, free, count = self.owner_id, self.leaf, self.free, self.image.page_count
        while stack:
            number = stack.pop()
            if not 1 <= number <= count or owner[number] or number in free:
                continue
            if leaf[number]:
                owner[number] = tree
                self.leaf_order.append(number)
                continue
            page = self.image.page(number)
            btree = parse_btree_page(page, number, self.usable)
            if btree is None or btree.kind.leaf:
                continue
            owner[number] = tree
            kids = np.append(left_children(page, btree), btree.right_child)
            found = kids.tolist()
            if not self._own_leaves(kids, found, tree):
                stack.extend(c for c in found if not 1 <= c <= count or not owner[c])
        self.leaf_runs.append(np.array(self.leaf_order, dtype=np.int64))

    def _walked_leaves(self) -> np.ndarray:
        """Every live leaf the walks reached, in order."""
        return np.concatenate(self.leaf_runs) if self.leaf_runs else np.zeros(0, dtype=np.int64)

    def _walk_levels(self, root: int, tree: int) -> bool:
        """Own a well-formed b-tree at `root` a level at a time (each level's interior pages read at once
        with numpy), as `_walk_tree`'s walk would: every page in range, new, not free, each level all
        interior pages or all leaves. False (nothing done) for any other tree, which is walked page by
        page instead."""
        count, size, usable = self.image.page_count, self.image.page_size, self.usable
        if not 2 <= root <= count:
            return False  # page 1's header follows the database header: the page-by-page walk reads it
        raw = np.frombuffer(self.image.data, dtype=np.uint8)
        free = np.zeros(count + 1, dtype=bool)
        if self.free:
            free[[n for n in self.free if 1 <= n <= count]] = True
        seen = np.zeros(count + 1, dtype=bool)
        interiors: list[np.ndarray] = []
        level = np.array([root], dtype=np.int64)
        for _depth in range(_DEPTH_MAX):
            if level.min() < 2 or level.max() > count:
                return False
            if seen[level].any() or self.owner_id[level].any() or free[level].any():
                return False
            before = np.count_nonzero(seen)
            seen[level] = True
            if np.count_nonzero(seen) - before != len(level):  # a page listed twice
                return False
            leaves = self.leaf[level]
            if leaves.all():
                self.owner_id[level] = tree
                for pages in interiors:
                    self.owner_id[pages] = tree
                self.leaf_runs.append(level[::-1].copy())
                return True
            if leaves.any():
                return False
            following = _children(raw, level, size, usable)
            if following is None:
                return False
            interiors.append(level)
            level = following
        return False

    def _own_leaves(self, kids: np.ndarray, found: list[int], tree: int) -> bool:
        """Own `found` (`kids` as an array) at once when they are all distinct unowned leaves, as popping
        them one by one would (in reverse order); False (nothing done) otherwise."""
        if not len(kids) or kids.min() < 1 or kids.max() > self.image.page_count:
            return False
        if not self.leaf[kids].all() or self.owner_id[kids].any() or len(set(found)) != len(found):
            return False
        if self.free and not self.free.isdisjoint(found):
            return False
        self.owner_id[kids] = tree
        self.leaf_order.extend(reversed(found))
        return True

    def _leaves_to_carve(self, carved_tree: list[bool]) -> list[int]:
        """The live leaves of tables (in walk order) with a freeblock or a gap that is not all zeros (past
        `_FIRST_CELL_BYTE`); counts every table leaf's gap in `unallocated_bytes`."""
        if not len(self.leaves):
            return []
        headers = self.headers
        leaves = self.leaves
        owners = self.owner_id[leaves]
        leaves = leaves[np.array(carved_tree, dtype=bool)[owners]]
        gap_start, gap_end = headers.gap_start[leaves], headers.gap_end[leaves]
        self.result.unallocated_bytes += int((gap_end - gap_start).sum())
        chained = headers.first_freeblock[leaves] != 0
        first = gap_start + _first_cell_byte(headers.kind[leaves])
        gapped = np.flatnonzero((gap_end > first) & ~chained)
        wanted = chained
        if len(gapped):
            base = (leaves[gapped] - 1) * self.image.page_size
            wanted[gapped] = any_nonzero(self.image.data, base + first[gapped], base + gap_end[gapped])
        return leaves[wanted].tolist()

    def _orphans(self) -> set[int]:
        image = self.image
        count = image.page_count
        unknown = self.owner_id == 0
        unknown[0] = False
        for number in (*self.free, *self.trunks, 1, image.lock_byte_page):
            if number <= count:
                unknown[number] = False
        if image.header.largest_root and count >= 2:
            unknown[2 :: image.usable_size // 5 + 1] = False  # pointer-map pages
        candidates = set(np.flatnonzero(unknown).tolist())
        if candidates:  # overflow pages of live rows are neither tree pages nor free: find them
            candidates -= self._live_overflow_pages()
        return candidates

    def _live_overflow_pages(self) -> set[int]:
        found: set[int] = set()
        for number, btree in self._parsed(self.leaves.tolist()):
            page = self.image.page(number)
            table = btree.kind is PageKind.TABLE_LEAF
            for pointer in btree.cell_pointers:
                try:
                    payload, at = varint(page, pointer, self.usable)
                    if table:
                        _rowid, at = varint(page, at, self.usable)
                    local = local_size(payload, self.usable, table)
                    if local < payload and at + local + 4 <= self.usable:
                        first = int.from_bytes(page[at + local : at + local + 4], "big")
                        _data, pages = read_overflow(first, payload - local, self.usable, self._any_page)
                        found.update(pages)
                except ValueError:
                    continue
        return found

    def _any_page(self, number: int) -> memoryview | None:
        return self.image.page(number) if self.image.has_page(number) else None

    def _parsed(self, numbers: list[int]) -> list[tuple[int, BTreePage]]:
        """The pages among `numbers` that parse as b-tree pages, parsed."""
        parsed = ((n, parse_btree_page(self.image.page(n), n, self.usable)) for n in numbers)
        return [(n, b) for n, b in parsed if b is not None]

    def _free_page(self, number: int) -> memoryview | None:
        if number in self.free or number in self.trunks:
            return self.image.page(number)
        if (
            self.image.has_page(number)
            and not self.owner_id[number]
            and not self.image.is_pointer_map(number)
        ):
            return self.image.page(number)
        return None

    def _schema_leaves(self) -> list[tuple[int, BTreePage]]:
        trees = [i for i, name in enumerate(self.names) if name == SCHEMA_TABLE]
        leaves = self.leaves
        schema = leaves[np.isin(self.owner_id[leaves], trees)] if trees and len(leaves) else leaves[:0]
        return self._parsed(schema.tolist())

    # ---- carving -----------------------------------------------------------------------------------

    def _region(self, number: int, table_leaf: bool) -> Region:
        return Region(
            self.image.page(number), number, self.usable, self.image.encoding, table_leaf, self._free_page
        )

    def _carve_live(
        self, number: int, table_leaf: bool, first_freeblock: int, gap: tuple[int, int], shapes: list[Shape]
    ) -> None:
        """Carve a live leaf page's freeblocks and unallocated `gap` (its start and end)."""
        region = self._region(number, table_leaf)
        gap_start, gap_end = gap  # counted in unallocated_bytes by _leaves_to_carve
        for start, size in freeblock_chain(region.page, first_freeblock, gap_end, self.usable):
            self._count_free(region.page, start + 4, start + size)
            self.result.freeblock_bytes += size
            self._carve_block(region, start, start + size, shapes, Source.FREEBLOCK, clobbered=True)
        if gap_end > gap_start and _nonzero(region.page, gap_start + _FIRST_CELL_BYTE[table_leaf], gap_end):
            self._scan_range(region, gap_start, gap_end, shapes, Source.UNALLOCATED, unknown=False)

    def _carve_free_page(self, number: int, source: Source) -> bool:
        """Carve a free page that still reads as a leaf page; False when it must be scanned loose."""
        page = self.image.page(number)
        if not self._count_free(page, 0, self.usable):
            return True
        btree = parse_btree_page(page, number, self.usable)
        if btree is None or not btree.kind.leaf:
            return btree is not None  # interior pages hold no rows; other bytes are scanned loose
        region = self._region(number, btree.kind is PageKind.TABLE_LEAF)
        shapes = self.all_shapes
        # (an index's records are not kept: those its types alone tell are not read)
        for carved in intact_cells(
            region, btree.cell_pointers, self.usable, shapes, unknown=True, keep_index=False
        ):
            self._keep(region, carved, source)
        for start, size in freeblocks(page, btree, self.usable):
            self._carve_block(region, start, start + size, shapes, source, clobbered=True)
        gap_start, gap_end = unallocated(btree)
        if gap_end > gap_start and _nonzero(page, gap_start, gap_end):
            self._scan_range(region, gap_start, gap_end, shapes, source, unknown=True)
        return True

    def _scan_loose(self, number: int, source: Source) -> None:
        """A free page that is not a leaf page (a freelist trunk, a reused page): try every offset."""
        page = self.image.page(number)
        start = (
            8 + 4 * min(int.from_bytes(page[4:8], "big"), self.usable // 4 - 2)
            if number in self.trunks
            else 0
        )
        for table_leaf in (True, False):
            region = self._region(number, table_leaf)
            self._scan_range(region, start, self.usable, self.all_shapes, source, unknown=table_leaf)

    def _carve_block(
        self, region: Region, start: int, end: int, shapes: list[Shape], source: Source, *, clobbered: bool
    ) -> None:
        """A freeblock: its first cell lost four bytes; cells after it (a merged block) may be intact."""
        at = start
        if clobbered:
            carved = clobbered_cell(region, start, end, shapes)
            if carved is not None:
                self._keep(region, carved, source)
                at = start + carved.length
            else:
                at = start + 4
        if end - at > 2:  # (what a cell leaves of its freeblock holds no other)
            self._scan_range(region, at, end, shapes, source, unknown=False)

    def _scan_range(
        self, region: Region, start: int, end: int, shapes: list[Shape], source: Source, *, unknown: bool
    ) -> None:
        for carved in carve_range(region, start, end, shapes, unknown=unknown):
            self._keep(region, carved, source)

    def _keep(self, region: Region, carved: Carved, source: Source) -> None:
        shape = carved.shape
        if shape is not None and shape.is_index:
            return
        if source in (Source.FREELIST, Source.DROPPED_TABLE) and (shape is None or shape.dropped):
            source = Source.DROPPED_TABLE
        if carved.overflow_pages:
            self.claimed_overflow.update(carved.overflow_pages)
        if shape is None:
            table, values, dropped, defaulted = None, carved.values, False, ()
            columns = _unknown_columns(len(values))
        else:
            facts = self._facts.get(id(shape))
            if facts is None:
                facts = self._facts[id(shape)] = _TableFacts(shape)
            table, columns, dropped, defaulted = facts.name, facts.columns, facts.dropped, facts.defaulted
            values = facts.in_table_order(carved.values)
        key = _identity(table, (carved.rowid, *values))
        held = self.found.get(key)
        if held is not None and held.confidence >= carved.confidence:
            return
        self.found[key] = RecoveredRecord(
            table,
            columns,
            values,
            carved.rowid,
            source,
            region.number,
            carved.offset,
            carved.confidence,
            carved.overflow_pages,
            dropped,
            defaulted,
        )

    def _count_free(self, page: memoryview, start: int, end: int) -> bool:
        """Count `page[start:end]` as free space; True when it holds a byte that is not zero."""
        if end <= start:
            return False
        self.free_bytes += end - start
        nonzero = _nonzero(page, start, end)
        if nonzero:
            self.nonzero_free_bytes += end - start
        return nonzero

    def _tick(self) -> None:
        # No explicit GIL hand-over here: CPython's forced switching gives a waiting GUI thread the GIL
        # within its switch interval (5 ms); a `sleep(0)` every few ms restarted that wait each time (the
        # GIL changed hands and straight back) and left the GUI thread waiting 20-70 ms.
        self.done += 1
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled()
        if self.done % _PROGRESS_EVERY == 0:
            self.progress(Progress(self.done, self.total, "reading free space"))

    def _note(self) -> str:
        if self.result.records:
            return ""
        if self.free_bytes and not self.nonzero_free_bytes:
            return SECURE_DELETE_NOTE
        if not self.free_bytes and not self.result.unallocated_bytes:
            return NO_FREE_SPACE_NOTE
        return NOTHING_FOUND_NOTE


#: Leaf pages whose cell pointers `_pointers_in_content` reads at once.
_POINTER_PAGES = 1 << 14
#: Most levels of a b-tree the level walk follows (a deeper one is a loop in damaged pages).
_DEPTH_MAX = 64
_INTERIOR_KINDS = (PageKind.INDEX_INTERIOR.value, PageKind.TABLE_INTERIOR.value)


def _children(raw: np.ndarray, pages: np.ndarray, size: int, usable: int) -> np.ndarray | None:
    """The child page numbers of interior `pages` (not page 1), each page's left children in cell order
    then its right child, read as `parse_btree_page` and `left_children` read them; None when a page's
    header or cell pointers are not consistent (or a cell lies within four bytes of the page's end)."""
    base = (pages - 1) * size
    head = raw[base[:, None] + np.arange(12)].astype(np.int64)
    if not np.isin(head[:, 0], _INTERIOR_KINDS).all():
        return None
    first_freeblock = (head[:, 1] << 8) | head[:, 2]
    cells = (head[:, 3] << 8) | head[:, 4]
    content = (head[:, 5] << 8) | head[:, 6]
    content[content == 0] = 65536
    right = (head[:, 8] << 24) | (head[:, 9] << 16) | (head[:, 10] << 8) | head[:, 11]
    pointers_end = 12 + 2 * cells
    ok = (pointers_end <= usable) & (content <= usable) & (content >= pointers_end)
    ok &= (first_freeblock == 0) | ((content <= first_freeblock) & (first_freeblock < usable))
    if not ok.all():
        return None
    starts = np.cumsum(cells) - cells
    owner = np.repeat(np.arange(len(pages)), cells)
    at = base[owner] + 12 + 2 * (np.arange(int(cells.sum())) - starts[owner])
    pointers = (raw[at].astype(np.int64) << 8) | raw[at + 1]
    if ((pointers < content[owner]) | (pointers >= usable) | (pointers + 4 > size)).any():
        return None
    cell = base[owner] + pointers
    left = (
        (raw[cell].astype(np.int64) << 24)
        | (raw[cell + 1].astype(np.int64) << 16)
        | (raw[cell + 2].astype(np.int64) << 8)
        | raw[cell + 3]
    )
    children = np.empty(len(left) + len(pages), dtype=np.int64)
    slot = starts + np.arange(len(pages))  # where each page's children begin
    children[slot[owner] + np.arange(len(left)) - starts[owner]] = left
    children[slot + cells] = right
    return children


def _pointers_in_content(image: DatabaseImage, headers: PageHeaders, pages: np.ndarray) -> np.ndarray:
    """For each of the leaf `pages` (consistent headers, as `headers.leaf` tells): True when every cell
    pointer lies in its cell content area (`parse_btree_page`'s last check)."""
    if len(pages) > _POINTER_PAGES:  # bounds the temporary arrays (~50 MB a batch)
        return np.concatenate(
            [
                _pointers_in_content(image, headers, pages[at : at + _POINTER_PAGES])
                for at in range(0, len(pages), _POINTER_PAGES)
            ]
        )
    if not len(pages):
        return np.zeros(0, dtype=bool)
    raw = np.frombuffer(image.data, dtype=np.uint8)
    offset = np.where(pages == 1, 100, 0)  # page 1's header follows the database header
    content = headers.gap_end[pages]
    cells = (headers.gap_start[pages] - offset - 8) // 2
    starts = np.cumsum(cells) - cells
    owner = np.repeat(np.arange(len(pages)), cells)
    at = (
        (pages - 1)[owner] * image.page_size
        + offset[owner]
        + 8
        + 2 * (np.arange(int(cells.sum())) - starts[owner])
    )
    pointers = (raw[at].astype(np.int64) << 8) | raw[at + 1]
    outside = (pointers < content[owner]) | (pointers >= image.usable_size)
    return np.bincount(owner[outside], minlength=len(pages)) == 0


#: How far into a gap lies the first byte that any cell or stale freeblock header starting in it makes
#: non-zero, in an index leaf (False) and a table leaf (True): a record header's length (after the
#: payload's length, and in a table the rowid, a byte each at least), a freeblock's size (bytes 2-3). A gap
#: whose bytes from there on are zeros holds nothing to carve, whatever lies before (most often the two
#: bytes of the cell pointer a deletion left at the gap's start).
_FIRST_CELL_BYTE = {False: 1, True: 2}


def _first_cell_byte(kinds: np.ndarray) -> np.ndarray:
    """`_FIRST_CELL_BYTE` of leaf pages of these `kinds`."""
    return np.where(kinds == PageKind.TABLE_LEAF.value, _FIRST_CELL_BYTE[True], _FIRST_CELL_BYTE[False])


def _nonzero(page: memoryview, start: int, end: int) -> bool:
    """True when `page[start:end]` holds a byte that is not zero (compared at once, not byte by byte: a
    memoryview compares item by item, 20 times slower over a page than its bytes copied and compared)."""
    return bytes(page[start:end]) != _ZEROS[: max(0, min(end, len(page)) - start)]


class _TableFacts:
    """What every record of one shape shares: its table's name, columns, and how values are ordered."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape  # kept alive: the facts are found by its id
        self.name = shape.name
        self.columns = shape.column_names
        self.dropped = shape.dropped
        self.defaulted = shape.defaulted
        as_stored = not shape.added_defaults and (
            not shape.display or shape.display == tuple(range(len(shape.columns)))
        )
        self.in_table_order = _as_is if as_stored else shape.in_table_order


def _as_is(values: tuple[object, ...]) -> tuple[object, ...]:
    return values


def _unknown_columns(count: int) -> tuple[str, ...]:
    return tuple(f"c{i + 1}" for i in range(count))


def _identity(table: str | None, values: tuple[object, ...]) -> tuple[object, ...]:
    """`table` and values as a dictionary key that tells 1 from 1.0 and True from 1 (and LOST from None),
    -0.0 from 0.0, and a NaN equals itself: the values marshalled (each one's type is written; format 2
    writes no back-references, which would make equal values' bytes differ), LOST as `...` (no value
    read from a page is that)."""
    if LOST in values:
        values = tuple(map(_LOST_AS_ELLIPSIS.get, values, values))
    try:
        return (table, marshal.dumps(values, 2))
    except ValueError:  # a value of no SQLite kind (none is expected): its class, then itself
        return (table, *map(type, values), *values)


_LOST_AS_ELLIPSIS = {LOST: ...}
