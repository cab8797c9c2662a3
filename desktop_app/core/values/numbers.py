"""Numbers at their shortest exact form, or in full, with or without thousands separators."""

from __future__ import annotations

import math

#: Significant digits that pin any double exactly (what "full precision" shows).
FULL_PRECISION_DIGITS = 17


def format_number(value: int | float, *, full_precision: bool = False, thousands: bool = False) -> str:
    """`value` as text: a REAL at its shortest round-trip form (`482992.2`), or with 17 significant digits.

    The shortest form is exact: parsing it gives the same double back, so `482992.2000000001` stays when
    the value really is that double. Integers are always exact; `thousands` groups digits with commas.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return f"{value:,}" if thousands else str(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = f"{value:.{FULL_PRECISION_DIGITS}g}" if full_precision else repr(value)
    if "e" in text or "E" in text:
        return text
    if full_precision and "." not in text:
        text += ".0"
    return _grouped(text) if thousands else text


def _grouped(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"
