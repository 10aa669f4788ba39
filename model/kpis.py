"""Reducing a run to KPIs: fiat profit per owner and per unit of capital, margins, totals.

Payoffs are compared per owner and per unit of capital committed (see the README, "Accounting"):
a Sybil owner's k identities are one player. The books behind them are ``model.books``.

Some KPIs mean nothing in one regime: a token's (``pi_<s>``, stakes, minted, slashed, burned,
insurance, treasury) in the tokenless regime, an orchestrator's (fees, wages, KYC, budget returned,
re-admissions, KYC refusals) in the token regime. They are reported as absent — NaN, with the
reason in ``NAN_REASONS`` — never as zero. In the tokenless regime, where nobody commits capital,
the margins compare fiat profit per owner per round instead of ``pi``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRAINER_DEVIATIONS = ("lazy", "sybil", "poisoning")
VALIDATOR_DEVIATIONS = ("copying_validator",)

#: Meaning and unit of every KPI a run reports (``<s>`` stands for each strategy name).
KPI_DOCS = {
    "pi_<s>": "mean fiat profit per round per unit of capital of owners playing strategy <s>",
    "profit_fiat_per_round_<s>": "mean fiat profit per round of one owner playing <s>",
    "flag_rate_<s>": "fraction of <s>'s submissions (trainers) that were flagged",
    "stake_share_<s>": "share of all bonded stake held by <s> at the end of the run",
    "margin_trainers": "pi_honest minus the best pi among the trainer deviations present (tokenless: the "
    "same with profit_fiat_per_round_<s>, in fiat per owner per round)",
    "margin_validators": "pi_honest_validator minus pi_copying_validator (tokenless: the same with "
    "profit_fiat_per_round_<s>; under yuma with a cabal, pi of the honest validators outside the cabal)",
    "minted_tokens": "tokens minted by emission over the run",
    "slashed_tokens": "tokens slashed over the run",
    "burned_tokens": "tokens burned over the run (registrations and slashes)",
    "insurance_tokens": "tokens in the insurance pool at the end",
    "treasury_tokens": "tokens in the network owner's treasury at the end",
    "final_quality": "global model quality index after the last round, in [0, 1]",
    "mean_quality": "global model quality index averaged over rounds, in [0, 1]",
    "mean_honest_validator_share": "honest validators' share of active validation stake, mean",
    "honest_trainer_share_initial": "honest owners' share of active trainer owners at the start",
    "honest_trainer_share_final": "honest owners' share of active trainer owners after the last round",
    "honest_validator_share_initial": "honest validators' share of active validators at the start",
    "honest_validator_share_final": "honest validators' share of active validators after the last round",
    "rounds_to_honest_share_level": "rounds until the honest trainer share first reached "
    "adaptation.honest_share_level (0: it started there)",
    "entered_owners": "owners that joined during the run",
    "exited_owners": "owners that left during the run (by choice, out of stake, or ejected)",
    "fees_paid_fiat": "tokenless: service fees the orchestrator paid over the run, in fiat",
    "wages_paid_fiat": "tokenless: wages the orchestrator paid its validators over the run, in fiat",
    "kyc_paid_fiat": "tokenless: KYC paid over the run, by applicants and the orchestrator, in fiat",
    "budget_returned_fiat": "tokenless: fee budget not spent and returned to the consortium, in fiat",
    "readmitted_identities": "tokenless: identities re-admitted after an ejection",
    "kyc_refused_identities": "tokenless: KYC applications refused as duplicates of a known owner",
    "network_cost_fiat_per_round": "what running the network cost per round, in fiat: minted tokens x price "
    "(token) or fees + wages + the orchestrator's KYC share (tokenless)",
    "slashed_fiat_per_round": "tokens slashed x price per round, in fiat",
    "ejected_identities": "identities ejected after their strikes (slashing.ejection_strikes or "
    "regime.ejection_strikes)",
    "trainer_owners_initial": "trainer owners in the network at the start (a Sybil owner counts once)",
    "trainer_owners_retained": "of the trainer owners at the start, those still in the network after the "
    "last round (entrants not counted)",
    "trainer_owners_final": "trainer owners still in the network after the last round (ejected, barred, "
    "out of stake or gone by choice: not counted)",
    "copier_dividend_ratio": "yuma: G, a copying validator's validator-pool tokens per unit of stake weight "
    "(own stake at entry + delegated) per round it voted, mean over copiers, divided by the median of the "
    "same over honest validators outside the cabal (G > 1: copying out-earns evaluating per unit of stake)",
    "cabal_stake_share": "yuma: the share of validators' stake weight in the cabal (0: no cabal)",
    "copier_stake_share": "yuma: the share of validators' stake weight held by copying validators at the "
    "start",
    "cabal_trainer_emission_share": "yuma: share of the trainers' emission paid to the cabal's own trainers",
    "validator_trust_honest_validator": "yuma: mean validator trust (share of its weight consensus keeps) of "
    "validators over the rounds they voted honestly",
    "validator_trust_copying_validator": "yuma: mean validator trust of validators over the rounds they "
    "voted as copiers",
    "validator_slashes": "yuma: validator slashes for straying from consensus (yuma.validator_slash_*)",
    "validator_slashed_tokens": "yuma: tokens slashed from validators for straying from consensus",
    "fl_test_loss": "mechanistic: the global model's mean cross-entropy on the test set after the last "
    "round, in nats (its test accuracy is final_quality)",
    "fl_clean_accuracy": "mechanistic: test accuracy of the clean twin, a model trained on the same rounds "
    "by the honest submissions alone (fl.clean_twin)",
    "fl_accuracy_lost": "mechanistic: fl_clean_accuracy minus final_quality: the test accuracy the cheaters "
    "cost (negative when the network's model ended better)",
    "fl_poison_entered_share": "mechanistic: of the poisoned submissions, the share that entered the "
    "aggregate (accepted, and selected or weighted above 0 by the aggregator; under the coordinate-wise "
    "median and trimmed mean each counts by the share of its coordinates the rule kept)",
    "fl_lazy_score": "mechanistic: honest validators' mean score of lazy submissions over their mean score "
    "of honest ones (what behaviour.lazy_score stands for in abstract mode)",
    "fl_poison_score": "mechanistic: the same for poisoned submissions (behaviour.poison_score)",
    "final_price_fiat": "the token's price after the last round, fiat per token (fixed: token.price_fiat)",
    "min_price_fiat": "the lowest token price after any round, fiat per token",
    "mean_price_fiat": "the token price after each round, averaged over the rounds, fiat per token",
    "queries_per_round": "users' queries per round, mean over the rounds",
    "fees_fiat_per_round": "inference fees users paid per round, mean over the rounds, in fiat",
    "fees_burned_tokens": "tokens burned from fees over the run (fees.burn_share)",
    "claims_filed_fiat": "insurance claims users filed over the run, in fiat",
    "claims_paid_fiat": "insurance claims the pool paid over the run, in fiat at the price when paid",
    "claims_unpaid_fiat": "claims_filed_fiat minus claims_paid_fiat",
    "coverage_ratio": "claims_paid_fiat / claims_filed_fiat: the share of claims the insurance pool covered",
    "insolvent_rounds": "rounds whose claims the insurance pool could not pay in full",
    "halving_1_round": "the round in which issuance crossed the first halving threshold (emission.schedule = "
    "'halving')",
    "halving_2_round": "the round in which issuance crossed the second halving threshold",
    "pi_honest_after_halving_1": "pi_honest over the rounds after the first halving",
    "pi_honest_after_halving_2": "pi_honest over the rounds after the second halving",
    "margin_trainers_after_halving_1": "margin_trainers over the rounds after the first halving",
    "margin_trainers_after_halving_2": "margin_trainers over the rounds after the second halving",
}

#: The KPIs of adaptation (owners' strategy shares, entry and exit), in ``kpi_names`` order.
ADAPTATION_KPIS = (
    "honest_trainer_share_initial",
    "honest_trainer_share_final",
    "honest_validator_share_initial",
    "honest_validator_share_final",
    "rounds_to_honest_share_level",
    "entered_owners",
    "exited_owners",
)


#: KPIs of the tokenless regime's orchestrator (absent in the token regime), in ``kpi_names`` order.
ORCHESTRATOR_KPIS = (
    "fees_paid_fiat",
    "wages_paid_fiat",
    "kyc_paid_fiat",
    "budget_returned_fiat",
    "readmitted_identities",
    "kyc_refused_identities",
)
#: KPIs that compare the regimes (``slashed_fiat_per_round`` absent in the tokenless one), in order.
REGIME_KPIS = (
    *ORCHESTRATOR_KPIS,
    "network_cost_fiat_per_round",
    "slashed_fiat_per_round",
    "ejected_identities",
    "trainer_owners_initial",
    "trainer_owners_final",
    "trainer_owners_retained",
)
#: KPIs of the validators' votes under Yuma Consensus (absent under the other reward rules), in order.
YUMA_KPIS = (
    "copier_dividend_ratio",
    "cabal_stake_share",
    "copier_stake_share",
    "cabal_trainer_emission_share",
    "validator_trust_honest_validator",
    "validator_trust_copying_validator",
    "validator_slashes",
    "validator_slashed_tokens",
)
NO_VOTES = "validators vote only under rewards.rule = 'yuma' in the token regime"
#: KPIs of the mechanistic task (absent in abstract mode), in ``kpi_names`` order.
FL_KPIS = (
    "fl_test_loss",
    "fl_clean_accuracy",
    "fl_accuracy_lost",
    "fl_poison_entered_share",
    "fl_lazy_score",
    "fl_poison_score",
)
NO_TASK = "only detection.mode = 'mechanistic' trains a real model"
#: KPIs of the token economy (``model.economy``) and of emission halvings, in ``kpi_names`` order.
PRICE_KPIS = ("final_price_fiat", "min_price_fiat", "mean_price_fiat")
FEE_KPIS = ("queries_per_round", "fees_fiat_per_round", "fees_burned_tokens")
CLAIM_KPIS = (
    "claims_filed_fiat",
    "claims_paid_fiat",
    "claims_unpaid_fiat",
    "coverage_ratio",
    "insolvent_rounds",
)
HALVING_KPIS = (
    "halving_1_round",
    "halving_2_round",
    "pi_honest_after_halving_1",
    "pi_honest_after_halving_2",
    "margin_trainers_after_halving_1",
    "margin_trainers_after_halving_2",
)
ECONOMY_KPIS = (*PRICE_KPIS, *FEE_KPIS, *CLAIM_KPIS, *HALVING_KPIS)
NO_USERS = "fees.queries_per_round = 0: the model has no users"
NO_HALVING = "emission.schedule is not 'halving' (or the regime is tokenless)"

#: Token KPIs (absent in the tokenless regime) besides the per-strategy ``pi_<s>`` and ``stake_share_<s>``.
TOKEN_KPIS = ("minted_tokens", "slashed_tokens", "burned_tokens", "insurance_tokens", "treasury_tokens")

NO_TOKEN = "the tokenless regime has no token"
NO_ORCHESTRATOR = "the token regime has no orchestrator, fee budget or KYC"


class KPIRangeError(ArithmeticError):
    """A KPI left the finite range of float64 (±inf): the run is refused rather than written."""


#: Why a KPI may be NaN: the only reasons a run reports "no value" instead of a number.
NAN_REASONS = {
    "pi_<s>": f"no owner played <s>, or its owners commit no capital (zero stake and buffer); or {NO_TOKEN}",
    "profit_fiat_per_round_<s>": "no owner played <s>",
    "flag_rate_<s>": "no submission by <s> (none present, or all away or deregistered)",
    "stake_share_<s>": f"no stake bonded by anyone at the end; or {NO_TOKEN}",
    "margin_trainers": "pi_honest is NaN, or pi of every trainer deviation is (tokenless: the same of "
    "profit_fiat_per_round_<s>)",
    "margin_validators": "pi_honest_validator or pi_copying_validator is NaN (tokenless: the same of "
    "profit_fiat_per_round_<s>; under yuma with a cabal: every honest validator is in the cabal)",
    **dict.fromkeys(TOKEN_KPIS, NO_TOKEN),
    **dict.fromkeys(ORCHESTRATOR_KPIS, NO_ORCHESTRATOR),
    "slashed_fiat_per_round": NO_TOKEN,
    "honest_trainer_share_<initial|final>": "no trainer owner active at that time",
    "honest_validator_share_<initial|final>": "no validator active at that time",
    "rounds_to_honest_share_level": "the honest trainer share never reached the level",
    **dict.fromkeys(YUMA_KPIS, NO_VOTES),
    "copier_dividend_ratio": f"no copying or no honest validator outside the cabal voted, or the honest "
    f"ones earned nothing; or {NO_VOTES}",
    "cabal_trainer_emission_share": f"no cabal (yuma.cabal_stake_share rounds to no validator), or no "
    f"trainer was paid (a cabal with no trainers of its own votes every trainer down); or {NO_VOTES}",
    "validator_trust_<honest_validator|copying_validator>": "no validator of that strategy voted; or "
    + NO_VOTES,
    **dict.fromkeys(FL_KPIS, NO_TASK),
    "fl_clean_accuracy": f"fl.clean_twin = false, or no honest trainer ever submitted; or {NO_TASK}",
    "fl_accuracy_lost": f"fl.clean_twin = false, or no honest trainer ever submitted; or {NO_TASK}",
    "fl_poison_entered_share": f"no poisoned submission; or {NO_TASK}",
    "fl_lazy_score": f"no lazy submission was scored, or honest ones scored 0 on average; or {NO_TASK}",
    "fl_poison_score": f"no poisoned submission was scored, or honest ones scored 0 on average; or {NO_TASK}",
    **dict.fromkeys(PRICE_KPIS, NO_TOKEN),
    **dict.fromkeys(FEE_KPIS, f"{NO_USERS}; or {NO_TOKEN}"),
    **dict.fromkeys(CLAIM_KPIS, f"{NO_USERS}, or insurance.claim_fiat_per_query = 0; or {NO_TOKEN}"),
    "coverage_ratio": f"no claim was filed (no visible poisoning), or insurance.claim_fiat_per_query = 0, or "
    f"{NO_USERS}; or {NO_TOKEN}",
    **{
        f"halving_{k}_round": f"issuance never reached halving {k}'s threshold in the run; or {NO_HALVING}"
        for k in (1, 2)
    },
    **{
        f"pi_honest_after_halving_{k}": f"no halving {k} in the run, or no honest owner with capital played "
        f"after it; or {NO_HALVING}"
        for k in (1, 2)
    },
    **{
        f"margin_trainers_after_halving_{k}": f"no halving {k} in the run, or pi_honest or every deviation's "
        f"pi is NaN after it; or {NO_HALVING}"
        for k in (1, 2)
    },
}


def check_finite(kpis: dict[str, float]) -> None:
    """Raise KPIRangeError naming every KPI that is +inf or -inf (NaN has its reasons, NAN_REASONS).

    The scenario schema's bounds (``model.limits``) keep every KPI finite; this is the guard that
    says which one left the range rather than writing ``inf`` into a results table.
    """
    bad = [f"{name} = {value!r}" for name, value in kpis.items() if math.isinf(value)]
    if bad:
        raise KPIRangeError(
            f"{', '.join(bad)}: outside the finite range of float64 (about ±1.8e308); the scenario's "
            "token amounts, price or costs are too extreme for this KPI (see model.limits)"
        )


def kpi_names(strategies: list[str]) -> list[str]:
    """The keys of ``run_kpis`` for a network with these strategies, in order."""
    names = []
    for name in strategies:
        names += [f"pi_{name}", f"profit_fiat_per_round_{name}"]
        if not name.endswith("_validator"):
            names.append(f"flag_rate_{name}")
        names.append(f"stake_share_{name}")
    return [
        *names,
        "margin_trainers",
        "margin_validators",
        "minted_tokens",
        "slashed_tokens",
        "burned_tokens",
        "insurance_tokens",
        "treasury_tokens",
        "final_quality",
        "mean_quality",
        "mean_honest_validator_share",
        *ADAPTATION_KPIS,
        *REGIME_KPIS,
        *YUMA_KPIS,
        *FL_KPIS,
        *ECONOMY_KPIS,
    ]


def by_strategy(net, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one per identity) over each strategy now played, in ``net.strategies`` order."""
    return np.bincount(net.strategy_index, weights=values, minlength=len(net.strategies))


def capital_fiat_per_owner(net) -> np.ndarray:
    """Capital one owner of each strategy commits (stake + buffer of all its identities), in fiat."""
    return _per_strategy(net, net.capital_fiat * net.identities_per_owner)


def _per_strategy(net, per_row: np.ndarray) -> np.ndarray:
    """``per_row`` read at the first row laid out for each strategy (NaN for a strategy with none)."""
    out = np.full(len(net.strategies), np.nan)
    for cls, rows in net.type_rows.items():
        if rows.stop > rows.start:
            out[net.strategies.index(cls.strategy)] = per_row[rows.start]
    return out


def strategy_figures(net) -> dict[str, np.ndarray]:
    """Per-strategy figures (arrays in ``net.strategies`` order): the numbers behind every KPI.

    From the books (``model.books``): ``owners`` (at the start), ``owners_final`` (active at the
    end), ``capital_fiat_per_owner``, ``profit_fiat_per_round_per_owner`` (profit booked to the
    strategy per owner-round played), ``pi`` (profit per unit of capital per round, i.e. profit ÷
    capital-rounds booked to the strategy), ``flag_rate`` (flags per submission) and
    ``stake_share`` (of all bonded stake at the end); NaN where a strategy has no owners, capital
    or submissions, and ``pi`` and ``stake_share`` NaN throughout in the tokenless regime.
    ``identities`` counts those registered at the start (tokenless: those KYC admitted).
    """
    net.close_books()
    profit, capital_rounds, owner_rounds, submissions, flags = net.books.totals.T
    stake = by_strategy(net, net.ledger.stake)
    total_stake = stake.sum()
    final = np.bincount(
        net.strategy_index[net.owner_first[net.owner_state == 1]], minlength=len(net.strategies)
    )
    absent = np.full(len(net.strategies), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "owners": net.initial_owner_counts,
            "identities": net.initial_identities,
            "owners_final": final,
            "capital_fiat_per_owner": capital_fiat_per_owner(net),
            "profit_fiat_per_round_per_owner": np.where(owner_rounds > 0, profit / owner_rounds, np.nan),
            "pi": absent if net.tokenless else np.where(capital_rounds > 0, profit / capital_rounds, np.nan),
            "flag_rate": np.where(submissions > 0, flags / submissions, np.nan),
            "stake_share": stake / total_stake if total_stake > 0 else absent.copy(),
        }


def strategy_table(net, figures: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per strategy: its regime (``token`` or ``tokenless``), owners, capital, profit per round
    and per capital, flags, stake."""
    figures = strategy_figures(net) if figures is None else figures
    roles = ["validator" if n.endswith("_validator") else "trainer" for n in net.strategies]
    regime = [net.scenario.regime.kind] * len(roles)
    return pd.DataFrame(
        {"role": roles, "regime": regime, **figures}, index=pd.Index(net.strategies, name="strategy")
    )


def margin(pi: dict[str, float], honest: str, deviations: tuple[str, ...]) -> float:
    """``pi[honest]`` minus the best deviation's pi; NaN when either side has no owners."""
    others = [pi[d] for d in deviations if not math.isnan(pi.get(d, math.nan))]
    base = pi.get(honest, math.nan)
    if not others or math.isnan(base):
        return math.nan
    return base - max(others)


def run_kpis(net, figures: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """The run's KPIs as a flat dict of floats (see ``KPI_DOCS``), in ``kpi_names`` order."""
    f = strategy_figures(net) if figures is None else figures
    kpis: dict[str, float] = {}
    for i, name in enumerate(net.strategies):
        kpis[f"pi_{name}"] = float(f["pi"][i])
        kpis[f"profit_fiat_per_round_{name}"] = float(f["profit_fiat_per_round_per_owner"][i])
        if not name.endswith("_validator"):
            kpis[f"flag_rate_{name}"] = float(f["flag_rate"][i])
        kpis[f"stake_share_{name}"] = float(f["stake_share"][i])
    payoff = f["profit_fiat_per_round_per_owner"] if net.tokenless else f["pi"]
    pi = dict(zip(net.strategies, payoff.tolist(), strict=True))
    kpis["margin_trainers"] = margin(pi, "honest", TRAINER_DEVIATIONS)
    kpis["margin_validators"] = margin(pi, "honest_validator", VALIDATOR_DEVIATIONS)
    if net.votes is not None and net.votes.cabal.any():  # the cabal's members are no honest benchmark
        pi["honest_validator"] = _pi_outside_cabal(net)
        kpis["margin_validators"] = margin(pi, "honest_validator", VALIDATOR_DEVIATIONS)
    ledger = net.ledger
    kpis["minted_tokens"] = ledger.minted_tokens
    kpis["slashed_tokens"] = ledger.slashed_tokens
    kpis["burned_tokens"] = ledger.burned_tokens
    kpis["insurance_tokens"] = ledger.insurance_tokens
    kpis["treasury_tokens"] = ledger.treasury_tokens
    if net.tokenless:
        kpis.update(dict.fromkeys(TOKEN_KPIS, math.nan))
    kpis["final_quality"] = float(net.quality)
    kpis["mean_quality"] = float(net.recorder.series("quality").mean()) if net.round else math.nan
    kpis["mean_honest_validator_share"] = (
        float(net.recorder.series("honest_validator_share").mean()) if net.round else math.nan
    )
    start, end = net.initial_shares, net.owner_shares()
    honest_validator = net.strategies.index("honest_validator")
    kpis["honest_trainer_share_initial"] = float(start[0])
    kpis["honest_trainer_share_final"] = float(end[0])
    kpis["honest_validator_share_initial"] = float(start[honest_validator])
    kpis["honest_validator_share_final"] = float(end[honest_validator])
    kpis["rounds_to_honest_share_level"] = float(net.rounds_to_honest_level)
    kpis["entered_owners"] = float(net.entered_owners)
    kpis["exited_owners"] = float(net.exited_owners)
    kpis.update(regime_kpis(net))
    kpis.update(yuma_kpis(net))
    kpis.update(fl_kpis(net))
    kpis.update(economy_kpis(net))
    return kpis


def economy_kpis(net) -> dict[str, float]:
    """``ECONOMY_KPIS``: the price, the users' fees and claims (``model.economy``) and what trainers
    earned after each halving (``model.halvings``); NaN where the run has none of it."""
    kpis = dict.fromkeys(ECONOMY_KPIS, math.nan)
    if net.tokenless:
        return kpis
    economy = net.economy
    if economy is None or not economy.market:
        kpis.update(dict.fromkeys(PRICE_KPIS, net.scenario.token.price_fiat))
    else:
        kpis["final_price_fiat"] = economy.price_fiat
        kpis["min_price_fiat"] = economy.min_price_fiat
        kpis["mean_price_fiat"] = economy.mean_price_fiat()
    s = net.scenario
    if economy is not None and s.fees.queries_per_round > 0:
        rounds = max(economy.rounds, 1)
        kpis["queries_per_round"] = economy.queries_total / rounds
        kpis["fees_fiat_per_round"] = economy.fees_total_fiat / rounds
        kpis["fees_burned_tokens"] = economy.fees_burned_tokens
        if s.insurance.claim_fiat_per_query > 0:
            filed, paid = economy.claims_filed_total_fiat, economy.claims_paid_total_fiat
            kpis["claims_filed_fiat"] = filed
            kpis["claims_paid_fiat"] = paid
            kpis["claims_unpaid_fiat"] = filed - paid
            kpis["coverage_ratio"] = paid / filed if filed > 0 else math.nan
            kpis["insolvent_rounds"] = float(economy.insolvent_rounds)
    watch = net.halvings
    if watch is not None:
        for k, (round_index, books) in enumerate(zip(watch.rounds, watch.books, strict=True), start=1):
            books.book(net)
            profit, capital_rounds = books.totals[:, 0], books.totals[:, 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                pi = np.where(capital_rounds > 0, profit / capital_rounds, np.nan)
            kpis[f"halving_{k}_round"] = float(round_index)
            kpis[f"pi_honest_after_halving_{k}"] = float(pi[0])
            kpis[f"margin_trainers_after_halving_{k}"] = margin(
                dict(zip(net.strategies, pi.tolist(), strict=True)), "honest", TRAINER_DEVIATIONS
            )
    return kpis


def fl_kpis(net) -> dict[str, float]:
    """``FL_KPIS``: what the mechanistic task measured (NaN in abstract mode, ``model.fl.task``)."""
    kpis = dict.fromkeys(FL_KPIS, math.nan)
    task = net.task
    if task is None:
        return kpis
    kpis["fl_test_loss"] = task.loss
    if task.twin is not None and task.twin_rounds:
        kpis["fl_clean_accuracy"] = task.twin_accuracy
        kpis["fl_accuracy_lost"] = task.twin_accuracy - task.accuracy
    if task.poison_submitted > 0:
        kpis["fl_poison_entered_share"] = task.poison_entered / task.poison_submitted
    kpis["fl_lazy_score"] = task.relative_score(1)
    kpis["fl_poison_score"] = task.relative_score(3)
    return kpis


def regime_kpis(net) -> dict[str, float]:
    """``REGIME_KPIS``: what the orchestrator paid (tokenless), what the network cost, ejections."""
    rounds = max(net.round, 1)
    kpis = dict.fromkeys(REGIME_KPIS, math.nan)
    if net.tokenless:
        fiat, orchestrator = net.fiat, net.orchestrator
        kpis["fees_paid_fiat"] = fiat.fees_paid_fiat
        kpis["wages_paid_fiat"] = fiat.wages_paid_fiat
        kpis["kyc_paid_fiat"] = fiat.kyc_total_fiat
        kpis["budget_returned_fiat"] = fiat.returned_fiat
        kpis["readmitted_identities"] = float(orchestrator.readmitted)
        kpis["kyc_refused_identities"] = float(orchestrator.refused)
        kpis["network_cost_fiat_per_round"] = fiat.network_cost_fiat() / rounds
    else:
        economy = net.economy
        if economy is None or not economy.market:
            price = net.scenario.token.price_fiat
            kpis["network_cost_fiat_per_round"] = net.ledger.minted_tokens * price / rounds
            kpis["slashed_fiat_per_round"] = net.ledger.slashed_tokens * price / rounds
        else:  # each round's tokens at that round's price
            kpis["network_cost_fiat_per_round"] = economy.minted_value_fiat / rounds
            kpis["slashed_fiat_per_round"] = economy.slashed_value_fiat / rounds
    kpis["ejected_identities"] = float(net.ejected_identities)
    # How big the network stays: ejecting everyone also makes cheating unprofitable.
    trainers = np.array([not name.endswith("_validator") for name in net.strategies])
    kpis["trainer_owners_initial"] = float(net.initial_owner_counts[trainers].sum())
    kpis["trainer_owners_final"] = float(net.active_owners[trainers].sum())
    starters = net.owner_is_trainer & (net.join_round[net.owner_first] == 0)
    kpis["trainer_owners_retained"] = float(np.count_nonzero(starters & (net.owner_state == 1)))  # 1: IN
    return kpis


def _pi_outside_cabal(net) -> float:
    """π of the honest validators outside the cabal (their profit ÷ capital-rounds over the run; with
    adaptation, a validator's whole run counts under its final strategy); NaN when there are none."""
    from model.books import committed_rounds, identity_profit_fiat

    nt = net.n_trainers
    rows = (net.strategy_index[nt:] == net.strategies.index("honest_validator")) & ~net.votes.cabal
    capital_rounds = float((net.capital_fiat * committed_rounds(net))[nt:][rows].sum())
    if capital_rounds <= 0:
        return math.nan
    return float(identity_profit_fiat(net)[nt:][rows].sum()) / capital_rounds


def yuma_kpis(net) -> dict[str, float]:
    """``YUMA_KPIS``: what the validators' votes did (NaN unless the network votes, ``model.voting``).

    Each validator's rounds count under the strategy it played in them (evaluating or copying), so
    a validator that switched is counted under both. G uses the validator-pool tokens earned per
    unit of the stake weight the validator brought (own stake at entry + delegated; a validator
    slash does not change it) and per round it voted (a copier's rounds before anything was
    revealed, when it abstains, do not count)."""
    kpis = dict.fromkeys(YUMA_KPIS, math.nan)
    votes = net.votes
    if votes is None:
        return kpis
    nt = net.n_trainers
    votes.book_roles(net.detects)
    tokens, trust, rounds = votes.by_role  # each validators × (evaluating, copying)
    weight = net.stake_required[nt:] + net.delegated_tokens
    with np.errstate(divide="ignore", invalid="ignore"):
        per_stake = tokens / (weight[:, None] * rounds)
    copiers = per_stake[rounds[:, 1] > 0, 1]
    evaluators = per_stake[(rounds[:, 0] > 0) & ~votes.cabal, 0]
    if copiers.size and evaluators.size and np.median(evaluators) > 0:
        kpis["copier_dividend_ratio"] = float(copiers.mean() / np.median(evaluators))
    kpis["cabal_stake_share"] = votes.cabal_share
    kpis["copier_stake_share"] = votes.copier_share
    if votes.cabal.any() and votes.trainer_tokens > 0:
        kpis["cabal_trainer_emission_share"] = votes.cabal_trainer_tokens / votes.trainer_tokens
    for role, name in enumerate(("honest_validator", "copying_validator")):
        if rounds[:, role].sum() > 0:
            kpis[f"validator_trust_{name}"] = float(trust[:, role].sum() / rounds[:, role].sum())
    kpis["validator_slashes"] = float(votes.slashes)
    kpis["validator_slashed_tokens"] = votes.slashed_tokens
    return kpis
