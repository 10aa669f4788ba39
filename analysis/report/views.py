"""What each part of the report looks at: panels per design, slice and category, payoff statistics
at the levels where a boundary lies, and representative points for the round-by-round view.

A *selection* is a dict of column → level naming one design, one slice of an n-D sweep and one
level of each categorical axis: the rows of every findings table that belong together. These
functions select and summarise rows; they draw nothing (``figures``) and write no HTML (``page``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from analysis import boundaries, regimes, validators
from analysis.dominance import interval
from analysis.findings import Findings, short
from analysis.report.figures import (
    PICK_COLOURS,
    TOKEN_MARGIN_UNIT,
    TOKENLESS_MARGIN_UNIT,
    LinePanel,
    Panel,
    SharePanel,
    level_label,
)

STRATEGIES = regimes.STRATEGIES
#: Payoff panels: at most this many levels of y.
MAX_PAYOFF_LEVELS = 4


def matches(table: pd.DataFrame | None, selection: dict) -> pd.DataFrame | None:
    """Rows of ``table`` whose columns equal every level in ``selection`` (columns it lacks are
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


def selections(f: Findings) -> list[dict]:
    """Every (design, slice, category levels) of the sweep, in order: designs, then slices, then
    the categorical axes' levels as they appear."""
    categories = [list(dict.fromkeys(f.classified[c])) for c in f.categorical if c in f.classified]
    out = []
    for design in f.designs:
        for where in f.slices or [{}]:
            for levels in itertools.product(*categories):
                out.append({"design": design, **where, **dict(zip(f.categorical, levels, strict=True))})
    return out


def title(f: Findings, selection: dict) -> str:
    """A selection in words: the design (when there are several), the slice and category levels."""
    parts = [f"design: {selection['design']}"] if len(f.designs) > 1 else []
    parts += [f"{short(k)} = {level_label(v)}" for k, v in selection.items() if k != "design"]
    return "; ".join(parts)


def panels(f: Findings) -> list[Panel]:
    """One panel per selection for the two-parameter views (empty selections left out), each with
    the unit its regime's margins are in."""
    out = []
    for selection in selections(f):
        classified = matches(f.classified, selection)
        if classified is None or classified.empty:
            continue
        scale, unit = margin_unit(regime_of(f, selection))
        out.append(
            Panel(
                title=title(f, selection),
                classified=classified,
                deterrence=matches(f.deterrence, selection),
                participation=matches(f.participation, selection),
                analytic=matches(f.analytic, selection),
                scale=scale,
                unit=unit,
            )
        )
    return out


def regime_of(f: Findings, selection: dict | None = None) -> str:
    """The regime of the ok runs under ``selection`` (all of them when None): ``token``,
    ``tokenless``, or ``mixed`` when they differ."""
    ok = f.results[f.results["status"] == "ok"]
    if selection:
        ok = matches(ok, selection)
    present = set(regimes.regime_per_run(ok, f.manifest))
    return present.pop() if len(present) == 1 else regimes.MIXED


#: How margins of runs of both regimes are drawn: as they are, each in its regime's own unit.
MIXED_MARGIN_UNIT = (1.0, "token: profit per unit of capital; tokenless: fiat per owner")


def margin_unit(regime: str) -> tuple[float, str]:
    """(factor to display, unit in words) of the margins of ``regime``'s runs: with a token, profit
    per round per unit of capital, shown in %; without, fiat per owner per round."""
    return {regimes.TOKEN: TOKEN_MARGIN_UNIT, regimes.TOKENLESS: TOKENLESS_MARGIN_UNIT}.get(
        regime, MIXED_MARGIN_UNIT
    )


def share_panels(f: Findings) -> list[SharePanel]:
    """The views of the final honest share of an adaptive sweep (none otherwise). With two numeric
    axes: one heat-map panel per selection and mix — each mix a starting population — with its
    tipping points along x; otherwise one panel per selection holding every mix."""
    a = f.adaptation
    if a is None:
        return []
    one_mix_each = f.shape in ("2-D", "n-D", "sampled") and f.x is not None and f.y is not None
    out = []
    for selection in selections(f):
        points = matches(a.per_mix, selection)
        if points is None or points.empty:
            continue
        tipping = matches(a.tipping, selection)
        tipping = tipping[tipping["axis"] == f.x] if f.x is not None else tipping.iloc[:0]
        if not one_mix_each:
            out.append(SharePanel(title(f, selection), points, tipping))
            continue
        for mix in f.mixes or list(dict.fromkeys(points["mix"])):
            rows = points[points["mix"] == mix]
            if len(rows):
                head = "; ".join(filter(None, (title(f, selection), f"mix {mix}")))
                out.append(SharePanel(head, rows, tipping[tipping["mix"] == mix]))
    return out


def boundary_levels(f: Findings, selection: dict) -> list:
    """Levels of y at which the deterrence or participation boundary lies inside the swept range
    under ``selection``, at most ``MAX_PAYOFF_LEVELS``, evenly picked; all levels if none does."""
    if f.y is None:
        return [None]
    levels = []
    for table in (f.deterrence, f.participation):
        rows = matches(table, selection)
        if rows is not None and len(rows):
            levels += rows.loc[rows["where"] == boundaries.INSIDE, f.y].tolist()
    classified = matches(f.classified, selection)
    every = sorted(classified[f.y].unique(), key=_sort_key) if f.y in classified else []
    chosen = sorted(set(levels) & set(every), key=_sort_key) or every
    if len(chosen) > MAX_PAYOFF_LEVELS:
        picks = np.linspace(0, len(chosen) - 1, MAX_PAYOFF_LEVELS).round().astype(int)
        chosen = [chosen[i] for i in sorted(set(picks))]
    return chosen


def _sort_key(value):
    if isinstance(value, int | float | np.integer | np.floating):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def payoff_statistics(f: Findings, selection: dict, mix: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean payoff per strategy with a two-sided ``confidence`` interval over replications, at each
    x of the levels :func:`boundary_levels` picks, for the runs of ``selection`` under ``mix``:
    columns panel, <y>, <x>, strategy, unit ('pi' = per unit of capital per round, 'fiat' = fiat
    per owner per round), mean, low, high, n, and the ``regime`` of those runs."""
    ok = f.results[f.results["status"] == "ok"]
    ok = matches(ok[ok["mix"] == mix], selection)
    present = set(regimes.regime_per_run(ok, f.manifest))
    regime = present.pop() if len(present) == 1 else regimes.MIXED
    one_sided = 1 - (1 - confidence) / 2  # interval() gives one-sided bounds; two of them make this
    rows = []
    for level in boundary_levels(f, selection):
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
                    row = {"panel": panel, f.x: x_value, "strategy": strategy, "regime": regime, "unit": unit}
                    if f.y is not None:
                        row[f.y] = level
                    bounds = {"low": _finite(low, mean), "high": _finite(high, mean)}
                    rows.append(row | {"mean": mean, **bounds, "n": n})
    return pd.DataFrame(rows)


def _finite(bound: float, mean: float) -> float:
    """An open bound (one replication) is drawn as no band at all, not an infinite one."""
    return bound if math.isfinite(bound) else mean


def representative_points(f: Findings, selection: dict) -> list[tuple[str, pd.Series]]:
    """Up to three points at a boundary level of y under ``selection`` (first mix): one where
    honesty fails, one near the deterrence boundary and one where it dominates — as (label, run ids
    of its replications)."""
    if f.x is None:
        return []
    levels = boundary_levels(f, selection)
    level = levels[len(levels) // 2]
    at_level = dict(selection) if level is None else {**selection, f.y: level}
    at = matches(f.classified, at_level).sort_values(f.x)
    if at.empty:
        return []
    chosen = []
    failing = at[at["honesty"] == "fails"]
    if len(failing):
        chosen.append(("fails", failing.iloc[len(failing) // 2][f.x]))
    rows = matches(f.deterrence, at_level)
    if rows is not None and len(rows) and (rows["where"] == boundaries.INSIDE).any():
        estimate = rows.loc[rows["where"] == boundaries.INSIDE, "estimate"].iloc[0]
        chosen.append(("near the boundary", at.iloc[int((at[f.x] - estimate).abs().argmin())][f.x]))
    winning = at[at["honesty"] == "dominates"]
    if len(winning):
        chosen.append(("dominates", winning.iloc[len(winning) // 2][f.x]))
    mix = (f.mixes or ["base"])[0]
    results = matches(f.results[f.results["mix"] == mix], at_level)
    picks, seen = [], set()
    for label, x_value in chosen:
        if x_value in seen:
            continue
        seen.add(x_value)
        runs = results.loc[_equal(results[f.x], x_value), "run_id"]
        where = f"{short(f.x)} {level_label(x_value)}"
        if level is not None:
            where += f", {short(f.y)} {level_label(level)}"
        picks.append((f"{label}: {where}", runs))
    return picks


# -- validators under Yuma Consensus ----------------------------------------------------------------
#: Most curves drawn in one panel of a validators' figure; every curve is in the CSV.
MAX_CURVES = 8


def _curve_labels(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each row's curve in words: the levels of the curve's columns other than design and mix."""
    inner = [c for c in columns if c not in ("design", "mix")]
    if not inner:
        return pd.Series("all levels", index=table.index)
    return table[inner].apply(
        lambda r: ", ".join(f"{validators.name(k)} = {level_label(r[k])}" for k in inner), axis=1
    )


def _line_panels(
    f: Findings, table: pd.DataFrame, columns: list[str], x: str, prefix: str
) -> tuple[list[LinePanel], int]:
    """One :class:`LinePanel` per (design, mix) of ``table`` — its curves the levels of the other
    ``columns`` — with x from column ``x`` and the interval from ``<prefix>_mean``, ``_low``, ``_high``;
    and how many curves were left out of a panel (more than :data:`MAX_CURVES`)."""
    if table.empty:
        return [], 0
    out, left_out = [], 0
    labelled = table.assign(curve=_curve_labels(table, columns))
    for (design, mix), rows in labelled.groupby(["design", "mix"], sort=False):
        curves = list(dict.fromkeys(rows["curve"]))
        left_out += max(0, len(curves) - MAX_CURVES)
        rows = rows[rows["curve"].isin(curves[:MAX_CURVES])]
        points = pd.DataFrame(
            {
                "curve": rows["curve"],
                "x": rows[x].astype(float),
                "mean": rows[f"{prefix}_mean"],
                "low": rows[f"{prefix}_low"],
                "high": rows[f"{prefix}_high"],
            }
        )
        parts = [f"design {design}"] if len(f.designs) > 1 else []
        parts += [f"mix {mix}"] if len(f.mixes) > 1 else []
        out.append(LinePanel("; ".join(parts), points, [], []))
    return out, left_out


def ratio_panels(f: Findings) -> tuple[list[LinePanel], int]:
    """The copiers' dividend ratio G against the reveal delay, one panel per (design, mix), with the
    lines G = 1 and G = 1 − take."""
    v = f.validators
    panels, left_out = _line_panels(f, v.dividends, v.curve_columns, validators.DELAY, "ratio")
    for panel in panels:
        panel.hlines.append((1.0, "G = 1: copying earns as much as evaluating", "--"))
        for line in sorted(set(v.dividends["take_line"].round(12))):
            panel.hlines.append((line, f"G = 1 − take = {line:.3g}: below it copying does not pay", ":"))
    return panels, left_out


def capture_panels(f: Findings) -> tuple[list[LinePanel], int]:
    """The cabal's share of the trainers' emission against its realised stake share, one panel per
    (design, mix), with the half-way line and the share above which the mechanism predicts capture."""
    v = f.validators
    panels, left_out = _line_panels(f, v.capture, v.capture_columns, "stake_share", "capture")
    for panel in panels:
        panel.hlines.append((validators.CAPTURED, "half of the trainers' emission", "--"))
        for share in sorted(set(v.capture["predicted"].round(12))):
            panel.vlines.append(
                (share, f"max(κ, 1 − κ)(1 − c) = {share:.3g}: capture predicted from it", ":")
            )
        for share in sorted(
            set(v.capture["predicted_low"].round(12)) - set(v.capture["predicted"].round(12))
        ):
            panel.vlines.append((share, f"min(κ, 1 − κ)(1 − c) = {share:.3g}: no capture below it", "-."))
    return panels, left_out


def validator_map_axes(f: Findings) -> tuple[str, str] | None:
    """The two numeric grid axes a map of the validators' verdicts is drawn over — the reveal delay
    and the cabal's stake share first — or None when the sweep has not exactly two numeric axes."""
    numeric = [p for p in f.numeric if f.classified[p].nunique() > 1] if f.shape == "2-D" else []
    if len(numeric) != 2:
        return None
    preferred = [p for p in (validators.DELAY, validators.CABAL) if p in numeric]
    x, y = (preferred + [p for p in numeric if p not in preferred])[:2]
    return x, y


def validator_verdict_panels(f: Findings) -> list[Panel]:
    """The validators' verdicts at the Yuma points, one panel per design and category level."""
    out = []
    for selection in selections(f):
        rows = matches(f.validators.verdicts, selection)
        if rows is not None and len(rows):
            out.append(Panel(title=title(f, selection), classified=rows))
    return out


# -- the token economy round by round ----------------------------------------------------------------
def _first_of_design(f: Findings, design: str) -> dict:
    """The first selection (slice, category levels) of ``design``."""
    return next(s for s in selections(f) if s["design"] == design)


def economy_picks(f: Findings) -> list[tuple[str, pd.Series]]:
    """The points the token economy is drawn at round by round (first mix), as (label, run ids).

    With a numeric axis: the round-by-round view's :func:`representative_points` (first selection),
    or — when no point there fails, dominates or lies near a boundary — its lowest, middle and highest
    level of x; with several designs, each design's own representative points, labelled with it, so
    that the designs are drawn side by side. Without a numeric axis each selection is a single point
    (a design, category levels): one pick per selection. At most ``len(PICK_COLOURS)`` picks.
    """
    mix = (f.mixes or ["base"])[0]
    ok = f.results[(f.results["status"] == "ok") & (f.results["mix"] == mix)]
    if f.x is None:
        picks = [(title(f, s) or "all runs", matches(ok, s)["run_id"]) for s in selections(f)]
        return [(label, runs) for label, runs in picks if len(runs)][: len(PICK_COLOURS)]
    if len(f.designs) > 1:  # each design's own points, so that a market is drawn beside a fixed price
        picks = [
            (f"{design}: {label}", runs)
            for design in f.designs
            for label, runs in representative_points(f, _first_of_design(f, design))
        ]
        if picks:
            return picks[: len(PICK_COLOURS)]
    selection = selections(f)[0]
    picks = representative_points(f, selection)
    if picks:
        return picks
    runs = matches(ok, selection)
    levels = sorted(runs[f.x].dropna().unique(), key=_sort_key)
    chosen = [levels[i] for i in sorted({0, len(levels) // 2, len(levels) - 1})] if levels else []
    return [
        (f"{short(f.x)} {level_label(x_value)}", runs.loc[_equal(runs[f.x], x_value), "run_id"])
        for x_value in chosen
    ]
