"""Whole-result steps of a scan done so that no single C call holds the GIL for long.

A scan runs in a worker thread while the window's thread waits for the GIL at each event it handles.
CPython hands the GIL over only between bytecodes: one C call over a 1 GB scan's ~900k records held it
for a second (sorting them: 1.2 s; freeing the dictionary of their keys: 0.23 s; freeing the lookup
tables of the live-copy check: 30-90 ms each), the window frozen meanwhile. These do the same work in
steps small enough for the GIL to change hands between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np

from desktop_app.core.recovery.model import RecoveredRecord


def in_page_order(records: Iterable[RecoveredRecord]) -> list[RecoveredRecord]:
    """`records` sorted by (page, offset), equal ones in their order (as a stable `sorted` would).

    The keys are sorted by numpy, which lets the GIL go while it sorts integers."""
    found = list(records)
    keys = np.fromiter(((r.page << 17) | r.offset for r in found), dtype=np.int64, count=len(found))
    return [found[i] for i in np.argsort(keys, kind="stable").tolist()]


def release(container: dict[Any, Any] | list[Any]) -> None:
    """Empty `container` an item at a time (nested dictionaries and lists too): freed at once, a big one
    is freed in one C call that holds the GIL throughout. A small one is emptied at once: item by item, it
    cost a sparse scan several times what freeing it does."""
    if _quick_to_free(container):
        container.clear()
    elif isinstance(container, dict):
        while container:
            _key, value = container.popitem()
            if isinstance(value, dict) or (isinstance(value, list) and not _small(value)):
                release(value)
    elif any(isinstance(value, dict | list) for value in container):
        while container:
            value = container.pop()
            if isinstance(value, dict | list):
                release(value)
    else:
        while container:
            del container[-_SLICE:]  # a slice's items freed in one call: a few hundred microseconds


#: Items of a list freed in one call (a few hundred microseconds).
_SLICE = 4096
#: Items of a container (and of the lists it holds) freed in one call (a few milliseconds at most).
_AT_ONCE = 16384
_CONTAINERS = frozenset({dict, list})


def _quick_to_free(container: dict[Any, Any] | list[Any]) -> bool:
    """True when `container` holds at most `_AT_ONCE` items, none of them a dictionary or list, or lists of
    such items (as the live-copy check's lookup tables do) with at most `_AT_ONCE` items in all. Counted
    and looked at in C: no Python step per item."""
    items = container.values() if isinstance(container, dict) else container
    if len(items) > _AT_ONCE:
        return False
    kinds = set(map(type, items))
    if _CONTAINERS.isdisjoint(kinds):
        return True
    return (
        kinds == {list}
        and sum(map(len, items)) <= _AT_ONCE
        and _CONTAINERS.isdisjoint(map(type, chain.from_iterable(items)))
    )


def _small(items: list[Any]) -> bool:
    """True for a list short enough to free in one call, holding no dictionary or list (its items'
    classes looked at in C: no Python step per item)."""
    return len(items) <= _SLICE and _CONTAINERS.isdisjoint(map(type, items))
