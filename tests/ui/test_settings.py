"""Settings read back as the type written, whatever the backend handed back (INI text or typed values)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from desktop_app.ui.settings import read_bool, read_int, read_json, read_str, read_str_list


def ini(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_booleans_read_back_from_text_or_typed_values_missing_ones_take_the_default(
    tmp_path: Path,
) -> None:
    settings = ini(tmp_path)
    settings.setValue("on", True)
    settings.setValue("off", False)
    settings.setValue("text_on", "true")  # what older INI files and other backends hand back
    settings.setValue("text_off", "false")
    settings.sync()
    reread = ini(tmp_path)
    assert [read_bool(reread, key, True) for key in ("on", "text_on")] == [True, True]
    assert [read_bool(reread, key, True) for key in ("off", "text_off")] == [False, False]
    assert (read_bool(reread, "missing", True), read_bool(reread, "missing")) == (True, False)


def test_text_numbers_lists_and_json_fall_back_to_their_defaults(tmp_path: Path) -> None:
    settings = ini(tmp_path)
    settings.setValue("empty", "")
    settings.setValue("count", 12)
    settings.setValue("bad_count", "twelve")
    settings.setValue("one", ["only"])
    settings.setValue("history", '["a", "b"]')
    settings.setValue("broken", "{not json")
    settings.sync()
    reread = ini(tmp_path)
    assert (read_str(reread, "empty", "default"), read_str(reread, "missing")) == ("default", "")
    assert (read_int(reread, "count"), read_int(reread, "bad_count", 3)) == (12, 3)
    assert (read_str_list(reread, "one"), read_str_list(reread, "missing")) == (["only"], [])
    assert read_json(reread, "history", []) == ["a", "b"]
    assert (read_json(reread, "broken", {}), read_json(reread, "history", {})) == ({}, {})
