"""What to search for and where: the options of one search."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.limits import LIMITS

#: Storage classes (SQLite `typeof()` values) a search can look at.
TEXT = "text"
INTEGER = "integer"
REAL = "real"
BLOB = "blob"


@dataclass(frozen=True)
class SearchOptions:
    """One search: the text, how to match it, which values to look at, and where.

    Case-insensitive matching folds Unicode case (`re.IGNORECASE`); for a needle that is all ASCII it
    folds ASCII letters only, exactly as SQLite's LIKE does, so scanning, full-text tables and the index
    agree. `regex` uses RE2 syntax (core/regexes.py). `whole_word` means not touching a letter, digit or `_`.
    """

    text: str
    case_sensitive: bool = False
    whole_word: bool = False
    regex: bool = False
    #: Match blob bytes decoded as text (in the database's text encoding).
    include_blobs: bool = False
    #: Match integers and reals by their SQL text form (e.g. 3.0 → "3.0").
    include_numbers: bool = False
    include_views: bool = False
    #: Scope: whole tables to search (empty, and no `columns`, means every table).
    tables: tuple[str, ...] = ()
    #: Scope: single (table, column) pairs to search, in addition to `tables`.
    columns: tuple[tuple[str, str], ...] = ()
    #: Hits (row × column) per table before that table stops; None for no limit.
    limit_per_table: int | None = LIMITS.search_hits_per_table
    #: Hits in all before the search stops; None for no limit.
    limit: int | None = LIMITS.search_hits_total
    #: Answer from existing FTS3/4/5 tables where they can (set False to always scan).
    use_fts: bool = True

    @property
    def value_types(self) -> frozenset[str]:
        """The storage classes this search matches."""
        types = {TEXT}
        if self.include_numbers:
            types |= {INTEGER, REAL}
        if self.include_blobs:
            types.add(BLOB)
        return frozenset(types)

    @property
    def scoped(self) -> bool:
        """True when the search is limited to chosen tables or columns."""
        return bool(self.tables or self.columns)
