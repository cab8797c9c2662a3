"""Row changes of one table, computed by SQLite on the pair's connection and streamed in pages.

Keyed tables (rowid, or a primary key both sides share) are compared with joins on the key: a
value is the same only when `IS` (binary collation, no affinity) and `typeof` both agree, so NULL, '', 0,
1, 1.0 and '1' are all different values. Tables with no shared key are compared as multisets of rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from desktop_app.core.diff.model import ChangeKind, Matching, RowChange, TableDiff
from desktop_app.core.diff.pairing import B_SCHEMA, ROWID_NAMES, Pair, compared_columns, usable_rowid
from desktop_app.core.diff.values import Value
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import Table, TableKind
from desktop_app.core.schema.fts import parse_fts
from desktop_app.core.sqlite.quoting import qualified, quote_identifier

#: Internal tables paired by a natural key rather than by rowid (their rowids are SQLite's business).
NATURAL_KEYS = {"sqlite_sequence": ("name",)}
#: Rowid ranges bound into one counting query (two parameters each; SQLite allows 32,766 at least).
_RANGES_PER_QUERY = 5000
#: Internal tables compared by content (ANALYZE rewrites every row).
CONTENT_TABLES = frozenset({"sqlite_stat1", "sqlite_stat4"})


@dataclass
class TablePlan:
    """How one table present on both sides is compared."""

    name: str
    matching: Matching
    #: SQL expressions of the key on each side's alias (`a.rowid`, `a."id"`), and their display names.
    key_sql: list[str]
    key_names: list[str]
    #: Columns on both sides (compared), then only in B, then only in A.
    common: list[str]
    only_b: list[str]
    only_a: list[str]
    a_table: str
    b_table: str
    note: str = ""
    #: Common columns that may hold integer 1 on one side and real 1.0 on the other (no affinity, or a
    #: different one on each side): only there is the storage class compared apart from the value.
    mixed_numbers: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        """The columns of each `RowChange`'s values."""
        return self.common + self.only_b + self.only_a


def plan_table(pair: Pair, old: Table, new: Table) -> TablePlan | str:
    """How to compare `old` (A) with `new` (B), or why their rows are not compared."""
    if TableKind.VIEW in (old.kind, new.kind):
        return "a view: only its definition is compared"
    if old.error or new.error:
        return f"cannot be read: {old.error or new.error}"
    for table in (old, new):
        fts = parse_fts(table.sql) if table.kind is TableKind.VIRTUAL else None
        if fts is not None and fts.content is not None:
            return "a full-text index over another table: that table's rows are compared"
    a_columns, b_columns = compared_columns(old), compared_columns(new)
    common = [c for c in b_columns if c in a_columns]
    plan = TablePlan(
        name=new.name,
        matching=Matching.ROWID,
        key_sql=[],
        key_names=[],
        common=common,
        only_b=[c for c in b_columns if c not in a_columns],
        only_a=[c for c in a_columns if c not in b_columns],
        a_table=old.quoted,
        b_table=qualified(B_SCHEMA, pair.b_names.get(new.name, new.name)),
    )
    plan.mixed_numbers = frozenset(c for c in common if _may_mix_numbers(old, new, c))
    natural = NATURAL_KEYS.get(new.name.lower())
    rowid_a, rowid_b = usable_rowid(old), usable_rowid(new)
    if natural is not None and all(k in common for k in natural):
        plan.matching, plan.key_names = Matching.KEY, list(natural)
        plan.key_sql = [quote_identifier(k) for k in natural]
    elif new.name.lower() in CONTENT_TABLES:
        plan.matching = Matching.CONTENT
        plan.note = "statistics: compared by whole-row content"
    elif rowid_a is not None and rowid_b is not None:
        if rowid_a != rowid_b:  # an INTEGER PRIMARY KEY on one side only: a plain alias free on both
            taken = {c.name.lower() for c in (*old.columns, *new.columns)}
            rowid_a = next((n for n in ROWID_NAMES if n not in taken), None)
        if rowid_a is None:
            plan.matching = Matching.CONTENT
            plan.note = "no key both sides share (rowid or primary key): compared by whole-row content"
            return plan
        plan.key_names, plan.key_sql = [rowid_a], [quote_identifier(rowid_a)]
    elif old.without_rowid and new.without_rowid and old.primary_key == new.primary_key:
        plan.matching, plan.key_names = Matching.KEY, list(new.primary_key)
        plan.key_sql = [quote_identifier(k) for k in new.primary_key]
    else:
        plan.matching = Matching.CONTENT
        plan.note = "no key both sides share (rowid or primary key): compared by whole-row content"
    return plan


def _may_mix_numbers(old: Table, new: Table, name: str) -> bool:
    """False when both sides' affinity stores every number of one value with one storage class: INTEGER
    and NUMERIC keep integral reals as integers, REAL keeps every number real, TEXT keeps none."""
    before, after = old.column(name), new.column(name)
    if before is None or after is None or old.kind is not TableKind.TABLE or new.kind is not TableKind.TABLE:
        return True
    kinds = {affinity(before.declared_type), affinity(after.declared_type)}
    if old.strict or new.strict:
        return (
            kinds & {"blob"} != set()
            or len(kinds) > 1
            or "any" in {before.declared_type.lower(), after.declared_type.lower()}
        )
    return len(kinds) > 1 or "blob" in kinds


def affinity(declared_type: str) -> str:
    """SQLite's column affinity for a declared type (https://sqlite.org/datatype3.html, 3.1)."""
    upper = declared_type.upper()
    if "INT" in upper:
        return "integer"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "text"
    if "BLOB" in upper or not upper:
        return "blob"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "real"
    return "numeric"


def _differs(column: str, mixed_numbers: bool) -> str:
    """SQL true when column `column` differs between `a` and `b`: `IS NOT` with binary collation and no
    affinity, plus, where integer 1 and real 1.0 can both be stored, their storage classes."""
    quoted = quote_identifier(column)
    plain = f"+a.{quoted} IS NOT +b.{quoted} COLLATE BINARY"
    if not mixed_numbers:
        return plain
    # Only numbers can be equal across storage classes (1 = 1.0); every number sorts before any text.
    return f"({plain} OR (+a.{quoted} < '' AND typeof(a.{quoted}) <> typeof(b.{quoted})))"


def _any_differs(plan: TablePlan) -> str:
    """SQL true when a row matched on the key differs in a common column. A rowid alias that is the key
    is skipped: the join already made it equal."""
    key = plan.key_names[0] if plan.matching is Matching.ROWID else None
    compared = [c for c in plan.common if c != key]
    return " OR ".join(_differs(c, c in plan.mixed_numbers) for c in compared) or "0"


def keyed_sql(plan: TablePlan) -> tuple[str, str]:
    """Two joins on the key yielding every removed and changed row (A's side), then every added row (B's
    side): keys of A, keys of B, A's common values, B's common values, B-only values, A-only values.
    (Measured here: a little faster than one FULL JOIN, and A's differences come first.)"""
    on = " AND ".join(f"a.{k} = b.{k}" for k in plan.key_sql)
    first = plan.key_sql[0]
    differs = _any_differs(plan)
    picked = [f"a.{k}" for k in plan.key_sql] + [f"b.{k}" for k in plan.key_sql]
    picked += [f"a.{quote_identifier(c)}" for c in plan.common]
    picked += [f"b.{quote_identifier(c)}" for c in plan.common]
    picked += [f"b.{quote_identifier(c)}" for c in plan.only_b]
    picked += [f"a.{quote_identifier(c)}" for c in plan.only_a]
    select = f"SELECT {', '.join(picked)}"
    return (
        f"{select} FROM {plan.a_table} AS a LEFT JOIN {plan.b_table} AS b ON {on} "
        f"WHERE b.{first} IS NULL OR {differs}",
        f"{select} FROM {plan.b_table} AS b LEFT JOIN {plan.a_table} AS a ON {on} WHERE a.{first} IS NULL",
    )


def keyed_count_sql(plan: TablePlan) -> str:
    """Counts only (removed, added, changed), without moving rows into Python."""
    on = " AND ".join(f"a.{k} = b.{k}" for k in plan.key_sql)
    first = plan.key_sql[0]
    differs = _any_differs(plan)
    return (
        f"SELECT count(*) FILTER (WHERE b.{first} IS NULL), count(*) FILTER (WHERE a.{first} IS NULL), "
        f"count(*) FILTER (WHERE a.{first} IS NOT NULL AND b.{first} IS NOT NULL AND ({differs})) "
        f"FROM {plan.a_table} AS a FULL JOIN {plan.b_table} AS b ON {on}"
    )


def content_sql(plan: TablePlan) -> str:
    """Rows as multisets over the common columns: each distinct row with (copies in A − copies in B)."""
    aliases = [f"c{i}" for i in range(len(plan.common))]
    a_cols = ", ".join(
        ["1 AS s"] + [f"{quote_identifier(c)} AS {n}" for c, n in zip(plan.common, aliases, strict=True)]
    )
    b_cols = ", ".join(["-1"] + [quote_identifier(c) for c in plan.common])
    group = ", ".join(f"{n} COLLATE BINARY, typeof({n})" for n in aliases) or "NULL"
    picked = ", ".join([*aliases, "sum(s)"])
    return (
        f"SELECT {picked} FROM (SELECT {a_cols} FROM {plan.a_table} UNION ALL SELECT {b_cols} FROM "
        f"{plan.b_table}) GROUP BY {group} HAVING sum(s) <> 0"
    )


def row_changes(conn: sqlite3.Connection, plan: TablePlan, page_rows: int = 0) -> Iterator[list[RowChange]]:
    """Every changed row of `plan`'s table, in pages as SQLite finds them (stop by interrupting `conn`)."""
    page_rows = page_rows or LIMITS.page_rows
    if plan.matching is Matching.CONTENT:
        yield from _content_changes(conn, plan, page_rows)
        return
    for sql in keyed_sql(plan):
        yield from _keyed_pages(conn.execute(sql), plan, page_rows)


def _keyed_pages(cursor: sqlite3.Cursor, plan: TablePlan, page_rows: int) -> Iterator[list[RowChange]]:
    n_key, n_common = len(plan.key_sql), len(plan.common)
    n_b, n_a = len(plan.only_b), len(plan.only_a)
    while rows := cursor.fetchmany(page_rows):
        page = []
        for row in rows:
            key_a, key_b = row[:n_key], row[n_key : 2 * n_key]
            at = 2 * n_key
            old_common, new_common = row[at : at + n_common], row[at + n_common : at + 2 * n_common]
            at += 2 * n_common
            only_b, only_a = row[at : at + n_b], row[at + n_b : at + n_b + n_a]
            none_b: tuple[Value, ...] = (None,) * n_b
            none_a: tuple[Value, ...] = (None,) * n_a
            if key_b[0] is None:
                page.append(RowChange(ChangeKind.REMOVED, key_a, old_common + none_b + only_a, None))
            elif key_a[0] is None:
                page.append(RowChange(ChangeKind.ADDED, key_b, None, new_common + only_b + none_a))
            else:
                page.append(
                    RowChange(
                        ChangeKind.CHANGED, key_a, old_common + none_b + only_a, new_common + only_b + none_a
                    )
                )
        yield page


def _content_changes(conn: sqlite3.Connection, plan: TablePlan, page_rows: int) -> Iterator[list[RowChange]]:
    padding: tuple[Value, ...] = (None,) * (len(plan.only_b) + len(plan.only_a))
    cursor = conn.execute(content_sql(plan))
    while rows := cursor.fetchmany(page_rows):
        page = []
        for row in rows:
            values, surplus = tuple(row[:-1]) + padding, int(row[-1])
            if surplus > 0:
                page.append(RowChange(ChangeKind.REMOVED, (), values, None, surplus))
            else:
                page.append(RowChange(ChangeKind.ADDED, (), None, values, -surplus))
        yield page


def keyed_count_in_ranges_sql(plan: TablePlan, ranges: int) -> tuple[str, str]:
    """Counts of a rowid-matched table's rows whose rowid lies in one of `ranges` ranges (parameters: first
    and last of each, ranges apart): (removed, changed) from A's side, then added from B's."""
    key = plan.key_sql[0]
    values = ", ".join("(?, ?)" for _ in range(ranges))
    within = f"WITH r(lo, hi) AS (VALUES {values}) "
    differs = _any_differs(plan)
    return (
        f"{within}SELECT count(*) FILTER (WHERE b.{key} IS NULL), "
        f"count(*) FILTER (WHERE b.{key} IS NOT NULL AND ({differs})) "
        f"FROM r JOIN {plan.a_table} AS a ON a.{key} BETWEEN r.lo AND r.hi "
        f"LEFT JOIN {plan.b_table} AS b ON a.{key} = b.{key}",
        f"{within}SELECT count(*) FROM r JOIN {plan.b_table} AS b ON b.{key} BETWEEN r.lo AND r.hi "
        f"LEFT JOIN {plan.a_table} AS a ON a.{key} = b.{key} WHERE a.{key} IS NULL",
    )


def count_changes(
    conn: sqlite3.Connection,
    plan: TablePlan,
    table: TableDiff,
    ranges: list[tuple[int, int]] | None = None,
) -> None:
    """Fill `table`'s counts without fetching rows (keyed tables in one aggregate query). `ranges`: the
    rowid ranges that hold every difference (from `changed_tables`), for a table matched by rowid."""
    if ranges is not None and plan.matching is Matching.ROWID:
        table.removed = table.added = table.changed = 0
        if not ranges:
            return
        for start in range(0, len(ranges), _RANGES_PER_QUERY):
            part = ranges[start : start + _RANGES_PER_QUERY]
            params = [bound for pair in part for bound in pair]
            from_a, from_b = keyed_count_in_ranges_sql(plan, len(part))
            removed, changed = conn.execute(from_a, params).fetchone()
            table.removed += removed
            table.changed += changed
            table.added += conn.execute(from_b, params).fetchone()[0]
        return
    if plan.matching is Matching.CONTENT:
        for page in _content_changes(conn, plan, LIMITS.page_rows):
            for change in page:
                table.count(change)
        return
    removed, added, changed = conn.execute(keyed_count_sql(plan)).fetchone()
    table.removed, table.added, table.changed = removed, added, changed
