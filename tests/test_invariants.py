"""Whole-run invariants over random valid scenarios, checked every round: token conservation,
no negative balance or stake, no slash above the stake, nothing paid that was not minted; and with
owners adapting (revision, exit, entry): every account's books balance, registered identities hold
their stake, owner states and strategy shares agree with the identities. In the tokenless regime:
fiat conservation between the consortium's funding, fees, wages, KYC and returned budget, fees of
exactly min(due, budget) each round, no token minted, staked, slashed or burned, and owner states
(barred, out) that agree with ejections and pending re-admissions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import TRAINER_TYPES, SybilTrainer
from model import Scenario, with_overrides
from model.limits import MIN_TOKENS
from model.network import BARRED, IN, NEVER, OUT, WAITING, FLNetwork
from model.scenario import identity_stake_tokens

FRACTION = st.floats(0.0, 1.0)


def tokens(high: float) -> st.SearchStrategy[float]:
    """A token amount up to ``high``: 0 or at least MIN_TOKENS (the schema refuses anything between)."""
    return st.one_of(st.just(0.0), st.floats(MIN_TOKENS, high))


@st.composite
def scenarios(draw, adaptive: bool = False) -> Scenario:
    """Small random scenarios covering every mechanism the schema offers; with ``adaptive``, owners
    revise, may exit, and candidates (Sybils among them) wait to enter."""
    burn = draw(FRACTION)
    insurance = draw(st.floats(0.0, 1.0 - burn))
    owner = draw(FRACTION)
    trainer = draw(st.floats(0.0, 1.0 - owner))
    rule = draw(st.sampled_from(["equal", "stake_weighted", "score_weighted"]))
    min_stake = draw(tokens(500.0) if rule != "stake_weighted" else st.floats(1.0, 500.0))
    overrides = {
        "rounds": draw(st.integers(1, 25)),
        "population.honest_trainers": draw(st.integers(0, 8)),
        "population.lazy_trainers": draw(st.integers(0, 4)),
        "population.sybil_owners": draw(st.integers(0, 2)),
        "population.sybil_identities_per_owner": draw(st.integers(1, 4)),
        "population.poisoning_trainers": draw(st.integers(1, 4)),
        "population.honest_validators": draw(st.integers(0, 3)),
        "population.copying_validators": draw(st.integers(1, 2)),
        "token.genesis_supply_tokens": 1e7,
        "token.price_fiat": draw(st.floats(0.01, 100.0)),
        "staking.min_trainer_stake_tokens": min_stake,
        "staking.validator_stake_tokens": draw(st.floats(1.0, 5000.0)),
        "staking.initial_liquid_tokens": draw(tokens(200.0)),
        "staking.registration_cost_tokens": draw(tokens(10.0)),
        "staking.unbonding_period_rounds": draw(st.integers(0, 5)),
        "emission.schedule": draw(st.sampled_from(["constant", "exponential_decay", "halving"])),
        "emission.initial_tokens_per_round": draw(tokens(5000.0)),
        "emission.decay_rate_per_round": draw(st.floats(0.0, 0.5)),
        "emission.halving_supply_cap_tokens": draw(st.floats(1.0, 1e5)),
        "emission.owner_share": owner,
        "emission.trainer_share": trainer,
        "emission.validator_share": 1.0 - owner - trainer,
        "rewards.rule": rule,
        "slashing.slash_fraction": draw(FRACTION),
        "slashing.burn_share": burn,
        "slashing.insurance_share": insurance,
        "slashing.validator_share": 1.0 - burn - insurance,
        "slashing.ejection_strikes": draw(st.integers(0, 3)),
        "detection.lazy_detection_rate": draw(FRACTION),
        "detection.poison_detection_rate": draw(FRACTION),
        "detection.sybil_detection_rate": draw(FRACTION),
        "detection.false_positive_rate": draw(FRACTION),
        "behaviour.sybil_update": draw(st.sampled_from(["cheap", "honest"])),
        "costs.poison_gain_fiat_per_round": draw(st.floats(0.0, 10.0)),
        "dropout.trainer_dropout_probability": draw(st.floats(0.0, 0.9)),
        "dropout.validator_dropout_probability": draw(st.floats(0.0, 0.9)),
    }
    if adaptive:
        overrides |= adaptation_overrides(draw, min_stake, overrides["population.sybil_identities_per_owner"])
        overrides["rounds"] = draw(st.integers(1, 80))
    return with_overrides(Scenario(), overrides)


def adaptation_overrides(draw, min_stake: float, k: int) -> dict:
    """Random revision, exit and entry settings, and the stakes and exposure they interact with."""
    weights = [draw(st.integers(0, 3)) for _ in range(3)] + [draw(st.integers(1, 3))]  # Sybils always
    honest, lazy, poisoning, sybil = (w / sum(weights) for w in weights)
    per_identity = draw(st.floats(max(min_stake, MIN_TOKENS), max(min_stake, MIN_TOKENS) * 3))
    return {
        "adaptation.revision": draw(st.sampled_from(["none", "imitation", "logit"])),
        "adaptation.revision_interval_rounds": draw(st.integers(1, 8)),
        "adaptation.revision_probability": draw(FRACTION),
        "adaptation.logit_temperature": draw(st.floats(1e-4, 1.0)),
        "adaptation.exit_rule": draw(st.sampled_from(["none", "profit_threshold"])),
        "adaptation.exit_threshold_return_per_round": draw(st.floats(-0.02, 0.02)),
        "adaptation.entry_candidates": draw(st.integers(0, 20)),
        "adaptation.entry_rate": draw(FRACTION),
        "adaptation.entry_honest_share": honest,
        "adaptation.entry_lazy_share": lazy,
        "adaptation.entry_sybil_share": sybil,
        "adaptation.entry_poisoning_share": poisoning,
        "adaptation.honest_share_level": draw(st.floats(0.1, 1.0)),
        "costs.outside_option_return_per_round": draw(st.floats(-0.01, 0.02)),
        "detection.sybil_exposure_correlation": draw(FRACTION),
        "staking.trainer_stake_tokens": draw(st.sampled_from([0.0, per_identity * k])),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_ledger_invariants_hold_every_round(scenario, seed):
    net = FLNetwork(scenario, seed, audit=True)
    ledger = net.ledger
    ledger.check()
    for _ in range(scenario.rounds):
        wealth_before = ledger.liquid + ledger.stake + ledger.unbonding
        pools_before = ledger.insurance_tokens + ledger.treasury_tokens
        stake_before = ledger.stake.copy()
        minted_before, slashed_before = ledger.minted_tokens, ledger.slashed_tokens
        burned_before = ledger.burned_tokens
        net.step()
        # Conservation and no negative balance or stake.
        ledger.check()
        minted = ledger.minted_tokens - minted_before
        slashed = ledger.slashed_tokens - slashed_before
        burned = ledger.burned_tokens - burned_before
        tol = 1e-7 * max(1.0, ledger.expected_supply_tokens())
        # A slash never exceeds the stake: the round's slashes fit in the stakes it began with.
        assert slashed <= stake_before[: net.n_trainers].sum() * scenario.slashing.slash_fraction + tol
        # Nothing paid out that was not minted or slashed: accounts and pools gained at most that.
        gained = (ledger.liquid + ledger.stake + ledger.unbonding - wealth_before).clip(min=0).sum()
        pools_gained = ledger.insurance_tokens + ledger.treasury_tokens - pools_before
        assert gained + max(pools_gained, 0.0) <= minted + slashed + tol
        assert burned <= slashed + tol
        assert 0.0 <= net.quality <= 1.0
        assert (net.active_rounds <= net.round).all()


def assert_network_consistent(net: FLNetwork) -> None:
    """The state after a round: books, stakes, owner states, strategies and shares agree."""
    s, ledger, nt = net.scenario, net.ledger, net.n_trainers
    ledger.check()
    tol = 1e-9 * max(1.0, ledger.expected_supply_tokens())
    assert np.abs(ledger.account_errors()).max() <= tol

    # Registered identities hold at least the minimum stake; the others hold none.
    registered = net.registered
    trainer_min = s.staking.min_trainer_stake_tokens * (1 - 1e-9)
    assert (ledger.stake[:nt][registered[:nt]] >= trainer_min).all()
    assert (ledger.stake[nt:][registered[nt:]] == s.staking.validator_stake_tokens).all()
    assert not ledger.stake[~registered].any() and not ledger.liquid[~registered].any()

    # An owner is in iff one of its identities is registered; waiting iff none ever joined.
    live = np.bincount(net.owner, weights=registered, minlength=len(net.owner_first)) > 0
    joined = net.join_round[net.owner_first] != NEVER
    np.testing.assert_array_equal(net.owner_state == IN, live)
    np.testing.assert_array_equal(net.owner_state == WAITING, ~joined)
    np.testing.assert_array_equal(net.owner_state == OUT, joined & ~live)
    assert net.exited_owners == np.count_nonzero(net.owner_state == OUT)
    assert net.entered_owners == np.count_nonzero(joined & (net.join_round[net.owner_first] > 0))
    waiting = net.join_round == NEVER
    extra = s.staking.initial_liquid_tokens + s.staking.registration_cost_tokens
    np.testing.assert_allclose(ledger.outside[waiting], net.stake_required[waiting] + extra, rtol=1e-12)

    # Sybil owners stay Sybils; one-identity trainers never become one; roles never change.
    sybil = np.zeros(len(net.strategy_index), dtype=bool)
    sybil[net.type_rows[SybilTrainer]] = True
    np.testing.assert_array_equal(net.strategy_index == 2, sybil)
    assert (net.strategy_index[:nt] < len(TRAINER_TYPES)).all()
    assert (net.strategy_index[nt:] >= len(TRAINER_TYPES)).all()
    for row, agent in enumerate(net.agent_at):
        if waiting[row]:
            assert agent is None
        else:
            assert agent.strategy == net.strategies[net.strategy_index[row]] and agent.account == row

    # Shares of the active owners of each role: in [0, 1] and adding up to 1, or NaN when none.
    shares = net.owner_shares()
    active_trainers = np.count_nonzero((net.owner_state == IN) & net.owner_is_trainer)
    active_validators = np.count_nonzero((net.owner_state == IN) & ~net.owner_is_trainer)
    for role, active in (
        (slice(0, len(TRAINER_TYPES)), active_trainers),
        (slice(len(TRAINER_TYPES), None), active_validators),
    ):
        if active:
            assert ((shares[role] >= 0) & (shares[role] <= 1)).all()
            assert abs(shares[role].sum() - 1.0) <= 1e-12
        else:
            assert np.isnan(shares[role]).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(adaptive=True), seed=st.integers(0, 2**32 - 1))
def test_adaptive_networks_stay_consistent_every_round(scenario, seed):
    net = FLNetwork(scenario, seed, audit=True)
    assert_network_consistent(net)
    k = scenario.population.sybil_identities_per_owner
    sybil_rows = net.type_rows[SybilTrainer]
    np.testing.assert_allclose(net.stake_required[sybil_rows], identity_stake_tokens(scenario, k))
    for _ in range(scenario.rounds):
        net.step()
        assert_network_consistent(net)


@st.composite
def tokenless_scenarios(draw) -> Scenario:
    """Random scenarios (fixed or adaptive owners) run by the tokenless orchestrator, with every fee
    basis, KYC payer and re-application mode, bans from none to forever and budgets that may bind."""
    base = draw(scenarios(adaptive=draw(st.booleans())))
    rounds = base.rounds
    overrides = {
        "regime.kind": "tokenless",
        "regime.fee_basis": draw(st.sampled_from(["accepted_submission", "participation_round"])),
        "regime.service_fee_fiat": draw(st.floats(0.0, 20.0)),
        "regime.budget_fiat_per_round": draw(st.one_of(st.just(0.0), st.floats(0.0, 100.0), st.just(1e6))),
        "regime.validator_wage_fiat_per_round": draw(st.floats(0.0, 50.0)),
        "regime.kyc_cost_fiat": draw(st.floats(0.0, 20.0)),
        "regime.kyc_paid_by": draw(st.sampled_from(["applicant", "orchestrator", "split"])),
        "regime.kyc_duplicate_detection": draw(FRACTION),
        "regime.ejection_strikes": draw(st.integers(1, 4)),
        "regime.ban_rounds": draw(st.integers(0, max(rounds, 1))),
        "regime.ban_forever": draw(st.booleans()),
        "regime.reapply": draw(st.sampled_from(["new_identity", "after_ban", "never"])),
        "token.genesis_supply_tokens": draw(st.floats(1.0, 1e7)),  # nobody needs a token
    }
    return with_overrides(base, overrides)


def assert_tokenless_consistent(net: FLNetwork) -> None:
    """The state after a tokenless round: no token anywhere, fiat conserved, owners and identities agree."""
    s, ledger, nt, orchestrator = net.scenario, net.ledger, net.n_trainers, net.orchestrator
    net.fiat.check()
    ledger.check()
    assert ledger.minted_tokens == ledger.slashed_tokens == ledger.burned_tokens == 0.0
    assert ledger.insurance_tokens == 0.0 and ledger.treasury_tokens == s.token.genesis_supply_tokens
    for balance in (ledger.liquid, ledger.stake, ledger.unbonding, ledger.outside):
        assert not balance.any()
    assert not net.capital_fiat.any()

    registered = net.registered
    live = np.bincount(net.owner, weights=registered, minlength=len(net.owner_first)).astype(int)
    np.testing.assert_array_equal(net.live_identities, live)
    # Registered identities have fewer strikes than eject; those waiting to come back are not registered.
    assert (orchestrator.strikes[registered[:nt]] < s.regime.ejection_strikes).all()
    pending = orchestrator.readmit_at != NEVER
    assert not (pending & registered[:nt]).any()
    assert (orchestrator.readmit_at[pending] >= net.round).all()  # none overdue
    # An owner is in iff one of its identities is registered; barred iff none is and one waits.
    waits = np.bincount(net.owner[:nt], weights=pending, minlength=len(net.owner_first)) > 0
    joined = net.join_round[net.owner_first] != NEVER
    np.testing.assert_array_equal(net.owner_state == IN, live > 0)
    np.testing.assert_array_equal(net.owner_state == WAITING, ~joined)
    np.testing.assert_array_equal(net.owner_state == BARRED, joined & (live == 0) & waits)
    np.testing.assert_array_equal(net.owner_state == OUT, joined & (live == 0) & ~waits)
    assert net.exited_owners == np.count_nonzero(net.owner_state == OUT)
    # Every identity KYC admitted has an agent; one never admitted (refused, or waiting) has none.
    for row, agent in enumerate(net.agent_at):
        assert (agent is None) == (net.join_round[row] == NEVER)
    counts = np.bincount(
        net.strategy_index[net.owner_first[net.owner_state == IN]], minlength=len(net.strategies)
    )
    np.testing.assert_array_equal(net.active_owners, counts)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=tokenless_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_tokenless_networks_conserve_fiat_and_move_no_token_every_round(scenario, seed):
    r = scenario.regime
    net = FLNetwork(scenario, seed, audit=True)
    fiat = net.fiat
    assert_tokenless_consistent(net)
    for _ in range(scenario.rounds):
        fees_before = fiat.fees_paid_fiat
        net.step()
        assert_tokenless_consistent(net)
        accepted, flagged = net.recorder.series("accepted")[-1], net.recorder.series("flagged")[-1]
        units = accepted if r.fee_basis == "accepted_submission" else accepted + flagged
        paid = fiat.fees_paid_fiat - fees_before
        due = r.service_fee_fiat * units
        assert paid == pytest.approx(min(due, r.budget_fiat_per_round), rel=1e-12, abs=1e-9)
        assert 0.0 <= net.quality <= 1.0
