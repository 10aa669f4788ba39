"""The token market: a constant-product pool of tokens against fiat, and the fiat books around it.

The pool is Uniswap v2's without its swap fee (Adams, Zinsmeister & Robinson 2020, "Uniswap v2
Core", §2.1 and §3.2.1): reserves ``T`` tokens and ``F`` fiat keep ``T × F = k`` through every trade,
and the spot price is ``F / T`` fiat per token. Selling ``s`` tokens pays out

    F − k / (T + s)   fiat,

and ``f`` fiat buys ``T − k / (F + f)`` tokens. Trades of one round are batched by kind (all the
participants' sales are one trade, shared pro rata by what each sold), so the order within a batch
does not matter. The token reserve is one of the token ledger's places (``model.ledger``); the fiat
reserve is here.

Fiat, like tokens, is conserved: :class:`FiatBooks` keeps every fiat unit of the token regime in one
place — the pool's reserve, each participant's account (sale proceeds and fees received in fiat),
the passive delegators, the model's users, the speculators and the network owner. Parties from
outside the network bring fiat in, so their balances are signed: a user that paid 10 in fees holds
−10. The balances then always add up to 0, and :meth:`FiatBooks.check` says so (with the pool's
invariant and its reserves' signs).
"""

from __future__ import annotations

import numpy as np

from model.ledger import CONSERVATION_RTOL, LedgerError

#: How far one trade may move the pool's ``T × F``, relative (some thousands of float64 rounding steps).
PRODUCT_RTOL = 1e-12


def fiat_for_tokens(tokens: float, fiat: float, sold_tokens: float) -> float:
    """Fiat the pool (reserves ``tokens``, ``fiat``) pays for ``sold_tokens``: ``F − T·F / (T + s)``.

    Written as ``F · s / (T + s)`` (the same number) so that it is never negative by rounding, and
    capped at ``F`` (a sale 1e16 times the reserve would otherwise round one step past it)."""
    if sold_tokens <= 0.0:
        return 0.0
    return min(fiat * sold_tokens / (tokens + sold_tokens), fiat)


def tokens_for_fiat(tokens: float, fiat: float, paid_fiat: float) -> float:
    """Tokens the pool pays for ``paid_fiat``: ``T − T·F / (F + f)`` = ``T · f / (F + f)``, at most ``T``."""
    if paid_fiat <= 0.0:
        return 0.0
    return min(tokens * paid_fiat / (fiat + paid_fiat), tokens)


class FiatBooks:
    """Every fiat unit of a token network with a market or fees, in one place.

    ``n_accounts`` participants (trainer identities, then validators). ``reserve_fiat`` is the pool's
    fiat side (0 without a market). Outsiders' balances are signed (negative: fiat they brought in).
    """

    def __init__(self, n_accounts: int, reserve_fiat: float):
        self.reserve_fiat = float(reserve_fiat)
        """The market pool's fiat reserve."""
        self.accounts_fiat = np.zeros(n_accounts)
        """Each participant's fiat from the network: tokens it sold and fees it was paid in fiat."""
        self.owner_fiat = -float(reserve_fiat)
        """The network owner's: it funded the pool's fiat side at genesis; fees and treasury sales in."""
        self.users_fiat = 0.0
        """The model's users': fees paid out, insurance payouts they sold in."""
        self.speculators_fiat = 0.0
        """Speculators': what they paid for tokens, less what they sold tokens for."""
        self.delegators_fiat = 0.0
        """Passive delegators': their share of the fees their validators were paid in fiat."""
        self.opening_product = None
        """The pool's ``T × F`` at genesis (None without a market)."""
        self.worst_product_error = 0.0
        """The largest relative change of ``T × F`` over a trade seen so far."""

    def open_pool(self, tokens: float) -> None:
        """Note the pool's invariant at genesis, with ``tokens`` in its token reserve."""
        self.opening_product = tokens * self.reserve_fiat

    def note_product(self, before: float, after: float) -> None:
        """Keep the worst relative change of the pool's product over one trade (0 in exact arithmetic;
        a few rounding steps in float64, since the reserves left are computed as products)."""
        if before > 0:
            self.worst_product_error = max(self.worst_product_error, abs(after - before) / before)

    def total_fiat(self) -> float:
        """The sum of every balance: 0 when no fiat was created or lost."""
        return (
            self.reserve_fiat
            + float(self.accounts_fiat.sum())
            + self.owner_fiat
            + self.users_fiat
            + self.speculators_fiat
            + self.delegators_fiat
        )

    def check(self) -> None:
        """Raise LedgerError if fiat was created or lost, the pool's reserve is negative, or a trade
        moved the pool's invariant ``T × F`` by more than rounding."""
        scale = max(1.0, abs(self.owner_fiat), abs(self.users_fiat), abs(self.speculators_fiat))
        scale = max(scale, self.reserve_fiat, float(np.abs(self.accounts_fiat).sum()))
        problems = []
        if abs(self.total_fiat()) > CONSERVATION_RTOL * scale:
            problems.append(f"balances add up to {self.total_fiat()!r}, not 0: fiat was created or lost")
        if self.reserve_fiat < 0:
            problems.append(f"negative pool reserve {self.reserve_fiat!r}")
        if self.accounts_fiat.size and self.accounts_fiat.min() < -CONSERVATION_RTOL * scale:
            problems.append(f"a participant's fiat is negative: {self.accounts_fiat.min()!r}")
        if self.worst_product_error > PRODUCT_RTOL:
            problems.append(
                f"a trade moved the pool's T x F by {self.worst_product_error:.3g} of itself: more than "
                "rounding"
            )
        if problems:
            raise LedgerError("fiat books: " + "; ".join(problems))
