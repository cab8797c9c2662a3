"""B-tree pages from bytes: header, cell pointers, freeblock chain, unallocated gap, children, overflow.

Every reader here works on one page's bytes (a `memoryview` or `bytes`), so the same code reads pages of
the snapshot and page images from WAL frames. Corrupt bytes never raise: a reader returns None or an
empty list, or stops at the first impossible value.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

Page = bytes | memoryview


class PageKind(IntEnum):
    """The b-tree page types (byte 0 of the page header)."""

    INDEX_INTERIOR = 2
    TABLE_INTERIOR = 5
    INDEX_LEAF = 10
    TABLE_LEAF = 13

    @property
    def leaf(self) -> bool:
        """True for leaf pages (they hold records)."""
        return self in (PageKind.INDEX_LEAF, PageKind.TABLE_LEAF)

    @property
    def table(self) -> bool:
        """True for table (rowid) b-trees; False for index b-trees (indexes and WITHOUT ROWID tables)."""
        return self in (PageKind.TABLE_INTERIOR, PageKind.TABLE_LEAF)


_KINDS = {kind.value: kind for kind in PageKind}
_INTERIOR = frozenset({PageKind.INDEX_INTERIOR.value, PageKind.TABLE_INTERIOR.value})
_UINT32 = struct.Struct(">I")


def varint(buf: Page, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it; `ValueError` when it runs past `end`."""
    value = 0
    if end - pos >= 9:  # the common case: no byte of it can run past `end`, so no check per byte
        for at in range(pos, pos + 8):
            byte = buf[at]
            if byte < 0x80:
                return (value << 7) | byte, at + 1
            value = (value << 7) | (byte & 0x7F)
        return (value << 8) | buf[pos + 8], pos + 9
    for i in range(9):
        if pos + i >= end:
            raise ValueError("varint runs past its region")
        byte = buf[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise AssertionError("unreachable")


def signed64(value: int) -> int:
    """A varint's 64 bits read as a two's-complement integer (rowids may be negative)."""
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class BTreePage:
    """A b-tree page's header, as far as it is consistent."""

    number: int
    kind: PageKind
    #: Where the page header starts (100 on page 1, after the database header).
    header_offset: int
    first_freeblock: int
    cell_count: int
    content_start: int
    fragmented: int
    right_child: int
    cell_pointers: tuple[int, ...]

    @property
    def pointers_end(self) -> int:
        """Offset just past the cell pointer array."""
        return self.header_offset + (8 if self.kind.leaf else 12) + 2 * self.cell_count


def parse_btree_page(page: Page, number: int, usable_size: int) -> BTreePage | None:
    """The page's b-tree header, or None when the bytes are not a consistent b-tree page."""
    offset = 100 if number == 1 else 0
    if len(page) < offset + 12 or usable_size > len(page):
        return None
    kind = _KINDS.get(page[offset])
    if kind is None:
        return None
    first_freeblock = (page[offset + 1] << 8) | page[offset + 2]
    cell_count = (page[offset + 3] << 8) | page[offset + 4]
    content_start = (page[offset + 5] << 8) | page[offset + 6] or 65536
    fragmented = page[offset + 7]
    header_size = 8 if kind.leaf else 12
    right_child = int.from_bytes(page[offset + 8 : offset + 12], "big") if not kind.leaf else 0
    pointers_end = offset + header_size + 2 * cell_count
    if pointers_end > usable_size or content_start > usable_size or content_start < pointers_end:
        return None
    if first_freeblock and not content_start <= first_freeblock < usable_size:
        return None
    pointers = struct.unpack_from(f">{cell_count}H", page, offset + header_size)
    if pointers and not content_start <= min(pointers) <= max(pointers) < usable_size:
        return None
    return BTreePage(
        number, kind, offset, first_freeblock, cell_count, content_start, fragmented, right_child, pointers
    )


def freeblocks(page: Page, btree: BTreePage, usable_size: int) -> list[tuple[int, int]]:
    """The freeblock chain as (offset, size) pairs, stopping at the first impossible link."""
    return freeblock_chain(page, btree.first_freeblock, btree.content_start, usable_size)


def freeblock_chain(page: Page, first: int, content_start: int, usable_size: int) -> list[tuple[int, int]]:
    """`freeblocks` of a page whose header's first freeblock and cell content start are given."""
    blocks: list[tuple[int, int]] = []
    at = first
    last_end = content_start
    while at:
        if at < last_end or at + 4 > usable_size:
            break
        following = (page[at] << 8) | page[at + 1]
        size = (page[at + 2] << 8) | page[at + 3]
        if size < 4 or at + size > usable_size:
            break
        blocks.append((at, size))
        if following and following <= at + size:
            break
        last_end = at + size
        at = following
    return blocks


def unallocated(btree: BTreePage) -> tuple[int, int]:
    """The gap between the cell pointer array and the cell content area, as (start, end)."""
    return btree.pointers_end, btree.content_start


_FOUR = np.arange(4)


def left_children(page: Page, btree: BTreePage) -> np.ndarray:
    """The left child page numbers of an interior page's cells, in cell order (int64)."""
    pointers = np.frombuffer(page, dtype=">u2", count=btree.cell_count, offset=btree.header_offset + 12)
    pointers = pointers[pointers.astype(np.int64) + 4 <= len(page)].astype(np.int64)
    # The four big-endian bytes of each cell's left child, gathered at once and read as one number.
    raw = np.frombuffer(page, dtype=np.uint8)
    return raw[pointers[:, None] + _FOUR].view(">u4").ravel().astype(np.int64)


def page_type(page: Page, number: int) -> int:
    """Byte 0 of the page's b-tree header (after the database header on page 1); 0 when there is none."""
    offset = 100 if number == 1 else 0
    return page[offset] if len(page) > offset else 0


def interior_children(page: Page, number: int) -> list[int]:
    """Child page numbers of interior page `number`, [] for any other page; the header is not checked.

    The quick reader for walks over many pages (`children` reads a page `parse_btree_page` has checked).
    """
    offset = 100 if number == 1 else 0
    size = len(page)
    if size < offset + 12 or page[offset] not in _INTERIOR:
        return []
    cells = (page[offset + 3] << 8) | page[offset + 4]
    right = _UINT32.unpack_from(page, offset + 8)[0]
    fits = offset + 12 + 2 * cells <= size
    pointers = struct.unpack_from(f">{cells}H", page, offset + 12) if fits else ()
    found = [_UINT32.unpack_from(page, p)[0] for p in pointers if p + 4 <= size]
    found.append(right)
    return found


def max_local(usable_size: int, table_leaf: bool) -> int:
    """Most payload bytes a cell keeps on its page before spilling to overflow pages."""
    return usable_size - 35 if table_leaf else (usable_size - 12) * 64 // 255 - 23


def local_size(payload: int, usable_size: int, table_leaf: bool) -> int:
    """Payload bytes a cell of `payload` bytes keeps on its page (the rest is on overflow pages)."""
    most = max_local(usable_size, table_leaf)
    if payload <= most:
        return payload
    least = (usable_size - 12) * 32 // 255 - 23
    kept = least + (payload - least) % (usable_size - 4)
    return kept if kept <= most else least


def read_overflow(
    first: int,
    length: int,
    usable_size: int,
    page_of: Callable[[int], Page | None],
) -> tuple[bytes, list[int]]:
    """Up to `length` payload bytes from the overflow chain starting at page `first`, and its pages.

    `page_of` returns a page's bytes, or None when it is not free to read (live, out of range, seen):
    the chain then stops there and fewer bytes come back.
    """
    chunks: list[bytes] = []
    pages: list[int] = []
    remaining = length
    at = first
    seen: set[int] = set()
    while remaining > 0 and at and at not in seen:
        seen.add(at)
        page = page_of(at)
        if page is None:
            break
        take = min(remaining, usable_size - 4)
        chunks.append(bytes(page[4 : 4 + take]))
        pages.append(at)
        remaining -= take
        at = int.from_bytes(page[0:4], "big")
    return b"".join(chunks), pages
