"""Reward rules: how the trainers' pool of a round is split between accepted submissions.

Each rule is ``(pool_tokens, accepted, stake_tokens, score) -> payout_tokens or None`` over all
trainer identities at once. Identities that were not accepted get 0 and the payouts add up to
``pool_tokens``; when no accepted submission has any weight the rule returns None and the pool is
not minted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

RewardRule = Callable[[float, np.ndarray, np.ndarray, np.ndarray], np.ndarray | None]


def _split_by_weight(pool_tokens: float, weight: np.ndarray) -> np.ndarray | None:
    total = weight.sum()
    if not 0.0 < total < math.inf:
        return None
    weight *= pool_tokens / total
    return weight


def equal(pool_tokens, accepted, stake_tokens, score):
    """The same amount to every accepted submission."""
    n = np.count_nonzero(accepted)
    if n == 0:
        return None
    return accepted * (pool_tokens / n)


def stake_weighted(pool_tokens, accepted, stake_tokens, score):
    """Accepted submissions share the pool in proportion to their identity's stake."""
    return _split_by_weight(pool_tokens, stake_tokens * accepted)


def score_weighted(pool_tokens, accepted, stake_tokens, score):
    """Accepted submissions share the pool in proportion to their consensus quality score."""
    return _split_by_weight(pool_tokens, score * accepted)


def incentive_weighted(pool_tokens, accepted, stake_tokens, score):
    """Yuma Consensus: accepted submissions share the pool in proportion to their incentive (``score``
    is the epoch's incentive, from the validators' votes: ``model.voting``)."""
    return _split_by_weight(pool_tokens, score * accepted)


RULES: dict[str, RewardRule] = {
    "equal": equal,
    "stake_weighted": stake_weighted,
    "score_weighted": score_weighted,
    "yuma": incentive_weighted,
}

#: Rules that need validators' quality scores computed each round.
RULES_USING_SCORES = frozenset({"score_weighted"})
#: Rules whose scores come from the validators' weight votes (``model.voting``).
RULES_USING_VOTES = frozenset({"yuma"})
