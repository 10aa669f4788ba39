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

from analysis import axes as axes_module
from analysis import boundaries, comparison, dominance, surface, theory
from analysis.axes import SLASH, Axis
from analysis.settings import base_scenario, design_names, mix_names, value_per_run, with_design_column
from analysis.summary import STRATEGY_LABELS, best_deviation, findings_table, short, summarise
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
__all__ += ["best_deviation"]

OUTSIDE_OPTION = "costs.outside_option_return_per_round"
GRID_METHOD = "linear interpolation of the worst mix's mean margin between neighbouring grid levels"


class NothingToReport(ValueError):
    """The results directory has no successful run to analyse; the message says why."""


@dataclass
class Findings:
    """What a sweep shows. Tables are pandas DataFrames; see each field."""

    directory: Path
    manifest: dict[str, Any]
    results: pd.DataFrame
    """Every run row (status ok or failed), with a ``design`` column."""
    parameters: list[str]
    """The varied parameters, in sweep order."""
    numeric: list[str]
    """Varied parameters with numeric levels."""
    categorical: list[str]
    """Varied parameters with named levels (e.g. a reward rule)."""
    designs: list[str]
    """The tokenomics designs (``["base"]`` when the sweep has none)."""
    shape: str
    """``none`` | ``1-D`` | ``2-D`` | ``n-D`` | ``categorical`` | ``sampled`` (``analysis.axes``)."""
    x: str | None
    """The axis boundaries are found along (the slash fraction when varied)."""
    y: str | None
    """The axis boundaries are given per level of (a reward level when varied); None for 1-D."""
    classified: pd.DataFrame
    """One row per (design, point): verdicts and worst-mix margins (``dominance.classify``)."""
    per_mix: pd.DataFrame
    """One row per (design, point, mix): margins with bounds and mean payoffs."""
    slice_axes: list[str] = field(default_factory=list)
    """n-D: the axes held at fixed levels in each 2-D slice ([] otherwise)."""
    slices: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    """n-D: one ``{axis: level}`` per slice; ``[{}]`` otherwise."""
    mixes: list[str] = field(default_factory=list)
    thresholds: pd.DataFrame | None = None
    """1-D: every sign change of each margin along x (``boundaries.thresholds``)."""
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
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per (design, mix, KPI) with NaN values among ok runs: runs, reason."""
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
    summary: list[str] = field(default_factory=list)
    """The findings in plain words, most important first."""

    @property
    def failures(self) -> pd.DataFrame:
        """The failed runs: id, point, design, mix, seed and the first line of the error."""
        failed = self.results[self.results["status"] == "failed"]
        first_line = failed["error"].astype(str).str.split("\n").str[0]
        return failed[["run_id", "point", "design", "mix", "seed"]].assign(error=first_line)

    @property
    def group_columns(self) -> list[str]:
        """The columns each boundary table is split by: design, slice axes, categorical axes."""
        return ["design", *self.slice_axes, *self.categorical]


def load_base(manifest: dict[str, Any]):
    """The sweep's base scenario as the manifest recorded it (None for older manifests)."""
    return base_scenario(manifest)


def choose_axes(parameters: list[str], numeric: list[str]) -> tuple[str | None, str | None]:
    """x: the slash fraction if varied, else the first numeric parameter; y: a reward level if
    varied, else the next numeric parameter."""
    return axes_module.choose_axes(numeric)


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
    results = with_design_column(results)
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
        designs=design_names(results, manifest),
        shape=axes_module.shape_of(axes, manifest.get("design")),
        x=x,
        y=y,
        classified=dominance.classify_statistics(per_mix, results),
        per_mix=per_mix,
        mixes=mix_names(results, manifest),
    )
    f.notes += _interval_notes(confidence)
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
    f.dropped = comparison.dropped_runs(f)
    _regions(f, numeric_axes)
    f.summary = summarise(f)
    return f


def _interval_notes(confidence: float) -> list[str]:
    return [
        f"Dominance uses one-sided {confidence:.0%} Student-t bounds of each margin over the replications "
        "(lower bound > 0 under every mix of a design to dominate; upper bound < 0 under some mix to fail).",
        f"Bands are two-sided {dominance.BAND:.0%} Student-t intervals per point (one-sided "
        f"{(1 + dominance.BAND) / 2:.1%} bounds); a boundary's band is where those bounds cross zero.",
        "Each design is analysed on its own; its verdicts are the worst case over its mixes. Grid levels "
        "are read as they are: no levels are grouped or binned.",
    ]


# -- boundaries per shape ----------------------------------------------------------------------
def _thresholds(f: Findings, axis: Axis, rng: np.random.Generator) -> None:
    by = ["design", *f.categorical]
    if axis.grid:
        f.thresholds = boundaries.thresholds(f.classified, f.x, by)
        f.boundary_method = GRID_METHOD
        return
    rows = []
    for key, per_mix in _groups(f.per_mix, by):
        for label, (name, expected) in boundaries.NAMED.items():
            found, _, _ = surface.fitted_boundaries(
                _mix_data(per_mix, name, [axis]), [None], expected == boundaries.RISING, rng
            )
            row = _to_axis_units(found[0], axis)
            rows.append(key | {"name": label, **{k: row[k] for k in ("estimate", "band_low", "band_high")}})
            rows[-1] |= {"direction": row["direction"], "where": row["where"]}
    f.thresholds = pd.DataFrame(rows)
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
    for fixed in f.slices:
        part = axes_module.at_levels(f.classified, fixed)
        for label, (name, expected) in boundaries.NAMED.items():
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
    y_unit = list(np.unique(y_axis.to_unit(y_axis.levels))) if y_axis.grid else list(np.linspace(0, 1, 9))
    y_levels = [_plain_level(y_axis, u) for u in y_unit]
    by = ["design", *f.categorical]
    tables = {"deterrence": [], "participation": []}
    resamples = set()
    for key, per_mix in _groups(f.per_mix, by):
        for label, (name, expected) in boundaries.NAMED.items():
            found, n_boot, _ = surface.fitted_boundaries(
                _mix_data(per_mix, name, [x_axis, y_axis]), y_unit, expected == boundaries.RISING, rng
            )
            resamples.add(n_boot)
            for level, row in zip(y_levels, found, strict=True):
                tables[label].append(key | {f.y: level} | _to_axis_units(row, x_axis))
    for label, rows in tables.items():
        setattr(f, label, pd.DataFrame(rows))
    f.boundary_method = (
        f"{surface.METHOD}, bandwidth by leave-one-out cross-validation; zero contour on a "
        f"{surface.GRID_POINTS}-point grid in x; band: 95 % percentile bootstrap over design points"
    )
    f.notes.append(
        f"Sampled design ({f.manifest.get('design')}): boundaries come from a fitted surface of each mix's "
        f"mean margin over ({f.x}, {f.y}) — {surface.METHOD} — evaluated at "
        f"{'each level of ' + f.y if y_axis.grid else f'{len(y_levels)} evenly spaced levels of ' + f.y}; "
        "the band is the 2.5–97.5 % percentile of the boundary over "
        f"{', '.join(map(str, sorted(resamples)))} bootstrap resamples of the design points."
    )
    others = [a.path for a in numeric_axes if a.path not in (f.x, f.y)]
    if others:
        f.notes.append(f"The fitted surface averages over the other sampled axes ({', '.join(others)}).")


def _mix_data(per_mix: pd.DataFrame, name: str, axes: list[Axis]) -> list[surface.MixData]:
    out = []
    for _, rows in per_mix.groupby("mix", sort=True):
        rows = rows[rows[f"{name}_mean"].notna()]
        points = np.column_stack([a.to_unit(rows[a.path]) for a in axes])
        out.append(surface.MixData(points, rows[f"{name}_mean"].to_numpy(float)))
    return out


def _to_axis_units(row: dict, axis: Axis) -> dict:
    """A boundary row found in unit x, with its numbers mapped back onto the axis (±inf kept)."""
    out = dict(row)
    for key in ("estimate", "band_low", "band_high"):
        value = out[key]
        if isinstance(value, float) and math.isfinite(value):
            out[key] = float(axis.from_unit(value))
    return out


def _plain_level(axis: Axis, u: float) -> Any:
    value = float(axis.from_unit(u))
    if axis.grid:
        return axes_module.match_level(axis.levels, value)
    return value


def _groups(table: pd.DataFrame, by: list[str]):
    for key, group in table.groupby(by, sort=True, dropna=False):
        yield dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)), group


def _product(lists: list[list[Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    for values in lists:
        out = [(*combo, v) for combo in out for v in values]
    return out


def _levels_text(levels: list[Any]) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in levels)


# -- theory ------------------------------------------------------------------------------------
def _theory(f: Findings) -> None:
    """The closed form's bounds over the same scenarios, when the boundaries are in slash fraction."""
    if f.x != SLASH or base_scenario(f.manifest) is None:
        return
    simulated = {"deterrence": f.deterrence, "participation": f.participation}
    if f.shape == "1-D":
        keys = ["design", *f.categorical]
        groups = f.classified[keys].drop_duplicates().to_dict("records")
        f.analytic = theory.analytic_table(f.manifest, f.mixes, groups, None, [])
        simulated = {
            label: boundaries.boundary(f.classified, f.x, None, name, expected == boundaries.RISING, keys)
            for label, (name, expected) in boundaries.NAMED.items()
        }
    elif f.deterrence is not None:
        keys = f.group_columns
        groups = f.deterrence[keys].drop_duplicates().to_dict("records")
        levels = list(dict.fromkeys(f.deterrence[f.y].tolist()))
        table = theory.analytic_table(f.manifest, f.mixes, groups, f.y, levels)
        # One scenario per (group, level): keep the rows the simulated tables have.
        f.analytic = None if table is None else table.merge(f.deterrence[[*keys, f.y]], on=[*keys, f.y])
        keys = [*keys, f.y]
    else:
        return
    if f.analytic is None:
        return
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
    from analysis import sensitivity

    runs = f.results[f.results["design"] == f.designs[0]]
    ok = runs[runs["status"] == "ok"]
    if (
        f.manifest.get("design") == "saltelli"
        and ok["margin_trainers"].notna().all()
        and len(ok) == len(runs)
    ):
        # Sobol' indices need the design's block order (A, B, AB_1 … AB_d): one value per design
        # point — consecutive runs with the same parameters, over its mixes and replications.
        ordered = runs.sort_values("run_id")
        starts = (ordered[f.parameters] != ordered[f.parameters].shift()).any(axis=1).cumsum()
        per_design = ordered.groupby(starts.to_numpy())["margin_trainers"].mean().to_numpy()
        try:
            f.sensitivity = sensitivity.sobol_indices(
                per_design, len(per_design) // (len(numeric) + 2), numeric
            )
            f.sensitivity_method = "Sobol' indices of the trainers' margin (bootstrap 95 % intervals)"
            return
        except ValueError:
            pass
    complete = ok["margin_trainers"].notna().all() and len(ok) == len(runs)
    if f.manifest.get("design") == "morris" and complete and _morris(f, runs):
        return
    per_point = ok.groupby(numeric)["margin_trainers"].mean().reset_index()
    if len(per_point) >= 4 and per_point["margin_trainers"].std() > 0:
        f.sensitivity = sensitivity.rank_parameters(
            per_point[numeric].astype(float), per_point["margin_trainers"]
        )
        f.sensitivity_method = "correlation ratio η² (and Spearman ρ) of the trainers' margin, per point"


def _morris(f: Findings, runs: pd.DataFrame) -> bool:
    """Morris elementary effects of the trainers' margin (a ``morris`` design): one value per
    design point, in the design's trajectory order, averaged over mixes and replications."""
    from analysis import sensitivity

    specs = f.manifest.get("parameter_specs")
    levels = f.manifest.get("morris_levels")
    if not specs or not isinstance(levels, int):
        return False
    per_parameter_point = max(len(f.designs), 1) * max(len(f.mixes), 1)
    parameter_point = runs["point"] // per_parameter_point
    means = runs.groupby(parameter_point)["margin_trainers"].mean()
    values = runs.groupby(parameter_point)[f.parameters].first().loc[means.index]
    try:
        f.sensitivity = sensitivity.morris_indices(values, means.to_numpy(), specs, levels)
    except ValueError:
        return False
    f.sensitivity_method = (
        "Morris elementary effects of the trainers' margin (μ*: mean absolute effect per unit-cube step; "
        "95 % bootstrap interval)"
    )
    return True
