"""What recovery finds: records with their provenance, and the facts of the scan."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from desktop_app.core.pagefile.image import DatabaseHeader
from desktop_app.core.recovery.record import LOST

#: Said when free space exists but every byte of it is zero.
SECURE_DELETE_NOTE = (
    "Free space is zeroed — secure_delete was probably on when rows were deleted: nothing can be recovered."
)
NO_FREE_SPACE_NOTE = "The database has no free space: nothing deleted remains in it (or it was vacuumed)."
NOTHING_FOUND_NOTE = "Free space holds no recognisable records."


class Source(StrEnum):
    """Where a recovered record was found."""

    #: A page on the freelist (its cells intact, rowids too).
    FREELIST = "freelist"
    #: A freed cell inside a live leaf page (its first four bytes overwritten).
    FREEBLOCK = "freeblock"
    #: The gap between a live page's cell pointers and its cells.
    UNALLOCATED = "unallocated"
    #: A freed or orphaned page whose records fit no live table.
    DROPPED_TABLE = "dropped-table"


# slots: one object per record for the cycle collector, not two. Not frozen: a frozen class's __init__ sets
# each field through object.__setattr__: with the carver's cells, ~8% of a sparse scan's time.
@dataclass(slots=True)
class RecoveredRecord:
    """One record rebuilt from free space, with where it came from."""

    #: The table it most likely belonged to; None for "unknown table" (no schema matches it).
    table: str | None
    columns: tuple[str, ...]
    #: Values in the table's column order; `LOST` where the bytes were overwritten.
    values: tuple[object, ...]
    #: The rowid (`LOST` when overwritten; None for WITHOUT ROWID tables).
    rowid: object
    source: Source
    page: int
    offset: int
    confidence: float
    overflow_pages: tuple[int, ...] = ()
    #: True when the table is not in the live schema (dropped; its CREATE statement was carved).
    table_dropped: bool = False
    #: Positions of the columns the record predates (added by ALTER TABLE ADD COLUMN since): their
    #: values are the columns' defaults, as SQLite reads such a record, not stored bytes.
    defaulted: tuple[int, ...] = ()

    @property
    def lost(self) -> tuple[int, ...]:
        """Positions of the values that were lost."""
        return tuple(i for i, v in enumerate(self.values) if v is LOST)


@dataclass
class RecoveryResult:
    """What a scan found, and the facts that say how much free space there was to look at."""

    header: DatabaseHeader
    records: list[RecoveredRecord]
    #: Freelist pages (trunks and leaves), and pages neither live nor free.
    free_pages: int = 0
    orphan_pages: int = 0
    #: Bytes in the freeblocks and the unallocated gaps of live leaf pages.
    freeblock_bytes: int = 0
    unallocated_bytes: int = 0
    #: Pages whose free space was looked at.
    pages_scanned: int = 0
    #: Tables carved from the schema's free space that are not in the live schema.
    dropped_tables: list[str] = field(default_factory=list)
    #: Records left out because they are copies of rows still live (page splits and moves leave them).
    live_copies: int = 0
    #: True when the free space there was held only zero bytes (secure_delete).
    zeroed: bool = False
    #: Why nothing (or little) was found, in words for the user; "" when records were found.
    note: str = ""

    def for_table(self, table: str | None) -> list[RecoveredRecord]:
        """The records whose likely table is `table` (None: the unknown-table ones)."""
        return [r for r in self.records if r.table == table]

    def by_source(self) -> dict[str, int]:
        """How many records came from each kind of place."""
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.source.value] = counts.get(record.source.value, 0) + 1
        return counts
