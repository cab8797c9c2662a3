"""Every record one page image holds: its cells, and what its freeblocks and gap still keep.

For pages that do not come from the snapshot's file image: a WAL frame's page, say, whose cells are the
rows as they were at that commit. The caller gives the page's bytes and what it knows about the database
(usable size, text encoding) and the candidate shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop_app.core.pagefile.btree import Page, PageKind, freeblocks, parse_btree_page, unallocated
from desktop_app.core.recovery.carve import Carved, Region, carve_range, clobbered_cell, intact_cell
from desktop_app.core.recovery.shapes import Shape


@dataclass(frozen=True)
class PageRecord:
    """A record of a page image and where on the page it was: "cell", "freeblock" or "unallocated"."""

    carved: Carved
    place: str


def _no_page(_number: int) -> Page | None:
    return None


def page_records(
    page: Page,
    number: int,
    usable_size: int,
    encoding: str,
    shapes: Sequence[Shape],
    *,
    overflow_page: Callable[[int], Page | None] = _no_page,
    unknown: bool = True,
) -> list[PageRecord]:
    """The records of one leaf page image (none for other pages); `overflow_page` reads overflow pages."""
    btree = parse_btree_page(page, number, usable_size)
    if btree is None or not btree.kind.leaf:
        return []
    region = Region(page, number, usable_size, encoding, btree.kind is PageKind.TABLE_LEAF, overflow_page)
    found = []
    for pointer in btree.cell_pointers:
        carved = intact_cell(region, pointer, usable_size, shapes, unknown=unknown)
        if carved is not None:
            found.append(PageRecord(carved, "cell"))
    for start, size in freeblocks(page, btree, usable_size):
        first = clobbered_cell(region, start, start + size, shapes)
        at = start + (first.length if first is not None else 4)
        found += [PageRecord(c, "freeblock") for c in ([first] if first is not None else [])]
        found += [PageRecord(c, "freeblock") for c in carve_range(region, at, start + size, shapes)]
    gap_start, gap_end = unallocated(btree)
    found += [
        PageRecord(c, "unallocated") for c in carve_range(region, gap_start, gap_end, shapes, unknown=unknown)
    ]
    return found
