"""The ER diagram as data: a box per table and view, an edge per foreign key, laid out by grandalf.

Connected tables are laid out per connected component with grandalf's Sugiyama (layered) layout,
parents above the tables that reference them; components are packed in rows, and tables related to
nothing sit in a grid to their right. Box sizes come from a text-metrics callback (the GUI measures its
font; the CLI and the SVG writer estimate from character counts), so boxes never overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Catalog, Table, TableKind

if TYPE_CHECKING:
    from grandalf.graphs import Graph

#: Width in pixels of one line of text (the GUI passes its font's metrics).
TextMeasure = Callable[[str], float]

FONT_SIZE = 12  #: points the SVG writer and the width estimate assume
LINE_HEIGHT = 18
HEADER_HEIGHT = 24
PADDING = 8
MIN_WIDTH = 110
GAP = 40  #: between packed components and grid cells
#: Tables in one layer of a component from which the layer is wrapped into several rows.
FOLD_LAYER_AT = 12
_XSPACE, _YSPACE = 30, 60
_ID_COLUMN = re.compile(r"^(?P<stem>.+?)_?id$", re.IGNORECASE)


def estimate_width(text: str) -> float:
    """A width estimate for monospace text at `FONT_SIZE` (0.6 em a character)."""
    return len(text) * FONT_SIZE * 0.6


@dataclass(frozen=True)
class ColumnLine:
    """One column as the diagram shows it."""

    name: str
    type: str
    primary_key: bool
    foreign_key: bool
    not_null: bool
    generated: bool = False

    @property
    def marks(self) -> str:
        """'PK', 'FK', 'PK FK' or ''."""
        return " ".join(m for m, on in (("PK", self.primary_key), ("FK", self.foreign_key)) if on)

    @property
    def text(self) -> str:
        """The line as drawn: name, type, NOT NULL ('!') and generated ('=') marks."""
        extra = (" NOT NULL" if self.not_null and not self.primary_key else "") + (
            " GENERATED" if self.generated else ""
        )
        return f"{self.name} {self.type}{extra}".rstrip()


@dataclass
class Box:
    """A table or view, its column lines, and its place (top-left corner and size, in pixels)."""

    name: str
    kind: str  #: "table", "view" or "virtual"
    columns: list[ColumnLine]
    more_columns: int = 0  #: columns left out beyond `LIMITS.diagram_max_columns`
    note: str = ""  #: "view", "virtual: fts5", "WITHOUT ROWID", "STRICT"
    message: str = ""  #: a last line, e.g. why the columns could not be read
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def title(self) -> str:
        """The header line: the name, with the note in brackets."""
        return f"{self.name} [{self.note}]" if self.note else self.name

    def lines(self) -> list[str]:
        """Every body line as drawn (marks first), with a last '… N more columns' line when cut."""
        out = [f"{c.marks:<5} {c.text}" for c in self.columns]
        if self.more_columns:
            out.append(f"      … {self.more_columns} more columns")
        if self.message:
            out.append(self.message)
        return out

    def centre(self) -> tuple[float, float]:
        """The centre point."""
        return self.x + self.width / 2, self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share any area."""
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


@dataclass
class Edge:
    """A reference from `source` (the child table) to `target`, through `columns` of the child."""

    source: str
    target: str
    columns: tuple[str, ...]
    inferred: bool = False  #: from a `<x>_id` column name, not a declared foreign key
    points: list[tuple[float, float]] = field(default_factory=list)  #: the route, child to parent


@dataclass
class Diagram:
    """Every box and edge, placed; `width`/`height` bound them all."""

    boxes: list[Box]
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0

    def box(self, name: str) -> Box | None:
        """The box of `name`."""
        return next((b for b in self.boxes if b.name == name), None)


def diagram_tables(catalog: Catalog, include_hidden: bool = False) -> list[Table]:
    """The tables and views a diagram can show (shadow and internal ones only with `include_hidden`)."""
    return catalog.visible_tables(include_hidden)


def make_boxes(tables: Iterable[Table], measure: TextMeasure = estimate_width) -> list[Box]:
    """A sized, unplaced box per table."""
    boxes = []
    for table in tables:
        fk_columns = {c for fk in table.foreign_keys for c in fk.from_columns}
        lines = [
            ColumnLine(
                c.name,
                c.declared_type,
                bool(c.pk_position),
                c.name in fk_columns,
                c.not_null,
                c.generated,
            )
            for c in table.columns
            if c.hidden != 1  # a virtual table's hidden columns (e.g. an FTS table's own name)
        ]
        limit = LIMITS.diagram_max_columns
        box = Box(table.name, _kind(table), lines[:limit], max(0, len(lines) - limit), _note(table))
        if table.error:
            box.message = "(its columns could not be read)"
        width = max([measure(box.title), *(measure(line) for line in box.lines())], default=0.0)
        box.width = max(MIN_WIDTH, math.ceil(width) + 2 * PADDING)
        box.height = HEADER_HEIGHT + max(1, len(box.lines())) * LINE_HEIGHT + PADDING // 2
        boxes.append(box)
    return boxes


def _kind(table: Table) -> str:
    if table.kind is TableKind.VIEW:
        return "view"
    if table.kind is TableKind.VIRTUAL:
        return "virtual"
    return "table"


def _note(table: Table) -> str:
    if table.kind is TableKind.VIEW:
        return "view"
    if table.kind is TableKind.VIRTUAL:
        return f"virtual: {table.module}" if table.module else "virtual"
    if table.kind is TableKind.SHADOW:
        return "shadow"
    words = [w for w, on in (("WITHOUT ROWID", table.without_rowid), ("STRICT", table.strict)) if on]
    return ", ".join(words)


def find_edges(tables: list[Table], inferred: bool = True) -> list[Edge]:
    """One edge per declared foreign key whose parent is among `tables`; with `inferred`, one per
    `<x>_id` column without a declared key whose name points at a table `x`/`xs` that has an `id` key."""
    by_lower = {t.name.lower(): t for t in tables}
    edges = []
    for table in tables:
        declared: set[str] = set()
        for fk in table.foreign_keys:
            parent = by_lower.get(fk.target_table.lower())
            declared.update(c.lower() for c in fk.from_columns)
            if parent is not None:
                edges.append(Edge(table.name, parent.name, fk.from_columns))
        if not inferred or table.kind is not TableKind.TABLE:
            continue
        for column in table.columns:
            if column.name.lower() in declared or (column.pk_position == 1 and len(table.primary_key) == 1):
                continue
            parent = _inferred_parent(column.name, by_lower)
            if parent is not None and parent.name != table.name:
                edges.append(Edge(table.name, parent.name, (column.name,), inferred=True))
    return edges


def _inferred_parent(column: str, by_lower: dict[str, Table]) -> Table | None:
    """The table a `<x>_id` / `<x>Id` column names, when it has an `id` or `<x>_id` key column."""
    match = _ID_COLUMN.match(column)
    if match is None or not (column.lower().endswith("_id") or column[-2:] == "Id"):
        return None
    stem = match["stem"].rstrip("_").lower()
    if not stem:
        return None
    candidates = [stem, stem + "s", stem + "es"]
    if stem.endswith("y"):
        candidates.append(stem[:-1] + "ies")
    for name in candidates:
        parent = by_lower.get(name)
        if parent is None or parent.kind is not TableKind.TABLE:
            continue
        keys = {c.lower() for c in parent.primary_key} or {"id"}
        if keys & {"id", column.lower()} and any(c.name.lower() in keys for c in parent.columns):
            return parent
    return None


class _View:
    """The size grandalf reads, and the centre it writes."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy: tuple[float, float] = (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


def layout_diagram(
    catalog: Catalog,
    measure: TextMeasure = estimate_width,
    *,
    hidden: Collection[str] = (),
    inferred: bool = True,
    include_hidden: bool = False,
    cancel: CancelToken | None = None,
) -> Diagram:
    """Lay out the catalog's tables and views (without those named in `hidden`) and their edges.

    Pure Python and CPU-bound (about a second for 300 tables): run it off the UI thread. Raises
    `Cancelled` when `cancel` fires between two components.
    """
    tables = [t for t in diagram_tables(catalog, include_hidden) if t.name not in hidden]
    boxes = make_boxes(tables, measure)
    edges = find_edges(tables, inferred)
    return place(boxes, edges, cancel)


def place(boxes: list[Box], edges: list[Edge], cancel: CancelToken | None = None) -> Diagram:
    """Give every box a place and every edge a route: components by grandalf, loners in a grid."""
    # Imported here: grandalf imports numpy when it is installed, a fifth of a second of every start-up.
    from grandalf.graphs import Edge as GraphEdge
    from grandalf.graphs import Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import route_with_lines

    vertices = {b.name: Vertex(b) for b in boxes}
    for vertex in vertices.values():
        vertex.view = _View(vertex.data.width, vertex.data.height)
    graph_edges: list[tuple[Edge, GraphEdge]] = []
    seen_pairs: set[tuple[str, str]] = set()
    for edge in edges:
        pair = (edge.target, edge.source)
        if edge.source == edge.target or pair in seen_pairs:
            continue  # self-references and parallel keys do not change the layout
        seen_pairs.add(pair)
        # Parent first: layers go top-down, so referenced tables sit above their children.
        graph_edge = GraphEdge(vertices[edge.target], vertices[edge.source])
        graph_edge.view = _EdgeView()
        graph_edges.append((edge, graph_edge))
    graph = Graph(list(vertices.values()), [g for _e, g in graph_edges])
    groups: list[tuple[list[Box], float, float]] = []
    loners: list[Box] = []
    folded: set[str] = set()  # boxes of components whose wide layers were folded: straight edges
    for component in graph.C:
        if cancel is not None:
            cancel.raise_if_cancelled()
        members = [v.data for v in component.sV]
        if len(members) == 1 and not component.sE:
            loners.append(members[0])
            continue
        layout = SugiyamaLayout(component)
        layout.xspace, layout.yspace = _XSPACE, _YSPACE
        layout.route_edge = route_with_lines
        layout.init_all()
        layout.draw(N=1.5)
        layers = [
            sorted((v for v in layer if isinstance(v, Vertex)), key=lambda v: v.view.xy[0])
            for layer in layout.layers
        ]
        if max(len(layer) for layer in layers) > FOLD_LAYER_AT:
            groups.append(_folded([[v.data for v in layer] for layer in layers if layer]))
            folded.update(v.data.name for v in component.sV)
        else:
            groups.append(_normalised(component))
    width, height, shifts = _pack(groups, loners)
    routes = {}
    for _edge, graph_edge in graph_edges:
        if graph_edge.v[0].data.name in folded:
            continue
        dx, dy = shifts.get(graph_edge.v[0].data.name, (0.0, 0.0))
        key = (graph_edge.v[0].data.name, graph_edge.v[1].data.name)
        routes[key] = [(x + dx, y + dy) for x, y in graph_edge.view.points]
    by_name = {b.name: b for b in boxes}
    for edge in edges:
        _route(edge, routes, by_name)
    points = [p for e in edges for p in e.points]
    width = max([width, *(x for x, _y in points)])
    height = max([height, *(y for _x, y in points)])
    return Diagram(boxes, edges, width, height)


def _folded(layers: list[list[Box]]) -> tuple[list[Box], float, float]:
    """Place a component's layers top-down, each wrapped into centred rows of at most `FOLD_LAYER_AT`
    boxes in grandalf's order (a hub with 200 children would otherwise make a layer metres wide)."""
    rows = [layer[i : i + FOLD_LAYER_AT] for layer in layers for i in range(0, len(layer), FOLD_LAYER_AT)]
    starts = {id(layer[0]) for layer in layers}
    widths = [sum(b.width for b in row) + _XSPACE * (len(row) - 1) for row in rows]
    widest = max(widths)
    y = 0.0
    for row, width in zip(rows, widths, strict=True):
        if id(row[0]) in starts and y:
            y += _YSPACE - _XSPACE  # a new layer: the room of a layer gap, not a row gap
        x = (widest - width) / 2
        for box in row:
            box.x, box.y = x, y
            x += box.width + _XSPACE
        y += max(b.height for b in row) + _XSPACE
    boxes = [b for row in rows for b in row]
    return boxes, widest, max(b.y + b.height for b in boxes)


def _normalised(component: Graph) -> tuple[list[Box], float, float]:
    """Write the component's centres into its boxes, shifted to start at (0, 0); its size."""
    boxes = []
    for vertex in component.sV:
        box: Box = vertex.data
        cx, cy = vertex.view.xy
        box.x, box.y = cx - box.width / 2, cy - box.height / 2
        boxes.append(box)
    left = min(b.x for b in boxes)
    top = min(b.y for b in boxes)
    for box in boxes:
        box.x -= left
        box.y -= top
    for edge in component.sE:
        edge.view.points = [(x - left, y - top) for x, y in edge.view.points]
    return boxes, max(b.x + b.width for b in boxes), max(b.y + b.height for b in boxes)


def _pack(
    groups: list[tuple[list[Box], float, float]], loners: list[Box]
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Components in rows (largest first), then the loners in a grid to the right: the total size,
    and how far each component's box was moved."""
    shifts: dict[str, tuple[float, float]] = {}
    groups.sort(key=lambda g: -(g[1] * g[2]))
    area = sum(w * h for _b, w, h in groups)
    row_limit = max([math.sqrt(area) * 1.6, *(w for _b, w, _h in groups)], default=0.0)
    x = y = row_height = 0.0
    right = bottom = 0.0
    for boxes, width, height in groups:
        if x > 0 and x + width > row_limit:
            x, y, row_height = 0.0, y + row_height + GAP, 0.0
        for box in boxes:
            box.x += x
            box.y += y
            shifts[box.name] = (x, y)
        right, bottom = max(right, x + width), max(bottom, y + height)
        x += width + GAP
        row_height = max(row_height, height)
    if loners:
        loners.sort(key=lambda b: b.name.lower())
        start = right + GAP if groups else 0.0
        cell_w = max(b.width for b in loners) + GAP
        cell_h = max(b.height for b in loners) + GAP
        rows = _grid_rows(len(loners), start, cell_w, cell_h, bottom)
        for i, box in enumerate(loners):
            column, row = divmod(i, rows)
            box.x, box.y = start + column * cell_w, row * cell_h
            right = max(right, box.x + box.width)
            bottom = max(bottom, box.y + box.height)
    return right, bottom, shifts


def _grid_rows(count: int, start: float, cell_w: float, cell_h: float, beside: float) -> int:
    """Rows for a grid of `count` cells right of `start` so the whole drawing is about 16:10."""

    def misfit(rows: int) -> float:
        width = start + math.ceil(count / rows) * cell_w
        height = max(beside, rows * cell_h)
        return abs(math.log(width / height / 1.6))

    return min(range(1, count + 1), key=misfit)


def _route(
    edge: Edge, routes: dict[tuple[str, str], list[tuple[float, float]]], boxes: dict[str, Box]
) -> None:
    """The edge's points, child to parent, in diagram coordinates (a loop for a self-reference)."""
    child, parent = boxes[edge.source], boxes[edge.target]
    if edge.source == edge.target:
        x, y = child.x + child.width, child.y + HEADER_HEIGHT / 2
        edge.points = [(x, y), (x + 24, y), (x + 24, y + 28), (x, y + 28)]
        return
    points = routes.get((edge.target, edge.source))
    if points:
        edge.points = list(reversed(points))
        return
    edge.points = [_border(child, parent.centre()), _border(parent, child.centre())]


def _border(box: Box, towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre towards `towards` leaves the box."""
    cx, cy = box.centre()
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (box.width / 2) / abs(dx) if dx else math.inf,
        (box.height / 2) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale
