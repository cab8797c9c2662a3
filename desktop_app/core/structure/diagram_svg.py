"""An ER diagram as plain SVG text (no Qt): what `snapshot-browser-cli erd --out X.svg` writes."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr

from desktop_app.core.structure.diagram import FONT_SIZE, HEADER_HEIGHT, LINE_HEIGHT, PADDING, Diagram

MARGIN = 20
#: Characters XML 1.0 cannot hold even escaped (control characters, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FILL = {"table": "#e8f0fe", "view": "#e6f4ea", "virtual": "#fef7e0"}
_STYLE = f"""
text {{ font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: {FONT_SIZE}px;
  fill: #202124; }}
.title {{ font-weight: bold; }}
.box {{ fill: #ffffff; stroke: #5f6368; stroke-width: 1; }}
.edge {{ fill: none; stroke: #1a73e8; stroke-width: 1.3; }}
.inferred {{ stroke: #9aa0a6; stroke-dasharray: 6 4; }}
"""


def _visible(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape(text: str) -> str:
    """`text` as XML character data (characters XML cannot hold written as \\xNN)."""
    return _escape(_visible(text))


def quoteattr(text: str) -> str:
    """`text` as a quoted XML attribute value."""
    return _quoteattr(_visible(text))


def diagram_svg(diagram: Diagram) -> str:
    """The diagram as an SVG document: a box per table (names XML-escaped) and a path per edge."""
    width = diagram.width + 2 * MARGIN
    height = diagram.height + 2 * MARGIN
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{-MARGIN} {-MARGIN} {width:.0f} {height:.0f}">',
        f"<style>{_STYLE}</style>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' markerHeight='8' "
        "orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#1a73e8'/></marker>"
        "<marker id='arrow-inferred' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' "
        "markerHeight='8' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#9aa0a6'/>"
        "</marker></defs>",
        f'<rect x="{-MARGIN}" y="{-MARGIN}" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    for edge in diagram.edges:
        if len(edge.points) < 2:
            continue
        path = " L ".join(f"{x:.1f} {y:.1f}" for x, y in edge.points)
        kind = "edge inferred" if edge.inferred else "edge"
        marker = "arrow-inferred" if edge.inferred else "arrow"
        title = f"{edge.source}({', '.join(edge.columns)}) → {edge.target}" + (
            " (inferred from the name)" if edge.inferred else ""
        )
        out.append(
            f'<path class="{kind}" d="M {path}" marker-end="url(#{marker})">'
            f"<title>{escape(title)}</title></path>"
        )
    for box in diagram.boxes:
        out.append(f"<g class={quoteattr('table ' + box.kind)} data-name={quoteattr(box.name)}>")
        out.append(
            f'<rect class="box" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="4"/>'
        )
        out.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{HEADER_HEIGHT}" '
            f'rx="4" fill="{_FILL.get(box.kind, "#eeeeee")}" stroke="#5f6368"/>'
        )
        baseline = box.y + HEADER_HEIGHT - 7
        out.append(
            f'<text class="title" x="{box.x + PADDING:.1f}" y="{baseline:.1f}">{escape(box.title)}</text>'
        )
        for i, line in enumerate(box.lines()):
            y = box.y + HEADER_HEIGHT + (i + 1) * LINE_HEIGHT - 5
            out.append(
                f'<text x="{box.x + PADDING:.1f}" y="{y:.1f}" xml:space="preserve">{escape(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
