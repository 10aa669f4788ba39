"""Typed, documented parameters and the loader that refuses bad input.

A scenario is a tree of frozen dataclasses. Every field is declared with :func:`param`, which
records a one-line docstring and the values it allows (a range or a set of choices). The loader
:func:`build` turns a plain dict (from TOML) into that tree and collects *every* problem — unknown
keys, wrong types, out-of-range values — into one :class:`ScenarioError` that names the dotted key,
the offending value and what is allowed. Nothing runs until a scenario has been built.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

import numpy as np


class ScenarioError(ValueError):
    """A scenario or sweep file was refused; ``problems`` lists one line per bad key."""

    def __init__(self, problems: list[str], source: str | None = None, kind: str = "scenario"):
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {kind}{where}:\n{lines}")


#: Keys earlier versions accepted, and what replaced them (named in the error instead of "unknown key").
RETIRED_KEYS = {
    "costs.capital_cost_rate_per_round": (
        "the opportunity cost of committed capital is costs.outside_option_return_per_round, charged once "
        "(profit is compared with it); remove this key and set that one instead"
    ),
}


def param(
    default: Any,
    doc: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[str, ...] | None = None,
    zero_ok: bool = False,
) -> Any:
    """Declare a scenario field with its docstring and allowed values.

    ``ge``/``gt``/``le``/``lt`` bound numbers (inclusive / exclusive); ``zero_ok`` also allows
    exactly 0 below such a range (an amount that is either absent or at least a minimum);
    ``choices`` lists the names a string field may take. A field typed ``tuple[float, ...]`` is a
    list of numbers (a TOML array); the bounds then apply to each element.
    """
    meta = {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "zero_ok": zero_ok}
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def number_text(x: float) -> str:
    """A bound or default as TOML writes it: ``1_000_000``, ``0.5``, ``1e-09``, ``1e+15``."""
    if isinstance(x, int):
        return f"{x:_}"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{x:_.0f}"
    return f"{x:g}"


@functools.cache
def is_number_list(kind: Any) -> bool:
    """Whether a field's type is a list of numbers, ``tuple[float, ...]`` (a TOML array of numbers)."""
    return typing.get_origin(kind) is tuple


def allowed_text(f: dataclasses.Field, kind: type) -> str:
    """Describe in words what a field allows, e.g. ``a number in [0, 1]``.

    A list-of-numbers field states the range of each element: ``a list of numbers in [1e-09, 1e+15]``.
    """
    m = f.metadata
    if m.get("choices"):
        return "one of " + ", ".join(repr(c) for c in m["choices"])
    if is_number_list(kind):
        noun = "a list of numbers"
    else:
        noun = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}.get(
            kind, kind.__name__
        )
    lo = number_text(m["ge"]) if m.get("ge") is not None else None
    lo_open = m.get("gt") is not None
    if lo_open:
        lo = number_text(m["gt"])
    hi = number_text(m["le"]) if m.get("le") is not None else None
    hi_open = m.get("lt") is not None
    if hi_open:
        hi = number_text(m["lt"])
    zero = "0, or " if m.get("zero_ok") else ""
    if lo is not None and hi is not None:
        return f"{zero}{noun} in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{zero}{noun} {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{noun} {'<' if hi_open else '<='} {hi}"
    return noun


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # resolving string annotations is slow: once per class


def _field_kind(cls: type, f: dataclasses.Field) -> type:
    kind = _type_hints(cls)[f.name]
    if isinstance(kind, types.UnionType):  # e.g. ``str | None`` — the non-None member
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return kind


def _plain_number(value: Any) -> Any:
    """A numpy integer or float as the Python int or float it stands for; anything else unchanged.

    Sweep results hold their levels in numpy arrays, so a level read back from them is an
    ``np.int64`` or ``np.float64``; the schema takes those exactly as it takes Python numbers.
    ``np.bool_`` becomes ``bool``, which a number field refuses as it refuses Python's ``True``.
    """
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _out_of_range(value: float, m: Mapping[str, Any]) -> bool:
    """Whether the number ``value`` lies outside the bounds in a field's metadata ``m``."""
    if m.get("zero_ok") and value == 0:
        return False
    return (
        (m.get("ge") is not None and value < m["ge"])
        or (m.get("gt") is not None and value <= m["gt"])
        or (m.get("le") is not None and value > m["le"])
        or (m.get("lt") is not None and value >= m["lt"])
    )


def _list_text(values: list | tuple, shown: int = 8) -> str:
    """A list as an error message shows it: in full when short, else its first items and its length."""
    if len(values) <= shown:
        return repr(list(values))
    head = ", ".join(repr(v) for v in values[:shown])
    return f"[{head}, ... ({len(values):_} items)]"


def _check_number_list(path: str, value: Any, f: dataclasses.Field, kind: Any) -> tuple[Any, str | None]:
    """A list or tuple of numbers as a tuple of floats, each element range-checked.

    Whole numbers are taken as floats (``[1000, 2000]`` reads as ``(1000.0, 2000.0)``); a boolean,
    a string, a non-finite number or an element outside the field's bounds is refused, naming it.
    """
    allowed = allowed_text(f, kind)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        return value, f"{path} = {value!r} is not allowed: expected {allowed}"
    out = []
    for i, raw in enumerate(value):
        x = _plain_number(raw)
        good = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
        if not good or _out_of_range(float(x), f.metadata):
            element = f"its element {i} is {raw!r}"
            return value, f"{path} = {_list_text(value)} is not allowed: {element}; expected {allowed}"
        out.append(float(x))
    return tuple(out), None


def _check_value(path: str, value: Any, f: dataclasses.Field, kind: type) -> tuple[Any, str | None]:
    """Coerce ``value`` to ``kind`` if lossless; return (value, problem or None)."""
    if is_number_list(kind):
        return _check_number_list(path, value, f, kind)
    value = _plain_number(value)
    coerced = _coerced(value, f, kind)
    if coerced is _REFUSED:  # the message is worked out only for a value refused (every run builds one)
        return value, f"{path} = {value!r} is not allowed: expected {allowed_text(f, kind)}"
    return coerced, None


_REFUSED = object()


def _coerced(value: Any, f: dataclasses.Field, kind: type) -> Any:
    """``value`` as ``kind`` when it is allowed, else ``_REFUSED``."""
    if kind is bool:
        return value if isinstance(value, bool) else _REFUSED
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                return _REFUSED
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _REFUSED
        value = float(value)
        if not math.isfinite(value):
            return _REFUSED
    elif kind is str and not isinstance(value, str):
        return _REFUSED
    m = f.metadata
    if m.get("choices") and value not in m["choices"]:
        return _REFUSED
    if kind in (int, float) and _out_of_range(value, m):
        return _REFUSED
    return value


def build(
    cls: type,
    data: Mapping[str, Any],
    path: str = "",
    problems: list[str] | None = None,
    refused: set[str] | None = None,
):
    """Build dataclass ``cls`` from ``data``; raise :class:`ScenarioError` listing every problem.

    Missing keys take their defaults. Nested dataclass fields are built from nested tables.
    After the fields, the class's ``problems(path)`` (if any) adds cross-field problems, except those
    that name a key whose own value was refused. ``refused`` collects those keys over the recursion.
    """
    top = problems is None
    problems = [] if problems is None else problems
    refused = set() if refused is None else refused  # dotted keys whose value was refused
    if not isinstance(data, Mapping):
        problems.append(f"{path or 'scenario'} must be a table of keys, got {data!r}")
        if top:
            raise ScenarioError(problems)
        return None
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            if where in RETIRED_KEYS:
                problems.append(f"{where!r} was retired: {RETIRED_KEYS[where]}")
                continue
            known = ", ".join(sorted(fields))
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown key {where!r}{hint}: allowed keys here are {known}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            continue
        where = f"{path}.{name}" if path else name
        kind = _field_kind(cls, f)
        if dataclasses.is_dataclass(kind):
            kwargs[name] = build(kind, data[name], where, problems, refused)
        else:
            value, problem = _check_value(where, data[name], f, kind)
            if problem:
                problems.append(problem)
                refused.add(where)
            else:
                kwargs[name] = value
    obj = None
    if not any(v is None for v in kwargs.values()):
        try:
            obj = cls(**kwargs)
        except TypeError as exc:  # pragma: no cover - field set mismatch is a programming error
            problems.append(f"{path or 'scenario'}: {exc}")
    if obj is not None and hasattr(obj, "problems"):
        # A refused value stands at its default here: a rule about it would name a value the file
        # never gave, so rules that name a refused key are left out (its own problem is listed).
        problems.extend(p for p in obj.problems(path) if not any(_names(p, key) for key in refused))
    if top and problems:
        raise ScenarioError(problems)
    return obj


def _names(problem: str, key: str) -> bool:
    """Whether ``problem`` names the dotted ``key`` itself (not a longer key it is a part of)."""
    return re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", problem) is not None


def to_dict(obj: Any) -> dict[str, Any]:
    """The plain nested dict of a built dataclass tree (the inverse of :func:`build`)."""
    return dataclasses.asdict(obj)


def field_docs(cls: type, prefix: str = "") -> list[tuple[str, str, Any, str]]:
    """Every leaf field of ``cls`` as (dotted key, allowed values, default, docstring)."""
    rows = []
    for f in dataclasses.fields(cls):
        kind = _field_kind(cls, f)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(kind):
            rows.extend(field_docs(kind, key + "."))
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append((key, allowed_text(f, kind), default, f.metadata["doc"]))
    return rows
