"""The token economy that answers back: a market price, inference fees and insurance claims.

A token network has an economy when its price is set by a market (``token.price_model = "market"``,
``model.market``), when the model has users (``fees.queries_per_round > 0``) or both. After the
round's rewards and aggregation, :meth:`TokenEconomy.settle` runs, in this order:

1. **Demand.** Users send ``Q = queries_per_round × quality^ε × trust`` queries (``ε`` =
   ``fees.quality_elasticity``; ``trust`` in [0, 1] as it stood at the round's start).
2. **Fees.** ``Q × fee_per_query_fiat`` fiat. Paid in tokens, users buy tokens with all of it —
   from the pool, or under a fixed price from the treasury at that price (the owner receives the
   fiat; what the treasury cannot sell is not spent) — and the tokens are split: trainers by the
   round's trainer rewards, validators by their reward weights, the owner's share to the treasury,
   the burn share burned (a share with nobody to receive it goes to the treasury). Paid in fiat,
   trainers, validators and the owner receive fiat and the burn share buys tokens and burns them.
3. **Insurance claims** (``insurance.claim_fiat_per_query > 0``). If poison entered the model this
   round and its quality fell by ``d`` (any amount), users file claims worth
   ``claim_fiat_per_query × Q × d`` fiat. The insurance pool pays them in tokens at the price of the
   moment (after the users' fee purchases), all claims of the round the same fraction, up to what it
   holds; the rest is unpaid. Users sell the tokens on the market (under a fixed price they keep
   them).
4. **Trust.** A visible poisoning (poison entered and the quality fell by at least
   ``fees.visible_quality_drop``) costs users
   ``poison_demand_drop`` of their trust; otherwise they regain ``trust_recovery_per_round`` of what
   they lost. Next round's demand uses the new trust.
5. **Market** (only with one). Speculators trade their round's flow (bought with fiat when positive,
   tokens sold when negative, at most what they hold); then, with ``market.sell_for_costs``, every
   participant that worked this round sells the tokens its fiat cost needs at the round's opening
   price, from what it holds above its liquid buffer, for the part of the cost its cash on hand
   (fees paid in fiat, earlier sales) does not cover; and owners whose stake was returned this round
   sell everything they got back. Each batch is one trade, shared pro rata.

Profit is then marked to market (``model.books``): an identity's tokens at the current price, less
its endowment at the price it joined at, plus the fiat it received.
"""

from __future__ import annotations

import math

import numpy as np

from model.market import FiatBooks, fiat_for_tokens, tokens_for_fiat


def has_economy(scenario) -> bool:
    """Whether a run of ``scenario`` has a token economy (a market, or users who pay or claim)."""
    s = scenario
    if s.regime.tokenless:
        return False
    return s.token.price_model == "market" or s.fees.queries_per_round > 0


class TokenEconomy:
    """The market, the users and the fiat books of one token network (see the module docstring)."""

    def __init__(self, net, rng: np.random.Generator):
        s = net.scenario
        self.net = net
        self.market = s.token.price_model == "market"
        """Whether a market sets the price (else it is ``token.price_fiat`` throughout)."""
        self.rng = rng
        ledger = net.ledger
        reserve = 0.0
        if self.market:
            ledger.transfer("treasury", "market", s.market.pool_tokens)
            ledger.transfer("treasury", "speculators", s.market.speculator_tokens)
            reserve = s.market.pool_tokens * s.token.price_fiat
        self.fiat = FiatBooks(len(net.strategy_index), reserve)
        if self.market:
            self.fiat.open_pool(ledger.market_tokens)
        self.price_fiat = s.token.price_fiat
        """The token's price now, in fiat per token (the pool's spot price with a market)."""
        self.entry_price_fiat = np.full(len(net.strategy_index), self.price_fiat)
        """The price at which each identity committed its capital: the opening price, or its entry's."""
        self.trust = 1.0
        """Users' trust in the model, in [0, 1]: the share of the demand its quality calls for."""
        # Running figures for the KPIs and the trajectory.
        self.rounds = 0
        self.price_sum = 0.0
        self.min_price_fiat = self.price_fiat
        self.queries = 0.0
        """Queries in the last round."""
        self.queries_total = 0.0
        self.fees_fiat = 0.0
        """Fee revenue in the last round, in fiat."""
        self.fees_total_fiat = 0.0
        self.fees_burned_tokens = 0.0
        self.claims_filed_fiat = 0.0
        """Claims filed in the last round, in fiat (``claims_paid_fiat`` the same for payouts)."""
        self.claims_paid_fiat = 0.0
        self.claims_filed_total_fiat = 0.0
        self.claims_paid_total_fiat = 0.0
        self.insolvent_rounds = 0
        self.minted_value_fiat = 0.0
        """Every round's minted tokens at that round's opening price, summed (``slashed_value_fiat``
        the same for slashed tokens)."""
        self.slashed_value_fiat = 0.0
        self._buffer = s.staking.initial_liquid_tokens
        self.cash_spent_fiat = np.zeros(len(net.strategy_index))
        """Of each participant's fiat from the network (``fiat.accounts_fiat``: fees paid in fiat,
        tokens sold), what has gone on its costs. The rest is cash on hand, which pays a round's costs
        before any token is sold for them."""
        self.exit_price_fiat = np.full(len(net.strategy_index), np.nan)
        """The price at the round an identity's capital was returned to its owner (NaN before):
        what is returned is valued at it from then on, as if sold, so that price moves after an
        owner has left are not booked to it."""
        path = s.market.speculative_flow_path_fiat
        self._path = np.array(path, dtype=float) if path else None

    def enter(self, rows: np.ndarray) -> None:
        """Identities join now: their capital is committed, and valued, at today's price."""
        net = self.net
        self.entry_price_fiat[rows] = self.price_fiat
        net.capital_fiat[rows] = (net.stake_required[rows] + self._buffer) * self.price_fiat

    # -- the round -----------------------------------------------------------------------------
    def settle(
        self,
        t: int,
        quality_before: float,
        trainer_payout: np.ndarray | None,
        validator_weights: np.ndarray | None,
        minted: float,
        slashed: float,
    ) -> None:
        """Run round ``t``'s economy (after rewards and aggregation; see the module docstring).

        ``trainer_payout``: the tokens each trainer identity was paid this round (None: nobody);
        ``validator_weights``: each validator's share of the validators' pool (None: nobody);
        ``minted`` and ``slashed``: the round's tokens, valued here at the round's opening price."""
        net, s = self.net, self.net.scenario
        f = s.fees
        price = self.price_fiat
        self.minted_value_fiat += minted * price
        self.slashed_value_fiat += slashed * price
        returned = np.flatnonzero(self.ledger.release_round == t)  # capital given back this round
        if returned.size:
            self.exit_price_fiat[returned] = price
        quality = net.quality
        self.queries = f.queries_per_round * quality**f.quality_elasticity * self.trust
        self.queries_total += self.queries
        self.fees_fiat = self.queries * f.fee_per_query_fiat
        if self.fees_fiat > 0:
            self._pay_fees(trainer_payout, validator_weights)
            self.fees_total_fiat += self.fees_fiat
        poisoned = net.round_poison_accepted > 0 and quality < quality_before
        visible = poisoned and quality_before - quality >= f.visible_quality_drop
        self.claims_filed_fiat = self.claims_paid_fiat = 0.0
        if poisoned and s.insurance.claim_fiat_per_query > 0:
            self._pay_claims(quality_before - quality)
        if visible:
            self.trust *= 1.0 - f.poison_demand_drop
        else:
            self.trust += f.trust_recovery_per_round * (1.0 - self.trust)
        if self.market:
            self._speculate(t)
            if self.ledger.users_tokens > 0:
                self._users_sell()
            if s.market.sell_for_costs:
                self._sell_for_costs(price, returned)
        self.rounds += 1
        self.price_sum += self.price_fiat
        self.min_price_fiat = min(self.min_price_fiat, self.price_fiat)

    @property
    def ledger(self):
        return self.net.ledger

    def _fee_split(
        self, total: float, trainer_payout: np.ndarray | None, validator_weights: np.ndarray | None
    ) -> tuple[np.ndarray | None, np.ndarray | None, float, float]:
        """``total`` (fiat or tokens) split by ``[fees]``'s shares: per trainer (by the round's
        trainer rewards) and per validator (by its reward weight; its delegators' cut taken out, as
        with emission, ``stakes.validator_take``) — None where nobody can receive — then the
        delegators' total and the owner's amount (its share plus any share nobody could receive).
        The burn share is what is left."""
        f, net = self.net.scenario.fees, self.net
        owner_share = f.owner_share
        trainers = validators = None
        if trainer_payout is not None and trainer_payout.sum() > 0:
            trainers = trainer_payout / trainer_payout.sum() * (f.trainer_share * total)
        else:
            owner_share += f.trainer_share
        delegators = 0.0
        if validator_weights is not None and validator_weights.sum() > 0:
            validators = validator_weights * (f.validator_share * total)  # the weights add up to 1
            cut = net.delegators_cut  # per validator: the share of its income its delegators get
            if cut is not None:
                delegators = float(validators @ cut)
                validators = validators * (1.0 - cut)
        else:
            owner_share += f.validator_share
        return trainers, validators, delegators, owner_share * total

    def _pay_fees(self, trainer_payout: np.ndarray | None, validator_weights: np.ndarray | None) -> None:
        """Pay the round's fee revenue (``fees_fiat``) out by :meth:`_fee_split`, in fiat or in the
        tokens users buy with it (``fees.paid_in``)."""
        f, ledger, fiat, nt = self.net.scenario.fees, self.ledger, self.fiat, self.net.n_trainers
        if f.paid_in == "fiat":
            fiat.users_fiat -= self.fees_fiat
            trainers, validators, delegators, owner = self._fee_split(
                self.fees_fiat, trainer_payout, validator_weights
            )
            for rows, amounts in ((slice(0, nt), trainers), (slice(nt, None), validators)):
                if amounts is not None:
                    fiat.accounts_fiat[rows] += amounts
            fiat.delegators_fiat += delegators
            fiat.owner_fiat += owner
            # The burn share buys tokens back (as users' purchases do, so it is handed back first).
            fiat.users_fiat += f.burn_share * self.fees_fiat
            burned, spent = self._buy_tokens(f.burn_share * self.fees_fiat)
            unspent = f.burn_share * self.fees_fiat - spent
            fiat.users_fiat -= unspent  # what the treasury could not sell is the owner's
            fiat.owner_fiat += unspent
            ledger.burn_from("users", burned)
            self.fees_burned_tokens += burned
            return
        bought, spent = self._buy_tokens(self.fees_fiat)
        self.fees_fiat = spent  # less, if the treasury ran out of tokens to sell at a fixed price
        trainers, validators, delegators, owner = self._fee_split(bought, trainer_payout, validator_weights)
        left = bought - delegators
        ledger.transfer("users", "delegators", delegators)
        for rows, amounts in ((slice(0, nt), trainers), (slice(nt, None), validators)):
            if amounts is not None:
                ledger.pay_from("users", rows, amounts)
                left -= float(amounts.sum())
        to_treasury = min(owner, left)
        ledger.transfer("users", "treasury", to_treasury)
        burn = max(left - to_treasury, 0.0)  # the burn share (and what rounding left of the rest)
        ledger.burn_from("users", burn)
        self.fees_burned_tokens += burn

    def _buy_tokens(self, paid_fiat: float) -> tuple[float, float]:
        """Users spend up to ``paid_fiat`` on tokens, which land in ``users_tokens``: from the pool,
        or under a fixed price from the treasury at that price, as far as it holds tokens (the owner
        is paid). Returns the tokens bought and the fiat spent."""
        if paid_fiat <= 0:
            return 0.0, 0.0
        ledger, fiat = self.ledger, self.fiat
        if self.market:
            tokens = self._buy_from_pool(paid_fiat, "users")
            fiat.users_fiat -= paid_fiat
            return tokens, paid_fiat
        tokens = min(paid_fiat / self.price_fiat, ledger.treasury_tokens)
        spent = min(tokens * self.price_fiat, paid_fiat)
        ledger.transfer("treasury", "users", tokens)
        fiat.users_fiat -= spent
        fiat.owner_fiat += spent
        return tokens, spent

    def _pay_claims(self, quality_lost: float) -> None:
        """Users file claims for ``quality_lost`` (see the module docstring); the pool pays what it can."""
        ledger = self.ledger
        filed = self.net.scenario.insurance.claim_fiat_per_query * self.queries * quality_lost
        needed = filed / self.price_fiat
        if needed <= ledger.insurance_tokens:  # paid in full
            tokens, paid = needed, filed
        else:  # pro rata: the pool pays all it holds
            tokens = ledger.insurance_tokens
            paid = min(tokens * self.price_fiat, filed)
            self.insolvent_rounds += 1
        ledger.transfer("insurance", "users", tokens)
        self.claims_filed_fiat, self.claims_paid_fiat = filed, paid
        self.claims_filed_total_fiat += filed
        self.claims_paid_total_fiat += paid

    def _users_sell(self) -> None:
        """Users sell every token they hold (insurance payouts) to the pool."""
        tokens = self.ledger.users_tokens
        self.fiat.users_fiat += self._sell_to_pool("users", tokens)

    def _speculate(self, t: int) -> None:
        """Speculators trade this round's flow: buy with it, or sell tokens worth it (as far as they hold)."""
        m = self.net.scenario.market
        if self._path is not None:
            flow = float(self._path[min(t, len(self._path) - 1)])
        elif m.speculative_flow_sd_fiat > 0:
            flow = m.speculative_flow_fiat_per_round + m.speculative_flow_sd_fiat * float(self.rng.normal())
        else:
            flow = m.speculative_flow_fiat_per_round
        if flow > 0:
            self._buy_from_pool(flow, "speculators")
            self.fiat.speculators_fiat -= flow
        elif flow < 0:
            tokens = min(-flow / self.price_fiat, self.ledger.speculators_tokens)
            self.fiat.speculators_fiat += self._sell_to_pool("speculators", tokens)

    def _sell_for_costs(self, price: float, returned: np.ndarray) -> None:
        """Participants pay the round's costs from their cash on hand (fiat fees, earlier sales) and
        sell tokens at ``price`` for the rest; owners whose stake came back this round (``returned``)
        sell it all."""
        net, ledger = self.net, self.ledger
        nt = net.n_trainers
        cost = net.work_rate_fiat.copy()
        cost[:nt] *= net.submitting
        cost[nt:] *= net.validators_active
        cash = self.fiat.accounts_fiat - self.cash_spent_fiat  # >= 0 to rounding: only income is spent
        from_cash = np.minimum(cost, cash, out=cash)
        self.cash_spent_fiat += from_cash
        cost -= from_cash
        spare = ledger.liquid - self._buffer
        want = np.minimum(cost / price, spare, out=spare)
        sellers = np.flatnonzero(want > 0)
        if returned.size:
            returned = returned[ledger.outside[returned] > 0]
        for rows, amounts, place in (
            (sellers, want[sellers], "liquid"),
            (returned, ledger.outside[returned].copy(), "outside"),
        ):
            if rows.size:
                held = ledger.market_tokens
                tokens = ledger.sell(rows, amounts, place)
                proceeds = amounts * (self._pay_for_sale(held, tokens) / tokens)
                self.fiat.accounts_fiat[rows] += proceeds
                if place == "liquid":  # sold for the costs: the proceeds pay them
                    self.cash_spent_fiat[rows] += np.minimum(proceeds, cost[rows])

    # -- the pool --------------------------------------------------------------------------------
    def _buy_from_pool(self, paid_fiat: float, target: str) -> float:
        """``paid_fiat`` into the pool's reserve; the tokens it pays go to pool ``target``. Returns them.

        The reserve left, ``T·F / (F + f)``, is computed as a product, not as ``T`` minus the tokens
        paid, and kept: for a purchase some 1e16 times the reserve the difference would round the
        reserve to 0 (the two differ by less than a rounding step of ``T``)."""
        fiat, ledger = self.fiat, self.ledger
        held, reserve = ledger.market_tokens, fiat.reserve_fiat
        tokens = tokens_for_fiat(held, reserve, paid_fiat)
        keep = held * (reserve / (reserve + paid_fiat))
        ledger.transfer("market", target, min(tokens, held))
        ledger.market_tokens = keep
        fiat.reserve_fiat = reserve + paid_fiat
        fiat.note_product(held * reserve, keep * fiat.reserve_fiat)
        self.price_fiat = fiat.reserve_fiat / keep
        return tokens

    def _pay_for_sale(self, held: float, tokens: float) -> float:
        """``tokens`` were just moved into the pool's token reserve, which held ``held`` before; pay
        for them from the fiat reserve. Returns the fiat paid. (The fiat reserve left, ``F·T / (T + s)``,
        is computed as a product and kept, as in :meth:`_buy_from_pool`.)"""
        fiat, ledger = self.fiat, self.ledger
        reserve = fiat.reserve_fiat
        out = fiat_for_tokens(held, reserve, tokens)
        keep = reserve * (held / ledger.market_tokens)
        fiat.reserve_fiat = keep
        fiat.note_product(held * reserve, ledger.market_tokens * keep)
        self.price_fiat = keep / ledger.market_tokens
        return min(out, reserve)

    def _sell_to_pool(self, source: str, tokens: float) -> float:
        """Pool ``source`` sells ``tokens``; returns the fiat paid for them."""
        if tokens <= 0:
            return 0.0
        held = self.ledger.market_tokens
        self.ledger.transfer(source, "market", tokens)
        return self._pay_for_sale(held, tokens)

    # -- reading -------------------------------------------------------------------------------
    def mean_price_fiat(self) -> float:
        """The price after each round, averaged over the rounds run (NaN before any)."""
        return self.price_sum / self.rounds if self.rounds else math.nan

    def check(self) -> None:
        """Raise LedgerError if fiat was created or lost (``model.market.FiatBooks.check``)."""
        self.fiat.check()
