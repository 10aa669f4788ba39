"""Multinomial logistic regression (softmax regression): the model every party trains and scores.

A model is a weight matrix W of shape (dims, classes), dims = features + 1, whose last row
multiplies the constant bias input of ``Shards`` (``model.fl.data``). For an input row x the
class probabilities are softmax(x W), and the loss of a labelled sample (x, y) is the
cross-entropy in nats

    l(W; x, y) = log sum_c exp((x W)_c) - (x W)_y,

whose gradient is x^T (softmax(x W) - onehot(y)). Training minimises the mean loss over a mini-batch
plus (l2 / 2) ||W||_F^2, the bias row included.

Every function is vectorised over parties (or models and evaluation sets): Python loops run over
epochs and mini-batch steps only.
"""

from __future__ import annotations

import math

import numpy as np

from model.fl.data import Shards


def logits(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x W: weights (..., dims, classes), x (..., m, dims) -> (..., m, classes), broadcasting over
    the leading axes (a batched matmul)."""
    return np.matmul(x, weights)


def local_sgd(
    start: np.ndarray,
    shards: Shards,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    l2: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Each party's model after ``epochs`` epochs of mini-batch SGD on its own samples.

    start: (dims, classes), the global model every party starts from, or (parties, dims, classes),
    one start per party. labels: (parties, m_max), usually ``shards.labels``; a poisoner trains on
    flipped labels, so the caller passes the labels to train on. Returns (parties, dims, classes).

    Objective: mean cross-entropy over the batch + (l2 / 2) ||W||_F^2 (the bias row included), so
    one step is W <- W - learning_rate (X_b^T (softmax(X_b W) - Y_b) / |b| + l2 W), the mean taken
    over the party's real samples in batch b.

    Each epoch every party visits its real samples in a fresh random order (the argsort of one
    uniform key per sample, drawn from ``rng`` as one (parties, m_max) array; padding keys are
    +inf, so padding sorts last), in consecutive batches of ``batch_size`` positions: an epoch is
    ceil(m_max / batch_size) steps, and a party whose real samples run out before the last step
    does not move in the remaining steps (neither gradient nor weight decay). When one batch holds
    every sample (batch_size >= m_max) the order does not matter and no random number is drawn:
    each step is then one full-batch gradient step. A party with no sample returns its start.
    """
    start = np.asarray(start, dtype=np.float64)
    parties, m_max, dims = shards.features.shape
    if start.ndim not in (2, 3) or start.shape[-2] != dims or (start.ndim == 3 and start.shape[0] != parties):
        raise ValueError(
            f"start of shape {start.shape}: expected ({dims}, classes) or ({parties}, {dims}, classes)"
        )
    labels = np.asarray(labels)
    if labels.shape != shards.mask.shape:
        raise ValueError(f"labels of shape {labels.shape}: expected the shards' shape {shards.mask.shape}")
    if epochs < 0 or batch_size < 1:
        raise ValueError(
            f"epochs = {epochs}, batch_size = {batch_size}: expected epochs >= 0 and batch_size >= 1"
        )
    if not (learning_rate >= 0 and l2 >= 0):
        raise ValueError(f"learning_rate = {learning_rate}, l2 = {l2}: expected both >= 0")
    classes = start.shape[-1]
    weights = np.array(np.broadcast_to(start, (parties, dims, classes)))
    if parties == 0 or m_max == 0:
        return weights

    # Large temporaries are allocated once: the shuffled copy of the features (one gather per epoch,
    # each batch a view into it), the logits and the gradient.
    class_ids = np.arange(classes)
    steps = math.ceil(m_max / batch_size)
    features, mask = shards.features, shards.mask
    flat_features = features.reshape(parties * m_max, dims)
    first_row = (np.arange(parties) * m_max)[:, None]
    shuffled = np.empty_like(features) if steps > 1 else features
    scores = np.empty((parties, min(batch_size, m_max), classes))
    gradient = np.empty_like(weights)
    batch_labels, batch_mask = labels, mask
    for _ in range(epochs):
        if steps > 1:
            keys = rng.random((parties, m_max))
            keys[~mask] = np.inf
            order = np.argsort(keys, axis=1)
            np.take(flat_features, (order + first_row).ravel(), axis=0, out=shuffled.reshape(-1, dims))
            batch_labels = np.take_along_axis(labels, order, axis=1)
            batch_mask = np.take_along_axis(mask, order, axis=1)
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            x, y, real = shuffled[:, batch], batch_labels[:, batch], batch_mask[:, batch]
            residual = _softmax(np.matmul(x, weights, out=scores[:, : x.shape[1]]))
            residual -= y[:, :, None] == class_ids
            residual *= real[:, :, None]
            # A contiguous copy of the transposed batch lets the batched product use BLAS (about 3x
            # faster for wide models; free at the digits' size).
            np.matmul(np.ascontiguousarray(x.transpose(0, 2, 1)), residual, out=gradient)
            in_batch = real.sum(axis=1)
            moving = in_batch > 0
            gradient *= (learning_rate * moving / np.maximum(in_batch, 1))[:, None, None]
            if l2:
                weights *= (1.0 - learning_rate * l2 * moving)[:, None, None]
            weights -= gradient
    return weights


def evaluate(
    weights: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and mean cross-entropy (nats) of k models on one evaluation set or on v sets.

    weights: (k, dims, classes). One set: x (m, dims), y (m,) -> (accuracy (k,), loss (k,)). Several
    sets, every model on every set in one batched pass (validators scoring submissions): x
    (v, m, dims), y (v, m), mask (v, m) True for real samples (all True if omitted) ->
    (accuracy (v, k), loss (v, k)).

    The predicted class is the argmax of the logits, the lowest class on ties; the loss is
    log-sum-exp(x W) - (x W)_y, computed stably (shifted by the largest logit). A set with no
    sample gives accuracy 0 and loss 0, never NaN.
    """
    weights = np.asarray(weights, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if weights.ndim != 3:
        raise ValueError(f"weights of shape {weights.shape}: expected (models, dims, classes)")
    models, dims, classes = weights.shape
    one_set = x.ndim == 2
    if one_set:
        x, y = x[None], y[None]
        mask = None if mask is None else np.asarray(mask)[None]
    if x.ndim != 3 or x.shape[2] != dims or y.shape != x.shape[:2]:
        raise ValueError(
            f"x of shape {x.shape} and y of shape {y.shape} for models with {dims} inputs: expected "
            f"x (m, {dims}) with y (m,), or x (sets, m, {dims}) with y (sets, m)"
        )
    mask = np.ones(y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != y.shape:
        raise ValueError(f"mask of shape {mask.shape}: expected the labels' shape {y.shape}")
    if np.any(mask & ((y < 0) | (y >= classes))):
        raise ValueError(f"labels must lie in [0, {classes}) on real samples")
    sets, m = y.shape

    # One matmul, (sets * m, dims) @ (dims, classes * models), with the classes on a middle axis so
    # that the reductions over them run across whole (sets, m, models) slabs.
    stacked = weights.transpose(1, 2, 0).reshape(dims, classes * models)
    z = (x.reshape(sets * m, dims) @ stacked).reshape(sets, m, classes, models)
    label = np.where(mask, y, 0)[:, :, None, None]
    true_logit = np.take_along_axis(z, np.broadcast_to(label, (sets, m, 1, models)), axis=2)[:, :, 0]
    top = z.max(axis=2)
    # Correct: the true class reaches the top logit and no lower class does (ties: lowest class).
    lower_class_at_top = ((z == top[:, :, None]) & (np.arange(classes)[:, None] < label)).any(axis=2)
    correct = (true_logit == top) & ~lower_class_at_top
    z -= top[:, :, None]
    np.exp(z, out=z)
    loss = np.log(z.sum(axis=2)) + top - true_logit

    per_sample = mask / np.maximum(mask.sum(axis=1), 1)[:, None]  # 1 / |set| on real samples, else 0
    accuracy = np.matmul(per_sample[:, None, :], correct)[:, 0]
    mean_loss = np.matmul(per_sample[:, None, :], loss)[:, 0]
    return (accuracy[0], mean_loss[0]) if one_set else (accuracy, mean_loss)


def _softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place, shifted by the largest entry so exp never overflows."""
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z
