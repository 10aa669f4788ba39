"""Yuma Consensus against subtensor's own numbers, plus invariants of the mechanism.

The reference cases come from opentensor/subtensor (commit 14bc6f9f):
``pallets/subtensor/src/tests/math.rs`` (weighted median) and ``pallets/subtensor/src/tests/epoch.rs``
(``test_bonds`` and the ``test_yuma_3_*`` scenarios). UIDs, stakes, weight schedules and the asserted
values are transcribed; the chain's weights are u16, written here as such.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model.yuma import U16_MAX, YumaParams, epoch, validator_epoch, weighted_median, weighted_median_col

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
# Subnormal votes are left out: a clone's half of stake × a subnormal weight can round to 0 where
# the whole's does not, which the split-invariance test below would read as a change of mechanism.
votes = st.lists(
    st.lists(st.floats(0, 1, allow_subnormal=False), min_size=N_MINERS, max_size=N_MINERS),
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


# ---------------------------------------------------------------- validator_epoch, the fast path


def embedded(stake: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The UID × UID problem of validators × trainers: validators first, then the trainers with
    zero stake and zero weight rows."""
    nv, nt = weights.shape
    uid_weights = np.zeros((nv + nt, nv + nt))
    uid_weights[:nv, nv:] = weights
    return np.r_[stake, np.zeros(nt)], uid_weights


def column_shares(bonds: np.ndarray) -> np.ndarray:
    sums = bonds.sum(axis=0)
    return np.divide(bonds, sums, out=np.zeros_like(bonds), where=sums > 0)


def clear_of_the_cut(stake: np.ndarray, kappa: float, margin: float = 1e-9) -> bool:
    """No proper, non-empty set of voters holds a stake share within ``margin`` of the cut 1 − κ.

    At such a tie the κ-median is decided by the last bit of the stake shares, which the two
    computations may round apart. (κ = 0 and κ = 1 cut at the empty and the full set, where both
    take the largest and the smallest vote alike.)
    """
    shares = stake[stake > 0] / stake.sum() if stake.sum() > 0 else np.zeros(0)
    for mask in range(1, 2**shares.size - 1):
        chosen = [(mask >> i) & 1 for i in range(shares.size)]
        if abs(shares[np.array(chosen, bool)].sum() - (1.0 - kappa)) < margin:
            return False
    return True


#: Weights as validators vote them. Subnormal numbers (below 2.2e-308) are left out: there the
#: compiled epoch and the reference part ways (test_subnormal_weights_are_a_known_disagreement).
vote_entries = st.one_of(
    st.just(0.0), st.floats(0.0, 1.0, allow_subnormal=False), st.floats(0.0, 50.0, allow_subnormal=False)
)


@pytest.mark.xfail(
    strict=True,
    reason="known: with a subnormal consensus weight (2.2e-311) the compiled Yuma 2 epoch gives one of two "
    "equal bonds 0 and the reference splits them; votes never come near 1e-308, so it is left as is",
)
def test_subnormal_weights_are_a_known_disagreement():
    stake = np.ones(3)
    weights = np.array([[0.0, 0.0], [1.0, 0.0], [2.22507386e-311, 1.0]])
    params = YumaParams(kappa=0.5, bond_penalty=1.0, bonds_moving_average=0)
    fast = validator_epoch(stake, weights, np.zeros((3, 2)), params)
    reference = epoch(*embedded(stake, weights), np.zeros((5, 5)), params, quantize=False)
    np.testing.assert_allclose(fast.dividends, reference.dividends[:3], rtol=0, atol=1e-9)


@st.composite
def epoch_problems(draw):
    """Stakes (some zero), a few epochs of weights (some rows and columns all zero) and parameters."""
    nv, nt = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    stake = draw(hnp.arrays(np.float64, nv, elements=st.one_of(st.just(0.0), st.floats(0.01, 100.0))))
    schedule = []
    for _ in range(draw(st.integers(1, 4))):
        weights = draw(hnp.arrays(np.float64, (nv, nt), elements=vote_entries))
        weights[draw(hnp.arrays(bool, nv))] = 0.0
        weights[:, draw(hnp.arrays(bool, nt))] = 0.0
        schedule.append(weights)
    low, high = draw(st.sampled_from([(45_875 / X, 58_982 / X), (0.1, 0.3), (0.5, 0.5)]))
    params = YumaParams(
        kappa=draw(st.sampled_from([0.0, 0.25, 0.5, 32_767 / X, 0.8, 1.0])),
        bond_penalty=draw(st.sampled_from([0.0, 0.5, 1.0])),
        bonds_moving_average=draw(st.sampled_from([0, 500_000, 900_000, 975_000])),
        yuma3=draw(st.booleans()),
        liquid_alpha=draw(st.booleans()),
        alpha_low=low,
        alpha_high=high,
        alpha_sigmoid_steepness=draw(st.sampled_from([1000.0, 10.0, -500.0])),
    )
    return stake, schedule, params


@settings(max_examples=150, deadline=None)
@given(problem=epoch_problems())
def test_validator_epoch_is_epoch_on_the_embedded_problem(problem):
    """Epoch after epoch, each side carrying its own bonds, validator_epoch gives epoch(quantize=False)'s
    numbers on the embedded UID × UID problem: Yuma 2 and 3, with and without liquid alpha.

    Zero-stake validators' weights are dropped by validator_epoch, so the reference gets those rows
    zeroed (they matter to epoch() only in Yuma 3's bonds). Yuma 2 bonds are compared as column
    shares (validator_epoch keeps them so; epoch() max-upscales them), and the reference's own
    bonds fed to validator_epoch give the same epoch too.
    """
    stake, schedule, params = problem
    assume(clear_of_the_cut(stake, params.kappa))
    nv, nt = schedule[0].shape
    fast_bonds, reference_bonds = np.zeros((nv, nt)), np.zeros((nv + nt, nv + nt))
    for e, weights in enumerate(schedule):
        weights = weights * (stake > 0)[:, None]
        fast = validator_epoch(stake, weights, fast_bonds, params)
        reference = epoch(*embedded(stake, weights), reference_bonds, params, quantize=False)
        from_reference_bonds = validator_epoch(stake, weights, reference_bonds[:nv, nv:], params)
        fast_bonds, reference_bonds = fast.bonds, reference.bonds

        expected_bonds = reference.bonds[:nv, nv:]
        if not params.yuma3:
            expected_bonds = column_shares(expected_bonds)
        pairs = {
            "consensus": (fast.consensus, reference.consensus[nv:]),
            "incentive": (fast.incentive, reference.incentive[nv:]),
            "dividends": (fast.dividends, reference.dividends[:nv]),
            "bonds": (fast.bonds, expected_bonds),
            "validator_trust": (fast.validator_trust, reference.validator_trust[:nv]),
            "miner_emission": (fast.miner_emission, reference.miner_emission[nv:]),
            "validator_emission": (fast.validator_emission, reference.validator_emission[:nv]),
            "dividends from epoch()'s bonds": (from_reference_bonds.dividends, fast.dividends),
            "bonds from epoch()'s bonds": (from_reference_bonds.bonds, fast.bonds),
        }
        for name, (got, expected) in pairs.items():
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=f"{name}, epoch {e}")
        # the embedding hands validators nothing as miners and trainers nothing as validators
        assert not reference.incentive[:nv].any() and not reference.dividends[nv:].any()


@settings(max_examples=60, deadline=None)
@given(problem=epoch_problems(), absent_votes=hnp.arrays(np.float64, 6, elements=st.floats(0.01, 1.0)))
def test_zero_stake_validators_change_nothing(problem, absent_votes):
    """An absent validator (zero stake) does not vote: whatever weights it sets, the epoch is the same."""
    stake, schedule, params = problem
    absent = stake == 0
    assume(absent.any())
    bonds_silent = bonds_voting = np.zeros(schedule[0].shape)
    for weights in schedule:
        silent = weights * ~absent[:, None]
        voting = silent.copy()
        voting[absent] = absent_votes[: weights.shape[1]]
        a = validator_epoch(stake, silent, bonds_silent, params)
        b = validator_epoch(stake, voting, bonds_voting, params)
        bonds_silent, bonds_voting = a.bonds, b.bonds
        for name in ("consensus", "incentive", "dividends", "bonds", "validator_emission"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("validators", [3, 33, 80])
@pytest.mark.parametrize(
    "params", [YumaParams(), YumaParams(yuma3=True, liquid_alpha=True, bond_penalty=0.5)]
)
def test_validator_epoch_is_epoch_with_many_tied_votes(validators, params):
    """Both ways of taking the κ-median (few validators: stable sort and a triangular product; more
    than 32: quicksort and cumsum) on votes from four levels, so that most columns tie."""
    rng = np.random.default_rng(validators)
    trainers = 12
    stake = rng.lognormal(0.0, 1.0, validators) * (rng.random(validators) < 0.9)
    fast_bonds, reference_bonds = np.zeros((validators, trainers)), np.zeros((validators + trainers,) * 2)
    for e in range(4):
        weights = rng.choice([0.0, 0.25, 0.5, 1.0], size=(validators, trainers)) * (stake > 0)[:, None]
        fast = validator_epoch(stake, weights, fast_bonds, params)
        reference = epoch(*embedded(stake, weights), reference_bonds, params, quantize=False)
        fast_bonds, reference_bonds = fast.bonds, reference.bonds
        np.testing.assert_allclose(
            fast.consensus, reference.consensus[validators:], atol=1e-12, err_msg=str(e)
        )
        np.testing.assert_allclose(
            fast.incentive, reference.incentive[validators:], atol=1e-12, err_msg=str(e)
        )
        np.testing.assert_allclose(
            fast.dividends, reference.dividends[:validators], atol=1e-12, err_msg=str(e)
        )


def test_validator_epoch_unchecked_is_the_checked_epoch():
    rng = np.random.default_rng(7)
    stake, weights = rng.random(6), rng.random((6, 9))
    for params in (YumaParams(), YumaParams(yuma3=True, liquid_alpha=True, bond_penalty=0.5)):
        checked = unchecked = validator_epoch(stake, weights, np.zeros((6, 9)), params)
        for _ in range(3):
            checked = validator_epoch(stake, weights, checked.bonds, params)
            unchecked = validator_epoch(stake, weights, unchecked.bonds, params, check=False)
            np.testing.assert_allclose(unchecked.dividends, checked.dividends, atol=1e-12)
            np.testing.assert_allclose(unchecked.bonds, checked.bonds, atol=1e-12)


def test_validator_epoch_without_validators_or_trainers():
    nobody = validator_epoch(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)), YumaParams())
    assert nobody.consensus.tolist() == [0.0, 0.0, 0.0] and nobody.validator_emission.size == 0
    no_trainers = validator_epoch([1.0, 3.0], np.zeros((2, 0)), np.zeros((2, 0)), YumaParams())
    np.testing.assert_allclose(no_trainers.validator_emission, [0.25, 0.75])
    no_stake = validator_epoch([0.0, 0.0], np.ones((2, 2)), np.zeros((2, 2)), YumaParams())
    assert not no_stake.incentive.any() and not no_stake.validator_emission.any()


@pytest.mark.parametrize(
    ("stake", "weights", "bonds", "message"),
    [
        ([1.0, -1.0], np.zeros((2, 3)), np.zeros((2, 3)), "stake"),
        ([[1.0, 1.0]], np.zeros((2, 3)), np.zeros((2, 3)), "stake must be a vector"),
        ([1.0, 1.0], np.zeros((3, 3)), np.zeros((2, 3)), "weights must be validators × trainers"),
        ([1.0, 1.0], np.zeros((2, 3)), np.zeros((2, 2)), "bonds must have the weights' shape"),
        ([1.0, 1.0], np.full((2, 3), np.nan), np.zeros((2, 3)), "weights must be finite"),
        ([1.0, 1.0], np.full((2, 3), np.inf), np.zeros((2, 3)), "weights must be finite"),
        ([1.0, 1.0], np.zeros((2, 3)), np.full((2, 3), 1.5), r"bonds must be in \[0, 1\]"),
        ([1e308, 1e308], np.ones((2, 3)), np.zeros((2, 3)), "must sum to a finite number"),
        ([1.0, 1.0], np.full((2, 3), 1e308), np.zeros((2, 3)), "must sum to a finite number"),
    ],
)
def test_validator_epoch_names_bad_input(stake, weights, bonds, message):
    with pytest.raises(ValueError, match=message):
        validator_epoch(stake, weights, bonds, YumaParams())
    with pytest.raises(TypeError, match="YumaParams"):
        validator_epoch([1.0], np.zeros((1, 1)), np.zeros((1, 1)), {"kappa": 0.5})


# ---------------------------------------------------------------- a coalition above κ sets consensus


@st.composite
def coalitions(draw):
    """Validators split into a coalition (the first m rows) and the others, the coalition holding a
    share σ of the stake and every member setting the same weights up to a power-of-two scale (so
    the normalised rows are exactly equal); the others vote anything, all-zero rows included."""
    m, others = draw(st.integers(1, 4)), draw(st.integers(0, 4))
    nt = draw(st.integers(1, 6))
    sigma = draw(st.floats(0.001, 1.0)) if others else 1.0
    parts = draw(hnp.arrays(np.float64, m + others, elements=st.floats(0.01, 1.0)))
    stake = np.r_[sigma * parts[:m] / parts[:m].sum(), (1 - sigma) * parts[m:] / max(parts[m:].sum(), 1e-300)]
    vote = draw(hnp.arrays(np.float64, nt, elements=vote_entries))
    scales = 2.0 ** draw(hnp.arrays(np.int64, m, elements=st.integers(0, 3)))
    weights = np.vstack(
        [np.outer(scales, vote), draw(hnp.arrays(np.float64, (others, nt), elements=vote_entries))]
    )
    kappa = draw(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.5, 32_767 / X])))
    sigma = stake[:m].sum() / stake.sum()
    assume(min(abs(sigma - kappa), abs(sigma - (1 - kappa))) > 1e-9)
    common = vote / vote.sum() if vote.sum() > 0 else vote
    return stake, weights, kappa, sigma, common


def consensus_of_both(stake, weights, kappa):
    """The trainers' consensus by validator_epoch and by epoch(quantize=False) on the embedded problem."""
    params = YumaParams(kappa=kappa)
    fast = validator_epoch(stake, weights, np.zeros_like(weights), params).consensus
    uid_stake, uid_weights = embedded(stake, weights)
    reference = epoch(uid_stake, uid_weights, np.zeros_like(uid_weights), params, quantize=False)
    return {"validator_epoch": fast, "epoch": reference.consensus[stake.size :]}


@settings(max_examples=200, deadline=None)
@given(problem=coalitions())
def test_a_coalition_bounds_consensus(problem):
    """What "a validator set holding more than κ of stake and voting together sets consensus" means.

    The consensus Cⱼ is the smallest vote whose voters at or below it hold more than 1 − κ of the
    stake (ties counted together). Let a coalition holding σ > 0 of the stake all set the same
    normalised weights vⱼ, the others voting anything. Then, column by column:

    * floor: σ ≥ κ ⇒ Cⱼ ≥ vⱼ. Below vⱼ sit at most the others' 1 − σ ≤ 1 − κ, so no lower vote
      passes the cut (and if none passes at all, Cⱼ is the largest vote, at least vⱼ);
    * ceiling: σ > 1 − κ ⇒ Cⱼ ≤ vⱼ. At or below vⱼ sits at least the coalition's σ, which passes.

    So a coalition sets consensus, Cⱼ = vⱼ (others voting vⱼ too included; "=" up to the last bit
    of each computation's row normalisation), when
    σ > max(κ, 1 − κ): for κ ≥ ½ "more than κ" suffices; for κ < ½ it needs more than 1 − κ, and
    more than κ only sets a floor: the others, holding more than κ themselves, can lift Cⱼ to
    their own vote.
    """
    stake, weights, kappa, sigma, common = problem
    slack = 1e-12 * common + 1e-300  # each computation rounds its own row normalisation
    for name, consensus in consensus_of_both(stake, weights, kappa).items():
        if sigma >= kappa:
            assert np.all(consensus >= common - slack), name
        if sigma > 1 - kappa:
            assert np.all(consensus <= common + slack), name


@settings(max_examples=150, deadline=None)
@given(problem=coalitions(), kappa=st.floats(0.5, 1.0))
def test_a_coalition_holding_more_than_kappa_sets_consensus(problem, kappa):
    """The issue's property for κ ≥ ½ (see test_a_coalition_bounds_consensus): a coalition above κ
    of the stake, voting together, makes every trainer's consensus its common normalised weight,
    whatever the others vote, in epoch() and validator_epoch() alike."""
    stake, weights, _, sigma, common = problem
    assume(sigma > kappa + 1e-9)
    for name, consensus in consensus_of_both(stake, weights, kappa).items():
        np.testing.assert_allclose(consensus, common, rtol=1e-12, atol=1e-300, err_msg=name)


def test_a_coalition_above_kappa_below_one_half_sets_only_a_floor():
    """κ = 0.3: a coalition of 40 % voting (1, 0) against 60 % voting (0, 1) does not set consensus
    on the second trainer; the others, holding more than κ, lift it to theirs."""
    stake = np.array([0.4, 0.6])
    weights = np.array([[1.0, 0.0], [0.0, 1.0]])
    for name, consensus in consensus_of_both(stake, weights, 0.3).items():
        np.testing.assert_array_equal(consensus, [1.0, 1.0], err_msg=name)


# ---------------------------------------------------------------- a subset's consensus in the same pass
@settings(max_examples=200, deadline=None)
@given(
    nv=st.integers(1, 30),
    nt=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    kappa=st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]),
    yuma3=st.booleans(),
)
def test_a_subsets_consensus_found_in_the_epoch_is_its_consensus_alone(nv, nt, seed, kappa, yuma3):
    """``validator_epoch(..., subset=m).subset_consensus`` is the consensus the validators in ``m``
    would find alone (``validator_consensus`` of their stake only), and asking for it changes nothing
    else. Stakes include zeros, weights ties and empty rows; 31 validators and more take the sorted path."""
    from model.yuma import validator_consensus

    rng = np.random.default_rng(seed)
    stake = rng.choice([0.0, 1.0, 2.0, 5.0], nv) * rng.random(nv)
    weights = rng.choice([0.0, 0.25, 0.5, 1.0], (nv, nt))
    members = rng.random(nv) < 0.6
    params = YumaParams(kappa=kappa, yuma3=yuma3)
    bonds = np.zeros((nv, nt))
    plain = validator_epoch(stake, weights, bonds, params)
    both = validator_epoch(stake, weights, bonds, params, subset=members)
    alone = validator_consensus(stake * members, weights, kappa)
    np.testing.assert_array_equal(both.subset_consensus, alone)  # to the last bit: ties fall alike
    np.testing.assert_array_equal(both.consensus, plain.consensus)
    np.testing.assert_array_equal(both.dividends, plain.dividends)
    assert plain.subset_consensus is None


@pytest.mark.parametrize("validators", [10, 20])
def test_a_tie_of_stake_at_the_cut_goes_to_the_higher_weight_on_both_paths(validators):
    """Half the evaluating stake (4 of 8, 8 of 16) votes a high weight, half a low one: the running
    stake lands exactly on the cut 1 − κ = ½ without passing it, so consensus is the higher weight, in
    the epoch's subset consensus and in validator_consensus alike (before, the subset's shares of all
    stake rounded past the cut at 10 validators and the tie went the other way)."""
    from model.yuma import validator_consensus

    evaluators = validators * 4 // 5
    half = evaluators // 2
    weights = np.zeros((validators, 2))
    weights[:half] = [1.0, 0.2]
    weights[half:evaluators] = [0.0, 1.0]
    weights[evaluators:] = [0.5, 0.5]
    stake = np.full(validators, 1000.0)
    members = np.arange(validators) < evaluators
    subset = validator_epoch(stake, weights, np.zeros((validators, 2)), YumaParams(), subset=members)
    alone = validator_consensus(stake * members, weights, 0.5)
    np.testing.assert_array_equal(subset.subset_consensus, alone)
    np.testing.assert_allclose(alone, [1 / 1.2, 1.0])
