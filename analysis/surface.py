"""Boundaries of a sampled design: a fitted margin surface and its zero contour, with a bootstrap band.

A Latin hypercube, Sobol' or Monte Carlo design has no grid to read a boundary off, and binning its
points onto one blurs the boundary by half a bin. Instead the margin is smoothed:

* **local-linear regression** (LOESS-style, Gaussian kernel) of each mix's per-point mean margin on
  the axes scaled onto [0, 1] (on their sweep scale, so a log axis is smoothed in log space). A
  local-linear fit is unbiased where the margin is linear and keeps the boundary's position at
  the edges of the range, where a plain kernel average is pulled inwards;
* the **bandwidth** is chosen by leave-one-out cross-validation among :data:`BANDWIDTHS`;
* the worst mix's fitted margin (the smallest over mixes, as for a grid) is evaluated on a fine grid
  in x at each y level; its zero crossing is the boundary (``boundaries.boundary_row``'s rule);
* the **band** is the 2.5–97.5 % percentile interval of the boundary over a bootstrap of the design
  points (resampled with replacement, refitted with the same bandwidth). A bootstrap sample with no
  crossing counts as beyond the range on the side its sign says, so the band can be open (±inf).

Other numeric axes of the design are not held fixed: the fit averages over them. A mix with fewer
than :data:`MIN_POINTS` points with a value cannot be fitted and is left out of the worst case; the
caller names such mixes (``analysis.findings`` adds a note).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.boundaries import ABOVE, BELOW, INSIDE, boundary_row

METHOD = "local-linear (Gaussian kernel) regression on the unit-scaled axes"
BANDWIDTHS = (0.04, 0.06, 0.09, 0.13, 0.2, 0.3, 0.5)
#: Points on the fine grid in x (the unit interval) where the fitted surface is evaluated.
GRID_POINTS = 201
#: The same for each bootstrap refit (a smooth fit's crossing interpolates well on a coarser grid).
BOOTSTRAP_GRID_POINTS = 51
#: Bootstrap resamples of the design points, fewer for very large designs (see :func:`resamples`).
BOOTSTRAP = 200
#: Rows of the evaluation grid handled at once (bounds the memory of the kernel weights).
CHUNK = 512
#: Fewest points a mix needs for its surface to be fitted (a local plane in two axes needs three).
MIN_POINTS = 3


def local_linear(
    points: np.ndarray, values: np.ndarray, at: np.ndarray, bandwidth: float, counts: np.ndarray | None = None
) -> np.ndarray:
    """The local-linear fit of ``values`` observed at ``points`` (n × d, unit-scaled), at ``at``.

    Each evaluation point ``a`` gets a weighted least-squares plane through the data, with Gaussian
    weights ``exp(−|u − a|² / (2 h²))`` (times ``counts``, how often each point is drawn in a
    bootstrap resample); its intercept is the fit. The weighted sums are formed as matrix products
    of the kernel with the data's moments (1, u, u uᵀ, v, v u) and centred at ``a`` afterwards.
    """
    points, at = np.atleast_2d(points), np.atleast_2d(at)
    n, d = points.shape
    counts = np.ones(n) if counts is None else np.asarray(counts, float)
    outer = (points[:, :, None] * points[:, None, :]).reshape(n, d * d)
    moments = np.column_stack([np.ones(n), points, outer, values, values[:, None] * points]) * counts[:, None]
    out = np.empty(len(at))
    for start in range(0, len(at), CHUNK):
        a = at[start : start + CHUNK]
        squared = np.sum(a**2, axis=1)[:, None] + np.sum(points**2, axis=1)[None, :] - 2 * a @ points.T
        m = np.exp(-0.5 * np.maximum(squared, 0.0) / bandwidth**2) @ moments
        s0, s1 = m[:, 0], m[:, 1 : 1 + d]
        s2 = m[:, 1 + d : 1 + d + d * d].reshape(-1, d, d)
        t0, t1 = m[:, 1 + d + d * d], m[:, 2 + d + d * d :]
        # Centre the sums at a: Σw(u − a) and Σw(u − a)(u − a)ᵀ, Σw·v·(u − a).
        c1 = s1 - a * s0[:, None]
        c2 = (
            s2
            - a[:, :, None] * s1[:, None, :]
            - s1[:, :, None] * a[:, None, :]
            + s0[:, None, None] * (a[:, :, None] * a[:, None, :])
        )
        r1 = t1 - a * t0[:, None]
        gram = np.empty((len(a), d + 1, d + 1))
        gram[:, 0, 0], gram[:, 0, 1:], gram[:, 1:, 0], gram[:, 1:, 1:] = s0, c1, c1, c2
        gram += 1e-10 * np.maximum(s0, 1e-300)[:, None, None] * np.eye(d + 1)[None]
        rhs = np.column_stack([t0, r1])
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            try:
                out[start : start + len(a)] = np.linalg.solve(gram, rhs[..., None])[:, 0, 0]
            except np.linalg.LinAlgError:
                out[start : start + len(a)] = np.nan
    return out


def leave_one_out_error(points: np.ndarray, values: np.ndarray, bandwidth: float) -> float:
    """Mean squared leave-one-out error of the local-linear fit (via the smoother's diagonal)."""
    points = np.atleast_2d(points)
    offsets = points[None, :, :] - points[:, None, :]
    weights = np.exp(-0.5 * np.sum(offsets**2, axis=2) / bandwidth**2)
    design = np.concatenate([np.ones((*offsets.shape[:2], 1)), offsets], axis=2)
    gram = np.einsum("mn,mni,mnj->mij", weights, design, design)
    gram += 1e-10 * np.eye(gram.shape[1])[None] * weights.sum(axis=1)[:, None, None]
    rhs = np.einsum("mn,mni,n->mi", weights, design, values)
    try:
        inverse = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return math.inf
    fit = np.einsum("mi,mi->m", inverse[:, 0, :], rhs)
    leverage = inverse[:, 0, 0] * 1.0  # the point's own weight is exp(0) = 1, its offset 0
    residual = (values - fit) / (1.0 - leverage)
    if not np.all(np.isfinite(residual)) or np.any(leverage >= 1.0 - 1e-9):
        return math.inf
    return float(np.mean(residual**2))


#: Most points the bandwidth is cross-validated on (a random subset of larger designs).
MAX_CV_POINTS = 1500


def choose_bandwidth(points: np.ndarray, values: np.ndarray, rng: np.random.Generator) -> float:
    """The bandwidth among :data:`BANDWIDTHS` with the smallest leave-one-out error.

    Designs larger than :data:`MAX_CV_POINTS` are cross-validated on a random subset of that size.
    """
    if len(values) > MAX_CV_POINTS:
        keep = rng.choice(len(values), MAX_CV_POINTS, replace=False)
        points, values = points[keep], values[keep]
    errors = [leave_one_out_error(points, values, h) for h in BANDWIDTHS]
    best = int(np.argmin(errors))
    return BANDWIDTHS[best] if math.isfinite(errors[best]) else BANDWIDTHS[-1]


def resamples(n_points: int, n_evaluations: int) -> int:
    """Bootstrap resamples: :data:`BOOTSTRAP`, fewer (at least 50) when each refit is costly."""
    return int(max(50, min(BOOTSTRAP, 2e8 // max(n_points * n_evaluations, 1))))


@dataclass(frozen=True)
class MixData:
    """One mix's per-point mean margin at unit-scaled coordinates (rows with a value only)."""

    points: np.ndarray
    """n × d coordinates in [0, 1]; the first column is x."""
    values: np.ndarray
    """n mean margins."""


def worst_fit(mixes: list[MixData], bandwidths: list[float], at: np.ndarray, counts=None) -> np.ndarray:
    """The smallest over mixes of each mix's fitted surface at ``at`` (``counts``: draws per point)."""
    fits = [
        local_linear(mix.points, mix.values, at, h, None if counts is None else counts[i])
        for i, (mix, h) in enumerate(zip(mixes, bandwidths, strict=True))
    ]
    return np.min(fits, axis=0)


def fitted_boundaries(
    mixes: list[MixData], y_levels_unit: list[float | None], rising: bool, rng: np.random.Generator
) -> tuple[list[dict], int, list[float]]:
    """Per y level (unit-scaled; None for a 1-D fit): the boundary of the worst mix's fitted margin.

    Returns (rows in unit x — ``boundary_row``'s columns with the band from the bootstrap —, the
    bootstrap resamples used, the bandwidth chosen per mix fitted). Mixes with fewer than
    :data:`MIN_POINTS` points are left out (see :func:`too_few_points`); with none left, every row
    is ``no data``.
    """
    mixes = [m for m in mixes if not too_few_points(m)]
    if not mixes:
        return (
            [boundary_row(np.array([]), np.array([]), np.array([]), np.array([]), rising)]
            * len(y_levels_unit),
            0,
            [],
        )
    bandwidths = [choose_bandwidth(m.points, m.values, rng) for m in mixes]
    xs = np.linspace(0.0, 1.0, GRID_POINTS)
    at = _evaluation_grid(xs, y_levels_unit)
    surface = worst_fit(mixes, bandwidths, at).reshape(len(y_levels_unit), len(xs))
    rows = [boundary_row(xs, surface[k], surface[k], surface[k], rising) for k in range(len(y_levels_unit))]
    coarse = np.linspace(0.0, 1.0, BOOTSTRAP_GRID_POINTS)
    at = _evaluation_grid(coarse, y_levels_unit)
    n_boot = resamples(max(len(m.values) for m in mixes), len(at))
    draws = np.empty((n_boot, len(y_levels_unit)))
    for b in range(n_boot):
        counts = [
            np.bincount(rng.integers(0, len(m.values), len(m.values)), minlength=len(m.values)) for m in mixes
        ]
        fit = worst_fit(mixes, bandwidths, at, counts).reshape(len(y_levels_unit), len(coarse))
        draws[b] = [_position(coarse, fit[k], rising) for k in range(len(y_levels_unit))]
    for k, row in enumerate(rows):
        low, high = np.quantile(draws[:, k], [0.025, 0.975], method="inverted_cdf")
        if row["where"] == INSIDE:
            row["band_low"], row["band_high"] = float(low), float(high)
    return rows, n_boot, bandwidths


def too_few_points(mix: MixData) -> bool:
    """Whether ``mix`` has too few points (fewer than :data:`MIN_POINTS`) to fit its surface."""
    return len(mix.values) < MIN_POINTS


def _evaluation_grid(xs: np.ndarray, y_levels_unit: list[float | None]) -> np.ndarray:
    if y_levels_unit == [None]:
        return xs[:, None]
    return np.array([[x, y] for y in y_levels_unit for x in xs])


def _position(xs: np.ndarray, fitted: np.ndarray, rising: bool) -> float:
    """The boundary of one bootstrap fit as a number: ±inf past either end of the range."""
    row = boundary_row(xs, fitted, fitted, fitted, rising)
    if row["where"] == INSIDE:
        return row["estimate"]
    if row["where"] == BELOW:
        return -math.inf
    if row["where"] == ABOVE:
        return math.inf
    return math.nan
