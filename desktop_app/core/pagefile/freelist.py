"""The freelist: a chain of trunk pages from the database header, each listing free leaf pages."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from desktop_app.core.pagefile.btree import Page

_UINT32 = struct.Struct(">I")


def freelist_trunks(
    read_page: Callable[[int], Page], page_count: int, first_trunk: int, usable_size: int | None = None
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Each trunk page of the chain starting at `first_trunk` with the leaf page numbers it lists (not
    checked), stopping at a page out of range or seen before. A trunk lists at most as many leaves as
    fit in `usable_size` bytes (default: the whole page)."""
    trunk, seen = first_trunk, set()
    while 1 <= trunk <= page_count and trunk not in seen:
        seen.add(trunk)
        data = read_page(trunk)
        room = len(data) if usable_size is None else min(usable_size, len(data))
        if room < 8:
            return
        count = min(_UINT32.unpack_from(data, 4)[0], room // 4 - 2)
        yield trunk, struct.unpack_from(f">{count}I", data, 8)
        trunk = _UINT32.unpack_from(data, 0)[0]
