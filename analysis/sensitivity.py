"""Which parameters matter: Sobol' indices from a Saltelli sample, and a ranking for any design.

Sobol' indices split the variance of a model output Y among independent inputs X_1 … X_d:

* the first-order index S_i = Var(E[Y | X_i]) / Var(Y) is the share of the variance X_i explains on
  its own;
* the total index ST_i = E[Var(Y | X_~i)] / Var(Y) is the share X_i takes part in at all, alone or
  through interactions. ST_i − S_i measures its interactions, and ST_i ≈ 0 means X_i may be fixed
  anywhere in its range without changing Y.

Both are fractions of Var(Y) (dimensionless, nominally in [0, 1]; estimates can stray slightly
outside). ``sobol_indices`` estimates them from the outputs of a Saltelli sample (Saltelli et al. 2010,
"Variance based sensitivity analysis of model output", Computer Physics Communications 181, 259–270);
``rank_parameters`` is a cruder first-order ranking — the correlation ratio eta² — that works on the
outputs of any design (a grid, a Latin hypercube, a Monte-Carlo sample).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

SOBOL_COLUMNS = ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]


def sobol_indices(
    y: np.ndarray | Sequence[float],
    n_base: int,
    names: Sequence[str],
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol' indices, with bootstrap confidence intervals.

    ``y`` holds the model outputs of a Saltelli sample with ``n_base`` base rows and one parameter per
    entry of ``names``, in blocks of ``n_base``: A, B, then AB_1 … AB_d (AB_i is A with column i taken
    from B), so len(y) = n_base·(d + 2) — the order of ``analysis.sweep.designs.unit_sample("saltelli", …)``.

    S1 uses the Saltelli (2010) estimator mean(f(B)·(f(AB_i) − f(A))) / Var(Y) and ST the Jansen
    estimator mean((f(A) − f(AB_i))²) / (2·Var(Y)), Var(Y) being the variance of the A and B outputs
    together (and f centred on their mean, so that adding a constant to y changes nothing).

    The ``*_low``/``*_high`` columns bound a percentile bootstrap interval at level ``confidence``:
    ``n_bootstrap`` resamples of the base rows with replacement, drawn from ``seed``, each using the
    same rows in A, B and every AB_i. Returns one row per name (the index), columns S1, S1_low, S1_high,
    ST, ST_low, ST_high.
    """
    names = list(names)
    f_a, f_b, f_ab = _saltelli_blocks(np.asarray(y, dtype=float), n_base, names)
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if np.var(np.concatenate([f_a, f_b])) == 0.0:
        raise ValueError("the outputs of A and B are all equal: Var(Y) = 0, so the indices are undefined")
    first, total = _first_and_total(f_a, f_b, f_ab)
    rng = np.random.default_rng(seed)
    first_boot = np.empty((n_bootstrap, len(names)))
    total_boot = np.empty((n_bootstrap, len(names)))
    for r in range(n_bootstrap):
        rows = rng.integers(0, n_base, size=n_base)
        first_boot[r], total_boot[r] = _first_and_total(f_a[rows], f_b[rows], f_ab[:, rows])
    tails = [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0]
    # A resample may repeat one row throughout (Var(Y) = 0, indices NaN); nanquantile skips those.
    first_low, first_high = np.nanquantile(first_boot, tails, axis=0)
    total_low, total_high = np.nanquantile(total_boot, tails, axis=0)
    table = np.column_stack([first, first_low, first_high, total, total_low, total_high])
    return pd.DataFrame(table, index=pd.Index(names, name="parameter"), columns=SOBOL_COLUMNS)


def rank_parameters(x: pd.DataFrame, y: np.ndarray | pd.Series, bins: int = 10) -> pd.DataFrame:
    """Parameters ranked by how much of the variance of ``y`` each explains on its own.

    For each column of ``x`` (one row per run, aligned with ``y``): ``eta2``, the correlation ratio
    Var(E[y | bin of x_i]) / Var(y) — a first-order index estimated by grouping the rows into ``bins``
    quantile bins of x_i (or by value, when the column has at most ``bins`` distinct values) — and
    ``spearman``, the rank correlation of x_i with y, whose sign gives the direction of a monotone
    effect. eta2 also sees non-monotone effects that spearman misses; with few rows per bin it is biased
    upwards by about (bins − 1) / len(y). Sorted by eta2, descending; NaN when y or the column is
    constant.
    """
    if not isinstance(x, pd.DataFrame):
        raise TypeError(f"x must be a pandas DataFrame, got {type(x).__name__}")
    outcome = np.asarray(y, dtype=float)
    if outcome.shape != (len(x),):
        raise ValueError(
            f"y must be one-dimensional with len(x) = {len(x)} values, got shape {outcome.shape}"
        )
    _reject_nan(outcome, "y")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    rows = {}
    for column in x.columns:
        values = x[column].to_numpy(dtype=float)
        _reject_nan(values, f"column {column!r} of x")
        rows[column] = {
            "eta2": correlation_ratio(bin_labels(values, bins), outcome),
            "spearman": _spearman(values, outcome),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["eta2", "spearman"])
    return table.rename_axis("parameter").sort_values("eta2", ascending=False, kind="stable")


def bin_labels(values: np.ndarray, bins: int) -> np.ndarray:
    """A bin number 0, 1, … for each value: by value when there are at most ``bins`` distinct values,
    else by ``bins`` quantile bins (fewer when ties make quantiles coincide)."""
    distinct = np.unique(values)
    if len(distinct) <= bins:
        return np.searchsorted(distinct, values)
    inner_edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    return np.searchsorted(inner_edges, values, side="right")


def correlation_ratio(labels: np.ndarray, y: np.ndarray) -> float:
    """eta² = between-group sum of squares / total sum of squares of ``y``, grouped by ``labels``
    (non-negative integers); NaN when ``y`` is constant."""
    counts = np.bincount(labels)
    sums = np.bincount(labels, weights=y)
    used = counts > 0
    group_means = sums[used] / counts[used]
    mean = y.mean()
    total = float(((y - mean) ** 2).sum())
    if total == 0.0:
        return float("nan")
    return float((counts[used] * (group_means - mean) ** 2).sum() / total)


def _saltelli_blocks(
    y: np.ndarray, n_base: int, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(A), f(B) (each n_base values) and f(AB) (d × n_base), after checking the shape of ``y``."""
    d = len(names)
    if d == 0:
        raise ValueError("names is empty: there must be at least one parameter")
    if len(set(names)) != d:
        raise ValueError(f"names must be unique, got {names}")
    if n_base < 2:
        raise ValueError(f"n_base must be at least 2, got {n_base}")
    if y.ndim != 1 or len(y) != n_base * (d + 2):
        raise ValueError(
            f"y has {y.size} values but a Saltelli sample with n_base = {n_base} and {d} parameters "
            f"has n_base·(d + 2) = {n_base * (d + 2)} (blocks A, B, AB_1 … AB_{d})"
        )
    _reject_nan(y, "y")
    return y[:n_base], y[n_base : 2 * n_base], y[2 * n_base :].reshape(d, n_base)


def _first_and_total(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The S1 (Saltelli 2010) and ST (Jansen) estimates, one per row of ``f_ab``; NaN if Var(Y) = 0."""
    both = np.concatenate([f_a, f_b])
    variance = np.var(both, ddof=1)
    if variance == 0.0:
        nan = np.full(len(f_ab), np.nan)
        return nan, nan.copy()
    # Centring leaves S1's expectation alone but removes the c·mean(f(AB_i) − f(A)) noise an offset c
    # in the outputs would add (large for outputs such as token balances, whose mean dwarfs their spread).
    centre = both.mean()
    f_a, f_b, f_ab = f_a - centre, f_b - centre, f_ab - centre
    first = np.mean(f_b * (f_ab - f_a), axis=1) / variance
    total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=1) / variance
    return first, total


def _spearman(values: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation, NaN (without scipy's warning) when either input is constant."""
    if np.ptp(values) == 0.0 or np.ptp(y) == 0.0:
        return float("nan")
    return float(stats.spearmanr(values, y).statistic)


def _reject_nan(values: np.ndarray, what: str) -> None:
    """Raise ValueError saying how many NaN ``values`` holds, if any."""
    missing = int(np.isnan(values).sum())
    if missing:
        raise ValueError(
            f"{what} contains {missing} NaN value(s) out of {values.size}; drop or fill them first"
        )
