"""glibc's malloc told to serve large blocks from its heap, in a process that scans a database and exits.

A scan's numpy temporaries are a few MB each (a field of every page's header: 2 MB a GB of 4 KB pages).
By default glibc maps each block of that size afresh and unmaps it when freed, so every temporary's pages
fault in again: measured on a 1 GB file, a tenth to a sixth of the whole scan. From the heap, the same
pages serve one temporary after another. Not for the window's process: a heap that keeps large freed
blocks holds on to memory a long-running program should hand back.
"""

from __future__ import annotations

import ctypes
import os

#: mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap (glibc's own ceiling for its adaptive threshold is 32 MB).
HEAP_BLOCKS_UP_TO = 64 << 20
#: Free memory at the heap's top kept for reuse, up to this much, not handed back after each block.
KEPT_FREE_UP_TO = 128 << 20


def keep_large_blocks_in_heap() -> bool:
    """Set glibc's thresholds for this process (see the module); False where the C library is not glibc
    or refuses."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):  # no such confstr name (not glibc), no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO)) and bool(
        mallopt(_M_TRIM_THRESHOLD, KEPT_FREE_UP_TO)
    )
