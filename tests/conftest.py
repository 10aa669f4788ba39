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


#: The default study's sweeps, in the order `make report` runs and reports them.
STUDY_SWEEPS = ("study-regimes", "study", "study-tokenless")


@pytest.fixture(scope="session")
def study_sweeps(tmp_path_factory):
    """The default study's results directories, run as `make report` runs them (about a minute on
    two cores), each at most once per test session: ``study_sweeps("study-tokenless")``."""
    from analysis.sweep.engine import execute_sweep
    from analysis.sweep.sweepfile import load_sweep

    done: dict[str, Path] = {}

    def results(name: str) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp(name) / "results"
            execute_sweep(load_sweep(ROOT / "scenarios" / f"{name}.toml"), out, workers=2, progress=False)
            done[name] = out
        return done[name]

    return results
