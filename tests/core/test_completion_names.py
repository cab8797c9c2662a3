"""The SQL editor's completion names come from the core: described functions, or SQLite's bare names."""

from __future__ import annotations

import sqlite3

from desktop_app.core.functions.names import completion_names
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.sqlite.connection import configure_connection


def test_functions_are_described_by_the_registry_and_pragmas_listed() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    registry = FunctionRegistry()
    configure_connection(conn, [registry.hook])
    functions, pragmas = completion_names(conn, registry)
    assert functions["median"].startswith("median(")  # ours, with its signature
    assert functions["count"].startswith("count(")  # SQLite's, documented
    assert "nocase" not in functions  # collations are not completed as functions
    assert list(functions) == sorted(functions, key=str.lower)
    assert "table_info" in pragmas


def test_without_a_registry_sqlite_names_its_functions_bare() -> None:
    conn = sqlite3.connect(":memory:")
    functions, _pragmas = completion_names(conn, None)
    assert functions["count"] == "" and "median" not in functions
