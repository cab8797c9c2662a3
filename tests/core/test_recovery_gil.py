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
    inner = {("a", 1): [1, 2], ("b", 2): [kept]}  # small: freed at once
    small = list(range(10_000))
    big = list(range(20_000))  # freed a slice at a time, as are the big tables of lists below
    many_lists = {(n,): [n, n + 1] for n in range(20_000)}
    long_lists = {n: list(range(3_000)) for n in range(10)}
    nested = [[kept], [[1, 2]], small]
    outer = {1: {(0, 1): inner}, 2: big, 3: small, 4: many_lists, 5: long_lists, 6: nested}
    release(outer)
    assert outer == {} and inner == {} and small == [] and big == [] and many_lists == {}
    assert long_lists == {} and nested == []
    assert kept.values == (1,)
