"""Reading Liquibase changelogs (XML, formatted SQL, YAML, JSON) into their changesets, without Liquibase."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.migrations.pending import files_matching, read_bytes

CHANGELOG_FILE = re.compile(r".+\.(xml|sql|ya?ml|json)", re.IGNORECASE)
_SQL_CHANGESET = re.compile(r"^\s*--\s*changeset\s+(\S+?):(\S+)", re.IGNORECASE | re.MULTILINE)
_SQL_HEADER = re.compile(r"^\s*--\s*liquibase formatted sql", re.IGNORECASE)
_YAML_CHANGESET = re.compile(r"^(\s*)-?\s*changeSet\s*:\s*$")
_YAML_KEY = re.compile(r"^\s*-?\s*(id|author)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class ChangeSet:
    """One changeset: Liquibase identifies it by (id, author, file)."""

    id: str
    author: str
    path: Path


def read_changesets(folder: Path, pattern: re.Pattern[str] = CHANGELOG_FILE) -> list[ChangeSet]:
    """Every changeset declared in the changelog files under `folder` (`pattern`: their names; its
    first group, the format)."""
    found: list[ChangeSet] = []
    for path, match in files_matching(folder, pattern, recursive=True):
        content = read_bytes(path)
        if content is None:
            continue
        text = content.decode("utf-8", "replace")
        kind = match[1].lower()
        if kind == "xml":
            found += _from_xml(text, path)
        elif kind == "sql":
            found += _from_sql(text, path)
        elif kind == "json":
            found += _from_json(text, path)
        else:
            found += _from_yaml(text, path)
    return found


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _from_xml(text: str, path: Path) -> list[ChangeSet]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return []
    if _local_name(root.tag) != "databaseChangeLog":
        return []
    return [
        ChangeSet(id=element.get("id", ""), author=element.get("author", ""), path=path)
        for element in root.iter()
        if _local_name(element.tag) == "changeSet"
    ]


def _from_sql(text: str, path: Path) -> list[ChangeSet]:
    if not _SQL_HEADER.match(text):
        return []
    return [ChangeSet(id=m[2], author=m[1], path=path) for m in _SQL_CHANGESET.finditer(text)]


def _from_json(text: str, path: Path) -> list[ChangeSet]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    entries = data.get("databaseChangeLog") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        change = entry.get("changeSet") if isinstance(entry, dict) else None
        if isinstance(change, dict):
            found.append(
                ChangeSet(id=str(change.get("id", "")), author=str(change.get("author", "")), path=path)
            )
    return found


def _from_yaml(text: str, path: Path) -> list[ChangeSet]:
    """A line scan for `changeSet:` blocks and their id/author keys (enough for changelogs; no PyYAML)."""
    if "databaseChangeLog" not in text:
        return []
    found: list[ChangeSet] = []
    current: dict[str, str] | None = None
    indent = -1
    for line in text.splitlines():
        start = _YAML_CHANGESET.match(line)
        if start:
            if current is not None:
                found.append(_yaml_changeset(current, path))
            current, indent = {}, len(start[1])
            continue
        if current is None or not line.strip():
            continue
        if len(line) - len(line.lstrip()) <= indent:
            found.append(_yaml_changeset(current, path))
            current = None
            continue
        key = _YAML_KEY.match(line)
        if key and key[1] not in current:
            current[key[1]] = key[2].strip("'\"")
    if current is not None:
        found.append(_yaml_changeset(current, path))
    return found


def _yaml_changeset(values: dict[str, str], path: Path) -> ChangeSet:
    return ChangeSet(id=values.get("id", ""), author=values.get("author", ""), path=path)
