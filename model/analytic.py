"""Closed-form expected payoffs of the abstract mode, and the slashing bounds (README: "Closed form").

Assumptions under which the expectations are exact (``assumptions_violated`` lists any broken):

* fixed population and price: owners do not adapt (``adaptation`` off), no ejection
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
"""

from __future__ import annotations

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
    """Which of the module's assumptions ``s`` breaks (empty: the closed form is exact)."""
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
    if s.emission.schedule == "halving":
        out.append("halving emission depends on issuance")
    if s.detection.sybil_exposure_correlation > 0 and s.population.sybil_owners:
        out.append("Sybil copies are exposed together (rho > 0): the Sybil reward is approximate")
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
