"""The part of each round that does not depend on the network's state, a block of rounds at once.

Who is present, who would be flagged if they submitted and the validators' figures depend only on
random draws and fixed parameters, never on balances. Working them out for a block of rounds in a
few whole-array operations leaves each round only the state-dependent steps — one numpy call per
step for all identities, instead of one per identity or per round and draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.randomness import RoundDraws, block_rounds
from model.validation import ValidatorRounds, summarise_validators


@dataclass(frozen=True)
class RoundBlock:
    """Rounds ``first`` .. ``first + rounds − 1``; row i of each array is round ``first + i``."""

    first: int
    rounds: int
    present: np.ndarray
    """Which trainer identities are available (rounds × trainers, bool)."""
    flagged_if_submitting: np.ndarray
    """Which trainer identities validators would flag if they submitted (rounds × trainers, bool)."""
    validators: ValidatorRounds
    """The validators' presence, honest share and payout weights."""
    trainer_uniforms: np.ndarray
    """The draws behind ``present`` and ``flagged_if_submitting`` (valid until the next block)."""
    validator_uniforms: np.ndarray
    """The draws behind ``validators`` (valid until the next block)."""


class RoundBlocks:
    """Draws and summarises blocks of rounds in order.

    Args:
        trainer_rng, validator_rng: the run's streams for trainers and for validators.
        n_trainers: trainer identities in the run.
        detection: the detection mode (``flagged_if_submitting``).
        trainer_dropout: a trainer identity's chance of missing a round.
        validator_stake_tokens, validator_detects, validator_dropout: see ``summarise_validators``.
        validator_registered: the network's array of which validators take part (read live).
        rounds: rounds in the run (blocks never extend far past it).
    """

    def __init__(
        self,
        trainer_rng: np.random.Generator,
        validator_rng: np.random.Generator,
        n_trainers: int,
        detection,
        trainer_dropout: float,
        validator_stake_tokens: np.ndarray,
        validator_detects: np.ndarray,
        validator_registered: np.ndarray,
        validator_dropout: float,
        rounds: int,
    ):
        n_validators = len(validator_stake_tokens)
        rows = block_rounds(n_trainers + n_validators, rounds)
        self._trainer_draws = RoundDraws(trainer_rng, n_trainers, rows)
        self._validator_draws = RoundDraws(validator_rng, n_validators, rows)
        self._detection = detection
        self._trainer_dropout = trainer_dropout
        self._validator_stake = validator_stake_tokens.copy()
        self._validator_detects = validator_detects
        self._validator_registered = validator_registered
        self._validator_dropout = validator_dropout

    def _validators(self, uniforms: np.ndarray) -> ValidatorRounds:
        return summarise_validators(
            uniforms,
            self._validator_stake,
            self._validator_detects,
            self._validator_dropout,
            self._validator_registered,
        )

    def set_validator_stake(self, stake_tokens: np.ndarray) -> None:
        """Weigh validators by these stakes from now on (a validator was slashed); the caller marks
        the current block stale so that its remaining rounds are worked out again."""
        self._validator_stake[:] = stake_tokens

    def next_block(self, first: int) -> RoundBlock:
        """The block that starts at round ``first`` (blocks must be asked for in order)."""
        u = self._trainer_draws.block()
        v = self._validator_draws.block()
        validators = self._validators(v)
        return RoundBlock(
            first=first,
            rounds=len(u),
            present=u >= self._trainer_dropout,
            flagged_if_submitting=self._detection.flagged_if_submitting(
                u, np.asarray(validators.honest_share)
            ),
            validators=validators,
            trainer_uniforms=u,
            validator_uniforms=v,
        )

    def refresh(self, block: RoundBlock | None, row: int) -> None:
        """Redo rows ``row..`` of ``block`` after owners changed strategy, left or joined.

        The draws stay the same; what they mean (who detects, whose rate applies, which validators
        take part) is worked out again from the network's current arrays.
        """
        if block is None or row >= block.rounds:
            return
        redone = self._validators(block.validator_uniforms[row:])
        v = block.validators
        v.active[row:] = redone.active
        v.honest_share[row:] = redone.honest_share
        v.reward_weights[row:] = redone.reward_weights
        v.bounty_weights[row:] = redone.bounty_weights
        block.flagged_if_submitting[row:] = self._detection.flagged_if_submitting(
            block.trainer_uniforms[row:], np.asarray(redone.honest_share)
        )
