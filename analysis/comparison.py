"""Tokenomics designs compared, the safe slashing band, and the runs a margin had to leave out.

* :func:`safe_bands` — where the boundaries are in slash fraction: per level, the band from the
  deterrence boundary (honest work beats every deviation above it) to the participation boundary
  (honest work still beats the outside option below it);
* :func:`compare_designs` — per design: how often honesty dominates, its safe band, what it costs
  per round (tokens emitted, their fiat value, tokens burned and slashed) and how many of its
  trainer owners it keeps to the end, over the runs where honesty dominates and over all runs;
* :func:`winners` — per parameter point: the designs under which honesty dominates (joined with
  :data:`DESIGN_SEPARATOR`, as design names may contain commas) and the one with the largest
  worst-mix lower bound of the trainers' margin;
* :func:`agreement` — each design against the first: at how many points their verdicts agree, and
  how far apart their trainers' margins are;
* :func:`dropped_runs` — ok runs whose margin is NaN, counted per design, mix and KPI, with why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import boundaries, dominance
from analysis.axes import SLASH, at_levels
from analysis.settings import PAYOFF_KPI, REGIME, TOKEN, TOKENLESS, payoff_column, value_per_run, with_payoffs

if TYPE_CHECKING:
    from analysis.findings import Findings

#: Joins the names of the designs that dominate at a point (names may contain commas).
DESIGN_SEPARATOR = " | "
#: Cost per round of a design, from its runs' KPIs: column → (KPI, valued in fiat). Token amounts
#: are per run and divided by its rounds; the token network has them, the tokenless federation not.
COSTS = {
    "emitted_tokens_per_round": ("minted_tokens", False),
    "emitted_fiat_per_round": ("minted_tokens", True),
    "burned_tokens_per_round": ("burned_tokens", False),
    "slashed_tokens_per_round": ("slashed_tokens", False),
}
#: Costs the runs report per round already, in fiat, in either regime: column → KPI. What the
#: network costs (token: emission at its market value; tokenless: service fees, wages and the
#: orchestrator's KYC share), and what slashing takes (NaN in the tokenless federation).
FIAT_COSTS_PER_ROUND = {
    "network_cost_fiat_per_round": "network_cost_fiat_per_round",
    "slashed_fiat_per_round": "slashed_fiat_per_round",
}
#: The share of its starting trainer owners a network must keep to the end to count as a working
#: network: ejecting everyone also makes cheating unprofitable, and a design that does so is not the
#: better one for it (``analysis.regimes`` prices the maps over the points that keep this much).
KEEPS_TRAINERS = 0.5
#: The KPIs of how many trainer owners a run starts with and how many of those it still has after its
#: last round (entrants not counted: a network that loses its owners and takes in others keeps few).
TRAINER_OWNERS = ("trainer_owners_initial", "trainer_owners_retained")


def _boundary_tables(f: Findings) -> tuple[pd.DataFrame, pd.DataFrame, list[str]] | None:
    """(deterrence, participation, key columns) — for a 1-D sweep, one row per group."""
    if f.x is None:
        return None
    if f.deterrence is not None and f.participation is not None:
        return f.deterrence, f.participation, [*f.group_columns, f.y]
    if f.boundaries_1d is not None:
        table = f.boundaries_1d
        return (
            table[table["name"] == "deterrence"].drop(columns="name"),
            table[table["name"] == "participation"].drop(columns="name"),
            list(f.group_columns),
        )
    return None


SAFE_BAND_COLUMNS = ("low", "high", "width", "open_low", "open_high")


def safe_bands(f: Findings) -> pd.DataFrame | None:
    """Per level (group, slice, y): the safe slashing band, when x is the slash fraction.

    Columns: the key columns, ``low`` (the deterrence boundary, or the lowest slash swept when no
    slashing is needed there), ``high`` (the participation boundary, or the highest slash swept
    when participation never stops), ``width`` and ``open_low`` / ``open_high`` (the end is the
    swept range's, not a boundary). Levels where either end does not exist — no slash deters, or
    honest work never pays — or where the ends cross are left out, and so are levels whose runs were
    all played without a token: the slash fraction does not act there, so it has no band.
    """
    if f.x != SLASH:
        return None
    found = _boundary_tables(f)
    if found is None:
        return None
    deterrence, participation, keys = found
    x_low, x_high = float(f.classified[f.x].min()), float(f.classified[f.x].max())
    merged = deterrence.merge(participation, on=keys, suffixes=("_det", "_part")) if keys else None
    if merged is None:
        merged = pd.concat([deterrence.add_suffix("_det"), participation.add_suffix("_part")], axis=1)
    rows = []
    for _, r in merged.iterrows():
        low, open_low = _band_end(r, "_det", boundaries.RISING, x_low)
        high, open_high = _band_end(r, "_part", boundaries.FALLING, x_high)
        if low is None or high is None or not low < high or _tokenless_only(f.classified, r, keys):
            continue
        rows.append(
            {k: r[k] for k in keys}
            | {"low": low, "high": high, "width": high - low, "open_low": open_low, "open_high": open_high}
        )
    return pd.DataFrame(rows, columns=[*keys, *SAFE_BAND_COLUMNS])


def _tokenless_only(classified: pd.DataFrame, row: pd.Series, keys: list[str]) -> bool:
    """Whether every point of a boundary ``row`` (at its ``keys``' levels) was played without a token."""
    if REGIME not in classified:
        return False
    points = at_levels(classified, {k: row[k] for k in keys}) if keys else classified
    return len(points) > 0 and bool((points[REGIME] == TOKENLESS).all())


def _band_end(row: pd.Series, suffix: str, direction: str, range_end: float) -> tuple[float | None, bool]:
    where = row[f"where{suffix}"]
    if where == boundaries.INSIDE and row[f"direction{suffix}"] == direction:
        return float(row[f"estimate{suffix}"]), False
    holds_throughout = boundaries.BELOW if direction == boundaries.RISING else boundaries.ABOVE
    if where == holds_throughout:
        return range_end, True
    return None, False


def run_costs(f: Findings) -> pd.DataFrame:
    """Per ok run: the cost columns of :data:`COSTS` (per round; fiat at the run's own price — under a
    market price each round's emission at that round's price) and of
    :data:`FIAT_COSTS_PER_ROUND` (NaN for results written before those KPIs existed)."""
    ok = f.results[f.results["status"] == "ok"]
    rounds = value_per_run(ok, f.manifest, "rounds").astype(float)
    price = value_per_run(ok, f.manifest, "token.price_fiat").astype(float)
    out = pd.DataFrame(index=ok.index)
    for column, (kpi, fiat) in COSTS.items():
        per_round = ok[kpi].astype(float) / rounds if kpi in ok else pd.Series(np.nan, index=ok.index)
        out[column] = per_round * price if fiat else per_round
    if "network_cost_fiat_per_round" in ok:  # under a market each round's emission at its own price
        market = (value_per_run(ok, f.manifest, "token.price_model") == "market").to_numpy()
        cost = ok.loc[market, "network_cost_fiat_per_round"].astype(float)
        out.loc[market, "emitted_fiat_per_round"] = cost
    for column, kpi in FIAT_COSTS_PER_ROUND.items():
        out[column] = ok[kpi].astype(float) if kpi in ok else np.nan
    return out


def compare_designs(f: Findings) -> pd.DataFrame:
    """One row per design: verdict counts and shares, safe band and costs per round.

    Columns: ``design``, ``points``, ``dominates``, ``uncertain``, ``fails``, ``share_dominates``
    (and ``share_uncertain``, ``share_fails``); ``safe_band_levels`` (levels with a safe slashing
    band), of them ``safe_band_closed`` (both ends are boundaries) with ``safe_band_mean_width`` —
    the mean width of the closed bands only, NaN without one — and ``safe_band_open`` (an end is the
    swept range's: the band reaches past it) with ``safe_band_open_min_width`` (every open band is
    at least this wide; NaN without one); then each cost of :data:`COSTS` and
    :data:`FIAT_COSTS_PER_ROUND` twice — ``<cost>_where_dominates`` (mean over the runs at points
    where honesty dominates; NaN when there are none) and ``<cost>_all`` (mean over every ok run);
    ``trainer_owners_kept_share_where_dominates`` and ``trainer_owners_kept_share_all``, the share
    of its trainer owners the design keeps to the end over the same runs (:func:`kept_share`);
    last ``regime``, the regime the design's runs were played under (``mixed`` when they differ).
    """
    ok = f.results[f.results["status"] == "ok"]
    keys = ["design", *f.parameters]
    verdict = ok[keys].merge(f.classified[[*keys, "honesty"]], on=keys, how="left")["honesty"].to_numpy()
    dominant = pd.Series(verdict == dominance.DOMINATES, index=ok.index)
    costs = run_costs(f)
    rows = []
    for design in f.designs:
        points = f.classified[f.classified["design"] == design]
        counts = points["honesty"].value_counts()
        row = {"design": design, "points": len(points)}
        for v in (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS):
            row[v] = int(counts.get(v, 0))
        for v in (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS):
            row[f"share_{v}"] = row[v] / len(points) if len(points) else math.nan
        row |= _safe_band_widths(f.safe_bands, design)
        mine = (ok["design"] == design).to_numpy()
        for column in [*COSTS, *FIAT_COSTS_PER_ROUND]:
            values = costs.loc[mine, column]
            row[f"{column}_where_dominates"] = (
                float(values[dominant[mine]].mean()) if dominant[mine].any() else math.nan
            )
            row[f"{column}_all"] = float(values.mean())
        row["trainer_owners_kept_share_where_dominates"] = kept_share(ok[mine & dominant.to_numpy()])
        row["trainer_owners_kept_share_all"] = kept_share(ok[mine])
        regimes = set(ok.loc[mine, REGIME]) if REGIME in ok else {TOKEN}
        row[REGIME] = next(iter(regimes)) if len(regimes) == 1 else dominance.MIXED_REGIMES
        rows.append(row)
    return pd.DataFrame(rows)


def kept_share(runs: pd.DataFrame) -> float:
    """The share of their starting trainer owners ``runs`` keep to the end: the mean of
    ``trainer_owners_retained`` over the mean of ``trainer_owners_initial`` (a Sybil owner counts
    once; entrants are not counted). NaN without runs, without those KPIs (results written before
    they existed) or without trainer owners at the start."""
    if runs.empty or not all(k in runs for k in TRAINER_OWNERS):
        return math.nan
    initial, final = (pd.to_numeric(runs[k], errors="coerce").mean() for k in TRAINER_OWNERS)
    return float(final / initial) if initial > 0 and math.isfinite(final) else math.nan


def _safe_band_widths(bands: pd.DataFrame | None, design: str) -> dict[str, float | int]:
    """A design's safe bands summarised: closed ones by their mean width, open ones (cut at an end
    of the swept range, so really wider) by how many and how wide at least."""
    mine = bands[bands["design"] == design] if bands is not None else pd.DataFrame(columns=SAFE_BAND_COLUMNS)
    is_open = (mine["open_low"] | mine["open_high"]).to_numpy(bool)
    closed, cut = mine[~is_open], mine[is_open]
    return {
        "safe_band_levels": len(mine),
        "safe_band_closed": len(closed),
        "safe_band_mean_width": float(closed["width"].mean()) if len(closed) else math.nan,
        "safe_band_open": len(cut),
        "safe_band_open_min_width": float(cut["width"].min()) if len(cut) else math.nan,
    }


def winners(f: Findings) -> pd.DataFrame | None:
    """Per parameter point (None with one design): ``dominating_designs`` (joined with
    :data:`DESIGN_SEPARATOR`, in design order; empty when none) and ``best_design`` (largest
    worst-mix lower bound of the trainers' margin; None when no design has a finite bound there, or
    when the designs run under different regimes: a margin per unit of capital and one in fiat per
    owner cannot be ranked)."""
    if len(f.designs) < 2:
        return None
    order = {d: i for i, d in enumerate(f.designs)}
    rows = []
    groups = (
        f.classified.groupby(f.parameters, sort=True, dropna=False) if f.parameters else [((), f.classified)]
    )
    for key, group in groups:
        group = group.sort_values("design", key=lambda s: s.map(order))
        row = dict(zip(f.parameters, key if isinstance(key, tuple) else (key,), strict=True))
        row["dominating_designs"] = DESIGN_SEPARATOR.join(
            group.loc[group["honesty"] == dominance.DOMINATES, "design"]
        )
        finite = group[np.isfinite(group["trainers_lower"].astype(float))]
        comparable = REGIME not in group or group[REGIME].nunique(dropna=False) == 1
        best = finite.loc[finite["trainers_lower"].idxmax(), "design"] if len(finite) and comparable else None
        row["best_design"] = best
        rows.append(row)
    return pd.DataFrame(rows, columns=[*f.parameters, "dominating_designs", "best_design"])


def agreement(f: Findings) -> pd.DataFrame | None:
    """With two or more designs (None otherwise): each later design against the first, over the
    parameter points both were classified at — ``points``, ``same_verdict`` (points where the two
    honesty verdicts are the same) and its share, and the trainers' margin of the design minus the
    first's (its mean over replications, per point): ``margin_difference_mean`` and
    ``margin_difference_largest`` (the largest in size, with its sign). The margins are NaN when the
    two designs run under different regimes (a margin per unit of capital and one in fiat per owner
    are not one quantity). This is how far, say, the abstract mode calibrated from the mechanistic
    one lands from the mechanistic one on the same points."""
    if len(f.designs) < 2:
        return None
    columns = [*f.parameters, "honesty", "trainers_mean", REGIME]
    table = f.classified.reindex(columns=["design", *columns])
    first = table[table["design"] == f.designs[0]].drop(columns="design")
    rows = []
    for design in f.designs[1:]:
        other = table[table["design"] == design].drop(columns="design")
        suffixes = ("_first", "_other")
        both = (
            first.merge(other, on=f.parameters, suffixes=suffixes)
            if f.parameters
            else first.merge(other, how="cross", suffixes=suffixes)  # one point: the row of each
        )
        same = int((both["honesty_first"] == both["honesty_other"]).sum())
        difference = (both["trainers_mean_other"] - both["trainers_mean_first"]).astype(float)
        comparable = (both[f"{REGIME}_first"].astype(str) == both[f"{REGIME}_other"].astype(str)).all()
        finite = difference[np.isfinite(difference)] if comparable else difference.iloc[:0]
        rows.append(
            {
                "design": design,
                "against": f.designs[0],
                "points": len(both),
                "same_verdict": same,
                "share_same_verdict": same / len(both) if len(both) else math.nan,
                "margin_difference_mean": float(finite.mean()) if len(finite) else math.nan,
                "margin_difference_largest": (
                    float(finite.loc[finite.abs().idxmax()]) if len(finite) else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)


#: The margins dominance classifies, by the KPI a NaN shows up in: the participation margin's input
#: is honest trainers' payoff, ``pi_honest`` in the token network and their fiat profit per owner per
#: round in the tokenless federation.
DROPPABLE = {
    "margin_trainers": "trainers",
    "margin_validators": "validators",
    "pi_honest": "participation",
    "profit_fiat_per_round_honest": "participation",
}


def dropped_runs(f: Findings) -> pd.DataFrame:
    """One row per (design, mix, KPI) with ok runs whose value is NaN: ``runs`` and ``reason``.

    KPIs: ``margin_trainers`` (as the analysis computes it from the payoffs), ``margin_validators``
    and honest trainers' payoff, the participation margin's input — ``pi_honest`` for token runs,
    ``profit_fiat_per_round_honest`` for tokenless ones (whose ``pi`` is undefined by design: no
    capital, so it is never a reason to drop one). Reasons are read from each run's own scenario:
    no capital committed (token runs only), no honest trainers, no cheating strategy present, no
    honest or no copying validators; "reason unknown" otherwise.
    """
    ok = f.results[f.results["status"] == "ok"]
    columns = ["design", "mix", "kpi", "quantity", "runs", "reason"]
    if ok.empty:
        return pd.DataFrame(columns=columns)
    ok = with_payoffs(ok, f.manifest)
    keys = ["design", *f.parameters, "mix"]
    tokenless = (ok[REGIME] == TOKENLESS).to_numpy()
    honest_kpi = pd.Series(
        np.where(tokenless, PAYOFF_KPI[TOKENLESS].format("honest"), PAYOFF_KPI[TOKEN].format("honest")),
        index=ok.index,
    )
    values = {
        "margin_trainers": (dominance.trainer_margins(ok, keys), "margin_trainers"),
        "margin_validators": (
            ok.get("margin_validators", pd.Series(np.nan, index=ok.index)),
            "margin_validators",
        ),
        "participation": (ok[payoff_column("honest")], honest_kpi),
    }
    count = {k: value_per_run(ok, f.manifest, f"population.{k}").astype(float) for k in _POPULATION}
    no_capital = (
        (value_per_run(ok, f.manifest, "staking.min_trainer_stake_tokens").astype(float) == 0)
        & (value_per_run(ok, f.manifest, "staking.registration_cost_tokens").astype(float) == 0)
        & ~tokenless
    )
    rows = []
    for quantity, (series, kpi) in values.items():
        missing = series.isna()
        if not missing.any():
            continue
        reasons = _reasons(quantity, ok, count, no_capital)
        table = pd.DataFrame({"design": ok["design"], "mix": ok["mix"], "kpi": kpi, "reason": reasons})[
            missing
        ]
        for (design, mix, name, reason), group in table.groupby(
            ["design", "mix", "kpi", "reason"], sort=True
        ):
            text = reason.replace("{mix}", str(mix))
            rows.append([design, mix, name, DROPPABLE[name], len(group), text])
    return pd.DataFrame(rows, columns=columns)


_POPULATION = (
    "honest_trainers",
    "lazy_trainers",
    "sybil_owners",
    "poisoning_trainers",
    "honest_validators",
    "copying_validators",
)


def _reasons(
    quantity: str, ok: pd.DataFrame, count: dict[str, pd.Series], no_capital: pd.Series
) -> pd.Series:
    """Why each run's ``quantity`` (a key of :func:`dropped_runs`' values) may be NaN, the most basic
    cause first."""
    reason = pd.Series("reason unknown", index=ok.index)
    if quantity == "margin_validators":
        reason[count["copying_validators"] == 0] = "no copying validators in mix {mix}"
        reason[count["honest_validators"] == 0] = "no honest validators in mix {mix}"
        return reason
    if quantity == "margin_trainers":
        cheaters = count["lazy_trainers"] + count["sybil_owners"] + count["poisoning_trainers"]
        reason[cheaters == 0] = "no cheating strategy present in mix {mix}"
    reason[count["honest_trainers"] == 0] = "no honest trainers in mix {mix}"
    reason[no_capital] = (
        "no capital committed (zero stake and zero liquid buffer): profit per unit of capital is undefined"
    )
    return reason
