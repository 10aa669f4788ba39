"""Sensitivity: Sobol' indices reproduce the Ishigami function's analytic values; rankings; refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from analysis.sensitivity import bin_labels, correlation_ratio, rank_parameters, sobol_indices
from analysis.sweep.designs import unit_sample

# The Ishigami function f = sin(x1) + a sin²(x2) + b x3⁴ sin(x1), x_i ~ U(−π, π), and its analytic
# partial variances (Ishigami & Homma 1990; Sobol' & Levitan 1999).
A, B = 7.0, 0.1
NAMES = ["x1", "x2", "x3"]
VARIANCE = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
V_FIRST = np.array([0.5 * (1 + B * np.pi**4 / 5) ** 2, A**2 / 8, 0.0])
V_TOTAL = np.array(
    [0.5 * (1 + B * np.pi**4 / 5) ** 2 + 8 * B**2 * np.pi**8 / 225, A**2 / 8, 8 * B**2 * np.pi**8 / 225]
)
S1_EXACT = V_FIRST / VARIANCE
ST_EXACT = V_TOTAL / VARIANCE


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def saltelli_unit_sample(d: int, m: int, seed: int) -> np.ndarray:
    """A, B, AB_1 … AB_d stacked, from the two halves of a scrambled Sobol' sample of 2^m rows."""
    base = qmc.Sobol(2 * d, scramble=True, rng=seed).random_base2(m)
    a, b = base[:, :d], base[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def to_ishigami_domain(unit: np.ndarray) -> np.ndarray:
    return -np.pi + 2 * np.pi * unit


def test_the_analytic_values_are_the_known_ones():
    # Guards the constants above against typos: published values for a = 7, b = 0.1.
    assert np.round(S1_EXACT, 4).tolist() == [0.3139, 0.4424, 0.0]
    assert np.round(ST_EXACT, 4).tolist() == [0.5576, 0.4424, 0.2437]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sobol_indices_of_ishigami(seed):
    m = 13
    x = to_ishigami_domain(saltelli_unit_sample(3, m, seed))
    table = sobol_indices(ishigami(x), 2**m, NAMES, seed=seed)
    assert list(table.index) == NAMES
    assert table["S1"].to_numpy() == pytest.approx(S1_EXACT, abs=0.03)
    assert table["ST"].to_numpy() == pytest.approx(ST_EXACT, abs=0.03)
    for index, exact in (("S1", S1_EXACT), ("ST", ST_EXACT)):
        assert (table[f"{index}_low"].to_numpy() <= exact).all()
        assert (exact <= table[f"{index}_high"].to_numpy()).all()
        assert (table[f"{index}_low"] <= table[index]).all() and (
            table[index] <= table[f"{index}_high"]
        ).all()


def test_sobol_indices_read_the_sweep_designs_saltelli_order():
    n_base = 2**12
    unit = unit_sample("saltelli", 3, n_base, np.random.default_rng(5))
    table = sobol_indices(ishigami(to_ishigami_domain(unit)), n_base, NAMES, n_bootstrap=50)
    assert table["S1"].to_numpy() == pytest.approx(S1_EXACT, abs=0.04)
    assert table["ST"].to_numpy() == pytest.approx(ST_EXACT, abs=0.04)


def test_intervals_narrow_with_confidence_and_depend_on_the_seed_only():
    x = to_ishigami_domain(saltelli_unit_sample(3, 10, seed=3))
    y = ishigami(x)
    wide = sobol_indices(y, 2**10, NAMES, confidence=0.99, seed=4)
    narrow = sobol_indices(y, 2**10, NAMES, confidence=0.5, seed=4)
    assert (wide["ST_high"] - wide["ST_low"] > narrow["ST_high"] - narrow["ST_low"]).all()
    pd.testing.assert_frame_equal(wide, sobol_indices(y, 2**10, NAMES, confidence=0.99, seed=4))
    other_seed = sobol_indices(y, 2**10, NAMES, confidence=0.99, seed=5)
    pd.testing.assert_series_equal(wide["S1"], other_seed["S1"])
    assert not np.allclose(wide["S1_low"], other_seed["S1_low"])


@settings(max_examples=25, deadline=None)
@given(sign=st.sampled_from([-1.0, 1.0]), size=st.floats(1e-3, 1e3), shift=st.floats(-1e6, 1e6))
def test_indices_do_not_change_under_an_affine_map_of_the_output(sign, size, shift):
    x = to_ishigami_domain(saltelli_unit_sample(3, 8, seed=6))
    y = ishigami(x)
    plain = sobol_indices(y, 2**8, NAMES, n_bootstrap=20)
    mapped = sobol_indices(sign * size * y + shift, 2**8, NAMES, n_bootstrap=20)
    pd.testing.assert_frame_equal(plain, mapped, atol=1e-6, rtol=0)


def test_wrong_length_is_refused_with_the_expected_count():
    with pytest.raises(ValueError, match=r"y has 99 values .* n_base = 20 and 3 parameters .* = 100"):
        sobol_indices(np.zeros(99), 20, NAMES)


def test_nan_outputs_are_refused_with_their_count():
    y = np.arange(100.0)
    y[[3, 50]] = np.nan
    with pytest.raises(ValueError, match="2 NaN"):
        sobol_indices(y, 20, NAMES)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"names": []}, "names is empty"),
        ({"names": ["a", "a", "b"]}, "unique"),
        ({"n_bootstrap": 0}, "n_bootstrap"),
        ({"confidence": 1.0}, "confidence"),
        ({"y": np.ones(100)}, "Var\\(Y\\) = 0"),
    ],
)
def test_other_bad_input_is_refused(arguments, message):
    call = {"y": np.arange(100.0), "n_base": 20, "names": NAMES} | arguments
    with pytest.raises(ValueError, match=message):
        sobol_indices(**call)


def test_rank_parameters_puts_the_influential_column_first():
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.random((3000, 3)), columns=["weak", "strong", "none"])
    # "strong" acts non-monotonically (a parabola), so its Spearman correlation is near zero.
    y = 4 * (x["strong"] - 0.5) ** 2 + 0.2 * x["weak"] + rng.normal(0, 0.05, len(x))
    table = rank_parameters(x, y)
    assert list(table.index) == ["strong", "weak", "none"]
    assert table.loc["strong", "eta2"] > 0.8
    assert abs(table.loc["strong", "spearman"]) < 0.1
    assert table.loc["weak", "spearman"] > 0.15  # expected about sqrt(0.0033 / 0.095) = 0.19
    assert table.loc["none", "eta2"] < 0.01


def test_eta2_approximates_first_order_indices_of_ishigami():
    x = rng_uniform_ishigami(20000, seed=12)
    table = rank_parameters(pd.DataFrame(x, columns=NAMES), ishigami(x), bins=40).loc[NAMES]
    assert table["eta2"].to_numpy() == pytest.approx(S1_EXACT, abs=0.02)


def rng_uniform_ishigami(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-np.pi, np.pi, (n, 3))


def test_discrete_columns_are_grouped_by_value():
    values = np.array([0.0, 0.0, 1.0, 1.0, 5.0, 5.0])
    assert bin_labels(values, bins=3).tolist() == [0, 0, 1, 1, 2, 2]
    # y is a function of the column: all of its variance is between groups.
    assert correlation_ratio(bin_labels(values, 3), values**2) == pytest.approx(1.0)
    x = pd.DataFrame({"level": np.tile([1, 2, 3], 100), "other": np.arange(300.0)})
    table = rank_parameters(x, np.tile([0.0, 1.0, 0.0], 100))
    assert table.index[0] == "level" and table.loc["level", "eta2"] == pytest.approx(1.0)


def test_quantile_bins_hold_equal_shares():
    labels = bin_labels(np.arange(1000.0), bins=10)
    assert np.bincount(labels).tolist() == [100] * 10


def test_rank_parameters_refuses_nan_and_mismatched_lengths():
    x = pd.DataFrame({"a": np.arange(10.0)})
    with pytest.raises(ValueError, match="1 NaN"):
        rank_parameters(x, np.r_[np.nan, np.ones(9)])
    with pytest.raises(ValueError, match="len\\(x\\) = 10"):
        rank_parameters(x, np.ones(9))


def test_constant_output_ranks_as_nan():
    x = pd.DataFrame({"a": np.arange(10.0)})
    table = rank_parameters(x, np.ones(10))
    assert table.isna().all().all()
