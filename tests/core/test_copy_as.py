"""Copy as: exactly the selected cells, composed as CSV, TSV, JSON, Markdown, INSERT or WHERE."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from desktop_app.core.export.clipboard import CellSelection, CopyFormat, compose

COLUMNS = ["id", "it's", 'q"t']
# Rows 1 and 3 of a grid, Ctrl-clicked: row 2 was not selected and must not appear.
SELECTION = CellSelection(COLUMNS, [{0: 1, 1: "a,b", 2: None}, {0: 3, 1: 'say "hi"', 2: b"\x00\xff"}])


def test_tsv_and_csv_hold_only_the_selected_rows_with_optional_headers() -> None:
    assert compose(CopyFormat.TSV, SELECTION) == '1\ta,b\t\n3\t"say ""hi"""\t00FF\n'
    text = compose(CopyFormat.CSV, SELECTION, headers=True)
    assert list(csv.reader(io.StringIO(text))) == [COLUMNS, ["1", "a,b", ""], ["3", 'say "hi"', "00FF"]]


def test_cells_not_selected_in_a_row_stay_empty_in_tables_and_absent_in_json() -> None:
    ragged = CellSelection(COLUMNS, [{0: 1}, {2: 2.5}])
    assert compose(CopyFormat.TSV, ragged) == "1\t\n\t2.5\n"
    assert json.loads(compose(CopyFormat.JSON, ragged)) == [{"id": 1}, {'q"t': 2.5}]
    assert compose(CopyFormat.WHERE, ragged) == 'WHERE (id = 1)\n   OR ("q""t" = 2.5)'


def test_json_keeps_types_and_encodes_blobs_as_base64() -> None:
    assert json.loads(compose(CopyFormat.JSON, SELECTION)) == [
        {"id": 1, "it's": "a,b", 'q"t': None},
        {"id": 3, "it's": 'say "hi"', 'q"t': "AP8="},
    ]


def test_markdown_always_has_a_header_and_escapes_pipes() -> None:
    text = compose(CopyFormat.MARKDOWN, CellSelection(["a|b"], [{0: "x|y"}, {0: None}]))
    assert text == "| a\\|b |\n|---|\n| x\\|y |\n| NULL |\n"


def test_insert_statements_recreate_the_selected_cells(tmp_path: object) -> None:
    text = compose(CopyFormat.SQL_INSERT, SELECTION, table="my 'table'")
    conn = sqlite3.connect(":memory:")
    conn.execute("""CREATE TABLE "my 'table'"(id, "it's", "q""t")""")
    conn.executescript(text)
    assert conn.execute("SELECT * FROM \"my 'table'\"").fetchall() == [
        (1, "a,b", None),
        (3, 'say "hi"', b"\x00\xff"),
    ]


def test_where_clause_finds_exactly_the_selected_rows() -> None:
    text = compose(CopyFormat.WHERE, SELECTION)
    assert text == (
        'WHERE (id = 1 AND "it\'s" = \'a,b\' AND "q""t" IS NULL)\n'
        '   OR (id = 3 AND "it\'s" = \'say "hi"\' AND "q""t" = X\'00FF\')'
    )
    conn = sqlite3.connect(":memory:")
    conn.execute("""CREATE TABLE t(id, "it's", "q""t")""")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?)", [(1, "a,b", None), (2, "x", None), (3, 'say "hi"', b"\x00\xff")]
    )
    assert [r[0] for r in conn.execute(f"SELECT id FROM t {text}")] == [1, 3]
    single = compose(CopyFormat.WHERE, CellSelection(["f"], [{0: 0.1 + 0.2}]))
    assert single == "WHERE f = 0.30000000000000004"


def test_an_empty_selection_copies_nothing() -> None:
    for fmt in CopyFormat:
        assert compose(fmt, CellSelection(COLUMNS, [])) == ""
