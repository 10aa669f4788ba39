"""Findings for every sweep shape, per design, from tiny hand-made results directories."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import boundaries, dominance
from analysis.findings import analyze, findings_table
from analysis.settings import value_per_run
from analysis.sweep.designs import run_seed
from analysis.sweep.store import STRATEGIES, PartContract
from model import load_scenario
from model.kpis import kpi_names
from model.params import to_dict

from .conftest import BASELINE

# -- tiny hand-made results directories: a manifest and one Parquet part, shaped like a sweep's
X, Y = "slashing.slash_fraction", "emission.initial_tokens_per_round"


def grid_points(levels: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``levels`` (a full-factorial grid), as one dict per point."""
    return [dict(zip(levels, combo, strict=True)) for combo in itertools.product(*levels.values())]


def synthetic_runs(
    points: list[dict[str, Any]],
    margin: Callable[[dict[str, Any], str, str], float],
    surplus: Callable[[dict[str, Any], str, str], float] | None = None,
    *,
    reps: int = 6,
    noise: float = 0.01,
    mixes: tuple[str, ...] = ("base",),
    designs: tuple[str, ...] | None = None,
    seed: int = 0,
    kpis: Callable[[dict[str, Any], str, str], dict[str, float]] | None = None,
) -> pd.DataFrame:
    """Runs with the trainers' margin ``margin(point, design, mix) + noise`` over the lazy deviation
    and honest profit ``surplus(point, design, mix) + noise`` (0.5 when not given)."""
    rng = np.random.default_rng(seed)
    rows, run = [], 0
    for design in designs or ("base",):
        for index, point in enumerate(points):
            for mix in mixes:
                for rep in range(reps):
                    honest = (surplus(point, design, mix) if surplus else 0.5) + rng.normal(0, noise)
                    lazy = honest - margin(point, design, mix) - rng.normal(0, noise)
                    row = {
                        "run_id": run,
                        "point": index,
                        "mix": mix,
                        "replication": rep,
                        "seed": run,
                        "status": "ok",
                        "error": None,
                        **point,
                        "pi_honest": honest,
                        "pi_lazy": lazy,
                        "pi_sybil": np.nan,
                        "pi_poisoning": honest - 5.0,
                        "margin_trainers": honest - lazy,
                        "margin_validators": -0.01,
                        "minted_tokens": 1000.0 * 200,
                        "burned_tokens": 10.0 * 200,
                        "slashed_tokens": 20.0 * 200,
                    }
                    if designs is not None:
                        row["design"] = design
                    if kpis:
                        row |= kpis(point, design, mix)
                    rows.append(row)
                    run += 1
    return pd.DataFrame(rows)


def write_results(directory: Path, runs: pd.DataFrame, *, numbered: bool = False, **manifest: Any) -> Path:
    """Write ``runs`` and a manifest (the baseline as base scenario, the fields every manifest has,
    plus ``manifest``)."""
    (directory / "runs").mkdir(parents=True, exist_ok=True)
    missing = [k for k in kpi_names(list(STRATEGIES)) if k not in runs]  # the contract has every KPI
    runs = runs.assign(**dict.fromkeys(missing, np.nan))
    base = manifest.pop("base_scenario", to_dict(load_scenario(BASELINE)))
    replications = int(runs["replication"].max()) + 1
    data = {
        "content_hash": "hand-made",
        "parameters": [c for c in runs.columns if "." in c],
        "points": len(runs) // replications,  # runs hold every (point, design, mix) × replications
        "replications": replications,
        "total_runs": len(runs),
        "seed": 0,
        "sessions": [],
        "base_scenario": base,
        "mixes": sorted(runs["mix"].unique().tolist()),
        "design": "grid",
    } | manifest
    for names, overrides in (("mixes", "mix_overrides"), ("designs", "design_overrides")):
        if overrides in data:  # a manifest names every mix (design) it overrides, those without too
            data[overrides] = {n: {} for n in data.get(names, [])} | data[overrides]
    # number and seed the runs as the sweep engine does, so the store takes them for this sweep's
    contract = PartContract.of(data)
    mixes = data.get("mixes") or ["base"]
    designs = data.get("designs") or ["base"]
    design = runs["design"] if "design" in runs else pd.Series("base", index=runs.index)
    if numbered:  # the test numbered its points as the engine does
        point = runs["point"]
    else:
        parameter_point = runs["point"].rank(method="dense").astype(int) - 1  # 0, 1, … without gaps
        point = (parameter_point * len(designs) + design.map(designs.index)) * len(mixes)
        point = point + runs["mix"].map(mixes.index)
        if "points" not in manifest:  # every (point, design, mix), also those a test left out
            data["points"] = int(parameter_point.max() + 1) * len(designs) * len(mixes)
            data["total_runs"] = data["points"] * replications
    runs = runs.assign(
        point=point,
        run_id=point * replications + runs["replication"],
        seed=[
            run_seed(data["seed"], contract.seed_point(int(p)), int(r))
            for p, r in zip(point, runs["replication"], strict=True)
        ],
    )
    runs.to_parquet(directory / "runs" / "part-000000000.parquet", index=False)
    (directory / "manifest.json").write_text(json.dumps(data, default=str), encoding="utf-8")
    return directory


XS = [round(v, 2) for v in np.linspace(0, 1, 11)]
OUTSIDE = "costs.outside_option_return_per_round"
RULE = "rewards.rule"
NUMBER_WORDS = re.compile(r"\b(nan|inf|NaN|Infinity)\b")


def assert_readable(summary: list[str]):
    for line in summary:
        assert not NUMBER_WORDS.search(line), line
        assert "−∞" not in line and "∞" not in line, line


# -- fix 1: integer levels ----------------------------------------------------------------------
def test_integer_levels_of_a_float_key_are_analysed(tmp_path):
    points = grid_points({X: XS, Y: [800, 1600]})  # ints, stored as int64
    runs = synthetic_runs(points, lambda p, d, m: p[X] - 0.3, lambda p, d, m: 0.8 - p[X])
    assert runs[Y].dtype == np.int64
    f = analyze(write_results(tmp_path, runs))
    assert f.analytic is not None and len(f.analytic) == 2
    assert set(f.deterrence[Y]) == {800, 1600}


# -- fix 3: each run's own outside option -------------------------------------------------------
def test_outside_option_per_mix_changes_the_participation_verdict(tmp_path):
    runs = synthetic_runs(
        grid_points({X: XS}), lambda p, d, m: 1.0, lambda p, d, m: 0.5 - p[X], mixes=("a", "b")
    )
    plain = analyze(write_results(tmp_path / "plain", runs))
    demanding = analyze(write_results(tmp_path / "demanding", runs, mix_overrides={"b": {OUTSIDE: 0.2}}))
    plain_part = plain.thresholds.set_index("name").loc["participation", "estimate"]
    demanding_part = demanding.thresholds.set_index("name").loc["participation", "estimate"]
    assert plain_part == pytest.approx(0.5, abs=0.02)
    assert demanding_part == pytest.approx(0.3, abs=0.02)  # the worst mix, b, needs 0.2 more
    at = demanding.classified.set_index(X)
    assert at.loc[0.4, "participation"] == dominance.FAILS
    assert plain.classified.set_index(X).loc[0.4, "participation"] != dominance.FAILS


def test_value_per_run_takes_swept_then_mix_then_design_then_base():
    runs = pd.DataFrame(
        {
            "mix": ["a", "b", "a", "b"],
            "design": ["d1", "d1", "d2", "d2"],
            "status": "ok",
            X: [0.1, 0.2, 0.3, 0.4],
        }
    )
    manifest = {
        "base_scenario": {"costs": {"outside_option_return_per_round": 0.01}},
        "design_overrides": {"d2": {OUTSIDE: 0.03}},
        "mix_overrides": {"b": {OUTSIDE: 0.02}},
    }
    assert value_per_run(runs, manifest, OUTSIDE).tolist() == [0.01, 0.02, 0.03, 0.02]
    assert value_per_run(runs, manifest, X).tolist() == [0.1, 0.2, 0.3, 0.4]
    assert value_per_run(runs.drop(columns="design"), {}, "rounds").tolist() == [200.0] * 4  # schema default
    with pytest.raises(KeyError, match="not a scenario key"):
        value_per_run(runs, manifest, "no.such_key")


# -- fix 4 and the 1-D shape --------------------------------------------------------------------
def test_one_d_sweep_gets_every_threshold_with_bands(tmp_path):
    # The margin rises through zero at 0.25 and falls back through it at 0.75.
    runs = synthetic_runs(
        grid_points({X: XS}), lambda p, d, m: 0.25 - abs(p[X] - 0.5), lambda p, d, m: 1.0, noise=0.005
    )
    f = analyze(write_results(tmp_path, runs))
    assert f.shape == "1-D" and f.y is None and f.deterrence is None
    det = f.thresholds[f.thresholds["name"] == "deterrence"].reset_index(drop=True)
    assert det["direction"].tolist() == ["rising", "falling"]
    assert det["estimate"].to_numpy() == pytest.approx([0.25, 0.75], abs=0.01)
    assert (det["band_low"] <= det["estimate"]).all() and (det["estimate"] <= det["band_high"]).all()
    part = f.thresholds[f.thresholds["name"] == "participation"]
    assert part["where"].tolist() == [boundaries.ABOVE_ZERO]
    text = " ".join(f.summary)
    assert "changes 2 times" in text and "throughout the swept range" in text
    assert_readable(f.summary)


def test_a_grid_axis_of_many_levels_is_never_binned(tmp_path):
    xs = [round(v, 4) for v in np.linspace(0, 1, 61)]
    runs = synthetic_runs(grid_points({X: xs, Y: [1.0, 2.0]}), lambda p, d, m: p[X] - 0.41, reps=3)
    f = analyze(write_results(tmp_path, runs, parameter_specs=[{"path": X, "kind": "real"}]))
    assert f.shape == "2-D" and len(f.classified) == 122
    assert sorted(f.classified[X].unique()) == xs
    assert f.deterrence["estimate"].to_numpy() == pytest.approx([0.41, 0.41], abs=0.01)


# -- n-D: slices ----------------------------------------------------------------------------------
LAZY = "detection.lazy_detection_rate"
POISON = "detection.poison_detection_rate"


def n_d_runs():
    points = grid_points({X: XS, Y: [1.0, 2.0], LAZY: [0.2, 0.4, 0.6, 0.8], POISON: [0.5, 0.7, 0.9]})
    # boundary at x = 0.1 + 0.5·lazy detection rate, whatever the rest
    return synthetic_runs(points, lambda p, d, m: p[X] - 0.1 - 0.5 * p[LAZY], reps=3, noise=0.002)


@pytest.fixture(scope="module")
def n_d_results(tmp_path_factory):
    return write_results(tmp_path_factory.mktemp("nd"), n_d_runs())


def test_n_d_sweep_gets_boundaries_on_default_slices(n_d_results):
    f = analyze(n_d_results)
    assert f.shape == "n-D" and (f.x, f.y) == (X, Y)
    assert f.slice_axes == [LAZY, POISON]
    assert len(f.slices) == 9
    assert {s[LAZY] for s in f.slices} == {0.2, 0.4, 0.8} and {s[POISON] for s in f.slices} == {0.5, 0.7, 0.9}
    assert len(f.deterrence) == 9 * 2
    expected = 0.1 + 0.5 * f.deterrence[LAZY]
    assert np.allclose(f.deterrence["estimate"], expected, atol=0.01)
    assert any("slices" in n for n in f.notes)
    table = findings_table(f)
    assert len(table) == 18 and table["share_dominates"].notna().all()
    assert_readable(f.summary)


def test_n_d_sweep_takes_named_slices_and_refuses_unknown_ones(n_d_results):
    f = analyze(n_d_results, slices={LAZY: [0.6]})
    assert {s[LAZY] for s in f.slices} == {0.6} and len(f.slices) == 3
    assert np.allclose(f.deterrence["estimate"], 0.4, atol=0.01)
    with pytest.raises(ValueError, match=r"not a slice axis; allowed: .*lazy_detection_rate"):
        analyze(n_d_results, slices={"rewards.rule": ["equal"]})
    with pytest.raises(ValueError, match=r"no runs at; its levels are 0\.2, 0\.4"):
        analyze(n_d_results, slices={LAZY: [0.5]})


def test_more_slice_axes_are_capped_at_nine_slices_with_a_note():
    from analysis.axes import Axis, default_slice_levels

    axes = [Axis(f"a.x{i}", True, True, (1, 2, 3, 4)) for i in range(3)]
    levels, cut = default_slice_levels(axes)
    assert cut and math.prod(len(v) for v in levels.values()) <= 9
    assert levels["a.x0"] == [1, 2, 4] and levels["a.x2"] == [2]


# -- categorical ----------------------------------------------------------------------------------
def test_categorical_only_sweep_agrees_with_its_table(tmp_path):
    margin = {"equal": 0.2, "stake_weighted": -0.2, "score_weighted": 0.0}
    runs = synthetic_runs(grid_points({RULE: list(margin)}), lambda p, d, m: margin[p[RULE]], noise=0.05)
    f = analyze(write_results(tmp_path, runs))
    assert f.shape == "categorical" and f.box is None and "per category" in f.box_note
    table = findings_table(f)
    assert table["points"].sum() == 3
    counts = table.set_index(RULE)
    assert counts.loc["equal", "dominates"] == 1 and counts.loc["stake_weighted", "fails"] == 1
    text = " ".join(f.summary)
    total = int(table["dominates"].sum())
    assert f"at {total} of 3 parameter points" in text
    assert "With rule = equal: honesty dominates at 1 of 1 points" in text
    assert "With rule = stake_weighted: honesty dominates at 0 of 1 points, fails at 1" in text
    assert "nowhere" not in text


def test_categorical_axis_beside_a_numeric_one_gets_thresholds_per_category(tmp_path):
    shift = {"equal": 0.2, "stake_weighted": 0.6}
    runs = synthetic_runs(grid_points({X: XS, RULE: list(shift)}), lambda p, d, m: p[X] - shift[p[RULE]])
    f = analyze(write_results(tmp_path, runs))
    assert f.shape == "1-D" and f.categorical == [RULE]
    det = f.thresholds[f.thresholds["name"] == "deterrence"].set_index(RULE)
    assert det.loc["equal", "estimate"] == pytest.approx(0.2, abs=0.01)
    assert det.loc["stake_weighted", "estimate"] == pytest.approx(0.6, abs=0.01)


# -- designs compared ---------------------------------------------------------------------------
def test_several_designs_are_compared_and_the_known_winner_found(tmp_path):
    # Design "strict" deters from x = 0.2, "lenient" only from x = 0.6; both stop paying at 0.8.
    shift = {"lenient": 0.6, "strict": 0.2}
    runs = synthetic_runs(
        grid_points({X: XS, Y: [1.0, 2.0]}),
        lambda p, d, m: p[X] - shift[d],
        lambda p, d, m: 0.8 - p[X],
        designs=("lenient", "strict"),
        kpis=lambda p, d, m: {"minted_tokens": 200.0 * (500 if d == "strict" else 1000)},
    )
    f = analyze(write_results(tmp_path, runs, designs=["lenient", "strict"]))
    assert f.designs == ["lenient", "strict"]
    c = f.comparison.set_index("design")
    assert c.loc["strict", "dominates"] > c.loc["lenient", "dominates"]
    assert c.loc["strict", "safe_band_mean_width"] == pytest.approx(0.6, abs=0.02)
    assert c.loc["lenient", "safe_band_mean_width"] == pytest.approx(0.2, abs=0.02)
    assert c.loc["strict", "emitted_tokens_per_round_all"] == pytest.approx(500.0)
    assert c.loc["strict", "emitted_fiat_per_round_where_dominates"] == pytest.approx(500.0)
    w = f.winners.set_index([X, Y])
    assert w.loc[(0.4, 1.0), "dominating_designs"] == "strict"
    assert w.loc[(0.7, 1.0), "dominating_designs"] == "lenient | strict"  # names may hold commas
    assert (f.winners["best_design"] == "strict").all()
    # How far apart: strict's margin is lenient's + 0.4 at every point; verdicts agree where both
    # dominate (x > 0.6) or neither does (x <= 0.2 or past participation).
    (row,) = f.agreement.to_dict("records")
    verdicts = f.classified.pivot_table(index=[X, Y], columns="design", values="honesty", aggfunc="first")
    assert row["design"] == "strict" and row["against"] == "lenient" and row["points"] == len(verdicts)
    assert row["same_verdict"] == int((verdicts["lenient"] == verdicts["strict"]).sum())
    assert 0 < row["same_verdict"] < row["points"]
    assert row["margin_difference_mean"] == pytest.approx(0.4, abs=0.02)
    assert row["margin_difference_largest"] == pytest.approx(0.4, abs=0.05)
    assert any(
        line.startswith("The verdicts under strict agree with those under lenient at") for line in f.summary
    )
    assert f.summary[0].startswith("Designs compared")
    assert "under strict at" in f.summary[0]
    assert_readable(f.summary)


def test_results_without_a_design_column_are_one_base_design(tmp_path):
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: p[X] - 0.5)
    assert "design" not in runs
    f = analyze(write_results(tmp_path, runs))
    assert f.designs == ["base"] and f.winners is None and f.agreement is None
    assert (f.classified["design"] == "base").all() and len(f.comparison) == 1


# -- fix 6: NaN KPIs are counted ---------------------------------------------------------------
def test_runs_without_a_cheating_strategy_are_counted_and_their_mix_left_out_of_the_worst_case(tmp_path):
    # Review finding 2: the honest-only mix has no trainers' margin because there is no deviation to
    # compare with; it used to make every point "uncertain" (its n = 0 gave a lower bound of −inf).
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: p[X] - 0.5, mixes=("all", "honest-only"))
    honest_only = runs["mix"] == "honest-only"
    runs.loc[honest_only, ["pi_lazy", "pi_sybil", "pi_poisoning", "margin_trainers"]] = np.nan
    overrides = {
        "honest-only": {
            "population.lazy_trainers": 0,
            "population.sybil_owners": 0,
            "population.poisoning_trainers": 0,
        }
    }
    f = analyze(write_results(tmp_path, runs, mix_overrides=overrides))
    row = f.dropped.set_index("kpi").loc["margin_trainers"]
    assert row["runs"] == honest_only.sum() and row["mix"] == "honest-only"
    assert row["reason"] == "no cheating strategy present in mix honest-only"
    by_x = f.classified.set_index(X)
    assert (by_x.loc[[0.7, 0.8, 0.9, 1.0], "trainers"] == dominance.DOMINATES).all()
    assert (by_x.loc[[0.0, 0.1, 0.2, 0.3], "trainers"] == dominance.FAILS).all()
    assert np.isfinite(by_x["trainers_lower"]).all()
    assert f.left_out[["mix", "margin", "points", "of"]].values.tolist() == [
        ["honest-only", "trainers", 11, 11]
    ]
    sentence = [s for s in f.summary if s.startswith("Mix honest-only")]
    assert len(sentence) == 1 and "no lazy, Sybil or poisoning trainers" in sentence[0]
    assert "left out of the trainers' verdict" in sentence[0]
    assert any("honest-only" in n and "left out of the worst case" in n for n in f.notes)
    det = f.thresholds.set_index("name").loc["deterrence"]
    assert det["estimate"] == pytest.approx(0.5, abs=0.01) and math.isfinite(det["band_high"])


def test_a_mix_whose_runs_all_failed_still_keeps_points_from_dominating(tmp_path):
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: p[X] - 0.5, mixes=("a", "b"))
    runs.loc[runs["mix"] == "b", "status"] = "failed"
    runs.loc[runs["mix"] == "b", "error"] = "ScenarioError: refused"
    f = analyze(write_results(tmp_path, runs))
    assert (f.classified["trainers"] != dominance.DOMINATES).all() and f.left_out.empty


def test_runs_with_no_capital_committed_are_counted(tmp_path):
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: p[X] - 0.5)
    runs[["pi_honest", "pi_lazy", "pi_poisoning", "margin_trainers"]] = np.nan
    f = analyze(
        write_results(
            tmp_path,
            runs,
            mix_overrides={
                "base": {"staking.min_trainer_stake_tokens": 0, "staking.registration_cost_tokens": 0}
            },
        )
    )
    reasons = set(f.dropped["reason"])
    assert len(reasons) == 1 and reasons.pop().startswith("no capital committed")
    assert set(f.dropped["kpi"]) == {"margin_trainers", "pi_honest"}
    assert_readable(f.summary)


# -- fix 5: the band's level is recorded ------------------------------------------------------
def test_notes_record_the_interval_methods_and_levels(tmp_path):
    f = analyze(write_results(tmp_path, synthetic_runs(grid_points({X: XS}), lambda p, d, m: p[X] - 0.5)))
    text = " ".join(f.notes)
    assert "one-sided 95% Student-t bounds" in text and "two-sided 95% Student-t intervals" in text
    assert "97.5%" in text and f.boundary_method


# -- sampled designs -----------------------------------------------------------------------------
def test_sampled_design_boundary_is_recovered_from_a_fitted_surface(tmp_path):
    rng = np.random.default_rng(3)
    n = 300
    points = [
        {X: float(a), Y: float(b)} for a, b in zip(rng.uniform(0, 1, n), rng.uniform(0, 1, n), strict=True)
    ]
    # True deterrence boundary x = 0.3 + 0.1·y; 2 replications of noise sd 0.03 per point.
    runs = synthetic_runs(points, lambda p, d, m: p[X] - 0.3 - 0.1 * p[Y], reps=2, noise=0.03, seed=4)
    specs = [{"path": p, "kind": "real", "low": 0.0, "high": 1.0, "scale": "linear"} for p in (X, Y)]
    f = analyze(write_results(tmp_path, runs, design="lhs", parameter_specs=specs), seed=1)
    assert f.shape == "sampled" and "local-linear" in f.boundary_method
    det = f.deterrence
    truth = 0.3 + 0.1 * det[Y]
    assert (det["where"] == boundaries.INSIDE).all()
    # Per-point mean noise sd 0.03/√2 ≈ 0.021 averaged by a kernel over ~20+ points: error well under 0.03.
    assert np.abs(det["estimate"] - truth).max() < 0.03
    assert ((det["band_low"] <= truth) & (truth <= det["band_high"])).mean() >= 0.75
    assert (det["band_high"] - det["band_low"]).max() < 0.15
    assert len(f.classified) == n  # sampled points are classified as drawn, not binned
    assert_readable(f.summary)


def test_the_schema_takes_numpy_numbers_as_python_numbers_but_not_numpy_booleans(baseline):
    from model import ScenarioError, with_overrides

    s = with_overrides(baseline, {Y: np.int64(800), "rounds": np.int64(30), X: np.float32(0.25)})
    assert s.emission.initial_tokens_per_round == 800.0 and isinstance(
        s.emission.initial_tokens_per_round, float
    )
    assert s.rounds == 30 and type(s.rounds) is int
    assert s.slashing.slash_fraction == pytest.approx(0.25)
    with pytest.raises(ScenarioError, match="rounds = True is not allowed"):
        with_overrides(baseline, {"rounds": np.bool_(True)})
    with pytest.raises(ScenarioError, match="expected a number in"):
        with_overrides(baseline, {X: np.float64(1.5)})


# -- review findings -------------------------------------------------------------------------------
STRIKES = "slashing.ejection_strikes"
LAZY_TRAINERS = "population.lazy_trainers"
MIN_STAKE = "staking.min_trainer_stake_tokens"


def test_the_closed_form_takes_a_swept_parameter_of_one_level(tmp_path):
    # Review finding 3: min stake swept at a single level (400, the base has 100) must enter the closed form.
    from analysis import theory
    from analysis.settings import scenario_for

    runs = synthetic_runs(grid_points({X: XS, MIN_STAKE: [400.0]}), lambda p, d, m: p[X] - 0.3)
    f = analyze(write_results(tmp_path, runs))
    assert f.shape == "1-D" and f.analytic is not None and len(f.analytic) == 1
    at_400 = theory.bounds_over([scenario_for(f.manifest, "base", "base", {MIN_STAKE: 400.0})])
    at_base = theory.bounds_over([scenario_for(f.manifest, "base", "base", {})])
    assert at_400["deterrence"] != pytest.approx(at_base["deterrence"])
    assert f.analytic.iloc[0]["deterrence"] == pytest.approx(at_400["deterrence"])
    assert f.analytic.iloc[0]["participation"] == pytest.approx(at_400["participation"])


def test_a_sampled_design_reads_a_whole_number_axis_level_by_level(tmp_path):
    # Review finding 5: the strike count (0, 1 or 2) was evaluated at 0.25, 0.5, … strikes.
    rng = np.random.default_rng(5)
    points = [
        {X: float(a), STRIKES: int(b)}
        for a, b in zip(rng.uniform(0, 0.6, 60), rng.integers(0, 3, 60), strict=True)
    ]
    runs = synthetic_runs(points, lambda p, d, m: p[X] - 0.3 + 0.1 * p[STRIKES], reps=2)
    specs = [
        {"path": X, "kind": "real", "low": 0.0, "high": 0.6, "scale": "linear"},
        {"path": STRIKES, "kind": "int", "low": 0, "high": 2, "scale": "linear"},
    ]
    f = analyze(write_results(tmp_path, runs, design="lhs", parameter_specs=specs), seed=2)
    assert f.shape == "sampled" and (f.x, f.y) == (X, STRIKES) and f.integer == [STRIKES]
    assert f.deterrence[STRIKES].tolist() == [0, 1, 2]
    assert f.deterrence["estimate"].to_numpy() == pytest.approx([0.3, 0.2, 0.1], abs=0.03)
    assert not any(re.search(r"\bAt 0\.\d+ ejection", s) for s in f.summary)
    assert_readable(f.summary)


def test_a_whole_number_axis_of_many_levels_is_evaluated_at_whole_numbers():
    from analysis.axes import Axis, evaluation_levels

    many = Axis(STRIKES, True, False, tuple(range(101)), 0.0, 100.0, integer=True)
    few = Axis(STRIKES, True, False, (0, 1, 2, 3), 0.0, 3.0, integer=True)
    real = Axis(X, True, False, (0.1, 0.5), 0.0, 1.0)
    assert evaluation_levels(many) == [0, 12, 25, 38, 50, 62, 75, 88, 100]
    assert evaluation_levels(few) == [0, 1, 2, 3]  # rounded, without repeats
    assert evaluation_levels(real) == pytest.approx(list(np.linspace(0, 1, 9)))


def test_an_integer_axis_says_between_which_whole_numbers_the_verdict_changes(tmp_path):
    # Review finding 11: "from 0.0419 ejection strikes" → "between 0 and 1 ejection strikes".
    runs = synthetic_runs(grid_points({STRIKES: [0, 1, 2, 3]}), lambda p, d, m: p[STRIKES] - 1.4)
    f = analyze(write_results(tmp_path, runs, parameter_specs=[{"path": STRIKES, "kind": "int"}]))
    det = f.thresholds.set_index("name").loc["deterrence"]
    assert det["estimate"] == pytest.approx(1.4, abs=0.02)  # the numbers stay
    assert (det["between_low"], det["between_high"]) == (1, 2)
    text = " ".join(f.summary)
    assert "between 1 and 2 ejection strikes" in text and "from 2 on, honest trainers out-earn" in text
    assert "1.4" not in text


def test_an_integer_x_axis_of_a_grid_gets_whole_numbers_per_level(tmp_path):
    runs = synthetic_runs(
        grid_points({STRIKES: [0, 1, 2, 3], Y: [1.0, 2.0]}), lambda p, d, m: p[STRIKES] - p[Y] + 0.4
    )
    f = analyze(write_results(tmp_path, runs))
    assert f.x == STRIKES and f.integer == [STRIKES]
    assert f.deterrence[["between_low", "between_high"]].values.tolist() == [[0, 1], [1, 2]]
    text = " ".join(f.summary)
    assert "for ejection strikes ≥ 1 (it changes between 0 and 1;" in text
    assert "for ejection strikes ≥ 2 (it changes between 1 and 2;" in text


def saltelli_points(n_base: int, seed: int) -> list[dict[str, Any]]:
    """A Saltelli sample (A, B, AB_1, AB_2) of two whole-number parameters in {0, 1}: neighbouring
    design points are often equal."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, (n_base, 2)), rng.integers(0, 2, (n_base, 2))
    blocks = [a, b] + [np.where(np.arange(2) == i, b, a) for i in range(2)]
    return [{STRIKES: int(r[0]), LAZY_TRAINERS: int(r[1])} for block in blocks for r in block]


def test_sobol_indices_come_from_design_points_not_runs_of_equal_parameters(tmp_path):
    # Review finding 7: equal neighbouring design points were merged into one block.
    from analysis.sensitivity import sobol_indices

    points = saltelli_points(8, seed=1)
    assert any(p == q for p, q in itertools.pairwise(points))
    runs = synthetic_runs(
        points, lambda p, d, m: p[STRIKES] + 0.3 * p[LAZY_TRAINERS], mixes=("a", "b"), reps=2
    )
    runs["point"] = runs["point"] * 2 + (
        runs["mix"] == "b"
    )  # (design point × designs + design) × mixes + mix
    specs = [
        {"path": p, "kind": "int", "low": 0, "high": 1, "scale": "linear"} for p in (STRIKES, LAZY_TRAINERS)
    ]
    manifest = {"design": "saltelli", "parameter_specs": specs, "design_points": 32, "designs": ["base"]}
    f = analyze(write_results(tmp_path, runs, numbered=True, **manifest))
    assert f.sensitivity_method.startswith("Sobol'")
    margin = dominance.trainer_margins(
        runs,
        ["design", STRIKES, LAZY_TRAINERS, "mix"] if "design" in runs else [STRIKES, LAZY_TRAINERS, "mix"],
    )
    expected = sobol_indices(
        margin.groupby(runs["point"] // 2).mean().to_numpy(), 8, [STRIKES, LAZY_TRAINERS]
    )
    pd.testing.assert_frame_equal(f.sensitivity, expected)


def test_morris_counts_the_manifests_mixes_not_the_ones_with_runs(tmp_path):
    # Review finding 14: with mix c not run yet, design points were cut by the two mixes present.
    from SALib.sample import morris as morris_sampler

    from analysis.sensitivity import morris_indices

    problem = {"num_vars": 2, "names": [STRIKES, X], "bounds": [[0.0, 1.0]] * 2}
    unit = morris_sampler.sample(problem, 6, num_levels=4, seed=3)
    points = [{STRIKES: round(3 * u[0]), X: float(u[1])} for u in unit]
    runs = synthetic_runs(points, lambda p, d, m: 0.1 * p[STRIKES] + p[X], mixes=("a", "b"), reps=2)
    runs["point"] = runs["point"] * 3 + runs["mix"].map({"a": 0, "b": 1})
    specs = [
        {"path": STRIKES, "kind": "int", "low": 0, "high": 3, "scale": "linear"},
        {"path": X, "kind": "real", "low": 0.0, "high": 1.0, "scale": "linear"},
    ]
    manifest = {
        "design": "morris",
        "parameter_specs": specs,
        "morris_levels": 4,
        "design_points": len(points),
        "designs": ["base"],
        "mixes": ["a", "b", "c"],
        "points": 3 * len(points),
        "total_runs": 3 * len(points) * 2,
    }
    f = analyze(write_results(tmp_path, runs, numbered=True, **manifest))
    assert f.sensitivity_method.startswith("Morris")
    margin = dominance.trainer_margins(runs, [STRIKES, X, "mix"])
    per_point = margin.groupby(runs["point"] // 3).mean()
    values = pd.DataFrame(points)[[STRIKES, X]]
    pd.testing.assert_frame_equal(f.sensitivity, morris_indices(values, per_point.to_numpy(), specs, 4))


def test_what_matters_ranks_the_margin_dominance_uses_not_the_run_by_run_kpi(tmp_path):
    # Review finding 12: the KPI margin_trainers (run-by-run best deviation) is not the margin judged.
    runs = synthetic_runs(grid_points({X: XS, Y: [1.0, 2.0, 3.0]}), lambda p, d, m: p[X] - 0.5)
    runs["margin_trainers"] = runs[Y] * 10.0  # a KPI column that disagrees: only Y would matter
    f = analyze(write_results(tmp_path, runs))
    assert f.sensitivity.index[0] == X and f.sensitivity.loc[X, "eta2"] > 0.95
    assert f.sensitivity.loc[Y, "eta2"] < 0.05


def test_the_mean_safe_band_width_counts_closed_bands_and_reports_open_ones_apart(tmp_path):
    # Review finding 9: at y = 2 honest work pays throughout, so that band is cut at the range's end.
    runs = synthetic_runs(
        grid_points({X: XS, Y: [1.0, 2.0]}),
        lambda p, d, m: p[X] - 0.2,
        lambda p, d, m: (0.7 if p[Y] == 1.0 else 2.0) - p[X],
        noise=0.005,
    )
    f = analyze(write_results(tmp_path, runs))
    bands = f.safe_bands.set_index(Y)
    assert not bands.loc[1.0, "open_high"] and bands.loc[2.0, "open_high"]
    c = f.comparison.iloc[0]
    assert c["safe_band_levels"] == 2 and c["safe_band_closed"] == 1 and c["safe_band_open"] == 1
    assert c["safe_band_mean_width"] == pytest.approx(0.5, abs=0.02)  # 0.2 to 0.7 only
    assert c["safe_band_open_min_width"] == pytest.approx(0.8, abs=0.02)  # 0.2 to the end, 1.0


def test_every_table_keyed_by_level_carries_the_group_columns(tmp_path):
    shift = {"equal": 0.2, "stake_weighted": 0.4}
    runs = synthetic_runs(
        grid_points({X: XS, Y: [800.0, 1600.0], RULE: list(shift)}),
        lambda p, d, m: p[X] - shift[p[RULE]],
        lambda p, d, m: 0.8 - p[X],
    )
    f = analyze(write_results(tmp_path, runs))
    assert f.group_columns == ["design", RULE]
    for table in (f.deterrence, f.participation, f.analytic, f.safe_bands):
        assert {*f.group_columns, f.y} <= set(table.columns)
        assert len(table.drop_duplicates([*f.group_columns, f.y])) == len(table) == 4
    one_d_runs = runs[runs[Y] == 800.0].drop(columns=Y)
    one_d = analyze(write_results(tmp_path / "1d", one_d_runs.assign(run_id=range(len(one_d_runs)))))
    for table in (one_d.thresholds, one_d.boundaries_1d, one_d.analytic, one_d.safe_bands):
        assert set(one_d.group_columns) <= set(table.columns)


def test_a_mix_too_small_to_fit_is_named_in_a_note(tmp_path):
    # Review finding 13: a mix with fewer than three points was dropped from the fitted worst case silently.
    rng = np.random.default_rng(8)
    points = [
        {X: float(a), Y: float(b)} for a, b in zip(rng.uniform(0, 1, 40), rng.uniform(0, 1, 40), strict=True)
    ]
    runs = synthetic_runs(points, lambda p, d, m: p[X] - 0.4, mixes=("many", "few"), reps=2)
    few = runs["mix"] == "few"
    runs = runs[~few | runs["point"].isin([0, 1])]  # mix "few" ran at two points only
    runs = runs.assign(run_id=range(len(runs)))
    specs = [{"path": p, "kind": "real", "low": 0.0, "high": 1.0, "scale": "linear"} for p in (X, Y)]
    f = analyze(write_results(tmp_path, runs, design="lhs", parameter_specs=specs), seed=1)
    notes = [n for n in f.notes if n.startswith("Mix few")]
    assert notes and "2 points" in notes[0] and "fewer than the 3" in notes[0]
