"""Boundaries in two varied parameters: where a margin crosses zero, with its confidence band.

For a parameter ``x`` (say the slash fraction) and each level of another, ``y`` (say the reward
per round), the boundary is the ``x`` at which a point statistic changes sign, found by linear
interpolation between neighbouring points. Using the worst mix's mean gives the estimate; using
its one-sided upper and lower bounds gives the band around it:

* a **rising** margin (honest minus cheating, which grows with slashing) crosses where deterrence
  starts — the minimum slash fraction at that reward level. Its upper bound crosses first (the
  band's low end) and its lower bound last (the high end).
* a **falling** margin (honest profit minus the outside option, which false-positive slashing
  erodes) crosses where participation stops. Its lower bound crosses first.

Between the deterrence and participation boundaries lies the safe band for slashing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

INSIDE, BELOW, ABOVE = "inside", "below range", "above range"


def crossing(x: np.ndarray, v: np.ndarray, rising: bool) -> tuple[float, str]:
    """The first ``x`` where ``v`` crosses zero upward (``rising``) or downward, interpolated.

    Returns (x, where): ``where`` is ``inside`` for a crossing found between two points,
    ``below range`` when ``v`` is already past zero at the first point, ``above range`` when it
    never gets there (x is then NaN). Points with NaN are skipped.
    """
    keep = ~np.isnan(v)
    x, v = np.asarray(x, float)[keep], np.asarray(v, float)[keep]
    if len(x) == 0:
        return math.nan, ABOVE
    sign = v if rising else -v  # look for sign going from < 0 to >= 0
    if sign[0] >= 0:
        return float(x[0]), BELOW
    for i in range(len(x) - 1):
        if sign[i] < 0 <= sign[i + 1]:
            if math.isinf(sign[i]) or math.isinf(sign[i + 1]):
                return float(x[i + 1]), INSIDE
            t = -sign[i] / (sign[i + 1] - sign[i])
            return float(x[i] + t * (x[i + 1] - x[i])), INSIDE
    return math.nan, ABOVE


def boundary(classified: pd.DataFrame, x: str, y: str, name: str, rising: bool) -> pd.DataFrame:
    """Per level of ``y``: the boundary in ``x`` of statistic ``name`` and its band.

    ``classified`` is the output of ``dominance.classify`` (worst-mix ``<name>_mean``,
    ``_lower`` and ``_upper`` per point). Columns: ``y`` value, ``estimate``, ``band_low``,
    ``band_high``, and ``where``: ``inside`` (a crossing between two swept points), ``below range``
    (already past zero at the first point) or ``above range`` (never gets there). Outside the range
    the estimate and band are NaN; a band end whose bound never crosses inside the range is ±inf.
    """
    rows = []
    for level, group in classified.groupby(y, sort=True):
        g = group.sort_values(x)
        xs = g[x].to_numpy(float)
        estimate, where = crossing(xs, g[f"{name}_mean"].to_numpy(float), rising)
        first, first_where = crossing(
            xs, g[f"{name}_upper" if rising else f"{name}_lower"].to_numpy(float), rising
        )
        last, last_where = crossing(
            xs, g[f"{name}_lower" if rising else f"{name}_upper"].to_numpy(float), rising
        )
        row = {y: level, "estimate": math.nan, "band_low": math.nan, "band_high": math.nan, "where": where}
        if where == INSIDE:
            row["estimate"] = estimate
            row["band_low"] = first if first_where == INSIDE else -math.inf
            row["band_high"] = last if last_where == INSIDE else math.inf
        rows.append(row)
    return pd.DataFrame(rows)


def grid_like(results: pd.DataFrame, column: str, max_levels: int = 40) -> bool:
    """Whether ``column`` takes few enough distinct values to be treated as a grid axis."""
    return results[column].nunique() <= max_levels


def binned(results: pd.DataFrame, columns: list[str], bins: int = 12) -> pd.DataFrame:
    """``results`` with each of ``columns`` replaced by the middle of its quantile bin.

    Lets a sampled design (Latin hypercube, Sobol', Monte Carlo) be read like a grid. Columns that
    already take few values are left alone.
    """
    out = results.copy()
    for column in columns:
        if grid_like(out, column) or not pd.api.types.is_numeric_dtype(out[column]):
            continue
        codes, edges = pd.qcut(out[column], bins, retbins=True, labels=False, duplicates="drop")
        middles = (edges[:-1] + edges[1:]) / 2
        out[column] = middles[codes.to_numpy()]
    return out
