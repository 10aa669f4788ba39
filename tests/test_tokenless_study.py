"""The shipped tokenless map (scenarios/study-tokenless.toml) against the tokenless closed form:
where the simulation finds a boundary in service fee, the closed form's bound lies within its
confidence band, as the token study's slash-fraction bounds do (tests/test_report.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis import boundaries
from analysis.findings import analyze
from analysis.sweep.engine import load_results
from analysis.theory import CLOSED_FORM_AXES

#: The bands the analysis draws are two-sided 95 % intervals.
BAND_Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def tokenless_map(study_sweeps):
    return analyze(study_sweeps("study-tokenless"))


def standardised_distances(f, bound: str) -> tuple[list[float], list[str]]:
    """Per (design, strikes) level: (closed form − simulated boundary) in units of the band's
    standard error on the closed form's side; and the levels where the simulation finds no
    boundary inside the swept range although the closed form puts one there (or the reverse)."""
    table = f.deterrence if bound == "deterrence" else f.participation
    merged = table.merge(f.analytic, on=["design", f.y])
    low, high = float(f.classified[f.x].min()), float(f.classified[f.x].max())
    z, disagreements = [], []
    for _, row in merged.iterrows():
        analytic = row[bound]
        if row["where"] != boundaries.INSIDE:
            if low <= analytic <= high:
                disagreements.append(f"{row['design']}, {row[f.y]} strikes: {row['where']} vs {analytic:.3g}")
            continue
        side = row["band_high"] if analytic > row["estimate"] else row["band_low"]
        se = abs(side - row["estimate"]) / BAND_Z
        z.append((analytic - row["estimate"]) / se if se > 0 else math.inf)
    return z, disagreements


def test_the_shipped_tokenless_map_is_one_the_closed_form_covers_exactly(tokenless_map):
    f = tokenless_map
    assert f.x == "regime.service_fee_fiat" and f.x in CLOSED_FORM_AXES
    assert f.analytic is not None and (f.analytic["regime"] == "tokenless").all()
    assert all(not a for a in f.analytic["assumptions"]), f.analytic["assumptions"].tolist()


@pytest.mark.parametrize("bound", ["deterrence", "participation"])
def test_simulated_tokenless_boundaries_agree_with_the_closed_form_within_their_bands(tokenless_map, bound):
    z, disagreements = standardised_distances(tokenless_map, bound)
    assert not disagreements
    assert len(z) >= 8, "too few boundaries inside the swept range to compare"
    # Each level's band is a 95 % interval: about one level in twenty misses by chance. Together the
    # distances must look like standard normal draws (chi-square test), and none may be far out.
    assert max(abs(v) for v in z) < stats.norm.ppf(1 - 0.001 / 2), np.round(z, 2)
    assert stats.chi2.sf(sum(v * v for v in z), len(z)) > 0.001, np.round(z, 2)


def test_the_side_by_side_runs_both_regimes_on_the_same_random_numbers(study_sweeps):
    """Token and tokenless runs of scenarios/study-regimes.toml differ only in their institutions:
    every (mix, replication) has one seed under all four designs."""
    runs = load_results(study_sweeps("study-regimes"))
    assert set(runs["regime"]) == {"token", "tokenless"} and (runs["status"] == "ok").all()
    seeds = runs.groupby(["mix", "replication"])["seed"].nunique()
    assert (seeds == 1).all()
    assert runs.groupby(["mix", "replication"])["design"].nunique().eq(4).all()
