"""The SQL of a profile: one cheap pass per column, then one statement for distinct, top and histogram."""

from __future__ import annotations

from desktop_app.core.sqlite.quoting import quote_identifier

#: Finite numbers only: ±Inf would stretch every histogram into one bin.
_FINITE = (
    "typeof({0}) IN ('integer', 'real') AND {0} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"
)


def cheap_sql(source: str, column: str) -> str:
    """Non-NULL count, count per storage class, min, max and text/blob length range of `column`."""
    c = quote_identifier(column)
    sized = f"CASE WHEN typeof({c}) IN ('text', 'blob') THEN length({c}) END"
    return (
        f"SELECT count({c}), "
        + ", ".join(f"total(typeof({c}) = '{kind}')" for kind in ("integer", "real", "text", "blob"))
        + f", min({c}), max({c}), min({sized}), max({sized}) FROM {source}"
    )


def sample_sql(source: str, column: str, rows: int) -> str:
    """The first `rows` non-NULL values of `column` (enough to guess a time encoding)."""
    c = quote_identifier(column)
    return f"SELECT {c} FROM {source} WHERE {c} IS NOT NULL LIMIT {int(rows)}"


def detail_sql(source: str, column: str, top: int, bins: int, *, iso_time: bool) -> str:
    """Distinct count, top values and a histogram of `column` in one statement over its grouped values.

    Rows: `(0, distinct, lo, hi, width)` once, `(1, count, value)` per top value, `(2, count, bin)` per
    non-empty bin. Numbers are binned as stored (a numeric timestamp's edges are decoded afterwards);
    ISO-8601 text by `julianday()`. Integers spanning fewer values than `bins` get one bin per value.
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
UNION ALL SELECT * FROM (SELECT 1, n, v, NULL, NULL FROM g ORDER BY n DESC, v LIMIT {int(top)})
UNION ALL SELECT 2, sum(n), b, NULL, NULL FROM (
    SELECT n, CASE WHEN r.w = 0 THEN 0
                   ELSE max(0, min({last}, ifnull(CAST(x / r.w - r.lo / r.w AS INTEGER), 0))) END AS b
    FROM x, r
) GROUP BY b
"""
