"""The recovery scan's fast paths: the b-tree walk a level at a time where the tree is well formed (page by
page where it is not, the same pages owned in the same order either way), and records decoded in one step."""

from __future__ import annotations

import random
import sqlite3
import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.pagefile.headers import page_headers
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.progress import ignore_progress
from desktop_app.core.recovery.carve import _decoder
from desktop_app.core.recovery.scan import _Scan

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
