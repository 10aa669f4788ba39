"""The analysis and the report: boundaries recovered, theory matched, a page a browser renders."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import boundaries, dominance
from analysis.findings import analyze
from analysis.report.page import write_report
from analysis.sweep.engine import run_sweep
from analysis.sweep.sweepfile import load_sweep
from model import analytic, with_overrides

from .browser import render
from .conftest import BASELINE, ROOT

ARTIFACTS = ROOT / "reports" / "test-artifacts"
FEDSTAKE = Path(sys.executable).with_name("fedstake")
X, Y = "slashing.slash_fraction", "emission.initial_tokens_per_round"


def synthetic_results(true_boundary: dict[float, float], reps: int = 12, noise: float = 0.02, seed: int = 0):
    """Results shaped like a sweep's, with the trainers' margin over the best deviation (lazy)
    = x − boundary(y) + noise."""
    rng = np.random.default_rng(seed)
    rows, run = [], 0
    for point, (y, b) in enumerate(sorted(true_boundary.items())):
        for x in np.linspace(0, 1, 21):
            for rep in range(reps):
                honest = 0.5 - x + rng.normal(0, noise)  # participation ends at x = 0.5
                rows.append(
                    {
                        "run_id": run,
                        "point": point,
                        "mix": "base",
                        "replication": rep,
                        "status": "ok",
                        X: x,
                        Y: y,
                        "pi_honest": honest,
                        "pi_lazy": honest - (x - b + rng.normal(0, noise)),  # margin = x − b + noise
                        "pi_poisoning": honest - 1.0,  # never the best deviation
                        "margin_validators": 0.1,
                    }
                )
                run += 1
    return pd.DataFrame(rows)


def test_known_boundary_is_recovered_within_tolerance():
    truth = {100.0: 0.2, 200.0: 0.35, 400.0: 0.05}
    classified = dominance.classify(synthetic_results(truth))
    deterrence = boundaries.boundary(classified, X, Y, "trainers", rising=True)
    for _, row in deterrence.iterrows():
        b = truth[row[Y]]
        assert row["where"] == boundaries.INSIDE
        assert abs(row["estimate"] - b) < 0.02  # grid step 0.05, noise 0.02 / √12
        assert row["band_low"] - 0.01 <= b <= row["band_high"] + 0.01
    participation = boundaries.boundary(classified, X, Y, "participation", rising=False)
    assert np.allclose(participation["estimate"], 0.5, atol=0.02)


def test_prim_box_recovers_the_region_where_honesty_dominates():
    from analysis.regions import find_box

    truth = {100.0: 0.3, 200.0: 0.3, 400.0: 0.3}  # dominates for 0.3 < x < 0.5 at every level
    classified = dominance.classify(synthetic_results(truth, noise=0.01))
    target = (classified["honesty"] == dominance.DOMINATES).to_numpy()
    box = find_box(classified[[X, Y]].astype(float), target)
    assert box is not None
    assert abs(box.limits.loc[X, "low"] - 0.3) <= 0.06 and abs(box.limits.loc[X, "high"] - 0.5) <= 0.06
    assert not box.limits.loc[Y, "restricted"]
    assert box.density >= 0.8 and box.coverage >= 0.8


def test_a_point_missing_a_mix_cannot_dominate_and_bounds_are_worst_over_mixes():
    base = synthetic_results({100.0: 0.0}, reps=6, noise=0.001)
    other = base.assign(mix="other", run_id=base["run_id"] + len(base))
    # Mix "other" has a positive mean margin but huge noise: its lower bound is far below zero.
    other["pi_lazy"] = other["pi_honest"] - 0.5 + np.resize([1.5, -1.4], len(other))
    both = dominance.classify(pd.concat([base, other]))
    at = both[np.isclose(both[X], 0.5)].iloc[0]
    assert at["trainers"] == dominance.UNCERTAIN
    assert at["trainers_lower"] < 0  # the band comes from the worst lower bound, not the worst mean's
    failed_mix = pd.concat([base, other.assign(status="failed")])
    missing = dominance.classify(failed_mix)
    at = missing[np.isclose(missing[X], 0.8)].iloc[0]
    assert at["mixes"] == 1 and at["trainers"] == dominance.UNCERTAIN


def test_margin_uses_the_best_deviation_by_mean_not_run_by_run():
    rows = pd.DataFrame(
        {
            "pi_honest": [1.0, 1.0, 1.0, 1.0],
            "pi_lazy": [0.0, 2.0, 0.0, 2.0],  # mean 1.0
            "pi_sybil": [1.5, 0.5, 1.5, 0.5],  # mean 1.0; a run-by-run maximum would be 2.0, 2.0, 1.5, 2.0
            "pi_poisoning": [0.9, 0.9, 0.9, 0.9],
        }
    )
    assert dominance.margin_samples(rows).mean() == pytest.approx(0.0)


def test_classification_follows_the_definition():
    lower = pd.Series([0.1, 0.2])
    assert dominance.classify_bounds(lower, pd.Series([0.3, 0.4])) == dominance.DOMINATES
    assert dominance.classify_bounds(pd.Series([0.1, -0.2]), pd.Series([0.3, 0.4])) == dominance.UNCERTAIN
    assert dominance.classify_bounds(pd.Series([0.1, -0.2]), pd.Series([0.3, -0.1])) == dominance.FAILS
    mean, _, lo, hi, n = dominance.interval(pd.Series([1.0, 2.0, 3.0]))
    assert (mean, n) == (2.0, 3)
    assert lo == pytest.approx(2.0 - 2.919986 / math.sqrt(3)) and hi == pytest.approx(
        2.0 + 2.919986 / math.sqrt(3)
    )


ABSTRACT_SWEEP = f"""
[sweep]
name = "abstract check"
base = "{BASELINE}"
replications = 8
seed = 5

[fixed]
rounds = 120
"dropout.validator_dropout_probability" = 0.0
"staking.initial_liquid_tokens" = 20000
"token.genesis_supply_tokens" = 1e7
"detection.lazy_detection_rate" = 0.3
"detection.poison_detection_rate" = 0.5
"costs.train_cost_fiat_per_round" = 3.0
"costs.poison_gain_fiat_per_round" = 2.0

[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.3
steps = 13

[[parameters]]
path = "emission.initial_tokens_per_round"
values = [600.0, 1200.0]
"""


@pytest.fixture(scope="module")
def abstract_results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("abstract")
    path = directory / "sweep.toml"
    path.write_text(ABSTRACT_SWEEP)
    run_sweep(load_sweep(path), directory / "out", workers=2, progress=False)
    return directory / "out"


def test_simulated_deterrence_boundary_lies_within_its_band_of_the_closed_form(abstract_results):
    f = analyze(abstract_results)
    assert f.analytic is not None
    assert all(not a for a in f.analytic["assumptions"]), f.analytic["assumptions"]
    merged = f.deterrence.merge(f.analytic, on=Y)
    assert (merged["where"] == boundaries.INSIDE).all()
    for _, row in merged.iterrows():
        assert row["band_low"] <= row["deterrence"] <= row["band_high"], row.to_dict()
    assert f.distances["deterrence"] < 0.01


def test_analytic_overlay_uses_the_worst_deviation(abstract_results):
    f = analyze(abstract_results)
    base = load_sweep(abstract_results.parent / "sweep.toml").base
    s = with_overrides(base, {Y: 600.0})
    expected = max(analytic.deterrence_bound_slash_fraction(s, d) for d in ("lazy", "sybil", "poisoning"))
    assert f.analytic.set_index(Y).loc[600.0, "deterrence"] == pytest.approx(expected)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """A small sweep whose name and notes try to inject markup, with trajectories, reported."""
    directory = tmp_path_factory.mktemp("hostile")
    text = ABSTRACT_SWEEP.replace('name = "abstract check"', 'name = "<script>alert(1)</script> & co"')
    text = text.replace("seed = 5", 'seed = 5\ntrajectories = true\nnotes = "<img src=x onerror=alert(2)>"')
    text = text.replace("replications = 8", "replications = 4").replace("steps = 13", "steps = 7")
    text += '\n[mixes.base]\n\n[mixes."<b>bold</b>"]\n"population.lazy_trainers" = 20\n'
    path = directory / "sweep.toml"
    path.write_text(text)
    run_sweep(load_sweep(path), directory / "out", workers=2, progress=False)
    out = write_report(directory / "out", directory / "report.html")
    return out


def test_user_text_is_escaped_not_markup(hostile_report):
    html = hostile_report.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_report_is_self_contained_and_small(hostile_report):
    html = hostile_report.read_text(encoding="utf-8")
    assert hostile_report.stat().st_size < 10_000_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html.lower()
    assert html.count("data:image/png;base64,") >= 5


def test_report_renders_in_a_real_browser_without_errors(hostile_report):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    rendered = render(hostile_report, shot)
    assert rendered.console_errors == []
    assert rendered.title.startswith("fedstake report: <script>alert(1)</script>")
    for heading in (
        "Summary",
        "Phase diagram",
        "Payoffs per strategy",
        "Validators",
        "Round by round",
        "Region where honesty dominates",
        "Failed runs and missing values",
        "The base scenario",
        "How this was computed",
    ):
        assert heading in rendered.text, heading
    assert "<script>alert(1)</script> & co" in rendered.text  # shown as text
    assert "Honesty dominates" in rendered.text
    assert shot.stat().st_size > 50_000


def fedstake(*args: str) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_report_and_analyze_commands(abstract_results, tmp_path):
    out = tmp_path / "r.html"
    done = fedstake("report", str(abstract_results), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists() and "wrote" in done.stdout
    done = fedstake("analyze", str(abstract_results))
    assert done.returncode == 0, done.stderr
    assert "Honesty dominates" in done.stdout and "det_analytic" in done.stdout


def test_report_of_a_non_results_directory_is_refused(tmp_path):
    done = fedstake("report", str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert "not a sweep results directory" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_saltelli_sweep_reports_sobol_indices(tmp_path):
    text = f"""
[sweep]
base = "{BASELINE}"
design = "saltelli"
points = 16
replications = 2
seed = 3

[fixed]
rounds = 30
"population.honest_trainers" = 12
"population.lazy_trainers" = 3

[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.5

[[parameters]]
path = "detection.false_positive_rate"
low = 0.0
high = 0.002

[mixes.a]

[mixes.b]
"population.lazy_trainers" = 6
"""
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    run_sweep(load_sweep(path), tmp_path / "out", workers=2, progress=False)
    f = analyze(tmp_path / "out")
    table = f.sensitivity
    assert list(table.columns[:2]) == ["S1", "S1_low"] and "ST" in table
    # The slash fraction drives the trainers' margin; a false-positive rate this small barely does.
    assert table.loc[X, "ST"] > table.loc["detection.false_positive_rate", "ST"]
    assert f.deterrence is not None  # sampled designs are binned onto a grid for boundaries


def test_report_handles_a_categorical_second_parameter(tmp_path):
    from .sweeps import GRID, write_sweep

    out = tmp_path / "out"
    run_sweep(load_sweep(write_sweep(tmp_path, GRID)), out, workers=2, progress=False)
    done = fedstake("report", str(out), "-o", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    assert "stake_weighted" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_estimates_carry_as_many_digits_as_their_interval_resolves():
    from analysis.report.elements import estimate_text

    assert estimate_text(0.10712, 0.10213, 0.11334) == "0.107 (0.102–0.113)"
    assert estimate_text(0.1071, 0.05, 0.15) == "0.11 (0.05–0.15)"
    assert estimate_text(0.3, -math.inf, 0.31, step=0.05) == "0.300 (< 0.310)"  # a tenth of the step
    assert estimate_text(math.nan, 0.0, 1.0) == "–"


def test_every_figure_data_link_decodes_to_its_table():
    import base64
    import io

    from analysis.report.elements import csv_link

    data = pd.DataFrame({"slash": [0.0, 0.5], "mix": ["a,b", "$100 stake"]})
    link = csv_link(data, "payoffs: mix $100")
    payload = re.search(r'base64,([^"]+)"', link).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(payload).decode("utf-8")))
    pd.testing.assert_frame_equal(back, data)
    assert 'download="payoffs-mix-100.csv"' in link


def test_a_dollar_sign_in_a_name_is_drawn_as_text():
    from analysis.report import figures

    stats = pd.DataFrame(
        {
            "panel": "all points",
            X: [0.0, 0.5],
            "strategy": "honest",
            "unit": "pi",
            "mean": 0.1,
            "low": 0.0,
            "high": 0.2,
        }
    )
    png = figures.payoff_panels(stats, X, 'Payoff per strategy (mix "$100_$ stake")')  # bad TeX if parsed
    assert png.startswith(b"\x89PNG")


def test_base_scenario_table_says_who_set_each_key():
    from analysis.report.scenario_table import scenario_table, unit_of
    from model import load_scenario
    from model.params import to_dict
    from model.scenario import scenario_keys

    manifest = {
        "base_scenario": to_dict(load_scenario(BASELINE)),
        "sweep_text": '[fixed]\nrounds = 120\n"costs.train_cost_fiat_per_round" = 3.0\n',
        "parameters": [X],
        "parameter_specs": [
            {"path": X, "kind": "real", "low": 0.0, "high": 0.3, "steps": 13, "scale": "linear"}
        ],
        "design_overrides": {"burn": {"slashing.burn_share": 1.0}, "insure": {"slashing.burn_share": 0.0}},
        "mix_overrides": {"many-lazy": {"population.lazy_trainers": 30}},
    }
    table = scenario_table(manifest).set_index("key")
    assert table.loc[X, "set by"] == "varied: 0.0 to 0.3, 13 steps"
    assert table.loc["rounds", "set by"] == "fixed by the sweep"
    assert "design (burn: 1.0; insure: 0.0)" in table.loc["slashing.burn_share", "set by"]
    assert "mix (many-lazy: 30)" in table.loc["population.lazy_trainers", "set by"]
    assert table.loc["detection.mode", "set by"] == "default"
    assert unit_of("emission.initial_tokens_per_round") == "tokens per round"
    assert unit_of("costs.train_cost_fiat_per_round") == "fiat per round"
    assert unit_of("slashing.slash_fraction") == "fraction in [0, 1]"
    assert len(table) == len(scenario_keys())


def test_two_numeric_axes_and_a_categorical_one_get_a_panel_and_table_rows_per_category(tmp_path):
    from analysis.report.page import boundary_table, build_report
    from analysis.report.views import panels

    from .sweeps import write_sweep

    body = """
[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.6
steps = 4

[[parameters]]
path = "emission.initial_tokens_per_round"
values = [800, 1600]

[[parameters]]
path = "rewards.rule"
values = ["equal", "score_weighted"]
"""
    out = tmp_path / "out"
    run_sweep(load_sweep(write_sweep(tmp_path, body)), out, workers=1, progress=False)
    f = analyze(out)
    assert f.categorical == ["rewards.rule"]
    assert [p.title for p in panels(f)] == ["rule = equal", "rule = score_weighted"]
    table = boundary_table(f)
    assert len(table) == 4 and set(table["rewards.rule"]) == {"equal", "score_weighted"}
    assert "score_weighted" in build_report(f)
