"""Record layout facts: serial types and their value sizes, and the marker of a lost value."""

from __future__ import annotations

from collections.abc import Sequence


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

#: Value sizes of the serial types below 12 (10 and 11 are reserved: -1); above, (serial - 12) // 2.
SMALL_SERIAL_SIZES = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1)
#: Storage classes of the serial types below 12; above, odd ones are text and even ones blobs.
SMALL_SERIAL_KINDS = ("null", *("integer",) * 6, "real", "integer", "integer", "blob", "text")


def serial_size(serial: int) -> int:
    """Bytes of the value of a serial type (types 10 and 11 are reserved: -1)."""
    return SMALL_SERIAL_SIZES[serial] if serial < 12 else (serial - 12) >> 1


def types_size(serials: Sequence[int]) -> int:
    """Total body bytes of values of these serial types."""
    return sum(serial_size(s) for s in serials)
