"""The sweep engine: same table however it runs, resume after kill -9, failures recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sweep.designs import design_points, run_seed
from analysis.sweep.engine import ID_COLUMNS, load_results, load_trajectories, parameter_dtypes, run_sweep
from analysis.sweep.sweepfile import load_sweep
from model import run_scenario, with_overrides
from model.kpis import (
    CLAIM_KPIS,
    ECONOMY_KPIS,
    FEE_KPIS,
    FL_KPIS,
    HALVING_KPIS,
    ORCHESTRATOR_KPIS,
    PRICE_KPIS,
    REGIME_KPIS,
    YUMA_KPIS,
    kpi_names,
)

from .conftest import BASELINE, ROOT
from .sweeps import DESIGNS_AND_MIXES, GRID, table_hash, write_sweep

FEDSTAKE = Path(sys.executable).with_name("fedstake")


def fedstake(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    return load_sweep(write_sweep(tmp_path_factory.mktemp("grid"), GRID))


@pytest.fixture(scope="module")
def reference(grid_sweep, tmp_path_factory):
    """The grid sweep run in-process with one worker."""
    return run_sweep(grid_sweep, tmp_path_factory.mktemp("ref") / "out", workers=1, progress=False)


def test_one_row_per_run_with_parameters_seed_status_and_kpis(reference, grid_sweep):
    assert len(reference) == 4 * 2 * 3
    assert list(reference["run_id"]) == list(range(24))
    assert (reference["status"] == "ok").all()
    assert {"slashing.slash_fraction", "rewards.rule", "point", "replication", "seed"} <= set(
        reference.columns
    )
    assert set(
        kpi_names(["honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator"])
    ) <= set(reference.columns)
    # Grid points are crossed: every (slash, rule) pair appears, each with all replications.
    pairs = reference.groupby(["slashing.slash_fraction", "rewards.rule"]).size()
    assert len(pairs) == 8 and (pairs == 3).all()


def test_a_row_is_reproduced_by_a_single_run_with_its_seed(reference, grid_sweep):
    row = reference.iloc[13]
    scenario = with_overrides(
        grid_sweep.base,
        {"slashing.slash_fraction": row["slashing.slash_fraction"], "rewards.rule": row["rewards.rule"]},
    )
    kpis = run_scenario(scenario, int(row["seed"])).kpis
    assert kpis["pi_honest"] == row["pi_honest"]
    assert kpis["margin_trainers"] == row["margin_trainers"]


def test_two_workers_and_other_chunk_sizes_give_the_identical_table(reference, grid_sweep, tmp_path):
    expected = table_hash(reference)
    for i, options in enumerate(
        [{"workers": 2}, {"workers": 2, "chunk_size": 1}, {"workers": 1, "chunk_size": 5}]
    ):
        table = run_sweep(grid_sweep, tmp_path / f"out{i}", progress=False, **options)
        assert table_hash(table) == expected, options


def test_dask_cluster_gives_the_identical_table(reference, grid_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        table = run_sweep(grid_sweep, tmp_path / "dask", executor=address, chunk_size=3, progress=False)
    assert table_hash(table) == table_hash(reference)
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"] == address


def test_manifest_records_what_was_run(tmp_path, grid_sweep):
    out = tmp_path / "m"
    run_sweep(grid_sweep, out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["content_hash"] == grid_sweep.content_hash()
    assert manifest["total_runs"] == 24 and manifest["status"] == "complete"
    assert manifest["design"] == "grid" and manifest["points"] == 8 and manifest["design_points"] == 8
    assert manifest["designs"] == ["base"] and manifest["design_overrides"] == {"base": {}}
    assert manifest["parameter_specs"] == [
        {"path": "slashing.slash_fraction", "kind": "real", "low": 0.0, "high": 0.5, "steps": 4}
        | {"scale": "linear", "values": None},
        {"path": "rewards.rule", "kind": "list", "low": None, "high": None, "steps": None, "scale": None}
        | {"values": ["equal", "stake_weighted"]},
    ]
    assert "morris_levels" not in manifest
    assert manifest["versions"]["numpy"] and manifest["cores"] >= 1
    assert {"started", "finished", "workers", "runs_executed", "wall_time_s"} <= set(manifest["sessions"][0])


def test_killed_sweep_resumes_without_rerunning_finished_chunks(tmp_path):
    sweep_file = write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 30"))
    sweep_file.write_text(sweep_file.read_text().replace("rounds = 20", "rounds = 150"))
    total = 30 * 2 * 3
    uninterrupted = run_sweep(
        load_sweep(sweep_file), tmp_path / "whole", workers=2, chunk_size=4, progress=False
    )

    out = tmp_path / "killed"
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    proc = subprocess.Popen(
        [*command, "sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--chunk-size", "4"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "runs").glob("part-*.parquet"))) < 6:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    parts = {p.name: os.stat(p) for p in (out / "runs").glob("part-*.parquet")}
    done_before = len(load_results(out))
    assert 0 < done_before < total, "the sweep should have been stopped part-way"

    resumed = fedstake("sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--chunk-size", "4")
    assert resumed.returncode == 0, resumed.stderr
    assert f"({done_before:,} were already done)" in resumed.stdout
    assert f"ran {total - done_before:,} runs" in resumed.stdout
    for name, before in parts.items():  # no finished chunk was written again
        after = os.stat(out / "runs" / name)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert table_hash(load_results(out)) == table_hash(uninterrupted)
    assert not list((out / "runs").glob(".*.tmp"))


def test_failing_runs_are_recorded_and_the_rest_complete(tmp_path):
    body = """
[[parameters]]
path = "population.honest_trainers"
values = [10, 400000]
"""
    sweep_file = write_sweep(tmp_path, body)
    done = fedstake("sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "failed runs: 3" in done.stdout
    table = load_results(tmp_path / "out")
    failed = table[table["status"] == "failed"]
    assert len(failed) == 3 and (failed["population.honest_trainers"] == 400000).all()
    assert failed["error"].str.contains("genesis_supply_tokens").all()
    assert failed["error"].str.contains("Traceback").all()
    assert failed["pi_honest"].isna().all()
    assert (table.loc[table["status"] == "ok", "pi_honest"].notna()).all()


def test_trajectories_are_kept_downsampled_when_asked(tmp_path):
    header = f'[sweep]\nbase = "{BASELINE}"\nreplications = 2\ntrajectories = true\ntrajectory_points = 5\n'
    sweep_file = write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2"), header=header)
    run_sweep(load_sweep(sweep_file), tmp_path / "out", workers=1, progress=False)
    trajectories = load_trajectories(tmp_path / "out")
    assert trajectories.groupby("run_id").size().eq(5).all()
    assert trajectories["run_id"].nunique() == 2 * 2 * 2
    assert list(trajectories[trajectories["run_id"] == 0]["round"]) == [0, 5, 10, 14, 19]


def test_a_different_sweep_in_the_same_directory_is_refused(tmp_path):
    first = write_sweep(tmp_path, GRID, name="a.toml")
    second = write_sweep(tmp_path, GRID.replace("high = 0.5", "high = 0.6"), name="b.toml")
    out = tmp_path / "out"
    assert fedstake("sweep", str(first), "--out", str(out), "--workers", "1").returncode == 0
    before = sorted(p.name for p in (out / "runs").iterdir())
    refused = fedstake("sweep", str(second), "--out", str(out), "--workers", "1")
    assert refused.returncode == 2
    assert "different sweep" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


def test_progress_is_plain_lines_off_a_terminal(tmp_path):
    sweep_file = write_sweep(tmp_path, GRID)
    done = fedstake("sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--workers", "1")
    assert "runs 24/24 (100%)" in done.stderr and "runs/s" in done.stderr
    assert "\r" not in done.stderr


BAD_SWEEPS = {
    "unknown parameter path": (
        '[[parameters]]\npath = "slashing.fraction"\nlow = 0.0\nhigh = 1.0\nsteps = 3\n',
        ["parameters[0].path = 'slashing.fraction' is not a scenario key"],
    ),
    "range outside what the scenario allows": (
        '[[parameters]]\npath = "slashing.slash_fraction"\nlow = 0.0\nhigh = 1.5\nsteps = 3\n',
        ["slashing.slash_fraction = 1.5", "[0, 1]"],
    ),
    "grid without steps": (
        '[[parameters]]\npath = "slashing.slash_fraction"\nlow = 0.0\nhigh = 1.0\n',
        ["a grid needs 'steps'"],
    ),
    "typo in a parameter key": (
        '[[parameters]]\npath = "slashing.slash_fraction"\nlow = 0.0\nhigh = 1.0\nstep = 3\n',
        ["unknown key 'parameters[0].step'"],
    ),
    "log scale from zero": (
        '[[parameters]]\npath = "emission.initial_tokens_per_round"\nlow = 0\nhigh = 100\nsteps = 3\n'
        'scale = "log"\n',
        ["a log scale needs low > 0"],
    ),
    "no parameters": ("", ["at least one [[parameters]] entry is required"]),
    "too many runs": (
        '[[parameters]]\npath = "slashing.slash_fraction"\nlow = 0.0\nhigh = 1.0\nsteps = 9000000\n',
        ["runs (points × designs × mixes × replications)", "at most MAX_RUNS = 10_000_000"],
    ),
    "int range with fractional ends": (
        '[[parameters]]\npath = "population.lazy_trainers"\nlow = 1.5\nhigh = 4\nsteps = 3\ntype = "int"\n',
        ["an int range needs whole-number ends"],
    ),
    "mix overriding a swept key": (
        GRID + '\n[mixes.a]\n"slashing.slash_fraction" = 0.3\n',
        ["mixes.a sets 'slashing.slash_fraction', which the sweep varies"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_file_is_refused_before_anything_runs(tmp_path, case):
    body, fragments = BAD_SWEEPS[case]
    sweep_file = write_sweep(tmp_path, body)
    out = tmp_path / "out"
    done = fedstake("sweep", str(sweep_file), "--out", str(out))
    assert done.returncode == 2
    assert "invalid sweep" in done.stderr and "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ('[sweep]\nbase = "nowhere.toml"\n', "cannot read the scenario file"),
        (f'[sweep]\nbase = "{BASELINE}"\ndesign = "sobol"\npoints = 10\n', "expected a power of 2"),
        (f'[sweep]\nbase = "{BASELINE}"\ndesign = "lhs"\n', "sweep.points is required"),
        (f'[sweep]\nbase = "{BASELINE}"\nreplications = 0\n', "sweep.replications = 0"),
    ],
)
def test_bad_sweep_settings_are_refused(tmp_path, header, fragment):
    sweep_file = write_sweep(tmp_path, GRID, header=header)
    done = fedstake("sweep", str(sweep_file), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and fragment in done.stderr


def test_binary_sweep_file_and_out_under_a_file_are_refused(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[sweep]")
    done = fedstake("sweep", str(binary), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "not a text file" in done.stderr and "Traceback" not in done.stderr
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    done = fedstake("sweep", str(write_sweep(tmp_path, GRID)), "--out", str(blocker / "sub"))
    assert done.returncode == 2 and "cannot create the results directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_executor_is_refused(tmp_path):
    sweep_file = write_sweep(tmp_path, GRID)
    done = fedstake("sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--executor", "spark://x")
    assert done.returncode == 2 and "'local' or 'dask://HOST:PORT'" in done.stderr
    done = fedstake(
        "sweep", str(sweep_file), "--out", str(tmp_path / "out2"), "--executor", "dask://127.0.0.1:1"
    )
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out2").exists()


def test_results_of_a_missing_directory_are_refused(tmp_path):
    from analysis.sweep.store import StoreError

    with pytest.raises(StoreError, match="holds no sweep results"):
        load_results(tmp_path / "nothing")


def test_results_table_reads_like_any_dataframe(reference):
    assert isinstance(reference, pd.DataFrame)
    means = reference.groupby("slashing.slash_fraction")["margin_trainers"].mean()
    assert len(means) == 4


def test_every_point_runs_under_every_population_mix(tmp_path):
    mixes = '\n[mixes.base]\n\n[mixes.no-lazy]\n"population.lazy_trainers" = 0\n'
    sweep = load_sweep(write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2") + mixes))
    table = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    assert table_hash(without_regime_columns(table.drop(columns="design"))) == MIXES_TABLE_BEFORE_DESIGNS
    assert len(table) == 2 * 2 * 2 * 3
    assert table.groupby(["slashing.slash_fraction", "rewards.rule", "mix"]).size().eq(3).all()
    assert table.loc[table["mix"] == "no-lazy", "pi_lazy"].isna().all()
    assert table.loc[table["mix"] == "base", "pi_lazy"].notna().all()


def test_a_mix_with_a_bad_value_is_refused(tmp_path):
    mixes = '\n[mixes.broken]\n"population.lazy_trainers" = -1\n'
    done = fedstake("sweep", str(write_sweep(tmp_path, GRID + mixes)), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "mixes.broken: population.lazy_trainers = -1" in done.stderr


# -- designs, integer levels, morris ---------------------------------------------------------
# Computed with the code of commit 939cfd7, before designs existed (tests/sweeps.py's table_hash of
# run_sweep over write_sweep(GRID), and over GRID with steps = 2 and the two mixes above). A sweep
# without designs must give that same table, plus a "design" column that is "base" throughout.
# (They also pin the model's numbers: a deliberate change of the model or of scenarios/baseline.toml
# changes them too: recomputed once, deliberately, when issue 8 corrected the accounting and added
# the adaptation KPIs.) Issue 9 added a column per run (`regime`) and the KPIs of REGIME_KPIS but
# changed no number of a token run: without those columns the tables still hash to these values.
# Issue 10 added the KPIs of YUMA_KPIS (absent here), stakes dealt from an eighth seed stream and
# delegation, and again changed no number of a run without them. Issue 11 added FL_KPIS (absent in
# abstract mode) and a ninth seed stream, used only by mechanistic runs: the same again.
def without_regime_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table as it was before issue 9 added the regime column and the regime KPIs (and issue 10
    the KPIs of the validators' votes, absent outside Yuma Consensus, and issue 11 the mechanistic
    task's, absent in abstract mode, and issue 12 the token economy's: at a fixed price without users
    the price KPIs are that price and the rest absent)."""
    assert table[list(YUMA_KPIS)].isna().all().all()
    assert table[list(FL_KPIS)].isna().all().all()
    assert table[[*FEE_KPIS, *CLAIM_KPIS, *HALVING_KPIS]].isna().all().all()
    for name in PRICE_KPIS:
        assert (table[name] == 1.0).all()  # the shipped files' fixed token.price_fiat
    return table.drop(columns=["regime", *REGIME_KPIS, *YUMA_KPIS, *FL_KPIS, *ECONOMY_KPIS])


TABLE_BEFORE_DESIGNS = "e9f8afba9746d611a885ace2d0ec18ab29a5e7073095d524fa37ab498cd05918"
MIXES_TABLE_BEFORE_DESIGNS = "dde9e26ced8116d6b7ed8ea1186ec0b83e6180eb77bf4af4f036c23905d67594"


def test_a_sweep_without_designs_gives_the_table_it_gave_before_designs(reference):
    assert list(reference.columns[: len(ID_COLUMNS)]) == ID_COLUMNS
    assert ID_COLUMNS[:4] == ["run_id", "point", "design", "mix"]
    assert (reference["design"] == "base").all()
    assert (reference["regime"] == "token").all()
    assert reference[list(ORCHESTRATOR_KPIS)].isna().all().all()  # absent in the token regime
    assert table_hash(without_regime_columns(reference.drop(columns="design"))) == TABLE_BEFORE_DESIGNS


@pytest.fixture(scope="module")
def designs_sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("designs")
    return load_sweep(write_sweep(directory, GRID.replace("steps = 4", "steps = 2") + DESIGNS_AND_MIXES))


@pytest.fixture(scope="module")
def designs_table(designs_sweep, tmp_path_factory):
    return run_sweep(designs_sweep, tmp_path_factory.mktemp("designs-out") / "out", workers=1, progress=False)


def test_designs_are_crossed_with_points_and_mixes_and_numbered_as_documented(designs_table):
    slashes, rules = [0.0, 0.5], ["equal", "stake_weighted"]
    designs, mixes = ["burn", "insurance"], ["base", "no-lazy"]
    assert len(designs_table) == 4 * 2 * 2 * 3
    assert list(designs_table["run_id"]) == list(range(48))
    for row in designs_table.to_dict("records"):
        parameter_point = slashes.index(row["slashing.slash_fraction"]) * 2 + rules.index(row["rewards.rule"])
        design, mix = designs.index(row["design"]), mixes.index(row["mix"])
        assert row["point"] == (parameter_point * 2 + design) * 2 + mix
        assert row["run_id"] == row["point"] * 3 + row["replication"]
        assert row["seed"] == run_seed(11, parameter_point * 2 + mix, row["replication"])


def test_designs_are_compared_on_common_random_numbers(designs_table):
    keys = ["slashing.slash_fraction", "rewards.rule", "mix", "replication"]
    burn = designs_table[designs_table["design"] == "burn"].set_index(keys).sort_index()
    insurance = designs_table[designs_table["design"] == "insurance"].set_index(keys).sort_index()
    assert (burn["seed"] == insurance["seed"]).all()
    kpis = [c for c in kpi_names(["honest", "honest_validator"]) if c in burn.columns]
    no_slashing = burn.index.get_level_values(0) == 0.0
    # Without slashing, where slashed tokens go cannot matter: the paired runs are identical …
    pd.testing.assert_frame_equal(burn.loc[no_slashing, kpis], insurance.loc[no_slashing, kpis])
    # … and with it, the insurance design pays the flagging validators a share.
    paid = insurance.loc[~no_slashing, "pi_honest_validator"] - burn.loc[~no_slashing, "pi_honest_validator"]
    assert (paid > 0).any() and (paid >= 0).all()


def test_a_designs_row_is_reproduced_from_its_overrides_and_seed(designs_table, designs_sweep):
    designs, mixes = dict(designs_sweep.designs), dict(designs_sweep.mixes)
    for i in (17, 45):
        row = designs_table.iloc[i]
        values = {p.path: row[p.path] for p in designs_sweep.parameters}
        scenario = with_overrides(
            designs_sweep.base, {**designs[row["design"]], **mixes[row["mix"]], **values}
        )
        kpis = run_scenario(scenario, int(row["seed"])).kpis
        for name, value in kpis.items():
            np.testing.assert_equal(value, row[name], err_msg=name)


def test_manifest_records_the_designs(designs_table, designs_sweep, tmp_path_factory):
    out = tmp_path_factory.mktemp("designs-manifest") / "out"
    run_sweep(designs_sweep, out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["designs"] == ["burn", "insurance"]
    assert manifest["design_overrides"]["insurance"] == {
        "slashing.burn_share": 0.0,
        "slashing.insurance_share": 0.8,
        "slashing.validator_share": 0.2,
    }
    assert manifest["mixes"] == ["base", "no-lazy"]
    assert manifest["design_points"] == 4 and manifest["points"] == 16 and manifest["total_runs"] == 48


INTEGER_LEVELS = """
[[parameters]]
path = "emission.initial_tokens_per_round"
values = [800, 1600]

[[parameters]]
path = "population.lazy_trainers"
low = 1
high = 2
steps = 2

[[parameters]]
path = "rewards.rule"
values = ["equal"]
"""


def test_parameter_columns_take_their_scenario_keys_type(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, INTEGER_LEVELS))
    assert parameter_dtypes(sweep) == {
        "emission.initial_tokens_per_round": "float64",
        "population.lazy_trainers": "int64",
        "rewards.rule": "object",
    }
    table = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    assert table["emission.initial_tokens_per_round"].dtype == "float64"
    assert table["population.lazy_trainers"].dtype == "int64"
    assert not pd.api.types.is_numeric_dtype(table["rewards.rule"])
    assert sorted(set(table["emission.initial_tokens_per_round"])) == [800.0, 1600.0]
    assert (table["status"] == "ok").all()


def test_a_morris_sweep_runs_its_trajectories_in_order(tmp_path):
    header = f'[sweep]\nbase = "{BASELINE}"\ndesign = "morris"\npoints = 2\nreplications = 1\nseed = 3\n'
    body = GRID.replace(
        'path = "rewards.rule"\nvalues = ["equal", "stake_weighted"]',
        'path = "quality.learning_rate"\nlow = 0.01\nhigh = 0.1',
    )
    sweep = load_sweep(write_sweep(tmp_path, body, header=header))
    table = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    paths = [p.path for p in sweep.parameters]
    assert table[paths].to_dict("records") == design_points(sweep)
    assert len(table) == 2 * (2 + 1) and (table["status"] == "ok").all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (
        manifest["design"] == "morris" and manifest["morris_levels"] == 4 and manifest["design_points"] == 6
    )


# -- executors and the engine's bookkeeping (issue 14 follow-up) ------------------------------
def test_every_run_of_a_designs_sweep_has_the_point_replication_and_seed_the_store_expects(
    designs_table, designs_sweep
):
    from analysis.sweep.designs import Design
    from analysis.sweep.engine import sweep_manifest
    from analysis.sweep.store import PartContract, identity_problem

    contract = PartContract.of(sweep_manifest(designs_sweep, Design(designs_sweep), None, None))
    assert (contract.designs, contract.mixes) == (2, 2)
    for i in range(len(designs_table)):  # one row at a time: every row's seed is checked
        assert identity_problem(designs_table.iloc[[i]], contract) is None
    shifted = designs_table.assign(seed=designs_table["seed"].shift(-4, fill_value=0))
    assert "the seed" in identity_problem(shifted.iloc[[0]], contract)


@pytest.mark.parametrize("workers", [0, -1, 1025, 2.5, True])
def test_workers_outside_1_to_max_workers_are_refused(workers):
    from analysis.sweep.executors import MAX_WORKERS, ExecutorError, make_executor

    assert MAX_WORKERS == 1024
    with pytest.raises(ExecutorError, match=f"--workers {workers!r} is not allowed: .* from 1 to 1024"):
        make_executor("local", workers)


def test_no_more_workers_start_than_there_are_chunks(tmp_path):
    from analysis.sweep.engine import execute_sweep
    from analysis.sweep.executors import MAX_WORKERS, ProcessExecutor

    pool = ProcessExecutor(MAX_WORKERS)
    pool.limit(3)
    assert pool.workers == 3 and pool._pool is None  # nothing started before the first task
    pool.limit(0)
    assert pool.workers == 1
    pool.close(cancel=True)

    sweep = load_sweep(write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2")))  # 4 points, 12 runs
    summary = execute_sweep(sweep, tmp_path / "out", workers=64, chunk_size=6, progress=False)
    assert summary.workers == 2
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["sessions"][-1]["workers"] == 2


class _LosesTheScheduler:
    """An executor that runs two chunks in this process, then loses its (pretend) Dask scheduler."""

    name = "dask"
    workers = 1

    def limit(self, tasks: int) -> None:
        pass

    def imap_unordered(self, fn, tasks, max_in_flight):
        from analysis.sweep.executors import ExecutorError

        for i, task in enumerate(tasks):
            if i == 2:
                raise ExecutorError("lost the Dask scheduler at tcp://gone:8786 (CommClosedError: ...)")
            yield fn(task)

    def close(self, cancel: bool = False) -> None:
        pass


def test_a_lost_scheduler_is_recorded_as_an_interrupted_session_and_resumes(tmp_path, monkeypatch):
    import analysis.sweep.engine as engine
    from analysis.sweep.executors import ExecutorError

    sweep = load_sweep(write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2")))  # 12 runs
    out = tmp_path / "out"
    monkeypatch.setattr(engine, "make_executor", lambda spec, workers: _LosesTheScheduler())
    with pytest.raises(ExecutorError, match="lost the Dask scheduler"):
        engine.execute_sweep(sweep, out, chunk_size=3, progress=False)
    monkeypatch.undo()
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert session["status"] == "interrupted" and session["runs_executed"] == 6
    assert len(load_results(out)) == 6
    summary = engine.execute_sweep(sweep, out, workers=1, chunk_size=3, progress=False)
    assert summary.already_done == 6 and summary.executed == 6


def test_the_dask_executor_reports_a_closed_connection_as_a_lost_scheduler():
    pytest.importorskip("distributed")
    from distributed.comm.core import CommClosedError

    from analysis.sweep.executors import DaskExecutor, ExecutorError

    class ClosedClient:
        loop = None

        def submit(self, *args, **kwargs):
            raise CommClosedError("in <TCP (closed)>: Stream is closed")

    executor = DaskExecutor.__new__(DaskExecutor)
    executor._client, executor.address, executor.workers = ClosedClient(), "tcp://gone:8786", 1
    with pytest.raises(ExecutorError) as raised:
        list(executor.imap_unordered(len, ["a", "b"], max_in_flight=2))
    message = str(raised.value)
    assert message.startswith("lost the Dask scheduler at tcp://gone:8786 (CommClosedError")
    assert "finished chunks are kept; run the same command to resume" in message


def test_a_chunk_written_as_the_stop_signal_arrives_is_counted(tmp_path, monkeypatch):
    from analysis.sweep.engine import SweepInterrupted, execute_sweep
    from analysis.sweep.store import ResultStore

    sweep = load_sweep(write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2")))  # 12 runs
    real, written = ResultStore.write_part, []

    def write_then_stop(self, rows, trajectories=None):
        real(self, rows, trajectories)
        written.append(len(rows))
        if len(written) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives after the write, before it is counted

    monkeypatch.setattr(ResultStore, "write_part", write_then_stop)
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted) as raised:
        execute_sweep(sweep, out, workers=1, chunk_size=3, progress=False)
    on_disk = len(load_results(out))
    assert on_disk == sum(written) == 6
    assert raised.value.summary.executed == on_disk
    assert json.loads((out / "manifest.json").read_text())["sessions"][-1]["runs_executed"] == on_disk


def test_set_aside_runs_will_be_run_again_when_the_sweep_was_interrupted(tmp_path):
    from analysis.sweep.engine import SweepSummary

    moved = [(tmp_path / "runs" / "part-000000004.parquet", tmp_path / "damaged" / "runs" / "p", "damaged")]
    stopped = SweepSummary(tmp_path, 12, interrupted=True, set_aside=moved).text()
    finished = SweepSummary(tmp_path, 12, set_aside=moved).text()
    assert "its runs will be run again" in stopped and "were run again" not in stopped
    assert "its runs were run again" in finished


@pytest.mark.parametrize(
    "spec",
    ["dask://localhost", "dask://[::1]", "dask://localhost:abc", "dask://localhost:99999", "dask://h:-1"],
)
def test_a_dask_address_without_a_usable_port_is_refused_at_once(spec):
    from analysis.sweep.executors import ExecutorError, make_executor

    with pytest.raises(ExecutorError, match=r"expected 'dask://HOST:PORT' with a port from 1 to 65535"):
        make_executor(spec, None)
