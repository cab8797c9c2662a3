"""A bounded, single-flight cache of query results for immutable snapshots."""

from __future__ import annotations

import asyncio
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any


@dataclass
class CacheStats:
    """How the cache has been used, for the status bar and tests."""

    hits: int = 0
    misses: int = 0
    shared: int = 0  #: requests that joined an execution already under way
    evictions: int = 0


def approximate_size(rows: list[tuple[Any, ...]]) -> int:
    """A cheap estimate of the memory a list of rows takes (samples the first rows)."""
    if not rows:
        return 64
    sample = rows[:50]
    per_row = sum(sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row) for row in sample) / len(sample)
    return int(per_row * len(rows)) + 64


class ResultCache:
    """LRU by approximate size; keys include the snapshot generation so a reload never serves old rows."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Approximate bytes held."""
        return self._bytes

    async def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], Awaitable[Any]],
        size_of: Callable[[Any], int | None],
    ) -> tuple[Any, bool]:
        """Return (value, from_cache); concurrent calls with one key share one `compute()`.

        `size_of(value)` returns the bytes to account, or None to not cache the value.
        """
        if key in self._entries:
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return self._entries[key][0], True
        pending = self._in_flight.get(key)
        if pending is not None:
            self.stats.shared += 1
            return await asyncio.shield(pending), True
        self.stats.misses += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: a failure with no waiters is not an error
            raise
        finally:
            self._in_flight.pop(key, None)
        future.set_result(value)
        size = size_of(value)
        if size is not None and size <= self.max_bytes:
            self._store(key, value, size)
        return value, False

    def _store(self, key: Hashable, value: Any, size: int) -> None:
        self._entries[key] = (value, size)
        self._bytes += size
        while self._bytes > self.max_bytes and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= evicted
            self.stats.evictions += 1

    def drop_generation(self, generation: int) -> None:
        """Forget every result of one snapshot generation (keys are tuples starting with it)."""
        for key in [k for k in self._entries if isinstance(k, tuple) and k and k[0] == generation]:
            self._bytes -= self._entries.pop(key)[1]

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self._bytes = 0
