"""The analysis in each regime: payoffs, participation, the regime column and the tokenless closed form.

Token runs are compared on profit per round per unit of capital (``pi_<s>``) against the outside
option ω; tokenless runs commit no capital, so they are compared on fiat profit per owner per round
(``profit_fiat_per_round_<s>``) against 0. Synthetic results frames check the arithmetic; small
real sweeps check the whole chain (sweep → results with a ``regime`` column → findings).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import boundaries, dominance, theory
from analysis.comparison import KEEPS_TRAINERS, kept_share
from analysis.findings import analyze
from analysis.settings import payoff_column, regime_per_run, with_payoffs
from analysis.summary import ignores
from analysis.sweep import check_results, load_sweep, run_sweep
from analysis.sweep.engine import regime_of
from model import analytic, load_scenario, with_overrides
from model.params import to_dict

from .conftest import BASELINE
from .sweeps import SMALL_FIXED
from .test_findings import assert_readable, grid_points, write_results

FEE, STRIKES, SLASH = "regime.service_fee_fiat", "regime.ejection_strikes", "slashing.slash_fraction"
KIND = "regime.kind"
STRATEGIES = ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator")


def runs(
    regime: str,
    honest: list[float],
    lazy: list[float],
    *,
    mix: str = "base",
    design: str = "base",
    point: dict | None = None,
    validators: float = -0.5,
) -> pd.DataFrame:
    """Replications at one point: in ``regime``'s own payoff KPI honest trainers earn ``honest`` and
    lazy ones ``lazy``; the other regime's payoff KPI is NaN, as the model writes it."""
    own, other = ("pi", "profit_fiat_per_round") if regime == "token" else ("profit_fiat_per_round", "pi")
    frame = pd.DataFrame(
        {
            "design": design,
            "mix": mix,
            "regime": regime,
            "status": "ok",
            **(point or {SLASH: 0.1}),
            f"{own}_honest": honest,
            f"{own}_lazy": lazy,
            "margin_validators": validators,
        }
    )
    for s in STRATEGIES:
        frame[f"{other}_{s}"] = np.nan
    return frame


# -- payoffs per regime -------------------------------------------------------------------------
def test_tokenless_margins_are_fiat_profit_differences():
    tokenless = runs("tokenless", [5.0, 6.0, 7.0], [1.0, 2.5, 3.0])
    row = dominance.classify(tokenless, outside_option=100.0).iloc[0]
    assert row["trainers_mean"] == pytest.approx(np.mean([4.0, 3.5, 4.0]))
    assert row["regime"] == "tokenless"
    # the outside option ω is a return on capital; the tokenless federation has none, so 0
    assert row["participation_mean"] == pytest.approx(6.0)
    assert row["participation"] == dominance.DOMINATES


def test_a_point_whose_pi_is_nan_but_whose_profit_is_clear_is_decided():
    tokenless = runs("tokenless", [5.0, 6.0, 7.0], [1.0, 2.0, 3.0])
    decided = dominance.classify(tokenless).iloc[0]
    assert decided["trainers"] == dominance.DOMINATES and decided["honesty"] == dominance.DOMINATES
    # read as token runs (pi only), the same rows have no payoff at all: nothing can be concluded
    as_token = dominance.classify(tokenless.assign(regime="token")).iloc[0]
    assert as_token["trainers"] == dominance.UNCERTAIN and math.isnan(as_token["trainers_mean"])
    losing = dominance.classify(runs("tokenless", [1.0, 1.1, 1.2], [5.0, 5.0, 5.1])).iloc[0]
    assert losing["trainers"] == dominance.FAILS


def test_a_tokenless_mix_without_cheaters_is_left_out_of_the_trainers_worst_case():
    usual = runs("tokenless", [5.0, 6.0, 7.0], [1.0, 2.0, 3.0], mix="usual")
    honest_only = runs("tokenless", [4.0, 4.0, 4.5], [np.nan] * 3, mix="honest-only")
    per_mix = dominance.point_statistics(pd.concat([usual, honest_only], ignore_index=True)).set_index("mix")
    assert per_mix.loc["honest-only", "trainers_absent"] and not per_mix.loc["usual", "trainers_absent"]


def test_participation_is_against_omega_in_token_mixes_and_zero_in_tokenless_ones():
    token = runs("token", [0.05, 0.06, 0.07], [0.0, 0.0, 0.0], mix="token-mix")
    tokenless = runs("tokenless", [0.05, 0.06, 0.07], [0.0, 0.0, 0.0], mix="tokenless-mix")
    both = pd.concat([token, tokenless], ignore_index=True)
    per_mix = dominance.point_statistics(both, outside_option=0.02).set_index("mix")
    assert per_mix.loc["token-mix", "participation_mean"] == pytest.approx(0.06 - 0.02)
    assert per_mix.loc["tokenless-mix", "participation_mean"] == pytest.approx(0.06)
    assert dominance.classify(both).iloc[0]["regime"] == dominance.MIXED_REGIMES


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(*[st.floats(-1, 1)] * 3), min_size=2, max_size=6),
    st.floats(0, 0.1),
)
def test_token_verdicts_are_those_of_pi_whatever_the_profit_columns_hold(rows, omega):
    pi_honest, pi_lazy, profit = (list(c) for c in zip(*rows, strict=True))
    plain = pd.DataFrame(
        {"mix": "base", "status": "ok", SLASH: 0.1, "pi_honest": pi_honest, "pi_lazy": pi_lazy}
    ).assign(margin_validators=0.0)
    labelled = plain.assign(regime="token", profit_fiat_per_round_honest=profit, profit_fiat_per_round_lazy=0)
    expected = dominance.classify(plain, outside_option=omega)
    pd.testing.assert_frame_equal(dominance.classify(labelled, outside_option=omega), expected)
    assert with_payoffs(labelled)[payoff_column("honest")].tolist() == pi_honest


def test_each_run_is_read_in_its_own_regime():
    frame = pd.DataFrame(
        {
            "mix": ["a", "b"],
            "regime": ["token", "tokenless"],
            "pi_honest": [0.1, np.nan],
            "profit_fiat_per_round_honest": [3.0, 4.0],
        }
    )
    assert with_payoffs(frame)[payoff_column("honest")].tolist() == [0.1, 4.0]


def test_a_run_s_regime_comes_from_its_column_then_its_scenario_and_is_token_before_regimes():
    frame = pd.DataFrame({"mix": ["a", "b", "a"], "design": ["d", "d", "e"], "status": "ok"})
    manifest = {
        "base_scenario": {"regime": {"kind": "token"}},
        "design_overrides": {"e": {KIND: "tokenless"}},
        "mix_overrides": {"b": {KIND: "tokenless"}},
    }
    assert regime_per_run(frame, manifest).tolist() == ["token", "tokenless", "tokenless"]
    assert regime_per_run(frame, {"base_scenario": {}}).tolist() == ["token"] * 3  # written before regimes
    assert regime_per_run(frame).tolist() == ["token"] * 3
    written = frame.assign(regime=["tokenless", None, "token"])
    assert regime_per_run(written, manifest).tolist() == ["tokenless", "tokenless", "token"]
    with pytest.raises(ValueError, match="'tokenful' is not allowed: expected one of token, tokenless"):
        regime_per_run(frame.assign(regime="tokenful"))


# -- boundaries and the closed form along the fee -------------------------------------------------
def test_participation_is_a_lower_bound_along_the_fee_and_an_upper_bound_along_the_slash():
    assert boundaries.named_for(FEE)["participation"] == ("participation", boundaries.RISING)
    assert boundaries.named_for(SLASH)["participation"] == ("participation", boundaries.FALLING)
    assert boundaries.named_for(FEE)["deterrence"] == boundaries.named_for(SLASH)["deterrence"]


def tokenless_scenario(**overrides):
    """The baseline run by the orchestrator, with a budget that never binds and no validator dropout."""
    return with_overrides(
        load_scenario(BASELINE),
        {
            KIND: "tokenless",
            "regime.budget_fiat_per_round": 1e6,
            "dropout.validator_dropout_probability": 0.0,
            **overrides,
        },
    )


def test_tokenless_bounds_over_mixes_are_the_largest_of_each_lower_bound():
    cheap, dear = tokenless_scenario(), tokenless_scenario(**{"costs.train_cost_fiat_per_round": 8.0})
    found = theory.bounds_over([cheap, dear], FEE)
    assert found["participation"] == pytest.approx(analytic.tokenless_participation_bound_fee(dear))
    assert found["participation"] > analytic.tokenless_participation_bound_fee(cheap)
    deviations = theory.deviations_present(dear)
    assert found["deterrence"] == max(
        analytic.tokenless_deterrence_bound_fee(s, d) for s in (cheap, dear) for d in deviations
    )
    assert found["regime"] == "tokenless" and found["assumptions"] == []
    # along the slash fraction (token scenarios) participation is an upper bound: the smallest
    token = [with_overrides(load_scenario(BASELINE), {"costs.train_cost_fiat_per_round": c}) for c in (1, 3)]
    slash = theory.bounds_over(token, SLASH)
    assert slash["participation"] == min(analytic.participation_bound_slash_fraction(s) for s in token)


def test_a_scenario_the_axis_does_not_move_gets_its_bounds_by_the_sign_of_its_margins():
    paying = tokenless_scenario(**{"regime.service_fee_fiat": 50.0})
    losing = tokenless_scenario(**{"regime.service_fee_fiat": 0.0})
    assert theory.bounds_for(paying, SLASH) == (-math.inf, math.inf)  # holds at every slash fraction
    _, part = theory.bounds_for(losing, SLASH)
    assert part == -math.inf  # without a fee honest work never pays, whatever the slash
    assert not theory.has_closed_form(FEE, {"token"}) and theory.has_closed_form(FEE, {"tokenless"})


def fee_runs(fee_levels, strikes=(None,), reps=5, seed=0, others: dict | None = None) -> pd.DataFrame:
    """Tokenless runs whose honest profit is ``2·fee − 6`` (zero at a fee of 3) and whose lazy
    deviation earns ``fee − 1`` (honest out-earns it from a fee of 5), plus noise; ``others`` adds
    axes (path → levels) that move nothing."""
    rng = np.random.default_rng(seed)
    rows = []
    levels = {FEE: list(fee_levels)} | ({STRIKES: list(strikes)} if strikes != (None,) else {})
    levels |= others or {}
    for point, values in enumerate(grid_points(levels)):
        for rep in range(reps):
            fee = values[FEE]
            honest = 2 * fee - 6 + rng.normal(0, 0.05)
            rows.append(
                {
                    "point": point,
                    "mix": "base",
                    "replication": rep,
                    "status": "ok",
                    "error": None,
                    "regime": "tokenless",
                    **values,
                    "profit_fiat_per_round_honest": honest,
                    "profit_fiat_per_round_lazy": fee - 1 + rng.normal(0, 0.05),
                    "profit_fiat_per_round_honest_validator": -20.0 + rng.normal(0, 0.05),
                    "profit_fiat_per_round_copying_validator": 0.0,
                    "margin_validators": -20.0,
                }
            )
    return pd.DataFrame(rows)


TOKENLESS_BASE = {"base_scenario": to_dict(tokenless_scenario())}


def test_along_the_fee_both_boundaries_rise_and_the_closed_form_is_overlaid(tmp_path):
    f = analyze(write_results(tmp_path, fee_runs([1.0, 2.0, 4.0, 6.0, 8.0]), **TOKENLESS_BASE))
    assert f.x == FEE and f.shape == "1-D"
    found = f.boundaries_1d.set_index("name")
    assert found.loc["participation", "direction"] == boundaries.RISING
    assert found.loc["participation", "estimate"] == pytest.approx(3.0, abs=0.05)
    assert found.loc["deterrence", "estimate"] == pytest.approx(5.0, abs=0.05)
    assert f.analytic is not None and (f.analytic["regime"] == "tokenless").all()
    expected = theory.bounds_over([tokenless_scenario()], FEE)
    assert f.analytic.iloc[0]["participation"] == pytest.approx(expected["participation"])
    assert any("in fiat of service fee" in line for line in f.summary)
    assert any("fiat per owner per round" in line for line in f.summary)  # the validators' margin's unit
    assert_readable(f.summary)


def test_a_fee_sweep_per_strike_count_says_from_which_fee_honest_work_pays(tmp_path):
    f = analyze(
        write_results(tmp_path, fee_runs([1.0, 2.0, 4.0, 6.0, 8.0], strikes=(1, 3)), **TOKENLESS_BASE)
    )
    assert f.y == STRIKES and set(f.participation["direction"]) == {boundaries.RISING}
    sentences = [line for line in f.summary if line.startswith("At ")]
    assert len(sentences) == 2
    assert all("honest work pays at least the outside option only from 3" in line for line in sentences)
    assert len(f.analytic) == 2 and f.analytic["participation_feasible"].all()


# -- runs left out, per regime --------------------------------------------------------------------
def test_a_tokenless_run_is_never_dropped_for_committing_no_capital(tmp_path):
    no_stake = {
        "base_scenario": to_dict(
            tokenless_scenario(
                **{"staking.min_trainer_stake_tokens": 0.0, "staking.registration_cost_tokens": 0.0}
            )
        )
    }
    data = fee_runs([1.0, 4.0, 8.0])
    data["mix"] = np.where(data["replication"] < 3, "base", "no-honest")
    data.loc[data["mix"] == "no-honest", "profit_fiat_per_round_honest"] = np.nan
    f = analyze(
        write_results(
            tmp_path, data, mix_overrides={"no-honest": {"population.honest_trainers": 0}}, **no_stake
        )
    )
    dropped = f.dropped.set_index(["mix", "kpi"])
    row = dropped.loc[("no-honest", "profit_fiat_per_round_honest")]
    assert row["reason"] == "no honest trainers in mix no-honest" and row["quantity"] == "participation"
    assert not f.dropped["reason"].str.contains("capital").any()
    assert not (f.dropped["kpi"] == "pi_honest").any()  # π is undefined in tokenless runs by design


# -- the regime column the sweep engine writes ----------------------------------------------------
REGIME_AXIS = """
[[parameters]]
path = "regime.kind"
values = ["token", "tokenless"]

[[parameters]]
path = "slashing.slash_fraction"
values = [0.0, 0.4]

[designs.fixed]

[designs.adapt]
"adaptation.revision" = "imitation"
"adaptation.revision_interval_rounds" = 5
"adaptation.exit_rule" = "profit_threshold"
"""


def write_small_sweep(directory, body: str, fixed: str = "") -> object:
    header = f'[sweep]\nname = "regimes"\nbase = "{BASELINE}"\ndesign = "grid"\nreplications = 3\nseed = 3\n'
    path = directory / "sweep.toml"
    path.write_text(header + SMALL_FIXED + fixed + body, encoding="utf-8")
    return load_sweep(path)


@pytest.fixture(scope="module")
def regime_axis(tmp_path_factory):
    directory = tmp_path_factory.mktemp("regime-axis")
    table = run_sweep(write_small_sweep(directory, REGIME_AXIS), directory / "out", workers=1, progress=False)
    return directory / "out", table


def test_the_results_name_each_run_s_regime(regime_axis):
    _, table = regime_axis
    assert (table["regime"] == table[KIND]).all()
    assert table.loc[table["regime"] == "tokenless", "pi_honest"].isna().all()
    assert table.loc[table["regime"] == "tokenless", "profit_fiat_per_round_honest"].notna().all()
    assert list(table.columns[:5]) == ["run_id", "point", "design", "mix", "regime"]


def test_a_regime_axis_with_an_adaptive_design_is_analysed_per_regime(regime_axis):
    directory, _ = regime_axis
    f = analyze(directory)
    assert f.categorical == [KIND] and f.x == SLASH
    c = f.classified
    assert (c["regime"] == c[KIND]).all()
    assert set(c.loc[c["design"] == "adapt", "adaptive"]) <= {
        dominance.DOMINATES,
        dominance.UNCERTAIN,
        dominance.FAILS,
    }
    assert (c.loc[c["design"] == "fixed", "adaptive"] == dominance.NOT_ADAPTIVE).all()
    tokenless = c[c[KIND] == "tokenless"]
    assert np.isfinite(tokenless["trainers_mean"]).all()  # profit, not the undefined π
    analytic_rows = f.analytic.set_index(["design", KIND])
    # slashing moves nothing without a token: its bounds are ±inf by the sign of the margins
    assert (
        not np.isfinite(analytic_rows.xs("tokenless", level=KIND)[["deterrence", "participation"]])
        .any()
        .any()
    )
    assert any("Tokenless runs commit no capital" in note for note in f.notes)
    assert_readable(f.summary)


def test_a_design_per_regime_compares_what_each_costs(tmp_path):
    designs = (
        '\n[designs.token]\n"regime.kind" = "token"\n\n[designs.tokenless]\n"regime.kind" = "tokenless"\n'
    )
    body = '\n[[parameters]]\npath = "costs.train_cost_fiat_per_round"\nvalues = [1.0, 4.0]\n' + designs
    table = run_sweep(write_small_sweep(tmp_path, body), tmp_path / "out", workers=1, progress=False)
    assert (table["regime"] == table["design"]).all()
    f = analyze(tmp_path / "out")
    costs = f.comparison.set_index("design")
    assert costs.loc["tokenless", "regime"] == "tokenless" and costs.loc["token", "regime"] == "token"
    assert costs.loc["tokenless", "network_cost_fiat_per_round_all"] > 0
    assert math.isnan(costs.loc["tokenless", "emitted_tokens_per_round_all"])
    assert any(line.startswith("tokenless emits no token") for line in f.summary)
    # a margin per unit of capital and one in fiat per owner are not ranked against each other
    assert f.winners["best_design"].isna().all()
    assert_readable(f.summary)


def test_a_run_the_scenario_refuses_still_has_its_regime():
    base = load_scenario(BASELINE)
    assert regime_of(base, {KIND: "tokenless", "population.lazy_trainers": -1}) == "tokenless"
    assert regime_of(base, {}) == base.regime.kind == "token"


def test_a_part_whose_regime_is_not_a_regime_is_damaged(regime_axis, tmp_path):
    directory, _ = regime_axis
    copy = tmp_path / "copy"
    (copy / "runs").mkdir(parents=True)
    (copy / "manifest.json").write_bytes((directory / "manifest.json").read_bytes())
    for part in sorted((directory / "runs").glob("part-*.parquet")):
        frame = pd.read_parquet(part)
        if part == sorted((directory / "runs").glob("part-*.parquet"))[0]:
            frame["regime"] = "tokenful"
        frame.to_parquet(copy / "runs" / part.name, index=False)
    report = check_results(copy)
    assert not report.ok
    assert any(
        "regime values other than 'token', 'tokenless': 'tokenful'" in p.problem for p in report.damaged
    )


# -- a real tokenless sweep along the fee -----------------------------------------------------------
TOKENLESS_FIXED = """
"regime.kind" = "tokenless"
"regime.budget_fiat_per_round" = 100000.0
"dropout.validator_dropout_probability" = 0.0
"detection.false_positive_rate" = 0.05
"costs.train_cost_fiat_per_round" = 3.0
"""
FEE_AXIS = '\n[[parameters]]\npath = "regime.service_fee_fiat"\nlow = 1.0\nhigh = 12.0\nsteps = 6\n'


def test_a_real_tokenless_fee_sweep_meets_its_closed_form(tmp_path):
    sweep = write_small_sweep(tmp_path, FEE_AXIS, TOKENLESS_FIXED)
    table = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    assert (table["regime"] == "tokenless").all() and table["pi_honest"].isna().all()
    f = analyze(tmp_path / "out")
    assert f.x == FEE and f.analytic is not None
    row = f.analytic.iloc[0]
    assert row["assumptions"] == [] and row["participation_feasible"]
    part = f.boundaries_1d.set_index("name").loc["participation"]
    assert part["where"] == boundaries.INSIDE and part["direction"] == boundaries.RISING
    assert part["band_low"] <= row["participation"] <= part["band_high"]
    assert not np.isnan(f.distances["participation"])
    assert_readable(f.summary)


# -- the report's words along the fee, and what each design keeps ------------------------------------
def test_a_tokenless_fee_map_words_its_bounds_in_fee_on_the_side_where_they_hold(tmp_path):
    """Review of issue 9, defect 2: the tables read fee bounds as slash fractions ("infeasible
    (bound > 1)") and, with the fees swept all above the participation bound, said honest work pays
    nowhere — it pays everywhere."""
    from analysis.report.page import boundary_table

    f = analyze(
        write_results(tmp_path / "high", fee_runs([6.0, 8.0, 10.0], strikes=(1, 3)), **TOKENLESS_BASE)
    )
    table = boundary_table(f).set_index(STRIKES)
    assert (table["deterrence (simulated)"] == "deters throughout the range").all()
    assert (table["participation (simulated)"] == "pays throughout the range").all()
    analytic = f.analytic.set_index(STRIKES)
    for label, verb in (("deterrence", "deters"), ("participation", "pays")):
        assert analytic[f"{label}_feasible"].all()  # a few fiat: a fee one can set
        for strikes, bound in analytic[label].items():
            text = table.loc[strikes, f"{label} (analytic)"]
            assert text.startswith(f"{verb} from ") and text.endswith(" on"), text  # lower bounds on the fee
            assert float(text.split()[2].replace(",", "")) == pytest.approx(bound, rel=1e-3)
    # inside the range: the crossings rise along the fee, as expected, so no direction tag
    f = analyze(
        write_results(tmp_path / "low", fee_runs([1.0, 2.0, 4.0, 6.0, 8.0], strikes=(1, 3)), **TOKENLESS_BASE)
    )
    table = boundary_table(f)
    for column, verb, at in (
        ("deterrence (simulated)", "deters", 5.0),
        ("participation (simulated)", "pays", 3.0),
    ):
        for text in table[column]:
            assert text.startswith(f"{verb} from ") and text.endswith(" on") and "rising" not in text, text
            assert float(text.split()[2]) == pytest.approx(at, abs=0.1)


def test_a_token_slash_map_words_participation_as_an_upper_bound(tmp_path):
    from analysis.report.page import boundary_table

    from .test_findings import XS, Y, synthetic_runs

    points = grid_points({SLASH: XS, Y: [800, 1600]})
    f = analyze(
        write_results(
            tmp_path, synthetic_runs(points, lambda p, d, m: p[SLASH] - 0.3, lambda p, d, m: 0.8 - p[SLASH])
        )
    )
    table = boundary_table(f)
    for column, words, at in (
        ("deterrence (simulated)", "deters from", 0.3),
        ("participation (simulated)", "pays up to", 0.8),
    ):
        for text in table[column]:
            assert text.startswith(words) and text.endswith(" on") == (words == "deters from"), text
            assert float(text.split()[3 if words == "pays up to" else 2]) == pytest.approx(at, abs=0.03)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(list(theory.CLOSED_FORM_AXES)),
    st.sampled_from(["deterrence", "participation"]),
    st.one_of(st.floats(-10.0, 2e6), st.sampled_from([-math.inf, math.inf])),
)
def test_an_analytic_bound_says_where_it_holds_in_its_axis_s_own_range(x, bound, value):
    """A bound inside the range the axis can take is a number on the side where the margin holds; one
    outside says the margin holds at every level of the axis or at none — by whether it is a lower
    or an upper bound on that axis, never by the slash fraction's [0, 1]."""
    from analysis.report.page import _analytic_text

    axis = theory.CLOSED_FORM_AXES[x]
    lower = bound == "deterrence" or axis.participation_lower
    text = _analytic_text(value, bound, x)
    noun = "slash fraction" if x == SLASH else "service fee"
    if axis.low <= value <= axis.high:
        assert text.split()[1] == ("from" if lower else "up"), text
    elif (value < axis.low) == lower:  # a lower bound below the range, an upper one above it
        assert f"at every {noun}" in text, text
    else:
        assert f"at no {noun}" in text, text
    assert ("bound > 1" in text) == (x == SLASH and 1 < value < math.inf)


def kept_runs(kept: dict[str, float], fee_levels=(1.0, 2.0, 4.0, 6.0, 8.0)) -> pd.DataFrame:
    """Two tokenless designs along the fee, each starting with 90 trainer owners and keeping
    ``kept[design]`` of them to the end; the first design's cheaters earn 1 fiat less, so its margins
    are the larger."""
    parts = []
    for i, (design, final) in enumerate(kept.items()):
        runs = fee_runs(fee_levels, seed=i).assign(design=design, trainer_owners_initial=90.0)
        runs["trainer_owners_retained"] = final + np.where(runs["replication"] % 2 == 0, 1.0, -1.0)
        runs["trainer_owners_final"] = runs["trainer_owners_retained"] + 5.0  # entrants: not kept owners
        runs["profit_fiat_per_round_lazy"] -= 1.0 if i == 0 else 0.0
        parts.append(runs)
    return pd.concat(parts, ignore_index=True)


def test_each_design_says_how_many_trainer_owners_it_keeps_and_an_emptied_one_is_not_ranked_better(tmp_path):
    """Review of issue 9, defect 3: "ejected for good" had the larger margins and was read as the
    better design, while 87 of its 90 trainer owners were out by the end."""
    kept = {"ejected for good": 3.0, "re-apply under a new identity": 60.0}
    runs = kept_runs(kept)
    f = analyze(write_results(tmp_path, runs, designs=list(kept), **TOKENLESS_BASE))
    table = f.comparison.set_index("design")
    verdicts = f.classified.set_index(["design", FEE])["honesty"]
    for design, final in kept.items():
        mine = runs[runs["design"] == design]
        dominating = mine[[verdicts[(design, fee)] == dominance.DOMINATES for fee in mine[FEE]]]
        expected = {"all": mine, "where_dominates": dominating}
        for where, rows in expected.items():
            share = rows["trainer_owners_retained"].mean() / rows["trainer_owners_initial"].mean()
            assert table.loc[design, f"trainer_owners_kept_share_{where}"] == pytest.approx(share)
            assert share == pytest.approx(final / 90, abs=0.02)
    lead = next(line for line in f.summary if line.startswith("Designs compared"))
    percent = {d: f"{100 * table.loc[d, 'trainer_owners_kept_share_all']:.0f} %" for d in kept}
    for design in kept:
        assert (
            f"{design} at " in lead and f"it keeps {percent[design]} of its trainer owners to the end" in lead
        )
    best = next(line for line in f.summary if line.startswith("The largest worst-mix lower bound"))
    emptied = f"but ejected for good keeps only {percent['ejected for good']}"
    assert best.index("under ejected for good") < best.index(emptied)
    assert f"fewer than {KEEPS_TRAINERS:.0%}".replace("%", " %") in best
    assert_readable(f.summary)
    # the design that keeps its owners is not warned about
    kept = {"re-apply under a new identity": 60.0, "ejected for good": 3.0}
    f = analyze(write_results(tmp_path / "swapped", kept_runs(kept), designs=list(kept), **TOKENLESS_BASE))
    assert not any("keeps only" in line for line in f.summary)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), min_size=1, max_size=12))
def test_the_kept_share_is_the_mean_retained_over_the_mean_initial_trainer_owners(owners):
    """Of the starting owners, those still in: entrants (in trainer_owners_final) do not count."""
    initial, final = (np.array(c, float) for c in zip(*owners, strict=True))
    runs = pd.DataFrame(
        {
            "trainer_owners_initial": initial,
            "trainer_owners_retained": final,
            "trainer_owners_final": final + 7,
        }
    )
    share = kept_share(runs)
    if initial.sum() == 0:
        assert math.isnan(share)
    else:
        assert share == pytest.approx(final.sum() / initial.sum())
    assert math.isnan(kept_share(runs.iloc[:0])) and math.isnan(kept_share(runs[["trainer_owners_retained"]]))


# -- an axis a regime ignores ------------------------------------------------------------------------
def test_no_safe_slashing_band_and_no_boundary_is_read_where_the_slash_does_not_act(regime_axis):
    """Review of issue 9, defect 7: tokenless points along the slash fraction got a "safe slashing
    band" and sentences about the slash fraction, which does not move them."""
    directory, _ = regime_axis
    f = analyze(directory)
    assert set(f.safe_bands[KIND]) == {"token"}
    assert (f.comparison["safe_band_levels"] == 1).all()  # the token level of each design only
    idle = [line for line in f.summary if "does not act" in line]
    assert len(idle) == len(f.designs)
    assert all("With regime = tokenless, the slash fraction does not act" in line for line in idle)
    assert not any("regime = tokenless, along the slash fraction" in line for line in f.summary)
    assert any("regime = token, along the slash fraction" in line for line in f.summary)


def test_which_sections_each_regime_ignores():
    assert ignores("tokenless", SLASH) and ignores("tokenless", "staking.min_trainer_stake_tokens")
    assert not ignores("tokenless", FEE) and not ignores("tokenless", "detection.false_positive_rate")
    assert ignores("token", FEE) and not ignores("token", SLASH) and not ignores("token", KIND)


# -- switches read as TOML writes them ----------------------------------------------------------------
def test_a_switch_axis_reads_true_and_false_in_sentences_tables_and_the_analyze_table(tmp_path):
    """Review of issue 9, defect 15: a boolean level printed as 0 / 1 in sentences and True / False in
    tables; a scenario file writes ``false`` / ``true``."""
    from analysis.cli import table_text
    from analysis.findings import findings_table
    from analysis.report.page import build_report

    runs = fee_runs([1.0, 4.0, 8.0], others={"regime.ban_forever": [False, True]})
    f = analyze(write_results(tmp_path, runs, **TOKENLESS_BASE))
    assert f.categorical == ["regime.ban_forever"]
    text = " ".join(f.summary)
    assert "ban forever = false" in text and "ban forever = true" in text
    assert "ban forever = 0" not in text and "ban forever = 1" not in text
    assert re.search(r"\bFalse\b|\bTrue\b", table_text(findings_table(f))) is None
    assert "false" in table_text(findings_table(f))
    page = build_report(f)
    thresholds = page[page.index('id="thresholds"') : page.index('id="payoffs"')]
    assert '<td class="text">false</td>' in thresholds and '<td class="text">true</td>' in thresholds
    assert ">False<" not in thresholds and ">True<" not in thresholds
