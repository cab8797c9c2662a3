"""Which table (or index) each page belongs to in a database image: a walk of the b-trees' interior pages.

A b-tree is balanced: all children of an interior page are on one level, so one child's type byte says
whether the others are interior pages too, and leaves are never read. Pages in no b-tree are freelist
pages (walked from the header's trunk list) or overflow pages (not attributed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from desktop_app.core.pagefile.btree import PageKind, interior_children, page_type
from desktop_app.core.pagefile.freelist import freelist_trunks
from desktop_app.core.pagefile.image import DatabaseImage

#: Page types (first byte of a b-tree page's header).
INTERIOR_TYPES = frozenset({PageKind.INDEX_INTERIOR.value, PageKind.TABLE_INTERIOR.value})
FREELIST = "(freelist)"

PageReader = Callable[[int], bytes | memoryview]


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
        return page_type(self._read(page), page)

    def _parse_children(self, page: int) -> list[int]:
        return interior_children(self._read(page), page)

    def freelist(self) -> list[int]:
        """The freelist's trunk and leaf pages, from the header of page 1."""
        head = self._read(1)
        total = int.from_bytes(head[36:40], "big")
        pages: list[int] = []
        for trunk, leaves in freelist_trunks(self._read, self._count, int.from_bytes(head[32:36], "big")):
            if len(pages) > total:
                break
            pages.append(trunk)
            pages.extend(leaves)
        return pages


def btree_pages(image: DatabaseImage, root: int) -> tuple[set[int], set[int]]:
    """The interior and leaf pages of the b-tree at `root` in `image` (overflow pages are not followed;
    a leaf is any page reached that is not an interior page)."""
    data, size, count = image.data, image.page_size, image.page_count
    interior: set[int] = set()
    leaves: set[int] = set()
    stack = [root]
    while stack:
        page = stack.pop()
        if page in interior or page in leaves or not 1 <= page <= count:
            continue
        start = (page - 1) * size
        if data[start + (100 if page == 1 else 0)] not in INTERIOR_TYPES:  # read one byte of each leaf
            leaves.add(page)
            continue
        interior.add(page)
        stack.extend(interior_children(data[start : start + size], page))
    return interior, leaves
