"""Yuma Consensus: one epoch of Bittensor's stake-weighted scoring, as a pure function.

This follows subtensor's dense epoch, ``epoch_dense_mechanism`` in
``pallets/subtensor/src/epoch/run_epoch.rs``, with the matrix helpers of ``epoch/math.rs``
(opentensor/subtensor, read at commit 14bc6f9f). Every UID is both a possible validator (a row:
the weights and bonds it sets) and a possible miner (a column: the weights and bonds it receives).

What the chain does around the mechanism and this function leaves to its caller: activity cutoffs,
validator permits, the stake threshold, deregistration masks and the conversion of shares into
tokens. Every UID with stake here acts as a permitted, active validator.

Fixed point. The chain computes in I32F32 (32 fractional bits, results of ``*`` and ``/`` cut
towards minus infinity) and stores weights, bonds and hyperparameters as u16. With
``quantize=True`` (the default) :func:`epoch` reproduces that arithmetic on float64 numbers: each
product and quotient is cut to the 2^-32 grid, weights are max-upscaled to u16 as ``set_weights``
stores them, bonds are returned as the u16 the chain stores (divided by 65 535), and ``kappa``,
``bond_penalty``, ``alpha_low`` and ``alpha_high`` are read as the u16 the chain keeps. That is
what makes a stored bond of 12 603 become 12 602 after an epoch in which nothing happened, as
subtensor's ``test_bonds`` asserts. Sums stay exact on that grid, so the order of additions does
not matter. The one thing not emulated is the fixed-point ``exp`` of liquid alpha, which the chain
takes from a series expansion: float64's ``exp`` is used instead. With ``quantize=False`` the same
formulas run in plain float64, which is what a simulation wants.

:func:`validator_epoch` is the simulation's fast path: the same float64 epoch on the validators ×
trainers block alone (see its docstring for how it relates to :func:`epoch`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

U16_MAX = 65_535
_KERNELS = None


def kernels():
    """``model.yuma_kernel``, imported on first use: numba takes a few tenths of a second to import,
    which a process that never votes (a sweep worker of a study without Yuma) need not pay."""
    global _KERNELS
    if _KERNELS is None:
        import model.yuma_kernel

        _KERNELS = model.yuma_kernel
    return _KERNELS


_GRID = 2.0**32


@dataclass(frozen=True)
class YumaParams:
    """Subnet hyperparameters of the epoch, with subtensor's defaults.

    kappa: stake share that must agree for a weight to be consensus (``Kappa``, u16 32 767 ≈ 0.5).
    bond_penalty: β in [0, 1]; how far the weights bonds are bought with are cut to consensus (1: all).
    bonds_moving_average: ``BondsMovingAverage`` in millionths; the bonds EMA takes
        α = 1 − bonds_moving_average / 10⁶ of the new bonds each epoch (900 000 → α = 0.1).
    yuma3: Yuma 3 bonds (per-bond EMA of weights, dividends by stake × bonds) instead of Yuma 2.
    liquid_alpha: under Yuma 3, a per-bond α between alpha_low and alpha_high.
    alpha_low, alpha_high: bounds of liquid alpha (chain default u16 45 875 and 58 982 ≈ 0.7, 0.9).
    alpha_sigmoid_steepness: the chain's i16 steepness s; the sigmoid is 1 / (1 + e^{−(s/100)(x − ½)}).
    """

    kappa: float = 32_767 / U16_MAX
    bond_penalty: float = 1.0
    bonds_moving_average: int = 900_000
    yuma3: bool = False
    liquid_alpha: bool = False
    alpha_low: float = 45_875 / U16_MAX
    alpha_high: float = 58_982 / U16_MAX
    alpha_sigmoid_steepness: float = 1000.0

    def __post_init__(self):
        for name in ("kappa", "bond_penalty", "alpha_low", "alpha_high"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"YumaParams.{name} must lie in [0, 1], got {value!r}")
        if not 0 <= self.bonds_moving_average <= 1_000_000:
            raise ValueError(
                "YumaParams.bonds_moving_average must lie in [0, 1_000_000], "
                f"got {self.bonds_moving_average!r}"
            )
        if self.alpha_low > self.alpha_high:
            raise ValueError(
                f"YumaParams.alpha_low ({self.alpha_low}) must not exceed alpha_high ({self.alpha_high})"
            )
        if not math.isfinite(self.alpha_sigmoid_steepness):
            raise ValueError(
                f"YumaParams.alpha_sigmoid_steepness must be finite, got {self.alpha_sigmoid_steepness!r}"
            )


@dataclass(frozen=True)
class YumaResult:
    """What one epoch hands out, per UID; shares are fractions (each vector sums to 1 or is all 0).

    consensus: stake-weighted κ-median of the weights each UID receives (a column statistic).
    incentive: the miners' shares, ranks normalised.
    dividends: the validators' shares, from their bonds.
    bonds: the bonds to pass to the next epoch, UID × UID, as the chain stores them divided by
        65 535 (Yuma 2: each column max-upscaled so its largest bond is 1; Yuma 3: the bond itself).
    ranks: Σᵢ sᵢ · clipped weightᵢⱼ, before normalising.
    clipped_weights: row-normalised weights with each column cut at its consensus.
    validator_trust: row sums of the clipped weights, in [0, 1].
    active_stake: the stake shares the epoch weighs validators by.
    miner_emission, validator_emission: the shares of the epoch's emission, incentive and dividends
        divided by their joint sum; when that is 0 (no weight counts) validators get it by stake.
    """

    consensus: np.ndarray
    incentive: np.ndarray
    dividends: np.ndarray
    bonds: np.ndarray
    ranks: np.ndarray
    clipped_weights: np.ndarray
    validator_trust: np.ndarray
    active_stake: np.ndarray
    miner_emission: np.ndarray
    validator_emission: np.ndarray


class _Arithmetic:
    """Products and quotients either exact in float64 or cut to I32F32's 2^-32 grid."""

    def __init__(self, quantize: bool):
        self.quantize = quantize

    def cut(self, x):
        return np.floor(np.asarray(x, dtype=np.float64) * _GRID) / _GRID if self.quantize else x

    def mul(self, a, b):
        return self.cut(np.multiply(a, b))

    def div(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.cut(np.divide(a, b))

    def u16(self, x: float) -> float:
        """A hyperparameter in [0, 1] as the chain keeps it: ⌊65 535 x⌋ / 65 535."""
        if not self.quantize:
            return float(x)
        return self.div(math.floor(x * U16_MAX + 1e-7), U16_MAX)


def _normalize(x: np.ndarray, arithmetic: _Arithmetic) -> np.ndarray:
    """x / Σx, or x unchanged when its sum is 0 (math.rs ``inplace_normalize``)."""
    total = x.sum()
    return x if total == 0 else arithmetic.div(x, total)


def _col_normalize(x: np.ndarray, arithmetic: _Arithmetic) -> np.ndarray:
    """Each column divided by its sum; all-zero columns stay 0 (math.rs ``inplace_col_normalize``)."""
    sums = x.sum(axis=0)
    return np.where(sums != 0, arithmetic.div(x, np.where(sums != 0, sums, 1.0)), x)


def weighted_median(stake: np.ndarray, score: np.ndarray, minority: float) -> float:
    """The stake-weighted median of ``score`` at the cut ``minority`` (math.rs ``weighted_median``).

    Returns the score v with stake(score < v) ≤ minority < stake(score ≤ v): the smallest score
    whose cumulative stake passes the minority. When no score passes it, the largest score; with
    no scores, 0. Zero-stake entries take part (they can be the answer but move no cut).
    """
    stake = np.asarray(stake, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if stake.shape != score.shape or stake.ndim != 1:
        raise ValueError(
            f"stake and score must be vectors of one length, got {stake.shape} and {score.shape}"
        )
    if score.size == 0:
        return 0.0
    order = np.argsort(score, kind="stable")
    sorted_score = score[order]
    # Stake at or below each distinct score: cumulative sum taken at the last of each run of ties.
    cumulative = np.cumsum(stake[order])
    last_of_tie = np.r_[sorted_score[1:] != sorted_score[:-1], True]
    passing = np.flatnonzero(last_of_tie & (cumulative > minority))
    return float(sorted_score[passing[0]] if passing.size else sorted_score[-1])


def weighted_median_col(
    stake: np.ndarray, score: np.ndarray, majority: float, *, quantize: bool = True
) -> np.ndarray:
    """Column-wise stake-weighted median of a validator × miner matrix (math.rs ``weighted_median_col``).

    Only rows with stake > 0 vote. Their stake is normalised to s (sum S, 1 up to rounding) and the
    consensus of column j is the smallest weight w with Σ{sᵢ : wᵢⱼ ≤ w} > S − majority: the
    largest weight that a ``majority`` of stake sets at or above. Columns with no voter get 0.
    With ``quantize`` the voters' stake shares are cut to I32F32 as the chain does.
    """
    arithmetic = _Arithmetic(quantize)
    stake = np.asarray(stake, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if score.ndim != 2 or score.shape[0] != stake.shape[0]:
        raise ValueError(
            f"score must be a matrix with one row per stake entry, got {score.shape} for {stake.shape}"
        )
    voters = stake > 0
    if not voters.any() or score.shape[1] == 0:
        return np.zeros(score.shape[1])
    voter_stake = _normalize(stake[voters], arithmetic)
    minority = voter_stake.sum() - majority
    votes = score[voters]
    order = np.argsort(votes, axis=0, kind="stable")
    sorted_votes = np.take_along_axis(votes, order, axis=0)
    cumulative = np.cumsum(voter_stake[order], axis=0)
    last_of_tie = np.vstack([sorted_votes[1:] != sorted_votes[:-1], np.ones((1, votes.shape[1]), bool)])
    passing = last_of_tie & (cumulative > minority)
    first = np.where(passing.any(axis=0), passing.argmax(axis=0), votes.shape[0] - 1)
    return sorted_votes[first, np.arange(votes.shape[1])]


def _check_inputs(stake, weights, bonds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stake = np.asarray(stake, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    bonds = np.asarray(bonds, dtype=np.float64)
    if stake.ndim != 1:
        raise ValueError(f"stake must be a vector with one entry per UID, got shape {stake.shape}")
    n = stake.size
    for name, matrix in (("weights", weights), ("bonds", bonds)):
        if matrix.shape != (n, n):
            raise ValueError(f"{name} must be UID × UID, ({n}, {n}) for {n} stakes, got shape {matrix.shape}")
    for name, values in (("stake", stake), ("weights", weights), ("bonds", bonds)):
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{name} must be finite and non-negative")
    if np.any(bonds > 1):
        raise ValueError("bonds must lie in [0, 1], as epoch() returns them")
    return stake, weights, bonds


def _stored_weights(weights: np.ndarray, quantize: bool) -> np.ndarray:
    """Weights as the chain keeps them: with quantize, each row max-upscaled to u16 and rounded."""
    if not quantize:
        return weights.copy()
    row_max = weights.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        upscaled = np.floor(weights / row_max * U16_MAX + 0.5)
    return np.where(row_max > 0, upscaled, 0.0)


def _alpha_sigmoid(consensus, weights, bonds, low, high, steepness, arithmetic: _Arithmetic) -> np.ndarray:
    """Liquid alpha per bond (run_epoch.rs ``alpha_sigmoid``).

    x = clip(wᵢⱼ − cⱼ, 0, 1) when buying (wᵢⱼ ≥ bᵢⱼ), else clip(bᵢⱼ − wᵢⱼ, 0, 1);
    αᵢⱼ = low + (high − low) / (1 + e^{−(steepness/100)(x − ½)}), clipped to [low, high].
    """
    buying = np.clip(weights - consensus[None, :], 0.0, 1.0)
    selling = np.clip(bonds - weights, 0.0, 1.0)
    distance = np.where(weights >= bonds, buying, selling)
    slope = arithmetic.div(steepness, -100.0)
    exponent = np.clip(arithmetic.mul(slope, distance - 0.5), -20.0, 20.0)
    sigmoid = arithmetic.div(1.0, 1.0 + arithmetic.cut(np.exp(exponent)))
    return np.clip(low + arithmetic.mul(sigmoid, high - low), low, high)


def epoch(stake, weights, bonds, params: YumaParams | None = None, *, quantize: bool = True) -> YumaResult:
    """One Yuma Consensus epoch over n UIDs (run_epoch.rs ``epoch_dense_mechanism``).

    stake: n non-negative amounts (any unit; only shares matter).
    weights: n × n, row i the weights validator i sets on each UID (any non-negative scale per row).
    bonds: n × n in [0, 1], the ``bonds`` of the previous epoch's result (zeros to start).
    quantize: emulate the chain's u16 storage and I32F32 arithmetic (see the module docstring).

    The steps, in run_epoch.rs order (s: stake shares, W: weights, B: bonds, C: consensus):

    1. "Stake": s = stake / Σ stake, renormalised as active stake.
    2. "Weights": self-weights (the diagonal) are removed and each row is normalised, Σⱼ Wᵢⱼ = 1.
    3. "Consensus": Cⱼ = κ-weighted median of column j over validators (:func:`weighted_median_col`).
       Clipped weights W̄ᵢⱼ = min(Wᵢⱼ, Cⱼ); validator trust Tᵢ = Σⱼ W̄ᵢⱼ.
    4. "Ranks, Incentive": Rⱼ = Σᵢ sᵢ W̄ᵢⱼ and incentive I = R / Σ R.
    5. "Bonds and Dividends": weights for bonds W_b = W + β (W̄ − W).
       Yuma 2: ΔB = column-normalised sᵢ W_bᵢⱼ, B ← column-normalised (α ΔB + (1 − α) B̂) with B̂
       the column-normalised old bonds, dividends Dᵢ ∝ Σⱼ Bᵢⱼ Iⱼ, bonds stored column max-upscaled.
       Yuma 3: B ← (1 − α) B + α W_b per bond, α liquid or fixed; with B̃ column-normalised,
       Dᵢ ∝ sᵢ Σⱼ B̃ᵢⱼ Iⱼ; bonds stored as they are.
    6. "Emission": miners get I / Σ(I + D), validators D / Σ(I + D); when Σ(I + D) = 0 validators
       get s instead.
    """
    params = params or YumaParams()
    stake, weights, bonds = _check_inputs(stake, weights, bonds)
    ar = _Arithmetic(quantize)
    n = stake.size

    # == Stake == (I64F64 normalisation cut to I32F32, then inplace_normalize as active stake)
    stake_share = _normalize(stake, ar)
    active_stake = _normalize(stake_share, ar)

    # == Weights == (mask the diagonal, row-normalise)
    w = _stored_weights(weights, quantize)
    np.fill_diagonal(w, 0.0)
    row_sums = w.sum(axis=1, keepdims=True)
    w = np.where(row_sums > 0, ar.div(w, np.where(row_sums > 0, row_sums, 1.0)), 0.0)

    # == Consensus, Validator Trust ==
    kappa = ar.u16(params.kappa)
    consensus = weighted_median_col(active_stake, w, kappa, quantize=quantize)
    clipped = np.minimum(w, consensus[None, :])
    validator_trust = clipped.sum(axis=1)

    # == Ranks, Incentive == (matmul: each term cut, sums exact)
    ranks = ar.mul(active_stake[:, None], clipped).sum(axis=0)
    incentive = _normalize(ranks, ar)

    # == Bonds and Dividends ==
    penalty = ar.u16(params.bond_penalty)
    if penalty == 0:
        weights_for_bonds = w
    elif penalty == 1:
        weights_for_bonds = clipped
    else:
        weights_for_bonds = w + ar.mul(penalty, clipped - w)
    fixed_alpha = 1.0 - ar.cut(params.bonds_moving_average / 1_000_000)
    stored_bonds = np.floor(bonds * U16_MAX + 0.5) if quantize else bonds

    if params.yuma3:
        old = ar.div(stored_bonds, U16_MAX) if quantize else bonds
        if params.liquid_alpha and np.any(consensus != 0):
            alpha = _alpha_sigmoid(
                consensus,
                weights_for_bonds,
                old,
                ar.u16(params.alpha_low),
                ar.u16(params.alpha_high),
                params.alpha_sigmoid_steepness,
                ar,
            )
            ema = np.minimum(
                ar.mul(1.0 - alpha, old) + np.maximum(ar.mul(alpha, weights_for_bonds), 0.0), 1.0
            )
        else:
            ema = ar.mul(fixed_alpha, weights_for_bonds) + ar.mul(1.0 - fixed_alpha, old)
        ema_norm = _col_normalize(ema, ar)
        bonds_per_validator = ar.mul(ema_norm, incentive[None, :]).sum(axis=1)
        dividends = _normalize(ar.mul(bonds_per_validator, active_stake), ar)
        new_bonds = ema
    else:
        old = _col_normalize(stored_bonds, ar)
        delta = _col_normalize(ar.mul(active_stake[:, None], weights_for_bonds), ar)
        ema = _col_normalize(ar.mul(fixed_alpha, delta) + ar.mul(1.0 - fixed_alpha, old), ar)
        dividends = _normalize(ar.mul(ema, incentive[None, :]).sum(axis=1), ar)
        col_max = ema.max(axis=0) if n else np.zeros(0)
        new_bonds = np.where(col_max > 0, ar.div(ema, np.where(col_max > 0, col_max, 1.0)), ema)
    if quantize:
        new_bonds = np.floor(ar.mul(new_bonds, U16_MAX)) / U16_MAX

    # == Emission ==
    emission_sum = incentive.sum() + dividends.sum()
    if emission_sum == 0:
        miner_emission = incentive.copy()
        validator_emission = (stake_share if not active_stake.any() else active_stake).copy()
    else:
        miner_emission = ar.div(incentive, emission_sum)
        validator_emission = ar.div(dividends, emission_sum)

    return YumaResult(
        consensus=consensus,
        incentive=incentive,
        dividends=dividends,
        bonds=new_bonds,
        ranks=ranks,
        clipped_weights=clipped,
        validator_trust=validator_trust,
        active_stake=active_stake,
        miner_emission=miner_emission,
        validator_emission=validator_emission,
    )


# ---------------------------------------------------------------- the simulation's fast path


@dataclass(slots=True)  # not frozen: one is made every round, and a frozen one costs more to make
class ValidatorEpoch:
    """One epoch over validators (rows) × trainers (columns), in float64; shares sum to 1 or are all 0.

    consensus (nt,): stake-weighted κ-median of the normalised weights each trainer receives.
    incentive (nt,): the trainers' shares, ranks normalised.
    dividends (nv,): the validators' shares, from their bonds.
    bonds (nv, nt): what to pass to the next :func:`validator_epoch`, in its internal form: under
        Yuma 2 each column normalised to sum 1 (or 0 where nobody holds a bond), under Yuma 3 the
        per-bond EMA itself (as :func:`epoch` returns it).
    validator_trust (nv,): each validator's weight left after clipping to consensus, in [0, 1].
    stake_share (nv,): each validator's share of the stake (0 for all when none has any).
    miner_emission (nt,), validator_emission (nv,): the shares of the epoch's emission, worked out
        when asked for (the simulation pays its own pools); when no weight counts (all incentive 0)
        the validators get it by stake.
    """

    consensus: np.ndarray
    incentive: np.ndarray
    dividends: np.ndarray
    bonds: np.ndarray
    validator_trust: np.ndarray
    stake_share: np.ndarray
    voted: np.ndarray | None = None
    """Which validators' weights counted: stake and some weight."""
    subset_consensus: np.ndarray | None = None
    """The consensus of the ``subset`` of validators alone, when one was given."""

    @property
    def _emission_total(self) -> float:
        """Σ(incentive + dividends): 2, 1 or 0, as each sums to 1 or is all 0."""
        return float(self.incentive.sum() > 0) + float(self.dividends.sum() > 0)

    @property
    def miner_emission(self) -> np.ndarray:
        total = self._emission_total
        return self.incentive / total if total else self.incentive.copy()

    @property
    def validator_emission(self) -> np.ndarray:
        total = self._emission_total
        return self.dividends / total if total else self.stake_share.copy()


def _check_validator_inputs(stake, weights, bonds, params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(params, YumaParams):
        raise TypeError(f"params must be a YumaParams, got {type(params).__name__}")
    stake = np.asarray(stake, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    bonds = np.asarray(bonds, dtype=np.float64)
    if stake.ndim != 1:
        raise ValueError(f"stake must be a vector with one entry per validator, got shape {stake.shape}")
    if weights.ndim != 2 or weights.shape[0] != stake.size:
        raise ValueError(
            f"weights must be validators × trainers with {stake.size} rows (one per stake), "
            f"got shape {weights.shape}"
        )
    if bonds.shape != weights.shape:
        raise ValueError(f"bonds must have the weights' shape {weights.shape}, got {bonds.shape}")
    for name, values, upper, allowed in (
        ("stake", stake, math.inf, "finite and non-negative"),
        ("weights", weights, math.inf, "finite and non-negative"),
        ("bonds", bonds, 1.0, "in [0, 1], as validator_epoch() returns them"),
    ):
        if values.size:
            low, high = values.min(), values.max()  # NaN when any entry is; then every comparison fails
            if not (low >= 0 and high <= upper and high < math.inf):
                raise ValueError(f"{name} must be {allowed}")
    # Shares are worked out by dividing by sums: a sum that overflows would silently zero them.
    with np.errstate(over="ignore"):
        overflow = not math.isfinite(stake.sum()) or (
            weights.size and not np.isfinite(weights.sum(axis=1)).all()
        )
    if overflow:
        raise ValueError("stake and each row of weights must sum to a finite number (below about 1e308)")
    if not params.yuma3:
        # Yuma 2 reads bonds as column shares: normalising here accepts epoch()'s max-upscaled bonds too.
        sums = bonds.sum(axis=0)
        bonds = bonds / np.where(sums > 0, sums, 1.0)
    return stake, weights, bonds


@functools.cache
def _prefix_sum_matrix(n: int) -> np.ndarray:
    """The n × n lower triangle of ones: L @ x is the running sum of x down its rows."""
    lower = np.tri(n)
    lower.flags.writeable = False
    return lower


def _float_consensus(share: np.ndarray, weights: np.ndarray, minority: float) -> np.ndarray:
    """Column-wise κ-median of row-normalised ``weights`` by stake ``share`` (summing to 1 or 0).

    The float counterpart of :func:`weighted_median_col`: the smallest weight whose rows at or below
    it hold more than ``minority`` of the stake (the largest weight when none does). The quantised
    version compares the running stake only at the last of each run of tied weights; that check is
    not needed here, since the running stake never falls, so the first row that passes the cut
    holds the same weight as the last row of its tie. Rows without stake add nothing to the
    running stake and so never pass the cut; their weights must be zero (validator_epoch zeroes
    them), so that they cannot be the largest weight either.
    """
    nv, nt = weights.shape
    small = nv <= 32
    order = np.argsort(weights, axis=0, kind="stable" if small else "quicksort")
    # For few rows a stable sort (insertion sort) is the quicker, and a small matrix product beats
    # cumsum down the rows of a C-ordered matrix; for many the product grows as rows².
    running = _prefix_sum_matrix(nv) @ share[order] if small else np.cumsum(share[order], axis=0)
    passing = running > minority
    passing[-1] = True
    columns = np.arange(nt)
    return weights[order[passing.argmax(axis=0), columns], columns]


def validator_consensus(stake: np.ndarray, weights: np.ndarray, kappa: float) -> np.ndarray:
    """The consensus :func:`validator_epoch` would find for these votes, without the rest of the epoch:
    each row normalised (rows without stake or weight left out), then the stake-weighted κ-median of
    each column (compiled: ``model.yuma_kernel.consensus``). What a weight copier computes from the
    other validators' weights once they are public."""
    stake = np.asarray(stake, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    return kernels().consensus(stake, weights, float(kappa))


def validator_epoch(
    stake, weights, bonds, params: YumaParams | None = None, *, check: bool = True, subset=None
):
    """One Yuma Consensus epoch over validators × trainers, in float64: the simulation's hot path.

    stake: nv non-negative amounts (any unit; only shares count). A validator with zero stake is
        absent: its weights are ignored and it buys no bonds (under Yuma 2 the bonds it already
        holds still earn dividends while they decay, as on the chain; under Yuma 3 it earns none).
    weights: nv × nt, row i the weights validator i sets on the trainers (any non-negative scale).
    bonds: nv × nt, the ``bonds`` of the previous :class:`ValidatorEpoch` (zeros to start).
    subset: optionally, a boolean mask of validators whose consensus alone is also wanted
        (``subset_consensus``: :func:`validator_consensus` of their stake only), found in the same
        pass. The simulation uses it for what copiers will see: the evaluating validators' consensus.
    check: validate shapes and values first (and, under Yuma 2, normalise the bonds' columns, so
        :func:`epoch`'s stored bonds are accepted too). ``check=False`` is for a caller that passes
        float64 arrays of the right shapes and the bonds this function returned.

    Returns a :class:`ValidatorEpoch`. The numbers are those of ``epoch(..., quantize=False)`` on the
    UID × UID problem that puts the validators first and the trainers after them, with zero stake
    and zero weight rows, up to float rounding (see :func:`epoch` for the steps); at an exact tie of
    a stake cut with 1 − κ, rounding decides either way. Two differences in form: the bonds under
    Yuma 2 are kept column-normalised, which is how the next epoch reads them anyway (the chain
    max-upscales them to store u16), so the normalise-on-read and the upscale both drop out; and
    the weights of zero-stake rows are dropped, as the chain masks the weights of UIDs without a
    validator permit (:func:`epoch` lets them into Yuma 3's bonds).

    The work is one argsort and a few dozen whole-array numpy calls; the Yuma 3 and liquid alpha
    branches cost nothing when off. Ranks double as the column sums of Yuma 2's bought bonds when
    β = 1.
    """
    params = params or YumaParams()
    if check:
        stake, weights, bonds = _check_validator_inputs(stake, weights, bonds, params)
    alpha = 1.0 - params.bonds_moving_average / 1_000_000
    members = np.zeros(len(stake), dtype=bool) if subset is None else np.asarray(subset, dtype=bool)
    if not params.yuma3:  # compiled: see model.yuma_kernel
        consensus, incentive, dividends, new_bonds, validator_trust, share, among, voted = (
            kernels().yuma2_epoch(stake, weights, bonds, params.kappa, params.bond_penalty, alpha, members)
        )
        among = None if subset is None else among
        return ValidatorEpoch(
            consensus, incentive, dividends, new_bonds, validator_trust, share, voted, among
        )
    nv, nt = weights.shape

    # == Stake, Weights == (row-normalised; rows without stake or weight are zero)
    total_stake = stake.sum()
    share = stake / total_stake if total_stake > 0 else np.zeros(nv)
    row_sums = weights.sum(axis=1)
    # dividing (not multiplying by 1 / sum) keeps subnormal rows finite; an infinite divisor zeroes a row
    w = weights / np.where((row_sums > 0) & (share > 0), row_sums, np.inf)[:, None]

    # == Consensus, Validator Trust, Ranks, Incentive ==
    if nv == 0 or nt == 0:
        consensus = np.zeros(nt)
    else:
        consensus = _float_consensus(share, w, max(1.0 - params.kappa, 0.0))
    clipped = np.minimum(w, consensus)
    validator_trust = clipped.sum(axis=1)
    ranks = share @ clipped
    rank_total = ranks.sum()
    incentive = ranks / rank_total if rank_total > 0 else ranks

    # == Bonds, Dividends == (Yuma 3)
    penalty = params.bond_penalty
    if penalty == 1.0:
        weights_for_bonds = clipped
    elif penalty == 0.0:
        weights_for_bonds = w
    else:
        weights_for_bonds = w + penalty * (clipped - w)
    new_bonds, per_validator = _yuma3_bonds(weights_for_bonds, bonds, consensus, incentive, alpha, params)
    dividends = per_validator * share
    dividend_total = dividends.sum()
    if dividend_total > 0:
        dividends /= dividend_total
    among = None if subset is None else validator_consensus(stake * members, weights, params.kappa)
    voted = (row_sums > 0) & (share > 0)
    return ValidatorEpoch(consensus, incentive, dividends, new_bonds, validator_trust, share, voted, among)


def _yuma3_bonds(weights_for_bonds, bonds, consensus, incentive, alpha, params: YumaParams):
    """Yuma 3: the per-bond EMA B ← (1 − α) B + α W_b (α fixed or liquid), and Σⱼ B̃ᵢⱼ Iⱼ per
    validator with B̃ the column-normalised new bonds."""
    if params.liquid_alpha and consensus.any():
        # Liquid alpha (see _alpha_sigmoid): distance wᵢⱼ − cⱼ when buying, bᵢⱼ − wᵢⱼ (> 0) when
        # selling; both lie below 1 already, so only the buying side needs a floor.
        buying = weights_for_bonds >= bonds
        distance = np.where(buying, np.maximum(weights_for_bonds - consensus, 0.0), bonds - weights_for_bonds)
        distance -= 0.5
        distance *= -params.alpha_sigmoid_steepness / 100.0
        np.clip(distance, -20.0, 20.0, out=distance)
        sigmoid = np.exp(distance, out=distance)
        sigmoid += 1.0
        np.reciprocal(sigmoid, out=sigmoid)
        low, high = params.alpha_low, params.alpha_high
        liquid = sigmoid * (high - low)
        liquid += low
        new_bonds = weights_for_bonds - bonds
        new_bonds *= liquid
        new_bonds += bonds
    else:
        new_bonds = weights_for_bonds * alpha
        new_bonds += bonds * (1.0 - alpha)
    np.minimum(new_bonds, 1.0, out=new_bonds)
    column_sums = new_bonds.sum(axis=0)
    return new_bonds, (new_bonds / np.where(column_sums > 0, column_sums, 1.0)) @ incentive
