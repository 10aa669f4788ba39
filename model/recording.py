"""Per-round records of a run: scalar series always; per-strategy series and token stocks on request.

With ``per_strategy`` (a run asked for its trajectory) each round also records the token stocks
(circulating supply, cumulative minted and burned, the insurance pool), what the round cost and
paid (``FLOWS``: service fees, wages, KYC, the network's cost, ejections and re-admissions) and,
per strategy, the round's profit per unit of capital and per owner, its share of bonded stake, how
many of its identities are still registered and its share of the active owners of its role, plus
the owners that joined and left, in the round and so far — what the report draws round by round —
and in mechanistic mode each trainer strategy's share of its submissions flagged in the round, the
model's test loss and the clean twin's accuracy (kept in the trajectories for one's own analysis;
the report draws the quality, which is then the test accuracy).
These cost a few numpy reductions per round, so a sweep that does not keep trajectories does not
pay for them.

In the tokenless regime whatever is a token's (minted, slashed, stocks, stake shares, ``pi``) is
recorded as absent (NaN), and the margins compare profit per owner; in the token regime the
orchestrator's flows (fees, wages, KYC, re-admissions) are absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.books import StrategyBooks, identity_profit_fiat
from model.kpis import TRAINER_DEVIATIONS, VALIDATOR_DEVIATIONS, by_strategy

#: Trainer strategies (the first of ``FLNetwork.strategies``): honest, lazy, Sybil, poisoning.
TRAINER_STRATEGIES = 4


class RoundRecorder:
    """A preallocated row per round; cheap enough to fill every round."""

    COLUMNS = ("quality", "minted_tokens", "slashed_tokens", "honest_validator_share", "accepted", "flagged")
    """The scalar series recorded every round."""

    STOCKS = ("supply_tokens", "minted_total_tokens", "burned_total_tokens", "insurance_tokens")
    """Token stocks after each round (with ``per_strategy``): circulating supply (genesis + minted −
    burned), minted and burned since genesis, and the insurance pool."""

    FLOWS = (
        "fees_paid_fiat",
        "wages_paid_fiat",
        "kyc_paid_fiat",
        "network_cost_fiat",
        "ejected",
        "readmitted",
    )
    """What each round paid and cost (with ``per_strategy``), in fiat: service fees, wages, KYC (all
    of it; round 0 includes the genesis applications), the network's cost (token: minted × price;
    tokenless: fees + wages + the orchestrator's KYC share); and identities ejected and re-admitted."""

    ECONOMY = (
        "price_fiat",
        "queries",
        "fees_fiat",
        "claims_filed_fiat",
        "claims_paid_fiat",
        "market_reserve_fiat",
    )
    """The token economy after each round (with ``per_strategy``; NaN without one, ``model.economy``):
    the token's price in fiat, users' queries, the fees they paid in fiat, insurance claims filed and
    paid in fiat, and the market pool's fiat reserve."""

    LEARNING = ("test_loss", "clean_accuracy")
    """Mechanistic mode's learning after each round (with ``per_strategy``; NaN in abstract mode):
    the global model's test loss in nats (its accuracy is ``quality``) and the clean twin's test
    accuracy (``model.fl.task``)."""

    def __init__(self, net, rounds: int, per_strategy: bool):
        self._net = net
        self._rows = np.zeros((rounds, len(self.COLUMNS)))
        self.per_strategy = per_strategy
        if per_strategy:
            n_strategies = len(net.strategies)
            # Per round and strategy: profit, capital committed and owners it was committed for; pi
            # and profit per owner are their ratios, divided once when the frame is built.
            self.profit = np.zeros((rounds, n_strategies))
            self.capital = np.zeros((rounds, n_strategies))
            self.owners = np.zeros((rounds, n_strategies))
            self.flows_so_far = np.zeros((rounds, len(self.FLOWS)))
            """``FLOWS`` summed from genesis to the end of each round (differenced in ``frame``)."""
            # Books of its own, booked every round (and at each decision, before owners switch):
            # the run's books are booked at decisions only, so its KPIs never depend on this.
            self._books = StrategyBooks(net)
            net._booked_at_decisions.append(self._books)
            self._running = np.zeros(n_strategies)
            self._capital_until, self._leaves_seen = -1, -1  # see _committed_capital
            self.stocks = np.zeros((rounds, len(self.STOCKS)))
            self.stake_share = np.zeros((rounds, n_strategies))
            self.registered = np.zeros((rounds, n_strategies))
            self.shares = np.zeros((rounds, n_strategies))
            self.moves = np.zeros((rounds, 2))
            self.submitted = np.zeros((rounds, TRAINER_STRATEGIES))
            self.flagged = np.zeros((rounds, TRAINER_STRATEGIES))
            self.learning = np.full((rounds, len(self.LEARNING)), np.nan)
            self.economy = np.full((rounds, len(self.ECONOMY)), np.nan)

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
            net, ledger = self._net, self._net.ledger
            self._record_payoffs(net, t)
            self.shares[t] = net.owner_shares()
            self.moves[t] = (net.round_entered, net.round_exited)
            self._record_flows(net, t)
            self.stocks[t] = (
                ledger.genesis_supply_tokens + ledger.minted_tokens - ledger.burned_tokens,
                ledger.minted_tokens,
                ledger.burned_tokens,
                ledger.insurance_tokens,
            )
            if net.tokenless:
                self.stocks[t] = np.nan
            stake = by_strategy(net, ledger.stake)
            total = stake.sum()
            self.stake_share[t] = stake / total if total > 0 else np.nan
            self.registered[t] = by_strategy(net, net.registered.astype(float))
            economy = net.economy
            if economy is not None:
                self.economy[t] = (
                    economy.price_fiat,
                    economy.queries,
                    economy.fees_fiat,
                    economy.claims_filed_fiat,
                    economy.claims_paid_fiat,
                    economy.fiat.reserve_fiat if economy.market else np.nan,
                )
            task = net.task
            if task is not None:  # (abstract mode's flags are draws at known rates: not recorded)
                trainers = net.strategy_index[: net.n_trainers]
                self.submitted[t] = np.bincount(
                    trainers, weights=net.submitting, minlength=TRAINER_STRATEGIES
                )
                self.flagged[t] = np.bincount(trainers, weights=net.flagged, minlength=TRAINER_STRATEGIES)
                clean = task.twin_accuracy if task.twin is not None and task.twin_rounds else np.nan
                self.learning[t] = (task.loss, clean)

    def _record_payoffs(self, net, t: int) -> None:
        """This round's profit, the capital committed and the owners it was committed for, per strategy.

        With adaptation, or tokenless (owners are barred and come back), the books attribute each
        round exactly; with fixed strategies in the token regime the same figures are the change of
        each strategy's running profit over the capital committed this round and over the owners it
        was committed for — a few reductions instead of a booking."""
        if net.adaptive or net.tokenless:
            self.profit[t], self.capital[t], self.owners[t] = self._books.take_report(net)[:, :3].T
        else:
            running = by_strategy(net, identity_profit_fiat(net))
            np.subtract(running, self._running, out=self.profit[t])
            self._running = running
            self.capital[t], self.owners[t] = self._committed_capital(net)

    def _committed_capital(self, net) -> tuple[np.ndarray, np.ndarray]:
        """Capital committed in the round just run, and the owners it is committed for (a Sybil
        owner's identities count 1/k each), per strategy (fixed strategies, no entrants).

        They change only when an identity leaves (its release round is set) or its stake is
        returned, so they are worked out again only then."""
        t = net.round - 1
        if t >= self._capital_until or net.ledger.leaves != self._leaves_seen:
            committed = (net.join_round <= t) & (net.ledger.release_round > t)
            self._capital = by_strategy(net, net.capital_fiat * committed)
            self._owners = by_strategy(net, committed / net.identities_per_owner)
            returns = net.ledger.release_round[committed]  # all later than t
            self._capital_until = int(returns.min()) if returns.size else np.iinfo(np.int64).max
            self._leaves_seen = net.ledger.leaves
        return self._capital, self._owners

    def _record_flows(self, net, t: int) -> None:
        """``FLOWS`` summed from genesis to the end of round ``t`` (NaN where the regime has none)."""
        if net.tokenless:
            fiat = net.fiat
            self.flows_so_far[t] = (
                fiat.fees_paid_fiat,
                fiat.wages_paid_fiat,
                fiat.kyc_total_fiat,
                fiat.network_cost_fiat(),
                net.ejected_identities,
                net.orchestrator.readmitted,
            )
        else:
            economy = net.economy
            cost = (
                net.ledger.minted_tokens * net.scenario.token.price_fiat
                if economy is None or not economy.market
                else economy.minted_value_fiat
            )
            self.flows_so_far[t] = (np.nan, np.nan, np.nan, cost, net.ejected_identities, np.nan)

    def frame(self) -> pd.DataFrame:
        """The rounds run so far as a DataFrame, one row per round (built in one go: fast)."""
        t = self._net.round
        columns: dict[str, np.ndarray] = {"round": np.arange(t)}
        for i, name in enumerate(self.COLUMNS):
            columns[name] = self._rows[:t, i]
        columns["accepted"] = columns["accepted"].astype(np.int64)
        columns["flagged"] = columns["flagged"].astype(np.int64)
        if self.per_strategy:
            strategies = self._net.strategies
            profit, capital, owners = self.profit[:t], self.capital[:t], self.owners[:t]
            with np.errstate(divide="ignore", invalid="ignore"):
                pi = np.where(capital > 0, profit / capital, np.nan)
                per_owner = np.where(owners > 0, profit / owners, np.nan)
            for i, name in enumerate(strategies):
                columns[f"pi_{name}"] = pi[:, i]
            for i, name in enumerate(strategies):
                columns[f"profit_fiat_per_round_{name}"] = per_owner[:, i]
            payoff = per_owner if self._net.tokenless else pi  # tokenless: no capital, so per owner
            columns["margin_trainers"] = margins(payoff, strategies, "honest", TRAINER_DEVIATIONS)
            columns["margin_validators"] = margins(
                payoff, strategies, "honest_validator", VALIDATOR_DEVIATIONS
            )
            for i, name in enumerate(self.STOCKS):
                columns[name] = self.stocks[:t, i]
            for i, name in enumerate(strategies):
                columns[f"stake_share_{name}"] = self.stake_share[:t, i]
                columns[f"registered_{name}"] = self.registered[:t, i].astype(np.int64)
            for i, name in enumerate(strategies):
                columns[f"share_{name}"] = self.shares[:t, i]
            flows = np.diff(self.flows_so_far[:t], axis=0, prepend=np.zeros((1, len(self.FLOWS))))
            for i, name in enumerate(self.FLOWS):
                columns[name] = flows[:, i]
            columns["entered"] = self.moves[:t, 0].astype(np.int64)
            columns["exited"] = self.moves[:t, 1].astype(np.int64)
            # Running totals survive a trajectory kept only every few rounds; per-round counts do not.
            columns["entered_total"] = np.cumsum(columns["entered"])
            columns["exited_total"] = np.cumsum(columns["exited"])
            with np.errstate(divide="ignore", invalid="ignore"):
                rates = np.where(self.submitted[:t] > 0, self.flagged[:t] / self.submitted[:t], np.nan)
            for i, name in enumerate(strategies[:TRAINER_STRATEGIES]):
                columns[f"flag_rate_{name}"] = rates[:, i]
            for i, name in enumerate(self.LEARNING):
                columns[name] = self.learning[:t, i]
            for i, name in enumerate(self.ECONOMY):
                columns[name] = self.economy[:t, i]
        return pd.DataFrame(columns)


def margins(pi: np.ndarray, strategies: list[str], honest: str, deviations: tuple[str, ...]) -> np.ndarray:
    """Per row of ``pi`` (rounds × strategies): ``margin`` of ``model.kpis``, vectorised — the honest
    strategy's pi minus the best deviation's, NaN where either side has no value."""
    n = len(pi)
    if honest not in strategies:
        return np.full(n, np.nan)
    present = [strategies.index(d) for d in deviations if d in strategies]
    if not present:
        return np.full(n, np.nan)
    others = pi[:, present]
    best = np.max(np.where(np.isnan(others), -np.inf, others), axis=1)
    best[np.isneginf(best)] = np.nan  # no deviation had a value this round
    return pi[:, strategies.index(honest)] - best
