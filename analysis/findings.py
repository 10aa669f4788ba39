"""Everything the report says about a sweep, computed once: dominance, boundaries, theory, regions.

``analyze(directory)`` reads a (finished or partial) sweep's results and returns a
:class:`Findings` — DataFrames a notebook can use directly, plus the plain-words summary. Every
sweep shape gets an answer (``analysis.axes``): thresholds along one axis, boundary curves over two,
the same on 2-D slices of more, verdicts per category, fitted boundaries for sampled designs — each
per tokenomics design, with the designs compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import adaptation as adaptation_module
from analysis import axes as axes_module
from analysis import boundaries, comparison, dominance, surface, sustainability, theory
from analysis import validators as validators_module
from analysis.axes import SERVICE_FEE, Axis
from analysis.settings import (
    OUTSIDE_OPTION,
    REGIME,
    TOKEN,
    TOKENLESS,
    base_scenario,
    design_names,
    mix_names,
    value_per_run,
    with_design_column,
    with_payoffs,
)
from analysis.summary import STRATEGY_LABELS, findings_table, short, summarise
from analysis.sweep.store import ResultStore

__all__ = [
    "STRATEGY_LABELS",
    "Findings",
    "NothingToReport",
    "analyze",
    "findings_table",
    "short",
    "summarise",
]

GRID_METHOD = "linear interpolation of the worst mix's mean margin between neighbouring grid levels"


class NothingToReport(ValueError):
    """The results directory has no successful run to analyse; the message says why."""


@dataclass
class Findings:
    """What a sweep shows. Tables are pandas DataFrames; see each field."""

    directory: Path
    manifest: dict[str, Any]
    results: pd.DataFrame
    """Every run row (status ok or failed), with a ``design`` column, each run's ``regime`` and its
    payoffs ``payoff_<s>`` in that regime (``analysis.settings.with_payoffs``)."""
    parameters: list[str]
    """The varied parameters, in sweep order."""
    numeric: list[str]
    """Varied parameters with numeric levels."""
    categorical: list[str]
    """Varied parameters with named levels (e.g. a reward rule)."""
    integer: list[str]
    """Numeric parameters of whole numbers (a strike count, a population): never read at fractions;
    their boundary rows say between which two whole numbers (``between_low``, ``between_high``)."""
    designs: list[str]
    """The tokenomics designs (``["base"]`` when the sweep has none)."""
    shape: str
    """``none`` | ``1-D`` | ``2-D`` | ``n-D`` | ``categorical`` | ``sampled`` (``analysis.axes``)."""
    x: str | None
    """The axis boundaries are found along (the slash fraction when varied)."""
    y: str | None
    """The axis boundaries are given per level of (a reward level when varied); None for 1-D."""
    classified: pd.DataFrame
    """One row per (design, point): verdicts and worst-mix margins (``dominance.classify``); in an
    adaptive sweep also ``incentives`` (the margins' verdict) and ``adaptive`` (the network ends
    honest), with ``honesty`` requiring both (``dominance.with_adaptive_verdict``)."""
    per_mix: pd.DataFrame
    """One row per (design, point, mix): margins with bounds and mean payoffs."""
    slice_axes: list[str] = field(default_factory=list)
    """n-D: the axes held at fixed levels in each 2-D slice ([] otherwise)."""
    slices: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    """n-D: one ``{axis: level}`` per slice; ``[{}]`` otherwise."""
    mixes: list[str] = field(default_factory=list)
    thresholds: pd.DataFrame | None = None
    """1-D: every sign change of each margin along x (``boundaries.thresholds``)."""
    boundaries_1d: pd.DataFrame | None = None
    """1-D: per group (``group_columns``) and ``name`` (deterrence, participation), the one boundary
    bounding the region where the margin holds (``boundaries.boundary``'s columns)."""
    deterrence: pd.DataFrame | None = None
    """2-D, n-D, sampled: the deterrence boundary per (design, slice, category, y level)."""
    participation: pd.DataFrame | None = None
    """2-D, n-D, sampled: the participation boundary, as ``deterrence``."""
    analytic: pd.DataFrame | None = None
    """The closed form's bounds for the same scenarios, when x is the slash fraction."""
    distances: dict[str, float] = field(default_factory=dict)
    """Mean |simulated − analytic| boundary, in x units, for deterrence and participation."""
    distances_by_design: dict[str, dict[str, float]] = field(default_factory=dict)
    """``distances`` for each design on its own."""
    safe_bands: pd.DataFrame | None = None
    """Where x is the slash fraction: the safe band (deterrence to participation) per level."""
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per design: verdict counts and shares, safe band, costs per round."""
    winners: pd.DataFrame | None = None
    """Several designs: per point, the designs under which honesty dominates and the best one."""
    agreement: pd.DataFrame | None = None
    """Several designs: each against the first, the verdicts that agree and how far the margins are apart
    (``comparison.agreement``)."""
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per (design, mix, KPI) with NaN values among ok runs: runs, reason."""
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per (design, mix, margin) where the mix is left out of the margin's worst case
    because its deviating side is absent: ``design``, ``mix``, ``margin``, ``points`` (where it is
    absent), ``of`` (points with runs of the mix) and ``reason``."""
    notes: list[str] = field(default_factory=list)
    """How it was computed: interval methods and levels, boundary method, slices chosen."""
    boundary_method: str = ""
    box: Any = None
    """PRIM box for "honesty dominates" over the numeric parameters, first design."""
    boxes: dict[str, Any] = field(default_factory=dict)
    """The PRIM box per design."""
    box_note: str = ""
    """Why there is no box, when there is none (no numeric axis, or dominates nowhere)."""
    sensitivity: pd.DataFrame | None = None
    sensitivity_method: str = ""
    share_sensitivity: pd.DataFrame | None = None
    """Adaptive sweeps: η² (and Spearman ρ) of the final honest share of trainer owners, per point."""
    adaptation: adaptation_module.Adaptation | None = None
    """An adaptive sweep (owners revise strategies, enter or exit): whether the network ends honest —
    the final honest share per point and mix, the adaptive verdict, the basin of honesty, tipping
    points, time to the level (``analysis.adaptation``); None when strategies are fixed."""
    validators: validators_module.Validators | None = None
    """A sweep with runs under ``rewards.rule = "yuma"``: the copiers' dividend ratio G against the
    reveal delay, the cabal's capture of the trainers' emission against its stake share, and where
    honest validation dominates (``analysis.validators``); None without Yuma runs."""
    sustainability: sustainability.Sustainability | None = None
    """A sweep whose runs ran a token economy (a market price, users' fees, insurance claims or
    halvings: ``sustainability.economy_present``): the price, fees and claims per point and mix, and
    whether honesty still dominates after the first and second halvings (``analysis.sustainability``);
    None without one."""
    summary: list[str] = field(default_factory=list)
    """The findings in plain words, most important first."""

    @property
    def failures(self) -> pd.DataFrame:
        """The failed runs: id, point, design, mix, seed and the first line of the error."""
        failed = self.results[self.results["status"] == "failed"]
        first_line = failed["error"].astype(str).str.split("\n").str[0]
        return failed[["run_id", "point", "design", "mix", "seed"]].assign(error=first_line)

    @property
    def named(self) -> dict[str, tuple[str, str]]:
        """Each boundary's margin and expected direction along x (``boundaries.named_for``)."""
        return boundaries.named_for(self.x)

    @property
    def group_columns(self) -> list[str]:
        """The columns each boundary table is split by: design, slice axes, categorical axes."""
        return ["design", *self.slice_axes, *self.categorical]


def analyze(
    directory: str | Path,
    confidence: float = dominance.CONFIDENCE,
    slices: dict[str, list[Any]] | None = None,
    seed: int = 0,
) -> Findings:
    """Read a sweep's results directory and work out everything the report shows.

    ``slices`` (n-D sweeps only) names levels of the axes other than x and y to cut 2-D slices at;
    axes not named take their lowest, middle and highest level. ``seed`` seeds the bootstrap of a
    sampled design's boundary band.
    """
    store = ResultStore(directory)
    manifest = store.read_manifest()
    results = store.load()
    if results.empty:
        raise NothingToReport(f"{directory} has no finished runs yet")
    if (results["status"] != "ok").all():
        raise NothingToReport(f"every run in {directory} failed; see the error column of its results")
    results = with_payoffs(with_design_column(results), manifest)
    parameters = dominance.parameter_columns(results)
    axes = axes_module.read_axes(results, parameters, manifest)
    outside = value_per_run(results, manifest, OUTSIDE_OPTION)
    per_mix = dominance.point_statistics(results, confidence, outside)
    numeric_axes = axes_module.varying_numeric(axes)
    x, y = axes_module.choose_axes([a.path for a in numeric_axes])
    f = Findings(
        directory=Path(directory),
        manifest=manifest,
        results=results,
        parameters=parameters,
        numeric=[a.path for a in axes if a.numeric],
        categorical=[a.path for a in axes if not a.numeric],
        integer=[a.path for a in axes if a.integer],
        designs=design_names(results, manifest),
        shape=axes_module.shape_of(axes, manifest.get("design")),
        x=x,
        y=y,
        classified=dominance.classify_statistics(per_mix, results),
        per_mix=per_mix,
        mixes=mix_names(results, manifest),
    )
    f.notes += _interval_notes(confidence) + _regime_notes(f)
    _adaptation(f, axes, confidence)
    f.left_out = _left_out_mixes(per_mix)
    f.notes += _left_out_notes(f)
    if slices is not None and f.shape != "n-D":
        raise ValueError(
            f"slices apply to sweeps of three or more numeric axes; this sweep is {f.shape} "
            f"({', '.join(f.parameters) or 'nothing varied'})"
        )
    by_path = {a.path: a for a in axes}
    if f.shape == "1-D":
        _thresholds(f, by_path[x], np.random.default_rng(seed))
    elif f.shape in ("2-D", "n-D"):
        _grid_boundaries(f, [a for a in numeric_axes if a.path not in (x, y)], slices)
    elif f.shape == "sampled":
        _sampled_boundaries(f, by_path, numeric_axes, np.random.default_rng(seed))
    _theory(f)
    f.safe_bands = comparison.safe_bands(f)
    f.comparison = comparison.compare_designs(f)
    f.winners = comparison.winners(f)
    f.agreement = comparison.agreement(f)
    f.dropped = comparison.dropped_runs(f)
    _regions(f, numeric_axes)
    f.validators = validators_module.analyze_validators(
        f.results, f.manifest, f.parameters, f.classified, f.per_mix
    )
    f.summary = _with_adaptive_sentences(f, summarise(f))
    if f.validators is not None:
        f.notes += f.validators.notes
        f.summary += f.validators.summary
    f.sustainability = sustainability.analyze_sustainability(f.results, f.manifest, outside, f.designs)
    if f.sustainability is not None:
        f.notes += f.sustainability.notes
        f.summary += f.sustainability.sentences
    return f


#: The margins as the notes name them.
MARGIN_LABELS = {
    "trainers": "trainers' margin",
    "validators": "validators' margin",
    "participation": "participation margin",
}
#: Why a mix is left out of a margin's worst case: the margin's deviating side is absent there.
ABSENT_REASONS = {
    "trainers": "no lazy, Sybil or poisoning trainers",
    "validators": "no copying validators",
}


def _left_out_mixes(per_mix: pd.DataFrame) -> pd.DataFrame:
    """Per (design, mix, margin): the points where the mix is left out of the margin's worst case."""
    rows = []
    for (design, mix), group in per_mix.groupby(["design", "mix"], sort=True):
        for name, reason in ABSENT_REASONS.items():
            absent = int(group.get(f"{name}_absent", pd.Series(False, index=group.index)).sum())
            if absent:
                rows.append([design, mix, name, absent, len(group), reason])
    return pd.DataFrame(rows, columns=["design", "mix", "margin", "points", "of", "reason"])


def _left_out_notes(f: Findings) -> list[str]:
    return [
        f"Mix {r.mix}{_under(f, r.design)} has {r.reason} at {r.points} of its {r.of} points: there it is "
        f"left out of the worst case of the {MARGIN_LABELS[r.margin]}, because a verdict for every mix is "
        "about the mixes where that question arises (a mix whose runs failed or are missing still keeps a "
        "point from dominating)."
        for r in f.left_out.itertuples()
    ]


def _interval_notes(confidence: float) -> list[str]:
    return [
        f"Dominance uses one-sided {confidence:.0%} Student-t bounds of each margin over the replications "
        "(lower bound > 0 under every mix of a design to dominate; upper bound < 0 under some mix to fail).",
        f"Bands are two-sided {dominance.BAND:.0%} Student-t intervals per point (one-sided "
        f"{(1 + dominance.BAND) / 2:.1%} bounds); a boundary's band is where those bounds cross zero.",
        "Each design is analysed on its own; its verdicts are the worst case over its mixes. Grid levels "
        "are read as they are: no levels are grouped or binned.",
    ]


def _regime_notes(f: Findings) -> list[str]:
    """How the runs of each regime are compared, when some were played without a token; and a warning
    for points whose mixes were played under different regimes."""
    regimes = set(f.results.loc[f.results["status"] == "ok", REGIME])
    if TOKENLESS not in regimes:
        return []
    notes = [
        "Tokenless runs commit no capital, so their payoffs are fiat profit per owner per round (not per "
        "unit of capital): their margins are in fiat per owner per round, and honest work is compared with "
        "0, what zero capital earns outside"
        + (
            "; token runs keep profit per round per unit of capital and the outside option on it."
            if TOKEN in regimes
            else "."
        )
    ]
    mixed = int((f.classified[REGIME] == dominance.MIXED_REGIMES).sum())
    if mixed:
        notes.append(
            f"At {mixed} point{'s' if mixed != 1 else ''} the mixes were played under different regimes: the "
            "worst case over mixes there compares margins in different units (only their signs agree in "
            "meaning)."
        )
    return notes


# -- adaptation ----------------------------------------------------------------------------------
def _adaptation(f: Findings, axes: list[Axis], confidence: float) -> None:
    """An adaptive sweep: the network's final honest share, and "honesty dominates" made to require
    that it ends at or above the level under every mix besides the margins' verdict."""
    f.adaptation = adaptation_module.analyze_adaptation(f.results, f.manifest, axes, confidence)
    if f.adaptation is None:
        if adaptation_module.is_adaptive(f.results, f.manifest):
            f.notes.append(
                "Owners adapt in these runs, but the results have no honest-share columns "
                f"({adaptation_module.FINAL}: written by an older fedstake), so whether the network ends "
                "honest cannot be judged: honesty is judged on the margins alone."
            )
        return
    f.classified = dominance.with_adaptive_verdict(f.classified, f.adaptation.classified)
    f.notes += f.adaptation.notes


def _with_adaptive_sentences(f: Findings, lines: list[str]) -> list[str]:
    """The summary with the adaptive findings of each design right after its dominance sentence (the
    sentence whose count they qualify), and the runs without a final share at the end."""
    if f.adaptation is None:
        return lines
    out = list(lines)
    for design in f.designs:
        prefix = f"Design {design}: " if len(f.designs) > 1 else ""
        sentences = adaptation_module.summary_sentences(
            f.adaptation, f.classified, design, prefix, f.x, f.integer
        )
        at = next((i for i, line in enumerate(out) if line.startswith(f"{prefix}Honesty dominates")), None)
        at = len(out) if at is None else at + 1
        out[at:at] = sentences
    return out + _mixed_criteria(f) + adaptation_module.missing_sentences(f.adaptation, len(f.designs) > 1)


def _mixed_criteria(f: Findings) -> list[str]:
    """A warning when some designs' owners adapt and others' do not: they are judged differently."""
    static = [
        d
        for d in f.designs
        if (f.classified.loc[f.classified["design"] == d, "adaptive"] == adaptation_module.NOT_ADAPTIVE).all()
    ]
    if not static or len(static) == len(f.designs):
        return []
    several = len(static) > 1
    return [
        f"Design{'s' if several else ''} {', '.join(static)} keep{'' if several else 's'} fixed strategies: "
        "judged on the incentives alone, while the others must also end honest — compare them with that in "
        "mind."
    ]


# -- boundaries per shape ----------------------------------------------------------------------
def _thresholds(f: Findings, axis: Axis, rng: np.random.Generator) -> None:
    """1-D: every sign change along x (``thresholds``) and the one boundary per margin
    (``boundaries_1d``), read off the grid or, for a sampled axis, off a fitted curve."""
    by = f.group_columns
    if axis.grid:
        f.thresholds = boundaries.thresholds(f.classified, f.x, by)
        f.boundaries_1d = pd.concat(
            [
                boundaries.boundary(f.classified, f.x, None, name, expected == boundaries.RISING, by).assign(
                    name=label
                )
                for label, (name, expected) in f.named.items()
            ],
            ignore_index=True,
        )
        f.boundary_method = GRID_METHOD
        return
    rows = []
    for key, per_mix in boundaries.groups(f.per_mix, by):
        for label, (name, expected) in f.named.items():
            found, _, _ = surface.fitted_boundaries(
                _mix_data(f, per_mix, name, [axis], key), [None], expected == boundaries.RISING, rng
            )
            rows.append(key | {"name": label} | _to_axis_units(found[0], axis))
    f.boundaries_1d = pd.DataFrame(rows, columns=[*by, "name", *boundaries.ROW_COLUMNS])
    f.thresholds = f.boundaries_1d[[*by, *boundaries.THRESHOLD_COLUMNS]].copy()
    f.boundary_method = f"{surface.METHOD}; band: bootstrap over design points"
    f.notes.append(
        f"Thresholds along the sampled axis {f.x} come from a fitted curve ({surface.METHOD}, bandwidth "
        "by leave-one-out cross-validation), one per margin in its expected direction, with a 95 % "
        "percentile band from a bootstrap over design points."
    )


def _grid_boundaries(f: Findings, others: list[Axis], named: dict[str, list[Any]] | None) -> None:
    f.boundary_method = GRID_METHOD
    if others:
        f.slice_axes = [a.path for a in others]
        if named is None:
            levels, cut = axes_module.default_slice_levels(others)
            f.notes.append(
                "Boundaries are drawn on 2-D slices with "
                + ", ".join(f"{a.path} at {_levels_text(levels[a.path])}" for a in others)
                + " (lowest, middle and highest level by default)."
            )
            if cut:
                f.notes.append(
                    f"At most {axes_module.MAX_SLICES} slices are drawn by default, so later axes take fewer "
                    "levels; pass slices={axis: [levels]} to analyze() to choose others."
                )
        else:
            levels = axes_module.named_slice_levels(others, named)
            f.notes.append(
                "Boundaries are drawn on the 2-D slices asked for: "
                + ", ".join(f"{p} at {_levels_text(v)}" for p, v in levels.items())
                + "."
            )
        f.slices = [dict(zip(levels, combo, strict=True)) for combo in _product(list(levels.values()))]
    by = ["design", *f.categorical]
    tables = {"deterrence": [], "participation": []}
    for fixed in f.slices:  # the slice axes' levels are added to each slice's table
        part = axes_module.at_levels(f.classified, fixed)
        for label, (name, expected) in f.named.items():
            table = boundaries.boundary(part, f.x, f.y, name, expected == boundaries.RISING, by)
            tables[label].append(table.assign(**fixed) if fixed else table)
    order = [*f.group_columns, f.y]
    for label, parts in tables.items():
        table = pd.concat(parts, ignore_index=True)
        setattr(f, label, table[[*order, *[c for c in table.columns if c not in order]]])


def _sampled_boundaries(
    f: Findings, by_path: dict[str, Axis], numeric_axes: list[Axis], rng: np.random.Generator
) -> None:
    x_axis, y_axis = by_path[f.x], by_path[f.y]
    y_levels = axes_module.evaluation_levels(y_axis)
    y_unit = [float(u) for u in y_axis.to_unit(y_levels)]
    by = f.group_columns
    tables = {"deterrence": [], "participation": []}
    resamples = set()
    for key, per_mix in boundaries.groups(f.per_mix, by):
        for label, (name, expected) in f.named.items():
            found, n_boot, _ = surface.fitted_boundaries(
                _mix_data(f, per_mix, name, [x_axis, y_axis], key), y_unit, expected == boundaries.RISING, rng
            )
            resamples.add(n_boot)
            for level, row in zip(y_levels, found, strict=True):
                tables[label].append(key | {f.y: level} | _to_axis_units(row, x_axis))
    for label, rows in tables.items():
        setattr(f, label, pd.DataFrame(rows, columns=[*by, f.y, *boundaries.ROW_COLUMNS]))
    f.boundary_method = (
        f"{surface.METHOD}, bandwidth by leave-one-out cross-validation; zero contour on a "
        f"{surface.GRID_POINTS}-point grid in x; band: 95 % percentile bootstrap over design points"
    )
    if y_axis.grid:
        evaluated = f"each level of {f.y}"
    elif y_axis.integer:
        evaluated = f"{len(y_levels)} evenly spaced whole numbers of {f.y}"
    else:
        evaluated = f"{len(y_levels)} evenly spaced levels of {f.y}"
    f.notes.append(
        f"Sampled design ({f.manifest.get('design')}): boundaries come from a fitted surface of each mix's "
        f"mean margin over ({f.x}, {f.y}) — {surface.METHOD} — evaluated at {evaluated}; "
        "the band is the 2.5–97.5 % percentile of the boundary over "
        f"{', '.join(map(str, sorted(resamples)))} bootstrap resamples of the design points."
    )
    others = [a.path for a in numeric_axes if a.path not in (f.x, f.y)]
    if others:
        f.notes.append(f"The fitted surface averages over the other sampled axes ({', '.join(others)}).")


def _mix_data(
    f: Findings, per_mix: pd.DataFrame, name: str, axes: list[Axis], key: dict[str, Any]
) -> list[surface.MixData]:
    """Each mix's points with a value of margin ``name``, for the fitted worst case.

    A mix where the margin's deviating side is absent is left out (the question does not arise
    there; ``f.left_out`` says so). A mix with too few points to fit is left out too, with a note.
    """
    out = []
    for mix, rows in per_mix.groupby("mix", sort=True):
        absent = rows.get(f"{name}_absent", pd.Series(False, index=rows.index)).to_numpy(bool)
        rows = rows[~absent & rows[f"{name}_mean"].notna().to_numpy()]
        if absent.all():
            continue
        points = np.column_stack([a.to_unit(rows[a.path]) for a in axes])
        data = surface.MixData(points, rows[f"{name}_mean"].to_numpy(float))
        if surface.too_few_points(data):
            group = ", ".join(f"{k} = {v}" for k, v in key.items() if k != "design" or len(f.designs) > 1)
            n = len(data.values)
            f.notes.append(
                f"Mix {mix}{' (' + group + ')' if group else ''} has {n} point{'s' if n != 1 else ''} with a "
                f"value of the {MARGIN_LABELS[name]}, fewer than the {surface.MIN_POINTS} a fitted surface "
                "needs: it is left out of the fitted worst case, so the boundary there is the worst case "
                "over the other mixes only."
            )
        out.append(data)
    return out


def _to_axis_units(row: dict, axis: Axis) -> dict:
    """A boundary row found in unit x, with its numbers mapped back onto the axis (±inf kept).

    ``between_low`` / ``between_high`` become the two whole numbers the verdict changes between on
    an integer axis — the one below the estimate (or at it, for a falling margin, which still holds
    there) and the next — and NaN on a real one: a fitted curve has no swept levels to name.
    """
    out = dict(row)
    for key in ("estimate", "band_low", "band_high"):
        value = out[key]
        if isinstance(value, float) and math.isfinite(value):
            out[key] = float(axis.from_unit(value))
    out["between_low"] = out["between_high"] = math.nan
    if axis.integer and out["where"] == boundaries.INSIDE:
        if out["direction"] == boundaries.RISING:  # holds from the first whole number at or above it
            out["between_high"] = float(math.ceil(out["estimate"]))
            out["between_low"] = out["between_high"] - 1
        else:  # holds up to the last whole number at or below it
            out["between_low"] = float(math.floor(out["estimate"]))
            out["between_high"] = out["between_low"] + 1
    return out


def _product(lists: list[list[Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    for values in lists:
        out = [(*combo, v) for combo in out for v in values]
    return out


def _levels_text(levels: list[Any]) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in levels)


# -- theory ------------------------------------------------------------------------------------
def _theory(f: Findings) -> None:
    """The closed form's bounds over the same scenarios, when the boundaries are along a closed
    form's axis (``theory.CLOSED_FORM_AXES``: the slash fraction for token runs, the service fee for
    tokenless ones) and some run was played under that axis's regime.

    One analytic row per simulated boundary row, its scenario built from the full parameter values
    of the points that row stands for (every swept parameter but x): a parameter constant over
    them takes its value, one the fitted surface of a sampled design averages over takes its median
    there (with a note). The bounds do not depend on x's own value; the assumptions may (a fee
    budget binds at high fees), so along the fee they are checked at the highest fee swept.
    """
    ok = f.results[f.results["status"] == "ok"]
    if not theory.has_closed_form(f.x, set(ok[REGIME])) or base_scenario(f.manifest) is None:
        return
    keys = list(f.group_columns)
    if f.shape == "1-D" and f.boundaries_1d is not None:
        simulated = {label: f.boundaries_1d[f.boundaries_1d["name"] == label] for label in f.named}
    elif f.deterrence is not None and f.participation is not None:
        simulated = {"deterrence": f.deterrence, "participation": f.participation}
        keys.append(f.y)
    else:
        return
    groups = simulated["deterrence"][keys].drop_duplicates().to_dict("records")
    averaged: set[str] = set()
    settings = [_scenario_values(f, group, averaged) for group in groups]
    if f.x == SERVICE_FEE:
        highest = float(f.classified[f.x].max())
        settings = [values | {f.x: highest} for values in settings]
    f.analytic = theory.analytic_table(f.manifest, f.mixes, groups, settings, f.x)
    if f.analytic is None:
        return
    if averaged:
        f.notes.append(
            "The closed form is evaluated at the median of "
            + ", ".join(sorted(averaged))
            + " over the design points each boundary stands for (the fitted surface averages over them)."
        )
    f.distances = {
        label: theory.boundary_distance(simulated[label], f.analytic, f.y, label, on=keys)
        for label in ("deterrence", "participation")
    }
    for design in f.designs:
        f.distances_by_design[design] = {
            label: theory.boundary_distance(
                simulated[label][simulated[label]["design"] == design], f.analytic, f.y, label, on=keys
            )
            for label in ("deterrence", "participation")
        }


def _scenario_values(f: Findings, group: dict[str, Any], averaged: set[str]) -> dict[str, Any]:
    """Every swept parameter's value (x aside) for the analytic scenario of one boundary row.

    The points the row stands for are those at the row's group levels, and at its y level when the
    sweep has points there (a sampled y is evaluated between them). Parameters constant over those
    points take that value, others their median (whole for an integer axis; added to ``averaged``).
    """
    fixed = {k: v for k, v in group.items() if k != "design" and k != f.y}
    points = axes_module.at_levels(f.classified[f.classified["design"] == group["design"]], fixed)
    if f.y is not None and f.y in group:
        at_y = axes_module.at_levels(points, {f.y: group[f.y]})
        points = at_y if len(at_y) else points
    values: dict[str, Any] = {}
    for p in f.parameters:
        if p == f.x:
            continue
        if p in group:
            values[p] = group[p]
            continue
        distinct = points[p].dropna().unique()
        if len(distinct) == 1:
            values[p] = distinct[0]
        elif len(distinct) > 1 and p in f.numeric:
            median = float(np.median(points[p].astype(float)))
            values[p] = round(median) if p in f.integer else median
            averaged.add(p)
    return values


# -- regions -----------------------------------------------------------------------------------
def _regions(f: Findings, numeric_axes: list[Axis]) -> None:
    """PRIM box and parameter ranking for 'honesty dominates' over the numeric axes, per design."""
    from analysis import regions

    numeric = [a.path for a in numeric_axes]
    if not numeric:
        f.box_note = (
            "No numeric parameter varies, so there is no box to draw: see the verdicts per category."
            if f.categorical
            else "Nothing varies, so there is no box to draw."
        )
        return
    for design in f.designs:
        points = f.classified[f.classified["design"] == design]
        target = (points["honesty"] == dominance.DOMINATES).to_numpy()
        f.boxes[design] = regions.find_box(points[numeric].astype(float), target)
    f.box = f.boxes.get(f.designs[0])
    if f.box is None:
        f.box_note = (
            f"Honesty dominates at no point{_under(f, f.designs[0])}, so there is no region to describe."
        )
    _sensitivity(f, numeric)


def _under(f: Findings, design: str) -> str:
    return f" under design {design}" if len(f.designs) > 1 else ""


def _sensitivity(f: Findings, numeric: list[str]) -> None:
    """What matters for the trainers' margin — the margin dominance uses (best deviation by mean per
    point and mix, ``dominance.trainer_margins``) — over the first design's runs: Sobol' indices for
    a ``saltelli`` design, Morris μ* for ``morris``, the correlation ratio η² otherwise."""
    from analysis import sensitivity

    runs = f.results[f.results["design"] == f.designs[0]]
    ok = runs[runs["status"] == "ok"]
    if f.adaptation is not None:
        f.share_sensitivity = _share_ranking(ok, numeric)
    margin = dominance.trainer_margins(ok, ["design", *f.parameters, "mix"])
    design = f.manifest.get("design")
    if design in ("saltelli", "morris") and len(ok) == len(runs):
        per_design_point = _per_design_point(f, ok, margin)
        if per_design_point is not None and design == "saltelli":
            try:
                f.sensitivity = sensitivity.sobol_indices(
                    per_design_point.to_numpy(), len(per_design_point) // (len(numeric) + 2), numeric
                )
                f.sensitivity_method = "Sobol' indices of the trainers' margin (bootstrap 95 % intervals)"
                return
            except ValueError:
                pass
        if per_design_point is not None and design == "morris" and _morris(f, ok, per_design_point):
            return
    per_point = ok[numeric].assign(margin=margin).groupby(numeric)["margin"].mean().dropna().reset_index()
    if len(per_point) >= 4 and per_point["margin"].std() > 0:
        f.sensitivity = sensitivity.rank_parameters(per_point[numeric].astype(float), per_point["margin"])
        f.sensitivity_method = "correlation ratio η² (and Spearman ρ) of the trainers' margin, per point"


def _share_ranking(ok: pd.DataFrame, numeric: list[str]) -> pd.DataFrame | None:
    """What matters for where the network ends: η² and Spearman ρ of the mean final honest share of
    trainer owners per point (over mixes and replications); None with too few points or no spread."""
    from analysis import sensitivity

    if not numeric or adaptation_module.FINAL not in ok:
        return None
    share = pd.to_numeric(ok[adaptation_module.FINAL], errors="coerce")
    per_point = ok[numeric].assign(share=share).groupby(numeric)["share"].mean().dropna().reset_index()
    if len(per_point) < 4 or not per_point["share"].std() > 0:
        return None
    return sensitivity.rank_parameters(per_point[numeric].astype(float), per_point["share"])


def _per_design_point(f: Findings, ok: pd.DataFrame, margin: pd.Series) -> pd.Series | None:
    """The trainers' margin per design point of a sampled design, in the design's order, averaged
    over the mixes (where it has a value) and replications; None unless every design point has one.

    Equal neighbouring design points stay separate (see :func:`_design_point`).
    """
    means = margin.groupby(_design_point(f, ok)).mean()
    expected = f.manifest.get("design_points")
    if means.isna().any() or (isinstance(expected, int) and len(means) != expected):
        return None
    if not (means.index.to_numpy() == np.arange(len(means))).all():
        return None
    return means


def _design_point(f: Findings, runs: pd.DataFrame) -> pd.Series:
    """Each run's design point: ``point // (designs × mixes)`` — the results' ``point`` counts
    parameter points, then designs, then mixes — with the counts from the manifest's ``designs`` and
    ``mixes`` lists (from the runs for older manifests that lack them)."""
    n_designs = len(f.manifest.get("designs") or []) or f.results["design"].nunique()
    n_mixes = len(f.manifest.get("mixes") or []) or f.results["mix"].nunique()
    return runs["point"] // (n_designs * n_mixes)


def _morris(f: Findings, ok: pd.DataFrame, means: pd.Series) -> bool:
    """Morris elementary effects of the trainers' margin (a ``morris`` design): one value per
    design point, in the design's trajectory order, averaged over mixes and replications."""
    from analysis import sensitivity

    specs = f.manifest.get("parameter_specs")
    levels = f.manifest.get("morris_levels")
    if not specs or not isinstance(levels, int):
        return False
    values = ok.groupby(_design_point(f, ok))[f.parameters].first().loc[means.index]
    try:
        f.sensitivity = sensitivity.morris_indices(values, means.to_numpy(), specs, levels)
    except ValueError:
        return False
    f.sensitivity_method = (
        "Morris elementary effects of the trainers' margin (μ*: mean absolute effect per unit-cube step; "
        "95 % bootstrap interval)"
    )
    return True
