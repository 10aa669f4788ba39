"""Emission schedules: how many tokens round t mints, chosen by name in the scenario.

Each schedule is a callable ``(round_index, issued_tokens) -> tokens`` where ``issued_tokens`` is
what emission has minted so far (genesis excluded).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from model.scenario import Emission

Schedule = Callable[[int, float], float]


def constant(e: Emission) -> Schedule:
    """The same ``initial_tokens_per_round`` every round."""
    amount = e.initial_tokens_per_round
    return lambda round_index, issued_tokens: amount


def exponential_decay(e: Emission) -> Schedule:
    """``initial × (1 − decay_rate)^t``: emission shrinks by a fixed fraction each round."""
    keep = 1.0 - e.decay_rate_per_round
    return lambda round_index, issued_tokens: e.initial_tokens_per_round * keep**round_index


def halving_epoch(issued_tokens: float, cap_tokens: float) -> int:
    """How many halvings issuance has triggered: the k with cap·(1−2^−k) ≤ issued < cap·(1−2^−(k+1)).

    Bitcoin's and Bittensor's rule: the first halving at half the cap, the next at three quarters.
    """
    remaining = 1.0 - issued_tokens / cap_tokens
    if remaining <= 0.0:
        return 64  # the cap is reached: nothing more is minted
    return max(0, math.floor(-math.log2(remaining) + 1e-12))


def halving(e: Emission) -> Schedule:
    """``initial / 2^k`` with k halvings on issuance (see :func:`halving_epoch`), never past the cap."""
    cap = e.halving_supply_cap_tokens

    def tokens(round_index: int, issued_tokens: float) -> float:
        amount = e.initial_tokens_per_round / 2.0 ** halving_epoch(issued_tokens, cap)
        return max(0.0, min(amount, cap - issued_tokens))

    return tokens


SCHEDULES: dict[str, Callable[[Emission], Schedule]] = {
    "constant": constant,
    "exponential_decay": exponential_decay,
    "halving": halving,
}


def make_schedule(e: Emission) -> Schedule:
    """The schedule the scenario names."""
    return SCHEDULES[e.schedule](e)
