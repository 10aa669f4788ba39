"""Designs: the requested number of points, inside the declared bounds, crossed not zipped."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.sweep.designs import Design, design_points, run_seed, unit_sample
from analysis.sweep.sweepfile import sweep_from_dict

from .conftest import BASELINE

RANGES = [
    {"path": "slashing.slash_fraction", "low": 0.05, "high": 0.9},
    {"path": "emission.initial_tokens_per_round", "low": 10.0, "high": 5000.0, "scale": "log"},
    {"path": "population.lazy_trainers", "low": 0, "high": 25, "type": "int"},
    {"path": "detection.false_positive_rate", "low": 0.0, "high": 0.1},
]


def make(design: str, parameters: list[dict], points: int | None = None, seed: int = 0):
    table = {"base": str(BASELINE), "design": design, "seed": seed}
    if points is not None:
        table["points"] = points
    return sweep_from_dict({"sweep": table, "parameters": parameters}, Path("."))


def assert_inside(points: list[dict], parameters: list[dict]):
    for point in points:
        for p in parameters:
            value = point[p["path"]]
            assert p["low"] <= value <= p["high"], (p["path"], value)
            if p.get("type") == "int":
                assert isinstance(value, int)


@settings(max_examples=40, deadline=None)
@given(
    design=st.sampled_from(["lhs", "montecarlo", "sobol"]),
    exponent=st.integers(0, 7),
    dims=st.integers(1, 4),
    seed=st.integers(0, 2**31),
)
def test_sampled_designs_give_the_requested_points_inside_the_bounds(design, exponent, dims, seed):
    points = 2**exponent
    parameters = RANGES[:dims]
    got = design_points(make(design, parameters, points, seed))
    assert len(got) == points
    assert_inside(got, parameters)


@settings(max_examples=20, deadline=None)
@given(exponent=st.integers(0, 6), dims=st.integers(1, 4), seed=st.integers(0, 2**31))
def test_saltelli_gives_n_times_d_plus_2_points_with_its_block_structure(exponent, dims, seed):
    n, parameters = 2**exponent, RANGES[:dims]
    sweep = make("saltelli", parameters, n, seed)
    got = design_points(sweep)
    assert len(got) == n * (dims + 2)
    assert_inside(got, parameters)
    unit = unit_sample("saltelli", dims, n, np.random.default_rng(seed))
    a, b = unit[:n], unit[n : 2 * n]
    for i in range(dims):
        ab = unit[(2 + i) * n : (3 + i) * n]
        assert np.array_equal(np.delete(ab, i, axis=1), np.delete(a, i, axis=1))
        assert np.array_equal(ab[:, i], b[:, i])


@settings(max_examples=30, deadline=None)
@given(steps=st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_grid_is_the_full_cross_product(steps):
    parameters = [dict(RANGES[i], steps=s) for i, s in enumerate(steps)]
    got = design_points(make("grid", parameters))
    assert len(got) == math.prod(steps)
    assert_inside(got, parameters)
    combos = {tuple(p[q["path"]] for q in parameters) for p in got}
    assert len(combos) == len(got)  # crossed: every combination once
    per_axis = [sorted({p[q["path"]] for p in got}) for q in parameters]
    assert combos == set(itertools.product(*per_axis))


def test_grid_ends_are_included_and_log_steps_are_geometric():
    got = design_points(make("grid", [dict(RANGES[1], steps=3)]))
    values = [p["emission.initial_tokens_per_round"] for p in got]
    assert values[0] == pytest.approx(10.0) and values[-1] == pytest.approx(5000.0)
    assert values[1] == pytest.approx(math.sqrt(10.0 * 5000.0))


def test_list_values_are_sampled_evenly():
    sweep = make("montecarlo", [{"path": "rewards.rule", "values": ["equal", "stake_weighted"]}], 2000)
    rules = [p["rewards.rule"] for p in design_points(sweep)]
    assert 900 < rules.count("equal") < 1100


def test_design_points_are_decoded_lazily_in_a_fixed_order():
    sweep = make("grid", [dict(RANGES[0], steps=3), dict(RANGES[2], steps=2)])
    design = Design(sweep)
    assert len(design) == 6
    assert design.point(1)["population.lazy_trainers"] == 25  # the last parameter varies fastest
    assert design.point(2)["slashing.slash_fraction"] == pytest.approx((0.05 + 0.9) / 2)


def test_same_seed_same_design_and_run_seeds_are_distinct():
    a = design_points(make("lhs", RANGES, 16, seed=4))
    assert a == design_points(make("lhs", RANGES, 16, seed=4))
    assert a != design_points(make("lhs", RANGES, 16, seed=5))
    seeds = {run_seed(1, p, r) for p in range(50) for r in range(10)}
    assert len(seeds) == 500


# -- morris ----------------------------------------------------------------------------------
def make_morris(parameters: list[dict], trajectories: int, levels: int = 4, seed: int = 0):
    table = {"base": str(BASELINE), "design": "morris", "seed": seed, "points": trajectories}
    table["morris_levels"] = levels
    return sweep_from_dict({"sweep": table, "parameters": parameters}, Path("."))


def changed(a: dict, b: dict) -> list[str]:
    return [key for key in a if a[key] != b[key]]


@settings(max_examples=30, deadline=None)
@given(
    trajectories=st.integers(2, 6),
    dims=st.integers(1, 4),
    levels=st.sampled_from([2, 4, 6, 8]),
    seed=st.integers(0, 2**31),
)
def test_morris_gives_r_trajectories_that_each_move_one_parameter_per_step(trajectories, dims, levels, seed):
    parameters = RANGES[:dims]
    sweep = make_morris(parameters, trajectories, levels, seed)
    got = design_points(sweep)
    assert len(got) == trajectories * (dims + 1)
    assert_inside(got, parameters)
    for t in range(trajectories):
        block = got[t * (dims + 1) : (t + 1) * (dims + 1)]
        moved = [changed(a, b) for a, b in itertools.pairwise(block)]
        assert all(len(keys) == 1 for keys in moved), moved
        assert sorted(k for keys in moved for k in keys) == sorted(p["path"] for p in parameters)
    unit = Design(sweep)._unit
    assert np.allclose(unit * (levels - 1), np.round(unit * (levels - 1)))  # on the levels' grid
    assert unit.min() >= 0 and unit.max() <= 1


def test_morris_points_come_from_the_sweep_seed():
    a = design_points(make_morris(RANGES, 4, seed=7))
    assert a == design_points(make_morris(RANGES, 4, seed=7))
    assert a != design_points(make_morris(RANGES, 4, seed=8))


def test_morris_reaches_both_ends_of_a_range():
    got = design_points(make_morris(RANGES[:1], 20, levels=2, seed=1))
    assert {p["slashing.slash_fraction"] for p in got} == {0.05, 0.9}


# -- designs and mixes crossed with parameter points -----------------------------------------
@settings(max_examples=30, deadline=None)
@given(steps=st.integers(1, 4), n_designs=st.integers(1, 3), n_mixes=st.integers(1, 3))
def test_points_cross_parameter_points_designs_and_mixes_in_the_documented_order(steps, n_designs, n_mixes):
    data = {
        "sweep": {"base": str(BASELINE), "seed": 5},
        "parameters": [dict(RANGES[0], steps=steps)],
        "designs": {f"d{i}": {"detection.false_positive_rate": i / 100} for i in range(n_designs)},
        "mixes": {f"m{i}": {"population.honest_trainers": 50 + i} for i in range(n_mixes)},
    }
    design = Design(sweep_from_dict(data, Path(".")))
    assert len(design) == steps * n_designs * n_mixes
    index = 0
    for point in range(steps):
        for d in range(n_designs):
            for m in range(n_mixes):
                assert index == (point * n_designs + d) * n_mixes + m
                assert design.locate(index) == (point, d, m)
                assert design.design_name(index) == f"d{d}" and design.mix(index) == f"m{m}"
                assert design.seed_point(index) == point * n_mixes + m  # the same for every design
                assert design.point(index) == {
                    "detection.false_positive_rate": d / 100,
                    "population.honest_trainers": 50 + m,
                    **design.design_values(point),
                }
                index += 1


def test_without_designs_points_and_seeds_are_numbered_as_before():
    data = {
        "sweep": {"base": str(BASELINE)},
        "parameters": [dict(RANGES[0], steps=3)],
        "mixes": {"a": {}, "b": {"population.honest_trainers": 50}},
    }
    design = Design(sweep_from_dict(data, Path(".")))
    assert [design.seed_point(i) for i in range(len(design))] == list(range(6))
    assert [design.mix(i) for i in range(len(design))] == ["a", "b"] * 3
    assert {design.design_name(i) for i in range(len(design))} == {"base"}
