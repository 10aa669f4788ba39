"""The sustainability analysis: the token economy's KPIs per point, honesty after halvings, the report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import dominance, sustainability
from analysis.findings import analyze
from analysis.report.page import build_report
from analysis.sweep.engine import run_sweep
from analysis.sweep.sweepfile import load_sweep

from .sweeps import write_sweep

X = "slashing.slash_fraction"
#: Student t's 95 % quantile with 2 degrees of freedom, from the printed tables.
T_95_2 = 2.919986


def outcomes(points: dict, mix: str = "base", reps: int = 3, **constant) -> pd.DataFrame:
    """Runs shaped like a sweep's outcomes: ``points`` maps a slash fraction to per-replication columns
    (lists of length ``reps``) or scalars; ``constant`` holds columns shared by every run. Honest
    trainers earn 0.01 per round and lazy ones 0 unless a column says otherwise; the price is fixed at 1."""
    rows = []
    for point, (x, columns) in enumerate(points.items()):
        for rep in range(reps):
            row = {
                "run_id": f"{mix}-{point}-{rep}",
                "point": point,
                "mix": mix,
                "replication": rep,
                "status": "ok",
                X: x,
                "pi_honest": 0.01,
                "pi_lazy": 0.0,
                "final_price_fiat": 1.0,
                "min_price_fiat": 1.0,
                "mean_price_fiat": 1.0,
            }
            row |= constant
            row |= {k: v[rep] if isinstance(v, list | tuple | np.ndarray) else v for k, v in columns.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def after_halving(margins, pi_honest=0.05, k: int = 1) -> dict:
    """The columns of runs that reached halving ``k`` at round 100, with these margins after it."""
    return {
        f"halving_{k}_round": 100.0,
        f"margin_trainers_after_halving_{k}": list(margins),
        f"pi_honest_after_halving_{k}": pi_honest,
    }


def verdict(runs: pd.DataFrame, k: int = 1, outside_option: float = 0.0) -> list[str]:
    per_mix = sustainability.point_statistics(runs, outside_option)
    return list(sustainability.classify_halvings(per_mix, runs)[f"after_halving_{k}"])


# -- whether the sweep ran an economy ----------------------------------------------------------------
def test_a_fixed_price_without_users_or_halvings_is_no_economy():
    fixed = outcomes({0.1: {}}, fees_fiat_per_round=math.nan, claims_filed_fiat=math.nan)
    assert not sustainability.economy_present(fixed)
    old = fixed.drop(columns=["final_price_fiat", "min_price_fiat", "mean_price_fiat"])  # an older sweep
    assert not sustainability.economy_present(old)
    assert not sustainability.analyze_sustainability(fixed)


@pytest.mark.parametrize(
    "columns",
    [
        {"min_price_fiat": 0.7},  # a market moved the price
        {"mean_price_fiat": 1.2},
        {"fees_fiat_per_round": 3.0},
        {"queries_per_round": 50.0},
        {"claims_filed_fiat": 4.0},
        {"halving_1_round": 40.0},
    ],
)
def test_any_mechanism_of_the_economy_makes_it_present(columns):
    assert sustainability.economy_present(outcomes({0.1: columns}))


def test_failed_runs_do_not_make_an_economy():
    runs = outcomes({0.1: {"fees_fiat_per_round": [5.0, math.nan, math.nan]}})
    runs.loc[0, "status"] = "failed"
    assert not sustainability.economy_present(runs)


# -- honesty after a halving ------------------------------------------------------------------------
def test_the_verdict_flips_exactly_where_the_lower_bound_crosses_zero():
    half = stats.t.ppf(0.95, 2) / math.sqrt(3)  # margins μ − 1, μ, μ + 1: sd 1, n 3
    for mu, expected in (
        (half * (1 + 1e-9), dominance.DOMINATES),
        (half * (1 - 1e-9), dominance.UNCERTAIN),
        (-half * (1 - 1e-9), dominance.UNCERTAIN),
        (-half * (1 + 1e-9), dominance.FAILS),
    ):
        runs = outcomes({0.1: after_halving([mu - 1, mu, mu + 1])})
        assert verdict(runs) == [expected], mu


@settings(max_examples=40, deadline=None)
@given(mu=st.floats(-5.0, 5.0))
def test_the_verdict_follows_the_one_sided_t_bounds(mu):
    half = T_95_2 / math.sqrt(3)
    assume(abs(abs(mu) - half) > 1e-5)  # the table's quantile has 7 digits
    runs = outcomes({0.1: after_halving([mu - 1, mu, mu + 1])})
    expected = dominance.DOMINATES if mu > half else dominance.FAILS if mu < -half else dominance.UNCERTAIN
    assert verdict(runs) == [expected]


def test_honest_work_must_still_pay_the_outside_option_after_the_halving():
    runs = outcomes({0.1: after_halving([1.0, 1.1, 1.2], pi_honest=0.002)})
    assert verdict(runs, outside_option=0.002) == [dominance.DOMINATES]  # pays exactly ω: enough
    assert verdict(runs, outside_option=0.0021) == [dominance.FAILS]  # every run below ω
    per_run = pd.Series(0.0021, index=runs.index)  # ω per run, as the findings pass it
    assert verdict(runs, outside_option=per_run) == [dominance.FAILS]


def test_the_worst_mix_decides_and_a_mix_without_cheaters_is_left_out():
    good = outcomes({0.1: after_halving([1.0, 1.1, 1.2])}, mix="good")
    noisy = outcomes({0.1: after_halving([-3.0, 1.0, 5.0])}, mix="noisy")
    assert verdict(pd.concat([good, noisy], ignore_index=True)) == [dominance.UNCERTAIN]
    honest_only = outcomes({0.1: after_halving([math.nan] * 3)}, mix="honest-only", pi_lazy=math.nan)
    assert verdict(pd.concat([good, honest_only], ignore_index=True)) == [dominance.DOMINATES]
    assert verdict(honest_only) == [dominance.UNCERTAIN]  # no mix where the question arises


def test_no_halving_is_said_and_a_mix_that_never_halved_keeps_the_point_from_dominating():
    never = outcomes({0.1: {"halving_1_round": math.nan, "margin_trainers_after_halving_1": math.nan}})
    assert verdict(never) == [sustainability.NO_HALVING]
    assert verdict(never, k=2) == [sustainability.NO_HALVING]  # no column at all: none either
    halved = outcomes({0.1: after_halving([1.0, 1.1, 1.2])}, mix="halved")
    runs = pd.concat([halved, never.assign(mix="short")], ignore_index=True)
    assert verdict(runs) == [dominance.UNCERTAIN]
    one_run_short = outcomes(
        {0.1: after_halving([1.0, 1.1, 1.2]) | {"halving_1_round": [100.0, 90.0, np.nan]}}
    )
    per_mix = sustainability.point_statistics(one_run_short)
    assert per_mix["halving_1_runs"].tolist() == [2]
    assert per_mix["halving_1_round"].tolist() == [95.0]


def test_classified_points_follow_the_design_and_point():
    runs = outcomes({0.0: after_halving([-1.2, -1.1, -1.0]), 0.5: after_halving([1.0, 1.1, 1.2])})
    burn = runs.assign(design="burn")
    insure = runs.assign(design="insure", run_id=runs["run_id"] + "-i")
    insure[sustainability.MARGIN_AFTER.format(1)] *= -1
    both = pd.concat([burn, insure], ignore_index=True)
    table = sustainability.classify_halvings(sustainability.point_statistics(both), both)
    got = {(r.design, r[X]): r.after_halving_1 for _, r in table.iterrows()}
    assert got == {
        ("burn", 0.0): dominance.FAILS,
        ("burn", 0.5): dominance.DOMINATES,
        ("insure", 0.0): dominance.DOMINATES,
        ("insure", 0.5): dominance.FAILS,
    }


# -- the KPIs per point -------------------------------------------------------------------------------
def test_kpi_means_and_intervals_over_replications():
    runs = outcomes({0.1: {"fees_fiat_per_round": [2.0, 4.0, 6.0], "min_price_fiat": 0.5}})
    row = sustainability.point_statistics(runs).iloc[0]
    half = stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3)  # sd 2
    assert row["fees_fiat_per_round_mean"] == pytest.approx(4.0)
    assert row["fees_fiat_per_round_low"] == pytest.approx(max(4.0 - half, 0.0))  # fees are never negative
    assert row["fees_fiat_per_round_high"] == pytest.approx(4.0 + half)
    assert row["fees_fiat_per_round_n"] == 3
    assert row["price_moved"] == 1.0
    assert row["claims_filed_fiat_n"] == 0 and math.isnan(row["claims_filed_fiat_mean"])  # insurance off


def test_coverage_is_the_mean_of_runs_that_filed_and_the_pool_pays_its_share_of_all_claims():
    claims = {
        "claims_filed_fiat": [10.0, 30.0, 0.0],
        "claims_paid_fiat": [10.0, 3.0, 0.0],
        "claims_unpaid_fiat": [0.0, 27.0, 0.0],
        "coverage_ratio": [1.0, 0.1, math.nan],  # nothing filed: no ratio
        "insolvent_rounds": [0.0, 4.0, 0.0],
    }
    runs = outcomes({0.1: claims})
    row = sustainability.point_statistics(runs).iloc[0]
    assert row["coverage_ratio_mean"] == pytest.approx(0.55)
    assert row["coverage_ratio_n"] == 2
    assert row["coverage_ratio_low"] >= 0.0 and row["coverage_ratio_high"] <= 1.0  # a share stays a share
    assert sustainability.coverage(runs) == pytest.approx(13.0 / 40.0)
    found = sustainability.analyze_sustainability(runs)
    insurance = [s for s in found.sentences if "insurance" in s]
    assert insurance and "paid 32.5 % of them" in insurance[0]


def test_no_claim_filed_is_said_in_words():
    runs = outcomes({0.1: {"claims_filed_fiat": 0.0, "claims_paid_fiat": 0.0, "fees_fiat_per_round": 1.0}})
    assert math.isnan(sustainability.coverage(runs))
    assert (
        "No user filed an insurance claim in any run."
        in sustainability.analyze_sustainability(runs).sentences
    )


# -- in plain words -----------------------------------------------------------------------------------
def test_sentences_count_the_points_after_each_halving_and_read_the_price():
    runs = outcomes(
        {
            0.0: after_halving([-1.2, -1.1, -1.0]) | {"final_price_fiat": [0.30, 0.31, 0.32]},
            0.2: after_halving([1.0, 1.1, 1.2]) | after_halving([-1.2, -1.1, -1.0], k=2),
            0.4: after_halving([1.0, 1.1, 1.2]) | after_halving([1.0, 1.1, 1.2], k=2),
        },
        min_price_fiat=0.25,
    )
    manifest = {"base_scenario": {"token": {"price_fiat": 1.0}}}
    found = sustainability.analyze_sustainability(runs, manifest)
    halving, price = found.sentences[0], found.sentences[1]
    assert halving.startswith("At 2 of 3 points honesty still dominates after the first halving (fails at 1)")
    assert "at 1 of the 2 that reached it after the second (fails at 1)" in halving
    assert "ends below its opening price at 1 of 3 points" in price
    assert "0.31 fiat per token against 1 at the opening" in price and "slash fraction = 0" in price
    for text in found.sentences:
        assert "nan" not in text and "inf" not in text


def test_without_a_halving_the_sentence_says_it_was_not_tested():
    runs = outcomes({0.1: {"fees_fiat_per_round": 2.0}})
    found = sustainability.analyze_sustainability(runs)
    assert found.sentences[0].startswith("No run reached its first halving")
    assert (found.classified["after_halving_1"] == sustainability.NO_HALVING).all()


# -- the report ----------------------------------------------------------------------------------------
NO_ECONOMY = """
[[parameters]]
path = "slashing.slash_fraction"
values = [0.0, 0.3]
"""


def test_a_sweep_without_the_economy_has_no_sustainability_section(tmp_path):
    header = '[sweep]\nbase = "{}"\ndesign = "grid"\nreplications = 2\nseed = 3\ntrajectories = true\n'
    from .conftest import BASELINE

    out = tmp_path / "out"
    run_sweep(
        load_sweep(write_sweep(tmp_path, NO_ECONOMY, header=header.format(BASELINE))), out, progress=False
    )
    f = analyze(out)
    assert f.sustainability is None
    html = build_report(f)
    assert 'id="rounds"' in html and 'id="sustainability"' not in html


#: A market price moved by speculators, users paying fees and filing claims, and emission halving at
#: 8,000 and 12,000 tokens issued (1,000 tokens a round: rounds 8 and 16 of 20).
ECONOMY = """
"token.price_model" = "market"
"market.speculative_flow_sd_fiat" = 50.0
"fees.queries_per_round" = 200.0
"fees.fee_per_query_fiat" = 0.5
"insurance.claim_fiat_per_query" = 0.2
"emission.schedule" = "halving"
"emission.halving_supply_cap_tokens" = 16000.0
"""


def economy_sweep(directory, trajectories: bool):
    from .conftest import BASELINE

    header = (
        f'[sweep]\nbase = "{BASELINE}"\ndesign = "grid"\nreplications = 2\nseed = 3\n'
        f"trajectories = {'true' if trajectories else 'false'}\n"
    )
    out = directory / "out"
    run_sweep(load_sweep(write_sweep(directory, ECONOMY + NO_ECONOMY, header=header)), out, progress=False)
    return out


def test_a_sweep_with_the_economy_reports_its_sustainability_with_the_economy_round_by_round(tmp_path):
    from analysis.report.page import SECTION_START, report_sections

    f = analyze(economy_sweep(tmp_path, trajectories=True))
    s = f.sustainability
    assert s is not None
    assert s.per_mix["price_moved"].gt(0).all() and s.per_mix["fees_fiat_per_round_n"].gt(0).all()
    assert (s.classified["halving_1_runs"] == 2).all() and (s.classified["halving_2_runs"] == 2).all()
    assert set(s.classified["after_halving_1"]) <= {dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS}
    assert set(s.sentences) <= set(f.summary)
    ids = [SECTION_START.match(text).group(1) for text in report_sections(f)]
    assert ids.index("sustainability") == ids.index("rounds") + 1  # in the combined report too
    html = build_report(f)
    section = html[html.index('<section id="sustainability">') :]
    section = section[: section.index("</section>")]
    assert 'alt="token economy round by round"' in section and "data:image/png;base64," in section
    assert 'download="sustainability.csv"' in section and 'download="economy-rounds.csv"' in section
    assert "after the first halving" in section and "after the second halving" in section


def test_without_trajectories_the_section_says_why_there_is_no_figure(tmp_path):
    html = build_report(analyze(economy_sweep(tmp_path, trajectories=False)))
    section = html[html.index('<section id="sustainability">') :]
    section = section[: section.index("</section>")]
    assert "kept no round-by-round trajectories" in section and "<img" not in section


def test_with_designs_the_economy_is_drawn_at_each_designs_own_points(tmp_path):
    """A fixed price beside a market: the round-by-round figure draws both designs, not only the first
    (whose price is flat)."""
    from analysis.report.views import economy_picks

    from .conftest import BASELINE

    header = (
        f'[sweep]\nbase = "{BASELINE}"\ndesign = "grid"\nreplications = 2\nseed = 3\ntrajectories = true\n'
    )
    designs = '\n[designs."fixed price"]\n"token.price_model" = "fixed"\n\n[designs.market]\n'
    out = tmp_path / "out"
    run_sweep(
        load_sweep(write_sweep(tmp_path, ECONOMY + NO_ECONOMY + designs, header=header)), out, progress=False
    )
    f = analyze(out)
    picks = economy_picks(f)
    drawn = {label.split(":")[0] for label, _ in picks}
    assert drawn == {"fixed price", "market"}
    # What the market's emission cost is each round's tokens at that round's price, not the opening one.
    from analysis.comparison import compare_designs

    costs = compare_designs(f).set_index("design")["emitted_fiat_per_round_all"]
    market = f.results[(f.results["design"] == "market") & (f.results["status"] == "ok")]
    assert costs["market"] == pytest.approx(market["network_cost_fiat_per_round"].mean())
    assert costs["market"] != pytest.approx(costs["fixed price"])


def test_participation_rises_along_the_users_fees():
    from analysis import boundaries

    for axis in ("fees.fee_per_query_fiat", "fees.queries_per_round"):
        assert boundaries.named_for(axis)["participation"][1] == boundaries.RISING


# -- review fixes -----------------------------------------------------------------------------------
def test_the_price_sentences_count_only_points_a_market_priced():
    """A point at a fixed price (the price 'moved' nowhere) is no evidence that the price held."""
    runs = outcomes(
        {
            0.0: {"final_price_fiat": [0.30, 0.31, 0.32], "min_price_fiat": 0.25, "honest_share_final": 0.2},
            0.2: {"honest_share_final": 0.9},  # fixed: 1, 1, 1
        },
        fees_fiat_per_round=2.0,
    )
    manifest = {"base_scenario": {"token": {"price_fiat": 1.0}}}
    found = sustainability.analyze_sustainability(runs, manifest)
    price = next(s for s in found.sentences if "opening price" in s)
    assert "ends below its opening price at 1 of 1 point " in price
    assert not any("Where the price fell" in s for s in found.sentences)  # no market point where it held


def test_one_point_that_reached_the_halving_is_said_in_words():
    runs = outcomes({0.0: after_halving([1.0, 1.1, 1.2]), 0.2: {}})
    halving = sustainability.analyze_sustainability(runs).sentences[0]
    assert halving.startswith(
        "At the one point that reached the first halving honesty still dominates after it"
    )
    both = after_halving([-1.0, 0.5, 2.0]) | after_halving([-1.0, 0.5, 2.0], k=2)
    halving = sustainability.analyze_sustainability(outcomes({0.0: both, 0.2: {}})).sentences[0]
    assert "reached the first halving honesty is uncertain after it" in halving
    assert "at the one point that reached the second halving honesty is uncertain after it" in halving


def test_a_tokenless_design_is_said_to_have_no_token():
    token = outcomes({0.0: after_halving([1.0, 1.1, 1.2])}, design="token", regime="token")
    tokenless = outcomes({0.0: {}}, design="federation", regime="tokenless", pi_honest=math.nan)
    runs = pd.concat([token, tokenless.assign(point=1, run_id=lambda d: "t" + d["run_id"])])
    found = sustainability.analyze_sustainability(runs, designs=["token", "federation"])
    said = [s for s in found.sentences if s.startswith("Design federation")]
    assert said == [
        "Design federation: The tokenless regime has no token: no price, fees, claims or halvings."
    ]


def test_a_swept_queries_per_round_keeps_its_column_beside_the_measured_queries(tmp_path):
    from analysis.report.page import _sustainability_table

    from .conftest import BASELINE

    header = f'[sweep]\nbase = "{BASELINE}"\ndesign = "grid"\nreplications = 2\nseed = 3\n'
    body = (
        '\n"token.price_model" = "market"\n"fees.fee_per_query_fiat" = 0.5\n'
        '\n[[parameters]]\npath = "fees.queries_per_round"\nvalues = [0.0, 500.0]\n'
    )
    out = tmp_path / "out"
    run_sweep(load_sweep(write_sweep(tmp_path, body, header=header)), out, progress=False)
    table = _sustainability_table(analyze(out))
    assert list(table["queries per round"]) == [0.0, 500.0]
    assert "users' queries per round" in table
