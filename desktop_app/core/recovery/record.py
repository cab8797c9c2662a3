"""Records from bytes: serial types, value sizes and values (text in the database's encoding)."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from desktop_app.core.pagefile.btree import Page


class _Lost:
    """A value that was overwritten (shown as "‹lost›", `null` with its index in `lost` in JSON)."""

    _instance: _Lost | None = None

    def __new__(cls) -> _Lost:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "LOST"

    def __bool__(self) -> bool:
        return False


#: The value of a column whose bytes were overwritten.
LOST = _Lost()

_FIXED = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0)


def serial_size(serial: int) -> int:
    """Bytes of the value of a serial type (types 10 and 11 are reserved: -1)."""
    if serial < 10:
        return _FIXED[serial]
    if serial < 12:
        return -1
    return (serial - 12) >> 1


def serial_kind(serial: int) -> str:
    """ "null", "integer", "real", "text" or "blob" for a serial type."""
    if serial == 0:
        return "null"
    if serial <= 6 or serial in (8, 9):
        return "integer"
    if serial == 7:
        return "real"
    return "text" if serial & 1 else "blob"


def decode_value(buf: Page, pos: int, serial: int, encoding: str) -> object:
    """The value of `serial` at `pos`; text that is not valid in `encoding` raises `UnicodeDecodeError`."""
    if serial == 0:
        return None
    if serial == 8:
        return 0
    if serial == 9:
        return 1
    size = serial_size(serial)
    raw = bytes(buf[pos : pos + size])
    if len(raw) != size:
        raise ValueError("value runs past its bytes")
    if serial <= 6:
        return int.from_bytes(raw, "big", signed=True)
    if serial == 7:
        return struct.unpack(">d", raw)[0]
    if serial & 1:
        return raw.decode(encoding)
    return raw


def types_size(serials: Sequence[int]) -> int:
    """Total body bytes of values of these serial types."""
    return sum(serial_size(s) for s in serials)
