"""Datasets for the mechanistic FL task and how they are split between the network's parties.

- ``load_digits_dataset``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, 64 pixels
  scaled to [0, 1], 10 classes), loaded once and shared read-only.
- ``synthetic_dataset``: Gaussian classes of tunable separation, for fast tests and sweeps.
- ``split_dataset``: a stratified global test set, each validator's own held-out set and each
  trainer's local data, IID or non-IID by label (a Dirichlet deal, Hsu, Qi & Brown 2019).
- ``shards``: the parties' data padded into one (parties, m_max, features + 1) array with a bias
  column, so that training and scoring run over every party in one numpy pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: How trainers' data can be partitioned: ``split_dataset(..., partition=...)``.
PARTITIONS = ("iid", "dirichlet")


@dataclass(frozen=True)
class Dataset:
    """A labelled classification dataset.

    features: (samples, features) float64; labels: (samples,) int64 in [0, classes).
    """

    features: np.ndarray
    labels: np.ndarray
    classes: int
    name: str

    @property
    def samples(self) -> int:
        return self.features.shape[0]


@functools.cache
def load_digits_dataset() -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1,797 samples x 64 pixels, 10 classes.

    The data ship with scikit-learn (no network access). Pixel intensities 0..16 are divided by 16,
    so features lie in [0, 1]. The result is cached and its arrays are read-only: every caller shares
    one copy and none can change it. scikit-learn is imported here only, so code that never asks for
    the digits never pays for the import.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    features = np.asarray(digits.data, dtype=np.float64) / 16.0
    labels = np.asarray(digits.target, dtype=np.int64)
    features.flags.writeable = False
    labels.flags.writeable = False
    return Dataset(features=features, labels=labels, classes=10, name="digits")


def synthetic_dataset(
    rng: np.random.Generator, samples: int, features: int, classes: int, separation: float
) -> Dataset:
    """Gaussian classes: the mean of class c is mu_c ~ N(0, separation^2 I) (drawn from ``rng``),
    and a sample of class c is mu_c + N(0, I).

    Labels are balanced: sample i has class i mod ``classes`` before the samples are shuffled.
    Larger separation means an easier task: two class means lie sqrt(2 features) x separation
    apart on average, against unit noise per coordinate (at separation 1.5, 20 features and 5
    classes softmax regression classifies well over 90 % of held-out samples correctly).
    Draws, in order: the class means, the shuffle, the noise.
    """
    if samples < 0 or features < 1 or classes < 1:
        raise ValueError(
            f"synthetic dataset of {samples} samples, {features} features and {classes} classes: "
            "expected samples >= 0, features >= 1 and classes >= 1"
        )
    if not separation >= 0:
        raise ValueError(f"separation = {separation} is not allowed: expected a number >= 0")
    means = rng.normal(0.0, separation, size=(classes, features))
    labels = rng.permutation(np.arange(samples, dtype=np.int64) % classes)
    points = means[labels] + rng.standard_normal((samples, features))
    return Dataset(features=points, labels=labels, classes=classes, name="synthetic")


@dataclass(frozen=True)
class Shards:
    """Per-party data padded to one array so one numpy pass serves every party.

    features: (parties, m_max, features + 1) float64; the last column is 1 for real samples (the
    bias input); padding rows are all 0. labels: (parties, m_max) int64, 0 on padding rows.
    mask: (parties, m_max) bool, True for real samples (a party's real samples come first).
    counts: (parties,) int64, each party's number of real samples. m_max is the largest count.
    """

    features: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    counts: np.ndarray

    @property
    def parties(self) -> int:
        return self.features.shape[0]

    @property
    def dims(self) -> int:
        """Inputs per sample, bias included: features + 1."""
        return self.features.shape[2]


def shards(features: np.ndarray, labels: np.ndarray, groups: list[np.ndarray]) -> Shards:
    """Each party's samples ``features[groups[p]]``, ``labels[groups[p]]``, padded into one array
    with a bias column (see ``Shards``). ``groups`` holds one integer index array per party; a
    party's samples keep the order of its index array. Serves trainers' local data as well as
    validators' evaluation sets."""
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.shape != features.shape[:1]:
        raise ValueError(
            f"features of shape {features.shape} and labels of shape {labels.shape}: expected "
            "(samples, features) and (samples,)"
        )
    index_arrays = [np.asarray(group).reshape(-1) for group in groups]
    for p, group in enumerate(index_arrays):
        if group.size and not np.issubdtype(group.dtype, np.integer):
            raise ValueError(f"group {p} holds {group.dtype} values: expected integer sample indices")
    counts = np.array([group.size for group in index_arrays], dtype=np.int64)
    parties, m_max, dims = counts.size, int(counts.max(initial=0)), features.shape[1] + 1

    flat = np.concatenate(index_arrays).astype(np.int64) if parties else np.zeros(0, dtype=np.int64)
    party = np.repeat(np.arange(parties), counts)
    position = np.arange(flat.size) - np.repeat(np.cumsum(counts) - counts, counts)

    padded = np.zeros((parties, m_max, dims))
    padded[party, position, :-1] = features[flat]
    padded[party, position, -1] = 1.0
    padded_labels = np.zeros((parties, m_max), dtype=np.int64)
    padded_labels[party, position] = labels[flat]
    mask = np.zeros((parties, m_max), dtype=bool)
    mask[party, position] = True
    return Shards(features=padded, labels=padded_labels, mask=mask, counts=counts)


@dataclass(frozen=True)
class Split:
    """Which samples (indices into the dataset) each role holds. The global test set, every
    validator's evaluation set and every trainer's local data are pairwise disjoint."""

    test: np.ndarray
    validators: list[np.ndarray]
    trainers: list[np.ndarray]


def split_dataset(
    labels: np.ndarray,
    classes: int,
    rng: np.random.Generator,
    *,
    trainers: int,
    validators: int,
    test_share: float,
    validator_samples: int,
    partition: str,
    alpha: float,
) -> Split:
    """Split the samples into a global test set, validators' held-out sets and trainers' data.

    1. The test set: round(test_share x n) samples, stratified by class (class c contributes its
       share test_share x n_c, rounded by largest remainder so the total comes out exact), chosen
       at random within each class.
    2. Each validator gets ``validator_samples`` samples drawn at random from the rest (IID).
    3. The rest goes to the trainers:

       - ``"iid"``: in random order, dealt as evenly as possible (sizes differ by at most one);
       - ``"dirichlet"``: non-IID by label (Hsu, Qi & Brown 2019, "Measuring the effects of
         non-identical data distribution for federated visual classification", arXiv:1909.06335).
         First every trainer receives ONE sample chosen at random, so that no trainer is empty;
         then for each class c, proportions p_c ~ Dirichlet(alpha x 1) over the trainers, and class
         c's remaining samples (in random order) are cut at floor(n_c x cumsum(p_c)). Small alpha
         means each trainer sees few classes; as alpha grows the deal approaches IID.

    Every index array is sorted. Raises ValueError when the validators' sets do not fit in what
    the test set leaves, when fewer samples remain than there are trainers, or for an unknown
    partition.
    """
    labels = np.asarray(labels)
    n = labels.size
    if labels.ndim != 1 or (n and (labels.min() < 0 or labels.max() >= classes)):
        raise ValueError(f"labels must be a 1-D array of class indices in [0, {classes})")
    if partition not in PARTITIONS:
        raise ValueError(f"partition {partition!r} is unknown: expected one of {', '.join(PARTITIONS)}")
    if not 0 <= test_share < 1:
        raise ValueError(f"test_share = {test_share} is not allowed: expected 0 <= test_share < 1")
    for name, value in (
        ("trainers", trainers),
        ("validators", validators),
        ("validator_samples", validator_samples),
    ):
        if value < 0:
            raise ValueError(f"{name} = {value} is not allowed: expected a whole number >= 0")
    if partition == "dirichlet" and not (alpha > 0 and np.isfinite(alpha)):
        raise ValueError(f"alpha = {alpha} is not allowed: the Dirichlet concentration must be > 0")

    test = _stratified_sample(labels, classes, round(test_share * n), rng)
    in_test = np.zeros(n, dtype=bool)
    in_test[test] = True
    rest = rng.permutation(np.flatnonzero(~in_test))

    held_out = validators * validator_samples
    if held_out > rest.size:
        raise ValueError(
            f"{validators} validators x {validator_samples} samples = {held_out} samples do not fit in "
            f"the {rest.size} samples left after the test set of {test.size}"
        )
    validator_sets = [np.sort(chunk) for chunk in np.split(rest[:held_out], validators)] if validators else []
    pool = rest[held_out:]
    if pool.size < trainers:
        raise ValueError(
            f"{pool.size} samples remain for {trainers} trainers after the test set ({test.size}) and "
            f"the validators' sets ({held_out}): every trainer needs at least one sample"
        )
    if trainers == 0:
        trainer_sets = []
    elif partition == "iid":
        trainer_sets = [np.sort(chunk) for chunk in np.array_split(pool, trainers)]
    else:
        trainer_sets = _dirichlet_deal(pool, labels, classes, trainers, alpha, rng)
    return Split(test=np.sort(test), validators=validator_sets, trainers=trainer_sets)


def _stratified_sample(labels: np.ndarray, classes: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` indices, each class contributing size / n of its samples (largest remainder)."""
    per_class = np.bincount(labels, minlength=classes)
    exact = per_class * (size / max(labels.size, 1))
    quota = np.floor(exact).astype(np.int64)
    largest_remainders = np.argsort(-(exact - quota), kind="stable")[: size - quota.sum()]
    quota[largest_remainders] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == c))[: quota[c]] for c in range(classes)]
    return np.concatenate(chosen).astype(np.int64)


def _dirichlet_deal(
    pool: np.ndarray, labels: np.ndarray, classes: int, trainers: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """One sample each (the first ``trainers`` of the randomly ordered pool), then class by class
    by Dirichlet(alpha) proportions over the trainers."""
    dealt: list[list[np.ndarray]] = [[pool[t : t + 1]] for t in range(trainers)]
    remaining = pool[trainers:]
    for c in range(classes):
        of_class = remaining[labels[remaining] == c]
        proportions = rng.dirichlet(np.full(trainers, float(alpha)))
        cuts = np.floor(np.cumsum(proportions)[:-1] * of_class.size).astype(np.int64)
        for t, part in enumerate(np.split(of_class, cuts)):
            dealt[t].append(part)
    return [np.sort(np.concatenate(parts)) for parts in dealt]
