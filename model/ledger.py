"""The token ledger: every token in the network is in exactly one place.

Places: each account's liquid balance, stake and unbonding stake, the insurance pool and the
network owner's treasury. Tokens enter only by genesis or minting and leave only by burning, so at
every moment

    liquid + staked + unbonding + insurance + treasury = genesis + minted − burned.

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
    stays locked before it becomes liquid again.
    """

    def __init__(self, n_accounts: int, genesis_supply_tokens: float, unbonding_period_rounds: int):
        self.liquid = np.zeros(n_accounts)
        self.stake = np.zeros(n_accounts)
        self.round = 0
        """The round in progress (set by :meth:`begin_round`)."""
        # Time integral of each stake (token-rounds) up to ``_since``; see :meth:`stake_rounds`.
        self._stake_time = np.zeros(n_accounts)
        self._since = np.zeros(n_accounts, dtype=np.int64)
        # Ring buffer: row (r mod (period+1)) holds what becomes liquid at the start of round r.
        self.unbonding = np.zeros(n_accounts)
        """Tokens each account has waiting to turn liquid (at most one pending unbond each)."""
        self._unbond_start = np.zeros(n_accounts, dtype=np.int64)
        self._release_round = np.zeros(n_accounts, dtype=np.int64)
        self._next_release: int | None = None  # earliest pending release, to skip idle rounds
        self._locked_time = np.zeros(n_accounts)  # token-rounds of finished unbonds
        self.unbonding_period_rounds = unbonding_period_rounds
        self.insurance_tokens = 0.0
        self.treasury_tokens = float(genesis_supply_tokens)
        self.genesis_supply_tokens = float(genesis_supply_tokens)
        self.minted_tokens = 0.0
        self.burned_tokens = 0.0
        self.slashed_tokens = 0.0

    # -- genesis ---------------------------------------------------------------------------
    def allocate_from_treasury(self, accounts: slice, stake: float, liquid: float, burn: float):
        """Give each account in ``accounts`` a stake and a liquid balance, and burn ``burn`` each.

        Used once at genesis: the tokens come out of the treasury, which must hold them.
        """
        n = len(range(*accounts.indices(len(self.stake))))
        need = n * (stake + liquid + burn)
        if need > self.treasury_tokens * (1 + CONSERVATION_RTOL):
            raise LedgerError(
                f"genesis needs {need:g} tokens but the treasury holds {self.treasury_tokens:g}"
            )
        self.treasury_tokens -= need
        self.stake[accounts] = stake
        self.liquid[accounts] = liquid
        self.burned_tokens += n * burn

    # -- flows -----------------------------------------------------------------------------
    def mint_to_accounts(self, accounts: slice, amounts: np.ndarray, total: float) -> None:
        """Mint ``amounts`` (one per account in the slice, adding up to ``total``) into liquid."""
        self.liquid[accounts] += amounts
        self.minted_tokens += total

    def mint_to_treasury(self, amount: float) -> None:
        """Mint ``amount`` tokens into the network owner's treasury."""
        self.treasury_tokens += amount
        self.minted_tokens += amount

    def slash(self, accounts: np.ndarray, fraction: float) -> tuple[float, bool]:
        """Slash ``fraction`` of the stake of ``accounts`` (indices); owners restake what they can.

        Each account replaces its slashed stake from its liquid balance, as far as that goes.
        Returns the slashed total — now in transit, to be passed on with
        :meth:`distribute_slashed` — and whether every account's stake was fully restored.
        """
        stake = self.stake[accounts]
        liquid = self.liquid[accounts]
        cut = stake * fraction
        total = float(np.add.reduce(cut))  # cheaper than cut.sum() on small arrays
        self.slashed_tokens += total
        # np.count_nonzero is several times cheaper than .any() on the small arrays seen here.
        if not np.count_nonzero(liquid < cut):  # common case: every stake is restored in full
            self.liquid[accounts] = liquid - cut
            return total, True
        move = np.minimum(cut, liquid)
        self._integrate_stake(accounts)
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

    def unbond(self, accounts: np.ndarray) -> None:
        """Move the whole stake of ``accounts`` (indices) into unbonding.

        Stake unbonded during round r stays locked for ``unbonding_period_rounds`` full rounds
        after it and turns liquid at the start of round r + period + 1.
        """
        if np.count_nonzero(self.unbonding[accounts]):
            raise LedgerError("an account may have only one pending unbond")
        self._integrate_stake(accounts)
        release = self.round + self.unbonding_period_rounds + 1
        self.unbonding[accounts] = self.stake[accounts]
        self._unbond_start[accounts] = self.round
        self._release_round[accounts] = release
        self.stake[accounts] = 0.0
        self._next_release = release if self._next_release is None else min(self._next_release, release)

    def begin_round(self, now_round: int) -> None:
        """Start round ``now_round``: whatever finished unbonding by now turns liquid."""
        self.round = now_round
        if self._next_release is None or now_round < self._next_release:
            return
        pending = self.unbonding > 0
        due = np.flatnonzero(pending & (self._release_round <= now_round))
        amount = self.unbonding[due]
        self._locked_time[due] += amount * (self._release_round[due] - self._unbond_start[due])
        self.liquid[due] += amount
        self.unbonding[due] = 0.0
        waiting = self._release_round[pending & (self._release_round > now_round)]
        self._next_release = int(waiting.min()) if waiting.size else None

    def _integrate_stake(self, accounts: np.ndarray) -> None:
        """Book the stake-time of ``accounts`` up to now, before their stake changes."""
        self._stake_time[accounts] += self.stake[accounts] * (self.round - self._since[accounts])
        self._since[accounts] = self.round

    # -- views -----------------------------------------------------------------------------
    def stake_rounds(self, rounds_done: int) -> np.ndarray:
        """Each account's locked tokens summed over the ``rounds_done`` rounds so far (token-rounds).

        Locked means bonded or unbonding: both are capital the owner cannot use. A stake changed
        during a round counts at its new value for that round.
        """
        locked = self._stake_time + self.stake * (rounds_done - self._since) + self._locked_time
        pending_rounds = np.clip(np.minimum(self._release_round, rounds_done) - self._unbond_start, 0, None)
        return locked + self.unbonding * pending_rounds

    def held_tokens(self) -> float:
        """All tokens in existence, counted where they are."""
        return float(
            self.liquid.sum()
            + self.stake.sum()
            + self.unbonding.sum()
            + self.insurance_tokens
            + self.treasury_tokens
        )

    def expected_supply_tokens(self) -> float:
        """All tokens there should be: genesis + minted − burned."""
        return self.genesis_supply_tokens + self.minted_tokens - self.burned_tokens

    def check(self) -> None:
        """Raise LedgerError if tokens were created or lost or any balance is negative."""
        held, expected = self.held_tokens(), self.expected_supply_tokens()
        if abs(held - expected) > CONSERVATION_RTOL * max(1.0, expected):
            raise LedgerError(f"token conservation broken: held {held!r}, expected {expected!r}")
        tol = -CONSERVATION_RTOL * max(1.0, expected)
        for name, arr in (
            ("liquid", self.liquid),
            ("stake", self.stake),
            ("unbonding", self.unbonding),
        ):
            if arr.size and arr.min() < tol:
                raise LedgerError(f"negative {name} balance {arr.min()!r}")
        if self.insurance_tokens < tol or self.treasury_tokens < tol:
            raise LedgerError("negative pool balance")
