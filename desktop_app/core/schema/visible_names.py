"""Names (tables, columns, indexes) as shown on screen: nothing in a name may hide or disguise it.

A forensic user must see `\u202etxt.exe` for what it is, not as `exe.txt` rendered backwards, and a name
that is empty or only spaces must still be visible. Copying a name still gives the real one.
"""

from __future__ import annotations

import functools
import unicodedata

#: Bidi embeddings, overrides and isolates: they reorder the text after them ("\u202etxt.exe").
BIDI_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Those plus the left-to-right and right-to-left marks: every bidi control a name can hide.
BIDI_CONTROLS = BIDI_REORDERING | frozenset("\u200e\u200f")
#: Characters that reorder or hide text: the bidi controls and the Arabic letter mark, zero-width spaces
#: and joiners other than the emoji joiner, the word joiner, the BOM, and the soft hyphen.
_INVISIBLE = BIDI_CONTROLS | frozenset("\u061c\u200b\u200c\u2060\ufeff\u00ad")


@functools.lru_cache(maxsize=4096)  # grid headers ask for every name on each paint
def visible_name(name: str) -> str:
    """`name` with control and invisible characters spelled out (`⟨U+202E⟩`), quoted when blank."""
    if not name.strip():
        return '"' + name + '"'
    return spelled_out(name)


def spelled_out(text: str) -> str:
    """`text` with control and invisible characters spelled out (`⟨U+000A⟩`): safe to print to a terminal.

    Unlike `visible_name`, blank text stays as it is (for values rather than names).
    """
    if text.isprintable() and not _INVISIBLE.intersection(text):
        return text
    return "".join(_spelled(char) for char in text)


def _spelled(char: str) -> str:
    if char in _INVISIBLE or (unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\u200d"):
        return f"⟨U+{ord(char):04X}⟩"
    return char
