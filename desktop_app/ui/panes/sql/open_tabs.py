"""The SQL pane's open tabs of each database, kept in QSettings so they come back when it is reopened."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from PySide6.QtCore import QSettings

from desktop_app.core.limits import LIMITS
from desktop_app.ui.settings import per_database_key, read_json

_TABS_KEY = "sql/tabs"


@dataclass(frozen=True)
class KeptTab:
    """One tab as kept: its name, its `.sql` file, and its text.

    For a tab with a file, `text` is the file's text when last opened or saved (shown when the file can no
    longer be read); unsaved changes to a file are not kept: closing asks to save them.
    """

    name: str = ""
    path: str | None = None
    text: str = ""


def kept_tabs(settings: QSettings, database_path: str) -> tuple[list[KeptTab], int]:
    """The tabs kept for the database at `database_path`, and which was the current one."""
    stored = read_json(settings, per_database_key(_TABS_KEY, database_path), {})
    tabs: list[KeptTab] = []
    for entry in stored.get("tabs", []) if isinstance(stored.get("tabs"), list) else []:
        if not isinstance(entry, dict):
            continue
        path = entry.get("path")
        tabs.append(
            KeptTab(str(entry.get("name", "")), str(path) if path else None, str(entry.get("text", "")))
        )
    current = stored.get("current", 0)
    return tabs, current if isinstance(current, int) and 0 <= current < len(tabs) else 0


def keep_tabs(settings: QSettings, database_path: str, tabs: list[KeptTab], current: int) -> None:
    """Keep `tabs` for the database at `database_path` (texts past the editor's file limit are not kept)."""
    limit = LIMITS.sql_file_max_bytes
    kept = [
        tab if len(tab.text.encode("utf-8", "surrogatepass")) <= limit else replace(tab, text="")
        for tab in tabs
    ]
    value = {"path": database_path, "tabs": [asdict(tab) for tab in kept], "current": current}
    settings.setValue(per_database_key(_TABS_KEY, database_path), json.dumps(value))
