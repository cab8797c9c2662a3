"""The decorators a user functions file uses to add SQL functions, aggregates and collations.

    from desktop_app.functions_api import aggregate, collation, scalar, window

    @scalar(deterministic=True)
    def double(x):
        return None if x is None else x * 2

Decorating never raises: a wrong declaration is recorded on the spec (`problem`) and reported by
the loader, so one bad function does not stop the rest of the file from loading.
This module is imported by user code: it must stay tiny and import nothing heavy (no Qt).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

__all__ = ["ANY_NUMBER_OF_ARGS", "FunctionSpec", "aggregate", "collation", "scalar", "specs_in", "window"]

Kind = Literal["scalar", "aggregate", "window", "collation"]
T = TypeVar("T")

#: `narg` value meaning "any number of arguments" (SQLite's -1).
ANY_NUMBER_OF_ARGS = -1
#: SQLite's default SQLITE_MAX_FUNCTION_ARG.
MAX_ARGS = 127
#: SQLite rejects function names longer than this many UTF-8 bytes.
MAX_NAME_BYTES = 255
#: Attribute on a decorated object holding its specs (a tuple: one object may be declared twice).
SPEC_ATTRIBUTE = "__sql_function_specs__"

_REQUIRED_METHODS: dict[Kind, tuple[str, ...]] = {
    "aggregate": ("step", "finalize"),
    "window": ("step", "inverse", "value", "finalize"),
}


@dataclass(frozen=True)
class FunctionSpec:
    """One declared SQL function, aggregate, window aggregate or collation.

    The decorators attach it to the decorated object (under `SPEC_ATTRIBUTE`) and `specs_in` collects
    them from a module; the loader registers each one without a `problem` and reports the others.
    """

    kind: Kind
    name: str
    #: Argument counts it is registered for (-1 = any); empty for a collation.
    nargs: tuple[int, ...]
    deterministic: bool
    doc: str
    #: How a call looks, e.g. `percentile(value, p)`.
    signature: str
    #: The function (scalar, collation) or class (aggregate, window).
    target: Any
    #: Line of the declaration in its file, when known.
    line: int | None
    #: Why the declaration cannot be registered; empty when it is fine.
    problem: str = ""


def scalar(
    name: str | Callable[..., Any] | None = None,
    *,
    narg: int | Sequence[int] | None = None,
    deterministic: bool = False,
    doc: str | None = None,
) -> Any:
    """Declare a scalar SQL function; `narg` defaults to the Python signature (-1 with *args)."""
    if callable(name):
        return _declare("scalar", name, None, None, deterministic, doc, _caller_line())
    line = _caller_line()
    return lambda func: _declare("scalar", func, name, narg, deterministic, doc, line)


def aggregate(
    name: str | type | None = None, *, narg: int | Sequence[int] | None = None, doc: str | None = None
) -> Any:
    """Declare an aggregate: a class whose instances get `step(*args)` per row and `finalize()` once."""
    return _declare_class("aggregate", name, narg, doc)


def window(
    name: str | type | None = None, *, narg: int | Sequence[int] | None = None, doc: str | None = None
) -> Any:
    """Declare a window aggregate: a class with `step`, `inverse`, `value` and `finalize`."""
    return _declare_class("window", name, narg, doc)


def collation(name: str | Callable[..., Any] | None = None, *, doc: str | None = None) -> Any:
    """Declare a collation: `compare(a, b)` returns a negative number, 0 or a positive number."""
    if callable(name):
        return _declare("collation", name, None, None, False, doc, _caller_line())
    line = _caller_line()
    return lambda func: _declare("collation", func, name, None, False, doc, line)


def specs_in(namespace: dict[str, Any]) -> list[FunctionSpec]:
    """Return every spec declared on the objects of a module namespace, in file order."""
    seen: set[int] = set()
    specs: list[FunctionSpec] = []
    for value in namespace.values():
        if id(value) in seen:
            continue
        seen.add(id(value))
        found = getattr(value, SPEC_ATTRIBUTE, ()) if _may_carry_specs(value) else ()
        specs.extend(spec for spec in found if isinstance(spec, FunctionSpec))
    return sorted(specs, key=lambda spec: spec.line or 0)


def _may_carry_specs(value: object) -> bool:
    # Only our own decorated targets: never trigger __getattr__ of arbitrary module objects.
    return inspect.isfunction(value) or inspect.isclass(value)


def _declare_class(kind: Kind, name: str | type | None, narg: object, doc: str | None) -> Any:
    """`aggregate` and `window`: used bare (`@aggregate`) or called (`@aggregate("name", narg=2)`)."""
    line = _caller_line(3)  # the line of the decorator in the user's file
    if name is not None and not isinstance(name, str):
        return _declare(kind, name, None, None, False, doc, line)
    return lambda cls: _declare(kind, cls, name, narg, False, doc, line)


def _caller_line(depth: int = 2) -> int | None:
    try:
        return sys._getframe(depth).f_lineno
    except ValueError:
        return None


def _declare(
    kind: Kind,
    target: T,
    name: object,
    narg: object,
    deterministic: bool,
    doc: str | None,
    line: int | None,
) -> T:
    real_name = name if isinstance(name, str) else getattr(target, "__name__", "")
    nargs, params, problem = _argument_counts(kind, target, narg)
    problem = _shape_problem(kind, target) or problem or _name_problem(real_name)
    spec = FunctionSpec(
        kind=kind,
        name=real_name,
        nargs=nargs,
        deterministic=bool(deterministic) and kind == "scalar",
        doc=inspect.cleandoc(doc) if doc else (inspect.getdoc(target) or ""),
        signature=f"X COLLATE {real_name}" if kind == "collation" else f"{real_name}({params})",
        target=target,
        line=line,
        problem=problem,
    )
    try:
        setattr(target, SPEC_ATTRIBUTE, (*getattr(target, SPEC_ATTRIBUTE, ()), spec))
    except (AttributeError, TypeError):  # e.g. a builtin: cannot carry specs, so it cannot be found
        pass
    return target


def _name_problem(name: str) -> str:
    if not name:
        return "the name is empty"
    if len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        return f"the name is longer than {MAX_NAME_BYTES} bytes"
    return ""


def _shape_problem(kind: Kind, target: object) -> str:
    if kind in ("scalar", "collation"):
        return "" if callable(target) and not inspect.isclass(target) else f"a {kind} must be a function"
    if not inspect.isclass(target):
        article = "an" if kind == "aggregate" else "a"
        return f"{article} {kind} must be a class with methods {', '.join(_REQUIRED_METHODS[kind])}"
    missing = [method for method in _REQUIRED_METHODS[kind] if not callable(getattr(target, method, None))]
    return f"the class has no method {', '.join(missing)}" if missing else ""


def _argument_counts(kind: Kind, target: object, narg: object) -> tuple[tuple[int, ...], str, str]:
    """Return (argument counts, parameter text for the signature, problem)."""
    if kind == "collation":
        return (), "a, b", ""
    params, inferred = _signature_of(target, skip_self=kind != "scalar")
    if narg is None:
        if inferred is None:
            return (ANY_NUMBER_OF_ARGS,), "...", "the argument count cannot be read from the signature"
        return inferred, params, ""
    counts = (narg,) if isinstance(narg, int) else tuple(narg) if isinstance(narg, Iterable) else ()
    if not counts or not all(isinstance(n, int) and not isinstance(n, bool) for n in counts):
        return (ANY_NUMBER_OF_ARGS,), params, "narg must be an integer or a list of integers"
    bad = [n for n in counts if not ANY_NUMBER_OF_ARGS <= n <= MAX_ARGS]
    if bad:
        return counts, params, f"narg must be between -1 and {MAX_ARGS}, not {bad[0]}"
    return tuple(sorted(set(counts))), params, ""


def _signature_of(target: object, *, skip_self: bool) -> tuple[str, tuple[int, ...] | None]:
    func = getattr(target, "step", None) if skip_self else target
    try:
        parameters = list(inspect.signature(func).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "...", None
    if skip_self and inspect.isclass(target):
        parameters = parameters[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return "...", (ANY_NUMBER_OF_ARGS,)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in positional if p.default is p.empty]
    optional = [p.name for p in positional if p.default is not p.empty]
    text = ", ".join(required)
    for index, name in enumerate(optional):
        text += f"[, {name}]" if required or index else f"[{name}]"
    return text, tuple(range(len(required), len(positional) + 1))
