"""The validators' side of a round: who is present, how much of the active validation stake is
honest, and how the validator pool and slashing bounties are split.

Validators' stakes are fixed for the run (the abstract mode slashes only trainers), so all of this
depends only on who is present, and :func:`summarise_validators` works out a block of rounds in one
pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ValidatorRounds:
    """The validators in each round of a block (row i = the block's i-th round)."""

    active: np.ndarray
    """Which validators are present (rounds × validators, bool)."""
    honest_share: list[float]
    """h per round: the detecting (honest) validators' share of active validation stake, in [0, 1]."""
    reward_weights: list[np.ndarray | None]
    """Per round, each validator's share of the validator pool by active stake; None if none active."""
    bounty_weights: list[np.ndarray | None]
    """Per round, each validator's share of slashing bounties by detecting stake; None if none."""


def summarise_validators(
    uniforms: np.ndarray,
    stake_tokens: np.ndarray,
    detects: np.ndarray,
    dropout_probability: float,
    registered: np.ndarray | None = None,
) -> ValidatorRounds:
    """Presence, honest share and payout weights for a block of rounds.

    Args:
        uniforms: one row of uniform numbers per round, one column per validator.
        stake_tokens: each validator's bonded stake.
        detects: whether each validator's evaluation detects cheating (honest) or not (copier).
        dropout_probability: each validator's chance of missing a round.
        registered: which validators take part at all (None: all); one that left is never active.
    """
    active = uniforms >= dropout_probability
    if registered is not None:
        active &= registered
    detecting = active & detects
    active_stake = active @ stake_tokens
    detecting_stake = detecting @ stake_tokens
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(active_stake > 0, detecting_stake / active_stake, 0.0)
        reward = active * stake_tokens / active_stake[:, None]
        bounty = detecting * stake_tokens / detecting_stake[:, None]
    return ValidatorRounds(
        active=active,
        honest_share=share.tolist(),
        reward_weights=[r if a > 0 else None for r, a in zip(reward, active_stake.tolist(), strict=True)],
        bounty_weights=[b if d > 0 else None for b, d in zip(bounty, detecting_stake.tolist(), strict=True)],
    )
