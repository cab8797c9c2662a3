"""Copy as: text for exactly the selected cells of a grid (CSV, TSV, JSON, Markdown, INSERT, WHERE).

The UI passes the selection as values (rows in order, each the selected cells by column); everything
about the text (quoting, escaping, SQL literals) is decided here. Tabular formats (CSV, TSV,
Markdown) take the union of the selected columns, leaving a cell that was not selected empty; JSON,
INSERT and WHERE use each row's own selected cells only.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.export.markdown import MarkdownOptions, markdown_cell
from desktop_app.core.export.writer import BlobEncoding, float_text, unique_names
from desktop_app.core.sqlite.quoting import quote_identifier, sql_literal


class CopyFormat(enum.Enum):
    """What the selection is copied as (the value is the menu's label)."""

    TSV = "TSV"
    CSV = "CSV"
    JSON = "JSON"
    MARKDOWN = "Markdown table"
    SQL_INSERT = "SQL INSERT statements"
    WHERE = "SQL WHERE clause"

    @property
    def has_header_choice(self) -> bool:
        """True when the header row is optional (CSV, TSV); JSON, Markdown and SQL always name columns."""
        return self in (CopyFormat.TSV, CopyFormat.CSV)


@dataclass(frozen=True)
class CellSelection:
    """Selected cells: the grid's column names and, per selected row in order, {column index: value}."""

    columns: Sequence[str]
    rows: Sequence[Mapping[int, Any]]

    @property
    def used_columns(self) -> list[int]:
        """Every column with a selected cell in some row, in grid order."""
        return sorted({column for row in self.rows for column in row})

    @property
    def cell_count(self) -> int:
        """How many cells are selected."""
        return sum(len(row) for row in self.rows)


def plain_text(value: Any) -> str:
    """A value as copied text: NULL empty, floats exact, blobs as hex."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex().upper()
    return str(value)


def compose(
    fmt: CopyFormat,
    selection: CellSelection,
    *,
    headers: bool = False,
    table: str = "data",
    text_of: Callable[[Any], str] = plain_text,
) -> str:
    """The clipboard text for `selection` in `fmt`; `text_of` writes a value in the tabular formats."""
    if not selection.rows:
        return ""
    if fmt in (CopyFormat.TSV, CopyFormat.CSV):
        return _delimited(selection, "\t" if fmt is CopyFormat.TSV else ",", headers, text_of)
    if fmt is CopyFormat.MARKDOWN:
        return _markdown(selection, text_of)
    if fmt is CopyFormat.JSON:
        return _json(selection)
    if fmt is CopyFormat.SQL_INSERT:
        return _inserts(selection, table)
    return where_clause(selection)


def _delimited(selection: CellSelection, delimiter: str, headers: bool, text_of: Callable[[Any], str]) -> str:
    used = selection.used_columns
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if headers:
        writer.writerow([selection.columns[c] for c in used])
    for row in selection.rows:
        writer.writerow([text_of(row[c]) if c in row else "" for c in used])
    return out.getvalue()


def _markdown(selection: CellSelection, text_of: Callable[[Any], str]) -> str:
    used = selection.used_columns
    null = MarkdownOptions().null

    def cell(row: Mapping[int, Any], column: int) -> str:
        if column not in row:
            return ""
        value = row[column]
        return null if value is None else markdown_cell(text_of(value))

    lines = ["| " + " | ".join(markdown_cell(selection.columns[c]) for c in used) + " |"]
    lines.append("|" + "|".join("---" for _ in used) + "|")
    lines.extend("| " + " | ".join(cell(row, c) for c in used) + " |" for row in selection.rows)
    return "\n".join(lines) + "\n"


def _json_value(value: Any, encode_blob: Callable[[bytes], str]) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return encode_blob(bytes(value))
    if isinstance(value, float) and math.isinf(value):
        return float_text(value)
    return value


def _json(selection: CellSelection) -> str:
    names = unique_names(selection.columns)
    encode_blob = BlobEncoding.BASE64.encoder()
    objects = [
        json.dumps({names[c]: _json_value(row[c], encode_blob) for c in sorted(row)}, ensure_ascii=False)
        for row in selection.rows
    ]
    return "[\n  " + ",\n  ".join(objects) + "\n]\n"


def _inserts(selection: CellSelection, table: str) -> str:
    lines = []
    for row in selection.rows:
        columns = sorted(row)
        names = ", ".join(quote_identifier(selection.columns[c]) for c in columns)
        values = ", ".join(sql_literal(row[c]) for c in columns)
        lines.append(f"INSERT INTO {quote_identifier(table)}({names}) VALUES ({values});")
    return "\n".join(lines) + "\n"


def _condition(name: str, value: Any) -> str:
    column = quote_identifier(name)
    return f"{column} IS NULL" if value is None else f"{column} = {sql_literal(value)}"


def where_clause(selection: CellSelection) -> str:
    """`WHERE a = 1 AND b = 'x'` for one row; each row's cells ANDed and the rows ORed for several."""
    terms = []
    for row in selection.rows:
        parts = [_condition(selection.columns[c], row[c]) for c in sorted(row)]
        terms.append(" AND ".join(parts))
    if len(terms) == 1:
        return f"WHERE {terms[0]}"
    return "WHERE " + "\n   OR ".join(f"({term})" for term in terms)
