"""The compiled parts of a voting round: the Yuma 2 epoch, the simulation's hot path under
``rewards.rule = "yuma"``, and the votes' flags and quality drift (``model.voting``).

A run of the baseline votes over 10 validators × 100 trainers every round. In numpy that epoch is
some forty whole-array calls on a thousand numbers each, so it costs what forty calls cost (about
50 µs), not what the arithmetic costs; compiled with numba it is one call of a few microseconds.
The formulas are those of :func:`model.yuma.validator_epoch` (which calls this for Yuma 2) and of
subtensor's ``epoch_dense_mechanism``, in float64; ``tests/test_yuma.py`` checks the two against
the reference :func:`model.yuma.epoch` over random stakes, weights and bonds.

numba compiles on the first call in a process and caches the machine code beside this file, so
later processes (sweep workers included) load it instead of compiling again. Importing numba takes a
few tenths of a second, so this module is imported only by runs that vote (``model.yuma.kernels``).
"""

from __future__ import annotations

import numba
import numpy as np

#: Up to this many validators a column is sorted by insertion (fast on a handful of numbers);
#: beyond it by numpy's merge sort.
INSERTION_SORT_MAX = 24


@numba.njit(cache=True, error_model="numpy")
def _column_consensus(share, w, minority, subset_share, values, shares, subset_shares, j):
    """The stake-weighted κ-median of column ``j`` of ``w``: the smallest weight whose rows at or
    below it hold more than ``minority`` (1 − κ) of the stake ``share`` (the largest weight when
    none does); and the same by ``subset_share``, the stake shares of a subset of the rows within
    the subset (0 outside it). ``values``, ``shares``, ``subset_shares`` are scratch vectors.

    Both running sums add the same shares in the same order as :func:`consensus` over the subset's
    stake alone, so the two agree to the last bit, ties included: when a running sum lands exactly
    on the cut (8 validators of 16, κ = ½), it has not passed it, and the tie goes to the higher
    weight. Which side a tie falls on is otherwise decided by float rounding of the shares."""
    nv = w.shape[0]
    if nv <= INSERTION_SORT_MAX:  # a stable insertion sort of (weight, share, subset share) by weight
        for i in range(nv):
            value, stake, sub = w[i, j], share[i], subset_share[i]
            m = i - 1
            while m >= 0 and values[m] > value:
                values[m + 1], shares[m + 1], subset_shares[m + 1] = values[m], shares[m], subset_shares[m]
                m -= 1
            values[m + 1], shares[m + 1], subset_shares[m + 1] = value, stake, sub
    else:
        order = np.argsort(w[:, j], kind="mergesort")
        for r in range(nv):
            values[r], shares[r], subset_shares[r] = w[order[r], j], share[order[r]], subset_share[order[r]]
    everyone = values[nv - 1]
    running = 0.0
    for r in range(nv):
        running += shares[r]
        if running > minority:
            everyone = values[r]
            break
    among = 0.0
    running = 0.0
    for r in range(nv):
        if subset_shares[r] > 0:
            among = values[r]  # the largest member's weight, if no member passes the cut
            running += subset_shares[r]
            if running > minority:
                break
    return everyone, among


@numba.njit(cache=True, error_model="numpy")
def _shares(stake):
    """Each entry's share of the total, the total summed in order (0 for all when it is 0)."""
    total = 0.0
    for i in range(stake.size):
        total += stake[i]
    out = np.zeros(stake.size)
    if total > 0:
        for i in range(stake.size):
            out[i] = stake[i] / total
    return out


@numba.njit(cache=True, error_model="numpy")
def yuma2_epoch(stake, weights, bonds, kappa, bond_penalty, alpha, subset):
    """One Yuma 2 epoch over validators × trainers (see :func:`model.yuma.validator_epoch`).

    stake (nv,), weights (nv, nt), bonds (nv, nt) column-normalised as this returns them; kappa, the
    bond penalty β and the EMA rate α = 1 − bonds_moving_average / 10⁶; ``subset`` (nv,) marks the
    validators whose consensus alone is also wanted. Returns (consensus, incentive, dividends, new
    bonds, validator trust, stake shares, the subset's consensus, which validators' weights counted).
    """
    nv, nt = weights.shape
    share = _shares(stake)
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
    subset_share = _shares(np.where(subset & counted, stake, 0.0))
    consensus = np.zeros(nt)
    subset_consensus = np.zeros(nt)
    if nv > 0:
        values, shares, subset_shares = np.empty(nv), np.empty(nv), np.empty(nv)
        for j in range(nt):
            consensus[j], subset_consensus[j] = _column_consensus(
                share, w, minority, subset_share, values, shares, subset_shares, j
            )
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
    """The consensus of these votes alone, as :func:`yuma2_epoch` finds a subset's: rows normalised, a
    row without stake or without weight left out, then each column's κ-median by stake."""
    nv, nt = weights.shape
    counted = np.zeros(nv)  # the stake of the rows that vote: stake and some weight
    w = np.zeros((nv, nt))
    for i in range(nv):
        row_sum = weights[i].sum()
        if row_sum > 0 and stake[i] > 0:
            counted[i] = stake[i]
            for j in range(nt):
                w[i, j] = weights[i, j] / row_sum
    share = _shares(counted)
    out = np.zeros(nt)
    minority = max(1.0 - kappa, 0.0)
    values, shares, subset_shares = np.empty(nv), np.empty(nv), np.empty(nv)
    for j in range(nt):
        out[j] = _column_consensus(share, w, minority, share, values, shares, subset_shares, j)[0]
    return out


@numba.njit(cache=True)
def below_median(consensus: np.ndarray, submitting: np.ndarray, threshold: float) -> np.ndarray:
    """The votes' flags (``model.voting``): the submitting trainers whose consensus weight is below
    ``threshold`` × the median consensus weight of the submissions (none when nobody submitted)."""
    submitted = np.sort(consensus[submitting])
    flagged = np.zeros(consensus.size, dtype=np.bool_)
    n = submitted.size
    if n == 0:
        return flagged
    cut = threshold * 0.5 * (submitted[(n - 1) // 2] + submitted[n // 2])
    for j in range(consensus.size):
        flagged[j] = submitting[j] and consensus[j] < cut
    return flagged


@numba.njit(cache=True)
def ar1_path(innovations: np.ndarray, persistence: float, before: np.ndarray) -> np.ndarray:
    """The AR(1) path ``x_t = φ x_{t−1} + innovations_t`` down the rows of ``innovations``, from
    ``x_{−1} = before`` (``model.voting.DriftPath``: the submissions' quality drift)."""
    out = np.empty_like(innovations)
    previous = before.copy()
    for t in range(innovations.shape[0]):
        for j in range(innovations.shape[1]):
            previous[j] = persistence * previous[j] + innovations[t, j]
            out[t, j] = previous[j]
    return out
