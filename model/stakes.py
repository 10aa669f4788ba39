"""Who holds how much stake: stratified stake multipliers, dealt to owners and validators.

A stake distribution other than ``fixed`` multiplies a base stake by one multiplier per owner (or
validator). The multipliers are not random draws but the distribution's quantiles at

    u_i = (i + 0.5) / n,   i = 0, ..., n - 1,

a stratified sample: every run has the same shape and the same total, so the genesis supply a
scenario needs is known before it runs (``model.scenario.genesis_allocation_tokens``). Only which
owner gets which multiplier is random: a permutation drawn from the run's Generator.

- lognormal (sigma):   m_i = exp(sigma z_i - sigma^2 / 2),  z_i = Phi^-1(u_i)  (mean 1: scipy's
  ``lognorm(s=sigma, scale=exp(-sigma^2 / 2)).ppf(u_i)``);
- pareto (tail index a): m_i = (1 - u_i)^(-1/a)  (at least 1; mean a / (a - 1) for a > 1: scipy's
  ``pareto(b=a).ppf(u_i)``);
- fixed: m_i = 1.

Trainer owners are dealt within each owner size (the single-identity owners among themselves, the
Sybil owners among themselves): the stake floor binds per identity, so only a deal between owners
of the same size leaves the total the same for every permutation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from model.scenario import Scenario, identity_stake_tokens, trainer_owner_sizes

#: Distributions that multiply a base stake by quantile multipliers.
QUANTILE_DISTRIBUTIONS = ("fixed", "lognormal", "pareto")


def stratified_levels(n: int) -> np.ndarray:
    """The n probability levels u_i = (i + 0.5) / n, ascending."""
    return (np.arange(n) + 0.5) / n


def stake_multipliers(distribution: str, n: int, sigma: float, tail_index: float) -> np.ndarray:
    """The n quantile multipliers of ``distribution`` at u_i = (i + 0.5) / n, ascending.

    ``fixed``: ones. ``lognormal``: exp(sigma Phi^-1(u_i) - sigma^2 / 2). ``pareto``:
    (1 - u_i)^(-1/tail_index). Pure: no randomness, the same array for the same arguments.
    """
    if distribution not in QUANTILE_DISTRIBUTIONS:
        raise ValueError(
            f"stake distribution {distribution!r} has no quantile multipliers: expected one of "
            f"{', '.join(QUANTILE_DISTRIBUTIONS)}"
        )
    if n < 0:
        raise ValueError(f"n = {n} is not allowed: expected a whole number >= 0")
    if distribution == "fixed":
        return np.ones(n)
    if distribution == "lognormal":
        return np.exp(sigma * ndtri(stratified_levels(n)) - sigma**2 / 2)
    upper_tail = (n - np.arange(n) - 0.5) / n  # 1 - u_i, written so it is exact in the far tail
    return upper_tail ** (-1.0 / tail_index)


def deal(multipliers: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """The multipliers in a random order drawn from ``rng`` (a copy as they are when it is None)."""
    multipliers = np.asarray(multipliers, dtype=float)
    if rng is None:
        return multipliers.copy()
    return multipliers[rng.permutation(len(multipliers))]


def _identity_stakes(s: Scenario, k: int, multipliers: np.ndarray) -> np.ndarray:
    """What each identity of a k-identity owner bonds for each multiplier, floored at the minimum."""
    return np.maximum(s.staking.min_trainer_stake_tokens, identity_stake_tokens(s, k) * multipliers)


def trainer_owner_stakes_tokens(
    s: Scenario, owner_sizes: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """Per trainer owner (row order), the stake in tokens EACH of its identities bonds.

    ``owner_sizes[j]`` is owner j's number of identities (k for a Sybil owner, else 1). Each owner
    bonds max(staking.min_trainer_stake_tokens, identity_stake_tokens(s, k) × m), with its size
    group's multipliers m (:func:`stake_multipliers` for that group's count) dealt by ``rng``, the
    groups in ascending size. A ``fixed`` distribution draws nothing from ``rng``.
    """
    sizes = np.asarray(owner_sizes, dtype=int)
    out = np.empty(len(sizes))
    st = s.stakes
    for k in np.unique(sizes):
        rows = np.flatnonzero(sizes == k)
        m = stake_multipliers(st.trainer_distribution, len(rows), st.lognormal_sigma, st.pareto_tail_index)
        if st.trainer_distribution != "fixed":
            m = deal(m, rng)
        out[rows] = _identity_stakes(s, int(k), m)
    return out


def validator_stakes_tokens(s: Scenario, rng: np.random.Generator | None) -> np.ndarray:
    """Per validator (the honest ones, then the copying ones), its own stake in tokens.

    ``listed``: stakes.validator_stakes_tokens as given; ``fixed``: staking.validator_stake_tokens
    each (nothing drawn); otherwise that times the dealt quantile multipliers.
    """
    st, n = s.stakes, s.validators
    if st.validator_distribution == "listed":
        return np.array(st.validator_stakes_tokens, dtype=float)
    m = stake_multipliers(st.validator_distribution, n, st.lognormal_sigma, st.pareto_tail_index)
    if st.validator_distribution != "fixed":
        m = deal(m, rng)
    return s.staking.validator_stake_tokens * m


def delegated_stakes_tokens(s: Scenario, own: np.ndarray) -> np.ndarray:
    """Per validator, the tokens passive holders delegate to it (stakes.delegated_tokens in all).

    ``by_stake``: in proportion to ``own``, the validators' own stakes; ``equal``: the same to each.
    """
    own = np.asarray(own, dtype=float)
    total = s.stakes.delegated_tokens
    if total == 0 or len(own) == 0:
        return np.zeros(len(own))
    if s.stakes.delegation == "equal" or own.sum() <= 0:
        return np.full(len(own), total / len(own))
    return total * own / own.sum()


def total_trainer_stake_tokens(s: Scenario) -> float:
    """Tokens all trainer owners bond (starting owners and entry candidates), the same every run:
    the sum over size groups of k × Σ_i max(minimum, identity_stake_tokens(s, k) × m_i)."""
    st = s.stakes
    parts = []
    for k, owners in trainer_owner_sizes(s).items():
        m = stake_multipliers(st.trainer_distribution, owners, st.lognormal_sigma, st.pareto_tail_index)
        parts.extend(k * _identity_stakes(s, k, m))
    return math.fsum(parts)  # correctly rounded: the same for every order the stakes are dealt in


def total_validator_stake_tokens(s: Scenario) -> float:
    """Tokens all validators bond of their own (delegated stake aside), the same every run."""
    return math.fsum(validator_stakes_tokens(s, None))


__all__ = [
    "deal",
    "delegated_stakes_tokens",
    "stake_multipliers",
    "total_trainer_stake_tokens",
    "total_validator_stake_tokens",
    "trainer_owner_stakes_tokens",
    "validator_stakes_tokens",
]
