"""What each strategy brings to a round: the interface between ``agents/`` and the network.

Agent classes describe their kind of submission (trainers) or evaluation (validators) with these
records; the network turns them into per-identity arrays once, at setup, and runs the round over
those arrays. A strategy with per-round bookkeeping of its own (a Sybil owner's shared training, a
poisoner's outside gain) returns it from its ``settle_hook`` class method; the network calls the hook
once per round for all members of the type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Submission:
    """One trainer identity's submission in a round, as the abstract mode sees it."""

    work_units: float
    """Real training work it carries: 1 for an honest update, 0 for none."""
    quality_score: float
    """Score honest validators give it on average, in [0, 1]."""
    detection_rate: float
    """Chance in [0, 1] it is flagged when all active validation stake is honest."""
    poisoned: bool
    """Whether it degrades the global model if accepted."""
    train_cost_fiat: float
    """Fiat cost the identity pays for each round it submits."""


@dataclass(frozen=True)
class Evaluation:
    """One validator's work in a round."""

    detects: bool
    """Whether its evaluation can flag cheating (honest validators) or not (copiers)."""
    validate_cost_fiat: float
    """Fiat cost it pays for each round it is active."""
