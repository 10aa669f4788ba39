"""Hostile and extreme input: files that never end or nest forever, sizes that exhaust memory,
numbers that overflow. Each is refused with a ScenarioError naming the file, the key, the value and
the limit — never a traceback — and whatever the schema accepts runs to finite KPIs."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.sweep.sweepfile import (
    MAX_DESIGN_NUMBERS,
    MAX_DESIGNS,
    MAX_TRAJECTORY_POINTS,
    MAX_TRAJECTORY_ROWS,
    load_sweep,
)
from model import Scenario, ScenarioError, load_scenario, run_scenario, scenario_from_dict, with_overrides
from model.kpis import KPIRangeError, by_strategy, run_kpis, strategy_figures
from model.limits import (
    MAX_COST_FIAT,
    MAX_FILE_BYTES,
    MAX_IDENTITIES,
    MAX_NESTING_DEPTH,
    MAX_PRICE_FIAT,
    MAX_SEED,
    MAX_TOKENS,
    MIN_PRICE_FIAT,
    MIN_TOKENS,
)
from model.network import FLNetwork
from model.scenario import Token

from .conftest import BASELINE, ROOT


def refusal(load, path) -> str:
    with pytest.raises(ScenarioError) as info:
        load(path)
    return str(info.value)


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# -- files ------------------------------------------------------------------------------------
DEEP = 5_000
NESTED_FILES = {
    "arrays": "rounds = " + "[" * DEEP + "]" * DEEP + "\n",
    "inline tables": "rounds = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n",
    "dotted table header": "[" + ".".join(["a"] * DEEP) + "]\nb = 1\n",
}


@pytest.mark.parametrize("loader", [load_scenario, load_sweep], ids=["scenario", "sweep"])
@pytest.mark.parametrize("text", NESTED_FILES.values(), ids=NESTED_FILES.keys())
def test_files_nested_thousands_deep_are_refused_naming_the_limit(tmp_path, loader, text):
    path = write(tmp_path / "deep.toml", text)
    message = refusal(loader, path)
    assert str(path) in message
    assert f"MAX_NESTING_DEPTH = {MAX_NESTING_DEPTH}" in message


def test_a_dotted_header_too_deep_is_refused_naming_where(tmp_path):
    path = write(tmp_path / "deep.toml", "[" + ".".join(["x"] * (MAX_NESTING_DEPTH + 1)) + "]\ny = 1\n")
    assert "'x.x.x" in refusal(load_scenario, path)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda tmp: "/dev/zero", "a character device"),
        (lambda tmp: str(tmp), "a directory"),
        (lambda tmp: (os.mkfifo(tmp / "pipe"), str(tmp / "pipe"))[1], "a named pipe (FIFO)"),
    ],
    ids=["/dev/zero", "directory", "fifo"],
)
@pytest.mark.parametrize("loader", [load_scenario, load_sweep], ids=["scenario", "sweep"])
def test_paths_that_are_not_regular_files_are_refused_before_reading(tmp_path, make, what, loader):
    path = make(tmp_path)  # a FIFO with no writer would block a reader forever: it is never opened
    message = refusal(loader, path)
    assert path in message and f"it is {what}, not a regular file" in message


@pytest.mark.parametrize("loader", [load_scenario, load_sweep], ids=["scenario", "sweep"])
def test_a_nul_byte_in_the_path_is_refused(loader):
    message = refusal(loader, "scenarios/base\x00line.toml")
    assert "NUL byte" in message and "position 14" in message and "base\\x00line" in message


@pytest.mark.parametrize("loader", [load_scenario, load_sweep], ids=["scenario", "sweep"])
def test_a_file_over_the_size_limit_is_refused_naming_size_and_limit(tmp_path, loader):
    path = write(tmp_path / "huge.toml", "#" * MAX_FILE_BYTES + "\n")
    message = refusal(loader, path)
    assert f"{MAX_FILE_BYTES + 1:_} bytes" in message and f"MAX_FILE_BYTES = {MAX_FILE_BYTES:_}" in message


def test_a_file_of_exactly_the_size_limit_is_read(tmp_path):
    text = BASELINE.read_text(encoding="utf-8")
    path = write(tmp_path / "padded.toml", text + "#" * (MAX_FILE_BYTES - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(path).name == "baseline"


def test_an_integer_too_long_to_convert_is_refused_as_bad_toml(tmp_path):
    path = write(tmp_path / "digits.toml", "seed = " + "9" * 5_000 + "\n")
    assert "not valid TOML" in refusal(load_scenario, path)


def test_a_sweep_whose_base_never_ends_is_refused_naming_sweep_base(tmp_path):
    path = write(
        tmp_path / "s.toml", '[sweep]\nbase = "/dev/zero"\n[[parameters]]\npath = "rounds"\nvalues = [5]\n'
    )
    assert "sweep.base '/dev/zero': cannot read the scenario file: it is a character device" in refusal(
        load_sweep, path
    )


def fedstake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_command_line_refuses_hostile_files_without_a_traceback(tmp_path):
    deep = write(tmp_path / "deep.toml", NESTED_FILES["arrays"])
    for args in (
        ["run", "/dev/zero"],
        ["run", str(deep)],
        ["sweep", str(deep), "--out", str(tmp_path / "o")],
    ):
        done = fedstake(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and args[1] in done.stderr


# -- the scenario schema's bounds ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"token": {"price_fiat": 1e308}}, ["token.price_fiat = 1e+308", "[1e-09, 1_000_000_000]"]),
        ({"token": {"price_fiat": 5e-324}}, ["token.price_fiat = 5e-324", "[1e-09, 1_000_000_000]"]),
        ({"costs": {"train_cost_fiat_per_round": 1e308}}, ["train_cost_fiat_per_round = 1e+308", "[0, 1_0"]),
        ({"costs": {"poison_gain_fiat_per_round": 1e13}}, ["poison_gain_fiat_per_round = 10000000000000.0"]),
        ({"staking": {"min_trainer_stake_tokens": 1e-300}}, ["= 1e-300", "0, or a number in [1e-09, 1e+15]"]),
        ({"token": {"genesis_supply_tokens": 1e300}}, ["genesis_supply_tokens = 1e+300", "[1e-09, 1e+15]"]),
        (
            {"emission": {"initial_tokens_per_round": 2e15}},
            ["initial_tokens_per_round = 2000000000000000.0", "0, or"],
        ),
        ({"rounds": 10**9}, ["rounds = 1000000000", "[1, 1_000_000]"]),
        ({"rounds": 1e9}, ["rounds = 1000000000", "[1, 1_000_000]"]),
        ({"seed": MAX_SEED + 1}, [f"seed = {MAX_SEED + 1}", f"[0, {MAX_SEED:_}]"]),
        ({"slashing": {"ejection_strikes": 10**30}}, ["ejection_strikes = 10000", "[0, 1_000_000]"]),
        (
            {"population": {"honest_trainers": 600_000, "honest_validators": 500_000}},
            ["1_100_030 identities", "500_002 validators", f"MAX_IDENTITIES = {MAX_IDENTITIES:_}"],
        ),
    ],
)
def test_values_beyond_the_limits_are_refused_naming_key_value_and_limit(data, fragments):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"staking.min_trainer_stake_tokens": 0.0, "staking.registration_cost_tokens": 0.0},
        {"staking.initial_liquid_tokens": MIN_TOKENS, "token.price_fiat": MIN_PRICE_FIAT},
        {"token.price_fiat": MAX_PRICE_FIAT, "costs.train_cost_fiat_per_round": MAX_COST_FIAT},
        {"seed": MAX_SEED, "rounds": 3},
    ],
)
def test_values_at_the_limits_are_accepted_and_run(baseline, overrides):
    scenario = with_overrides(baseline, {"rounds": 5, **overrides})
    kpis = run_scenario(scenario).kpis
    assert not any(math.isinf(v) for v in kpis.values())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_kpi_that_leaves_the_float_range_is_named_not_written(baseline):
    # Built in code, a Scenario skips the schema: the run itself must still refuse to write inf.
    scenario = dataclasses.replace(baseline, rounds=3, token=Token(price_fiat=1e308))
    with pytest.raises(KPIRangeError, match=r"profit_fiat_per_round_honest = inf"):
        run_scenario(scenario)


# -- extreme but accepted scenarios run to finite KPIs -----------------------------------------
def at_the_bounds(low: float, high: float, zero: bool = False) -> st.SearchStrategy[float]:
    """A number in [low, high]: often an end (or 0), else log-uniform in between."""
    ends = [low, high] + ([0.0] if zero else [])
    between = st.floats(math.log10(low), math.log10(high)).map(lambda e: min(max(10.0**e, low), high))
    return st.one_of(st.sampled_from(ends), between)


@st.composite
def extreme_scenarios(draw) -> Scenario:
    """Small scenarios whose token amounts, price and costs sit at or near the schema's bounds."""
    population = {
        "population.honest_trainers": draw(st.integers(0, 4)),
        "population.lazy_trainers": draw(st.integers(0, 2)),
        "population.sybil_owners": draw(st.integers(0, 2)),
        "population.sybil_identities_per_owner": draw(st.integers(1, 3)),
        "population.poisoning_trainers": draw(st.integers(1, 2)),
        "population.honest_validators": draw(st.integers(0, 2)),
        "population.copying_validators": draw(st.integers(1, 2)),
    }
    identities = sum(v for k, v in population.items() if "per_owner" not in k) + 6  # Sybil: at most 6
    per_identity = MAX_TOKENS / (3 * identities)  # stake, liquid and registration fit in the supply
    rule = draw(st.sampled_from(["equal", "stake_weighted", "score_weighted"]))
    burn = draw(st.floats(0.0, 1.0))
    owner = draw(st.floats(0.0, 1.0))
    overrides = {
        **population,
        "rounds": draw(st.integers(1, 12)),
        "token.genesis_supply_tokens": MAX_TOKENS,
        "token.price_fiat": draw(at_the_bounds(MIN_PRICE_FIAT, MAX_PRICE_FIAT)),
        "staking.min_trainer_stake_tokens": draw(
            at_the_bounds(MIN_TOKENS, per_identity, rule != "stake_weighted")
        ),
        "staking.validator_stake_tokens": draw(at_the_bounds(MIN_TOKENS, per_identity)),
        "staking.initial_liquid_tokens": draw(at_the_bounds(MIN_TOKENS, per_identity, zero=True)),
        "staking.registration_cost_tokens": draw(at_the_bounds(MIN_TOKENS, per_identity, zero=True)),
        "staking.unbonding_period_rounds": draw(st.integers(0, 3)),
        "emission.schedule": draw(st.sampled_from(["constant", "exponential_decay", "halving"])),
        "emission.initial_tokens_per_round": draw(at_the_bounds(MIN_TOKENS, MAX_TOKENS, zero=True)),
        "emission.halving_supply_cap_tokens": draw(at_the_bounds(MIN_TOKENS, MAX_TOKENS)),
        "emission.owner_share": owner,
        "emission.trainer_share": 1.0 - owner,
        "emission.validator_share": 0.0,
        "rewards.rule": rule,
        "slashing.slash_fraction": draw(st.sampled_from([0.0, 5e-324, 0.5, 1.0])),
        "slashing.burn_share": burn,
        "slashing.insurance_share": 0.0,
        "slashing.validator_share": 1.0 - burn,
        "slashing.ejection_strikes": draw(st.integers(0, 2)),
        "detection.false_positive_rate": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "detection.score_noise_sd": draw(st.sampled_from([0.0, 5e-324, 100.0])),
        "costs.train_cost_fiat_per_round": draw(at_the_bounds(MIN_TOKENS, MAX_COST_FIAT, zero=True)),
        "costs.validate_cost_fiat_per_round": draw(at_the_bounds(MIN_TOKENS, MAX_COST_FIAT, zero=True)),
        "costs.poison_gain_fiat_per_round": draw(at_the_bounds(MIN_TOKENS, MAX_COST_FIAT, zero=True)),
        "costs.outside_option_return_per_round": draw(st.sampled_from([0.0, 5e-324, 1.0])),
        "dropout.trainer_dropout_probability": draw(st.sampled_from([0.0, 0.5, 0.99])),
        "dropout.validator_dropout_probability": draw(st.sampled_from([0.0, 0.5, 0.99])),
    }
    return with_overrides(Scenario(), overrides)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=extreme_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_kpi_is_finite_or_nan_for_its_documented_reason(scenario, seed):
    net = FLNetwork(scenario, seed)
    net.run()
    net.ledger.check()
    figures = strategy_figures(net)
    kpis = run_kpis(net, figures)
    assert not [name for name, value in kpis.items() if math.isinf(value)], kpis
    owners = figures["owners"]
    capital = np.nan_to_num(figures["capital_fiat_per_owner"]) * owners
    submissions = by_strategy(net, net.active_rounds.astype(float))
    stake_total = net.ledger.stake.sum()
    for i, s in enumerate(net.strategies):
        assert math.isnan(kpis[f"pi_{s}"]) == (owners[i] == 0 or capital[i] == 0), s
        assert math.isnan(kpis[f"profit_fiat_per_round_{s}"]) == (owners[i] == 0), s
        if f"flag_rate_{s}" in kpis:
            assert math.isnan(kpis[f"flag_rate_{s}"]) == (submissions[i] == 0), s
        assert math.isnan(kpis[f"stake_share_{s}"]) == (stake_total == 0), s
    deviations = [kpis[f"pi_{d}"] for d in ("lazy", "sybil", "poisoning")]
    assert math.isnan(kpis["margin_trainers"]) == (
        math.isnan(kpis["pi_honest"]) or all(math.isnan(d) for d in deviations)
    )
    assert math.isnan(kpis["margin_validators"]) == (
        math.isnan(kpis["pi_honest_validator"]) or math.isnan(kpis["pi_copying_validator"])
    )
    for name in ("minted_tokens", "slashed_tokens", "burned_tokens", "insurance_tokens", "treasury_tokens"):
        assert math.isfinite(kpis[name]), name
    assert 0.0 <= kpis["final_quality"] <= 1.0 and 0.0 <= kpis["mean_quality"] <= 1.0
    active = figures["owners_final"]
    for role, strategies in (("trainer", slice(0, 4)), ("validator", slice(4, None))):
        share = kpis[f"honest_{role}_share_final"]
        assert math.isnan(share) == (active[strategies].sum() == 0), role
        assert math.isnan(share) or 0.0 <= share <= 1.0
    level = kpis["rounds_to_honest_share_level"]
    assert math.isnan(level) or 0 <= level <= scenario.rounds


# -- sweep sizes -------------------------------------------------------------------------------
def sweep_file(tmp_path, sweep_lines: str, parameters: str = "", extra: str = ""):
    parameters = parameters or '[[parameters]]\npath = "slashing.slash_fraction"\nvalues = [0.1, 0.2]\n'
    text = f'[sweep]\nbase = "{BASELINE}"\n{sweep_lines}\n{parameters}\n{extra}'
    return write(tmp_path / "sweep.toml", text)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("trajectory_points = 1e9", "sweep.trajectory_points = 1000000000.0 is not allowed"),
        ("trajectory_points = 1000000000", "sweep.trajectory_points = 1000000000 is not allowed"),
        ("trajectory_points = 1_001", "sweep.trajectory_points = 1001 is not allowed"),
        ("trajectory_points = 500", "at most the rounds of the longest run (200)"),
        ("replications = 100_000_000", "sweep.replications = 100000000 is not allowed"),
        ("seed = 9_223_372_036_854_775_808", "sweep.seed = 9223372036854775808 is not allowed"),
    ],
)
def test_sweep_sizes_beyond_the_limits_are_refused(tmp_path, line, fragment):
    message = refusal(load_sweep, sweep_file(tmp_path, line))
    assert fragment in message
    if "trajectory_points = 1" in line:
        assert f"[2, {MAX_TRAJECTORY_POINTS:_}]" in message


def test_trajectory_points_are_judged_against_the_longest_run(tmp_path):
    rounds = '[[parameters]]\npath = "rounds"\nvalues = [100, 800]\n'
    sweep = load_sweep(sweep_file(tmp_path, "trajectories = true\ntrajectory_points = 800", rounds))
    assert sweep.trajectory_points == 800
    short = sweep_file(tmp_path, "trajectories = true", extra="[fixed]\nrounds = 10\n")
    assert load_sweep(short).trajectory_points == 50  # the default is not held against short runs


def test_a_sweep_keeping_too_many_trajectory_rows_is_refused(tmp_path):
    replications = MAX_TRAJECTORY_ROWS // (2 * 50) + 1
    path = sweep_file(tmp_path, f"trajectories = true\nreplications = {replications}")
    message = refusal(load_sweep, path)
    assert f"MAX_TRAJECTORY_ROWS = {MAX_TRAJECTORY_ROWS:_}" in message
    assert load_sweep(sweep_file(tmp_path, f"replications = {replications}")).replications == replications


def test_a_sampled_design_drawing_too_many_numbers_is_refused(tmp_path):
    keys = [f"detection.{k}_detection_rate" for k in ("lazy", "poison", "sybil")] + [
        "detection.false_positive_rate",
        "slashing.slash_fraction",
        "quality.learning_rate",
    ]
    params = "".join(f'[[parameters]]\npath = "{key}"\nlow = 0.0\nhigh = 1.0\n' for key in keys)
    points = MAX_DESIGN_NUMBERS // len(keys) + 1  # within MAX_RUNS
    message = refusal(load_sweep, sweep_file(tmp_path, f'design = "montecarlo"\npoints = {points}', params))
    assert f"MAX_DESIGN_NUMBERS = {MAX_DESIGN_NUMBERS:_}" in message and f"{points:_} points × 6" in message
    assert "MAX_RUNS" not in message


def test_too_many_designs_are_refused(tmp_path):
    designs = "".join(f'[designs.d{i}]\n"slashing.burn_share" = 0.5\n' for i in range(MAX_DESIGNS + 1))
    message = refusal(load_sweep, sweep_file(tmp_path, "", extra=designs))
    assert f"designs holds {MAX_DESIGNS + 1} tables; at most {MAX_DESIGNS}" in message
