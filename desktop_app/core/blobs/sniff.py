"""Guess what a blob is from its first bytes: a MIME type and a file extension.

`sniff_mime` works on a whole value or on its first bytes (a few hundred are enough for every
type except Office documents, which are told apart by the names of their ZIP members: pass the
first few KiB, or the whole value, to tell .docx/.xlsx/.pptx from a plain .zip).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

OCTET_STREAM = "application/octet-stream"
TEXT = "text/plain"
JSON = "application/json"
ZIP = "application/zip"

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

#: (prefix, MIME type) for formats told by a fixed signature at offset 0.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (b"bplist00", "application/x-bplist"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x28\xb5\x2f\xfd", "application/zstd"),
)

_EXTENSIONS: dict[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/x-icon": ".ico",
    "image/tiff": ".tif",
    "image/svg+xml": ".svg",
    "application/pdf": ".pdf",
    ZIP: ".zip",
    _DOCX: ".docx",
    _XLSX: ".xlsx",
    _PPTX: ".pptx",
    "application/epub+zip": ".epub",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/gzip": ".gz",
    "application/x-bzip2": ".bz2",
    "application/x-xz": ".xz",
    "application/x-7z-compressed": ".7z",
    "application/zstd": ".zst",
    "application/vnd.sqlite3": ".sqlite",
    "application/x-bplist": ".plist",
    JSON: ".json",
    "application/xml": ".xml",
    "text/html": ".html",
    TEXT: ".txt",
    OCTET_STREAM: ".bin",
}

#: BMP info-header sizes (BITMAPCOREHEADER .. BITMAPV5HEADER); "BM" alone is too common in text.
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
#: ZIP local headers scanned when the central directory is not in the bytes we were given.
_ZIP_MEMBERS_SCANNED = 64
_CONTROL_CHARACTERS = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F))


def sniff_mime(data: bytes) -> str:
    """Return the MIME type of `data` told by its leading bytes; `application/octet-stream` if unknown."""
    data = bytes(data)
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _is_bmp(data):
        return "image/bmp"
    if _is_ico(data):
        return "image/x-icon"
    if data[:4] in (_ZIP_LOCAL_HEADER, b"PK\x05\x06"):
        return _zip_kind(data)
    return _text_kind(data)


def extension_for(mime: str) -> str:
    """Return the usual file extension for `mime`, with its dot (`.png`); `.bin` when unknown."""
    return _EXTENSIONS.get(mime.split(";", 1)[0].strip().lower(), ".bin")


def _is_bmp(data: bytes) -> bool:
    if len(data) < 18 or data[:2] != b"BM":
        return False
    (header_size,) = struct.unpack_from("<I", data, 14)
    return header_size in _BMP_HEADER_SIZES


def _is_ico(data: bytes) -> bool:
    if len(data) < 22 or data[:4] != b"\x00\x00\x01\x00":
        return False
    (count,) = struct.unpack_from("<H", data, 4)
    return count > 0 and data[9] == 0  # the first entry's reserved byte is always 0


def _zip_kind(data: bytes) -> str:
    names, first_stored = _zip_member_names(data)
    if first_stored is not None:  # EPUB and OpenDocument: an uncompressed "mimetype" member comes first
        return first_stored
    for name in names:
        for folder, mime in (("word/", _DOCX), ("xl/", _XLSX), ("ppt/", _PPTX)):
            if name.startswith(folder):
                return mime
    return ZIP


def _zip_member_names(data: bytes) -> tuple[list[str], str | None]:
    """Return member names (all if the archive is complete, else those in reach) and a stored mimetype."""
    first_stored = _stored_mimetype(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist(), first_stored
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        pass
    names: list[str] = []
    offset = 0
    for _ in range(_ZIP_MEMBERS_SCANNED):
        if data[offset : offset + 4] != _ZIP_LOCAL_HEADER or offset + 30 > len(data):
            break
        (flags,) = struct.unpack_from("<H", data, offset + 6)
        (compressed_size,) = struct.unpack_from("<I", data, offset + 18)
        name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
        names.append(data[offset + 30 : offset + 30 + name_length].decode("utf-8", "replace"))
        if flags & 0x08:  # sizes follow the data: the next header cannot be found without the directory
            break
        offset += 30 + name_length + extra_length + compressed_size
    return names, first_stored


def _stored_mimetype(data: bytes) -> str | None:
    if len(data) < 38 or data[:4] != _ZIP_LOCAL_HEADER or data[30:38] != b"mimetype":
        return None
    (method,) = struct.unpack_from("<H", data, 8)
    (size,) = struct.unpack_from("<I", data, 22)
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    start = 30 + name_length + extra_length
    value = data[start : start + size].decode("ascii", "replace").strip()
    if method != 0 or name_length != 8 or not 0 < size <= 100 or "/" not in value:
        return None
    return value


def _text_kind(data: bytes) -> str:
    text = _decode_text(data)
    if text is None or not text:
        return OCTET_STREAM
    if any(char in _CONTROL_CHARACTERS for char in text):
        return OCTET_STREAM
    start = text.lstrip()[:256].lower()
    if start.startswith(("{", "[")) and _is_json(text):
        return JSON
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in start):
        return "image/svg+xml"
    if start.startswith("<?xml"):
        return "application/xml"
    if start.startswith(("<!doctype html", "<html")):
        return "text/html"
    return TEXT


def _decode_text(data: bytes) -> str | None:
    """Decode UTF-8 (or BOM-marked UTF-16); a character cut off at the end of a prefix is allowed."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        body = data[2:]
        try:
            return body[: len(body) // 2 * 2].decode("utf-16-le" if data[0] == 0xFF else "utf-16-be")
        except UnicodeDecodeError:
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
        return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
