"""File names for exported blobs: user patterns, sanitising, numbering and the containment check.

A value read from the database decides part of a file name, so nothing here trusts it: a name that
leaves this module has no path separator, is never `.` or `..`, has no control or bidi characters,
is not a Windows device name, has no trailing dot or space, and fits the byte limit.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import ExportError, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.visible_names import BIDI_CONTROLS

#: Fields every pattern may use besides the row's columns.
SPECIAL_FIELDS = ("rowid", "pk", "n", "ext")

#: Pattern used when the user gives none.
DEFAULT_NAME_PATTERN = "{pk}{ext}"

#: Stem used when a rendered name sanitises to nothing.
FALLBACK_STEM = "blob"

_DEVICE_STEMS = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{port}{digit}" for port in ("COM", "LPT") for digit in "123456789¹²³"
}
# Characters Windows refuses in names, plus both separators.
_FORBIDDEN = frozenset('<>:"/\\|?*')
_EXTENSION = re.compile(r"\.[A-Za-z0-9_+-]{1,15}\Z")
_SPEC_NUMBER = re.compile(r"\d+")
_MAX_SPEC_NUMBER = 64
_MAX_FILE_NAME_BYTES = 255
_SEPARATOR_OR_NUL = re.compile(r"[/\\\x00]")  # os.sep and os.altsep are always one of these two
# Names that sanitising would leave unchanged; most generated names are like this, so skip the work.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_. ()+-]{0,127}")


def _is_unsafe_char(ch: str) -> bool:
    code = ord(ch)
    return (
        ch in _FORBIDDEN
        or ch in BIDI_CONTROLS  # they let "gnp.exe" display as "exe.png"
        or code < 0x20
        or 0x7F <= code < 0xA0
        or 0xD800 <= code <= 0xDFFF  # lone surrogates cannot be encoded as a file name
    )


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """Return the longest prefix of `text` whose UTF-8 encoding fits `max_bytes`."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(0, max_bytes)].decode("utf-8", "ignore")


def split_extension(name: str) -> tuple[str, str]:
    """Split `name` into stem and a short alphanumeric extension (with its dot), or ("name", "")."""
    match = _EXTENSION.search(name)
    if match is None:
        return name, ""
    return name[: match.start()], match.group()


def is_reserved_device_name(name: str) -> bool:
    """True when Windows treats `name` as a device (CON, NUL.txt, com1.tar.gz, ...)."""
    return name.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_STEMS


def sanitize_file_name(
    name: str, *, fallback: str = FALLBACK_STEM, max_bytes: int = LIMITS.blob_file_name_max_bytes
) -> str:
    """Return `name` made safe as one file name on Windows, macOS and Linux (never empty, `.` or `..`)."""
    if (
        _PLAIN_NAME.fullmatch(name)
        and name[-1] not in ". "
        and len(name) <= max_bytes
        and not is_reserved_device_name(name)
    ):
        return name  # what _sanitize would return, without the work
    return _sanitize(name, fallback, max_bytes)


def _sanitize(name: str, fallback: str, max_bytes: int) -> str:
    cleaned = "".join("_" if _is_unsafe_char(ch) else ch for ch in unicodedata.normalize("NFC", name))
    # Windows drops trailing dots and spaces; a leading dot hides a file on Unix.
    stem, extension = split_extension(cleaned.strip().rstrip(". "))
    stem = stem.lstrip(". ") or fallback
    if is_reserved_device_name(stem):
        stem = "_" + stem
    stem = _truncate_utf8(stem, max_bytes - len(extension))
    if not extension:
        stem = stem.rstrip(". ")
    return (stem or _truncate_utf8(fallback, max_bytes - len(extension))) + extension


def numbered_name(name: str, number: int, *, max_bytes: int = LIMITS.blob_file_name_max_bytes) -> str:
    """Return `name` with ` (number)` before its extension, still within `max_bytes`."""
    stem, extension = split_extension(name)
    suffix = f" ({number})"
    budget = max(max_bytes, len(name.encode("utf-8"))) - len(suffix) - len(extension)
    stem = _truncate_utf8(stem, budget).rstrip(". ") or FALLBACK_STEM
    return stem + suffix + extension


def check_plain_name(name: str) -> None:
    """Raise ExportError unless `name` is one plain file name (no separator, not `.`/`..`, fits 255 bytes)."""
    if (
        name in {"", ".", ".."}
        or _SEPARATOR_OR_NUL.search(name)
        or len(name.encode("utf-8", "surrogatepass")) > _MAX_FILE_NAME_BYTES
    ):
        raise ExportError(f"Refused to write a file named {name!r}: it is not a plain file name.")


def format_name_value(value: Any) -> str:
    """Return a database value as text for a file name (NULL, numbers, text, hex of a blob's start)."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value[:16]).hex()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class NamePattern:
    """A parsed file-name pattern such as `{zoom_level}-{tile_id}{ext}`."""

    text: str
    parts: tuple[tuple[str, str | None, str], ...]  # (literal, field or None, format spec)

    @property
    def fields(self) -> tuple[str, ...]:
        """The field names the pattern uses, in order."""
        return tuple(field for _, field, _ in self.parts if field is not None)

    def check_fields(self, available: Mapping[str, Any] | list[str] | tuple[str, ...]) -> None:
        """Raise UserError naming the first field that is neither special nor among `available`."""
        known = {name.casefold() for name in available} | set(SPECIAL_FIELDS)
        for field in self.fields:
            if field.casefold() not in known:
                names = ", ".join(f"{{{name}}}" for name in (*SPECIAL_FIELDS, *available))
                raise UserError(
                    f"The file name pattern uses {{{field}}}, which is not a column here. Use {names}."
                )

    def render(self, values: Mapping[str, Any]) -> str:
        """Return the pattern filled from `values` (exact name, else case-insensitive); not sanitised."""
        folded: dict[str, Any] | None = None
        pieces: list[str] = []
        for literal, field, spec in self.parts:
            pieces.append(literal)
            if field is None:
                continue
            if field in values:
                value = values[field]
            else:
                if folded is None:
                    folded = {str(key).casefold(): value for key, value in values.items()}
                value = folded.get(field.casefold())
            pieces.append(_format_value(value, spec) if spec else format_name_value(value))
        return "".join(pieces)


def _format_value(value: Any, spec: str) -> str:
    if spec:
        try:
            return format(value, spec)
        except (TypeError, ValueError):
            pass
        try:
            return format(format_name_value(value), spec)
        except (TypeError, ValueError):
            pass
    return format_name_value(value)


def _spec_accepts(sample: Any, spec: str) -> bool:
    try:
        format(sample, spec)
    except (TypeError, ValueError):
        return False
    return True


def parse_name_pattern(pattern: str) -> NamePattern:
    """Parse a user's file-name pattern; raise UserError when it is malformed."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise UserError(
            f"The file name pattern {pattern!r} is malformed ({exc}); write braces as {{{{ }}}}."
        ) from exc
    parts: list[tuple[str, str | None, str]] = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            parts.append((literal, None, ""))
            continue
        if not field or conversion is not None:
            raise UserError(f"The file name pattern {pattern!r} has an empty or unsupported field.")
        spec = spec or ""
        if any(int(number) > _MAX_SPEC_NUMBER for number in _SPEC_NUMBER.findall(spec)):
            raise UserError(f"The format {spec!r} in the file name pattern asks for too wide a value.")
        if spec and not (_spec_accepts(0, spec) or _spec_accepts("", spec)):
            raise UserError(f"The format {spec!r} in the file name pattern is not valid.")
        parts.append((literal, field, spec))
    return NamePattern(pattern, tuple(parts))
