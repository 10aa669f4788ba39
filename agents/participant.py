"""The common base of trainers and validators: a Mesa agent that reads its state from the model.

Balances, stakes and counters live in the network's numpy arrays (the round runs over them in a
few vectorised calls); an agent object is the inspectable view of one row of those arrays.
"""

from __future__ import annotations

from typing import ClassVar

import mesa


class Participant(mesa.Agent):
    """One identity in the network: its ledger account and the owner who controls it."""

    strategy: ClassVar[str]
    """Name of the strategy, as used in KPIs and reports."""

    def __init__(self, model: mesa.Model, account: int, owner: int):
        super().__init__(model)
        self.account = account
        """Index of this identity's row in the network's arrays."""
        self.owner = owner
        """Index of the owner; a Sybil owner's identities share one."""

    @property
    def liquid_tokens(self) -> float:
        """Tokens this identity holds unstaked."""
        return float(self.model.ledger.liquid[self.account])

    @property
    def stake_tokens(self) -> float:
        """Tokens this identity has bonded."""
        return float(self.model.ledger.stake[self.account])

    @property
    def active_rounds(self) -> int:
        """Rounds in which this identity took part (submitted, or validated)."""
        return int(self.model.active_rounds[self.account])

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} account={self.account} owner={self.owner} "
            f"stake={self.stake_tokens:.2f} liquid={self.liquid_tokens:.2f}>"
        )
