"""The function and pragma names the SQL editor offers for completion, with a short description each."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from desktop_app.core.functions.registry import FunctionInfo, FunctionRegistry

#: Most names read from SQLite's own lists (each has a few hundred at most).
_MAX_FUNCTIONS = 5000
_MAX_PRAGMAS = 1000


def function_descriptions(infos: Iterable[FunctionInfo]) -> dict[str, str]:
    """Function name → "signature — doc" (collations left out), sorted by name."""
    described: dict[str, str] = {}
    for info in infos:
        if info.kind == "collation" or not info.name or info.name in described:
            continue
        signature = info.signature or f"{info.name}(...)"
        described[info.name] = f"{signature} — {info.doc}" if info.doc else signature
    return dict(sorted(described.items(), key=lambda kv: kv[0].lower()))


def completion_names(
    conn: sqlite3.Connection, registry: FunctionRegistry | None
) -> tuple[dict[str, str], list[str]]:
    """Function descriptions (the registry's, else SQLite's bare names) and pragma names usable on `conn`."""
    functions = function_descriptions(registry.describe(conn)) if registry is not None else {}
    if not functions:
        rows = conn.execute("SELECT DISTINCT name FROM pragma_function_list").fetchmany(_MAX_FUNCTIONS)
        functions = {str(name): "" for (name,) in rows}
    pragmas = [str(name) for (name,) in conn.execute("PRAGMA pragma_list").fetchmany(_MAX_PRAGMAS)]
    return functions, pragmas
