"""The token economy (issue 12): the pool's arithmetic against Uniswap v2's own test vectors, the
invariants of whole runs with a market, fees and claims (tokens and fiat conserved, the insurance pool
never paying more than it holds), the fixed-price network left exactly as it was, each mechanism's
direction or exact value, the halving KPIs, and determinism."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from model import load_scenario, run_scenario, with_overrides
from model.kpis import economy_kpis
from model.market import fiat_for_tokens, tokens_for_fiat
from model.network import FLNetwork
from model.scenario import Fees, Insurance, Market, Scenario

from .conftest import BASELINE, ROOT

# -- references -------------------------------------------------------------------------------------

# Uniswap v2's test vectors, Uniswap/v2-core test/UniswapV2Pair.spec.ts at commit
# ee547b17853e71ed4e0101ccfd52e70d5acded58: ``swapTestCases`` are (amount in, reserve in, reserve out,
# expected amount out) and ``optimisticTestCases`` (amount out, reserve 0, reserve 1, amount in), in
# units of 1e18 (``expandTo18Decimals``) except the quoted integers, given here divided by 1e18.
# Their pair charges a 0.3 % fee on the input (UniswapV2Pair.sol's K check; Uniswap/v2-periphery
# contracts/libraries/UniswapV2Library.sol, getAmountOut, at commit
# 0335e8f7e1bd1e8d8329fd300aea2ef2f36dd19f: amountInWithFee = amountIn × 997 / 1000); our pool
# charges none, so the fee is folded into the input.
UNISWAP_SWAP_CASES = [
    (1, 5, 10, 1.662497915624478906),
    (1, 10, 5, 0.453305446940074565),
    (2, 5, 10, 2.851015155847869602),
    (2, 10, 5, 0.831248957812239453),
    (1, 10, 10, 0.906610893880149131),
    (1, 100, 100, 0.987158034397061298),
    (1, 1000, 1000, 0.996006981039903216),
]
UNISWAP_OPTIMISTIC_CASES = [
    (0.997, 5, 10, 1),  # given amountIn, amountOut = floor(amountIn × .997)
    (0.997, 10, 5, 1),
    (0.997, 5, 5, 1),
    (1, 5, 5, 1.003009027081243732),  # given amountOut, amountIn = ceiling(amountOut / .997)
]
#: The share of an input a Uniswap v2 pair trades after its 0.3 % fee.
UNISWAP_FEE_KEPT = 0.997


def uniswap_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, in the integers it computes in (see the commit cited above)."""
    amount_in_with_fee = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


# -- 1. pool arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(("amount_in", "reserve_in", "reserve_out", "expected_out"), UNISWAP_SWAP_CASES)
def test_pool_reproduces_uniswap_v2_swap_vectors(amount_in, reserve_in, reserve_out, expected_out):
    traded = amount_in * UNISWAP_FEE_KEPT
    # Buying tokens with fiat (fiat is the input side) and selling tokens for fiat (tokens are).
    bought = tokens_for_fiat(tokens=reserve_out, fiat=reserve_in, paid_fiat=traded)
    paid = fiat_for_tokens(tokens=reserve_in, fiat=reserve_out, sold_tokens=traded)
    assert bought == pytest.approx(expected_out, rel=1e-14)
    assert paid == pytest.approx(expected_out, rel=1e-14)


@pytest.mark.parametrize(("amount_out", "reserve_0", "reserve_1", "amount_in"), UNISWAP_OPTIMISTIC_CASES)
def test_fee_folded_into_the_input_matches_uniswap_optimistic_vectors(
    amount_out, reserve_0, reserve_1, amount_in
):
    # Given the input, a flash swap may take out exactly the fee-folded input (and given the output, it
    # needs the output unfolded): the fold the swap vectors above are reproduced with.
    assert amount_in * UNISWAP_FEE_KEPT == pytest.approx(amount_out, rel=1e-15)


WEI = st.integers(10**6, 10**30)


@settings(max_examples=200, deadline=None)
@given(amount_in=WEI, reserve_in=WEI, reserve_out=WEI)
def test_pool_agrees_with_uniswap_get_amount_out(amount_in, reserve_in, reserve_out):
    reference = uniswap_get_amount_out(amount_in, reserve_in, reserve_out)  # rounded down to a wei
    traded = amount_in * UNISWAP_FEE_KEPT
    ours = tokens_for_fiat(float(reserve_out), float(reserve_in), traded)
    # getAmountOut rounds down to a whole wei; we do not round.
    slack = 1e-12 * max(1, reference)
    assert reference - slack <= ours <= reference + 1 + slack
    assert fiat_for_tokens(float(reserve_in), float(reserve_out), traded) == pytest.approx(ours, rel=1e-12)


RESERVE = st.floats(1e-3, 1e12)
TRADE = st.floats(1e-6, 1e15)


@settings(max_examples=300, deadline=None)
@given(tokens=RESERVE, fiat=RESERVE, paid=TRADE)
@example(tokens=1.5, fiat=1.0, paid=9e21)  # a trade that dwarfs the pool: T·f / (F + f) rounds above T
def test_a_purchase_keeps_the_product_and_never_empties_more_than_the_reserve(tokens, fiat, paid):
    out = tokens_for_fiat(tokens, fiat, paid)
    assert 0.0 <= out <= tokens
    # tokens - out loses digits when the trade dwarfs the reserve: the rounding grows with paid / fiat.
    rel = 1e-14 * (1.0 + paid / fiat)
    assert (tokens - out) * (fiat + paid) == pytest.approx(tokens * fiat, rel=rel)


@settings(max_examples=300, deadline=None)
@given(tokens=RESERVE, fiat=RESERVE, sold=TRADE)
@example(tokens=1.0, fiat=1.5, sold=9e21)  # F·s / (T + s) rounds above F
def test_a_sale_keeps_the_product_and_never_empties_more_than_the_reserve(tokens, fiat, sold):
    out = fiat_for_tokens(tokens, fiat, sold)
    assert 0.0 <= out <= fiat
    rel = 1e-14 * (1.0 + sold / tokens)
    assert (tokens + sold) * (fiat - out) == pytest.approx(tokens * fiat, rel=rel)


@given(tokens=RESERVE, fiat=RESERVE, nothing=st.sampled_from([0.0, -1.0]))
def test_no_trade_pays_nothing(tokens, fiat, nothing):
    assert tokens_for_fiat(tokens, fiat, nothing) == 0.0
    assert fiat_for_tokens(tokens, fiat, nothing) == 0.0


# -- scenarios --------------------------------------------------------------------------------------

BASE = load_scenario(BASELINE)

#: The baseline mix at about a fifth of its size: 19 trainer identities (17 owners), 3 validators.
SMALL = {
    "population.honest_trainers": 12,
    "population.lazy_trainers": 2,
    "population.sybil_owners": 1,
    "population.sybil_identities_per_owner": 2,
    "population.poisoning_trainers": 3,
    "population.honest_validators": 2,
    "population.copying_validators": 1,
}


def small(rounds: int = 60, **overrides) -> Scenario:
    """The small baseline with ``overrides`` (dotted keys, ``__`` for the dot)."""
    return with_overrides(
        BASE, {"rounds": rounds, **SMALL, **{k.replace("__", "."): v for k, v in overrides.items()}}
    )


def shares(draw, n: int) -> list[float]:
    """``n`` shares in [0, 1] that add up to 1."""
    weights = [draw(st.integers(0, 4)) for _ in range(n - 1)]
    weights.append(draw(st.integers(0 if sum(weights) else 1, 4)))
    total = sum(weights)
    out = [w / total for w in weights]
    out[-1] = 1.0 - sum(out[:-1])
    return out


@st.composite
def economies(draw):
    """Small baseline networks with a random token economy: price model, pool, speculators, users'
    fees and claims, slashing into the insurance pool, emission halving with a small cap, adaptation."""
    trainer, validator, owner, burn = shares(draw, 4)
    slash_burn, slash_insurance, slash_validator = shares(draw, 3)
    overrides = {
        **SMALL,
        "rounds": draw(st.integers(30, 80)),
        "token.price_model": draw(st.sampled_from(["fixed", "market"])),
        "token.price_fiat": draw(st.floats(0.05, 20.0)),
        "market.pool_tokens": draw(st.floats(1e3, 2e5)),
        "market.speculative_flow_fiat_per_round": draw(st.floats(-300.0, 300.0)),
        "market.speculative_flow_sd_fiat": draw(st.one_of(st.just(0.0), st.floats(0.0, 500.0))),
        "market.speculative_flow_path_fiat": draw(
            st.one_of(st.just([]), st.lists(st.floats(-500.0, 500.0), min_size=1, max_size=6))
        ),
        "market.speculator_tokens": draw(st.one_of(st.just(0.0), st.floats(1.0, 1e5))),
        "market.sell_for_costs": draw(st.booleans()),
        "fees.queries_per_round": draw(st.sampled_from([0.0, 10.0, 300.0, 2000.0])),
        "fees.fee_per_query_fiat": draw(st.floats(0.0, 5.0)),
        "fees.quality_elasticity": draw(st.floats(0.0, 3.0)),
        "fees.poison_demand_drop": draw(st.floats(0.0, 1.0)),
        "fees.visible_quality_drop": draw(st.floats(1e-4, 0.1)),
        "fees.trust_recovery_per_round": draw(st.floats(0.0, 1.0)),
        "fees.paid_in": draw(st.sampled_from(["tokens", "fiat"])),
        "fees.trainer_share": trainer,
        "fees.validator_share": validator,
        "fees.owner_share": owner,
        "fees.burn_share": burn,
        "insurance.claim_fiat_per_query": draw(st.sampled_from([0.0, 0.01, 0.3, 10.0, 200.0])),
        "slashing.slash_fraction": draw(st.floats(0.0, 0.5)),
        "slashing.burn_share": slash_burn,
        "slashing.insurance_share": slash_insurance,
        "slashing.validator_share": slash_validator,
        "emission.schedule": draw(st.sampled_from(["constant", "halving"])),
        "emission.halving_supply_cap_tokens": draw(st.floats(2e3, 1e5)),
        "costs.poison_gain_fiat_per_round": draw(st.floats(0.0, 5.0)),
        "stakes.delegated_tokens": draw(st.sampled_from([0.0, 5_000.0])),  # validators pass fees on
        "rewards.rule": draw(st.sampled_from(["equal", "score_weighted", "yuma"])),
    }
    if draw(st.booleans()):
        overrides |= {
            "adaptation.revision": draw(st.sampled_from(["imitation", "logit"])),
            "adaptation.revision_interval_rounds": draw(st.integers(1, 10)),
            "adaptation.revision_probability": draw(st.floats(0.0, 1.0)),
            "adaptation.exit_rule": "profit_threshold",
            "adaptation.exit_threshold_return_per_round": draw(st.floats(-0.02, 0.02)),
            "adaptation.entry_candidates": draw(st.integers(0, 8)),
            "adaptation.entry_rate": draw(st.floats(0.0, 1.0)),
        }
    return with_overrides(BASE, overrides)


def claim_price(scenario, market: bool, opening: tuple[float, float, float], fees_fiat: float) -> float:
    """The price a round's claims are paid at: its opening price (``opening``: the pool's tokens and
    fiat and the price at the round's start), moved on a market by the fee purchase that comes before
    the claims (``model.economy``, steps 2 and 3)."""
    tokens, fiat, price = opening
    if not market:
        return price
    f = scenario.fees
    spent = fees_fiat if f.paid_in == "tokens" else f.burn_share * fees_fiat
    return (fiat + spent) / (tokens - tokens_for_fiat(tokens, fiat, spent))


# -- 2. invariants every round --------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=economies(), seed=st.integers(0, 2**32 - 1))
def test_tokens_and_fiat_are_conserved_and_the_insurance_pool_never_overpays(scenario, seed):
    net = FLNetwork(scenario, seed, audit=True)
    ledger, economy = net.ledger, net.economy
    insurance_share = scenario.slashing.insurance_share
    ledger.check()
    if economy is not None:
        economy.check()
    for _ in range(scenario.rounds):
        pool_before, slashed_before = ledger.insurance_tokens, ledger.slashed_tokens
        if economy is not None:
            opening = (ledger.market_tokens, economy.fiat.reserve_fiat, economy.price_fiat)
        net.step()

        ledger.check()  # genesis + minted - burned = held + pools; each account's books (audit mode)
        if economy is None:
            continue
        economy.check()  # fiat: reserve + participants + users + speculators + owner add up to 0
        price = economy.price_fiat
        assert math.isfinite(price) and price > 0
        assert 0.0 <= economy.trust <= 1.0

        # The insurance pool before the round's payout: what it held, plus the slashes' insurance share.
        pool = pool_before + insurance_share * (ledger.slashed_tokens - slashed_before)
        paid_tokens = pool - ledger.insurance_tokens
        filed, paid = economy.claims_filed_fiat, economy.claims_paid_fiat
        tol = 1e-9 * max(1.0, pool)
        assert -tol <= paid_tokens <= pool + tol
        if filed > 0:
            at = claim_price(scenario, economy.market, opening, economy.fees_fiat)
            # Pro rata up to what the pool holds: all of the claims, or all of the pool.
            assert paid <= pool * at * (1 + 1e-9)
            assert paid == pytest.approx(min(filed, pool * at), rel=1e-9, abs=1e-9)
            assert paid_tokens == pytest.approx(paid / at, rel=1e-9, abs=tol)
        else:
            assert paid == 0.0
            assert paid_tokens == pytest.approx(0.0, abs=tol)


def run_checked(scenario, seed: int, also=lambda net: True) -> FLNetwork:
    """Run ``scenario`` round by round in audit mode, checking the token and fiat books (and ``also``)
    after every round; return the network."""
    net = FLNetwork(scenario, seed, audit=True)
    for _ in range(scenario.rounds):
        net.step()
        net.ledger.check()
        net.economy.check()
        assert also(net)
    return net


def test_a_purchase_that_dwarfs_the_pool_breaks_no_book():
    # Valid and extreme: 10 fiat in the pool, speculators bring a million a round. The pool keeps T × F
    # up to the rounding of T - out, which grows with the trade's size over the reserve.
    scenario = small(
        5,
        **MARKET,
        token__price_fiat=0.01,
        market__pool_tokens=1_000.0,
        market__speculative_flow_fiat_per_round=1e6,
    )
    for seed in range(3):
        net = run_checked(scenario, seed)
        assert net.economy.price_fiat > scenario.token.price_fiat


# -- 3. a fixed price and no users change nothing ------------------------------------------------


#: A value for every [market], [fees] and [insurance] key other than its default (queries_per_round
#: stays 0: no users), which must all be ignored under a fixed price.
ECONOMY_KEYS_CHANGED = {
    "market.pool_tokens": 12_345.0,
    "market.speculative_flow_fiat_per_round": -75.0,
    "market.speculative_flow_sd_fiat": 40.0,
    "market.speculative_flow_path_fiat": [10.0, -20.0, 30.0],
    "market.speculator_tokens": 5_000.0,
    "market.sell_for_costs": False,
    "fees.queries_per_round": 0.0,
    "fees.fee_per_query_fiat": 3.0,
    "fees.quality_elasticity": 2.5,
    "fees.poison_demand_drop": 0.9,
    "fees.visible_quality_drop": 0.2,
    "fees.trust_recovery_per_round": 0.5,
    "fees.paid_in": "fiat",
    "fees.trainer_share": 0.1,
    "fees.validator_share": 0.2,
    "fees.owner_share": 0.3,
    "fees.burn_share": 0.4,
    "insurance.claim_fiat_per_query": 7.0,
}


def test_every_economy_key_is_changed_by_the_no_effect_test():
    keys = {
        f"{section}.{field.name}"
        for section, cls in (("market", Market), ("fees", Fees), ("insurance", Insurance))
        for field in dataclasses.fields(cls)
    }
    assert set(ECONOMY_KEYS_CHANGED) == keys
    defaults = with_overrides(BASE, {})
    changed = with_overrides(BASE, ECONOMY_KEYS_CHANGED)
    for key in keys - {"fees.queries_per_round"}:
        section, name = key.split(".")
        assert getattr(getattr(changed, section), name) != getattr(getattr(defaults, section), name), key


def same_numbers(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two KPI dicts hold the same keys and numbers, NaN equal to NaN."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


ADAPTIVE = {
    "adaptation.revision": "imitation",
    "adaptation.revision_interval_rounds": 5,
    "adaptation.revision_probability": 0.5,
    "adaptation.exit_rule": "profit_threshold",
    "adaptation.entry_candidates": 10,
    "adaptation.entry_rate": 0.3,
    "costs.poison_gain_fiat_per_round": 20.0,
}


@pytest.mark.parametrize(
    ("path", "overrides"),
    [
        (BASELINE, {}),
        (ROOT / "scenarios" / "baseline-yuma.toml", {"rounds": 40}),
        (BASELINE, {**ADAPTIVE, "rounds": 150}),
    ],
    ids=["baseline", "yuma", "adaptive"],
)
def test_a_fixed_price_without_users_changes_no_result(path, overrides):
    reference = with_overrides(load_scenario(path), overrides)
    changed = with_overrides(reference, ECONOMY_KEYS_CHANGED)
    assert changed.token.price_model == "fixed" and changed != reference
    assert FLNetwork(changed, 3).economy is None
    a = run_scenario(reference, 3, trajectory=True)
    b = run_scenario(changed, 3, trajectory=True)
    assert same_numbers(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    pd.testing.assert_frame_equal(a.strategies, b.strategies)
    price = reference.token.price_fiat
    assert a.kpis["final_price_fiat"] == a.kpis["min_price_fiat"] == a.kpis["mean_price_fiat"] == price


# -- 4. mechanisms --------------------------------------------------------------------------------

MARKET = {"token.price_model": "market", "market.pool_tokens": 20_000.0}
STEADY = {  # every identity shows up every round: every round pays trainers and validators
    "dropout.trainer_dropout_probability": 0.0,
    "dropout.validator_dropout_probability": 0.0,
}


def prices(scenario, seed: int) -> np.ndarray:
    """The token's price after each round."""
    return run_scenario(scenario, seed, trajectory=True).trajectory["price_fiat"].to_numpy()


def test_fees_paid_in_tokens_raise_the_market_price():
    without = small(80, **MARKET)
    with_fees = with_overrides(
        without, {"fees.queries_per_round": 200.0, "fees.fee_per_query_fiat": 1.0, "fees.paid_in": "tokens"}
    )
    for seed in (1, 2, 3):
        a, b = prices(without, seed), prices(with_fees, seed)
        assert b[-1] > a[-1]
        assert b.mean() > a.mean()


def test_participants_selling_alone_only_push_the_price_down():
    scenario = small(80, **MARKET)  # no users, no speculators: only sales for costs and of returned stake
    for seed in (1, 2):
        path = prices(scenario, seed)
        assert (np.diff(path) <= 0).all()
        assert path[0] < scenario.token.price_fiat
        assert path[-1] < path[0]


def visible(net, quality_before: float) -> bool:
    """Whether the round just run was a visible poisoning (``model.economy``, step 4)."""
    drop = quality_before - net.quality
    return net.round_poison_accepted > 0 and drop > 0 and drop >= net.scenario.fees.visible_quality_drop


def test_a_visible_poisoning_cuts_next_rounds_queries_by_the_demand_drop():
    drop = 0.3
    scenario = small(
        120,
        fees__queries_per_round=500.0,
        fees__quality_elasticity=0.0,  # demand is the trust alone
        fees__poison_demand_drop=drop,
        fees__trust_recovery_per_round=0.0,
        fees__visible_quality_drop=1e-6,
        quality__poison_damage=1.0,
        detection__poison_detection_rate=0.2,
    )
    net = FLNetwork(scenario, 5)
    queries, seen = [], []
    for _ in range(scenario.rounds):
        before = net.quality
        net.step()
        queries.append(net.economy.queries)
        seen.append(visible(net, before))
    assert sum(seen) >= 3 and not all(seen)
    for t in range(len(queries) - 1):
        expected = queries[t] * (1.0 - drop) if seen[t] else queries[t]
        assert queries[t + 1] == pytest.approx(expected, rel=1e-12)


def test_queries_follow_quality_and_trust():
    f = {"queries_per_round": 300.0, "quality_elasticity": 1.7, "poison_demand_drop": 0.4}
    f |= {"trust_recovery_per_round": 0.2, "visible_quality_drop": 0.005}
    scenario = small(100, **{f"fees__{k}": v for k, v in f.items()}, quality__poison_damage=1.0)
    net = FLNetwork(scenario, 8)
    trust, seen = 1.0, 0
    for _ in range(scenario.rounds):
        before = net.quality
        net.step()
        assert net.economy.queries == pytest.approx(300.0 * net.quality**1.7 * trust, rel=1e-12)
        if visible(net, before):
            trust *= 1.0 - 0.4
            seen += 1
        else:
            trust += 0.2 * (1.0 - trust)
        assert net.economy.trust == pytest.approx(trust, rel=1e-12)
    assert seen >= 2


def test_claims_beyond_the_pool_empty_it_and_the_rest_is_unpaid():
    price = 2.0
    scenario = small(
        100,
        token__price_fiat=price,
        fees__queries_per_round=100.0,  # users who pay nothing and claim
        insurance__claim_fiat_per_query=500.0,
        slashing__burn_share=0.9,
        slashing__insurance_share=0.05,
        slashing__validator_share=0.05,
        quality__poison_damage=1.0,
    )
    net = FLNetwork(scenario, 4, audit=True)
    ledger, economy = net.ledger, net.economy
    filed = paid = 0.0
    insolvent = solvent = 0
    for _ in range(scenario.rounds):
        pool_before, slashed_before = ledger.insurance_tokens, ledger.slashed_tokens
        net.step()
        pool = pool_before + 0.05 * (ledger.slashed_tokens - slashed_before)
        round_filed, round_paid = economy.claims_filed_fiat, economy.claims_paid_fiat
        filed += round_filed
        paid += round_paid
        if round_filed > pool * price:
            insolvent += 1
            assert ledger.insurance_tokens == pytest.approx(0.0, abs=1e-9)
            assert round_filed - round_paid == pytest.approx(round_filed - pool * price, rel=1e-12)
        elif round_filed > 0:
            solvent += 1
            assert round_paid == pytest.approx(round_filed, rel=1e-12)
            assert ledger.insurance_tokens == pytest.approx(pool - round_filed / price, rel=1e-9, abs=1e-9)
    assert insolvent >= 2
    kpis = economy_kpis(net)
    assert kpis["claims_filed_fiat"] == pytest.approx(filed, rel=1e-12)
    assert kpis["claims_paid_fiat"] == pytest.approx(paid, rel=1e-12)
    assert kpis["claims_unpaid_fiat"] == pytest.approx(filed - paid, rel=1e-12)
    assert kpis["coverage_ratio"] == pytest.approx(paid / filed, rel=1e-12)
    assert kpis["insolvent_rounds"] == insolvent
    assert 0 < kpis["coverage_ratio"] < 1


def test_claims_on_an_empty_pool_are_all_unpaid():
    scenario = small(
        60,
        fees__queries_per_round=100.0,
        insurance__claim_fiat_per_query=5.0,
        slashing__insurance_share=0.0,
        slashing__burn_share=0.8,
        quality__poison_damage=1.0,
    )
    kpis = run_scenario(scenario, 4).kpis
    assert kpis["claims_filed_fiat"] > 0
    assert kpis["claims_paid_fiat"] == 0.0
    assert kpis["claims_unpaid_fiat"] == kpis["claims_filed_fiat"]
    assert kpis["coverage_ratio"] == 0.0
    assert kpis["insolvent_rounds"] > 0


FEE_SHARES = {"trainer_share": 0.3, "validator_share": 0.2, "owner_share": 0.1, "burn_share": 0.4}
NO_SLASH_BURN = {  # slashes go to the insurance pool: every token burned in a round is a fee's
    "slashing.burn_share": 0.0,
    "slashing.insurance_share": 1.0,
    "slashing.validator_share": 0.0,
}


def fee_scenario(paid_in: str, *, market: bool, rounds: int = 60, **more):
    fees = {f"fees.{k}": v for k, v in FEE_SHARES.items()}
    fees |= {"fees.queries_per_round": 80.0, "fees.fee_per_query_fiat": 2.0, "fees.paid_in": paid_in}
    return with_overrides(
        small(rounds, token__price_fiat=1.5),
        {**fees, **STEADY, **NO_SLASH_BURN, **(MARKET if market else {}), **more},
    )


def test_fees_paid_in_fiat_reach_trainers_validators_and_the_owner_by_their_shares():
    scenario = fee_scenario("fiat", market=False)
    net = FLNetwork(scenario, 6, audit=True)
    ledger, books, nt = net.ledger, net.economy.fiat, net.n_trainers
    paid_rounds = 0
    for _ in range(scenario.rounds):
        received = ledger.received.copy()
        trainers, validators = books.accounts_fiat[:nt].sum(), books.accounts_fiat[nt:].sum()
        owner, users = books.owner_fiat, books.users_fiat
        net.step()
        fees = net.economy.fees_fiat
        assert fees > 0
        assert books.users_fiat - users == pytest.approx(-fees, rel=1e-12)
        if (ledger.received[:nt] > received[:nt]).any() and (ledger.received[nt:] > received[nt:]).any():
            paid_rounds += 1
            assert books.accounts_fiat[:nt].sum() - trainers == pytest.approx(0.3 * fees, rel=1e-12)
            assert books.accounts_fiat[nt:].sum() - validators == pytest.approx(0.2 * fees, rel=1e-12)
            # The owner's share, and the burn share it sold the buy-back from the treasury for.
            assert books.owner_fiat - owner == pytest.approx((0.1 + 0.4) * fees, rel=1e-12)
    assert paid_rounds >= scenario.rounds // 2


@pytest.mark.parametrize(("paid_in", "market"), [("tokens", True), ("fiat", True), ("fiat", False)])
def test_the_burn_share_of_fees_is_burned(paid_in, market):
    scenario = fee_scenario(paid_in, market=market)
    net = FLNetwork(scenario, 6, audit=True)
    ledger, economy = net.ledger, net.economy
    for _ in range(scenario.rounds):
        burned, fee_burned = ledger.burned_tokens, economy.fees_burned_tokens
        state = (ledger.market_tokens, economy.fiat.reserve_fiat, economy.price_fiat)
        net.step()
        assert economy.fees_burned_tokens > fee_burned
        assert ledger.burned_tokens - burned == pytest.approx(
            economy.fees_burned_tokens - fee_burned, rel=1e-12
        )
        tokens, fiat, price = state
        if paid_in == "fiat":  # the burn share buys tokens back first: from the pool or the treasury
            spent = 0.4 * economy.fees_fiat
            bought = tokens_for_fiat(tokens, fiat, spent) if market else spent / price
            assert economy.fees_burned_tokens - fee_burned == pytest.approx(bought, rel=1e-12)
    kpis = economy_kpis(net)
    assert kpis["fees_burned_tokens"] == economy.fees_burned_tokens > 0


def test_fees_in_tokens_burn_their_share_of_the_tokens_users_bought_from_the_pool():
    scenario = fee_scenario("tokens", market=True)
    net = FLNetwork(scenario, 6, audit=True)
    ledger, economy, nt = net.ledger, net.economy, net.n_trainers
    checked = 0
    for _ in range(scenario.rounds):
        received = ledger.received.copy()
        fee_burned = economy.fees_burned_tokens
        tokens, fiat = ledger.market_tokens, economy.fiat.reserve_fiat
        net.step()
        if (ledger.received[:nt] > received[:nt]).any() and (ledger.received[nt:] > received[nt:]).any():
            bought = tokens_for_fiat(tokens, fiat, economy.fees_fiat)
            assert economy.fees_burned_tokens - fee_burned == pytest.approx(0.4 * bought, rel=1e-9)
            checked += 1
    assert checked >= scenario.rounds // 2


@pytest.mark.parametrize("price_model", ["fixed", "market"])
@pytest.mark.parametrize(
    "split",
    [(1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.5, 0.5, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)],
    ids=["trainers", "validators", "both", "owner"],
)
def test_fees_in_tokens_go_out_in_full_whatever_the_split(price_model, split):
    # Valid splits without a burn: every token users buy is handed on, and nothing is left with them.
    names = ("trainer_share", "validator_share", "owner_share", "burn_share")
    scenario = small(
        30,
        token__price_model=price_model,
        fees__queries_per_round=10.0,
        fees__fee_per_query_fiat=1.0,
        **{f"fees__{name}": share for name, share in zip(names, split, strict=True)},
    )
    for seed in range(3):
        net = run_checked(scenario, seed, lambda net: net.ledger.users_tokens == pytest.approx(0.0, abs=1e-9))
        assert net.economy.fees_burned_tokens == pytest.approx(0.0, abs=1e-9)


def test_a_fixed_price_sells_fee_tokens_from_the_treasury():
    scenario = fee_scenario(
        "tokens",
        market=False,
        **{  # nothing else enters the treasury: no owner share of emission or fees
            "fees.owner_share": 0.0,
            "fees.burn_share": 0.5,
            "emission.owner_share": 0.0,
            "emission.trainer_share": 0.5,
            "emission.validator_share": 0.5,
        },
    )
    net = FLNetwork(scenario, 6, audit=True)
    ledger, books, nt = net.ledger, net.economy.fiat, net.n_trainers
    price = scenario.token.price_fiat
    checked = 0
    for _ in range(scenario.rounds):
        received = ledger.received.copy()
        treasury, owner, users = ledger.treasury_tokens, books.owner_fiat, books.users_fiat
        net.step()
        fees = net.economy.fees_fiat
        assert fees > 0
        assert books.owner_fiat - owner == pytest.approx(fees, rel=1e-12)  # what users paid
        assert books.users_fiat - users == pytest.approx(-fees, rel=1e-12)
        if (ledger.received[:nt] > received[:nt]).any() and (ledger.received[nt:] > received[nt:]).any():
            assert ledger.treasury_tokens - treasury == pytest.approx(
                -fees / price, rel=1e-9
            )  # what they bought
            checked += 1
    assert checked >= scenario.rounds // 2


# -- halvings ---------------------------------------------------------------------------------------

EMISSION = 1_000.0  # the baseline's tokens per round


def halving_run(rounds: int, cap: float, schedule: str = "halving"):
    scenario = small(rounds, emission__schedule=schedule, emission__halving_supply_cap_tokens=cap, **STEADY)
    return run_scenario(scenario, 2, trajectory=True)


def test_halvings_happen_when_issuance_crosses_half_and_three_quarters_of_the_cap():
    # Cap 20 rounds' emission: issuance reaches half of it at the end of round 9 (the tenth), then
    # half as much a round reaches three quarters ten rounds later, at the end of round 19.
    result = halving_run(30, 20 * EMISSION)
    minted = result.trajectory["minted_tokens"].to_numpy()
    np.testing.assert_allclose(minted[:10], EMISSION)  # the premise: a full emission every round
    np.testing.assert_allclose(minted[10:20], EMISSION / 2)
    np.testing.assert_allclose(minted[20:], EMISSION / 4)
    k = result.kpis
    assert k["halving_1_round"] == 9
    assert k["halving_2_round"] == 19
    for name in ("pi_honest_after_halving_1", "pi_honest_after_halving_2"):
        assert math.isfinite(k[name])
    for name in ("margin_trainers_after_halving_1", "margin_trainers_after_halving_2"):
        assert math.isfinite(k[name])


def test_a_halving_never_reached_gives_nan_kpis():
    after = ("pi_honest_after_halving", "margin_trainers_after_halving")
    one = halving_run(15, 20 * EMISSION).kpis  # the first halving only
    assert one["halving_1_round"] == 9 and math.isfinite(one["pi_honest_after_halving_1"])
    assert math.isnan(one["halving_2_round"])
    assert all(math.isnan(one[f"{name}_2"]) for name in after)
    for kpis in (halving_run(30, 1e9).kpis, halving_run(30, 20 * EMISSION, "constant").kpis):
        for k in (1, 2):
            assert math.isnan(kpis[f"halving_{k}_round"])
            assert all(math.isnan(kpis[f"{name}_{k}"]) for name in after)


# -- 5. determinism -----------------------------------------------------------------------------------


def noisy_market():
    return small(
        60,
        **MARKET,
        market__speculative_flow_sd_fiat=300.0,
        market__speculator_tokens=10_000.0,
        fees__queries_per_round=100.0,
        fees__fee_per_query_fiat=0.5,
        insurance__claim_fiat_per_query=3.0,
    )


def test_same_seed_gives_the_same_economy():
    scenario = noisy_market()
    a = run_scenario(scenario, 11, trajectory=True)
    b = run_scenario(scenario, 11, trajectory=True)
    assert same_numbers(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)


def test_another_seed_gives_another_price_path():
    scenario = noisy_market()
    a, b = prices(scenario, 11), prices(scenario, 12)
    assert not np.array_equal(a, b)


# -- review fixes ---------------------------------------------------------------------------------


def test_price_moves_after_an_owner_left_are_not_booked_to_it():
    """Everyone leaves at the first decision (round 10); their capital is back by round 18. A
    speculative buying spree from round 40 lifts the price: without selling what came back, the
    leavers' tokens are valued at the price when they were returned, so nothing they earned moves."""
    leave_at_once = {
        "adaptation.exit_rule": "profit_threshold",
        "adaptation.exit_threshold_return_per_round": 1.0,
        "adaptation.revision_interval_rounds": 10,
        "market.sell_for_costs": False,
        **MARKET,
    }
    quiet = small(60, **{k.replace(".", "__"): v for k, v in leave_at_once.items()})
    spree = with_overrides(quiet, {"market.speculative_flow_path_fiat": [0.0] * 40 + [50_000.0]})
    a, b = run_scenario(quiet, 2, audit=True).kpis, run_scenario(spree, 2, audit=True).kpis
    assert b["final_price_fiat"] > 2 * a["final_price_fiat"]  # the spree moved the price
    assert a["trainer_owners_final"] == 0 == b["trainer_owners_final"]
    for name in ("pi_honest", "pi_lazy", "margin_trainers", "pi_honest_validator"):
        assert a[name] == b[name], name


def test_validators_pass_their_delegators_cut_of_fees_on():
    delegated = {"stakes.delegated_tokens": 20_000.0, "stakes.validator_take": 0.25}
    for paid_in in ("tokens", "fiat"):
        without = FLNetwork(small(40, **{k.replace(".", "__"): v for k, v in delegated.items()}), 4)
        scenario = fee_scenario(paid_in, market=False, rounds=40, **delegated)
        net = FLNetwork(scenario, 4)
        net.run()
        without = FLNetwork(with_overrides(scenario, {"fees.queries_per_round": 0.0}), 4)
        without.run()
        if paid_in == "tokens":
            assert net.ledger.delegators_tokens > without.ledger.delegators_tokens
        else:
            assert net.economy.fiat.delegators_fiat > 0
            assert net.ledger.delegators_tokens == without.ledger.delegators_tokens


def test_fees_paid_in_fiat_pay_costs_before_any_token_is_sold():
    """A participant whose cash on hand (fees paid in fiat) covers the round's costs sells no token."""
    scenario = fee_scenario("fiat", market=True, rounds=30, **{"fees.queries_per_round": 2_000.0})
    net = FLNetwork(scenario, 5, audit=True)
    covered_rounds = 0
    for _ in range(scenario.rounds):
        sold = net.ledger.sold.copy()
        cash = net.economy.fiat.accounts_fiat - net.economy.cash_spent_fiat  # on hand as the round starts
        net.step()
        cost = net.work_rate_fiat.copy()
        cost[: net.n_trainers] *= net.submitting
        cost[net.n_trainers :] *= net.validators_active
        covered = (cash >= cost) & (cost > 0)
        covered_rounds += int(covered.any())
        returned = net.ledger.release_round == net.round - 1
        assert np.all((net.ledger.sold - sold)[covered & ~returned] == 0)
    assert covered_rounds > 0


def test_the_fee_kpi_counts_what_users_paid_when_the_treasury_runs_short():
    scenario = small(20, fees__queries_per_round=1e9, fees__fee_per_query_fiat=1e6)
    net = FLNetwork(scenario, 1)
    net.run()
    k = economy_kpis(net)
    assert k["fees_fiat_per_round"] < 1e-3 * k["queries_per_round"] * 1e6  # the treasury sold out
    paid = net.economy.fiat.owner_fiat  # the owner received everything users spent
    assert k["fees_fiat_per_round"] == pytest.approx(paid / scenario.rounds, rel=1e-9)
    assert k["fees_fiat_per_round"] > 0


@pytest.mark.parametrize("rule", ["equal", "yuma"])
def test_users_who_pay_nothing_change_nothing_at_a_fixed_price(rule):
    """Users at a fee of 0 under a fixed price: the same numbers to the last bit as no users."""
    reference = small(60, token__price_fiat=0.37, rewards__rule=rule)
    free = with_overrides(reference, {"fees.queries_per_round": 500.0, "fees.fee_per_query_fiat": 0.0})
    assert FLNetwork(free, 3).economy is not None
    a, b = run_scenario(reference, 3).kpis, run_scenario(free, 3).kpis
    economy_only = {"queries_per_round", "fees_fiat_per_round", "fees_burned_tokens"}
    assert same_numbers(
        {k: v for k, v in a.items() if k not in economy_only},
        {k: v for k, v in b.items() if k not in economy_only},
    )
    assert b["mean_price_fiat"] == 0.37
