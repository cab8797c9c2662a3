"""SQLite's JSONB (https://sqlite.org/jsonb.html) decoded in Python, for SQLite libraries older than 3.45.

Each element is a header (element type in the low 4 bits of its first byte; payload size in the high 4
bits: 0–11 literally, 12/13/14/15 → the size follows in 1/2/4/8 big-endian bytes) and a payload: the text
of a number or string, or the elements of an array or object. Decoding is strict and linear: every byte
is read once, nesting is bounded, and anything malformed raises `NotJsonb` (and nothing else).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from desktop_app.core.limits import LIMITS
from desktop_app.core.values.json_tree import JsonNode, json_type

NULL, TRUE, FALSE, INT, INT5, FLOAT, FLOAT5, TEXT, TEXTJ, TEXT5, TEXTRAW, ARRAY, OBJECT = range(13)
_TEXT_TYPES = (TEXT, TEXTJ, TEXT5, TEXTRAW)
_SIZE_BYTES = {12: 1, 13: 2, 14: 4, 15: 8}

_INT = re.compile(rb"-?(?:0|[1-9][0-9]*)\Z")
# As SQLite's json_valid(…, 8) reads them: INT5 is hexadecimal; FLOAT needs a fraction or an exponent;
# FLOAT5 a dot at either end or an exponent (SQLite writes Infinity as 9e999 and NaN as null, but other
# writers may not, so those are read too). A leading "+" is not JSONB: SQLite drops it when it converts.
_INT5 = re.compile(rb"(-?)0[xX]([0-9a-fA-F]+)\Z")
_FLOAT = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)\Z")
_FLOAT5 = re.compile(rb"-?(?:Infinity|NaN|(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][+-]?[0-9]+)?)\Z")
# JSON5 escapes a TEXT5 payload may hold (RFC 8259's plus \' \v \0 \xHH and escaped line breaks); a bare
# backslash is an error.
_JSON5_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\"\\/bfnrtv0'\n\r\u2028\u2029])|\\")
# What a TEXT payload may not hold: it is the text between the quotes, with nothing needing an escape.
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_SIMPLE_ESCAPES = {
    '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
    "v": "\v", "0": "\0", "'": "'",
}  # fmt: skip
_LINE_CONTINUATIONS = ("\n", "\r", "\r\n", "\u2028", "\u2029")


class NotJsonb(ValueError):
    """The bytes are not a well-formed JSONB document."""


def sqlite_reads_jsonb() -> bool:
    """True when the SQLite library in use understands JSONB itself (3.45 and later)."""
    return sqlite3.sqlite_version_info >= (3, 45, 0)


def decode_jsonb(data: bytes, *, max_depth: int | None = None) -> Any:
    """The Python value of the JSONB document `data` (dict, list, str, int, float, bool or None).

    Raises `NotJsonb` for anything malformed: a reserved element type, a size past its container, bytes
    left over, a number or string that is not what its type says, an object key that is not text, or
    nesting deeper than `max_depth` (default `LIMITS.jsonb_max_depth`).
    """
    limit = LIMITS.jsonb_max_depth if max_depth is None else max_depth
    view = bytes(data)
    value, end, _ = _element(view, 0, len(view))
    if end != len(view):
        raise NotJsonb("bytes left over after the document")
    if not isinstance(value, _Open):
        return value
    # Containers are walked with an explicit stack (no recursion), each byte read once.
    root = value
    stack: list[_Open] = [root]
    while stack:
        top = stack[-1]
        if top.at == top.end:
            if top.pending_key is not None:
                raise NotJsonb("an object key without a value")
            stack.pop()
            if stack:
                _add(stack[-1], top.value)
            continue
        child, child_end, element_type = _element(view, top.at, top.end)
        if isinstance(top.value, dict) and top.pending_key is None and element_type not in _TEXT_TYPES:
            raise NotJsonb("an object key that is not text")
        top.at = child_end
        if isinstance(child, _Open):
            if len(stack) >= limit:
                raise NotJsonb(f"nested deeper than {limit} levels")
            stack.append(child)
        else:
            _add(top, child)
    return root.value


def jsonb_document(data: bytes, *, hinted: bool = False) -> JsonNode | None:
    """The root of the JSON tree when `data` is taken for JSONB, else None.

    Conservative, so that images and other binary blobs are never shown as JSON: the blob must decode
    completely and its top element must be an array or object (of more than its one header byte), and
    it must be no larger than `LIMITS.jsonb_decode_max_bytes`. A `hinted` blob (its column's name or
    declared type says JSON) may hold any JSONB value.
    """
    if not data or (not hinted and (len(data) < 2 or data[0] & 0x0F not in (ARRAY, OBJECT))):
        return None
    if len(data) > LIMITS.jsonb_decode_max_bytes:  # the GUI thread waits on this decoder
        return None
    try:
        value = decode_jsonb(data)
    except NotJsonb:
        return None
    return JsonNode("$", None, value, json_type(value))


def looks_like_large_jsonb(data: bytes) -> bool:
    """True for a blob past `LIMITS.jsonb_decode_max_bytes` whose first header is an array or object
    exactly as long as the blob (a cheap sign that it is JSONB the app does not decode)."""
    if len(data) <= LIMITS.jsonb_decode_max_bytes or data[0] & 0x0F not in (ARRAY, OBJECT):
        return False
    width = _SIZE_BYTES.get(data[0] >> 4)
    if width is None:
        return False
    return 1 + width + int.from_bytes(data[1 : 1 + width], "big") == len(data)


def column_hints_json(name: str, declared_type: str = "") -> bool:
    """True when a column's name or declared type says it holds JSON (`payload_json`, `JSONB`…)."""
    return "json" in name.lower() or "json" in declared_type.lower()


class _Open:
    """An array or object being filled: its value, where its payload ends, and the next byte to read."""

    __slots__ = ("at", "end", "pending_key", "value")

    def __init__(self, value: list[Any] | dict[str, Any], at: int, end: int) -> None:
        self.value = value
        self.at = at
        self.end = end
        self.pending_key: str | None = None


def _add(container: _Open, item: Any) -> None:
    if isinstance(container.value, list):
        container.value.append(item)
    elif container.pending_key is None:
        container.pending_key = item
    else:
        container.value[container.pending_key] = item
        container.pending_key = None


def _element(view: bytes, at: int, end: int) -> tuple[Any, int, int]:
    """The element at `at` (which must end by `end`): its value (an `_Open` for a container), where it
    ends, and its type."""
    if at >= end:
        raise NotJsonb("an element past the end")
    head = view[at]
    element_type, size_code = head & 0x0F, head >> 4
    at += 1
    if size_code < 12:
        size = size_code
    else:
        width = _SIZE_BYTES[size_code]
        if at + width > end:
            raise NotJsonb("a size past the end")
        size = int.from_bytes(view[at : at + width], "big")
        at += width
    stop = at + size
    if stop > end:
        raise NotJsonb("a payload past the end")
    if element_type > OBJECT:
        raise NotJsonb(f"reserved element type {element_type}")
    if element_type <= FALSE:
        if size_code:  # even a size of 0 in a following byte: SQLite's json_valid() refuses it too
            raise NotJsonb("null, true or false with a payload")
        return (None, True, False)[element_type], stop, element_type
    if element_type == ARRAY:
        return _Open([], at, stop), stop, element_type
    if element_type == OBJECT:
        return _Open({}, at, stop), stop, element_type
    payload = view[at:stop]
    if element_type <= FLOAT5:
        return _number(element_type, payload), stop, element_type
    return _text(element_type, payload), stop, element_type


def _number(element_type: int, payload: bytes) -> int | float:
    if element_type == INT and _INT.match(payload):
        return _int(payload)
    if element_type == INT5 and (match := _INT5.match(payload)):
        sign, hex_digits = match.groups()
        number = int(hex_digits, 16)
        return -number if sign else number
    if element_type == FLOAT and _FLOAT.match(payload):
        return float(payload)
    if element_type == FLOAT5 and _FLOAT5.match(payload):
        return float(payload)
    raise NotJsonb("a number that does not read as its type says")


def _int(digits: bytes) -> int | float:
    try:
        return int(digits)
    except ValueError:  # past Python's digit limit for int(): such a number is a float in SQLite too
        return float(digits)


def _text(element_type: int, payload: bytes) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJsonb("text that is not UTF-8") from None
    if element_type == TEXTRAW:
        return text
    if element_type == TEXT:
        if _NEEDS_ESCAPE.search(text):
            raise NotJsonb("a TEXT string holding a character that needs an escape")
        return text
    if element_type == TEXTJ:
        try:
            decoded = json.loads(f'"{text}"')
        except (ValueError, RecursionError):
            raise NotJsonb("a TEXTJ string with a bad escape") from None
        return decoded  # type: ignore[no-any-return]
    return _json5_unescape(text)


def _json5_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group()
        if escape == "\\":
            raise NotJsonb("a TEXT5 string with a bad escape")
        body = escape[1:]
        if body in _LINE_CONTINUATIONS:
            return ""
        if body[0] in "ux":
            return chr(int(body[1:], 16))
        return _SIMPLE_ESCAPES[body]

    return _JSON5_ESCAPE.sub(replace, text)
