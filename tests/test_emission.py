"""Emission schedules: exact values from their closed forms."""

from __future__ import annotations

import pytest

from model.emission import halving_epoch, make_schedule
from model.scenario import Emission


def test_constant_emits_the_same_every_round():
    f = make_schedule(Emission(schedule="constant", initial_tokens_per_round=7.0))
    assert [f(t, 1e9) for t in (0, 1, 500)] == [7.0, 7.0, 7.0]


def test_exponential_decay_follows_its_closed_form():
    f = make_schedule(
        Emission(schedule="exponential_decay", initial_tokens_per_round=1000.0, decay_rate_per_round=0.01)
    )
    assert f(0, 0.0) == 1000.0
    assert f(100, 0.0) == pytest.approx(1000.0 * 0.99**100)


@pytest.mark.parametrize(
    ("issued", "epoch"),
    [(0, 0), (10_499_999, 0), (10_500_000, 1), (15_749_999, 1), (15_750_000, 2), (18_375_000, 3), (21e6, 64)],
)
def test_halvings_happen_at_bittensors_issuance_thresholds(issued, epoch):
    # Bittensor: 21 M cap, first halving at 10.5 M issued, the next at 15.75 M, then 18.375 M.
    assert halving_epoch(issued, 21e6) == epoch


def test_halving_schedule_halves_and_stops_at_the_cap():
    f = make_schedule(
        Emission(schedule="halving", initial_tokens_per_round=1.0, halving_supply_cap_tokens=21e6)
    )
    assert f(0, 0.0) == 1.0
    assert f(0, 10.5e6) == 0.5
    assert f(0, 15.75e6) == 0.25
    assert f(0, 21e6 - 0.1) == 2.0**-27  # 0.1 short of the cap: 27 halvings in
    assert f(0, 21e6) == 0.0
