"""Search anything anywhere in a snapshot: every text value of every table, streamed as it is found.

    events = search(conn, SearchOptions("AC/DC"), cancel=token)   # SearchStarted, HitBatch…, TableDone…,
    for event in events: ...                                       # SearchFinished
    index = SearchIndex.build(conn, generation=snapshot.generation)  # then search(..., index=index)

Scans pre-filter in SQL (GLOB / LIKE / instr / a private `_search_match` function), use existing FTS tables
where their answer is a superset, or answer from the instant trigram index; Python checks every
candidate and makes the snippet. See `matching`, `fts` and `index` for the details.
"""

from desktop_app.core.search.engine import MoreHits, collect, more_hits, search
from desktop_app.core.search.index import (
    MIN_INDEX_CHARS,
    IndexEstimate,
    IndexLocation,
    IndexTooLarge,
    IndexUnavailable,
    SearchIndex,
    auto_index_wanted,
    estimate_index,
    format_duration,
    format_size,
    trigram_support,
)
from desktop_app.core.search.matching import Matcher
from desktop_app.core.search.options import SearchOptions
from desktop_app.core.search.results import (
    Hit,
    HitBatch,
    Method,
    RowKey,
    SearchEvent,
    SearchFinished,
    SearchResult,
    SearchStarted,
    TableDone,
)

__all__ = [
    "MIN_INDEX_CHARS",
    "Hit",
    "HitBatch",
    "IndexEstimate",
    "IndexLocation",
    "IndexTooLarge",
    "IndexUnavailable",
    "Matcher",
    "Method",
    "MoreHits",
    "RowKey",
    "SearchEvent",
    "SearchFinished",
    "SearchIndex",
    "SearchOptions",
    "SearchResult",
    "SearchStarted",
    "TableDone",
    "auto_index_wanted",
    "collect",
    "estimate_index",
    "format_duration",
    "format_size",
    "more_hits",
    "search",
    "trigram_support",
]
