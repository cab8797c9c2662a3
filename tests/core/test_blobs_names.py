"""File names for exported blobs: patterns, sanitising and the never-outside-the-folder guarantee."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.blobs.names import (
    _sanitize,
    check_plain_name,
    is_reserved_device_name,
    numbered_name,
    parse_name_pattern,
    sanitize_file_name,
)
from desktop_app.core.errors import ExportError, UserError
from desktop_app.core.limits import LIMITS

ANY_CHARACTER = st.characters(codec=None, categories=None)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.png", "_.._etc_passwd.png"),
        ("CON", "_CON"),
        ("con.png", "_con.png"),
        ("LPT9.tar.gz", "_LPT9.tar.gz"),
        ("COM¹ .txt", "_COM¹ .txt"),
        ("CONSOLE.png", "CONSOLE.png"),
        ("a/b\\c.png", "a_b_c.png"),
        ("", "blob"),
        (".", "blob"),
        ("..", "blob"),
        (".png", "blob.png"),
        (".bashrc", "blob.bashrc"),
        ("name. . .", "name"),
        ("  spaced  .png", "spaced  .png"),
        ("a..b", "a..b"),
        ("dots...", "dots"),
        ("tab\there\x00nul\x7f.png", "tab_here_nul_.png"),
        ("gnp\u202e.exe", "gnp_.exe"),
        ('a<b>c:d"e|f?g*h.png', "a_b_c_d_e_f_g_h.png"),
        ("🦆 duck.png", "🦆 duck.png"),
        ("e\u0301.png", "é.png"),
    ],
)
def test_sanitize_file_name_makes_hostile_names_safe(raw: str, safe: str) -> None:
    assert sanitize_file_name(raw) == safe


def test_long_names_are_cut_in_utf8_bytes_keeping_the_extension() -> None:
    name = sanitize_file_name("é" * 300 + ".png")
    assert name.endswith("é.png")
    assert len(name.encode()) <= LIMITS.blob_file_name_max_bytes
    assert sanitize_file_name("x" * 300) == "x" * LIMITS.blob_file_name_max_bytes


def test_numbered_name_goes_before_the_extension_within_the_limit() -> None:
    assert numbered_name("tile.png", 2) == "tile (2).png"
    assert numbered_name("README", 3) == "README (3)"
    long = sanitize_file_name("x" * 300 + ".png")
    assert numbered_name(long, 12).endswith("x (12).png")
    assert len(numbered_name(long, 12).encode()) <= LIMITS.blob_file_name_max_bytes


def test_reserved_device_names_are_recognised_with_or_without_extension() -> None:
    assert all(is_reserved_device_name(name) for name in ("nul", "AUX.txt", "com3.a.b", "CONIN$", "prn "))
    assert not any(is_reserved_device_name(name) for name in ("COM0", "LPT10", "nullable", "auxiliary.txt"))


def test_only_one_plain_name_is_accepted_as_a_file_name() -> None:
    check_plain_name("a.png")
    for name in ("", ".", "..", "a/b", "../x", "a\\b", "x\0y", "x" * 300):
        with pytest.raises(ExportError):
            check_plain_name(name)


def test_pattern_fills_columns_specials_and_format_specs() -> None:
    pattern = parse_name_pattern("{Zoom}-{n:04d}-{blob}-{missing}{ext}")
    assert pattern.fields == ("Zoom", "n", "blob", "missing", "ext")
    name = pattern.render({"zoom": 3.0, "n": 7, "blob": b"\x89PNG", "missing": None, "ext": ".png"})
    assert name == "3-0007-89504e47-NULL.png"


@pytest.mark.parametrize("pattern", ["{", "}", "{a!r}", "{}", "{n:>999999999}", "{n:zz}"])
def test_malformed_patterns_are_user_errors(pattern: str) -> None:
    with pytest.raises(UserError):
        parse_name_pattern(pattern)


def test_pattern_naming_an_unknown_column_is_a_user_error() -> None:
    pattern = parse_name_pattern("{tile_id}{ext}")
    pattern.check_fields(["TILE_ID"])
    with pytest.raises(UserError, match="tile_id"):
        pattern.check_fields(["zoom"])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHARACTER, max_size=400))
def test_any_sanitised_name_is_one_safe_component(raw: str) -> None:
    name = sanitize_file_name(raw)
    assert name not in {"", ".", ".."}
    assert not any(sep in name for sep in ("/", "\\", "\0"))
    assert not name.startswith(".") and not name.endswith((".", " "))
    assert not is_reserved_device_name(name)
    assert len(name.encode("utf-8")) <= LIMITS.blob_file_name_max_bytes
    assert all(ord(ch) >= 0x20 and not 0xD800 <= ord(ch) <= 0xDFFF for ch in name)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_. ()+-]{1,210}", fullmatch=True))
def test_fast_path_for_plain_names_agrees_with_full_sanitising(raw: str) -> None:
    assert sanitize_file_name(raw) == _sanitize(raw, "blob", LIMITS.blob_file_name_max_bytes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.text(alphabet=ANY_CHARACTER, max_size=30), st.sampled_from(["{v}", "{n}", "{ext}"]))
    ),
    st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=40), st.text(alphabet=ANY_CHARACTER)),
)
def test_rendered_pattern_for_any_value_stays_inside_the_folder(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], value: object
) -> None:
    template = "".join(pieces).replace("{", "{{").replace("}", "}}")
    for field in ("v", "n", "ext"):
        template = template.replace("{{" + field + "}}", "{" + field + "}")
    pattern = parse_name_pattern(template)
    raw = pattern.render({"v": value, "n": 1, "ext": ".png"})
    name = sanitize_file_name(raw)
    check_plain_name(name)  # what every export checks before it writes a name
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as folder:
        root = Path(folder).resolve()
        path = root / name
        assert path.parent == root
        assert os.path.commonpath([root, path]) == str(root)
