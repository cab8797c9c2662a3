"""Showing bytes to people: text with a guessed encoding, and hex dump rows (offset, hex, ASCII)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PRINTABLE = bytes(range(0x20, 0x7F))
_ASCII_TABLE = bytes(byte if byte in _PRINTABLE else ord(".") for byte in range(256))


@dataclass(frozen=True)
class DecodedText:
    """Bytes shown as text: the text, the encoding used, and whether anything had to be replaced."""

    text: str
    encoding: str
    lossy: bool = False


def decode_blob_text(data: bytes, *, final: bool = True) -> DecodedText:
    """Decode bytes for the text view: BOM (UTF-8/16/32), else UTF-8, else latin-1 (which never fails).

    Pass `final=False` for a window cut from a longer value, so a character split at the end is
    dropped instead of counted as invalid.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, lossy = _decode(data[len(bom) :], encoding, final)
            return DecodedText(text, encoding, lossy)
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final)
    except UnicodeDecodeError:
        return DecodedText(data.decode("latin-1"), "latin-1")
    return DecodedText(text, "utf-8")


def _decode(data: bytes, encoding: str, final: bool) -> tuple[str, bool]:
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final), False
    except UnicodeDecodeError:
        return codecs.getincrementaldecoder(encoding)("replace").decode(data, final), True


@dataclass(frozen=True)
class HexRow:
    """One hex dump line: its offset in the value, the bytes in hex, and their printable ASCII."""

    offset: int
    hex: str
    ascii: str


def hex_rows(data: bytes, offset: int = 0, width: int = 16) -> list[HexRow]:
    """Split `data` (which starts at `offset` in its value) into hex dump rows of `width` bytes."""
    if width <= 0:
        raise ValueError("width must be positive")
    rows = []
    for start in range(0, len(data), width):
        piece = data[start : start + width]
        hex_text = piece.hex(" ")
        if width >= 16 and width % 2 == 0 and len(piece) > width // 2:
            half = (width // 2) * 3  # an extra space between the two halves, as `hexdump -C` does
            hex_text = hex_text[: half - 1] + "  " + hex_text[half:]
        rows.append(HexRow(offset + start, hex_text, piece.translate(_ASCII_TABLE).decode("ascii")))
    return rows


def format_hex_dump(data: bytes, offset: int = 0, width: int = 16) -> str:
    """Return `data` as hex dump text: `00000010  89 50 4e 47 …  |.PNG…|`, one line per row."""
    rows = hex_rows(data, offset, width)
    if not rows:
        return ""
    digits = max(8, len(f"{rows[-1].offset:x}"))
    hex_width = width * 3 - 1 + (1 if width >= 16 and width % 2 == 0 else 0)
    return "\n".join(f"{row.offset:0{digits}x}  {row.hex:<{hex_width}}  |{row.ascii}|" for row in rows)
