"""Aggregation rules (model.fl.aggregators) on hand-worked examples and their invariants, and the
cheating submissions they face (model.fl.attacks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from model.fl.aggregators import (
    AGGREGATORS,
    FOOLSGOLD_EPSILON,
    fedavg,
    foolsgold,
    foolsgold_weights,
    krum,
    krum_scores,
    median,
    multi_krum,
    trimmed_mean,
)
from model.fl.attacks import FREE_RIDERS, boost, flip_labels, free_rider_update, near_copies, sign_flip

# Krum, f = 1, n = 5 two-dimensional points; each score sums the n - f - 2 = 2 smallest squared
# distances to the others.
#
#   index  point    squared distances to the others     two nearest   score
#   0      (0, 0)   b 1, c 4, d 2, e 32                  1 + 2         3
#   1      (1, 0)   a 1, c 5, d 1, e 25                  1 + 1         2
#   2      (0, 2)   a 4, b 5, d 2, e 20                  2 + 4         6
#   3      (1, 1)   a 2, b 1, c 2, e 18                  1 + 2         3
#   4      (4, 4)   a 32, b 25, c 20, d 18               18 + 20       38
KRUM_POINTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [4.0, 4.0]])


def test_krum_scores_and_choice_by_hand():
    np.testing.assert_allclose(krum_scores(KRUM_POINTS, 1), [3.0, 2.0, 6.0, 3.0, 38.0], rtol=0, atol=1e-12)
    chosen = krum(KRUM_POINTS, 1)
    assert chosen.selected.tolist() == [1]
    np.testing.assert_array_equal(chosen.update, [1.0, 0.0])
    np.testing.assert_array_equal(chosen.weights, [0.0, 1.0, 0.0, 0.0, 0.0])


def test_krum_ties_go_to_the_lowest_index():
    # The unit square's corners all score 1 + 1 = 2 (two neighbours at distance 1); (5, 5) scores
    # 32 + 41 = 73.
    square = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    np.testing.assert_allclose(krum_scores(square, 1), [2.0, 2.0, 2.0, 2.0, 73.0], atol=1e-12)
    assert krum(square, 1).selected.tolist() == [0]


def test_multi_krum_averages_the_least_scores():
    # Scores 3, 2, 6, 3, 38: m = 2 takes index 1 (score 2), then index 0 (3, tied with index 3).
    two = multi_krum(KRUM_POINTS, 1, 2)
    assert two.selected.tolist() == [1, 0]
    np.testing.assert_allclose(two.update, [0.5, 0.0], atol=1e-15)
    np.testing.assert_allclose(two.weights, [0.5, 0.5, 0.0, 0.0, 0.0])
    three = multi_krum(KRUM_POINTS, 1, 3)
    assert three.selected.tolist() == [1, 0, 3]
    np.testing.assert_allclose(three.update, [2 / 3, 1 / 3], atol=1e-15)
    np.testing.assert_array_equal(multi_krum(KRUM_POINTS, 1, 1).update, krum(KRUM_POINTS, 1).update)
    np.testing.assert_allclose(multi_krum(KRUM_POINTS, 1, 5).update, KRUM_POINTS.mean(axis=0), atol=1e-15)


@pytest.mark.parametrize(("n", "f"), [(4, 1), (5, 2), (2, 0)])
def test_krum_needs_more_than_2f_plus_2_updates(n, f):
    with pytest.raises(ValueError, match=rf"n = {n} .* f = {f}"):
        krum(np.zeros((n, 3)), f)
    with pytest.raises(ValueError, match=rf"n = {n} .* f = {f}"):
        multi_krum(np.zeros((n, 3)), f, 1)


@pytest.mark.parametrize("m", [0, 6])
def test_multi_krum_m_must_lie_between_1_and_n(m):
    with pytest.raises(ValueError, match=f"m = {m}"):
        multi_krum(KRUM_POINTS, 1, m)


def test_median_and_trimmed_mean_odd_n_by_hand():
    updates = np.array([[1.0, 10.0], [2.0, -1.0], [3.0, 0.0], [100.0, 5.0], [-50.0, 7.0]])
    # Sorted columns: (-50, 1, 2, 3, 100) and (-1, 0, 5, 7, 10).
    np.testing.assert_array_equal(median(updates).update, [2.0, 5.0])
    # beta = 0.2: floor(0.2 x 5) = 1 dropped at each end: mean(1, 2, 3) and mean(0, 5, 7).
    np.testing.assert_allclose(trimmed_mean(updates, 0.2).update, [2.0, 4.0], atol=1e-15)


def test_median_and_trimmed_mean_even_n_by_hand():
    updates = np.array([[0.0], [1.0], [2.0], [3.0], [7.0], [100.0]])
    np.testing.assert_array_equal(median(updates).update, [2.5])  # mean of the middle two
    # beta = 0.2: floor(1.2) = 1 dropped at each end: mean(1, 2, 3, 7) = 3.25.
    np.testing.assert_allclose(trimmed_mean(updates, 0.2).update, [3.25], atol=1e-15)
    # beta = 0.45: floor(2.7) = 2 dropped at each end: mean(2, 3) = the median.
    np.testing.assert_allclose(trimmed_mean(updates, 0.45).update, [2.5], atol=1e-15)
    np.testing.assert_allclose(trimmed_mean(updates, 0.0).update, [113 / 6], atol=1e-13)


@pytest.mark.parametrize("beta", [-0.1, 0.5, 0.7])
def test_trimmed_mean_beta_must_lie_in_0_to_half(beta):
    with pytest.raises(ValueError, match="beta"):
        trimmed_mean(np.ones((4, 2)), beta)


def test_fedavg_with_sample_weights_by_hand():
    updates = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    # (1 (1, 0) + 2 (0, 1) + 1 (3, 3)) / 4 = (1, 1.25)
    result = fedavg(updates, np.array([1, 2, 1]))
    np.testing.assert_allclose(result.update, [1.0, 1.25], atol=1e-15)
    np.testing.assert_allclose(result.weights, [0.25, 0.5, 0.25])
    np.testing.assert_allclose(fedavg(updates, np.zeros(3)).update, [4 / 3, 4 / 3], atol=1e-15)
    np.testing.assert_allclose(fedavg(updates).update, [4 / 3, 4 / 3], atol=1e-15)


@pytest.mark.parametrize("weights", [[1.0, -1.0, 1.0], [1.0, 1.0], [1.0, np.nan, 1.0]])
def test_fedavg_refuses_bad_sample_weights(weights):
    with pytest.raises(ValueError, match="sample_weights"):
        fedavg(np.ones((3, 2)), np.array(weights))


def test_fedavg_moves_toward_two_identical_sybils():
    honest, sybil = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    result = fedavg(np.array([honest, sybil, sybil])).update
    np.testing.assert_allclose(result, (honest + 2 * sybil) / 3, atol=1e-15)
    assert np.linalg.norm(result - sybil) < np.linalg.norm(result - honest)


# FoolsGold, worked by hand: honest h1 = e1, h3 = e2 and h2 with cos(h1, h2) = a = 0.5 and
# cos(h2, h3) = b = 0.65 (h1 and h3 orthogonal); three Sybils, identical, along e4 (orthogonal to
# everyone honest). With eps = 1e-5 the largest similarities are v = (a, b, b, 1, 1, 1) + eps.
# Pardoning rescales cs_ij by v_i / v_j where v_i < v_j: only cs_12 changes, to a (a + eps) / (b + eps)
# (Sybil similarities with honest clients are 0 whatever the scale). So
#   alpha_1 = 1 - a (a + eps) / (b + eps)  ~ 0.6154,  alpha_2 = alpha_3 = 1 - b = 0.35,  Sybils 1 - 1 = 0;
# rescaled by alpha_1: 1 (-> 0.99), r = 0.35 / alpha_1 ~ 0.5688, 0; logit + 0.5, clipped to [0, 1]:
# ln(99) + 0.5 ~ 5.1 -> 1,  ln(r / (1 - r)) + 0.5 ~ 0.7768,  0.
# The reference code (DistributedML/FoolsGold, ML/code/model_aggregator.py) gives 1, 0.77677, 0 here:
# it also adds 1e-5 inside the logarithm, which this implementation leaves out.
A, B = 0.5, 0.65
FOOLSGOLD_HISTORIES = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [A, B, math.sqrt(1 - A * A - B * B), 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 2.0],
        [0.0, 0.0, 0.0, 2.0],
        [0.0, 0.0, 0.0, 2.0],
    ]
)


def test_foolsgold_weights_by_hand():
    eps = FOOLSGOLD_EPSILON
    alpha_1 = 1 - A * (A + eps) / (B + eps)
    r = (1 - B) / alpha_1
    honest_23 = math.log(r / (1 - r)) + 0.5
    assert 0.5 < honest_23 < 1  # the logit's middle range, not its clipped ends
    np.testing.assert_allclose(
        foolsgold_weights(FOOLSGOLD_HISTORIES), [1.0, honest_23, honest_23, 0.0, 0.0, 0.0], rtol=1e-12
    )


def test_foolsgold_zeroes_sybils_and_keeps_near_orthogonal_honest_clients():
    histories = np.array(
        [
            [1.0, 0.1, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.1, 0.0, 0.0],
            [0.1, 0.0, 1.0, 0.0, 0.0],
            [0.2, 0.0, 0.0, 1.0, 1.0],
            [0.2, 0.0, 0.0, 1.0, 1.0],
            [0.2, 0.0, 0.0, 1.0, 1.0],
        ]
    )
    weights = foolsgold_weights(histories)
    # Honest clients' largest similarity is ~0.1, so after rescaling all three sit near the top and
    # the logit clips them to 1, as the reference code does.
    np.testing.assert_array_equal(weights, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    updates = np.arange(30.0).reshape(6, 5)
    result = foolsgold(updates, histories)
    np.testing.assert_allclose(result.update, updates[:3].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(result.weights, [1 / 3, 1 / 3, 1 / 3, 0, 0, 0])


def test_foolsgold_all_alike_gives_a_zero_update_not_nan():
    history = np.tile([1.0, 2.0, 3.0], (4, 1))
    result = foolsgold(np.arange(12.0).reshape(4, 3), history)
    np.testing.assert_array_equal(result.update, np.zeros(3))
    np.testing.assert_array_equal(result.weights, np.zeros(4))


def test_foolsgold_single_client_and_zero_history():
    np.testing.assert_array_equal(foolsgold_weights(np.array([[3.0, 4.0]])), [1.0])
    weights = foolsgold_weights(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert np.all(np.isfinite(weights))
    np.testing.assert_array_equal(weights, [1.0, 1.0, 1.0])


def test_every_rule_is_registered_by_name():
    expected = {
        "fedavg": fedavg,
        "median": median,
        "trimmed_mean": trimmed_mean,
        "krum": krum,
        "multi_krum": multi_krum,
        "foolsgold": foolsgold,
    }
    assert expected == AGGREGATORS


def test_updates_must_be_a_nonempty_matrix():
    for bad in (np.zeros(3), np.zeros((0, 3))):
        with pytest.raises(ValueError, match="updates of shape"):
            median(bad)


# ---- invariants (hypothesis) ----

VALUES = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)


@st.composite
def update_sets(draw, min_n=1, max_n=9):
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, 4))
    return draw(arrays(np.float64, (n, d), elements=VALUES))


def close_to(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * (1 + scale))


@settings(max_examples=80, deadline=None)
@given(updates=update_sets(), data=st.data())
def test_coordinate_rules_and_fedavg_ignore_the_order(updates, data):
    order = np.array(data.draw(st.permutations(range(updates.shape[0]))))
    counts = data.draw(arrays(np.float64, updates.shape[0], elements=st.floats(0, 100)))
    beta = data.draw(st.floats(0, 0.49))
    scale = np.abs(updates).max()
    close_to(median(updates[order]).update, median(updates).update, scale)
    close_to(trimmed_mean(updates[order], beta).update, trimmed_mean(updates, beta).update, scale)
    close_to(fedavg(updates[order], counts[order]).update, fedavg(updates, counts).update, scale)
    close_to(foolsgold(updates[order], updates[order]).update, foolsgold(updates, updates).update, scale)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    f=st.integers(0, 2),
    extra=st.integers(1, 5),
    d=st.integers(1, 5),
    data=st.data(),
)
def test_krum_and_multi_krum_ignore_the_order(seed, f, extra, d, data):
    # Continuous random updates: distinct scores with probability 1. (Under an exact tie between
    # different updates the lowest index wins, so there the order matters by design.)
    rng = np.random.default_rng(seed)
    n = 2 * f + 2 + extra
    updates = rng.normal(size=(n, d)) * rng.uniform(0.1, 10)
    m = data.draw(st.integers(1, n))
    scores = np.sort(krum_scores(updates, f))
    assume(scores[1] - scores[0] > 1e-9 * scores[-1])
    assume(m == n or scores[m] - scores[m - 1] > 1e-9 * scores[-1])
    order = rng.permutation(n)
    scale = np.abs(updates).max()
    close_to(krum(updates[order], f).update, krum(updates, f).update, scale)
    close_to(multi_krum(updates[order], f, m).update, multi_krum(updates, f, m).update, scale)
    assert sorted(order[multi_krum(updates[order], f, m).selected]) == sorted(
        multi_krum(updates, f, m).selected
    )


@settings(max_examples=60, deadline=None)
@given(
    update=arrays(np.float64, st.integers(1, 5), elements=VALUES),
    n=st.integers(1, 9),
    beta=st.floats(0, 0.49),
)
def test_identical_updates_aggregate_to_themselves(update, n, beta):
    updates = np.tile(update, (n, 1))
    np.testing.assert_array_equal(median(updates).update, update)
    close_to(trimmed_mean(updates, beta).update, update, np.abs(update).max())
    if n > 2:
        f = (n - 3) // 2
        np.testing.assert_array_equal(krum(updates, f).update, update)
        close_to(multi_krum(updates, f, n).update, update, np.abs(update).max())


@settings(max_examples=80, deadline=None)
@given(updates=update_sets(), data=st.data())
def test_median_trimmed_mean_and_fedavg_stay_within_the_inputs(updates, data):
    beta = data.draw(st.floats(0, 0.49))
    counts = data.draw(arrays(np.float64, updates.shape[0], elements=st.floats(0, 100)))
    low, high = updates.min(axis=0), updates.max(axis=0)
    slack = 1e-12 * (1 + np.abs(updates).max())
    for result in (median(updates), trimmed_mean(updates, beta), fedavg(updates, counts)):
        assert np.all(result.update >= low - slack)
        assert np.all(result.update <= high + slack)


@settings(max_examples=60, deadline=None)
@given(updates=update_sets(), beta=st.floats(0, 0.49))
def test_trimmed_mean_agrees_with_scipy(updates, beta):
    close_to(
        trimmed_mean(updates, beta).update, stats.trim_mean(updates, beta, axis=0), np.abs(updates).max()
    )


@settings(max_examples=60, deadline=None)
@given(updates=update_sets(min_n=1, max_n=9), data=st.data())
def test_weights_are_a_distribution(updates, data):
    counts = data.draw(arrays(np.float64, updates.shape[0], elements=st.floats(0, 100)))
    for result in (fedavg(updates, counts), foolsgold(updates, updates)):
        assert np.all(result.weights >= 0)
        total = result.weights.sum()
        assert total == pytest.approx(1.0) or total == 0.0
    assert np.all((foolsgold_weights(updates) >= 0) & (foolsgold_weights(updates) <= 1))


# ---- attacks: the submissions the rules face ----


def test_flip_labels_reverses_the_classes():
    np.testing.assert_array_equal(flip_labels(np.array([0, 1, 2, 9]), 10), [9, 8, 7, 0])
    np.testing.assert_array_equal(flip_labels(flip_labels(np.arange(10), 10), 10), np.arange(10))
    with pytest.raises(ValueError, match="class indices"):
        flip_labels(np.array([0, 10]), 10)


def test_sign_flip_and_boost_scale_the_update():
    update = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(sign_flip(update, 4.0), [-4.0, 8.0, -2.0])
    np.testing.assert_array_equal(boost(update, 10.0), [10.0, -20.0, 5.0])


def test_free_riders_received_and_replay():
    delta = np.array([0.5, -1.0, 2.0])
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(free_rider_update("received", delta, 3, 1.0, 1.0, rng, 2), np.zeros((2, 3)))
    np.testing.assert_array_equal(free_rider_update("replay", delta, 3, 1.0, 1.0, rng, 2), [delta, delta])
    assert FREE_RIDERS == ("received", "replay", "noise")
    with pytest.raises(ValueError, match="'lazy'"):
        free_rider_update("lazy", delta, 0, 1.0, 1.0, rng, 2)


def test_disguised_free_riders_add_decaying_independent_noise():
    delta = np.linspace(-1, 1, 20_000)
    sigma, gamma, t = 2.0, 1.0, 3  # standard deviation 2 x 4^-1 = 0.5
    fakes = free_rider_update("noise", delta, t, sigma, gamma, np.random.default_rng(5), 2)
    noise = fakes - delta
    # Sample standard deviation of 20,000 normals: standard error 0.5 / sqrt(40,000) = 0.0025.
    assert noise.std(axis=1) == pytest.approx([0.5, 0.5], abs=0.0125)
    assert abs(np.corrcoef(noise)[0, 1]) < 0.05  # independent per party
    quiet = free_rider_update("noise", delta, 0, 0.0, 1.0, np.random.default_rng(5), 1)
    np.testing.assert_array_equal(quiet, [delta])


def test_near_copies():
    update = np.array([3.0, -4.0, 0.0, 5.0])  # rms = sqrt(50 / 4)
    np.testing.assert_array_equal(
        near_copies(update, 3, 0.0, np.random.default_rng(1)), np.tile(update, (3, 1))
    )
    np.testing.assert_array_equal(
        near_copies(np.zeros(4), 2, 0.3, np.random.default_rng(1)), np.zeros((2, 4))
    )
    big = np.random.default_rng(2).normal(size=40_000)
    copies = near_copies(big, 2, 0.1, np.random.default_rng(3))
    rms = np.sqrt(np.mean(big**2))
    assert (copies - big).std(axis=1) == pytest.approx([0.1 * rms] * 2, rel=0.03)
    assert near_copies(update, 0, 0.1, np.random.default_rng(1)).shape == (0, 4)
