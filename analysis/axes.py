"""The varied parameters of a sweep as axes: numeric or categorical, grid or sampled, and the shape.

Which analysis answers a sweep depends on its shape:

* ``none`` — nothing varies (or every numeric parameter has one level): verdict counts only;
* ``categorical`` — only named choices vary: verdicts side by side per category;
* ``1-D`` — one numeric axis: thresholds along it (every sign change of a margin);
* ``2-D`` — two numeric grid axes: boundary curves in x per level of y;
* ``n-D`` — three or more numeric grid axes: boundary curves on 2-D slices;
* ``sampled`` — a sampled design (lhs, sobol, …) with two or more numeric axes: boundaries from a
  fitted surface of the margin over (x, y).

A grid axis is read level by level and never binned: it is one when the sweep's design is a grid
or the parameter is a list of values (``parameter_specs`` in the manifest). Older manifests lack the
specs; there an axis of a sampled design counts as a grid axis when its values repeat (at most half
as many levels as points, and at most :data:`MAX_GRID_LEVELS`).

A whole-number axis (a strike count, a population: ``kind = "int"`` in its spec, else an integer
column) is never evaluated at fractions: in a sampled design it is read level by level when it has
at most :data:`MAX_GRID_LEVELS` distinct values, and otherwise evaluated at whole numbers
(:func:`evaluation_levels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.settings import SAMPLED_DESIGNS

SLASH = "slashing.slash_fraction"
#: The tokenless federation's service fee (fiat per unit of the fee basis): its closed form's axis.
SERVICE_FEE = "regime.service_fee_fiat"
#: Parameters read as "the reward level", preferred for y.
REWARD_HINTS = ("emission.initial_tokens_per_round", "emission.trainer_share")
#: Older manifests only: most levels an axis of a sampled design may have to count as a grid axis.
MAX_GRID_LEVELS = 40
#: Most 2-D slices an n-D sweep is cut into by default.
MAX_SLICES = 9


@dataclass(frozen=True)
class Axis:
    """One varied parameter as the analysis reads it."""

    path: str
    """Dotted scenario key."""
    numeric: bool
    """Levels are numbers (ints or floats); otherwise names, e.g. a reward rule."""
    grid: bool
    """Read level by level (a grid's levels or a list of values); otherwise sampled values."""
    levels: tuple[Any, ...]
    """The distinct values with runs, sorted."""
    low: float = math.nan
    """Numeric axes: the lower end of the swept range (the spec's, else the data's)."""
    high: float = math.nan
    """Numeric axes: the upper end of the swept range."""
    scale: str = "linear"
    """``linear`` or ``log``: how the range was sampled, used to scale it onto [0, 1]."""
    integer: bool = False
    """Levels are whole numbers (a strike count, a population): never evaluated at fractions."""

    def to_unit(self, values) -> np.ndarray:
        """``values`` mapped onto [0, 1] over the range, on the axis's scale."""
        v = np.asarray(values, dtype=float)
        if self.scale == "log" and self.low > 0:
            lo, hi, v = math.log(self.low), math.log(self.high), np.log(v)
        else:
            lo, hi = self.low, self.high
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)

    def from_unit(self, u) -> np.ndarray:
        """The inverse of :meth:`to_unit`."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log" and self.low > 0:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


def _specs(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        s["path"]: s for s in manifest.get("parameter_specs") or [] if isinstance(s, dict) and "path" in s
    }


def read_axes(results: pd.DataFrame, parameters: list[str], manifest: dict[str, Any]) -> list[Axis]:
    """The axes of ``parameters``, in sweep order."""
    design = manifest.get("design", "grid")
    specs = _specs(manifest)
    ok = results[results["status"] == "ok"] if "status" in results else results
    n_points = max(len(ok.drop_duplicates(parameters)), 1) if parameters else 1
    axes = []
    for path in parameters:
        column = results[path]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        levels = tuple(sorted(column.dropna().unique().tolist(), key=lambda v: (str(type(v)), v)))
        spec = specs.get(path)
        integer = numeric and _whole_numbers(column, spec)
        if design not in SAMPLED_DESIGNS or not numeric:
            grid = True
        elif integer and len(levels) <= MAX_GRID_LEVELS:
            grid = True  # few whole numbers: each level is a value the parameter really takes
        elif spec is not None:
            grid = spec.get("kind") == "list"
        else:  # an older manifest: a sampled axis whose values repeat is a list's
            grid = len(levels) <= min(MAX_GRID_LEVELS, n_points / 2)
        low = high = math.nan
        scale = "linear"
        if numeric and levels:
            low, high = float(min(levels)), float(max(levels))
            if spec is not None and spec.get("low") is not None and spec.get("high") is not None:
                low, high = float(spec["low"]), float(spec["high"])
                scale = spec.get("scale") or "linear"
        axes.append(Axis(path, numeric, grid, levels, low, high, scale, integer))
    return axes


def _whole_numbers(column: pd.Series, spec: dict[str, Any] | None) -> bool:
    """A parameter of whole numbers: its spec says ``kind = "int"``, else its column is integer."""
    if spec is not None and spec.get("kind") in ("int", "real"):
        return spec["kind"] == "int"
    return pd.api.types.is_integer_dtype(column)


def evaluation_levels(axis: Axis, count: int = 9) -> list[Any]:
    """The levels of ``axis`` a fitted boundary is evaluated at: a grid axis's own levels;
    otherwise ``count`` evenly spaced values over the range (on its scale), rounded to distinct
    whole numbers for an integer axis."""
    if axis.grid:
        return list(axis.levels)
    values = axis.from_unit(np.linspace(0.0, 1.0, count))
    if axis.integer:
        return [int(v) for v in np.unique(np.round(values))]
    return [float(v) for v in values]


def varying_numeric(axes: list[Axis]) -> list[Axis]:
    """Numeric axes with two or more levels (a single level is a fixed value, not an axis)."""
    return [a for a in axes if a.numeric and len(a.levels) >= 2]


def shape_of(axes: list[Axis], design: str | None) -> str:
    """The sweep's shape (see the module docstring)."""
    numeric = varying_numeric(axes)
    if not numeric:
        return "categorical" if any(not a.numeric for a in axes) else "none"
    if len(numeric) == 1:
        return "1-D"
    if design in SAMPLED_DESIGNS and any(not a.grid for a in numeric):
        return "sampled"
    return "2-D" if len(numeric) == 2 else "n-D"


def choose_axes(numeric: list[str]) -> tuple[str | None, str | None]:
    """x: the slash fraction if varied, else the tokenless service fee if varied, else the first
    numeric axis — the closed forms' axes first; y: a reward level if varied, else the next numeric
    axis (None when there is only one)."""
    if not numeric:
        return None, None
    x = next((p for p in (SLASH, SERVICE_FEE) if p in numeric), numeric[0])
    rest = [p for p in numeric if p != x]
    y = next((p for p in REWARD_HINTS if p in rest), rest[0] if rest else None)
    return x, y


def default_slice_levels(axes: list[Axis], cap: int = MAX_SLICES) -> tuple[dict[str, list[Any]], bool]:
    """The lowest, middle and highest level of each slice axis, fewer for later axes past ``cap``.

    Returns (levels per axis, whether any axis was cut down to respect the cap). An axis is cut
    from three levels to two (lowest, highest), then to one (the middle), last axis first.
    """
    levels = {a.path: _ends_and_middle(a.levels) for a in axes}
    cut = False
    for a in reversed(axes):
        while math.prod(len(v) for v in levels.values()) > cap and len(levels[a.path]) > 1:
            current = levels[a.path]
            levels[a.path] = [current[0], current[-1]] if len(current) == 3 else [_middle(a.levels)]
            cut = True
    return levels, cut


def _middle(levels: tuple[Any, ...]) -> Any:
    return levels[(len(levels) - 1) // 2]


def _ends_and_middle(levels: tuple[Any, ...]) -> list[Any]:
    picks = [levels[0], _middle(levels), levels[-1]]
    return list(dict.fromkeys(picks))  # an axis of one or two levels gives fewer, without repeats


def named_slice_levels(axes: list[Axis], named: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Check user-named slice levels against the axes; defaults fill the axes not named.

    Raises ValueError naming an unknown axis (and the slice axes allowed) or a level the sweep has
    no runs at (and the levels it has).
    """
    by_path = {a.path: a for a in axes}
    levels, _ = default_slice_levels(axes, cap=10**9)
    for path, wanted in named.items():
        if path not in by_path:
            allowed = ", ".join(by_path) or "none (this sweep has no slice axes)"
            raise ValueError(f"slices names {path!r}, which is not a slice axis; allowed: {allowed}")
        wanted = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
        if not wanted:
            raise ValueError(f"slices[{path!r}] is empty; name one or more of its levels")
        matched = [match_level(by_path[path].levels, w) for w in wanted]
        for w, m in zip(wanted, matched, strict=True):
            if m is None:
                raise ValueError(
                    f"slices[{path!r}] names level {w!r}, which the sweep has no runs at; "
                    f"its levels are {', '.join(repr(v) for v in by_path[path].levels)}"
                )
        levels[path] = list(dict.fromkeys(matched))
    return levels


def match_level(levels: tuple[Any, ...], wanted: Any) -> Any:
    """The level equal to ``wanted`` (numbers within rounding), or None."""
    for level in levels:
        if isinstance(level, int | float | np.number) and isinstance(wanted, int | float | np.number):
            if math.isclose(float(level), float(wanted), rel_tol=1e-9, abs_tol=1e-12):
                return level
        elif level == wanted:
            return level
    return None


def at_levels(frame: pd.DataFrame, fixed: dict[str, Any]) -> pd.DataFrame:
    """The rows of ``frame`` whose columns take the ``fixed`` levels (numbers within rounding)."""
    keep = np.ones(len(frame), dtype=bool)
    for column, level in fixed.items():
        values = frame[column]
        if isinstance(level, int | float | np.number) and pd.api.types.is_numeric_dtype(values):
            keep &= np.isclose(values.to_numpy(float), float(level), rtol=1e-9, atol=1e-12)
        else:
            keep &= (values == level).to_numpy()
    return frame[keep]
