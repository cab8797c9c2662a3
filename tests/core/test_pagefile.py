"""core/pagefile reads SQLite's page format as SQLite itself lays it out (checked against dbstat)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.pagefile import headers
from desktop_app.core.pagefile.btree import interior_children, left_children, parse_btree_page
from desktop_app.core.pagefile.freelist import freelist_trunks
from desktop_app.core.pagefile.headers import any_nonzero, any_nonzero_numpy, page_headers
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.pagefile.owners import btree_pages

SCRIPT = """
CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s LIMIT 3000)
INSERT INTO t SELECT x, randomblob(200) FROM s;
CREATE INDEX t_body ON t(body);
CREATE TABLE gone(x);
INSERT INTO gone SELECT randomblob(300) FROM t;
DROP TABLE gone;
"""


def _memory_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA page_size = 1024")
    conn.executescript(SCRIPT)
    return conn


def test_btree_walk_finds_the_pages_dbstat_lists_for_each_btree() -> None:
    conn = _memory_db()
    image = DatabaseImage(conn.serialize())
    for name, root in conn.execute("SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0"):
        interior, leaves = btree_pages(image, root)
        rows = conn.execute("SELECT pageno, pagetype FROM dbstat WHERE name = ? AND aggregate = 0", (name,))
        by_type: dict[str, set[int]] = {}
        for page, kind in rows:
            by_type.setdefault(kind, set()).add(page)
        assert interior == by_type.get("internal", set()), name
        assert leaves == by_type.get("leaf", set()), name


def test_page_headers_and_left_children_read_every_page_as_dbstat_and_the_page_parser_do() -> None:
    conn = _memory_db()
    image = DatabaseImage(conn.serialize())
    headers = page_headers(image)
    rows = conn.execute("SELECT pageno, pagetype FROM dbstat WHERE aggregate = 0").fetchall()
    assert {page for page, kind in rows if kind == "leaf"} <= set(np.flatnonzero(headers.leaf).tolist())
    interior = sorted(page for page, kind in rows if kind == "internal")
    assert interior == np.flatnonzero(headers.interior).tolist()
    for number in interior:
        page = image.page(number)
        btree = parse_btree_page(page, number, image.usable_size)
        assert btree is not None
        found = [*left_children(page, btree).tolist(), btree.right_child]
        assert found == interior_children(page, number)
        assert headers.first_freeblock[number] == btree.first_freeblock


def test_freelist_walk_finds_as_many_pages_as_the_header_counts() -> None:
    conn = _memory_db()
    image = DatabaseImage(conn.serialize())
    pages = [p for trunk, leaves in freelist_trunks(image.page, image.page_count, image.header.freelist_trunk)
             for p in (trunk, *leaves)]  # fmt: skip
    assert len(pages) == conn.execute("PRAGMA freelist_count").fetchone()[0] > 0
    assert len(set(pages)) == len(pages)
    in_use = {page for (page,) in conn.execute("SELECT pageno FROM dbstat WHERE aggregate = 0")}
    assert not in_use & set(pages)


@given(
    st.integers(1, 64).flatmap(
        lambda words: st.tuples(
            st.binary(min_size=8 * words, max_size=8 * words).map(
                lambda raw: bytes(b if b % 5 == 0 else 0 for b in raw)  # mostly zeros
            ),
            st.lists(st.tuples(st.integers(0, 8 * words - 1), st.integers(1, 8 * words)), min_size=1),
        )
    )
)
def test_any_nonzero_says_which_byte_ranges_hold_a_byte_that_is_not_zero(
    case: tuple[bytes, list[tuple[int, int]]],
) -> None:
    data, pairs = case
    ranges = [(a, max(a + 1, min(len(data), a + n))) for a, n in pairs]
    starts, ends = np.array([a for a, _ in ranges]), np.array([b for _, b in ranges])
    expected = [any(data[a:b]) for a, b in ranges]
    assert any_nonzero(data, starts, ends).tolist() == expected  # the C loop
    assert any_nonzero_numpy(data, starts, ends).tolist() == expected


def test_the_c_loops_are_built_by_the_install() -> None:
    assert headers._kernels is not None, (
        "desktop_app/core/pagefile/_kernels.c was not built: install a C compiler and Python's headers "
        "(gcc python3-dev), then `pip install -e .` again (scans run slower without it)"
    )


def test_the_c_loop_says_empty_ranges_hold_nothing_and_refuses_ranges_outside_the_data() -> None:
    data = memoryview(bytearray(b"\0\0\1\0" * 4))
    starts, ends = np.array([0, 2, 3, 5], dtype=np.int64), np.array([2, 3, 3, 4], dtype=np.int64)
    assert any_nonzero(data, starts, ends).tolist() == [False, True, False, False]
    with pytest.raises(ValueError, match="outside"):
        any_nonzero(data, np.array([8]), np.array([17]))
    with pytest.raises(ValueError, match="outside"):
        any_nonzero(data, np.array([-1]), np.array([3]))
