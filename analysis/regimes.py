"""Token or tokenless? The two regimes side by side, from the findings of one or more sweeps.

The project tests one claim: that federated learning without a token is "just a distributed
database" — that a gatekeeper's tools (a KYC whitelist, fiat service fees, ejection after strikes)
do not make honesty pay where stake and slashing do. Each sweep is analysed on its own
(``analysis.findings``); this module lays their answers side by side per *regime*:

(a) **where honesty dominates** on each single-regime map (a sweep whose runs all share one
    regime): the share of points where honesty dominates, is uncertain or fails, per design, and
    the point(s) with the largest worst-mix lower bound of the trainers' margin;
(b) **fiat profit per owner per round by strategy** (``profit_fiat_per_round_<s>``, the one payoff
    both regimes have) with two-sided 95 % intervals over the replications, per mix, from the runs
    of sweeps whose runs cover both regimes (*side-by-side* sweeps: a ``regime.kind`` axis, or a
    design per regime) that keep fixed strategies;
(c) **the honest share of trainer owners after the last round** (``honest_trainer_share_final``)
    in the runs of those sweeps whose owners adapt, per mix, with its interval;
(d) **model quality** (``final_quality``, ``mean_quality``) and
(e) **what each regime costs the network per round** (``network_cost_fiat_per_round``: emission
    at its market value with a token; fees, wages and the orchestrator's KYC without), with the
    slashes (``slashed_fiat_per_round``) and each regime's own cost lines;
(f) **the thesis sentence**: one sentence for the side-by-side network saying under which regime
    honesty dominates, with the margins, profits, shares and costs behind it — worked out from the
    numbers whichever way they come out.

Each run is judged on its own regime's payoff (the findings' margins): profit per round per unit
of capital with a token, fiat profit per owner per round without (a tokenless owner commits no
capital). So margins are quoted in their own units; fiat profit per owner per round is what is
compared *across* regimes.

A KPI that means nothing in a regime — minted tokens or profit per unit of capital without a
token, service fees with one — is NaN there by design. The tables mark it :data:`ABSENT`, never 0
and never a dash that could be read as missing data (``absent_reason`` says why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import adaptation, dominance
from analysis.comparison import KEEPS_TRAINERS, kept_share
from analysis.findings import Findings, short
from analysis.settings import PAYOFF_KPI, REGIME_KEY, REGIMES, TOKEN, TOKENLESS, regime_per_run
from analysis.summary import STRATEGY_LABELS
from model.kpis import NO_ORCHESTRATOR, NO_TOKEN, ORCHESTRATOR_KPIS, TOKEN_KPIS, TRAINER_DEVIATIONS

__all__ = ["REGIMES", "TOKEN", "TOKENLESS", "RegimeComparison", "compare_regimes", "regime_per_run"]

#: A point whose runs do not share one regime (a mix that sets the regime).
MIXED = dominance.MIXED_REGIMES
STRATEGIES = ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator")

#: How a table cell says that a KPI is meaningless in the row's regime, and that no owner played
#: a strategy (its profit has no value: a fact about the population, not missing data).
ABSENT, NO_OWNERS = "absent", "no owners"
#: The status of a statistic: a number, absent by design, no owner of the strategy, or no value.
VALUE, NO_VALUE = "value", "no value"

#: Per regime: the KPIs that are NaN by design there (names, and name prefixes for per-strategy
#: KPIs), and why (``model.kpis``' reasons).
ABSENT_KPIS = {
    TOKENLESS: ({*TOKEN_KPIS, "slashed_fiat_per_round"}, ("pi_", "stake_share_"), NO_TOKEN),
    TOKEN: (set(ORCHESTRATOR_KPIS), (), NO_ORCHESTRATOR),
}

#: The units each regime's honesty margins are in: (factor to display, unit in words).
MARGIN_UNITS = {TOKEN: (100.0, "% of capital per round"), TOKENLESS: (1.0, "fiat per owner per round")}

#: The outcomes compared beside payoffs: (KPI, label, divided by the run's rounds).
OUTCOMES = (
    ("final_quality", "model quality after the last round", False),
    ("mean_quality", "model quality, mean over rounds", False),
    ("network_cost_fiat_per_round", "network cost, fiat per round", False),
    ("slashed_fiat_per_round", "slashed, fiat per round", False),
    ("minted_tokens", "tokens emitted per round", True),
    ("fees_paid_fiat", "service fees, fiat per round", True),
    ("wages_paid_fiat", "validators' wages, fiat per round", True),
    ("kyc_paid_fiat", "KYC (both payers), fiat per round", True),
)
QUALITY = ("final_quality", "mean_quality")
COSTS = tuple(name for name, _, _ in OUTCOMES if name not in QUALITY)

#: The columns every per-group table starts with, and each table's.
GROUP_COLUMNS = ["sweep", "regime", "design", "point", "mix"]
STATISTIC_COLUMNS = ["mean", "low", "high", "n", "status"]
PROFIT_COLUMNS = [*GROUP_COLUMNS, "strategy", *STATISTIC_COLUMNS]
SHARE_COLUMNS = [*GROUP_COLUMNS, *STATISTIC_COLUMNS, "initial", "level", "rounds"]
OUTCOME_COLUMNS = [*GROUP_COLUMNS, "kpi", "label", *STATISTIC_COLUMNS]
VERDICTS = (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS)
MAP_COLUMNS = [
    "sweep",
    "regime",
    "design",
    "points",
    *VERDICTS,
    "dominates_share",
    "best_lower",
    "unit",
    "best_points",
    "cheapest_point",
    "cheapest_cost_fiat_per_round",
    "cheapest_kept_share",
    "cheapest_final_quality",
    "cheapest_keeps_trainers",
]
#: The verdict columns of a side-by-side point, as ``findings.classified`` names them.
VERDICT_COLUMNS = ("honesty", "trainers", "participation", "incentives", "adaptive")
MARGIN_COLUMNS = [
    f"{name}_{stat}" for name in ("trainers", "participation") for stat in ("mean", "lower", "upper")
]
POINT_COLUMNS = ["sweep", "regime", "design", "point", "adapts", *VERDICT_COLUMNS, *MARGIN_COLUMNS, "unit"]


def is_absent(kpi: str, regime: str) -> bool:
    """Whether ``kpi`` is NaN by design in ``regime`` (it means nothing there)."""
    names, prefixes, _ = ABSENT_KPIS.get(regime, (set(), (), ""))
    return kpi in names or kpi.startswith(prefixes)


def absent_reason(regime: str) -> str:
    """Why KPIs are absent in ``regime``, in words."""
    return ABSENT_KPIS[regime][2] if regime in ABSENT_KPIS else ""


def sweep_name(f: Findings) -> str:
    """A sweep's name as its report says it: the sweep file's name, else the directory's."""
    return str(f.manifest.get("sweep_name") or f.directory.name)


# -- one sweep, read for the comparison -----------------------------------------------------------
@dataclass
class SweepView:
    """One sweep's findings with what the comparison needs per run and per point."""

    name: str
    findings: Findings
    runs: pd.DataFrame
    """The ok runs: ``regime``, ``adapts``, ``point`` (the other varied parameters in words),
    ``design``, ``mix``, ``replication``, ``rounds`` and every KPI column."""
    points: pd.DataFrame
    """``findings.classified`` with each point's ``regime`` (:data:`MIXED` when its runs differ),
    ``adapts`` (some run adapts) and ``point`` in words."""

    @property
    def regimes(self) -> list[str]:
        """The regimes this sweep's runs play, token first."""
        present = set(self.runs["regime"])
        return [r for r in REGIMES if r in present] + sorted(present - set(REGIMES))

    @property
    def side_by_side(self) -> bool:
        """Whether the sweep runs both regimes (on the same populations and seeds)."""
        return len(self.regimes) > 1


def read_sweep(f: Findings, name: str | None = None) -> SweepView:
    """The comparison's view of one sweep's findings."""
    results = f.results
    regime = regime_per_run(results, f.manifest)
    adapts = adaptation.adaptive_per_run(results, f.manifest)
    rounds = pd.to_numeric(adaptation.setting_per_run(results, f.manifest, "rounds", np.nan), errors="coerce")
    others = [p for p in f.parameters if p != REGIME_KEY]
    runs = results.assign(
        regime=regime,
        adapts=adapts.to_numpy(bool),
        rounds=rounds.to_numpy(float),
        point=_point_texts(results, others),
    )
    runs = runs[runs["status"] == "ok"]
    keys = ["design", *f.parameters]
    per_point = runs.groupby(keys, sort=False, dropna=False).agg(
        regime=("regime", lambda s: s.iloc[0] if s.nunique() == 1 else MIXED), adapts=("adapts", "any")
    )
    classified = f.classified.drop(columns=["regime", "adapts"], errors="ignore")
    points = classified.merge(per_point.reset_index(), on=keys, how="left")
    points["regime"] = points["regime"].fillna(MIXED)
    points["adapts"] = points["adapts"].fillna(False).astype(bool)
    points["point"] = _point_texts(points, others)
    return SweepView(name or sweep_name(f), f, runs.reset_index(drop=True), points)


def _point_texts(frame: pd.DataFrame, parameters: Sequence[str]) -> pd.Series:
    """Each row's values of ``parameters`` in words (``""`` when there are none)."""
    if not parameters:
        return pd.Series("", index=frame.index, dtype=object)
    return pd.Series(
        [
            ", ".join(f"{short(p)} = {_level(v)}" for p, v in zip(parameters, values, strict=True))
            for values in frame[list(parameters)].itertuples(index=False, name=None)
        ],
        index=frame.index,
        dtype=object,
    )


def _level(value) -> str:
    """A level in words: numbers compactly, a switch as TOML writes it (``true`` / ``false``)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return f"{value:,.4g}"
    return str(value)


# -- statistics ------------------------------------------------------------------------------------
def estimate(values: pd.Series, kpi: str, regime: str, band: float = dominance.BAND) -> dict:
    """Mean and two-sided ``band`` interval of ``values`` over the replications (Student t), with
    the statistic's ``status``: :data:`VALUE`, :data:`ABSENT` (NaN by design in ``regime``) or
    :data:`NO_VALUE`. One replication gives a mean without an interval (``low``, ``high`` NaN)."""
    mean, _, low, high, n = dominance.interval(pd.to_numeric(values, errors="coerce"), (1 + band) / 2)
    if n == 0:
        status = ABSENT if is_absent(kpi, regime) else NO_VALUE
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0, "status": status}
    finite = math.isfinite(low) and math.isfinite(high)
    return {
        "mean": mean,
        "low": low if finite else math.nan,
        "high": high if finite else math.nan,
        "n": n,
        "status": VALUE,
    }


def _groups(runs: pd.DataFrame):
    return runs.groupby(["regime", "design", "point", "mix"], sort=False, dropna=False)


def profit_table(view: SweepView) -> pd.DataFrame:
    """(b) Fiat profit per owner per round by strategy, per regime, design, point and mix, over the
    runs that keep fixed strategies: ``mean``, ``low``, ``high`` (two-sided 95 %), ``n`` and
    ``status`` (:data:`NO_OWNERS` where no owner played the strategy)."""
    rows = []
    fixed = view.runs[~view.runs["adapts"]]
    for (regime, design, point, mix), group in _groups(fixed):
        for strategy in STRATEGIES:
            column = f"profit_fiat_per_round_{strategy}"
            if column not in group:
                continue
            stats = estimate(group[column], column, regime)
            if stats["status"] == NO_VALUE:
                stats["status"] = NO_OWNERS
            rows.append(
                {"sweep": view.name, "regime": regime, "design": design, "point": point, "mix": mix}
                | {"strategy": strategy}
                | stats
            )
    return pd.DataFrame(rows, columns=PROFIT_COLUMNS)


def share_table(view: SweepView) -> pd.DataFrame:
    """(c) The honest share of trainer owners at the start and after the last round, per regime,
    design, point and mix, over the runs whose owners adapt: ``initial``, ``mean``, ``low``,
    ``high`` (two-sided 95 %, clipped to [0, 1]), ``n``, the ``level`` the sweep names and the
    ``rounds``."""
    rows = []
    adapting = view.runs[view.runs["adapts"]]
    if adaptation.FINAL not in adapting:
        adapting = adapting.iloc[:0]
    levels = adaptation.levels_per_run(adapting, view.findings.manifest) if len(adapting) else None
    for (regime, design, point, mix), group in _groups(adapting):
        stats = estimate(group[adaptation.FINAL], adaptation.FINAL, regime)
        for end in ("low", "high"):
            if math.isfinite(stats[end]):
                stats[end] = min(max(stats[end], 0.0), 1.0)
        initial = pd.to_numeric(group.get(adaptation.INITIAL, pd.Series(dtype=float)), errors="coerce")
        rows.append(
            {"sweep": view.name, "regime": regime, "design": design, "point": point, "mix": mix}
            | stats
            | {
                "initial": float(initial.mean()) if initial.notna().any() else math.nan,
                "level": float(levels.loc[group.index].mean()),
                "rounds": _one_value(group["rounds"]),
            }
        )
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def outcome_table(view: SweepView) -> pd.DataFrame:
    """(d, e) Model quality and what the network pays per round, per regime, design, point and mix,
    over every ok run: one row per outcome of :data:`OUTCOMES` (``kpi``, ``label``), totals over
    the run divided by its rounds where the outcome is per round."""
    rows = []
    for (regime, design, point, mix), group in _groups(view.runs):
        for kpi, label, per_round in OUTCOMES:
            if kpi in group:
                values = pd.to_numeric(group[kpi], errors="coerce")
                if per_round:
                    values = values / group["rounds"]
            else:
                values = pd.Series(np.nan, index=group.index)
            stats = estimate(values, kpi, regime)
            if kpi in QUALITY:  # a quality index lies in [0, 1], and so does its interval
                stats |= {
                    end: min(max(stats[end], 0.0), 1.0)
                    for end in ("low", "high")
                    if math.isfinite(stats[end])
                }
            rows.append(
                {"sweep": view.name, "regime": regime, "design": design, "point": point, "mix": mix}
                | {"kpi": kpi, "label": label}
                | stats
            )
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS)


def _one_value(values: pd.Series) -> float:
    distinct = values.dropna().unique()
    return float(distinct[0]) if len(distinct) == 1 else math.nan


# -- where honesty dominates -------------------------------------------------------------------------
def map_table(view: SweepView) -> pd.DataFrame:
    """(a) Per design of a single-regime sweep: how many points dominate, are uncertain and fail,
    and the point(s) with the largest worst-mix lower bound of the trainers' margin (in the
    regime's margin unit)."""
    rows = []
    regime = view.regimes[0] if view.regimes else TOKEN
    scale, unit = MARGIN_UNITS.get(regime, (1.0, ""))
    for design in view.findings.designs:
        points = view.points[view.points["design"] == design]
        if points.empty:
            continue
        counts = {v: int((points["honesty"] == v).sum()) for v in VERDICTS}
        lower = points["trainers_lower"].to_numpy(float)
        finite = np.isfinite(lower)
        if finite.any():
            best = float(lower[finite].max())
            at = points.loc[finite & np.isclose(lower, best, rtol=1e-12, atol=0.0), "point"].tolist()
        else:
            best, at = math.nan, []
        rows.append(
            {
                "sweep": view.name,
                "regime": regime,
                "design": design,
                "points": len(points),
                **counts,
                "dominates_share": counts[dominance.DOMINATES] / len(points),
                "best_lower": best * scale,
                "unit": unit,
                "best_points": "; ".join(at),
                **_cheapest_dominating(view, design),
            }
        )
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


def _cheapest_dominating(view: SweepView, design: str) -> dict:
    """The point of ``design`` where honesty dominates at the lowest cost to the network — among the
    points whose network keeps at least :data:`KEEPS_TRAINERS` of its trainer owners to the end
    when there are any — with that cost (mean ``network_cost_fiat_per_round`` over its runs, every
    mix), the share of trainer owners kept, the final model quality, and whether it keeps enough.
    Empty values when honesty dominates nowhere. What a designer pays for honesty, and what the
    money buys."""
    none = {
        "cheapest_point": "",
        "cheapest_cost_fiat_per_round": math.nan,
        "cheapest_kept_share": math.nan,
        "cheapest_final_quality": math.nan,
        "cheapest_keeps_trainers": False,
    }
    keys = ["design", *view.findings.parameters]
    points = view.points
    dominating = points[(points["design"] == design) & (points["honesty"] == dominance.DOMINATES)]
    needed = [
        "network_cost_fiat_per_round",
        "final_quality",
        "trainer_owners_initial",
        "trainer_owners_retained",
    ]
    if dominating.empty or not all(c in view.runs for c in needed):
        return none
    runs = view.runs[view.runs["design"] == design]
    means = runs.groupby(keys, sort=False, dropna=False)[needed].mean().reset_index()
    priced = dominating.merge(means, on=keys, how="left").dropna(subset=["network_cost_fiat_per_round"])
    if priced.empty:
        return none
    initial = priced["trainer_owners_initial"].where(priced["trainer_owners_initial"] > 0)
    priced = priced.assign(kept=priced["trainer_owners_retained"] / initial)
    working = priced[priced["kept"] >= KEEPS_TRAINERS]
    pool = working if not working.empty else priced
    row = pool.loc[pool["network_cost_fiat_per_round"].idxmin()]
    return {
        "cheapest_point": str(row["point"]),
        "cheapest_cost_fiat_per_round": float(row["network_cost_fiat_per_round"]),
        "cheapest_kept_share": float(row["kept"]),
        "cheapest_final_quality": float(row["final_quality"]),
        "cheapest_keeps_trainers": not working.empty,
    }


def verdict_table(view: SweepView) -> pd.DataFrame:
    """The verdict at every point of a side-by-side sweep, per regime: ``honesty`` (with
    ``trainers`` and ``participation``; ``incentives`` and ``adaptive`` when owners adapt) and the
    worst-mix margins in the regime's unit (``unit``)."""
    rows = []
    for r in view.points.to_dict("records"):
        scale, unit = MARGIN_UNITS.get(r["regime"], (1.0, ""))
        row = {"sweep": view.name, "regime": r["regime"], "design": r["design"], "point": r["point"]}
        row["adapts"] = bool(r["adapts"])
        row |= {c: r.get(c, "") for c in VERDICT_COLUMNS}
        for name in ("trainers", "participation"):
            for stat in ("mean", "lower", "upper"):
                value = r.get(f"{name}_{stat}", math.nan)
                row[f"{name}_{stat}"] = value * scale if isinstance(value, int | float) else math.nan
        rows.append(row | {"unit": unit})
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


# -- the comparison ------------------------------------------------------------------------------------
@dataclass
class RegimeComparison:
    """Token and tokenless side by side, over the sweeps given (see the module docstring)."""

    sweeps: list[SweepView]
    maps: pd.DataFrame
    """(a) one row per design of every single-regime sweep (:func:`map_table`)."""
    verdicts: pd.DataFrame
    """The verdict per point and regime of every side-by-side sweep (:func:`verdict_table`)."""
    profits: pd.DataFrame
    """(b) fiat profit per owner per round by strategy (:func:`profit_table`)."""
    shares: pd.DataFrame
    """(c) the honest share of trainer owners after the last round (:func:`share_table`)."""
    outcomes: pd.DataFrame
    """(d, e) model quality and costs per round (:func:`outcome_table`)."""
    answers: dict[str, RegimeAnswer] = field(default_factory=dict)
    """Per regime, what the first side-by-side sweep shows (:func:`regime_answers`)."""
    thesis: str = ""
    """(f) the answer for the side-by-side network, in one sentence."""
    summary: list[str] = field(default_factory=list)
    """The comparison in plain words, the thesis first."""

    @property
    def regimes(self) -> list[str]:
        """The regimes any sweep runs, token first."""
        present = {r for v in self.sweeps for r in v.regimes}
        return [r for r in REGIMES if r in present] + sorted(present - set(REGIMES))


def needs_comparison(findings: Sequence[Findings]) -> bool:
    """Whether a report of ``findings`` opens with the comparison: several sweeps, or one whose
    runs cover both regimes."""
    if len(findings) > 1:
        return True
    return any(read_sweep(f).side_by_side for f in findings)


def compare_regimes(findings: Sequence[Findings], names: Sequence[str] | None = None) -> RegimeComparison:
    """Token and tokenless side by side over the sweeps of ``findings`` (in the order given; the
    first side-by-side sweep answers the thesis). ``names`` overrides the sweeps' names."""
    names = list(names) if names is not None else unique_names(findings)
    views = [read_sweep(f, name) for f, name in zip(findings, names, strict=True)]
    side = [v for v in views if v.side_by_side]
    maps = [v for v in views if not v.side_by_side]

    c = RegimeComparison(
        sweeps=views,
        maps=_joined([map_table(v) for v in maps], MAP_COLUMNS),
        verdicts=_joined([verdict_table(v) for v in side], POINT_COLUMNS),
        profits=_joined([profit_table(v) for v in side], PROFIT_COLUMNS),
        shares=_joined([share_table(v) for v in side], SHARE_COLUMNS),
        outcomes=_joined([outcome_table(v) for v in side], OUTCOME_COLUMNS),
    )
    if side:
        c.answers = regime_answers(c, side[0])
    c.thesis = thesis_sentence(c)
    c.summary = [c.thesis, *map_sentences(c), *absent_sentences(c)]
    return c


def unique_names(findings: Sequence[Findings]) -> list[str]:
    """Each sweep's name, numbered where two sweeps share one."""
    names = [sweep_name(f) for f in findings]
    out = []
    for i, name in enumerate(names):
        if names.count(name) > 1:
            name = f"{name} ({names[: i + 1].count(name)})"
        out.append(name)
    return out


def _joined(tables: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


# -- the thesis ----------------------------------------------------------------------------------------
@dataclass
class RegimeAnswer:
    """What one regime shows on a side-by-side sweep's network: the numbers the thesis quotes."""

    regime: str
    points: pd.DataFrame
    """Its points with fixed strategies (rows of :func:`verdict_table`)."""
    at: dict
    """The point the numbers are read at: its only one, else the one with the largest worst-mix
    lower bound of the trainers' margin."""
    profit: dict | None = None
    """The worst mix's fiat profits per owner per round (:func:`_worst_mix_profit`): ``mix``,
    ``honest``, ``deviation``, ``deviation_profit`` and the payoff ``margin``; None without a
    deviation."""
    share: dict | None = None
    """Where owners adapt, the worst mix's final honest share: ``mix``, ``mean``, ``level``,
    ``rounds`` and ``verdict`` (the adaptive verdict at the point, over its mixes)."""
    cost: float = math.nan
    """Network cost, fiat per round, mean over the point's runs (fixed-strategy ones unless
    ``adapts``)."""
    slashed: float = math.nan
    """Slashed, fiat per round, mean over the same runs (NaN without a token)."""
    owner_share: float = math.nan
    """With a token, the network owner's share of each round's emission (``emission.owner_share``,
    mean over the same runs): part of the cost, paid to no participant; NaN without a token."""
    kept: float = math.nan
    """Of the trainer owners at the start, the share still in after the last round (mean over the
    same runs; entrants not counted)."""
    quality: float = math.nan
    """Model quality after the last round (mean over the same runs)."""
    kept_adapting: float = math.nan
    """:attr:`kept` over the runs of the same point whose owners adapt (NaN without them)."""
    adapts: bool = False
    """Whether the numbers come from runs whose owners adapt (a sweep where every design adapts:
    its margins are then the incentives' over the whole run); else from fixed strategies."""

    @property
    def dominating(self) -> int:
        return int((self.points["honesty"] == dominance.DOMINATES).sum())

    @property
    def dominates(self) -> bool:
        return len(self.points) > 0 and self.dominating == len(self.points)


def regime_answers(c: RegimeComparison, view: SweepView) -> dict[str, RegimeAnswer]:
    """Per regime of the side-by-side sweep ``view``: its verdicts and the numbers behind them."""
    verdicts = c.verdicts[c.verdicts["sweep"] == view.name]
    fixed = verdicts[~verdicts["adapts"].astype(bool)]
    adapts = fixed.empty
    if adapts:  # every design adapts: the incentives' verdict is the margins' alone
        fixed = verdicts.assign(honesty=verdicts["incentives"])
    answers = {}
    for regime in view.regimes:
        points = fixed[fixed["regime"] == regime]
        if points.empty:
            continue
        lower = points["trainers_lower"].to_numpy(float)
        best = int(np.argmax(np.where(np.isfinite(lower), lower, -np.inf))) if len(points) > 1 else 0
        at = points.iloc[best].to_dict()
        answer = RegimeAnswer(regime, points, at, adapts=adapts)
        runs = view.runs[
            (view.runs["regime"] == regime)
            & (view.runs["design"] == at["design"])
            & (view.runs["point"] == at["point"])
            & (view.runs["adapts"] == adapts)
        ]
        answer.profit = _worst_mix_profit(runs, regime)
        answer.share = _worst_mix_share(c.shares, verdicts, view.name, regime, at["point"])
        answer.cost = _mean(runs, "network_cost_fiat_per_round")
        answer.slashed = _mean(runs, "slashed_fiat_per_round")
        answer.kept = kept_share(runs)
        answer.quality = _mean(runs, "final_quality")
        if not adapts:  # the same point with owners that adapt, when the sweep runs it
            adapting = view.runs[
                (view.runs["regime"] == regime) & (view.runs["point"] == at["point"]) & view.runs["adapts"]
            ]
            answer.kept_adapting = kept_share(adapting)
        if regime == TOKEN and len(runs):
            owner = adaptation.setting_per_run(runs, view.findings.manifest, "emission.owner_share", math.nan)
            answer.owner_share = _mean(pd.DataFrame({"share": owner}), "share")
        answers[regime] = answer
    return answers


def _worst_mix_profit(runs: pd.DataFrame, regime: str) -> dict | None:
    """Honest trainers' fiat profit per owner per round against the best deviation's, in the mix
    where honest work leads by least. The best deviation is the one with the highest mean payoff of
    the regime (per unit of capital with a token, as dominance picks it): the deviation the verdict
    is about, not necessarily the one with the most fiat per owner (a Sybil owner's identities
    commit more capital)."""
    template = PAYOFF_KPI.get(regime, PAYOFF_KPI[TOKENLESS])
    worst = None
    for mix, group in runs.groupby("mix", sort=False):
        payoff = {s: _mean(group, template.format(s)) for s in ("honest", *TRAINER_DEVIATIONS)}
        deviations = {s: v for s, v in payoff.items() if s != "honest" and math.isfinite(v)}
        if not math.isfinite(payoff["honest"]) or not deviations:
            continue
        deviation = max(deviations, key=deviations.get)
        margin = payoff["honest"] - deviations[deviation]
        if worst is None or margin < worst["margin"]:
            worst = {
                "mix": mix,
                "honest": _mean(group, "profit_fiat_per_round_honest"),
                "deviation": deviation,
                "deviation_profit": _mean(group, f"profit_fiat_per_round_{deviation}"),
                "margin": margin,
            }
    return worst


def _mean(frame: pd.DataFrame, column: str) -> float:
    if column not in frame:
        return math.nan
    values = pd.to_numeric(frame[column], errors="coerce")
    return float(values.mean()) if values.notna().any() else math.nan


def _worst_mix_share(
    shares: pd.DataFrame, verdicts: pd.DataFrame, sweep: str, regime: str, point: str
) -> dict | None:
    """The mix with the lowest mean final honest share at ``point`` where owners adapt (the first
    adaptive design), with the adaptive verdict there."""
    rows = shares[
        (shares["sweep"] == sweep)
        & (shares["regime"] == regime)
        & (shares["point"] == point)
        & (shares["status"] == VALUE)
    ]
    if rows.empty:
        return None
    rows = rows[rows["design"] == rows["design"].iloc[0]]
    worst = rows.loc[rows["mean"].idxmin()]
    adaptive = verdicts[
        (verdicts["regime"] == regime)
        & (verdicts["design"] == worst["design"])
        & (verdicts["point"] == point)
        & verdicts["adapts"].astype(bool)
    ]["adaptive"]
    verdict = adaptive.iloc[0] if len(adaptive) == 1 else ""
    return {
        "mix": worst["mix"],
        "mean": float(worst["mean"]),
        "level": float(worst["level"]),
        "rounds": float(worst["rounds"]),
        "verdict": verdict,
    }


def thesis_sentence(c: RegimeComparison) -> str:
    """(f) The answer for the side-by-side network, in one sentence with the numbers behind it.

    From the first side-by-side sweep: under which regime honesty dominates with fixed strategies
    (and why not where it does not), the worst-mix honesty margins in each regime's unit, the
    honest and best-deviation fiat profit per owner per round, the honest share after the last
    round where owners adapt, and what the network pays per round — each number from the
    fixed-strategy runs, or, where every design adapts, from the adaptive runs, and said so.
    Without a side-by-side sweep the single-regime maps are compared; with one regime only, the
    sentence says there is nothing to compare with. Nothing is assumed: each clause follows from the tables.
    """
    side = next((v for v in c.sweeps if v.side_by_side), None)
    if side is None:
        return _maps_thesis(c)
    answers = c.answers
    if len(answers) < 2:
        return (
            f"Token or tokenless: {side.name} runs both regimes, but only the "
            f"{' and '.join(answers) or 'no'} regime has runs with fixed strategies to judge."
        )
    ordered = [answers[r] for r in REGIMES if r in answers]
    one_point = all(len(a.points) == 1 for a in ordered)
    where = "side by side on one network" if one_point else f"side by side over the points of {side.name}"
    clauses = [_margins_clause(ordered)]
    if all(a.profit for a in ordered):
        clauses.append(_profits_clause(ordered))
    if all(a.share for a in ordered):
        clauses.append(_shares_clause(ordered))
    if all(math.isfinite(a.cost) for a in ordered):
        clauses.append(_costs_clause(ordered))
    if all(math.isfinite(a.kept) for a in ordered):
        clauses.append(_kept_clause(ordered))
    return (
        f"Token or tokenless, {where} ({_design_text(side)}): {_lead(ordered, one_point)} — "
        + "; ".join(clauses)
        + "."
    )


def _design_text(view: SweepView) -> str:
    runs = view.runs
    replications = runs.groupby(["regime", "design", "point", "mix"])["replication"].nunique()
    reps = (
        f"{int(replications.min())}"
        if replications.min() == replications.max()
        else f"{int(replications.min())}–{int(replications.max())}"
    )
    rounds = sorted(runs["rounds"].dropna().unique())
    rounds_text = (
        f"{rounds[0]:,.0f} rounds" if len(rounds) == 1 else f"{rounds[0]:,.0f}–{rounds[-1]:,.0f} rounds"
    )
    mixes = runs["mix"].nunique()
    return f"{view.name}: {mixes} mix{'es' if mixes != 1 else ''} × {reps} replications, {rounds_text}"


def _regime_words(regime: str, first: bool) -> str:
    """``the token regime`` the first time, ``the token one`` after."""
    return f"the {regime} regime" if first else f"the {regime} one"


def _strategies_words(answers: list[RegimeAnswer], first: bool = True) -> str:
    """Whose runs the thesis numbers come from: fixed strategies, or (a sweep where every design
    adapts) owners that adapt — the first time with what their margins then measure."""
    if any(a.adapts for a in answers):
        return "with owners adapting" + (" (the incentives over the whole run)" if first else "")
    return "with fixed strategies"


def _lead(answers: list[RegimeAnswer], one_point: bool) -> str:
    """Under which regime honesty dominates (with fixed strategies, or the incentives where every
    design adapts), and why not where it does not."""
    if not one_point:
        parts = [
            f"at {a.dominating} of {len(a.points)} points under {_regime_words(a.regime, i == 0)}"
            for i, a in enumerate(answers)
        ]
        return f"{_strategies_words(answers)} honesty dominates " + " and ".join(parts)
    winners = [a for a in answers if a.dominates]
    losers = [a for a in answers if not a.dominates]
    if len(winners) == len(answers):
        return "honesty dominates under both regimes"
    if not winners:
        why = "; ".join(f"{a.regime}: {_why_not(a)}" for a in losers)
        return f"honesty dominates under neither regime ({why})"
    win, lose = winners[0], losers[0]
    return (
        f"honesty dominates under the {win.regime} regime and not under the {lose.regime} one, "
        f"where {_why_not(lose)}"
    )


def _why_not(answer: RegimeAnswer) -> str:
    """Why honesty does not dominate at the answer's point, in words."""
    at = answer.at
    if at.get("trainers") == dominance.FAILS:
        return "a cheating strategy out-earns honest work"
    if at.get("participation") == dominance.FAILS:
        if answer.regime == TOKENLESS:
            return "honest work loses money"
        return "honest work earns less than the outside option"
    return "the evidence is uncertain (more replications would tell)"


def _margins_clause(answers: list[RegimeAnswer]) -> str:
    parts = []
    for i, a in enumerate(answers):
        at = a.at
        if not math.isfinite(at.get("trainers_mean", math.nan)):
            parts.append(f"none under {_regime_words(a.regime, i == 0)} (no cheating strategy present)")
            continue
        bounds = f"95 % bounds {_signed(at['trainers_lower'])} to {_signed(at['trainers_upper'])}"
        parts.append(
            f"{_signed(at['trainers_mean'])} {at['unit']} ({bounds}) under {_regime_words(a.regime, i == 0)}"
        )
    return f"{_strategies_words(answers)} the worst mix's honesty margin is " + " and ".join(parts)


def _profits_clause(answers: list[RegimeAnswer]) -> str:
    parts = []
    for i, a in enumerate(answers):
        p = a.profit
        first = "fiat per owner per round " if i == 0 else ""
        parts.append(
            f"{_num(p['honest'])} {first}under {_regime_words(a.regime, i == 0)} against "
            f"{_num(p['deviation_profit'])} for {STRATEGY_LABELS.get(p['deviation'], p['deviation'])}"
            f" (mix {p['mix']})"
        )
    return (
        "honest trainers earn "
        + " and ".join(parts)
        + ", each regime's best-paying deviation by its own payoff"
    )


def _shares_clause(answers: list[RegimeAnswer]) -> str:
    rounds = {a.share["rounds"] for a in answers}
    after = (
        f"after {next(iter(rounds)):,.0f} rounds"
        if len(rounds) == 1 and all(math.isfinite(r) for r in rounds)
        else "after the last round"
    )
    parts = [
        f"{_percent(a.share['mean'])} under {_regime_words(a.regime, i == 0)} (mix {a.share['mix']})"
        for i, a in enumerate(answers)
    ]
    text = f"when owners adapt, the honest share of trainer owners {after} is " + " and ".join(parts)
    verdicts = {a.regime: a.share["verdict"] for a in answers}
    if all(v in (dominance.DOMINATES, dominance.FAILS, dominance.UNCERTAIN) for v in verdicts.values()):
        levels = {a.share["level"] for a in answers}
        level = f" (at least {_percent(next(iter(levels)))})" if len(levels) == 1 else ""
        text += f", so the network ends honest{level} {_under_which(verdicts)}"
    return text


def _under_which(verdicts: dict[str, str]) -> str:
    """Under which regimes a verdict dominates, in words (undecided ones named as such)."""
    yes = [r for r, v in verdicts.items() if v == dominance.DOMINATES]
    unsure = [r for r, v in verdicts.items() if v == dominance.UNCERTAIN]
    if len(yes) == len(verdicts):
        text = "under both regimes"
    elif not yes:
        text = "under neither regime"
    else:
        text = f"under the {yes[0]} regime only"
    if unsure:
        text += f" ({' and '.join(unsure)}: uncertain)"
    return text


def _kept_clause(answers: list[RegimeAnswer]) -> str:
    """What each network still has at the end: its starting trainer owners (a gatekeeper can make
    cheating unprofitable by ejecting everyone, false positives taking the honest too; owners that
    adapt may leave) and its model's quality (an average over accepted work, blind to how many
    trainers remain) — for the runs the other numbers come from and, where the sweep runs them, for
    owners that adapt."""
    parts = [
        f"{_percent(a.kept)} under {_regime_words(a.regime, i == 0)}"
        + (f" (model quality {_num(a.quality, 2)})" if math.isfinite(a.quality) else "")
        for i, a in enumerate(answers)
    ]
    text = (
        f"{_strategies_words(answers, first=False)}, of the trainer owners it started with (cheaters "
        "included; entrants not counted) the network still has after the last round " + " and ".join(parts)
    )
    if all(math.isfinite(a.kept_adapting) for a in answers):
        adapting = [
            f"{_percent(a.kept_adapting)} under {_regime_words(a.regime, i == 0)}"
            for i, a in enumerate(answers)
        ]
        text += ", and when owners adapt " + " and ".join(adapting)
    return text


def _costs_clause(answers: list[RegimeAnswer]) -> str:
    """What the network pays per round in each regime, and in whose runs (it comes after the clause
    on owners that adapt, so it says so when the cost is that of fixed strategies). The token's cost
    is its whole emission at the token price, the network owner's share included."""
    parts = []
    for i, a in enumerate(answers):
        if a.regime == TOKEN:
            how = "its whole emission at the token price"
            if math.isfinite(a.owner_share) and a.owner_share > 0:
                how += f", the network owner's {_percent(a.owner_share)} share included"
            elif not math.isfinite(a.owner_share):
                how += ", the network owner's share included"
            if math.isfinite(a.slashed):
                how += f"; besides, {_num(a.slashed)} fiat a round is slashed from the flagged"
        elif a.regime == TOKENLESS:
            how = "service fees, validators' wages and the orchestrator's KYC"
        else:
            how = ""
        parts.append(
            f"{_num(a.cost)} fiat per round under {_regime_words(a.regime, i == 0)}"
            + (f" ({how})" if how else "")
        )
    return f"{_strategies_words(answers, first=False)} the network pays " + " and ".join(parts)


def _maps_thesis(c: RegimeComparison) -> str:
    """The thesis without a side-by-side sweep: the single-regime maps compared, or why not."""
    present = c.regimes
    if len(present) < 2:
        regime = present[0] if present else TOKEN
        return (
            f"Token or tokenless: every sweep here runs the {regime} regime only, so there is nothing to "
            f"compare it with; a sweep over {REGIME_KEY} (as scenarios/study-regimes.toml) runs both."
        )
    parts = []
    for regime in present:
        rows = c.maps[c.maps["regime"] == regime]
        n, k = int(rows["points"].sum()), int(rows[dominance.DOMINATES].sum())
        share = f" ({k / n:.0%})" if n else ""
        parts.append(f"at {k} of {n} points{share} of the {regime} map{'s' if len(rows) > 1 else ''}")
    return (
        "Token or tokenless: no sweep here runs both regimes on the same populations, so the default "
        "network is not compared side by side; honesty dominates " + " and ".join(parts) + "."
    )


def map_sentences(c: RegimeComparison) -> list[str]:
    """(a) One sentence per design of each single-regime map."""
    lines = []
    for r in c.maps.to_dict("records"):
        design = f", design {r['design']}" if r["design"] != "base" else ""
        text = (
            f"The {r['regime']} map ({r['sweep']}{design}): honesty dominates at {r['dominates']} of "
            f"{r['points']} points ({r['dominates_share']:.0%}), is uncertain at {r['uncertain']} and "
            f"fails at {r['fails']}"
        )
        if math.isfinite(r["best_lower"]) and r["best_points"]:
            text += (
                f"; the largest worst-mix lower bound of the trainers' margin, {_signed(r['best_lower'])} "
                f"{r['unit']}, is at {r['best_points']}"
            )
        if r["cheapest_point"]:
            kept = r["cheapest_kept_share"]
            quality = f"model quality {_num(r['cheapest_final_quality'], 2)}"
            if (
                kept < 0.01
            ):  # the quality index averages accepted work: it stops where the last trainer left it
                quality += ", frozen where the last trainers left it"
            bought = (
                f"{_num(r['cheapest_cost_fiat_per_round'])} fiat per round ({r['cheapest_point']}; "
                f"{_percent(kept)} of the starting trainer owners still in at the end, {quality})"
            )
            if r["cheapest_keeps_trainers"]:
                text += (
                    f"; the cheapest point where it dominates and the network keeps at least "
                    f"{_percent(KEEPS_TRAINERS)} of its trainer owners costs the network {bought}"
                )
            else:
                text += (
                    f"; but only where the network loses more than {_percent(1 - KEEPS_TRAINERS)} of its "
                    f"trainer owners (ejected with the cheaters): the cheapest such point costs {bought}"
                )
        lines.append(text + ".")
    return lines


def absent_sentences(c: RegimeComparison) -> list[str]:
    """What the tables mark absent, when both regimes are compared."""
    if len(c.regimes) < 2:
        return []
    return [
        "Without a token, profit per unit of capital, stake shares and token flows (minted, slashed, "
        f"burned) are absent — {absent_reason(TOKENLESS)}; with one, service fees, wages and KYC are: "
        f"the tables say “{ABSENT}”, never 0."
    ]


def _num(value: float, digits: int = 3) -> str:
    """A number as people write it; ``n/a`` for no value."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _signed(value: float) -> str:
    text = _num(value)
    return f"+{text}" if math.isfinite(value) and value > 0 else text


def _percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:.0f} %"
