"""`snapshot-browser-cli erd FILE --out X.svg|X.png`: the ER diagram of a snapshot, as a file.

The SVG comes from the core (no Qt). A PNG is that SVG drawn by Qt's SVG renderer in a child process
(`python -m desktop_app.ui.svg_png`): the CLI itself never imports Qt, and without the GUI package it
says to use .svg instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from desktop_app.cli.common import add_file_argument, open_connection, source_options
from desktop_app.core.errors import ExportError, UserError
from desktop_app.core.export.output_paths import ensure_not_source, write_file
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.structure.diagram import layout_diagram
from desktop_app.core.structure.diagram_svg import diagram_svg

#: The module that draws an SVG as PNG (in the GUI package), run as a program, never imported here.
PNG_RENDERER = "desktop_app.ui.svg_png"
NO_QT = 3  #: its exit status without PySide6 (`desktop_app.ui.svg_png.NO_QT`)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `erd` command."""
    parser = subparsers.add_parser(
        "erd", help="draw the ER diagram (tables, columns, foreign keys) as SVG or PNG"
    )
    add_file_argument(parser)
    parser.add_argument("--out", required=True, metavar="X.svg|X.png", help="the picture to write")
    parser.add_argument(
        "--no-inferred", action="store_true", help="leave out links guessed from <name>_id columns"
    )
    parser.add_argument(
        "--hidden", action="store_true", help="include shadow and internal tables (hidden by default)"
    )
    parser.set_defaults(run=run)


def svg_as_png(svg: str) -> bytes:
    """Draw `svg` as PNG in a child process (Qt stays out of this one)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", PNG_RENDERER, str(LIMITS.diagram_png_max_pixels)],
        input=svg.encode("utf-8"),
        capture_output=True,
        env=env,
        check=False,
    )
    if done.returncode == NO_QT:
        raise ExportError("PNG needs the GUI package (PySide6), which is not installed here: use .svg.")
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExportError(f"The PNG could not be drawn{': ' + said[-1] if said else ''}.")
    return done.stdout


def run(args: argparse.Namespace) -> int:
    """Lay out the diagram and write it to --out (never over the database or its sidecars)."""
    out = str(args.out)
    kind = os.path.splitext(out)[1].lower()
    if kind not in (".svg", ".png"):
        raise UserError("--out must end in .svg or .png.")
    ensure_not_source(out, args.file)  # refused at once, before reading anything
    with open_connection(args.file, options=source_options(args)) as conn:
        catalog = read_catalog(conn)
    diagram = layout_diagram(catalog, inferred=not args.no_inferred, include_hidden=args.hidden)
    svg = diagram_svg(diagram)
    data = svg.encode("utf-8") if kind == ".svg" else svg_as_png(svg)
    try:
        write_file(out, data, source_path=args.file)
    except OSError as exc:
        raise ExportError(f"Could not write {out}: {exc.strerror or exc}") from None
    tables = len(diagram.boxes)
    links = len(diagram.edges)
    print(f"{out}: {tables} table{'s' if tables != 1 else ''}, {links} link{'s' if links != 1 else ''}")
    return 0
