"""The command line as a user meets it: output, files written, and refusal of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import BASELINE, ROOT

FEDSTAKE = Path(sys.executable).with_name("fedstake")


def fedstake(*args: str) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_run_prints_the_per_strategy_summary():
    done = fedstake("run", str(BASELINE), "--rounds", "30")
    assert done.returncode == 0, done.stderr
    for word in ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator"):
        assert word in done.stdout
    assert "honesty margin, trainers" in done.stdout


def test_run_writes_rounds_strategies_and_summary(tmp_path):
    out = tmp_path / "run1"
    done = fedstake("run", str(BASELINE), "--seed", "4", "--rounds", "25", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rounds = pd.read_parquet(out / "rounds.parquet")
    assert len(rounds) == 25 and {"round", "quality", "pi_honest", "margin_trainers"} <= set(rounds.columns)
    strategies = pd.read_parquet(out / "strategies.parquet")
    assert set(strategies["strategy"]) >= {"honest", "lazy", "sybil", "poisoning"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 4
    assert summary["scenario"]["rounds"] == 25
    assert "margin_trainers" in summary["kpis"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


BAD_SCENARIOS = {
    "slash_fraction above 1": (
        "[slashing]\nslash_fraction = 1.5\n",
        ["slashing.slash_fraction", "1.5", "[0, 1]"],
    ),
    "negative stake": (
        "[staking]\nmin_trainer_stake_tokens = -10\n",
        ["staking.min_trainer_stake_tokens", "-10", "0, or a number in [1e-09, 1e+15]"],
    ),
    "typo'd section": ("[slahsing]\nslash_fraction = 0.2\n", ["unknown key 'slahsing'", "slashing"]),
    "wrong type": ('rounds = "ten"\n', ["rounds = 'ten'", "a whole number"]),
    "not TOML": ("[slashing\n", ["not valid TOML"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_is_refused_before_anything_runs(tmp_path, case):
    text, fragments = BAD_SCENARIOS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    done = fedstake("run", str(path), "--out", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr
    assert str(path) in done.stderr
    assert done.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "no-such-file.toml"], "cannot read the scenario file"),
        (["run", str(BASELINE), "--rounds", "0"], "--rounds"),
        (["run", str(BASELINE), "--seed", "-1"], "--seed"),
        (["walk"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_without_traceback(args, fragment):
    done = fedstake(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_binary_file_and_absurd_rounds_are_refused(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00rounds")
    done = fedstake("run", str(binary))
    assert done.returncode == 2 and "not a text file" in done.stderr
    done = fedstake("run", str(BASELINE), "--rounds", "100000000000")
    assert done.returncode == 2 and "rounds = 100000000000" in done.stderr
    assert "Traceback" not in done.stderr


def test_out_pointing_at_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    done = fedstake("run", str(BASELINE), "--rounds", "5", "--out", str(target))
    assert done.returncode == 2
    assert "is a file" in done.stderr
    assert target.read_text() == "keep me"


def test_written_files_are_readable_by_others_like_any_file(tmp_path):
    import os

    out = tmp_path / "run"
    assert fedstake("run", str(BASELINE), "--rounds", "5", "--out", str(out)).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    for name in ("rounds.parquet", "strategies.parquet", "summary.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask


TOKENLESS = ROOT / "scenarios" / "baseline-tokenless.toml"


def test_run_names_the_regime_under_the_scenario():
    done = fedstake("run", str(BASELINE), "--rounds", "10")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("scenario 'baseline'") and lines[1].startswith("regime: token")
    assert "pi %/round" in done.stdout and "tokens minted" in done.stdout


def test_a_tokenless_run_prints_profit_per_owner_and_what_the_orchestrator_paid():
    from model import load_scenario, run_scenario

    done = fedstake("run", str(TOKENLESS), "--rounds", "30", "--seed", "2")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    lines = text.splitlines()
    assert lines[1].startswith("regime: tokenless") and "service fee 5 fiat per accepted submission" in text
    header = next(line for line in lines if line.startswith("strategy"))
    assert header.split() == ["strategy", "owners", "at", "end", "ids", "profit/round", "flagged"]
    for word in ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator"):
        assert any(line.startswith(word) for line in lines), word
    assert "nan" not in text.lower() and "n/a*" not in text and "tokens minted" not in text
    kpis = run_scenario(load_scenario(TOKENLESS), 2, rounds=30).kpis
    assert f"service fees {kpis['fees_paid_fiat']:,.0f} fiat" in text
    assert f"validators' wages {kpis['wages_paid_fiat']:,.0f}" in text
    assert f"network cost {kpis['network_cost_fiat_per_round']:,.1f} fiat per round" in text
    assert f"{kpis['margin_trainers']:+.4f} fiat per owner per round (honest minus best)" in text
    assert f"identities ejected {kpis['ejected_identities']:,.0f}" in text


def tokenless_summary(rounds: int = 30, **overrides) -> str:
    """``fedstake run``'s summary of the tokenless baseline with ``overrides`` (dotted keys)."""
    from analysis.cli import format_summary
    from model import load_scenario, run_scenario, with_overrides

    scenario = with_overrides(load_scenario(TOKENLESS), overrides)
    return format_summary(run_scenario(scenario, 2, rounds=rounds))


def test_an_owner_waiting_out_a_ban_for_good_is_said_never_to_come_back():
    """Review of issue 9, defect 14: ban_forever with after_ban printed "the owner re-applies when the
    ban ends" — a ban for good never ends."""
    forever = tokenless_summary(**{"regime.ban_forever": True, "regime.reapply": "after_ban"})
    assert "barred for good" in forever and "never comes back" in forever
    assert "re-applies when the ban ends" not in forever
    timed = tokenless_summary(**{"regime.ban_forever": False, "regime.reapply": "after_ban"})
    assert "barred 50 rounds; the owner re-applies when the ban ends" in timed
    recognised = tokenless_summary(**{"regime.ban_forever": True, "regime.reapply": "new_identity"})
    assert "if KYC recognises it, it never comes back" in recognised


def test_a_run_says_when_the_fee_budget_binds_and_never_prints_minus_zero():
    """Review of issue 9, defect 14: a budget of 100 against up to 490 fiat of fees due a round was
    spent in full every round (every fee scaled down) and the run did not say so."""
    from model import load_scenario, run_scenario, with_overrides

    tight = {"regime.fee_basis": "participation_round", "regime.budget_fiat_per_round": 100.0}
    text = tokenless_summary(**tight)
    assert "the fee budget binds: fees due reached the 100 fiat budget in every round" in text
    assert "budget returned 0\n" in text and "returned -0" not in text
    kpis = run_scenario(with_overrides(load_scenario(TOKENLESS), tight), 2, rounds=30).kpis
    assert kpis["fees_paid_fiat"] == pytest.approx(100.0 * 30)  # what "binds" means: all of it spent
    # a budget the fees due can never reach is not mentioned
    roomy = tokenless_summary(**{"regime.budget_fiat_per_round": 100_000.0})
    assert "fee budget" not in roomy
    # one the fees due can exceed, but did not use up every round: it can bind, and how much was spent
    some = tokenless_summary(**{"regime.budget_fiat_per_round": 400.0})
    assert "the fee budget can bind" in some and "of the budget was spent" in some
