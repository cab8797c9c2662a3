"""SQL export: `CREATE TABLE` and one `INSERT` per row, in one transaction, that recreate the rows exactly.

The table's columns have no declared type, so SQLite stores each value with the type it had: integers,
floats (written with `repr`, so they read back bit for bit), NULL, blobs as `X'…'`, text with quotes
doubled, and text that was not valid UTF-8 as `CAST(X'…' AS TEXT)` with its original bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.core.errors import ExportError
from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import FormatWriter, Page, SettingsMixin, unique_names
from desktop_app.core.sqlite.quoting import quote_identifier, sql_literal


@dataclass(frozen=True)
class SqlOptions(SettingsMixin):
    """The table the statements fill, and what wraps the INSERTs."""

    table: str = "export"
    create_table: bool = True
    transaction: bool = True

    def __post_init__(self) -> None:
        if not self.table:
            raise ExportError("The SQL export needs a table name.")


def insert_statements(table: str, columns: Sequence[str], rows: Page) -> str:
    """One `INSERT INTO table(columns) VALUES (…);` line per row."""
    head = f"INSERT INTO {quote_identifier(table)}({', '.join(map(quote_identifier, columns))}) VALUES ("
    return "".join(head + ", ".join(map(sql_literal, row)) + ");\n" for row in rows)


def create_table_statement(table: str, columns: Sequence[str]) -> str:
    """`CREATE TABLE` with untyped columns (so every value keeps its own type)."""
    return f"CREATE TABLE {quote_identifier(table)}({', '.join(map(quote_identifier, columns))});\n"


class SqlWriter(FormatWriter):
    """A script of SQL statements that rebuilds the result as a table."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: SqlOptions) -> None:
        super().__init__(output, columns)
        self._options = options
        self._names = unique_names(self.columns)
        self._file = output.text()
        if options.transaction:
            self._file.write("BEGIN;\n")
        if options.create_table:
            self._file.write(create_table_statement(options.table, self._names))

    def write_page(self, page: Page) -> None:
        """Write one INSERT per row of `page`."""
        self._file.write(insert_statements(self._options.table, self._names, page))

    def finish(self) -> None:
        """End the transaction."""
        if self._options.transaction:
            self._file.write("COMMIT;\n")
