"""Every page's b-tree header fields at once (numpy over the whole image): which pages are leaves, where
their freeblock chain starts and their unallocated gap lies, without Python work per page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_app.core.pagefile.btree import PageKind
from desktop_app.core.pagefile.image import DatabaseImage

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
    pages = np.frombuffer(image.data, dtype=np.uint8, count=count * size).reshape(count, size)
    head = np.zeros((count + 1, 8), dtype=np.int64)
    head[1:] = pages[:, :8]
    if count:
        head[1] = pages[0, 100:108]
    kind = head[:, 0]
    first_freeblock = (head[:, 1] << 8) | head[:, 2]
    cell_count = (head[:, 3] << 8) | head[:, 4]
    content_start = (head[:, 5] << 8) | head[:, 6]
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
