"""The SQL of a profile: one cheap pass per column, then one statement for distinct, top and histogram."""

from __future__ import annotations

from desktop_app.core.sqlite.quoting import quote_identifier

#: Finite numbers only: ±Inf would stretch every histogram into one bin.
_FINITE = (
    "typeof({0}) IN ('integer', 'real') AND {0} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"
)


def cheap_sql(source: str, columns: list[str], sample_rows: int | None = None) -> str:
    """Per column of `columns`, `CHEAP_FIGURES` figures: non-NULL count, integer/real/text counts (blobs
    are the rest), min, max, the shortest and longest text/blob, then min and max again as bytes when
    they are text (to show text that is not valid UTF-8 as it is); over the first `sample_rows` rows
    when given."""
    figures = []
    for column in columns:
        c = quote_identifier(column)
        sized = f"FILTER (WHERE typeof({c}) IN ('text', 'blob'))"
        figures.append(
            f"count({c}), "
            + ", ".join(
                f"count(*) FILTER (WHERE typeof({c}) = '{kind}')" for kind in ("integer", "real", "text")
            )
            + f", min({c}), max({c}), min(length({c})) {sized}, max(length({c})) {sized}, "
            + f"{_text_bytes(f'min({c})')}, {_text_bytes(f'max({c})')}"
        )
    if sample_rows is not None:
        names = ", ".join(quote_identifier(c) for c in columns)
        source = f"(SELECT {names} FROM {source} LIMIT {int(sample_rows)})"
    return f"SELECT {', '.join(figures)} FROM {source}"


#: Figures per column in a `cheap_sql` row.
CHEAP_FIGURES = 10


def _text_bytes(expression: str) -> str:
    """The bytes of `expression` when it is text, else NULL (SQLite computes an aggregate used twice once)."""
    return f"CASE WHEN typeof({expression}) = 'text' THEN CAST({expression} AS BLOB) END"


def sample_sql(source: str, column: str, rows: int) -> str:
    """The first `rows` non-NULL values of `column` (enough to guess a time encoding)."""
    c = quote_identifier(column)
    return f"SELECT {c} FROM {source} WHERE {c} IS NOT NULL LIMIT {int(rows)}"


def detail_sql(source: str, column: str, top: int, bins: int, *, iso_time: bool) -> str:
    """Distinct count, top values and a histogram of `column` in one statement over its grouped values.

    Rows: `(0, distinct, lo, hi, width)` once, `(1, count, value, text bytes)` per top value (the bytes
    of a text value, to show invalid UTF-8 as it is), `(2, count, bin)` per non-empty bin. Numbers are
    binned as stored (a numeric timestamp's edges are decoded afterwards); ISO-8601 text by `julianday()`.
    Integers spanning fewer values than `bins` get one bin per value.
    The width is `max/bins - min/bins` (not `(max - min)/bins`, which overflows to Inf for ±1e308).
    """
    c, last = quote_identifier(column), int(bins) - 1
    if iso_time:
        x_expr, x_filter = "julianday(v)", "typeof(v) = 'text' AND julianday(v) IS NOT NULL"
    else:
        x_expr, x_filter = "v", _FINITE.format("v")
    return f"""
WITH g(v, n) AS MATERIALIZED (SELECT {c}, count(*) FROM {source} WHERE {c} IS NOT NULL GROUP BY 1),
x(x, n) AS (SELECT {x_expr}, n FROM g WHERE {x_filter}),
r(lo, hi, w) AS MATERIALIZED (
    SELECT min(x), max(x),
           CASE WHEN min(typeof(x) = 'integer') AND max(x) - min(x) < {int(bins)} THEN 1
                ELSE max(x) / {float(bins)!r} - min(x) / {float(bins)!r} END
    FROM x
)
SELECT 0, (SELECT count(*) FROM g), lo, hi, w FROM r
UNION ALL SELECT * FROM (SELECT 1, n, v, {_text_bytes("v")}, NULL FROM g ORDER BY n DESC, v LIMIT {int(top)})
UNION ALL SELECT 2, sum(n), b, NULL, NULL FROM (
    SELECT n, CASE WHEN r.w = 0 THEN 0
                   ELSE max(0, min({last}, ifnull(CAST(x / r.w - r.lo / r.w AS INTEGER), 0))) END AS b
    FROM x, r
) GROUP BY b
"""
