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
    """A preallocated row per round; cheap enough to fill every round."""

    COLUMNS = ("quality", "minted_tokens", "slashed_tokens", "honest_validator_share", "accepted", "flagged")
    """The scalar series recorded every round."""

    def __init__(self, net, rounds: int, per_strategy: bool):
        self._net = net
        self._rows = np.zeros((rounds, len(self.COLUMNS)))
        self.per_strategy = per_strategy
        if per_strategy:
            self.cumulative_profit = np.zeros((rounds, len(net.strategies)))
            self._capital = by_strategy(net, identity_capital_fiat(net))

    def series(self, name: str) -> np.ndarray:
        """One recorded series over the rounds run so far."""
        return self._rows[: self._net.round, self.COLUMNS.index(name)]

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
        self._rows[t] = (self._net.quality, minted, slashed, honest_share, accepted, flagged)
        if self.per_strategy:
            self.cumulative_profit[t] = by_strategy(self._net, identity_profit_fiat(self._net))

    def frame(self) -> pd.DataFrame:
        """The rounds run so far as a DataFrame, one row per round."""
        t = self._net.round
        df = pd.DataFrame(self._rows[:t], columns=list(self.COLUMNS))
        df[["accepted", "flagged"]] = df[["accepted", "flagged"]].astype(np.int64)
        df.insert(0, "round", np.arange(t))
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
