"""Aggregation rules: how the server turns n submitted updates (an n x d array) into one.

Each rule returns an ``Aggregate``: the update applied to the global model, the weight each
submission got (where the rule weights them) and the submissions it selected (where it selects).

- ``fedavg``: weighted mean (McMahan et al. 2017);
- ``median``, ``trimmed_mean``: coordinate-wise robust statistics (Yin et al. 2018);
- ``krum``, ``multi_krum``: the submissions closest to their nearest neighbours (Blanchard et al.
  2017);
- ``foolsgold``: down-weights clients whose update histories look alike, i.e. Sybils (Fung, Yoon &
  Beschastnikh 2020).

``AGGREGATORS`` maps each rule's name to its function. All arithmetic is float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Aggregate:
    """The aggregated update (d,); the weight each of the n submissions got, summing to 1, where
    the rule weights them (None otherwise); the indices of the submissions it selected, where it
    selects (Krum: one; Multi-Krum: m, by increasing score; None otherwise)."""

    update: np.ndarray
    weights: np.ndarray | None
    selected: np.ndarray | None


def fedavg(updates: np.ndarray, sample_weights: np.ndarray | None = None) -> Aggregate:
    """Federated averaging (McMahan et al. 2017, "Communication-efficient learning of deep networks
    from decentralized data", AISTATS): the weighted mean

        u = sum_i w_i u_i,   w_i = n_i / sum_j n_j,

    n_i the sample counts in ``sample_weights`` (equal weights 1/n if None, or if every n_i is 0).
    """
    updates = _as_updates(updates)
    n = updates.shape[0]
    if sample_weights is None:
        weights = np.full(n, 1.0 / n)
    else:
        counts = np.asarray(sample_weights, dtype=np.float64)
        if counts.shape != (n,) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"sample_weights must be {n} finite numbers >= 0, one per update")
        total = counts.sum()
        weights = counts / total if total > 0 else np.full(n, 1.0 / n)
    return Aggregate(update=weights @ updates, weights=weights, selected=None)


def median(updates: np.ndarray) -> Aggregate:
    """Coordinate-wise median (Yin, Chen, Ramchandran & Bartlett 2018, "Byzantine-robust
    distributed learning: towards optimal statistical rates", ICML):

        u_k = median(u_1k, ..., u_nk)   for every coordinate k

    (for even n the mean of the two middle values)."""
    updates = _as_updates(updates)
    return Aggregate(update=np.median(updates, axis=0), weights=None, selected=None)


def trimmed_mean(updates: np.ndarray, beta: float) -> Aggregate:
    """Coordinate-wise trimmed mean (Yin et al. 2018): for every coordinate k, drop the
    b = floor(beta n) largest and the b smallest of u_1k, ..., u_nk and average the other n - 2b,

        u_k = 1 / (n - 2b) sum_{i = b+1}^{n-b} u_(i)k,   u_(i)k the i-th smallest.

    0 <= beta < 0.5 (so at least one value is left); b is int(beta n), as in
    ``scipy.stats.trim_mean``."""
    updates = _as_updates(updates)
    if not 0 <= beta < 0.5:
        raise ValueError(f"beta = {beta} is not allowed: expected 0 <= beta < 0.5")
    n = updates.shape[0]
    cut = int(beta * n)
    kept = np.sort(updates, axis=0)[cut : n - cut]
    return Aggregate(update=kept.mean(axis=0), weights=None, selected=None)


def krum_scores(updates: np.ndarray, f: int) -> np.ndarray:
    """Krum scores (Blanchard, El Mhamdi, Guerraoui & Stainer 2017, "Machine learning with
    adversaries: Byzantine tolerant gradient descent", NeurIPS):

        s(i) = sum_{j in N_i} ||u_i - u_j||^2,

    N_i the n - f - 2 updates closest to u_i (itself excluded). Needs n > 2f + 2. Squared distances
    come from the Gram matrix of the centred updates, ||a||^2 + ||b||^2 - 2 a.b, clipped at 0."""
    updates = _as_updates(updates)
    n = updates.shape[0]
    if not (f >= 0 and n > 2 * f + 2):
        raise ValueError(f"Krum with n = {n} updates and f = {f} Byzantine: needs f >= 0 and n > 2f + 2")
    distances = _squared_distances(updates)
    np.fill_diagonal(distances, np.inf)
    return np.sort(distances, axis=1)[:, : n - f - 2].sum(axis=1)


def krum(updates: np.ndarray, f: int) -> Aggregate:
    """Krum (Blanchard et al. 2017): the single update with the least Krum score
    (``krum_scores``; ties go to the lowest index). Needs n > 2f + 2."""
    updates = _as_updates(updates)
    best = int(np.argmin(krum_scores(updates, f)))
    weights = np.zeros(updates.shape[0])
    weights[best] = 1.0
    return Aggregate(update=updates[best].copy(), weights=weights, selected=np.array([best]))


def multi_krum(updates: np.ndarray, f: int, m: int) -> Aggregate:
    """Multi-Krum (Blanchard et al. 2017): the mean of the m updates with the least Krum scores,
    the scores computed once (ties go to the lowest index). 1 <= m <= n; m = 1 is Krum."""
    updates = _as_updates(updates)
    n = updates.shape[0]
    if not 1 <= m <= n:
        raise ValueError(f"Multi-Krum of m = {m} from n = {n} updates: expected 1 <= m <= n")
    chosen = np.argsort(krum_scores(updates, f), kind="stable")[:m]
    weights = np.zeros(n)
    weights[chosen] = 1.0 / m
    return Aggregate(update=updates[np.sort(chosen)].mean(axis=0), weights=weights, selected=chosen)


#: Added to each client's largest similarity before pardoning, as in the FoolsGold reference code.
FOOLSGOLD_EPSILON = 1e-5


def foolsgold_weights(history: np.ndarray) -> np.ndarray:
    """FoolsGold's per-client weights alpha_i in [0, 1] from the clients' update histories.

    Fung, Yoon & Beschastnikh 2020, "The limitations of federated learning in sybil settings"
    (RAID), Algorithm 1, following the authors' reference code (github.com/DistributedML/FoolsGold,
    ``ML/code/model_aggregator.py``, function ``foolsgold``; ``deep-fg/fg/foolsgold.py``):

    1. cs_ij = cosine similarity of histories i and j, minus 1 on the diagonal (so cs_ii = 0; a
       zero history has similarity 0 with every other one);
    2. v_i = max_j cs_ij + 1e-5;
    3. pardoning: cs_ij <- cs_ij v_i / v_j wherever v_i < v_j (j != i);
    4. alpha_i = 1 - max_j cs_ij, clipped to [0, 1];
    5. alpha_i <- alpha_i / max_j alpha_j; an alpha of exactly 1 becomes 0.99;
    6. logit with confidence kappa = 1: alpha_i <- ln(alpha_i / (1 - alpha_i)) + 0.5, where
       alpha_i = 0 (ln 0 = -inf) gives 0; then clipped to [0, 1].

    Where every alpha is 0 after step 4 (all clients alike: all Sybils), the reference divides 0 by
    0 and returns NaN; here every weight is 0. The reference's ``ML`` variant adds 1e-5 inside the
    logarithm of step 6; this follows the paper's formula (and ``deep-fg``) instead, which differs
    by at most ~1e-5 / (alpha / (1 - alpha)) in the logit.
    """
    history = _as_updates(history)
    n = history.shape[0]
    norms = np.linalg.norm(history, axis=1)
    unit = history / np.where(norms > 0, norms, 1.0)[:, None]
    similarity = unit @ unit.T - np.eye(n)
    largest = similarity.max(axis=1) + FOOLSGOLD_EPSILON
    pardon = largest[:, None] < largest[None, :]
    np.fill_diagonal(pardon, False)
    ratio = np.divide(largest[:, None], largest[None, :], out=np.ones((n, n)), where=pardon)
    similarity *= ratio
    alpha = np.clip(1.0 - similarity.max(axis=1), 0.0, 1.0)
    top = alpha.max()
    if top <= 0:
        return np.zeros(n)
    alpha /= top
    alpha[alpha == 1.0] = 0.99
    positive = alpha > 0
    logit = np.zeros(n)
    logit[positive] = np.log(alpha[positive] / (1.0 - alpha[positive])) + 0.5
    return np.clip(logit, 0.0, 1.0)


def foolsgold(updates: np.ndarray, history: np.ndarray) -> Aggregate:
    """FoolsGold (Fung, Yoon & Beschastnikh 2020): the updates' mean weighted by
    ``foolsgold_weights(history)``,

        u = sum_i alpha_i u_i / sum_i alpha_i   (the zero update when every alpha_i is 0).

    history (n x d): each client's sum of its updates so far, this round's included (the caller
    keeps it). The reference code applies the unnormalised sum sum_i alpha_i u_i (the alphas act as
    per-client learning rates); this rule normalises, so that the result is an update on the same
    scale as the others'. ``weights`` are alpha / sum(alpha) (all 0 when every alpha is 0).
    """
    updates = _as_updates(updates)
    history = _as_updates(history)
    if history.shape != updates.shape:
        raise ValueError(f"history of shape {history.shape}: expected the updates' shape {updates.shape}")
    alpha = foolsgold_weights(history)
    total = alpha.sum()
    weights = alpha / total if total > 0 else alpha
    return Aggregate(update=weights @ updates, weights=weights, selected=None)


AGGREGATORS: dict[str, Callable[..., Aggregate]] = {
    "fedavg": fedavg,
    "median": median,
    "trimmed_mean": trimmed_mean,
    "krum": krum,
    "multi_krum": multi_krum,
    "foolsgold": foolsgold,
}
"""Aggregation rules by name. Beyond the updates, ``fedavg`` takes optional sample weights,
``trimmed_mean`` beta, ``krum`` f, ``multi_krum`` f and m, ``foolsgold`` the clients' histories."""


def _as_updates(updates: np.ndarray) -> np.ndarray:
    updates = np.asarray(updates, dtype=np.float64)
    if updates.ndim != 2 or updates.shape[0] == 0:
        raise ValueError(f"updates of shape {updates.shape}: expected (n, d) with n >= 1")
    return updates


def _squared_distances(updates: np.ndarray) -> np.ndarray:
    """||u_i - u_j||^2 for every pair, via the Gram matrix of the centred updates (centring leaves
    distances unchanged and limits cancellation); negative round-off is clipped to 0."""
    centred = updates - updates.mean(axis=0)
    squared_norms = np.einsum("ij,ij->i", centred, centred)
    distances = squared_norms[:, None] + squared_norms[None, :] - 2.0 * (centred @ centred.T)
    return np.maximum(distances, 0.0)
