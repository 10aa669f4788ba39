"""The scenario schema: every knob of one simulated network, typed, with units and a docstring.

Units are in the names: ``*_tokens`` are protocol tokens, ``*_fiat`` are fiat currency units,
``*_rounds`` count epochs, and fractions, shares, probabilities and rates are in [0, 1].
Load a file with :func:`load_scenario`; derive variants with :func:`with_overrides`.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.fl.aggregators import AGGREGATORS
from model.fl.attacks import FREE_RIDERS
from model.fl.data import PARTITIONS
from model.limits import (
    MAX_COST_FIAT,
    MAX_IDENTITIES,
    MAX_PRICE_FIAT,
    MAX_ROUNDS,
    MAX_SEED,
    MAX_TOKENS,
    MIN_PRICE_FIAT,
    MIN_TOKENS,
    read_toml_file,
)
from model.params import (
    RETIRED_KEYS,
    ScenarioError,
    _check_value,
    _field_kind,
    build,
    field_docs,
    is_number_list,
    param,
    to_dict,
)

SHARE_TOLERANCE = 1e-9
#: Samples in scikit-learn's bundled handwritten digits (``fl.dataset = "digits"``).
DIGITS_SAMPLES = 1_797
#: Most participants of one strategy (a run holds at most MAX_IDENTITIES identities in all).
MAX_GROUP = MAX_IDENTITIES


def tokens(default: float, doc: str, *, zero_ok: bool = True) -> Any:
    """A token amount: 0 (unless ``zero_ok`` is False) or in [MIN_TOKENS, MAX_TOKENS]."""
    return param(default, doc, ge=MIN_TOKENS, le=MAX_TOKENS, zero_ok=zero_ok)


def fiat_per_round(default: float, doc: str) -> Any:
    """A fiat cost or gain per round, in [0, MAX_COST_FIAT]."""
    return param(default, doc, ge=0, le=MAX_COST_FIAT)


def _shares_problem(path: str, names: tuple[str, ...], values: tuple[float, ...]) -> list[str]:
    total = sum(values)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        keys = " + ".join(f"{path}.{n}" if path else n for n in names)
        return [f"{keys} = {total:g} is not allowed: the shares must add up to 1"]
    return []


@dataclass(frozen=True)
class Population:
    """How many participants of each strategy the network starts with."""

    honest_trainers: int = param(70, "Trainers that train a real update on local data.", ge=0, le=MAX_GROUP)
    lazy_trainers: int = param(10, "Free-riders that submit an update without training.", ge=0, le=MAX_GROUP)
    sybil_owners: int = param(2, "Owners running several identities each.", ge=0, le=MAX_GROUP)
    sybil_identities_per_owner: int = param(5, "Identities (k) each Sybil owner runs.", ge=1, le=1000)
    poisoning_trainers: int = param(8, "Trainers that submit a malicious update.", ge=0, le=MAX_GROUP)
    honest_validators: int = param(8, "Validators that evaluate every submission.", ge=0, le=MAX_GROUP)
    copying_validators: int = param(2, "Validators that copy the last visible consensus.", ge=0, le=MAX_GROUP)

    def problems(self, path: str) -> list[str]:
        trainers = self.honest_trainers + self.lazy_trainers + self.sybil_owners + self.poisoning_trainers
        out = []
        if trainers == 0:
            out.append(f"{path}: at least one trainer of some strategy is required")
        if self.honest_validators + self.copying_validators == 0:
            out.append(f"{path}: at least one validator of some strategy is required")
        identities = trainers - self.sybil_owners + self.sybil_owners * self.sybil_identities_per_owner
        validators = self.honest_validators + self.copying_validators
        if identities + validators > MAX_IDENTITIES:
            out.append(
                f"{path}: {identities + validators:_} identities ({identities:_} trainer identities, Sybil "
                f"ones counted one by one, and {validators:_} validators) is not allowed: at most "
                f"MAX_IDENTITIES = {MAX_IDENTITIES:_} identities in one run"
            )
        return out


@dataclass(frozen=True)
class Token:
    """Supply and price of the network's token."""

    genesis_supply_tokens: float = tokens(
        1_000_000.0,
        "Tokens in existence at round 0; what participants do not hold is treasury.",
        zero_ok=False,
    )
    price_fiat: float = param(
        1.0,
        "Fiat value of one token: the price throughout (fixed) or the market's opening price (market).",
        ge=MIN_PRICE_FIAT,
        le=MAX_PRICE_FIAT,
    )
    price_model: str = param(
        "fixed",
        "How the price is set: fixed at price_fiat, or by a constant-product market of tokens against fiat "
        "where participants sell for their costs and users and speculators buy ([market]).",
        choices=("fixed", "market"),
    )


@dataclass(frozen=True)
class Market:
    """The token market (``token.price_model = "market"``): a constant-product pool of tokens against a
    fiat reserve, ``tokens × fiat = k`` (Uniswap v2 without a swap fee), price = fiat / tokens.

    Each round, after rewards, four batches trade against it in this order: users buying the tokens
    their fees are paid in, speculators, users selling the insurance payouts they received, and
    participants selling tokens to pay the round's fiat costs (and leavers selling what they got back).
    """

    pool_tokens: float = tokens(
        100_000.0,
        "Tokens the network owner puts into the pool at genesis (from the treasury), paired with "
        "pool_tokens x token.price_fiat fiat of its own.",
        zero_ok=False,
    )
    speculative_flow_fiat_per_round: float = param(
        0.0,
        "Mean fiat speculators bring to the pool each round (negative: tokens they sell, worth that much).",
        ge=-MAX_COST_FIAT,
        le=MAX_COST_FIAT,
    )
    speculative_flow_sd_fiat: float = param(
        0.0,
        "Standard deviation of the round's speculative flow (independent normal draws, so speculators' "
        "position is a random walk).",
        ge=0,
        le=MAX_COST_FIAT,
    )
    speculative_flow_path_fiat: tuple[float, ...] = param(
        (),
        "Speculative flow of each round, in order (replaces the mean and sd; the last value holds after "
        "the list ends); empty: drawn.",
        ge=-MAX_COST_FIAT,
        le=MAX_COST_FIAT,
    )
    speculator_tokens: float = tokens(
        0.0, "Tokens speculators hold at genesis (from the treasury): what they can sell before buying."
    )
    sell_for_costs: bool = param(
        True,
        "Participants sell, each round, the tokens they need to pay that round's fiat costs beyond their "
        "cash on hand (never their liquid buffer); leavers sell what they get back when their stake is "
        "returned.",
    )


@dataclass(frozen=True)
class Fees:
    """Inference fees: model users pay per query; demand grows with the model's quality.

    Queries in round t: ``queries_per_round × quality^quality_elasticity × trust``; trust starts at 1,
    loses ``poison_demand_drop`` of itself in a round poison visibly lowered the quality (by at least
    ``visible_quality_drop``), and regains ``trust_recovery_per_round`` of what it lost each round.
    Fees are split by the shares below: the trainers' share by the round's trainer rewards, the
    validators' share by their reward weights.
    """

    queries_per_round: float = param(
        0.0,
        "Queries users send per round at quality 1 and full trust (0: the model has no users).",
        ge=0,
        le=1e15,
    )
    fee_per_query_fiat: float = param(0.0, "Fiat a user pays per query.", ge=0, le=MAX_COST_FIAT)
    quality_elasticity: float = param(
        1.0, "Exponent of quality in the query demand (0: demand ignores quality).", ge=0, le=100
    )
    poison_demand_drop: float = param(
        0.5, "Share of users' trust lost in a round poison visibly lowered the quality.", ge=0, le=1
    )
    visible_quality_drop: float = param(
        0.02,
        "A fall of the quality this large in one round, with poison in the model, is visible to users.",
        gt=0,
        le=1,
    )
    trust_recovery_per_round: float = param(
        0.05, "Share of the lost trust users regain each round.", ge=0, le=1
    )
    paid_in: str = param(
        "tokens",
        "What fees reach participants in: tokens users buy on the market (or from the treasury at a fixed "
        "price), or fiat (the burn share then buys tokens back and burns them).",
        choices=("tokens", "fiat"),
    )
    trainer_share: float = param(
        0.4, "Share of fees to trainers (by the round's trainer rewards).", ge=0, le=1
    )
    validator_share: float = param(0.4, "Share of fees to validators (by their reward weights).", ge=0, le=1)
    owner_share: float = param(0.1, "Share of fees to the network owner.", ge=0, le=1)
    burn_share: float = param(0.1, "Share of fees burned (as tokens).", ge=0, le=1)

    def problems(self, path: str) -> list[str]:
        names = ("trainer_share", "validator_share", "owner_share", "burn_share")
        return _shares_problem(path, names, tuple(getattr(self, n) for n in names))


@dataclass(frozen=True)
class Insurance:
    """Claims on the insurance pool (the slashed tokens' insurance share) by users of a degraded model.

    In a round where poison entered the model and its quality fell by ``d`` (any amount), users file
    claims worth ``claim_fiat_per_query × queries × d`` fiat; the pool pays them in tokens at the
    price of the moment, pro rata up to what it holds; what it cannot pay is unpaid.
    """

    claim_fiat_per_query: float = param(
        0.0,
        "Fiat a user claims per query per unit of quality lost to poison (0: no claims).",
        ge=0,
        le=MAX_COST_FIAT,
    )


@dataclass(frozen=True)
class Staking:
    """Stake, registration and unbonding rules for every identity."""

    min_trainer_stake_tokens: float = tokens(
        100.0, "Stake a trainer identity must hold to submit; after a slash it tops up from liquid or leaves."
    )
    validator_stake_tokens: float = tokens(1_000.0, "Stake each validator bonds.", zero_ok=False)
    initial_liquid_tokens: float = tokens(
        100.0, "Liquid tokens each identity holds at genesis (its buffer for top-ups)."
    )
    registration_cost_tokens: float = tokens(
        1.0, "Tokens burned to register one identity (once, when it joins: a sunk cost, not capital)."
    )
    unbonding_period_rounds: int = param(
        7,
        "Full rounds a leaving identity's stake stays locked before it is returned to its owner.",
        ge=0,
        le=MAX_ROUNDS,
    )
    trainer_stake_tokens: float = tokens(
        0.0,
        "Stake each trainer owner bonds, split evenly over a Sybil owner's identities; "
        "0 = every identity bonds exactly min_trainer_stake_tokens.",
    )


@dataclass(frozen=True)
class Stakes:
    """How stake is spread over trainer owners and validators, and what passive holders delegate.

    A distribution other than ``fixed`` multiplies a base stake by one multiplier per owner (or
    validator). The multipliers are not random draws: for n owners they are the distribution's
    quantiles at u_i = (i + 0.5) / n (a stratified sample, so every run has the same shape and the
    same total), dealt to owners by a seeded random permutation (see ``model.stakes``). The total
    stake is therefore known before a run, and the genesis-supply check counts it exactly.
    """

    trainer_distribution: str = param(
        "fixed",
        "Spread of trainer owners' stakes: each owner's per-identity stake (staking.trainer_stake_tokens "
        "split over its identities, or staking.min_trainer_stake_tokens) times a multiplier shared by a "
        "Sybil owner's identities, floored at staking.min_trainer_stake_tokens; fixed = multiplier 1.",
        choices=("fixed", "lognormal", "pareto"),
    )
    validator_distribution: str = param(
        "fixed",
        "Spread of validators' own stakes: staking.validator_stake_tokens times a multiplier, or the "
        "validator_stakes_tokens list (listed); fixed = multiplier 1.",
        choices=("fixed", "lognormal", "pareto", "listed"),
    )
    lognormal_sigma: float = param(
        1.0, "lognormal: sigma of the multiplier exp(sigma z - sigma^2 / 2) (mean 1).", gt=0, le=4
    )
    pareto_tail_index: float = param(
        1.5,
        "pareto: tail index a of the multiplier (1 - u)^(-1/a) (at least 1; mean a / (a - 1) for a > 1).",
        ge=0.5,
        le=100,
    )
    validator_stakes_tokens: tuple[float, ...] = param(
        (),
        "listed: each validator's own stake in row order (the honest validators first, then the copying "
        "ones), one entry per validator; empty unless validator_distribution = 'listed'.",
        ge=MIN_TOKENS,
        le=MAX_TOKENS,
    )
    delegated_tokens: float = tokens(
        0.0, "Stake passive holders delegate to the validators, in all (held outside the population)."
    )
    delegation: str = param(
        "by_stake",
        "How the delegated tokens are split between validators: by their own stake, or equally.",
        choices=("by_stake", "equal"),
    )
    validator_take: float = param(
        0.18,
        "Share of the income earned on delegated stake the validator keeps (Bittensor's default take); "
        "the rest goes to the delegators.",
        ge=0,
        le=1,
    )

    def problems(self, path: str) -> list[str]:
        listed = self.validator_distribution == "listed"
        if self.validator_stakes_tokens and not listed:
            return [
                f"{path}.validator_stakes_tokens lists {len(self.validator_stakes_tokens)} stakes, which is "
                f"not allowed with {path}.validator_distribution = {self.validator_distribution!r}: set "
                f"{path}.validator_distribution = 'listed' or leave the list empty"
            ]
        return []


@dataclass(frozen=True)
class Emission:
    """How many new tokens each round mints and who gets them."""

    schedule: str = param(
        "constant",
        "Emission schedule by name.",
        choices=("constant", "exponential_decay", "halving"),
    )
    initial_tokens_per_round: float = tokens(1_000.0, "Tokens minted in round 0.")
    decay_rate_per_round: float = param(
        0.001, "exponential_decay: fraction by which emission falls each round.", ge=0, lt=1
    )
    halving_supply_cap_tokens: float = tokens(
        21_000_000.0,
        "halving: issuance cap; emission halves each time issuance crosses half the remaining gap.",
        zero_ok=False,
    )
    owner_share: float = param(0.18, "Share of each round's emission to the network owner.", ge=0, le=1)
    trainer_share: float = param(0.41, "Share of each round's emission to trainers.", ge=0, le=1)
    validator_share: float = param(0.41, "Share of each round's emission to validators.", ge=0, le=1)

    def problems(self, path: str) -> list[str]:
        names = ("owner_share", "trainer_share", "validator_share")
        return _shares_problem(path, names, tuple(getattr(self, n) for n in names))


@dataclass(frozen=True)
class Rewards:
    """How the trainers' part of the emission is split between accepted submissions."""

    rule: str = param(
        "equal",
        "Reward rule by name: equal per accepted submission, weighted by stake or by score, or Yuma "
        "Consensus over the validators' weight votes.",
        choices=("equal", "stake_weighted", "score_weighted", "yuma"),
    )


@dataclass(frozen=True)
class Yuma:
    """Yuma Consensus: how the validators' weight votes become consensus, rewards and flags.

    Used only when ``rewards.rule = "yuma"`` in the token regime; ignored otherwise. The first eight
    keys are subtensor's epoch parameters (with its defaults); the others say how validators vote.
    """

    kappa: float = param(
        0.5,
        "Consensus majority: a trainer's consensus weight is the highest weight validators holding at least "
        "this share of stake give it (0.5: the stake-weighted median).",
        ge=0,
        le=1,
    )
    bond_penalty: float = param(
        1.0,
        "beta: bonds grow on (1 - beta) × the raw weights + beta × the weights clipped to consensus.",
        ge=0,
        le=1,
    )
    bonds_moving_average: int = param(
        900_000,
        "Yuma 2: each epoch the bonds keep this / 1_000_000 of their old value (EMA rate alpha = 1 - that).",
        ge=0,
        le=1_000_000,
    )
    yuma3: bool = param(
        False,
        "Yuma 3 bonds (a per-bond EMA; with liquid_alpha its rate moves between alpha_low and alpha_high) "
        "instead of Yuma 2's (one EMA rate from bonds_moving_average).",
    )
    liquid_alpha: bool = param(
        False, "Liquid alpha: each bond's EMA rate moves between alpha_low and alpha_high with consensus."
    )
    alpha_low: float = param(0.7, "Liquid alpha: lowest EMA rate.", ge=0, le=1)
    alpha_high: float = param(0.9, "Liquid alpha: highest EMA rate.", ge=0, le=1)
    alpha_sigmoid_steepness: float = param(
        1000.0, "Liquid alpha: steepness of the sigmoid from alpha_low to alpha_high.", ge=-1e4, le=1e4
    )
    reveal_delay_rounds: int = param(
        1,
        "Commit-reveal delay d: copiers see the consensus of round t - d; 0 = no commit-reveal, they copy "
        "this round's consensus of the other validators' weights.",
        ge=0,
        le=MAX_ROUNDS,
    )
    flag_threshold: float = param(
        0.5,
        "A submitting trainer is flagged when its consensus weight is below this times the median "
        "consensus weight of the round's submissions (0: votes flag nobody).",
        ge=0,
        le=1,
    )
    evaluation_effort: float = param(
        1.0,
        "An honest validator's evaluation effort: it costs costs.validate_cost_fiat_per_round times this, "
        "and its noise sd is detection.score_noise_sd / sqrt(this).",
        gt=0,
        le=100,
    )
    quality_drift_sd: float = param(
        0.1,
        "Stationary sd of each submission's quality around its strategy's score (behaviour.*_score; "
        "honest 1), so an earlier round's consensus goes stale.",
        ge=0,
        le=10,
    )
    quality_persistence: float = param(
        0.9, "Per-round AR(1) coefficient phi of that quality drift.", ge=0, lt=1
    )
    cabal_stake_share: float = param(
        0.0,
        "Share of validator stake (own + delegated) in a cabal of honest validators that votes only for "
        "its own trainers.",
        ge=0,
        le=1,
    )
    cabal_trainers: str = param(
        "lazy",
        "Whose identities are the cabal's own trainers: the lazy, the Sybil or the poisoning ones.",
        choices=("lazy", "sybil", "poisoning"),
    )
    validator_slash_fraction: float = param(
        0.0, "Fraction of its own stake a straying validator loses (0 = validator slashing off).", ge=0, le=1
    )
    validator_slash_tolerance: float = param(
        0.5,
        "A validator strays in a round when the share of its weight clipped away by consensus (1 - its "
        "validator trust) exceeds this.",
        ge=0,
        le=1,
    )
    validator_slash_rounds: int = param(
        3,
        "Consecutive straying rounds before a validator is slashed (then the count restarts).",
        ge=1,
        le=MAX_ROUNDS,
    )

    def problems(self, path: str) -> list[str]:
        if self.alpha_low > self.alpha_high:
            return [
                f"{path}.alpha_low = {self.alpha_low:g} is not allowed with {path}.alpha_high = "
                f"{self.alpha_high:g}: the lowest EMA rate must not exceed the highest"
            ]
        return []


@dataclass(frozen=True)
class Slashing:
    """What a flagged identity loses and where the slashed tokens go."""

    slash_fraction: float = param(0.1, "Fraction of its stake a flagged identity loses.", ge=0, le=1)
    burn_share: float = param(0.5, "Share of slashed tokens burned.", ge=0, le=1)
    insurance_share: float = param(0.3, "Share of slashed tokens paid into the insurance pool.", ge=0, le=1)
    validator_share: float = param(
        0.2,
        "Share of slashed tokens paid to the honest validators who flagged (by stake).",
        ge=0,
        le=1,
    )
    ejection_strikes: int = param(
        0,
        "Flags after which an identity is ejected and its stake unbonds; 0 = never.",
        ge=0,
        le=MAX_ROUNDS,  # an identity is flagged at most once a round: more strikes would mean never
    )

    def problems(self, path: str) -> list[str]:
        names = ("burn_share", "insurance_share", "validator_share")
        return _shares_problem(path, names, tuple(getattr(self, n) for n in names))


@dataclass(frozen=True)
class Detection:
    """How likely each kind of submission is flagged (abstract mode).

    A rate applies in full when all active validation stake is honest and shrinks in proportion to
    the honest validators' share of it: copying validators detect nothing. In mechanistic mode the
    rates, ``sybil_exposure_correlation`` and ``score_noise_sd`` are not used: validators score real
    updates (the ``[fl]`` section) and what they flag is measured.
    """

    mode: str = param(
        "abstract",
        "Detection mode by name: abstract (the fixed rates below) or mechanistic (validators score real "
        "model updates on held-out data; see [fl]).",
        choices=("abstract", "mechanistic"),
    )
    lazy_detection_rate: float = param(0.6, "Chance a lazy submission is flagged.", ge=0, le=1)
    poison_detection_rate: float = param(0.7, "Chance a poisoned submission is flagged.", ge=0, le=1)
    sybil_detection_rate: float = param(
        0.3, "Chance a Sybil identity's duplicated submission is flagged.", ge=0, le=1
    )
    false_positive_rate: float = param(0.02, "Chance an honest submission is flagged.", ge=0, le=1)
    sybil_exposure_correlation: float = param(
        0.0,
        "Chance that a round's detection of one Sybil identity also flags each other submitting identity "
        "of the same owner (rho; 0 = detected independently).",
        ge=0,
        le=1,
    )
    score_noise_sd: float = param(
        0.1, "Standard deviation of one honest validator's score of a submission.", ge=0, le=100
    )


@dataclass(frozen=True)
class FL:
    """Mechanistic federated learning: the task behind ``detection.mode = "mechanistic"``.

    Trainers run local SGD of a multinomial logistic regression on their own shard of a real
    dataset and submit model updates; cheaters submit what their strategy submits (``attack``,
    ``free_rider``, Sybil copies); every honest validator scores every submission on its own
    held-out set, and those scores flag submissions and feed the reward rules (Yuma Consensus
    included); the accepted updates are combined by ``aggregator``, and the global model's test
    accuracy is the quality index. Ignored in abstract mode (the default), and in mechanistic mode
    the abstract mode's detection rates, ``behaviour`` scores and ``quality`` rates are not used,
    nor is the noise model of Yuma votes (``yuma.quality_drift_sd``, ``quality_persistence``, and
    ``evaluation_effort``'s effect on noise; effort still multiplies the validators' cost).
    """

    dataset: str = param(
        "digits",
        "Data: scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes; no download), or "
        "Gaussian classes made from the run's seed (synthetic_*).",
        choices=("digits", "synthetic"),
    )
    synthetic_samples: int = param(2_000, "synthetic: samples in all.", ge=10, le=1_000_000)
    synthetic_features: int = param(20, "synthetic: features per sample.", ge=1, le=1_000)
    synthetic_classes: int = param(5, "synthetic: classes.", ge=2, le=100)
    synthetic_separation: float = param(
        1.5, "synthetic: sd of the class means around 0 (noise sd is 1; larger = easier).", gt=0, le=100
    )
    partition: str = param(
        "dirichlet",
        "How trainers' data is split: iid (dealt at random, evenly) or dirichlet (non-IID by label: each "
        "class dealt by Dirichlet(dirichlet_alpha) proportions; Hsu et al. 2019).",
        choices=PARTITIONS,
    )
    dirichlet_alpha: float = param(
        0.5, "dirichlet: concentration alpha (small = each trainer sees few classes).", gt=0, le=1_000
    )
    test_share: float = param(
        0.2, "Share of the data held out as the global test set (the quality index).", gt=0, lt=1
    )
    validator_samples: int = param(
        60, "Samples in each validator's own held-out evaluation set.", ge=1, le=100_000
    )
    local_epochs: int = param(2, "Epochs of local SGD a trainer runs each round (E).", ge=1, le=100)
    batch_size: int = param(10, "Mini-batch size of local SGD.", ge=1, le=100_000)
    local_learning_rate: float = param(0.5, "Step size of local SGD.", gt=0, le=100)
    l2: float = param(1e-4, "L2 penalty (l2 / 2) ||W||^2 of the local loss.", ge=0, le=10)
    server_learning_rate: float = param(
        1.0, "The global model moves by this times the aggregate of the accepted updates.", gt=0, le=10
    )
    aggregator: str = param(
        "fedavg",
        "How accepted updates are combined: fedavg (weighted by samples), median or trimmed_mean "
        "(coordinate-wise), krum, multi_krum, foolsgold.",
        choices=tuple(AGGREGATORS),
    )
    trim_fraction: float = param(
        0.1, "trimmed_mean: share beta trimmed from each end of each coordinate.", ge=0, lt=0.5
    )
    byzantine_fraction: float = param(
        0.3,
        "krum, multi_krum: the share of updates assumed Byzantine; f = floor(this x n), at most (n - 3) / 2 "
        "(multi_krum averages the n - f best).",
        ge=0,
        lt=0.5,
    )
    attack: str = param(
        "sign_flip",
        "What poisoners submit: sign_flip (minus attack_scale x an honest update), label_flip (an update "
        "trained on reversed labels), scaled (a label_flip update boosted by attack_scale: model "
        "replacement).",
        choices=("sign_flip", "label_flip", "scaled"),
    )
    attack_scale: float = param(1.0, "sign_flip and scaled: the factor applied.", gt=0, le=1_000)
    free_rider: str = param(
        "received",
        "What lazy trainers (and cheap Sybil copies) submit: received (the global model sent back: a zero "
        "update), replay (last round's global change) or noise (that change plus noise of sd "
        "free_rider_noise_sd x t^-free_rider_noise_decay; Fraboni et al. 2021).",
        choices=FREE_RIDERS,
    )
    free_rider_noise_sd: float = param(0.01, "noise: sd sigma of the added noise.", ge=0, le=100)
    free_rider_noise_decay: float = param(1.0, "noise: decay exponent gamma of the sd.", ge=0, le=10)
    sybil_noise: float = param(
        0.0,
        "Noise a Sybil owner adds to each identity's copy, relative to the update's rms (0: exact copies).",
        ge=0,
        le=100,
    )
    duplicate_similarity: float = param(
        0.9999,
        "An honest validator scores 0 a submission whose cosine similarity with another submission of the "
        "round exceeds this (1: never). Keep it close to 1: honest updates of IID shards from one model can "
        "be 0.999 alike early on, and a round where every submission scores 0 flags nobody.",
        ge=0,
        le=1,
    )
    flag_threshold: float = param(
        0.2,
        "A submission is flagged when its consensus score is below this times the median of the round's "
        "positive consensus scores (under rewards.rule = 'yuma', yuma.flag_threshold on consensus weights "
        "applies instead).",
        ge=0,
        le=1,
    )
    clean_twin: bool = param(
        True,
        "Also train a twin model on the honest submissions alone, to measure the accuracy the cheaters cost "
        "(fl_accuracy_lost); it adds one training pass per round.",
    )


@dataclass(frozen=True)
class Behaviour:
    """What each cheating strategy's submission looks like to the network."""

    lazy_score: float = param(0.2, "Quality score of a lazy submission (honest work scores 1).", ge=0, le=1)
    poison_score: float = param(
        0.8, "Quality score a disguised poisoned submission shows to validators.", ge=0, le=1
    )
    sybil_update: str = param(
        "cheap",
        "What a Sybil owner copies to its identities: a cheap lazy update or one honest update.",
        choices=("cheap", "honest"),
    )


@dataclass(frozen=True)
class Quality:
    """The global model's quality index in [0, 1]."""

    initial_quality: float = param(0.1, "Quality index at round 0.", ge=0, le=1)
    learning_rate: float = param(
        0.05,
        "Fraction of the gap to 1 closed per round when every accepted update is honest.",
        ge=0,
        le=1,
    )
    poison_damage: float = param(
        0.5,
        "Fraction of quality lost per round when every accepted update is poisoned.",
        ge=0,
        le=1,
    )


@dataclass(frozen=True)
class Costs:
    """Fiat costs and the poisoners' outside gain."""

    train_cost_fiat_per_round: float = fiat_per_round(5.0, "Cost of training one real update.")
    validate_cost_fiat_per_round: float = fiat_per_round(20.0, "Cost of evaluating one round's submissions.")
    poison_gain_fiat_per_round: float = fiat_per_round(
        0.0, "Outside gain g a poisoner collects in each round its own poison enters the model undetected."
    )
    outside_option_return_per_round: float = param(
        0.0,
        "Return per round per unit of capital an owner earns outside the network: the opportunity cost of "
        "committed capital, charged once (an owner that left earns it on its returned capital).",
        ge=-1,
        le=1,
    )


@dataclass(frozen=True)
class Dropout:
    """Availability: each participant misses a round with these probabilities."""

    trainer_dropout_probability: float = param(0.08, "Chance a trainer identity misses a round.", ge=0, lt=1)
    validator_dropout_probability: float = param(0.05, "Chance a validator misses a round.", ge=0, lt=1)


@dataclass(frozen=True)
class Adaptation:
    """How owners respond to what pays: strategy revision, exit and entry (all off by default).

    ``logit_temperature`` is in the unit of the payoff owners compare, which the regime sets: return
    per round per unit of capital in the token regime, fiat profit per owner per round in the
    tokenless one. Nothing rescales it between them, so one value means different behaviour: the
    default 0.005 is a noisy response beside the baseline's token return gaps (about 0.03 per round
    between honest and lazy), a nearly uniform pick when owners commit large buffers (the gaps
    shrink with the capital), and a sharp best response beside tokenless profit gaps of a few fiat
    a round. A logit side-by-side of the regimes compares behaviour rules as well as institutions
    unless each regime's design sets its own temperature, at the same ratio to its payoff gaps.
    """

    revision: str = param(
        "none",
        "Strategy revision rule by name: none (fixed strategies), imitation (pairwise proportional "
        "imitation of a better-earning owner), logit (noisy best response).",
        choices=("none", "imitation", "logit"),
    )
    revision_interval_rounds: int = param(
        10, "Rounds between decisions (K): owners revise, exit and enter every K rounds.", ge=1, le=MAX_ROUNDS
    )
    revision_probability: float = param(
        0.5, "Chance each active owner revises its strategy at a decision round.", ge=0, le=1
    )
    logit_temperature: float = param(
        0.005,
        "logit: noise of the best response, in return per round per unit of capital (tokenless: in fiat "
        "profit per owner per round; small = sharp).",
        gt=0,
        le=100,
    )
    exit_rule: str = param(
        "none",
        "Exit rule by name: none, or profit_threshold (leave when the last window's return is below the "
        "outside option plus exit_threshold_return_per_round; tokenless: when its fiat profit per round is "
        "below 0).",
        choices=("none", "profit_threshold"),
    )
    exit_threshold_return_per_round: float = param(
        0.0,
        "profit_threshold: an owner leaves when its last window's return is below the outside option plus "
        "this (return per round per unit of capital; 0 = once the outside option pays more; ignored when "
        "tokenless).",
        ge=-1,
        le=1,
    )
    entry_candidates: int = param(
        0, "Potential entrant owners waiting outside the network (trainers).", ge=0, le=MAX_GROUP
    )
    entry_rate: float = param(
        0.1, "Chance each waiting candidate considers joining at a decision round.", ge=0, le=1
    )
    entry_honest_share: float = param(
        0.7,
        "Weight of honest owners among the candidates (the four entry weights are normalised).",
        ge=0,
        le=1,
    )
    entry_lazy_share: float = param(0.1, "Weight of free-riders among the candidates.", ge=0, le=1)
    entry_sybil_share: float = param(
        0.1, "Weight of Sybil owners (k identities each) among the candidates.", ge=0, le=1
    )
    entry_poisoning_share: float = param(0.1, "Weight of poisoners among the candidates.", ge=0, le=1)
    honest_share_level: float = param(
        0.9,
        "The honest share of active trainer owners that counts as 'the network became honest'.",
        gt=0,
        le=1,
    )

    def problems(self, path: str) -> list[str]:
        names = ("entry_honest_share", "entry_lazy_share", "entry_sybil_share", "entry_poisoning_share")
        if self.entry_candidates and not sum(getattr(self, n) for n in names):
            keys = " + ".join(f"{path}.{n}" if path else n for n in names)
            return [f"{keys} = 0 is not allowed with entry candidates: give some strategy a weight > 0"]
        return []

    @property
    def adaptive(self) -> bool:
        """Whether owners decide anything (revise, exit or enter) during a run."""
        return self.revision != "none" or self.exit_rule != "none" or self.entry_candidates > 0


@dataclass(frozen=True)
class Regime:
    """Which institutions run the network: the token network, or a tokenless orchestrator.

    ``token`` is the network the rest of the scenario describes; every other key here is then
    ignored. ``tokenless`` is the same population, detection, costs, dropout and seed streams run
    by a central orchestrator that pays fiat service fees out of a consortium's budget, admits
    trainer identities through a KYC whitelist and punishes only by ejection: staking, emission,
    rewards, slashing and token sections — [market], [fees] and [insurance] among them: there is no
    token to price, buy or pay claims in — are then ignored and no token moves.
    """

    kind: str = param(
        "token",
        "Regime by name: token (stake, emission, slashing) or tokenless (a fiat-paying orchestrator that "
        "admits by KYC and can only eject).",
        choices=("token", "tokenless"),
    )
    fee_basis: str = param(
        "accepted_submission",
        "tokenless: what one service fee pays for: each accepted (submitted, not flagged) submission, or "
        "each round a registered identity is present and submits (flagged or not).",
        choices=("accepted_submission", "participation_round"),
    )
    service_fee_fiat: float = param(
        5.0, "tokenless: fiat per unit of fee_basis per identity (F).", ge=0, le=MAX_COST_FIAT
    )
    budget_fiat_per_round: float = param(
        1_000.0,
        "tokenless: fiat the consortium gives the orchestrator each round for service fees (B); when the "
        "fees due exceed it every fee of the round is scaled by B / due, and what is not spent is returned.",
        ge=0,
        le=MAX_COST_FIAT * MAX_IDENTITIES,
    )
    validator_wage_fiat_per_round: float = fiat_per_round(
        25.0,
        "tokenless: fiat the orchestrator pays each validator (its employee: no KYC, never ejected) for "
        "each round it is present (W), funded by the consortium on top of the fee budget.",
    )
    kyc_cost_fiat: float = param(
        5.0,
        "tokenless: fiat cost of one KYC / onboarding application of one trainer identity (at genesis, at "
        "entry and at each re-application).",
        ge=0,
        le=MAX_COST_FIAT,
    )
    kyc_paid_by: str = param(
        "applicant",
        "tokenless: who pays an application's KYC cost: the applicant, the orchestrator, or half each "
        "(split).",
        choices=("applicant", "orchestrator", "split"),
    )
    kyc_duplicate_detection: float = param(
        0.5,
        "tokenless: chance KYC recognises an application as a duplicate of an owner it already knows (a "
        "Sybil owner's 2nd..k-th identity, or an ejected owner re-applying while barred); it is refused, "
        "its cost paid all the same (q).",
        ge=0,
        le=1,
    )
    ejection_strikes: int = param(
        3,
        "tokenless: flags after which an identity is ejected (s).",
        ge=1,
        le=MAX_ROUNDS,
    )
    ban_rounds: int = param(
        50, "tokenless: rounds an ejected owner is barred before it may re-apply (L).", ge=0, le=MAX_ROUNDS
    )
    ban_forever: bool = param(
        False, "tokenless: an ejected owner is barred for good (ban_rounds is ignored)."
    )
    reapply: str = param(
        "new_identity",
        "tokenless: what an ejected identity's owner does: re-apply at once under a new identity (if KYC "
        "refuses it, wait out the ban), re-apply when the ban ends (after_ban), or stay out (never).",
        choices=("new_identity", "after_ban", "never"),
    )

    @property
    def tokenless(self) -> bool:
        """Whether the network runs without a token."""
        return self.kind == "tokenless"

    @property
    def applicant_kyc_share(self) -> float:
        """The share of one application's KYC cost the applicant pays: 1, 0 or 1/2."""
        return {"applicant": 1.0, "orchestrator": 0.0, "split": 0.5}[self.kyc_paid_by]


@dataclass(frozen=True)
class Scenario:
    """One network and its tokenomics: everything a run needs besides the seed."""

    name: str = param("unnamed", "Short name shown in summaries and reports.")
    description: str = param("", "Free text about the scenario.")
    rounds: int = param(200, "Rounds (epochs) to simulate.", ge=1, le=MAX_ROUNDS)
    seed: int = param(0, "Default seed of a run when none is given.", ge=0, le=MAX_SEED)
    population: Population = param(Population(), "Participants by strategy.")
    token: Token = param(Token(), "Token supply and price.")
    staking: Staking = param(Staking(), "Stake, registration and unbonding.")
    stakes: Stakes = param(Stakes(), "Spread of stakes and delegation.")
    market: Market = param(Market(), "Token market (token.price_model = 'market').")
    fees: Fees = param(Fees(), "Inference fees paid by the model's users.")
    insurance: Insurance = param(Insurance(), "Insurance claims by users of a degraded model.")
    emission: Emission = param(Emission(), "Emission schedule and split.")
    rewards: Rewards = param(Rewards(), "Trainer reward rule.")
    yuma: Yuma = param(Yuma(), "Yuma Consensus (rewards.rule = 'yuma').")
    slashing: Slashing = param(Slashing(), "Slashing policy.")
    detection: Detection = param(Detection(), "Detection of cheating.")
    fl: FL = param(FL(), "Mechanistic federated learning (detection.mode = 'mechanistic').")
    behaviour: Behaviour = param(Behaviour(), "What cheating submissions look like.")
    quality: Quality = param(Quality(), "Global model quality.")
    costs: Costs = param(Costs(), "Fiat costs and gains.")
    dropout: Dropout = param(Dropout(), "Availability.")
    adaptation: Adaptation = param(Adaptation(), "Strategy revision, exit and entry.")
    regime: Regime = param(Regime(), "Token network or tokenless orchestrator.")

    def problems(self, path: str) -> list[str]:
        # The token sections' own rules bind only a token network: a tokenless one ignores them.
        out = self._staking_problems() if self.regime.kind == "token" else []
        out += self._listed_stakes_problems()
        out += self._fl_problems()
        entrants = _entrant_identities(self)
        if entrants and self.trainer_identities + self.validators + entrants > MAX_IDENTITIES:
            out.append(
                f"adaptation.entry_candidates = {self.adaptation.entry_candidates:_} is not allowed here: "
                f"with their {entrants:_} identities the run would hold more than "
                f"MAX_IDENTITIES = {MAX_IDENTITIES:_}"
            )
        if any(p.startswith("stakes.validator_stakes_tokens") for p in out):
            return out  # the genesis need is undefined without one stake per validator
        need, supply = genesis_allocation_tokens(self), self.token.genesis_supply_tokens
        if need > supply:
            need_text = f"{need:g}" if f"{need:g}" != f"{supply:g}" else repr(need)  # show that it exceeds
            out += [
                f"token.genesis_supply_tokens = {supply:g} is not allowed: "
                f"the population needs {need_text} tokens at genesis ({_genesis_parts_text(self)}); raise "
                "the supply or shrink the population or its stakes"
            ]
        return out

    def _fl_problems(self) -> list[str]:
        """Mechanistic mode: the data must give every validator its set and every trainer a sample."""
        if self.detection.mode != "mechanistic":
            return []
        f = self.fl
        samples = DIGITS_SAMPLES if f.dataset == "digits" else f.synthetic_samples
        test = round(f.test_share * samples)
        held = self.validators * f.validator_samples
        trainers = self.trainer_identities + _entrant_identities(self)
        left = samples - test - held
        if left >= trainers:
            return []
        return [
            f"fl.dataset = {f.dataset!r} has {samples:_} samples, which is not enough here: the test set "
            f"takes {test:_} (fl.test_share = {f.test_share:g}) and {self.validators} validators take "
            f"fl.validator_samples = {f.validator_samples:_} each, leaving {max(left, 0):_} for "
            f"{trainers:_} trainer identities (at least one each); shrink the sets or the population"
            + (", or raise fl.synthetic_samples" if f.dataset == "synthetic" else "")
        ]

    def _listed_stakes_problems(self) -> list[str]:
        """A listed validator stake per validator, honest and copying ones alike."""
        st = self.stakes
        if st.validator_distribution != "listed":
            return []
        n, listed = self.validators, len(st.validator_stakes_tokens)
        if listed != n:
            p = self.population
            return [
                f"stakes.validator_stakes_tokens lists {listed} stakes, which is not allowed: "
                f"stakes.validator_distribution = 'listed' needs one per validator, {n} here "
                f"({p.honest_validators} honest and {p.copying_validators} copying, in that order)"
            ]
        return []

    def _staking_problems(self) -> list[str]:
        """Rules between the staking and reward keys (a token network's)."""
        out = []
        st, k = self.staking, self.population.sybil_identities_per_owner
        if st.trainer_stake_tokens and st.trainer_stake_tokens < st.min_trainer_stake_tokens:
            out.append(
                f"staking.trainer_stake_tokens = {st.trainer_stake_tokens:g} is not allowed: an owner must "
                f"bond at least staking.min_trainer_stake_tokens = {st.min_trainer_stake_tokens:g} "
                "(or set it to 0)"
            )
        elif st.trainer_stake_tokens and st.trainer_stake_tokens / k < st.min_trainer_stake_tokens * (
            1 - 1e-12
        ):
            out.append(
                f"staking.trainer_stake_tokens = {st.trainer_stake_tokens:g} is not allowed with "
                f"population.sybil_identities_per_owner = {k}: split over {k} identities it leaves each "
                f"{st.trainer_stake_tokens / k:g} tokens, below staking.min_trainer_stake_tokens = "
                f"{st.min_trainer_stake_tokens:g}; bond at least {k * st.min_trainer_stake_tokens:g} "
                "or lower k"
            )
        if self.rewards.rule == "stake_weighted" and self.staking.min_trainer_stake_tokens <= 0:
            out.append(
                "rewards.rule = 'stake_weighted' is not allowed with staking.min_trainer_stake_tokens = 0: "
                "with no stake there is nothing to weight by"
            )
        return out

    @property
    def trainer_identities(self) -> int:
        """Trainer identities, counting each Sybil identity once."""
        p = self.population
        return (
            p.honest_trainers
            + p.lazy_trainers
            + p.sybil_owners * p.sybil_identities_per_owner
            + p.poisoning_trainers
        )

    @property
    def validators(self) -> int:
        """Validators of both strategies."""
        return self.population.honest_validators + self.population.copying_validators


def identity_stake_tokens(s: Scenario, identities_per_owner: int = 1) -> float:
    """Stake one trainer identity bonds when its owner runs ``identities_per_owner`` identities.

    ``staking.trainer_stake_tokens`` is what each trainer owner bonds in all, split evenly over a
    Sybil owner's identities; when it is 0 every identity bonds exactly the minimum.
    """
    st = s.staking
    if st.trainer_stake_tokens:
        return st.trainer_stake_tokens / identities_per_owner
    return st.min_trainer_stake_tokens


TRAINER_STRATEGY_NAMES = ("honest", "lazy", "sybil", "poisoning")


def candidate_owners(s: Scenario) -> dict[str, int]:
    """Potential entrants per trainer strategy: ``entry_candidates`` split by the entry shares.

    Largest remainder, ties to the earlier strategy, so the counts add up exactly and need no draw.
    """
    a = s.adaptation
    shares = [a.entry_honest_share, a.entry_lazy_share, a.entry_sybil_share, a.entry_poisoning_share]
    total = sum(shares)
    if a.entry_candidates == 0 or total == 0:
        return dict.fromkeys(TRAINER_STRATEGY_NAMES, 0)
    exact = [a.entry_candidates * x / total for x in shares]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(4), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: a.entry_candidates - sum(counts)]:
        counts[i] += 1
    return dict(zip(TRAINER_STRATEGY_NAMES, counts, strict=True))


def _entrant_identities(s: Scenario) -> int:
    """Trainer identities of the candidate owners waiting outside (a Sybil candidate brings k)."""
    candidates = candidate_owners(s)
    return sum(candidates.values()) + candidates["sybil"] * (s.population.sybil_identities_per_owner - 1)


def trainer_owner_sizes(s: Scenario) -> dict[int, int]:
    """Trainer owners by identities per owner, starting owners and entry candidates alike:
    ``{1: single-identity owners, k: Sybil owners}`` (one entry when k = 1)."""
    p = s.population
    k = p.sybil_identities_per_owner
    candidates = candidate_owners(s)
    single = p.honest_trainers + p.lazy_trainers + p.poisoning_trainers
    single += candidates["honest"] + candidates["lazy"] + candidates["poisoning"]
    sizes = {1: single}
    sizes[k] = sizes.get(k, 0) + p.sybil_owners + candidates["sybil"]
    return sizes


def _genesis_parts(s: Scenario) -> dict[str, float]:
    """The genesis allocation by part, in tokens (see :func:`genesis_allocation_tokens`)."""
    from model import stakes  # model.stakes imports this module

    st = s.staking
    extra = st.initial_liquid_tokens + st.registration_cost_tokens
    identities = sum(k * owners for k, owners in trainer_owner_sizes(s).items()) + s.validators
    market = s.token.price_model == "market"
    return {
        "trainer stakes": stakes.total_trainer_stake_tokens(s),
        "validator stakes": stakes.total_validator_stake_tokens(s),
        "delegated stake": s.stakes.delegated_tokens,
        "liquid buffers and registrations": identities * extra,
        "market pool": s.market.pool_tokens if market else 0.0,
        "speculators": s.market.speculator_tokens if market else 0.0,
    }


def _genesis_parts_text(s: Scenario) -> str:
    """``trainer stakes 1e+04 + validator stakes 1e+04 + ...`` (the parts that are not 0)."""
    return " + ".join(f"{name} {value:g}" for name, value in _genesis_parts(s).items() if value)


def genesis_allocation_tokens(s: Scenario) -> float:
    """Tokens the population holds or burns at genesis: stakes, delegated stake, liquid buffers and
    registrations; and with a market, the pool's tokens and the speculators'.

    Stakes are the exact totals ``model.stakes`` deals (every run the same, whatever the seed);
    potential entrants hold their stake, buffer and registration outside the network from genesis.
    In the tokenless regime nobody holds a token: 0.
    """
    if s.regime.tokenless:
        return 0.0
    return sum(_genesis_parts(s).values())


def scenario_from_dict(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Build and validate a scenario from a nested dict; raise ScenarioError naming every problem."""
    try:
        return build(Scenario, data)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; refuse it (ScenarioError) if anything in it is wrong.

    The file must be a regular UTF-8 file of at most ``model.limits.MAX_FILE_BYTES``.
    """
    data = read_toml_file(path, "scenario")  # refuses devices, huge files, deep nesting (model.limits)
    return scenario_from_dict(data, str(path))


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data['a']['b'] = value`` for ``dotted = 'a.b'``, creating tables on the way."""
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ScenarioError([f"{dotted!r}: {key!r} is a value, not a table"])
        node = child
    node[leaf] = value


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted keys replaced, e.g. ``{"slashing.slash_fraction": 0.3}``.

    The result is validated like a file: an unknown key or a bad value raises ScenarioError.
    """
    data = to_dict(scenario)
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)
    return scenario_from_dict(data)


def scenario_keys() -> list[str]:
    """Every dotted leaf key a scenario accepts."""
    return [row[0] for row in field_docs(Scenario)]


def did_you_mean(word: Any, allowed: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the allowed name closest to ``word``, or ``""`` if none is close.

    For error messages: ``f"unknown key {key!r}{did_you_mean(key, keys)}"``. Dotted scenario keys are
    compared whole, so ``slashing.slash_fractoin`` and ``slash_fraction`` both find
    ``slashing.slash_fraction``.
    """
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def _key_types() -> dict[str, type]:
    """Every dotted leaf key of a scenario and the Python type of its value."""
    out: dict[str, type] = {}

    def walk(cls: type, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            kind = _field_kind(cls, f)
            if dataclasses.is_dataclass(kind):
                walk(kind, f"{prefix}{f.name}.")
            else:
                out[f"{prefix}{f.name}"] = tuple if is_number_list(kind) else kind

    walk(Scenario, "")
    return out


def value_problem(dotted: str, value: Any) -> str | None:
    """What is wrong with ``value`` for the scenario key ``dotted`` on its own — its type, range or
    choices, not the rules that relate it to other keys — or None when it is allowed there."""
    cls, *parents, leaf = (Scenario, *dotted.split("."))
    for name in parents:
        cls = _field_kind(cls, next(f for f in dataclasses.fields(cls) if f.name == name))
    field = next(f for f in dataclasses.fields(cls) if f.name == leaf)
    return _check_value(dotted, value, field, _field_kind(cls, field))[1]


def key_type(dotted: str) -> type:
    """The Python type of a scenario key's value: ``float``, ``int``, ``str``, ``bool`` or ``tuple``
    (a list of numbers, such as ``stakes.validator_stakes_tokens``).

    E.g. ``key_type("slashing.slash_fraction") is float``. An unknown key raises ScenarioError
    naming the closest key.
    """
    types = _key_types()
    if dotted in RETIRED_KEYS:
        raise ScenarioError([f"{dotted!r} was retired: {RETIRED_KEYS[dotted]}"])
    if dotted not in types:
        raise ScenarioError([f"{dotted!r} is not a scenario key{did_you_mean(dotted, types)}"])
    return types[dotted]


__all__ = [
    "Regime",
    "Scenario",
    "ScenarioError",
    "Stakes",
    "Yuma",
    "did_you_mean",
    "genesis_allocation_tokens",
    "key_type",
    "load_scenario",
    "scenario_from_dict",
    "scenario_keys",
    "with_overrides",
]
