"""Numbers at their shortest exact form, in full precision, with thousands separators; bad text escaped."""

from __future__ import annotations

import pytest

from desktop_app.core.values.numbers import format_number
from desktop_app.core.values.text import is_valid_utf8, readable_text


def test_a_real_that_round_trips_short_is_shown_short() -> None:
    assert format_number(482992.2) == "482992.2"
    assert float(format_number(482992.2)) == 482992.2


def test_a_real_that_is_really_the_long_double_keeps_its_digits() -> None:
    value = 482992.2000000001
    assert value != 482992.2
    assert format_number(value) == "482992.2000000001"
    assert float(format_number(value)) == value


def test_full_precision_shows_17_significant_digits() -> None:
    assert format_number(0.1, full_precision=True) == "0.10000000000000001"
    assert format_number(482992.2, full_precision=True) == "482992.20000000001"
    assert format_number(3.0, full_precision=True) == "3.0"


def test_thousands_separators_group_the_whole_part_only() -> None:
    assert format_number(1234567, thousands=True) == "1,234,567"
    assert format_number(-1234567.25, thousands=True) == "-1,234,567.25"
    assert format_number(-9223372036854775808, thousands=True) == "-9,223,372,036,854,775,808"
    assert format_number(1e22, thousands=True) == "1e+22"  # exponent form is left alone


def test_non_finite_and_non_numbers() -> None:
    assert [format_number(v) for v in (float("inf"), float("-inf"), float("nan"))] == [
        "Infinity",
        "-Infinity",
        "NaN",
    ]
    with pytest.raises(TypeError):
        format_number("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_number(True)


def test_invalid_utf8_is_shown_with_escapes_never_hidden() -> None:
    assert readable_text(b"caf\xc3\xa9 \xff\xfe!") == "café \\xff\\xfe!"
    assert readable_text(b"\xc3(") == "\\xc3("
    assert not is_valid_utf8(b"\xc3(") and is_valid_utf8("é".encode())
