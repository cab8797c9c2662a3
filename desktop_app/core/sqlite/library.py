"""Direct calls into the SQLite library the `sqlite3` module uses, for what Python does not expose.

Used for four things only: raising a memdb's size cap (`SQLITE_FCNTL_SIZE_LIMIT`), reading the
declared types of a statement's result columns (`sqlite3_column_decltype`), reading a named memdb's
image in place or in one copy (`memdb_image`), and giving a connection an image it reads where it lies
(`deserialize_in_place`). Everything degrades gracefully when the library cannot be reached this way.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import sqlite3
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

SQLITE_OPEN_READONLY = 0x01
SQLITE_OPEN_READWRITE = 0x02
SQLITE_OPEN_URI = 0x40
SQLITE_FCNTL_SIZE_LIMIT = 36
SQLITE_FCNTL_FILE_POINTER = 7
SQLITE_DESERIALIZE_READONLY = 4
#: Bytes a memdb image is read in per call (the VFS's xRead takes an int).
_READ_CHUNK = 64 * 2**20
#: Library versions whose memdb keeps a shared store as `_MemStore` lays it out (memdb.c since 3.36.0,
#: when named memdbs became shared); others are copied.
_MEMSTORE_VERSIONS = range(3_036_000, 3_050_000)


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
        lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.sqlite3_db_filename.restype = ctypes.c_char_p
        handle_and_name = lib.sqlite3_db_filename.argtypes
        lib.sqlite3_deserialize.argtypes = [
            *handle_and_name,
            ctypes.c_void_p,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_uint,
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


class _MemStore(ctypes.Structure):
    """The head of memdb.c's `MemStore` (not public): the file's size, its allocation, its cap, its bytes."""

    _fields_ = [
        ("sz", ctypes.c_int64),
        ("szAlloc", ctypes.c_int64),
        ("szMax", ctypes.c_int64),
        ("aData", ctypes.c_void_p),
    ]


class _MemFile(ctypes.Structure):
    """The head of memdb.c's `MemFile` (not public): the open file and the store it shares."""

    _fields_ = [("base", _File), ("pStore", ctypes.POINTER(_MemStore))]


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


@contextmanager
def memdb_image(memdb_uri: str, size: int) -> Iterator[memoryview | mmap.mmap | bytearray | None]:
    """The `size` bytes of the named memdb at `memdb_uri` for the `with` block (None when the library
    cannot be reached this way), under a read transaction of a private connection: no writer can change
    or move them meanwhile.

    Where the memdb's layout is known its own buffer is lent, read-only and without a copy; the private
    connection then stays open until the block ends and every view of the buffer is gone (a view kept
    longer keeps the connection open, never reads freed memory). Otherwise the bytes are copied in a few
    large reads through the VFS with the GIL released (`Connection.serialize` copies a named memdb page
    by page, then again into a Python object while holding the GIL)."""
    lib = sqlite_library()
    if lib is None:
        yield None
        return
    handle = ctypes.c_void_p()
    lent: list[object] = []
    try:
        file = _open_for_reading(lib, memdb_uri, handle)
        if file is None:
            image = None
        else:
            image = _lent_buffer(lib, file, size, handle, lent)
            if image is None:
                image = _read_through_vfs(file, size)
        yield image
    finally:
        image = None
        if not lent:
            lib.sqlite3_close_v2(handle)
        lent.clear()  # the buffer's last view gone, its finalizer closes the connection


def _open_for_reading(
    lib: ctypes.CDLL, memdb_uri: str, handle: ctypes.c_void_p
) -> ctypes._Pointer[_File] | None:
    """Open `memdb_uri` read-only on `handle` and start a read transaction; its file, or None."""
    if lib.sqlite3_open_v2(
        memdb_uri.encode(), ctypes.byref(handle), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, None
    ):
        return None
    if lib.sqlite3_exec(handle, b"BEGIN; SELECT count(*) FROM sqlite_schema", None, None, None):
        return None
    file = ctypes.POINTER(_File)()
    if lib.sqlite3_file_control(handle, b"main", SQLITE_FCNTL_FILE_POINTER, ctypes.byref(file)) or not file:
        return None
    return file


def _lent_buffer(
    lib: ctypes.CDLL, file: ctypes._Pointer[_File], size: int, handle: ctypes.c_void_p, lent: list[object]
) -> memoryview | None:
    """The memdb's own bytes as a read-only view, or None when its store does not read as expected.

    `sqlite3_serialize(..., SQLITE_SERIALIZE_NOCOPY)` lends no buffer of a named (shared) memdb, nor does
    xFetch of one that may grow, so the store is read directly; its size must be exactly the image's."""
    if lib.sqlite3_libversion_number() not in _MEMSTORE_VERSIONS or not size:
        return None
    store_pointer = ctypes.cast(file, ctypes.POINTER(_MemFile)).contents.pStore
    if not store_pointer:
        return None
    store = store_pointer.contents
    if store.sz != size or store.szAlloc < size or not store.aData:
        return None
    buffer = (ctypes.c_ubyte * size).from_address(store.aData)
    weakref.finalize(buffer, lib.sqlite3_close_v2, handle)
    lent.append(buffer)
    return memoryview(buffer).cast("B").toreadonly()


def _read_through_vfs(file: ctypes._Pointer[_File], size: int) -> bytearray | mmap.mmap | None:
    """A copy of the `size` bytes of `file`, read through its VFS (the GIL released), or None."""
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


def deserialize_in_place(conn: sqlite3.Connection, memdb_name: str, image: memoryview) -> object | None:
    """Make `conn` (opened on the named memdb `memdb_name`, nothing else done on it yet) read `image`
    read-only where it lies, without a copy (`sqlite3_deserialize(..., SQLITE_DESERIALIZE_READONLY)`).
    Returns what keeps `image` lent (hold it until `conn` is closed), or None when it cannot be done.

    Python does not expose a connection's `sqlite3 *`: it is read from the connection object, where
    CPython keeps it first after the object header; the memdb's name, read back through it, proves the
    handle is the one. Only for a process that can afford a crash if that ever changed (a child)."""
    lib = sqlite_library()
    if lib is None or sys.implementation.name != "cpython" or image.readonly:
        return None
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    if not handle or lib.sqlite3_db_filename(handle, b"main") != memdb_name.encode():
        return None
    lent = (ctypes.c_char * len(image)).from_buffer(image)
    size = len(image)
    if lib.sqlite3_deserialize(
        handle, b"main", ctypes.addressof(lent), size, size, SQLITE_DESERIALIZE_READONLY
    ):
        return None
    return lent


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
