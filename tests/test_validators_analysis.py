"""Validators under Yuma Consensus: the analysis (``analysis.validators``) and the report's section, on
hand-made results with known answers, and what the stake distributions break in the closed form.

Each results directory follows the store's contract (``tests.test_findings.write_results``) and carries
the Yuma KPIs the model writes per run: ``copier_dividend_ratio`` (G), ``cabal_stake_share`` and
``cabal_trainer_emission_share``, besides ``margin_validators``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import dominance, validators
from analysis.findings import analyze
from analysis.report.page import YUMA_HEADINGS, build_report
from model import load_scenario
from model.analytic import token_assumptions_violated
from model.params import to_dict
from model.scenario import with_overrides

from .conftest import BASELINE
from .test_findings import assert_readable, grid_points, synthetic_runs, write_results

DELAY, CABAL = validators.DELAY, validators.CABAL
SLASH = "slashing.slash_fraction"
DELAYS = [0, 1, 2, 4, 8]
CABALS = [0.0, 0.3, 0.45, 0.55, 0.7]


def base_scenario(rule: str = "yuma", **tables: dict[str, Any]) -> dict:
    """The baseline's tables with ``rewards.rule = rule`` and any table's keys replaced."""
    base = to_dict(load_scenario(BASELINE))
    base["rewards"] = dict(base["rewards"]) | {"rule": rule}
    for name, values in tables.items():
        base[name] = dict(base.get(name) or {}) | values
    return base


def ratio(delay: float) -> float:
    """G falls by 0.1 a round of delay: 1.3 at 0, 0.9 at 4 (below 1), 0.5 at 8 (below 1 − 0.18)."""
    return 1.3 - 0.1 * delay


def capture(share: float) -> float:
    """A cabal holding more than half of the stake takes 90 % of the trainers' emission, else 20 %."""
    return 0.9 if share > 0.5 else 0.2


def yuma_kpis(
    g=ratio,
    captured=capture,
    margin=lambda d, c: 0.02 * (d - 3),
    noise: float = 0.01,
    seed: int = 5,
    copiers: float = 0.0,
):
    """The Yuma KPIs of a run at a point: G = g(delay), the cabal's realised stake share (its set share
    plus a little), its capture share (NaN without a cabal) and the validators' margin, each with
    normal noise; the margin is ``margin(delay, cabal share)``."""
    rng = np.random.default_rng(seed)

    def kpis(point: dict[str, Any], design: str, mix: str) -> dict[str, float]:
        delay, share = point.get(DELAY, 1), point.get(CABAL, 0.0)
        return {
            "copier_dividend_ratio": g(delay) + rng.normal(0, noise),
            "cabal_stake_share": share + abs(rng.normal(0, noise / 4)) if share else 0.0,
            "copier_stake_share": copiers,
            "cabal_trainer_emission_share": captured(share) + rng.normal(0, noise) if share else math.nan,
            "margin_validators": margin(delay, share) + rng.normal(0, noise / 2),
        }

    return kpis


def yuma_runs(levels: dict[str, list[Any]], **kpis: Any) -> pd.DataFrame:
    return synthetic_runs(grid_points(levels), lambda p, d, m: 0.1, kpis=yuma_kpis(**kpis))


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """Reveal delay × cabal stake share under Yuma, G crossing 1 at delay 4 and 1 − take at 8."""
    directory = tmp_path_factory.mktemp("yuma-grid")
    runs = yuma_runs({DELAY: DELAYS, CABAL: CABALS})
    return analyze(write_results(directory, runs, base_scenario=base_scenario()))


# -- G against the reveal delay ------------------------------------------------------------------------
def test_the_shortest_delays_below_one_and_below_one_minus_take_are_found_on_every_curve(grid):
    v = grid.validators
    assert v is not None and v.delay_varies and v.cabal_varies
    assert len(v.delays) == len(CABALS)  # one curve per cabal share: nothing pooled over its levels
    assert (v.delays["below_one"] == 4).all()
    assert (v.delays["below_take"] == 8).all()
    assert np.allclose(v.dividends["take_line"], 0.82)
    at = v.dividends[(v.dividends[DELAY] == 4) & (v.dividends[CABAL] == 0.3)].iloc[0]
    assert at["ratio_low"] < 0.9 < at["ratio_high"] < 1.0
    assert at["ratio_n"] == 6


def test_the_delay_sentences_give_the_numbers_they_are_built_from(grid):
    texts = grid.validators.sentences["dividends"]
    assert len(texts) == len(CABALS)
    first = texts[0]
    assert first.startswith("Cabal stake share = 0:")
    assert "the shortest delay at which its upper 95 % bound is below 1 is 4 rounds" in first
    assert "below 1 − take = 0.82 (take 18 %) at 8 rounds" in first
    assert re.search(
        r"G is 1\.3\d* \(95 % interval 1\.2\d* to 1\.3\d*\) at a reveal delay of 0 rounds", first
    )
    assert_readable(texts)


def test_a_larger_take_moves_the_copiers_line_and_its_delay(tmp_path):
    runs = yuma_runs({DELAY: DELAYS}, g=lambda d: 1.3 - 0.1 * d)
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario(stakes={"validator_take": 0.5})))
    row = f.validators.delays.iloc[0]
    assert row["take"] == 0.5
    assert row["below_one"] == 4 and math.isnan(row["below_take"])  # G = 0.5 at 8 is not below 0.5
    assert "is below 1 − take = 0.5 (take 50 %) at no delay swept" in row["text"]


def test_g_that_never_falls_below_one_is_said_so(tmp_path):
    runs = yuma_runs({DELAY: DELAYS}, g=lambda d: 1.2)
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    row = f.validators.delays.iloc[0]
    assert math.isnan(row["below_one"]) and math.isnan(row["below_take"])
    assert "below 1 at no delay swept (0 to 8 rounds)" in row["text"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.3, 1.7), min_size=2, max_size=6))
def test_the_shortest_delay_is_the_first_whose_upper_bound_is_below_one(means):
    delays = [2**i for i in range(len(means))]
    runs = pd.DataFrame(
        [
            {"design": "base", "mix": "base", DELAY: d, "copier_dividend_ratio": g + e, "runs": 1}
            for d, g in zip(delays, means, strict=True)
            for e in (-0.05, 0.0, 0.05)
        ]
    ).assign(**{validators.TAKE: 0.18})
    table = validators.dividend_statistics(runs, ["design", "mix"])
    found = validators.first_delay_below(table, 1.0)
    below = table["ratio_high"] < 1
    if not below.any():
        assert math.isnan(found)
    else:
        assert table.loc[table[DELAY] == found, "ratio_high"].iloc[0] < 1
        assert (table.loc[table[DELAY] < found, "ratio_high"] >= 1).all()


# -- the cabal's capture -------------------------------------------------------------------------------
def test_the_capture_threshold_is_the_smallest_stake_share_whose_lower_bound_reaches_half(grid):
    t = grid.validators.thresholds
    assert len(t) == len(DELAYS)  # one curve per delay
    assert (t["captures_at"] == 0.55).all()
    assert ((t["stake_share"] > 0.55) & (t["stake_share"] < 0.56)).all()  # the realised share
    assert (t["kappa"] == 0.5).all()
    assert (t["levels"] == 4).all()  # the cabal share 0 has no capture to read
    text = t["text"].iloc[0]
    assert text.startswith("Reveal delay = 0: the smallest cabal stake share")
    assert "is 0.55 (realised 0.55" in text
    assert "consistent with κ = 0.5 (κ = 0.5; no copiers), as the mechanism predicts" in text
    assert (t["predicted"] == 0.5).all()


def test_the_prediction_counts_the_veto_and_the_copiers_that_follow(tmp_path):
    """κ = 0.6: a cabal vetoes everyone else's consensus above 1 − κ = 0.4 of the evaluators' stake and
    sets its own trainers' from 0.6; copiers holding 0.25 of all stake follow the evaluators, so the
    mechanism puts capture between 0.4 × 0.75 = 0.3 and 0.6 × 0.75 = 0.45 of all stake. These runs
    capture only from 0.55, after failing at 0.45: later than predicted."""
    runs = yuma_runs({CABAL: CABALS}, copiers=0.25)
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario(yuma={"kappa": 0.6})))
    row = f.validators.thresholds.iloc[0]
    assert row["captures_at"] == 0.55 and row["kappa"] == 0.6 and row["predicted"] == pytest.approx(0.45)
    assert (
        "min(κ, 1 − κ) × (1 − c) = 0.3 to max(κ, 1 − κ) × (1 − c) = 0.45 (κ = 0.6; copiers hold c = 0.25 of "
        "the stake and copy the evaluators' consensus; between the two, whether the cabal takes half depends "
        "on how many trainers each side has): later than the mechanism predicts" in row["text"]
    )


def test_capture_below_the_prediction_is_said_to_come_early(tmp_path):
    runs = yuma_runs({CABAL: CABALS}, captured=lambda share: 0.9 if share >= 0.4 else 0.1)
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    row = f.validators.thresholds.iloc[0]
    assert row["captures_at"] == 0.45  # the first level swept at or above 0.4
    assert "below κ = 0.5 (κ = 0.5; no copiers): earlier than the mechanism predicts" in row["text"]


def test_no_capture_in_the_range_names_the_largest_share_and_kappa(tmp_path):
    runs = yuma_runs({CABAL: [0.0, 0.2, 0.4]})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    row = f.validators.thresholds.iloc[0]
    assert math.isnan(row["captures_at"])
    assert "at no cabal stake share swept (up to 0.4" in row["text"]
    assert (
        "no share swept reaches κ = 0.5 (κ = 0.5; no copiers), so the mechanism does not predict it"
        in (row["text"])
    )


def test_the_summary_gives_each_question_in_one_sentence_over_the_curves(grid):
    summary = grid.validators.summary
    assert summary[0] == (
        "Validators under Yuma Consensus: the shortest delay at which G's upper 95 % bound is below 1 is 4 "
        "rounds on the 5 curves; the shortest delay at which G's upper 95 % bound is below 1 − take is 8 "
        "rounds on the 5 curves."
    )
    assert re.fullmatch(
        r"Cabal: the smallest stake share at which the cabal's trainers take at least half of the trainers' "
        r"emission \(lower 95 % bound ≥ 0\.5\) is realised stake shares of 0\.55\d* to 0\.55\d* on all 5 "
        r"curves, beside the share from which the mechanism predicts it, 0\.5\.",
        summary[1],
    )
    assert summary == grid.summary[-2:]


# -- the unusual ---------------------------------------------------------------------------------------
def test_without_copiers_g_is_undefined_and_the_page_says_why(tmp_path):
    runs = yuma_runs({DELAY: DELAYS}, g=lambda d: math.nan, margin=lambda d, c: math.nan)
    runs["pi_honest_validator"] = 0.01  # honest validators earn; nobody copies
    base = base_scenario(population={"copying_validators": 0, "honest_validators": 10})
    f = analyze(write_results(tmp_path, runs, base_scenario=base))
    v = f.validators
    assert (v.dividends["ratio_n"] == 0).all()
    missing = v.missing[v.missing["kpi"] == validators.RATIO].iloc[0]
    assert missing["runs"] == missing["of"] == len(runs)
    assert "no copying validators" in missing["reason"]
    assert (
        "G, the copiers' dividends per unit of stake over the honest validators', is undefined"
        in (v.sentences["dividends"][0])
    )
    assert v.sentences["dominance"] == [
        f"No Yuma point has copying validators ({len(DELAYS)} points): there is no validators' margin "
        "to judge."
    ]
    page = html.unescape(build_report(f))
    assert YUMA_HEADINGS["dividends"] in page and "no copying validators" in page
    assert_readable(f.summary)


def test_without_a_cabal_there_is_nothing_to_capture(tmp_path):
    runs = yuma_runs({DELAY: DELAYS})  # the cabal's share stays at the default, 0
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    v = f.validators
    assert not v.cabal_varies
    sentence = "No Yuma run has a cabal (yuma.cabal_stake_share = 0): there is nothing to capture."
    assert v.sentences["capture"] == [sentence]
    assert sentence in html.unescape(build_report(f))
    assert any("does not vary in the Yuma runs: there is no capture threshold" in n for n in f.notes)


def test_one_delay_level_gives_g_there_and_what_it_means(tmp_path):
    runs = yuma_runs({SLASH: [0.1, 0.3]}, g=lambda d: 0.7)  # Yuma, neither delay nor cabal varied
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    v = f.validators
    assert not v.delay_varies and not v.cabal_varies
    assert set(v.dividends[DELAY]) == {1}  # the base's delay, read per run
    texts = v.sentences["dividends"]
    assert texts[0].startswith("Slash fraction = 0.1: at the one reveal delay with a value, 1 round, G = 0.7")
    assert texts[0].endswith("below 1 − take = 0.82, copying does not pay a delegated validator.")
    page = html.unescape(build_report(f))
    assert YUMA_HEADINGS["dominance"] in page


def test_one_replication_gives_means_without_intervals_and_claims_no_crossing(tmp_path):
    runs = synthetic_runs(grid_points({DELAY: DELAYS}), lambda p, d, m: 0.1, reps=1, kpis=yuma_kpis(noise=0))
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    row = f.validators.delays.iloc[0]
    assert math.isnan(row["below_one"])  # one run per level: no bound can be below 1
    assert "1.3 (one run: no interval) at a reveal delay of 0 rounds" in row["text"]
    assert_readable([row["text"], *f.validators.summary])


def test_yuma_runs_that_all_failed_are_said_so():
    points = grid_points({DELAY: DELAYS})
    runs = synthetic_runs(points, lambda p, d, m: 0.1, designs=("plain", "yuma"), kpis=yuma_kpis())
    runs.loc[runs["design"] == "yuma", ["status", "error"]] = ["failed", "Traceback: boom"]
    manifest = {
        "base_scenario": base_scenario(rule="equal"),
        "designs": ["plain", "yuma"],
        "design_overrides": {"plain": {}, "yuma": {"rewards.rule": "yuma"}},
    }
    per_mix = dominance.point_statistics(runs)
    v = validators.analyze_validators(
        runs, manifest, [DELAY], dominance.classify_statistics(per_mix, runs), per_mix
    )
    assert v.runs == 0 and v.dividends.empty and v.capture.empty and v.verdicts.empty
    assert v.sentences["dividends"] == [
        f"No Yuma run finished in the token regime ({len(runs) // 2} Yuma runs in all): there is nothing to "
        "read G or the cabal's capture from."
    ]
    assert v.sentences["capture"] == [] and v.summary == []


def test_honest_validation_dominating_from_a_delay_on_is_said_with_its_counts(grid):
    texts = grid.validators.sentences["dominance"]
    # margin 0.02 (d − 3): fails at 0, 1 and 2, dominates at 4 and 8, for all five cabal shares
    assert texts[0].startswith(
        "Honest validation dominates copying (the validators' margin's one-sided 95 % lower bound above 0 "
        "under every mix) at 10 of 25 Yuma points with copiers, fails at 15 and is uncertain at 0"
    )
    assert texts[1] == "From a reveal delay of 4 rounds on, honest validation dominates at every point swept."
    verdicts = grid.validators.verdicts
    assert (verdicts.loc[verdicts[DELAY] >= 4, "validators"] == dominance.DOMINATES).all()


def test_the_delay_from_which_honest_validation_dominates_is_given_per_level_of_the_other_axis(tmp_path):
    runs = yuma_runs(
        {DELAY: DELAYS, CABAL: CABALS}, margin=lambda d, c: 0.02 * (d - 3) if c < 0.5 else 0.02 * (d - 6)
    )
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    assert f.validators.sentences["dominance"][1] == (
        "Honest validation: from a reveal delay of 4 rounds on it dominates at cabal stake share = 0, 0.3 "
        "and 0.45; from a reveal delay of 8 rounds on it dominates at cabal stake share = 0.55 and 0.7."
    )


# -- where the section appears --------------------------------------------------------------------------
def test_the_section_appears_only_with_yuma_runs(tmp_path, grid):
    page = html.unescape(build_report(grid))
    for heading in YUMA_HEADINGS.values():
        assert heading in page
    assert page.count("<img") >= 3
    runs = yuma_runs({DELAY: DELAYS})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario(rule="equal")))
    assert f.validators is None
    page = html.unescape(build_report(f))
    assert '<section id="validators">' in page  # the validators' margin, as for every sweep
    assert not any(heading in page for heading in YUMA_HEADINGS.values())


def test_yuma_from_a_swept_rule_counts_only_its_own_points(tmp_path):
    runs = yuma_runs({"rewards.rule": ["equal", "yuma"], DELAY: DELAYS})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario(rule="equal")))
    v = f.validators
    assert v.runs == len(runs) // 2
    assert set(v.verdicts["rewards.rule"]) == {"yuma"}
    assert set(v.delays["rewards.rule"]) == {"yuma"}


def test_yuma_from_a_design_counts_only_that_design(tmp_path):
    points = grid_points({DELAY: DELAYS})
    runs = synthetic_runs(points, lambda p, d, m: 0.1, designs=("plain", "yuma"), kpis=yuma_kpis())
    f = analyze(
        write_results(
            tmp_path,
            runs,
            base_scenario=base_scenario(rule="equal"),
            designs=["plain", "yuma"],
            design_overrides={"plain": {}, "yuma": {"rewards.rule": "yuma"}},
        )
    )
    v = f.validators
    assert set(v.dividends["design"]) == {"yuma"}
    assert v.delays.iloc[0]["text"].startswith("Design yuma: G is")


# -- the closed form's assumptions ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_unequal_trainer_stakes_under_stake_weighted_rewards_break_the_closed_form(baseline):
    s = with_overrides(baseline, {"stakes.trainer_distribution": "pareto", "rewards.rule": "stake_weighted"})
    assert any(
        "stake-weighted rewards with unequal trainer stakes" in p for p in token_assumptions_violated(s)
    )
    fixed = with_overrides(baseline, {"rewards.rule": "stake_weighted"})
    assert not any("trainer stakes" in p for p in token_assumptions_violated(fixed))


def test_unequal_validator_stakes_and_delegation_break_the_closed_form(baseline):
    def problems(overrides: dict[str, Any]) -> list[str]:
        return [p for p in token_assumptions_violated(with_overrides(baseline, overrides)) if "stake" in p]

    assert any(
        "validator stakes differ" in p for p in problems({"stakes.validator_distribution": "lognormal"})
    )
    equal = [baseline.staking.validator_stake_tokens] * baseline.validators
    listed = {"stakes.validator_distribution": "listed", "stakes.validator_stakes_tokens": equal}
    assert problems(listed) == []  # the list gives every validator the stake the closed form assumes
    unequal = {**listed, "stakes.validator_stakes_tokens": [500.0, *equal[1:]]}
    assert any("validator stakes differ" in p for p in problems(unequal))
    assert any("delegated stake" in p for p in problems({"stakes.delegated_tokens": 5_000.0}))


# -- the gallery example's numbers, as the README gives them ------------------------------------------
def test_the_yuma_example_finds_what_the_readme_says(tmp_path):
    """scenarios/examples/yuma-validators.toml, run as shipped: with no cabal G is 1.05 without
    commit-reveal, 0.79 one round late and 0.68 sixteen late, and honest validation dominates from one
    round on; the cabal's trainers get 9 % of the emission (mean over the delays) with 8 of 21
    validators and all of it with 9, on either side of the prediction κ(1 − c) = 0.405; from 9 on,
    honest validators outside the cabal dominate at no delay. (The README's "What it finds" quotes
    these.)"""
    from analysis.findings import analyze as analyze_directory
    from analysis.sweep.engine import run_sweep
    from analysis.sweep.sweepfile import load_sweep

    from .conftest import ROOT

    run_sweep(load_sweep(ROOT / "scenarios" / "examples" / "yuma-validators.toml"), tmp_path, progress=False)
    v = analyze_directory(tmp_path).validators
    g = v.dividends[v.dividends[CABAL] == 0].set_index(DELAY)["ratio_mean"]
    said = [f"{g[d]:.2f}" for d in (0, 1, 16)]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        f"`G` is {said[0]} at `d = 0`, {said[1]} at `d = 1`" in readme and f"{said[2]} at `d = 16`" in readme
    )
    capture = v.capture.groupby(CABAL)[["stake_share", "capture_mean"]].mean()
    below, above = capture.loc[0.38], capture.loc[0.43]
    assert below["stake_share"] == pytest.approx(8 / 21) and above["stake_share"] == pytest.approx(9 / 21)
    assert (
        f"get {100 * below['capture_mean']:.0f} % of the trainers' emission (mean over the delays) with 8 "
        "of the 21" in readme
    )
    assert above["capture_mean"] == 1.0 and (v.capture["predicted"].round(3) == 0.405).all()
    assert (v.thresholds["captures_at"] == 0.43).all()
    dominates = v.verdicts[v.verdicts["validators"] == "dominates"]
    assert set(dominates.loc[dominates[CABAL] == 0, DELAY]) == {1, 2, 4, 8, 16}
    assert dominates[dominates[CABAL] >= 0.43].empty


def test_a_sentence_that_starts_with_kappa_keeps_its_small_kappa(tmp_path):
    """Sentences lead with the curve's levels; κ capitalised would be Κ, a capital kappa that reads
    as the letter K."""
    from analysis.validators import KAPPA

    runs = yuma_runs({KAPPA: [0.3, 0.7], DELAY: [0, 4]})
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    texts = list(f.validators.delays["text"])
    assert texts and all(t.startswith("κ = ") for t in texts)
    assert not any("Κ" in t for t in f.validators.summary)


def test_without_honest_validators_there_is_no_verdict_and_g_says_why(tmp_path):
    """Only copying validators: no margin to read at any point, so no point counts as 'with copiers'
    in the verdict, and G's absence is put down to the missing honest validators."""
    runs = yuma_runs({DELAY: [0, 4]}, g=lambda d: math.nan, margin=lambda d, c: math.nan)
    base = base_scenario(population={"honest_validators": 0, "copying_validators": 2})
    f = analyze(write_results(tmp_path, runs, base_scenario=base))
    v = f.validators
    assert not v.verdicts["copiers"].any()
    reasons = set(v.missing.loc[v.missing["kpi"] == "copier_dividend_ratio", "reason"])
    assert reasons == {"no honest validators: G compares copiers with honest validators"}


def test_when_copying_wins_everywhere_under_yuma_the_summary_blames_dividends_not_bounties(tmp_path):
    """Under Yuma Consensus honest validators are paid dividends, not slashing bounties, and
    commit-reveal may already be on: the verifier's-dilemma sentence says so."""
    from analysis.summary import DILEMMA_WORDS, YUMA_DILEMMA_WORDS

    runs = yuma_runs({DELAY: [0, 4]}, margin=lambda d, c: -0.05)
    f = analyze(write_results(tmp_path, runs, base_scenario=base_scenario()))
    sentence = next(t for t in f.summary if t.startswith("Validators: copying the consensus beats"))
    assert YUMA_DILEMMA_WORDS in sentence and DILEMMA_WORDS["token"] not in sentence
