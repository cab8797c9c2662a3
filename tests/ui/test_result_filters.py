"""SQL results: a cell's "Filter on this value" / "Exclude this value" narrow the result through SQLite
(any length, NULLs and blobs included), Clear brings every row back, and Ctrl+F finds text in the rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from desktop_app.ui.panes.sql.results import ResultTab
from tests.ui.helpers import wait_for
from tests.ui.test_sql_pane import run, sql_pane


def mixed_database(path: Path, rows: int) -> Path:
    """`m(id, k, b)`: k cycles through 7, 'seven', NULL and 2.5; b through x'00ff', NULL and x''."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE m(id INTEGER PRIMARY KEY, k, b BLOB)")
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) INSERT INTO m "
            "SELECT i, CASE i % 4 WHEN 0 THEN 7 WHEN 1 THEN 'seven' WHEN 2 THEN NULL ELSE 2.5 END, "
            "CASE i % 3 WHEN 0 THEN x'00ff' WHEN 1 THEN NULL ELSE x'' END FROM s",
            (rows,),
        )
    conn.close()
    return path


def expected(path: Path, where: str, *params: Any) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute(f"SELECT count(*) FROM m WHERE {where}", params).fetchone()[0])
    finally:
        conn.close()


async def shown_rows(tab: ResultTab) -> int:
    await wait_for(lambda: tab.model.exact and not tab.model.busy, message="the filtered count")
    return tab.model.total_rows


async def test_filter_and_exclude_a_long_result_including_null_and_blobs(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "m.db", 20_000)
    async with sql_pane(qtbot, tmp_path, path) as pane:
        tab = (await run(pane, "SELECT id, k, b FROM m WHERE id > 10 -- a trailing comment"))[0]
        assert tab.outcome is not None and tab.outcome.rows == 19_990
        for column, value, exclude, where in (
            (1, None, False, "k IS NULL"),
            (1, None, True, "k IS NOT NULL"),
            (1, "seven", False, "k = 'seven'"),
            (1, 2.5, True, "k <> 2.5"),
            (2, b"\x00\xff", False, "b = x'00ff'"),
            (2, b"", True, "b <> x''"),
        ):
            tab.clear_filter()
            assert tab.filter_on(column, value, exclude)
            assert await shown_rows(tab) == expected(path, f"id > 10 AND {where}"), where
            assert tab.filter_row.isVisible()
        tab.filter_on(1, "seven")  # conditions add up: b <> x'' AND k = 'seven'
        both = expected(path, "id > 10 AND b <> x'' AND k = 'seven'")
        assert 0 < both < expected(path, "id > 10 AND b <> x''")
        assert await shown_rows(tab) == both
        assert tab.filter_info.text() == f"Filtered: b ≠ <BLOB empty> and k = seven — {both:,} rows"
        tab.clear_filter()
        assert await shown_rows(tab) == 19_990 and not tab.filter_row.isVisible()


async def test_filter_a_small_held_result_and_refuse_a_pragma(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "m.db", 40)
    async with sql_pane(qtbot, tmp_path, path) as pane:
        held, pragma = await run(pane, "SELECT k, count(*) AS n FROM m GROUP BY k;\nPRAGMA table_info(m);")
        assert held.filter_on(0, 7)
        assert await shown_rows(held) == 1
        assert list(await held.model.rows(0, 1)) == [(7, 10)]
        assert pragma.filterable_query() is None
        assert not pragma.filter_on(0, 0)


async def test_find_in_sql_results_counts_and_walks_matches(qtbot: Any, tmp_path: Path) -> None:
    path = mixed_database(tmp_path / "m.db", 12)
    async with sql_pane(qtbot, tmp_path, path) as pane:
        tab = (await run(pane, "SELECT id, k, b FROM m"))[0]
        bar = tab.find_bar
        bar.open_bar()
        bar.text.setText("sEvEn")
        await wait_for(lambda: bar.finished, message="find to finish")
        assert bar.matches == [(0, 1), (4, 1), (8, 1)]  # ids 1, 5, 9
        assert bar.next() == (0, 1) and bar.next() == (4, 1)
        assert tab.view.currentIndex().row() == 4
        bar.text.setText("ff")  # blob bytes in hex: ids 3, 6, 9, 12
        await wait_for(lambda: bar.finished, message="find to finish")
        assert bar.matches == [(2, 2), (5, 2), (8, 2), (11, 2)]
        assert bar.count.text() == "4 matches"
