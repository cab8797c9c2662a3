"""Facts about this installation for a bug report: versions, the SQLite library, optional extras.

Only facts about the program and the machine: never a database's path, name or contents.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sqlite3
import sys
from dataclasses import dataclass

from desktop_app import __version__
from desktop_app.core.sqlite.library import sqlite_library


@dataclass(frozen=True)
class Extra:
    """An optional package and what it adds."""

    module: str
    distribution: str
    adds: str


#: The optional packages the program uses when they are installed (pyproject's extras, and re2).
EXTRAS = (
    Extra("sqlcipher3", "sqlcipher3", "encrypted (SQLCipher) databases"),
    Extra("zstandard", "zstandard", "Zstandard-packed files (.zst, .anki21b)"),
    Extra("pyarrow", "pyarrow", "Parquet export"),
    Extra("re2", "google-re2", "regular-expression search in linear time"),
)


def _sqlite_has(option: str) -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        return any(row[0] == option for row in conn.execute("PRAGMA compile_options"))
    finally:
        conn.close()


def _fts5() -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _extra_version(extra: Extra) -> str | None:
    if importlib.util.find_spec(extra.module) is None:
        return None
    try:
        return importlib.metadata.version(extra.distribution)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def facts() -> list[tuple[str, str]]:
    """(name, value) pairs: the program, Python, the platform, SQLite and the optional extras."""
    sqlite_notes = []
    if _fts5():
        sqlite_notes.append("FTS5 trigram")
    if _sqlite_has("ENABLE_DBSTAT_VTAB"):
        sqlite_notes.append("dbstat")
    if sqlite_library() is None:
        sqlite_notes.append("memory cap not adjustable (files over 1 GiB open directly)")
    rows = [
        ("SQLite Snapshot Browser", __version__),
        ("SQLite library", f"{sqlite3.sqlite_version} ({', '.join(sqlite_notes) or 'no extras'})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.platform})"),
        ("Platform", platform.platform()),
        ("Machine", f"{platform.machine()}, {os.cpu_count() or 1} CPUs"),
    ]
    for extra in EXTRAS:
        version = _extra_version(extra)
        state = f"{version} — {extra.adds}" if version else f"missing — no {extra.adds}"
        rows.append((f"Extra: {extra.distribution}", state))
    return rows


def as_text(rows: list[tuple[str, str]]) -> str:
    """`rows` as plain text for a bug report, one `name: value` a line."""
    width = max((len(name) for name, _value in rows), default=0)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows) + "\n"
