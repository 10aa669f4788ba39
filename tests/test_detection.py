"""Abstract detection: one uniform decides presence and flagging with the right frequencies."""

from __future__ import annotations

import numpy as np

from model.detection import AbstractDetection


def test_flag_frequency_is_rate_times_honest_share_among_present():
    n, d, rate, h = 400_000, 0.2, 0.5, 0.6
    u = np.random.default_rng(3).random(n)
    present = u >= d
    flagged = (
        AbstractDetection(np.full(n, rate), d).flagged_if_submitting(u[None, :], np.array([h]))[0] & present
    )
    share = flagged.sum() / present.sum()
    assert abs(share - rate * h) < 4 * np.sqrt(rate * h * (1 - rate * h) / present.sum())


def test_no_honest_validation_means_no_flags():
    u = np.linspace(0, 0.999, 1000)
    flagged = AbstractDetection(np.ones(1000), 0.1).flagged_if_submitting(u[None, :], np.array([0.0]))[0] & (
        u >= 0.1
    )
    assert not flagged.any()
