"""What each part of the report looks at: panels per design and slice, payoff statistics at the
levels where a boundary lies, and representative points for the round-by-round view.

These select and summarise rows of the findings; they draw nothing (``figures``) and write no HTML
(``page``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import boundaries
from analysis.dominance import interval
from analysis.findings import Findings, short
from analysis.report.figures import Panel, level_label

STRATEGIES = ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator")
#: Payoff panels: at most this many levels of y.
MAX_PAYOFF_LEVELS = 4


def _matches(table: pd.DataFrame | None, selection: dict) -> pd.DataFrame | None:
    """Rows of ``table`` whose columns equal every value in ``selection`` (columns it lacks are
    ignored: an old table without a design column matches any design)."""
    if table is None:
        return None
    mask = np.ones(len(table), dtype=bool)
    for column, value in selection.items():
        if column in table:
            mask &= _equal(table[column], value)
    return table[mask]


def _equal(column: pd.Series, value) -> np.ndarray:
    if isinstance(value, float | np.floating) and pd.api.types.is_numeric_dtype(column):
        return np.isclose(column.to_numpy(float), float(value))
    return (column == value).to_numpy()


def slice_title(design: str, where: dict, several_designs: bool) -> str:
    """A panel's title: the design (when there are several) and the slice's fixed levels."""
    parts = [f"design: {design}"] if several_designs else []
    parts += [f"{short(axis)} = {level_label(level)}" for axis, level in where.items()]
    return "; ".join(parts)


def panels(f: Findings) -> list[Panel]:
    """One panel per (design, slice) for the two-parameter views."""
    out = []
    several = len(f.designs) > 1
    for design in f.designs:
        for where in f.slices or [{}]:
            selection = {"design": design, **where}
            out.append(
                Panel(
                    title=slice_title(design, where, several),
                    classified=_matches(f.classified, selection),
                    deterrence=_matches(f.deterrence, selection),
                    participation=_matches(f.participation, selection),
                    analytic=_matches(f.analytic, selection),
                )
            )
    return [p for p in out if p.classified is not None and len(p.classified)]


def boundary_levels(f: Findings, design: str) -> list:
    """Levels of y at which the deterrence or participation boundary lies inside the swept range
    (first design's slice), at most ``MAX_PAYOFF_LEVELS``, evenly picked; all levels if none."""
    if f.y is None:
        return [None]
    levels = []
    for table in (f.deterrence, f.participation):
        rows = _matches(table, {"design": design, **(f.slices[0] if f.slices else {})})
        if rows is not None and len(rows):
            levels += rows.loc[rows["where"] == boundaries.INSIDE, f.y].tolist()
    classified = _matches(f.classified, {"design": design})
    every = sorted(classified[f.y].unique(), key=_sort_key) if f.y in classified else []
    chosen = sorted(set(levels) & set(every), key=_sort_key) or every
    if len(chosen) > MAX_PAYOFF_LEVELS:
        picks = np.linspace(0, len(chosen) - 1, MAX_PAYOFF_LEVELS).round().astype(int)
        chosen = [chosen[i] for i in sorted(set(picks))]
    return chosen


def _sort_key(value):
    return (
        (0, float(value), "")
        if isinstance(value, int | float | np.integer | np.floating)
        else (1, 0.0, str(value))
    )


def payoff_statistics(f: Findings, design: str, mix: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean payoff per strategy with a two-sided ``confidence`` interval over replications, at each
    x of the levels :func:`boundary_levels` picks: columns panel, <y>, <x>, strategy, unit ('pi' =
    per unit of capital per round, 'fiat' = fiat per owner per round), mean, low, high, n."""
    ok = f.results[f.results["status"] == "ok"]
    ok = ok[(ok["mix"] == mix) & (_equal(ok["design"], design) if "design" in ok else True)]
    if f.slices:
        for axis, level in f.slices[0].items():
            ok = ok[_equal(ok[axis], level)]
    one_sided = 1 - (1 - confidence) / 2  # interval() gives one-sided bounds; two of them make this
    rows = []
    for level in boundary_levels(f, design):
        at = ok if level is None else ok[_equal(ok[f.y], level)]
        panel = "all points" if level is None else f"{short(f.y)} = {level_label(level)}"
        for x_value, group in at.groupby(f.x, sort=True):
            for strategy in STRATEGIES:
                for unit, column in (("pi", f"pi_{strategy}"), ("fiat", f"profit_fiat_per_round_{strategy}")):
                    if column not in group:
                        continue
                    mean, _, low, high, n = interval(group[column], one_sided)
                    if n == 0:
                        continue
                    row = {"panel": panel, f.x: x_value, "strategy": strategy, "unit": unit}
                    if f.y is not None:
                        row[f.y] = level
                    rows.append(
                        row | {"mean": mean, "low": _finite(low, mean), "high": _finite(high, mean), "n": n}
                    )
    return pd.DataFrame(rows)


def _finite(bound: float, mean: float) -> float:
    """An open bound (one replication) is drawn as no band at all, not an infinite one."""
    return bound if math.isfinite(bound) else mean


def representative_points(f: Findings, design: str) -> list[tuple[str, pd.Series]]:
    """Up to three points at a boundary level of y (first mix): one where honesty fails, one near
    the deterrence boundary and one where it dominates — as (label, run ids of its replications)."""
    if f.x is None:
        return []
    level = boundary_levels(f, design)[len(boundary_levels(f, design)) // 2]
    selection = {"design": design, **(f.slices[0] if f.slices else {})}
    if level is not None:
        selection[f.y] = level
    at = _matches(f.classified, selection).sort_values(f.x)
    if at.empty:
        return []
    chosen = []
    failing = at[at["honesty"] == "fails"]
    if len(failing):
        chosen.append(("fails", failing.iloc[len(failing) // 2][f.x]))
    rows = _matches(f.deterrence, selection)
    if rows is not None and len(rows) and (rows["where"] == boundaries.INSIDE).any():
        estimate = rows.loc[rows["where"] == boundaries.INSIDE, "estimate"].iloc[0]
        chosen.append(("near the boundary", at.iloc[int((at[f.x] - estimate).abs().argmin())][f.x]))
    winning = at[at["honesty"] == "dominates"]
    if len(winning):
        chosen.append(("dominates", winning.iloc[len(winning) // 2][f.x]))
    mix = (f.manifest.get("mixes") or ["base"])[0]
    results = _matches(
        f.results, {k: v for k, v in selection.items() if k != "design" or "design" in f.results}
    )
    results = results[results["mix"] == mix]
    picks, seen = [], set()
    for label, x_value in chosen:
        if x_value in seen:
            continue
        seen.add(x_value)
        runs = results.loc[_equal(results[f.x], x_value), "run_id"]
        where = f"{short(f.x)} {level_label(x_value)}" + (
            f", {short(f.y)} {level_label(level)}" if level is not None else ""
        )
        picks.append((f"{label}: {where}", runs))
    return picks
