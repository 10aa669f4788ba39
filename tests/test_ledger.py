"""The token ledger: conservation, slashing limits, restaking and unbonding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.ledger import LedgerError, TokenLedger


def funded(n=4, stake=100.0, liquid=10.0, period=3) -> TokenLedger:
    ledger = TokenLedger(n, 10_000.0, period, audit=True)
    ledger.allocate_from_treasury(slice(0, n), stake, liquid, 1.0)
    return ledger


def test_genesis_allocation_comes_out_of_the_treasury_and_burns_registration():
    ledger = funded()
    assert ledger.treasury_tokens == 10_000 - 4 * 111
    assert ledger.burned_tokens == 4.0
    ledger.check()


def test_genesis_cannot_allocate_more_than_the_supply():
    ledger = TokenLedger(3, 100.0, 0)
    with pytest.raises(LedgerError, match="genesis needs 330"):
        ledger.allocate_from_treasury(slice(0, 3), 100.0, 10.0, 0.0)


def test_slash_is_restored_from_liquid_when_it_can_be():
    ledger = funded()
    total, restored = ledger.slash(np.array([1, 3]), 0.05, np.full(2, 100.0))
    assert total == pytest.approx(10.0)
    assert restored
    np.testing.assert_allclose(ledger.stake, [100, 100, 100, 100])
    np.testing.assert_allclose(ledger.liquid, [10, 5, 10, 5])
    assert ledger.slashed_tokens == pytest.approx(10.0)


def test_slash_restores_only_what_liquid_covers():
    ledger = funded()
    total, restored = ledger.slash(np.array([0]), 0.5, np.array([100.0]))
    assert total == pytest.approx(50.0)
    assert not restored
    assert ledger.stake[0] == pytest.approx(60.0)  # 100 − 50 + the 10 liquid it had
    assert ledger.liquid[0] == 0.0


def test_slashed_tokens_in_transit_must_be_distributed_to_conserve():
    ledger = funded()
    total, _ = ledger.slash(np.array([0, 1]), 0.1, np.full(2, 100.0))
    with pytest.raises(LedgerError, match="conservation"):
        ledger.check()
    ledger.distribute_slashed(total * 0.5, total * 0.3, slice(2, 4), np.array([total * 0.1, total * 0.1]))
    ledger.check()
    assert ledger.insurance_tokens == pytest.approx(total * 0.3)


@pytest.mark.parametrize("period", [0, 1, 3])
def test_a_leaver_gets_its_liquid_back_now_and_its_stake_after_the_period(period):
    ledger = funded(period=period)
    ledger.begin_round(5)
    ledger.leave(np.array([2]))
    assert ledger.stake[2] == 0.0 and ledger.unbonding[2] == 100.0 and ledger.outside[2] == 10.0
    assert ledger.release_round[2] == 6 + period
    for r in range(6, 6 + period):
        ledger.begin_round(r)
        assert ledger.outside[2] == 10.0 and ledger.unbonding[2] == 100.0
    ledger.begin_round(6 + period)
    assert ledger.outside[2] == 110.0 and ledger.unbonding[2] == 0.0 and ledger.liquid[2] == 0.0
    ledger.check()


def test_one_pending_unbond_per_account():
    ledger = funded()
    ledger.leave(np.array([1]))
    with pytest.raises(LedgerError, match="one pending unbond"):
        ledger.leave(np.array([1]))


def test_an_entrant_brings_its_capital_in_from_outside_and_burns_the_registration():
    ledger = TokenLedger(2, 1_000.0, 2, audit=True)
    ledger.allocate_outside(np.array([0, 1]), 131.0)
    ledger.check()
    ledger.enter(np.array([1]), np.array([100.0]), 30.0, 1.0)
    assert (ledger.stake[1], ledger.liquid[1], ledger.outside[1]) == (100.0, 30.0, 0.0)
    assert ledger.burned_tokens == 1.0 and ledger.burned_by[1] == 1.0
    ledger.check()
    with pytest.raises(LedgerError, match="does not hold"):
        ledger.enter(np.array([0]), np.array([200.0]), 30.0, 1.0)


def test_an_accounts_books_must_balance():
    ledger = funded()
    ledger.mint_to_accounts(slice(0, 4), np.full(4, 2.0), 8.0)
    ledger.check()
    ledger.liquid[1] += 3.0  # tokens from nowhere, hidden by taking them from the treasury
    ledger.treasury_tokens -= 3.0
    with pytest.raises(LedgerError, match="account 1's books do not balance"):
        ledger.check()


def test_negative_balance_is_caught():
    ledger = funded()
    ledger.liquid[0] = -1.0
    ledger.outside[0] = 11.0
    with pytest.raises(LedgerError, match="negative liquid"):
        ledger.check()


@settings(max_examples=200, deadline=None)
@given(
    stake=arrays(np.float64, 6, elements=st.floats(0, 1e6)),
    liquid=arrays(np.float64, 6, elements=st.floats(0, 1e6)),
    fraction=st.floats(0, 1),
    chosen=st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True),
)
def test_a_slash_never_exceeds_the_stake_and_never_creates_tokens(stake, liquid, fraction, chosen):
    ledger = TokenLedger(6, 1e8, 2, audit=True)
    ledger.allocate_from_treasury(np.arange(6), stake, liquid, 0.0)
    idx = np.array(sorted(chosen))
    before_stake, before_wealth = ledger.stake.copy(), ledger.stake + ledger.liquid
    total, _ = ledger.slash(idx, fraction, before_stake[idx])
    assert total <= before_stake[idx].sum() * (1 + 1e-12)
    assert total == pytest.approx(fraction * before_stake[idx].sum())
    loss = before_wealth - (ledger.stake + ledger.liquid)
    np.testing.assert_allclose(loss[idx], fraction * before_stake[idx], rtol=1e-9, atol=1e-6)
    assert (ledger.stake >= 0).all() and (ledger.liquid >= -1e-9).all()
    ledger.distribute_slashed(total, 0.0, slice(0, 0), np.zeros(0))
    ledger.check()


def test_without_audit_the_totals_are_checked_and_the_accounts_books_are_not_kept():
    ledger = TokenLedger(2, 1_000.0, 2)
    ledger.allocate_from_treasury(slice(0, 2), 100.0, 10.0, 1.0)
    ledger.mint_to_accounts(slice(0, 2), np.full(2, 2.0), 4.0)
    ledger.check()
    assert ledger.received is None and ledger.slashed is None
    with pytest.raises(LedgerError, match="audit mode only"):
        ledger.account_errors()
    ledger.liquid[0] += 1.0  # a token from nowhere: the totals catch it
    with pytest.raises(LedgerError, match="conservation"):
        ledger.check()
