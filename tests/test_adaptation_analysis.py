"""Does the network become honest? The adaptive analysis and its report, on hand-made results.

Each results directory follows the store's contract (``tests.test_findings.write_results``) and
carries the adaptation KPIs the model side writes for every run: the honest owners' share of the
active trainer (and validator) owners at the start and the end, the rounds until the honest
trainer share first reached the level, and the owners that entered and exited.
"""

from __future__ import annotations

import base64
import io
import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import adaptation, boundaries, dominance
from analysis.findings import analyze
from analysis.report.page import build_report, write_findings
from model import load_scenario
from model.params import to_dict

from .browser import render
from .conftest import BASELINE, ROOT
from .test_findings import XS, assert_readable, grid_points, synthetic_runs, write_results

X, Y = "slashing.slash_fraction", "emission.initial_tokens_per_round"
ARTIFACTS = ROOT / "reports" / "test-artifacts"
SECTION = "Does the network become honest?"
#: Where mix many-cheaters tips into honesty along the slash fraction, per reward level.
TIPPING = {800: 0.25, 1600: 0.55}


def base_scenario(revision: str = "imitation", level: float | None = None) -> dict:
    """The baseline's tables with an adaptation table (the contract's keys)."""
    base = to_dict(load_scenario(BASELINE))
    table = dict(base.get("adaptation") or {}) | {"revision": revision}
    if level is not None:
        table["honest_share_level"] = level
    return base | {"adaptation": table}


def with_shares(
    runs: pd.DataFrame,
    final: dict[str, Callable[[pd.Series], float]],
    *,
    initial: dict[str, float],
    entered: dict[str, float] | None = None,
    exited: dict[str, float] | None = None,
    level: float = 0.9,
    noise: float = 0.01,
    seed: int = 1,
) -> pd.DataFrame:
    """``runs`` with the adaptation KPIs: per mix, the final honest trainer share ``final[mix](row)``
    plus normal noise (clipped to [0, 1]), the initial share ``initial[mix]``; a run reaches the level
    when its final share does, after ``200 − 100 × (final − level) / (1 − level)`` rounds."""
    rng = np.random.default_rng(seed)
    share = np.array([final[r["mix"]](r) for _, r in runs.iterrows()]) + rng.normal(0, noise, len(runs))
    share = np.clip(share, 0.0, 1.0)
    reached = share >= level
    rounds = np.where(reached, np.round(200 - 100 * (share - level) / (1 - level)), np.nan)
    mix = runs["mix"]
    return runs.assign(
        honest_trainer_share_initial=mix.map(initial).astype(float),
        honest_trainer_share_final=share,
        honest_validator_share_initial=0.8,
        honest_validator_share_final=0.8,
        rounds_to_honest_share_level=rounds,
        entered_owners=mix.map(entered or {}).fillna(0.0).astype(float),
        exited_owners=mix.map(exited or {}).fillna(0.0).astype(float),
    )


def two_d_runs() -> pd.DataFrame:
    """Slash fraction × reward level under two mixes. The trainers' margin is x − 0.1 everywhere (the
    incentives favour honesty from about 0.15); from mix baseline the network ends 97 % honest
    everywhere, from mix many-cheaters 0.9 + 0.5 (x − tipping(y)): honest only above the tipping point."""
    runs = synthetic_runs(
        grid_points({X: XS, Y: [800, 1600]}),
        lambda p, d, m: p[X] - 0.1,
        mixes=("baseline", "many-cheaters"),
        noise=0.005,
    )
    return with_shares(
        runs,
        {"baseline": lambda r: 0.97, "many-cheaters": lambda r: 0.9 + 0.5 * (r[X] - TIPPING[r[Y]])},
        initial={"baseline": 0.7, "many-cheaters": 0.4},
        entered={"many-cheaters": 1.0},
        exited={"baseline": 2.0, "many-cheaters": 5.0},
    )


@pytest.fixture(scope="module")
def two_d(tmp_path_factory):
    directory = tmp_path_factory.mktemp("adaptive-2d")
    return write_results(
        directory, two_d_runs(), base_scenario=base_scenario(), mixes=["baseline", "many-cheaters"]
    )


@pytest.fixture(scope="module")
def two_d_findings(two_d):
    return analyze(two_d)


# -- the statistics ---------------------------------------------------------------------------------
def test_the_final_share_gets_student_t_bounds_over_replications():
    runs = pd.DataFrame(
        {
            "design": "base",
            "mix": "a",
            "status": "ok",
            X: 0.1,
            adaptation.FINAL: [0.8, 0.9, 1.0],
            adaptation.ROUNDS_TO_LEVEL: [np.nan, 40.0, 20.0],
        }
    )
    row = adaptation.point_statistics(runs, {"base_scenario": base_scenario()}).iloc[0]
    half = 2.919986 * 0.1 / math.sqrt(3)  # t(0.95, 2) · sd / √n
    assert row["final_share_mean"] == pytest.approx(0.9)
    assert row["final_share_lower"] == pytest.approx(0.9 - half)
    assert row["final_share_upper"] == pytest.approx(min(0.9 + half, 1.0))
    assert row["excess_mean"] == pytest.approx(0.0)
    assert row["ends"] == adaptation.UNDECIDED  # the mean sits on the level; the bounds straddle it
    assert row["reached"] == pytest.approx(2 / 3) and row["rounds_to_level"] == pytest.approx(30.0)


@settings(max_examples=60, deadline=None)
@given(
    shares=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
    level=st.floats(0.05, 1.0),
)
def test_bounds_are_ordered_inside_zero_one_and_decide_where_the_network_ends(shares, level):
    runs = pd.DataFrame({"design": "base", "mix": "a", "status": "ok", X: 0.1, adaptation.FINAL: shares})
    manifest = {"base_scenario": base_scenario(level=level)}
    row = adaptation.point_statistics(runs, manifest).iloc[0]
    ordered = [row[f"final_share_{s}"] for s in ("band_lower", "lower", "mean", "upper", "band_upper")]
    assert ordered[0] >= 0.0 and ordered[-1] <= 1.0
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(ordered))
    lower, upper = row["final_share_lower"], row["final_share_upper"]
    expected = (
        adaptation.ENDS_HONEST
        if lower >= level - adaptation.TOLERANCE
        else adaptation.ENDS_SHORT
        if upper < level - adaptation.TOLERANCE
        else adaptation.UNDECIDED
    )
    assert row["ends"] == expected
    if len(shares) == 1:  # one replication: nothing can be concluded
        assert (lower, upper) == (0.0, 1.0)


def test_a_level_outside_zero_one_is_refused_by_name():
    runs = pd.DataFrame({"design": "base", "mix": "a", "status": "ok", X: 0.1, adaptation.FINAL: [0.9]})
    with pytest.raises(
        ValueError, match=r"adaptation.honest_share_level = 1.5 is not allowed: expected a number"
    ):
        adaptation.point_statistics(runs, {"base_scenario": base_scenario(level=1.5)})


def test_a_mix_may_name_its_own_level_and_older_manifests_take_the_default():
    runs = pd.DataFrame({"mix": ["a", "b"], "status": "ok", X: [0.1, 0.1]})
    old = {"base_scenario": {"rounds": 10}}
    assert adaptation.levels_per_run(runs, old).tolist() == [0.9, 0.9]
    manifest = old | {"mix_overrides": {"a": {}, "b": {adaptation.LEVEL: 0.95}}}
    assert adaptation.levels_per_run(runs, manifest).tolist() == [0.9, 0.95]


# -- a 2-D adaptive sweep: one mix ends honest, the other only above its tipping point ----------------
def test_two_d_sweep_finds_the_basin_of_honesty(two_d_findings):
    a = two_d_findings.adaptation
    assert a is not None and a.revisions == ["imitation"] and a.levels == [0.9]
    basin = a.basin.set_index("mix")
    assert basin.loc["baseline", "ends_honest"] == "everywhere"
    assert basin.loc["baseline", "honest_points"] == 22
    assert basin.loc["baseline", "initial_share"] == pytest.approx(0.7)
    # many-cheaters ends honest from x = 0.3 at 800 (8 levels) and from x = 0.6 at 1600 (5 levels)
    assert basin.loc["many-cheaters", "ends_honest"] == "somewhere"
    assert basin.loc["many-cheaters", "honest_points"] == 13
    assert basin.loc["many-cheaters", "initial_share"] == pytest.approx(0.4)
    assert basin.loc["many-cheaters", "final_low"] == pytest.approx(0.9 - 0.5 * 0.55, abs=0.01)


def test_two_d_sweep_finds_tipping_points_along_both_axes(two_d_findings):
    tipping = two_d_findings.adaptation.tipping
    along_x = tipping[(tipping["axis"] == X) & (tipping["mix"] == "many-cheaters")].set_index(Y)
    for y, truth in TIPPING.items():
        row = along_x.loc[y]
        assert row["where"] == boundaries.INSIDE and row["direction"] == boundaries.RISING
        assert row["estimate"] == pytest.approx(truth, abs=0.01)
        assert row["band_low"] <= row["estimate"] <= row["band_high"]
        assert row["band_high"] - row["band_low"] < 0.05
    baseline = tipping[(tipping["axis"] == X) & (tipping["mix"] == "baseline")]
    assert set(baseline["where"]) == {adaptation.ABOVE_LEVEL}
    # along the reward level at x = 0.4: +0.075 above the level at 800, 0.075 below at 1600
    along_y = tipping[
        (tipping["axis"] == Y) & (tipping["mix"] == "many-cheaters") & np.isclose(tipping[X], 0.4)
    ]
    assert along_y["direction"].tolist() == [boundaries.FALLING]
    assert along_y["estimate"].iloc[0] == pytest.approx(1200, abs=20)


def test_two_d_sweep_honesty_dominates_only_where_the_network_also_ends_honest(two_d_findings):
    c = two_d_findings.classified.set_index([X, Y])
    expected = [dominance.combine(i, a) for i, a in zip(c["incentives"], c["adaptive"], strict=True)]
    assert c["honesty"].tolist() == expected
    # at x = 0.2 the incentives favour honesty, but from many-cheaters the share ends at 0.875 / 0.725
    assert c.loc[(0.2, 800), "incentives"] == dominance.DOMINATES
    assert c.loc[(0.2, 800), "adaptive"] == dominance.FAILS
    assert c.loc[(0.2, 800), "honesty"] == dominance.FAILS
    assert c.loc[(0.4, 800), "honesty"] == dominance.DOMINATES
    assert c.loc[(0.4, 1600), "honesty"] == dominance.FAILS
    assert (c["honesty"] == dominance.DOMINATES).sum() == 13
    assert two_d_findings.comparison.loc[0, "dominates"] == 13  # the comparison counts the combined verdict


def test_two_d_sweep_summary_states_the_requirement_and_the_numbers(two_d_findings):
    summary = two_d_findings.summary
    at = next(i for i, line in enumerate(summary) if line.startswith("Honesty dominates"))
    assert "at 13 of 22 parameter points" in summary[at]
    requirement = summary[at + 1]
    assert requirement.startswith("With adaptation on (strategy revision by imitation)")
    assert "must reach 90 %" in requirement and "honesty dominates at 13" in requirement
    text = " ".join(summary)
    assert "from mix baseline (70 % honest at the start) it ends honest at every point" in text
    assert "from mix many-cheaters (40 % honest at the start) it ends honest at 13 of 22 points" in text
    assert (
        "under mix baseline, of its 2 levels of tokens emitted per round, the share stays at or above" in text
    )
    found = re.search(
        r"under mix many-cheaters, of its 2 levels of tokens emitted per round, the share crosses the level "
        r"at 2 \(slash fraction ([\d.]+)–([\d.]+)\)",
        text,
    )
    assert found and [float(v) for v in found.groups()] == pytest.approx([0.25, 0.55], abs=0.01)
    assert_readable(summary)


def test_two_d_sweep_times_the_level_and_counts_entries_and_exits(two_d_findings):
    timing = two_d_findings.adaptation.timing.set_index("mix")
    assert timing.loc["baseline", "reached"] == pytest.approx(1.0)
    # a run reaching the level at share s takes 200 − 1000 (s − 0.9) rounds: 130 for s = 0.97
    assert timing.loc["baseline", "rounds_mean"] == pytest.approx(130, abs=3)
    assert timing.loc["baseline", "exited_mean"] == 2.0 and timing.loc["baseline", "entered_mean"] == 0.0
    assert (
        timing.loc["many-cheaters", "entered_mean"] == 1.0
        and timing.loc["many-cheaters", "exited_mean"] == 5.0
    )
    assert timing.loc["many-cheaters", "points_reached"] == 13


# -- a 1-D adaptive sweep -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_d(tmp_path_factory):
    """Along the slash fraction, one mix: the final share 0.95 − 0.5 |x − 0.6| is ≥ 90 % from 0.5 to 0.7."""
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: 1.0, reps=8, noise=0.002)
    runs = with_shares(
        runs, {"base": lambda r: 0.95 - 0.5 * abs(r[X] - 0.6)}, initial={"base": 0.6}, noise=0.004
    )
    return write_results(tmp_path_factory.mktemp("adaptive-1d"), runs, base_scenario=base_scenario("logit"))


def test_one_d_sweep_finds_both_tipping_points(one_d):
    f = analyze(one_d)
    assert f.shape == "1-D"
    tipping = f.adaptation.tipping
    assert tipping["direction"].tolist() == [boundaries.RISING, boundaries.FALLING]
    assert tipping["estimate"].to_numpy() == pytest.approx([0.5, 0.7], abs=0.01)
    assert (tipping["band_low"] <= tipping["estimate"]).all() and (
        tipping["estimate"] <= tipping["band_high"]
    ).all()
    c = f.classified.set_index(X)
    assert c.loc[0.6, "adaptive"] == dominance.DOMINATES and c.loc[0.3, "adaptive"] == dominance.FAILS
    text = " ".join(f.summary)
    assert "strategy revision by logit" in text
    found = re.search(
        r"under mix base it crosses 90 % at slash fraction ([\d.]+) \(95 % band [\d.]+–[\d.]+\), ending "
        r"honest above it and at slash fraction ([\d.]+) \(95 % band [\d.]+–[\d.]+\), no longer ending "
        r"honest above it",
        text,
    )
    assert found and [float(v) for v in found.groups()] == pytest.approx([0.5, 0.7], abs=0.01)
    assert "no owner entered or left" in text
    assert_readable(f.summary)


def test_one_d_report_draws_the_share_with_its_level(one_d):
    html = build_report(analyze(one_d))
    section = html[html.index(SECTION) :]
    assert 'alt="final honest share along slash fraction"' in section
    cells = re.findall(r"<td class=\"text\">(0\.\d+) \((0\.\d+)–(0\.\d+)\)</td>", section)
    estimates = [[float(v) for v in cell] for cell in cells]  # the tipping points with their bands
    assert [e[0] for e in estimates] == pytest.approx([0.5, 0.7], abs=0.01)
    assert all(low <= e <= high for e, low, high in estimates)


# -- a categorical sweep under two designs: bars per mix, verdicts per design ---------------------------
def test_categorical_sweep_draws_bars_and_judges_each_design(tmp_path):
    rule = "rewards.rule"
    points = grid_points({rule: ["equal", "stake_weighted"]})
    runs = synthetic_runs(points, lambda p, d, m: 0.5, mixes=("a", "b"), designs=("burn", "insure"))
    honest = {("burn", "a"): 0.95, ("burn", "b"): 0.95, ("insure", "a"): 0.95, ("insure", "b"): 0.5}
    final = {m: (lambda r: honest[(r["design"], r["mix"])]) for m in ("a", "b")}
    runs = with_shares(runs, final, initial={"a": 0.7, "b": 0.4})
    f = analyze(
        write_results(
            tmp_path,
            runs,
            base_scenario=base_scenario(),
            designs=["burn", "insure"],
            design_overrides={"burn": {}, "insure": {}},
        )
    )
    assert f.shape == "categorical"
    verdicts = f.classified.set_index(["design", rule])["honesty"]
    assert set(verdicts.loc["burn"]) == {dominance.DOMINATES}
    assert set(verdicts.loc["insure"]) == {dominance.FAILS}  # from mix b it ends half honest
    assert f.adaptation.tipping.empty
    html = build_report(f)
    section = html[html.index(SECTION) :]
    assert 'alt="final honest share per mix"' in section and "No tipping points" in section
    assert "Under design insure: the network ends honest at 0 of 2 points" in section
    assert "Design burn: With adaptation on" in " ".join(f.summary)


# -- a non-adaptive sweep: nothing changes ---------------------------------------------------------------
def fixed_strategy_runs() -> pd.DataFrame:
    runs = synthetic_runs(
        grid_points({X: XS, Y: [800, 1600]}), lambda p, d, m: p[X] - 0.3, lambda p, d, m: 0.8 - p[X]
    )
    return runs.assign(
        honest_trainer_share_initial=0.7,
        honest_trainer_share_final=0.7,  # fixed strategies: the share never changes
        honest_validator_share_initial=0.8,
        honest_validator_share_final=0.8,
        rounds_to_honest_share_level=np.nan,
        entered_owners=0.0,
        exited_owners=0.0,
    )


def test_a_sweep_with_fixed_strategies_keeps_todays_verdicts_and_report(tmp_path):
    runs = fixed_strategy_runs()
    before = analyze(
        write_results(
            tmp_path / "before",
            runs.drop(
                columns=[c for c in runs if "share" in c or "owners" in c or c.startswith("rounds_to")]
            ),
        )
    )
    after = analyze(write_results(tmp_path / "after", runs, base_scenario=base_scenario("none")))
    assert after.adaptation is None
    pd.testing.assert_frame_equal(after.classified, before.classified)
    assert after.summary == before.summary and after.notes == before.notes
    html = build_report(after)
    assert SECTION not in html and "final honest share" not in html
    assert html.count("<section") == build_report(before).count("<section")


def test_owners_forced_out_do_not_make_a_sweep_adaptive(tmp_path):
    # Cheaters that run out of stake leave with fixed strategies too: the verdicts stay the margins'.
    runs = fixed_strategy_runs()
    plain = analyze(write_results(tmp_path / "plain", runs, base_scenario=base_scenario("none")))
    forced = runs.assign(exited_owners=3.0, honest_trainer_share_final=0.75)
    f = analyze(write_results(tmp_path / "forced", forced, base_scenario=base_scenario("none")))
    assert f.adaptation is None
    assert f.classified["honesty"].tolist() == plain.classified["honesty"].tolist()


def test_an_exit_rule_alone_makes_a_sweep_adaptive(tmp_path):
    runs = fixed_strategy_runs().assign(exited_owners=1.0, honest_trainer_share_final=0.75)
    base = base_scenario("none")
    base["adaptation"] |= {"exit_rule": "profit_threshold"}
    f = analyze(write_results(tmp_path, runs, base_scenario=base))
    assert f.adaptation is not None
    assert "fixed strategies, exit below the outside option" in " ".join(f.summary)
    assert set(f.classified["adaptive"]) == {dominance.FAILS}  # 75 % < 90 % everywhere
    assert set(f.classified["honesty"]) == {dominance.FAILS}


def test_points_whose_runs_do_not_adapt_keep_the_margins_verdict(tmp_path):
    # The revision rule swept as a category: at "none" nothing adapts, so "ends honest" is not asked.
    runs = synthetic_runs(
        grid_points({"adaptation.revision": ["none", "imitation"]}), lambda p, d, m: 1.0, reps=4, mixes=("a",)
    )
    runs = with_shares(runs, {"a": lambda r: 0.6}, initial={"a": 0.6})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario("none")))
    c = f.classified.set_index("adaptation.revision")
    assert c.loc["none", "adaptive"] == dominance.NOT_ADAPTIVE
    assert c.loc["none", "honesty"] == c.loc["none", "incentives"] == dominance.DOMINATES
    assert (
        c.loc["imitation", "adaptive"] == dominance.FAILS and c.loc["imitation", "honesty"] == dominance.FAILS
    )
    assert "at 1 point no mix adapts" in " ".join(f.summary)


# -- NaN shares: no trainer owner left --------------------------------------------------------------------
def test_runs_without_an_active_trainer_are_left_out_with_the_reason(tmp_path):
    runs = synthetic_runs(grid_points({X: XS}), lambda p, d, m: 1.0, reps=4, mixes=("a", "b"))
    runs = with_shares(runs, {"a": lambda r: 0.97, "b": lambda r: 0.97}, initial={"a": 0.7, "b": 0.5})
    gone = (runs["mix"] == "b") & (runs[X] >= 0.8)  # every trainer owner of mix b leaves there
    half = (runs["mix"] == "b") & np.isclose(runs[X], 0.5) & (runs["replication"] < 2)
    runs.loc[gone | half, adaptation.FINAL] = np.nan
    runs.loc[gone | half, adaptation.ROUNDS_TO_LEVEL] = np.nan
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    per_mix = f.adaptation.per_mix.set_index(["mix", X])
    assert per_mix.loc[("b", 0.9), "final_share_n"] == 0 and per_mix.loc[("b", 0.9), "no_final_share"] == 4
    assert pd.isna(per_mix.loc[("b", 0.9), "final_share_mean"])
    assert per_mix.loc[("b", 0.5), "final_share_n"] == 2  # the other two replications still count
    c = f.classified.set_index(X)
    assert c.loc[0.9, "adaptive"] == dominance.UNCERTAIN  # no share under b: it cannot end honest
    assert c.loc[0.5, "adaptive"] == dominance.DOMINATES
    missing = f.adaptation.missing
    assert missing[["mix", "runs", "reason"]].values.tolist() == [["b", 14, adaptation.NO_TRAINERS_AT_END]]
    text = " ".join(f.summary)
    assert "14 runs in mix b have no final honest share — no trainer owner was active at the end" in text
    assert_readable(f.summary)
    html = build_report(f)
    assert "no trainer owner was active at the end" in html[html.index(SECTION) :]


# -- the report -------------------------------------------------------------------------------------------
def write_trajectories(directory: Path, runs: pd.DataFrame, rounds: int = 20) -> None:
    """A trajectories part: per run and round, the margin and the strategy shares drifting from the
    initial honest share to the final one."""
    rows = []
    for _, r in runs.iterrows():
        start, end = r[adaptation.INITIAL], r[adaptation.FINAL]
        for t in range(rounds):
            honest = start + (end - start) * t / (rounds - 1)
            rows.append(
                {
                    "run_id": r["run_id"],
                    "round": t,
                    "margin_trainers": r["margin_trainers"],
                    "quality": 0.5,
                    "share_honest": honest,
                    "share_lazy": (1 - honest) / 2,
                    "share_sybil": (1 - honest) / 4,
                    "share_poisoning": (1 - honest) / 4,
                    "share_honest_validator": 0.8,
                    "share_copying_validator": 0.2,
                    "entered": float(t % 5 == 0),
                    "exited": float(t % 4 == 0),
                    "entered_total": float(t // 5 + 1),
                    "exited_total": float(t // 4 + 1),
                }
            )
    (directory / "trajectories").mkdir(exist_ok=True)
    pd.DataFrame(rows).to_parquet(directory / "trajectories" / "part-000000000.parquet", index=False)


@pytest.fixture(scope="module")
def two_d_report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("adaptive-report")
    out = write_results(
        directory / "out",
        two_d_runs(),
        base_scenario=base_scenario(),
        mixes=["baseline", "many-cheaters"],
        trajectories=True,
    )
    f = analyze(out)
    write_trajectories(out, f.results)
    return write_findings(f, directory / "report.html"), f


def test_report_places_the_adaptive_section_after_the_answer(two_d_report):
    path, _ = two_d_report
    html = path.read_text(encoding="utf-8")
    order = [
        html.index(h)
        for h in ("<h2>Phase diagram</h2>", f"<h2>{SECTION}</h2>", "<h2>Payoffs per strategy</h2>")
    ]
    assert order == sorted(order)
    section = html[html.index(f"<h2>{SECTION}</h2>") : html.index("<h2>Payoffs per strategy</h2>")]
    assert 'alt="final honest share over slash fraction and tokens emitted per round"' in section
    assert "The network ends honest at 13 of 22 points" in section
    crossings = re.findall(r"<td class=\"text\">(0\.\d+) \((0\.\d+)–(0\.\d+)\)</td>", section)
    along_slash = [float(c[0]) for c in crossings]
    assert along_slash == pytest.approx([0.25, 0.55], abs=0.01)
    assert "between 800 and 1600" in section  # along the whole-number reward level, at x = 0.3, 0.4, 0.5
    assert '<td class="text">many-cheaters</td><td class="text">40 %</td>' in section
    assert "at 13 of 22 points" in section and "at every point" in section
    assert section.count("data:text/csv") >= 4  # every figure and table has its data


def test_report_shows_strategy_shares_round_by_round(two_d_report):
    path, _ = two_d_report
    html = path.read_text(encoding="utf-8")
    rounds = html[html.index("<h2>Round by round</h2>") :]
    figure = rounds[rounds.index('alt="strategy shares round by round"') :]
    payload = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', figure).group(1)
    data = pd.read_csv(io.StringIO(base64.b64decode(payload).decode("utf-8")))
    assert {"share_honest", "share_copying_validator", "entered_total", "exited_total"} <= set(data.columns)
    start = data[data["round"] == 0]
    assert start["share_honest"].to_numpy() == pytest.approx(0.7)  # the first mix's initial share
    points = data.groupby(data["run_id"] // 6)["run_id"].nunique()  # run ids count 6 replications a point
    assert points.tolist() == [6, 6, 6]  # a failing, a boundary and a dominating point, every replication


def test_entries_and_exits_are_drawn_as_running_totals_so_thinned_trajectories_keep_them(two_d_report):
    from analysis.report import views
    from analysis.report.page import _share_rounds
    from analysis.sweep.store import ResultStore

    _, f = two_d_report
    trajectories = ResultStore(f.directory).load("trajectories")
    picks = views.representative_points(f, views.selections(f)[0])
    for kept in (trajectories, trajectories[trajectories["round"] % 3 == 0]):
        html = _share_rounds(f, kept, picks, "")
        assert "how many owners have joined and left so far" in html
        payload = html.split("data:text/csv;charset=utf-8;base64,", 1)[1].split('"', 1)[0]
        header = base64.b64decode(payload).decode().splitlines()[0].split(",")
        assert {"entered_total", "exited_total"} <= set(header)


def test_adaptive_report_renders_in_a_real_browser(two_d_report):
    path, _ = two_d_report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rendered = render(path, ARTIFACTS / "adaptive-report-screenshot.png")
    assert rendered.console_errors == []
    assert SECTION in rendered.text and "Basin of honesty" in rendered.text


def test_a_mix_with_its_own_level_is_named_with_that_level():
    per_mix = pd.DataFrame({"mix": ["a", "a", "b", "b"], "level": [0.7, 0.7, 0.95, 0.9]})
    assert adaptation.mix_level_texts(per_mix) == {"a": "70 %"}
    rows = pd.DataFrame(
        {
            "axis": X,
            "design": "base",
            "mix": ["a", "b"],
            "where": [boundaries.INSIDE, adaptation.ABOVE_LEVEL],
            "direction": boundaries.RISING,
            "estimate": [0.4, np.nan],
            "band_low": [0.35, np.nan],
            "band_high": [0.45, np.nan],
        }
    )
    text = adaptation._tipping_sentence(rows, "x", "the level each run names (70–95 %)", False, {"a": "70 %"})
    assert "under mix a it crosses 70 % at x 0.4" in text
    assert "under mix b it stays at or above the level each run names (70–95 %)" in text


def test_a_mix_whose_owners_do_not_adapt_is_not_held_to_the_level(tmp_path):
    # Mix "fixed" keeps its strategies (its share cannot move); mix "imitating" ends honest.
    runs = synthetic_runs(
        grid_points({X: [0.2, 0.3]}), lambda p, d, m: 1.0, reps=4, mixes=("fixed", "imitating")
    )
    runs = with_shares(
        runs, {"fixed": lambda r: 0.5, "imitating": lambda r: 0.99}, initial={"fixed": 0.5, "imitating": 0.5}
    )
    base = base_scenario("imitation")
    f = analyze(
        write_results(
            tmp_path,
            runs,
            base_scenario=base,
            mixes=["fixed", "imitating"],
            mix_overrides={"fixed": {adaptation.REVISION: "none"}, "imitating": {}},
        )
    )
    assert set(f.classified["adaptive"]) == {dominance.DOMINATES}  # only the imitating mix is asked
    assert set(f.classified["honesty"]) == {dominance.DOMINATES}
    assert f.adaptation.basin["mix"].tolist() == ["imitating"]


def test_a_revision_rule_applied_with_probability_zero_does_not_adapt(tmp_path):
    runs = fixed_strategy_runs()
    base = base_scenario("imitation")
    base["adaptation"] |= {"revision_probability": 0.0}
    f = analyze(write_results(tmp_path, runs, base_scenario=base))
    assert f.adaptation is None


def test_designs_judged_on_different_criteria_are_flagged(tmp_path):
    runs = synthetic_runs(
        grid_points({X: [0.2, 0.3]}), lambda p, d, m: 1.0, reps=4, designs=("fixed", "imitating")
    )
    runs = with_shares(runs, {"base": lambda r: 0.5}, initial={"base": 0.5})
    f = analyze(
        write_results(
            tmp_path,
            runs,
            base_scenario=base_scenario("imitation"),
            designs=["fixed", "imitating"],
            design_overrides={"fixed": {adaptation.REVISION: "none"}, "imitating": {}},
        )
    )
    summary = " ".join(f.summary)
    assert "Design fixed: owners do not adapt at any point of this design" in summary
    assert "Design fixed keeps fixed strategies: judged on the incentives alone" in summary


def test_what_matters_for_the_final_share_is_ranked_beside_the_margin(tmp_path):
    # The final share depends on the reward level only, the margin on the slash fraction only.
    points = grid_points({X: [0.1, 0.3, 0.5], Y: [400, 1600, 6400]})
    runs = synthetic_runs(points, lambda p, d, m: p[X] - 0.2, reps=3, mixes=("a",))
    runs = with_shares(runs, {"a": lambda r: 0.3 + r[Y] / 10_000}, initial={"a": 0.5})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    share = f.share_sensitivity
    assert share is not None
    assert share.loc[Y, "eta2"] > 0.99 and share.loc[X, "eta2"] < 0.01
    assert f.sensitivity.loc[X, "eta2"] > f.sensitivity.loc[Y, "eta2"]
    plain = analyze(
        write_results(tmp_path / "plain", fixed_strategy_runs(), base_scenario=base_scenario("none"))
    )
    assert plain.share_sensitivity is None
