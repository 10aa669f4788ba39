"""Validators vote: weight vectors over the trainers, one Yuma Consensus epoch a round.

Under ``rewards.rule = "yuma"`` detection and rewards come out of the validators' votes instead of
fixed rates. Each round every active validator sets a weight on every trainer identity (a row of
the validator × trainer matrix):

* an **honest** validator evaluates each submission it receives and weights it by what it sees,
  ``max(0, q_jt + ε_ijt)`` with ``ε ~ N(0, σ² / effort)`` (σ = ``detection.score_noise_sd``, effort
  = ``yuma.evaluation_effort``) and 0 for a trainer that did not submit. The submission's quality
  ``q_jt`` is its strategy's score (honest 1, ``behaviour.*_score`` otherwise) plus a drift that
  follows an AR(1) process, ``x_jt = φ x_j,t−1 + √(1 − φ²) σ_q η_jt`` (stationary sd σ_q =
  ``yuma.quality_drift_sd``, φ = ``yuma.quality_persistence``): what was good a few rounds ago
  need not be good now, which is what makes a stale copy of the consensus worth less;
* a **cabal** member (honest validators, taken in row order, holding ``yuma.cabal_stake_share`` of
  the validators' stake weight as nearly as whole validators can) evaluates as honest validators
  do but votes only for the cabal's own trainers that submitted (the identities laid out for
  ``yuma.cabal_trainers``), equally, and 0 for everyone else;
* a **copier** sets the last consensus it can see: the stake-weighted κ-median of the evaluating
  validators' weights (honest and cabal), as it would work it out from their revealed weights.
  Under commit-reveal the weights of round t are revealed ``d = yuma.reveal_delay_rounds`` rounds
  later, so in round t it copies that consensus of round t − d; with ``d = 0`` weights are public
  as they are set and it copies this round's. Until something is revealed (the first d rounds, or
  a round in which no evaluator's weights were recorded) it abstains: it sets no weights and its
  stake stays out of the epoch, as an absent validator's does. A copy is stale in two ways: the
  quality it weighed has drifted, and it weights the trainers that submitted then, not now.

The weights go through one epoch (``model.yuma.validator_epoch``) over the active validators'
stake weights (own stake + delegated). A submitting trainer is **flagged** when its consensus
weight is below ``yuma.flag_threshold`` × the median consensus weight of the round's submissions.
The trainers' pool is split by incentive over the accepted submissions and the validators' pool by
dividends; when no weight reaches consensus (the incentives are all 0) validators are paid both
pools by active stake, as subtensor does. A validator whose share of weight clipped away by
consensus (1 − validator trust) exceeds ``yuma.validator_slash_tolerance`` for
``yuma.validator_slash_rounds`` rounds in a row is slashed, if ``yuma.validator_slash_fraction`` > 0.

Random numbers (the drift and the validators' noise) come from their own child streams of the
run's seed, drawn a block of rounds at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from model import yuma
from model.randomness import RoundDraws, block_rounds
from model.yuma import YumaParams


def yuma_params(s) -> YumaParams:
    """The epoch's hyperparameters from a scenario's ``[yuma]`` section."""
    y = s.yuma
    return YumaParams(
        kappa=y.kappa,
        bond_penalty=y.bond_penalty,
        bonds_moving_average=y.bonds_moving_average,
        yuma3=y.yuma3,
        liquid_alpha=y.liquid_alpha,
        alpha_low=y.alpha_low,
        alpha_high=y.alpha_high,
        alpha_sigmoid_steepness=y.alpha_sigmoid_steepness,
    )


def cabal_members(stake_weight: np.ndarray, honest: np.ndarray, share: float) -> tuple[np.ndarray, float]:
    """The cabal: the first honest validators (row order) whose stake weight comes nearest to
    ``share`` of all validators' stake weight. Returns (member mask, realised share)."""
    members = np.zeros(len(stake_weight), dtype=bool)
    total = float(stake_weight.sum())
    if share <= 0 or total <= 0:
        return members, 0.0
    rows = np.flatnonzero(honest)
    reached = np.r_[0.0, np.cumsum(stake_weight[rows]) / total]
    m = int(np.argmin(np.abs(reached - share)))  # ties: the smaller cabal
    members[rows[:m]] = True
    return members, float(reached[m])


_NOBODY = np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class Vote:
    """One round's outcome of the votes."""

    epoch: yuma.ValidatorEpoch
    flagged: np.ndarray
    """Submitting trainers whose consensus weight fell below the flag threshold."""
    nobody_earns: bool
    """No weight reached consensus: the validators that voted get both pools by stake."""


class DriftPath:
    """Each trainer's quality drift, an AR(1) process, worked out a block of rounds at a time.

    ``x_0 = σ η_0`` (the stationary distribution) and ``x_t = φ x_{t−1} + √(1 − φ²) σ η_t``, with
    ``η`` standard normal from ``rng``: a block of rounds is one compiled pass down the rows
    (``model.yuma_kernel.ar1_path``), instead of a few array calls every round.
    """

    def __init__(self, rng: np.random.Generator, width: int, rounds: int, sd: float, persistence: float):
        self._draws = RoundDraws(rng, width, block_rounds(width, rounds), normal=True)
        self._sd, self._phi = sd, persistence
        self._path = None  # the current block's drift, one row a round
        self._first = 0  # round of its first row

    def row(self, t: int) -> np.ndarray:
        """The drift in round ``t``; rounds must be asked for in order."""
        if self._path is None or t - self._first >= len(self._path):
            innovations = self._draws.block() * (self._sd * math.sqrt(1.0 - self._phi**2))
            if self._path is None:
                innovations[0] *= 1.0 / math.sqrt(1.0 - self._phi**2)  # x_0 = σ η_0
                before = np.zeros(innovations.shape[1])
            else:
                before = self._path[-1]
            self._path = yuma.kernels().ar1_path(innovations, self._phi, before)
            self._first = t
        return self._path[t - self._first]


class YumaVotes:
    """The validators' votes and Yuma Consensus state of one run (bonds, revealed consensus).

    Args:
        net: the network (its arrays are read live: strategies, quality scores, who detects).
        drift_rng, noise_rng: the run's streams for the quality drift and the validators' noise.
        stake_weight: each validator's stake weight (own + delegated), in tokens.
    """

    def __init__(self, net, drift_rng: np.random.Generator, noise_rng: np.random.Generator, stake_weight):
        s = net.scenario
        y = s.yuma
        self._net = net
        self.params = yuma_params(s)
        nt, nv = net.n_trainers, len(stake_weight)
        self._nt, self._nv = nt, nv
        self._sd = s.detection.score_noise_sd / math.sqrt(y.evaluation_effort)
        rounds = s.rounds
        self._drift = DriftPath(drift_rng, nt, rounds, y.quality_drift_sd, y.quality_persistence)
        self._noise_draws = RoundDraws(noise_rng, nv * nt, block_rounds(nv * nt, rounds), normal=True)
        self.bonds = np.zeros((nv, nt))
        self._delay = y.reveal_delay_rounds
        slots = max(self._delay, 1)
        self._revealed = np.zeros((slots, nt))  # ring buffer: the evaluators' consensus of past rounds
        self._revealed_round = np.full(slots, -1)  # the round each slot holds (-1: none)
        # Record the evaluators' consensus every round when a copier may want it d rounds later.
        self._record = bool(self._delay) and (s.adaptation.adaptive or bool((~net.detects).any()))
        self._threshold = y.flag_threshold
        self._no_flags = np.zeros(nt, dtype=bool)
        honest = net.detects.copy()
        total = float(np.sum(stake_weight))
        self.copier_share = float(np.sum(stake_weight[~honest]) / total) if total > 0 else 0.0
        """The copying validators' share of the stake weight at the start."""
        self.cabal, self.cabal_share = cabal_members(
            np.asarray(stake_weight, float), honest, y.cabal_stake_share
        )
        own = next(rows for cls, rows in net.type_rows.items() if cls.strategy == y.cabal_trainers)
        self.cabal_trainers = np.zeros(nt, dtype=bool)
        self._has_cabal = bool(self.cabal.any())
        if self._has_cabal:
            self.cabal_trainers[own] = True
        self._slash_fraction = y.validator_slash_fraction
        self._tolerance = y.validator_slash_tolerance
        self._slash_after = y.validator_slash_rounds
        self._voted = np.zeros(nv, dtype=bool)
        self.straying = np.zeros(nv, dtype=np.int64)
        """Consecutive rounds each validator has strayed beyond the tolerance."""
        # Run totals behind the KPIs, per validator since the last booking (the window) and booked
        # per validator and role (column 0: evaluating, 1: copying) at every decision, so that a
        # validator that switches strategy has each stretch counted under the strategy it played.
        self._window = np.zeros((3, nv))  # validator-pool tokens, trust, rounds voted
        self.by_role = np.zeros((3, nv, 2))
        """Booked totals: [0] validator-pool tokens earned (before delegators' shares), [1] the sum of
        validator trust over rounds voted, [2] rounds voted; per validator (rows) and role (columns)."""
        self.trainer_tokens = 0.0
        self.cabal_trainer_tokens = 0.0
        self.slashes = 0
        self.slashed_tokens = 0.0

    def vote(
        self,
        t: int,
        submitting: np.ndarray,
        active: np.ndarray,
        stake_weight: np.ndarray,
        views: np.ndarray | None = None,
    ) -> Vote:
        """Round ``t``: every active validator votes, one epoch runs, submissions are flagged.

        ``submitting`` (trainers) and ``active`` (validators) are this round's masks; ``stake_weight``
        the validators' current stake weights (own + delegated). ``views`` (validators × trainers,
        mechanistic mode: ``model.fl.task``) are the evaluators' scores of real submissions, which
        they then vote instead of the drifting strategy scores."""
        net, nt, nv = self._net, self._nt, self._nv
        if views is None:
            quality = net.quality_score + self._drift.row(t)
            noise = self._noise_draws.row(t).reshape(nv, nt)  # drawn every round, so rows never shift
            weights = noise * self._sd
            weights += quality
            np.maximum(weights, 0.0, out=weights)
        else:
            weights = np.maximum(views, 0.0)
        weights *= submitting

        detects = net.detects
        if self._has_cabal:
            cabal = self.cabal & detects & active
            weights[cabal] = self.cabal_trainers & submitting
        stake = stake_weight * active  # an absent validator has no stake this round: its row is ignored
        copiers = np.greater(active, detects)  # active and not evaluating
        if np.count_nonzero(copiers):
            visible = self._visible_consensus(t, weights, stake * detects)
            if visible is None:
                stake[copiers] = 0.0  # nothing revealed yet: the copiers abstain
            else:
                weights[copiers] = visible

        # The epoch also finds the evaluators' consensus alone: what copiers will see d rounds on.
        evaluating = detects if self._record else None
        epoch = yuma.validator_epoch(stake, weights, self.bonds, self.params, check=False, subset=evaluating)
        self.bonds = epoch.bonds
        consensus = epoch.consensus
        if self._record:
            slot = t % self._delay
            self._revealed[slot] = epoch.subset_consensus
            self._revealed_round[slot] = t

        flagged = self._no_flags
        if self._threshold > 0:
            flagged = yuma.kernels().below_median(consensus, submitting, self._threshold)
        voted = self._voted = epoch.voted  # stake this round, and some weight set
        window = self._window
        window[1] += epoch.validator_trust  # 0 for a validator that did not vote
        window[2] += voted
        return Vote(epoch, flagged, nobody_earns=not epoch.incentive.any())

    def _visible_consensus(self, t: int, weights: np.ndarray, evaluating_stake: np.ndarray):
        """What a copier sees in round ``t``: the evaluating validators' consensus of this round
        (``d = 0``) or of round ``t − d`` (recorded by that round's epoch), or None when that round's
        was not recorded (before round ``d``)."""
        d = self._delay
        if d == 0:
            return yuma.validator_consensus(evaluating_stake, weights, self.params.kappa)
        slot = t % d  # round t − d's slot, which this round's epoch then takes over
        return self._revealed[slot] if self._revealed_round[slot] == t - d else None

    def strays(self, epoch: yuma.ValidatorEpoch) -> np.ndarray:
        """Validators (indices among validators) to slash this round for straying from consensus;
        the count restarts for those slashed and for those that kept to consensus. Only a validator
        that set weights this round can stray (a copier with nothing revealed yet sets none)."""
        if self._slash_fraction <= 0:
            return _NOBODY
        # (_voted already leaves out a validator whose own stake was slashed to nothing: its weight
        # is 0 and it sits the epoch out.)
        straying = self._voted & (1.0 - epoch.validator_trust > self._tolerance)
        self.straying = np.where(straying, self.straying + 1, 0)
        due = np.flatnonzero(self.straying >= self._slash_after)
        self.straying[due] = 0
        return due

    def validator_weights(self, vote: Vote) -> np.ndarray | None:
        """How the validators' pool is split this round, among the validators that voted (one away,
        or a copier with nothing revealed yet, earns nothing this round, whatever its bonds): by the
        epoch's dividends, or by stake when no voter earns a dividend (as when no weight reached
        consensus). None when nobody voted: the pool is not minted."""
        voted = vote.epoch.voted
        dividends = vote.epoch.dividends * voted
        total = dividends.sum()
        if total > 0:
            return dividends / total
        stake = vote.epoch.stake_share * voted
        total = stake.sum()
        return stake / total if total > 0 else None

    def book_dividends(self, tokens: np.ndarray) -> None:
        """Count what each validator was paid from the validators' pool this round."""
        self._window[0] += tokens

    def book_roles(self, evaluating: np.ndarray) -> None:
        """Book the window's totals to each validator's role over it (``evaluating``: who evaluated;
        the others copied) and start a new window. Call before validators switch strategy, and
        before reading ``by_role``; booking twice adds nothing."""
        role = (~evaluating).astype(np.int64)
        self.by_role[:, np.arange(self._nv), role] += self._window
        self._window[:] = 0.0

    def book_trainer_payout(self, payout: np.ndarray, pool: float) -> None:
        """Count the trainers' pool paid this round (``payout`` adds up to ``pool``), and the cabal's
        trainers' part of it."""
        self.trainer_tokens += pool
        if self._has_cabal:
            self.cabal_trainer_tokens += float(payout @ self.cabal_trainers)

    def book_validator_slash(self, validators: int, tokens: float) -> None:
        """Count a round's validator slashes."""
        self.slashes += validators
        self.slashed_tokens += tokens


def compile_kernels() -> None:
    """Compile (or load from numba's cache) the compiled parts of a voting round: ``make setup`` calls
    this once, so that the first run under Yuma Consensus does not wait seconds for the compiler."""
    stake, weights = np.ones(2), np.ones((2, 3))
    yuma.validator_epoch(stake, weights, np.zeros((2, 3)), YumaParams(), subset=np.array([True, False]))
    yuma.validator_consensus(stake, weights, 0.5)
    yuma.kernels().below_median(np.ones(3), np.ones(3, dtype=bool), 0.5)
    yuma.kernels().ar1_path(np.ones((2, 3)), 0.5, np.zeros(3))
