"""Load a user's Python file of SQL functions: report what is wrong, keep what is good.

User code runs only here, only for a file the user chose; nothing in a database can trigger it.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.functions_api import FunctionSpec, specs_in

_module_numbers = itertools.count(1)
#: Prefix of the sys.modules names user files run under (dataclasses and pickle need a real module).
MODULE_PREFIX = "snapshot_browser_user_functions_"


@dataclass(frozen=True)
class FunctionProblem:
    """Something wrong with one declaration in a user functions file; the others still load."""

    path: str
    line: int | None
    function: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else self.path
        return f"{where}: {self.function}: {self.message}" if self.function else f"{where}: {self.message}"


@dataclass(frozen=True)
class UserFunctions:
    """The usable declarations of one user file, and the problems found in the others."""

    path: Path
    specs: tuple[FunctionSpec, ...]
    problems: tuple[FunctionProblem, ...]
    #: Name of the module the file ran as in sys.modules (see `forget_module`).
    module_name: str = ""


def load_user_functions(path: str | os.PathLike[str]) -> UserFunctions:
    """Run the user's file and collect its declarations; raise UserError if it cannot be read or run."""
    resolved = Path(path).expanduser().resolve()
    try:
        source = resolved.read_bytes()
    except OSError as exc:
        raise UserError(f"Cannot read the functions file {resolved}: {exc.strerror or exc}") from None
    try:
        code = compile(source, str(resolved), "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = f", line {exc.lineno}" if exc.lineno else ""
        raise UserError(
            f"{resolved}{line}: syntax error: {exc.msg}",
            details="".join(traceback.format_exception_only(exc)),
        ) from None
    except ValueError as exc:  # e.g. NUL bytes in the source
        raise UserError(f"{resolved}: not a Python file: {exc}") from None

    module = _fresh_module(resolved)
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt or the user's own: all stop the load alike
        sys.modules.pop(module.__name__, None)
        line = user_line(exc, str(resolved))
        where = f"{resolved}, line {line}" if line else str(resolved)
        raise UserError(
            f"{where}: {exception_text(exc)} (while loading the file)",
            details=format_user_traceback(exc, str(resolved)),
        ) from None
    return _check(resolved, module.__name__, specs_in(module.__dict__))


def forget_module(functions: UserFunctions | None) -> None:
    """Drop the module a previous load registered in sys.modules (its functions keep working)."""
    if functions is not None and functions.module_name:
        sys.modules.pop(functions.module_name, None)


def exception_text(exc: BaseException) -> str:
    """`Name: message`, or only the name when the message is empty (`raise KeyboardInterrupt`)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def user_line(exc: BaseException, filename: str) -> int | None:
    """Return the line of the innermost frame of `exc`'s traceback that is in `filename`."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    return line


def format_user_traceback(exc: BaseException, filename: str) -> str:
    """Format `exc` keeping only the frames in the user's file (ours are noise to them)."""
    frames = [summary for summary in traceback.extract_tb(exc.__traceback__) if summary.filename == filename]
    text = "".join(traceback.format_list(frames))
    return text + "".join(traceback.format_exception_only(exc))


def _fresh_module(path: Path) -> types.ModuleType:
    module = types.ModuleType(f"{MODULE_PREFIX}{next(_module_numbers)}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    return module


def _check(path: Path, module_name: str, specs: list[FunctionSpec]) -> UserFunctions:
    """Split declarations into usable ones and problems; a later duplicate replaces an earlier one."""
    problems: list[FunctionProblem] = []
    usable: dict[tuple[str, str, int], FunctionSpec] = {}
    for spec in specs:
        if spec.problem:
            problems.append(FunctionProblem(str(path), spec.line, spec.name, spec.problem))
            continue
        for key in spec_keys(spec):
            earlier = usable.get(key)
            if earlier is not None and earlier is not spec:
                problems.append(
                    FunctionProblem(
                        str(path),
                        earlier.line,
                        earlier.name,
                        f"declared again at line {spec.line}; that one is used",
                    )
                )
            usable[key] = spec
    kept: list[FunctionSpec] = []
    for spec in {id(spec): spec for spec in usable.values()}.values():
        still_used = [key for key in spec_keys(spec) if usable[key] is spec]
        if spec.kind != "collation":
            spec = dataclasses.replace(spec, nargs=tuple(narg for _, _, narg in still_used))
        kept.append(spec)
    if not specs:
        problems.append(
            FunctionProblem(
                str(path),
                None,
                "",
                "no functions found: decorate them with @scalar, @aggregate, "
                "@window or @collation from desktop_app.functions_api",
            )
        )
    return UserFunctions(path, tuple(kept), tuple(problems), module_name)


def spec_keys(spec: FunctionSpec) -> list[tuple[str, str, int]]:
    """Return the keys SQLite files a declaration under: (namespace, lower-case name, argument count)."""
    if spec.kind == "collation":
        return [("collation", spec.name.lower(), 2)]
    return [("function", spec.name.lower(), narg) for narg in spec.nargs]
