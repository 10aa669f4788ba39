"""PRIM: recovers a known box, its statistics match their definitions, and ties/discrete columns work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from analysis.regions import box_contains, choose_step, find_box, find_boxes, peel_limits


def uniform_cube(n: int, columns: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.random((n, len(columns))), columns=columns)


def known_box(seed: int, noise: float) -> tuple[pd.DataFrame, np.ndarray]:
    """4000 points in [0, 1]^3, y True inside {x0 >= 0.3, x1 <= 0.6} with a share ``noise`` of labels
    flipped; x2 is irrelevant."""
    x = uniform_cube(4000, ["x0", "x1", "x2"], seed)
    truth = ((x["x0"] >= 0.3) & (x["x1"] <= 0.6)).to_numpy()
    flipped = np.random.default_rng(seed + 1000).random(len(x)) < noise
    return x, truth ^ flipped


def recomputed(box, x: pd.DataFrame, y: np.ndarray) -> tuple[float, float, float]:
    """(coverage, density, mass) of the box's limits, straight from the definitions."""
    inside = box_contains(box.limits, x)
    return (y & inside).sum() / y.sum(), (y & inside).sum() / inside.sum(), inside.mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_the_known_box_under_label_noise(seed):
    x, y = known_box(seed, noise=0.05)
    # Inside the true box the density is 0.95; a threshold just below it keeps PRIM from choosing a
    # looser box that still clears the bar.
    box = find_box(x, y, threshold=0.9)
    limits = box.limits
    assert limits.loc["x0", "low"] == pytest.approx(0.3, abs=0.05)
    assert limits.loc["x1", "high"] == pytest.approx(0.6, abs=0.05)
    assert limits.loc["x0", "restricted"] and limits.loc["x1", "restricted"]
    assert limits.loc["x2", "low"] <= 0.05 and limits.loc["x2", "high"] >= 0.95
    assert box.density >= 0.9
    assert box.coverage > 0.9


def test_a_pure_box_lies_inside_the_true_one():
    x, y = known_box(seed=3, noise=0.0)
    box = find_box(x, y, threshold=1.0)
    assert box.density == 1.0
    assert 0.3 <= box.limits.loc["x0", "low"] <= 0.35
    assert 0.55 <= box.limits.loc["x1", "high"] <= 0.6
    assert not box.limits.loc["x2", "restricted"]


def test_statistics_match_their_definitions():
    x, y = known_box(seed=4, noise=0.05)
    box = find_box(x, y)
    coverage, density, mass = recomputed(box, x, y)
    assert box.coverage == pytest.approx(coverage)
    assert box.density == pytest.approx(density)
    assert box.mass == pytest.approx(mass)
    assert box.n_points == box_contains(box.limits, x).sum()
    assert box.trajectory.loc[box.step, "coverage"] == box.coverage


def test_box_choice_follows_the_threshold_rule():
    x, y = known_box(seed=5, noise=0.05)
    box = find_box(x, y, threshold=0.8)
    trajectory = box.trajectory
    dense = trajectory[trajectory["density"] >= 0.8]
    assert box.density >= 0.8
    assert box.coverage == dense["coverage"].max()


def test_choose_step_falls_back_to_the_densest_box():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.9, 0.7, 0.5], "density": [0.2, 0.5, 0.6, 0.6]})
    assert choose_step(trajectory, threshold=0.9) == 2  # densest; the tie goes to higher coverage
    assert choose_step(trajectory, threshold=0.5) == 1  # highest coverage among density >= 0.5
    assert choose_step(trajectory, threshold=0.0) == 0


def test_trajectory_shrinks_and_respects_min_support():
    x, y = known_box(seed=6, noise=0.05)
    trajectory = find_box(x, y, peel_alpha=0.1, min_support=0.2).trajectory
    assert trajectory.loc[0, "mass"] == 1.0 and trajectory.loc[0, "coverage"] == 1.0
    assert (np.diff(trajectory["n_points"]) < 0).all()  # every peel removes at least one point
    assert (trajectory["mass"] >= 0.2).all()
    assert (np.diff(trajectory["coverage"]) <= 0).all()
    assert set(trajectory["side"].dropna()) <= {"low", "high"}


def test_no_positives_gives_no_box():
    x = uniform_cube(200, ["a", "b"], seed=7)
    assert find_box(x, np.zeros(len(x), dtype=bool)) is None
    assert find_boxes(x, np.zeros(len(x), dtype=bool)) == []


def test_discrete_columns_are_peeled_one_value_at_a_time():
    # A half-and-half binary switch decides the outcome: no alpha-quantile cut of a 0/1 column removes
    # anything, so only peeling the tied extreme value can find this box.
    rng = np.random.default_rng(8)
    x = pd.DataFrame(
        {
            "switch": rng.integers(0, 2, 2000),
            "level": rng.integers(0, 5, 2000),
            "noise": rng.random(2000),
        }
    )
    y = ((x["switch"] == 1) & (x["level"] >= 2)).to_numpy()
    box = find_box(x, y, threshold=1.0)
    assert box.density == 1.0 and box.coverage == 1.0
    assert box.limits.loc["switch", "low"] == 1.0
    assert box.limits.loc["level", "low"] == 2.0
    assert not box.limits.loc["noise", "restricted"]


def test_peel_limits_handle_ties_and_constants():
    assert peel_limits(np.arange(100.0), 0.05) == (5.0, 94.0)
    assert peel_limits(np.array([0.0] * 10 + [1.0] * 10), 0.05) == (1.0, 0.0)
    assert peel_limits(np.array([3.0, 3.0, 3.0]), 0.05) is None
    assert peel_limits(np.array([1.0, 2.0]), 0.05) == (2.0, 1.0)  # at least one point per peel


def test_find_boxes_covers_two_separate_regions():
    x = uniform_cube(4000, ["x0", "x1"], seed=9)
    first = (x["x0"] <= 0.3) & (x["x1"] <= 0.3)
    second = (x["x0"] >= 0.6) & (x["x1"] >= 0.6)
    y = (first | second).to_numpy()
    boxes = find_boxes(x, y, max_boxes=3, threshold=0.95)
    assert len(boxes) == 2  # nothing left to find after the two regions
    found = sorted(boxes, key=lambda b: b.limits.loc["x0", "low"])
    assert found[0].limits.loc["x0", "high"] == pytest.approx(0.3, abs=0.05)
    assert found[1].limits.loc["x0", "low"] == pytest.approx(0.6, abs=0.05)
    covered = box_contains(found[0].limits, x) | box_contains(found[1].limits, x)
    assert (y & covered).sum() / y.sum() > 0.9


def test_bad_input_is_refused():
    x = uniform_cube(50, ["a"], seed=10)
    with pytest.raises(ValueError, match="len\\(x\\) = 50"):
        find_box(x, np.ones(49, dtype=bool))
    with pytest.raises(ValueError, match="boolean"):
        find_box(x, np.full(50, 0.5))
    with pytest.raises(ValueError, match="peel_alpha"):
        find_box(x, np.ones(50, dtype=bool), peel_alpha=0.0)
    with pytest.raises(ValueError, match="1 NaN"):
        find_box(x.assign(a=[np.nan] + [0.0] * 49), np.ones(50, dtype=bool))


columns_of_data = st.integers(1, 3).flatmap(
    lambda d: st.integers(5, 60).flatmap(
        lambda n: st.tuples(
            hnp.arrays(
                float,
                (n, d),
                elements=st.one_of(st.integers(0, 3).map(float), st.floats(-10, 10, allow_nan=False)),
            ),
            hnp.arrays(bool, n),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(
    data=columns_of_data,
    peel_alpha=st.sampled_from([0.05, 0.2, 0.45]),
    threshold=st.floats(0, 1),
)
def test_statistics_are_fractions_and_the_limits_reproduce_the_mass(data, peel_alpha, threshold):
    values, y = data
    x = pd.DataFrame(values, columns=[f"p{i}" for i in range(values.shape[1])])
    box = find_box(x, y, peel_alpha=peel_alpha, threshold=threshold)
    if not y.any():
        assert box is None
        return
    for share in (box.coverage, box.density, box.mass):
        assert 0.0 <= share <= 1.0
    inside = box_contains(box.limits, x)
    assert inside.mean() == box.mass
    assert (y & inside).sum() / y.sum() == pytest.approx(box.coverage)
    assert (box.trajectory["mass"] >= 0.05).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_a_box_bounded_on_both_sides_of_two_columns(seed):
    # The reference the prim package was compared on (analysis/regions.py's docstring): 4000 uniform
    # points in [0, 1]^3, outcome inside [0.2, 0.6] x [0.3, 0.9] x [0, 1], 5 % of labels flipped.
    # Over 20 seeds the worst bound was 0.034 off; 0.05 is the width of one peel (peel_alpha).
    x = uniform_cube(4000, ["x0", "x1", "x2"], seed)
    inside = ((x["x0"] >= 0.2) & (x["x0"] <= 0.6) & (x["x1"] >= 0.3) & (x["x1"] <= 0.9)).to_numpy()
    y = inside ^ (np.random.default_rng(seed + 1000).random(len(x)) < 0.05)
    box = find_box(x, y, threshold=0.9)
    limits = box.limits
    assert limits.loc["x0", ["low", "high"]].tolist() == pytest.approx([0.2, 0.6], abs=0.05)
    assert limits.loc["x1", ["low", "high"]].tolist() == pytest.approx([0.3, 0.9], abs=0.05)
    assert not limits.loc["x2", "restricted"]
    # Positives outside the true box are noise (about 0.05 x 0.76 x 4000 = 152 of some 1060), so the
    # best coverage is about 0.86, and the density inside the true box is 0.95.
    assert box.coverage > 0.8 and 0.9 <= box.density <= 0.97
    assert box.mass == pytest.approx(0.24, abs=0.03)
    pd.testing.assert_frame_equal(find_box(x, y, threshold=0.9).limits, limits)  # deterministic
