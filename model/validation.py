"""The validators' side of a round: who is present, how much of the active validation stake is
honest, and how validator pools and slashing bounties are split.

Validators' stakes are fixed for the run (the abstract mode slashes only trainers), so these
figures depend only on who is present. They are computed for a block of rounds in one pass; the
uniform numbers come from the validators' own random stream, row by row, so the block size changes
no result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from model.randomness import RoundDraws


class PanelRound(NamedTuple):
    """The validators in one round."""

    active: np.ndarray
    """Which validators are present (bool per validator)."""
    honest_share: float
    """h: the detecting (honest) validators' share of active validation stake, in [0, 1]."""
    reward_weights: np.ndarray | None
    """Each validator's share of the validator pool (active stake-weighted); None if none active."""
    bounty_weights: np.ndarray | None
    """Each validator's share of slashing bounties (detecting stake-weighted); None if none detect."""


class ValidatorPanel:
    """All validators of a run, summarised a block of rounds at a time.

    Args:
        stake_tokens: each validator's bonded stake.
        detects: whether each validator's evaluation detects cheating (honest) or not (copier).
        dropout_probability: each validator's chance of missing a round.
        draws: uniform numbers, one row of ``len(stake_tokens)`` per round.
    """

    def __init__(
        self, stake_tokens: np.ndarray, detects: np.ndarray, dropout_probability: float, draws: RoundDraws
    ):
        self._stake = stake_tokens.copy()
        self._detects = detects
        self._dropout = dropout_probability
        self._draws = draws
        self._first = 0
        self._share: list[float] = []

    def round(self, t: int) -> PanelRound:
        """The panel in round ``t``; rounds must be asked for in order."""
        i = t - self._first
        if i >= len(self._share):
            self._summarise_block(self._draws.block(t))
            self._first, i = t, 0
        return PanelRound(
            self._active[i],
            self._share[i],
            self._reward_w[i] if self._any_active[i] else None,
            self._bounty_w[i] if self._any_detecting[i] else None,
        )

    def _summarise_block(self, uniforms: np.ndarray) -> None:
        active = uniforms >= self._dropout
        detecting = active & self._detects
        active_stake = active @ self._stake
        detecting_stake = detecting @ self._stake
        self._active = active
        self._any_active = (active_stake > 0).tolist()
        self._any_detecting = (detecting_stake > 0).tolist()
        with np.errstate(divide="ignore", invalid="ignore"):
            self._share = np.where(active_stake > 0, detecting_stake / active_stake, 0.0).tolist()
            self._reward_w = active * self._stake / active_stake[:, None]
            self._bounty_w = detecting * self._stake / detecting_stake[:, None]
