"""Where honesty dominates (DESIGN.md §5): margins with confidence bounds, classified per point.

At a parameter point θ with R replications, the honesty margin ``Δ = π_honest − max_s π_s`` (the
best deviation by mean payoff at θ; ``margin_validators`` for honest vs copying validators) has a one-sided
95 % lower bound ``mean − t(0.95, R−1)·sd/√R`` and upper bound ``mean + t(…)·sd/√R``. Honesty

* **dominates** at θ when the lower bound is > 0 under every population mix (and every mix has
  data) and honest work is individually rational (the lower bound of ``π_honest − outside option``
  is ≥ 0 under every mix);
* **fails** when the upper bound is < 0 under some mix (or honest work is not rational there);
* is **uncertain** otherwise — more replications would tell.

Only runs with status ``ok`` count; failed runs are reported separately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

DOMINATES, UNCERTAIN, FAILS = "dominates", "uncertain", "fails"
ID_COLUMNS = ("run_id", "point", "mix", "replication", "seed", "status", "error")
#: The quantities classified: column in the results table → name in the output.
MARGINS = {
    "margin_trainers": "trainers",
    "margin_validators": "validators",
    "honest_surplus": "participation",
}


def parameter_columns(results: pd.DataFrame) -> list[str]:
    """The varied parameters: the results' dotted-key columns."""
    return [c for c in results.columns if "." in c and c not in ID_COLUMNS]


def with_honest_surplus(results: pd.DataFrame, outside_option: float) -> pd.DataFrame:
    """Add ``honest_surplus = pi_honest − outside_option`` (per round per unit of capital)."""
    return results.assign(honest_surplus=results["pi_honest"] - outside_option)


def interval(values: pd.Series, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, sd, one-sided lower bound, one-sided upper bound, n) of ``values`` (NaNs dropped).

    With one value, or none, the bounds are −inf and +inf: nothing can be concluded.
    """
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    if n == 0:
        return np.nan, np.nan, -np.inf, np.inf, 0
    mean = float(v.mean())
    if n == 1:
        return mean, np.nan, -np.inf, np.inf, 1
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(confidence, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half, n


TRAINER_DEVIATIONS = ("lazy", "sybil", "poisoning")


def margin_samples(group: pd.DataFrame) -> pd.Series:
    """The trainers' margin per replication at one (point, mix): π_honest − π of the best deviation.

    The best deviation is the one with the highest *mean* payoff at this point (DESIGN.md §5:
    ``Δ = π_honest − max_s π_s``); taking the maximum run by run instead would overstate the
    deviation's payoff (the mean of a maximum exceeds the maximum of means).
    """
    means = {d: group[f"pi_{d}"].mean() for d in TRAINER_DEVIATIONS if f"pi_{d}" in group}
    means = {d: m for d, m in means.items() if not pd.isna(m)}
    if not means:
        return pd.Series(np.nan, index=group.index)
    best = max(means, key=means.get)
    return group["pi_honest"] - group[f"pi_{best}"]


def point_statistics(
    results: pd.DataFrame, confidence: float = 0.95, outside_option: float = 0.0
) -> pd.DataFrame:
    """One row per (parameter point, mix): for each margin its mean, sd, bounds and replications.

    Columns ``<name>_mean``, ``<name>_sd``, ``<name>_lower``, ``<name>_upper``, ``<name>_n`` for
    ``trainers`` (π_honest minus the best deviation, see :func:`margin_samples`), ``validators``
    and ``participation`` (π_honest − outside option), plus every ``pi_<strategy>`` mean, indexed
    by the parameter columns and ``mix``.
    """
    ok = with_honest_surplus(results[results["status"] == "ok"], outside_option)
    keys = [*parameter_columns(results), "mix"]
    rows = []
    pi_columns = [c for c in ok.columns if c.startswith("pi_")]
    for key, group in ok.groupby(keys, sort=True, dropna=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        samples = {
            "trainers": margin_samples(group),
            "validators": group["margin_validators"],
            "participation": group["honest_surplus"],
        }
        for name, values in samples.items():
            mean, sd, lower, upper, n = interval(values, confidence)
            row |= {f"{name}_mean": mean, f"{name}_sd": sd, f"{name}_lower": lower, f"{name}_upper": upper}
            row[f"{name}_n"] = n
        row |= {c: float(group[c].mean()) for c in pi_columns}
        rows.append(row)
    return pd.DataFrame(rows)


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


def classify(results: pd.DataFrame, confidence: float = 0.95, outside_option: float = 0.0) -> pd.DataFrame:
    """One row per parameter point, robust over the mixes.

    Columns: the parameters; ``trainers``, ``validators`` and ``participation`` — each
    dominates / uncertain / fails — with the worst case over mixes of the mean and of each bound
    (``<name>_mean``, ``_lower``, ``_upper``: the smallest over mixes, so a boundary drawn from them
    agrees with the verdict); ``honesty`` — the verdict for trainers and participation together
    (honest trainers beat every deviation and honest work pays at least the outside option);
    ``honesty_all`` — the same with validators too; and ``mixes`` (how many mixes had data).
    """
    per_mix = point_statistics(results, confidence, outside_option)
    params = parameter_columns(results)
    expected_mixes = results["mix"].nunique()
    rows = []
    for key, group in per_mix.groupby(params, sort=True, dropna=False) if params else [((), per_mix)]:
        row = dict(zip(params, key if isinstance(key, tuple) else (key,), strict=True))
        row["mixes"] = len(group)
        for name in MARGINS.values():
            row[name] = classify_bounds(
                group[f"{name}_lower"],
                group[f"{name}_upper"],
                mixes_missing=len(group) < expected_mixes,
                strict=name != "participation",  # individual rationality: π_honest ≥ outside option
            )
            for stat in ("mean", "lower", "upper"):
                row[f"{name}_{stat}"] = float(group[f"{name}_{stat}"].min())
        row["honesty"] = combine(row["trainers"], row["participation"])
        row["honesty_all"] = combine(row["trainers"], row["participation"], row["validators"])
        rows.append(row)
    return pd.DataFrame(rows)


def combine(*verdicts: str) -> str:
    """All must dominate to dominate; any failure fails; otherwise uncertain."""
    if FAILS in verdicts:
        return FAILS
    if all(v == DOMINATES for v in verdicts):
        return DOMINATES
    return UNCERTAIN
