"""The abstract mode reproduces its closed form (README: "Closed form") on whole runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model import analytic, run_scenario, with_overrides

REPLICATIONS = 24
#: Two-sided 99 % interval: a deterministic seed set, so this is a fixed check, not a flaky one.
CONFIDENCE = 0.99


def exact_conditions(baseline, **overrides):
    """Baseline with the closed form's assumptions met (no validator dropout, ample liquid)."""
    s = with_overrides(
        baseline,
        {
            "rounds": 100,
            "dropout.validator_dropout_probability": 0.0,
            "staking.initial_liquid_tokens": 10_000,
            "token.genesis_supply_tokens": 1e7,
            "detection.lazy_detection_rate": 0.3,
            "costs.train_cost_fiat_per_round": 3.0,
            **overrides,
        },
    )
    assert analytic.assumptions_violated(s) == []
    return s


def simulated_pi(s) -> pd.DataFrame:
    return pd.DataFrame([run_scenario(s, seed).strategies["pi"] for seed in range(REPLICATIONS)])


def assert_within_interval(simulated: pd.Series, expected: float, name: str):
    mean, se = simulated.mean(), simulated.std(ddof=1) / math.sqrt(len(simulated))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(simulated) - 1) * se
    slack = 1e-12 * max(1.0, abs(expected))  # zero-variance strategies differ only by rounding
    assert abs(mean - expected) <= half + slack, (
        f"{name}: simulated {mean:.6g} ± {half:.2g}, analytic {expected:.6g}"
    )


@pytest.fixture(scope="module")
def lazy_bound(baseline):
    return analytic.deterrence_bound_slash_fraction(exact_conditions(baseline), "lazy")


def test_the_lazy_deterrence_bound_lies_inside_the_unit_interval(lazy_bound):
    assert 0.02 < lazy_bound < 0.3


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("below the lazy deterrence bound", {"slashing.slash_fraction": 0.02}),
        ("above the lazy deterrence bound", {"slashing.slash_fraction": 0.3}),
        (
            "stake-weighted, honest Sybils, poison gain, decaying emission",
            {
                "slashing.slash_fraction": 0.15,
                "rewards.rule": "stake_weighted",
                "behaviour.sybil_update": "honest",
                "costs.poison_gain_fiat_per_round": 2.0,
                "emission.schedule": "exponential_decay",
                "emission.decay_rate_per_round": 0.01,
            },
        ),
    ],
)
def test_simulated_payoffs_match_the_closed_form(baseline, label, overrides):
    s = exact_conditions(baseline, **overrides)
    expected = analytic.expected_payoffs(s)["pi"]
    simulated = simulated_pi(s)
    for strategy, value in expected.items():
        assert_within_interval(simulated[strategy], value, f"{label} / {strategy}")


def test_each_side_of_the_deterrence_bound_has_the_predicted_winner(baseline, lazy_bound):
    for fraction, honest_wins in ((lazy_bound / 4, False), (min(1.0, lazy_bound * 3), True)):
        s = exact_conditions(baseline, **{"slashing.slash_fraction": fraction})
        sim = simulated_pi(s)
        margin = sim["honest"] - sim["lazy"]
        half = stats.t.ppf(0.995, len(margin) - 1) * margin.std(ddof=1) / math.sqrt(len(margin))
        if honest_wins:
            assert margin.mean() - half > 0
        else:
            assert margin.mean() + half < 0


def test_deterrence_bound_reduces_to_design_form_without_noise(baseline):
    # With ε = d = 0 and free cheating, the textbook p·(R + S) = c + g holds at the bound, up to the
    # small difference between the two sides' expected rewards (R_lazy − R_honest), kept exact here.
    s = exact_conditions(
        baseline,
        **{"detection.false_positive_rate": 0.0, "dropout.trainer_dropout_probability": 0.0},
    )
    f = analytic.deterrence_bound_slash_fraction(s, "lazy")
    p = s.detection.lazy_detection_rate * analytic.honest_share(s)
    rewards = analytic.expected_reward_tokens(s)
    r_honest, r_lazy = rewards["honest"], rewards["lazy"]
    S = f * s.staking.min_trainer_stake_tokens
    assert p * (r_lazy + S) == pytest.approx(s.costs.train_cost_fiat_per_round + (r_lazy - r_honest))
    assert abs(r_lazy - r_honest) < 0.01 * r_honest


def test_participation_bound_is_where_honest_profit_meets_the_outside_option(baseline):
    s = exact_conditions(baseline, **{"detection.false_positive_rate": 0.2})
    f = analytic.participation_bound_slash_fraction(s)
    assert 0 < f < 1
    at_bound = analytic.expected_payoffs(with_overrides(s, {"slashing.slash_fraction": f}))
    assert at_bound.loc["honest", "pi"] == pytest.approx(s.costs.outside_option_return_per_round, abs=1e-12)


def test_no_false_positives_means_no_participation_limit(baseline):
    s = exact_conditions(baseline, **{"detection.false_positive_rate": 0.0})
    assert analytic.participation_bound_slash_fraction(s) == math.inf


def test_expected_reward_is_exact_for_a_tiny_population(baseline):
    # One honest and one lazy trainer, no dropout: R_honest = pool·(p_l/1 + (1−p_l)/2).
    s = exact_conditions(
        baseline,
        **{
            "population.honest_trainers": 1,
            "population.lazy_trainers": 1,
            "population.sybil_owners": 0,
            "population.poisoning_trainers": 0,
            "dropout.trainer_dropout_probability": 0.0,
        },
    )
    p_lazy = s.detection.lazy_detection_rate * analytic.honest_share(s)
    pool = s.emission.initial_tokens_per_round * s.emission.trainer_share
    assert analytic.expected_reward_tokens(s)["honest"] == pytest.approx(pool * (p_lazy + (1 - p_lazy) / 2))


def test_assumptions_are_reported(baseline):
    broken = analytic.assumptions_violated(
        with_overrides(baseline, {"rewards.rule": "score_weighted", "slashing.ejection_strikes": 2})
    )
    assert any("ejection" in b for b in broken)
    assert any("score" in b for b in broken)
    assert any("validators drop out" in b for b in broken)


def test_small_liquid_buffers_break_the_closed_form_and_are_reported(baseline):
    # The baseline's 100-token buffers run dry for cheaters, who then leave the network.
    broken = analytic.assumptions_violated(
        with_overrides(baseline, {"dropout.validator_dropout_probability": 0.0})
    )
    assert {b.split()[0] for b in broken} == {"lazy", "sybil", "poisoning"}
    assert all("may run dry" in b for b in broken)


@pytest.mark.parametrize(
    ("deviation", "identities", "overrides"),
    [
        ("lazy", 1, {}),
        ("poisoning", 1, {"costs.poison_gain_fiat_per_round": 15.0}),
        ("sybil", 5, {"behaviour.sybil_update": "honest", "detection.sybil_detection_rate": 0.2}),
        ("sybil", 5, {"behaviour.sybil_update": "cheap", "detection.lazy_detection_rate": 0.1}),
    ],
)
def test_deterrence_bound_is_where_expected_payoffs_cross(baseline, deviation, identities, overrides):
    s = exact_conditions(baseline, **overrides)
    f = analytic.deterrence_bound_slash_fraction(s, deviation)
    assert 0.0 < f < 1.0

    def honest_minus_deviation(fraction: float) -> float:
        t = analytic.expected_payoffs(with_overrides(s, {"slashing.slash_fraction": fraction}))
        per_identity = t["profit_fiat_per_round_per_owner"]
        return per_identity["honest"] - per_identity[deviation] / identities

    step = min(0.01, f / 2)
    assert honest_minus_deviation(f) == pytest.approx(0.0, abs=1e-9)
    assert honest_minus_deviation(f - step) < 0 < honest_minus_deviation(f + step)


# -- no stake to slash ---------------------------------------------------------------------------
def no_stake(baseline, **overrides):
    return with_overrides(baseline, {"staking.min_trainer_stake_tokens": 0, **overrides})


def test_without_stake_the_bounds_follow_the_sign_of_the_margin_at_zero_slash(baseline):
    # Lazy work pays nothing but costs nothing: with a large reward honest work wins anyway
    # (no slash needed), with a high training cost it loses at every slash fraction.
    rich = no_stake(baseline, **{"costs.train_cost_fiat_per_round": 0.1})
    poor = no_stake(baseline, **{"costs.train_cost_fiat_per_round": 9.0})
    for s, deterrence, participation in ((rich, -math.inf, math.inf), (poor, math.inf, -math.inf)):
        payoffs = analytic.expected_payoffs(s)["profit_fiat_per_round_per_owner"]
        honest_wins = payoffs["honest"] >= payoffs["lazy"]
        assert analytic.deterrence_bound_slash_fraction(s, "lazy") == deterrence
        assert honest_wins == (deterrence < 0)
        assert analytic.participation_bound_slash_fraction(s) == participation


def test_without_capital_profit_per_unit_of_capital_is_undefined_not_infinite(baseline):
    s = no_stake(baseline, **{"staking.registration_cost_tokens": 0, "staking.initial_liquid_tokens": 0})
    table = analytic.expected_payoffs(s)
    trainers = table.loc[["honest", "lazy", "sybil", "poisoning"]]
    assert trainers["pi"].isna().all() and (trainers["capital_fiat_per_owner"] == 0).all()
    assert np.isfinite(table.loc["honest_validator", "pi"])  # validators still bond stake
