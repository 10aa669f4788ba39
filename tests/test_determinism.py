"""Determinism: the same scenario and seed give identical numbers, whatever the block size."""

from __future__ import annotations

import numpy as np
import pandas as pd

import model.randomness
from model import run_scenario, with_overrides


def test_same_seed_gives_identical_kpis_and_trajectory(small):
    a = run_scenario(small, 11, trajectory=True)
    b = run_scenario(small, 11, trajectory=True)
    assert a.kpis == b.kpis
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    pd.testing.assert_frame_equal(a.strategies, b.strategies)


def test_different_seeds_give_different_trajectories(small):
    a = run_scenario(small, 1, trajectory=True).trajectory
    b = run_scenario(small, 2, trajectory=True).trajectory
    assert not np.array_equal(a["flagged"], b["flagged"])


def test_seed_sequence_and_its_integer_agree(small):
    assert run_scenario(small, 5).kpis == run_scenario(small, np.random.SeedSequence(5)).kpis


def test_scenario_seed_is_the_default(small):
    seeded = with_overrides(small, {"seed": 9})
    assert run_scenario(seeded).kpis == run_scenario(small, 9).kpis


def test_results_do_not_depend_on_the_random_block_size(small, monkeypatch):
    scenario = with_overrides(small, {"rewards.rule": "score_weighted"})
    reference = run_scenario(scenario, 3, trajectory=True)
    monkeypatch.setattr(model.randomness, "BLOCK_NUMBERS", 7)  # a few rows per block
    again = run_scenario(scenario, 3, trajectory=True)
    assert reference.kpis == again.kpis
    pd.testing.assert_frame_equal(reference.trajectory, again.trajectory)


def test_no_global_random_state_is_used(small):
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    run_scenario(small, 4)
    assert np.random.random() == before
