"""The common base of trainers and validators: a Mesa agent that reads its state from the model.

Balances, stakes and counters live in the network's numpy arrays (the round runs over them in a
few vectorised calls); an agent object is the inspectable view of one row of those arrays.
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np


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

    # -- decisions: what an owner's choice does to this identity ----------------------------
    def leave(self) -> None:
        """Stop taking part: unbond the stake (returned after the unbonding period) and withdraw the
        liquid tokens. The agent stays, unregistered, so the run can still be inspected."""
        self.model.retire(np.array([self.account]))

    def switch_to(self, cls: type[Participant], *, assigned: bool = False) -> Participant:
        """Play ``cls``'s strategy from the next round on; returns the agent (this one, re-typed).

        Mesa files agents by class (``model.agents_by_type``), so the agent is taken off the model's
        books, becomes an instance of ``cls`` and is filed again — the same object, unique id,
        account and owner. The network's arrays are updated for the row unless the caller has done
        so for many rows at once (``assigned``).
        """
        model = self.model
        if not assigned:
            model.assign_strategy(np.array([self.account]), cls)
        model.deregister_agent(self)
        self.__class__ = cls  # every strategy class shares Participant's layout and state
        model.register_agent(self)
        return self

    @classmethod
    def join(cls, model: mesa.Model, accounts, owner: int) -> list[Participant]:
        """A waiting owner joins with its identities ``accounts``: it brings stake and buffer in,
        burns the registration and plays ``cls``'s strategy from the next round on. In the tokenless
        regime each identity applies to KYC instead, and only those admitted get an agent."""
        admitted = model.admit(np.asarray(accounts))
        agents = [cls(model, int(account), owner) for account in admitted.tolist()]
        for agent in agents:
            model.agent_at[agent.account] = agent
        return agents

    @property
    def registered(self) -> bool:
        """False once the identity has left (ejected, out of stake, or its owner chose to)."""
        return bool(self.model.registered[self.account])

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
