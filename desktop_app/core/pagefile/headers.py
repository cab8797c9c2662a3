"""Every page's b-tree header fields at once (numpy over the whole image): which pages are leaves, where
their freeblock chain starts and their unallocated gap lies, without Python work per page."""

from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np

from desktop_app.core.pagefile.btree import PageKind
from desktop_app.core.pagefile.image import DatabaseImage

try:  # built at install where a C compiler is found (setup.py); numpy does the same work without it
    from desktop_app.core.pagefile import _kernels
except ImportError:  # pragma: no cover - the fallback is tested directly
    _kernels = None

Buffer = bytes | bytearray | memoryview | mmap.mmap
_LEAVES = (PageKind.INDEX_LEAF.value, PageKind.TABLE_LEAF.value)
_INTERIORS = (PageKind.INDEX_INTERIOR.value, PageKind.TABLE_INTERIOR.value)


@dataclass(frozen=True)
class PageHeaders:
    """Header fields indexed by page number (index 0 unused), as a leaf page's 8-byte header reads."""

    kind: np.ndarray
    first_freeblock: np.ndarray
    #: Start and end of the unallocated gap (the cell pointer array's end, the cell content's start).
    gap_start: np.ndarray
    gap_end: np.ndarray
    #: Leaf pages whose header is consistent (the cell pointers themselves are not checked).
    leaf: np.ndarray
    interior: np.ndarray


def page_headers(image: DatabaseImage) -> PageHeaders:
    """The header fields of every page of `image` (page 1's header follows the database header)."""
    count, size, usable = image.page_count, image.page_size, image.usable_size
    # Each page's first eight bytes gathered as one word (a strided view: only those bytes are read), its
    # fields taken out of the word with shifts (the header is big-endian, the word little-endian).
    words = np.zeros(count + 1, dtype=np.uint64)
    words[1:] = np.frombuffer(image.data, dtype="<u8", count=count * size // 8)[:: size // 8]
    if count:
        words[1] = np.frombuffer(image.data, dtype="<u8", count=1, offset=100)[0]
    head = words.view(np.int64)
    kind = head & 0xFF
    first_freeblock = (head & 0xFF00) | ((head >> 16) & 0xFF)
    cell_count = ((head >> 16) & 0xFF00) | ((head >> 32) & 0xFF)
    content_start = ((head >> 32) & 0xFF00) | ((head >> 48) & 0xFF)
    content_start[content_start == 0] = 65536
    gap_start = 8 + 2 * cell_count
    gap_start[1] += 100
    leaf = np.isin(kind, _LEAVES)
    leaf &= (gap_start <= usable) & (content_start <= usable) & (content_start >= gap_start)
    leaf &= (first_freeblock == 0) | ((content_start <= first_freeblock) & (first_freeblock < usable))
    leaf[0] = False
    interior = np.isin(kind, _INTERIORS)
    interior[0] = False
    return PageHeaders(kind, first_freeblock, gap_start, content_start, leaf, interior)


_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: Most 8-byte words gathered at once by `any_nonzero` (bounds its temporary arrays to ~100 MB).
_BATCH_WORDS = 1 << 22


def any_nonzero(data: Buffer, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each non-empty byte range [starts[i], ends[i]) of `data` (a whole number of 8-byte words long),
    True when it holds a byte that is not zero. Only the ranges' own bytes are read: by the C loop where
    it was built (the GIL let go meanwhile; a fifth of a sparse scan's time in numpy), else by numpy."""
    if _kernels is None:
        return any_nonzero_numpy(data, starts, ends)
    found = np.zeros(len(starts), dtype=bool)
    _kernels.any_nonzero(
        data, np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(ends, dtype=np.int64), found
    )
    return found


def any_nonzero_numpy(data: Buffer, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """`any_nonzero` in numpy: each range's first and last words masked, the words between gathered and
    tested in batches."""
    words = np.frombuffer(data, dtype="<u8")
    starts, ends = starts.astype(np.int64), ends.astype(np.int64)
    first, last = starts // 8, (ends - 1) // 8
    head = _ALL_ONES << ((starts % 8) * 8).astype(np.uint64)
    tail_bits = ((ends - 1) % 8 + 1) * 8
    tail = np.where(
        tail_bits == 64, _ALL_ONES, (np.uint64(1) << (tail_bits % 64).astype(np.uint64)) - np.uint64(1)
    )
    same = first == last
    head = np.where(same, head & tail, head)
    found = (words[first] & head) != 0
    found |= ~same & ((words[last] & tail) != 0)
    inner = np.maximum(last - first - 1, 0)
    todo = np.flatnonzero(~found & (inner > 0))
    if not len(todo):
        return found
    ends_cum = np.cumsum(inner[todo])
    at = 0
    while at < len(todo):
        base = int(ends_cum[at - 1]) if at else 0
        stop = max(at + 1, int(np.searchsorted(ends_cum, base + _BATCH_WORDS, side="right")))
        batch = todo[at:stop]
        lengths = inner[batch]
        offsets = np.cumsum(lengths) - lengths
        # The word indexes of all the ranges end to end: steps of one, a jump at each range's start.
        steps = np.ones(int(lengths.sum()), dtype=np.int64)
        steps[offsets] = first[batch] + 1
        steps[offsets[1:]] -= first[batch][:-1] + lengths[:-1]
        found[batch] = np.logical_or.reduceat(words[np.cumsum(steps)] != 0, offsets)
        at = stop
    return found
