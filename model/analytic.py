"""Closed-form expected payoffs of the abstract mode: the slashing bounds of the token network and the
fee bounds of the tokenless one (README: "Closed form").

The token network
=================

Assumptions under which the expectations are exact (``assumptions_violated`` lists any broken):

* fixed population and price (``token.price_model = "fixed"``, no inference fees): owners do not
  adapt (``adaptation`` off), no ejection
  (``slashing.ejection_strikes = 0``);
* validators never drop out, so the honest share of validation stake ``h`` is the same every round;
* slashed stake is always restored from liquid tokens (the liquid buffer never runs dry), so every
  slash of an identity bonding ``s_k`` takes ``S = slash_fraction × s_k`` (checked with a margin);
* the ``equal`` reward rule, or ``stake_weighted`` with every identity bonding the same stake;
* ``constant`` or ``exponential_decay`` emission (payoffs are averaged over the run's rounds);
* Sybil copies detected independently (ρ = 0); with ρ > 0 the flag probability below is exact but
  the Sybil reward is not.

Notation (per identity and round): ``d`` dropout probability, ``p = rate × h`` the chance a present
identity's submission is flagged (``ε`` for honest work; a Sybil copy with exposure correlation ρ
is flagged with ``p' = p + (1 − p)·ρ·(1 − (1 − (1 − d)·p)^(k−1))``), ``R`` the expected reward of an
accepted submission, ``S`` the slashed stake, ``c`` the training cost, ``g`` a poisoner's outside
gain per round its poison passes. A present identity earns ``(1 − p)·R − p·S − c`` (+ ``(1 − p)·g``
for a poisoner); the expected reward of an accepted submission is exact:
``R = pool · E[1 / (1 + X)]`` with ``X`` the number of *other* accepted submissions, a sum of
binomials (one per strategy).

Per unit of capital ``K`` (stake + liquid buffer of the owner's identities, at the price) and round,
with the registration amortised over the run, ``π(f) = a − b·f`` is linear in the slash fraction
``f``. The bounds are where these lines cross:

* deterrence: honest beats the deviation iff ``π_honest(f) ≥ π_dev(f)``; for one-identity owners
  with equal capital this is ``(1 − d)(p − ε)(R + S) ≥ (1 − d)(c − c_dev + (1 − p)g)`` with the rewards
  lost to flags counted, the textbook ``p·(R + S) ≥ c + g`` when ``ε = d = c_dev = 0`` and g is
  earned whatever happens;
* participation: honest work beats the outside option iff ``π_honest(f) ≥ ω``, i.e.
  ``(1 − d)((1 − ε)R − εS − c) − registration/T ≥ ω·K``; the textbook ``R − c − ε·S ≥ 0`` neglects
  the lost reward ``εR``, dropout and the registration.

The tokenless regime: deterrence by future rents
================================================

With no token there is no stake to slash: a cheater risks only the service fees it would have
earned in the rounds it spends ejected or barred. ``assumptions_violated`` dispatches on
``regime.kind``; the tokenless expectations below are exact with fixed owners (no adaptation), a
budget that never binds (so every fee is paid in full), no validator dropout and ρ = 0.

**One identity's chain.** Follow one trainer identity admitted at genesis, and after an ejection
the new identity of the same owner, over rounds ``t = 0 .. T − 1``. Its states at the start of a
round are: *registered with j strikes* (``j = 0 .. s − 1``, ``s = ejection_strikes``), *waiting m
rounds to be re-admitted* (``m = 1 .. L``, ``L = ban_rounds``) and *out for good*. In a round a
registered identity is present with ``1 − d`` and, present, flagged with ``p = rate × h`` (the
token form's flag probability); a flag is a strike, so each round it takes one with
``a = (1 − d)·p`` whatever happened before. A strike that brings it to ``s`` ejects it; at the
end of that round ``t``, and only if a round is left (``t < T − 1``), its owner

* ``new_identity``: applies at once (one KYC); admitted with ``1 − q``: registered with 0
  strikes from ``t + 1``; refused with ``q``: it waits out the ban as below;
* ``after_ban``: is re-admitted at the end of round ``t + L`` (one KYC, never refused),
  registered from ``t + L + 1``, provided ``t + L < T − 1``; never with ``ban_forever``;
* ``never``: is out for good.

Iterating the state distribution over the ``T`` rounds gives ``r_t = P(registered in round t)``
and ``n_app``, the expected applications (the genesis one included). Registered in round t, the
identity's draws of that round are fresh, so over the horizon

* submitting rounds ``n_sub = (1 − d)·Σ r_t`` (the training cost ``c`` each);
* accepted submissions ``n_acc = (1 − d)(1 − p)·Σ r_t`` (a poisoner's gain ``g`` each);
* fee units: ``n_acc`` (``accepted_submission``) or ``n_sub`` (``participation_round``).

**Per owner.** A one-identity owner is one chain. A Sybil owner applies ``k`` identities at
genesis; each of the 2nd..k-th is refused with ``q`` (its KYC paid all the same) and each admitted
one runs its own chain, so it runs ``1 + (k − 1)(1 − q)`` chains in expectation and applies
``k + (1 + (k − 1)(1 − q))(n_app − 1)`` times. With honest updates it trains once in each round any of
its identities submits: ``c·(1 − (1 − (1 − d)r_t)·(1 − (1 − q)(1 − d)r_t)^(k − 1))`` in round t,
exact because its copies are flagged independently (ρ = 0). With ρ > 0 a copy's flag probability
is the token form's ``p'``, which takes every sibling as registered: approximate.

**Why per owner per round of the horizon.** An owner counts all ``T`` rounds from its admission at
genesis; the rounds it spends ejected or barred count at zero income. So ejection costs exactly
the fees it forgoes in the future, as a slash costs the stake; a payoff per *registered* round would
hide the punishment. With ``u`` the expected fee units and ``v`` the expected work cost plus the
applicant's share of the KYC minus the outside gain, both per owner per round of the horizon,

    ``profit(F) = F·u − v``

is linear in the service fee ``F`` while the budget does not bind (``B ≥ F ×`` trainer identities
is sufficient). Validators are employees (no KYC, never ejected): an honest one earns
``W(1 − d_v) − c_v(1 − d_v)``, a copying one ``W(1 − d_v)`` (``u = 0``, ``v = −profit``). The
bounds are where the lines cross:

* deterrence: honest beats a deviation iff ``F·(u_h − u_dev) ≥ v_h − v_dev``, so
  ``F* = (v_h − v_dev)/(u_h − u_dev)`` when ``u_h > u_dev``: ejection deters through ``u``, as the
  deviation, flagged more often, spends more of the horizon out (paid per participation round,
  that is all that deters it). When the deviation earns more fee units than honest work — a Sybil
  owner paid for several identities that are seldom ejected — no fee deters it (``inf``);
* participation: honest work pays iff ``F ≥ F* = v_h/u_h``.

**The stationary limit (intuition).** For ``T → ∞`` the chain is a renewal process. A registered
spell lasts ``N`` rounds, ``N`` the rounds to the s-th strike, negative binomial with mean
``s/a = s/((1 − d)p)``; a cycle is a spell plus the wait to re-admission (``q·L`` with
``new_identity``, ``L`` after the ban) and costs ``κ`` (the applicant's KYC share) per
application (``1 + q`` a cycle with ``new_identity``, 1 after the ban). By the renewal-reward
theorem the long-run profit per round is

    ``[(s/a)·(1 − d)·((1 − p)(F + g) − c) − κ·(applications per cycle)] / (s/a + E[wait])``

(``g`` for poisoners only; ``F`` instead of ``(1 − p)F`` when paid per participation round;
``p > 0``): a higher flag rate shortens the spells, so it costs the cheater the
fees of the waits and a KYC per spell. Barred for good (or ``never``), an owner's one spell of
``s/a`` rounds fills a vanishing share of a long horizon, and the comparison is between what each
strategy earns over its expected spell.

**The textbook reading.** One strike (``s = 1``) and ejected for good: ``r_t = (1 − a)^t`` and the
expected fraction of the horizon registered is ``A = (1/T)·Σ_{t<T} (1 − a)^t = (1 − (1 − a)^T)/(T·a)``.
Honest work (cost ``c``, flagged with ``ε``) beats a lazy deviation (no cost, flagged with
``p``), both paying one KYC, iff ``(1 − d)·A_h·(F(1 − ε) − c) ≥ (1 − d)·A_l·F(1 − p)``, i.e.

    ``F·[(1 − ε)·A_h − (1 − p)·A_l] ≥ c·A_h``

— the fee must pay for the work in every registered round, and deterrence comes from the
deviation's shorter registration (``A_l < A_h``), the tokenless counterpart of the slashed stake.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from model.scenario import Scenario, identity_stake_tokens

TRAINER_STRATEGIES = ("honest", "lazy", "sybil", "poisoning")


@dataclass(frozen=True)
class TrainerKind:
    """One trainer strategy as the closed form sees it."""

    name: str
    identities: int
    identities_per_owner: int
    flag_probability: float
    """p: chance a present identity is flagged (rate × h; with Sybil exposure, p')."""
    train_cost_fiat: float
    """Training cost per submitting identity per round (a Sybil owner's shared cost is separate)."""
    stake_tokens: float
    """Stake one identity bonds (and restores after each slash)."""


def assumptions_violated(s: Scenario) -> list[str]:
    """Which assumptions of its regime's closed form ``s`` breaks (empty: the closed form is exact)."""
    if s.regime.tokenless:
        return tokenless_assumptions_violated(s)
    return token_assumptions_violated(s)


def token_assumptions_violated(s: Scenario) -> list[str]:
    """Which assumptions of the token network's closed form ``s`` breaks (empty: it is exact)."""
    out = []
    if s.adaptation.adaptive:
        out.append("owners adapt (revision, exit or entry is on)")
    if s.slashing.ejection_strikes:
        out.append("ejection is on (slashing.ejection_strikes > 0)")
    if s.dropout.validator_dropout_probability > 0:
        out.append("validators drop out (h varies by round)")
    if s.rewards.rule not in ("equal", "stake_weighted"):
        out.append(f"reward rule {s.rewards.rule!r} depends on scores")
    if (
        s.rewards.rule == "stake_weighted"
        and len({k.stake_tokens for k in trainer_kinds(s) if k.identities}) > 1
    ):
        out.append("stake-weighted rewards with unequal identity stakes (a Sybil owner splits its stake)")
    out += _unequal_stakes(s)
    if s.emission.schedule == "halving":
        out.append("halving emission depends on issuance")
    if s.detection.sybil_exposure_correlation > 0 and s.population.sybil_owners:
        out.append("Sybil copies are exposed together (rho > 0): the Sybil reward is approximate")
    out += _mechanistic(s)
    out += _economy(s)
    out += _buffers_that_may_run_dry(s)
    return out


def _economy(s: Scenario) -> list[str]:
    """A market price or users' fees (``model.economy``): rewards are worth what the market pays, and
    fees add income the closed form does not count."""
    out = []
    if s.token.price_model == "market":
        out.append("the price is set by a market (token.price_model = 'market'), not fixed")
    if s.fees.queries_per_round > 0 and s.fees.fee_per_query_fiat > 0:
        out.append("users pay inference fees (fees.*), income the closed form does not count")
    return out


def _mechanistic(s: Scenario) -> list[str]:
    """Mechanistic mode: flags and quality are measured on a real task, not the fixed rates the
    closed form is built from (``fedstake calibrate`` estimates those rates)."""
    if s.detection.mode != "mechanistic":
        return []
    return ["detection is mechanistic (measured flags, not detection.*_rate)"]


def _unequal_stakes(s: Scenario) -> list[str]:
    """What the stake distributions and delegation (``[stakes]``) break.

    The closed form gives every identity of a strategy the stake ``identity_stake_tokens`` and every
    validator ``staking.validator_stake_tokens``: it takes ``h`` as the honest validators' share by
    count (their share of validation stake only when stakes are equal) and splits the validator
    pool equally, each validator earning on its own stake alone.
    """
    stakes = s.stakes
    out = []
    if stakes.trainer_distribution != "fixed":
        if s.rewards.rule == "stake_weighted":
            out.append(
                f"stake-weighted rewards with unequal trainer stakes "
                f"(stakes.trainer_distribution = {stakes.trainer_distribution!r})"
            )
        else:
            out.append(
                f"trainer stakes differ between owners (stakes.trainer_distribution = "
                f"{stakes.trainer_distribution!r}): slashes and capital are taken at one stake per identity"
            )
    listed = stakes.validator_stakes_tokens
    equal_listed = bool(listed) and all(v == s.staking.validator_stake_tokens for v in listed)
    if stakes.validator_distribution != "fixed" and not (
        stakes.validator_distribution == "listed" and equal_listed
    ):
        out.append(
            f"validator stakes differ (stakes.validator_distribution = {stakes.validator_distribution!r}): h "
            "is the honest validators' share of stake, not of their number, and the validator pool is split "
            "by stake"
        )
    if stakes.delegated_tokens > 0:
        out.append(
            f"validators hold delegated stake (stakes.delegated_tokens = {stakes.delegated_tokens:g}): they "
            "earn a take on it, which the closed form's validator payoffs leave out"
        )
    return out


#: Standard deviations of bad luck a liquid buffer must absorb for the closed form to count as exact.
BUFFER_SAFETY_SD = 4.0


def _buffers_that_may_run_dry(s: Scenario) -> list[str]:
    """Strategies whose liquid buffer may not cover every slash over the run.

    The closed form assumes every slash is restored from liquid tokens. A buffer is taken as safe
    when it covers one slash plus the run's expected net token loss plus BUFFER_SAFETY_SD standard
    deviations of the slashes' count.
    """
    d = s.dropout.trainer_dropout_probability
    R = expected_reward_tokens(s)
    out = []
    for kind in trainer_kinds(s):
        S = s.slashing.slash_fraction * kind.stake_tokens
        p = kind.flag_probability
        if kind.identities == 0 or p == 0 or S == 0:
            continue
        flow = (1.0 - d) * ((1.0 - p) * R[kind.name] - p * S)  # tokens per round, in expectation
        n = s.rounds * (1.0 - d)
        spread = BUFFER_SAFETY_SD * S * math.sqrt(n * p * (1.0 - p))
        need = S + max(0.0, -flow) * s.rounds + spread
        if s.staking.initial_liquid_tokens < need:
            out.append(
                f"{kind.name} identities' liquid buffer ({s.staking.initial_liquid_tokens:g} tokens) may run "
                f"dry before every slash is restored (about {need:,.0f} needed)"
            )
    return out


def honest_share(s: Scenario) -> float:
    """h: honest validators' share of validation stake with every validator present."""
    total = s.validators
    return s.population.honest_validators / total if total else 0.0


def exposed_flag_probability(p: float, rho: float, k: int, d: float) -> float:
    """p': a Sybil copy's flag probability when one detection exposes each other copy with chance ρ.

    A present copy is flagged by its own detection (p) or, if not, exposed (ρ) when at least one of
    its k − 1 siblings was present and flagged by its own detection (1 − (1 − (1 − d)·p)^(k−1)).
    """
    return p + (1.0 - p) * rho * (1.0 - (1.0 - (1.0 - d) * p) ** (k - 1))


def trainer_kinds(s: Scenario) -> list[TrainerKind]:
    """The trainer strategies of ``s`` with their flag probabilities, costs and stakes."""
    p, d, b = s.population, s.detection, s.behaviour
    h = honest_share(s)
    k = p.sybil_identities_per_owner
    if b.sybil_update == "honest":
        sybil_rate = d.sybil_detection_rate
    else:
        sybil_rate = 1.0 - (1.0 - d.lazy_detection_rate) * (1.0 - d.sybil_detection_rate)
    sybil_p = exposed_flag_probability(
        sybil_rate * h, d.sybil_exposure_correlation, k, s.dropout.trainer_dropout_probability
    )
    c = s.costs.train_cost_fiat_per_round
    one, split = identity_stake_tokens(s, 1), identity_stake_tokens(s, k)
    return [
        TrainerKind("honest", p.honest_trainers, 1, d.false_positive_rate * h, c, one),
        TrainerKind("lazy", p.lazy_trainers, 1, d.lazy_detection_rate * h, 0.0, one),
        TrainerKind("sybil", p.sybil_owners * k, k, sybil_p, 0.0, split),
        TrainerKind("poisoning", p.poisoning_trainers, 1, d.poison_detection_rate * h, c, one),
    ]


def mean_emission_tokens(s: Scenario) -> float:
    """Emission per round averaged over the run's rounds (constant or exponential decay)."""
    e = s.emission
    if e.schedule == "exponential_decay" and e.decay_rate_per_round > 0:
        keep = 1.0 - e.decay_rate_per_round
        return e.initial_tokens_per_round * (1.0 - keep**s.rounds) / (s.rounds * (1.0 - keep))
    return e.initial_tokens_per_round


def _accepted_count_pmf(kinds: list[TrainerKind], dropout: float, leave_out: str | None) -> np.ndarray:
    """Distribution of the number of accepted submissions, one identity of ``leave_out`` excluded."""
    pmf = np.ones(1)
    for kind in kinds:
        n = kind.identities - (1 if kind.name == leave_out else 0)
        if n <= 0:
            continue
        accept = (1.0 - dropout) * (1.0 - kind.flag_probability)
        pmf = np.convolve(pmf, stats.binom.pmf(np.arange(n + 1), n, accept))
    return pmf


def expected_reward_tokens(s: Scenario) -> dict[str, float]:
    """R per strategy: expected tokens an accepted submission of that strategy earns."""
    kinds = trainer_kinds(s)
    pool = mean_emission_tokens(s) * s.emission.trainer_share
    d = s.dropout.trainer_dropout_probability
    out = {}
    for kind in kinds:
        pmf = _accepted_count_pmf(kinds, d, kind.name)
        out[kind.name] = pool * float(pmf @ (1.0 / (1.0 + np.arange(len(pmf)))))
    return out


def _registration_per_round_fiat(s: Scenario) -> float:
    """The registration (a sunk cost) amortised over the run, per identity, in fiat."""
    return s.staking.registration_cost_tokens * s.token.price_fiat / s.rounds


def expected_payoffs(s: Scenario, slash_fraction: float | None = None) -> pd.DataFrame:
    """Expected fiat profit per round per owner and per unit of capital, by strategy.

    Columns: ``profit_fiat_per_round_per_owner``, ``capital_fiat_per_owner`` (stake + buffer of
    the owner's identities), ``pi`` (NaN for an owner that commits no capital). Strategies with no
    owners are left out. ``slash_fraction`` replaces the scenario's (the payoffs are linear in it).
    """
    price = s.token.price_fiat
    d = s.dropout.trainer_dropout_probability
    f = s.slashing.slash_fraction if slash_fraction is None else slash_fraction
    buffer = s.staking.initial_liquid_tokens
    R = expected_reward_tokens(s)
    rows = {}
    slashed_per_round = 0.0
    for kind in trainer_kinds(s):
        S = f * kind.stake_tokens
        slashed_per_round += kind.identities * (1.0 - d) * kind.flag_probability * S
        if kind.identities == 0:
            continue
        p = kind.flag_probability
        per_identity = (1.0 - d) * (((1.0 - p) * R[kind.name] - p * S) * price - kind.train_cost_fiat)
        if kind.name == "poisoning":
            per_identity += (1.0 - d) * (1.0 - p) * s.costs.poison_gain_fiat_per_round
        per_identity -= _registration_per_round_fiat(s)
        per_owner = per_identity * kind.identities_per_owner
        if kind.name == "sybil" and s.behaviour.sybil_update == "honest":
            per_owner -= s.costs.train_cost_fiat_per_round * (1.0 - d**kind.identities_per_owner)
        capital = kind.identities_per_owner * (kind.stake_tokens + buffer)
        rows[kind.name] = (per_owner, capital * price)

    v_stake = s.staking.validator_stake_tokens
    v_pool = mean_emission_tokens(s) * s.emission.validator_share / max(s.validators, 1)
    v_base = v_pool * price - _registration_per_round_fiat(s)
    v_capital = (v_stake + buffer) * price
    if s.population.honest_validators:
        bounty = slashed_per_round * s.slashing.validator_share / s.population.honest_validators
        honest = v_base + bounty * price - s.costs.validate_cost_fiat_per_round
        rows["honest_validator"] = (honest, v_capital)
    if s.population.copying_validators:
        rows["copying_validator"] = (v_base, v_capital)

    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["profit_fiat_per_round_per_owner", "capital_fiat_per_owner"]
    )
    table.index.name = "strategy"
    # No capital committed (zero stake and zero buffer): profit per unit of capital is
    # undefined, NaN as in the simulated KPIs, not ±inf.
    capital = table["capital_fiat_per_owner"].where(table["capital_fiat_per_owner"] > 0)
    table["pi"] = table["profit_fiat_per_round_per_owner"] / capital
    return table


def _pi_lines(s: Scenario) -> tuple[pd.Series, pd.Series]:
    """``(a, b)`` per strategy with ``π(f) = a − b·f``: the payoff at f = 0 and its loss per unit of f."""
    at_zero = expected_payoffs(s, 0.0)["pi"]
    at_one = expected_payoffs(s, 1.0)["pi"]
    return at_zero, at_zero - at_one


def _bound_without_stake(margin_at_zero_slash: float, holds: float) -> float:
    """The bound when the slash fraction changes nothing (no stake at risk, or equal losses).

    The comparison is then decided by the margin at ``f = 0`` for every slash fraction at once:
    ``holds`` (−inf for a lower bound, +inf for an upper bound: every fraction satisfies it) when
    the margin is ≥ 0, the opposite infinity when it is < 0 (no fraction satisfies it).
    """
    return holds if margin_at_zero_slash >= 0 else -holds


#: Relative size below which a slope counts as zero (the lines are parallel).
_FLAT = 1e-12


def deterrence_bound_slash_fraction(s: Scenario, deviation: str) -> float:
    """Smallest slash fraction at which honest work beats ``deviation`` per unit of capital.

    The crossing of ``π_honest(f)`` and ``π_dev(f)``. May be < 0 (the deviation never pays) or > 1
    (no allowed slash deters it); ``inf`` when slashing hurts the deviation no more than honest work
    (it is flagged no more often, or no stake is at risk and it pays better); ``-inf`` when no stake
    is at risk and honest work already pays better.
    """
    a, b = _pi_lines(s)
    if deviation not in a or "honest" not in a:
        missing = deviation if deviation not in a else "honest"
        raise ValueError(
            f"no {missing!r} owners in this scenario: there is no bound to give for {deviation!r}"
        )
    gap = a["honest"] - a[deviation]  # honest's lead at f = 0
    slope = b[deviation] - b["honest"]  # how much faster the deviation loses per unit of f
    scale = max(abs(b[deviation]), abs(b["honest"]), 0.0)
    if scale == 0 or abs(slope) <= _FLAT * scale:
        return _bound_without_stake(gap, holds=-math.inf)
    if slope < 0:
        return math.inf
    return -gap / slope


def participation_bound_slash_fraction(s: Scenario) -> float:
    """Largest slash fraction at which honest work still beats the outside option ω per unit of capital.

    ``inf`` with no false positives or no stake at risk while honest work beats ω (slashing never
    touches it), ``-inf`` in that case when it does not; negative when honest work does not pay
    even without slashing.
    """
    a, b = _pi_lines(s)
    head = a["honest"] - s.costs.outside_option_return_per_round
    if b["honest"] <= 0:
        return _bound_without_stake(head, holds=math.inf)
    return head / b["honest"]


# The tokenless regime ---------------------------------------------------------------------------

REAPPLY_MODES = ("new_identity", "after_ban", "never")


@dataclass(frozen=True)
class IdentityHorizon:
    """One trainer identity's chain over the horizon, in expectation (one column per flag probability).

    The chain starts registered with no strike in round 0 and follows the identity and, after an
    ejection, its owner's later identities.
    """

    registered: np.ndarray
    """``r_t``, shape (rounds, chains): probability the chain is registered in round t."""
    applications: np.ndarray
    """Expected KYC applications per chain over the horizon, the genesis one included."""
    present_probability: float
    """``1 − d``: chance a registered identity is present in a round."""
    flag_probability: np.ndarray
    """``p`` per chain: chance a present identity's submission is flagged."""

    @property
    def registered_rounds(self) -> np.ndarray:
        """Expected rounds registered."""
        return self.registered.sum(axis=0)

    @property
    def submitting_rounds(self) -> np.ndarray:
        """Expected rounds present and registered: submissions, flagged or not."""
        return self.present_probability * self.registered_rounds

    @property
    def accepted_submissions(self) -> np.ndarray:
        """Expected submissions not flagged."""
        return self.submitting_rounds * (1.0 - self.flag_probability)


def _check_probability(name: str, value: float, *, below_one: bool = False) -> None:
    top = "< 1" if below_one else "≤ 1"
    if not (0.0 <= value < 1.0 if below_one else 0.0 <= value <= 1.0):
        raise ValueError(f"{name} = {value!r} is not allowed: a probability 0 ≤ {name} {top} is")


def identity_horizon(
    flag_probability,
    dropout: float,
    rounds: int,
    strikes: int,
    *,
    reapply: str = "new_identity",
    ban_rounds: int = 0,
    ban_forever: bool = False,
    duplicate_detection: float = 0.0,
) -> IdentityHorizon:
    """Iterate one identity's chain (module docstring, "One identity's chain") over ``rounds`` rounds.

    ``flag_probability`` is a number or an array (one chain each, iterated together);
    ``duplicate_detection`` is q. Work: ``rounds × strikes`` updates per chain (none when
    ``strikes ≥ rounds``: then no ejection has any effect).
    """
    p = np.atleast_1d(np.asarray(flag_probability, dtype=float))
    if p.ndim != 1:
        raise ValueError(f"flag_probability must be a number or a 1-d array, not shape {p.shape}")
    for value in p:
        _check_probability("flag_probability", float(value))
    _check_probability("dropout", dropout, below_one=True)
    _check_probability("duplicate_detection", duplicate_detection)
    for name, value, low in (("rounds", rounds, 1), ("strikes", strikes, 1), ("ban_rounds", ban_rounds, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} = {value!r} is not allowed: an integer ≥ {low} is")
    if reapply not in REAPPLY_MODES:
        raise ValueError(f"reapply = {reapply!r} is not allowed: one of {', '.join(REAPPLY_MODES)}")

    T = int(rounds)
    strike = (1.0 - dropout) * p  # a: chance a registered identity takes a strike in a round
    admitted_at_once = 1.0 - duplicate_detection if reapply == "new_identity" else 0.0
    waits = {"new_identity": duplicate_detection, "after_ban": 1.0, "never": 0.0}[reapply]
    if ban_forever:
        waits = 0.0
    if strikes >= T:  # at most one strike a round: ejected in the last round at the earliest, to no effect
        return IdentityHorizon(np.ones((T, p.size)), np.ones(p.size), 1.0 - dropout, p)
    x = np.zeros((strikes, p.size))  # P(registered with j strikes) at a round's start
    x[0] = 1.0
    # The waiting states, held by the round from which the waiting mass is registered again.
    back_from = np.zeros((T + 1, p.size))
    registered = np.empty((T, p.size))
    applications = np.ones(p.size)
    for t in range(T):
        registered[t] = x.sum(axis=0)
        ejected = x[-1] * strike
        x[1:] = x[1:] * (1.0 - strike) + x[:-1] * strike
        x[0] *= 1.0 - strike
        if t == T - 1:
            break  # nobody applies with no round left
        if reapply == "new_identity":
            applications += ejected
        x[0] += admitted_at_once * ejected
        if waits and t + ban_rounds + 1 <= T - 1:
            back_from[t + ban_rounds + 1] += waits * ejected
        x[0] += back_from[t + 1]
        applications += back_from[t + 1]
    return IdentityHorizon(registered, applications, 1.0 - dropout, p)


def scenario_identity_horizon(s: Scenario, flag_probability) -> IdentityHorizon:
    """``identity_horizon`` with the dropout, rounds and ejection rules of ``s``'s ``[regime]``."""
    rg = s.regime
    return identity_horizon(
        flag_probability,
        s.dropout.trainer_dropout_probability,
        s.rounds,
        rg.ejection_strikes,
        reapply=rg.reapply,
        ban_rounds=rg.ban_rounds,
        ban_forever=rg.ban_forever,
        duplicate_detection=rg.kyc_duplicate_detection,
    )


def tokenless_assumptions_violated(s: Scenario) -> list[str]:
    """Which assumptions of the tokenless closed form ``s`` breaks (empty: it is exact)."""
    rg = s.regime
    out = []
    if s.adaptation.adaptive:
        out.append("owners adapt (revision, exit or entry is on)")
    most_due = rg.service_fee_fiat * s.trainer_identities
    if rg.budget_fiat_per_round < most_due:
        out.append(
            f"the fee budget may bind (budget {rg.budget_fiat_per_round:g} < fee {rg.service_fee_fiat:g} × "
            f"{s.trainer_identities} trainer identities = {most_due:g} fiat a round)"
        )
    if s.dropout.validator_dropout_probability > 0:
        out.append("validators drop out (h varies by round)")
    if s.detection.sybil_exposure_correlation > 0 and s.population.sybil_owners:
        out.append(
            "Sybil copies are exposed together (rho > 0): the Sybil flag probability takes every sibling "
            "as registered, so the Sybil payoff is approximate"
        )
    return out + _mechanistic(s)


def _tokenless_lines(s: Scenario) -> pd.DataFrame:
    """``u`` and ``v`` per strategy (``profit(F) = F·u − v``), per owner per round of the horizon."""
    return _cached_tokenless_lines(s).copy()


@functools.lru_cache(maxsize=1024)
def _cached_tokenless_lines(s: Scenario) -> pd.DataFrame:
    # A sweep asks for a scenario's payoffs and each of its bounds: iterate its chains once.
    rg, T = s.regime, s.rounds
    q, kyc = rg.kyc_duplicate_detection, rg.kyc_cost_fiat * rg.applicant_kyc_share
    kinds = [kind for kind in trainer_kinds(s) if kind.identities]
    chains = scenario_identity_horizon(s, [kind.flag_probability for kind in kinds])
    units = chains.accepted_submissions if rg.fee_basis == "accepted_submission" else chains.submitting_rounds
    present = chains.present_probability
    rows = {}
    for i, kind in enumerate(kinds):
        k = kind.identities_per_owner
        admitted = 1.0 + (k - 1) * (1.0 - q)  # chains per owner: the first identity is never refused
        cost = admitted * kind.train_cost_fiat * chains.submitting_rounds[i]
        if kind.name == "sybil" and s.behaviour.sybil_update == "honest":
            r = chains.registered[:, i]
            none_submits = (1.0 - present * r) * (1.0 - (1.0 - q) * present * r) ** (k - 1)
            cost += s.costs.train_cost_fiat_per_round * float((1.0 - none_submits).sum())
        if kind.name == "poisoning":
            cost -= s.costs.poison_gain_fiat_per_round * chains.accepted_submissions[i]
        applications = k + admitted * (chains.applications[i] - 1.0)
        rows[kind.name] = (admitted * units[i] / T, (cost + kyc * applications) / T)

    d_v, W = s.dropout.validator_dropout_probability, rg.validator_wage_fiat_per_round
    if s.population.honest_validators:
        rows["honest_validator"] = (0.0, (s.costs.validate_cost_fiat_per_round - W) * (1.0 - d_v))
    if s.population.copying_validators:
        rows["copying_validator"] = (0.0, -W * (1.0 - d_v))
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["units_per_round_per_owner", "cost_fiat_per_round_per_owner"]
    )
    table.index.name = "strategy"
    return table


def tokenless_expected_payoffs(s: Scenario, fee: float | None = None) -> pd.DataFrame:
    """Expected fiat profit per owner per round of the horizon in the tokenless regime, by strategy.

    Columns: ``units_per_round_per_owner`` (u: expected fee units), ``cost_fiat_per_round_per_owner``
    (v: expected work cost + the applicant's KYC share − outside gain; for validators minus the net
    wage) and ``profit_fiat_per_round_per_owner`` (``fee·u − v``). Strategies with no owners are left
    out. ``fee`` (fiat per unit of ``regime.fee_basis``) replaces the scenario's service fee; the
    payoffs are linear in it while the budget does not bind. Reads ``[regime]`` whatever its kind.
    """
    F = s.regime.service_fee_fiat if fee is None else float(fee)
    if not (math.isfinite(F) and F >= 0):
        raise ValueError(f"fee = {fee!r} is not allowed: a finite service fee ≥ 0 fiat is")
    table = _tokenless_lines(s)
    table["profit_fiat_per_round_per_owner"] = (
        F * table["units_per_round_per_owner"] - table["cost_fiat_per_round_per_owner"]
    )
    return table


def tokenless_deterrence_bound_fee(s: Scenario, deviation: str) -> float:
    """Smallest service fee at which honest work out-earns ``deviation`` per owner per round.

    The crossing ``F* = (v_h − v_dev)/(u_h − u_dev)`` of the two payoff lines when a unit of fee
    pays honest work more (``u_h > u_dev``); negative when the deviation never pays. ``inf`` when
    the fee pays the deviation more (a Sybil owner's several identities): raising it never deters.
    Parallel lines (equal ``u``, or none): ``-inf`` when honest work pays at least as well at every
    fee, ``inf`` when it pays worse at every fee.
    """
    lines = _tokenless_lines(s)
    trainers = [name for name in TRAINER_STRATEGIES if name != "honest"]
    if deviation not in trainers:
        raise ValueError(f"deviation = {deviation!r} is not allowed: one of {', '.join(trainers)}")
    if deviation not in lines.index or "honest" not in lines.index:
        missing = deviation if deviation not in lines.index else "honest"
        raise ValueError(
            f"no {missing!r} owners in this scenario: there is no bound to give for {deviation!r}"
        )
    u, v = lines["units_per_round_per_owner"], lines["cost_fiat_per_round_per_owner"]
    gap = v[deviation] - v["honest"]  # honest's lead at F = 0
    slope = u["honest"] - u[deviation]  # how much more a unit of fee pays honest work
    scale = max(abs(u["honest"]), abs(u[deviation]))
    if scale == 0 or abs(slope) <= _FLAT * scale:
        return _bound_without_stake(gap, holds=-math.inf)
    if slope < 0:
        return math.inf
    return -gap / slope


def tokenless_participation_bound_fee(s: Scenario) -> float:
    """Smallest service fee at which honest work pays (profit per owner per round ≥ 0): ``v_h/u_h``.

    ``-inf`` when honest work earns no fee units and costs nothing (any fee will do), ``inf`` when
    it earns none and costs something (no fee will do).
    """
    lines = _tokenless_lines(s)
    if "honest" not in lines.index:
        raise ValueError("no 'honest' owners in this scenario: there is no participation bound to give")
    u, v = lines.loc["honest", ["units_per_round_per_owner", "cost_fiat_per_round_per_owner"]]
    if u <= 0:
        return _bound_without_stake(-v, holds=-math.inf)
    return v / u
