"""Where honesty dominates (the README defines it): margins with confidence bounds, per point.

Every margin compares payoffs in the run's own regime (``analysis.settings.with_payoffs``): in the
token network the payoff ``π_s`` is fiat profit per round per unit of capital and honest work is
compared with the outside option ω; in the tokenless federation nobody commits capital, so the
payoff is fiat profit per owner per round and honest work is compared with 0. Below, ``π_s``
stands for the run's payoff ``payoff_<s>``.

At a parameter point θ with R replications, the honesty margin ``Δ = π_honest − max_s π_s`` (the
best deviation by mean payoff at θ; ``margin_validators`` for honest vs copying validators) has a one-sided
95 % lower bound ``mean − t(0.95, R−1)·sd/√R`` and upper bound ``mean + t(…)·sd/√R``. Honesty

* **dominates** at θ when the lower bound is > 0 under every population mix where the margin's
  question exists (and every such mix has data) and honest work is individually rational (the
  lower bound of ``π_honest − outside option`` is ≥ 0 under every mix);
* **fails** when the upper bound is < 0 under some mix (or honest work is not rational there);
* is **uncertain** otherwise — more replications would tell.

Each tokenomics design is classified on its own: a point is a (design, parameter values) pair and
the verdict is robust over the mixes *within* that design. Besides the one-sided bounds every
margin gets a two-sided band (95 % by default: ``mean ± t(0.975, R−1)·sd/√R``), the interval the
boundaries' bands are built from. Only runs with status ``ok`` count; failed runs are reported
separately, and runs whose margin is NaN (no cheating strategy present, no capital committed) are
left out of that margin and counted by the findings.

A mix where the deviating side of a margin is absent — no lazy, Sybil or poisoning trainer for the
trainers' margin, no copying validator for the validators' — has no value of that margin because
the question does not arise there: it is left out of that margin's worst case (column
``<name>_absent`` of :func:`point_statistics`). A mix whose runs failed or are missing, or whose
margin is undefined for another reason (no honest trainers, no capital committed), still keeps the
point from dominating.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.settings import (
    REGIME,
    REGIMES,
    outside_option_per_run,
    payoff_column,
    with_design_column,
    with_payoffs,
)
from model.kpis import TRAINER_DEVIATIONS

DOMINATES, UNCERTAIN, FAILS = "dominates", "uncertain", "fails"
ID_COLUMNS = ("run_id", "point", "design", "mix", "regime", "replication", "seed", "status", "error")
#: Confidence of the one-sided bounds that decide dominance.
CONFIDENCE = 0.95
#: Coverage of the two-sided band around each margin (one-sided (1 + BAND) / 2 bounds).
BAND = 0.95
#: The quantities classified: column in the results table → name in the output.
MARGINS = {
    "margin_trainers": "trainers",
    "margin_validators": "validators",
    "honest_surplus": "participation",
}
#: Per margin, the payoff columns of its deviating side: where none has a value while honest
#: players' payoff does, the deviation is absent and the margin's question does not arise.
DEVIATING_SIDE = {
    "trainers": (payoff_column("honest"), tuple(payoff_column(d) for d in TRAINER_DEVIATIONS)),
    "validators": (payoff_column("honest_validator"), (payoff_column("copying_validator"),)),
}
#: A (design, point) whose mixes run under different regimes (a mix that sets ``regime.kind``).
MIXED_REGIMES = "mixed"


def parameter_columns(results: pd.DataFrame) -> list[str]:
    """The varied parameters: the results' dotted-key columns."""
    return [c for c in results.columns if "." in c and c not in ID_COLUMNS]


def with_honest_surplus(results: pd.DataFrame, outside_option: float | pd.Series) -> pd.DataFrame:
    """Add the payoffs (``analysis.settings.with_payoffs``) and ``honest_surplus``: honest trainers'
    payoff minus the outside option, in the run's regime.

    Token runs: ``pi_honest − ω`` (per round per unit of capital), ω being ``outside_option`` — one
    number for every run or, better, each run's own value (a Series indexed like ``results``: see
    ``analysis.settings.value_per_run``). Tokenless runs: honest fiat profit per owner per round
    minus 0 (zero capital earns nothing outside).
    """
    runs = with_payoffs(results)
    outside = outside_option_per_run(runs, outside_option)
    return runs.assign(honest_surplus=runs[payoff_column("honest")] - outside)


def t_half_width(sd, n, level: float):
    """Half-width ``t(level, n−1)·sd/√n`` of a one-sided ``level`` bound; inf where n ≤ 1."""
    sd, n = np.asarray(sd, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        quantile = stats.t.ppf(level, np.maximum(n - 1, 1))
        half = quantile * sd / np.sqrt(n)
    return np.where(n > 1, half, np.inf)


def interval(values: pd.Series, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """(mean, sd, one-sided lower bound, one-sided upper bound, n) of ``values`` (NaNs dropped).

    With one value, or none, the bounds are −inf and +inf: nothing can be concluded. For a
    two-sided interval of coverage ``c`` pass ``confidence = (1 + c) / 2``.
    """
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    if n == 0:
        return np.nan, np.nan, -np.inf, np.inf, 0
    mean = float(v.mean())
    if n == 1:
        return mean, np.nan, -np.inf, np.inf, 1
    sd = float(v.std(ddof=1))
    half = float(t_half_width(sd, n, confidence))
    return mean, sd, mean - half, mean + half, n


def margin_samples(group: pd.DataFrame) -> pd.Series:
    """The trainers' margin per replication at one (point, mix): π_honest − π of the best deviation,
    in each run's regime's payoff (``analysis.settings.with_payoffs``).

    The best deviation is the one with the highest *mean* payoff at this point (the definition:
    ``Δ = π_honest − max_s π_s``); taking the maximum run by run instead would overstate the
    deviation's payoff (the mean of a maximum exceeds the maximum of means).
    """
    return trainer_margins(group, [])


def trainer_margins(runs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """:func:`margin_samples` for every run at once, the best deviation chosen per ``keys`` group.

    NaN for a run whose group has no deviation with a payoff (no cheating strategy present).
    """
    runs = with_payoffs(runs)
    columns = [payoff_column(d) for d in TRAINER_DEVIATIONS if payoff_column(d) in runs]
    if not columns or runs.empty or payoff_column("honest") not in runs:
        return pd.Series(np.nan, index=runs.index)
    if keys:
        means = runs.groupby(keys, sort=False, dropna=False)[columns].transform("mean")
    else:
        means = pd.DataFrame({c: [runs[c].mean()] * len(runs) for c in columns}, index=runs.index)
    filled = means.to_numpy(float)
    has_any = ~np.all(np.isnan(filled), axis=1)
    best = np.argmax(np.where(np.isnan(filled), -np.inf, filled), axis=1)
    deviation = runs[columns].to_numpy(float)[np.arange(len(runs)), best]
    margin = runs[payoff_column("honest")].to_numpy(float) - deviation
    return pd.Series(np.where(has_any, margin, np.nan), index=runs.index)


def _point_keys(results: pd.DataFrame) -> list[str]:
    return ["design", *parameter_columns(results)]


def point_statistics(
    results: pd.DataFrame,
    confidence: float = CONFIDENCE,
    outside_option: float | pd.Series = 0.0,
    band: float = BAND,
) -> pd.DataFrame:
    """One row per (design, parameter point, mix): for each margin its mean, sd, bounds and n.

    Columns ``<name>_mean``, ``<name>_sd``, ``<name>_lower`` and ``<name>_upper`` (one-sided
    ``confidence`` bounds), ``<name>_band_lower`` and ``<name>_band_upper`` (the two-sided ``band``
    interval) and ``<name>_n`` (replications with a value) for ``trainers`` (π_honest minus the best
    deviation, see :func:`margin_samples`), ``validators`` and ``participation`` (π_honest − outside
    option, per run; the outside option is 0 in the tokenless regime), plus every ``pi_<strategy>``
    and ``payoff_<strategy>`` mean (the payoff of the point's regime), beside ``design``, the
    parameter columns and ``mix``; ``<name>_absent`` (see :func:`deviation_absent`); and
    ``regime`` (token or tokenless; :data:`MIXED_REGIMES` should the runs of one group differ).
    Results without a ``design`` column are one design, ``"base"``; without a ``regime`` column,
    token.
    """
    results = with_design_column(results)
    ok = with_honest_surplus(results[results["status"] == "ok"], _aligned(outside_option, results))
    keys = [*_point_keys(results), "mix"]
    samples = pd.DataFrame(
        {
            "trainers": trainer_margins(ok, keys),
            "validators": ok.get("margin_validators", np.nan),
            "participation": ok["honest_surplus"],
        },
        index=ok.index,
    )
    pi_columns = [c for c in ok.columns if c.startswith(("pi_", "payoff_"))]
    grouped = pd.concat([ok[keys], samples, ok[pi_columns]], axis=1).groupby(keys, sort=True, dropna=False)
    table = grouped[pi_columns].mean() if pi_columns else grouped.size().to_frame("_n").drop(columns="_n")
    table[REGIME] = regime_of_groups(ok, keys).reindex(table.index)
    for name in samples.columns:
        g = grouped[name]
        mean, sd, n = g.mean(), g.std(ddof=1), g.count()
        one_sided = t_half_width(sd, n, confidence)
        two_sided = t_half_width(sd, n, (1 + band) / 2)
        table[f"{name}_mean"] = mean.where(n > 0)
        table[f"{name}_sd"] = sd.where(n > 1)
        table[f"{name}_lower"] = np.where(n > 1, mean - one_sided, -np.inf)
        table[f"{name}_upper"] = np.where(n > 1, mean + one_sided, np.inf)
        table[f"{name}_band_lower"] = np.where(n > 1, mean - two_sided, -np.inf)
        table[f"{name}_band_upper"] = np.where(n > 1, mean + two_sided, np.inf)
        table[f"{name}_n"] = n.astype(int)
        table[f"{name}_absent"] = deviation_absent(ok, keys, name).reindex(table.index).to_numpy(bool)
    table = table.reset_index()
    return table[[*keys, *[c for c in table.columns if c not in keys]]]


def deviation_absent(ok: pd.DataFrame, keys: list[str], name: str) -> pd.Series:
    """Per ``keys`` group of ok runs: whether margin ``name``'s deviating side is absent.

    True when no run of the group has a payoff for any deviation of the margin
    (:data:`DEVIATING_SIDE`) while some run has the honest side's payoff — a strategy's payoff is
    NaN when nobody played it (and, in the token regime, when it has no capital; with no capital
    committed at all the honest payoff is NaN too). Always False for ``participation`` (no
    deviation) and for results without the payoff columns. ``ok`` holds the payoff columns
    (``analysis.settings.with_payoffs``).
    """
    index = ok.groupby(keys, sort=True, dropna=False).size().index
    honest, deviations = DEVIATING_SIDE.get(name, (None, ()))
    deviations = [c for c in deviations if c in ok]
    if honest not in ok or not deviations:
        return pd.Series(False, index=index)
    counts = ok[[*keys, honest, *deviations]].groupby(keys, sort=True, dropna=False).count()
    return (counts[deviations].sum(axis=1) == 0) & (counts[honest] > 0)


def regime_of_groups(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per ``keys`` group of ``rows`` (runs, or per-mix statistics): the regime, or
    :data:`MIXED_REGIMES` when the group's regimes differ."""
    regimes = rows.groupby(keys, sort=True, dropna=False)[REGIME].agg(lambda r: _one_regime(set(r)))
    return regimes.astype(object)


def _one_regime(regimes: set[str]) -> str:
    return next(iter(regimes)) if len(regimes) == 1 else MIXED_REGIMES


def regime_names(classified: pd.DataFrame) -> list[str]:
    """The regimes of a :func:`classify` table's points, in :data:`~analysis.settings.REGIMES` order
    (``token`` for tables without a ``regime`` column)."""
    if REGIME not in classified:
        return [REGIMES[0]]
    present = set(classified[REGIME].dropna().astype(str))
    return [r for r in (*REGIMES, MIXED_REGIMES) if r in present]


def _aligned(outside_option: float | pd.Series, results: pd.DataFrame) -> float | pd.Series:
    if isinstance(outside_option, pd.Series):
        return outside_option.reindex(results.index).astype(float)
    return float(outside_option)


def classify_bounds(
    lower: pd.Series, upper: pd.Series, *, mixes_missing: bool = False, strict: bool = True
) -> str:
    """Across mixes: dominates if every lower bound is > 0 (≥ 0 when not ``strict``), fails if some
    upper bound is < 0. A point missing a mix's data cannot dominate: it is at best uncertain."""
    if (upper < 0).any():
        return FAILS
    above = (lower > 0) if strict else (lower >= 0)
    if above.all() and not mixes_missing:
        return DOMINATES
    return UNCERTAIN


STATISTICS = ("mean", "lower", "upper", "band_lower", "band_upper")


def classify(
    results: pd.DataFrame, confidence: float = CONFIDENCE, outside_option: float | pd.Series = 0.0
) -> pd.DataFrame:
    """One row per (design, parameter point), robust over the design's mixes.

    Columns: ``design``, the parameters; ``trainers``, ``validators`` and ``participation`` — each
    dominates / uncertain / fails — with the worst case over mixes of the mean, of each one-sided
    bound and of each band end (``<name>_mean``, ``_lower``, ``_upper``, ``_band_lower``,
    ``_band_upper``: the smallest over mixes, so a boundary drawn from them agrees with the
    verdict); ``honesty`` — the verdict for trainers and participation together (honest trainers
    beat every deviation and honest work pays at least the outside option); ``honesty_all`` — the
    same with validators too; and ``mixes`` (how many mixes had data). A mix where a margin's
    deviating side is absent is left out of that margin's worst case (see the module docstring);
    with no mix left, the margin's statistics are NaN (bounds ±inf) and its verdict uncertain. Last,
    ``regime``: the regime the point's runs were played under (token or tokenless), in whose payoff
    its margins are (:data:`MIXED_REGIMES` when its mixes differ: the verdicts still hold, but the
    worst case then compares margins in different units).
    """
    results = with_design_column(results)
    return classify_statistics(point_statistics(results, confidence, outside_option), results)


def classify_statistics(per_mix: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """:func:`classify` from already computed :func:`point_statistics` of ``results``."""
    results = with_design_column(results)
    keys = _point_keys(results)
    expected = results["mix"].nunique()  # every design runs under every mix
    table = per_mix.groupby(keys, sort=True, dropna=False).size().rename("mixes").to_frame()
    missing = table["mixes"].to_numpy() < expected
    for name in MARGINS.values():
        worst = _worst_over_mixes(per_mix, keys, name).reindex(table.index)
        for stat, fill in (
            ("lower", -np.inf),
            ("band_lower", -np.inf),
            ("upper", np.inf),
            ("band_upper", np.inf),
        ):
            worst[f"{name}_{stat}"] = worst[f"{name}_{stat}"].fillna(fill)  # no mix where it arises
        table = table.join(worst)
        fails = (table[f"{name}_upper"] < 0).to_numpy()
        lower = table[f"{name}_lower"]
        above = (lower >= 0) if name == "participation" else (lower > 0)  # individual rationality: ≥
        table[name] = np.select([fails, above.to_numpy() & ~missing], [FAILS, DOMINATES], UNCERTAIN)
    table["honesty"] = [combine(t, p) for t, p in zip(table["trainers"], table["participation"], strict=True)]
    table["honesty_all"] = [
        combine(t, p, v)
        for t, p, v in zip(table["trainers"], table["participation"], table["validators"], strict=True)
    ]
    table = table.reset_index()
    verdicts = ["trainers", "validators", "participation", "honesty", "honesty_all"]
    stats_columns = [f"{name}_{stat}" for name in MARGINS.values() for stat in STATISTICS]
    if REGIME in per_mix:
        table = table.merge(regime_of_groups(per_mix, keys).rename(REGIME).reset_index(), on=keys, how="left")
    else:  # statistics computed before regimes existed: token
        table[REGIME] = REGIMES[0]
    return table[[*keys, *verdicts, *stats_columns, "mixes", REGIME]]


def _worst_over_mixes(per_mix: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    """The smallest over mixes of each of ``name``'s statistics, mixes where it is absent left out."""
    absent = per_mix.get(f"{name}_absent", pd.Series(False, index=per_mix.index)).to_numpy(bool)
    columns = [f"{name}_{stat}" for stat in STATISTICS]
    return per_mix.loc[~absent, [*keys, *columns]].groupby(keys, sort=True, dropna=False)[columns].min()


def _with_adaptive(margins: str, adaptive: str) -> str:
    return margins if adaptive == NOT_ADAPTIVE else combine(margins, adaptive)


def combine(*verdicts: str) -> str:
    """All must dominate to dominate; any failure fails; otherwise uncertain."""
    if FAILS in verdicts:
        return FAILS
    if all(v == DOMINATES for v in verdicts):
        return DOMINATES
    return UNCERTAIN


#: The adaptive verdict of a point whose runs do not adapt (``analysis.adaptation``): no extra condition.
NOT_ADAPTIVE = "not adaptive"


def with_adaptive_verdict(classified: pd.DataFrame, adaptive: pd.DataFrame) -> pd.DataFrame:
    """``classified`` (from :func:`classify`) for an adaptive sweep, where honesty must also take over.

    ``adaptive`` holds one row per (design, point) with column ``adaptive`` — whether the honest
    share of owners ends at or above the sweep's level under every mix (``analysis.adaptation``).
    The margins' own verdict moves to ``incentives`` (and ``incentives_all`` with validators);
    ``honesty`` and ``honesty_all`` become :func:`combine` of it and ``adaptive`` — dominates only
    where both dominate. A point without an adaptive verdict is ``uncertain`` there; at a point
    whose runs do not adapt (:data:`NOT_ADAPTIVE`) the margins' verdict stands alone.
    """
    keys = [c for c in classified.columns if c == "design" or c in parameter_columns(classified)]
    verdict = classified[keys].merge(adaptive[[*keys, "adaptive"]], on=keys, how="left")["adaptive"]
    verdict = verdict.fillna(UNCERTAIN).to_numpy()
    out = classified.copy()
    out["incentives"], out["incentives_all"] = classified["honesty"], classified["honesty_all"]
    out["adaptive"] = verdict
    out["honesty"] = [_with_adaptive(m, a) for m, a in zip(classified["honesty"], verdict, strict=True)]
    out["honesty_all"] = [
        _with_adaptive(m, a) for m, a in zip(classified["honesty_all"], verdict, strict=True)
    ]
    after = list(out.columns).index("honesty_all") + 1
    order = [*list(out.columns)[:after], "incentives", "incentives_all", "adaptive"]
    return out[order + [c for c in out.columns if c not in order]]
