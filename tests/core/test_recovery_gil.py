"""A scan's whole-result steps in small steps: the same order as a stable sort, containers emptied."""

from __future__ import annotations

from desktop_app.core.recovery.gil import in_page_order, release
from desktop_app.core.recovery.model import RecoveredRecord, Source


def _record(page: int, offset: int, n: int) -> RecoveredRecord:
    return RecoveredRecord("t", ("n",), (n,), n, Source.FREEBLOCK, page, offset, 0.9)


def test_records_come_in_page_then_offset_order_and_equal_places_keep_their_order() -> None:
    places = [(7, 300), (2, 65535), (2, 8), (7, 300), (1, 4000), (2**30, 0), (2, 9)]
    records = [_record(page, offset, n) for n, (page, offset) in enumerate(places)]
    assert in_page_order(records) == sorted(records, key=lambda r: (r.page, r.offset))
    assert [r.values[0] for r in in_page_order(records) if r.page == 7] == [0, 3]
    assert in_page_order([]) == []


def test_release_empties_nested_containers_and_leaves_their_items_alive() -> None:
    kept = _record(1, 100, 1)
    inner = {("a", 1): [1, 2], ("b", 2): [kept]}
    big = list(range(10_000))
    outer = {1: {(0, 1): inner}, 2: big}
    release(outer)
    assert outer == {} and inner == {} and big == []
    assert kept.values == (1,)
