"""Complete column profiles kept per snapshot generation: a new snapshot never sees an old figure."""

from __future__ import annotations

import threading
from collections import OrderedDict

from desktop_app.core.limits import LIMITS
from desktop_app.core.profile.model import ColumnProfile

#: (snapshot generation, schema, table, column)
CacheKey = tuple[int, str, str, str]


class ProfileCache:
    """A small thread-safe LRU of complete profiles."""

    def __init__(self, capacity: int = LIMITS.profile_cached_columns) -> None:
        self._capacity = capacity
        self._items: OrderedDict[CacheKey, ColumnProfile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> ColumnProfile | None:
        """The profile kept under `key`, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: CacheKey, profile: ColumnProfile) -> None:
        """Keep `profile`, dropping the least recently used beyond the capacity."""
        with self._lock:
            self._items[key] = profile
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def forget_generation(self, generation: int) -> None:
        """Drop every profile of one snapshot (say when it is closed)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == generation]:
                del self._items[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
