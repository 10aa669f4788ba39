"""The Yuma 2 epoch compiled: the simulation's hot path under ``rewards.rule = "yuma"``.

A run of the baseline votes over 10 validators × 100 trainers every round. In numpy that epoch is
some forty whole-array calls on a thousand numbers each, so it costs what forty calls cost (about
50 µs), not what the arithmetic costs; compiled with numba it is one call of a few microseconds.
The formulas are those of :func:`model.yuma.validator_epoch` (which calls this for Yuma 2) and of
subtensor's ``epoch_dense_mechanism``, in float64; ``tests/test_yuma.py`` checks the two against
the reference :func:`model.yuma.epoch` over random stakes, weights and bonds.

numba compiles on the first call in a process and caches the machine code beside this file, so
later processes (sweep workers included) load it instead of compiling again.
"""

from __future__ import annotations

import numba
import numpy as np

#: Up to this many validators a column is sorted by insertion (fast on a handful of numbers);
#: beyond it by numpy's merge sort.
INSERTION_SORT_MAX = 24


@numba.njit(cache=True, error_model="numpy")
def _column_consensus(share, w, minority, subset, subset_minority, values, shares, members, j):
    """The stake-weighted κ-median of column ``j`` of ``w``: the smallest weight whose rows at or
    below it hold more than ``minority`` of the stake (the largest weight when none does); and the
    same over the rows in ``subset`` alone, against ``subset_minority`` of their stake. ``values``,
    ``shares`` and ``members`` are scratch vectors of one entry per validator."""
    nv = w.shape[0]
    if nv <= INSERTION_SORT_MAX:  # a stable insertion sort of (weight, stake, member) by weight
        for i in range(nv):
            value, stake, member = w[i, j], share[i], subset[i]
            m = i - 1
            while m >= 0 and values[m] > value:
                values[m + 1], shares[m + 1], members[m + 1] = values[m], shares[m], members[m]
                m -= 1
            values[m + 1], shares[m + 1], members[m + 1] = value, stake, member
    else:
        order = np.argsort(w[:, j], kind="mergesort")
        for r in range(nv):
            values[r], shares[r], members[r] = w[order[r], j], share[order[r]], subset[order[r]]
    everyone = values[nv - 1]
    running = 0.0
    for r in range(nv):
        running += shares[r]
        if running > minority:
            everyone = values[r]
            break
    among = 0.0
    last = -1
    running = 0.0
    for r in range(nv):
        if members[r]:
            last = r
            running += shares[r]
            if running > subset_minority:
                among = values[r]
                break
    else:
        if last >= 0:
            among = values[last]
    return everyone, among


@numba.njit(cache=True, error_model="numpy")
def yuma2_epoch(stake, weights, bonds, kappa, bond_penalty, alpha, subset):
    """One Yuma 2 epoch over validators × trainers (see :func:`model.yuma.validator_epoch`).

    stake (nv,), weights (nv, nt), bonds (nv, nt) column-normalised as this returns them; kappa, the
    bond penalty β and the EMA rate α = 1 − bonds_moving_average / 10⁶; ``subset`` (nv,) marks the
    validators whose consensus alone is also wanted. Returns (consensus, incentive, dividends, new
    bonds, validator trust, stake shares, the subset's consensus, which validators' weights counted).
    """
    nv, nt = weights.shape
    total = stake.sum()
    share = np.zeros(nv)
    if total > 0:
        for i in range(nv):
            share[i] = stake[i] / total
    # Weights: rows normalised; a row without stake or weight is left out (all 0).
    w = np.zeros((nv, nt))
    counted = np.zeros(nv, dtype=np.bool_)
    for i in range(nv):
        row_sum = weights[i].sum()
        if row_sum > 0 and share[i] > 0:
            counted[i] = True
            for j in range(nt):
                w[i, j] = weights[i, j] / row_sum
    # Consensus; clipped weights, validator trust, ranks.
    minority = max(1.0 - kappa, 0.0)
    subset_stake = 0.0
    for i in range(nv):
        if subset[i]:
            subset_stake += share[i]
    consensus = np.zeros(nt)
    subset_consensus = np.zeros(nt)
    if nv > 0:
        values, shares, members = np.empty(nv), np.empty(nv), np.empty(nv, dtype=np.bool_)
        for j in range(nt):
            consensus[j], subset_consensus[j] = _column_consensus(
                share, w, minority, subset, minority * subset_stake, values, shares, members, j
            )
    if subset_stake <= 0:
        subset_consensus[:] = 0.0
    trust = np.zeros(nv)
    ranks = np.zeros(nt)
    bought = np.zeros(nt)  # Σᵢ sᵢ W_bᵢⱼ: the bonds bought in each column
    for_bonds = np.empty((nv, nt))  # W_b = W + β (W̄ − W)
    for i in range(nv):
        for j in range(nt):
            clipped = min(w[i, j], consensus[j])
            trust[i] += clipped
            ranks[j] += share[i] * clipped
            x = w[i, j] + bond_penalty * (clipped - w[i, j])
            for_bonds[i, j] = x
            bought[j] += share[i] * x
    rank_total = ranks.sum()
    incentive = ranks / rank_total if rank_total > 0 else ranks.copy()
    # Bonds: B ← column-normalised (α ΔB + (1 − α) B), ΔB the column-normalised sᵢ W_bᵢⱼ.
    new_bonds = np.empty((nv, nt))
    column_sums = np.zeros(nt)
    for i in range(nv):
        for j in range(nt):
            delta = share[i] * for_bonds[i, j] / bought[j] if bought[j] > 0 else 0.0
            x = delta * alpha + bonds[i, j] * (1.0 - alpha)
            new_bonds[i, j] = x
            column_sums[j] += x
    dividends = np.zeros(nv)
    for i in range(nv):
        for j in range(nt):
            if column_sums[j] > 0:
                new_bonds[i, j] /= column_sums[j]
            dividends[i] += new_bonds[i, j] * incentive[j]
    dividend_total = dividends.sum()
    if dividend_total > 0:
        dividends /= dividend_total
    return consensus, incentive, dividends, new_bonds, trust, share, subset_consensus, counted


@numba.njit(cache=True, error_model="numpy")
def consensus(stake, weights, kappa):
    """The consensus :func:`yuma2_epoch` would find for these votes, and nothing else: rows
    normalised (a row without stake or weight left out), then each column's κ-median by stake."""
    nv, nt = weights.shape
    total = stake.sum()
    out = np.zeros(nt)
    if total <= 0 or nv == 0:
        return out
    share = stake / total
    w = np.zeros((nv, nt))
    for i in range(nv):
        row_sum = weights[i].sum()
        if row_sum > 0 and share[i] > 0:
            for j in range(nt):
                w[i, j] = weights[i, j] / row_sum
    minority = max(1.0 - kappa, 0.0)
    everyone = np.ones(nv, dtype=np.bool_)
    values, shares, members = np.empty(nv), np.empty(nv), np.empty(nv, dtype=np.bool_)
    for j in range(nt):
        out[j] = _column_consensus(share, w, minority, everyone, minority, values, shares, members, j)[0]
    return out
