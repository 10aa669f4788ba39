"""Shared fixtures: the shipped baseline and a small, fast variant of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import load_scenario, with_overrides

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def small(baseline):
    """The baseline mix at a quarter of the size and 60 rounds."""
    return with_overrides(
        baseline,
        {
            "rounds": 60,
            "population.honest_trainers": 18,
            "population.lazy_trainers": 3,
            "population.sybil_owners": 1,
            "population.sybil_identities_per_owner": 3,
            "population.poisoning_trainers": 3,
            "population.honest_validators": 3,
            "population.copying_validators": 1,
        },
    )
