"""Sensitivity: Sobol' indices reproduce analytic values (Ishigami, G-function) through SALib; Morris
effects reproduce SALib's regression values and the exact effects of a linear model; rankings; refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SALib.analyze import sobol as salib_sobol
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as salib_sampler
from SALib.test_functions import Sobol_G
from scipy.stats import qmc

from analysis.sensitivity import (
    bin_labels,
    correlation_ratio,
    morris_indices,
    rank_parameters,
    saltelli_to_salib_order,
    sobol_indices,
    unit_coordinate,
)
from analysis.sweep.designs import unit_sample
from analysis.sweep.sweepfile import Parameter

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


# -- Sobol' indices through SALib ----------------------------------------------------------------
# Sobol's G-function g(u) = prod (|4u_i − 2| + a_i) / (1 + a_i) on [0, 1]^d: V_i = 1 / (3 (1 + a_i)²),
# Var(g) = prod(1 + V_i) − 1, S_i = V_i / Var(g), ST_i = V_i prod_{j≠i}(1 + V_j) / Var(g).
G_A = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0])
G_V = 1.0 / (3.0 * (1.0 + G_A) ** 2)
G_S1 = G_V / (np.prod(1 + G_V) - 1)
G_ST = G_V * np.prod(1 + G_V) / (1 + G_V) / (np.prod(1 + G_V) - 1)
G_NAMES = [f"u{i}" for i in range(len(G_A))]


def g_function(u: np.ndarray) -> np.ndarray:
    a = G_A[: u.shape[1]]
    return np.prod((np.abs(4 * u - 2) + a) / (1 + a), axis=1)


def test_g_function_constants_are_salibs_analytic_ones():
    # An independent implementation of the same closed forms guards these against typos.
    np.testing.assert_allclose(G_S1, Sobol_G.sensitivity_index(G_A), rtol=1e-12)
    np.testing.assert_allclose(G_ST, Sobol_G.total_sensitivity_index(G_A), rtol=1e-12)
    assert np.round(G_S1[:4], 4).tolist() == [0.7162, 0.1790, 0.0237, 0.0072]


def test_sobol_indices_of_the_g_function():
    n_base = 2**12
    unit = unit_sample("saltelli", len(G_A), n_base, np.random.default_rng(21))
    table = sobol_indices(g_function(unit), n_base, G_NAMES, n_bootstrap=100)
    # Over 50 seeds the largest error at this N averaged 0.002 (module docstring); 0.01 is five times it.
    assert table["S1"].to_numpy() == pytest.approx(G_S1, abs=0.01)
    assert table["ST"].to_numpy() == pytest.approx(G_ST, abs=0.01)


def test_block_order_becomes_salibs_interleaved_order():
    # SALib's own sampler writes, per base row k, A_k, AB_1k … AB_dk, B_k; taking its blocks apart into
    # our stacked order and back must give its rows exactly.
    d, n = 3, 8
    problem = {"num_vars": d, "names": NAMES, "bounds": [[0.0, 1.0]] * d}
    theirs = salib_sampler.sample(problem, n, calc_second_order=False, seed=3)
    a, b = theirs[0 :: d + 2], theirs[d + 1 :: d + 2]
    mixed = [theirs[1 + i :: d + 2] for i in range(d)]
    for i, ab in enumerate(mixed):  # the layout SALib documents: AB_i is A with column i from B
        expected = a.copy()
        expected[:, i] = b[:, i]
        np.testing.assert_array_equal(ab, expected)
    np.testing.assert_array_equal(saltelli_to_salib_order(np.vstack([a, b, *mixed]), n, d), theirs)
    # n_base = 2, d = 3: blocks A = 0 1, B = 2 3, AB_1 = 4 5, AB_2 = 6 7, AB_3 = 8 9.
    assert saltelli_to_salib_order(np.arange(10), 2, 3).tolist() == [0, 4, 6, 8, 2, 1, 5, 7, 9, 3]


def test_indices_are_salibs_on_its_own_sample():
    d, n = 3, 2**10
    problem = {"num_vars": d, "names": NAMES, "bounds": [[-np.pi, np.pi]] * d}
    x = salib_sampler.sample(problem, n, calc_second_order=False, seed=4)
    theirs = salib_sobol.analyze(problem, ishigami(x), calc_second_order=False, seed=1)
    blocks = [x[0 :: d + 2], x[d + 1 :: d + 2], *[x[1 + i :: d + 2] for i in range(d)]]
    ours = sobol_indices(ishigami(np.vstack(blocks)), n, NAMES)
    np.testing.assert_allclose(ours["S1"], theirs["S1"], rtol=1e-12)
    np.testing.assert_allclose(ours["ST"], theirs["ST"], rtol=1e-12)


def test_intervals_cover_the_truth_at_about_the_nominal_rate():
    # Plain Monte-Carlo A and B, where the bootstrap's independence assumption holds: 40 seeds × 6
    # indices. Over 50 seeds the coverage measured 0.93–0.96; the bounds catch intervals that are
    # too narrow (e.g. a half-width at the wrong quantile) or far too wide; the run is deterministic.
    n, covered = 256, []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        a, b = rng.random((n, 3)), rng.random((n, 3))
        unit = np.vstack([a, b, *[np.where(np.arange(3) == i, b, a) for i in range(3)]])
        table = sobol_indices(ishigami(to_ishigami_domain(unit)), n, NAMES, n_bootstrap=100, seed=seed)
        for index, exact in (("S1", S1_EXACT), ("ST", ST_EXACT)):
            covered += list((table[f"{index}_low"] <= exact) & (exact <= table[f"{index}_high"]))
    assert 0.88 <= np.mean(covered) <= 0.99


def test_numpys_global_random_state_is_left_alone():
    # SALib reads seed=0 as "no seed" and would draw from np.random; seed=0 must still be our own stream.
    y = ishigami(to_ishigami_domain(saltelli_unit_sample(3, 6, seed=7)))
    np.random.seed(1)
    expected = np.random.random()
    np.random.seed(1)
    first = sobol_indices(y, 2**6, NAMES, seed=0)
    assert np.random.random() == expected
    pd.testing.assert_frame_equal(first, sobol_indices(y, 2**6, NAMES, seed=0))


# -- Morris elementary effects ---------------------------------------------------------------------
def morris_design(parameters: list[Parameter], trajectories: int, levels: int, seed) -> pd.DataFrame:
    """What the sweep's morris design runs: SALib's trajectories on [0, 1]^d mapped by from_unit."""
    d = len(parameters)
    problem = {"num_vars": d, "names": [p.path for p in parameters], "bounds": [[0.0, 1.0]] * d}
    unit = morris_sampler.sample(problem, trajectories, num_levels=levels, seed=seed)
    return pd.DataFrame({p.path: [p.from_unit(u) for u in unit[:, i]] for i, p in enumerate(parameters)})


def spec(parameter: Parameter) -> dict:
    return {k: getattr(parameter, k) for k in ("path", "kind", "low", "high", "scale", "values")}


def test_morris_reproduces_salibs_regression_values_for_ishigami():
    # SALib's tests/test_regression.py::TestMorris::test_regression_morris_vanilla: 10 000 trajectories,
    # 4 levels, default_rng(12345) → mu_star = 7.682808, 7.875, 6.256295 (rtol 1e-5).
    parameters = [Parameter(path=name, low=-np.pi, high=np.pi) for name in NAMES]
    values = morris_design(parameters, 10_000, 4, np.random.default_rng(12345))
    table = morris_indices(values, ishigami(values.to_numpy()), [spec(p) for p in parameters], levels=4)
    np.testing.assert_allclose(table.loc[NAMES, "mu_star"], [7.682808, 7.875, 6.256295], rtol=1e-5)
    assert list(table.index) == ["x2", "x1", "x3"]


def test_morris_effects_of_a_linear_model_are_its_slopes_and_inert_inputs_score_zero():
    # y = 3 u(rate) − 2 u(size): in unit-cube terms every elementary effect of rate is exactly 3 and of
    # size exactly −2 (a log-scale range), whatever the trajectory; an int range, a list of values and a
    # pinned parameter (low = high) do not enter y.
    parameters = [
        Parameter(path="count", low=1, high=5, kind="int"),
        Parameter(path="rate", low=0.0, high=10.0),
        Parameter(path="size", low=0.01, high=100.0, scale="log"),
        Parameter(path="rule", values=("median", "mean", "krum")),
        Parameter(path="pinned", low=7.0, high=7.0),
    ]
    values = morris_design(parameters, 30, 6, seed=5)
    y = 3 * values["rate"] / 10.0 - 2 * np.log10(values["size"] / 0.01) / 4.0
    table = morris_indices(values, y, [spec(p) for p in parameters], levels=6)
    assert list(table.columns) == ["mu_star", "mu_star_conf", "sigma", "mu"]
    assert list(table.index[:2]) == ["rate", "size"]
    assert table.loc["rate"].to_numpy() == pytest.approx([3.0, 0.0, 0.0, 3.0], abs=1e-9)
    assert table.loc["size"].to_numpy() == pytest.approx([2.0, 0.0, 0.0, -2.0], abs=1e-9)
    assert table.loc[["count", "rule", "pinned"]].to_numpy() == pytest.approx(np.zeros((3, 4)), abs=1e-9)


def test_morris_ranks_the_g_functions_inputs_by_their_importance():
    # Smaller a_i, more influence: u0 > u1 > u2 > u3, and a = 99 makes u4, u5 nearly inert.
    parameters = [Parameter(path=f"u{i}", low=0.0, high=1.0) for i in range(6)]
    specs = [spec(p) for p in parameters]
    values = morris_design(parameters, 200, 4, seed=6)
    y = g_function(values.to_numpy())
    table = morris_indices(values, y, specs, levels=4)
    assert list(table.index[:4]) == ["u0", "u1", "u2", "u3"]
    assert (table.loc[["u4", "u5"], "mu_star"] < 0.02 * table.loc["u0", "mu_star"]).all()
    wider = morris_indices(values, y, specs, levels=4, confidence=0.99)
    assert (wider["mu_star_conf"] > table.loc[wider.index, "mu_star_conf"]).all()


def test_morris_refuses_rows_out_of_trajectory_order():
    parameters = [Parameter(path=name, low=0.0, high=1.0) for name in NAMES]
    values = morris_design(parameters, 10, 4, seed=8)
    shuffled = values.sample(frac=1.0, random_state=np.random.default_rng(0)).reset_index(drop=True)
    with pytest.raises(ValueError, match=r"trajectory 0 .* not in SALib's Morris trajectory order"):
        morris_indices(shuffled, shuffled.sum(axis=1), [spec(p) for p in parameters], levels=4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"levels": 1}, "levels must be a whole number >= 2"),
        ({"y": np.ones(39)}, "len\\(values\\) = 40"),
        ({"y": np.r_[np.nan, np.ones(39)]}, "1 NaN"),
        ({"values": pd.DataFrame({"x1": np.zeros(40)})}, "no column for \\['x2', 'x3'\\]"),
        ({"specs": []}, "specs is empty"),
        ({"n_bootstrap": 1}, "n_bootstrap"),
    ],
)
def test_morris_refuses_bad_input(change, message):
    parameters = [Parameter(path=name, low=0.0, high=1.0) for name in NAMES]
    values = morris_design(parameters, 10, 4, seed=9)
    call = {"values": values, "y": np.ones(40), "specs": [spec(p) for p in parameters], "levels": 4} | change
    with pytest.raises(ValueError, match=message):
        morris_indices(**call)


def test_a_value_outside_a_parameters_list_is_named():
    with pytest.raises(ValueError, match="'rule': value 'fedavg' is not one of its values"):
        unit_coordinate("fedavg", {"path": "rule", "values": ["median", "krum"]})


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(0.01, 100.0),
    ratio=st.floats(1.001, 1e4),
    scale=st.sampled_from(["linear", "log"]),
    u=st.floats(0.0, 1.0),
)
def test_unit_coordinate_inverts_from_unit_on_real_ranges(low, ratio, scale, u):
    parameter = Parameter(path="p", low=low, high=low * ratio, scale=scale)
    assert unit_coordinate(parameter.from_unit(u), spec(parameter)) == pytest.approx(u, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(low=st.integers(1, 50), width=st.integers(1, 60), scale=st.sampled_from(["linear", "log"]))
def test_unit_coordinate_of_whole_numbers_is_increasing_and_lands_in_their_share(low, width, scale):
    parameter = Parameter(path="n", low=low, high=low + width, kind="int", scale=scale)
    numbers = list(range(low, low + width + 1))
    coordinates = [unit_coordinate(n, spec(parameter)) for n in numbers]
    assert np.all(np.diff(coordinates) > 0)
    assert [parameter.from_unit(u) for u in coordinates] == numbers


def test_unit_coordinate_of_listed_values_returns_to_the_same_value():
    parameter = Parameter(path="rule", values=("median", "mean", "krum", "trimmed"))
    coordinates = [unit_coordinate(v, spec(parameter)) for v in parameter.values]
    assert coordinates == [0.125, 0.375, 0.625, 0.875]  # the centres of four equal shares
    assert [parameter.from_unit(u) for u in coordinates] == list(parameter.values)
