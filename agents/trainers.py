"""Trainer strategies ("miners"): honest, lazy free-rider, Sybil and poisoning.

Each class says what its submission is (:meth:`submission`); the network lays the members of each
class out contiguously and runs the round over their slice of its arrays. Bookkeeping a strategy
needs beyond that is the hook :meth:`settle_hook` returns, run once per round for all members.
"""

from __future__ import annotations

from agents.participant import Participant
from model.scenario import Scenario
from model.submissions import Submission


class TrainerAgent(Participant):
    """A trainer identity."""

    @classmethod
    def submission(cls, s: Scenario) -> Submission:  # pragma: no cover - abstract
        """What one identity of this strategy submits each round it is active."""
        raise NotImplementedError

    @classmethod
    def count(cls, s: Scenario) -> int:  # pragma: no cover - abstract
        """How many identities of this strategy the scenario has."""
        raise NotImplementedError

    @classmethod
    def identities_per_owner(cls, s: Scenario) -> int:
        """Identities each owner of this strategy runs."""
        return 1

    @classmethod
    def settle_hook(cls, s: Scenario):
        """This strategy's per-round bookkeeping under ``s``, or None if it has none.

        A hook is called as ``hook(network, members, accepted)`` once per round, after aggregation,
        with the rows laid out for this strategy (a slice) and which trainer rows were accepted.
        """
        return None

    @property
    def flags(self) -> int:
        """Times this identity has been flagged."""
        return int(self.model.flags[self.account])

    @property
    def strikes(self) -> int:
        """Tokenless regime: flags since this identity was (last) admitted; ejected at
        ``regime.ejection_strikes``. In the token regime, the same as ``flags``."""
        orchestrator = self.model.orchestrator
        return self.flags if orchestrator is None else int(orchestrator.strikes[self.account])


class HonestTrainer(TrainerAgent):
    """Trains a real update on its local data every round it is available."""

    strategy = "honest"

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.honest_trainers

    @classmethod
    def submission(cls, s: Scenario) -> Submission:
        return Submission(
            work_units=1.0,
            quality_score=1.0,
            detection_rate=s.detection.false_positive_rate,
            poisoned=False,
            train_cost_fiat=s.costs.train_cost_fiat_per_round,
        )


class LazyTrainer(TrainerAgent):
    """A free-rider: sends the received model back, a replayed change or noise shaped like one."""

    strategy = "lazy"

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.lazy_trainers

    @classmethod
    def submission(cls, s: Scenario) -> Submission:
        return Submission(
            work_units=0.0,
            quality_score=s.behaviour.lazy_score,
            detection_rate=s.detection.lazy_detection_rate,
            poisoned=False,
            train_cost_fiat=0.0,
        )


class SybilTrainer(TrainerAgent):
    """One of a Sybil owner's k identities; all k submit copies of one update.

    With ``behaviour.sybil_update = "cheap"`` the copied update is a lazy one (flagged as lazy or as
    a duplicate); with ``"honest"`` the owner trains once per round and pays one training cost.
    """

    strategy = "sybil"

    @classmethod
    def identities_per_owner(cls, s: Scenario) -> int:
        return s.population.sybil_identities_per_owner

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.sybil_owners * s.population.sybil_identities_per_owner

    @classmethod
    def submission(cls, s: Scenario) -> Submission:
        dup = s.detection.sybil_detection_rate
        k = s.population.sybil_identities_per_owner
        if s.behaviour.sybil_update == "honest":
            return Submission(1.0 / k, 1.0, dup, False, 0.0)
        lazy = s.detection.lazy_detection_rate
        either = 1.0 - (1.0 - lazy) * (1.0 - dup)  # flagged as lazy work or as a duplicate
        return Submission(0.0, s.behaviour.lazy_score, either, False, 0.0)

    @classmethod
    def settle_hook(cls, s: Scenario):
        return cls.charge_shared_training if s.behaviour.sybil_update == "honest" else None

    @classmethod
    def charge_shared_training(cls, network, members: slice, accepted) -> None:
        """An honest-update owner pays one training cost in each round any identity submits.

        Sybil owners never revise in place (a one-identity owner cannot become one), so the rows
        laid out for Sybils hold Sybil owners for the whole run."""
        s = network.scenario
        k = s.population.sybil_identities_per_owner
        trained = network.submitting[members].reshape(-1, k).any(axis=1)
        # Charged to each owner's first identity; KPIs sum identities per owner.
        network.extra_cost_fiat[members.start : members.stop : k] += (
            s.costs.train_cost_fiat_per_round * trained
        )


class PoisoningTrainer(TrainerAgent):
    """Submits a malicious update (label flip, sign flip, scaled replacement) for an outside gain."""

    strategy = "poisoning"

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.poisoning_trainers

    @classmethod
    def submission(cls, s: Scenario) -> Submission:
        return Submission(
            work_units=0.0,
            quality_score=s.behaviour.poison_score,
            detection_rate=s.detection.poison_detection_rate,
            poisoned=True,
            train_cost_fiat=s.costs.train_cost_fiat_per_round,
        )

    @classmethod
    def settle_hook(cls, s: Scenario):
        return cls.collect_outside_gain if s.costs.poison_gain_fiat_per_round > 0 else None

    @classmethod
    def collect_outside_gain(cls, network, members: slice, accepted) -> None:
        """A poisoner gains ``g`` in each round its own poison entered the model undetected (in
        mechanistic mode, ``g`` times the share of its update that entered, ``model.fl.task``).

        Owners that revised into poisoning sit outside ``members``, so every trainer row is checked.
        """
        if network.round_poison_accepted:
            gain = network.scenario.costs.poison_gain_fiat_per_round
            rows = network.poison_passed.nonzero()[0]  # few rows: index them
            share = network.poison_entered_share  # mechanistic: only what entered the model pays
            network.gain_fiat[rows] += gain if share is None else gain * share[rows]
