"""The closed form over a sweep: analytic deterrence and participation bounds for its points.

Where the abstract mode's closed form applies (``model.analytic``), the bounds of DESIGN.md §5 are
computed for the same scenarios the sweep ran, robust over its mixes like the simulation — the
deterrence bound is the largest over mixes and deviations present, the participation bound the
smallest over mixes — so the report can draw them over the simulated boundaries and say how far
apart they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from model import Scenario, analytic, with_overrides

SLASH = "slashing.slash_fraction"
DEVIATIONS = ("lazy", "sybil", "poisoning")


def deviations_present(s: Scenario) -> list[str]:
    """The cheating strategies with any owners in ``s``."""
    kinds = {k.name: k.identities for k in analytic.trainer_kinds(s)}
    return [d for d in DEVIATIONS if kinds[d] > 0]


def bounds_for(s: Scenario) -> tuple[float, float]:
    """(deterrence, participation) slash fractions for one scenario."""
    present = deviations_present(s)
    deterrence = max((analytic.deterrence_bound_slash_fraction(s, d) for d in present), default=-math.inf)
    return deterrence, analytic.participation_bound_slash_fraction(s)


def analytic_bounds(
    base: Scenario, mixes: Iterable[tuple[str, dict[str, Any]]], y: str | None, levels: Iterable[Any]
) -> pd.DataFrame:
    """Per level of ``y``: the analytic deterrence and participation slash fractions.

    Columns: ``y`` (when given), ``deterrence``, ``participation`` and ``assumptions`` (the
    closed form's assumptions that any mix at that level breaks; empty means exact).
    """
    rows = []
    for level in levels if y is not None else [None]:
        deterrence, participation, broken = -math.inf, math.inf, set()
        for _, overrides in mixes:
            s = with_overrides(base, ({y: level} if y is not None else {}) | overrides)
            d, p = bounds_for(s)
            deterrence, participation = max(deterrence, d), min(participation, p)
            broken.update(analytic.assumptions_violated(s))
        row = {"deterrence": deterrence, "participation": participation, "assumptions": sorted(broken)}
        rows.append(({y: level} if y is not None else {}) | row)
    return pd.DataFrame(rows)


def boundary_distance(simulated: pd.DataFrame, analytic_table: pd.DataFrame, y: str, column: str) -> float:
    """Mean absolute distance between simulated boundary estimates and analytic bounds.

    Only levels where both are finite and the simulated boundary lies inside the swept range count;
    NaN when there are none.
    """
    merged = simulated.merge(analytic_table, on=y)
    merged = merged[(merged["where"] == "inside") & np.isfinite(merged[column])]
    if merged.empty:
        return math.nan
    return float((merged["estimate"] - merged[column]).abs().mean())
