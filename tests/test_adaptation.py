"""Revision, exit and entry rules: Schlag's imitation gives the replicator dynamics, logit the softmax,
and every rule keeps to the revisers and the choices, with draws that depend only on array sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.adaptation import REVISION_RULES, entrants, exits, imitation, logit, no_revision

NAN = math.nan
ALL_TRAINER_STRATEGIES = np.array([0, 1, 2, 3])
NO_ESTIMATE = np.full(4, NAN)


def revise(
    rule,
    seed,
    strategy,
    window_return,
    revising=None,
    choices=ALL_TRAINER_STRATEGIES,
    estimate=NO_ESTIMATE,
    temperature=0.01,
):
    """One revision round of ``rule`` on plain lists; everyone revises unless told."""
    strategy = np.asarray(strategy, dtype=np.int64)
    revising = np.ones(strategy.size, dtype=bool) if revising is None else np.asarray(revising, dtype=bool)
    return rule(
        np.random.default_rng(seed),
        strategy,
        np.asarray(window_return, dtype=float),
        revising,
        np.asarray(choices, dtype=np.int64),
        np.asarray(estimate, dtype=float),
        temperature,
    )


# Imitation


def test_imitation_moves_shares_by_the_replicator_dynamics():
    # Schlag (1998): with everyone revising, E[Δn_s] = n_s Σ_t n_t (π_s − π_t) / ((n − 1) span), i.e.
    # Δx_s = x_s (π_s − π̄) / span · n / (n − 1). Owners move independently of each other, each into s
    # (or out of it) with its own probability, so the variance of n_s' is a sum of Bernoulli variances.
    counts = np.array([80_000, 60_000, 20_000, 40_000])
    payoff = np.array([0.05, 0.01, -0.02, 0.04])
    n, span = counts.sum(), payoff.max() - payoff.min()
    strategy = np.repeat(np.arange(4), counts)
    revised = revise(imitation, 11, strategy, payoff[strategy])

    share = counts / n
    mean_payoff = share @ payoff
    expected_change = share * (payoff - mean_payoff) / span * n / (n - 1)
    observed_change = np.bincount(revised, minlength=4) / n - share

    gain = np.maximum(payoff[None, :] - payoff[:, None], 0.0) / span  # gain[t, s]: from t to s
    meet = counts / (n - 1)
    into = meet[None, :] * gain  # into[t, s]: probability an owner of t moves to s (t ≠ s)
    leaves = (into * (1 - np.eye(4))).sum(axis=1)  # probability an owner of s moves away
    variance = ((counts[:, None] * into * (1 - into)) * (1 - np.eye(4))).sum(axis=0)
    variance += counts * leaves * (1 - leaves)
    standard_error = np.sqrt(variance) / n

    assert np.all(np.abs(observed_change - expected_change) < 4 * standard_error)
    assert np.all(np.abs(expected_change) > 20 * standard_error)  # the test can tell the dynamics apart


def test_imitation_adopts_with_probability_gain_over_span_from_a_peer_met_at_random():
    # Owner 0 (return 0) meets owner 1 (return 0.5) or owner 2 (return 1) with probability 1/2 each
    # and copies with probability 0.5 or 1: it ends at 1 w.p. 1/4, at 2 w.p. 1/2, stays w.p. 1/4.
    rng = np.random.default_rng(5)
    strategy, returns = np.array([0, 1, 3]), np.array([0.0, 0.5, 1.0])
    revising = np.array([True, False, False])
    trials = 20_000
    ends = np.array(
        [
            imitation(rng, strategy, returns, revising, ALL_TRAINER_STRATEGIES, NO_ESTIMATE, 1.0)[0]
            for _ in range(trials)
        ]
    )
    for target, probability in ((0, 0.25), (1, 0.25), (3, 0.5)):
        share = np.mean(ends == target)
        assert abs(share - probability) < 4.5 * math.sqrt(probability * (1 - probability) / trials)


def test_imitation_the_lower_earner_of_two_always_copies_and_the_higher_never():
    for seed in range(20):
        assert revise(imitation, seed, [0, 1], [0.0, 0.04]).tolist() == [1, 1]
        assert revise(imitation, seed, [3, 0], [-0.1, 0.2]).tolist() == [0, 0]


def test_imitation_switches_nobody_when_every_return_is_equal():
    assert revise(imitation, 1, [0, 1, 2, 3] * 50, [0.02] * 200).tolist() == [0, 1, 2, 3] * 50


def test_imitation_never_meets_an_unmeasured_owner_and_an_unmeasured_reviser_keeps():
    # Owner 1 has no return: it is nobody's model, and keeps its own strategy; owner 0 can only
    # meet owner 2, who earns more, and so always copies it.
    for seed in range(20):
        assert revise(imitation, seed, [0, 3, 1], [0.0, NAN, 1.0]).tolist() == [1, 3, 1]


def test_imitation_never_copies_a_strategy_outside_the_choices():
    # A single-identity trainer cannot become a Sybil, however well the Sybil does.
    for seed in range(20):
        assert revise(imitation, seed, [0, 2], [0.0, 1.0], choices=[0, 1, 3]).tolist() == [0, 2]


@pytest.mark.parametrize(
    ("strategy", "returns"),
    [([], []), ([2], [0.05]), ([0, 1, 3], [NAN, NAN, NAN]), ([0, 1], [0.05, NAN])],
    ids=["empty", "one owner", "all unmeasured", "one measured"],
)
def test_imitation_without_a_peer_to_meet_keeps_every_strategy(strategy, returns):
    revised = revise(imitation, 3, strategy, returns)
    assert revised.tolist() == strategy and revised.dtype == np.int64


# Logit


def softmax(values, temperature):
    top = max(values)
    weights = [math.exp((v - top) / temperature) for v in values]
    return [w / sum(weights) for w in weights]


def test_logit_draws_strategies_with_softmax_frequencies():
    n, temperature = 200_000, 0.02
    estimate = [0.05, 0.01, NAN, 0.03]  # strategy 2 has no estimate: it is not drawn
    revised = revise(logit, 7, np.zeros(n), np.full(n, NAN), estimate=estimate, temperature=temperature)
    counts = np.bincount(revised, minlength=4)
    assert counts[2] == 0
    for strategy, probability in zip([0, 1, 3], softmax([0.05, 0.01, 0.03], temperature), strict=True):
        assert abs(counts[strategy] / n - probability) < 4.5 * math.sqrt(probability * (1 - probability) / n)


def test_logit_at_a_tiny_temperature_is_the_best_response():
    estimate = [0.01, 0.03, 0.02, 0.029]
    for temperature in (1e-9, 5e-324):
        revised = revise(
            logit, 2, [0, 1, 2, 3] * 100, [0.0] * 400, estimate=estimate, temperature=temperature
        )
        assert set(revised.tolist()) == {1}


def test_logit_at_a_tiny_temperature_splits_a_tie_between_the_best():
    n = 40_000
    revised = revise(logit, 4, np.zeros(n), np.zeros(n), estimate=[0.03, 0.0, NAN, 0.03], temperature=1e-9)
    share_zero = np.mean(revised == 0)
    assert set(revised.tolist()) == {0, 3}
    assert abs(share_zero - 0.5) < 4.5 * math.sqrt(0.25 / n)


def test_logit_at_a_huge_temperature_is_uniform_over_the_choices():
    n = 90_000
    revised = revise(
        logit, 9, np.zeros(n), np.zeros(n), choices=[0, 1, 3], estimate=[0.9, -0.9, 5.0, 0.1], temperature=1e6
    )
    counts = np.bincount(revised, minlength=4)
    assert counts[2] == 0
    assert np.all(np.abs(counts[[0, 1, 3]] / n - 1 / 3) < 4.5 * math.sqrt(2 / 9 / n))


def test_logit_with_one_choice_moves_every_reviser_to_it():
    revised = revise(
        logit, 1, [0, 1, 1, 0], [0.0] * 4, [True, True, False, False], choices=[1], estimate=[0, 0]
    )
    assert revised.tolist() == [1, 1, 1, 0]


def test_logit_keeps_every_strategy_when_no_choice_has_an_estimate():
    assert revise(logit, 1, [0, 1, 3], [0.1, 0.2, 0.3], estimate=NO_ESTIMATE).tolist() == [0, 1, 3]
    assert revise(logit, 1, [], [], choices=[0, 1], estimate=[0.1, 0.0]).tolist() == []


@pytest.mark.parametrize("temperature", [0.0, -0.01, NAN])
def test_logit_refuses_a_temperature_that_is_not_positive(temperature):
    with pytest.raises(ValueError, match="temperature must be a positive"):
        revise(logit, 1, [0], [0.1], choices=[0, 1], estimate=[0.1, 0.0], temperature=temperature)


def test_logit_refuses_choices_that_have_no_estimate_slot():
    with pytest.raises(ValueError, match=r"choices \[0, 1, 3\] must be strategy indices of the role, 0 to 1"):
        revise(logit, 1, [0], [0.1], choices=[0, 1, 3], estimate=[0.1, 0.0])


# Exit and entry


def test_exit_takes_the_active_owners_below_the_outside_option_plus_the_threshold():
    returns = np.array([0.010, 0.005, 0.0049, -0.2, NAN, -0.2])
    active = np.array([True, True, True, True, True, False])
    assert exits(returns, active, outside_return=0.004, threshold=0.001).tolist() == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert exits(np.array([]), np.array([], dtype=bool), 0.0, 0.0).tolist() == []


def test_entrants_look_at_the_entry_rate_and_join_only_when_the_estimate_beats_the_outside_option():
    n, rate = 100_000, 0.3
    estimate = np.array([0.02, 0.01, NAN, 0.05])  # against an outside return of 0.01
    candidate = np.arange(n) % 4
    waiting = np.arange(n) % 8 < 4  # half the candidates of each strategy are waiting
    joins = entrants(np.random.default_rng(8), candidate, waiting, estimate, 0.01, rate)

    assert not joins[~waiting].any()
    assert not joins[candidate == 1].any()  # equal to the outside option: not strictly better
    assert not joins[candidate == 2].any()  # no estimate
    for strategy in (0, 3):
        eligible = waiting & (candidate == strategy)
        share = joins[eligible].mean()
        assert abs(share - rate) < 4.5 * math.sqrt(rate * (1 - rate) / eligible.sum())


def test_entrants_handle_no_candidates_and_refuse_a_rate_outside_zero_to_one():
    empty = entrants(
        np.random.default_rng(1), np.array([], dtype=int), np.array([], dtype=bool), NO_ESTIMATE, 0, 1
    )
    assert empty.tolist() == []
    with pytest.raises(ValueError, match=r"entry_rate must be a probability in \[0, 1\]"):
        entrants(np.random.default_rng(1), np.array([0]), np.array([True]), np.zeros(4), 0.0, 1.5)


# Invariants over random small groups


@st.composite
def groups(draw, size=None):
    """One role's group of ``size`` owners (any, up to 12, if not given): strategies, returns (some
    unmeasured), revisers, choices, estimates and a temperature."""
    n = draw(st.integers(0, 12)) if size is None else size
    value = st.one_of(st.just(NAN), st.floats(-0.1, 0.1), st.sampled_from([0.0, 0.01]))
    return {
        "strategy": np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64),
        "window_return": np.array(draw(st.lists(value, min_size=n, max_size=n)), dtype=float),
        "revising": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "choices": np.array(sorted(draw(st.sets(st.integers(0, 3), min_size=1))), dtype=np.int64),
        "estimate": np.array(draw(st.lists(value, min_size=4, max_size=4)), dtype=float),
        "temperature": draw(st.floats(1e-6, 1.0)),
    }


def run_rule(rule, seed, group):
    rng = np.random.default_rng(seed)
    return rule(rng, **group), rng.bit_generator.state


@pytest.mark.parametrize("name", sorted(REVISION_RULES))
@settings(max_examples=150, deadline=None)
@given(group=groups(), seed=st.integers(0, 2**32 - 1))
def test_only_revisers_move_and_only_within_the_choices(name, group, seed):
    before = {key: np.copy(value) for key, value in group.items()}
    revised, _ = run_rule(REVISION_RULES[name], seed, group)

    assert revised.shape == group["strategy"].shape and revised.dtype == group["strategy"].dtype
    moved = revised != group["strategy"]
    assert not (moved & ~group["revising"]).any()
    assert np.isin(revised[moved], group["choices"]).all()
    for key, value in before.items():
        np.testing.assert_array_equal(group[key], value)  # inputs are left as they were


@pytest.mark.parametrize("name", sorted(REVISION_RULES))
@settings(max_examples=100, deadline=None)
@given(group=groups(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_a_rule_is_deterministic_and_its_draws_depend_only_on_the_group_size(name, group, seed, data):
    rule = REVISION_RULES[name]
    revised, state = run_rule(rule, seed, group)
    again, state_again = run_rule(rule, seed, group)
    np.testing.assert_array_equal(revised, again)
    assert state == state_again

    # Any other group of the same size — other returns, estimates, revisers, choices — leaves the
    # stream in the same place.
    other = data.draw(groups(size=group["strategy"].size))
    assert run_rule(rule, seed, other)[1] == state


@settings(max_examples=150, deadline=None)
@given(group=groups(), seed=st.integers(0, 2**32 - 1))
def test_imitation_only_copies_a_measured_peer_who_earned_more(group, seed):
    revised, _ = run_rule(imitation, seed, group)
    returns, strategy = group["window_return"], group["strategy"]
    for i in np.flatnonzero(revised != strategy):
        assert np.isfinite(returns[i])
        better = np.isfinite(returns) & (returns > returns[i]) & (strategy == revised[i])
        better[i] = False
        assert better.any()


def test_no_revision_returns_a_copy_and_draws_nothing():
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    strategy = np.array([0, 1, 3])
    kept = no_revision(
        rng, strategy, np.zeros(3), np.ones(3, dtype=bool), ALL_TRAINER_STRATEGIES, NO_ESTIMATE, 1.0
    )
    assert kept.tolist() == [0, 1, 3] and kept is not strategy
    assert rng.bit_generator.state == state


@settings(max_examples=100, deadline=None)
@given(
    estimate=st.lists(st.one_of(st.just(NAN), st.floats(-0.1, 0.1)), min_size=4, max_size=4),
    candidates=st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=12),
    outside=st.floats(-0.05, 0.05),
    rate=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_entrants_draw_one_number_per_candidate_whatever_the_estimates(
    estimate, candidates, outside, rate, seed
):
    strategy = np.array([c[0] for c in candidates], dtype=np.int64)
    waiting = np.array([c[1] for c in candidates], dtype=bool)
    rng = np.random.default_rng(seed)
    joins = entrants(rng, strategy, waiting, np.array(estimate), outside, rate)
    reference = np.random.default_rng(seed)
    reference.random(len(candidates))
    assert rng.bit_generator.state == reference.bit_generator.state
    expected = np.array(estimate)[strategy] if candidates else np.array([])
    assert not (joins & ~(waiting & (expected > outside))).any()


@settings(max_examples=100, deadline=None)
@given(
    returns=st.lists(st.one_of(st.just(NAN), st.floats(-0.1, 0.1)), max_size=12),
    outside=st.floats(-0.05, 0.05),
    threshold=st.floats(-0.05, 0.05),
    data=st.data(),
)
def test_exit_is_exactly_active_measured_and_below_the_bar(returns, outside, threshold, data):
    active = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(returns), max_size=len(returns))), dtype=bool
    )
    leaves = exits(np.array(returns, dtype=float), active, outside, threshold)
    expected = [
        a and not math.isnan(r) and r < outside + threshold for r, a in zip(returns, active, strict=True)
    ]
    assert leaves.tolist() == expected
