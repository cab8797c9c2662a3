"""Scanning one table: one query with an OR over its columns, pre-filtered in SQL, checked in Python."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from desktop_app.core.search.fts_match import match_query
from desktop_app.core.search.matching import FilterKind, Matcher
from desktop_app.core.search.results import Hit, Method, RowKey
from desktop_app.core.search.tables import SearchColumn, SearchTable
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.values.text import plain_text

#: SQLite caps expression depth (1000) and result columns (2000): wider tables are searched in slices.
_COLUMNS_PER_QUERY = 250


@dataclass(frozen=True)
class TableQuery:
    """The SQL searching some columns of one table, and how to read its rows back."""

    sql: str
    params: dict[str, str]
    columns: tuple[SearchColumn, ...]
    key_width: int
    method: Method


def searchable_columns(
    table: SearchTable, value_types: frozenset[str], chosen: frozenset[str] | None
) -> tuple[SearchColumn, ...]:
    """The columns of `table` that can hold a value of a searched type (within the chosen ones, if any)."""
    return tuple(
        column
        for column in table.columns
        if column.storage & value_types and (chosen is None or column.name in chosen)
    )


def table_queries(
    table: SearchTable, columns: tuple[SearchColumn, ...], matcher: Matcher, *, use_fts: bool
) -> list[TableQuery]:
    """The queries that find every hit of `matcher` in `columns` of `table` (more than one only when wide)."""
    fts_query = None
    cover = table.cover if use_fts else None
    if cover is not None:
        fts_query = match_query(cover.info, matcher.options)
    queries = []
    for start in range(0, len(columns), _COLUMNS_PER_QUERY):
        part = columns[start : start + _COLUMNS_PER_QUERY]
        if fts_query is not None and cover is not None:
            queries.append(_fts_query(table, part, matcher, fts_query))
        else:
            queries.append(_scan_query(table, part, matcher))
    return queries


def run_query(
    conn: sqlite3.Connection, table: SearchTable, query: TableQuery, matcher: Matcher
) -> Iterator[Hit]:
    """Run `query` and yield the hits it finds, row by row (so the first one is seen at once)."""
    value_types = matcher.options.value_types
    key_width = query.key_width
    cursor = conn.execute(query.sql, query.params)
    try:
        for row in cursor:
            key = RowKey(table.key_columns, tuple(row[:key_width]), table.key_is_rowid) if key_width else None
            for index, column in enumerate(query.columns):
                text = row[key_width + 2 * index]
                if text is None or row[key_width + 2 * index + 1] not in value_types:
                    continue
                snippet = matcher.snippet(plain_text(text))  # invalid UTF-8 escaped, as Browse shows it
                if snippet is not None:
                    value_type = row[key_width + 2 * index + 1]
                    yield Hit(
                        table.label, column.name, key, value_type,
                        snippet.text, snippet.spans, snippet.match_start, query.method,
                    )  # fmt: skip
    finally:
        cursor.close()


def _scan_query(table: SearchTable, columns: tuple[SearchColumn, ...], matcher: Matcher) -> TableQuery:
    conditions = [_column_condition(column, matcher) for column in columns]
    selected = [
        _selected(quote_identifier(c.name), condition)
        for c, condition in zip(columns, conditions, strict=True)
    ]
    sql = (
        f"SELECT {', '.join([*table.key_sql, *selected])} FROM {table.sql_name} "
        f"WHERE {' OR '.join(conditions)}"
    )
    return TableQuery(sql, dict(matcher.params), columns, len(table.key_sql), Method.SCAN)


def _fts_query(
    table: SearchTable, columns: tuple[SearchColumn, ...], matcher: Matcher, fts_query: str
) -> TableQuery:
    """Rows the FTS table finds for the covered columns; other columns are scanned as usual."""
    cover = table.cover
    assert cover is not None
    types = sorted(matcher.options.value_types)
    in_types = ", ".join(f"'{t}'" for t in types)
    fts_name = f"{quote_identifier(table.schema)}.{quote_identifier(cover.fts_table)}"
    if cover.direct:
        found = f"{quote_identifier(cover.fts_table)} MATCH :fts"
    else:
        found = (
            f"{quote_identifier(cover.info.content_rowid)} IN "
            f"(SELECT rowid FROM {fts_name} WHERE {quote_identifier(cover.fts_table)} MATCH :fts)"
        )
    uncovered = [_column_condition(c, matcher) for c in columns if c.name not in cover.columns]
    selected = []
    for column in columns:
        name = quote_identifier(column.name)
        # Covered columns come back for every candidate row; Python decides which really match.
        condition = (
            f"typeof({name}) IN ({in_types})"
            if column.name in cover.columns
            else _column_condition(column, matcher)
        )
        selected.append(_selected(name, condition))
    where = " OR ".join([found, *uncovered])
    sql = f"SELECT {', '.join([*table.key_sql, *selected])} FROM {table.sql_name} WHERE {where}"
    return TableQuery(sql, {**matcher.params, "fts": fts_query}, columns, len(table.key_sql), Method.FTS)


def _selected(column: str, condition: str) -> str:
    """The column's text when `condition` holds (else NULL), and its storage class."""
    return f"CASE WHEN {condition} THEN CAST({column} AS TEXT) END, typeof({column})"


def _column_condition(column: SearchColumn, matcher: Matcher) -> str:
    """SQL true for every matching value of `column`, checking the storage class where that is cheaper."""
    name = quote_identifier(column.name)
    wanted = matcher.options.value_types
    condition = matcher.condition(name, blobs="blob" in column.storage & wanted)
    unwanted = column.storage - wanted
    # Text-only columns skip the typeof() test: a stray blob caught by instr/LIKE is dropped in Python.
    python_drops_it = unwanted <= {"blob"} and matcher.filter_kind is not FilterKind.FUNCTION
    if not unwanted or python_drops_it:
        return condition
    in_types = ", ".join(f"'{t}'" for t in sorted(column.storage & wanted))
    return f"(typeof({name}) IN ({in_types}) AND {condition})"
