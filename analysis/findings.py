"""Everything the report says about a sweep, computed once: dominance, boundaries, theory, regions.

``analyze(directory)`` reads a (finished or partial) sweep's results and returns a
:class:`Findings` — DataFrames a notebook can use directly, plus the plain-words summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import boundaries, dominance, theory
from analysis.sweep.store import ResultStore
from model import Scenario, ScenarioError, scenario_from_dict

SLASH = "slashing.slash_fraction"
REWARD_HINTS = ("emission.initial_tokens_per_round", "emission.trainer_share")
STRATEGY_LABELS = {
    "honest": "honest trainers",
    "lazy": "lazy free-riding",
    "sybil": "Sybil identities",
    "poisoning": "poisoning",
    "honest_validator": "honest validators",
    "copying_validator": "copying validators",
}


class NothingToReport(ValueError):
    """The results directory has no successful run to analyse; the message says why."""


@dataclass
class Findings:
    """What a sweep shows. Tables are pandas DataFrames; see each field."""

    directory: Path
    manifest: dict[str, Any]
    results: pd.DataFrame
    """Every run row (status ok or failed)."""
    parameters: list[str]
    x: str | None
    """The parameter across which boundaries are found (the slash fraction when varied)."""
    y: str | None
    """The parameter whose levels the boundaries are given at (a reward level when varied)."""
    classified: pd.DataFrame
    """One row per parameter point: verdicts and worst-mix margins (``dominance.classify``)."""
    per_mix: pd.DataFrame
    """One row per (point, mix): margins with bounds and mean payoffs (``point_statistics``)."""
    deterrence: pd.DataFrame | None = None
    """Simulated deterrence boundary per level of y (``boundaries.boundary``)."""
    participation: pd.DataFrame | None = None
    """Simulated participation boundary per level of y."""
    analytic: pd.DataFrame | None = None
    """Analytic bounds per level of y, when x is the slash fraction (``theory.analytic_bounds``)."""
    distances: dict[str, float] = field(default_factory=dict)
    """Mean |simulated − analytic| boundary, in x units, for deterrence and participation."""
    box: Any = None
    """PRIM box for "honesty dominates" over all varied parameters (``regions.find_box``)."""
    sensitivity: pd.DataFrame | None = None
    sensitivity_method: str = ""
    summary: list[str] = field(default_factory=list)
    """The findings in plain words, most important first."""

    @property
    def failures(self) -> pd.DataFrame:
        """The failed runs: id, point, mix, seed and the first line of the error."""
        failed = self.results[self.results["status"] == "failed"]
        first_line = failed["error"].astype(str).str.split("\n").str[0]
        return failed[["run_id", "point", "mix", "seed"]].assign(error=first_line)


def load_base(manifest: dict[str, Any]) -> Scenario | None:
    """The sweep's base scenario as the manifest recorded it (None for older manifests)."""
    data = manifest.get("base_scenario")
    if data is None:
        return None
    try:
        return scenario_from_dict(data)
    except ScenarioError:
        return None


def choose_axes(parameters: list[str], numeric: list[str]) -> tuple[str | None, str | None]:
    """x: the slash fraction if varied, else the first numeric parameter; y: a reward level if
    varied, else the next parameter (which may be categorical, e.g. the reward rule)."""
    if not numeric:
        return None, None
    x = SLASH if SLASH in numeric else numeric[0]
    rest = [p for p in parameters if p != x]
    y = next((p for p in REWARD_HINTS if p in rest), rest[0] if rest else None)
    return x, y


def analyze(directory: str | Path, confidence: float = 0.95) -> Findings:
    """Read a sweep's results directory and work out everything the report shows."""
    store = ResultStore(directory)
    manifest = store.read_manifest()
    results = store.load()
    if results.empty:
        raise NothingToReport(f"{directory} has no finished runs yet")
    parameters = dominance.parameter_columns(results)
    outside = _outside_option(manifest)
    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(results[p])]
    x, y = choose_axes(parameters, numeric)
    ok = results[results["status"] == "ok"]
    if ok.empty:
        raise NothingToReport(f"every run in {directory} failed; see the error column of its results")
    grid = boundaries.binned(results, [p for p in (x, y) if p]) if x else results
    f = Findings(
        directory=Path(directory),
        manifest=manifest,
        results=results,
        parameters=parameters,
        x=x,
        y=y,
        classified=dominance.classify(grid, confidence, outside),
        per_mix=dominance.point_statistics(grid, confidence, outside),
    )
    if x is not None and y is not None and _two_axes_only(f):
        f.deterrence = boundaries.boundary(f.classified, x, y, "trainers", rising=True)
        f.participation = boundaries.boundary(f.classified, x, y, "participation", rising=False)
        base = load_base(manifest)
        if base is not None and x == SLASH:
            mixes = [
                (name, overrides) for name, overrides in manifest.get("mix_overrides", {"base": {}}).items()
            ]
            f.analytic = theory.analytic_bounds(base, mixes, y, sorted(f.classified[y].unique()))
            f.distances = {
                "deterrence": theory.boundary_distance(f.deterrence, f.analytic, y, "deterrence"),
                "participation": theory.boundary_distance(f.participation, f.analytic, y, "participation"),
            }
    _regions(f, results)
    f.summary = summarise(f)
    return f


def _outside_option(manifest: dict[str, Any]) -> float:
    base = manifest.get("base_scenario") or {}
    return float(base.get("costs", {}).get("outside_option_return_per_round", 0.0))


def _two_axes_only(f: Findings) -> bool:
    """Boundaries over (x, y) are meaningful when no third parameter is varied alongside."""
    return len(f.parameters) == 2


def _regions(f: Findings, results: pd.DataFrame) -> None:
    """PRIM box and parameter ranking for 'honesty dominates' over all numeric parameters."""
    from analysis import regions, sensitivity

    numeric = [p for p in f.parameters if pd.api.types.is_numeric_dtype(results[p])]
    if not numeric:
        return
    if all(boundaries.grid_like(results, p) for p in f.parameters):
        points = f.classified  # nothing was binned: the same classification
    else:  # PRIM works on the sampled values themselves, not on their bins
        points = dominance.classify(results, outside_option=_outside_option(f.manifest))
    target = (points["honesty"] == dominance.DOMINATES).to_numpy()
    f.box = regions.find_box(points[numeric].astype(float), target)
    design = f.manifest.get("design")
    ok = results[results["status"] == "ok"]
    if design == "saltelli" and ok["margin_trainers"].notna().all() and len(ok) == len(results):
        # Sobol' indices need the design's block order (A, B, AB_1 … AB_d): average each design
        # point over its mixes and replications, in design order.
        n_mixes = max(len(f.manifest.get("mixes") or []), 1)
        per_design = results.groupby(results["point"] // n_mixes)["margin_trainers"].mean().to_numpy()
        try:
            f.sensitivity = sensitivity.sobol_indices(
                per_design, len(per_design) // (len(numeric) + 2), numeric
            )
            f.sensitivity_method = "Sobol' indices of the trainers' margin (bootstrap 95 % intervals)"
            return
        except ValueError:
            pass
    per_point = ok.groupby(numeric)["margin_trainers"].mean().reset_index()
    if len(per_point) >= 4 and per_point["margin_trainers"].std() > 0:
        f.sensitivity = sensitivity.rank_parameters(
            per_point[numeric].astype(float), per_point["margin_trainers"]
        )
        f.sensitivity_method = "correlation ratio η² (and Spearman ρ) of the trainers' margin, per point"


# -- the plain-words summary -------------------------------------------------------------------
def _fmt(value, digits: int = 3) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"


def short(parameter: str | None) -> str:
    """A parameter's name as people say it."""
    names = {
        SLASH: "slash fraction",
        "emission.initial_tokens_per_round": "tokens emitted per round",
        "emission.trainer_share": "trainers' share of emission",
    }
    if parameter is None:
        return ""
    return names.get(parameter, parameter.split(".")[-1].replace("_", " "))


def best_deviation(row: pd.Series) -> str:
    """The cheating strategy with the highest mean payoff at a per-mix point row."""
    candidates = {s: row.get(f"pi_{s}", np.nan) for s in ("lazy", "sybil", "poisoning")}
    candidates = {s: v for s, v in candidates.items() if not pd.isna(v)}
    return max(candidates, key=candidates.get) if candidates else "none"


def summarise(f: Findings) -> list[str]:
    """The findings in plain words, with the numbers behind each claim."""
    c = f.classified
    counts = c["honesty"].value_counts()
    mixes = f.manifest.get("mixes") or ["base"]
    lines = [
        f"Honesty dominates — honest trainers beat every cheating strategy by a margin whose 95 % "
        f"lower bound is above zero, and honest work pays at least the outside option — at "
        f"{counts.get('dominates', 0)} of {len(c)} parameter points under every population mix "
        f"({', '.join(mixes)}); it fails at {counts.get('fails', 0)} and is uncertain at "
        f"{counts.get('uncertain', 0)}."
    ]
    if f.deterrence is not None:
        lines += _boundary_sentences(f)
    v = c["validators"].value_counts()
    worst, best = c["validators_mean"].min(), c["validators_mean"].max()
    if v.get("fails", 0) == len(c):
        lines.append(
            f"Validators: copying the consensus beats honest evaluation at every point (margin "
            f"{_fmt(100 * worst)} to {_fmt(100 * best)} % of capital per round): the slashing bounty honest "
            "validators earn does not cover the cost of evaluating — the verifier's dilemma. A larger "
            "bounty share, commit-reveal against copying or a lower validation cost is needed."
        )
    else:
        lines.append(
            f"Validators: honest evaluation dominates copying at {v.get('dominates', 0)} of {len(c)} points "
            f"and fails at {v.get('fails', 0)} "
            f"(margin {_fmt(100 * worst)} to {_fmt(100 * best)} % per round)."
        )
    if f.analytic is not None:
        d = f.distances
        exact = all(not a for a in f.analytic["assumptions"])
        lines.append(
            f"Theory: the closed-form bounds {'apply exactly' if exact else 'apply only approximately'} "
            "here; "
            f"the simulated deterrence boundary lies on average {_fmt(d.get('deterrence', math.nan))} "
            f"(in slash fraction) from the analytic one, and the participation boundary "
            f"{_fmt(d.get('participation', math.nan))} from its analytic value."
        )
    failures = len(f.failures)
    if failures:
        lines.append(f"{failures} runs failed and are left out of every figure; they are listed at the end.")
    return lines


def _boundary_sentences(f: Findings) -> list[str]:
    out = []
    x_name, y_name = short(f.x), short(f.y)
    part = f.participation.set_index(f.y) if f.participation is not None else None
    for _, row in f.deterrence.iterrows():
        level = row[f.y]
        at = f"At {_fmt(level)} {y_name}"
        low = f.per_mix[(f.per_mix[f.y] == level)].sort_values(f.x)
        cheat = best_deviation(low.iloc[0]) if len(low) else "cheating"
        if row["where"] == boundaries.ABOVE:
            pays = STRATEGY_LABELS.get(cheat, cheat)
            text = f"{at}, no {x_name} in the swept range deters cheating ({pays} pays)"
        elif row["where"] == boundaries.BELOW:
            text = f"{at}, honest trainers out-earn every deviation even at the lowest {x_name} swept"
        else:
            text = (
                f"{at}, honest trainers out-earn every deviation for {x_name} ≥ {_fmt(row['estimate'])} "
                f"(95 % band {_fmt(row['band_low'])}–{_fmt(row['band_high'])}); below it "
                f"{STRATEGY_LABELS.get(cheat, cheat)} pays best"
            )
        if part is not None and level in part.index:
            p = part.loc[level]
            if p["where"] == boundaries.INSIDE:
                text += (
                    f"; above {_fmt(p['estimate'])} honest trainers' false-positive slashing losses push "
                    "their profit below the outside option"
                )
            elif p["where"] == boundaries.BELOW:
                text += "; but honest work does not pay its costs here at any slash fraction"
        out.append(text + ".")
    return out


def findings_table(f: Findings) -> pd.DataFrame:
    """The key numbers per level of y (or one row), for ``fedstake analyze``."""
    if f.deterrence is None:
        counts = f.classified["honesty"].value_counts()
        return pd.DataFrame([{k: int(counts.get(k, 0)) for k in ("dominates", "uncertain", "fails")}])
    table = f.deterrence.rename(
        columns={
            "estimate": "deterrence",
            "band_low": "det_low",
            "band_high": "det_high",
            "where": "det_where",
        }
    )
    table = table.merge(
        f.participation.rename(columns={"estimate": "participation", "where": "part_where"})[
            [f.y, "participation", "part_where"]
        ],
        on=f.y,
    )
    if f.analytic is not None:
        table = table.merge(
            f.analytic[[f.y, "deterrence", "participation"]].rename(
                columns={"deterrence": "det_analytic", "participation": "part_analytic"}
            ),
            on=f.y,
        )
    share = f.classified.groupby(f.y)["honesty"].apply(lambda s: (s == dominance.DOMINATES).mean())
    return table.merge(share.rename("share_dominates").reset_index(), on=f.y)
