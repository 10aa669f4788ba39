"""Reward rules: exact splits of a pool between accepted submissions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.rewards import RULES

ACCEPTED = np.array([True, False, True, True])
STAKE = np.array([100.0, 50.0, 300.0, 100.0])
SCORE = np.array([1.0, 1.0, 0.2, 0.8])


def test_equal_pays_each_accepted_submission_the_same():
    np.testing.assert_allclose(RULES["equal"](90.0, ACCEPTED, STAKE, SCORE), [30, 0, 30, 30])


def test_stake_weighted_pays_in_proportion_to_stake():
    np.testing.assert_allclose(RULES["stake_weighted"](100.0, ACCEPTED, STAKE, SCORE), [20, 0, 60, 20])


def test_score_weighted_pays_in_proportion_to_score():
    np.testing.assert_allclose(RULES["score_weighted"](100.0, ACCEPTED, STAKE, SCORE), [50, 0, 10, 40])


@pytest.mark.parametrize("rule", sorted(RULES))
def test_nothing_accepted_means_nothing_minted(rule):
    assert RULES[rule](100.0, np.zeros(4, dtype=bool), STAKE, SCORE) is None


@given(
    accepted=arrays(bool, 8),
    stake=arrays(np.float64, 8, elements=st.floats(0.001, 1e6)),
    score=arrays(np.float64, 8, elements=st.floats(0.001, 1.0)),
    pool=st.floats(0, 1e6),
    rule=st.sampled_from(sorted(RULES)),
)
def test_payouts_add_up_to_the_pool_and_go_only_to_accepted(accepted, stake, score, pool, rule):
    payout = RULES[rule](pool, accepted, stake.copy(), score.copy())
    if not accepted.any():
        assert payout is None
        return
    assert payout.sum() == pytest.approx(pool, rel=1e-9, abs=1e-9)
    assert (payout[~accepted] == 0).all()
    assert (payout >= 0).all()
