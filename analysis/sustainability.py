"""Does the network carry itself? The token economy's price, fees and insurance, and honesty after halvings.

With a market price (``token.price_model = "market"``), users paying fees per query (``[fees]``),
an insurance pool paying claims (``[insurance]``) and emissions that halve
(``emission.schedule = "halving"``), a design that makes honesty dominate at a fixed price can
still fail: poisoning lowers quality, users leave, the price falls and every reward with it (the
death spiral), or emissions halve and fees do not make up the difference. This module reads what
the runs wrote — one row per run in the outcomes, see the contract in the README — and answers:

* per (design, point, mix), the mean and a two-sided 95 % Student-t interval over the replications
  of the token's final and lowest price (fiat per token), users' queries and fee revenue per round
  (fiat), the claims filed, paid and left unpaid over a run (fiat), the coverage ratio (paid ÷
  filed, per run) and the rounds the pool could not pay in full (:func:`point_statistics`);
* per (design, point), whether honesty **still dominates after halving k** (k = 1, 2): the rule of
  ``analysis.dominance`` applied to the rounds from that halving to the end — the one-sided 95 %
  lower bound of ``margin_trainers_after_halving_k`` above 0 under every mix where a cheating
  strategy is present, and the lower bound of ``pi_honest_after_halving_k`` minus the outside
  option at least 0 under every mix: **dominates**; an upper bound below 0 under some mix:
  **fails**; **uncertain** otherwise; :data:`NO_HALVING` where no run reached that halving
  (:func:`classify_halvings`);
* the same in plain words (:func:`sentences`).

A run's halving KPIs are NaN when the halving did not happen in it: such runs are left out of that
halving's statistics, and a mix none of whose runs reached it keeps the point from dominating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import dominance
from analysis.adaptation import number_text, percent
from analysis.settings import (
    TOKENLESS,
    outside_option_per_run,
    value_per_run,
    with_design_column,
    with_payoffs,
)
from analysis.summary import short

#: The per-run KPIs summarised per point and mix: column → what it is, with its unit.
KPIS = {
    "final_price_fiat": "price after the last round, fiat per token",
    "min_price_fiat": "lowest price after any round, fiat per token",
    "mean_price_fiat": "mean price over the rounds, fiat per token",
    "queries_per_round": "users' queries per round",
    "fees_fiat_per_round": "fee revenue per round, fiat",
    "claims_filed_fiat": "insurance claims filed over the run, fiat",
    "claims_paid_fiat": "insurance claims paid over the run, fiat",
    "claims_unpaid_fiat": "insurance claims left unpaid over the run, fiat",
    "coverage_ratio": "claims paid ÷ claims filed (runs where some were filed)",
    "insolvent_rounds": "rounds whose claims the pool could not pay in full",
}
#: The KPIs that are shares, in [0, 1] (the others are ≥ 0): their intervals are clipped to the range.
SHARES = ("coverage_ratio",)
#: The halvings whose aftermath is judged.
HALVINGS = (1, 2)
ORDINALS = {1: "first", 2: "second"}
#: The verdict after a halving no run at the point reached.
NO_HALVING = "no halving"
#: The scenario key of the token's fixed price, or the market's opening price.
OPENING_PRICE = "token.price_fiat"
#: The KPIs that have a value (other than 0) only when a mechanism of the economy ran: users and
#: their fees, insurance claims; and the round of the first halving.
MECHANISM_KPIS = ("queries_per_round", "fees_fiat_per_round", "claims_filed_fiat")
HALVING_ROUND = "halving_{}_round"
MARGIN_AFTER = "margin_trainers_after_halving_{}"
PI_HONEST_AFTER = "pi_honest_after_halving_{}"
#: Relative change in price below which a run's price counts as never having moved.
PRICE_TOLERANCE = 1e-12
#: The final honest share of trainer owners (``analysis.adaptation``'s KPI).
FINAL_SHARE = "honest_trainer_share_final"


@dataclass
class Sustainability:
    """What a sweep with a token economy shows about its sustainability. Tables are DataFrames."""

    per_mix: pd.DataFrame
    """One row per (design, point, mix): the KPIs' statistics and the margins after each halving
    (:func:`point_statistics`)."""
    classified: pd.DataFrame
    """One row per (design, point): whether honesty still dominates after each halving
    (:func:`classify_halvings`)."""
    sentences: list[str] = field(default_factory=list)
    """The findings in plain words (:func:`sentences`)."""
    notes: list[str] = field(default_factory=list)
    """How it was computed, for the report's methods."""


# -- reading the runs ----------------------------------------------------------------------------
def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index)


def _ok(outcomes: pd.DataFrame) -> pd.DataFrame:
    return outcomes[outcomes["status"] == "ok"] if "status" in outcomes else outcomes


def price_moved(outcomes: pd.DataFrame) -> pd.Series:
    """Per run: whether its token price ever moved — its lowest or mean price differs from its final
    one (a fixed price writes the same number to all three). False where the KPIs are missing."""
    final = _column(outcomes, "final_price_fiat")
    moved = pd.Series(False, index=outcomes.index)
    for other in ("min_price_fiat", "mean_price_fiat"):
        values = _column(outcomes, other)
        both = final.notna() & values.notna()
        apart = ~np.isclose(values, final, rtol=PRICE_TOLERANCE, atol=0.0)
        moved |= both & apart
    return moved


def economy_present(outcomes: pd.DataFrame) -> bool:
    """Whether the sweep's (ok) runs ran a token economy worth a section of its own: in some run the
    token's price moved (:func:`price_moved`: a market), users queried or paid fees, claims were
    filed, or emission halved. A sweep at a fixed price with no users and constant emission — every
    sweep written before the economy existed — has none of these."""
    ok = _ok(outcomes)
    if ok.empty:
        return False
    if price_moved(ok).any():
        return True
    for kpi in MECHANISM_KPIS:
        values = _column(ok, kpi)
        if (values.notna() & (values != 0)).any():
            return True
    return bool(_column(ok, HALVING_ROUND.format(1)).notna().any())


def _point_keys(results: pd.DataFrame) -> list[str]:
    return ["design", *dominance.parameter_columns(results)]


def opening_price_per_run(results: pd.DataFrame, manifest: dict[str, Any] | None) -> pd.Series:
    """Each run's opening (or fixed) token price, fiat per token, from its scenario; NaN without a
    manifest or when the scenario schema has no such key."""
    if manifest is None:
        return pd.Series(np.nan, index=results.index)
    try:
        return pd.to_numeric(value_per_run(results, manifest, OPENING_PRICE), errors="coerce").astype(float)
    except KeyError:
        return pd.Series(np.nan, index=results.index)


# -- statistics per point and mix -----------------------------------------------------------------
def _interval_columns(grouped, column: str, level: float, prefix: str, lower: str, upper: str) -> dict:
    """Mean, bounds at one-sided ``level`` (``dominance.t_half_width``: ±inf with fewer than two
    values) and n of ``column`` per group, named ``<prefix>_mean``, ``_<lower>``, ``_<upper>``, ``_n``."""
    mean, sd, n = grouped[column].mean(), grouped[column].std(ddof=1), grouped[column].count()
    half = dominance.t_half_width(sd, n, level)
    return {
        f"{prefix}_mean": mean.where(n > 0),
        f"{prefix}_{lower}": np.where(n > 1, mean - half, -np.inf),
        f"{prefix}_{upper}": np.where(n > 1, mean + half, np.inf),
        f"{prefix}_n": n.astype(int),
    }


def point_statistics(
    results: pd.DataFrame,
    outside_option: float | pd.Series = 0.0,
    manifest: dict[str, Any] | None = None,
    confidence: float = dominance.CONFIDENCE,
    band: float = dominance.BAND,
) -> pd.DataFrame:
    """One row per (design, parameter point, mix) of the ok runs.

    Columns beside ``design``, the parameters and ``mix``: ``runs``; for every KPI of :data:`KPIS`
    its ``<kpi>_mean``, ``<kpi>_low`` and ``<kpi>_high`` (the two-sided ``band`` interval over the
    replications, clipped to the KPI's range — ≥ 0, a share of :data:`SHARES` ≤ 1 — and open, 0 to
    inf, with one) and ``<kpi>_n`` (runs with a value); ``opening_price_fiat`` (the
    scenario's opening price, NaN without ``manifest``); ``price_moved`` (share of runs whose price
    moved); ``honest_share_final`` (mean final honest share of trainer owners). Per halving k:
    ``halving_<k>_runs`` (runs that reached it), ``halving_<k>_round`` (mean round it came in),
    ``after_<k>_trainers_mean``, ``_lower``, ``_upper``, ``_n`` (``margin_trainers_after_halving_k``,
    one-sided ``confidence`` bounds) and the same for ``after_<k>_participation``
    (``pi_honest_after_halving_k`` minus the run's outside option: ``outside_option``, one number or
    a Series indexed like ``results``). ``trainers_absent``: no cheating trainer strategy has a payoff
    there (``dominance.deviation_absent``), so the trainers' margin's question does not arise.
    """
    results = with_design_column(results)
    ok = with_payoffs(_ok(results), manifest)
    keys = [*_point_keys(results), "mix"]
    outside = outside_option_per_run(ok, outside_option, manifest)
    columns: dict[str, pd.Series] = {kpi: _column(ok, kpi) for kpi in KPIS}
    columns["opening_price_fiat"] = opening_price_per_run(ok, manifest)
    columns["price_moved"] = price_moved(ok).astype(float)
    columns["honest_share_final"] = _column(ok, FINAL_SHARE)
    for k in HALVINGS:
        columns[f"halving_{k}_round"] = _column(ok, HALVING_ROUND.format(k))
        columns[f"after_{k}_trainers"] = _column(ok, MARGIN_AFTER.format(k))
        columns[f"after_{k}_participation"] = _column(ok, PI_HONEST_AFTER.format(k)) - outside
    frame = pd.concat([ok[keys], pd.DataFrame(columns, index=ok.index)], axis=1)
    grouped = frame.groupby(keys, sort=True, dropna=False)
    table = pd.DataFrame({"runs": grouped.size()})
    for kpi in KPIS:
        table = table.assign(**_interval_columns(grouped, kpi, (1 + band) / 2, kpi, "low", "high"))
        table[f"{kpi}_low"] = table[f"{kpi}_low"].clip(lower=0.0)  # every KPI is ≥ 0 ...
    for kpi in SHARES:
        table[f"{kpi}_high"] = table[f"{kpi}_high"].clip(upper=1.0)  # ... and a share ≤ 1
    for column in ("opening_price_fiat", "price_moved", "honest_share_final"):
        table[column] = grouped[column].mean()
    for k in HALVINGS:
        table[f"halving_{k}_runs"] = grouped[f"halving_{k}_round"].count().astype(int)
        table[f"halving_{k}_round"] = grouped[f"halving_{k}_round"].mean()
        for side in ("trainers", "participation"):
            name = f"after_{k}_{side}"
            table = table.assign(**_interval_columns(grouped, name, confidence, name, "lower", "upper"))
    absent = dominance.deviation_absent(ok, keys, "trainers")
    table["trainers_absent"] = absent.reindex(table.index).fillna(False).to_numpy(bool)
    return table.reset_index()


# -- honesty after a halving ---------------------------------------------------------------------------
def halving_verdict(rows: pd.DataFrame, k: int, mixes_missing: bool = False) -> str:
    """Whether honesty still dominates after halving ``k`` at one point, from its per-mix rows of
    :func:`point_statistics`: :data:`NO_HALVING` when no run reached it; else ``dominance.combine``
    of the trainers' verdict (``dominance.classify_bounds`` over the mixes where a cheating strategy
    is present; uncertain with none) and the participation verdict (lower bound ≥ 0 suffices).
    ``mixes_missing``: a mix of the sweep has no ok run here, so the point cannot dominate."""
    if rows[f"halving_{k}_runs"].sum() == 0:
        return NO_HALVING
    present = rows[~rows["trainers_absent"].to_numpy(bool)]
    if present.empty:
        trainers = dominance.UNCERTAIN
    else:
        trainers = dominance.classify_bounds(
            present[f"after_{k}_trainers_lower"],
            present[f"after_{k}_trainers_upper"],
            mixes_missing=mixes_missing,
        )
    participation = dominance.classify_bounds(
        rows[f"after_{k}_participation_lower"],
        rows[f"after_{k}_participation_upper"],
        mixes_missing=mixes_missing,
        strict=False,
    )
    return dominance.combine(trainers, participation)


def classify_halvings(per_mix: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """One row per (design, point): ``after_halving_<k>`` for k in :data:`HALVINGS` (dominates,
    uncertain, fails or :data:`NO_HALVING`, see :func:`halving_verdict`), ``halving_<k>_runs`` (runs
    that reached it, over mixes), ``halving_<k>_round`` (mean of the mixes' mean rounds), and the
    worst over mixes of the one-sided lower bounds, ``after_<k>_trainers_lower`` (mixes without a
    cheating strategy left out) and ``after_<k>_participation_lower``; ``mixes`` (mixes with runs)."""
    results = with_design_column(results)
    keys = _point_keys(results)
    expected = results["mix"].nunique() if "mix" in results else 1
    rows = []
    for key, group in per_mix.groupby(keys, sort=True, dropna=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row["mixes"] = len(group)
        present = group[~group["trainers_absent"].to_numpy(bool)]
        for k in HALVINGS:
            row[f"after_halving_{k}"] = halving_verdict(group, k, mixes_missing=len(group) < expected)
            row[f"halving_{k}_runs"] = int(group[f"halving_{k}_runs"].sum())
            row[f"halving_{k}_round"] = group[f"halving_{k}_round"].mean()
            row[f"after_{k}_trainers_lower"] = (
                present[f"after_{k}_trainers_lower"].min() if len(present) else -math.inf
            )
            row[f"after_{k}_participation_lower"] = group[f"after_{k}_participation_lower"].min()
        rows.append(row)
    verdicts = [f"after_halving_{k}" for k in HALVINGS]
    other = [c for c in (rows[0] if rows else {}) if c not in keys and c not in verdicts]
    return pd.DataFrame(rows, columns=[*keys, *verdicts, *other])


# -- in plain words -----------------------------------------------------------------------------------
def _level(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{value:,.4g}"
    return str(value)


def point_text(row: dict | pd.Series, parameters: list[str], several_designs: bool, mix: bool = True) -> str:
    """Where a row of :func:`point_statistics` is, in words: ``design d, slash fraction = 0.1, mix m``
    (the design only when there are several, the mix only with ``mix``)."""
    parts = [f"design {row['design']}"] if several_designs else []
    parts += [f"{short(p)} = {_level(row[p])}" for p in parameters]
    if mix:
        parts.append(f"mix {row['mix']}")
    return ", ".join(parts) or "the one point swept"


def price_text(value: float) -> str:
    """A price in fiat per token, to three significant figures; ``n/a`` when undefined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


#: A single point's verdict after a halving, in words.
ONE_POINT_VERDICT = {
    dominance.DOMINATES: "still dominates",
    dominance.FAILS: "fails",
    dominance.UNCERTAIN: "is uncertain",
}


def _halving_sentence(classified: pd.DataFrame, prefix: str) -> str:
    """How many points still dominate after the first and the second halving."""
    reached = {k: classified[classified[f"after_halving_{k}"] != NO_HALVING] for k in HALVINGS}
    if reached[1].empty:
        return (
            f"{prefix}No run reached its first halving, so whether honesty survives one is not tested here "
            "(emission does not halve, or the runs end before issuance reaches half the cap)."
        )
    parts = []
    for k in HALVINGS:
        points = reached[k]
        if points.empty:
            parts.append(f"no run reached a {ORDINALS[k]} halving")
            continue
        verdicts = points[f"after_halving_{k}"]
        if len(points) == 1 and len(classified) > 1:  # one point of several got there: say its verdict
            word = ONE_POINT_VERDICT.get(verdicts.iloc[0], verdicts.iloc[0])
            clause = f"at the one point that reached the {ORDINALS[k]} halving honesty {word} after it"
            parts.append(prefix + clause[0].upper() + clause[1:] if k == 1 else clause)
            continue
        counts = verdicts.value_counts()
        others = [
            f"{word} at {int(counts.get(verdict, 0))}"
            for word, verdict in (("fails", dominance.FAILS), ("uncertain", dominance.UNCERTAIN))
            if counts.get(verdict, 0)
        ]
        tail = f" ({', '.join(others)})" if others else ""
        dominates = int(counts.get(dominance.DOMINATES, 0))
        everywhere = len(points) == len(classified)
        if k == 1:
            of = f"{len(points)} points" if everywhere else f"the {len(points)} points that reached it"
            head = f"{prefix}At {dominates} of {of} honesty still dominates"
            parts.append(f"{head} after the first halving{tail}")
        else:
            of = f"{len(points)}" if everywhere else f"the {len(points)} that reached it"
            parts.append(f"at {dominates} of {of} after the {ORDINALS[k]}{tail}")
    return "; ".join(parts) + (
        "; judged over the rounds from each halving to the end, under every mix (one-sided 95 % bounds)."
    )


def _price_sentence(per_mix: pd.DataFrame, parameters: list[str], several: bool, prefix: str) -> str | None:
    """Where the token's price ends, against its opening price."""
    rows = per_mix[per_mix["final_price_fiat_n"] > 0]
    if rows.empty:
        return None
    if not (rows["price_moved"] > 0).any():
        opening = rows["final_price_fiat_mean"].median()
        fixed = price_text(opening)
        return f"{prefix}The token's price is fixed ({fixed} fiat per token): no market moved it."
    rows = rows[rows["price_moved"] > 0]  # where a market set it (a swept price model has both)
    lowest = rows.loc[rows["final_price_fiat_mean"].idxmin()]
    where = point_text(lowest, parameters, several)
    low_ever = price_text(lowest["min_price_fiat_mean"])
    opening = rows["opening_price_fiat"]
    if opening.isna().all():
        return (
            f"{prefix}The token's price ends between {price_text(rows['final_price_fiat_mean'].min())} and "
            f"{price_text(rows['final_price_fiat_mean'].max())} fiat per token (mean over the replications); "
            f"lowest at {where} (lowest after any round {low_ever} on average)."
        )
    falls = int((rows["final_price_fiat_high"] < opening).sum())
    rises = int((rows["final_price_fiat_low"] > opening).sum())
    unit = "point" if len(rows) == 1 else "points"
    pairs = f"{len(rows)} {unit}" if rows["mix"].nunique() == 1 else f"{len(rows)} {unit} and mixes"
    either = len(rows) - falls - rises
    undecided = f", and its interval includes the opening price at {either}" if either else ""
    return (
        f"{prefix}The token's price ends below its opening price at {falls} of {pairs} (its two-sided "
        f"95 % interval wholly below) and above it at {rises}{undecided}; the lowest mean final price, "
        f"{price_text(lowest['final_price_fiat_mean'])} fiat per token against "
        f"{price_text(lowest['opening_price_fiat'])} at the opening (lowest after any round {low_ever} on "
        f"average), is at {where}."
    )


def _spiral_sentence(per_mix: pd.DataFrame, prefix: str) -> str | None:
    """The honest share of trainer owners where the price fell, against where it did not."""
    market = per_mix["final_price_fiat_n"].gt(0) & per_mix["price_moved"].gt(0)
    rows = per_mix[market & per_mix["honest_share_final"].notna()]
    if rows.empty or rows["opening_price_fiat"].isna().all():
        return None
    fell = (rows["final_price_fiat_high"] < rows["opening_price_fiat"]).to_numpy()
    if not fell.any() or fell.all():
        return None
    return (
        f"{prefix}Where the price fell, the honest share of trainer owners after the last round is "
        f"{percent(rows.loc[fell, 'honest_share_final'].mean())} on average, against "
        f"{percent(rows.loc[~fell, 'honest_share_final'].mean())} where it did not."
    )


def _fees_sentence(per_mix: pd.DataFrame, prefix: str) -> str | None:
    rows = per_mix[per_mix["fees_fiat_per_round_n"] > 0]
    if rows.empty:
        return None
    weights = rows["fees_fiat_per_round_n"]
    mean = float((rows["fees_fiat_per_round_mean"] * weights).sum() / weights.sum())
    text = f"{prefix}Users paid {number_text(mean)} fiat per round in fees on average over the runs"
    low, high = rows["fees_fiat_per_round_mean"].min(), rows["fees_fiat_per_round_mean"].max()
    if number_text(low) != number_text(high):
        text += f" (from {number_text(low)} to {number_text(high)} across points and mixes)"
    queries = rows["queries_per_round_mean"]
    if queries.notna().any():
        text += f", for {number_text(float(queries.mean()))} queries per round"
    return text + "."


def coverage(results: pd.DataFrame) -> float:
    """The share of all claims filed that the insurance pool paid, every ok run pooled (fiat paid ÷
    fiat filed); NaN when no claim was filed."""
    ok = _ok(results)
    filed, paid = _column(ok, "claims_filed_fiat"), _column(ok, "claims_paid_fiat")
    both = filed.notna() & paid.notna()
    total = float(filed[both].sum())
    return float(paid[both].sum()) / total if total > 0 else math.nan


def _insurance_sentence(
    results: pd.DataFrame, per_mix: pd.DataFrame, parameters: list[str], several: bool, prefix: str
) -> str | None:
    rows = per_mix[per_mix["claims_filed_fiat_n"] > 0]
    if rows.empty:
        return None
    filed = _column(_ok(results), "claims_filed_fiat").dropna()
    pooled = coverage(results)
    if not math.isfinite(pooled):
        return f"{prefix}No user filed an insurance claim in any run."
    text = (
        f"{prefix}Users filed insurance claims of {number_text(float(filed.mean()))} fiat per run on "
        "average; "
        f"the insurance pool paid {percent(pooled)} of them (all runs pooled)"
    )
    covered = rows[rows["coverage_ratio_n"] > 0]
    worst = covered.loc[covered["coverage_ratio_mean"].idxmin()] if len(covered) > 1 else None
    if worst is not None and percent(worst["coverage_ratio_mean"]) != percent(pooled):
        text += (
            f", as little as {percent(worst['coverage_ratio_mean'])} on average at "
            f"{point_text(worst, parameters, several)}"
        )
    short_runs = _column(_ok(results), "insolvent_rounds").dropna()
    if len(short_runs) and not (short_runs > 0).any():
        text += ", and never ran short"
    elif len(short_runs):
        rounds = float(short_runs[short_runs > 0].mean())
        text += (
            f"; it ran short (a round's claims not paid in full) in {int((short_runs > 0).sum())} of "
            f"{len(short_runs)} runs, for {number_text(rounds)} round{'' if rounds == 1 else 's'} in each of "
            "those on average"
        )
    return text + "."


def sentences(
    results: pd.DataFrame, per_mix: pd.DataFrame, classified: pd.DataFrame, designs: list[str] | None = None
) -> list[str]:
    """The sustainability findings in plain words, per design: honesty after the halvings, where the
    price ends (and the honest share where it fell), the fees users paid and the insurance's coverage.
    Only what the runs measured is said: a sentence whose KPIs are all NaN is left out."""
    results = with_design_column(results)
    parameters = dominance.parameter_columns(results)
    designs = designs or list(dict.fromkeys(classified["design"]))
    several = len(designs) > 1
    out = []
    for design in designs:
        prefix = f"Design {design}: " if several else ""
        mine = per_mix[per_mix["design"] == design]
        runs = results[results["design"] == design]
        if "regime" in runs and len(runs) and (runs["regime"] == TOKENLESS).all():
            out.append(f"{prefix}The tokenless regime has no token: no price, fees, claims or halvings.")
            continue
        found = [
            _halving_sentence(classified[classified["design"] == design], prefix),
            _price_sentence(mine, parameters, False, prefix),
            _spiral_sentence(mine, prefix),
            _fees_sentence(mine, prefix),
            _insurance_sentence(runs, mine, parameters, False, prefix),
        ]
        out += [s for s in found if s]
    return out


NOTES = [
    "Sustainability: the token economy's KPIs (price, fees, claims, coverage, insolvent rounds) are shown as "
    f"the mean and a two-sided {dominance.BAND:.0%} Student-t interval over the replications per point and "
    "mix; the coverage ratio is averaged over the runs in which claims were filed.",
    "Honesty after halving k: the dominance rule on the rounds from that halving to the end — the one-sided "
    f"{dominance.CONFIDENCE:.0%} lower bound of margin_trainers_after_halving_k above 0 under every mix with "
    "a cheating strategy, and that of pi_honest_after_halving_k minus the outside option at least 0 under "
    "every mix; runs that did not reach the halving are left out, and a point none of whose runs reached it "
    f"says '{NO_HALVING}'.",
]


def analyze_sustainability(
    results: pd.DataFrame,
    manifest: dict[str, Any] | None = None,
    outside_option: float | pd.Series = 0.0,
    designs: list[str] | None = None,
) -> Sustainability | None:
    """The sustainability of a sweep whose runs ran a token economy (:func:`economy_present`); None
    for a sweep without one. ``outside_option``: ω per run (a Series indexed like ``results``) or
    one number; ``designs``: the order to describe the designs in."""
    if not economy_present(results):
        return None
    per_mix = point_statistics(results, outside_option, manifest)
    classified = classify_halvings(per_mix, results)
    return Sustainability(
        per_mix=per_mix,
        classified=classified,
        sentences=sentences(results, per_mix, classified, designs),
        notes=list(NOTES),
    )
