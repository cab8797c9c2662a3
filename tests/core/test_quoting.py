"""The one quoting function."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from desktop_app.core.sqlite.quoting import quote_identifier, quote_string


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("plain", "plain"), ("select", '"select"'), ("it's", '"it\'s"'), ('q"t', '"q""t"'), ("", '""'),
     ("Order Details", '"Order Details"'), ("1abc", '"1abc"'), ("window", '"window"')],
)  # fmt: skip
def test_quote_identifier(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted


@given(
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
)
def test_any_name_round_trips_through_sqlite(name: str) -> None:
    assume(not name.lower().startswith("sqlite_"))  # SQLite reserves these table names for itself
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE {quote_identifier(name)} ({quote_identifier(name + 'c')} TEXT)")
    conn.execute(f"INSERT INTO {quote_identifier(name)} VALUES ({quote_string(name)})")
    assert conn.execute(f"SELECT * FROM {quote_identifier(name)}").fetchone() == (name,)
    assert conn.execute("SELECT name FROM sqlite_schema").fetchone() == (name,)
    conn.close()
