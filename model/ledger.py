"""The token ledger: every token in the network is in exactly one place.

Places: each account's liquid balance, stake, unbonding stake and the tokens its owner holds
*outside* the network (a potential entrant's capital before it joins; a leaving owner's capital once
it is returned), the insurance pool, the network owner's treasury, the passive delegators' pool
(the stake they delegate to validators and what it earns them) and, with a token economy
(``model.economy``), the market pool's token reserve, the speculators' tokens and the model users'
tokens. Tokens enter only by genesis or minting and leave only by burning, so at every moment

    liquid + staked + unbonding + outside + pools = genesis + minted − burned,

and, in audit mode (``audit=True``: the tests run with it), for every account

    liquid + staked + unbonding + outside + burned by it + sold = endowed + received − slashed.

Audit mode tracks what each account received and lost in two more arrays, a cost of a few array
operations a round that runs outside the tests need not pay: the totals are checked either way.

Accounts are array indices (trainer identities first, then validators); every operation works on
whole arrays so a round costs a handful of numpy calls, not one call per account.
"""

from __future__ import annotations

import numpy as np

#: Relative tolerance of the conservation check (float64 sums over many accounts).
CONSERVATION_RTOL = 1e-9


class LedgerError(RuntimeError):
    """A ledger operation would break an invariant (negative balance, unbacked payout)."""


class TokenLedger:
    """Balances of ``n_accounts`` accounts plus the pools, with running mint/burn/slash totals.

    All amounts are tokens. ``unbonding_period_rounds`` is how many full rounds unbonded stake
    stays locked before it is returned to its owner (outside the network).
    """

    def __init__(
        self,
        n_accounts: int,
        genesis_supply_tokens: float,
        unbonding_period_rounds: int,
        *,
        audit: bool = False,
    ):
        self.liquid = np.zeros(n_accounts)
        self.stake = np.zeros(n_accounts)
        self.unbonding = np.zeros(n_accounts)
        """Tokens each account has waiting to be returned (at most one pending unbond each)."""
        self.outside = np.zeros(n_accounts)
        """Tokens the account's owner holds outside the network (before joining, after leaving)."""
        self.endowed = np.zeros(n_accounts)
        """Tokens each account was given at genesis (its owner's capital and registration)."""
        self.audit = audit
        """Whether ``received`` and ``slashed`` are kept, so that each account's books can be checked."""
        self.received = np.zeros(n_accounts) if audit else None
        """Tokens each account has been paid (rewards and bounties); audit mode only."""
        self.slashed = np.zeros(n_accounts) if audit else None
        """Tokens slashed from each account; audit mode only."""
        self.sold = np.zeros(n_accounts) if audit else None
        """Tokens each account sold on the market; audit mode only."""
        self.burned_by = np.zeros(n_accounts)
        """Tokens each account burned to register."""
        self.round = 0
        """The round in progress (set by :meth:`begin_round`)."""
        self.release_round = np.full(n_accounts, np.iinfo(np.int64).max)
        """Round at whose start an account's unbonding stake is returned (int64 max: never unbonded)."""
        self._next_release: int | None = None  # earliest pending release, to skip idle rounds
        self.leaves = 0
        """How many times accounts have left (a counter that tells a cache its release rounds moved)."""
        self.unbonding_period_rounds = unbonding_period_rounds
        self.insurance_tokens = 0.0
        self.treasury_tokens = float(genesis_supply_tokens)
        self.delegators_tokens = 0.0
        """Passive holders' tokens: the stake they delegated to validators plus what it earned them."""
        self.market_tokens = 0.0
        """The market pool's token reserve (``model.market``)."""
        self.speculators_tokens = 0.0
        """Tokens speculators hold."""
        self.users_tokens = 0.0
        """Tokens the model's users hold: insurance payouts not sold yet, fee tokens on their way."""
        self.genesis_supply_tokens = float(genesis_supply_tokens)
        self.minted_tokens = 0.0
        self.burned_tokens = 0.0
        self.slashed_tokens = 0.0

    # -- genesis and entry -----------------------------------------------------------------
    def _take_from_treasury(self, accounts: slice | np.ndarray, per_account: np.ndarray | float) -> None:
        need = float(np.sum(np.broadcast_to(per_account, self.stake[accounts].shape)))
        if need > self.treasury_tokens * (1 + CONSERVATION_RTOL):
            raise LedgerError(
                f"genesis needs {need:g} tokens but the treasury holds {self.treasury_tokens:g}"
            )
        self.treasury_tokens -= need
        self.endowed[accounts] += per_account

    def allocate_from_treasury(self, accounts, stake, liquid, burn) -> None:
        """Give each account in ``accounts`` a stake and a liquid balance, and burn ``burn`` each.

        Used once at genesis for the starting population: the tokens come out of the treasury, which
        must hold them. ``stake`` may be one number or one per account.
        """
        self._take_from_treasury(accounts, stake + liquid + burn)
        self.stake[accounts] = stake
        self.liquid[accounts] = liquid
        self.burned_by[accounts] = burn
        self.burned_tokens += float(np.sum(np.broadcast_to(burn, self.stake[accounts].shape)))

    def delegate_from_treasury(self, amount: float) -> None:
        """Genesis for passive holders: ``amount`` tokens from the treasury, delegated to validators."""
        if amount > self.treasury_tokens * (1 + CONSERVATION_RTOL):
            raise LedgerError(
                f"genesis needs {amount:g} delegated tokens but the treasury holds {self.treasury_tokens:g}"
            )
        self.treasury_tokens -= amount
        self.delegators_tokens += amount

    def allocate_outside(self, accounts, amount) -> None:
        """Genesis for potential entrants: ``amount`` per account, held by their owners outside."""
        self._take_from_treasury(accounts, amount)
        self.outside[accounts] = amount

    def enter(self, accounts: np.ndarray, stake: np.ndarray, liquid: float, burn: float) -> None:
        """Joining owners bring ``stake`` (one per account) and ``liquid`` in and burn ``burn`` each."""
        need = stake + liquid + burn
        if np.count_nonzero(self.outside[accounts] < need * (1 - CONSERVATION_RTOL)):
            raise LedgerError("an entrant does not hold the stake, buffer and registration it needs")
        self.outside[accounts] -= need
        self.stake[accounts] = stake
        self.liquid[accounts] += liquid
        self.burned_by[accounts] += burn
        self.burned_tokens += burn * len(accounts)

    # -- flows -----------------------------------------------------------------------------
    def mint_to_accounts(self, accounts: slice, amounts: np.ndarray, total: float) -> None:
        """Mint ``amounts`` (one per account in the slice, adding up to ``total``) into liquid."""
        self.liquid[accounts] += amounts
        if self.audit:
            self.received[accounts] += amounts
        self.minted_tokens += total

    def mint_to_delegators(self, amount: float) -> None:
        """Mint ``amount`` tokens to the passive delegators (their share of their validators' income)."""
        self.delegators_tokens += amount
        self.minted_tokens += amount

    def mint_to_treasury(self, amount: float) -> None:
        """Mint ``amount`` tokens into the network owner's treasury."""
        self.treasury_tokens += amount
        self.minted_tokens += amount

    def slash(
        self, accounts: np.ndarray, fraction: float, required: np.ndarray | None = None
    ) -> tuple[float, bool]:
        """Slash ``fraction`` of the stake of ``accounts`` (indices); owners restake what they can.

        Each account tops its stake back up to ``required`` (one per account; None: to the stake it
        had) from its liquid balance, as far as that goes. Returns the slashed total — now in
        transit, to be passed on with :meth:`distribute_slashed` — and whether every account's stake
        was fully restored.
        """
        stake = self.stake[accounts]
        liquid = self.liquid[accounts]
        cut = stake * fraction
        total = float(np.add.reduce(cut))  # cheaper than cut.sum() on small arrays
        self.slashed_tokens += total
        if self.audit:
            self.slashed[accounts] += cut
        top_up = cut if required is None else np.maximum(required - (stake - cut), 0.0)
        # np.count_nonzero is several times cheaper than .any() on the small arrays seen here.
        if not np.count_nonzero(liquid < top_up):  # common case: every stake is restored in full
            self.liquid[accounts] = liquid - top_up
            if required is not None:
                self.stake[accounts] = stake - cut + top_up
            return total, True
        move = np.minimum(top_up, liquid)
        self.stake[accounts] = stake - cut + move
        self.liquid[accounts] = liquid - move
        return total, False

    def distribute_slashed(
        self, burn: float, insurance: float, accounts: slice, validator_amounts: np.ndarray
    ) -> None:
        """Send slashed tokens in transit to the burn, the insurance pool and validators' balances."""
        self.burned_tokens += burn
        self.insurance_tokens += insurance
        self.liquid[accounts] += validator_amounts
        if self.audit:
            self.received[accounts] += validator_amounts

    # -- the token economy's moves (model.economy) -------------------------------------------
    POOLS = ("insurance", "treasury", "market", "speculators", "users", "delegators")
    """Places outside the accounts that :meth:`transfer` and :meth:`burn_from` move tokens between."""

    def _take(self, source: str, amount: float) -> None:
        """Take ``amount`` tokens out of pool ``source`` (a name in ``POOLS``), which must hold them."""
        if source not in self.POOLS:
            raise LedgerError(f"no pool {source!r}: the pools are {', '.join(self.POOLS)}")
        held = getattr(self, f"{source}_tokens")
        # Shares of one amount paid out separately can add up to a rounding step more than it: a
        # pool may be overdrawn by a relative CONSERVATION_RTOL of the amounts involved (at least of
        # one token), far below what the conservation check tolerates over the whole supply.
        if amount - held > CONSERVATION_RTOL * max(1.0, abs(held), amount):
            raise LedgerError(f"the {source} pool holds {held!r} tokens and cannot pay {amount!r}")
        setattr(self, f"{source}_tokens", held - amount)

    def transfer(self, source: str, target: str, amount: float) -> None:
        """Move ``amount`` tokens from pool ``source`` to pool ``target`` (names in ``POOLS``)."""
        if target not in self.POOLS:
            raise LedgerError(f"no pool {target!r}: the pools are {', '.join(self.POOLS)}")
        self._take(source, amount)
        setattr(self, f"{target}_tokens", getattr(self, f"{target}_tokens") + amount)

    def burn_from(self, source: str, amount: float) -> None:
        """Burn ``amount`` tokens held by pool ``source``."""
        self._take(source, amount)
        self.burned_tokens += amount

    def pay_from(self, source: str, accounts: slice, amounts: np.ndarray) -> None:
        """Pay ``amounts`` (one per account in the slice) from pool ``source`` into liquid balances."""
        self._take(source, float(amounts.sum()))
        self.liquid[accounts] += amounts
        if self.audit:
            self.received[accounts] += amounts

    def sell(self, accounts: np.ndarray, amounts: np.ndarray, place: str = "liquid") -> float:
        """Accounts ``accounts`` (indices) sell ``amounts`` of their ``place`` (liquid or outside)
        into the market pool; returns the tokens sold. (The fiat is paid by ``model.economy``.)"""
        held = getattr(self, place)
        if np.count_nonzero(amounts > held[accounts] * (1 + CONSERVATION_RTOL)):
            raise LedgerError(f"an account sells more {place} tokens than it holds")
        held[accounts] -= amounts
        if self.audit:
            self.sold[accounts] += amounts
        total = float(amounts.sum())
        self.market_tokens += total
        return total

    def leave(self, accounts: np.ndarray) -> None:
        """Accounts leave: liquid tokens go back to the owner now, the stake starts unbonding.

        Stake unbonded during round r stays locked for ``unbonding_period_rounds`` full rounds
        after it and is returned (outside) at the start of round r + period + 1.
        """
        if np.count_nonzero(self.unbonding[accounts]):
            raise LedgerError("an account may have only one pending unbond")
        self.leaves += 1
        self.outside[accounts] += self.liquid[accounts]
        self.liquid[accounts] = 0.0
        release = self.round + self.unbonding_period_rounds + 1
        self.unbonding[accounts] = self.stake[accounts]
        self.release_round[accounts] = release
        self.stake[accounts] = 0.0
        self._next_release = release if self._next_release is None else min(self._next_release, release)

    def begin_round(self, now_round: int) -> None:
        """Start round ``now_round``: whatever finished unbonding by now goes back to its owner."""
        self.round = now_round
        if self._next_release is None or now_round < self._next_release:
            return
        pending = self.unbonding > 0
        due = np.flatnonzero(pending & (self.release_round <= now_round))
        self.outside[due] += self.unbonding[due]
        self.unbonding[due] = 0.0
        waiting = self.release_round[pending & (self.release_round > now_round)]
        self._next_release = int(waiting.min()) if waiting.size else None

    # -- views -----------------------------------------------------------------------------
    def holdings(self) -> np.ndarray:
        """Each account's tokens wherever they are: liquid, staked, unbonding and outside."""
        return self.liquid + self.stake + self.unbonding + self.outside

    def held_tokens(self) -> float:
        """All tokens in existence, counted where they are."""
        pools = self.insurance_tokens + self.treasury_tokens + self.delegators_tokens
        pools += self.market_tokens + self.speculators_tokens + self.users_tokens
        return float(self.holdings().sum() + pools)

    def expected_supply_tokens(self) -> float:
        """All tokens there should be: genesis + minted − burned."""
        return self.genesis_supply_tokens + self.minted_tokens - self.burned_tokens

    def account_errors(self) -> np.ndarray:
        """Per account: holdings + burned by it − (endowed + received − slashed); all ≈ 0.

        Audit mode only (LedgerError otherwise)."""
        if not self.audit:
            raise LedgerError(
                "each account's books are kept in audit mode only: TokenLedger(..., audit=True)"
            )
        return self.holdings() + self.burned_by + self.sold - (self.endowed + self.received - self.slashed)

    def check(self) -> None:
        """Raise LedgerError if tokens were created or lost, an account's books do not balance (audit
        mode), or any balance is negative."""
        held, expected = self.held_tokens(), self.expected_supply_tokens()
        if abs(held - expected) > CONSERVATION_RTOL * max(1.0, expected):
            raise LedgerError(f"token conservation broken: held {held!r}, expected {expected!r}")
        tol = -CONSERVATION_RTOL * max(1.0, expected)
        errors = self.account_errors() if self.audit else np.zeros(0)
        if errors.size and np.abs(errors).max() > CONSERVATION_RTOL * max(1.0, expected):
            i = int(np.abs(errors).argmax())
            raise LedgerError(f"account {i}'s books do not balance: off by {errors[i]!r} tokens")
        for name, arr in (
            ("liquid", self.liquid),
            ("stake", self.stake),
            ("unbonding", self.unbonding),
            ("outside", self.outside),
        ):
            if arr.size and arr.min() < tol:
                raise LedgerError(f"negative {name} balance {arr.min()!r}")
        for name in self.POOLS:
            if getattr(self, f"{name}_tokens") < tol:
                raise LedgerError(f"negative {name} pool balance {getattr(self, f'{name}_tokens')!r}")
