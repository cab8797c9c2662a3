"""CSV export: every option, awkward values round-trip, atomic files, cancel, errors, flat memory."""

from __future__ import annotations

import base64
import csv
import errno
import io
import math
import os
import sqlite3
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.errors import Cancelled, ExportError, QueryError, ReadOnlyError
from desktop_app.core.export import atomic
from desktop_app.core.export import csv_file as export
from desktop_app.core.export.csv_file import (
    BlobEncoding,
    CsvOptions,
    LineEnding,
    Quoting,
    export_csv,
    export_query_csv,
)
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.sqlite.connection import configure_connection, decode_text
from desktop_app.core.sqlite.guard import unguarded

AWKWARD_TEXT = [
    "plain",
    "comma, inside",
    'say "hi"',
    "two\nlines",
    "bare\rcarriage return",
    "windows\r\nline",
    "",
    "naïve café 日本語 🎉",
    " leading and trailing ",
    "semi;colon|pipe\ttab",
    "'single quotes'",
    "b'looks like a blob'",
    "=SUM(A1:A2)",
]
AWKWARD_NUMBERS = [0, -1, 2**63 - 1, -(2**63), 0.1, 1 / 3, 1e300, 5e-324, -0.0, math.inf, -math.inf, 1e16]


def make_conn(tmp_path: Path, rows: list[tuple[Any, ...]], columns: str = "a, b") -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "source.db")
    placeholders = ", ".join("?" * len(rows[0]))
    conn.execute(f"CREATE TABLE t({columns})")
    conn.executemany(f"INSERT INTO t VALUES ({placeholders})", rows)
    conn.commit()
    configure_connection(conn)
    return conn


def read_csv(path: Path, **reader_options: Any) -> list[list[Any]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file, **reader_options))


def folder_listing(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name != "source.db")


def test_awkward_text_round_trips_through_csv_reader(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(i, text) for i, text in enumerate(AWKWARD_TEXT)])
    for ending in LineEnding:
        target = tmp_path / f"out-{ending.name}.csv"
        result = export_query_csv(
            conn, "SELECT a, b FROM t ORDER BY a", path=target, options=CsvOptions(line_ending=ending)
        )
        assert result.rows == len(AWKWARD_TEXT)
        assert read_csv(target) == [["a", "b"]] + [[str(i), text] for i, text in enumerate(AWKWARD_TEXT)]


def test_numbers_round_trip_exactly(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(i, value) for i, value in enumerate(AWKWARD_NUMBERS)])
    target = tmp_path / "numbers.csv"
    export_query_csv(conn, "SELECT b FROM t ORDER BY a", path=target)
    cells = [row[0] for row in read_csv(target)[1:]]
    for cell, value in zip(cells, AWKWARD_NUMBERS, strict=True):
        parsed = int(cell) if isinstance(value, int) else float(cell)
        assert parsed == value
        assert cell == repr(value)  # shortest round-trip form, never 15-digit rounding


def test_null_and_empty_string_differ_only_with_a_null_representation(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, None), (2, "")])
    default = tmp_path / "default.csv"
    marked = tmp_path / "marked.csv"
    export_query_csv(conn, "SELECT a, b FROM t ORDER BY a", path=default)
    export_query_csv(conn, "SELECT a, b FROM t ORDER BY a", path=marked, options=CsvOptions(null="NULL"))
    assert read_csv(default)[1:] == [["1", ""], ["2", ""]]
    assert read_csv(marked)[1:] == [["1", "NULL"], ["2", ""]]


def test_single_column_of_empty_values_keeps_its_rows(tmp_path: Path) -> None:
    target = tmp_path / "one.csv"
    export_csv([[(None,), ("",), ("x",)]], ["only"], target)
    assert read_csv(target) == [["only"], [""], [""], ["x"]]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        (BlobEncoding.BASE64, base64.b64encode(b"\x00\xff\xfe'\"").decode()),
        (BlobEncoding.HEX, "00FFFE2722"),
        (BlobEncoding.SKIP, ""),
    ],
)
def test_blob_encodings(tmp_path: Path, encoding: BlobEncoding, expected: str) -> None:
    conn = make_conn(tmp_path, [(1, b"\x00\xff\xfe'\""), (2, b""), (3, "text")])
    target = tmp_path / "blobs.csv"
    export_query_csv(conn, "SELECT b FROM t ORDER BY a", path=target, options=CsvOptions(blobs=encoding))
    assert read_csv(target)[1:] == [[expected], [""], ["text"]]


def test_blobs_are_found_in_any_page_and_any_column(tmp_path: Path) -> None:
    pages = [[("a", 1)] * 5, [("b", b"\x01"), (b"\x02", "it's")], [("no blob here, it's text", 2)]]
    target = tmp_path / "mixed.csv"
    export_csv(pages, ["x", "y"], target, CsvOptions(blobs=BlobEncoding.HEX))
    rows = read_csv(target)
    assert rows[6:] == [["b", "01"], ["02", "it's"], ["no blob here, it's text", "2"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", "^"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    target = tmp_path / "delimited.csv"
    rows = [("a" + delimiter + "b", 1.5), ("plain", -2)]
    export_csv([rows], ["text", "number"], target, CsvOptions(delimiter=delimiter))
    assert read_csv(target, delimiter=delimiter) == [["text", "number"], [rows[0][0], "1.5"], ["plain", "-2"]]
    first_data_line = target.read_text(encoding="utf-8").splitlines()[1]
    assert first_data_line == f'"a{delimiter}b"{delimiter}1.5'


def test_quote_character(tmp_path: Path) -> None:
    target = tmp_path / "quoted.csv"
    export_csv([[("it's, here", 'say "x"')]], ["a", "b"], target, CsvOptions(quote_char="'"))
    assert target.read_bytes().splitlines()[1] == b"'it''s, here',say \"x\""
    assert read_csv(target, quotechar="'")[1] == ["it's, here", 'say "x"']


def test_quoting_all_and_non_numeric(tmp_path: Path) -> None:
    rows = [(1, 2.5, "x", None)]
    quote_all = tmp_path / "all.csv"
    non_numeric = tmp_path / "non-numeric.csv"
    minimal = tmp_path / "minimal.csv"
    export_csv([rows], ["i", "f", "s", "n"], quote_all, CsvOptions(quoting=Quoting.ALL, header=False))
    export_csv(
        [rows], ["i", "f", "s", "n"], non_numeric, CsvOptions(quoting=Quoting.NON_NUMERIC, header=False)
    )
    export_csv([rows], ["i", "f", "s", "n"], minimal, CsvOptions(header=False))
    assert quote_all.read_bytes() == b'"1","2.5","x",""\r\n'
    assert non_numeric.read_bytes() == b'1,2.5,"x",""\r\n'
    assert minimal.read_bytes() == b"1,2.5,x,\r\n"
    with open(non_numeric, newline="") as file:
        assert next(csv.reader(file, quoting=csv.QUOTE_NONNUMERIC))[:3] == [1.0, 2.5, "x"]


def test_header_off(tmp_path: Path) -> None:
    target = tmp_path / "no-header.csv"
    result = export_csv([[(1, "a")]], ["n", "s"], target, CsvOptions(header=False))
    assert read_csv(target) == [["1", "a"]]
    assert result.rows == 1


def test_line_endings(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.csv"
    lf = tmp_path / "lf.csv"
    export_csv([[(1, "a\nb")]], ["n", "s"], crlf)
    export_csv([[(1, "a\nb")]], ["n", "s"], lf, CsvOptions(line_ending=LineEnding.LF))
    assert crlf.read_bytes() == b'n,s\r\n1,"a\nb"\r\n'
    assert lf.read_bytes() == b'n,s\n1,"a\nb"\n'


def test_bare_carriage_return_is_quoted_with_lf_endings(tmp_path: Path) -> None:
    # Python 3.11's csv writer would leave it bare, and readers would split the row there.
    target = tmp_path / "cr.csv"
    export_csv([[("a\rb", 1), ("plain", 2)]], ["s", "n"], target, CsvOptions(line_ending=LineEnding.LF))
    assert target.read_bytes() == b's,n\n"a\rb",1\nplain,2\n'


def test_bom_for_excel(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.csv"
    without = tmp_path / "plain.csv"
    export_csv([[("café",)]], ["name"], with_bom, CsvOptions(bom=True))
    export_csv([[("café",)]], ["name"], without)
    assert with_bom.read_bytes() == b"\xef\xbb\xbf" + without.read_bytes()
    assert not without.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(with_bom, encoding="utf-8-sig", newline="") as file:
        assert list(csv.reader(file)) == [["name"], ["café"]]


def test_formula_guard_off_by_default_and_prefixes_text_when_on(tmp_path: Path) -> None:
    rows = [("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", "safe", -5, None)]
    columns = ["=HYPERLINK()", "b", "c", "d", "e", "f", "g", "h", "i"]
    plain = tmp_path / "plain.csv"
    guarded = tmp_path / "guarded.csv"
    export_csv([rows], columns, plain)
    export_csv([rows], columns, guarded, CsvOptions(formula_guard=True, null="-"))
    assert read_csv(plain)[1][:4] == ["=1+1", "+cmd", "-2", "@SUM(A1)"]
    header, row = read_csv(guarded)
    assert header[0] == "'=HYPERLINK()"
    # Numbers stay numbers and the chosen NULL text is not data, so neither is touched.
    assert row == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "safe", "-5", "-"]


def test_base64_blob_starting_with_plus_is_guarded(tmp_path: Path) -> None:
    blob = base64.b64decode("+AAA")
    target = tmp_path / "guarded-blob.csv"
    export_csv([[(blob,)]], ["b"], target, CsvOptions(formula_guard=True))
    assert read_csv(target)[1] == ["'+AAA"]


def test_duplicate_column_names_are_kept(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    target = tmp_path / "dup.csv"
    export_query_csv(conn, "SELECT a AS x, b AS x, a FROM t", path=target)
    assert read_csv(target) == [["x", "x", "a"], ["1", "2", "1"]]


def test_output_is_byte_stable_across_runs(tmp_path: Path) -> None:
    rows = [
        (i, text, AWKWARD_NUMBERS[i % len(AWKWARD_NUMBERS)], b"\x00" * (i % 3))
        for i, text in enumerate(AWKWARD_TEXT)
    ]
    conn = make_conn(tmp_path, rows, "a, b, c, d")
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    export_query_csv(conn, "SELECT * FROM t ORDER BY a", path=first)
    export_query_csv(conn, "SELECT * FROM t ORDER BY a", path=second)
    assert first.read_bytes() == second.read_bytes()


def test_invalid_utf8_becomes_replacement_characters_without_repeating_rows(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(i, f"row {i}") for i in range(2500)])
    with unguarded(conn):  # test set-up writes through the snapshot connection
        conn.execute("PRAGMA query_only=OFF")
        conn.execute("UPDATE t SET b = CAST(x'41ff42' AS TEXT) WHERE a = 2000")
        conn.commit()
        conn.execute("PRAGMA query_only=ON")
    target = tmp_path / "bad-text.csv"
    result = export_query_csv(conn, "SELECT a, b FROM t ORDER BY a", path=target)
    rows = read_csv(target)
    assert result.rows == 2500
    assert len(rows) == 2501
    assert rows[2001] == ["2000", "A\ufffdB"]
    assert conn.text_factory is decode_text


def test_result_reports_rows_bytes_path_and_time(tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    result = export_csv([[(1,), (2,)], [(3,)]], ["n"], target)
    assert (result.rows, result.bytes, result.path) == (3, target.stat().st_size, target)
    assert result.elapsed >= 0


def test_cursor_is_accepted_and_read_in_pages(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(i, i * 2) for i in range(2345)])
    target = tmp_path / "cursor.csv"
    result = export_csv(conn.execute("SELECT a, b FROM t"), ["a", "b"], target)
    assert result.rows == 2345
    assert read_csv(target)[-1] == ["2344", "4688"]


def test_progress_ends_at_the_known_total(tmp_path: Path) -> None:
    reports: list[Progress] = []
    pages = [[(i,)] * 10 for i in range(50)]
    export_csv(pages, ["n"], tmp_path / "p.csv", progress=reports.append, total_rows=500)
    assert reports[0].done == 0
    assert reports[-1] == Progress(500, 500, reports[-1].label)
    assert [report.done for report in reports] == sorted(report.done for report in reports)
    assert all(report.total == 500 for report in reports)


def test_cancel_removes_the_temporary_file_and_leaves_no_target(tmp_path: Path) -> None:
    token = CancelToken()

    def pages() -> Iterator[list[tuple[int]]]:
        for i in range(100):
            if i == 3:
                token.cancel()
            yield [(i,)] * 10

    target = tmp_path / "cancelled.csv"
    with pytest.raises(Cancelled):
        export_csv(pages(), ["n"], target, cancel=token)
    assert folder_listing(tmp_path) == []


def test_cancel_stops_a_running_query(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    runaway = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000000000) "
        "SELECT count(*) FROM c"
    )
    token = CancelToken()
    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    try:
        with pytest.raises(Cancelled):
            export_query_csv(conn, runaway, path=tmp_path / "never.csv", cancel=token)
    finally:
        timer.cancel()
    assert folder_listing(tmp_path) == []
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)  # the connection is usable again


def test_interrupt_by_the_database_service_counts_as_cancel(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
    timer = threading.Timer(0.2, conn.interrupt)  # the service's own cancel, our token never set
    timer.start()
    try:
        with pytest.raises(Cancelled):
            export_query_csv(conn, runaway, path=tmp_path / "never.csv")
    finally:
        timer.cancel()
    assert folder_listing(tmp_path) == []


def test_query_failing_mid_stream_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(i, "x") for i in range(3000)])
    target = tmp_path / "existing.csv"
    target.write_text("the previous export\n")
    # json() fails at run time, only on row 2500: by then 2 pages are written.
    failing = "SELECT a, CASE WHEN a = 2500 THEN json('{broken') ELSE b END FROM t"
    with pytest.raises(QueryError) as caught:
        export_query_csv(conn, failing, path=target)
    assert "after 2,000 rows" in caught.value.message
    assert "no file was saved" in caught.value.message
    assert target.read_text() == "the previous export\n"
    assert folder_listing(tmp_path) == ["existing.csv"]


def test_syntax_error_carries_its_position(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    sql = "SELECT a FROM t WHERE a = = 1"
    with pytest.raises(QueryError) as caught:
        export_query_csv(conn, sql, path=tmp_path / "x.csv")
    assert caught.value.offset == sql.rindex("=")
    assert folder_listing(tmp_path) == []


def test_write_statement_is_refused_before_any_file_is_made(tmp_path: Path) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    with pytest.raises(ReadOnlyError, match="read-only"):
        export_query_csv(conn, "DELETE FROM t", path=tmp_path / "x.csv")
    assert folder_listing(tmp_path) == []


@pytest.mark.parametrize("sql", ["", "  -- only a comment\n", "SELECT 1; SELECT 2"])
def test_empty_or_several_statements_are_refused(tmp_path: Path, sql: str) -> None:
    conn = make_conn(tmp_path, [(1, 2)])
    with pytest.raises(QueryError):
        export_query_csv(conn, sql, path=tmp_path / "x.csv")
    assert folder_listing(tmp_path) == []


def test_missing_folder_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export_csv([[(1,)]], ["n"], tmp_path / "missing" / "out.csv")


def test_folder_as_target_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a folder"):
        export_csv([[(1,)]], ["n"], tmp_path)


def test_file_in_place_of_folder_is_an_export_error(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        export_csv([[(1,)]], ["n"], tmp_path / "plain-file" / "out.csv")


def test_unwritable_folder_is_an_export_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.os, "open", refuse)  # root ignores chmod, so simulate it
    with pytest.raises(ExportError, match="No permission"):
        export_csv([[(1,)]], ["n"], tmp_path / "out.csv")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder_is_an_export_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ExportError, match="No permission"):
        export_csv([[(1,)]], ["n"], locked / "out.csv")


def test_full_disk_is_an_export_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FullDisk(io.BufferedWriter):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def open_full(fd: int, _mode: str, **_kwargs: Any) -> FullDisk:
        return FullDisk(io.FileIO(fd, "w"))

    monkeypatch.setattr(atomic, "open", open_full, raising=False)
    target = tmp_path / "full.csv"
    with pytest.raises(ExportError, match="disk is full"):
        export_csv([[(1,)]], ["n"], target)
    assert folder_listing(tmp_path) == []


def test_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "perm.csv"
    export_csv([[(1,)]], ["n"], target)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    "bad",
    [
        {"delimiter": ""},
        {"delimiter": ",,"},
        {"delimiter": "\n"},
        {"delimiter": "a"},
        {"delimiter": "."},
        {"delimiter": "-"},
        {"quote_char": "7"},
        {"delimiter": '"'},
    ],
)
def test_unusable_separators_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ExportError):
        CsvOptions(**bad)


def test_options_survive_a_settings_round_trip() -> None:
    options = CsvOptions(
        header=False,
        delimiter="\t",
        quote_char="'",
        quoting=Quoting.NON_NUMERIC,
        line_ending=LineEnding.LF,
        bom=True,
        null="NULL",
        blobs=BlobEncoding.HEX,
        formula_guard=True,
    )
    settings = options.to_settings()
    assert all(isinstance(value, str | bool) for value in settings.values())
    assert CsvOptions.from_settings(settings) == options


def test_bad_settings_fall_back_to_defaults() -> None:
    options = CsvOptions.from_settings({"quoting": "sometimes", "delimiter": "ab", "bom": "true", "null": 3})
    assert options == CsvOptions(bom=True)


def test_memory_stays_flat_whatever_the_row_count(tmp_path: Path) -> None:
    def pages(count: int) -> Iterator[list[tuple[Any, ...]]]:
        for page in range(count):
            yield [(page * 1000 + i, f"text {i} with, comma", i / 7, None, "x" * 40) for i in range(1000)]

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            export_csv(pages(count), ["a", "b", "c", "d", "e"], tmp_path / f"m{count}.csv")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2), peak(40)
    assert (tmp_path / "m40.csv").stat().st_size > 3_000_000
    assert large < small + 1_000_000  # 20x the rows, about the same peak


def test_long_unicode_file_name_still_gets_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ("🎉" * 60 + ".csv")  # 244 bytes: room for the name, not for a longer temp name
    result = export_csv([[(1,)]], ["n"], target)
    assert result.path == target
    assert read_csv(target) == [["n"], ["1"]]


def test_blob_and_carriage_return_in_one_page_with_lf_endings(tmp_path: Path) -> None:
    target = tmp_path / "both.csv"
    rows = [(b"\x00", "a\rb"), (None, "c")]
    export_csv(iter([iter(rows)]), ["b", "s"], target, CsvOptions(line_ending=LineEnding.LF, null="NULL"))
    assert target.read_bytes() == b'b,s\nAA==,"a\rb"\nNULL,c\n'
