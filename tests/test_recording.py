"""The per-round trajectory: token stocks, the tokenless regime's fiat flows and per-strategy series
agree with the run's totals."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import run_scenario
from model.kpis import TRAINER_DEVIATIONS, margin
from model.recording import RoundRecorder, margins

from .test_invariants import scenarios, tokenless_scenarios


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_trajectory_stocks_end_at_the_run_totals(scenario):
    result = run_scenario(scenario, 3, trajectory=True)
    t, k = result.trajectory, result.kpis
    last = t.iloc[-1]
    assert np.isclose(last["minted_total_tokens"], k["minted_tokens"])
    assert np.isclose(last["burned_total_tokens"], k["burned_tokens"])
    assert np.isclose(last["insurance_tokens"], k["insurance_tokens"])
    genesis = scenario.token.genesis_supply_tokens
    assert np.allclose(t["supply_tokens"], genesis + t["minted_total_tokens"] - t["burned_total_tokens"])
    # the round-by-round minting adds up to the cumulative stock
    assert np.allclose(np.cumsum(t["minted_tokens"]), t["minted_total_tokens"])
    for column in ("minted_total_tokens", "burned_total_tokens", "insurance_tokens"):
        assert (np.diff(t[column]) >= -1e-9).all(), f"{column} must never fall"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_stake_shares_and_registrations_per_strategy(scenario):
    result = run_scenario(scenario, 5, trajectory=True)
    t, strategies = result.trajectory, result.strategies
    shares = t[[f"stake_share_{s}" for s in strategies.index]]
    staked = shares.notna().all(axis=1)
    assert np.allclose(shares[staked].sum(axis=1), 1.0)
    assert np.allclose(shares.iloc[-1].fillna(0), strategies["stake_share"].fillna(0))
    for name, row in strategies.iterrows():
        registered = t[f"registered_{name}"].to_numpy()
        assert registered.max(initial=0) <= row.identities
        assert (np.diff(registered) <= 0).all(), "identities leave, none enter (fixed population)"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokenless_scenarios())
def test_tokenless_flows_add_up_to_the_run_totals(scenario):
    result = run_scenario(scenario, 4, trajectory=True)
    t, k = result.trajectory, result.kpis
    for column, kpi in (
        ("fees_paid_fiat", "fees_paid_fiat"),
        ("wages_paid_fiat", "wages_paid_fiat"),
        ("kyc_paid_fiat", "kyc_paid_fiat"),
        ("ejected", "ejected_identities"),
        ("readmitted", "readmitted_identities"),
    ):
        assert np.isclose(t[column].sum(), k[kpi]), column
    assert np.isclose(t["network_cost_fiat"].sum(), k["network_cost_fiat_per_round"] * scenario.rounds)
    assert (t["fees_paid_fiat"] <= scenario.regime.budget_fiat_per_round * (1 + 1e-12) + 1e-9).all()
    assert t[[c for c in t.columns if c.startswith(("pi_", "stake_share_"))]].isna().all().all()
    assert t[[*RoundRecorder.STOCKS, "minted_tokens", "slashed_tokens"]].isna().all().all()


@given(
    st.lists(
        st.lists(st.one_of(st.just(math.nan), st.floats(-5, 5)), min_size=4, max_size=4),
        min_size=1,
        max_size=20,
    )
)
def test_vectorised_margins_equal_the_per_round_definition(rows):
    strategies = ["honest", "lazy", "sybil", "poisoning"]
    pi = np.array(rows, dtype=float)
    got = margins(pi, strategies, "honest", TRAINER_DEVIATIONS)
    for row, value in zip(pi, got, strict=True):
        expected = margin(dict(zip(strategies, row.tolist(), strict=True)), "honest", TRAINER_DEVIATIONS)
        assert (math.isnan(expected) and math.isnan(value)) or value == expected
