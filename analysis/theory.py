"""The closed form over a sweep: analytic deterrence and participation bounds for its points.

Where a regime's closed form applies (``model.analytic``), the deterrence and participation bounds
are computed for the same scenarios the sweep ran — each design's, at each level of y and each
slice or category — robust over the mixes like the simulation. Each regime has its closed form's
axis (:data:`CLOSED_FORM_AXES`):

* the **token network**, along the slash fraction: deterrence is a lower bound (honest work beats
  every deviation above it) and participation an upper bound (false-positive slashes push honest
  profit below the outside option above it) — so the deterrence bound is the largest over mixes
  and deviations present, the participation bound the smallest over mixes;
* the **tokenless federation**, along the service fee (fiat per unit of the fee basis): both are
  lower bounds (a higher fee pays honest work more than a cheater, and pays it above zero) — so
  both are the largest over mixes (and deviations present).

A scenario of the other regime (say a tokenless category of a sweep along the slash fraction) is
not moved by the axis at all: each of its bounds is then "none needed" or "none helps" by the sign
of its margin, as the token bounds are without stake (``−inf`` / ``+inf``, see
:func:`flat_bounds`). The report draws the bounds over the simulated boundaries and says how far
apart they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.axes import SERVICE_FEE, SLASH
from analysis.dominance import MIXED_REGIMES
from analysis.settings import TOKEN, TOKENLESS, scenario_for
from model import Scenario, ScenarioError, analytic
from model.kpis import TRAINER_DEVIATIONS
from model.limits import MAX_COST_FIAT


@dataclass(frozen=True)
class ClosedFormAxis:
    """An axis a regime's closed form gives its bounds along."""

    regime: str
    """The regime whose payoffs the axis moves."""
    participation_lower: bool
    """Whether the participation bound is a lower bound on the axis (else an upper bound); the
    deterrence bound is a lower bound on both axes."""
    low: float
    """The smallest value the axis can take: a bound below it means "none needed"."""
    high: float
    """The largest value it can take: a bound above it is infeasible."""
    unit: str
    """What the bounds are measured in, in words."""


#: The closed forms' axes: the token bounds in slash fraction, the tokenless bounds in service fee.
CLOSED_FORM_AXES = {
    SLASH: ClosedFormAxis(TOKEN, participation_lower=False, low=0.0, high=1.0, unit="slash fraction"),
    SERVICE_FEE: ClosedFormAxis(
        TOKENLESS, participation_lower=True, low=0.0, high=MAX_COST_FIAT, unit="fiat of service fee"
    ),
}


def has_closed_form(x: str | None, regimes: Iterable[str]) -> bool:
    """Whether a sweep along ``x`` whose runs were played under ``regimes`` has analytic bounds to draw:
    ``x`` is a closed form's axis and some run was played under that axis's regime."""
    axis = CLOSED_FORM_AXES.get(x) if x is not None else None
    return axis is not None and axis.regime in set(regimes)


def deviations_present(s: Scenario) -> list[str]:
    """The cheating strategies with any owners in ``s``."""
    kinds = {k.name: k.identities for k in analytic.trainer_kinds(s)}
    return [d for d in TRAINER_DEVIATIONS if kinds[d] > 0]


def bounds_for(s: Scenario, x: str = SLASH) -> tuple[float, float]:
    """(deterrence, participation) along axis ``x`` for one scenario (±inf: none needed / none helps).

    The slash-fraction bounds for a token scenario along the slash fraction, the service-fee bounds
    for a tokenless one along the fee, and :func:`flat_bounds` for a scenario the axis does not move;
    NaN for a scenario without honest trainers (no margin to bound).
    """
    axis = CLOSED_FORM_AXES[x]
    if s.population.honest_trainers == 0:
        return math.nan, math.nan
    if s.regime.kind != axis.regime:
        return flat_bounds(s, axis)
    present = deviations_present(s)
    if axis.regime == TOKENLESS:
        deterrence = max((analytic.tokenless_deterrence_bound_fee(s, d) for d in present), default=-math.inf)
        return deterrence, analytic.tokenless_participation_bound_fee(s)
    deterrence = max((analytic.deterrence_bound_slash_fraction(s, d) for d in present), default=-math.inf)
    return deterrence, analytic.participation_bound_slash_fraction(s)


def flat_bounds(s: Scenario, axis: ClosedFormAxis) -> tuple[float, float]:
    """(deterrence, participation) of a scenario whose payoffs ``axis`` does not move.

    Each margin then holds at every level of the axis or at none, by its sign in ``s``'s own regime
    (honest payoff minus the best deviation's; honest payoff minus the outside option — ω on the
    token network's capital, 0 in the tokenless federation): a lower bound is ``−inf`` where it
    holds and ``+inf`` where it does not, an upper bound the other way round. NaN without honest
    trainers (there is no margin to sign).
    """
    if s.regime.kind == TOKENLESS:
        payoff = analytic.tokenless_expected_payoffs(s)["profit_fiat_per_round_per_owner"]
        outside = 0.0
    else:
        payoff = analytic.expected_payoffs(s)["pi"]
        outside = s.costs.outside_option_return_per_round
    if "honest" not in payoff or math.isnan(payoff["honest"]):
        return math.nan, math.nan
    best = max((payoff[d] for d in deviations_present(s) if d in payoff), default=-math.inf)
    deterrence = -math.inf if payoff["honest"] >= best else math.inf
    holds = payoff["honest"] >= outside
    if axis.participation_lower:
        return deterrence, -math.inf if holds else math.inf
    return deterrence, math.inf if holds else -math.inf


def bounds_over(scenarios: Iterable[Scenario], x: str = SLASH) -> dict[str, Any]:
    """Deterrence, participation and the broken assumptions over scenarios (the mixes of a point).

    Along the slash fraction: the largest deterrence bound and the smallest participation bound;
    along the service fee, the largest of both (each a lower bound). A scenario without honest
    trainers has no bounds and is left out; with none left the bounds are NaN. ``regime`` is the
    scenarios' regime (:data:`~analysis.dominance.MIXED_REGIMES` when they differ).
    """
    axis = CLOSED_FORM_AXES[x]
    deterrence = -math.inf
    participation = -math.inf if axis.participation_lower else math.inf
    broken: set[str] = set()
    regimes: set[str] = set()
    bounded = False
    for s in scenarios:
        broken.update(analytic.assumptions_violated(s))
        regimes.add(s.regime.kind)
        d, p = bounds_for(s, x)
        if math.isnan(d) and math.isnan(p):
            continue
        bounded = True
        deterrence = max(deterrence, d)
        participation = max(participation, p) if axis.participation_lower else min(participation, p)
    if not bounded:
        deterrence = participation = math.nan
    return {
        "deterrence": deterrence,
        "participation": participation,
        "assumptions": sorted(broken),
        "deterrence_feasible": bool(axis.low <= deterrence <= axis.high),
        "participation_feasible": bool(axis.low <= participation <= axis.high),
        "regime": next(iter(regimes)) if len(regimes) == 1 else MIXED_REGIMES,
    }


def analytic_table(
    manifest: dict[str, Any],
    mixes: list[str],
    groups: list[dict[str, Any]],
    settings: list[dict[str, Any]] | None = None,
    x: str = SLASH,
) -> pd.DataFrame | None:
    """The analytic bounds along ``x`` for each group (``{"design": …, axis: level, …}``): one row per group.

    Each scenario is the one the sweep ran: base → the group's design → each mix → the swept
    values ``settings[i]`` (by default the group's own levels other than ``design``); pass every
    swept parameter's value there, or a parameter the group does not name takes the base value.
    ``x`` is a closed form's axis (:data:`CLOSED_FORM_AXES`). Columns: the group's keys,
    ``deterrence`` and ``participation`` (in units of ``x``; ±inf: none needed / none helps),
    ``assumptions`` (the closed form's assumptions some mix breaks; empty means exact),
    ``deterrence_feasible`` / ``participation_feasible`` (the bound lies in the range ``x`` can
    take: [0, 1] for the slash fraction, [0, MAX_COST_FIAT] for the fee) and ``regime``. None when
    the manifest does not record its base scenario. A combination the scenario refuses gets NaN
    bounds and the reason in ``assumptions``.
    """
    if x not in CLOSED_FORM_AXES:
        raise ValueError(f"no closed form along {x!r}: allowed axes are {', '.join(CLOSED_FORM_AXES)}")
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
                "regime": None,
            }
        else:
            if any(s is None for s in scenarios):
                return None
            row = bounds_over(scenarios, x)
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
