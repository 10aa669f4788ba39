"""Per-round records of a run: scalar series always, per-strategy profit on request."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.kpis import (
    TRAINER_DEVIATIONS,
    VALIDATOR_DEVIATIONS,
    by_strategy,
    identity_capital_fiat,
    identity_profit_fiat,
    margin,
)


class RoundRecorder:
    """Preallocated arrays, one slot per round; cheap enough to fill every round."""

    def __init__(self, net, rounds: int, per_strategy: bool):
        self._net = net
        self.quality = np.zeros(rounds)
        self.minted_tokens = np.zeros(rounds)
        self.slashed_tokens = np.zeros(rounds)
        self.honest_share = np.zeros(rounds)
        self.accepted = np.zeros(rounds, dtype=np.int64)
        self.flagged = np.zeros(rounds, dtype=np.int64)
        self.per_strategy = per_strategy
        if per_strategy:
            self.cumulative_profit = np.zeros((rounds, len(net.strategies)))
            self._capital = by_strategy(net, identity_capital_fiat(net))

    def record(
        self,
        t: int,
        minted: float,
        slashed: float,
        honest_share: float,
        accepted: int,
        flagged: int,
    ):
        """Store round ``t``'s figures (quality is read after aggregation)."""
        self.quality[t] = self._net.quality
        self.minted_tokens[t] = minted
        self.slashed_tokens[t] = slashed
        self.honest_share[t] = honest_share
        self.accepted[t] = accepted
        self.flagged[t] = flagged
        if self.per_strategy:
            self.cumulative_profit[t] = by_strategy(self._net, identity_profit_fiat(self._net))

    def frame(self) -> pd.DataFrame:
        """The rounds run so far as a DataFrame, one row per round."""
        t = self._net.round
        df = pd.DataFrame(
            {
                "round": np.arange(t),
                "quality": self.quality[:t],
                "minted_tokens": self.minted_tokens[:t],
                "slashed_tokens": self.slashed_tokens[:t],
                "honest_validator_share": self.honest_share[:t],
                "accepted": self.accepted[:t],
                "flagged": self.flagged[:t],
            }
        )
        if self.per_strategy:
            profit = np.diff(self.cumulative_profit[:t], axis=0, prepend=0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                pi = np.where(self._capital > 0, profit / self._capital, np.nan)
            for i, name in enumerate(self._net.strategies):
                df[f"pi_{name}"] = pi[:, i]
            per_round = [dict(zip(self._net.strategies, row, strict=True)) for row in pi]
            df["margin_trainers"] = [margin(p, "honest", TRAINER_DEVIATIONS) for p in per_round]
            df["margin_validators"] = [margin(p, "honest_validator", VALIDATOR_DEVIATIONS) for p in per_round]
        return df
