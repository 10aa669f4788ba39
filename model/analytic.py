"""Closed-form expected payoffs of the abstract mode, and the slashing bounds (README: "Closed form").

Assumptions under which the expectations are exact (``assumptions_violated`` lists any broken):

* fixed population and price; no ejection (``slashing.ejection_strikes = 0``);
* validators never drop out, so the honest share of validation stake ``h`` is the same every round;
* slashed stake is always restored from liquid tokens (the liquid buffer never runs dry), so every
  slash takes ``S = slash_fraction × min_trainer_stake_tokens`` (checked with a safety margin);
* the ``equal`` or ``stake_weighted`` reward rule (all trainer stakes equal, so they coincide);
* ``constant`` or ``exponential_decay`` emission (payoffs are averaged over the run's rounds).

Notation (per identity and round): ``d`` dropout probability, ``p = rate × h`` the chance a present
identity's submission is flagged (``ε`` for honest work), ``R`` the expected reward of an accepted
submission, ``S`` the slashed stake, ``c`` the training cost, ``g`` a poisoner's outside gain.
A present identity earns ``(1 − p)·R − p·S − c``; the expected reward of an accepted submission is
exact: ``R = pool · E[1 / (1 + X)]`` with ``X`` the number of *other* accepted submissions, a sum
of binomials (one per strategy).

The bounds compare honest work with one deviation on the same identity:

* deterrence: honest beats the deviation iff ``(1 − d)(p − ε)(R + S) ≥ (1 − d)(c − c_dev) + g_eff``,
  i.e. ``S ≥ (c − c_dev + g_eff/(1 − d)) / (p − ε) − R``. With ``ε = d = c_dev = 0`` this is
  the textbook ``p·(R + S) ≥ c + g``.
* participation: honest work beats the outside option iff
  ``(1 − d)((1 − ε)R − εS − c) − fixed ≥ ω·K`` (``fixed`` = capital cost and amortised registration,
  ``K`` capital, ``ω`` outside return), i.e. ``S ≤ ((1 − ε)R − c − (fixed + ωK)/(1 − d)) / ε``.
  The textbook ``R − c − ε·S ≥ 0`` is this with the lost reward ``εR`` and fixed costs neglected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from model.scenario import Scenario

TRAINER_STRATEGIES = ("honest", "lazy", "sybil", "poisoning")


@dataclass(frozen=True)
class TrainerKind:
    """One trainer strategy as the closed form sees it."""

    name: str
    identities: int
    identities_per_owner: int
    flag_probability: float
    """p: chance a present identity is flagged (rate × h)."""
    train_cost_fiat: float
    """Training cost per submitting identity per round (a Sybil owner's shared cost is separate)."""


def assumptions_violated(s: Scenario) -> list[str]:
    """Which of the module's assumptions ``s`` breaks (empty: the closed form is exact)."""
    out = []
    if s.slashing.ejection_strikes:
        out.append("ejection is on (slashing.ejection_strikes > 0)")
    if s.dropout.validator_dropout_probability > 0:
        out.append("validators drop out (h varies by round)")
    if s.rewards.rule not in ("equal", "stake_weighted"):
        out.append(f"reward rule {s.rewards.rule!r} depends on scores")
    if s.emission.schedule == "halving":
        out.append("halving emission depends on issuance")
    out += _buffers_that_may_run_dry(s)
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
    S = s.slashing.slash_fraction * s.staking.min_trainer_stake_tokens
    if S == 0:
        return []
    R = expected_reward_tokens(s)
    out = []
    for kind in trainer_kinds(s):
        p = kind.flag_probability
        if kind.identities == 0 or p == 0:
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


def trainer_kinds(s: Scenario) -> list[TrainerKind]:
    """The trainer strategies of ``s`` with their flag probabilities and costs."""
    p, d, b = s.population, s.detection, s.behaviour
    h = honest_share(s)
    k = p.sybil_identities_per_owner
    if b.sybil_update == "honest":
        sybil_rate = d.sybil_detection_rate
    else:
        sybil_rate = 1.0 - (1.0 - d.lazy_detection_rate) * (1.0 - d.sybil_detection_rate)
    c = s.costs.train_cost_fiat_per_round
    return [
        TrainerKind("honest", p.honest_trainers, 1, d.false_positive_rate * h, c),
        TrainerKind("lazy", p.lazy_trainers, 1, d.lazy_detection_rate * h, 0.0),
        TrainerKind("sybil", p.sybil_owners * k, k, sybil_rate * h, 0.0),
        TrainerKind("poisoning", p.poisoning_trainers, 1, d.poison_detection_rate * h, c),
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


def _fixed_costs_fiat(s: Scenario, stake_tokens: float) -> float:
    """Per-round capital cost of the stake plus the registration amortised over the run."""
    price = s.token.price_fiat
    return (
        stake_tokens * price * s.costs.capital_cost_rate_per_round
        + s.staking.registration_cost_tokens * price / s.rounds
    )


def expected_payoffs(s: Scenario) -> pd.DataFrame:
    """Expected fiat profit per round per owner and per unit of capital, by strategy.

    Columns: ``profit_fiat_per_round_per_owner``, ``capital_fiat_per_owner``, ``pi`` (NaN for an
    owner that commits no capital). Strategies with no owners are left out.
    """
    price = s.token.price_fiat
    d = s.dropout.trainer_dropout_probability
    S = s.slashing.slash_fraction * s.staking.min_trainer_stake_tokens
    R = expected_reward_tokens(s)
    kinds = trainer_kinds(s)
    poison = next(k for k in kinds if k.name == "poisoning")
    p_degraded = 1.0 - (1.0 - (1.0 - d) * (1.0 - poison.flag_probability)) ** poison.identities
    rows = {}
    slashed_per_round = 0.0
    for kind in kinds:
        slashed_per_round += kind.identities * (1.0 - d) * kind.flag_probability * S
        if kind.identities == 0:
            continue
        p = kind.flag_probability
        per_identity = (1.0 - d) * (((1.0 - p) * R[kind.name] - p * S) * price - kind.train_cost_fiat)
        per_identity -= _fixed_costs_fiat(s, s.staking.min_trainer_stake_tokens)
        per_owner = per_identity * kind.identities_per_owner
        if kind.name == "sybil" and s.behaviour.sybil_update == "honest":
            per_owner -= s.costs.train_cost_fiat_per_round * (1.0 - d**kind.identities_per_owner)
        if kind.name == "poisoning":
            per_owner += s.costs.poison_gain_fiat_per_round * p_degraded
        capital = kind.identities_per_owner * (
            s.staking.min_trainer_stake_tokens + s.staking.registration_cost_tokens
        )
        rows[kind.name] = (per_owner, capital * price)

    v_stake = s.staking.validator_stake_tokens
    v_pool = mean_emission_tokens(s) * s.emission.validator_share / max(s.validators, 1)
    v_base = v_pool * price - _fixed_costs_fiat(s, v_stake)
    v_capital = (v_stake + s.staking.registration_cost_tokens) * price
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
    # No capital committed (zero stake and zero registration): profit per unit of capital is
    # undefined, NaN as in the simulated KPIs, not ±inf.
    capital = table["capital_fiat_per_owner"].where(table["capital_fiat_per_owner"] > 0)
    table["pi"] = table["profit_fiat_per_round_per_owner"] / capital
    return table


def _slash_per_fraction_fiat(s: Scenario) -> float:
    """Fiat taken by a slash per unit of slash fraction: the stake at risk, valued at the price."""
    return s.staking.min_trainer_stake_tokens * s.token.price_fiat


def _bound_without_stake(margin_at_zero_slash: float, holds: float) -> float:
    """The bound when no stake is at risk, so the slash fraction changes nothing.

    The comparison is then decided by the margin at ``S = 0`` for every slash fraction at once:
    ``holds`` (−inf for a lower bound, +inf for an upper bound: every fraction satisfies it) when
    the margin is ≥ 0, the opposite infinity when it is < 0 (no fraction satisfies it).
    """
    return holds if margin_at_zero_slash >= 0 else -holds


def deterrence_bound_slash_fraction(s: Scenario, deviation: str) -> float:
    """Smallest slash fraction at which honest work beats ``deviation`` per identity.

    May be < 0 (the deviation never pays) or > 1 (no allowed slash deters it); ``inf`` when the
    deviation is flagged no more often than honest work. Each side's own expected reward is used,
    so the bound is exact where ``expected_payoffs`` is: with ``R_h = R_dev = R`` it is the module's
    ``S ≥ (c − c_dev + g/(1 − d)) / (p − ε) − R``. With no stake to slash
    (``min_trainer_stake_tokens = 0``) the slash fraction has no effect: ``-inf`` (none needed)
    when honest work already beats the deviation, ``inf`` (no slash fraction deters) when not.
    """
    kinds = {k.name: k for k in trainer_kinds(s)}
    honest, dev = kinds["honest"], kinds[deviation]
    d = s.dropout.trainer_dropout_probability
    price = s.token.price_fiat
    rewards = expected_reward_tokens(s)
    r_honest, r_dev = rewards["honest"] * price, rewards[deviation] * price
    eps, p = honest.flag_probability, dev.flag_probability
    gain = 0.0
    if deviation == "poisoning":
        p_degraded = 1.0 - (1.0 - (1.0 - d) * (1.0 - p)) ** dev.identities
        gain = s.costs.poison_gain_fiat_per_round * p_degraded
    dev_cost = dev.train_cost_fiat
    if deviation == "sybil" and s.behaviour.sybil_update == "honest":
        # The owner trains once per round any of its k identities submits: c(1 − d^k) per owner.
        k = dev.identities_per_owner
        dev_cost = s.costs.train_cost_fiat_per_round * (1.0 - d**k) / (k * (1.0 - d))
    # Honest ≥ deviation per present round: (1−ε)R_h − εS − c ≥ (1−p)R_dev − pS − c_dev + g/(1−d).
    need = honest.train_cost_fiat - dev_cost + gain / (1.0 - d) - (1.0 - eps) * r_honest + (1.0 - p) * r_dev
    at_risk = _slash_per_fraction_fiat(s)
    if at_risk == 0:
        return _bound_without_stake(-need, holds=-math.inf)
    if p <= eps:
        return math.inf
    return need / (p - eps) / at_risk


def participation_bound_slash_fraction(s: Scenario) -> float:
    """Largest slash fraction at which honest work still beats the outside option.

    ``inf`` with no false positives (slashing never touches honest work); negative when honest
    work does not pay even without slashing. With no stake to slash the slash fraction has no
    effect: ``inf`` when honest work beats the outside option, ``-inf`` when it does not.
    """
    honest = next(k for k in trainer_kinds(s) if k.name == "honest")
    eps = honest.flag_probability
    d = s.dropout.trainer_dropout_probability
    price = s.token.price_fiat
    R = expected_reward_tokens(s)["honest"] * price
    stake = s.staking.min_trainer_stake_tokens
    capital = (stake + s.staking.registration_cost_tokens) * price
    fixed = _fixed_costs_fiat(s, stake) + s.costs.outside_option_return_per_round * capital
    head = (1.0 - eps) * R - honest.train_cost_fiat - fixed / (1.0 - d)
    at_risk = _slash_per_fraction_fiat(s)
    if eps <= 0 or at_risk == 0:
        return _bound_without_stake(head, holds=math.inf)
    return head / eps / at_risk
