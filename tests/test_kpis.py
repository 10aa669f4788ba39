"""KPIs: per-owner, per-capital payoffs and margins as the README's "Where honesty dominates" defines them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import run_scenario, with_overrides
from model.kpis import identity_capital_fiat, identity_profit_fiat, margin
from model.network import FLNetwork


def test_margin_is_honest_minus_the_best_present_deviation():
    pi = {"honest": 0.05, "lazy": 0.01, "sybil": 0.07, "poisoning": math.nan}
    assert margin(pi, "honest", ("lazy", "sybil", "poisoning")) == pytest.approx(-0.02)
    assert math.isnan(margin({"honest": 0.1}, "honest", ("lazy",)))


def test_strategy_pi_is_pooled_profit_over_pooled_capital_per_round(baseline):
    net = FLNetwork(baseline, 6)
    net.run()
    profit, capital = identity_profit_fiat(net), identity_capital_fiat(net)
    table = run_scenario(baseline, 6).strategies
    for i, name in enumerate(net.strategies):
        members = net.strategy_index == i
        expected = profit[members].sum() / capital[members].sum() / baseline.rounds
        assert table.loc[name, "pi"] == pytest.approx(expected)


def test_a_sybil_owner_is_one_player(baseline):
    table = run_scenario(baseline, 1).strategies
    k = baseline.population.sybil_identities_per_owner
    assert table.loc["sybil", "owners"] == baseline.population.sybil_owners
    assert table.loc["sybil", "identities"] == baseline.population.sybil_owners * k
    one_identity_capital = (
        baseline.staking.min_trainer_stake_tokens + baseline.staking.registration_cost_tokens
    ) * (baseline.token.price_fiat)
    assert table.loc["sybil", "capital_fiat_per_owner"] == pytest.approx(k * one_identity_capital)


def test_profit_adds_up_from_tokens_and_costs(baseline):
    # A run with no slashing, no capital cost and no registration: profit = rewards − work cost.
    s = with_overrides(
        baseline,
        {
            "slashing.slash_fraction": 0.0,
            "costs.capital_cost_rate_per_round": 0.0,
            "staking.registration_cost_tokens": 0.0,
            "token.price_fiat": 2.0,
        },
    )
    net = FLNetwork(s, 2)
    net.run()
    rewards = net.ledger.liquid - s.staking.initial_liquid_tokens
    cost = np.concatenate([net.train_cost_fiat, net.validate_cost_fiat]) * net.active_rounds
    np.testing.assert_allclose(identity_profit_fiat(net), rewards * 2.0 - cost + net.gain_fiat)


def test_profit_counts_slashes_capital_cost_and_registration(baseline):
    s = with_overrides(
        baseline,
        {
            "costs.capital_cost_rate_per_round": 0.002,
            "staking.registration_cost_tokens": 5.0,
            "token.price_fiat": 1.5,
        },
    )
    net = FLNetwork(s, 4)
    net.run()
    ledger, price = net.ledger, 1.5
    wealth = ledger.liquid + ledger.stake + ledger.unbonding
    tokens = wealth - net.wealth_at_genesis_tokens  # rewards and bounties minus slashes
    assert (tokens[: net.n_trainers] < 0).any()  # some identities lost more to slashing than they earned
    work = np.concatenate([net.train_cost_fiat, net.validate_cost_fiat]) * net.active_rounds
    capital = ledger.stake_rounds(s.rounds) * price * 0.002
    expected = tokens * price - work - capital - 5.0 * price - net.extra_cost_fiat + net.gain_fiat
    np.testing.assert_allclose(identity_profit_fiat(net), expected)
    # Bonded capital is the required stake for every round an identity stayed; less for leavers.
    stayed = net.registered[: net.n_trainers]
    np.testing.assert_allclose(ledger.stake_rounds(s.rounds)[: net.n_trainers][stayed], 100.0 * s.rounds)


def test_cheating_is_unprofitable_under_the_baseline(baseline):
    k = run_scenario(baseline, 1).kpis
    assert k["margin_trainers"] > 0
    assert k["pi_honest"] > max(k["pi_lazy"], k["pi_sybil"], k["pi_poisoning"])


def test_copying_validators_beat_honest_ones_when_bounties_are_small(baseline):
    # The verifier's dilemma: with little to catch, evaluation costs more than it earns.
    k = run_scenario(baseline, 1).kpis
    assert k["margin_validators"] < 0


def test_trajectory_profit_sums_to_the_run_profit(baseline):
    r = run_scenario(baseline, 3, trajectory=True)
    assert r.trajectory["pi_honest"].sum() == pytest.approx(r.kpis["pi_honest"] * baseline.rounds)
    assert len(r.trajectory) == baseline.rounds


def test_owners_who_commit_no_capital_have_undefined_pi_and_the_summary_says_so(small):
    from analysis.cli import NO_CAPITAL_NOTE, format_summary

    s = with_overrides(
        small, {"rounds": 20, "staking.min_trainer_stake_tokens": 0, "staking.registration_cost_tokens": 0}
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
