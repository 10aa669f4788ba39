"""Validator strategies: honest evaluators and weight copiers."""

from __future__ import annotations

from agents.participant import Participant
from model.scenario import Scenario
from model.submissions import Evaluation


class ValidatorAgent(Participant):
    """A validator identity (one per owner)."""

    @classmethod
    def count(cls, s: Scenario) -> int:  # pragma: no cover - abstract
        """How many validators of this strategy the scenario has."""
        raise NotImplementedError

    @classmethod
    def evaluation(cls, s: Scenario) -> Evaluation:  # pragma: no cover - abstract
        """What this strategy's validation is worth and costs."""
        raise NotImplementedError


class HonestValidator(ValidatorAgent):
    """Evaluates every submission (a noisy quality signal) and flags what it detects; under Yuma
    Consensus it votes its view of each submission's quality (``model.voting``)."""

    strategy = "honest_validator"

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.honest_validators

    @classmethod
    def evaluation(cls, s: Scenario) -> Evaluation:
        effort = s.yuma.evaluation_effort if s.rewards.rule == "yuma" else 1.0  # votes: cost × effort
        return Evaluation(detects=True, validate_cost_fiat=s.costs.validate_cost_fiat_per_round * effort)


class CopyingValidator(ValidatorAgent):
    """Reports the last consensus it can see instead of evaluating (weight copying); under Yuma
    Consensus with commit-reveal, the consensus revealed ``yuma.reveal_delay_rounds`` rounds ago."""

    strategy = "copying_validator"

    @classmethod
    def count(cls, s: Scenario) -> int:
        return s.population.copying_validators

    @classmethod
    def evaluation(cls, s: Scenario) -> Evaluation:
        return Evaluation(detects=False, validate_cost_fiat=0.0)
