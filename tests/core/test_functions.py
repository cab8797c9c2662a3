"""The built-in SQL library, blob sniffing, the registry's listing, and the `functions` command."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import plistlib
import random
import re
import shutil
import sqlite3
import statistics
import struct
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop_app import cli as cli_package
from desktop_app.cli import main as cli_main
from desktop_app.core.blobs.sniff import extension_for, sniff_mime
from desktop_app.core.errors import QueryError
from desktop_app.core.functions import registry as functions_module
from desktop_app.core.functions.builtin import BUILTIN_SPECS, compile_pattern, guess_time_unit
from desktop_app.core.functions.registry import FunctionRegistry, evaluate_expression
from desktop_app.core.sqlite.connection import configure_connection

UNIX = datetime(1970, 1, 1, tzinfo=UTC)
WEBKIT = datetime(1601, 1, 1, tzinfo=UTC)
COCOA = datetime(2001, 1, 1, tzinfo=UTC)
STAT_AGGREGATES = ("median", "mode", "stdev", "variance", "stdev_pop", "variance_pop")


def connect(path: Path | str = ":memory:", registry: FunctionRegistry | None = None) -> sqlite3.Connection:
    """A connection configured like a snapshot connection, with the functions registered."""
    conn = sqlite3.connect(path)
    configure_connection(conn, [(registry or FunctionRegistry()).hook])
    return conn


def reference_numbers(values: list[object]) -> list[int | float]:
    """What the numeric aggregates count: numbers, and text that Python reads as a number."""
    numbers: list[int | float] = []
    for value in values:
        if isinstance(value, int | float):
            numbers.append(value)
        elif isinstance(value, str):
            for parse in (int, float):
                try:
                    numbers.append(parse(value))
                    break
                except ValueError:
                    continue
    return numbers


def sqlite_order(value: object) -> tuple[int, object]:
    return (
        (0, value) if isinstance(value, int | float) else (1, value) if isinstance(value, str) else (2, value)
    )


def assert_close(actual: object, expected: object) -> None:
    if expected is None:
        assert actual is None
    elif not isinstance(expected, int | float):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


# --- generated data: numbers, numeric text, other text, blobs, NULLs ----------------------------


def _generated_groups() -> dict[int, list[object]]:
    rng = random.Random(6)
    groups: dict[int, list[object]] = {}
    for group in range(8):
        values: list[object] = []
        for _ in range(rng.randint(2, 60)):
            roll = rng.random()
            if roll < 0.35:
                values.append(rng.randint(-20, 20))
            elif roll < 0.55:
                values.append(round(rng.uniform(-1e3, 1e3), 3))
            elif roll < 0.65:
                values.append(str(rng.randint(-50, 50)))
            elif roll < 0.7:
                values.append(f"{rng.uniform(-5, 5):.2f}")
            elif roll < 0.82:
                values.append(None)
            elif roll < 0.92:
                values.append(rng.choice(["abc", "", "1e", "12abc", " ", "Émile"]))
            else:
                values.append(rng.randbytes(3))
        groups[group] = values
    groups[8] = [None, "x", b"\x00"]  # nothing numeric
    groups[9] = [42]  # a single value
    return groups


GROUPS = _generated_groups()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    path = tmp_path_factory.mktemp("functions") / "data.db"
    with sqlite3.connect(path) as build:
        build.execute("CREATE TABLE data (id INTEGER PRIMARY KEY, g INTEGER, x)")
        build.executemany(
            "INSERT INTO data (g, x) VALUES (?, ?)", [(g, v) for g, values in GROUPS.items() for v in values]
        )
    build.close()
    conn = connect(path)
    yield conn
    conn.close()


def per_group(conn: sqlite3.Connection, expression: str) -> dict[int, object]:
    return dict(conn.execute(f"SELECT g, {expression} FROM data GROUP BY g").fetchall())


# --- statistics ---------------------------------------------------------------------------------


def test_median_matches_statistics_ignoring_nulls_text_and_blobs(data: sqlite3.Connection) -> None:
    got = per_group(data, "median(x)")
    for group, values in GROUPS.items():
        numbers = reference_numbers(values)
        assert_close(got[group], statistics.median(numbers) if numbers else None)


def test_stdev_and_variance_are_sample_statistics(data: sqlite3.Connection) -> None:
    stdev, variance = per_group(data, "stdev(x)"), per_group(data, "variance(x)")
    for group, values in GROUPS.items():
        numbers = reference_numbers(values)
        enough = len(numbers) >= 2
        assert_close(stdev[group], statistics.stdev(numbers) if enough else None)
        assert_close(variance[group], statistics.variance(numbers) if enough else None)


def test_population_stdev_and_variance_match_pstdev(data: sqlite3.Connection) -> None:
    stdev, variance = per_group(data, "stdev_pop(x)"), per_group(data, "variance_pop(x)")
    for group, values in GROUPS.items():
        numbers = reference_numbers(values)
        assert_close(stdev[group], statistics.pstdev(numbers) if numbers else None)
        assert_close(variance[group], statistics.pvariance(numbers) if numbers else None)


@pytest.mark.parametrize("percent", [0, 1, 10, 25, 50, 62.5, 75, 99, 100])
def test_percentile_interpolates_like_inclusive_quantiles(data: sqlite3.Connection, percent: float) -> None:
    got = per_group(data, f"percentile(x, {percent})")
    for group, values in GROUPS.items():
        numbers = sorted(reference_numbers(values))
        if len(numbers) < 2:
            assert_close(got[group], numbers[0] if numbers else None)
            continue
        if percent == 0:
            expected = numbers[0]
        elif percent == 100:
            expected = numbers[-1]
        elif float(percent).is_integer():
            expected = statistics.quantiles(numbers, n=100, method="inclusive")[int(percent) - 1]
        else:
            expected = statistics.quantiles(numbers, n=1000, method="inclusive")[int(percent * 10) - 1]
        assert_close(got[group], expected)


def test_mode_is_most_frequent_value_of_any_type_smallest_on_ties(data: sqlite3.Connection) -> None:
    got = per_group(data, "mode(x)")
    for group, values in GROUPS.items():
        present = [v for v in values if v is not None]
        expected = min(statistics.multimode(present), key=sqlite_order) if present else None
        assert got[group] == expected


def test_mode_counts_repeated_text_and_blobs() -> None:
    conn = connect()
    rows = "('b'), (x'01'), (x'01'), ('b'), (x'01'), (NULL), (NULL), (NULL), (NULL)"
    assert conn.execute(f"SELECT mode(column1) FROM (VALUES {rows})").fetchone() == (b"\x01",)


@pytest.mark.parametrize("aggregate", [*STAT_AGGREGATES, "percentile"])
def test_aggregates_over_empty_set_return_null(data: sqlite3.Connection, aggregate: str) -> None:
    call = f"{aggregate}(x, 50)" if aggregate == "percentile" else f"{aggregate}(x)"
    assert data.execute(f"SELECT {call} FROM data WHERE g = -1").fetchone() == (None,)
    assert data.execute(f"SELECT {call} FROM data WHERE x IS NULL").fetchone() == (None,)


def test_sample_statistics_of_one_value_are_null_population_ones_zero(data: sqlite3.Connection) -> None:
    row = data.execute("SELECT stdev(x), variance(x), stdev_pop(x), variance_pop(x) FROM data WHERE g = 9")
    assert row.fetchone() == (None, None, 0.0, 0.0)


@pytest.mark.parametrize("percent", ["NULL", "-1", "100.5", "'50'"])
def test_percentile_rejects_p_outside_0_to_100(percent: str) -> None:
    with pytest.raises(QueryError, match=r"percentile\(\): P must be a number from 0 to 100"):
        evaluate_expression(connect(), f"percentile(1, {percent})")


def test_percentile_rejects_p_that_changes_between_rows(data: sqlite3.Connection) -> None:
    with pytest.raises(QueryError, match="P must be the same on every row"):
        evaluate_expression(data, "(SELECT percentile(x, id % 2) FROM data)")


@pytest.mark.parametrize(
    ("aggregate", "reference"),
    [
        ("median", statistics.median),
        ("stdev", lambda xs: statistics.stdev(xs) if len(xs) > 1 else None),
        ("variance_pop", statistics.pvariance),
        (
            "percentile",
            lambda xs: statistics.quantiles(xs, n=4, method="inclusive")[0] if len(xs) > 1 else xs[0],
        ),
        ("mode", lambda xs: min(statistics.multimode(xs), key=sqlite_order)),
    ],
)
def test_statistics_work_as_window_functions_over_sliding_frames(
    data: sqlite3.Connection, aggregate: str, reference: object
) -> None:
    call = f"{aggregate}(x, 25)" if aggregate == "percentile" else f"{aggregate}(x)"
    rows = data.execute(
        f"SELECT x, {call} OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM data ORDER BY id"
    ).fetchall()
    values = [x for x, _ in rows]
    for index, (_, got) in enumerate(rows):
        frame = values[max(0, index - 3) : index + 1]
        picked = [v for v in frame if v is not None] if aggregate == "mode" else reference_numbers(frame)
        assert_close(got, reference(picked) if picked else None)  # type: ignore[operator]


def test_median_of_corpus_column_matches_python(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "chinook.db"
    shutil.copyfile(corpus / "chinook" / "Chinook_Sqlite.sqlite", path)
    conn = connect(path)
    milliseconds = [row[0] for row in conn.execute("SELECT Milliseconds FROM Track")]
    got = conn.execute(
        "SELECT median(Milliseconds), stdev(Milliseconds), percentile(Milliseconds, 90) FROM Track"
    )
    median, stdev, p90 = got.fetchone()
    assert median == statistics.median(milliseconds)
    assert stdev == pytest.approx(statistics.stdev(milliseconds))
    assert p90 == pytest.approx(statistics.quantiles(milliseconds, n=10, method="inclusive")[8])


# --- regexp -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"^A.*s$", r"(?i)ROCK", r"\d", r"^[^aeiou ]+$", r"é"])
def test_regexp_operator_matches_python_re_search_on_corpus(
    corpus: Path, tmp_path: Path, pattern: str
) -> None:
    path = tmp_path / "chinook.db"
    shutil.copyfile(corpus / "chinook" / "Chinook_Sqlite.sqlite", path)
    conn = connect(path)
    names = [row[0] for row in conn.execute("SELECT Name FROM Track ORDER BY TrackId")]
    matched = [
        row[0]
        for row in conn.execute("SELECT Name FROM Track WHERE Name REGEXP ? ORDER BY TrackId", [pattern])
    ]
    assert matched == [name for name in names if re.search(pattern, name)]
    assert matched  # every pattern here matches something in Chinook


def test_regexp_with_null_is_null_and_accepts_numbers_and_blobs() -> None:
    conn = connect()
    row = conn.execute(
        "SELECT regexp(NULL, 'a'), regexp('a', NULL), regexp('^12', 123), regexp('b', x'616263')"
    )
    assert row.fetchone() == (None, None, 1, 1)


def test_regexp_bad_pattern_gives_clear_error() -> None:
    with pytest.raises(QueryError) as error:
        evaluate_expression(connect(), "'abc' REGEXP '(unclosed'")
    assert error.value.message.startswith("regexp(): invalid regular expression '(unclosed'")
    assert "missing )" in error.value.message


def test_regexp_compiles_each_pattern_once() -> None:
    conn = connect()
    conn.execute("SELECT 'x' REGEXP 'unique-pattern-[0-9]+'").fetchone()
    before = compile_pattern.cache_info()
    conn.execute("SELECT value REGEXP 'unique-pattern-[0-9]+' FROM json_each('[1,2,3,4,5]')").fetchall()
    after = compile_pattern.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 5


# --- JSON, hashing, text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("[]", 0),
        ('[1, [2, 3], {"a": null}]', 3),
        ('{"a": [1, 2]}', 0),
        ("42", 0),
        ('"text"', 0),
        ("[1, 2", None),
        ("not json", None),
        (b"[1, 2, 3, 4]", 4),
        (7, 0),
    ],
)
def test_json_arr_len(value: object, expected: int | None) -> None:
    assert connect().execute("SELECT json_arr_len(?)", [value]).fetchone() == (expected,)


def test_json_arr_len_agrees_with_json_array_length_on_generated_arrays() -> None:
    rng = random.Random(2)
    arrays = [
        json.dumps([rng.choice([1, "x", None, [1], {"k": 2}]) for _ in range(rng.randint(0, 20))])
        for _ in range(50)
    ]
    conn = connect()
    for text in arrays:
        assert conn.execute("SELECT json_arr_len(?), json_array_length(?)", [text, text]).fetchone()[
            0
        ] == len(json.loads(text))


@pytest.mark.parametrize("value", ["", "abc", "Émile 😀", "日本語", b"\x00\xff\x10", b"", 12345, -7, None])
def test_sha256_hashes_text_as_utf8_and_blobs_as_bytes(value: object) -> None:
    got = connect().execute("SELECT sha256(?)", [value]).fetchone()[0]
    if value is None:
        assert got is None
    else:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
        assert got == hashlib.sha256(raw).hexdigest()


def reference_normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Émile", "emile"),
        ("ÉMILE", "emile"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),
        ("Ångström", "angstrom"),
    ],
)
def test_normalize_folds_case_accents_and_compatibility_forms(value: str, expected: str) -> None:
    assert connect().execute("SELECT normalize(?)", [value]).fetchone() == (expected,)
    assert reference_normalize(value) == expected


def test_normalize_keeps_null_and_numbers() -> None:
    assert connect().execute("SELECT normalize(NULL), normalize(12), normalize(1.5)").fetchone() == (
        None,
        12,
        1.5,
    )


def test_normalized_collation_sorts_accented_names_with_plain_ones() -> None:
    names = ["zoe", "Émile", "Bob", "emile", "Zoë", "Ångström", "angstrom", "ÉMILE", "adam", "Eve"]
    conn = connect()
    values = ", ".join("(?)" for _ in names)
    got = [
        row[0]
        for row in conn.execute(
            f"SELECT column1 FROM (VALUES {values}) ORDER BY column1 COLLATE NORMALIZED, column1", names
        )
    ]
    assert got == sorted(names, key=lambda n: (reference_normalize(n), n))
    assert got.index("emile") - got.index("Émile") in (-2, -1, 1, 2)
    assert conn.execute("SELECT 'Émile' = 'emile' COLLATE NORMALIZED, 'Émile' = 'emile'").fetchone() == (1, 0)


# --- timestamps ---------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1_700_000_000, None, UNIX + timedelta(seconds=1_700_000_000)),
        (1_700_000_000.25, None, UNIX + timedelta(seconds=1_700_000_000.25)),
        ("1700000000", None, UNIX + timedelta(seconds=1_700_000_000)),
        (-86_400, None, UNIX - timedelta(days=1)),
        (0, "s", UNIX),
        (1_700_000_000_123, None, UNIX + timedelta(milliseconds=1_700_000_000_123)),
        (1_700_000_000_123_456, None, UNIX + timedelta(microseconds=1_700_000_000_123_456)),
        (13_300_000_000_000_000, None, WEBKIT + timedelta(microseconds=13_300_000_000_000_000)),
        (13_300_000_000_000_000, "webkit", WEBKIT + timedelta(microseconds=13_300_000_000_000_000)),
        (1_700_000_000_123_456_789, None, UNIX + timedelta(microseconds=1_700_000_000_123_456)),
        (700_000_000, "cocoa", COCOA + timedelta(seconds=700_000_000)),
        (700_000_000.5, "apple", COCOA + timedelta(seconds=700_000_000.5)),
        (1_700_000_000, "ms", UNIX + timedelta(milliseconds=1_700_000_000)),
    ],
)
def test_unixepoch_to_iso_known_values(value: object, unit: str | None, expected: datetime) -> None:
    got = connect().execute("SELECT unixepoch_to_iso(?, ?)", [value, unit]).fetchone()[0]
    assert got == iso(expected)
    assert datetime.fromisoformat(got) == expected


def test_chrome_known_value() -> None:
    got = connect().execute("SELECT unixepoch_to_iso(13300000000000000)").fetchone()[0]
    assert got == "2022-06-18T04:26:40Z" == iso(WEBKIT + timedelta(microseconds=13_300_000_000_000_000))


@pytest.mark.parametrize(
    ("value", "unit"),
    [(None, None), ("not a number", None), (b"\x01", None), (1e300, None), (10**15, "s"), (-(10**14), "ms")],
)
def test_unixepoch_to_iso_is_null_for_non_numbers_and_out_of_range(value: object, unit: str | None) -> None:
    assert connect().execute("SELECT unixepoch_to_iso(?, ?)", [value, unit]).fetchone() == (None,)


@pytest.mark.parametrize(
    ("magnitude", "unit"),
    [
        (0, "s"),
        (99_999_999_999, "s"),
        (1e11, "ms"),
        (1e14 - 1, "ms"),
        (1e14, "us"),
        (1e16, "chrome"),
        (1e17, "ns"),
    ],
)
def test_auto_detected_unit_follows_documented_bounds(magnitude: float, unit: str) -> None:
    assert guess_time_unit(magnitude) == unit
    assert guess_time_unit(-magnitude) == unit


def test_unknown_time_unit_is_an_error() -> None:
    with pytest.raises(QueryError, match="unknown time unit 'fortnights'"):
        evaluate_expression(connect(), "unixepoch_to_iso(1, 'fortnights')")


@pytest.mark.parametrize(
    ("unit", "value"),
    [("s", 1_700_000_000), ("ms", 1_700_000_000_123), ("us", 1_309_518_981_371_935),
     ("ns", 1_700_000_000_123_456_000), ("chrome", 13_300_000_000_123_456), ("cocoa", 700_000_000),
     ("s", 1_700_000_000.5), ("cocoa", -3600)],
)  # fmt: skip
def test_iso_to_unixepoch_inverts_unixepoch_to_iso(unit: str, value: int | float) -> None:
    got = (
        connect()
        .execute("SELECT iso_to_unixepoch(unixepoch_to_iso(?1, ?2), ?2)", [value, unit])
        .fetchone()[0]
    )
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-14T22:13:20Z", 1_700_000_000),
        ("2023-11-14 22:13:20", 1_700_000_000),
        ("2023-11-15T00:13:20+02:00", 1_700_000_000),
        ("2023-11-14T22:13:20.5Z", 1_700_000_000.5),
        ("1970-01-02", 86_400),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1_700_000_000, None),
    ],
)
def test_iso_to_unixepoch_reads_iso_8601(text: object, expected: object) -> None:
    assert connect().execute("SELECT iso_to_unixepoch(?)", [text]).fetchone() == (expected,)


def test_iso_to_unixepoch_refuses_auto_unit() -> None:
    with pytest.raises(QueryError, match="unknown time unit 'auto'"):
        evaluate_expression(connect(), "iso_to_unixepoch('2020-01-01', 'auto')")


def test_browser_history_timestamps_in_corpus_convert_like_python(corpus: Path, tmp_path: Path) -> None:
    shutil.copyfile(corpus / "plaso" / "places.sqlite", tmp_path / "places.sqlite")
    shutil.copyfile(corpus / "plaso" / "History", tmp_path / "History")
    firefox = connect(tmp_path / "places.sqlite")
    chrome = connect(tmp_path / "History")
    firefox_rows = firefox.execute(
        "SELECT visit_date, unixepoch_to_iso(visit_date) FROM moz_historyvisits"
    ).fetchall()
    chrome_rows = chrome.execute("SELECT visit_time, unixepoch_to_iso(visit_time) FROM visits").fetchall()
    assert firefox_rows and chrome_rows
    for prtime, text in firefox_rows:
        assert text == iso(UNIX + timedelta(microseconds=prtime))
    for webkit, text in chrome_rows:
        assert text == iso(WEBKIT + timedelta(microseconds=webkit))
    assert all(text.startswith(("2011", "2012")) for _, text in firefox_rows + chrome_rows)


# --- blob_type and sniffing ---------------------------------------------------------------------


def zip_bytes(members: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(members):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=method)
    return buffer.getvalue()


def office_bytes(folder: str) -> bytes:
    filler = bytes(random.Random(1).randbytes(3000))  # incompressible: pushes later members far away
    return zip_bytes(
        [("[Content_Types].xml", b"<Types/>"), (f"{folder}/main.xml", filler), ("_rels/.rels", b"<x/>")]
    )


def bmp_bytes() -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 4, 0, 0, 54) + info + b"\x00\x00\xff\x00"


def ico_bytes() -> bytes:
    return b"\x00\x00\x01\x00\x01\x00" + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, 40, 22) + b"\x00" * 40


def sqlite_bytes(tmp_path: Path) -> bytes:
    with sqlite3.connect(tmp_path / "inner.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    return (tmp_path / "inner.db").read_bytes()


SAMPLES: dict[str, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/bmp": bmp_bytes(),
    "image/x-icon": ico_bytes(),
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "application/zip": zip_bytes([("a.txt", b"hello"), ("b/c.bin", b"\x00")]),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": office_bytes("word"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": office_bytes("xl"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": office_bytes("ppt"),
    "application/epub+zip": zip_bytes(
        [("mimetype", b"application/epub+zip"), ("c.xhtml", b"x")], stored_first=True
    ),
    "application/gzip": gzip.compress(b"hello"),
    "application/x-bplist": plistlib.dumps({"a": [1, 2]}, fmt=plistlib.FMT_BINARY),
    "application/json": b'  {"name": "\xc3\x89mile", "tags": [1, 2]}\n',
    "text/plain": "Héllo, wörld\n\tsecond line".encode(),
    "image/svg+xml": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    "text/html": b"<!DOCTYPE html><html></html>",
    "application/octet-stream": bytes(range(256)),
}


@pytest.mark.parametrize("mime", list(SAMPLES))
def test_sniff_mime_recognises_format(mime: str) -> None:
    assert sniff_mime(SAMPLES[mime]) == mime


def test_sniff_mime_recognises_sqlite_database(tmp_path: Path) -> None:
    data = sqlite_bytes(tmp_path)
    assert sniff_mime(data) == "application/vnd.sqlite3"
    assert sniff_mime(data[:100]) == "application/vnd.sqlite3"


@pytest.mark.parametrize("folder", ["word", "xl", "ppt"])
def test_office_documents_are_told_apart_from_their_first_kilobytes(folder: str) -> None:
    data = office_bytes(folder)
    assert sniff_mime(data[:4096]) == sniff_mime(data) != "application/zip"


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"", "application/octet-stream"),
        (b"BMW is a car maker", "text/plain"),
        ("é".encode() * 10 + "é".encode()[:1], "text/plain"),  # a prefix cut inside a character
        (b'{"unfinished": [1, 2', "text/plain"),
        (b"\x00\x00\x01\x00", "application/octet-stream"),
        (b"text with a \x00 NUL", "application/octet-stream"),
        ("\ufeffbom text".encode(), "text/plain"),
        ("utf-16 text".encode("utf-16"), "text/plain"),
    ],
)
def test_sniff_mime_edge_cases(data: bytes, mime: str) -> None:
    assert sniff_mime(data) == mime


@pytest.mark.parametrize(
    ("mime", "extension"),
    [
        ("image/png", ".png"),
        ("image/jpeg", ".jpg"),
        ("application/pdf", ".pdf"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
        ("application/vnd.sqlite3", ".sqlite"),
        ("text/plain; charset=utf-8", ".txt"),
        ("application/json", ".json"),
        ("application/x-unheard-of", ".bin"),
        ("application/octet-stream", ".bin"),
    ],
)
def test_extension_for_mime(mime: str, extension: str) -> None:
    assert extension_for(mime) == extension


def test_every_sniffed_type_has_an_extension() -> None:
    for mime in SAMPLES:
        assert extension_for(mime).startswith(".")
        assert extension_for(mime) != ".bin" or mime == "application/octet-stream"


def test_blob_type_of_corpus_tiles_is_png(corpus: Path, tmp_path: Path) -> None:
    shutil.copyfile(corpus / "mbtiles" / "plain_1.mbtiles", tmp_path / "tiles.mbtiles")
    conn = connect(tmp_path / "tiles.mbtiles")
    assert conn.execute("SELECT blob_type(tile_data), count(*) FROM images GROUP BY 1").fetchall() == [
        ("image/png", 207)
    ]


def test_blob_type_of_text_null_and_numbers() -> None:
    row = connect().execute("SELECT blob_type('[1, 2]'), blob_type('plain'), blob_type(NULL), blob_type(3)")
    assert row.fetchone() == ("application/json", "text/plain", None, None)


# --- registry: registration and listing ---------------------------------------------------------


def test_deterministic_builtins_are_registered_as_deterministic() -> None:
    conn = connect()
    flags = {name: flag for name, _b, _t, _e, _n, flag in conn.execute("PRAGMA function_list")}
    for name in ("regexp", "json_arr_len", "normalize", "sha256", "blob_type", "unixepoch_to_iso"):
        assert flags[name] & 0x800, name


def test_describe_lists_sqlite_builtin_and_collations_with_docs() -> None:
    registry = FunctionRegistry()
    infos = registry.describe(connect(registry=registry))
    by_key = {(i.name, i.kind, i.narg): i for i in infos}
    assert by_key[("upper", "scalar", 1)].source == "sqlite"
    assert by_key[("upper", "scalar", 1)].doc
    assert by_key[("row_number", "window", 0)].source == "sqlite"
    assert by_key[("NOCASE", "collation", 2)].source == "sqlite"
    median = by_key[("median", "window", 1)]
    assert (median.source, median.signature) == ("built-in", "median(value)")
    assert "middle value" in median.doc
    assert by_key[("NORMALIZED", "collation", 2)].source == "built-in"
    assert by_key[("unixepoch_to_iso", "scalar", 2)].signature == "unixepoch_to_iso(value[, unit])"
    assert by_key[("regexp", "scalar", 2)].deterministic is True
    for spec in BUILTIN_SPECS:
        assert spec.doc, spec.name
        assert any(i.name == spec.name and i.source == "built-in" for i in infos)
    assert len({(i.name, i.kind, i.narg) for i in infos}) == len(infos)  # no duplicates


def test_hook_can_run_again_on_the_same_connection() -> None:
    registry = FunctionRegistry()
    conn = connect(registry=registry)
    registry.hook(conn)
    assert registry.is_current(conn)
    assert conn.execute("SELECT median(value) FROM json_each('[3, 1, 2]')").fetchone() == (2,)


def test_statistics_fall_back_to_plain_aggregates_without_window_support(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(functions_module, "WINDOW_FUNCTIONS_AVAILABLE", False)
    registry = FunctionRegistry()
    conn = connect(registry=registry)
    assert conn.execute("SELECT median(value) FROM json_each('[5, 1, 4]')").fetchone() == (4,)
    assert {i.kind for i in registry.describe(conn) if i.name == "median"} == {"aggregate"}


def test_evaluate_expression_reports_sql_errors_as_query_errors() -> None:
    with pytest.raises(QueryError, match="no such function: nope"):
        evaluate_expression(connect(), "nope(1)")
    assert evaluate_expression(connect(), "median(4)") == 4


# --- the `functions` command --------------------------------------------------------------------


@pytest.fixture
def only_functions_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the real entry point with just this command (other commands are not under test here)."""
    monkeypatch.setattr(cli_package, "COMMAND_MODULES", ("functions",))


@pytest.mark.usefixtures("only_functions_command")
def test_cli_functions_json_lists_every_source(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "resources" / "example_functions.py"
    assert cli_main(["functions", "--json", "--file", str(example)]) == 0
    listed = json.loads(capsys.readouterr().out)
    sources = {entry["source"] for entry in listed}
    assert {"sqlite", "built-in", str(example)} <= sources
    initials = next(e for e in listed if e["name"] == "initials")
    assert initials["kind"] == "scalar"
    assert set(initials) == {"name", "kind", "narg", "source", "doc", "signature", "deterministic"}


@pytest.mark.usefixtures("only_functions_command")
def test_cli_functions_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["functions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "ARGS", "SOURCE", "DESCRIPTION"]
    assert any(line.split()[:4] == ["median", "window", "1", "built-in"] for line in lines)
    assert any(line.split()[:4] == ["json_extract", "scalar", "any", "sqlite"] for line in lines)


@pytest.mark.usefixtures("only_functions_command")
def test_cli_functions_with_broken_file_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from desktop_app.functions_api import scalar\n\ndef oops(:\n    pass\n")
    assert cli_main(["functions", "--file", str(broken)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {broken}, line 3: syntax error")
    assert "\n" not in err
