"""The analysis in each regime: payoffs, participation, the regime column and the tokenless closed form.

Token runs are compared on profit per round per unit of capital (``pi_<s>``) against the outside
option ω; tokenless runs commit no capital, so they are compared on fiat profit per owner per round
(``profit_fiat_per_round_<s>``) against 0. Synthetic results frames check the arithmetic; small
real sweeps check the whole chain (sweep → results with a ``regime`` column → findings).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import boundaries, dominance, theory
from analysis.findings import analyze
from analysis.settings import payoff_column, regime_per_run, with_payoffs
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


def fee_runs(fee_levels, strikes=(None,), reps=5, seed=0) -> pd.DataFrame:
    """Tokenless runs whose honest profit is ``2·fee − 6`` (zero at a fee of 3) and whose lazy
    deviation earns ``fee − 1`` (honest out-earns it from a fee of 5), plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    levels = {FEE: list(fee_levels)} | ({STRIKES: list(strikes)} if strikes != (None,) else {})
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
