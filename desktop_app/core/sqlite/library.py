"""Direct calls into the SQLite library the `sqlite3` module uses, for what Python does not expose.

Used for three things only: raising a memdb's size cap (`SQLITE_FCNTL_SIZE_LIMIT`), reading the
declared types of a statement's result columns (`sqlite3_column_decltype`), and copying a named memdb's
image in one read (`read_memdb_image`). Everything degrades gracefully when the library cannot be reached
this way.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import sqlite3

SQLITE_OPEN_READONLY = 0x01
SQLITE_OPEN_READWRITE = 0x02
SQLITE_OPEN_URI = 0x40
SQLITE_FCNTL_SIZE_LIMIT = 36
SQLITE_FCNTL_FILE_POINTER = 7
#: Bytes a memdb image is read in per call (the VFS's xRead takes an int).
_READ_CHUNK = 64 * 2**20


@functools.cache
def sqlite_library() -> ctypes.CDLL | None:
    """Return the library behind `sqlite3` through ctypes, or None if it is not the same one."""
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_open_v2.argtypes = [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.c_char_p,
        ]
        lib.sqlite3_file_control.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
        lib.sqlite3_close_v2.argtypes = [ctypes.c_void_p]
        lib.sqlite3_prepare_v2.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_char_p),
        ]
        lib.sqlite3_column_count.argtypes = [ctypes.c_void_p]
        lib.sqlite3_column_decltype.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.sqlite3_column_decltype.restype = ctypes.c_char_p
        lib.sqlite3_finalize.argtypes = [ctypes.c_void_p]
        lib.sqlite3_libversion_number.restype = ctypes.c_int
        lib.sqlite3_exec.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        major, minor, patch = sqlite3.sqlite_version_info
        if lib.sqlite3_libversion_number() != major * 1_000_000 + minor * 1000 + patch:
            return None
        return lib
    except (OSError, AttributeError, ImportError):
        return None


def raise_memdb_limit(memdb_uri: str, limit: int) -> bool:
    """Raise the size cap of the named memdb at `memdb_uri` (shared by every connection of the process)."""
    lib = sqlite_library()
    if lib is None:
        return False
    handle = ctypes.c_void_p()
    try:
        if lib.sqlite3_open_v2(
            memdb_uri.encode(), ctypes.byref(handle), SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, None
        ):
            return False
        value = ctypes.c_int64(limit)
        rc = lib.sqlite3_file_control(handle, b"main", SQLITE_FCNTL_SIZE_LIMIT, ctypes.byref(value))
        return rc == 0 and value.value >= limit
    finally:
        lib.sqlite3_close_v2(handle)


class _IoMethods(ctypes.Structure):
    """The head of `sqlite3_io_methods` (public VFS interface): its version and xRead."""

    _fields_ = [
        ("iVersion", ctypes.c_int),
        ("xClose", ctypes.c_void_p),
        (
            "xRead",
            ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int64),
        ),
    ]


class _File(ctypes.Structure):
    _fields_ = [("pMethods", ctypes.POINTER(_IoMethods))]


def _zeroed_buffer(size: int) -> bytearray | mmap.mmap:
    """`size` writable bytes, not touched yet: an anonymous mapping (a `bytearray` zero-fills them while
    holding the GIL, a second of stalled window per gigabyte); its pages fault in during the reads, which
    run without the GIL."""
    if size:
        try:
            return mmap.mmap(-1, size)
        except OSError:
            pass
    return bytearray(size)


def read_memdb_image(memdb_uri: str, size: int) -> bytearray | mmap.mmap | None:
    """The `size` bytes of the named memdb at `memdb_uri`, read through its VFS in a few large reads under
    a read transaction (no writer can change it meanwhile), with the GIL released; None when the library
    cannot be reached this way. `sqlite3.Connection.serialize` copies a named memdb page by page, then
    again into a Python object while holding the GIL."""
    lib = sqlite_library()
    if lib is None:
        return None
    handle = ctypes.c_void_p()
    try:
        if lib.sqlite3_open_v2(
            memdb_uri.encode(), ctypes.byref(handle), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, None
        ):
            return None
        if lib.sqlite3_exec(handle, b"BEGIN; SELECT count(*) FROM sqlite_schema", None, None, None):
            return None
        file = ctypes.POINTER(_File)()
        if (
            lib.sqlite3_file_control(handle, b"main", SQLITE_FCNTL_FILE_POINTER, ctypes.byref(file))
            or not file
        ):
            return None
        read = file.contents.pMethods.contents.xRead
        image = _zeroed_buffer(size)
        buffer = (ctypes.c_char * size).from_buffer(image)
        base = ctypes.addressof(buffer)
        for offset in range(0, size, _READ_CHUNK):
            amount = min(_READ_CHUNK, size - offset)
            if read(file, base + offset, amount, offset):
                return None
        del buffer
        return image
    finally:
        lib.sqlite3_close_v2(handle)


class DeclaredTypes:
    """Reads declared column types of statements by preparing them on a private read-only connection."""

    def __init__(self, uri: str) -> None:
        self._lib = sqlite_library()
        self._handle = ctypes.c_void_p()
        if self._lib is not None and self._lib.sqlite3_open_v2(
            uri.encode(), ctypes.byref(self._handle), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, None
        ):
            self.close()

    def of(self, sql: str, count: int) -> list[str]:
        """Declared type of each result column of `sql` ('' for expressions or when unknown)."""
        if self._lib is None or not self._handle:
            return [""] * count
        stmt = ctypes.c_void_p()
        if self._lib.sqlite3_prepare_v2(
            self._handle, sql.encode("utf-8", "surrogatepass"), -1, ctypes.byref(stmt), None
        ):
            self._lib.sqlite3_finalize(stmt)
            return [""] * count
        try:
            if self._lib.sqlite3_column_count(stmt) != count:
                return [""] * count
            return [
                (self._lib.sqlite3_column_decltype(stmt, i) or b"").decode("utf-8", "replace")
                for i in range(count)
            ]
        finally:
            self._lib.sqlite3_finalize(stmt)

    def close(self) -> None:
        """Close the private connection."""
        if self._lib is not None and self._handle:
            self._lib.sqlite3_close_v2(self._handle)
        self._handle = ctypes.c_void_p()
