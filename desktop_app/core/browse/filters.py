"""Per-column filter text typed under a grid header, turned into parameterised SQL.

Syntax (case-insensitive keywords, surrounding spaces ignored):

- `NULL`, `NOT NULL` (also `IS NULL`, `IS NOT NULL`, `!NULL`)
- `EMPTY`, `NOT EMPTY`, `''` — the empty text
- `=v`, `<>v` / `!=v`, `<v`, `<=v`, `>v`, `>=v` — comparisons; a canonical number is bound as a number
- `a..b`, `a..`, `..b` — inclusive ranges
- a text with `%`, `_` or `*` (shorthand for `%`) wildcards is a `LIKE` pattern matched as written;
  `!pattern` negates it
- a plain number matches equal numbers (`*5*` finds cells containing 5)
- any other text matches cells that contain it (`LIKE %text%`, case-insensitive for ASCII)
- a value in single or double quotes is taken literally (`="a..b"`, `'NULL'`)
- `=x'0aff'`, `<>x'0aff'` — a blob, in hex (what "Filter on this value" writes for a blob cell)
- `$.a.b[2] = v` — the JSON member at that path equals `v`, written as JSON (`"text"`, `12`, `true`,
  `null`, `{"k":1}`); a `v` that is not JSON is taken as text. Cells that are not JSON never match.

Values are always bound as parameters; only the column, already quoted by the caller, is pasted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.sqlite.quoting import quote_identifier

_COMPARISON = re.compile(r"(<=|>=|<>|!=|==|=|<|>)\s*(.*)\Z", re.S)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_BLOB = re.compile(r"[xX]'((?:[0-9a-fA-F]{2})*)'\Z")
#: `$.path = value`: a JSON path in SQLite's syntax (plain or double-quoted keys, array indexes).
_JSON_PATH = re.compile(r'(\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\."[^"]*"|\[\d+\])*)\s*=\s*(.*)\Z', re.S)


class FilterError(UserError):
    """A filter the user typed cannot be understood."""


@dataclass(frozen=True)
class Condition:
    """A piece of a WHERE clause and the values bound to its `?` placeholders."""

    sql: str
    params: tuple[Any, ...] = ()


def parse_filter(column_sql: str, text: str) -> Condition | None:
    """Translate one column's filter `text` into a condition on `column_sql` (None when empty)."""
    text = text.strip()
    if not text:
        return None
    upper = " ".join(text.upper().split())
    if upper in ("NULL", "IS NULL"):
        return Condition(f"{column_sql} IS NULL")
    if upper in ("NOT NULL", "IS NOT NULL", "!NULL"):
        return Condition(f"{column_sql} IS NOT NULL")
    if upper in ("EMPTY", "''", '""'):
        return Condition(f"{column_sql} = ''")
    if upper in ("NOT EMPTY", "!EMPTY"):
        return Condition(f"{column_sql} <> ''")
    json_path = _JSON_PATH.match(text)
    if json_path:
        return json_path_condition(column_sql, json_path.group(1), _json_operand(json_path.group(2)))
    comparison = _COMPARISON.match(text)
    if comparison:
        return _comparison(column_sql, comparison.group(1), comparison.group(2))
    if ".." in text and not _is_quoted(text):
        return _range(column_sql, text)
    if text.startswith("!") and len(text) > 1:
        return _like(column_sql, text[1:].strip(), negate=True)
    return _like(column_sql, text, negate=False)


def where_clause(filters: Mapping[str, str]) -> Condition | None:
    """AND together the filters of several columns (column name → filter text); None when all are empty."""
    parts = [
        condition
        for name, text in filters.items()
        if (condition := parse_filter(quote_identifier(name), text)) is not None
    ]
    if not parts:
        return None
    return Condition(
        " AND ".join(f"({p.sql})" for p in parts), tuple(value for p in parts for value in p.params)
    )


def value_filter(value: Any, *, exclude: bool = False) -> str:
    """The filter text that keeps exactly the rows holding `value` (or, with `exclude`, those that do not).

    NULL filters with IS NULL / IS NOT NULL, text is quoted (taken literally, whatever it holds), numbers
    are written so they bind as the same number, blobs as `x'hex'`. Excluding uses `<>`, as typed
    filters do, so rows where the column is NULL are left out too (SQL's comparison with NULL).
    """
    if value is None:
        return "NOT NULL" if exclude else "NULL"
    operator = "<>" if exclude else "="
    if isinstance(value, bool | int):
        return f"{operator}{int(value)}"
    if isinstance(value, float):
        return f"{operator}{value!r}"
    if isinstance(value, bytes | bytearray | memoryview):
        return _checked_length(f"{operator}x'{bytes(value).hex()}'")
    if isinstance(value, str):
        return _checked_length(f'{operator}"{value}"')
    # Text that is not valid UTF-8 (held as its bytes) has no filter text that finds it.
    raise FilterError("This value cannot be written as a filter (text that is not valid UTF-8).")


def _checked_length(text: str) -> str:
    if len(text) > LIMITS.filter_value_max_chars:
        raise FilterError(
            f"This value is too long to filter on ({len(text):,} characters as a filter; "
            f"at most {LIMITS.filter_value_max_chars:,})."
        )
    return text


def json_path_filter_text(path: str, value: Any) -> str:
    """The filter text "JSON member at `path` equals `value`" (what a column's filter box shows)."""
    return f"{path} = {_compact_json(value)}"


def json_path_condition(column_sql: str, path: str, value: Any) -> Condition:
    """Condition "the JSON member at `path` of `column_sql` equals `value`" (a parsed JSON value).

    `json_extract` gives SQL values for scalars (true → 1, false → 0) and compact JSON text for objects
    and arrays, so each is compared in that form; a JSON null is told from a missing member by its type.
    CASE keeps cells that are not JSON out (json_extract raises on them; AND may evaluate both sides).
    """
    if value is None:
        return Condition(
            f"CASE WHEN json_valid({column_sql}) THEN json_type({column_sql}, ?) END = 'null'", (path,)
        )
    extract = f"CASE WHEN json_valid({column_sql}) THEN json_extract({column_sql}, ?) END = ?"
    if isinstance(value, bool):
        return Condition(extract, (path, int(value)))
    if isinstance(value, dict | list):
        return Condition(extract, (path, _compact_json(value)))
    return Condition(extract, (path, value))


def _json_operand(text: str) -> Any:
    """The value after `$.path =`: JSON when it parses, else the text as written."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def bind_value(text: str) -> Any:
    """The value to bind for `text`: unquoted, and an int/float when it is written canonically."""
    if _is_quoted(text):
        return text[1:-1]
    blob = _BLOB.match(text)
    if blob:
        return bytes.fromhex(blob.group(1))
    if _NUMBER.match(text):
        number: int | float = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        if isinstance(number, int) and not -(2**63) <= number < 2**63:
            return float(number)  # beyond 64 bits: a REAL, as SQLite reads such a literal
        # "007" or "1.50" stay text: binding 7 would not find the text '007'.
        if str(number) == text.lstrip("+") or (isinstance(number, float) and repr(number) == text):
            return number
    return text


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""


def _comparison(column_sql: str, operator: str, operand: str) -> Condition:
    operand = operand.strip()
    if not operand:
        raise FilterError(f"“{operator}” needs a value after it, e.g. {operator}10.")
    sql_operator = {"==": "=", "!=": "<>"}.get(operator, operator)
    if operand.upper() == "NULL" and sql_operator in ("=", "<>"):
        return Condition(f"{column_sql} IS {'NOT ' if sql_operator == '<>' else ''}NULL")
    return Condition(f"{column_sql} {sql_operator} ?", (bind_value(operand),))


def _range(column_sql: str, text: str) -> Condition:
    low, _, high = (part.strip() for part in text.partition(".."))
    if not low and not high:
        raise FilterError("A range needs at least one end, e.g. 10..20, 10.. or ..20.")
    if low and high:
        return Condition(f"{column_sql} BETWEEN ? AND ?", (bind_value(low), bind_value(high)))
    if low:
        return Condition(f"{column_sql} >= ?", (bind_value(low),))
    return Condition(f"{column_sql} <= ?", (bind_value(high),))


def _like(column_sql: str, text: str, *, negate: bool) -> Condition:
    not_ = "NOT " if negate else ""
    if _is_quoted(text):
        operator = "<>" if negate else "="
        return Condition(f"{column_sql} {operator} ?", (text[1:-1],))
    if any(ch in text for ch in "%_*"):
        pattern = text.replace("*", "%")
        return Condition(f"{column_sql} {not_}LIKE ?", (pattern,))
    value = bind_value(text)
    if isinstance(value, int | float):
        return Condition(f"{column_sql} {'<>' if negate else '='} ?", (value,))
    return Condition(f"{column_sql} {not_}LIKE ?", (f"%{text}%",))
