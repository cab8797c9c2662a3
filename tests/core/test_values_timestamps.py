"""Timestamp encodings decode real values, and the per-column guess picks the right one or none."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.values.time_columns import guess_table_times
from desktop_app.core.values.timestamps import (
    ENCODINGS,
    encoding_named,
    format_time,
    guess_time_encoding,
)

MOMENT = datetime(2011, 7, 1, 11, 16, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("unix_s", 1309518981),
        ("unix_ms", 1309518981000),
        ("unix_us", 1309518981000000),
        ("prtime", 1309518981000000),
        ("unix_ns", 1309518981000000000),
        ("cocoa_s", 331211781),  # 1309518981 - 978307200
        ("cocoa_ns", 331211781000000000),
        ("webkit_us", 12953992581000000),  # + 11644473600 s from 1601
        ("filetime", 129539925810000000),
        ("julian_day", 2455743.969687500),
        ("iso8601", "2011-07-01 11:16:21"),
    ],
)
def test_each_encoding_decodes_the_same_moment(name: str, value: object) -> None:
    encoding = encoding_named(name)
    assert encoding is not None
    decoded = encoding.decode(value)
    assert decoded is not None and abs((decoded - MOMENT).total_seconds()) < 0.001
    if not encoding.text:
        assert encoding.encode(MOMENT) == pytest.approx(value, rel=1e-12)


def test_every_encoding_is_data_with_a_unique_name() -> None:
    names = [e.name for e in ENCODINGS]
    assert len(names) == len(set(names)) == 11


def test_iso_text_with_zones_and_dates_alone() -> None:
    iso = encoding_named("iso8601")
    assert iso is not None
    assert format_time(iso.decode("2016-07-04")) == "2016-07-04T00:00:00Z"  # type: ignore[arg-type]
    assert format_time(iso.decode("2016-07-04T12:00:00+02:00")) == "2016-07-04T10:00:00Z"  # type: ignore[arg-type]
    assert format_time(iso.decode("2016-07-04T12:00:00.5Z")) == "2016-07-04T12:00:00.500000Z"  # type: ignore[arg-type]
    assert iso.decode("July 4th") is None and iso.decode(20160704) is None


def test_out_of_range_values_decode_to_none_not_an_error() -> None:
    for encoding in ENCODINGS:
        assert encoding.decode(10**30) is None or encoding.text
        assert encoding.decode(b"\x00") is None


def test_guess_reads_browser_times_by_their_magnitude_and_names() -> None:
    assert guess_time_encoding("last_visit_time", "INTEGER", [12946651391000000, 0]).name == "webkit_us"
    assert guess_time_encoding("last_visit_date", "INTEGER", [1309518981371935, None]).name == "prtime"
    assert guess_time_encoding("created_us", "INTEGER", [1309518981371935]).name == "unix_us"
    assert guess_time_encoding("created", "INTEGER", [1309518981]).name == "unix_s"
    assert guess_time_encoding("ZDATE", "TIMESTAMP", [331211781.5]).name == "cocoa_s"
    assert guess_time_encoding("OrderDate", "DATETIME", ["2016-07-04", "2016-07-05"]).name == "iso8601"


def test_guess_says_none_when_nothing_is_plausible() -> None:
    assert guess_time_encoding("id", "INTEGER", list(range(1, 200))) is None
    assert guess_time_encoding("visit_count", "INTEGER", [1, 2, 4, 0]) is None  # not Cocoa 2001-01-01
    assert guess_time_encoding("Freight", "NUMERIC", [0.02, 32.38, 1007.64]) is None
    assert guess_time_encoding("amount", "REAL", [482992.2, 482993.7]) is None  # not Cocoa, January 2001
    assert guess_time_encoding("name", "TEXT", ["Ann", "Bob"]) is None
    assert guess_time_encoding("when", "", [None, 0]) is None


def test_table_time_guess_samples_non_null_values_beyond_the_first_rows_and_stops_when_cancelled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "places.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, visits INTEGER, last_visit_date INTEGER)")
    rows = [(i, i % 5, None if i < 900 else 1309518981371935 + i) for i in range(1, 1001)]
    conn.executemany("INSERT INTO moz_places VALUES (?, ?, ?)", rows)
    conn.commit()
    table = read_catalog(conn).table("moz_places")
    assert table is not None
    found = guess_table_times(conn, table)
    assert {name: e.name for name, e in found.items()} == {"last_visit_date": "prtime"}
    assert guess_table_times(conn, table, scanned_rows=500) == {}  # the scan is bounded
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        guess_table_times(conn, table, cancel)
    conn.close()
