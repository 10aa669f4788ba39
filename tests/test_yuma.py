"""Yuma Consensus against subtensor's own numbers, plus invariants of the mechanism.

The reference cases come from opentensor/subtensor (commit 14bc6f9f):
``pallets/subtensor/src/tests/math.rs`` (weighted median) and ``pallets/subtensor/src/tests/epoch.rs``
(``test_bonds`` and the ``test_yuma_3_*`` scenarios). UIDs, stakes, weight schedules and the asserted
values are transcribed; the chain's weights are u16, written here as such.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.yuma import U16_MAX, YumaParams, epoch, weighted_median, weighted_median_col

X = U16_MAX


def fixed(values) -> np.ndarray:
    """f32 literals as the Rust tests turn them into I32F32: float32, then the 2^-32 grid."""
    as_f32 = np.asarray(values, dtype=np.float32).astype(np.float64)
    return np.round(as_f32 * 2.0**32) / 2.0**32


def fixed_normalize(values: np.ndarray) -> np.ndarray:
    return np.floor(values / values.sum() * 2.0**32) / 2.0**32


# ---------------------------------------------------------------- weighted median (tests/math.rs)

ONE_MINUS_051 = float(fixed(1.0) - fixed(0.51))

MEDIAN_CASES = [
    # stake, score, expected; majority 0.51, minority = 1 - majority, as test_math_weighted_median
    ([], [], 0.0),
    ([0.49, 0.51], [0.5, 1.0], 1.0),
    ([0.51, 0.49], [0.5, 1.0], 0.5),
    ([0.49, 0.0, 0.51], [0.5, 0.7, 1.0], 1.0),
    ([0.49, 0.01, 0.5], [0.5, 0.7, 1.0], 0.7),
    ([0.49, 0.51, 0.0], [0.5, 0.7, 1.0], 0.7),
    ([0.0, 0.49, 0.51], [0.5, 0.7, 1.0], 1.0),
    ([0.0, 0.49, 0.0, 0.51], [0.5, 0.5, 1.0, 1.0], 1.0),
    ([0.0, 0.49, 0.0, 0.51, 0.0], [0.5, 0.5, 1.0, 1.0, 0.5], 1.0),
    ([0.2] * 5, [0.8, 0.2, 1.0, 0.6, 0.4], 0.6),
    ([0.1] * 10, [0.8, 0.8, 0.2, 0.2, 1.0, 1.0, 0.6, 0.6, 0.4, 0.4], 0.6),
]


@pytest.mark.parametrize(("stake", "score", "expected"), MEDIAN_CASES)
def test_weighted_median_matches_subtensor_cases(stake, score, expected):
    assert weighted_median(fixed(stake), fixed(score), ONE_MINUS_051) == fixed(expected)


def test_weighted_median_of_a_single_normalised_stake_is_its_score():
    assert weighted_median(fixed_normalize(fixed([0.51])), fixed([1.0]), ONE_MINUS_051) == 1.0


def _acceptable_medians(stake: np.ndarray, score: np.ndarray, minority: float) -> list[float]:
    """The set of answers test_math_weighted_median accepts, by its own scan over sorted scores."""
    medians: list[float] = []
    median_stake, median_set, stake_sum = 0.0, False, 0.0
    for s, v in zip(stake, score, strict=True):
        stake_sum += s
        if not median_set and stake_sum >= minority:
            median_stake, median_set = stake_sum, True
        if median_set:
            if median_stake < stake_sum:
                if median_stake == minority and v not in medians:
                    medians.append(v)
                break
            if v not in medians:
                medians.append(v)
    return medians or [0.0]


@settings(max_examples=60, deadline=None)
@given(
    majority=st.sampled_from([0.0, 0.0000001, 0.25, 0.49, 0.5, 0.51, 0.9999999, 1.0]),
    allow_equal=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_weighted_median_is_one_of_subtensor_accepted_medians(majority, allow_equal, seed):
    """test_math_weighted_median's randomised part: 100 sorted entries, any permutation."""
    rng = np.random.default_rng(seed)
    n = 100
    if allow_equal:
        stake = rng.integers(0, 2, n).astype(float)
        score = np.cumsum(rng.integers(0, 2, n)).astype(float)
    else:
        stake, score = np.ones(n), np.arange(n, dtype=float)
    if stake.sum() == 0:
        stake[0] = 1.0
    stake = fixed_normalize(stake)
    minority = max(stake.sum() - float(fixed(majority)), 0.0)
    accepted = _acceptable_medians(stake, score, minority)
    assert weighted_median(stake, score, minority) in accepted
    permutation = rng.permutation(n)
    assert weighted_median(stake[permutation], score[permutation], minority) in accepted


def test_weighted_median_col_matches_subtensor_cases():
    """test_math_weighted_median_col."""
    assert weighted_median_col(np.zeros(0), np.zeros((0, 0)), 0.5).shape == (0,)
    np.testing.assert_array_equal(weighted_median_col(fixed([0.0, 0.0]), np.zeros((2, 2)), 0.5), [0.0, 0.0])

    stake = fixed([0.0, 0.75, 0.25, 0.0])
    weights = fixed([0.0, 0.1, 0.0, 0.0, 0.2, 0.4, 0.0, 0.3, 0.1, 0.0, 0.4, 0.5]).reshape(4, 3)
    for majority, expected in ((0.24, [0.0, 0.3, 0.4]), (0.26, [0.0, 0.2, 0.4]), (0.76, [0.0, 0.2, 0.1])):
        np.testing.assert_array_equal(weighted_median_col(stake, weights, fixed(majority)), fixed(expected))

    stake = fixed([0.0, 0.3, 0.2, 0.5])
    weights = fixed([0.0, 0.1, 0.0, 0.0, 0.2, 0.4, 0.0, 0.3, 0.1, 0.0, 0.0, 0.5]).reshape(4, 3)
    np.testing.assert_array_equal(weighted_median_col(stake, weights, fixed(0.51)), fixed([0.0, 0.0, 0.4]))


# ---------------------------------------------------------------- test_bonds (Yuma 2, tests/epoch.rs)


def test_bonds_epoch_by_epoch_match_subtensor():
    """test_bonds: 4 validators (stake 1:2:3:4) and 4 servers, β = 1, α = 0.1, κ = 0.5.

    Each step changes some validators' weights, runs one epoch and checks the stored u16 bonds the
    test asserts; dividends are checked against the values subtensor logs for the same epochs.
    """
    n = 8
    stake = np.array([1, 2, 3, 4, 0, 0, 0, 0], dtype=float)
    weights = np.zeros((n, n))
    weights[:4, 4:] = [X // 4, X // 2, (X // 4) * 3, X]
    bonds = np.zeros((n, n))

    def self_weight(uid):
        weights[uid] = 0
        weights[uid, uid] = X

    def only_server_4(uid):
        weights[uid] = 0
        weights[uid, 7] = X

    steps = [
        # (change before the epoch, server column, asserted u16 bonds, logged dividends)
        (None, 4, [16383, 32767, 49151, 65535], [0.0999999978, 0.1999999983, 0.3000000012, 0.4000000022]),
        (
            lambda: self_weight(0),
            4,
            [14582, 32767, 49151, 65535],
            [0.0899967032, 0.2022211233, 0.303334432, 0.404447741],
        ),
        (
            lambda: self_weight(1),
            4,
            [12603, 28321, 49151, 65535],
            [0.0809936118, 0.1819995677, 0.3158592721, 0.421147548],
        ),
        (lambda: self_weight(2), 7, [12602, 28320, 49150, 65535], [0.0, 0.0, 0.0, 0.0]),
        (
            lambda: only_server_4(2),
            7,
            [10951, 24609, 49150, 65535],
            [0.0728874663, 0.1637972582, 0.3271309866, 0.4361842885],
        ),
        (None, 7, [9559, 21482, 49150, 65535], [0.0655988548, 0.1474132247, 0.3372762585, 0.4497116616]),
        (None, 7, [8376, 18824, 49150, 65535], [0.0590361361, 0.1326722752, 0.3464062694, 0.4618853189]),
    ]
    for change, column, expected_bonds, logged_dividends in steps:
        if change is not None:
            change()
        result = epoch(stake, weights, bonds, YumaParams())
        bonds = result.bonds
        assert np.round(bonds[:4, column] * X).astype(int).tolist() == expected_bonds
        np.testing.assert_allclose(result.dividends[:4], logged_dividends, atol=2e-9)


# ---------------------------------------------------------------- Yuma 3 (tests/epoch.rs)

YUMA3 = YumaParams(
    kappa=(X // 2) / X,
    bond_penalty=0.0,
    bonds_moving_average=975_000,
    yuma3=True,
    liquid_alpha=True,
    alpha_low=0.1,
    alpha_high=0.3,
    alpha_sigmoid_steepness=1000,
)
A, B = [X, 0], [0, X]  # all weight on server 1 (uid 3) or on server 2 (uid 4)


def run_yuma3(stakes, servers, schedule, epochs, params=YUMA3, before_epoch=None):
    """Run the chain's Yuma 3 scenario: weights per epoch from ``schedule`` (kept when absent).

    Yields, per epoch, the stored bonds of the three validators on the servers (as fractions) and the
    dividends as the chain stores them (u16, read back as a fraction).
    """
    n = len(stakes)
    weights, bonds = np.zeros((n, n)), np.zeros((n, n))
    for e in range(epochs):
        for uid, row in enumerate(schedule.get(e, [])):
            weights[uid] = 0
            weights[uid, servers] = row
        if before_epoch is not None:
            before_epoch(e, bonds)
        result = epoch(np.asarray(stakes, dtype=float), weights, bonds, params)
        bonds = result.bonds
        yield bonds[:3][:, servers], np.floor(result.dividends * X) / X


def assert_yuma3_scenario(stakes, servers, schedule, target_bonds, target_dividends, params=YUMA3):
    runs = run_yuma3(stakes, servers, schedule, len(target_dividends), params)
    for e, (bonds, dividends) in enumerate(runs):
        np.testing.assert_allclose(bonds, target_bonds[e], atol=1e-3, err_msg=f"bonds, epoch {e}")
        np.testing.assert_allclose(
            dividends[: len(target_dividends[e])],
            target_dividends[e],
            atol=1e-3,
            err_msg=f"dividends, epoch {e}",
        )


def test_yuma3_kappa_moves_first():
    schedule = {0: [A] * 3, 1: [B, A, A], 2: [B, B, A], 3: [B] * 3}
    bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.0908, 0.1013], [0.3697, 0.0], [0.3697, 0.0]],
        [[0.0815, 0.1924], [0.3170, 0.1013], [0.5580, 0.0]],
        [[0.0731, 0.2742], [0.2765, 0.1924], [0.4306, 0.1013]],
        [[0.0656, 0.3478], [0.2435, 0.2742], [0.3589, 0.1924]],
        [[0.0588, 0.4139], [0.2157, 0.3478], [0.3089, 0.2742]],
    ]
    dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [1.0000, 0.0000, 0.0000, 0.0, 0.0],
        [0.9382, 0.0618, 0.0000, 0.0, 0.0],
        [0.8819, 0.0773, 0.0407, 0.0, 0.0],
        [0.8564, 0.0844, 0.0592, 0.0, 0.0],
        [0.8418, 0.0884, 0.0697, 0.0, 0.0],
    ]
    assert_yuma3_scenario([8, 1, 1, 0, 0], [3, 4], schedule, bonds, dividends)


def test_yuma3_kappa_moves_second():
    schedule = {0: [A] * 3, 1: [A, B, A], 2: [B, B, A], 3: [B] * 3}
    bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.0908, 0.2987], [0.1924, 0.0]],
        [[0.1715, 0.1013], [0.0815, 0.3697], [0.4336, 0.0]],
        [[0.1531, 0.1924], [0.0731, 0.4336], [0.3608, 0.1013]],
        [[0.1369, 0.2742], [0.0656, 0.4910], [0.3103, 0.1924]],
        [[0.1225, 0.3478], [0.0588, 0.5426], [0.2712, 0.2742]],
    ]
    dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [0.8446, 0.0498, 0.1056, 0.0, 0.0],
        [0.6868, 0.3132, 0.0000, 0.0, 0.0],
        [0.7421, 0.2090, 0.0489, 0.0, 0.0],
        [0.7625, 0.1706, 0.0669, 0.0, 0.0],
        [0.7730, 0.1508, 0.0762, 0.0, 0.0],
    ]
    assert_yuma3_scenario([8, 1, 1, 0, 0], [3, 4], schedule, bonds, dividends)


def test_yuma3_kappa_moves_last():
    schedule = {0: [A] * 3, 1: [A, B, A], 2: [A, B, B], 3: [B] * 3}
    bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.0908, 0.2987], [0.1924, 0.0]],
        [[0.2742, 0.0], [0.0815, 0.5081], [0.1715, 0.2987]],
        [[0.2416, 0.1013], [0.0731, 0.5580], [0.1531, 0.3697]],
        [[0.2141, 0.1924], [0.0656, 0.6028], [0.1369, 0.4336]],
        [[0.1903, 0.2742], [0.0588, 0.6430], [0.1225, 0.4910]],
    ]
    dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [0.8446, 0.0498, 0.1056, 0.0, 0.0],
        [0.8966, 0.0333, 0.0701, 0.0, 0.0],
        [0.4663, 0.3210, 0.2127, 0.0, 0.0],
        [0.5976, 0.2340, 0.1683, 0.0, 0.0],
        [0.6592, 0.1932, 0.1475, 0.0, 0.0],
    ]
    assert_yuma3_scenario([8, 1, 1, 0, 0], [3, 4], schedule, bonds, dividends)


ONE_EPOCH_SWITCH = {e: [A] * 3 for e in range(6)} | {2: [A, A, B]}


def test_yuma3_one_epoch_switch():
    bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.1924, 0.0], [0.1924, 0.0]],
        [[0.2742, 0.0], [0.2742, 0.0], [0.1715, 0.2987]],
        [[0.3478, 0.0], [0.3478, 0.0], [0.2554, 0.2618]],
        [[0.4139, 0.0], [0.4139, 0.0], [0.3309, 0.2312]],
        [[0.4733, 0.0], [0.4733, 0.0], [0.3987, 0.2051]],
    ]
    dividends = [
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3782, 0.3782, 0.2436, 0.0, 0.0],
        [0.3628, 0.3628, 0.2745, 0.0, 0.0],
        [0.3541, 0.3541, 0.2917, 0.0, 0.0],
        [0.3487, 0.3487, 0.3026, 0.0, 0.0],
    ]
    assert_yuma3_scenario([33, 33, 34, 0, 0], [3, 4], ONE_EPOCH_SWITCH, bonds, dividends)


def test_yuma3_liquid_alpha_disabled():
    """The subtensor targets list three columns here; the last two are the servers' bonds."""
    bonds = [
        [[0.0250, 0.0], [0.0250, 0.0], [0.0250, 0.0]],
        [[0.0494, 0.0], [0.0494, 0.0], [0.0494, 0.0]],
        [[0.0731, 0.0], [0.0731, 0.0], [0.0481, 0.0250]],
        [[0.0963, 0.0], [0.0963, 0.0], [0.0719, 0.0244]],
        [[0.1189, 0.0], [0.1189, 0.0], [0.0951, 0.0238]],
        [[0.1409, 0.0], [0.1409, 0.0], [0.1178, 0.0232]],
    ]
    dividends = [
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3734, 0.3734, 0.2532, 0.0, 0.0],
        [0.3611, 0.3611, 0.2779, 0.0, 0.0],
        [0.3541, 0.3541, 0.2919, 0.0, 0.0],
        [0.3495, 0.3495, 0.3009, 0.0, 0.0],
    ]
    params = YumaParams(**{**YUMA3.__dict__, "liquid_alpha": False})
    assert_yuma3_scenario([33, 33, 34, 0, 0], [3, 4], ONE_EPOCH_SWITCH, bonds, dividends, params)


def test_yuma3_stable_miner():
    h = X // 2
    schedule = {
        0: [[h, 0, h]] * 3,
        1: [[h, 0, h], [0, h, h], [h, 0, h]],
        2: [[0, h, h], [0, h, h], [h, 0, h]],
        3: [[0, h, h]] * 3,
    }
    bonds = [
        [[0.0507, 0.0, 0.0507], [0.0507, 0.0, 0.0507], [0.0507, 0.0, 0.0507]],
        [[0.0962, 0.0, 0.0962], [0.0455, 0.1000, 0.0962], [0.0962, 0.0, 0.0962]],
        [[0.0863, 0.0507, 0.1371], [0.0408, 0.1405, 0.1371], [0.1770, 0.0, 0.1371]],
        [[0.0774, 0.0962, 0.1739], [0.0367, 0.1770, 0.1739], [0.1579, 0.0507, 0.1739]],
        [[0.0694, 0.1371, 0.2069], [0.0329, 0.2097, 0.2069], [0.1411, 0.0962, 0.2069]],
        [[0.0623, 0.1739, 0.2366], [0.0296, 0.2391, 0.2366], [0.1263, 0.1371, 0.2366]],
    ]
    dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0, 0.0],
        [0.8226, 0.0745, 0.1028, 0.0, 0.0, 0.0],
        [0.7750, 0.1685, 0.0565, 0.0, 0.0, 0.0],
        [0.7864, 0.1372, 0.0764, 0.0, 0.0, 0.0],
        [0.7912, 0.1241, 0.0847, 0.0, 0.0, 0.0],
        [0.7937, 0.1173, 0.0890, 0.0, 0.0, 0.0],
    ]
    assert_yuma3_scenario([8, 1, 1, 0, 0, 0], [3, 4, 5], schedule, bonds, dividends)


def test_yuma3_bonds_reset():
    """test_yuma_3_bonds_reset: before epoch 20 the bonds on server 1 (uid 3) are reset to 0."""
    schedule = {0: [A] * 3, 1: [A, B, B]} | {e: [B] * 3 for e in range(2, 21)} | {21: [B, A, A]}
    schedule |= {e: [A] * 3 for e in range(22, 41)}
    targets = {
        0: ([[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]], [0.8000, 0.1000, 0.1000]),
        1: ([[0.1924, 0.0], [0.0908, 0.2987], [0.0908, 0.2987]], [0.8944, 0.0528, 0.0528]),
        2: ([[0.1715, 0.1013], [0.0815, 0.3697], [0.0815, 0.3697]], [0.5230, 0.2385, 0.2385]),
        19: ([[0.0269, 0.8539], [0.0131, 0.8975], [0.0131, 0.8975]], [0.7919, 0.1040, 0.1040]),
        20: ([[0.0000, 0.8687], [0.0000, 0.9079], [0.0000, 0.9079]], [0.7928, 0.1036, 0.1036]),
        21: ([[0.0000, 0.8820], [0.2987, 0.6386], [0.2987, 0.6386]], [0.8467, 0.0766, 0.0766]),
        40: ([[0.8687, 0.0578], [0.9079, 0.0523], [0.9079, 0.0523]], [0.7928, 0.1036, 0.1036]),
    }

    def reset_server_1(e, bonds):
        if e == 20:
            bonds[:, 3] = 0.0

    runs = run_yuma3([8, 1, 1, 0, 0], [3, 4], schedule, 41, before_epoch=reset_server_1)
    for e, (bonds, dividends) in enumerate(runs):
        if e in targets:
            target_bonds, target_dividends = targets[e]
            np.testing.assert_allclose(bonds, target_bonds, atol=1e-3, err_msg=f"bonds, epoch {e}")
            np.testing.assert_allclose(
                dividends[:3], target_dividends, atol=1e-3, err_msg=f"dividends, epoch {e}"
            )


# ---------------------------------------------------------------- properties


def test_defaults_are_subtensors():
    params = YumaParams()
    assert round(params.kappa * X) == 32_767
    assert params.bond_penalty == 1.0
    assert params.bonds_moving_average == 900_000
    assert (round(params.alpha_low * X), round(params.alpha_high * X)) == (45_875, 58_982)
    assert params.alpha_sigmoid_steepness == 1000
    assert not params.yuma3 and not params.liquid_alpha


def test_no_weights_pay_validators_by_stake():
    result = epoch([1.0, 3.0, 0.0], np.zeros((3, 3)), np.zeros((3, 3)))
    np.testing.assert_allclose(result.validator_emission, [0.25, 0.75, 0.0], atol=1e-9)
    assert not result.incentive.any() and not result.dividends.any()


@pytest.mark.parametrize(
    ("stake", "weights", "bonds", "message"),
    [
        ([1.0, -1.0], np.zeros((2, 2)), np.zeros((2, 2)), "stake"),
        ([1.0, 1.0], np.zeros((3, 3)), np.zeros((2, 2)), "weights"),
        ([1.0, 1.0], np.zeros((2, 2)), np.full((2, 2), 2.0), "bonds"),
        ([1.0, np.nan], np.zeros((2, 2)), np.zeros((2, 2)), "stake"),
    ],
)
def test_bad_input_is_named(stake, weights, bonds, message):
    with pytest.raises(ValueError, match=message):
        epoch(stake, weights, bonds)


def test_bad_params_are_named():
    with pytest.raises(ValueError, match="kappa"):
        YumaParams(kappa=1.5)
    with pytest.raises(ValueError, match="alpha_low"):
        YumaParams(alpha_low=0.9, alpha_high=0.5)


N_VALIDATORS, N_MINERS = 3, 4
votes = st.lists(
    st.lists(st.floats(0, 1), min_size=N_MINERS, max_size=N_MINERS),
    min_size=N_VALIDATORS,
    max_size=N_VALIDATORS,
)
stakes = st.lists(st.floats(0.01, 100), min_size=N_VALIDATORS, max_size=N_VALIDATORS)


def network(stake, vote_rows):
    """Validators first, then miners; validators weigh miners only."""
    n = len(stake) + N_MINERS
    weights = np.zeros((n, n))
    weights[: len(stake), len(stake) :] = vote_rows
    return np.r_[stake, np.zeros(N_MINERS)], weights


@settings(max_examples=80, deadline=None)
@given(stake=stakes, vote_rows=votes, yuma3=st.booleans(), quantize=st.booleans())
def test_incentive_sums_to_one_when_a_weight_reaches_consensus(stake, vote_rows, yuma3, quantize):
    """Σ incentive = 1 whenever some miner's consensus is positive, else every incentive is 0."""
    stake, weights = network(stake, vote_rows)
    result = epoch(stake, weights, np.zeros_like(weights), YumaParams(yuma3=yuma3), quantize=quantize)
    if np.any(result.consensus > 0):
        assert result.incentive.sum() == pytest.approx(1.0, abs=1e-8)
    else:
        assert not result.incentive.any()


@settings(max_examples=50, deadline=None)
@given(stake=stakes, row=st.lists(st.floats(0, 1), min_size=N_MINERS, max_size=N_MINERS))
def test_incentive_sums_to_one_when_validators_agree(stake, row):
    if not any(row):
        row = [1.0, *row[1:]]
    stake, weights = network(stake, [row] * N_VALIDATORS)
    result = epoch(stake, weights, np.zeros_like(weights))
    assert result.incentive.sum() == pytest.approx(1.0, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    stake=stakes,
    schedule=st.lists(votes, min_size=1, max_size=4),
    split=st.integers(0, N_VALIDATORS - 1),
    share=st.floats(0.05, 0.95),
)
def test_splitting_a_validator_changes_no_ones_total_dividends(stake, schedule, split, share):
    """Yuma 2: validator `split` as two clones with the same votes and stake share·s, (1−share)·s.

    Over several epochs (bonds carried), each other UID keeps its dividends and the clones together
    earn what the original did. Exact arithmetic: the chain's rounding is not split-invariant.
    """
    stake_whole, _ = network(stake, schedule[0])
    clone_stake = [*stake, 0.0]
    clone_stake[split] *= share
    clone_stake[-1] = stake[split] * (1 - share)
    n_whole, n_split = stake_whole.size, stake_whole.size + 1
    bonds_whole, bonds_split = np.zeros((n_whole, n_whole)), np.zeros((n_split, n_split))
    # network() makes the clone uid N_VALIDATORS; reordered to the last uid, the others line up.
    order = [*range(N_VALIDATORS), *range(N_VALIDATORS + 1, n_split), N_VALIDATORS]
    for vote_rows in schedule:
        stake_whole, weights_whole = network(stake, vote_rows)
        rows = [*vote_rows, vote_rows[split]]
        stake_split, weights_split = network(clone_stake, rows)
        stake_split, weights_split = stake_split[order], weights_split[np.ix_(order, order)]
        whole = epoch(stake_whole, weights_whole, bonds_whole, quantize=False)
        parts = epoch(stake_split, weights_split, bonds_split, quantize=False)
        bonds_whole, bonds_split = whole.bonds, parts.bonds
        merged = parts.dividends[:-1].copy()
        merged[split] += parts.dividends[-1]
        np.testing.assert_allclose(merged, whole.dividends, atol=1e-9)
        np.testing.assert_allclose(parts.incentive[:-1], whole.incentive, atol=1e-9)
