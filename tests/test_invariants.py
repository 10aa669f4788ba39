"""Whole-run invariants over random valid scenarios, checked every round: token conservation,
no negative balance or stake, no slash above the stake, nothing paid that was not minted."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Scenario, with_overrides
from model.limits import MIN_TOKENS
from model.network import FLNetwork

FRACTION = st.floats(0.0, 1.0)


def tokens(high: float) -> st.SearchStrategy[float]:
    """A token amount up to ``high``: 0 or at least MIN_TOKENS (the schema refuses anything between)."""
    return st.one_of(st.just(0.0), st.floats(MIN_TOKENS, high))


@st.composite
def scenarios(draw) -> Scenario:
    """Small random scenarios covering every mechanism the schema offers."""
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
    return with_overrides(Scenario(), overrides)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_ledger_invariants_hold_every_round(scenario, seed):
    net = FLNetwork(scenario, seed)
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
