"""Which table (or index) each page belongs to in a database image: a walk of the b-trees' interior pages.

A b-tree is balanced: all children of an interior page are on one level, so one child's type byte says
whether the others are interior pages too, and leaves are never read. Pages in no b-tree are freelist
pages (walked from the header's trunk list) or overflow pages (not attributed).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

#: Page types (first byte of a b-tree page's header).
INTERIOR_TYPES = (0x02, 0x05)
LEAF_TYPES = (0x0A, 0x0D)
FREELIST = "(freelist)"

PageReader = Callable[[int], bytes | memoryview]
_UINT32 = struct.Struct(">I")


class PageOwners:
    """The owner of pages of one database image: `roots` maps root page → owner name.

    `version(page)` names the version of a page (the frame it comes from, -1 for the database file):
    an interior page's children are parsed once per version, in `cache` (shared between images).
    """

    def __init__(
        self,
        read_page: PageReader,
        page_count: int,
        roots: dict[int, str],
        version: Callable[[int], int] = lambda _page: -1,
        cache: dict[tuple[int, int], list[int]] | None = None,
    ) -> None:
        self._read = read_page
        self._count = page_count
        self._roots = roots
        self._version = version
        self._cache = cache if cache is not None else {}

    def owners_of(self, pages: Iterable[int]) -> dict[int, str]:
        """The owner of each page in `pages` that belongs to a b-tree or the freelist."""
        wanted = {p for p in pages if 1 <= p <= self._count}
        found: dict[int, str] = {}
        for root, owner in self._roots.items():
            if not wanted:
                break
            for page in self._find_in_tree(root, wanted):
                found[page] = owner
        if wanted:
            for page in self.freelist():
                if page in wanted:
                    found[page] = FREELIST
        return found

    def _find_in_tree(self, root: int, wanted: set[int]) -> set[int]:
        """The pages of `wanted` in the b-tree at `root`, taken out of `wanted` (leaves are never read)."""
        hits: set[int] = set()
        if not 1 <= root <= self._count:
            return hits
        if root in wanted:
            hits.add(root)
            wanted.discard(root)
        level, seen = [root], {root}
        while level and wanted:
            following: list[int] = []
            interior: bool | None = None
            for page in level:
                children = self._children(page)
                if not children:
                    continue
                found = wanted.intersection(children)
                if found:
                    hits |= found
                    wanted -= found
                if interior is None:
                    interior = self._page_type(children[0]) in INTERIOR_TYPES
                if interior:
                    fresh = [c for c in children if c not in seen and 1 <= c <= self._count]
                    seen.update(fresh)
                    following.extend(fresh)
            level = following if interior else []
        return hits

    def tree_pages(self, root: int) -> list[int]:
        """Every page of the b-tree at `root`, interior pages and leaves (overflow pages are not included)."""
        pages, level, seen = [root], [root], {root}
        while level:
            following = []
            for page in level:
                fresh = [c for c in self._children(page) if c not in seen and 1 <= c <= self._count]
                seen.update(fresh)
                following.extend(fresh)
            pages.extend(following)
            level = following
        return pages

    def _children(self, page: int) -> list[int]:
        key = (page, self._version(page))
        children = self._cache.get(key)
        if children is None:
            children = self._cache[key] = self._parse_children(page)
        return children

    def _page_type(self, page: int) -> int:
        data = self._read(page)
        offset = 100 if page == 1 else 0
        return data[offset] if len(data) > offset else 0

    def _parse_children(self, page: int) -> list[int]:
        """The child page numbers of an interior page (empty for a leaf or anything else)."""
        data = self._read(page)
        h = 100 if page == 1 else 0
        if len(data) < h + 12 or data[h] not in INTERIOR_TYPES:
            return []
        cells = int.from_bytes(data[h + 3 : h + 5], "big")
        right = int.from_bytes(data[h + 8 : h + 12], "big")
        pointers = struct.unpack_from(f">{cells}H", data, h + 12) if h + 12 + 2 * cells <= len(data) else ()
        size = len(data)
        children = [_UINT32.unpack_from(data, p)[0] for p in pointers if p + 4 <= size]
        children.append(right)
        return children

    def freelist(self) -> list[int]:
        """The freelist's trunk and leaf pages, from the header of page 1."""
        head = self._read(1)
        trunk = int.from_bytes(head[32:36], "big")
        total = int.from_bytes(head[36:40], "big")
        pages: list[int] = []
        seen: set[int] = set()
        while 1 <= trunk <= self._count and trunk not in seen and len(pages) <= total:
            seen.add(trunk)
            data = self._read(trunk)
            pages.append(trunk)
            leaves = min(int.from_bytes(data[4:8], "big"), (len(data) - 8) // 4)
            pages.extend(struct.unpack_from(f">{leaves}I", data, 8))
            trunk = int.from_bytes(data[0:4], "big")
        return pages
