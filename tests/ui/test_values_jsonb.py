"""JSONB blobs in the value inspector: decoded by the app (this SQLite is older than 3.45) into the same
collapsible tree with paths; "Filter on this path = value" is off for them, with the reason."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from desktop_app.core.values import jsonb
from desktop_app.core.values.jsonb import sqlite_reads_jsonb
from desktop_app.ui.widgets import value_inspector
from desktop_app.ui.widgets.value_inspector import FILTER_TIP, JSONB_FILTER_TIP
from tests.conftest import folder_state
from tests.core.test_values_jsonb import encode
from tests.ui.test_browse import browse
from tests.ui.test_values_display import _inspect, _select_path, _show

DOCUMENT = {"a": {"b": [10, 20, {"c": "x"}]}, "odd key": True, "n": None}
PNG_HEAD = bytes.fromhex("89504e470d0a1a0a0000000d49484452")


def _blob_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB, payload_json BLOB, doc JSONB)")
    conn.executemany(
        "INSERT INTO t (data, payload_json, doc) VALUES (?, ?, ?)",
        [
            (encode(DOCUMENT), encode("just text"), encode(12)),
            (PNG_HEAD, b"{}", encode(12)),
            (b'{"text": 1}', None, None),
        ],
    )
    conn.commit()
    conn.close()
    return path


async def test_a_jsonb_cell_shows_as_a_tree_with_paths_and_no_sql_filter(qtbot: Any, tmp_path: Path) -> None:
    assert not sqlite_reads_jsonb()  # the bundled SQLite: 3.40
    folder = tmp_path / "user"
    folder.mkdir()
    database = _blob_database(folder / "blobs.db")
    before = folder_state(folder)
    async with browse(qtbot, tmp_path, database) as pane:
        inspector = pane.inspector
        await _show(pane, "t")
        await _inspect(pane, 0, 1)
        assert inspector.json_box.isVisibleTo(pane) and inspector.json_box.title() == "JSON (stored as JSONB)"
        note = "JSONB (decoded by the app: this SQLite is older than 3.45)"
        assert inspector.kind.text() == f"blob · {len(encode(DOCUMENT))} bytes · {note}"
        model = inspector.json_model
        assert model is not None and model.root.value == DOCUMENT
        _select_path(pane, ["a", "b", 2, "c"])
        assert inspector.path.text() == "$.a.b[2].c"
        inspector.copy_path()
        assert QGuiApplication.clipboard().text() == "$.a.b[2].c"
        _select_path(pane, ["odd key"])
        assert inspector.path.text() == '$."odd key"' and inspector.copy_path_button.isEnabled()
        assert not inspector.filter_button.isEnabled()
        assert inspector.filter_button.toolTip() == JSONB_FILTER_TIP
        inspector.request_filter()
        assert pane.filters == {}

        await _inspect(pane, 0, 2)  # a JSON column may hold a JSONB scalar
        assert inspector.json_box.isVisibleTo(pane) and model is not inspector.json_model
        assert inspector.json_model is not None and inspector.json_model.root.value == "just text"

        await _inspect(pane, 0, 3)  # so may one whose declared type says JSON
        assert inspector.json_model is not None and inspector.json_model.root.value == 12

        await _inspect(pane, 1, 1)  # a PNG header is a blob, not JSON
        assert not inspector.json_box.isVisibleTo(pane) and "JSONB" not in inspector.kind.text()

        await _inspect(pane, 2, 1)  # JSON text in a blob is still read as text, and filterable
        assert inspector.json_box.isVisibleTo(pane) and inspector.json_box.title() == "JSON"
        assert inspector.filter_button.isEnabled() and inspector.filter_button.toolTip() == FILTER_TIP
    assert folder_state(folder) == before


async def test_a_jsonb_blob_past_the_decode_limit_is_shown_as_a_blob_and_said_why(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(jsonb, "LIMITS", dataclasses.replace(jsonb.LIMITS, jsonb_decode_max_bytes=16))
    monkeypatch.setattr(
        value_inspector, "LIMITS", dataclasses.replace(jsonb.LIMITS, jsonb_decode_max_bytes=16)
    )
    database = _blob_database(tmp_path / "blobs.db")
    async with browse(qtbot, tmp_path, database) as pane:
        await _show(pane, "t")
        await _inspect(pane, 0, 1)
        assert not pane.inspector.json_box.isVisibleTo(pane)
        assert pane.inspector.kind.text().endswith(
            "bytes · looks like JSONB, too large for the app to decode (over 16 B)"
        )
