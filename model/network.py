"""``FLNetwork``: the Mesa model of a token-incentivised federated-learning network.

Participants are Mesa agents (one per identity, inspectable, typed by strategy), but the round runs
over numpy arrays: trainer identities occupy rows ``0 .. n_trainers−1`` grouped by strategy, then
validators. One round:

1. availability — each identity is away with its dropout probability;
2. trainers submit — what each strategy submits is fixed per class (``agents/``);
3. validators evaluate — the honest share ``h`` of active validation stake sets detection power;
4. detection and slashing — flagged identities lose ``slash_fraction`` of stake, split between
   burn, insurance pool and the flagging validators; stakes are topped up from liquid tokens;
5. emission and rewards — the round's emission is split owner / trainers / validators, trainers
   by the reward rule over accepted submissions, validators by active stake;
6. aggregation — the quality index rises with honest work and falls with undetected poison;
7. bookkeeping — per-strategy ``settle`` hooks, counters for costs, the round's record.

Fiat accounting is derived from the counters at the end (see ``model.kpis``).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from agents import TRAINER_TYPES, VALIDATOR_TYPES
from model.blocks import RoundBlock, RoundBlocks
from model.detection import DETECTION_MODES
from model.emission import make_schedule
from model.ledger import TokenLedger
from model.mesa_ids import hold_models_weakly
from model.randomness import RoundDraws, block_rounds, seed_sequence
from model.recording import RoundRecorder
from model.rewards import RULES, RULES_USING_SCORES
from model.scenario import Scenario

hold_models_weakly()  # Mesa 3.3 would keep every network alive (Mesa issue 3179)

#: Stake below ``min_stake × (1 − STAKE_RTOL)`` makes an identity ineligible to submit.
STAKE_RTOL = 1e-9


class FLNetwork(mesa.Model):
    """A federated-learning network under one scenario's tokenomics.

    Args:
        scenario: the validated scenario.
        seed: an integer or a ``SeedSequence``; defaults to ``scenario.seed``. All randomness of
            the run, Mesa's included, is drawn from it.
        record_trajectory: also record per-strategy cumulative profit each round (slower).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | np.random.SeedSequence | None = None,
        *,
        record_trajectory: bool = False,
    ):
        root = seed_sequence(scenario.seed if seed is None else seed)
        trainer_seq, validator_seq, noise_seq, mesa_seq = root.spawn(4)
        super().__init__(rng=np.random.default_rng(mesa_seq))
        self.scenario = scenario
        self.round = 0
        """Index of the next round to run."""
        s = scenario

        self.n_trainers = s.trainer_identities
        n = self.n_trainers + s.validators
        self.ledger = TokenLedger(n, s.token.genesis_supply_tokens, s.staking.unbonding_period_rounds)
        self._lay_out_population()

        # Per-identity state that changes every round (agents read through to these).
        self.registered = np.ones(n, dtype=bool)
        self.flags = np.zeros(n, dtype=np.int32)
        self.active_rounds = np.zeros(n, dtype=np.int32)
        self.extra_cost_fiat = np.zeros(n)
        self.gain_fiat = np.zeros(n)
        self.submitting = np.zeros(self.n_trainers, dtype=bool)
        self.round_poison_accepted = 0.0
        self.quality = s.quality.initial_quality
        self.issued_tokens = 0.0
        self._consensus_score = np.zeros(self.n_trainers)

        nt = self.n_trainers
        st = s.staking
        self.ledger.allocate_from_treasury(
            slice(0, nt),
            st.min_trainer_stake_tokens,
            st.initial_liquid_tokens,
            st.registration_cost_tokens,
        )
        self.ledger.allocate_from_treasury(
            slice(nt, n),
            st.validator_stake_tokens,
            st.initial_liquid_tokens,
            st.registration_cost_tokens,
        )
        self.wealth_at_genesis_tokens = self.ledger.liquid + self.ledger.stake

        self.detection = DETECTION_MODES[s.detection.mode](
            self.detection_rate, s.dropout.trainer_dropout_probability
        )
        self._blocks = RoundBlocks(
            np.random.default_rng(trainer_seq),
            np.random.default_rng(validator_seq),
            nt,
            self.detection,
            s.dropout.trainer_dropout_probability,
            self.ledger.stake[nt:],
            self.detects,
            s.dropout.validator_dropout_probability,
            s.rounds,
        )
        self._block: RoundBlock | None = None
        self._schedule = make_schedule(s.emission)
        self._reward_rule = RULES[s.rewards.rule]
        self._uses_scores = s.rewards.rule in RULES_USING_SCORES
        self._noise = RoundDraws(
            np.random.default_rng(noise_seq), nt, block_rounds(nt, s.rounds), normal=True
        )
        self._flagged = np.zeros(nt, dtype=bool)
        self.recorder = RoundRecorder(self, s.rounds, record_trajectory)

    # -- setup -----------------------------------------------------------------------------
    def _lay_out_population(self) -> None:
        """Create the agents, type by type, and the per-identity arrays that describe them."""
        s = self.scenario
        nt, nv = self.n_trainers, s.validators
        self.type_slices: dict[type, slice] = {}
        self.strategy_index = np.zeros(nt + nv, dtype=np.int64)
        self.strategies: list[str] = []
        self.owner = np.zeros(nt + nv, dtype=np.int64)
        self.detection_rate = np.zeros(nt)
        self.quality_score = np.zeros(nt)
        self.train_cost_fiat = np.zeros(nt)
        self.detects = np.zeros(nv, dtype=bool)
        self.validate_cost_fiat = np.zeros(nv)
        self._settle_hooks = []
        self._work_slices: list[tuple[slice, float]] = []
        self._poison_slices: list[slice] = []

        start, owner, owners_per_strategy = 0, 0, []
        for cls in TRAINER_TYPES + VALIDATOR_TYPES:
            count = cls.count(s)
            members = slice(start, start + count)
            self.type_slices[cls] = members
            self.strategy_index[members] = len(self.strategies)
            self.strategies.append(cls.strategy)
            per_owner = cls.identities_per_owner(s) if cls in TRAINER_TYPES else 1
            owners = owner + np.arange(count) // per_owner
            self.owner[members] = owners
            owner += count // per_owner
            owners_per_strategy.append(count // per_owner)
            if cls in TRAINER_TYPES:
                sub = cls.submission(s)
                self.detection_rate[members] = sub.detection_rate
                self.quality_score[members] = sub.quality_score
                self.train_cost_fiat[members] = sub.train_cost_fiat
                if count and sub.work_units:
                    self._work_slices.append((members, sub.work_units))
                if count and sub.poisoned:
                    self._poison_slices.append(members)
                hook = cls.settle_hook(s)
                if hook is not None and count:
                    self._settle_hooks.append((hook, members))
            else:
                ev = cls.evaluation(s)
                vslice = slice(members.start - nt, members.stop - nt)
                self.detects[vslice] = ev.detects
                self.validate_cost_fiat[vslice] = ev.validate_cost_fiat
            for account, owner_id in zip(range(start, start + count), owners.tolist(), strict=True):
                cls(self, account, owner_id)  # registers itself with the model
            start += count
        self.owners_per_strategy = np.array(owners_per_strategy)
        """Owners playing each strategy, in ``strategies`` order (a Sybil owner counts once)."""

    # -- the round ---------------------------------------------------------------------------
    def step(self) -> None:
        """Run one round (epoch)."""
        s, ledger, t, nt = self.scenario, self.ledger, self.round, self.n_trainers
        trainers, validators = slice(0, nt), slice(nt, None)
        ledger.begin_round(t)

        # 1. availability; 3. validators' detection power (drawn a block of rounds at a time)
        block = self._block
        if block is None or t - block.first >= block.rounds:
            block = self._block = self._blocks.next_block(t)
        i = t - block.first
        validators_now = block.validators
        honest_share = validators_now.honest_share[i]

        # 2. trainers submit; 4. detection and slashing
        submitting = np.logical_and(block.present[i], self.registered[trainers], out=self.submitting)
        flagged = np.logical_and(block.flagged_if_submitting[i], submitting, out=self._flagged)
        n_submitting = np.count_nonzero(submitting)
        n_flagged = np.count_nonzero(flagged)
        accepted = submitting ^ flagged
        slashed = 0.0
        if n_flagged:
            slashed = self._slash(flagged, validators_now.bounty_weights[i])

        # 5. emission and rewards
        emission = self._schedule(t, self.issued_tokens)
        e = s.emission
        minted = emission * e.owner_share
        ledger.mint_to_treasury(minted)
        score = None
        if self._uses_scores:
            score = self._consensus_scores(honest_share, validators_now.active[i] & self.detects)
        pool = emission * e.trainer_share
        payout = self._reward_rule(pool, accepted, ledger.stake[trainers], score)
        if payout is not None:
            ledger.mint_to_accounts(trainers, payout, pool)
            minted += pool
        reward_weights = validators_now.reward_weights[i]
        if reward_weights is not None:
            pool = emission * e.validator_share
            ledger.mint_to_accounts(validators, reward_weights * pool, pool)
            minted += pool
        self.issued_tokens += minted

        # 6. aggregation: each type's submissions carry the same work and poison
        n_accepted = n_submitting - n_flagged
        if n_accepted:
            honest_work = 0.0
            for members, work in self._work_slices:
                honest_work += work * np.count_nonzero(accepted[members])
            poison = 0
            for members in self._poison_slices:
                poison += np.count_nonzero(accepted[members])
            self.round_poison_accepted = poison
            q = self.quality
            q += s.quality.learning_rate * honest_work / n_accepted * (1.0 - q)
            q -= s.quality.poison_damage * self.round_poison_accepted / n_accepted * q
            self.quality = min(1.0, max(0.0, q))
        else:
            self.round_poison_accepted = 0

        # 7. bookkeeping
        self.active_rounds[trainers] += submitting
        self.active_rounds[validators] += validators_now.active[i]
        for settle, members in self._settle_hooks:
            settle(self, members)
        self.round += 1  # before recording: the record describes the state after round t
        self.recorder.record(t, minted, slashed, honest_share, n_accepted, n_flagged)

    def _slash(self, flagged: np.ndarray, bounty_weights: np.ndarray | None) -> float:
        """Slash the flagged identities and pay the slashed tokens out; return the tokens slashed.

        ``bounty_weights`` splits the validators' share between the detecting validators; with no
        detecting validator that share is burned too.
        """
        s, ledger, nt = self.scenario, self.ledger, self.n_trainers
        sl = s.slashing
        idx = flagged.nonzero()[0]  # flagged identities are registered: only they submit
        total, restored = ledger.slash(idx, sl.slash_fraction)
        burn = total * sl.burn_share
        if bounty_weights is not None:
            bounty = bounty_weights * (total * sl.validator_share)
        else:
            bounty = np.zeros(s.validators)
            burn += total * sl.validator_share
        ledger.distribute_slashed(burn, total * sl.insurance_share, slice(nt, None), bounty)

        self.flags[idx] += 1
        leaving = None
        if not restored:  # identities whose stake could not be restored deregister
            below = ledger.stake[idx] < s.staking.min_trainer_stake_tokens * (1.0 - STAKE_RTOL)
            leaving = idx[below]
        if sl.ejection_strikes:
            ejected = idx[self.flags[idx] >= sl.ejection_strikes]
            leaving = ejected if leaving is None else np.union1d(leaving, ejected)
        if leaving is not None and leaving.size:
            self.registered[leaving] = False
            ledger.unbond(leaving)
        return total

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

    def run(self) -> None:
        """Run every remaining round of the scenario."""
        for _ in range(self.scenario.rounds - self.round):
            self.step()
