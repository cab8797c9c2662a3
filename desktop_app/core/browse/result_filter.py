"""Narrowing a query's result to rows holding (or not holding) given values, by nesting the query.

The SQL pane's "Filter on this value" / "Exclude this value": the result's columns are addressed by
position (a result may repeat a name or have none), so the query is named as a common table expression
with one made-up name per column and filtered outside it. The user's own parameters stay bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.sqlite.nested_query import NestedQuery


@dataclass(frozen=True)
class ValueCondition:
    """Keep rows whose column `column` (0-based) holds `value`; with `exclude`, rows that do not."""

    column: int
    value: Any
    exclude: bool = False


def filtered_query(query: NestedQuery, width: int, conditions: Sequence[ValueCondition]) -> NestedQuery:
    """`query` narrowed by `conditions` (ANDed); `width` is its number of columns.

    NULL filters with IS NULL / IS NOT NULL; other values with `=` / `<>` (so excluding a value also
    leaves out the rows where the column is NULL, as a typed `<>` filter in Browse does).
    """
    if not conditions:
        return query
    names = ", ".join(f"c{i}" for i in range(width))
    named = isinstance(query.params, dict)
    params: Any = dict(query.params) if named else list(query.params)
    parts = []
    for number, condition in enumerate(conditions):
        if not 0 <= condition.column < width:
            raise ValueError(f"no column {condition.column} in a result of {width}")
        column = f"c{condition.column}"
        if condition.value is None:
            parts.append(f"{column} IS {'NOT ' if condition.exclude else ''}NULL")
            continue
        operator = "<>" if condition.exclude else "="
        if named:
            params[f"_filter{number}"] = condition.value
            parts.append(f"{column} {operator} :_filter{number}")
        else:
            params.append(condition.value)
            parts.append(f"{column} {operator} ?")
    body = f"WITH _filtered({names}) AS {query.subquery}\nSELECT * FROM _filtered WHERE " + " AND ".join(
        parts
    )
    return NestedQuery(body, params if named else tuple(params))
