"""Names on screen cannot hide or disguise themselves."""

from __future__ import annotations

import pytest

from desktop_app.core.schema.visible_names import visible_name


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("orders", "orders"),
        ("שלום עולם", "שלום עולם"),  # right-to-left text is fine: only the controls are spelled out
        ("\u202etxt.exe", "⟨U+202E⟩txt.exe"),
        ("a\u200bb", "a⟨U+200B⟩b"),
        ("line\nbreak", "line⟨U+000A⟩break"),
        ("nul\x00", "nul⟨U+0000⟩"),
        ("👩\u200d💻", "👩\u200d💻"),  # the emoji joiner stays
        ("e\u0301", "e\u0301"),  # combining accents stay
        ("", '""'),
        ("   ", '"   "'),
    ],
)
def test_visible_name(name: str, shown: str) -> None:
    assert visible_name(name) == shown
