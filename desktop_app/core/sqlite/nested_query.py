"""One query nested as a subquery: recognise it, then count it, page it and describe its columns.

A single read-only SELECT, VALUES or WITH … SELECT can be wrapped as `SELECT … FROM (<query>)`. That is
how the SQL pane counts a long result and fetches the rows the user scrolls to, and how a CSV export
counts its rows first so its progress is determinate. This module is the one place the wrapping is
written; everything here is synchronous over a configured sqlite3 connection (run it with
`Database.run_sync`) except `describe`, which goes through `Database.execute` for the declared types.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.statements import StatementKind, split_statements, statement_kind

if TYPE_CHECKING:
    from desktop_app.core.database import Database, Params, ResultColumns

#: Statements that can be wrapped as `SELECT … FROM (<sql>)`.
_NESTABLE_KEYWORDS = frozenset({"SELECT", "VALUES", "WITH"})


@dataclass(frozen=True)
class NestedQuery:
    """A query that can be nested: `body` is its text without trailing `;`, `params` its parameters."""

    body: str
    params: Params = ()

    @classmethod
    def of(cls, sql: str, params: Params = ()) -> NestedQuery | None:
        """`sql` as a nestable query, or None unless it is one read-only SELECT, VALUES or WITH query."""
        statements = split_statements(sql)
        if len(statements) != 1 or statements[0].keyword not in _NESTABLE_KEYWORDS:
            return None
        if statement_kind(statements[0]) is not StatementKind.READ:
            return None
        body = statements[0].text.rstrip()
        while body.endswith(";"):
            body = body[:-1].rstrip()
        return cls(body, params)

    @property
    def subquery(self) -> str:
        """`(<body>)`; the newlines keep a trailing `--` comment inside the parentheses."""
        return f"(\n{self.body}\n)"

    def count(self, conn: sqlite3.Connection, cancel: CancelToken | None = None) -> int:
        """The rows the query returns, counted by SQLite without fetching them."""
        with stoppable(conn, cancel):
            return int(conn.execute(f"SELECT count(*) FROM {self.subquery}", self.params).fetchone()[0])

    def rows(self, conn: sqlite3.Connection, start: int, count: int) -> list[tuple[Any, ...]]:
        """Up to `count` rows from position `start` (by OFFSET)."""
        # LIMIT/OFFSET are our own integers; pasting them keeps the user's ? or :name parameters intact.
        sql = f"SELECT * FROM {self.subquery} LIMIT {int(count)} OFFSET {int(start)}"
        return [tuple(row) for row in conn.execute(sql, self.params).fetchmany(count)]

    async def describe(self, database: Database) -> ResultColumns:
        """The result's column names and declared types (runs the query with LIMIT 0)."""
        sql = f"SELECT * FROM {self.subquery} LIMIT 0"
        result = await database.execute(sql, self.params, use_cache=False)
        return result.columns
