"""The books: each owner's profit and committed capital, attributed to the strategy it played.

Capital as an investor counts it (README, "Accounting"):

* an identity's **committed capital** ``K`` is what its owner brought in when it registered — the
  stake it bonds plus its liquid buffer — valued at the token price; locked (unbonding) tokens stay
  committed until they are returned, then they stop counting;
* the **registration** cost is burned: a sunk cost in profit, not capital;
* **profit** so far = (tokens paid − tokens slashed − registration) × price − work costs + outside
  gains − strategy costs (a Sybil owner's shared training); with a token economy (``model.economy``:
  a market price, or fees) it is marked to market — the tokens it holds at today's price, less its
  endowment at the price it joined at, plus the fiat it received (tokens sold, fees paid in fiat) —
  so that a falling price costs holders what it costs them;
* the **outside option** ω is the opportunity cost: profit is compared with ``ω × K`` per round
  (never charged a second time inside profit).

In the tokenless regime (``model.regimes``) no token moves and nobody commits capital: profit =
fees + wages − the identity's own KYC share − work costs + outside gains − strategy costs, and an
owner's **owner-rounds** run from its first admission to the end of the run or its chosen exit —
rounds spent ejected or barred count, at zero income — so that profit per owner-round is the
tokenless payoff (capital-rounds are 0 and ``π_s`` is undefined).

Strategies can change (revision), owners can leave and join, so the books are kept as sums per
strategy: at every booking each identity's change in profit, capital-rounds (``K`` × rounds its
capital was committed), owner-rounds, submissions and flags since the last booking is added to the
strategy it played over that stretch. Decisions happen only at bookings, so the attribution is
exact. ``π_s`` = profit booked to ``s`` ÷ capital-rounds booked to ``s``.
"""

from __future__ import annotations

import numpy as np

from model.kpis import by_strategy

#: ``join_round`` of an entrant that has not joined (``model.network.NEVER``).
NOT_JOINED = np.iinfo(np.int64).max

#: What the books sum per strategy, in this order.
COLUMNS = ("profit_fiat", "capital_fiat_rounds", "owner_rounds", "submissions", "flags")


def identity_profit_fiat(net) -> np.ndarray:
    """Each identity's profit so far, in fiat (0 for an entrant that has not joined yet).

    ``(holdings − endowed) × price`` is the tokens it was paid minus those slashed and the
    registration it burned (tokenless: 0, and fees + wages − its own KYC share instead); then work
    costs, outside gains and strategy costs (a Sybil owner's shared training is booked on its first
    identity, so sum identities per owner). Under a market price (``model.economy``) tokens are
    marked to market instead — at today's price, or at the price when they were returned to an
    owner who left, the endowment at the price it came in at — and, with any economy, the fiat the
    identity received is added (tokens sold, fees paid in fiat).
    """
    ledger = net.ledger
    economy = net.economy
    if economy is None or not economy.market:
        profit = (ledger.holdings() - ledger.endowed) * net.scenario.token.price_fiat
    else:  # marked to market: tokens at today's price (or, once returned, at the price then), the
        # endowment at the price it came in at
        price = np.where(np.isnan(economy.exit_price_fiat), economy.price_fiat, economy.exit_price_fiat)
        profit = ledger.holdings() * price - ledger.endowed * economy.entry_price_fiat
        profit[net.join_round == NOT_JOINED] = 0.0  # an entrant that has not joined has made nothing yet
    if economy is not None:
        profit += economy.fiat.accounts_fiat  # tokens sold, fees paid in fiat
    if net.fiat is not None:
        profit += net.fiat.income_fiat()
    profit -= net.work_cost_fiat
    profit -= net.work_rate_fiat * (net.active_rounds - net.charged_rounds)  # not yet charged
    profit -= net.extra_cost_fiat
    profit += net.gain_fiat
    return profit


def committed_rounds(net) -> np.ndarray:
    """Rounds each identity's capital has been committed so far: from joining until it is returned."""
    now = net.round
    end = np.minimum(net.ledger.release_round, now)
    return np.clip(end - net.join_round, 0, None)


def owner_rounds(net, committed: np.ndarray | None = None) -> np.ndarray:
    """Per identity, its share of its owner's rounds so far, so that an owner's identities add up to
    one owner: the rounds its capital was committed / k (``committed``, if the caller has it), or in
    the tokenless regime its owner's rounds from first admission to now or its chosen exit, / k."""
    if net.orchestrator is not None:
        return net.orchestrator.owner_rounds()
    rounds = committed_rounds(net) if committed is None else committed
    return rounds / net.identities_per_owner


class StrategyBooks:
    """Running sums per strategy (``COLUMNS``), booked from the network's per-identity counters."""

    def __init__(self, net, *, from_now: bool = False):
        """Books from genesis, or (``from_now``) of what happens from now on only."""
        self.totals = np.zeros((len(net.strategies), len(COLUMNS)))
        self.since_report = np.zeros((len(net.strategies), len(COLUMNS)))
        """What was booked since the recorder last took it (``take_report``)."""
        self._last = self.cumulative(net) if from_now else np.zeros((len(COLUMNS), len(net.strategy_index)))

    def cumulative(self, net) -> np.ndarray:
        """Per identity and column (``COLUMNS`` × identities): the running totals up to now."""
        rounds = committed_rounds(net)
        return np.stack(
            [
                identity_profit_fiat(net),
                net.capital_fiat * rounds,
                owner_rounds(net, rounds),
                net.active_rounds.astype(float),
                net.flags.astype(float),
            ]
        )

    def book(self, net, now: np.ndarray | None = None) -> np.ndarray:
        """Add every identity's change since the last booking to its current strategy's sums.

        ``now`` is ``cumulative(net)`` if the caller has it already. Returns the per-strategy
        changes (strategies × ``COLUMNS``) of this booking.
        """
        now = self.cumulative(net) if now is None else now
        change = now - self._last
        self._last = now
        booked = np.stack([by_strategy(net, row) for row in change], axis=1)
        self.totals += booked
        self.since_report += booked
        return booked

    def take_report(self, net) -> np.ndarray:
        """Book up to now and return everything booked since the last call (strategies × ``COLUMNS``).

        A decision round books before owners switch; the round's record still gets all of it."""
        self.book(net)
        out, self.since_report = self.since_report, np.zeros_like(self.since_report)
        return out
