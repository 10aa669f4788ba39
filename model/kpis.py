"""Reducing a run to KPIs: fiat profit per owner and per unit of capital, margins, totals.

Payoffs are compared per owner and per unit of capital committed (see the README, "Where honesty
dominates"): a Sybil owner's k identities are one player. An owner's capital is what registering
its identities locks up: the required stake plus the registration cost, valued in fiat at the
token price.
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
    "margin_trainers": "pi_honest minus the best pi among the trainer deviations present",
    "margin_validators": "pi_honest_validator minus pi_copying_validator",
    "minted_tokens": "tokens minted by emission over the run",
    "slashed_tokens": "tokens slashed over the run",
    "burned_tokens": "tokens burned over the run (registrations and slashes)",
    "insurance_tokens": "tokens in the insurance pool at the end",
    "treasury_tokens": "tokens in the network owner's treasury at the end",
    "final_quality": "global model quality index after the last round, in [0, 1]",
    "mean_quality": "global model quality index averaged over rounds, in [0, 1]",
    "mean_honest_validator_share": "honest validators' share of active validation stake, mean",
}


class KPIRangeError(ArithmeticError):
    """A KPI left the finite range of float64 (±inf): the run is refused rather than written."""


#: Why a KPI may be NaN: the only reasons a run reports "no value" instead of a number.
NAN_REASONS = {
    "pi_<s>": "no owner of <s>, or its owners commit no capital (zero stake and registration)",
    "profit_fiat_per_round_<s>": "no owner of <s>",
    "flag_rate_<s>": "no submission by <s> (none present, or all away or deregistered)",
    "stake_share_<s>": "no stake bonded by anyone at the end",
    "margin_trainers": "pi_honest is NaN, or pi of every trainer deviation is",
    "margin_validators": "pi_honest_validator or pi_copying_validator is NaN",
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
    ]


def identity_profit_fiat(net) -> np.ndarray:
    """Cumulative fiat profit of every identity so far (trainers, then validators).

    Token gains and losses (rewards, bounties, slashes) are valued at the token price; costs are
    work (training or validation per active round), the capital cost of bonded stake per round,
    the registration, and any strategy-specific cost or gain its ``settle`` hook booked.
    """
    s, ledger = net.scenario, net.ledger
    price = s.token.price_fiat
    wealth = ledger.liquid + ledger.stake + ledger.unbonding
    profit = (wealth - net.wealth_at_genesis_tokens) * price
    work_cost = np.concatenate([net.train_cost_fiat, net.validate_cost_fiat])
    profit -= work_cost * net.active_rounds
    profit -= ledger.stake_rounds(net.round) * (price * s.costs.capital_cost_rate_per_round)
    profit -= s.staking.registration_cost_tokens * price
    profit -= net.extra_cost_fiat
    profit += net.gain_fiat
    return profit


def identity_capital_fiat(net) -> np.ndarray:
    """Capital each identity commits: its required stake plus registration, in fiat."""
    s = net.scenario
    stake = np.concatenate(
        [
            np.full(net.n_trainers, s.staking.min_trainer_stake_tokens),
            np.full(s.validators, s.staking.validator_stake_tokens),
        ]
    )
    return (stake + s.staking.registration_cost_tokens) * s.token.price_fiat


def by_strategy(net, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one per identity) over each strategy, in ``net.strategies`` order."""
    return np.bincount(net.strategy_index, weights=values, minlength=len(net.strategies))


def strategy_figures(net) -> dict[str, np.ndarray]:
    """Per-strategy figures (arrays in ``net.strategies`` order): the numbers behind every KPI.

    ``owners``, ``identities``, ``capital_fiat_per_owner``, ``profit_fiat_per_round_per_owner``,
    ``pi`` (profit per round per unit of capital, pooled over the strategy's owners), ``flag_rate``
    (flags per submission) and ``stake_share`` (of all bonded stake at the end); NaN where a
    strategy has no owners, capital or submissions.
    """
    rounds = max(net.round, 1)
    identities = np.bincount(net.strategy_index, minlength=len(net.strategies))
    owners = net.owners_per_strategy
    profit = by_strategy(net, identity_profit_fiat(net))
    capital = by_strategy(net, identity_capital_fiat(net))
    stake = by_strategy(net, net.ledger.stake)
    submissions = by_strategy(net, net.active_rounds.astype(float))
    flags = by_strategy(net, net.flags.astype(float))
    total_stake = stake.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "owners": owners,
            "identities": identities,
            "capital_fiat_per_owner": np.where(owners > 0, capital / owners, np.nan),
            "profit_fiat_per_round_per_owner": np.where(owners > 0, profit / owners / rounds, np.nan),
            "pi": np.where(capital > 0, profit / capital / rounds, np.nan),
            "flag_rate": np.where(submissions > 0, flags / submissions, np.nan),
            "stake_share": stake / total_stake if total_stake > 0 else np.full(len(stake), np.nan),
        }


def strategy_table(net, figures: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per strategy: owners, capital, profit per round and per capital, flags, stake."""
    figures = strategy_figures(net) if figures is None else figures
    roles = ["validator" if n.endswith("_validator") else "trainer" for n in net.strategies]
    return pd.DataFrame({"role": roles, **figures}, index=pd.Index(net.strategies, name="strategy"))


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
    pi = dict(zip(net.strategies, f["pi"].tolist(), strict=True))
    kpis["margin_trainers"] = margin(pi, "honest", TRAINER_DEVIATIONS)
    kpis["margin_validators"] = margin(pi, "honest_validator", VALIDATOR_DEVIATIONS)
    ledger = net.ledger
    kpis["minted_tokens"] = ledger.minted_tokens
    kpis["slashed_tokens"] = ledger.slashed_tokens
    kpis["burned_tokens"] = ledger.burned_tokens
    kpis["insurance_tokens"] = ledger.insurance_tokens
    kpis["treasury_tokens"] = ledger.treasury_tokens
    kpis["final_quality"] = float(net.quality)
    kpis["mean_quality"] = float(net.recorder.series("quality").mean()) if net.round else math.nan
    kpis["mean_honest_validator_share"] = (
        float(net.recorder.series("honest_validator_share").mean()) if net.round else math.nan
    )
    return kpis
