"""The findings in plain words, and the key numbers as one table, for every sweep shape.

Every sentence is computed from the same tables the report shows (``Findings.classified``,
``thresholds``, ``deterrence``, ``participation``, ``comparison``), so the words and the tables
agree. No sentence prints NaN or infinity as a number: an end beyond the swept range, a bound
outside [0, 1] or a missing comparison is said in words.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis import boundaries, dominance, theory
from analysis.axes import SERVICE_FEE, SLASH, at_levels
from analysis.comparison import KEEPS_TRAINERS
from analysis.dominance import regime_names
from analysis.settings import REGIME, REGIME_KEY, TOKEN, TOKENLESS
from model.kpis import TRAINER_DEVIATIONS

if TYPE_CHECKING:
    from analysis.findings import Findings

STRATEGY_LABELS = {
    "honest": "honest trainers",
    "lazy": "lazy free-riding",
    "sybil": "Sybil identities",
    "poisoning": "poisoning",
    "honest_validator": "honest validators",
    "copying_validator": "copying validators",
}
#: Most levels a boundary is described at one by one; beyond it a slice is summarised in one line.
MAX_LEVEL_SENTENCES = 12


def _fmt(value: Any, digits: int = 3) -> str:
    """A number as people write it; a switch as TOML writes it (``true`` / ``false``); words (never
    ``nan`` or ``inf``) for the rest."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float | np.floating) and math.isinf(value):
        return "unbounded" if value > 0 else "unbounded below"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"


def short(parameter: str | None) -> str:
    """A parameter's name as people say it."""
    names = {
        SLASH: "slash fraction",
        SERVICE_FEE: "service fee",
        REGIME_KEY: "regime",
        "emission.initial_tokens_per_round": "tokens emitted per round",
        "emission.trainer_share": "trainers' share of emission",
    }
    if parameter is None:
        return ""
    return names.get(parameter, parameter.split(".")[-1].replace("_", " "))


def best_deviation(row: pd.Series) -> str:
    """The cheating strategy with the highest mean payoff (in the point's regime: ``payoff_<s>``,
    else ``pi_<s>`` for tables without payoffs) at a per-mix point row."""
    column = "payoff_{}" if any(f"payoff_{s}" in row for s in TRAINER_DEVIATIONS) else "pi_{}"
    candidates = {s: row.get(column.format(s), np.nan) for s in TRAINER_DEVIATIONS}
    candidates = {s: v for s, v in candidates.items() if not pd.isna(v)}
    return max(candidates, key=candidates.get) if candidates else "none"


def band_text(low: float, high: float, fmt=None) -> str:
    """A boundary's 95 % band in words, numbers written by ``fmt``; an open end is 'beyond the swept
    range'."""
    fmt = fmt or _fmt
    if math.isinf(low) and math.isinf(high):
        return "95 % band reaching past both ends of the swept range"
    if math.isinf(low):
        return f"95 % band from below the swept range to {fmt(high)}"
    if math.isinf(high):
        return f"95 % band {fmt(low)} to beyond the swept range"
    return f"95 % band {fmt(low)}–{fmt(high)}"


def _whole(value: float) -> str:
    """A whole number of an integer axis (a level, or a whole number next to a boundary)."""
    return _fmt(value) if isinstance(value, str) or not math.isfinite(value) else f"{round(value):,d}"


def _whole_band(low: float, high: float) -> str:
    """A boundary's band on an integer axis, widened to the whole numbers around it."""
    return band_text(
        math.floor(low) if math.isfinite(low) else low, math.ceil(high) if math.isfinite(high) else high
    )


def _counts(points: pd.DataFrame, column: str = "honesty") -> dict[str, int]:
    counts = points[column].value_counts()
    return {v: int(counts.get(v, 0)) for v in (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS)}


def _level_text(fixed: dict[str, Any]) -> str:
    return ", ".join(f"{short(k)} = {_fmt(v) if not isinstance(v, str) else v}" for k, v in fixed.items())


#: The scenario sections each regime ignores (``model.scenario``: a tokenless run ignores the
#: token's sections, a token run the orchestrator's): a key there does not move that regime's runs.
IGNORED_SECTIONS = {
    TOKENLESS: ("staking", "emission", "rewards", "slashing", "token"),
    TOKEN: ("regime",),
}


def ignores(regime: str, parameter: str | None) -> bool:
    """Whether runs of ``regime`` ignore scenario key ``parameter`` (``regime.kind`` itself aside)."""
    if parameter is None or parameter == REGIME_KEY:
        return False
    return parameter.split(".")[0] in IGNORED_SECTIONS.get(regime, ())


def _idle_axis_sentence(
    f: Findings, points: pd.DataFrame, prefix: str, fixed: dict, joint: str
) -> str | None:
    """When every one of ``points`` (a group at the ``fixed`` levels) was played under a regime that
    ignores x: one sentence saying so — points that differ only in x are the same scenario with
    different random numbers, so no boundary is read along it; None otherwise. ``joint`` follows the
    group's levels (``", "`` or ``": "``)."""
    regimes = set(points[REGIME]) if REGIME in points else {TOKEN}
    if len(regimes) != 1 or not ignores(next(iter(regimes)), f.x):
        return None
    regime = next(iter(regimes))
    n = _counts(points)
    head = f"{prefix}With {_level_text(fixed)}{joint}the" if fixed else f"{prefix}The"
    return (
        f"{head} {short(f.x)} does not act here (the {regime} regime ignores it): points that differ "
        "only in it are the same scenario run with different random numbers, so no boundary is read along "
        f"it (honesty dominates at {n['dominates']} of {len(points)} points)."
    )


# -- the summary -------------------------------------------------------------------------------
def summarise(f: Findings) -> list[str]:
    """The findings in plain words, with the numbers behind each claim.

    With several designs the comparison leads; then, per design, the verdict counts, the
    per-category verdicts, the thresholds or boundaries, the validators and the theory; then the
    runs left out of a margin and the failed runs.
    """
    lines = []
    if len(f.designs) > 1:
        lines += _design_comparison(f)
    for design in f.designs:
        lines += _design_sentences(f, design)
    lines += _left_out_sentences(f)
    lines += _dropped_sentences(f)
    failures = len(f.failures)
    if failures:
        lines.append(f"{failures} runs failed and are left out of every figure; they are listed at the end.")
    return lines


def _prefix(f: Findings, design: str) -> str:
    return f"Design {design}: " if len(f.designs) > 1 else ""


def _kept_words(r: pd.Series) -> str:
    """How many of its trainer owners a design keeps to the end, in words ('' when the runs do not
    say): over all its runs, and over those where honesty dominates when that differs."""
    kept = r.get("trainer_owners_kept_share_all", math.nan)
    if kept is None or not math.isfinite(kept):
        return ""
    text = f"; it keeps {_percent(kept)} of its trainer owners to the end"
    where = r.get("trainer_owners_kept_share_where_dominates", math.nan)
    if r["dominates"] and where is not None and math.isfinite(where) and _percent(where) != _percent(kept):
        text += f", {_percent(where)} where honesty dominates"
    return text


def _percent(share: float) -> str:
    """A share as a whole percentage, ``< 1 %`` for a share too small to round to one."""
    return "< 1 %" if 0 < share < 0.005 else f"{100 * share:.0f} %"


def _kept_where_it_counts(r: pd.Series) -> tuple[float, str]:
    """(share, where in words) of its trainer owners a design keeps to the end where honesty
    dominates, or over all its runs when it dominates nowhere (or the runs do not say)."""
    where = r.get("trainer_owners_kept_share_where_dominates", math.nan)
    if r["dominates"] and where is not None and math.isfinite(where):
        return float(where), " where honesty dominates"
    kept = r.get("trainer_owners_kept_share_all", math.nan)
    return (float(kept) if kept is not None else math.nan), ""


def _design_comparison(f: Findings) -> list[str]:
    c = f.comparison
    parts = [
        f"under {r['design']} at {r['dominates']} of {r['points']} points ({r['share_dominates']:.0%}"
        + _kept_words(r)
        + ")"
        for _, r in c.iterrows()
    ]
    lines = [f"Designs compared — honesty dominates {'; '.join(parts)}."]
    if f.winners is not None and len(f.winners):
        best = f.winners["best_design"].dropna().value_counts()
        if len(regime_names(c)) > 1:
            lines.append(
                "The designs run under different regimes, so their margins (per unit of capital in the token "
                "network, fiat per owner in the tokenless federation) are compared by verdict, not by size."
            )
        if len(best):
            lines.append(
                f"The largest worst-mix lower bound of the trainers' margin is under {best.index[0]} at "
                f"{int(best.iloc[0])} of {len(f.winners)} points"
                + (
                    "; " + ", ".join(f"{d} at {int(n)}" for d, n in best.iloc[1:].items())
                    if len(best) > 1
                    else ""
                )
                + _emptied_words(c, best.index[0])
                + "."
            )
    if f.agreement is not None:
        lines += [_agreement_words(r) for _, r in f.agreement.iterrows() if r["points"]]
    for _, r in c.iterrows():
        if r.get(REGIME) == TOKENLESS:
            words = _tokenless_cost_words(r)
        else:
            emitted = _fmt(r["emitted_tokens_per_round_all"])
            over = " over its token runs" if r.get(REGIME) == dominance.MIXED_REGIMES else ""
            words = [f"{r['design']} emits {emitted} tokens per round on average{over}"]
            fiat, burned = _fmt(r["emitted_fiat_per_round_all"]), _fmt(r["burned_tokens_per_round_all"])
            words.append(f"(fiat {fiat}), burns {burned}")
            words.append(f"and slashes {_fmt(r['slashed_tokens_per_round_all'])}")
            if r["dominates"]:
                words.append(
                    f"— {_fmt(r['emitted_tokens_per_round_where_dominates'])} emitted where honesty dominates"
                )
        if r["safe_band_levels"]:
            words.append(_safe_band_words(r))
        elif f.x == SLASH and r.get(REGIME) != TOKENLESS:
            words.append("; it has no safe slashing band in the swept range")
        lines.append(" ".join(words).replace(" ;", ";") + ".")
    return lines


def _agreement_words(r: pd.Series) -> str:
    """How far one design's verdicts and margins are from the first design's."""
    words = (
        f"The verdicts under {r['design']} agree with those under {r['against']} at {r['same_verdict']} of "
        f"{r['points']} points ({r['share_same_verdict']:.0%})"
    )
    if math.isfinite(r["margin_difference_mean"]):
        words += (
            f"; its trainers' margin differs by {_fmt(r['margin_difference_mean'])} on average "
            f"(at most {_fmt(r['margin_difference_largest'])})"
        )
    return words + "."


def _emptied_words(c: pd.DataFrame, design: str) -> str:
    """A warning that the design with the largest margins keeps fewer than ``KEEPS_TRAINERS`` of its
    trainer owners: its margins are those of a network that empties, not of a better design."""
    rows = c[c["design"] == design]
    if rows.empty:
        return ""
    kept, where = _kept_where_it_counts(rows.iloc[0])
    if not (math.isfinite(kept) and kept < KEEPS_TRAINERS):
        return ""
    return (
        f" — but {design} keeps only {_percent(kept)} of its trainer owners to the end{where} (fewer "
        f"than {_percent(KEEPS_TRAINERS)}): cheating stops paying there because the network empties, "
        "which does not make it the better design"
    )


def _tokenless_cost_words(r: pd.Series) -> list[str]:
    """What a tokenless design costs, in words: no token is emitted, the consortium pays fiat."""
    words = [
        f"{r['design']} emits no token (tokenless): its network costs "
        f"{_fmt(r.get('network_cost_fiat_per_round_all', math.nan))} fiat per round on average in service "
        "fees, wages and KYC"
    ]
    if r["dominates"]:
        where = _fmt(r.get("network_cost_fiat_per_round_where_dominates", math.nan))
        words.append(f"— {where} where honesty dominates")
    return words


def _safe_band_words(r: pd.Series) -> str:
    """A design's safe slashing band in words: closed bands by their mean width, open ones — cut
    at an end of the swept range, so wider than measured — by how wide they are at least."""
    parts = []
    if r["safe_band_closed"]:
        parts.append(f"{r['safe_band_closed']} closed, {_fmt(r['safe_band_mean_width'])} wide on average")
    if r["safe_band_open"]:
        parts.append(
            f"{r['safe_band_open']} reaching past the swept range (at least "
            f"{_fmt(r['safe_band_open_min_width'])} wide)"
        )
    levels = r["safe_band_levels"]
    return f"; its safe slashing band exists at {levels} level{'s' if levels != 1 else ''}: " + " and ".join(
        parts
    )


def _design_sentences(f: Findings, design: str) -> list[str]:
    c = f.classified[f.classified["design"] == design]
    n = _counts(c)
    prefix = _prefix(f, design)
    mixes = ", ".join(f.mixes) or "base"
    adaptive = (
        "" if f.adaptation is None else ", and, where owners adapt, the network ends honest (next sentence)"
    )
    lines = [
        f"{prefix}Honesty dominates — honest trainers beat every cheating strategy by a margin whose 95 % "
        f"lower bound is above zero, and honest work pays at least the outside option"
        f"{_outside_option_words(regime_names(c))}{adaptive} — at "
        f"{n['dominates']} of {len(c)} parameter points under every population mix ({mixes}); it fails at "
        f"{n['fails']} and is uncertain at {n['uncertain']}."
    ]
    if f.categorical:
        lines += _category_sentences(f, c, prefix)
    if f.shape == "1-D" and f.thresholds is not None:
        lines += _threshold_sentences(f, design, prefix)
    elif f.deterrence is not None:
        lines += _boundary_sentences(f, design, prefix)
    lines.append(_validator_sentence(c, prefix, _all_yuma(f, design, len(c))))
    theory = _theory_sentence(f, design, prefix)
    if theory:
        lines.append(theory)
    return lines


def _outside_option_words(regimes: list[str]) -> str:
    """What the outside option is, when some points were played without a token ('' when none was)."""
    if TOKENLESS not in regimes:
        return ""
    if regimes == [TOKENLESS]:
        return (
            " (0: the tokenless federation commits no capital; payoffs are fiat profit per owner per round)"
        )
    return " (ω on the token network's capital; 0 in the tokenless federation, which commits none)"


def _category_sentences(f: Findings, c: pd.DataFrame, prefix: str) -> list[str]:
    out = []
    for key, group in c.groupby(f.categorical, sort=True):
        fixed = dict(zip(f.categorical, key if isinstance(key, tuple) else (key,), strict=True))
        n = _counts(group)
        out.append(
            f"{prefix}With {_level_text(fixed)}: honesty dominates at {n['dominates']} of {len(group)} "
            f"points, fails at {n['fails']}, uncertain at {n['uncertain']}."
        )
    return out


def _threshold_sentences(f: Findings, design: str, prefix: str) -> list[str]:
    t = f.thresholds[f.thresholds["design"] == design]
    x_name = short(f.x)
    lo, hi = _fmt(f.classified[f.x].min()), _fmt(f.classified[f.x].max())
    meaning = {
        "deterrence": ("honest trainers out-earn every deviation", "cheating pays better than honest work"),
        "participation": (
            "honest work pays at least the outside option",
            "honest work pays less than the outside option",
        ),
    }
    out = []
    groups = t.groupby(f.categorical, sort=True) if f.categorical else [((), t)]
    points = f.classified[f.classified["design"] == design]
    for key, group in groups:
        fixed = dict(zip(f.categorical, key if isinstance(key, tuple) else (key,), strict=True))
        at = f"With {_level_text(fixed)}, along" if fixed else "Along"
        idle = _idle_axis_sentence(f, at_levels(points, fixed) if fixed else points, prefix, fixed, ", ")
        if idle:
            out.append(idle)
            continue
        for name in ("deterrence", "participation"):
            rows = group[group["name"] == name]
            good, bad = meaning[name]
            if rows.empty:
                continue
            first = rows.iloc[0]
            if first["where"] == boundaries.ABOVE_ZERO:
                out.append(f"{prefix}{at} the {x_name} ({lo} to {hi}), {good} throughout the swept range.")
                continue
            if first["where"] == boundaries.BELOW_ZERO:
                out.append(
                    f"{prefix}{at} the {x_name} ({lo} to {hi}), {bad} throughout: "
                    "none in the swept range helps."
                )
                continue
            if first["where"] == boundaries.NO_DATA:
                out.append(
                    f"{prefix}{at} the {x_name}, the {name} margin has no value to compare "
                    "(see the runs left out)."
                )
                continue
            changes = []
            for _, r in rows.iterrows():
                if r["where"] != boundaries.INSIDE:
                    continue
                becomes = good if r["direction"] == boundaries.RISING else bad
                if f.x in f.integer:
                    changes.append(
                        f"between {_whole(r['between_low'])} and {_whole(r['between_high'])} {x_name} "
                        f"({_whole_band(r['band_low'], r['band_high'])}): from {_whole(r['between_high'])} "
                        f"on, {becomes}"
                    )
                    continue
                changes.append(
                    f"from {_fmt(r['estimate'])} ({band_text(r['band_low'], r['band_high'])}) {becomes}"
                )
            out.append(
                f"{prefix}{at} the {x_name}, the {name} verdict changes {len(changes)} time"
                f"{'s' if len(changes) != 1 else ''}: " + "; ".join(changes) + "."
            )
    return out


def _boundary_sentences(f: Findings, design: str, prefix: str) -> list[str]:
    det = f.deterrence[f.deterrence["design"] == design]
    part = f.participation[f.participation["design"] == design] if f.participation is not None else None
    keys = [c for c in f.group_columns if c != "design"]
    out = []
    groups = det.groupby(keys, sort=True, dropna=False) if keys else [((), det)]
    points = f.classified[f.classified["design"] == design]
    for key, group in groups:
        fixed = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        part_group = at_levels(part, fixed) if part is not None and fixed else part
        head = f"{prefix}With {_level_text(fixed)}: " if fixed else prefix
        idle = _idle_axis_sentence(f, at_levels(points, fixed) if fixed else points, prefix, fixed, ": ")
        if idle:
            out.append(idle)
            continue
        if len(group) > MAX_LEVEL_SENTENCES:
            out.append(head + _boundary_overview(f, group))
            continue
        for _, row in group.iterrows():
            sentence = _level_sentence(f, design, fixed, row, part_group)
            out.append(head + (sentence[0].lower() + sentence[1:] if fixed else sentence))
    return out


def _boundary_overview(f: Findings, group: pd.DataFrame) -> str:
    inside = group[group["where"] == boundaries.INSIDE]
    below = int((group["where"] == boundaries.BELOW).sum())
    above = int((group["where"] == boundaries.ABOVE).sum())
    text = (
        f"the deterrence boundary in {short(f.x)} lies inside the swept range at {len(inside)} of "
        f"{len(group)} levels of {short(f.y)}"
    )
    if len(inside) and f.x in f.integer:
        text += f" (from {_whole(inside['between_high'].min())} to {_whole(inside['between_high'].max())})"
    elif len(inside):
        text += f" (from {_fmt(inside['estimate'].min())} to {_fmt(inside['estimate'].max())})"
    return text + f"; no deterrence is needed at {below} and none in the range deters at {above}."


def _level_sentence(f: Findings, design: str, fixed: dict, row: pd.Series, part: pd.DataFrame | None) -> str:
    x_name, y_name = short(f.x), short(f.y)
    level = row[f.y]
    at = f"at {_fmt(level) if not isinstance(level, str) else level} {y_name}"
    points = at_levels(f.per_mix[f.per_mix["design"] == design], fixed | {f.y: level}).sort_values(f.x)
    cheat = best_deviation(points.iloc[0]) if len(points) else "cheating"
    cheat = STRATEGY_LABELS.get(cheat, cheat)
    if row["where"] == boundaries.ABOVE:
        text = f"{at[0].upper()}{at[1:]}, no {x_name} in the swept range deters cheating ({cheat} pays)"
    elif row["where"] == boundaries.BELOW:
        text = (
            f"{at[0].upper()}{at[1:]}, honest trainers out-earn every deviation even at the lowest "
            f"{x_name} swept"
        )
    elif row["where"] == boundaries.NO_DATA:
        text = f"{at[0].upper()}{at[1:]}, the trainers' margin has no value (see the runs left out)"
    elif f.x in f.integer:  # whole numbers only: say between which two the verdict changes
        between = (
            f"(it changes between {_whole(row['between_low'])} and {_whole(row['between_high'])}; "
            f"{_whole_band(row['band_low'], row['band_high'])})"
        )
        if row["direction"] == boundaries.RISING:
            text = (
                f"{at[0].upper()}{at[1:]}, honest trainers out-earn every deviation for {x_name} ≥ "
                f"{_whole(row['between_high'])} {between}; below it {cheat} pays best"
            )
        else:
            text = (
                f"{at[0].upper()}{at[1:]}, honest trainers out-earn every deviation only for {x_name} ≤ "
                f"{_whole(row['between_low'])} {between}"
            )
    elif row["direction"] == boundaries.RISING:
        text = (
            f"{at[0].upper()}{at[1:]}, honest trainers out-earn every deviation for {x_name} ≥ "
            f"{_fmt(row['estimate'])} ({band_text(row['band_low'], row['band_high'])}); "
            f"below it {cheat} pays best"
        )
    else:
        text = (
            f"{at[0].upper()}{at[1:]}, honest trainers out-earn every deviation only for {x_name} below "
            f"{_fmt(row['estimate'])} ({band_text(row['band_low'], row['band_high'])})"
        )
    if row.get("crossings", 0) > 1:
        text += f" (the margin changes sign {int(row['crossings'])} times along {x_name})"
    if part is not None:
        p = at_levels(part, {f.y: level})
        if len(p):
            text += _participation_clause(f, p.iloc[0])
    return text + "."


def _participation_clause(f: Findings, p: pd.Series) -> str:
    """What the participation boundary ``p`` adds to a level's sentence ('' when honest work pays
    throughout). Along the slash fraction it is an upper bound (false-positive slashes erode honest
    profit), along the tokenless service fee a lower bound (the fee pays honest work)."""
    x_name = short(f.x)
    rises = f.named["participation"][1] == boundaries.RISING
    never = boundaries.ABOVE if rises else boundaries.BELOW
    if p["where"] == never:
        return f"; but honest work does not pay the outside option here at any {x_name} swept"
    if p["where"] != boundaries.INSIDE:
        return ""
    if p["direction"] == boundaries.FALLING and not rises and f.x == SLASH:
        where = f"from {_whole(p['between_high'])} on" if f.x in f.integer else f"above {_fmt(p['estimate'])}"
        return (
            f"; {where} honest trainers' false-positive slashing losses push their profit below the "
            "outside option"
        )
    if p["direction"] == boundaries.RISING:
        if f.x in f.integer:
            where, band = f"from {_whole(p['between_high'])}", _whole_band(p["band_low"], p["band_high"])
        else:
            where, band = f"from {_fmt(p['estimate'])}", band_text(p["band_low"], p["band_high"])
        return f"; honest work pays at least the outside option only {where} on ({band})"
    where = f"from {_whole(p['between_high'])} on" if f.x in f.integer else f"above {_fmt(p['estimate'])}"
    return f"; {where} honest work no longer pays the outside option"


#: How each regime's validators' margin is written: (scale, unit in words).
MARGIN_UNITS = {
    TOKEN: (100.0, "% of capital per round"),
    TOKENLESS: (1.0, "fiat per owner per round"),
    dominance.MIXED_REGIMES: (1.0, "in each mix's own unit"),
}


def _validator_margin_text(c: pd.DataFrame) -> str:
    """The validators' margin's range over the points, in each regime's unit (token: % of capital
    per round; tokenless: fiat per owner per round)."""
    regimes = c[REGIME] if REGIME in c else pd.Series(TOKEN, index=c.index)
    parts = []
    for regime in regime_names(c):
        means = c.loc[(regimes == regime).to_numpy(), "validators_mean"].dropna()
        if means.empty:
            continue
        scale, unit = MARGIN_UNITS[regime]
        label = f" ({regime})" if regime_names(c) != [regime] else ""
        parts.append(f"{_fmt(scale * means.min())} to {_fmt(scale * means.max())} {unit}{label}")
    return "margin " + "; ".join(parts)


#: Why copying beats honest validation everywhere, per regime: the verifier's dilemma in its terms.
DILEMMA_WORDS = {
    TOKEN: "the slashing bounty honest validators earn does not cover the cost of evaluating — the "
    "verifier's dilemma. A larger bounty share, commit-reveal against copying or a lower validation "
    "cost is needed.",
    TOKENLESS: "the orchestrator pays its validators the same wage whether they evaluate or copy, so "
    "evaluating is a pure cost — the verifier's dilemma. Audits of its validators, pay tied to what "
    "they catch or a lower validation cost is needed.",
}


#: Why copying beats evaluating everywhere when validators vote under Yuma Consensus.
YUMA_DILEMMA_WORDS = (
    "under Yuma Consensus honest validators are paid dividends for the weight consensus keeps, and "
    "what copying loses of them (G, in the Validators section) is less than evaluating costs — the "
    "verifier's dilemma. A longer reveal delay, quality that changes faster between rounds, or a lower "
    "validation cost is needed."
)


def _all_yuma(f, design: str, points: int) -> bool:
    """Whether every point of ``design`` ran under Yuma Consensus (its validators vote)."""
    v = f.validators
    return v is not None and int((v.verdicts["design"] == design).sum()) == points


def _validator_sentence(c: pd.DataFrame, prefix: str, yuma: bool = False) -> str:
    v = _counts(c, "validators")
    means = c["validators_mean"].dropna()
    if means.empty:
        return (
            f"{prefix}Validators: no honest-versus-copying comparison is possible "
            "(one side has no validators)."
        )
    margin = _validator_margin_text(c)
    if v["fails"] == len(c):
        regimes = [r for r in regime_names(c) if r in DILEMMA_WORDS]
        why = " ".join(
            f"In the {r} regime, {DILEMMA_WORDS[r]}" if len(regimes) > 1 else DILEMMA_WORDS[r]
            for r in regimes
        )
        why = YUMA_DILEMMA_WORDS if yuma else why
        why = why or "evaluating costs honest validators more than it earns them — the verifier's dilemma."
        return (
            f"{prefix}Validators: copying the consensus beats honest evaluation at every point ({margin}): "
            + why
        )
    return (
        f"{prefix}Validators: honest evaluation dominates copying at {v['dominates']} of {len(c)} points, "
        f"fails at {v['fails']} and is uncertain at {v['uncertain']} ({margin})."
    )


def _theory_sentence(f: Findings, design: str, prefix: str) -> str | None:
    if f.analytic is None:
        return None
    a = f.analytic[f.analytic["design"] == design]
    if a.empty:
        return None
    exact = all(not x for x in a["assumptions"])
    parts = []
    for label in ("deterrence", "participation"):
        feasible = a[f"{label}_feasible"]
        distance = f.distances_by_design.get(design, f.distances).get(label, math.nan)
        if not math.isnan(distance):
            parts.append(
                f"the simulated {label} boundary lies on average {_fmt(distance)} from the analytic one"
            )
        elif not feasible.any():
            parts.append(_outside_range(label, a[label].astype(float), f.x))
        else:
            parts.append(f"no level has both a simulated and an analytic {label} boundary to compare")
    return (
        f"{prefix}Theory: the closed-form bounds {'apply exactly' if exact else 'apply only approximately'} "
        f"here; {' and '.join(parts)} (in {_bound_unit(f.x)})."
    )


def _bound_unit(x: str | None) -> str:
    """What the analytic bounds along ``x`` are measured in, in words."""
    axis = theory.CLOSED_FORM_AXES.get(x) if x is not None else None
    return axis.unit if axis is not None else short(x)


#: What an analytic bound outside the range its axis can take means: per axis and bound, (below, above).
OUT_OF_RANGE_WORDS = {
    SLASH: {
        "deterrence": ("no slashing is needed", "no allowed slash fraction deters"),
        "participation": (
            "honest work does not pay the outside option at any slash",
            "slashing never stops honest work paying",
        ),
    },
    SERVICE_FEE: {
        "deterrence": ("no fee is needed to deter cheating", "no fee deters cheating"),
        "participation": ("honest work pays at any fee", "no fee makes honest work pay"),
    },
}


def _outside_range(label: str, bounds: pd.Series, x: str | None = SLASH) -> str:
    """Why an analytic bound outside the range its axis ``x`` can take (the slash fraction's [0, 1],
    the fee's [0, MAX_COST_FIAT]) at every level has nothing to compare, in words."""
    axis = theory.CLOSED_FORM_AXES[x]
    below, above = int((bounds < axis.low).sum()), int((bounds > axis.high).sum())
    parts = [
        f"{text} at {n} level{'s' if n != 1 else ''}"
        for text, n in zip(OUT_OF_RANGE_WORDS[x][label], (below, above), strict=True)
        if n
    ]
    where = "[0, 1]" if x == SLASH else f"the range a {short(x)} can take"
    return f"the analytic {label} bound lies outside {where} everywhere ({'; '.join(parts) or 'undefined'})"


def _left_out_sentences(f: Findings) -> list[str]:
    """One sentence per mix left out of a margin's worst case: which mix, which margin and why."""
    verdict = {"trainers": "the trainers' verdict", "validators": "the validators' verdict"}
    out = []
    for r in f.left_out.itertuples():
        where = f"Under design {r.design}, mix {r.mix}" if len(f.designs) > 1 else f"Mix {r.mix}"
        at = f"at all {r.of} points" if r.points == r.of else f"at {r.points} of its {r.of} points"
        out.append(
            f"{where} has {r.reason} {at}, so it is left out of {verdict.get(r.margin, r.margin)} there: "
            "a verdict for every mix is about the mixes where that question arises."
        )
    return out


def _dropped_sentences(f: Findings) -> list[str]:
    labels = {
        "margin_trainers": "the trainers' margin",
        "margin_validators": "the validators' margin",
        "pi_honest": "honest profit per unit of capital (so the participation margin)",
        "profit_fiat_per_round_honest": (
            "honest fiat profit per owner per round (so the participation margin)"
        ),
    }
    explained = {(r.design, r.mix, r.margin) for r in f.left_out.itertuples() if r.points == r.of}
    out = []
    for _, r in f.dropped.iterrows():
        if (r["design"], r["mix"], r["quantity"]) in explained:
            continue  # a mix without the deviation: its sentence in _left_out_sentences says why
        where = f"under design {r['design']}, mix {r['mix']}" if len(f.designs) > 1 else f"in mix {r['mix']}"
        out.append(
            f"{r['runs']} runs {where} have no value of {labels.get(r['kpi'], r['kpi'])}: {r['reason']}; "
            "they are left out of it."
        )
    return out


# -- the table ---------------------------------------------------------------------------------
def findings_table(f: Findings) -> pd.DataFrame:
    """The key numbers for ``fedstake analyze``: per design and level of y (2-D, n-D, sampled),
    per design, category and threshold (1-D), or per design and category (the other shapes)."""
    if f.deterrence is not None and f.participation is not None:
        return _boundary_table(f)
    keys = list(f.group_columns)
    if f.thresholds is not None:
        return f.thresholds.merge(_share_at(f.classified, keys), on=keys, how="left")
    rows = []
    for key, group in f.classified.groupby(keys, sort=True):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        rows.append(row | {"points": len(group)} | _counts(group))
    return pd.DataFrame(rows)


def _boundary_table(f: Findings) -> pd.DataFrame:
    keys = [*f.group_columns, f.y]
    table = f.deterrence.rename(
        columns={
            "estimate": "deterrence",
            "band_low": "det_low",
            "band_high": "det_high",
            "where": "det_where",
        }
    ).drop(columns=["direction", "crossings"], errors="ignore")
    part = f.participation.rename(columns={"estimate": "participation", "where": "part_where"})
    table = table.merge(part[[*keys, "participation", "part_where"]], on=keys, how="left")
    if f.analytic is not None:
        analytic = f.analytic[[*keys, "deterrence", "participation"]].rename(
            columns={"deterrence": "det_analytic", "participation": "part_analytic"}
        )
        table = table.merge(analytic, on=keys, how="left")
    if f.shape == "sampled":  # sampled points do not sit on the evaluation levels
        return table.merge(
            _share_at(f.classified, [c for c in keys if c != f.y]),
            on=[c for c in keys if c != f.y],
            how="left",
        )
    shares = []
    for fixed in f.slices:
        part_points = at_levels(f.classified, fixed) if fixed else f.classified
        shares.append(_share_at(part_points, [c for c in keys if c not in fixed]).assign(**fixed))
    return table.merge(pd.concat(shares, ignore_index=True), on=keys, how="left")


def _share_at(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` group of classified points: ``share_dominates``, the share where honesty dominates."""
    share = points.groupby(keys)["honesty"].apply(lambda s: (s == dominance.DOMINATES).mean())
    return share.rename("share_dominates").reset_index()
