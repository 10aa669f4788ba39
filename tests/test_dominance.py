"""Dominance per design: margins, bounds and bands per point, verdicts robust over a design's mixes."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import dominance


def test_classify_carries_two_sided_band_columns():
    runs = pd.DataFrame(
        {
            "mix": "base",
            "status": "ok",
            "slashing.slash_fraction": 0.1,
            "pi_honest": [1.0, 2.0, 3.0],
            "pi_lazy": 0.0,
            "margin_validators": 0.0,
        }
    )
    row = dominance.classify(runs).iloc[0]
    half_one, half_two = 1.0 * 2.919986 / math.sqrt(3), 1.0 * 4.302653 / math.sqrt(3)
    assert row["trainers_lower"] == pytest.approx(2.0 - half_one)
    assert row["trainers_band_lower"] == pytest.approx(2.0 - half_two)
    assert row["trainers_band_upper"] == pytest.approx(2.0 + half_two)


def runs_for(design: str, mix: str, margins: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "design": design,
            "mix": mix,
            "status": "ok",
            "slashing.slash_fraction": 0.2,
            "pi_honest": 1.0,
            "pi_lazy": [1.0 - m for m in margins],
            "margin_validators": 0.0,
        }
    )


def test_each_design_is_classified_on_its_own_mixes():
    runs = pd.concat(
        [
            runs_for("a", "m1", [0.5, 0.6, 0.55]),
            runs_for("a", "m2", [0.4, 0.5, 0.45]),
            runs_for("b", "m1", [0.5, 0.6, 0.55]),
            runs_for("b", "m2", [-0.4, -0.5, -0.45]),  # design b fails under its mix m2
        ],
        ignore_index=True,
    )
    c = dominance.classify(runs).set_index("design")
    assert c.loc["a", "trainers"] == dominance.DOMINATES and c.loc["b", "trainers"] == dominance.FAILS
    assert c.loc["a", "trainers_mean"] == pytest.approx(0.45) and c.loc["b", "mixes"] == 2
    one_mix_missing = runs[~((runs["design"] == "a") & (runs["mix"] == "m2"))]
    assert dominance.classify(one_mix_missing).set_index("design").loc["a", "trainers"] == dominance.UNCERTAIN


def test_outside_option_per_run_enters_the_participation_margin():
    runs = pd.concat(
        [runs_for("base", "m1", [1.0] * 3), runs_for("base", "m2", [1.0] * 3)], ignore_index=True
    )
    runs["pi_honest"] = [0.1, 0.11, 0.12] * 2
    per_run = pd.Series([0.0] * 3 + [0.2] * 3, index=runs.index)
    c = dominance.classify(runs, outside_option=per_run).iloc[0]
    assert c["participation"] == dominance.FAILS and c["participation_mean"] == pytest.approx(0.11 - 0.2)
    assert dominance.classify(runs, outside_option=0.0).iloc[0]["participation"] == dominance.DOMINATES


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), *[st.floats(-1, 1) | st.just(math.nan)] * 3),
        min_size=1,
        max_size=30,
    )
)
def test_vectorised_trainer_margins_match_the_per_group_definition(rows):
    runs = pd.DataFrame(rows, columns=["point", "pi_lazy", "pi_sybil", "pi_poisoning"]).assign(pi_honest=0.5)
    together = dominance.trainer_margins(runs, ["point"])
    for _, group in runs.groupby("point"):
        expected = dominance.margin_samples(group)
        assert together[group.index].to_numpy() == pytest.approx(expected.to_numpy(), nan_ok=True)
        means = group[["pi_lazy", "pi_sybil", "pi_poisoning"]].mean()
        if means.notna().any():
            best = means.idxmax()
            assert expected.to_numpy() == pytest.approx((0.5 - group[best]).to_numpy(), nan_ok=True)
        else:
            assert expected.isna().all()


# -- review 2: a mix without the deviation is left out of that margin's worst case ---------------
def test_a_mix_without_any_cheating_strategy_is_left_out_of_the_trainers_worst_case():
    usual = runs_for("base", "usual", [0.5, 0.6, 0.55])
    all_honest = runs_for("base", "all-honest", [0.0] * 3).assign(pi_lazy=math.nan)
    per_mix = dominance.point_statistics(pd.concat([usual, all_honest], ignore_index=True)).set_index("mix")
    assert per_mix.loc["all-honest", "trainers_absent"] and not per_mix.loc["usual", "trainers_absent"]
    c = dominance.classify(pd.concat([usual, all_honest], ignore_index=True)).iloc[0]
    alone = dominance.classify(usual).iloc[0]
    assert c["trainers"] == dominance.DOMINATES and c["mixes"] == 2
    assert c["trainers_lower"] == pytest.approx(alone["trainers_lower"])  # finite, not −inf
    assert c["trainers_band_upper"] == pytest.approx(alone["trainers_band_upper"])


def test_a_mix_with_no_value_for_another_reason_still_keeps_a_point_from_dominating():
    usual = runs_for("base", "usual", [0.5, 0.6, 0.55])
    no_capital = runs_for("base", "no-capital", [0.0] * 3).assign(pi_lazy=math.nan, pi_honest=math.nan)
    c = dominance.classify(pd.concat([usual, no_capital], ignore_index=True)).iloc[0]
    assert c["trainers"] == dominance.UNCERTAIN and c["trainers_lower"] == -math.inf


def test_a_margin_absent_under_every_mix_is_uncertain_without_numbers():
    c = dominance.classify(runs_for("base", "all-honest", [0.0] * 3).assign(pi_lazy=math.nan)).iloc[0]
    assert c["trainers"] == dominance.UNCERTAIN and math.isnan(c["trainers_mean"])
    assert (c["trainers_lower"], c["trainers_upper"]) == (-math.inf, math.inf)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=2, max_size=6), st.integers(1, 4))
def test_adding_a_mix_without_the_deviation_changes_no_trainers_verdict(margins, n_honest_runs):
    usual = runs_for("base", "usual", margins)
    all_honest = runs_for("base", "all-honest", [0.0] * n_honest_runs).assign(pi_lazy=math.nan)
    columns = ["trainers", *(f"trainers_{s}" for s in dominance.STATISTICS)]
    alone = dominance.classify(usual)[columns]
    both = dominance.classify(pd.concat([usual, all_honest], ignore_index=True))[columns]
    pd.testing.assert_frame_equal(alone, both)
