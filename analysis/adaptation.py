"""Does the network become honest? The honest share of owners after adaptation, per point and mix.

With adaptation on, owners revise their strategy during a run (``adaptation.revision`` is
``imitation`` or ``logit``), or join and leave it, so a verdict on the incentives alone no longer
says what the network turns into. "Honesty dominates" then also asks that the network *ends*
honest: the honest owners' share of the active trainer owners after the last round
(``honest_trainer_share_final``, a Sybil owner counted once) is at least the level the sweep
names (``adaptation.honest_share_level``, default 0.9), read per run as the outside option is.

At a point θ with R replications under one population mix (a starting population), the final
share has a mean, a one-sided 95 % lower bound ``mean − t(0.95, R−1)·sd/√R`` and upper bound, and
a two-sided 95 % band ``mean ± t(0.975, R−1)·sd/√R`` (Student t over the replications, as
``analysis.dominance`` does for margins), each clipped to [0, 1], the range of a share; with one
replication the bounds are 0 and 1 (nothing can be concluded). With level L, under that mix the
network

* **ends honest** at θ when the lower bound is ≥ L;
* **falls short** of L when the upper bound is < L;
* is undecided otherwise — more replications would tell.

The **adaptive verdict** at θ (per tokenomics design, over its mixes, in ``dominance``'s words):
``dominates`` when the network ends honest under every mix, ``fails`` when it falls short under
some mix, ``uncertain`` otherwise — also when a mix has no run with a final share. From the same
statistics come the **basin of honesty** (per design and mix: does that starting population end
honest at every point, at some, at none), the **tipping points** (along each swept grid axis,
where a mix's mean final share crosses L — ``analysis.boundaries``' crossings of ``final share −
L``, banded by the crossings of the band's ends) and the **time to the level** with the owners
that entered and left.

A run whose final share is NaN — no trainer owner active at the end, or none at the start — is
left out of the share's statistics; :func:`missing_shares` counts such runs with the reason.

A run is **adaptive** when its scenario lets owners decide: ``adaptation.revision`` is not
``"none"``, ``adaptation.exit_rule`` is not ``"none"`` or ``adaptation.entry_candidates`` > 0
(:func:`adaptive_per_run`); a sweep is adaptive when some run is. Owners that leave because they ran
out of stake or were ejected do not make a run adaptive: that happens with fixed strategies too. A
point none of whose runs is adaptive (e.g. the ``"none"`` level of a swept revision rule) keeps the
margins' verdict alone: its adaptive verdict is :data:`NOT_ADAPTIVE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import boundaries, dominance
from analysis.axes import Axis, varying_numeric
from analysis.settings import value_per_run, with_design_column
from analysis.summary import band_text, short

REVISION = "adaptation.revision"
EXIT_RULE = "adaptation.exit_rule"
CANDIDATES = "adaptation.entry_candidates"
#: The adaptive verdict of a point whose runs do not adapt: honesty there is the margins' verdict.
NOT_ADAPTIVE = dominance.NOT_ADAPTIVE
LEVEL = "adaptation.honest_share_level"
#: What the model does when a scenario does not say (the contract's defaults).
NO_REVISION, DEFAULT_LEVEL = "none", 0.9
#: The runs table's adaptation KPIs.
INITIAL, FINAL = "honest_trainer_share_initial", "honest_trainer_share_final"
VALIDATOR_INITIAL, VALIDATOR_FINAL = "honest_validator_share_initial", "honest_validator_share_final"
ROUNDS_TO_LEVEL = "rounds_to_honest_share_level"
ENTERED, EXITED = "entered_owners", "exited_owners"
#: The trajectories' per-round shares of active trainer owners, validators, and owners joining or leaving.
TRAINER_SHARES = ("share_honest", "share_lazy", "share_sybil", "share_poisoning")
VALIDATOR_SHARES = ("share_honest_validator", "share_copying_validator")
FLOWS = ("entered_total", "exited_total")
#: A share this close to the level counts as at the level (shares are ratios of owner counts).
TOLERANCE = 1e-9
#: Where the network ends under one mix at one point (the ``ends`` column of :func:`point_statistics`).
ENDS_HONEST, ENDS_SHORT, UNDECIDED = "ends honest", "falls short", "undecided"
#: The columns of a tipping-point row after its grouping columns.
TIPPING_COLUMNS = tuple(c for c in boundaries.THRESHOLD_COLUMNS if c != "name")
#: A tipping-point row for a mix whose mean final share never crosses the level along the axis.
ABOVE_LEVEL, BELOW_LEVEL = "at or above the level throughout", "below the level throughout"


@dataclass
class Adaptation:
    """What an adaptive sweep shows about the honest share of owners. Tables are DataFrames."""

    per_mix: pd.DataFrame
    """One row per (design, point, mix): the final share's statistics (:func:`point_statistics`)."""
    classified: pd.DataFrame
    """One row per (design, point): the adaptive verdict over mixes (:func:`classify`)."""
    basin: pd.DataFrame
    """One row per (design, mix): the basin of honesty (:func:`basin`)."""
    tipping: pd.DataFrame
    """Tipping points along each swept grid axis (:func:`tipping_points`)."""
    timing: pd.DataFrame
    """One row per (design, mix): time to the level, entries and exits (:func:`timing`)."""
    missing: pd.DataFrame
    """One row per (design, mix, reason): ok runs without a final share (:func:`missing_shares`)."""
    revisions: list[str]
    """The revision rules the runs used (``none`` included when some runs kept their strategies)."""
    exit_rules: list[str]
    """The exit rules some runs used (empty: owners leave only out of stake or by ejection)."""
    static_runs: bool
    """Whether some runs do not adapt at all (:func:`adaptive_per_run`)."""
    entry: bool
    """Whether some runs had entry candidates."""
    levels: list[float]
    """The distinct levels the runs name, ascending."""
    rounds: list[int]
    """The distinct run lengths (rounds), ascending."""
    notes: list[str] = field(default_factory=list)
    """How it was computed, for the report's methods."""


# -- reading the runs ----------------------------------------------------------------------------
def setting_per_run(results: pd.DataFrame, manifest: dict[str, Any], key: str, default: Any) -> pd.Series:
    """Each run's value of scenario ``key`` (``settings.value_per_run``: swept, else mix, else design,
    else base). When neither the base scenario nor the scenario schema knows the key — results
    written before it existed — the base value is ``default``, the overrides still apply."""
    try:
        return value_per_run(results, manifest, key)
    except KeyError:
        base = _with_value(manifest.get("base_scenario") or {}, key.split("."), default)
        return value_per_run(results, manifest | {"base_scenario": base}, key)


def _with_value(tables: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of nested ``tables`` with ``value`` at ``path`` (the tables on the way copied, not changed)."""
    head, *rest = path
    inner = tables.get(head) if isinstance(tables.get(head), dict) else {}
    return tables | {head: _with_value(inner, rest, value) if rest else value}


def levels_per_run(results: pd.DataFrame, manifest: dict[str, Any]) -> pd.Series:
    """Each run's honest-share level, a float in (0, 1]; ValueError naming a level outside it."""
    raw = setting_per_run(results, manifest, LEVEL, DEFAULT_LEVEL)
    levels = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = raw[levels.isna() | (levels <= 0) | (levels > 1)]
    if len(bad):
        shown = ", ".join(repr(v) for v in dict.fromkeys(bad.tolist()))
        raise ValueError(f"{LEVEL} = {shown} is not allowed: expected a number in (0, 1]")
    return levels


def adaptive_per_run(results: pd.DataFrame, manifest: dict[str, Any]) -> pd.Series:
    """Whether each run's owners could decide: a revision rule they apply (probability > 0), an exit
    rule, or entry candidates who look (entry rate > 0)."""

    def number(key: str, default: float) -> pd.Series:
        return pd.to_numeric(setting_per_run(results, manifest, key, default), errors="coerce").fillna(
            default
        )

    revises = setting_per_run(results, manifest, REVISION, NO_REVISION).astype(str) != NO_REVISION
    revises &= number("adaptation.revision_probability", 0.5) > 0
    exits = setting_per_run(results, manifest, EXIT_RULE, "none").astype(str) != "none"
    enters = (number(CANDIDATES, 0) > 0) & (number("adaptation.entry_rate", 0.1) > 0)
    return (revises | exits | enters).astype(bool)


def is_adaptive(results: pd.DataFrame, manifest: dict[str, Any]) -> bool:
    """Whether some run of the sweep lets owners decide (:func:`adaptive_per_run`)."""
    return bool(len(results)) and bool(adaptive_per_run(results, manifest).any())


def _point_keys(results: pd.DataFrame) -> list[str]:
    return ["design", *dominance.parameter_columns(results)]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index)


# -- statistics per point and mix -----------------------------------------------------------------
def point_statistics(
    results: pd.DataFrame,
    manifest: dict[str, Any],
    confidence: float = dominance.CONFIDENCE,
    band: float = dominance.BAND,
) -> pd.DataFrame:
    """One row per (design, parameter point, mix) of the ok runs.

    Columns beside ``design``, the parameters and ``mix``: ``level``; ``runs`` (ok runs);
    ``initial_share`` (mean honest trainer share at the start); ``final_share_mean``, ``_sd``,
    ``_lower`` and ``_upper`` (one-sided ``confidence`` bounds), ``_band_lower`` and ``_band_upper``
    (two-sided ``band``), ``_n`` (runs with a final share) — all clipped to [0, 1]; the same five
    statistics of ``excess`` = final share − level (the column tipping points are crossings of);
    ``ends`` (:data:`ENDS_HONEST`, :data:`ENDS_SHORT` or :data:`UNDECIDED`); ``reached`` (share of
    runs that reached the level), ``rounds_to_level`` (mean over those that did; NaN when none)
    and ``rounds_to_level_n``; ``entered`` and ``exited`` (mean owners per run);
    ``validator_initial_share`` and ``validator_final_share`` (means); ``no_final_share`` (runs
    without one); ``adapts`` (whether the mix's runs there let owners decide: only then does
    ending honest count, :func:`classify`).
    """
    results = with_design_column(results)
    ok = results[results["status"] == "ok"]
    keys = [*_point_keys(results), "mix"]
    level = levels_per_run(ok, manifest)
    final = _column(ok, FINAL)
    rounds = _column(ok, ROUNDS_TO_LEVEL)
    frame = pd.concat(
        [
            ok[keys],
            pd.DataFrame(
                {
                    "level": level,
                    "final": final,
                    "initial": _column(ok, INITIAL),
                    "rounds": rounds,
                    "reached": rounds.notna().astype(float),
                    "entered": _column(ok, ENTERED),
                    "exited": _column(ok, EXITED),
                    "validator_initial": _column(ok, VALIDATOR_INITIAL),
                    "validator_final": _column(ok, VALIDATOR_FINAL),
                    "no_final": final.isna().astype(int),
                    "adapts": adaptive_per_run(ok, manifest),
                },
                index=ok.index,
            ),
        ],
        axis=1,
    )
    grouped = frame.groupby(keys, sort=True, dropna=False)
    table = pd.DataFrame({"level": grouped["level"].mean(), "runs": grouped.size()})
    table["initial_share"] = grouped["initial"].mean()
    mean, sd, n = grouped["final"].mean(), grouped["final"].std(ddof=1), grouped["final"].count()
    one_sided = dominance.t_half_width(sd, n, confidence)
    two_sided = dominance.t_half_width(sd, n, (1 + band) / 2)
    stats = {
        "mean": mean.where(n > 0),
        "sd": sd.where(n > 1),
        "lower": np.where(n > 1, mean - one_sided, 0.0),
        "upper": np.where(n > 1, mean + one_sided, 1.0),
        "band_lower": np.where(n > 1, mean - two_sided, 0.0),
        "band_upper": np.where(n > 1, mean + two_sided, 1.0),
    }
    for stat, values in stats.items():
        table[f"final_share_{stat}"] = values if stat == "sd" else np.clip(values, 0.0, 1.0)
    table["final_share_n"] = n.astype(int)
    for stat in ("mean", "lower", "upper", "band_lower", "band_upper"):
        table[f"excess_{stat}"] = table[f"final_share_{stat}"] - table["level"]
    table["ends"] = ends(table["excess_lower"], table["excess_upper"], table["final_share_n"])
    table["reached"] = grouped["reached"].mean()
    table["rounds_to_level"] = grouped["rounds"].mean()
    table["rounds_to_level_n"] = grouped["rounds"].count().astype(int)
    for column, name in (
        ("entered", "entered"),
        ("exited", "exited"),
        ("validator_initial_share", "validator_initial"),
        ("validator_final_share", "validator_final"),
    ):
        table[column] = grouped[name].mean()
    table["no_final_share"] = grouped["no_final"].sum().astype(int)
    table["adapts"] = grouped["adapts"].any().astype(bool)
    return table.reset_index()


def ends(excess_lower, excess_upper, n) -> np.ndarray:
    """Per row: :data:`ENDS_HONEST` (lower bound ≥ level), :data:`ENDS_SHORT` (upper bound < level)
    or :data:`UNDECIDED` (neither, or no run with a final share)."""
    lower = np.asarray(excess_lower, float)
    upper = np.asarray(excess_upper, float)
    has = np.asarray(n) > 0
    return np.select(
        [has & (upper < -TOLERANCE), has & (lower >= -TOLERANCE)], [ENDS_SHORT, ENDS_HONEST], UNDECIDED
    )


#: The statistics taken as the worst (smallest) over mixes in :func:`classify`.
WORST = (
    "final_share_mean",
    "final_share_lower",
    "final_share_upper",
    *(f"excess_{s}" for s in dominance.STATISTICS),
)


def classify(per_mix: pd.DataFrame, results: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """One row per (design, point): the adaptive verdict ``adaptive`` over the design's mixes.

    Only mixes whose runs adapt there count (a mix with fixed strategies cannot change its share):
    ``dominates`` when the network ends honest under every such mix (each with runs that have a
    final share), ``fails`` when it falls short under one, ``uncertain`` otherwise, and
    :data:`NOT_ADAPTIVE` when no mix adapts at the point. Beside it: the worst (smallest) over the
    adapting mixes of each statistic in :data:`WORST`, ``mixes`` (adapting mixes) and
    ``mixes_honest`` (those under which it ends honest).
    """
    results = with_design_column(results)
    keys = _point_keys(results)
    flagged = results.assign(_adapts=adaptive_per_run(results, manifest))
    adapting = flagged.groupby([*keys, "mix"], sort=True, dropna=False)["_adapts"].any()
    expected = adapting.groupby(level=list(range(len(keys))), dropna=False).sum().rename("mixes")
    rows = per_mix[per_mix["adapts"]]
    grouped = rows.groupby(keys, sort=True, dropna=False)
    table = expected.to_frame().join(grouped[list(WORST)].min(), how="left")
    table["mixes_honest"] = grouped["ends"].apply(lambda e: int((e == ENDS_HONEST).sum()))
    table["mixes_honest"] = table["mixes_honest"].fillna(0).astype(int)
    short = (
        grouped["ends"].apply(lambda e: bool((e == ENDS_SHORT).any())).reindex(table.index, fill_value=False)
    )
    table["adaptive"] = np.select(
        [
            (table["mixes"] == 0).to_numpy(),
            short.astype(bool).to_numpy(),
            (table["mixes_honest"] == table["mixes"]).to_numpy(),
        ],
        [NOT_ADAPTIVE, dominance.FAILS, dominance.DOMINATES],
        dominance.UNCERTAIN,
    )
    table["mixes"] = table["mixes"].astype(int)
    table = table.reset_index()
    return table[[*keys, "adaptive", *WORST, "mixes", "mixes_honest"]]


# -- the basin, tipping points, time to the level ----------------------------------------------------
def basin(per_mix: pd.DataFrame) -> pd.DataFrame:
    """One row per (design, mix) — each mix a starting population: does it end honest?

    Columns: ``design``, ``mix``, ``initial_share`` (mean over the points' means; NaN without
    one), ``initial_low`` / ``initial_high`` and ``final_low`` / ``final_high`` (the smallest and
    largest point mean), ``level_low`` / ``level_high``, ``points``, ``honest_points``,
    ``short_points``, ``undecided_points`` and ``ends_honest`` — ``everywhere``, ``somewhere``
    or ``nowhere`` (the network ends honest at every point, at some, at none).
    """
    rows = []
    for (design, mix), group in per_mix.groupby(["design", "mix"], sort=True):
        honest = int((group["ends"] == ENDS_HONEST).sum())
        short = int((group["ends"] == ENDS_SHORT).sum())
        rows.append(
            {
                "design": design,
                "mix": mix,
                "initial_share": group["initial_share"].mean(),
                "initial_low": group["initial_share"].min(),
                "initial_high": group["initial_share"].max(),
                "final_low": group["final_share_mean"].min(),
                "final_high": group["final_share_mean"].max(),
                "level_low": group["level"].min(),
                "level_high": group["level"].max(),
                "points": len(group),
                "honest_points": honest,
                "short_points": short,
                "undecided_points": len(group) - honest - short,
                "ends_honest": "everywhere" if honest == len(group) else "somewhere" if honest else "nowhere",
            }
        )
    return pd.DataFrame(rows)


def tipping_points(per_mix: pd.DataFrame, axes: Sequence[Axis]) -> pd.DataFrame:
    """Along each swept numeric grid axis: where each mix's mean final share crosses the level.

    Per axis, per (design, mix, levels of the other parameters): one row per crossing of
    ``excess_mean`` (final share − level) through zero, by linear interpolation between
    neighbouring levels (``boundaries.crossings``), with ``estimate``, the band ``band_low`` /
    ``band_high`` (where the ends of the two-sided band cross, ``boundaries.band_around``; ±inf
    when an end does not cross inside the range), ``direction`` (``rising``: ends honest from
    there on up the axis; ``falling``: no longer), ``where`` = ``inside`` and ``between_low`` /
    ``between_high`` (the neighbouring levels). A series that never crosses gets one row with
    ``where`` = :data:`ABOVE_LEVEL`, :data:`BELOW_LEVEL` or ``no data``. Columns: ``axis``,
    ``design``, ``mix``, every parameter (NaN for the axis itself), then :data:`TIPPING_COLUMNS`.
    Empty when a numeric axis is sampled: its points have no neighbours at the other axes' levels.
    """
    parameters = [a.path for a in axes]
    columns = ["axis", "design", "mix", *parameters, *TIPPING_COLUMNS]
    numeric = varying_numeric(list(axes))
    if any(not axis.grid for axis in numeric):
        return pd.DataFrame(columns=columns)
    rows = []
    for axis in numeric:
        others = [p for p in parameters if p != axis.path]
        for key, group in boundaries.groups(per_mix, ["design", "mix", *others]):
            rows += [{"axis": axis.path} | key | row for row in _crossings_along(group, axis.path)]
    return pd.DataFrame(rows, columns=columns)


def _crossings_along(group: pd.DataFrame, x: str) -> list[dict[str, Any]]:
    g = group.sort_values(x)
    xs = g[x].to_numpy(float)
    mean = g["excess_mean"].to_numpy(float)
    low, high = g["excess_band_lower"].to_numpy(float), g["excess_band_upper"].to_numpy(float)
    found = boundaries.crossings(xs, mean)
    rows = []
    for c in found:
        band_low, band_high = boundaries.band_around(c, xs, low, high)
        rows.append(
            {
                "estimate": c.x,
                "band_low": band_low,
                "band_high": band_high,
                "direction": c.direction,
                "where": boundaries.INSIDE,
                "between_low": c.left,
                "between_high": c.right,
            }
        )
    if not found:
        finite = mean[~np.isnan(mean)]
        where = boundaries.NO_DATA if not len(finite) else ABOVE_LEVEL if finite[0] >= 0 else BELOW_LEVEL
        rows.append(dict.fromkeys(TIPPING_COLUMNS, math.nan) | {"direction": None, "where": where})
    return rows


def timing(per_mix: pd.DataFrame) -> pd.DataFrame:
    """One row per (design, mix): how fast the level is reached, and the owners entering and leaving.

    Columns: ``design``, ``mix``, ``runs``; ``reached`` (share of all its runs that reached the
    level); ``points_reached`` (points where every run did) of ``points``; ``rounds_mean`` (mean
    rounds to the level over the runs that reached it; NaN when none did), ``rounds_low`` /
    ``rounds_high`` (smallest and largest point mean); ``entered_mean`` / ``exited_mean`` (owners
    per run) and ``entered_max`` / ``exited_max`` (the largest point mean).
    """
    rows = []
    for (design, mix), g in per_mix.groupby(["design", "mix"], sort=True):
        runs = g["runs"].sum()
        reached_runs = g["rounds_to_level_n"].sum()
        weighted = (g["rounds_to_level"] * g["rounds_to_level_n"]).sum()
        rows.append(
            {
                "design": design,
                "mix": mix,
                "runs": int(runs),
                "reached": reached_runs / runs if runs else math.nan,
                "points_reached": int((g["rounds_to_level_n"] == g["runs"]).sum()),
                "points": len(g),
                "rounds_mean": weighted / reached_runs if reached_runs else math.nan,
                "rounds_low": g["rounds_to_level"].min(),
                "rounds_high": g["rounds_to_level"].max(),
                "entered_mean": (g["entered"] * g["runs"]).sum() / runs if runs else math.nan,
                "entered_max": g["entered"].max(),
                "exited_mean": (g["exited"] * g["runs"]).sum() / runs if runs else math.nan,
                "exited_max": g["exited"].max(),
            }
        )
    return pd.DataFrame(rows)


#: Why an ok run has no final honest share.
NO_TRAINERS_AT_START = "no trainer owner was active at the start"
NO_TRAINERS_AT_END = "no trainer owner was active at the end (every one had left)"


def missing_shares(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (design, mix, reason) with ok runs whose final honest trainer share is NaN:
    ``runs`` and ``reason`` (:data:`NO_TRAINERS_AT_START` or :data:`NO_TRAINERS_AT_END`)."""
    results = with_design_column(results)
    ok = results[results["status"] == "ok"]
    columns = ["design", "mix", "runs", "reason"]
    final, initial = _column(ok, FINAL), _column(ok, INITIAL)
    missing = final.isna()
    if not missing.any():
        return pd.DataFrame(columns=columns)
    reason = pd.Series(NO_TRAINERS_AT_END, index=ok.index).where(initial.notna(), NO_TRAINERS_AT_START)
    table = pd.DataFrame({"design": ok["design"], "mix": ok["mix"], "reason": reason})[missing]
    counts = table.groupby(["design", "mix", "reason"], sort=True).size().rename("runs").reset_index()
    return counts[columns]


# -- everything at once ---------------------------------------------------------------------------
def analyze_adaptation(
    results: pd.DataFrame,
    manifest: dict[str, Any],
    axes: Sequence[Axis],
    confidence: float = dominance.CONFIDENCE,
) -> Adaptation | None:
    """The adaptive analysis of a sweep's runs; None when the sweep is not adaptive (:func:`is_adaptive`)
    or its runs have no honest-share columns (then the caller should say so)."""
    results = with_design_column(results)
    if not is_adaptive(results, manifest) or FINAL not in results:
        return None
    ok = results[results["status"] == "ok"]
    per_mix = point_statistics(results, manifest, confidence)
    adapting = per_mix[per_mix["adapts"]]  # where the owners of a mix can decide, its share can move
    revisions = setting_per_run(ok, manifest, REVISION, NO_REVISION).astype(str)
    exits = setting_per_run(ok, manifest, EXIT_RULE, "none").astype(str)
    candidates = pd.to_numeric(setting_per_run(ok, manifest, CANDIDATES, 0), errors="coerce").fillna(0)
    rounds = value_per_run(ok, manifest, "rounds").astype(float)
    a = Adaptation(
        per_mix=per_mix,
        classified=classify(per_mix, results, manifest),
        basin=basin(adapting),
        tipping=tipping_points(adapting, axes),
        timing=timing(adapting),
        missing=missing_shares(results),
        revisions=sorted(set(revisions)),
        exit_rules=sorted(set(exits) - {"none"}),
        static_runs=not bool(adaptive_per_run(ok, manifest).all()),
        entry=bool((candidates > 0).any()),
        levels=sorted({float(v) for v in per_mix["level"].dropna()}),
        rounds=sorted({int(r) for r in rounds.dropna()}),
    )
    a.notes = _notes(a, axes, confidence)
    return a


def _notes(a: Adaptation, axes: Sequence[Axis], confidence: float) -> list[str]:
    notes = [
        "Adaptation: the honest share of active trainer owners after the last round (a Sybil owner counted "
        f"once) gets a one-sided {confidence:.0%} Student-t lower and upper bound and a two-sided "
        f"{dominance.BAND:.0%} band over the replications, clipped to [0, 1]; under a mix the network ends "
        "honest where the lower bound reaches the level, falls short where the upper bound is below it. "
        "Honesty dominates at a point only where, besides the margins' verdict, it ends honest under every "
        "mix whose owners adapt (revise, may exit or may enter); where no mix adapts, the margins decide "
        "alone.",
    ]
    if any(not axis.grid for axis in varying_numeric(list(axes))):
        notes.append(
            "Tipping points of the honest share are found along grid axes only: a sampled axis has no "
            "neighbouring levels to interpolate between (the per-point shares are in the data)."
        )
    elif len(a.tipping):
        notes.append(
            "Tipping points: linear interpolation of each mix's mean final honest share minus the level "
            "between neighbouring grid levels; the band is where the ends of its two-sided band cross."
        )
    return notes


# -- in plain words -------------------------------------------------------------------------------
def percent(value: float) -> str:
    """A share as people write it (``90 %``, ``12.3 %``); ``n/a`` when undefined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.3g} %"


def number_text(value: float) -> str:
    """A count or a number of rounds as people write it (3 significant figures); ``n/a`` when undefined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def span_text(low: float, high: float, format=percent) -> str:
    """``low–high`` (``96.2–97.4 %``), or one number when both agree to the digits shown."""
    a, b = format(low), format(high)
    if a == b:
        return a
    if a.endswith(" %") and b.endswith(" %"):
        return f"{a[:-2]}–{b}"
    return f"{a}–{b}"


def level_text(a: Adaptation) -> str:
    """The level in words: ``90 %``, or the range the runs name."""
    return (
        percent(a.levels[0])
        if len(a.levels) == 1
        else f"the level each run names ({span_text(a.levels[0], a.levels[-1])})"
    )


def rounds_text(a: Adaptation) -> str:
    """When the share is read: ``after 200 rounds``, or after each run's last round."""
    if len(a.rounds) == 1:
        return f"after {a.rounds[0]:,} rounds"
    return f"after each run's last round ({a.rounds[0]:,} to {a.rounds[-1]:,} rounds)"


def rules_text(a: Adaptation) -> str:
    """How owners adapt, in words."""
    rules = [r for r in a.revisions if r != NO_REVISION]
    parts = ["strategy revision by " + " and ".join(rules)] if rules else ["fixed strategies"]
    if a.exit_rules:
        parts.append(
            "exit below the outside option" if a.exit_rules == ["profit_threshold"] else "exit rules"
        )
    if a.entry:
        parts.append("entry of candidates")
    text = ", ".join(parts)
    return text + ("; some runs do not adapt" if a.static_runs else "")


def summary_sentences(
    a: Adaptation,
    classified: pd.DataFrame,
    design: str,
    prefix: str,
    x: str | None,
    integer: Sequence[str] = (),
) -> list[str]:
    """What the adaptive analysis finds for one design, in plain words: the combined verdict, the
    basin of honesty, the tipping points along ``x`` and the time to the level with entries and
    exits. ``classified`` is the findings' (with :func:`dominance.with_adaptive_verdict` applied);
    ``prefix`` starts each sentence (``"Design d: "`` when several designs are compared)."""
    c = classified[classified["design"] == design]
    verdicts = (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS)
    incentives, adaptive, both = (
        {v: int((c[k] == v).sum()) for v in verdicts} for k in ("incentives", "adaptive", "honesty")
    )
    if (c["adaptive"] == NOT_ADAPTIVE).all():
        owners = "owners" if prefix else "Owners"
        return [f"{prefix}{owners} do not adapt at any point of this design: the incentives decide."]
    lines = [
        f"{prefix}With adaptation on ({rules_text(a)}), honesty dominates only where, besides the "
        f"incentives, the network ends honest: the honest share of trainer owners {rounds_text(a)} must "
        f"reach {level_text(a)} (its one-sided 95 % lower bound) under every mix whose owners adapt. The "
        f"incentives alone favour honesty at {incentives[dominance.DOMINATES]} of {len(c)} points; where "
        f"owners adapt, the network ends honest at {adaptive[dominance.DOMINATES]}, falls short at "
        f"{adaptive[dominance.FAILS]} and is uncertain at {adaptive[dominance.UNCERTAIN]}"
        + static_points_text(c)
        + f"; honesty dominates at {both[dominance.DOMINATES]}."
    ]
    basin_rows = a.basin[a.basin["design"] == design]
    if len(basin_rows):
        lines.append(prefix + _basin_sentence(basin_rows))
    if x is not None:
        tipping = a.tipping[(a.tipping["design"] == design) & (a.tipping["axis"] == x)]
        if len(tipping):
            levels = mix_level_texts(a.per_mix[a.per_mix["design"] == design])
            lines.append(prefix + _tipping_sentence(tipping, short(x), level_text(a), x in integer, levels))
    adapting = a.per_mix[(a.per_mix["design"] == design) & a.per_mix["adapts"]]
    if len(adapting):
        lines.append(prefix + _timing_sentence(adapting, level_text(a)))
    return lines


def static_points_text(classified: pd.DataFrame) -> str:
    """``; at n points no mix adapts …`` when some points' runs all keep fixed strategies."""
    n = int((classified["adaptive"] == NOT_ADAPTIVE).sum())
    if not n:
        return ""
    return (
        f"; at {n} point{'s' if n != 1 else ''} no mix adapts (no revision, exit rule or entrants) and the "
        "incentives decide alone"
    )


def _basin_sentence(rows: pd.DataFrame) -> str:
    parts = []
    for r in rows.itertuples():
        where = {
            "everywhere": "at every point",
            "nowhere": "at no point",
        }.get(r.ends_honest, f"at {r.honest_points} of {r.points} points")
        start = span_text(r.initial_low, r.initial_high)
        final = span_text(r.final_low, r.final_high)
        parts.append(
            f"from mix {r.mix} ({start} honest at the start) it ends honest {where} (final share {final})"
        )
    return "Basin of honesty, each mix a starting population: " + "; ".join(parts) + "."


#: How a tipping-point series that crosses the level, or does not, is said.
SERIES_WORDS = {
    boundaries.INSIDE: "crosses the level",
    ABOVE_LEVEL: "stays at or above the level",
    BELOW_LEVEL: "stays below the level",
    boundaries.NO_DATA: "has no value",
}


def mix_level_texts(per_mix: pd.DataFrame) -> dict[str, str]:
    """Each mix's level in words, when the mix names one level (a mix may set its own)."""
    out = {}
    for mix, levels in per_mix.groupby("mix", sort=True)["level"]:
        distinct = sorted(set(levels.dropna()))
        if len(distinct) == 1:
            out[str(mix)] = percent(distinct[0])
    return out


def _tipping_sentence(
    rows: pd.DataFrame, x_name: str, level: str, whole: bool, mix_levels: dict[str, str] | None = None
) -> str:
    others = [c for c in rows.columns if c not in ("axis", "design", "mix", *TIPPING_COLUMNS)]
    others = [c for c in others if rows[c].notna().any()]
    parts = []
    for mix, group in rows.groupby("mix", sort=True):
        own = (mix_levels or {}).get(str(mix), level)
        inside = group[group["where"] == boundaries.INSIDE]
        if not others:  # one series: name each crossing
            if len(inside):
                crossings = [_crossing_text(r, x_name, whole) for r in inside.itertuples()]
                parts.append(f"under mix {mix} it crosses {own} " + " and ".join(crossings))
            else:
                stays = "stays at or above" if (group["where"] == ABOVE_LEVEL).any() else "stays below"
                parts.append(f"under mix {mix} it {stays} {own} over the whole range")
            continue
        series = group.groupby(others, sort=True, dropna=False)["where"]
        count = {w: int(series.apply(lambda s, w=w: (s == w).any()).sum()) for w in SERIES_WORDS}
        levels = (
            f"levels of {short(others[0])}" if len(others) == 1 else "combinations of the other axes' levels"
        )
        clauses = []
        for where, words in SERIES_WORDS.items():
            if count[where]:
                clauses.append(f"{words} at {count[where]}")
            if count[where] and where == boundaries.INSIDE:
                first = inside.groupby(others, sort=True, dropna=False)["estimate"].first()
                clauses[-1] += f" ({x_name} {span_text(first.min(), first.max(), number_text)})"
        parts.append(f"under mix {mix}, of its {series.ngroups} {levels}, the share " + ", ".join(clauses))
    return (
        f"Tipping points in {x_name}, where the mean final honest share crosses {level}: "
        + "; ".join(parts)
        + "."
    )


def _crossing_text(r, x_name: str, whole: bool) -> str:
    becomes = (
        "ending honest above it" if r.direction == boundaries.RISING else "no longer ending honest above it"
    )
    if whole and math.isfinite(r.between_low):
        at = f"between {x_name} {number_text(r.between_low)} and {number_text(r.between_high)}"
    else:
        at = f"at {x_name} {number_text(r.estimate)} ({band_text(r.band_low, r.band_high, number_text)})"
    return f"{at}, {becomes}"


def _timing_sentence(per_mix: pd.DataFrame, level: str) -> str:
    runs = int(per_mix["runs"].sum())
    reached = int(per_mix["rounds_to_level_n"].sum())
    every = int((per_mix["rounds_to_level_n"] == per_mix["runs"]).sum())
    pairs = "points" if per_mix["mix"].nunique() == 1 else "(point, mix) pairs"
    if reached:
        mean = float((per_mix["rounds_to_level"] * per_mix["rounds_to_level_n"]).sum() / reached)
        points = per_mix["rounds_to_level"].dropna()
        text = (
            f"Time to the level: {percent(reached / runs)} of runs reach {level} — every replication does "
            f"at {every} of {len(per_mix)} {pairs} — after {number_text(mean)} rounds on average "
            f"(point means {span_text(points.min(), points.max(), number_text)})"
        )
    else:
        text = f"Time to the level: no run reaches {level}"
    weights = per_mix["runs"]
    entered, exited = (per_mix[c] for c in ("entered", "exited"))
    if not (entered.fillna(0) > 0).any() and not (exited.fillna(0) > 0).any():
        return text + "; no owner entered or left."
    return text + (
        f"; per run {number_text((entered * weights).sum() / weights.sum())} owners entered and "
        f"{number_text((exited * weights).sum() / weights.sum())} left on average (at most "
        f"{number_text(entered.max())} and {number_text(exited.max())} at a point)."
    )


def missing_sentences(a: Adaptation, several_designs: bool) -> list[str]:
    """One sentence per (design, mix, reason) of runs without a final honest share."""
    out = []
    for r in a.missing.itertuples():
        where = f"under design {r.design}, mix {r.mix}" if several_designs else f"in mix {r.mix}"
        out.append(
            f"{r.runs} runs {where} have no final honest share — {r.reason}: they are left out of its "
            "statistics, and a point where no run of a mix has one cannot end honest (it is uncertain)."
        )
    return out
