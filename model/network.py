"""``FLNetwork``: the Mesa model of a federated-learning network, token-paid or tokenless.

Participants are Mesa agents (one per identity, inspectable, typed by strategy), but the round runs
over numpy arrays: trainer identities occupy rows ``0 .. n_trainers−1`` (the starting population,
then the potential entrants waiting outside), then validators. A Sybil owner's ``k`` identities are
``k`` consecutive rows. One round:

1. availability — each identity is away with its dropout probability;
2. trainers submit — each registered, present identity submits what its strategy submits;
3. validators evaluate — the honest share ``h`` of active validation stake sets detection power;
   under Yuma Consensus (``rewards.rule = "yuma"``) they vote weights instead and one epoch runs
   (``model.voting``): the votes flag, and split the trainers' and validators' pools in step 5; in
   mechanistic mode (``detection.mode = "mechanistic"``, ``model.fl.task``) the trainers submit
   real model updates and the validators' scores of them flag (and are their votes);
4. detection and slashing — flagged identities lose ``slash_fraction`` of stake, split between
   burn, insurance pool and the flagging validators; stakes are topped up from liquid tokens, and
   an identity that cannot top up to the minimum leaves;
5. emission and rewards — the round's emission is split owner / trainers / validators, trainers
   by the reward rule over accepted submissions, validators by active stake;
6. aggregation — the quality index rises with honest work and falls with undetected poison (in
   mechanistic mode the aggregator combines the accepted updates and the quality is the model's
   test accuracy); each poisoner whose poison passed collects its outside gain; then, with a token
   economy (a market price or paying users, ``model.economy``), users pay fees and file insurance
   claims and the round's trades move the price;
7. bookkeeping — work counters, a Sybil owner's shared training cost;
8. decisions — every ``revision_interval_rounds`` rounds, if the scenario adapts: owners book the
   window, leave, revise their strategy, and candidates join (``model.adaptation``; tokenless,
   ejected owners are shown as models at their window's return, though they do not decide);
9. recording.

In the tokenless regime (``regime.kind = "tokenless"``) no token moves: steps 4 and 5 are the
orchestrator's instead (``model.regimes``) — a flag is a strike and enough strikes eject, accepted
work earns fiat service fees out of a budget, validators earn wages — and at the end of each round
ejected owners re-apply. Presence, detection and aggregation are the same, from the same streams.

Profit and capital are booked per strategy by ``model.books``.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from agents import TRAINER_TYPES, VALIDATOR_TYPES
from model.adaptation import REVISION_RULES, entrants, exits
from model.blocks import RoundBlock, RoundBlocks
from model.books import StrategyBooks
from model.detection import DETECTION_MODES
from model.economy import TokenEconomy, has_economy
from model.emission import make_schedule
from model.halvings import HalvingWatch
from model.kpis import by_strategy
from model.ledger import TokenLedger
from model.mesa_ids import hold_models_weakly
from model.randomness import RoundDraws, block_rounds, seed_sequence
from model.recording import RoundRecorder
from model.rewards import RULES, RULES_USING_SCORES, RULES_USING_VOTES
from model.scenario import Scenario, candidate_owners
from model.stakes import delegated_stakes_tokens, trainer_owner_stakes_tokens, validator_stakes_tokens
from model.voting import YumaVotes

hold_models_weakly()  # Mesa 3.3 would keep every network alive (Mesa issue 3179)

#: Stake below ``min_stake × (1 − STAKE_RTOL)`` makes an identity ineligible to submit.
STAKE_RTOL = 1e-9
#: ``join_round`` of an entrant that has not joined (yet).
NEVER = np.iinfo(np.int64).max
#: Owner states: waiting to enter, in the network, out for good, and (tokenless) barred — every
#: identity ejected, one of them waiting to be re-admitted.
WAITING, IN, OUT, BARRED = 0, 1, 2, 3
#: Strategies a one-identity trainer owner may revise to (a Sybil owner keeps its k identities).
SINGLE_IDENTITY_CHOICES = np.array([0, 1, 3])
VALIDATOR_CHOICES = np.array([0, 1])
SYBIL = 2


class FLNetwork(mesa.Model):
    """A federated-learning network under one scenario's tokenomics (or its tokenless orchestrator).

    Args:
        scenario: the validated scenario.
        seed: an integer or a ``SeedSequence``; defaults to ``scenario.seed``. All randomness of
            the run, Mesa's included, is drawn from it.
        record_trajectory: also record per-strategy figures each round (slower).
        audit: keep every account's books (``model.ledger``'s audit mode; the tests run with it).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | np.random.SeedSequence | None = None,
        *,
        record_trajectory: bool = False,
        audit: bool = False,
    ):
        root = seed_sequence(scenario.seed if seed is None else seed)
        # Later streams (KYC, then the stakes and votes of model.stakes and model.voting, then the
        # mechanistic task of model.fl, then the market's speculators) leave the earlier ones, and so
        # every run made before they existed, as they were (a child depends only on its index).
        streams = root.spawn(10)
        trainer_seq, validator_seq, noise_seq, mesa_seq, adapt_seq = streams[:5]
        exposure_seq, kyc_seq, yuma_seq, fl_seq, economy_seq = streams[5:]
        stakes_seq, drift_seq, vote_seq = yuma_seq.spawn(3)
        super().__init__(rng=np.random.default_rng(mesa_seq))
        self.scenario = scenario
        self.round = 0
        """Index of the next round to run."""
        s = scenario
        self.agent_at: list = []
        """The Mesa agent of each row (None for an entrant that has not joined)."""
        self._block_stale = False  # set when owners change under a pre-drawn block of rounds
        self.tokenless = s.regime.tokenless
        """Whether the network runs without a token (``regime.kind = "tokenless"``)."""
        self._lay_out_population(np.random.default_rng(stakes_seq))
        nt, n = self.n_trainers, len(self.strategy_index)
        self.ledger = TokenLedger(
            n, s.token.genesis_supply_tokens, s.staking.unbonding_period_rounds, audit=audit
        )

        # Per-identity state that changes every round (agents read through to these).
        self.registered = self.join_round == 0
        self.flags = np.zeros(n, dtype=np.int32)
        self.active_rounds = np.zeros(n, dtype=np.int32)
        self.work_cost_fiat = np.zeros(n)
        self.charged_rounds = np.zeros(n, dtype=np.int32)
        self.extra_cost_fiat = np.zeros(n)
        self.gain_fiat = np.zeros(n)
        self.submitting = np.zeros(nt, dtype=bool)
        self.round_poison_accepted = 0
        self.poison_passed = np.zeros(nt, dtype=bool)
        """Which trainer rows' poison entered the model this round (valid when round_poison_accepted)."""
        self.poison_entered_share = None
        """Mechanistic mode: per trainer row, the share of its submission that entered the model this
        round (``model.fl.task``); None in abstract mode, where a passed poison entered whole."""
        self.quality = s.quality.initial_quality
        self.issued_tokens = 0.0
        self._consensus_score = np.zeros(nt)
        self.ejected_identities = 0
        """Identities ejected after their strikes (either regime)."""
        self.orchestrator = None
        """The tokenless regime's orchestrator (``model.regimes``); None in the token regime."""
        self.fiat = None
        """The tokenless regime's fiat ledger (``model.fiat``); None in the token regime."""
        if self.tokenless:
            self._admit_at_genesis(np.random.default_rng(kyc_seq))
        else:
            self._allocate_at_genesis()
        self.economy = None
        """The token economy — market price, inference fees, insurance claims (``model.economy``); None
        when the price is fixed and the model has no users, and in the tokenless regime."""
        if has_economy(s):
            self.economy = TokenEconomy(self, np.random.default_rng(economy_seq))
        self.validators_active = np.zeros(n - nt, dtype=bool)
        """Which validators were present in the round just run."""

        self.detection = DETECTION_MODES[s.detection.mode](
            self.detection_rate, s.dropout.trainer_dropout_probability
        )
        self.task = None
        """Mechanistic mode's learning task (``model.fl.task``): real updates, scores and aggregation;
        None in abstract mode."""
        if s.detection.mode == "mechanistic":
            from model.fl.task import FederatedTask  # numpy learning: only mechanistic runs load it

            self.task = FederatedTask(self, fl_seq)
            self.quality = self.task.accuracy
        self._blocks = RoundBlocks(
            np.random.default_rng(trainer_seq),
            np.random.default_rng(validator_seq),
            nt,
            self.detection,
            s.dropout.trainer_dropout_probability,
            self.stake_weight.copy() if not self.tokenless else np.ones(n - nt),  # one weight each
            self.detects,
            self.registered[nt:],
            s.dropout.validator_dropout_probability,
            s.rounds,
        )
        self._block: RoundBlock | None = None
        self._schedule = make_schedule(s.emission)
        self._reward_rule = RULES[s.rewards.rule]
        self._uses_scores = s.rewards.rule in RULES_USING_SCORES
        self.votes = None
        """The validators' votes under Yuma Consensus (``model.voting``); None under the other rules."""
        if not self.tokenless and s.rewards.rule in RULES_USING_VOTES:
            self.votes = YumaVotes(
                self, np.random.default_rng(drift_seq), np.random.default_rng(vote_seq), self.stake_weight
            )
        self._noise = RoundDraws(
            np.random.default_rng(noise_seq), nt, block_rounds(nt, s.rounds), normal=True
        )
        self.flagged = np.zeros(nt, dtype=bool)
        """Which trainer identities were flagged this round (a subset of ``submitting``)."""
        self._settle_hooks = [
            (hook, self.type_rows[cls]) for cls in TRAINER_TYPES if (hook := cls.settle_hook(s)) is not None
        ]
        self._required_is_minimum = bool(
            np.all(self.stake_required[:nt] == s.staking.min_trainer_stake_tokens)
        )
        self._exposure = None
        rho = s.detection.sybil_exposure_correlation
        sybil = self.type_rows[TRAINER_TYPES[2]]
        if rho > 0 and sybil.stop > sybil.start:
            width = sybil.stop - sybil.start
            self._exposure = RoundDraws(
                np.random.default_rng(exposure_seq), width, block_rounds(width, s.rounds)
            )

        # Owners and their decisions.
        self.adaptive = s.adaptation.adaptive
        self._adapt_rng = np.random.default_rng(adapt_seq)
        self._revise = REVISION_RULES[s.adaptation.revision]
        self.owner_state = np.where(self.registered[self.owner_first], IN, WAITING)
        self.live_identities = np.bincount(
            self.owner, weights=self.registered, minlength=len(self.owner_first)
        ).astype(np.int64)
        """Registered identities of each owner; an owner is out (or barred) when its count falls to 0."""
        self._roster_changed = False  # owners barred or back this round (tokenless)
        self._count_active_owners()
        self._switched = False
        self._estimate = np.full(len(self.strategies), np.nan)
        self._decided_at = None  # per-identity cumulative books at the last decision
        self.entered_owners = 0
        self.exited_owners = 0
        self.round_entered = 0
        self.round_exited = 0
        self.books = StrategyBooks(self)
        self._booked_at_decisions: list[StrategyBooks] = []
        """Other books (a trajectory's) that must be booked before owners switch."""
        self.initial_shares = self.owner_shares()
        self.initial_owner_counts = self.active_owners.copy()
        """Owners playing each strategy at the start (a Sybil owner counts once)."""
        self.initial_identities = by_strategy(self, self.registered.astype(float)).astype(np.int64)
        """Identities of each strategy registered at the start (tokenless: those KYC admitted)."""
        self.rounds_to_honest_level = 0.0 if self._honest_level_reached() else math.nan
        self.halvings = None
        """Books of the rounds after each emission halving (``model.halvings``); None unless the
        schedule halves."""
        if s.emission.schedule == "halving" and not self.tokenless:
            self.halvings = HalvingWatch(self)
        self.recorder = RoundRecorder(self, s.rounds, record_trajectory)

    # -- setup -----------------------------------------------------------------------------
    def _lay_out_population(self, stakes_rng: np.random.Generator) -> None:
        """Create the rows (and the agents of the starting population), strategy by strategy; deal
        the stakes (``model.stakes``) from ``stakes_rng``."""
        s = self.scenario
        candidates = candidate_owners(s)
        plan = []  # (class, starting owners, waiting owners, identities per owner)
        for cls in TRAINER_TYPES:
            k = cls.identities_per_owner(s)
            plan.append((cls, cls.count(s) // k, candidates[cls.strategy], k))
        for cls in VALIDATOR_TYPES:
            plan.append((cls, cls.count(s), 0, 1))
        n = sum((start + wait) * k for _, start, wait, k in plan)
        self.n_trainers = sum((start + wait) * k for cls, start, wait, k in plan if cls in TRAINER_TYPES)
        nt = self.n_trainers
        self.strategies: list[str] = [cls.strategy for cls, *_ in plan]
        self.strategy_class = {cls.strategy: cls for cls, *_ in plan}
        self.strategy_index = np.zeros(n, dtype=np.int64)
        self.owner = np.zeros(n, dtype=np.int64)
        self.identities_per_owner = np.ones(n)
        self.join_round = np.zeros(n, dtype=np.int64)
        self.stake_required = np.zeros(n)
        """Stake each identity bonds (and tops up to after a slash), in tokens."""
        self.detection_rate = np.zeros(nt)
        self.quality_score = np.zeros(nt)
        self.work_units = np.zeros(nt)
        self.poisoned = np.zeros(nt, dtype=bool)
        self.work_rate_fiat = np.zeros(n)
        """Fiat each identity pays per round it works (trains or validates)."""
        self.train_cost_fiat = self.work_rate_fiat[:nt]
        self.validate_cost_fiat = self.work_rate_fiat[nt:]
        self.detects = np.zeros(n - nt, dtype=bool)
        self.type_rows: dict[type, slice] = {}
        """Rows laid out for each strategy at setup (revision moves owners between strategies later)."""
        owner_first = []
        start = 0
        for cls, starting, waiting, k in plan:
            rows = slice(start, start + (starting + waiting) * k)
            self.type_rows[cls] = rows
            count = rows.stop - rows.start
            first_owner = len(owner_first)
            self.owner[rows] = first_owner + np.arange(count) // k
            owner_first += list(range(start, rows.stop, k))
            self.identities_per_owner[rows] = k
            self.join_round[start + starting * k : rows.stop] = NEVER
            self.assign_strategy(np.arange(rows.start, rows.stop), cls)
            start = rows.stop
        self.owner_first = np.array(owner_first, dtype=np.int64)
        self.owner_size = self.identities_per_owner[self.owner_first].astype(np.int64)
        self.owner_is_trainer = self.owner_first < nt
        self.delegated_tokens = np.zeros(n - nt)
        """Stake passive holders delegate to each validator (``stakes.delegated_tokens``), in tokens."""
        if not self.tokenless:  # tokenless: no stake, stake_required stays 0
            per_owner = trainer_owner_stakes_tokens(s, self.owner_size[self.owner_is_trainer], stakes_rng)
            self.stake_required[:nt] = per_owner[self.owner[:nt]]  # trainer owners come first
            self.stake_required[nt:] = validator_stakes_tokens(s, stakes_rng)
            self.delegated_tokens = delegated_stakes_tokens(s, self.stake_required[nt:])
        self._weigh_validators(self.stake_required[nt:])
        buffer = 0.0 if self.tokenless else s.staking.initial_liquid_tokens
        self.capital_fiat = (self.stake_required + buffer) * s.token.price_fiat
        """Capital each identity commits while it takes part: stake plus liquid buffer, in fiat (0 when
        tokenless)."""
        self.agent_at = [None] * n
        for cls, rows in self.type_rows.items():  # the starting population: the first rows of each
            starting = rows.start + int(np.count_nonzero(self.join_round[rows] == 0))
            for row, owner in zip(
                range(rows.start, starting), self.owner[rows.start : starting].tolist(), strict=True
            ):
                self.agent_at[row] = cls(self, row, owner)

    def _allocate_at_genesis(self) -> None:
        """Token regime: the starting identities get their stake and buffer from the treasury and burn
        their registration; waiting candidates hold theirs outside."""
        st = self.scenario.staking
        starting = self.registered
        extra = st.initial_liquid_tokens + st.registration_cost_tokens
        self.ledger.allocate_from_treasury(
            starting.nonzero()[0],
            self.stake_required[starting],
            st.initial_liquid_tokens,
            st.registration_cost_tokens,
        )
        waiting = (~starting).nonzero()[0]
        if waiting.size:
            self.ledger.allocate_outside(waiting, self.stake_required[waiting] + extra)
        if self.delegated_tokens.any():
            self.ledger.delegate_from_treasury(float(self.delegated_tokens.sum()))

    def _admit_at_genesis(self, kyc_rng: np.random.Generator) -> None:
        """Tokenless regime: every starting trainer identity applies to KYC before round 0; the
        duplicates it refuses never join (no agent, never registered)."""
        from model.regimes import Orchestrator  # it reads this module's owner states

        self.orchestrator = Orchestrator(self, kyc_rng)
        self.fiat = self.orchestrator.fiat
        refused = self.orchestrator.admit_at_genesis()
        self.registered[refused] = False
        self.join_round[refused] = NEVER
        for row in refused.tolist():
            self.agent_at[row].remove()
            self.agent_at[row] = None

    def assign_strategy(self, rows: np.ndarray, cls: type) -> None:
        """Make ``rows`` play ``cls``'s strategy: the per-identity arrays the round runs over."""
        s, nt = self.scenario, self.n_trainers
        self._block_stale = True  # the pre-drawn rounds assumed the old strategy
        self.strategy_index[rows] = self.strategies.index(cls.strategy)
        if cls in TRAINER_TYPES:
            sub = cls.submission(s)
            self.detection_rate[rows] = sub.detection_rate
            self.quality_score[rows] = sub.quality_score
            self.work_units[rows] = sub.work_units
            self.poisoned[rows] = sub.poisoned
            self.work_rate_fiat[rows] = sub.train_cost_fiat
        else:
            ev = cls.evaluation(s)
            self.detects[rows - nt] = ev.detects
            self.work_rate_fiat[rows] = ev.validate_cost_fiat

    # -- the round ---------------------------------------------------------------------------
    def step(self) -> None:
        """Run one round (epoch)."""
        s, ledger, t, nt = self.scenario, self.ledger, self.round, self.n_trainers
        trainers, validators = slice(0, nt), slice(nt, None)
        ledger.begin_round(t)
        self.round_entered = self.round_exited = 0
        self._switched = self._roster_changed = False

        # 1. availability; 3. validators' detection power (drawn a block of rounds at a time)
        block = self._block
        if block is None or t - block.first >= block.rounds:
            block = self._block = self._blocks.next_block(t)
        elif self._block_stale:  # owners changed since it was drawn: work its rounds out again
            self._blocks.refresh(block, t - block.first)
        self._block_stale = False
        i = t - block.first
        validators_now = block.validators
        honest_share = validators_now.honest_share[i]
        self.validators_active = validators_now.active[i]
        quality_before = self.quality

        # 2. trainers submit; 3. validators evaluate or vote; detection (4: slashing or strikes)
        submitting = np.logical_and(block.present[i], self.registered[trainers], out=self.submitting)
        vote = score = views = None
        if self.task is not None:  # mechanistic: real updates, scored by the evaluating validators
            updates = self.task.submissions(t, submitting)
            evaluating = validators_now.active[i] & self.detects
            views = self.task.scores(updates, submitting, evaluating)
        if self.votes is not None:  # Yuma Consensus: the votes flag
            vote = self.votes.vote(t, submitting, validators_now.active[i], self.stake_weight, views)
            flagged = np.logical_and(vote.flagged, submitting, out=self.flagged)
        elif views is not None:
            score = self._scored_consensus(views, honest_share, evaluating)
            flagged = np.logical_and(self._below_threshold(score, submitting), submitting, out=self.flagged)
        else:
            flagged = np.logical_and(block.flagged_if_submitting[i], submitting, out=self.flagged)
            if self._exposure is not None:
                self._expose_sybils(flagged, submitting)
        n_submitting = np.count_nonzero(submitting)
        n_flagged = np.count_nonzero(flagged)
        accepted = submitting ^ flagged
        if self.orchestrator is not None:  # 4-5 tokenless: strikes and ejection, fiat fees and wages
            self.orchestrator.settle(flagged, n_flagged, accepted, submitting, validators_now.active[i])
            minted = slashed = math.nan  # no token moves
            payout = reward_weights = None
        else:
            slashed = 0.0
            if n_flagged:
                slashed = self._slash(flagged, validators_now.bounty_weights[i])
            if vote is not None:
                strayed = self.votes.strays(vote.epoch)
                if strayed.size:
                    slashed += self._slash_validators(strayed)

            # 5. emission and rewards
            emission = self._schedule(t, self.issued_tokens)
            e = s.emission
            minted = emission * e.owner_share
            ledger.mint_to_treasury(minted)
            if vote is not None:
                score = vote.epoch.incentive
            elif self._uses_scores and score is None:
                score = self._consensus_scores(honest_share, validators_now.active[i] & self.detects)
            pool = emission * e.trainer_share
            validator_pool = emission * e.validator_share
            reward_weights = validators_now.reward_weights[i]
            if vote is not None:  # paid by what the votes did (only validators that voted)
                reward_weights = self.votes.validator_weights(vote)
            payout = None
            if vote is not None and vote.nobody_earns:
                validator_pool += pool  # no weight reached consensus: validators get both pools by stake
            else:
                payout = self._reward_rule(pool, accepted, ledger.stake[trainers], score)
            if payout is not None:
                ledger.mint_to_accounts(trainers, payout, pool)
                minted += pool
                if vote is not None:
                    self.votes.book_trainer_payout(payout, pool)
            if reward_weights is not None:
                minted += self._pay_validators(reward_weights, validator_pool)
            self.issued_tokens += minted

        # 6. aggregation: quality moves with the accepted work and poison
        n_accepted = n_submitting - n_flagged
        self.round_poison_accepted = 0
        if self.task is not None:
            self.poison_entered_share = self.task.aggregate(updates, accepted, submitting)
            self.quality = self.task.accuracy
            passed = np.logical_and(self.poison_entered_share > 0, self.poisoned, out=self.poison_passed)
            self.round_poison_accepted = np.count_nonzero(passed)
        elif n_accepted:
            honest_work = float(self.work_units @ accepted)
            passed = np.logical_and(accepted, self.poisoned, out=self.poison_passed)
            poison = np.count_nonzero(passed)
            self.round_poison_accepted = poison
            q = self.quality
            q += s.quality.learning_rate * honest_work / n_accepted * (1.0 - q)
            q -= s.quality.poison_damage * poison / n_accepted * q
            self.quality = min(1.0, max(0.0, q))

        # 6b. the token economy: users' fees and claims, the market's trades (model.economy)
        if self.economy is not None:
            self.economy.settle(t, quality_before, payout, reward_weights, minted, slashed)

        # 7. bookkeeping
        self.active_rounds[trainers] += submitting
        self.active_rounds[validators] += validators_now.active[i]
        for settle, members in self._settle_hooks:
            settle(self, members, accepted)
        self.round += 1  # before deciding and recording: they describe the state after round t
        if self.orchestrator is not None:
            self.orchestrator.end_round(t)  # 6 tokenless: re-applications and re-admissions
        if self.halvings is not None:
            self.halvings.observe(self, t)

        # 8. decisions
        a = s.adaptation
        if self.adaptive and self.round % a.revision_interval_rounds == 0 and self.round < s.rounds:
            self._decide()
        if self.round_exited or self.round_entered or self._switched or self._roster_changed:
            self._check_honest_level()  # as the round ends: every exit, switch and entry counted
        self.recorder.record(t, minted, slashed, honest_share, n_accepted, n_flagged)

    def _expose_sybils(self, flagged: np.ndarray, submitting: np.ndarray) -> None:
        """One detection of a Sybil identity flags each other submitting identity of the same owner
        with probability ρ (``detection.sybil_exposure_correlation``)."""
        rows = self.type_rows[TRAINER_TYPES[2]]
        k = self.scenario.population.sybil_identities_per_owner
        u = self._exposure.row(self.round).reshape(-1, k)  # drawn every round, so rows never shift
        caught = flagged[rows].reshape(-1, k)
        hit = caught.any(axis=1)
        if hit.any():
            rho = self.scenario.detection.sybil_exposure_correlation
            exposed = submitting[rows].reshape(-1, k) & ~caught & hit[:, None] & (u < rho)
            flagged[rows] |= exposed.ravel()

    def _slash(self, flagged: np.ndarray, bounty_weights: np.ndarray | None) -> float:
        """Slash the flagged identities and pay the slashed tokens out; return the tokens slashed.

        ``bounty_weights`` splits the validators' share between the detecting validators; with no
        detecting validator that share is burned too.
        """
        s, ledger, nt = self.scenario, self.ledger, self.n_trainers
        sl = s.slashing
        idx = flagged.nonzero()[0]  # flagged identities are registered: only they submit
        total, restored = ledger.slash(idx, sl.slash_fraction, self._top_up_to(idx))
        burn = total * sl.burn_share
        if bounty_weights is not None:
            bounty = bounty_weights * (total * sl.validator_share)
        else:
            bounty = np.zeros(len(self.detects))
            burn += total * sl.validator_share
        ledger.distribute_slashed(burn, total * sl.insurance_share, slice(nt, None), bounty)

        self.flags[idx] += 1
        leaving = None
        if not restored:  # identities whose stake could not be restored to the minimum leave
            below = ledger.stake[idx] < s.staking.min_trainer_stake_tokens * (1.0 - STAKE_RTOL)
            leaving = idx[below]
        if sl.ejection_strikes:
            ejected = idx[self.flags[idx] >= sl.ejection_strikes]
            self.ejected_identities += ejected.size
            leaving = ejected if leaving is None else np.union1d(leaving, ejected)
        if leaving is not None and leaving.size:
            self.retire(leaving)
        return total

    def _slash_validators(self, strayed: np.ndarray) -> float:
        """Slash validators (indices among validators) that strayed from consensus too long
        (``yuma.validator_slash_*``): they lose a fraction of their own stake and do not top it up.
        The slashed tokens go to the burn and the insurance pool (the validators' share is burned).
        Returns the tokens slashed."""
        s, ledger, nt = self.scenario, self.ledger, self.n_trainers
        rows = strayed + nt
        fraction = s.yuma.validator_slash_fraction
        total, _ = ledger.slash(rows, fraction, ledger.stake[rows] * (1.0 - fraction))
        insurance = total * s.slashing.insurance_share
        ledger.distribute_slashed(total - insurance, insurance, slice(nt, None), np.zeros(len(self.detects)))
        self.votes.book_validator_slash(len(rows), total)
        self._weigh_validators(ledger.stake[nt:])
        self._blocks.set_validator_stake(np.where(self.registered[nt:], self.stake_weight, 0.0))
        self._block_stale = True  # the block's validator figures weighed the old stakes
        return total

    def _weigh_validators(self, own_stake: np.ndarray) -> None:
        """Set each validator's stake weight from its own stake (at setup; after a validator slash),
        and the share of its pool income that goes to its delegators."""
        self.stake_weight = own_stake + self.delegated_tokens
        """Each validator's stake weight, own stake + delegated, in tokens: what validation and the
        validators' pool are weighed by (changes only when a validator is slashed)."""
        self.delegators_cut = None
        """Per validator, the share of its pool income paid on to delegators: delegated / stake weight
        × (1 − take); None without delegation."""
        if self.delegated_tokens.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                cut = self.delegated_tokens / self.stake_weight
            take = self.scenario.stakes.validator_take
            self.delegators_cut = np.where(self.stake_weight > 0, cut, 0.0) * (1.0 - take)

    def _pay_validators(self, weights: np.ndarray, pool: float) -> float:
        """Mint the validators' pool by ``weights`` (adding up to 1); delegators get their share of
        what their stake earned, (1 − ``stakes.validator_take``). Returns the tokens minted."""
        amounts = weights * pool
        if self.votes is not None:
            self.votes.book_dividends(amounts)
        if self.delegators_cut is None:
            self.ledger.mint_to_accounts(slice(self.n_trainers, None), amounts, pool)
            return pool
        to_delegators = amounts * self.delegators_cut
        passed = float(to_delegators.sum())
        amounts -= to_delegators
        self.ledger.mint_to_accounts(slice(self.n_trainers, None), amounts, pool - passed)
        self.ledger.mint_to_delegators(passed)
        return pool

    def _top_up_to(self, idx: np.ndarray) -> np.ndarray | None:
        """The stake each of ``idx`` must restore; None when that is the stake it holds.

        When every trainer identity is required to hold exactly the minimum, a registered one always
        holds it (a partial top-up leaves it below the minimum, and it leaves), so the slash can
        simply restore what it cut."""
        return None if self._required_is_minimum else self.stake_required[idx]

    def _scored_consensus(self, views: np.ndarray, honest_share: float, evaluating: np.ndarray) -> np.ndarray:
        """Mechanistic mode: consensus score per trainer, the evaluating validators' scores (``views``,
        validators × trainers) averaged by stake and mixed with the copiers' old consensus as in
        ``_consensus_scores``: ``h · fresh + (1 − h) · previous``."""
        consensus = self._consensus_score
        # By stake weight (as honest_share is), read now: a validator slash changes it. Tokenless:
        # nobody stakes, and each validator counts once.
        weight = evaluating.astype(float) if self.tokenless else self.stake_weight * evaluating
        total = weight.sum()
        if total > 0:
            consensus *= 1.0 - honest_share
            consensus += (honest_share / total) * (weight @ views)
        return consensus

    def _below_threshold(self, score: np.ndarray, submitting: np.ndarray) -> np.ndarray:
        """Mechanistic mode: which trainers' consensus score is below ``fl.flag_threshold`` × the median
        of the round's positive consensus scores (nobody when no submission scored above 0). Positive
        only: were it the median of all, a round where most submissions are worthless (score 0) would
        have a median of 0 and flag nobody."""
        scored = score[submitting]
        scored = scored[scored > 0]
        if not scored.size:
            return np.zeros_like(submitting)
        return score < self.scenario.fl.flag_threshold * float(np.median(scored))

    def _consensus_scores(self, honest_share: float, detecting: np.ndarray) -> np.ndarray:
        """Consensus quality score per trainer: honest evaluations mixed with copied old consensus.

        Honest validators see ``quality_score + noise`` (their mean's noise shrinks with their
        number); copiers report the previous round's consensus, so the consensus is
        ``h · fresh + (1 − h) · previous`` with ``h`` the honest share of active stake.
        """
        noise = self._noise.row(self.round)  # drawn every round, so rows never shift
        n_honest = np.count_nonzero(detecting)
        consensus = self._consensus_score
        if n_honest:
            fresh = noise * (self.scenario.detection.score_noise_sd / math.sqrt(n_honest))
            fresh += self.quality_score
            np.maximum(fresh, 0.0, out=fresh)
            consensus *= 1.0 - honest_share
            consensus += honest_share * fresh
        return consensus

    # -- joining and leaving -----------------------------------------------------------------
    def retire(self, rows: np.ndarray) -> None:
        """Identities leave: they stop submitting, their liquid tokens go back to the owner and their
        stake unbonds (returned after the unbonding period, when their capital stops counting)."""
        rows = rows[self.registered[rows]]
        if not rows.size:
            return
        self.registered[rows] = False
        if self.orchestrator is None:
            self.ledger.leave(rows)
        if rows.max() >= self.n_trainers:
            self._block_stale = True  # a validator left: the pre-drawn validator figures counted it
        owners = self.owner[rows]
        np.subtract.at(self.live_identities, owners, 1)
        gone = owners[self.live_identities[owners] == 0]
        if len(gone) > 1 and self.owner_size[gone].max() > 1:
            gone = np.unique(gone)  # a Sybil owner's identities may leave together
        if gone.size:  # their last identity left: the owners are out
            self.owner_state[gone] = OUT
            self.active_owners -= self._count_by_strategy(gone)
            self._shares = None
            self.exited_owners += len(gone)
            self.round_exited += len(gone)

    def admit(self, rows: np.ndarray) -> np.ndarray:
        """A waiting owner's identities join: they bring stake and buffer in and burn the registration
        (tokenless: each applies to KYC, and duplicates are refused). Returns the rows admitted."""
        st = self.scenario.staking
        if self.orchestrator is None:
            self.ledger.enter(
                rows, self.stake_required[rows], st.initial_liquid_tokens, st.registration_cost_tokens
            )
        else:
            rows = self.orchestrator.apply(rows)
        self.registered[rows] = True
        if self.economy is not None:  # its capital is committed at today's price
            self.economy.enter(rows)
        owner = self.owner[rows[0]]
        self.owner_state[owner] = IN
        self.live_identities[owner] = len(rows)
        self.active_owners += self._count_by_strategy(np.array([owner]))
        self._shares = None
        self.join_round[rows] = self.round
        self.charged_rounds[rows] = self.active_rounds[rows]
        self._consensus_score[rows] = 0.0  # validators start scoring it when it starts submitting
        return rows

    def move_owners(self, owners: np.ndarray, state: int) -> None:
        """Put ``owners`` (distinct, none of them waiting) in ``state``, keeping the active-owner counts,
        shares and exits in step (the tokenless regime bars and re-admits owners)."""
        was_in = self.owner_state[owners] == IN
        if state == IN:
            self.active_owners += self._count_by_strategy(owners[~was_in])
        elif was_in.any():
            self.active_owners -= self._count_by_strategy(owners[was_in])
        if state == OUT:
            self.exited_owners += len(owners)
            self.round_exited += len(owners)
        self.owner_state[owners] = state
        self._shares = None
        self._roster_changed = True

    def owner_rows(self, owner: int) -> np.ndarray:
        """The rows of one owner's identities."""
        first = int(self.owner_first[owner])
        return np.arange(first, first + int(self.owner_size[owner]))

    # -- decisions ---------------------------------------------------------------------------
    def _decide(self) -> None:
        """Book the window, then let owners leave, revise and join (``model.adaptation``)."""
        s, a = self.scenario, self.scenario.adaptation
        if self.votes is not None:
            self.votes.book_roles(self.detects)  # before validators switch
        now = self.books.cumulative(self)
        self.books.book(self, now)  # the window so far belongs to the strategies played in it
        self.charge_work()  # at the old rates, before anyone switches
        for books in self._booked_at_decisions:
            books.book(self, now)
        operating = now.copy()
        if self.orchestrator is None:
            operating[0] += self.ledger.burned_by * self.entry_price_fiat()  # the registration is sunk
            per = 1  # returns per capital-round
            omega, threshold = s.costs.outside_option_return_per_round, a.exit_threshold_return_per_round
        else:
            operating[0] += self.fiat.kyc_paid_fiat  # KYC is sunk once paid
            per = 2  # tokenless: no capital, so fiat profit per owner-round; the outside option is 0
            omega = threshold = 0.0
        window = operating if self._decided_at is None else operating - self._decided_at
        self._decided_at = operating
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = by_strategy(self, window[0]) / by_strategy(self, window[per])
        self._estimate = np.where(np.isfinite(estimate), estimate, self._estimate)
        profit = np.bincount(self.owner, weights=window[0], minlength=len(self.owner_first))
        scale = np.bincount(self.owner, weights=window[per], minlength=len(self.owner_first))
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = np.where(scale > 0, profit / scale, np.nan)
        returns[~self._measured_owners()] = np.nan

        rng = self._adapt_rng
        active = self.owner_state == IN
        if a.exit_rule == "profit_threshold":
            leaving = exits(returns, active, omega, threshold)
            for owner in np.flatnonzero(leaving).tolist():
                if self.orchestrator is not None:
                    self.orchestrator.exit_by_choice(owner)
                for row in self.owner_rows(owner).tolist():
                    if self.agent_at[row] is not None:  # tokenless: KYC may have refused a Sybil identity
                        self.agent_at[row].leave()
            if leaving.any():
                active = self.owner_state == IN
                returns[~self._measured_owners()] = np.nan  # those who chose to leave show no return

        strategy = self.strategy_index[self.owner_first]
        revising = active & (rng.random(len(strategy)) < a.revision_probability)
        trainers = self.owner_is_trainer
        new = strategy.copy()
        single = trainers & (self.owner_size == 1) & (strategy != SYBIL)  # a Sybil owner of k = 1 too
        new[trainers] = self._revise(
            rng,
            strategy[trainers],
            returns[trainers],
            revising[trainers] & single[trainers],
            SINGLE_IDENTITY_CHOICES,
            self._estimate[:4],
            a.logit_temperature,
        )
        v = ~trainers
        new[v] = 4 + self._revise(
            rng,
            strategy[v] - 4,
            returns[v],
            revising[v],
            VALIDATOR_CHOICES,
            self._estimate[4:],
            a.logit_temperature,
        )
        switched = np.flatnonzero(new != strategy)
        for index in np.unique(new[switched]).tolist():
            cls = self.strategy_class[self.strategies[index]]
            rows = self.owner_first[switched[new[switched] == index]]  # switchers have one identity each
            self.assign_strategy(rows, cls)  # the arrays once per strategy; then the Mesa agents
            for row in rows.tolist():
                self.agent_at[row].switch_to(cls, assigned=True)
        self._count_active_owners()
        self._switched = bool(switched.size)

        waiting = self.owner_state == WAITING
        if waiting.any():
            joining = entrants(
                rng, strategy, waiting, self._estimate, omega + self._entry_hurdle(), a.entry_rate
            )
            for owner in np.flatnonzero(joining).tolist():
                cls = self.strategy_class[self.strategies[strategy[owner]]]
                cls.join(self, self.owner_rows(owner), owner)
            self.round_entered = int(np.count_nonzero(joining))
            self.entered_owners += self.round_entered
        # (Entrants' rows were worked out from the start: their strategy was known; those who left
        # or switched marked the block stale, and the next round works its rows out again.)

    @property
    def price_fiat(self) -> float:
        """The token's price now, in fiat per token: the market's, or ``token.price_fiat``."""
        return self.scenario.token.price_fiat if self.economy is None else self.economy.price_fiat

    def entry_price_fiat(self) -> np.ndarray | float:
        """The price at which each identity committed its capital (one number without an economy)."""
        return self.scenario.token.price_fiat if self.economy is None else self.economy.entry_price_fiat

    def _measured_owners(self) -> np.ndarray:
        """Per owner: whether its window return is shown to the revision rule, so that imitators may
        meet it as a model. (Only owners in the network, ``IN``, revise or exit themselves.)

        Token regime: the owners in the network. Tokenless: also the owners ejected after strikes —
        barred, or out for good when they may not come back — for they still play their strategy and
        the tokenless payoff counts their rounds at zero income (``model.books``); hiding them would
        show imitators only the survivors. Never a waiting candidate, nor an owner that chose to exit
        (its rounds stop counting, as in the token regime)."""
        state = self.owner_state
        if self.orchestrator is None:
            return state == IN
        return (state != WAITING) & (self.orchestrator.exit_round == NEVER)

    def _entry_hurdle(self) -> np.ndarray:
        """Per owner: the return a candidate needs on top of ω to pay back its registration (not sunk
        before it joins) over the rounds left — registration / (capital × rounds left), per round.

        Tokenless: the fiat profit per round it needs to pay back its own KYC share of its identities'
        applications over the rounds left."""
        s = self.scenario
        first = self.owner_first
        if self.orchestrator is not None:
            r = s.regime
            return self.owner_size * (r.kyc_cost_fiat * r.applicant_kyc_share) / max(s.rounds - self.round, 1)
        registration = s.staking.registration_cost_tokens * s.token.price_fiat
        left = max(s.rounds - self.round, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            hurdle = registration / (self.capital_fiat[first] * left)
        return np.where(self.capital_fiat[first] > 0, hurdle, 0.0 if registration == 0 else np.inf)

    def _count_by_strategy(self, owners: np.ndarray) -> np.ndarray:
        """How many of ``owners`` play each strategy."""
        return np.bincount(self.strategy_index[self.owner_first[owners]], minlength=len(self.strategies))

    def _count_active_owners(self) -> None:
        self.active_owners = self._count_by_strategy(np.flatnonzero(self.owner_state == IN))
        """Owners in the network playing each strategy (kept up to date as owners leave, join, switch)."""
        self._shares = None

    def _check_honest_level(self) -> None:
        """Record the round the honest trainer share first reached the level."""
        if math.isnan(self.rounds_to_honest_level) and self._honest_level_reached():
            self.rounds_to_honest_level = float(self.round)

    def owner_shares(self) -> np.ndarray:
        """Each strategy's share of the active owners of its role (trainers; validators), NaN if none."""
        if self._shares is None:
            self._shares = self._count_shares()
        return self._shares

    def _count_shares(self) -> np.ndarray:
        counts = self.active_owners.astype(float)
        out = np.full(len(self.strategies), np.nan)
        for role in (slice(0, 4), slice(4, None)):
            total = counts[role].sum()
            if total:
                out[role] = counts[role] / total
        return out

    def _honest_level_reached(self) -> bool:
        """Whether the honest share of trainer owners is at the level — the share as a division, the
        same number the KPIs and the analysis compare (``h >= level × n`` can differ in the last bit)."""
        share = self.owner_shares()[0]
        return bool(share >= self.scenario.adaptation.honest_share_level)  # False for NaN: no trainer

    def charge_work(self) -> None:
        """Book the work cost of every round worked since the last call (strategies change only
        between calls, so each identity's rate held over the stretch)."""
        worked = self.active_rounds - self.charged_rounds
        self.work_cost_fiat += self.work_rate_fiat * worked
        self.charged_rounds[:] = self.active_rounds

    def close_books(self) -> None:
        """Book everything up to now (idempotent): call before reading ``books.totals``."""
        self.books.book(self)

    def run(self) -> None:
        """Run every remaining round of the scenario."""
        for _ in range(self.scenario.rounds - self.round):
            self.step()
