"""The schema from the image's bytes: live root pages, and the layouts of dropped tables whose CREATE
statements survive in the schema table's free space."""

from __future__ import annotations

from collections.abc import Iterable

from desktop_app.core.pagefile.btree import BTreePage, freeblocks, parse_btree_page, unallocated
from desktop_app.core.pagefile.image import DatabaseImage
from desktop_app.core.recovery.carve import Carved, Region, carve_range, clobbered_cell, intact_cell
from desktop_app.core.recovery.shapes import SCHEMA_SHAPE, Shape, table_shape
from desktop_app.core.schema.catalog import SCHEMA_TABLE, table_declared_by

#: Pages of the schema tree followed before giving up (a loop in damaged bytes).
_SCHEMA_PAGES_MAX = 10_000


def _region(image: DatabaseImage, number: int) -> Region:
    def any_page(n: int) -> memoryview | None:
        return image.page(n) if image.has_page(n) else None

    return Region(image.page(number), number, image.usable_size, image.encoding, True, any_page)


def live_roots(image: DatabaseImage) -> dict[int, str]:
    """Root page → name of every table and index in the live schema (page 1 is the schema table)."""
    roots = {1: SCHEMA_TABLE}
    stack, seen = [1], set()
    while stack and len(seen) < _SCHEMA_PAGES_MAX:
        number = stack.pop()
        if number in seen or not image.has_page(number):
            continue
        seen.add(number)
        page = image.page(number)
        btree = parse_btree_page(page, number, image.usable_size)
        if btree is None or not btree.kind.table:
            continue
        if not btree.kind.leaf:
            stack.extend(int.from_bytes(page[p : p + 4], "big") for p in btree.cell_pointers)
            stack.append(btree.right_child)
            continue
        region = _region(image, number)
        for pointer in btree.cell_pointers:
            carved = intact_cell(region, pointer, image.usable_size, [SCHEMA_SHAPE])
            if carved is None:
                continue
            kind, name, _table, root, _sql = carved.values
            if kind in ("table", "index") and isinstance(root, int) and root > 1 and isinstance(name, str):
                roots[root] = name
    return roots


def schema_remnants(image: DatabaseImage, leaves: Iterable[tuple[int, BTreePage]]) -> list[Carved]:
    """Schema records carved from the free space of the schema table's leaf pages."""
    found: list[Carved] = []
    for number, btree in leaves:
        region = _region(image, number)
        for start, size in freeblocks(region.page, btree, image.usable_size):
            end = start + size
            carved = clobbered_cell(region, start, end, [SCHEMA_SHAPE])
            at = start + (carved.length if carved is not None else 4)
            if carved is not None:
                found.append(carved)
            found.extend(_scan(region, at, end))
        gap_start, gap_end = unallocated(btree)
        found.extend(_scan(region, gap_start, gap_end))
    return found


def _scan(region: Region, start: int, end: int) -> list[Carved]:
    return carve_range(region, start, end, [SCHEMA_SHAPE])


def dropped_shapes(
    image: DatabaseImage, leaves: Iterable[tuple[int, BTreePage]], live_names: set[str]
) -> list[Shape]:
    """Layouts of tables whose CREATE TABLE survives in the schema's free space but not in the schema."""
    shapes: dict[str, Shape] = {}
    for carved in schema_remnants(image, leaves):
        sql, name = carved.values[4], carved.values[1]
        if not isinstance(sql, str) or not sql.lstrip()[:12].upper().startswith("CREATE TABLE"):
            continue
        if isinstance(name, str) and (name in live_names or name in shapes):
            continue
        shape = _shape_from_sql(sql)
        if shape is not None and shape.name not in live_names and shape.name not in shapes:
            shapes[shape.name] = shape
    return list(shapes.values())


def _shape_from_sql(sql: str) -> Shape | None:
    """The layout a carved CREATE TABLE statement declares."""
    table = table_declared_by(sql)
    return table_shape(table, dropped=True) if table is not None else None
