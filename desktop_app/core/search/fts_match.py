"""The MATCH query that lets an existing FTS3/4/5 table find (a superset of) a search's hits.

A full-text index matches tokens, not substrings, so it is used only where its answer is a superset of
the real hits, which Python then checks one by one:
- a whole-word search with a built-in word tokenizer (unicode61, ascii, porter, simple), unless the
  tokenizer was told other token characters (`tokenchars`, `separators`, `categories`);
- any non-regex search of 3+ characters on an FTS5 `trigram` table (case-insensitive tables only
  answer case-insensitive searches).
The user's text is always one quoted phrase, so FTS syntax in it (`"`, `*`, `NEAR`, `-`, `:`, `^`,
`AND`/`OR`/`NOT`) is literal: FTS5 doubles `"`; FTS3/4 has no escape inside a phrase, so ASCII
punctuation becomes a space (every built-in tokenizer separates on it anyway).
"""

from __future__ import annotations

import re

from desktop_app.core.schema.fts import FtsInfo
from desktop_app.core.search.options import SearchOptions

_WORD_TOKENIZERS = frozenset({"unicode61", "ascii", "porter", "simple"})
_ASCII_FOLD_ONLY = frozenset({"ascii", "simple"})
_RETOKENIZING_OPTIONS = ("tokenchars", "separators", "categories")
_ASCII_PUNCTUATION = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")


def match_query(info: FtsInfo, options: SearchOptions) -> str | None:
    """The MATCH string whose rows include every hit of `options` in this FTS table, or None if none does."""
    text = options.text
    if options.regex or info.contentless:
        return None
    name = info.tokenizer[0]
    if name == "trigram":
        folds_case = not _has_option(info.tokenizer, "case_sensitive", "1")
        if info.module != "fts5" or len(text) < 3 or not (folds_case or options.case_sensitive):
            return None
        return fts5_phrase(text)
    if not options.whole_word or name not in _WORD_TOKENIZERS:
        return None
    if any(word.startswith(_RETOKENIZING_OPTIONS) for word in info.tokenizer):
        return None
    if not (text[0].isalnum() and text[-1].isalnum()):
        return None  # a tokenizer would drop the edges; the phrase would not be a superset
    base = info.tokenizer[1] if name == "porter" and len(info.tokenizer) > 1 else name
    if base in _ASCII_FOLD_ONLY and not options.case_sensitive and not text.isascii():
        return None
    return fts5_phrase(text) if info.module == "fts5" else fts3_phrase(text)


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string: every character literal."""
    return '"' + text.replace('"', '""') + '"'


def fts3_phrase(text: str) -> str:
    """`text` as one FTS3/4 phrase (no escape exists there, so ASCII punctuation becomes a space)."""
    return '"' + " ".join(_ASCII_PUNCTUATION.sub(" ", text).split()) + '"'


def _has_option(words: tuple[str, ...], key: str, value: str) -> bool:
    for index, word in enumerate(words):
        if word == f"{key}={value}" or (word == key and index + 1 < len(words) and words[index + 1] == value):
            return True
    return False
