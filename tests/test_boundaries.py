"""Zero crossings in either direction, their bands' coverage, and the fitted surface of sampled designs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import boundaries, dominance, surface
from analysis.boundaries import FALLING, RISING, band_around, crossings


@st.composite
def piecewise_linear_with_roots(draw):
    """(x, v, roots, first direction): samples of a piecewise-linear function whose roots are drawn
    first. Knots m_0 < r_1 < m_1 < … < r_k < m_k alternate in sign; on [m_{j−1}, m_j] the function
    is the line through zero at r_j, so sampling at the knots (and anywhere between them) and
    interpolating recovers it exactly."""
    k = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=2 * k + 1, max_size=2 * k + 1, unique=True)))
    if min(np.diff(cuts)) < 1e-3:
        cuts = list(np.linspace(0, 1, 2 * k + 1))
    knots, roots = cuts[0::2], cuts[1::2]
    sign = draw(st.sampled_from([-1.0, 1.0]))
    slope = draw(st.floats(0.1, 10.0))
    values = [sign * -slope * (roots[0] - knots[0])]
    for j, r in enumerate(roots):  # on segment j the line through (r, 0) with this slope
        direction = sign if j % 2 == 0 else -sign
        values.append(direction * slope * (knots[j + 1] - r))
        if j + 1 < len(roots):
            slope = abs(values[-1]) / (roots[j + 1] - knots[j + 1])
    extra = draw(st.lists(st.floats(0.0, 1.0), max_size=10))
    xs = np.array(sorted(set(knots) | {e for e in extra if knots[0] < e < knots[-1]}))
    return xs, np.interp(xs, knots, values), roots, RISING if sign > 0 else FALLING


@settings(max_examples=200, deadline=None)
@given(piecewise_linear_with_roots())
def test_every_root_of_a_piecewise_linear_function_is_found_with_its_direction(case):
    xs, v, roots, first = case
    found = crossings(xs, v)
    assert [c.x for c in found] == pytest.approx(roots, abs=1e-9)
    directions = [c.direction for c in found]
    assert directions[0] == first
    assert all(a != b for a, b in itertools.pairwise(directions))  # they alternate


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 1) | st.just(math.nan), min_size=1, max_size=15),
    st.lists(st.integers(1, 5), min_size=15, max_size=15),
)
def test_each_crossing_lies_between_neighbouring_points_of_opposite_sign(values, steps):
    xs = np.cumsum(steps[: len(values)]).astype(float)  # increasing whole numbers, gaps of 1 to 5
    v = np.array(values)
    known = xs[~np.isnan(v)]
    for c in crossings(xs, v):
        assert c.left <= c.x <= c.right
        i = int(np.searchsorted(known, c.left))
        assert known[i] == c.left and known[i + 1] == c.right  # neighbours among the points with values
        left, right = v[xs == c.left][0], v[xs == c.right][0]
        assert (left < 0) != (right < 0) and c.direction == (RISING if left < 0 else FALLING)


def test_thresholds_and_boundaries_name_the_two_levels_the_sign_changes_between():
    table = pd.DataFrame(
        {
            "strikes": [0, 1, 2, 4],
            "trainers_mean": [-0.3, -0.1, 0.2, 0.4],
            "participation_mean": [0.3, 0.2, 0.1, -0.1],
        }
    )
    for name in ("trainers", "participation"):
        table[f"{name}_band_lower"] = table[f"{name}_mean"] - 0.05
        table[f"{name}_band_upper"] = table[f"{name}_mean"] + 0.05
    t = boundaries.thresholds(table, "strikes").set_index("name")
    assert t.loc["deterrence", "estimate"] == pytest.approx(1 + 0.1 / 0.3)
    assert (t.loc["deterrence", "between_low"], t.loc["deterrence", "between_high"]) == (1, 2)
    assert (t.loc["participation", "between_low"], t.loc["participation", "between_high"]) == (2, 4)
    row = boundaries.boundary(table, "strikes", None, "participation", rising=False).iloc[0]
    assert (row["between_low"], row["between_high"]) == (2, 4)


def test_crossings_skip_nans_and_handle_touching_zero_and_infinite_bounds():
    # Between the two points with values either side of the NaN: they are the crossing's neighbours.
    assert crossings([0, 1, 2, 3], [-1, np.nan, 1, 1]) == [boundaries.Crossing(1.0, RISING, 0.0, 2.0)]
    touch = crossings([0, 1, 2], [1.0, 0.0, 1.0])
    assert touch == []  # zero is non-negative: touching zero is no change of sign
    dip = crossings([0, 1, 2], [-1.0, 0.0, -1.0])
    assert [(c.x, c.direction) for c in dip] == [(1.0, RISING), (1.0, FALLING)]
    assert crossings([0, 1], [-math.inf, 2.0]) == [boundaries.Crossing(1.0, RISING, 0.0, 1.0)]
    assert crossings([0, 1], [2.0, -math.inf]) == [boundaries.Crossing(0.0, FALLING, 0.0, 1.0)]


def test_boundary_row_prefers_the_expected_direction_and_reports_the_others():
    xs = np.linspace(0, 1, 11)
    mean = np.array([1, 1, -1, -1, -1, 1, 1, 1, 1, 1, 1], float)  # falls at 0.15, rises at 0.45
    row = boundaries.boundary_row(xs, mean, mean - 0.1, mean + 0.1, rising=True)
    assert row["estimate"] == pytest.approx(0.45) and row["direction"] == RISING and row["crossings"] == 2
    flat = boundaries.boundary_row(xs, np.ones(11), np.ones(11), np.ones(11), rising=True)
    assert flat["where"] == boundaries.BELOW and math.isnan(flat["estimate"])
    empty = boundaries.boundary_row(xs, np.full(11, np.nan), np.full(11, np.nan), np.full(11, np.nan), True)
    assert empty["where"] == boundaries.NO_DATA


def test_band_ends_come_from_the_band_bounds_in_the_crossing_direction():
    xs = np.array([0.0, 1.0, 2.0, 3.0])
    mean = np.array([-2.0, -1.0, 1.0, 2.0])
    low, high = band_around(crossings(xs, mean)[0], xs, mean - 1.5, mean + 1.5)
    assert low == pytest.approx(0.5) and high == pytest.approx(2.5)  # upper bound first, lower last
    low, high = band_around(crossings(xs, mean)[0], xs, mean - 10, mean + 10)
    assert low == -math.inf and high == math.inf


def test_the_band_is_a_two_sided_95_percent_interval_for_the_crossing():
    """A linear margin m(x) = x − 0.5 sampled at x = 0 … 1 (0.5 is a grid point) with 5 noisy
    replications per point: the band built from the per-point two-sided 95 % intervals must cover
    the true crossing about 95 % of the time (a 90 % band, from one-sided 95 % bounds, covers ~90 %)."""
    rng = np.random.default_rng(2026)
    xs = np.linspace(0, 1, 11)
    reps, sims, sd = 5, 1500, 0.2
    covered = 0
    for _ in range(sims):
        samples = (xs - 0.5)[:, None] + rng.normal(0, sd, (len(xs), reps))
        stats = [dominance.interval(pd.Series(row), (1 + dominance.BAND) / 2) for row in samples]
        mean = np.array([s[0] for s in stats])
        lower = np.array([s[2] for s in stats])
        upper = np.array([s[3] for s in stats])
        row = boundaries.boundary_row(xs, mean, lower, upper, rising=True)
        covered += row["band_low"] <= 0.5 <= row["band_high"]
    assert covered / sims == pytest.approx(0.95, abs=0.02)  # ± 3.6 standard errors of the coverage


# -- the fitted surface ----------------------------------------------------------------------
def test_local_linear_matches_weighted_least_squares_and_is_exact_on_planes():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, (40, 2))
    values = np.sin(3 * points[:, 0]) + points[:, 1] ** 2
    at = np.array([[0.3, 0.6], [0.9, 0.1]])
    h = 0.2
    fitted = surface.local_linear(points, values, at, h)
    for a, got in zip(at, fitted, strict=True):
        w = np.exp(-0.5 * np.sum((points - a) ** 2, axis=1) / h**2)
        design = np.column_stack([np.ones(len(points)), points - a])
        coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], values * np.sqrt(w), rcond=None)[0]
        assert got == pytest.approx(coef[0], rel=1e-8)
    plane = 0.2 + 0.5 * points[:, 0] - 0.3 * points[:, 1]
    assert surface.local_linear(points, plane, at, 0.05) == pytest.approx(
        0.2 + 0.5 * at[:, 0] - 0.3 * at[:, 1]
    )
    counts = rng.integers(0, 3, len(points))
    repeated = np.repeat(np.arange(len(points)), counts)
    assert surface.local_linear(points, values, at, h, counts) == pytest.approx(
        surface.local_linear(points[repeated], values[repeated], at, h)
    )


def test_fitted_boundary_recovers_a_known_line_and_its_band_covers_it():
    rng = np.random.default_rng(7)
    n = 250
    points = rng.uniform(0, 1, (n, 2))
    margin = points[:, 0] - 0.3 - 0.1 * points[:, 1] + rng.normal(0, 0.02, n)
    levels = list(np.linspace(0, 1, 9))
    rows, n_boot, bandwidths = surface.fitted_boundaries(
        [surface.MixData(points, margin)], levels, rising=True, rng=np.random.default_rng(1)
    )
    assert n_boot == surface.BOOTSTRAP and len(bandwidths) == 1
    truth = 0.3 + 0.1 * np.array(levels)
    estimate = np.array([row["estimate"] for row in rows])
    low, high = np.array([row["band_low"] for row in rows]), np.array([row["band_high"] for row in rows])
    assert all(row["where"] == boundaries.INSIDE for row in rows)
    # Noise sd 0.02 per point, averaged by a kernel over dozens of points: 0.02 is several sd of the fit,
    # and a local-linear fit has no bias on a plane.
    assert np.abs(estimate - truth).max() < 0.02
    # Each level's band is a 95 % interval (neighbouring levels are correlated): most cover the
    # truth, and none misses it by more than a small fraction of its width.
    assert ((low <= truth) & (truth <= high)).sum() >= 7
    assert np.all(low - 0.25 * (high - low) <= truth) and np.all(truth <= high + 0.25 * (high - low))
