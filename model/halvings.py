"""What the trainers earn after each emission halving: books opened when issuance crosses a threshold.

Under ``emission.schedule = "halving"`` emission halves each time issuance crosses the next threshold
(``model.emission.halving_epoch``: half the cap, then three quarters, ...). The question a designer
asks is whether honesty still pays once it has: so at the end of the round in which the k-th halving
is triggered (k = 1, 2), the network opens a set of books that count only what happens afterwards
(``model.books.StrategyBooks(from_now=True)``, booked at owners' decisions like the run's own), and
``pi_honest_after_halving_k`` and ``margin_trainers_after_halving_k`` read them at the end of the run.
"""

from __future__ import annotations

from model.books import StrategyBooks
from model.emission import halving_epoch

#: Halvings watched (the first and the second).
WATCHED = 2


class HalvingWatch:
    """Opens books after each of the first ``WATCHED`` halvings of one run."""

    def __init__(self, net):
        self.cap_tokens = net.scenario.emission.halving_supply_cap_tokens
        self.rounds: list[int] = []
        """The round in which each halving was triggered (issuance crossed its threshold)."""
        self.books: list[StrategyBooks] = []
        """Per halving seen, the books of the rounds after it."""

    def observe(self, net, t: int) -> None:
        """After round ``t``: open books for each halving issuance has triggered and not yet seen."""
        if len(self.rounds) >= WATCHED:
            return
        reached = min(halving_epoch(net.issued_tokens, self.cap_tokens), WATCHED)
        while len(self.rounds) < reached:
            books = StrategyBooks(net, from_now=True)
            net._booked_at_decisions.append(books)  # booked before owners switch, like the run's
            self.rounds.append(t)
            self.books.append(books)
