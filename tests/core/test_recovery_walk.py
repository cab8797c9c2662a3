"""The recovery scan's b-tree walk: a level at a time where the tree is well formed, page by page where it
is not, with the same pages owned in the same order either way."""

from __future__ import annotations

import sqlite3

import numpy as np

from desktop_app.core.pagefile.headers import page_headers
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.progress import ignore_progress
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
    return scan.owner_id, scan.leaf_order


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
    assert not scan.owner_id.any() and scan.leaf_order == []
    owners, order = _walked(damaged, {"t": root}, levels=True)
    expected_owners, expected_order = _walked(damaged, {"t": root}, levels=False)
    assert np.array_equal(owners, expected_owners)
    assert order == expected_order
