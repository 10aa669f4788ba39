"""The closed form over a sweep: analytic deterrence and participation bounds for its points.

Where the abstract mode's closed form applies (``model.analytic``), the deterrence and
participation bounds are computed for the same scenarios the sweep ran — each design's, at each
level of y and each slice or category — robust over the mixes like the simulation: the deterrence
bound is the largest over mixes and deviations present, the participation bound the smallest over
mixes. The report draws them over the simulated boundaries and says how far apart they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from analysis.settings import scenario_for
from model import Scenario, ScenarioError, analytic
from model.kpis import TRAINER_DEVIATIONS


def deviations_present(s: Scenario) -> list[str]:
    """The cheating strategies with any owners in ``s``."""
    kinds = {k.name: k.identities for k in analytic.trainer_kinds(s)}
    return [d for d in TRAINER_DEVIATIONS if kinds[d] > 0]


def bounds_for(s: Scenario) -> tuple[float, float]:
    """(deterrence, participation) slash fractions for one scenario (±inf: none / any)."""
    present = deviations_present(s)
    deterrence = max((analytic.deterrence_bound_slash_fraction(s, d) for d in present), default=-math.inf)
    return deterrence, analytic.participation_bound_slash_fraction(s)


def bounds_over(scenarios: Iterable[Scenario]) -> dict[str, Any]:
    """Deterrence (largest), participation (smallest) and the broken assumptions over scenarios."""
    deterrence, participation, broken = -math.inf, math.inf, set()
    for s in scenarios:
        d, p = bounds_for(s)
        deterrence, participation = max(deterrence, d), min(participation, p)
        broken.update(analytic.assumptions_violated(s))
    return {
        "deterrence": deterrence,
        "participation": participation,
        "assumptions": sorted(broken),
        "deterrence_feasible": bool(0.0 <= deterrence <= 1.0),
        "participation_feasible": bool(0.0 <= participation <= 1.0),
    }


def analytic_table(
    manifest: dict[str, Any],
    mixes: list[str],
    groups: list[dict[str, Any]],
    settings: list[dict[str, Any]] | None = None,
) -> pd.DataFrame | None:
    """The analytic bounds for each group (``{"design": …, axis: level, …}``): one row per group.

    Each scenario is the one the sweep ran: base → the group's design → each mix → the swept
    values ``settings[i]`` (by default the group's own levels other than ``design``); pass every
    swept parameter's value there, or a parameter the group does not name takes the base value.
    Columns: the group's keys, ``deterrence`` and ``participation`` (slash fractions, ±inf: none /
    any), ``assumptions`` (the closed form's assumptions some mix breaks; empty means exact) and
    ``deterrence_feasible`` / ``participation_feasible`` (the bound lies in [0, 1]). None when the
    manifest does not record its base scenario. A combination the scenario refuses gets NaN bounds
    and the reason in ``assumptions``.
    """
    if settings is None:
        settings = [{k: v for k, v in group.items() if k != "design"} for group in groups]
    rows = []
    for group, values in zip(groups, settings, strict=True):
        design = group.get("design", "base")
        at = {k: _plain(v) for k, v in values.items()}
        try:
            scenarios = [scenario_for(manifest, design, mix, at) for mix in mixes]
        except ScenarioError as exc:
            row = {
                "deterrence": math.nan,
                "participation": math.nan,
                "assumptions": [f"scenario refused: {p}" for p in exc.problems],
                "deterrence_feasible": False,
                "participation_feasible": False,
            }
        else:
            if any(s is None for s in scenarios):
                return None
            row = bounds_over(scenarios)
        rows.append(group | row)
    return pd.DataFrame(rows)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it stands for."""
    return value.item() if isinstance(value, np.generic) else value


def boundary_distance(
    simulated: pd.DataFrame,
    analytic_table: pd.DataFrame,
    y: str | None,
    column: str,
    on: list[str] | None = None,
) -> float:
    """Mean absolute distance between simulated boundary estimates and analytic bounds.

    Rows are matched on ``on`` (default: ``y``). Only rows where both are finite and the simulated
    boundary lies inside the swept range count; NaN when there are none.
    """
    keys = on if on is not None else [y]
    merged = simulated.merge(analytic_table, on=keys)
    merged = merged[(merged["where"] == "inside") & np.isfinite(merged[column].astype(float))]
    if merged.empty:
        return math.nan
    return float((merged["estimate"] - merged[column]).abs().mean())
