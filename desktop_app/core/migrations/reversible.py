"""The hand-rolled pattern's reversible (up, down) migrations, read for display only, never executed."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

from desktop_app.core.migrations.model import ReversibleMigration
from desktop_app.core.migrations.pending import files_matching, read_bytes

_PAIR_FILE = re.compile(r"(\d+)[_\-]?(.*?)\.(up|down)\.sql", re.IGNORECASE)
_PYTHON_FILE = re.compile(r"(?!__).+\.py")


def read_reversible(folder: Path, is_applied: Callable[[int], bool]) -> list[ReversibleMigration]:
    """(up, down) pairs from `NNN_name.up.sql`/`.down.sql` files and Python lists of (up, down) tuples."""
    found = _from_sql_pairs(folder, is_applied)
    for path, _match in files_matching(folder, _PYTHON_FILE):
        found += _from_python(path, is_applied)
    return sorted(found, key=lambda m: (m.version, m.source))


def _from_sql_pairs(folder: Path, is_applied: Callable[[int], bool]) -> list[ReversibleMigration]:
    ups: dict[int, tuple[str, Path]] = {}
    downs: dict[int, str] = {}
    for path, match in files_matching(folder, _PAIR_FILE):
        content = (read_bytes(path) or b"").decode("utf-8", "replace")
        version = int(match[1])
        if match[3].lower() == "up":
            ups[version] = (match[2] or "", path)
        else:
            downs[version] = content
    result = []
    for version, (name, path) in sorted(ups.items()):
        up = (read_bytes(path) or b"").decode("utf-8", "replace")
        result.append(
            ReversibleMigration(
                version=version,
                name=name or None,
                up=up,
                down=downs.get(version),
                source=str(path),
                applied=is_applied(version),
            )
        )
    return result


def _from_python(path: Path, is_applied: Callable[[int], bool]) -> list[ReversibleMigration]:
    """Top-level `NAME = [(up, down), ...]` or `[(version, up, down), ...]`, taken with ast.literal_eval."""
    content = read_bytes(path)
    if content is None:
        return []
    try:
        tree = ast.parse(content, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    for statement in tree.body:
        value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.List | ast.Tuple):
            continue
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        migrations = _pairs(items, path, is_applied)
        if migrations:
            return migrations
    return []


def _pairs(items: object, path: Path, is_applied: Callable[[int], bool]) -> list[ReversibleMigration]:
    if not isinstance(items, list | tuple) or not items:
        return []
    result = []
    for index, item in enumerate(items, start=1):
        if isinstance(item, tuple | list) and len(item) == 2 and all(isinstance(p, str) for p in item):
            version, up, down = index, item[0], item[1]
        elif (
            isinstance(item, tuple | list)
            and len(item) == 3
            and isinstance(item[0], int)
            and all(isinstance(p, str) for p in item[1:])
        ):
            version, up, down = item
        else:
            return []  # not a list of migrations after all
        result.append(
            ReversibleMigration(
                version=version, name=None, up=up, down=down, source=str(path), applied=is_applied(version)
            )
        )
    return result
