"""SQL that turns side A into side B: schema and data, for `diff --sql`.

Applied to a copy of A it gives a database our own comparison (and `sqldiff`) finds equal to B. Tables
whose definition changed, or that have no key both sides share, are rebuilt from B's rows; the others get
DELETE/UPDATE/INSERT statements for the rows that differ, addressed by rowid or primary key. Triggers of
a table are dropped before its rows change (so they do not fire) and created again at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from desktop_app.core.diff.compare import outline
from desktop_app.core.diff.model import ChangeKind, Matching, TableDiff
from desktop_app.core.diff.pairing import B_SCHEMA, Pair, compared_columns, key_and_columns, usable_rowid
from desktop_app.core.diff.rows import TablePlan, plan_table, row_changes
from desktop_app.core.diff.values import Value, sql_literal
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import CREATE_STAT1_SQL, Table, TableKind
from desktop_app.core.schema.fts import parse_fts
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import qualified, quote_identifier

Write = Callable[[str], None]
_SEQUENCE = "sqlite_sequence"


def write_sql(
    pair: Pair,
    write: Write,
    *,
    only: str | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback = ignore_progress,
) -> int:
    """Write the statements turning A into B (each ending with ';\\n'); return how many changed data or
    schema (0 when the two are equal)."""
    cancel = cancel or CancelToken()
    writer = _Script(pair, write)
    diff, sides = outline(pair, only)
    b_index_sql = {i.name: (i.table, i.sql) for i in pair.catalog_b.indexes if i.sql}
    changes = [c for t in diff.tables for c in t.schema_changes] + diff.other_changes
    for change in changes:  # views, indexes and triggers that go or change, before their tables move
        if change.object_type != "table" and change.kind is not ChangeKind.ADDED:
            writer.emit(f"DROP {change.object_type.upper()} IF EXISTS {quote_identifier(change.name)}")
            writer.dropped_triggers.discard(change.name)
    for number, entry in enumerate(diff.tables):
        progress(Progress(number, len(diff.tables), entry.name))
        old, new = sides[entry.name]
        if entry.name.lower() == _SEQUENCE:
            continue  # rewritten at the end: creating and filling tables moves it
        try:
            with cancellable(pair.conn, cancel):
                writer.table(entry, old, new)
        except sqlite3.Error as exc:  # one unreadable table: said in the script, the rest still written
            write(f"-- {quote_identifier(entry.name)} could not be compared: {' '.join(str(exc).split())}\n")
    for change in changes:
        if change.object_type != "table" and change.kind is not ChangeKind.REMOVED and change.new_sql:
            writer.recreate.append(change.new_sql)
    for name in writer.rebuilt:
        writer.recreate += [sql for table, sql in b_index_sql.values() if table == name and sql]
        writer.recreate += [t.sql for t in pair.catalog_b.triggers if t.table == name and t.sql]
    writer.recreate += [
        t.sql
        for t in pair.catalog_b.triggers
        if t.name in writer.dropped_triggers and t.table not in writer.rebuilt
    ]
    for sql in dict.fromkeys(writer.recreate):
        writer.emit(sql)
    with cancellable(pair.conn, cancel):
        writer.sequence(sides.get(_SEQUENCE, (None, None)) if only is None else (None, None))
    if writer.count:
        write("COMMIT;\n")
    progress(Progress(len(diff.tables), len(diff.tables), "done"))
    return writer.count


class _Script:
    """The statements written so far, and what must be created again at the end."""

    def __init__(self, pair: Pair, write: Write) -> None:
        self.pair = pair
        self.write = write
        self.count = 0
        self.rebuilt: list[str] = []
        self.recreate: list[str] = []
        self.dropped_triggers: set[str] = set()
        self._triggers_off: set[str] = set()

    def emit(self, statement: str) -> None:
        if self.count == 0:
            self.write("PRAGMA foreign_keys=OFF;\nBEGIN;\n")
        self.count += 1
        self.write(statement.rstrip().rstrip(";") + ";\n")

    def quiet(self, table: str) -> None:
        """Drop A's triggers on `table` before its rows change (they are created again at the end)."""
        if table in self._triggers_off:
            return
        self._triggers_off.add(table)
        for trigger in self.pair.catalog_a.triggers:
            if trigger.table == table:
                self.emit(f"DROP TRIGGER IF EXISTS {quote_identifier(trigger.name)}")
                self.dropped_triggers.add(trigger.name)

    def table(self, entry: TableDiff, old: Table | None, new: Table | None) -> None:
        if entry.kind == "view":
            return  # dropped before and created after the tables, with the other schema objects
        if new is None:
            assert old is not None
            if old.name.lower().startswith("sqlite_") and not old.name.lower().startswith("sqlite_stat"):
                self.emit(f"DELETE FROM {old.quoted}")
            else:
                self.emit(f"DROP TABLE IF EXISTS {old.quoted}")
            return
        if old is None or old.sql != new.sql:
            self._rebuild(old, new)
            return
        plan = plan_table(self.pair, old, new)
        if isinstance(plan, str):
            return
        if plan.matching is Matching.CONTENT:
            changes = next(row_changes(self.pair.conn, plan, 1), [])
            if changes:  # any difference: B's rows replace A's
                self.quiet(new.name)
                self.emit(f"DELETE FROM {new.quoted}")
                self._copy_rows(new)
            return
        self._apply(plan, new)

    def _rebuild(self, old: Table | None, new: Table) -> None:
        if old is not None:
            if new.name.lower().startswith("sqlite_") and not new.name.lower().startswith("sqlite_stat"):
                self.emit(f"DELETE FROM {new.quoted}")
                self._copy_rows(new)
                return
            for trigger in self.pair.catalog_a.triggers:
                if trigger.table == old.name:
                    self.dropped_triggers.discard(trigger.name)
            self.emit(f"DROP TABLE IF EXISTS {old.quoted}")
        assert new.sql is not None
        if new.name.lower() == "sqlite_stat1":  # the one way to create it (CREATE TABLE refuses the name)
            self.emit(CREATE_STAT1_SQL)
            self.emit("DELETE FROM sqlite_stat1")
            self._copy_rows(new)
            return
        self.emit(new.sql)
        self.rebuilt.append(new.name)
        fts = parse_fts(new.sql) if new.kind is TableKind.VIRTUAL else None
        if fts is not None and fts.content:
            self.emit(f"INSERT INTO {new.quoted}({quote_identifier(new.name)}) VALUES ('rebuild')")
            return
        self._copy_rows(new)

    def _copy_rows(self, new: Table) -> None:
        """INSERT every row B's table holds."""
        columns = compared_columns(new)
        rowid = usable_rowid(new)
        picked = key_and_columns(rowid, columns)
        if not columns:
            return
        source = qualified(B_SCHEMA, self.pair.b_names.get(new.name, new.name))
        head = f"INSERT INTO {new.quoted}({', '.join(picked)}) VALUES "
        cursor = self.pair.conn.execute(f"SELECT {', '.join(picked)} FROM {source}")
        while rows := cursor.fetchmany(LIMITS.page_rows):
            for row in rows:
                self.emit(head + _values(row))

    def _apply(self, plan: TablePlan, new: Table) -> None:
        table = new.quoted
        key_names = plan.key_sql
        n_common = len(plan.common) + len(plan.only_b)
        columns = [quote_identifier(c) for c in plan.columns[:n_common]]
        for page in row_changes(self.pair.conn, plan):
            self.quiet(new.name)
            for change in page:
                where = " AND ".join(
                    f"{k} = {sql_literal(v)}" for k, v in zip(key_names, change.key, strict=True)
                )
                if change.kind is ChangeKind.REMOVED:
                    self.emit(f"DELETE FROM {table} WHERE {where}")
                elif change.kind is ChangeKind.CHANGED:
                    assert change.new is not None
                    changed = [i for i in change.changed_columns() if i < n_common]
                    sets = ", ".join(f"{columns[i]} = {sql_literal(change.new[i])}" for i in changed)
                    if sets:
                        self.emit(f"UPDATE {table} SET {sets} WHERE {where}")
                else:
                    assert change.new is not None
                    names = list(columns)
                    values = list(change.new[:n_common])
                    if plan.matching is Matching.ROWID and plan.key_names[0] not in plan.columns[:n_common]:
                        names.insert(0, plan.key_sql[0])
                        values.insert(0, change.key[0])
                    self.emit(f"INSERT INTO {table}({', '.join(names)}) VALUES {_values(values)}")

    def sequence(self, sides: tuple[Table | None, Table | None]) -> None:
        """Make sqlite_sequence B's (creating and filling AUTOINCREMENT tables changed it on the way)."""
        old, new = sides
        if old is None and new is None:
            old = self.pair.catalog_a.table(_SEQUENCE)
            new = self.pair.catalog_b.table(_SEQUENCE)
            if (old is None and new is None) or self.count == 0:
                return
        if new is None:
            if old is not None:
                self.emit(f"DELETE FROM {_SEQUENCE}")
            return
        source = qualified(B_SCHEMA, self.pair.b_names.get(new.name, new.name))
        wanted = self.pair.conn.execute(f"SELECT name, seq FROM {source} ORDER BY rowid").fetchall()
        current = []
        if old is not None:
            current = self.pair.conn.execute(f"SELECT name, seq FROM {_SEQUENCE} ORDER BY rowid").fetchall()
        if wanted == current and self.count == 0:
            return
        self.emit(f"DELETE FROM {_SEQUENCE}")
        for row in wanted:
            self.emit(f"INSERT INTO {_SEQUENCE}(name, seq) VALUES {_values(row)}")


def _values(row: Sequence[Value]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in row) + ")"
