"""The recovery scan's fast paths: the b-tree walk a level at a time where the tree is well formed (page by
page where it is not, the same pages owned in the same order either way), records decoded in one step, every
page's header read at once, every leaf's cell pointers checked at once, index cells left unread."""

from __future__ import annotations

import math
import random
import sqlite3
import struct
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.pagefile.btree import parse_btree_page
from desktop_app.core.pagefile.headers import page_headers
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.progress import ignore_progress
from desktop_app.core.recovery.carve import Region, _decoder, _parse_types, _types_one_by_one, intact_cell
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.scan import _identity, _pointers_in_content, _Scan
from desktop_app.core.recovery.shapes import shapes_of
from desktop_app.core.schema.catalog import read_catalog

SCRIPT = """
CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s LIMIT 6000)
INSERT INTO t SELECT x, hex(randomblob(40)) FROM s;
CREATE INDEX t_body ON t(body);
"""


def _image() -> tuple[DatabaseImage, dict[str, int]]:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA page_size = 512")
    conn.executescript(SCRIPT)
    roots = dict(conn.execute("SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0").fetchall())
    return DatabaseImage(conn.serialize()), roots


def _walked(image: DatabaseImage, roots: dict[str, int], *, levels: bool) -> tuple[np.ndarray, list[int]]:
    """Every tree of `roots` walked into one scan's page owners: their owner ids and the leaves' order."""
    scan = _Scan(image, [], ignore_progress, None)
    scan.headers = page_headers(image)
    scan.leaf = scan.headers.leaf
    if not levels:
        scan._walk_levels = lambda _root, _tree: False  # type: ignore[method-assign]
    for tree, root in enumerate(roots.values(), start=1):
        scan._walk_tree(root, tree)
    return scan.owner_id, scan._walked_leaves().tolist()


def test_level_walk_owns_the_pages_the_page_by_page_walk_owns_in_its_order() -> None:
    image, roots = _image()
    owners, order = _walked(image, roots, levels=True)
    expected_owners, expected_order = _walked(image, roots, levels=False)
    assert np.array_equal(owners, expected_owners)
    assert order == expected_order
    assert len(set(order)) == len(order) > 100  # three levels of 512-byte pages: many leaves
    scan = _Scan(image, [], ignore_progress, None)
    scan.headers = page_headers(image)
    scan.leaf = scan.headers.leaf
    assert all(scan._walk_levels(root, tree) for tree, root in enumerate(roots.values(), start=1))


def test_level_walk_leaves_a_tree_with_a_page_listed_twice_to_the_page_by_page_walk() -> None:
    image, roots = _image()
    data = bytearray(image.data)
    size = image.page_size
    root = roots["t"]
    start = (root - 1) * size
    assert data[start] == 5  # the table's root is an interior page
    # Point the root's right child at its first cell's left child: that page is now listed twice.
    first_cell = int.from_bytes(data[start + 12 : start + 14], "big")
    data[start + 8 : start + 12] = data[start + first_cell : start + first_cell + 4]
    damaged = DatabaseImage(bytes(data))
    scan = _Scan(damaged, [], ignore_progress, None)
    scan.headers = page_headers(damaged)
    scan.leaf = scan.headers.leaf
    assert scan._walk_levels(root, 1) is False
    assert not scan.owner_id.any() and not len(scan._walked_leaves())
    owners, order = _walked(damaged, {"t": root}, levels=True)
    expected_owners, expected_order = _walked(damaged, {"t": root}, levels=False)
    assert np.array_equal(owners, expected_owners)
    assert order == expected_order


@given(
    st.lists(st.sampled_from((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 20, 21)), min_size=1, max_size=8),
    st.sampled_from(("utf-8", "utf-16-le", "utf-16-be")),
    st.randoms(use_true_random=False),
)
def test_one_step_decoder_reads_every_serial_type_as_sqlite_lays_it_out(
    serials: list[int], encoding: str, rng: random.Random
) -> None:
    body = bytearray()
    expected: list[object] = []
    for serial in serials:
        if serial == 0:
            expected.append(None)
        elif serial in (8, 9):
            expected.append(serial - 8)
        elif serial == 7:
            value = rng.uniform(-1e6, 1e6)
            body += struct.pack(">d", value)
            expected.append(value)
        elif serial < 12:
            size = (0, 1, 2, 3, 4, 6, 8)[serial]
            value = rng.randrange(-(1 << (8 * size - 1)), 1 << (8 * size - 1))
            body += value.to_bytes(size, "big", signed=True)
            expected.append(value)
        elif serial & 1:
            size = (serial - 13) // 2
            text = "é" * (size // 2) if size % 2 == 0 else "a" + "é" * (size // 2)
            raw = text.encode(encoding)[:size]
            body += raw.ljust(size, b"a")
            expected.append(bytes(raw.ljust(size, b"a")).decode(encoding, errors="replace"))
        else:
            raw = bytes(rng.randrange(256) for _ in range((serial - 12) // 2))
            body += raw
            expected.append(raw)
    decoder = _decoder(tuple(serials), encoding)
    assert decoder is not None and decoder[1] == len(body)
    try:
        values = decoder[0](bytes(body))
    except UnicodeDecodeError:  # an odd-length UTF-16 text: the loop would not read it either
        assert encoding != "utf-8"
        return
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


def _header_fields(data: bytes, number: int, size: int, usable: int) -> tuple[int, int, int, int, bool]:
    """One page's leaf header read byte by byte: kind, first freeblock, gap start and end, leaf or not."""
    offset = 100 if number == 1 else 0
    page = data[(number - 1) * size : number * size]
    kind = page[offset]
    first = (page[offset + 1] << 8) | page[offset + 2]
    cells = (page[offset + 3] << 8) | page[offset + 4]
    content = ((page[offset + 5] << 8) | page[offset + 6]) or 65536
    gap_start = offset + 8 + 2 * cells
    leaf = kind in (10, 13) and gap_start <= usable and content <= usable and content >= gap_start
    leaf = leaf and (first == 0 or content <= first < usable)
    return kind, first, gap_start, content, leaf


@given(st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=12), st.integers(0, 32))
def test_page_headers_read_each_page_header_as_its_bytes_say(heads: list[bytes], reserved: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA page_size = 512")
    conn.execute("CREATE TABLE t(x)")
    data = bytearray(conn.serialize()[:512])
    data[20] = reserved
    for head in heads:  # random bytes where a header lies: high bits, zero content starts, nonsense
        page = bytearray(512)
        page[:8] = head
        data += page
    data[100:108] = heads[0]  # page 1's header follows the database header
    image = DatabaseImage(bytes(data))
    headers = page_headers(image)
    for number in range(1, image.page_count + 1):
        kind, first, gap_start, gap_end, leaf = _header_fields(bytes(data), number, 512, 512 - reserved)
        assert headers.kind[number] == kind
        assert headers.first_freeblock[number] == first
        assert headers.gap_start[number] == gap_start
        assert headers.gap_end[number] == gap_end
        assert headers.leaf[number] == leaf


def test_cell_pointer_check_of_all_leaves_at_once_agrees_with_the_page_parser() -> None:
    image, _roots = _image()
    data = bytearray(image.data)
    size = image.page_size
    rng = random.Random(7)
    leaves = np.flatnonzero(page_headers(image).leaf)
    damaged = rng.sample(leaves.tolist(), len(leaves) // 3)
    for number in damaged:  # one cell pointer moved: before the content area, past the page, or inside
        page = (number - 1) * size
        cells = (data[page + 3] << 8) | data[page + 4]
        if cells:
            at = page + 8 + 2 * rng.randrange(cells)
            data[at : at + 2] = rng.choice((3, size - 1, size + 8, 65535)).to_bytes(2, "big")
    image = DatabaseImage(bytes(data))
    headers = page_headers(image)
    leaves = np.flatnonzero(headers.leaf)
    found = _pointers_in_content(image, headers, leaves).tolist()
    expected = [parse_btree_page(image.page(n), n, image.usable_size) is not None for n in leaves.tolist()]
    assert found == expected
    assert 0 < found.count(False) < len(found)


def test_index_cells_left_unread_are_those_whose_record_is_an_index_s_either_way() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA page_size = 512")
    conn.executescript(
        """
        CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, body TEXT);
        CREATE INDEX t_n ON t(n);
        CREATE INDEX t_body ON t(body);
        CREATE TABLE w(k TEXT PRIMARY KEY, v TEXT, n INTEGER) WITHOUT ROWID;
        WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s LIMIT 800)
        INSERT INTO t SELECT x, x * 7, 'body ' || hex(randomblob(6)) FROM s;
        INSERT INTO w SELECT body, 'v' || id, n FROM t;
        """
    )
    shapes = shapes_of(read_catalog(conn))
    image = DatabaseImage(conn.serialize())
    headers = page_headers(image)
    skipped = kept = 0
    for number in np.flatnonzero(headers.leaf & (headers.kind == 10)).tolist():
        btree = parse_btree_page(image.page(number), number, image.usable_size)
        assert btree is not None
        region = Region(image.page(number), number, image.usable_size, image.encoding, False, lambda _n: None)
        for pointer in btree.cell_pointers:
            read = intact_cell(region, pointer, image.usable_size, shapes, unknown=True)
            unread = intact_cell(region, pointer, image.usable_size, shapes, unknown=True, keep_index=False)
            if unread is None and read is not None:
                assert read.shape is not None and read.shape.is_index
                skipped += 1
            else:
                assert unread == read
                kept += read is not None and read.shape is not None and not read.shape.is_index
    assert skipped > 0 and kept > 0  # the integer index's cells left unread, the WITHOUT ROWID table's read


def test_records_are_one_when_their_values_are_equal_and_of_one_kind() -> None:
    text = "".join(["no", "te"])  # built, not interned; the same characters interned below
    number = 10**6 + 7
    pairs_equal = [
        ((1, text, 2.5, b"x", None), (1, sys.intern("note"), 2.5, b"x", None)),
        ((number, number), (10**6 + 7, int("1000007"))),  # one object twice, two objects
        ((math.nan,), (float("nan"),)),
        ((LOST, 1.0), (LOST, 1.0)),
    ]
    for left, right in pairs_equal:
        assert _identity("t", left) == _identity("t", right)
    kinds_apart = [(1,), (1.0,), (True,), ("1",), (b"1",), (0.0,), (-0.0,), (None,), (LOST,)]
    keys = {_identity("t", values) for values in kinds_apart}
    assert len(keys) == len(kinds_apart)
    assert _identity("t", (1,)) != _identity("u", (1,)) != _identity(None, (1,))


@given(st.binary(max_size=24), st.integers(1, 12))
def test_a_record_header_s_types_read_at_once_are_those_read_one_by_one(types: bytes, most: int) -> None:
    assert _parse_types(types, most) == _types_one_by_one(types, most)
    low = bytes(b & 0x7F for b in types)  # the one-byte types of the usual header
    assert _parse_types(low, most) == _types_one_by_one(low, most)
