"""Models are freed when dropped: a process running thousands of runs does not grow.

Mesa 3.3 keeps every model ever built in the class-level ``mesa.Agent._ids`` (Mesa issue 3179);
``model.mesa_ids`` makes that registry hold its models weakly. Checked with weak references, not
with timings or RSS.
"""

from __future__ import annotations

import gc
import weakref

import mesa
import pytest

import model.run
from agents import HonestTrainer
from model import run_scenario, with_overrides
from model.mesa_ids import WeakIdCounters
from model.network import FLNetwork

RUNS = 300


@pytest.fixture(scope="module")
def tiny(baseline):
    return with_overrides(
        baseline,
        {
            "rounds": 4,
            "population.honest_trainers": 3,
            "population.lazy_trainers": 1,
            "population.sybil_owners": 1,
            "population.sybil_identities_per_owner": 2,
            "population.poisoning_trainers": 1,
            "population.honest_validators": 2,
            "population.copying_validators": 1,
        },
    )


def all_dead(refs: list[weakref.ref]) -> bool:
    gc.collect()
    return all(ref() is None for ref in refs)


def test_every_model_run_by_run_scenario_is_freed(tiny, monkeypatch):
    built: list[weakref.ref] = []

    class Watched(FLNetwork):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(weakref.ref(self))

    monkeypatch.setattr(model.run, "FLNetwork", Watched)
    for seed in range(RUNS):
        run_scenario(tiny, seed, trajectory=seed % 2 == 0)
    assert len(built) == RUNS
    assert all_dead(built)


def test_a_network_stepped_by_hand_is_freed_once_dropped(tiny):
    refs = []
    for seed in range(RUNS):
        net = FLNetwork(tiny, seed)
        net.step()
        refs.append(weakref.ref(net))
    del net
    assert all_dead(refs)


def test_mesa_holds_its_models_only_weakly(tiny):
    assert isinstance(mesa.Agent._ids, WeakIdCounters)
    net = FLNetwork(tiny, 1)
    ref = weakref.ref(net)
    assert net in mesa.Agent._ids  # its counter is there while it lives …
    del net
    assert all_dead([ref])  # … and goes with it


def test_agent_ids_stay_unique_when_agents_are_added_later_the_ordinary_way(tiny):
    net = FLNetwork(tiny, 1)
    ids = sorted(agent.unique_id for agent in net.agents)
    assert ids == list(range(1, len(ids) + 1))  # numbered across every strategy, from 1
    newcomer = HonestTrainer(net, 0, 0)  # as a user or subclass would add one
    assert newcomer.unique_id == len(ids) + 1
    other = FLNetwork(tiny, 2)
    assert min(agent.unique_id for agent in other.agents) == 1  # each model counts its own
    ref = weakref.ref(net)
    del net, newcomer
    assert all_dead([ref])
