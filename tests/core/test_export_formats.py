"""Every export format round-trips a table of awkward values, read back with the format's own library."""

from __future__ import annotations

import base64
import csv
import dataclasses
import importlib.util
import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.errors import Cancelled, ExportError, OutputIsSourceError
from desktop_app.core.export import formats as formats_module
from desktop_app.core.export import xlsx as xlsx_module
from desktop_app.core.export.formats import ExportFormat, available, format_for_path, parse_format
from desktop_app.core.export.json_file import JsonOptions
from desktop_app.core.export.run import export_query, export_rows
from desktop_app.core.export.sql_file import SqlOptions
from desktop_app.core.export.writer import BlobEncoding
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.connection import configure_connection
from tests.conftest import folder_state

INVALID_UTF8 = b"f\xffo\xc3"
COLUMNS = ["n", 'f "x"', "t's", "b"]
# One row per awkward case; `None` rows check NULL in every column.
ROWS: list[tuple[Any, ...]] = [
    (2**63 - 1, -0.0, "emoji 😀 and 中文", b"\x00\xff\x10"),
    (-(2**63), 1e308, 'it\'s "quoted"\r\nnew line, comma | pipe\ttab', b""),
    (None, None, None, None),
    (0, 0.1 + 0.2, "=1+2", b"blob"),
    (2**53 + 1, float("inf"), "", bytes(range(256))),
    (-1, 5e-324, 'a},\x1f{"b": 1, \x1f', b"\x89PNG"),
]
INVALID_ROW = 6  # the row whose text column holds invalid UTF-8 (added in SQL, below)
SQL = 'SELECT n, f AS "f ""x""", t AS "t\'s", b FROM "we""ird \'table\'" ORDER BY rowid'


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "awkward.db"
    conn = sqlite3.connect(path)
    conn.execute("""CREATE TABLE "we""ird 'table'" (n, f, t, b)""")
    conn.executemany("""INSERT INTO "we""ird 'table'" VALUES (?, ?, ?, ?)""", ROWS)
    conn.execute(
        f"""INSERT INTO "we""ird 'table'" VALUES (7, 2.5, CAST(X'{INVALID_UTF8.hex()}' AS TEXT), NULL)"""
    )
    conn.commit()
    conn.close()
    return path


def reader(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    configure_connection(conn)
    return conn


def export(source: Path, target: Path, fmt: ExportFormat, options: Any = None) -> Any:
    conn = reader(source)
    try:
        return export_query(conn, SQL, path=target, fmt=fmt, options=options, source_path=source)
    finally:
        conn.close()


def expected_rows() -> list[tuple[Any, ...]]:
    return [*ROWS, (7, 2.5, INVALID_UTF8.decode("utf-8", "replace"), None)]


def same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def check_text_cell(cell: str, value: Any, *, null: str = "", blob: str = "base64") -> None:
    """A cell of a text format (CSV, TSV, Markdown) reads back as `value`."""
    if value is None:
        assert cell == null
    elif isinstance(value, bytes):
        assert cell == (base64.b64encode(value).decode() if blob == "base64" else value.hex().upper())
    elif isinstance(value, int):
        assert int(cell) == value
    elif isinstance(value, float):
        assert same_float(float(cell.replace("Infinity", "inf")), value)
    else:
        assert cell == value


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.TSV])
def test_csv_and_tsv_round_trip_through_csv_module(source: Path, tmp_path: Path, fmt: ExportFormat) -> None:
    before = folder_state(source.parent)
    target = tmp_path / f"out{fmt.info.extension}"
    result = export(source, target, fmt)
    delimiter = "\t" if fmt is ExportFormat.TSV else ","
    with open(target, newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file, delimiter=delimiter))
    assert header == COLUMNS
    assert result.rows == len(rows) == len(expected_rows())
    for row, expected in zip(rows, expected_rows(), strict=True):
        for cell, value in zip(row, expected, strict=True):
            check_text_cell(cell, value)
    assert folder_state(source.parent) == before


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.JSONL])
def test_json_keeps_types_value_by_value(source: Path, tmp_path: Path, fmt: ExportFormat) -> None:
    target = tmp_path / f"out{fmt.info.extension}"
    export(source, target, fmt)
    text = target.read_text(encoding="utf-8")
    # Strict JSON: no NaN/Infinity tokens, which many parsers refuse.
    decoded = (
        json.loads(text, parse_constant=pytest.fail)
        if fmt is ExportFormat.JSON
        else [json.loads(line, parse_constant=pytest.fail) for line in text.splitlines()]
    )
    assert [list(obj) for obj in decoded] == [COLUMNS] * len(expected_rows())
    for obj, expected in zip(decoded, expected_rows(), strict=True):
        for value, want in zip(obj.values(), expected, strict=True):
            if isinstance(want, bytes):
                assert isinstance(value, str) and base64.b64decode(value) == want
            elif isinstance(want, float) and math.isinf(want):
                assert value == ("Infinity" if want > 0 else "-Infinity")
            elif isinstance(want, float):
                assert type(value) is float and same_float(value, want)
            else:
                assert type(value) is type(want) and value == want


def test_json_blobs_in_hex_on_request_and_duplicate_names_kept(tmp_path: Path) -> None:
    target = tmp_path / "dup.json"
    export_rows(
        [[(b"\x01\xab", 1, 2)]], ["b", "a", "a"], target, ExportFormat.JSON, JsonOptions(BlobEncoding.HEX)
    )
    assert json.loads(target.read_text()) == [{"b": "01AB", "a": 1, "a_2": 2}]


def split_markdown(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("<br>", "\n").replace("\\|", "|").replace("\\\\", "\\") for c in cells]


def test_markdown_table_reads_back_cell_by_cell(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    export(source, target, ExportFormat.MARKDOWN)
    header, rule, *lines = target.read_text(encoding="utf-8").splitlines()
    assert split_markdown(header) == COLUMNS
    assert rule == "|---|---|---|---|"
    assert len(lines) == len(expected_rows())
    for line, expected in zip(lines, expected_rows(), strict=True):
        for cell, value in zip(split_markdown(line), expected, strict=True):
            if isinstance(value, str):
                value = value.replace("\r\n", "\n").strip()  # Markdown keeps no CR, and trims cells
            check_text_cell(cell, value, null="NULL", blob="hex")


def test_sql_export_recreates_every_value_and_type(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.sql"
    export(source, target, ExportFormat.SQL, SqlOptions(table='new "t"'))
    fresh = sqlite3.connect(tmp_path / "fresh.db")
    fresh.executescript(target.read_bytes().decode("utf-8"))  # bytes as written: CRLF inside text stays
    got = fresh.execute(
        'SELECT n, typeof(n), "f ""x""", typeof("f ""x"""), CAST("t\'s" AS BLOB), typeof("t\'s"), '
        'b, typeof(b) FROM "new ""t""" ORDER BY rowid'
    ).fetchall()
    original = sqlite3.connect(source)
    want = original.execute(
        """SELECT n, typeof(n), f, typeof(f), CAST(t AS BLOB), typeof(t), b, typeof(b)
        FROM "we""ird 'table'" ORDER BY rowid"""
    ).fetchall()
    assert len(got) == len(want) == len(expected_rows())
    for row, expected in zip(got, want, strict=True):
        assert row[1::2] == expected[1::2]  # types
        assert row[0] == expected[0] and row[4:] == expected[4:]  # integers, text bytes, blobs
        assert row[2] is None or same_float(row[2], expected[2])
    assert [c[1] for c in fresh.execute('PRAGMA table_info("new ""t""")')] == COLUMNS


def test_xlsx_keeps_numbers_text_and_empty_cells(source: Path, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    target = tmp_path / "out.xlsx"
    export(source, target, ExportFormat.XLSX)
    book = openpyxl.load_workbook(target, read_only=True)
    header, *rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()  # read-only workbooks keep the file open until closed
    assert header == COLUMNS
    for row, expected in zip(rows, expected_rows(), strict=True):
        for value, want in zip(row, expected, strict=True):
            if isinstance(want, bytes):
                assert value == (base64.b64encode(want).decode() or None)  # an empty text is an empty cell
            elif isinstance(want, int) and abs(want) > 2**53:
                assert value == str(want)  # a double cannot hold it: exact digits as text
            elif isinstance(want, float) and math.isinf(want):
                assert value == "Infinity"
            elif isinstance(want, float):
                assert type(value) is float and same_float(value, want)
            elif want == "":
                assert value is None
            elif isinstance(value, str):
                # Control characters are stored as Excel's `_xHHHH_` escapes, which Excel decodes and
                # openpyxl leaves as they are in inline strings: decode them as Excel does.
                assert re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), value) == want
            else:
                assert type(value) is type(want) and value == want
    assert len(rows) == len(expected_rows())


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    monkeypatch.setattr(xlsx_module, "LIMITS", dataclasses.replace(xlsx_module.LIMITS, xlsx_sheet_rows=4))
    target = tmp_path / "many.xlsx"
    result = export_rows([[(i,) for i in range(10)]], ["i"], target, ExportFormat.XLSX)
    book = openpyxl.load_workbook(target, read_only=True)
    sheets = [[row[0] for row in ws.iter_rows(values_only=True)] for ws in book.worksheets]
    book.close()
    assert sheets == [["i", 0, 1, 2], ["i", 3, 4, 5], ["i", 6, 7, 8], ["i", 9]]
    assert result.notes[0] == "Excel holds 4 rows a sheet: the rows continue on Sheet2 to Sheet4."


def test_parquet_keeps_types_when_pyarrow_is_installed(source: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "out.parquet"
    # The column of mixed floats and integers is left out (a column takes one type); `t` and `b` are pure.
    conn = reader(source)
    sql = """SELECT n, t, b FROM "we""ird 'table'" ORDER BY rowid"""
    result = export_query(conn, sql, path=target, fmt=ExportFormat.PARQUET, source_path=source)
    conn.close()
    table = pq.read_table(target)
    assert [str(t) for t in table.schema.types] == ["int64", "string", "binary"]
    got = table.to_pylist()
    for obj, expected in zip(got, expected_rows(), strict=True):
        assert list(obj.values()) == [expected[0], expected[2], expected[3]]
    assert result.notes == ()


def test_parquet_is_refused_with_how_to_install_when_pyarrow_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        formats_module.importlib.util, "find_spec", lambda name: None if name == "pyarrow" else real(name)
    )
    assert not available(ExportFormat.PARQUET)
    assert ExportFormat.PARQUET not in formats_module.available_formats()
    with pytest.raises(ExportError, match=r'pip install "sqlite-snapshot-browser\[parquet\]"'):
        export_rows([[(1,)]], ["n"], tmp_path / "x.parquet", ExportFormat.PARQUET)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_every_format_refuses_the_source_and_leaves_nothing_on_cancel(
    source: Path, tmp_path: Path, fmt: ExportFormat
) -> None:
    if not available(fmt):
        pytest.skip(f"{fmt.value} not installed")
    before = folder_state(source.parent)
    with pytest.raises(OutputIsSourceError):
        export(source, source.parent / (source.name + "-wal"), fmt)
    token = CancelToken()

    def pages() -> Any:
        yield [(1,)]
        token.cancel()
        yield [(2,)]

    with pytest.raises(Cancelled):
        export_rows(pages(), ["n"], tmp_path / f"x{fmt.info.extension}", fmt, cancel=token)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert folder_state(source.parent) == before


def test_format_comes_from_the_name_or_is_refused_clearly() -> None:
    assert format_for_path("a/b.JSONL") is ExportFormat.JSONL
    assert format_for_path("x.tsv") is ExportFormat.TSV
    assert format_for_path("x.txt") is None
    assert parse_format("Markdown") is ExportFormat.MARKDOWN
    with pytest.raises(ExportError, match="Unknown export format 'yaml': choose one of csv, tsv, json"):
        parse_format("yaml")


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.SQL, ExportFormat.CSV])
def test_corpus_tables_round_trip(corpus: Path, tmp_path: Path, fmt: ExportFormat) -> None:
    db = corpus / "chinook" / "Chinook_Sqlite.sqlite"
    conn = reader(db)
    for table in ("Track", "Invoice"):
        sql = f"SELECT * FROM {table}"
        want = conn.execute(sql).fetchall()
        target = tmp_path / f"{table}{fmt.info.extension}"
        export_query(conn, sql, path=target, fmt=fmt, source_path=db)
        if fmt is ExportFormat.JSON:
            got = [tuple(obj.values()) for obj in json.loads(target.read_text(encoding="utf-8"))]
            assert got == want
        elif fmt is ExportFormat.SQL:
            fresh = sqlite3.connect(":memory:")
            fresh.executescript(target.read_text(encoding="utf-8"))
            assert fresh.execute("SELECT * FROM export").fetchall() == want
        else:
            with open(target, newline="", encoding="utf-8") as file:
                rows = list(csv.reader(file))[1:]
            assert rows == [["" if v is None else str(v) for v in row] for row in want]
    conn.close()
