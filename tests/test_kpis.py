"""KPIs: per-owner, per-capital payoffs and margins as the README's "Where honesty dominates" defines them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import run_scenario, with_overrides
from model.books import committed_rounds, identity_profit_fiat
from model.kpis import margin
from model.network import FLNetwork


def test_margin_is_honest_minus_the_best_present_deviation():
    pi = {"honest": 0.05, "lazy": 0.01, "sybil": 0.07, "poisoning": math.nan}
    assert margin(pi, "honest", ("lazy", "sybil", "poisoning")) == pytest.approx(-0.02)
    assert math.isnan(margin({"honest": 0.1}, "honest", ("lazy",)))


def test_strategy_pi_is_booked_profit_over_booked_capital_rounds(baseline):
    # With fixed strategies every identity books to one strategy: pi is its pooled profit over its
    # pooled capital-rounds, and capital counts only while committed (until returned to a leaver).
    net = FLNetwork(baseline, 6)
    net.run()
    net.close_books()
    profit = identity_profit_fiat(net)
    capital_rounds = net.capital_fiat * committed_rounds(net)
    table = run_scenario(baseline, 6).strategies
    for i, name in enumerate(net.strategies):
        members = net.strategy_index == i
        expected = profit[members].sum() / capital_rounds[members].sum()
        assert table.loc[name, "pi"] == pytest.approx(expected)
    left = ~net.registered
    assert left.any()  # cheaters that cannot restake leave the baseline
    release = net.ledger.release_round[left]
    np.testing.assert_array_equal(committed_rounds(net)[left], np.minimum(release, baseline.rounds))


def test_a_sybil_owner_is_one_player(baseline):
    table = run_scenario(baseline, 1).strategies
    k = baseline.population.sybil_identities_per_owner
    assert table.loc["sybil", "owners"] == baseline.population.sybil_owners
    assert table.loc["sybil", "identities"] == baseline.population.sybil_owners * k
    one_identity_capital = (
        baseline.staking.min_trainer_stake_tokens + baseline.staking.initial_liquid_tokens
    ) * baseline.token.price_fiat
    assert table.loc["sybil", "capital_fiat_per_owner"] == pytest.approx(k * one_identity_capital)


def test_profit_adds_up_from_tokens_and_costs(baseline):
    # A run with no slashing and no registration: profit = rewards − work cost (+ poisoners' gain).
    s = with_overrides(
        baseline,
        {"slashing.slash_fraction": 0.0, "staking.registration_cost_tokens": 0.0, "token.price_fiat": 2.0},
    )
    net = FLNetwork(s, 2)
    net.run()
    net.charge_work()
    rewards = net.ledger.liquid - s.staking.initial_liquid_tokens
    cost = np.concatenate([net.train_cost_fiat, net.validate_cost_fiat]) * net.active_rounds
    np.testing.assert_allclose(identity_profit_fiat(net), rewards * 2.0 - cost + net.gain_fiat)


def test_profit_counts_slashes_and_the_registration_as_a_sunk_cost(baseline):
    s = with_overrides(baseline, {"staking.registration_cost_tokens": 5.0, "token.price_fiat": 1.5})
    net = FLNetwork(s, 4, audit=True)
    net.run()
    net.charge_work()
    ledger, price = net.ledger, 1.5
    tokens = ledger.received - ledger.slashed  # rewards and bounties minus slashes
    assert (tokens[: net.n_trainers] < 0).any()  # some identities lost more to slashing than they earned
    work = np.concatenate([net.train_cost_fiat, net.validate_cost_fiat]) * net.active_rounds
    expected = tokens * price - work - 5.0 * price - net.extra_cost_fiat + net.gain_fiat
    np.testing.assert_allclose(identity_profit_fiat(net), expected)
    # The registration is not capital: capital is stake plus buffer.
    np.testing.assert_allclose(net.capital_fiat[: net.n_trainers], (100.0 + 100.0) * price)


def test_cheating_is_unprofitable_under_the_baseline(baseline):
    k = run_scenario(baseline, 1).kpis
    assert k["margin_trainers"] > 0
    assert k["pi_honest"] > max(k["pi_lazy"], k["pi_sybil"], k["pi_poisoning"])


def test_copying_validators_beat_honest_ones_when_bounties_are_small(baseline):
    # The verifier's dilemma: with little to catch, evaluation costs more than it earns.
    k = run_scenario(baseline, 1).kpis
    assert k["margin_validators"] < 0


def test_trajectory_profit_sums_to_the_run_profit(baseline):
    # Per round pi is that round's booked profit over its capital-rounds; while no honest identity
    # leaves, honest capital-rounds are the same every round, so the rounds' mean is the run's pi.
    r = run_scenario(baseline, 3, trajectory=True)
    assert r.trajectory["registered_honest"].min() == baseline.population.honest_trainers
    assert r.trajectory["pi_honest"].mean() == pytest.approx(r.kpis["pi_honest"])
    assert len(r.trajectory) == baseline.rounds


def test_owners_who_commit_no_capital_have_undefined_pi_and_the_summary_says_so(small):
    from analysis.cli import NO_CAPITAL_NOTE, format_summary

    s = with_overrides(
        small,
        {
            "rounds": 20,
            "staking.min_trainer_stake_tokens": 0,
            "staking.initial_liquid_tokens": 0,
            "staking.registration_cost_tokens": 0,
        },
    )
    result = run_scenario(s, 3)
    trainers = result.strategies.loc[["honest", "lazy", "sybil", "poisoning"]]
    assert trainers["pi"].isna().all()
    assert math.isnan(result.kpis["margin_trainers"]) and math.isnan(result.kpis["pi_honest"])
    assert np.isfinite(result.kpis["margin_validators"])
    text = format_summary(result)
    assert "nan" not in text.lower()
    assert NO_CAPITAL_NOTE in text and "n/a*" in text
    assert "honesty margin, trainers:   n/a (no capital committed" in text


def test_summary_of_an_ordinary_run_has_numbers_and_no_footnote(small):
    from analysis.cli import NO_CAPITAL_NOTE, format_summary

    text = format_summary(run_scenario(with_overrides(small, {"rounds": 20}), 3))
    assert NO_CAPITAL_NOTE not in text and "nan" not in text.lower()
    assert "honesty margin, trainers:   +" in text or "honesty margin, trainers:   -" in text
