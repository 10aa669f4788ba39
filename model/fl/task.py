"""One run's federated-learning task: the data, the global model and each round's real updates.

``detection.mode = "mechanistic"`` replaces the abstract mode's fixed rates with this task
(``[fl]`` in the scenario). At setup the dataset is split (``model.fl.data``): a global test set,
one held-out evaluation set per validator and one shard per trainer identity (every row, entrants
waiting outside included; a Sybil owner trains on its first identity's shard). Each round:

1. **submissions** — every submitting identity sends a model update (a change to the global
   weights, flattened): honest trainers run local SGD on their shard (``model.fl.learner``);
   poisoners run it too and submit ``fl.attack`` of the result (``model.fl.attacks``); lazy
   trainers submit ``fl.free_rider``'s update without training; a Sybil owner's identities submit
   (near-)copies of one update — an honest one it trained (``behaviour.sybil_update = "honest"``)
   or a free-rider's;
2. **scores** — every active honest validator scores every submission by how much it lowers the
   loss on the validator's own held-out set, applied to the global model with the weight it would
   have in an average of the round's submissions (never below 0); it scores 0 a submission that is
   a near-duplicate of another (cosine similarity above ``fl.duplicate_similarity``);
3. **aggregation** — the accepted updates (the network flags from the scores) are combined by
   ``fl.aggregator`` (``model.fl.aggregators``) and the global model moves by
   ``fl.server_learning_rate`` times the aggregate. Its test accuracy is the network's quality.

With ``fl.clean_twin`` a twin model is trained each round on the honest submissions alone, with
the same aggregator (FedAvg in place of FoolsGold, which would weigh diverse honest histories
nearly equally): the difference of the two accuracies is what the cheaters cost.

Every draw comes from the run's FL stream (three children: data, training, attacks).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from model.fl import aggregators
from model.fl.attacks import boost, flip_labels, free_rider_update, near_copies, sign_flip
from model.fl.data import Shards, load_digits_dataset, shards, split_dataset, synthetic_dataset
from model.fl.learner import evaluate, local_sgd

HONEST, LAZY, SYBIL, POISONING = 0, 1, 2, 3
#: Most numbers one scoring pass holds (validators × submissions × samples × classes); larger
#: rounds are scored in chunks of submissions.
SCORE_CHUNK_NUMBERS = 1 << 22


def take(data: Shards, rows: np.ndarray) -> Shards:
    """The shards of ``rows`` only."""
    return Shards(data.features[rows], data.labels[rows], data.mask[rows], data.counts[rows])


@dataclass(slots=True)
class RoundUpdates:
    """One round's submissions."""

    updates: np.ndarray
    """(trainers × parameters) each identity's update; zero rows for identities not submitting."""
    sample_counts: np.ndarray
    """(trainers,) the samples each identity's update claims (its shard's size): FedAvg's weights."""


class FederatedTask:
    """The learning behind one mechanistic run.

    Args:
        net: the network (its strategies, owners, validators are read live each round).
        seq: the run's FL seed stream.
    """

    def __init__(self, net, seq: np.random.SeedSequence):
        s = net.scenario
        f = self.fl = s.fl
        data_seq, train_seq, attack_seq, twin_seq = seq.spawn(4)
        data_rng = np.random.default_rng(data_seq)
        self._train_rng = np.random.default_rng(train_seq)
        self._attack_rng = np.random.default_rng(attack_seq)
        self._twin_rng = np.random.default_rng(twin_seq)  # the twin never moves the network's draws
        if f.dataset == "digits":
            dataset = load_digits_dataset()
        else:
            dataset = synthetic_dataset(
                data_rng,
                f.synthetic_samples,
                f.synthetic_features,
                f.synthetic_classes,
                f.synthetic_separation,
            )
        self._net = net
        nt, nv = net.n_trainers, len(net.detects)
        split = split_dataset(
            dataset.labels,
            dataset.classes,
            data_rng,
            trainers=nt,
            validators=nv,
            test_share=f.test_share,
            validator_samples=f.validator_samples,
            partition=f.partition,
            alpha=f.dirichlet_alpha,
        )
        x, y = dataset.features, dataset.labels
        _check_shard_size(split.trainers, x.shape[1] + 1)
        self.trainer_data = shards(x, y, split.trainers)
        self.validator_data = shards(x, y, split.validators)
        test = shards(x, y, [split.test])
        self._test_x, self._test_y = test.features[0], test.labels[0]
        self.classes = dataset.classes
        self.shape = (self.trainer_data.dims, self.classes)
        """Shape of the model's weights: (features + 1 for the bias, classes)."""
        size = self.shape[0] * self.shape[1]
        self._flipped = flip_labels(self.trainer_data.labels, self.classes)
        self.weights = np.zeros(self.shape)
        """The global model's weights."""
        self.twin = np.zeros(self.shape) if f.clean_twin else None
        """The clean twin's weights (trained on honest submissions alone), or None."""
        self.last_change = np.zeros(size)
        """The change the global model made last round (what a replaying free-rider sends)."""
        self._history = np.zeros((nt, size)) if f.aggregator == "foolsgold" else None
        self.accuracy, self.loss = self.test_accuracy(self.weights)
        """The global model's test accuracy and mean cross-entropy (nats) after the last round."""
        self.initial_accuracy = self.accuracy
        self.twin_accuracy = self.accuracy
        self.twin_rounds = 0
        """Rounds in which the clean twin learnt (some honest trainer submitted)."""
        self.poison_entered = 0.0
        """Poisoned submissions that entered the aggregate over the run, each counted by the share of
        it that entered (see ``aggregate``)."""
        self.poison_submitted = 0
        """Poisoned submissions over the run."""
        self.trace: list[tuple[float, float, float, float]] = []
        """Per round: accuracy before, accuracy after, honest work share and poison share of the
        accepted submissions (what ``analysis.calibration`` fits the abstract quality rates to)."""
        self.score_sums = np.zeros((2, 4))
        """Per trainer strategy (columns): [0] the sum of honest validators' scores of its submissions,
        [1] how many scores."""
        self.honest_disagreement = np.zeros(2)
        """How far validators' scores of one honest submission lie apart: the sum over honest
        submissions of the squared deviations of each validator's score from the submission's mean
        score, and its degrees of freedom (validators − 1 per submission)."""
        self.seconds = {"training": 0.0, "scoring": 0.0, "aggregation": 0.0}
        """Wall-clock seconds spent in each part of the learning (the bench prints them)."""

    # -- helpers ---------------------------------------------------------------------------------
    def test_accuracy(self, weights: np.ndarray) -> tuple[float, float]:
        """Test accuracy and mean cross-entropy (nats) of one model."""
        accuracy, loss = evaluate(weights[None], self._test_x, self._test_y)
        return float(accuracy[0]), float(loss[0])

    def _train(
        self, start: np.ndarray, rows: np.ndarray, flipped: np.ndarray | None = None, rng=None
    ) -> np.ndarray:
        """Local SGD from ``start`` on ``rows``' shards; the changes, one flat row each. ``flipped``
        marks the rows that train on reversed labels; ``rng`` orders the samples (default: the
        network's training stream)."""
        if not rows.size:
            return np.zeros((0, start.size))
        f = self.fl
        data = take(self.trainer_data, rows)
        labels = (
            data.labels if flipped is None else np.where(flipped[:, None], self._flipped[rows], data.labels)
        )
        local = local_sgd(
            start,
            data,
            labels,
            epochs=f.local_epochs,
            batch_size=f.batch_size,
            learning_rate=f.local_learning_rate,
            l2=f.l2,
            rng=self._train_rng if rng is None else rng,
        )
        return (local - start).reshape(len(rows), -1)

    # -- 1. submissions ----------------------------------------------------------------------------
    def submissions(self, t: int, submitting: np.ndarray) -> RoundUpdates:
        """Round ``t``'s updates of the submitting identities (``submitting``: trainers' mask)."""
        net, f = self._net, self.fl
        clock = time.perf_counter()
        strategy = net.strategy_index[: len(submitting)]
        updates = np.zeros((len(submitting), self.weights.size))
        honest = np.flatnonzero(submitting & (strategy == HONEST))
        poisoning = np.flatnonzero(submitting & (strategy == POISONING))
        sybil = submitting & (strategy == SYBIL)
        owners = np.unique(net.owner[: len(submitting)][sybil])  # Sybil owners with an identity submitting
        sybil_trains = net.scenario.behaviour.sybil_update == "honest"
        trains_owner = net.owner_first[owners] if sybil_trains else np.zeros(0, dtype=np.int64)
        rows = np.concatenate([honest, poisoning, trains_owner])
        flipped = np.zeros(len(rows), dtype=bool)
        if f.attack != "sign_flip":
            flipped[len(honest) : len(honest) + len(poisoning)] = True
        trained = self._train(self.weights, rows, flipped)
        self.seconds["training"] += time.perf_counter() - clock
        updates[honest] = trained[: len(honest)]
        poison = trained[len(honest) : len(honest) + len(poisoning)]
        if f.attack == "sign_flip":
            poison = sign_flip(poison, f.attack_scale)
        elif f.attack == "scaled":
            poison = boost(poison, f.attack_scale)
        updates[poisoning] = poison
        lazy = np.flatnonzero(submitting & (strategy == LAZY))
        if lazy.size:
            updates[lazy] = self._free_ride(t, len(lazy))
        if owners.size:
            if sybil_trains:  # each owner trained once, on its first identity's shard
                owner_updates = trained[len(rows) - len(trains_owner) :]
            else:  # each owner free-rides once
                owner_updates = self._free_ride(t, len(owners))
            for i, owner in enumerate(owners.tolist()):
                identities = net.owner_rows(owner)
                identities = identities[submitting[identities]]
                updates[identities] = near_copies(
                    owner_updates[i], len(identities), f.sybil_noise, self._attack_rng
                )
        return RoundUpdates(updates, self.trainer_data.counts)

    def _free_ride(self, t: int, parties: int) -> np.ndarray:
        f = self.fl
        return free_rider_update(
            f.free_rider,
            self.last_change,
            t,
            f.free_rider_noise_sd,
            f.free_rider_noise_decay,
            self._attack_rng,
            parties,
        )

    # -- 2. scores ---------------------------------------------------------------------------------
    def scores(self, round_updates: RoundUpdates, submitting: np.ndarray, scoring: np.ndarray) -> np.ndarray:
        """(validators × trainers) each scoring validator's score of each submission: how much the
        update lowers the mean cross-entropy (nats) on the validator's held-out set when applied to the
        global model with the weight ``1 / n`` it would have in an average of the round's ``n``
        submissions — ``max(0, L(w) − L(w + u / n))`` — and 0 for a near-duplicate; 0 for identities
        that did not submit and rows of validators not scoring (``scoring``: mask)."""
        clock = time.perf_counter()
        nv, nt = len(scoring), len(submitting)
        out = np.zeros((nv, nt))
        rows, judges = np.flatnonzero(submitting), np.flatnonzero(scoring)
        if rows.size and judges.size:
            updates = round_updates.updates[rows]
            data = take(self.validator_data, judges)
            x, y, mask = data.features, data.labels, data.mask
            per = max(1, SCORE_CHUNK_NUMBERS // (len(judges) * x.shape[1] * self.classes))
            block = np.empty((len(judges), len(rows)))
            weight = 1.0 / len(rows)
            for start in range(0, len(rows), per):
                # The global model itself goes first in every batch, so that a zero update's loss is
                # worked out exactly as the model's own and it scores exactly 0.
                models = np.concatenate(
                    [
                        self.weights[None],
                        self.weights + weight * updates[start : start + per].reshape(-1, *self.shape),
                    ]
                )
                loss = evaluate(models, x, y, mask)[1]
                block[:, start : start + per] = loss[:, :1] - loss[:, 1:]
            np.maximum(block, 0.0, out=block)
            block[:, duplicates(updates, self.fl.duplicate_similarity)] = 0.0
            out[np.ix_(judges, rows)] = block
            self._book_scores(block, rows)
        self.seconds["scoring"] += time.perf_counter() - clock
        return out

    def _book_scores(self, block: np.ndarray, rows: np.ndarray) -> None:
        """Add a round's scores to ``score_sums``, by the submitting identities' strategies."""
        strategy = self._net.strategy_index[rows]
        self.score_sums[0] += np.bincount(strategy, weights=block.sum(axis=0), minlength=4)
        self.score_sums[1] += np.bincount(strategy, minlength=4) * block.shape[0]
        honest = block[:, strategy == HONEST]
        if honest.size and len(honest) > 1:
            self.honest_disagreement[0] += float(((honest - honest.mean(axis=0)) ** 2).sum())
            self.honest_disagreement[1] += (len(honest) - 1) * honest.shape[1]

    def relative_score(self, strategy: int) -> float:
        """Honest validators' mean score of ``strategy``'s submissions over their mean score of honest
        ones (NaN when either was never scored, or honest ones scored 0 on average)."""
        sums, counts = self.score_sums[0], self.score_sums[1]
        if counts[strategy] == 0 or counts[HONEST] == 0 or sums[HONEST] <= 0:
            return math.nan
        return float((sums[strategy] / counts[strategy]) / (sums[HONEST] / counts[HONEST]))

    def honest_score_spread(self) -> float:
        """The sd of one validator's score of an honest submission around the validators' mean score of
        that submission — their disagreement, not the spread of quality between submissions — over
        the mean honest score (NaN with fewer than two validators scoring, or honest work scored 0
        on average)."""
        sums, counts = self.score_sums[0, HONEST], self.score_sums[1, HONEST]
        squares, freedom = self.honest_disagreement
        if freedom == 0 or sums <= 0:
            return math.nan
        return float(math.sqrt(squares / freedom) / (sums / counts))

    # -- 3. aggregation ----------------------------------------------------------------------------
    def aggregate(
        self, round_updates: RoundUpdates, accepted: np.ndarray, submitting: np.ndarray
    ) -> np.ndarray:
        """Combine the accepted updates and move the global model. Returns, per trainer, the share of
        its submission that entered the model: 1 for an accepted update under FedAvg, 1 or 0 as a
        selecting rule (Krum, Multi-Krum) picked it or not, 1 or 0 as FoolsGold weighed it above 0 or
        not, and for the coordinate-wise rules the share of coordinates in which its value was kept
        (the median's middle value or values; what the trimmed mean does not trim; equal values
        share their ranks evenly); 0 for every submission not accepted."""
        net, f = self._net, self.fl
        clock = time.perf_counter()
        updates = round_updates.updates
        if self._history is not None:
            self._history[submitting] += updates[submitting]
        before = self.accuracy
        entered = np.zeros(len(accepted))
        rows = np.flatnonzero(accepted)
        if rows.size:
            result = self._combine(updates[rows], round_updates.sample_counts[rows], rows)
            change = f.server_learning_rate * result.update
            self.weights += change.reshape(self.shape)
            self.last_change = change
            entered[rows] = self._entered_shares(updates[rows], result)
        else:
            self.last_change = np.zeros(self.weights.size)
        self.accuracy, self.loss = self.test_accuracy(self.weights)
        poisoned = net.poisoned[: len(accepted)]
        self.poison_submitted += int(np.count_nonzero(submitting & poisoned))
        self.poison_entered += float(entered @ poisoned)
        n = rows.size
        work = float(net.work_units[: len(accepted)] @ accepted) / n if n else 0.0
        self.trace.append(
            (before, self.accuracy, work, np.count_nonzero(accepted & poisoned) / n if n else 0.0)
        )
        self.seconds["aggregation"] += time.perf_counter() - clock
        if self.twin is not None:
            self._train_twin(submitting)
        return entered

    def _entered_shares(self, updates: np.ndarray, result: aggregators.Aggregate) -> np.ndarray:
        """Per accepted update, the share of it that entered the aggregate (see ``aggregate``)."""
        n = len(updates)
        if result.selected is not None:
            shares = np.zeros(n)
            shares[result.selected] = 1.0
            return shares
        if result.weights is not None:  # FedAvg weighs every shard (none is empty); FoolsGold may not
            return (result.weights > 0).astype(float)
        if self.fl.aggregator == "median":
            return kept_shares(updates, (n - 1) // 2, n // 2)
        if self.fl.aggregator == "trimmed_mean":
            trimmed = int(self.fl.trim_fraction * n)
            return kept_shares(updates, trimmed, n - trimmed - 1)
        return np.ones(n)

    def _combine(self, updates: np.ndarray, counts: np.ndarray, rows: np.ndarray) -> aggregators.Aggregate:
        """``fl.aggregator`` over the accepted updates (rows of the trainers' arrays)."""
        f, n = self.fl, len(updates)
        name = f.aggregator
        if name == "fedavg":
            return aggregators.fedavg(updates, counts.astype(float))
        if name == "median":
            return aggregators.median(updates)
        if name == "trimmed_mean":
            return aggregators.trimmed_mean(updates, f.trim_fraction)
        if name == "foolsgold":
            return aggregators.foolsgold(updates, self._history[rows])
        if n < 3:  # Krum needs n > 2f + 2 with f >= 0: too few to choose from, so their mean
            return aggregators.fedavg(updates)
        byzantine = krum_byzantine(n, f.byzantine_fraction)
        if name == "krum":
            return aggregators.krum(updates, byzantine)
        return aggregators.multi_krum(updates, byzantine, n - byzantine)

    def _train_twin(self, submitting: np.ndarray) -> None:
        """One round of the clean twin: the honest identities that submitted train from the twin's
        weights, and the twin moves by the same aggregator over their updates alone."""
        clock = time.perf_counter()
        net = self._net
        rows = np.flatnonzero(submitting & (net.strategy_index[: len(submitting)] == HONEST))
        if rows.size:
            updates = self._train(self.twin, rows, rng=self._twin_rng)
            counts = self.trainer_data.counts[rows]
            if self.fl.aggregator == "foolsgold":  # it needs per-identity histories; honest ones are
                result = aggregators.fedavg(updates, counts.astype(float))  # diverse: nearly equal weights
            else:
                result = self._combine(updates, counts, rows)
            self.twin += (self.fl.server_learning_rate * result.update).reshape(self.shape)
            self.twin_accuracy = self.test_accuracy(self.twin)[0]
            self.twin_rounds += 1
        self.seconds["training"] += time.perf_counter() - clock


def kept_shares(updates: np.ndarray, low: int, high: int) -> np.ndarray:
    """Per update (row), the share of coordinates in which its value is one of those ranked ``low``
    to ``high`` (0-based, inclusive) among the n values of that coordinate. Equal values share the
    ranks they span evenly: of two equal values spanning ranks 1 and 2, with only rank 1 kept, each
    counts as half kept (row order decides nothing)."""
    n = len(updates)
    order = np.argsort(updates, axis=0, kind="stable")
    ordered = np.take_along_axis(updates, order, axis=0)
    rank = np.arange(n)[:, None]
    starts = np.ones(ordered.shape, dtype=bool)  # where a run of equal values begins
    starts[1:] = ordered[1:] != ordered[:-1]
    ends = np.ones(ordered.shape, dtype=bool)  # where it ends
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, rank, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, rank, n - 1)[::-1], axis=0)[::-1]
    kept = np.clip(np.minimum(last, high) - np.maximum(first, low) + 1, 0, None) / (last - first + 1)
    shares = np.empty(ordered.shape)
    np.put_along_axis(shares, order, kept, axis=0)
    return shares.mean(axis=1)


#: Most bytes the trainers' padded shards may take (every trainer's data padded to the largest
#: shard, so that one numpy pass trains them all): a very uneven split is refused, not swapped.
MAX_SHARD_BYTES = 1 << 30


def _check_shard_size(groups: list[np.ndarray], dims: int) -> None:
    """Refuse a split whose padded shards would not fit: trainers × the largest shard × dims."""
    largest = max((len(g) for g in groups), default=0)
    size = len(groups) * largest * dims * 8
    if size > MAX_SHARD_BYTES:
        from model.params import ScenarioError

        raise ScenarioError(
            [
                f"fl: this split gives one trainer {largest:_} samples (of {sum(len(g) for g in groups):_}); "
                f"padded to it, {len(groups):_} trainers' shards would take {size / 2**30:.1f} GiB, more "
                f"than the {MAX_SHARD_BYTES / 2**30:.0f} GiB allowed: raise fl.dirichlet_alpha (a more even "
                "split), or use fewer samples, features or trainers"
            ]
        )


def krum_byzantine(n: int, fraction: float) -> int:
    """Krum's f for ``n`` updates: ``floor(fraction × n)``, at most ``(n − 3) // 2`` so that n > 2f + 2."""
    return max(0, min(math.floor(fraction * n), (n - 3) // 2))


def duplicates(updates: np.ndarray, similarity: float) -> np.ndarray:
    """Which rows of ``updates`` have a cosine similarity above ``similarity`` with another row (a
    zero row has no direction and is nobody's duplicate); none when ``similarity`` is 1."""
    n = len(updates)
    out = np.zeros(n, dtype=bool)
    if n < 2 or similarity >= 1.0:
        return out
    norms = np.linalg.norm(updates, axis=1)
    unit = np.divide(updates, norms[:, None], out=np.zeros_like(updates), where=norms[:, None] > 0)
    per = max(1, SCORE_CHUNK_NUMBERS // n)
    for start in range(0, n, per):
        cosine = unit[start : start + per] @ unit.T
        cosine[np.arange(len(cosine)), np.arange(start, start + len(cosine))] = -np.inf  # not itself
        out[start : start + per] = cosine.max(axis=1) > similarity
    return out
