"""JSONB (SQLite's binary JSON) decoded by the app for SQLite < 3.45: every element type built by hand
per https://sqlite.org/jsonb.html, strict refusal of anything malformed, and no binary taken for JSONB."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.core.values.jsonb import (
    ARRAY,
    FALSE,
    FLOAT,
    FLOAT5,
    INT,
    INT5,
    NULL,
    OBJECT,
    TEXT,
    TEXT5,
    TEXTJ,
    TEXTRAW,
    TRUE,
    NotJsonb,
    column_hints_json,
    decode_jsonb,
    jsonb_document,
)

_WIDTHS = {12: 1, 13: 2, 14: 4, 15: 8}


def element(element_type: int, payload: bytes = b"", *, size_code: int | None = None) -> bytes:
    """One JSONB element: the smallest header for its size, or the one `size_code` asks for."""
    size = len(payload)
    if size_code is None:
        size_code = size if size <= 11 else next(c for c, w in _WIDTHS.items() if size < 1 << (8 * w))
    if size_code <= 11:
        assert size == size_code
        return bytes([size_code << 4 | element_type]) + payload
    return bytes([size_code << 4 | element_type]) + size.to_bytes(_WIDTHS[size_code], "big") + payload


def encode(value: Any) -> bytes:
    """`value` in canonical JSONB, as SQLite's jsonb() writes it (TEXTJ where a string needs escapes)."""
    if value is None or isinstance(value, bool):
        return element({None: NULL, True: TRUE, False: FALSE}[value])
    if isinstance(value, int):
        return element(INT, str(value).encode())
    if isinstance(value, float):
        return element(FLOAT, repr(value).encode())
    if isinstance(value, str):
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        kind = TEXT if escaped == value else TEXTJ
        return element(kind, escaped.encode())
    if isinstance(value, list):
        return element(ARRAY, b"".join(encode(v) for v in value))
    return element(OBJECT, b"".join(encode(k) + encode(v) for k, v in value.items()))


def test_an_object_decodes_as_sqlite_writes_it() -> None:
    # jsonb('{"a":1}') in SQLite 3.45+ is x'4c17611331'.
    assert decode_jsonb(bytes.fromhex("4c17611331")) == {"a": 1}


def test_every_element_type_decodes() -> None:
    doc = element(
        ARRAY,
        element(NULL)
        + element(TRUE)
        + element(FALSE)
        + element(INT, b"-42")
        + element(INT5, b"0x1F")
        + element(INT5, b"-0xff")
        + element(FLOAT5, b"1e5")
        + element(FLOAT, b"2.5e3")
        + element(FLOAT5, b".5")
        + element(FLOAT5, b"5.")
        + element(FLOAT5, b"-.5e1")
        + element(FLOAT5, b"-Infinity")
        + element(TEXT, "héllo".encode())
        + element(TEXTJ, b'a\\"b\\\\c\\/\\n\\t\\u00e9\\ud83d\\ude00')
        + element(TEXT5, b'it\\\'s "q"\\x41\\v\\0 \\\nend')
        + element(TEXTRAW, b'raw "quote"\n')
        + element(OBJECT, element(TEXT, b"k") + element(ARRAY, element(INT, b"1"))),
    )
    assert decode_jsonb(doc) == [
        None,
        True,
        False,
        -42,
        31,
        -255,
        100000.0,
        2500.0,
        0.5,
        5.0,
        -5.0,
        -math.inf,
        "héllo",
        'a"b\\c/\n\té😀',
        'it\'s "q"A\v\0 end',
        'raw "quote"\n',
        {"k": [1]},
    ]
    nan = decode_jsonb(element(FLOAT5, b"NaN"))
    assert math.isnan(nan)


@pytest.mark.parametrize("size_code", [12, 13, 14, 15])
def test_sizes_in_following_bytes_decode_at_every_width(size_code: int) -> None:
    text = "x" * 300 if size_code > 12 else "x" * 20
    inner = element(TEXT, text.encode(), size_code=size_code)
    doc = element(OBJECT, element(TEXT, b"s", size_code=size_code) + inner, size_code=size_code)
    assert decode_jsonb(doc) == {"s": text}
    assert decode_jsonb(element(ARRAY, b"", size_code=size_code)) == []


def test_a_big_nested_document_matches_json_loads_of_its_text() -> None:
    value = {
        "users": [{"id": i, "name": f"n{i}", "tags": ["a", "b\n"], "score": i / 3} for i in range(2000)],
        "meta": {"ok": True, "none": None, "quote": 'say "hi"', "deep": [[[[{"x": -1}]]]]},
    }
    data = encode(value)
    assert len(data) > 1 << 16  # a 4-byte size at the top
    assert decode_jsonb(data) == json.loads(json.dumps(value))


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_round_trip_of_any_json_value(value: Any) -> None:
    assert decode_jsonb(encode(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "an element past the end"),
        (encode([1]) + b"\x00", "bytes left over"),
        (bytes([0x5B, 0x00]), "a payload past the end"),
        (bytes([0xCB]), "a size past the end"),
        (bytes([0x0D]), "reserved element type 13"),
        (bytes([0x0F]), "reserved element type 15"),
        (element(NULL, b"x"), "null, true or false with a payload"),
        (element(TRUE, b"", size_code=12), "null, true or false with a payload"),
        (element(OBJECT, encode(1) + encode(2)), "an object key that is not text"),
        (element(OBJECT, encode("k")), "an object key without a value"),
        (element(INT, b"0x1F"), "a number that does not read"),
        (element(INT, b"01"), "a number that does not read"),
        (element(FLOAT, b".5"), "a number that does not read"),
        (element(FLOAT5, b"1_0"), "a number that does not read"),
        (element(TEXT, b"\xff"), "text that is not UTF-8"),
        (element(TEXTJ, b"\\q"), "a TEXTJ string with a bad escape"),
        (element(TEXTJ, b'a"b'), "a TEXTJ string with a bad escape"),
        (element(TEXT5, b"\\q"), "a TEXT5 string with a bad escape"),
        (element(INT5, b"+7"), "a number that does not read"),
        (element(INT5, b"7"), "a number that does not read"),
        (element(FLOAT, b"0"), "a number that does not read"),
        (element(FLOAT5, b"5"), "a number that does not read"),
        (element(FLOAT5, b"+1.5"), "a number that does not read"),
        (element(TEXT, b'a"b'), "a TEXT string holding a character that needs an escape"),
        (element(TEXT, b"a\\b"), "a TEXT string holding a character that needs an escape"),
        (element(TEXT, b"tab\there"), "a TEXT string holding a character that needs an escape"),
        (element(TEXTJ, b"raw\x1bcontrol"), "a TEXTJ string with a bad escape"),
        (element(ARRAY, element(TEXT, b"ab")[:2]), "a payload past the end"),
    ],
)
def test_malformed_jsonb_is_refused_with_the_reason(data: bytes, why: str) -> None:
    with pytest.raises(NotJsonb, match=why):
        decode_jsonb(data)


def test_nesting_past_the_limit_is_refused_without_recursion() -> None:
    deep = element(NULL)
    for _ in range(1000):
        deep = element(ARRAY, deep)
    assert decode_jsonb(deep) is not None  # 1000 levels: SQLite's own limit
    deep = element(ARRAY, deep)
    with pytest.raises(NotJsonb, match="nested deeper than 1000 levels"):
        decode_jsonb(deep)
    nested = 5000
    deep = element(NULL)
    for _ in range(nested):
        deep = element(ARRAY, deep)
    value = decode_jsonb(deep, max_depth=nested + 1)
    for _ in range(nested):
        value = value[0]
    assert value is None


class _CountedElements:
    """Counts the elements the decoder reads (its unit of work), while in a `with` block."""

    def __init__(self) -> None:
        import desktop_app.core.values.jsonb as module

        self.module, self.original, self.calls = module, module._element, 0

    def __enter__(self) -> _CountedElements:
        def counting(*args: Any) -> Any:
            self.calls += 1
            return self.original(*args)

        self.module._element = counting  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.module._element = self.original  # type: ignore[assignment]


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_not_jsonb_and_cost_at_most_one_element_per_byte(
    data: bytes,
) -> None:
    with _CountedElements() as counted:
        try:
            decode_jsonb(data)
        except NotJsonb:
            pass
    assert counted.calls <= len(data) + 1  # every element read starts at a byte of its own


@settings(max_examples=300, deadline=None)
@given(_json_values, st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_a_damaged_document_never_raises_anything_but_not_jsonb(value: Any, at: int, byte: int) -> None:
    data = bytearray(encode(value))
    data[at % len(data)] = byte
    try:
        decode_jsonb(bytes(data))
    except NotJsonb:
        pass


def test_work_grows_linearly_with_the_size_of_a_document() -> None:
    """Counted in elements read (not timed): every byte belongs to one element, read once."""
    for n in (1000, 10_000):
        with _CountedElements() as counted:
            decode_jsonb(encode([[i, "x"] for i in range(n)]))
        assert counted.calls == 1 + 3 * n


def test_only_a_whole_array_or_object_is_taken_for_jsonb_unless_the_column_says_json() -> None:
    assert jsonb_document(encode({"a": [1, 2]})).value == {"a": [1, 2]}  # type: ignore[union-attr]
    assert jsonb_document(encode("text")) is None and jsonb_document(encode(12)) is None
    assert jsonb_document(encode([])) is None  # one byte: too little to tell
    hinted = jsonb_document(encode("text"), hinted=True)
    assert hinted is not None and (hinted.value, hinted.type, hinted.path) == ("text", "text", "$")
    assert jsonb_document(encode(None), hinted=True).type == "null"  # type: ignore[union-attr]
    assert jsonb_document(encode([1]) + b"\x00") is None
    assert column_hints_json("payload_JSON") and column_hints_json("doc", "JSONB")
    assert not column_hints_json("photo", "BLOB")


def _corpus_blobs(corpus: Path) -> list[bytes]:
    blobs: list[bytes] = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.suffix in (".tsv", ".db-wal", ".md"):
            continue
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        except sqlite3.DatabaseError:
            continue
        for table in tables:
            try:
                columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
                for column in columns:
                    sql = f'SELECT "{column}" FROM "{table}" WHERE typeof("{column}") = \'blob\' LIMIT 2000'
                    blobs.extend(row[0] for row in conn.execute(sql))
            except sqlite3.DatabaseError:
                continue
        conn.close()
    return blobs


def test_corpus_blobs_and_random_blobs_are_not_taken_for_jsonb(corpus: Path) -> None:
    blobs = _corpus_blobs(corpus)
    assert len(blobs) > 250  # PNG map tiles and favicons, GeoPackage geometry, index records…
    assert [b[:16] for b in blobs if jsonb_document(b) is not None] == []
    rng = random.Random(22)
    taken = sum(
        jsonb_document(rng.randbytes(rng.choice((2, 3, 4, 8, 16, 64, 1024)))) is not None
        for _ in range(20_000)
    )
    assert taken <= 20  # ≤ 0.1 %, all of them tiny: a 2–4 byte blob like x'1b00' is `[null]`


def test_a_blob_past_the_decode_limit_is_left_a_blob_and_said_to_look_like_jsonb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    import desktop_app.core.values.jsonb as module

    data = encode({"k": "v" * 300})  # a 2-byte size: 0xdc header
    monkeypatch.setattr(module, "LIMITS", dataclasses.replace(module.LIMITS, jsonb_decode_max_bytes=100))
    assert jsonb_document(data) is None and jsonb_document(data, hinted=True) is None
    assert module.looks_like_large_jsonb(data)
    assert not module.looks_like_large_jsonb(data + b"\x00") and not module.looks_like_large_jsonb(
        b"\xff" * 400
    )
    monkeypatch.setattr(module, "LIMITS", dataclasses.replace(module.LIMITS, jsonb_decode_max_bytes=1000))
    assert jsonb_document(data) is not None and not module.looks_like_large_jsonb(data)
