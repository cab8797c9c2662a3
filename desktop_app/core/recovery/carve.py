"""Rebuild records from cell remnants in free space, against candidate table shapes.

Two ways in: a cell whose start is intact (free pages, cells moved into the unallocated gap, later cells
of a merged freeblock) is parsed as it stands; a cell at the start of a freeblock lost its first four
bytes to the freeblock's own header (payload length, rowid, header length, and maybe a serial type), so
every plausible layout is tried against each shape and the lost parts are marked `LOST`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from desktop_app.core.pagefile.btree import Page, local_size, max_local, read_overflow, signed64, varint
from desktop_app.core.recovery.record import (
    LOST,
    SMALL_SERIAL_KINDS,
    SMALL_SERIAL_SIZES,
    serial_size,
    types_size,
)
from desktop_app.core.recovery.shapes import Affinity, Shape

#: Lowest confidence a carved record must reach to be reported. Below it lie (at 0.545) cells read from a
#: stale freeblock header in a gap, their lost serial types guessed, not filling the block, with a
#: column's type a loose fit: numbers carved from old bytes in the demo's and the corpus's gaps, none of
#: them a row of the generated cases (their recall and precision are the same at 0.5).
MIN_CONFIDENCE = 0.55
#: Characters text rarely holds: control characters (but tab and line ends), DEL, the specials block.
_NOT_TEXT = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufff0-\uffff]")
#: A carved cell this confident, filling its freeblock exactly, ends the search for other layouts.
_SURE = 0.8
#: Most columns a record of no known table may have (a longer header is taken for noise).
_UNKNOWN_COLUMNS_MAX = 64
_PARSE_ERRORS = (ValueError, IndexError, UnicodeDecodeError, OverflowError)


@dataclass(slots=True)  # not frozen: one is made per page carved, and a frozen one is slow to make
class Region:
    """Where carving happens: one page's bytes and what is known about them."""

    page: Page
    number: int
    usable_size: int
    encoding: str
    #: True when the cells are table-leaf cells (payload length, rowid, record).
    table_leaf: bool
    #: The bytes of a page that is free to read as an overflow page, or None (live, missing).
    free_page: Callable[[int], Page | None]


@dataclass(slots=True)  # not frozen: a frozen class's __init__ sets each field by object.__setattr__
class Carved:
    """A record rebuilt from a cell: values in record order (`LOST` where overwritten)."""

    shape: Shape | None
    values: tuple[object, ...]
    rowid: object
    offset: int
    length: int
    confidence: float
    overflow_pages: tuple[int, ...] = ()

    @property
    def lost(self) -> int:
        """How many values (and the rowid, where it mattered) were lost."""
        return sum(1 for v in self.values if v is LOST)


_DOUBLE = struct.Struct(">d")


def _decode_all(
    payload: bytes, start: int, serials: Sequence[int], encoding: str
) -> tuple[list[object], bool] | None:
    """Values of `serials` from `payload[start:]`: LOST past its end; None when one cannot be a value."""
    # Only a reader made already (for a plan or layout): guessed types are too many to make one each.
    decoder = _DECODERS.get((serials if serials.__class__ is tuple else tuple(serials), encoding))
    if decoder is not None and start + decoder[1] <= len(payload):  # every value there: one step
        try:
            return decoder[0](payload[start : start + decoder[1]]), True
        except UnicodeDecodeError:
            return None
    values: list[object] = []
    append = values.append
    at = start
    total = len(payload)
    for serial in serials:
        size = SMALL_SERIAL_SIZES[serial] if serial < 12 else (serial - 12) >> 1
        if size < 0:
            raise ValueError("reserved serial type")
        if at + size > total:
            append(LOST)
        elif serial >= 12:
            if serial & 1:
                try:
                    append(payload[at : at + size].decode(encoding))
                except UnicodeDecodeError:
                    return None
            else:
                append(bytes(payload[at : at + size]))
        elif serial == 0:
            append(None)
        elif serial <= 6:
            append(int.from_bytes(payload[at : at + size], "big", signed=True))
        elif serial == 7:
            append(_DOUBLE.unpack_from(payload, at)[0])
        else:
            append(serial - 8)
        at += size
    return values, at <= total


def _text_score(value: object) -> float:
    """Printable text scores 1; text full of control characters is probably not text at all."""
    if not isinstance(value, str) or not value:
        return 1.0
    if "\x00" in value:  # text with a NUL byte is nearly always a misread length
        return 0.2
    if _NOT_TEXT.search(value) is None:
        return 1.0
    bad = len(_NOT_TEXT.findall(value))
    return max(0.0, 1.0 - 4.0 * bad / len(value))


def _real_affinity(shape: Shape | None, serials: Sequence[int], values: list[object]) -> list[object]:
    """REAL columns store integral values as integers on disk; they read back as floats."""
    if shape is None:
        return values
    for position, serial in enumerate(serials):
        value = values[position]
        if (
            (1 <= serial <= 6 or serial in (8, 9))
            and shape.affinities[position] is Affinity.REAL
            and isinstance(value, int)
        ):
            values[position] = float(value)
    return values


def _match(shape: Shape, serials: Sequence[int], values: Sequence[object]) -> float:
    """How well a record fits a shape (0: it cannot be one of its records)."""
    if len(serials) != len(shape.columns):
        return 0.0
    key = (id(shape), serials if serials.__class__ is tuple else tuple(serials))
    held = _CLEAN_SCORES.get(key)
    if held is None or held[0] is not shape:
        if len(_CLEAN_SCORES) > _PLANS_MAX:
            _CLEAN_SCORES.clear()
        texts = tuple(i for i, s in enumerate(serials) if s >= 12 and s & 1)
        held = _CLEAN_SCORES[key] = (shape, _match_values(shape, serials, _stand_ins(serials)), texts)
    for i in held[2]:
        value = values[i]
        if value.__class__ is not str or _UNCLEAN_TEXT.search(value):  # type: ignore[arg-type]
            return _match_values(shape, serials, values)
    if LOST in values:
        return _match_values(shape, serials, values)
    return held[1]


#: Per shape (by id, the shape kept alive with it) and record types: the record's score when every text
#: value is printable (its text score 1), and where the text values are.
_CLEAN_SCORES: dict[tuple[int, tuple[int, ...]], tuple[Shape, float, tuple[int, ...]]] = {}


def _stand_ins(serials: Sequence[int]) -> list[object]:
    """Values that score as any record of these types whose texts are printable: the values themselves
    play no other part in `_match_values` (a placeholder of the right kind stands for each)."""
    return [None if s == 0 else ("" if s >= 12 and s & 1 else 0) for s in serials]


def _match_values(shape: Shape, serials: Sequence[int], values: Sequence[object]) -> float:
    fits = _fits(shape)
    score = shape.prior
    informative = False
    for position, serial in enumerate(serials):
        fit = fits[position][
            SMALL_SERIAL_KINDS[serial] if serial < 12 else ("text" if serial & 1 else "blob")
        ]
        if fit == 0.0:
            return 0.0
        score *= fit
        value = values[position]
        if value is not None and value is not LOST:
            informative = True
            if value.__class__ is str:
                score *= _text_score(value)
    return score if informative else 0.0


_KIND_NAMES = ("null", "integer", "real", "text", "blob")
#: Per shape (by id, the shape kept alive with it): per record position, the fit of each storage class.
_FITS: dict[int, tuple[Shape, tuple[dict[str, float], ...]]] = {}


def _fits(shape: Shape) -> tuple[dict[str, float], ...]:
    held = _FITS.get(id(shape))
    if held is not None and held[0] is shape:
        return held[1]
    if len(_FITS) > 4096:
        _FITS.clear()
    table = tuple({k: shape.fit(p, k) for k in _KIND_NAMES} for p in range(len(shape.columns)))
    _FITS[id(shape)] = (shape, table)
    return table


def _best(
    shapes: Sequence[Shape], serials: Sequence[int], values: Sequence[object]
) -> tuple[Shape | None, float]:
    best: Shape | None = None
    best_score = 0.0
    runner_up = 0.0
    for shape in shapes:
        score = _match(shape, serials, values)
        if score > best_score:
            best, best_score, runner_up = shape, score, best_score
        elif score > runner_up:
            runner_up = score
    if best is not None and runner_up >= best_score and not best.is_index:
        best_score *= 0.9  # two tables could have held it: the likely table is a guess
    return best, best_score


def _payload(region: Region, start: int, end: int, payload_len: int) -> tuple[bytes, int, tuple[int, ...]]:
    """The payload bytes that survive (local part within the region, then free overflow pages),
    the cell's length on the page, and the overflow pages read."""
    local = local_size(payload_len, region.usable_size, region.table_leaf)
    cell_end = start + local + (4 if local < payload_len else 0)
    data = bytes(region.page[start : min(start + local, end)])
    pages: tuple[int, ...] = ()
    if local < payload_len and cell_end <= end and len(data) == local:
        first = int.from_bytes(region.page[start + local : cell_end], "big")
        more, read = read_overflow(first, payload_len - local, region.usable_size, region.free_page)
        data += more
        pages = tuple(read)
    return data, cell_end, pages


def intact_cell(
    region: Region,
    pos: int,
    end: int,
    shapes: Sequence[Shape],
    *,
    unknown: bool = False,
    keep_index: bool = True,
) -> Carved | None:
    """The record of a cell starting at `pos` with its header intact, or None.

    Its values may run past `end` (overwritten by a later cell): those are LOST. With `unknown`, a
    self-consistent record that fits no shape comes back with shape None. Without `keep_index`, None
    also for a cell whose types alone make it an index's record (its values are not read).
    """
    try:
        return _intact(region, pos, end, _context(shapes, region, unknown), keep_index)
    except _PARSE_ERRORS:
        return None


def intact_cells(
    region: Region,
    pointers: Sequence[int],
    end: int,
    shapes: Sequence[Shape],
    *,
    unknown: bool = False,
    keep_index: bool = True,
) -> list[Carved]:
    """The records `intact_cell` finds at each of `pointers`, in their order (the cells of a page)."""
    context = _context(shapes, region, unknown)
    found: list[Carved] = []
    for pointer in pointers:
        try:
            carved = _intact(region, pointer, end, context, keep_index)
        except _PARSE_ERRORS:
            continue
        if carved is not None:
            found.append(carved)
    return found


def _most_columns(shapes: Sequence[Shape], unknown: bool) -> int:
    most = max((len(s.columns) for s in shapes), default=0)
    return max(most, _UNKNOWN_COLUMNS_MAX) if unknown else most


#: Characters that make `_text_score` less than 1 (those of `_NOT_TEXT`, and NUL).
_UNCLEAN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufff0-\uffff]")
#: Plans kept per context before they are dropped (a noisy region can make many header shapes).
_PLANS_MAX = 4096
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(slots=True)
class _Plan:
    """What one record header (its serial-type bytes) decides before the values are read, for cells
    whose payload lies whole on the page: the types, how to decode the body in one step, and the best
    shape with its confidence for when every text value is printable (a text score of 1)."""

    serials: tuple[int, ...]
    #: Body bytes the types take (the payload less the header).
    body: int
    #: Positions of text values (their score is checked per record).
    texts: tuple[int, ...]
    shape: Shape | None
    #: False when the record cannot be reported whatever its text (no shape fits, too low confidence).
    keep: bool
    confidence: float
    #: Positions that read as floats (integers stored in REAL columns), and the rowid alias to fill in.
    floats: tuple[int, ...]
    alias: int | None
    #: True when a whole cell of the plan is an index's record whatever its values (no text to score).
    index_only: bool
    #: Reads the values from the body in one step: made when a cell of the plan is first read (most
    #: headers met while trying offsets never get that far).
    decode: Callable[[bytes], list[object]] | None = None


@dataclass(slots=True)
class _Context:
    """The candidate shapes of one kind of region and the plans of the record headers met in it."""

    shapes: tuple[Shape, ...]
    candidates: list[Shape]
    unknown: bool
    most: int
    table_leaf: bool
    encoding: str
    max_local: int
    #: Per header's serial-type bytes: its plan, or None when no record can have that header.
    plans: dict[bytes, _Plan | None]
    #: For a freeblock's first cell: the current layouts and the older ones (ALTER TABLE ADD COLUMN) that
    #: fit this kind of b-tree, each with the longest header length byte they allow.
    clobbered: tuple[tuple[list[Shape], int], tuple[list[Shape], int]] | None = None


_CONTEXTS: dict[tuple[object, ...], _Context] = {}


def _context(shapes: Sequence[Shape], region: Region, unknown: bool) -> _Context:
    """The context for carving `region` against `shapes` (shared by calls with the same shapes)."""
    key = (*map(id, shapes), region.table_leaf, unknown, region.encoding, region.usable_size)
    held = _CONTEXTS.get(key)
    if held is not None:
        return held  # it holds its shapes: their ids cannot have been reused
    if len(_CONTEXTS) > 256:
        _CONTEXTS.clear()
    held = _CONTEXTS[key] = _Context(
        tuple(shapes),
        [s for s in shapes if s.index_btree != region.table_leaf],
        unknown,
        _most_columns(shapes, unknown),
        region.table_leaf,
        region.encoding,
        max_local(region.usable_size, region.table_leaf),
        {},
    )
    return held


def _plan(context: _Context, types: bytes) -> _Plan | None:
    plans = context.plans
    if types in plans:
        return plans[types]
    return _remember(plans, types, _make_plan(context, types))


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
    """`value` kept in `cache` under `key` (the cache emptied first once it holds `_PLANS_MAX`)."""
    if len(cache) > _PLANS_MAX:
        cache.clear()
    cache[key] = value
    return value


def _make_plan(context: _Context, types: bytes) -> _Plan | None:
    serials = _parse_types(types, context.most)
    if serials is None:
        return None
    # What `_best` and `_finish` make of a record of these types whose texts score 1.
    shape, score = _best(context.candidates, serials, _stand_ins(serials))
    keep = True
    if shape is None:
        keep = context.unknown and len(serials) >= 2 and any(s != 0 for s in serials)
        score = 0.7
    confidence = round(0.99 * score * (1.0 - 0.3 * 0.0), 3)
    floats: tuple[int, ...] = ()
    alias = None
    if shape is not None:
        floats = tuple(
            i
            for i, s in enumerate(serials)
            if (1 <= s <= 6 or s in (8, 9)) and shape.affinities[i] is Affinity.REAL
        )
        if shape.alias is not None and serials[shape.alias] == 0:
            alias = shape.alias
    return _Plan(
        serials,
        types_size(serials),
        tuple(i for i, s in enumerate(serials) if s >= 12 and s & 1),
        shape,
        keep and confidence >= MIN_CONFIDENCE,
        confidence,
        floats,
        alias,
        shape is not None and shape.is_index and not any(s >= 12 and s & 1 for s in serials),
    )


def _parse_types(types: bytes, most: int) -> tuple[int, ...] | None:
    """The serial types a record header's type bytes hold (at most `most`), or None when they cannot
    be a record's (a reserved type, too many, the last one running past the header)."""
    if types.isascii():  # every byte below 0x80, the usual header: one byte a type, looked at in C
        if len(types) > most or 10 in types or 11 in types:
            return None
        return tuple(types)
    return _types_one_by_one(types, most)


def _types_one_by_one(types: bytes, most: int) -> tuple[int, ...] | None:
    """`_parse_types` for any header: each serial type read as a varint."""
    serials: list[int] = []
    at = 0
    while at < len(types):
        try:
            serial, at = varint(types, at, len(types))
        except ValueError:
            return None
        if serial in (10, 11) or len(serials) == most:
            return None
        serials.append(serial)
    return tuple(serials)


@dataclass(slots=True)
class _Layout:
    """A shape's records of given serial types (a freeblock's cell whose types all survived): what the
    types decide before the values are read."""

    serials: tuple[int, ...]
    body: int
    texts: tuple[int, ...]
    #: `_match`'s score when every text value is printable.
    score: float
    #: Positions that read as floats (integers stored in REAL columns).
    floats: tuple[int, ...]
    #: Reads the values from the body in one step, made when a cell of the layout is first read.
    decode: Callable[[bytes], list[object]] | None = None


#: Per shape (by id, the shape kept alive with it) and encoding: its records' layouts by their header's
#: type bytes (None: no record of the shape has those types).
_LAYOUTS: dict[tuple[int, str], tuple[Shape, dict[bytes, _Layout | None]]] = {}


def _layout(shape: Shape, types: bytes, encoding: str) -> _Layout | None:
    """The layout of a record of `shape` whose header's type bytes are `types` (one type per column)."""
    held = _LAYOUTS.get((id(shape), encoding))
    if held is None or held[0] is not shape:
        if len(_LAYOUTS) > 4096:
            _LAYOUTS.clear()
        held = _LAYOUTS[id(shape), encoding] = (shape, {})
    known = held[1]
    if types in known:
        return known[types]
    return _remember(known, types, _make_layout(shape, types, encoding))


def _make_layout(shape: Shape, types: bytes, encoding: str) -> _Layout | None:
    serials = _parse_types(types, len(shape.columns))
    if serials is None or len(serials) != len(shape.columns):
        return None
    return _Layout(
        serials,
        types_size(serials),
        tuple(i for i, s in enumerate(serials) if s >= 12 and s & 1),
        _match(shape, serials, _stand_ins(serials)),
        tuple(
            i
            for i, s in enumerate(serials)
            if (1 <= s <= 6 or s in (8, 9)) and shape.affinities[i] is Affinity.REAL
        ),
    )


def _reader_of(plan: _Plan | _Layout, encoding: str) -> Callable[[bytes], list[object]]:
    """The one-step reader of `plan`'s values, made once (its types are never the reserved ones)."""
    made = _decoder(plan.serials, encoding)
    if made is None:
        raise ValueError(f"no reader for {plan.serials} in {encoding}")
    plan.decode = made[0]
    return made[0]


def _body_values(
    plan: _Plan | _Layout, page: Page, start: int, end: int, encoding: str
) -> list[object] | None:
    """The values of a whole cell's body `page[start:end]`, read in one step; None when one of its texts
    is not in `encoding`."""
    decode = plan.decode or _reader_of(plan, encoding)
    try:
        return decode(bytes(page[start:end]))
    except UnicodeDecodeError:
        return None


_CODECS = frozenset({"utf-8", "utf-16-le", "utf-16-be"})
_DECODERS: dict[tuple[tuple[int, ...], str], tuple[Callable[[bytes], list[object]], int] | None] = {}


def _decoder(serials: tuple[int, ...], encoding: str) -> tuple[Callable[[bytes], list[object]], int] | None:
    """A function reading the values of `serials` from a record body (the payload from the header's
    end) in one expression, as `_decode_all` reads them, and the body's length; None for reserved
    types or an unknown encoding."""
    key = (serials, encoding)
    if key in _DECODERS:
        return _DECODERS[key]
    return _remember(_DECODERS, key, _make_decoder(serials, encoding))


def _make_decoder(
    serials: tuple[int, ...], encoding: str
) -> tuple[Callable[[bytes], list[object]], int] | None:
    if encoding not in _CODECS or any(s in (10, 11) for s in serials):
        return None
    offsets = [0]
    for serial in serials:
        offsets.append(offsets[-1] + serial_size(serial))
    # Integers of any size, texts and blobs of any length share one reader: where each value starts and
    # ends is its argument.
    kinds = tuple(1 if 1 <= s <= 6 else s if s < 12 else 12 + (s & 1) for s in serials)
    return partial(_reader(kinds, encoding), tuple(offsets)), offsets[-1]


_READERS: dict[tuple[tuple[int, ...], str], Callable[[tuple[int, ...], bytes], list[object]]] = {}


def _reader(kinds: tuple[int, ...], encoding: str) -> Callable[[tuple[int, ...], bytes], list[object]]:
    """A function of (value offsets, body) reading values of these kinds (serial types, with 1 for any
    integer, 12 for any blob and 13 for any text) in one expression, as `_decode_all` reads them."""
    key = (kinds, encoding)
    held = _READERS.get(key)
    if held is not None:
        return held
    parts: list[str] = []
    for i, kind in enumerate(kinds):
        if kind == 0:
            parts.append("None")
        elif kind in (8, 9):
            parts.append(str(kind - 8))
        elif kind == 7:
            parts.append(f"_double(d, o[{i}])[0]")
        elif kind < 12:
            parts.append(f"_int(d[o[{i}]:o[{i + 1}]], 'big', signed=True)")
        elif kind == 13:
            parts.append(f"d[o[{i}]:o[{i + 1}]].decode('{encoding}')")
        else:
            parts.append(f"d[o[{i}]:o[{i + 1}]]")
    # Built only from integers and a known codec name: nothing read from the page reaches the source.
    source = f"lambda o, d: [{', '.join(parts)}]"
    if len(_READERS) > _PLANS_MAX:
        _READERS.clear()
    held = _READERS[key] = eval(source, {"_double": _DOUBLE.unpack_from, "_int": int.from_bytes})
    return held


def _intact(region: Region, pos: int, end: int, context: _Context, keep_index: bool = True) -> Carved | None:
    page = region.page
    # One-byte varints (the usual payload and header lengths) read here, not through `varint`.
    if pos < end and page[pos] < 0x80:
        payload_len, at = page[pos], pos + 1
    else:
        payload_len, at = varint(page, pos, end)
    if payload_len < 2 or payload_len > 1 << 31:
        return None
    rowid: object = None
    if region.table_leaf:
        raw, at = varint(page, at, end)
        rowid = signed64(raw)
    header_start = at
    if at < end and page[at] < 0x80:
        header_len, at = page[at], at + 1
    else:
        header_len, at = varint(page, at, end)
    header_end = header_start + header_len
    if header_len < 2 or header_len > payload_len or header_end > end or header_len > 9 * context.most + 2:
        return None
    plan = _plan(context, bytes(page[at:header_end]))
    if plan is None or payload_len - header_len != plan.body:
        return None
    cell_end = header_start + payload_len
    if payload_len > context.max_local or cell_end > min(end, len(page)):  # overflow, or a tail lost
        data, cell_end, pages = _payload(region, header_start, end, payload_len)
        decoded = _decode_all(data, header_len, plan.serials, region.encoding)
        if decoded is None:
            return None
        return _finish(region, context, plan.serials, decoded[0], rowid, pos, cell_end, pages)
    if plan.index_only and not keep_index:
        return None
    values = _body_values(plan, page, header_end, cell_end, region.encoding)
    if values is None:
        return None
    for i in plan.texts:
        if _UNCLEAN_TEXT.search(values[i]):  # type: ignore[arg-type]
            return _finish(region, context, plan.serials, values, rowid, pos, cell_end, ())
    if not plan.keep:
        return None
    for i in plan.floats:
        values[i] = float(values[i])  # type: ignore[arg-type]
    if plan.alias is not None:
        values[plan.alias] = rowid
    return Carved(plan.shape, tuple(values), rowid, pos, max(1, cell_end - pos), plan.confidence)


def _finish(
    region: Region,
    context: _Context,
    serials: Sequence[int],
    values: list[object],
    rowid: object,
    pos: int,
    cell_end: int,
    pages: tuple[int, ...],
) -> Carved | None:
    """The record of a cell whose values are read: its best shape, its confidence."""
    shape, score = _best(context.candidates, serials, values)
    if shape is None:
        if not context.unknown or len(serials) < 2 or LOST in values:
            return None
        score = 0.7 * min(_text_score(v) for v in values)
        if all(v is None for v in values):
            return None
    values = _with_alias(shape, _real_affinity(shape, serials, values), rowid)
    lost_share = sum(1 for v in values if v is LOST) / max(1, len(values))
    confidence = round(0.99 * score * (1.0 - 0.3 * lost_share), 3)
    if confidence < MIN_CONFIDENCE:
        return None
    return Carved(shape, tuple(values), rowid, pos, max(1, cell_end - pos), confidence, pages)


def _with_alias(shape: Shape | None, values: list[object], rowid: object) -> list[object]:
    """The INTEGER PRIMARY KEY column holds the rowid (stored as NULL in the record)."""
    if shape is not None and shape.alias is not None and values[shape.alias] is None:
        values = list(values)
        values[shape.alias] = rowid
    return values


#: Serial types tried for a serial-type byte lost under a freeblock header, by affinity.
_INT_SERIALS = (1, 2, 3, 4, 5, 6)
#: Where a clobbered cell's header may start. Layouts whose header-length byte survives (it can be
#: checked) come first: a sure one ends the search.
_TABLE_OFFSETS = (4, *range(5, 13), 2, 3)
_INDEX_OFFSETS = (3, 1, 2)


def clobbered_cell(region: Region, start: int, end: int, shapes: Sequence[Shape]) -> Carved | None:
    """The record of the cell at a freeblock's start, whose first four bytes the freeblock overwrote."""
    context = _context(shapes, region, False)
    if context.clobbered is None:
        # Older layouts (records from before an ALTER TABLE ADD COLUMN) only where the current ones fail,
        # and whole: a shorter layout fits misread bytes more easily. Not in index b-trees (WITHOUT
        # ROWID), whose freeblock header takes the record's header length and first types: nothing
        # checks a shorter one.
        current = [s for s in shapes if not s.added]
        older_shapes = [s for s in shapes if s.added and not s.index_btree]
        context.clobbered = (_clobber_candidates(current, region), _clobber_candidates(older_shapes, region))
    (current, most), (older_shapes, older_most) = context.clobbered
    best = _clobbered_best(region, start, end, current, most)
    if best is None and older_shapes:
        older = _clobbered_best(region, start, end, older_shapes, older_most)
        if older is not None and older.shape is not None and _whole(older.shape, older.values):
            best = older
    return best


def _whole(shape: Shape, values: Sequence[object]) -> bool:
    """True when every stored value survived (the rowid-alias key aside: a freeblock header holds it)."""
    return all(v is not LOST for i, v in enumerate(values) if i != shape.alias)


def _clobber_candidates(shapes: Sequence[Shape], region: Region) -> tuple[list[Shape], int]:
    """The shapes whose records `region`'s b-tree kind holds, and the longest header they allow."""
    candidates = [s for s in shapes if s.index_btree != region.table_leaf]
    return candidates, 9 * max((len(s.columns) for s in candidates), default=0) + 1


def _clobbered_best(
    region: Region, start: int, end: int, candidates: Sequence[Shape], most: int
) -> Carved | None:
    best: Carved | None = None
    if not candidates:
        return None
    page = region.page
    room = end - start - 2
    for offset in _TABLE_OFFSETS if region.table_leaf else _INDEX_OFFSETS:
        if offset > room:
            continue
        header_start = start + offset
        if offset >= 4 and not 2 <= page[header_start] <= most:
            continue  # the header-length byte survives: it must be a plausible length
        # The rowid's surviving bytes end the varint: the last below 0x80, the ones before it above.
        if (
            region.table_leaf
            and offset >= 5
            and (
                page[header_start - 1] >= 0x80 or min(page[start + 4 : header_start - 1], default=0x80) < 0x80
            )
        ):
            continue
        for shape in candidates:
            try:
                carved = _clobbered(region, start, end, shape, offset)
            except _PARSE_ERRORS:
                continue
            if carved is not None and (best is None or carved.confidence > best.confidence):
                best = carved
        if best is not None and best.confidence >= _SURE and best.length == end - start:
            break  # a verified header filling the freeblock exactly: later layouts cannot do better
    return best


def _clobbered(region: Region, start: int, end: int, shape: Shape, offset: int) -> Carved | None:
    """Try the layout where the record header (its length byte) starts `offset` bytes into the cell."""
    page = region.page
    visible = start + 4
    header_start = start + offset
    lost_types = max(0, visible - (header_start + 1))
    count = len(shape.columns)
    if lost_types > count:
        return None
    verified = header_start >= visible
    if verified:  # every serial type survived: one layout to try
        header_len, at = varint(page, header_start, end)
        if not count < header_len <= 9 * count + 2:  # one to nine bytes per serial type, and its own
            return None
        header_end = header_start + header_len
        if header_end > len(page):
            return None
        layout = _layout(shape, bytes(page[at:header_end]), region.encoding)
        if layout is None:
            return None
        payload_len = header_len + layout.body
        cell_end = header_start + payload_len
        if cell_end <= min(end, len(page)) and payload_len <= max_local(
            region.usable_size, region.table_leaf
        ):
            # The cell lies whole in the freeblock: its values read in one step.
            if not _lengths_fit(region, start, offset, payload_len):
                return None
            values = _body_values(layout, page, header_end, cell_end, region.encoding)
            if values is None:
                return None
            if not any(_UNCLEAN_TEXT.search(values[i]) for i in layout.texts):  # type: ignore[arg-type]
                return _whole_carved(region, (start, end, cell_end), shape, layout, values)
        return _clobbered_values(
            region, start, end, shape, offset, header_len, layout.serials, (), verified, payload_len
        )
    header_len, at = -1, visible
    serials: list[int | None] = [None] * lost_types
    body_known = 0
    limit = header_start + header_len if verified else end
    while len(serials) < count:
        byte = page[at] if at < limit else 0x80
        if byte < 0x80:  # the usual one-byte serial type
            serial, at = byte, at + 1
        else:
            serial, at = varint(page, at, limit)
        if serial in (10, 11):
            return None
        serials.append(serial)
        body_known += SMALL_SERIAL_SIZES[serial] if serial < 12 else (serial - 12) >> 1
    if verified and at != header_start + header_len:
        return None
    if not verified:
        header_len = at - header_start  # lost serial types and the length byte are one byte each
        if header_len >= 128:
            return None
    space = end - start
    if not lost_types:  # every serial type survived: one layout to try
        return _clobbered_values(
            region, start, end, shape, offset, header_len, serials, [], verified, header_len + body_known
        )
    best: Carved | None = None
    inferred = list(range(lost_types))
    for guess in _guesses(shape, serials, space - offset - header_len - body_known):
        if any(g is None for g in guess):
            continue
        full = [int(g) for g in guess if g is not None]
        carved = _clobbered_values(region, start, end, shape, offset, header_len, full, inferred, verified)
        if carved is not None and (best is None or carved.confidence > best.confidence):
            best = carved
    return best


def _whole_carved(
    region: Region, cell: tuple[int, int, int], shape: Shape, layout: _Layout, values: list[object]
) -> Carved | None:
    """What `_clobbered_values` makes of a verified header's cell lying whole in its freeblock, read
    into `values` with every text printable; `cell`: its start, the freeblock's end, the cell's end."""
    start, end, cell_end = cell
    score = layout.score
    if score == 0.0:
        return None
    for i in layout.floats:
        values[i] = float(values[i])  # type: ignore[arg-type]
    rowid, lost_share = _key_lost(region, shape, values)
    exact = cell_end == end
    confidence = round(0.95 * score * (1.0 - 0.3 * lost_share) * (1.0 if exact else 0.95), 3)
    if confidence < MIN_CONFIDENCE:
        return None
    return Carved(shape, tuple(values), rowid, start, max(1, cell_end - start), confidence)


def _guesses(shape: Shape, serials: Sequence[int | None], spare: int) -> list[tuple[int | None, ...]]:
    """Serial types to try for the lost ones, each guess a full tuple aligned to `serials`.

    The key column's is NULL; a number column's any integer or real size; one text or blob column takes
    the size that makes the cell fill the freeblock exactly (the others' guesses decide how much).
    """
    lost = [i for i, s in enumerate(serials) if s is None]
    if not lost:
        return [tuple(serials)]
    fixed: list[list[int]] = []
    variable: list[bool] = []
    for position in lost:
        affinity = shape.affinities[position]
        choice = list(shape.hints[position]) if position < len(shape.hints) else []
        if position == shape.alias:
            choice = [0]
        elif affinity is not Affinity.TEXT:
            choice.extend((*_INT_SERIALS, 7))
        if position != shape.alias and not shape.not_null[position]:
            choice.append(0)
        fixed.append(choice)
        variable.append(
            position != shape.alias and affinity is not Affinity.INTEGER and affinity is not Affinity.REAL
        )
    guesses: list[tuple[int | None, ...]] = []
    for combo in _product(fixed):
        guesses.append(_place(serials, lost, combo))
    for v, position in enumerate(lost):  # one text/blob column fills what the others leave
        if not variable[v]:
            continue
        others = [opts for k, opts in enumerate(fixed) if k != v]
        for combo in _product(others):
            rest = spare - sum(serial_size(c) for c in combo)
            if rest < 0:
                continue
            kinds = (
                [2 * rest + 13]
                if shape.affinities[position] is Affinity.TEXT
                else [2 * rest + 13, 2 * rest + 12]
            )
            for serial in kinds:
                full = list(combo)
                full.insert(v, serial)
                guesses.append(_place(serials, lost, full))
    return guesses


def _product(options: list[list[int]]) -> list[list[int]]:
    combos: list[list[int]] = [[]]
    for choice in options:
        combos = [[*c, o] for c in combos for o in choice]
    return combos


def _place(serials: Sequence[int | None], lost: list[int], values: Sequence[int]) -> tuple[int | None, ...]:
    guess = list(serials)
    for position, value in zip(lost, values, strict=True):
        guess[position] = value
    return tuple(guess)


def _clobbered_values(
    region: Region,
    start: int,
    end: int,
    shape: Shape,
    offset: int,
    header_len: int,
    full: Sequence[int],
    inferred: Sequence[int],
    verified: bool,
    payload_len: int = -1,
) -> Carved | None:
    if payload_len < 0:
        payload_len = header_len + types_size(full)
    if not _lengths_fit(region, start, offset, payload_len):
        return None
    header_start = start + offset
    if header_start + header_len > end:
        return None
    data, cell_end, pages = _payload(region, header_start, end, payload_len)
    decoded = _decode_all(data, header_len, full, region.encoding)
    if decoded is None:
        return None
    values, _complete = decoded
    # A lost serial type of size 0 could have been NULL, 0 or 1: the value is lost unless it is the key.
    score = _match(shape, full, values)
    if score == 0.0:
        return None
    exact = cell_end == end
    values = _real_affinity(shape, full, values)
    for position in inferred:
        if position != shape.alias and serial_size(full[position]) == 0:
            values[position] = LOST
    rowid, lost_share = _key_lost(region, shape, values)
    base = 0.95 if verified else 0.85
    if inferred and not exact:
        base *= 0.75
    if cell_end > end:
        base *= 0.9  # its tail was overwritten by a later cell
    confidence = round(base * score * (1.0 - 0.3 * lost_share) * (1.0 if exact else 0.95), 3)
    if confidence < MIN_CONFIDENCE:
        return None
    return Carved(shape, tuple(values), rowid, start, max(1, min(cell_end, end) - start), confidence, pages)


def _lengths_fit(region: Region, start: int, offset: int, payload_len: int) -> bool:
    """True when the payload length's varint (and in a table, the rowid's surviving tail) fit the
    `offset` bytes before the record header of the cell at `start`."""
    if region.table_leaf:
        length_bytes = _varint_len(payload_len)
        if offset - length_bytes < 1:  # no room left for the rowid
            return False
        return _rowid_tail_ok(region.page, start, offset, length_bytes)
    return _varint_len(payload_len) == offset


def _key_lost(region: Region, shape: Shape, values: list[object]) -> tuple[object, float]:
    """A freeblock's first cell lost its rowid (and so the rowid alias's value): marks the alias lost;
    the rowid (LOST, None in an index b-tree) and the share of values lost."""
    if shape.alias is not None:
        values[shape.alias] = LOST
    return LOST if region.table_leaf else None, values.count(LOST) / max(1, len(values))


def _varint_len(value: int) -> int:
    length = 1
    while value >= 0x80 and length < 9:
        value >>= 7
        length += 1
    return length


def _rowid_tail_ok(page: Page, start: int, offset: int, length_bytes: int) -> bool:
    """The rowid's bytes that survive past the freeblock header look like the end of a varint."""
    rowid_start, rowid_end = start + length_bytes, start + offset
    if rowid_end - rowid_start > 9:
        return False
    for at in range(max(start + 4, rowid_start), rowid_end):
        last = at == rowid_end - 1
        if (page[at] < 0x80) != last:
            return False
    return True


def _stale_freeblock(page: Page, at: int, end: int) -> int:
    """The end of a freeblock whose header still sits at `at` (merged into the gap since), or 0."""
    following = (page[at] << 8) | page[at + 1]
    size = (page[at + 2] << 8) | page[at + 3]
    if size < 6 or at + size > end or (following and following < at + size):
        return 0
    return at + size


def overrun_cell(region: Region, at: int, end: int, shapes: Sequence[Shape]) -> Carved | None:
    """The cell of a stale freeblock header at `at` whose size runs past `end` into cells written since.

    A balance rebuilds a page with its cells packed at the end and leaves the old bytes in the gap: an
    old freed cell (often a big row's head, its overflow chain freed) keeps its header and its size, but
    its tail now lies under live cells. The carver sees the page cut at `end`, so whatever lay past it
    reads as lost, while the freeblock's size still says where the cell ended.
    """
    page = region.page
    following = (page[at] << 8) | page[at + 1]
    block_end = at + ((page[at + 2] << 8) | page[at + 3])
    if block_end <= end or block_end > region.usable_size or (following and following < block_end):
        return None
    try:
        return clobbered_cell(replace(region, page=page[:end]), at, block_end, shapes)
    except _PARSE_ERRORS:
        return None


def _cell_starts(region: Region, at: int, end: int, context: _Context) -> bool:
    """True when a cell with its header intact, or another stale freeblock, starts at `at`."""
    if at + 6 <= end and _stale_freeblock(region.page, at, end):
        return True
    try:
        return _intact(region, at, end, context) is not None
    except _PARSE_ERRORS:
        return False


def carve_range(
    region: Region, start: int, end: int, shapes: Sequence[Shape], *, unknown: bool = False
) -> list[Carved]:
    """Every record found in `region.page[start:end]`, trying each offset: cells with their header intact,
    and cells whose first bytes a freeblock header overwrote (its size still tells where the cell ends)."""
    found: list[Carved] = []
    if end - start <= 2:  # too short for any cell (the usual rest of a freeblock its cell filled)
        return found
    page = region.page
    usable = region.usable_size
    data = bytes(page[start:end])
    context = _context(shapes, region, unknown)
    at = start
    while at < end - 2:
        byte = page[at]
        if at + 4 <= end and byte == page[at + 1] == page[at + 2] == page[at + 3]:
            # A run of one byte (text, zeros) starts no cell: skip to its last three bytes.
            rest = data[at - start :]
            at += max(1, len(rest) - len(rest.lstrip(bytes((byte,)))) - 3)
            continue
        carved = None
        if byte:  # no cell starts with a zero payload length, but a stale freeblock header may (0, 0, size)
            try:
                carved = _intact(region, at, end, context)
            except _PARSE_ERRORS:
                carved = None
        if carved is None and at + 6 <= end:
            # The four bytes read as a freeblock header, as `_stale_freeblock` and `overrun_cell` read
            # them (most offsets fail both at once here).
            size = (page[at + 2] << 8) | page[at + 3]
            block_end = at + size
            following = (page[at] << 8) | page[at + 1]
            if not following or following >= block_end:
                if size >= 6 and block_end <= end:
                    # A freeblock merged into the gap ended where the cells began (the region's end), or
                    # where another freed cell starts; four bytes that merely look like a header rarely
                    # end so.
                    if block_end == end or _cell_starts(region, block_end, end, context):
                        carved = clobbered_cell(region, at, block_end, shapes)
                elif block_end > end and block_end <= usable:
                    carved = overrun_cell(region, at, end, shapes)
        if carved is None:
            at += 1
            continue
        found.append(carved)
        at += carved.length
    return found
