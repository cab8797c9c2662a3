"""Reading the schema has one home: `core/schema` (and `core/sqlite`, `core/snapshot`, which only check
that a file is a database whose schema can be read)."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "desktop_app"
ALLOWED = ("core/schema/", "core/sqlite/", "core/snapshot/")
_PRAGMAS = r"(?:table_info|table_xinfo|table_list|index_list|index_info|index_xinfo|foreign_key_list)"
#: `sqlite_master`/`sqlite_schema` (and temp's), `PRAGMA [schema.]table_info`, `pragma_table_info(...)`.
SCHEMA_READ = re.compile(
    rf"\bsqlite_(?:temp_)?(?:master|schema)\b|\bPRAGMA\s+(?:\S+\.)?{_PRAGMAS}\b|\bpragma_{_PRAGMAS}\b",
    re.IGNORECASE,
)


def schema_readers(root: Path) -> list[str]:
    """`path:line` of every place under `root` outside the allowed packages that reads the schema."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SCHEMA_READ.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_only_core_schema_reads_sqlite_schema_and_table_pragmas() -> None:
    assert schema_readers(PACKAGE) == []


def test_the_check_finds_each_form_of_schema_reading(tmp_path: Path) -> None:
    lines = [
        'conn.execute("SELECT name FROM sqlite_schema")',
        'conn.execute("SELECT sql FROM Sqlite_Master")',
        'conn.execute("SELECT sql FROM sqlite_temp_schema")',
        'conn.execute(f"PRAGMA {schema}.table_list")',
        'conn.execute("pragma table_info(t)")',
        'conn.execute("SELECT name FROM pragma_table_xinfo(?)", (name,))',
        'conn.execute("SELECT name FROM pragma_index_list(?)", (name,))',
        'conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (name,))',
    ]
    (tmp_path / "core" / "schema").mkdir(parents=True)
    (tmp_path / "core" / "schema" / "catalog.py").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "core" / "search").mkdir()
    (tmp_path / "core" / "search" / "tables.py").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "core" / "search" / "fine.py").write_text('conn.execute("PRAGMA encoding")', encoding="utf-8")
    found = schema_readers(tmp_path)
    assert [entry.split(":")[1] for entry in found] == [str(n) for n in range(1, len(lines) + 1)]
    assert all(entry.startswith("core/search/tables.py:") for entry in found)
