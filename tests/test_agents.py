"""Agents: one Mesa agent per identity, typed by strategy, reading state from the network."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from agents import (
    CopyingValidator,
    HonestTrainer,
    HonestValidator,
    LazyTrainer,
    PoisoningTrainer,
    SybilTrainer,
)
from model import with_overrides
from model.network import FLNetwork


def test_population_is_one_mesa_agent_per_identity(baseline):
    net = FLNetwork(baseline, 1)
    assert isinstance(net, mesa.Model)
    counts = {cls: len(net.agents_by_type[cls]) for cls in net.agents_by_type}
    p = baseline.population
    assert counts[HonestTrainer] == p.honest_trainers
    assert counts[LazyTrainer] == p.lazy_trainers
    assert counts[SybilTrainer] == p.sybil_owners * p.sybil_identities_per_owner
    assert counts[PoisoningTrainer] == p.poisoning_trainers
    assert counts[HonestValidator] == p.honest_validators
    assert counts[CopyingValidator] == p.copying_validators
    assert len(net.agents) == baseline.trainer_identities + baseline.validators


def test_a_sybil_owners_identities_share_one_owner(baseline):
    net = FLNetwork(baseline, 1)
    owners = [a.owner for a in net.agents_by_type[SybilTrainer]]
    k = baseline.population.sybil_identities_per_owner
    assert len(set(owners)) == baseline.population.sybil_owners
    assert all(owners.count(o) == k for o in set(owners))
    others = [a.owner for a in net.agents if not isinstance(a, SybilTrainer)]
    assert len(set(others)) == len(others)
    assert not set(others) & set(owners)


def test_agents_read_their_balances_from_the_network(baseline):
    net = FLNetwork(baseline, 1)
    net.run()
    for agent in list(net.agents)[:20]:
        assert agent.stake_tokens == net.ledger.stake[agent.account]
        assert agent.liquid_tokens == net.ledger.liquid[agent.account]
        assert agent.active_rounds == net.active_rounds[agent.account]
    lazy = next(iter(net.agents_by_type[LazyTrainer]))
    assert lazy.flags > 0
    assert "LazyTrainer" in repr(lazy)


def test_honest_sybil_owner_pays_one_training_cost_per_round_not_k(baseline):
    s = with_overrides(
        baseline,
        {
            "behaviour.sybil_update": "honest",
            "dropout.trainer_dropout_probability": 0.0,
            "slashing.slash_fraction": 0.0,
        },
    )
    net = FLNetwork(s, 1)
    net.run()
    sybil = net.type_rows[SybilTrainer]
    k = s.population.sybil_identities_per_owner
    charged = net.extra_cost_fiat[sybil]
    # With no dropout every owner trains every round, charged once on its first identity.
    np.testing.assert_allclose(charged[::k], s.rounds * s.costs.train_cost_fiat_per_round)
    assert (np.delete(charged, np.arange(0, len(charged), k)) == 0).all()


def test_poisoners_gain_exactly_in_rounds_their_own_poison_passed(baseline):
    s = with_overrides(baseline, {"costs.poison_gain_fiat_per_round": 3.0, "slashing.ejection_strikes": 4})
    net = FLNetwork(s, 2)
    poisoners = net.type_rows[PoisoningTrainer]
    expected = np.zeros(poisoners.stop - poisoners.start)
    for _ in range(s.rounds):
        net.step()
        passed = net.submitting[poisoners] & ~net.flagged[poisoners]
        expected += 3.0 * passed
    assert expected.sum() > 0 and expected.min() < expected.max()  # each in its own rounds, not others'
    np.testing.assert_allclose(net.gain_fiat[poisoners], expected)
    assert (net.gain_fiat[: poisoners.start] == 0).all()


@pytest.mark.parametrize("strikes", [1, 3])
def test_ejected_identities_stop_submitting_and_unbond(baseline, strikes):
    s = with_overrides(baseline, {"slashing.ejection_strikes": strikes, "rounds": 60})
    net = FLNetwork(s, 3)
    net.run()
    ejected = ~net.registered
    assert ejected.any()
    assert (net.flags[ejected] >= strikes).all()
    assert (net.ledger.stake[ejected] == 0).all()
    assert (net.ledger.liquid[ejected] == 0).all()  # a leaver's tokens go back to its owner
    # Lazy trainers are flagged most, so they are ejected first.
    lazy = net.type_rows[LazyTrainer]
    assert ejected[lazy].mean() > ejected[net.type_rows[HonestTrainer]].mean()
