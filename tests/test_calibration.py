"""``fedstake calibrate``: the abstract mode's parameters measured on a mechanistic scenario, written
as a fragment a sweep includes (``analysis.calibration``)."""

from __future__ import annotations

import contextlib
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.calibration import BOUNDS, Estimate, calibration_scenario, quality_rates
from analysis.sweep import load_sweep
from model import load_scenario, with_overrides
from model.params import ScenarioError

from .conftest import BASELINE, ROOT

MECHANISTIC = ROOT / "scenarios" / "mechanistic-digits.toml"
FRAGMENT = ROOT / "scenarios" / "calibration" / "mechanistic-digits.toml"
EXAMPLE = ROOT / "scenarios" / "examples" / "abstract-vs-mechanistic.toml"
FEDSTAKE = Path(sys.executable).with_name("fedstake")


def fedstake(*args: str) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


# -- the fit and the intervals -------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(
    learning=st.floats(0.0, 0.5),
    damage=st.floats(0.0, 0.9),
    rounds=st.integers(5, 60),
    seed=st.integers(0, 2**16),
)
def test_the_quality_fit_recovers_the_abstract_rates_that_made_a_path(learning, damage, rounds, seed):
    """A path made by the abstract mode's own update gives back its rates exactly."""
    rng = np.random.default_rng(seed)
    q, rows = 0.1, []
    for _ in range(rounds):
        work, poison = rng.uniform(0.3, 1.0), rng.uniform(0.0, 0.5)
        after = q + learning * work * (1 - q) - damage * poison * q
        rows.append((q, after, work, poison))
        q = after
    fitted = quality_rates(np.array(rows))
    assert fitted == pytest.approx((learning, damage), abs=1e-9)


def test_damage_cannot_be_told_without_accepted_poison():
    rows = np.array([(0.1, 0.19, 1.0, 0.0), (0.19, 0.271, 1.0, 0.0)])  # lr = 0.1, no poison accepted
    learning, damage = quality_rates(rows)
    assert learning == pytest.approx(0.1) and math.isnan(damage)
    assert all(math.isnan(x) for x in quality_rates(np.zeros((0, 4))))


def test_the_interval_is_students_t_over_seeds_clipped_to_the_keys_range():
    values = (0.2, 0.25, 0.3, math.nan)
    e = Estimate("detection.lazy_detection_rate", values, "share flagged")
    known = np.array(values[:3])
    half = stats.t.ppf(0.975, 2) * known.std(ddof=1) / math.sqrt(3)
    assert e.seeds == 3 and e.value == pytest.approx(0.25)
    assert e.interval == pytest.approx((0.25 - half, 0.25 + half))
    assert Estimate("detection.false_positive_rate", (0.0, 0.01, 0.0), "x").interval[0] == 0.0  # clipped
    assert Estimate("quality.learning_rate", (0.3,), "x").interval is None  # one seed: none
    assert math.isnan(Estimate("quality.poison_damage", (math.nan, math.nan), "x").value)


def test_calibration_counts_copiers_as_honest_and_refuses_an_abstract_scenario():
    s = calibration_scenario(load_scenario(MECHANISTIC))
    assert (s.population.honest_validators, s.population.copying_validators) == (10, 0)
    with pytest.raises(ScenarioError, match=re.escape("detection.mode = 'abstract' is not allowed here")):
        calibration_scenario(load_scenario(BASELINE))


# -- the command and its fragment ----------------------------------------------------------------
def test_the_shipped_fragment_is_what_calibrate_writes(tmp_path):
    """The gallery's example includes scenarios/calibration/mechanistic-digits.toml: it must be the
    command's output on the shipped scenario, as its header says."""
    out = tmp_path / "fragment.toml"
    done = fedstake("calibrate", "scenarios/mechanistic-digits.toml", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == FRAGMENT.read_text(encoding="utf-8")
    assert f"wrote {out}" in done.stdout


def test_the_fragment_sets_every_calibrated_key_within_its_range_and_a_sweep_uses_it():
    fragment = tomllib.loads(FRAGMENT.read_text(encoding="utf-8"))
    assert fragment["detection"]["mode"] == "abstract"
    flat = {f"{t}.{k}": v for t, table in fragment.items() for k, v in table.items() if k != "mode"}
    assert set(flat) == set(BOUNDS)  # every parameter was identified by the shipped scenario
    for key, value in flat.items():
        low, high = BOUNDS[key]
        assert low <= value <= high, key
    sweep = load_sweep(EXAMPLE)
    designs = dict(sweep.designs)
    assert designs["mechanistic"] == {}
    calibrated = designs["abstract, calibrated"]
    assert all(calibrated[key] == value for key, value in flat.items())
    assert calibrated["detection.mode"] == "abstract" and sweep.base.detection.mode == "mechanistic"


def test_a_calibration_reads_back_into_a_scenario(tmp_path):
    out = tmp_path / "f.toml"
    scenario = tmp_path / "small.toml"
    scenario.write_text(
        MECHANISTIC.read_text(encoding="utf-8")
        .replace("honest_trainers = 70", "honest_trainers = 10")
        .replace("poisoning_trainers = 8", "poisoning_trainers = 0")
        .replace("rounds = 60", "rounds = 10"),
        encoding="utf-8",
    )
    done = fedstake("calibrate", str(scenario), "--out", str(out), "--seeds", "2", "--seed", "7")
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "2 seeds\n# from 7," in text
    assert "# poison_detection_rate: not identified" in text  # no poisoner: said, not guessed
    assert "# poison_damage: not identified" in text
    flat = {f"{t}.{k}": v for t, table in tomllib.loads(text).items() for k, v in table.items()}
    applied = with_overrides(load_scenario(scenario), flat)
    assert applied.detection.mode == "abstract"
    assert applied.quality.learning_rate == flat["quality.learning_rate"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(BASELINE), "--out", "{tmp}/f.toml"], "detection.mode = 'abstract' is not allowed here"),
        ([str(MECHANISTIC), "--out", "{tmp}"], "is a directory"),
        ([str(MECHANISTIC), "--out", "{tmp}/missing/f.toml"], "does not exist"),
        ([str(MECHANISTIC), "--out", "{tmp}/f.toml", "--seeds", "0"], "--seeds"),
        (["{tmp}/nope.toml", "--out", "{tmp}/f.toml"], "nope.toml"),
    ],
)
def test_calibrate_refuses_bad_input_before_running_and_writes_nothing(tmp_path, capsys, args, message):
    from analysis.cli import main

    with pytest.raises(SystemExit) if "--seeds" in args else contextlib.nullcontext() as exited:
        status = main(["calibrate", *(a.format(tmp=tmp_path) for a in args)])
    if exited is not None:  # argparse refuses a bad number itself
        status = exited.value.code
    stderr = capsys.readouterr().err
    assert status == 2
    assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "f.toml").exists()


def test_a_mean_outside_the_keys_range_is_clipped_and_the_fragment_says_so():
    from analysis.calibration import fragment_text

    estimates = [
        Estimate("quality.poison_damage", (-0.02, -0.04), "the fit's damage"),
        Estimate("quality.learning_rate", (0.3,), "the fit"),
    ]
    text = fragment_text(estimates, load_scenario(MECHANISTIC), "x.toml", 1, 4)
    assert (
        "poison_damage = 0  # 95 % CI [0, 0.09706]; the mean, -0.03, clipped to what the key allows" in text
    )
    assert "learning_rate = 0.3  # one seed: no interval; the fit" in text
    assert ": 1 seed\n# from 4," in text
