"""Token or tokenless: the regime comparison (``analysis.regimes``) and the report of several sweeps.

The comparison is checked on synthetic findings whose verdicts and payoffs are set by hand — both
directions of the thesis, both, neither — and on real small sweeps run through the command line:
a side-by-side sweep over ``regime.kind`` (fixed strategies and owners that adapt), a token map and
a tokenless map, reported on one page that a real browser renders.
"""

from __future__ import annotations

import html
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import regimes
from analysis.findings import Findings, analyze
from analysis.report.page import build_combined_report, build_report, regimes_section

from .browser import render
from .conftest import ROOT

FEDSTAKE = Path(sys.executable).with_name("fedstake")
ARTIFACTS = ROOT / "reports" / "test-artifacts"
TOKENLESS_BASE = ROOT / "scenarios" / "baseline-tokenless.toml"
TOKEN_BASE = ROOT / "scenarios" / "baseline.toml"
STRATEGIES = ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator")
FIXED, ADAPT = "fixed strategies", "agents adapt"
D, U, F = "dominates", "uncertain", "fails"


# -- synthetic findings ------------------------------------------------------------------------------
def side_by_side(
    profits: dict[str, dict[str, float]],
    verdicts: dict[str, tuple[str, str, str]],
    *,
    shares: dict[str, float] | None = None,
    reps: int = 6,
    mixes: tuple[str, ...] = ("base", "many-cheaters"),
    rounds: int = 400,
    seed: int = 0,
) -> Findings:
    """The findings of a sweep over ``regime.kind`` with fixed strategies (and, given ``shares``, a
    design whose owners adapt), built by hand.

    ``profits[regime][strategy]``: mean fiat profit per owner per round (NaN: no owner); per unit of
    capital the token runs earn a hundredth of it. ``verdicts[regime]``: (honesty, trainers,
    participation) of the fixed-strategy point. ``shares[regime]``: mean final honest share where
    owners adapt.
    """
    rng = np.random.default_rng(seed)
    designs = [FIXED, *([ADAPT] if shares else [])]
    rows, run = [], 0
    for design in designs:
        for regime in regimes.REGIMES:
            for mix in mixes:
                for rep in range(reps):
                    row = {
                        "run_id": run,
                        "point": 0,
                        "design": design,
                        "mix": mix,
                        "replication": rep,
                        "seed": rep,
                        "status": "ok",
                        "error": "",
                        "regime.kind": regime,
                    }
                    for s in STRATEGIES:
                        fiat = profits[regime].get(s, math.nan) + rng.normal(0, 0.2)
                        row[f"profit_fiat_per_round_{s}"] = fiat
                        row[f"pi_{s}"] = fiat / 100 if regime == regimes.TOKEN else math.nan
                    token = regime == regimes.TOKEN
                    row["final_quality"] = 0.9 + rng.normal(0, 0.01)
                    row["mean_quality"] = 0.8 + rng.normal(0, 0.01)
                    row["network_cost_fiat_per_round"] = (1000.0 if token else 550.0) + rng.normal(0, 5)
                    row["slashed_fiat_per_round"] = 40 + rng.normal(0, 1) if token else math.nan
                    row["minted_tokens"] = 1000.0 * rounds if token else math.nan
                    for kpi in ("fees_paid_fiat", "wages_paid_fiat", "kyc_paid_fiat"):
                        row[kpi] = math.nan if token else 100.0 * rounds + rng.normal(0, 50)
                    row["honest_trainer_share_initial"] = 0.75
                    adapting = design == ADAPT
                    mean = (shares or {}).get(regime, 0.75) if adapting else 0.75
                    row["honest_trainer_share_final"] = min(1.0, mean + rng.normal(0, 0.03))
                    rows.append(row)
                    run += 1
    adaptation = {"adaptation.revision": "imitation", "adaptation.exit_rule": "profit_threshold"}
    manifest = {
        "sweep_name": "token vs tokenless",
        "base_scenario": {"rounds": rounds},
        "designs": designs,
        "mixes": list(mixes),
        "design_overrides": {FIXED: {}, **({ADAPT: adaptation} if shares else {})},
        "mix_overrides": {m: {} for m in mixes},
    }
    classified = []
    for design in designs:
        for regime in regimes.REGIMES:
            honesty, trainers, participation = verdicts[regime]
            margin = {D: 1.0, U: 0.1, F: -1.0}[trainers]
            row = {"design": design, "regime.kind": regime, "honesty": honesty, "trainers": trainers}
            row |= {"participation": participation, "validators": D, "honesty_all": honesty}
            row |= {"trainers_mean": margin, "trainers_lower": margin - 0.4, "trainers_upper": margin + 0.4}
            row |= {"participation_mean": 2.0, "participation_lower": 1.5, "participation_upper": 2.5}
            if shares:
                row |= {"incentives": honesty, "adaptive": "not adaptive" if design == FIXED else D}
            classified.append(row)
    return Findings(
        directory=Path("results/study-regimes"),
        manifest=manifest,
        results=pd.DataFrame(rows),
        parameters=["regime.kind"],
        numeric=[],
        categorical=["regime.kind"],
        integer=[],
        designs=designs,
        shape="categorical",
        x=None,
        y=None,
        classified=pd.DataFrame(classified),
        per_mix=pd.DataFrame(),
        mixes=list(mixes),
    )


TOKEN_WINS = {
    regimes.TOKEN: {
        "honest": 3.7,
        "lazy": 1.9,
        "sybil": -14.0,
        "poisoning": -3.8,
        "honest_validator": 22.0,
        "copying_validator": 41.0,
    },
    regimes.TOKENLESS: {
        "honest": 2.1,
        "lazy": 2.6,
        "sybil": 1.0,
        "poisoning": -1.0,
        "honest_validator": 5.0,
        "copying_validator": 25.0,
    },
}
#: The same numbers with the regimes' roles swapped: without a token honesty pays, with one it does not.
TOKENLESS_WINS = {regimes.TOKEN: TOKEN_WINS[regimes.TOKENLESS], regimes.TOKENLESS: TOKEN_WINS[regimes.TOKEN]}


def test_a_token_win_is_reported_as_one_with_the_numbers_behind_it():
    f = side_by_side(
        TOKEN_WINS, {"token": (D, D, D), "tokenless": (F, F, D)}, shares={"token": 0.97, "tokenless": 0.55}
    )
    c = regimes.compare_regimes([f])
    thesis = c.summary[0]
    assert thesis == c.thesis and thesis.startswith("Token or tokenless, side by side on one network")
    assert "honesty dominates under the token regime and not under the tokenless one" in thesis
    assert "where a cheating strategy out-earns honest work" in thesis
    ok = f.results
    fixed = ok[ok["design"] == FIXED]
    # the best deviation by the regime's payoff is lazy in both regimes; the worst mix is the one
    # where honest work leads by least
    for regime in regimes.REGIMES:
        runs = fixed[fixed["regime.kind"] == regime]
        column = "pi_{}" if regime == regimes.TOKEN else "profit_fiat_per_round_{}"
        by_mix = runs.groupby("mix")[[column.format("honest"), column.format("lazy")]].mean()
        worst = (by_mix.iloc[:, 0] - by_mix.iloc[:, 1]).idxmin()
        profit = c.answers[regime].profit
        assert profit["mix"] == worst and profit["deviation"] == "lazy"
        honest = runs.loc[runs["mix"] == worst, "profit_fiat_per_round_honest"].mean()
        assert profit["honest"] == pytest.approx(honest)
        assert f"{honest:.3g}" in thesis
        cost = runs["network_cost_fiat_per_round"].mean()
        assert c.answers[regime].cost == pytest.approx(cost)
        assert f"{cost:,.0f}" in thesis
    # margins in each regime's unit: a token margin of 1.0 per unit of capital is 100 %
    assert "+100 % of capital per round" in thesis and "-1 fiat per owner per round" in thesis
    adapt = ok[(ok["design"] == ADAPT)]
    for regime in regimes.REGIMES:
        finals = adapt[adapt["regime.kind"] == regime].groupby("mix")["honest_trainer_share_final"].mean()
        assert c.answers[regime].share["mean"] == pytest.approx(finals.min())
        assert f"{100 * finals.min():.0f} %" in thesis
    assert "after 400 rounds" in thesis and "the network pays" in thesis


def test_a_tokenless_win_is_reported_as_a_tokenless_win():
    f = side_by_side(
        TOKENLESS_WINS, {"token": (F, F, D), "tokenless": (D, D, D)}, shares={"token": 0.5, "tokenless": 0.96}
    )
    thesis = regimes.compare_regimes([f]).thesis
    assert "honesty dominates under the tokenless regime and not under the token one" in thesis
    assert "under the token regime and not" not in thesis
    assert "-100 % of capital per round" in thesis and "+1 fiat per owner per round" in thesis


@pytest.mark.parametrize("token", [(D, D, D), (U, U, D), (F, F, D), (F, D, F)])
@pytest.mark.parametrize("tokenless", [(D, D, D), (U, D, U), (F, F, D), (F, D, F)])
def test_the_lead_of_the_thesis_follows_the_verdicts_whichever_way_they_come_out(token, tokenless):
    f = side_by_side(TOKEN_WINS, {"token": token, "tokenless": tokenless})
    thesis = regimes.compare_regimes([f]).thesis
    lead = thesis.split("): ", 1)[1].split(" — ")[0]
    wins = {r for r, v in (("token", token), ("tokenless", tokenless)) if v[0] == D}
    if wins == {"token", "tokenless"}:
        assert lead == "honesty dominates under both regimes"
    elif not wins:
        assert lead.startswith("honesty dominates under neither regime")
    else:
        (winner,) = wins
        loser = ({"token", "tokenless"} - wins).pop()
        assert lead.startswith(f"honesty dominates under the {winner} regime and not under the {loser} one")
    reasons = {
        (F, F, D): "a cheating strategy out-earns honest work",
        (F, D, F): "honest work",
        (U, U, D): "uncertain",
        (U, D, U): "uncertain",
    }
    for regime, verdict in (("token", token), ("tokenless", tokenless)):
        if verdict[0] != D:
            assert reasons[verdict] in lead, (regime, lead)
    if tokenless == (F, D, F) and "tokenless" not in wins:
        assert "honest work loses money" in lead  # tokenless: the outside option on no capital is 0


def test_profit_table_gives_means_with_student_t_intervals_and_says_who_has_no_owners():
    profits = {r: dict(p) for r, p in TOKEN_WINS.items()}
    profits[regimes.TOKENLESS]["sybil"] = math.nan  # no Sybil owner without a token
    f = side_by_side(profits, {"token": (D, D, D), "tokenless": (F, F, D)}, reps=7)
    table = regimes.compare_regimes([f]).profits
    runs = f.results[(f.results["regime.kind"] == "token") & (f.results["mix"] == "base")]
    values = runs["profit_fiat_per_round_honest"]
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    row = table[
        (table["regime"] == "token") & (table["mix"] == "base") & (table["strategy"] == "honest")
    ].iloc[0]
    assert (row["mean"], row["n"], row["status"]) == (pytest.approx(values.mean()), 7, regimes.VALUE)
    assert row["low"] == pytest.approx(values.mean() - half) and row["high"] == pytest.approx(
        values.mean() + half
    )
    sybil = table[(table["regime"] == "tokenless") & (table["strategy"] == "sybil")]
    assert set(sybil["status"]) == {regimes.NO_OWNERS} and sybil["mean"].isna().all()
    assert set(table["design"]) == {FIXED}  # profits compare fixed strategies only


def test_kpis_absent_by_design_are_marked_absent_not_zero_nor_a_dash():
    f = side_by_side(
        TOKEN_WINS, {"token": (D, D, D), "tokenless": (F, F, D)}, shares={"token": 0.9, "tokenless": 0.6}
    )
    f.results = f.results.drop(columns=["wages_paid_fiat"])  # results that never recorded a KPI
    c = regimes.compare_regimes([f])
    out = c.outcomes.set_index(["regime", "design", "mix", "kpi"])["status"]
    assert (out.xs("slashed_fiat_per_round", level="kpi").xs("tokenless") == regimes.ABSENT).all()
    assert (out.xs("fees_paid_fiat", level="kpi").xs("token") == regimes.ABSENT).all()
    assert (out.xs("minted_tokens", level="kpi").xs("tokenless") == regimes.ABSENT).all()
    assert (out.xs("fees_paid_fiat", level="kpi").xs("tokenless") == regimes.VALUE).all()
    # not recorded at all, and meaningful in the regime: missing data, said as such
    assert (out.xs("wages_paid_fiat", level="kpi").xs("tokenless") == regimes.NO_VALUE).all()
    page = regimes_section(c, [f])
    costs = page[page.index("What each regime costs the network") :]
    cells = re.findall(r"<tr>(.*?)</tr>", costs)
    token_rows = [r for r in cells if ">token<" in r]
    tokenless_rows = [r for r in cells if ">tokenless<" in r]
    assert token_rows and tokenless_rows
    for row in token_rows:  # fees, (wages,) KYC: absent with a token; slashes have a value
        values = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert values[-3:] == ["absent", "absent", "absent"], values
        assert values[-5] != "absent"
    for row in tokenless_rows:
        values = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert values[-5:-3] == ["absent", "absent"], values  # slashed and tokens emitted
        assert values[-2] == "–"  # wages were not recorded: missing, not absent
    assert regimes.absent_reason(regimes.TOKENLESS) in page


def test_without_a_side_by_side_sweep_the_maps_answer_and_one_regime_says_there_is_nothing_to_compare():
    token_map = map_findings("token", [D, D, F, U], "token map")
    tokenless_map = map_findings("tokenless", [F, F, D, F], "tokenless map")
    c = regimes.compare_regimes([token_map, tokenless_map])
    assert c.thesis.startswith("Token or tokenless: no sweep here runs both regimes")
    assert (
        "at 2 of 4 points (50%) of the token map and at 1 of 4 points (25%) of the tokenless map" in c.thesis
    )
    maps = c.maps.set_index("sweep")
    assert maps.loc["token map", ["dominates", "uncertain", "fails"]].tolist() == [2, 1, 1]
    # the largest worst-mix lower bound: token in % of capital (×100), tokenless in fiat
    assert maps.loc["token map", "best_lower"] == pytest.approx(100 * 0.4)
    assert maps.loc["tokenless map", "best_lower"] == pytest.approx(0.4)
    assert maps.loc["token map", "best_points"] == "slash fraction = 0.3"
    assert "slash fraction = 0.3" in c.summary[1]
    only = regimes.compare_regimes([token_map, map_findings("token", [D, D, D, D], "another")])
    assert only.thesis.startswith("Token or tokenless: every sweep here runs the token regime only")


def map_findings(regime: str, honesty: list[str], name: str) -> Findings:
    """A one-axis single-regime sweep with the given verdicts along x = 0.0, 0.1, …; its trainers'
    lower bound is largest (0.4) at the fourth point."""
    x = "slashing.slash_fraction" if regime == "token" else "regime.service_fee_fiat"
    levels = [round(0.1 * i, 1) for i in range(len(honesty))]
    lower = [-0.5, 0.1, 0.2, 0.4][: len(honesty)]
    results = pd.DataFrame(
        {
            "run_id": range(len(levels)),
            "point": range(len(levels)),
            "design": "base",
            "mix": "base",
            "replication": 0,
            "status": "ok",
            "error": "",
            x: levels,
            "regime": regime,
        }
    )
    classified = pd.DataFrame({"design": "base", x: levels, "honesty": honesty, "trainers_lower": lower})
    return Findings(
        directory=Path(f"results/{name}"),
        manifest={"sweep_name": name},
        results=results,
        parameters=[x],
        numeric=[x],
        categorical=[],
        integer=[],
        designs=["base"],
        shape="1-D",
        x=x,
        y=None,
        classified=classified,
        per_mix=pd.DataFrame(),
        mixes=["base"],
    )


def test_interval_text_reads_as_people_write_numbers():
    from analysis.report.elements import interval_text

    assert interval_text(3.6521, 3.5213, 3.7811) == "3.65 (3.52 to 3.78)"
    assert interval_text(-0.5, -0.81, -0.29) == "-0.5 (-0.81 to -0.29)"
    assert interval_text(1000.2, 999.9, 1000.4) == "1,000"  # an interval the digits cannot show
    assert interval_text(2.0, math.nan, math.nan) == "2"
    assert interval_text(math.nan, 0.0, 1.0) == "–"
    assert interval_text(0.873, 0.8, 0.95, scale=100.0) == "87.3 (80 to 95)"


# -- real sweeps, through the command line ----------------------------------------------------------------
SMALL = """
[fixed]
rounds = 40
"population.honest_trainers" = 12
"population.lazy_trainers" = 3
"population.sybil_owners" = 1
"population.poisoning_trainers" = 2
"population.honest_validators" = 3
"population.copying_validators" = 1
"costs.poison_gain_fiat_per_round" = 1.0
"dropout.validator_dropout_probability" = 0.0
"""
MIXES = """
[mixes.base]

[mixes.many-cheaters]
"population.honest_trainers" = 8
"population.lazy_trainers" = 6
"""
SWEEPS = {
    "regimes": f"""
[sweep]
name = "side by side"
base = "{TOKENLESS_BASE}"
replications = 3
seed = 3
trajectories = true
{SMALL}
[[parameters]]
path = "regime.kind"
values = ["token", "tokenless"]

[designs."fixed strategies"]

[designs."agents adapt"]
"adaptation.revision" = "imitation"
"adaptation.revision_interval_rounds" = 10
"adaptation.exit_rule" = "profit_threshold"
{MIXES}""",
    "token": f"""
[sweep]
name = "token map"
base = "{TOKEN_BASE}"
replications = 3
seed = 5
{SMALL}"staking.initial_liquid_tokens" = 20_000
"token.genesis_supply_tokens" = 10_000_000

[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.6
steps = 4

[[parameters]]
path = "emission.initial_tokens_per_round"
values = [400, 1600]
{MIXES}""",
    "tokenless": f"""
[sweep]
name = "tokenless map"
base = "{TOKENLESS_BASE}"
replications = 3
seed = 4
{SMALL}"regime.budget_fiat_per_round" = 100_000

[[parameters]]
path = "regime.service_fee_fiat"
low = 1.0
high = 40.0
steps = 4
scale = "log"

[[parameters]]
path = "regime.ejection_strikes"
values = [1, 3]
{MIXES}""",
}


def fedstake(*args: str) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    """The three small sweeps, run through ``fedstake sweep``: results directory by name."""
    tmp = tmp_path_factory.mktemp("regimes")
    out = {}
    for name, text in SWEEPS.items():
        path = tmp / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        done = fedstake("sweep", str(path), "--out", str(tmp / name), "--workers", "2")
        assert done.returncode == 0 and "failed runs: 0" in done.stdout, done.stderr + done.stdout
        out[name] = tmp / name
    return out


@pytest.fixture(scope="module")
def combined(sweeps, tmp_path_factory) -> Path:
    page = tmp_path_factory.mktemp("combined") / "index.html"
    done = fedstake("report", *(str(sweeps[n]) for n in ("regimes", "token", "tokenless")), "-o", str(page))
    assert done.returncode == 0, done.stderr
    return page


def test_the_report_of_several_sweeps_opens_with_the_thesis_and_every_id_and_link_is_unique_and_resolves(
    combined,
):
    text = combined.read_text(encoding="utf-8")
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    links = re.findall(r'href="#([^"]+)"', text)
    assert links and set(links) <= set(ids), set(links) - set(ids)
    sections = re.findall(r'<section id="([^"]+)"><h2>(.*?)</h2>', text)
    assert sections[0] == ("regimes", "Token or tokenless?")
    first = re.search(r'<ul class="summary"><li>(.*?)</li>', text).group(1)
    assert html.unescape(first).startswith("Token or tokenless, side by side on one network (side by side:")
    for n, name in enumerate(("side by side", "token map", "tokenless map"), start=1):
        assert f'<article id="sweep-{n}"><h1>{name}</h1>' in text
        assert f'id="sweep-{n}-summary"' in text and f'href="#sweep-{n}"' in text
    assert 'id="sweep-2-phase-diagram"' in text and 'id="sweep-3-phase-diagram"' in text
    for heading in (
        "Where honesty dominates",
        "Fiat profit per owner by strategy",
        "Does the network become honest when owners adapt?",
        "Model quality",
        "What each regime costs the network",
    ):
        assert f"<h3>{heading}</h3>" in text
    assert text.count("data:image/png;base64,") >= 10


def test_the_report_of_several_sweeps_renders_in_a_real_browser(combined):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rendered = render(combined, ARTIFACTS / "regimes-report.png")
    assert rendered.console_errors == []
    assert rendered.title.startswith("fedstake report: Token or tokenless?")
    thesis = rendered.text.index("Token or tokenless, side by side on one network")
    assert thesis < rendered.text.index("How this was computed")  # before any sweep's own report
    assert not re.search(r"(?<![\w.])[-+−]?(nan|inf|infinity)(?![\w])", rendered.text, re.IGNORECASE)
    assert "absent" in rendered.text


def test_one_directory_is_reported_exactly_as_its_own_report(sweeps, tmp_path):
    page = tmp_path / "token.html"
    done = fedstake("report", str(sweeps["token"]), "-o", str(page))
    assert done.returncode == 0, done.stderr
    written = page.read_text(encoding="utf-8")
    expected = build_report(analyze(sweeps["token"]))
    stamp = re.compile(r"<th>report written</th><td[^>]*>[^<]*</td>")
    assert stamp.sub("", written) == stamp.sub("", expected)
    assert "Token or tokenless?" not in written and "<article" not in written and "<nav" not in written


def test_one_directory_that_runs_both_regimes_opens_with_the_comparison(sweeps):
    f = analyze(sweeps["regimes"])
    text = build_combined_report([f])
    assert re.search(r'<section id="([^"]+)">', text).group(1) == "regimes"
    assert text.count("<article") == 1


def test_a_wrong_directory_among_several_is_refused_and_nothing_is_written(sweeps, tmp_path):
    page = tmp_path / "index.html"
    not_results = tmp_path / "empty"
    not_results.mkdir()
    done = fedstake(
        "report", str(sweeps["token"]), str(not_results), str(tmp_path / "missing"), "-o", str(page)
    )
    assert done.returncode == 2
    assert str(not_results) in done.stderr and str(tmp_path / "missing") in done.stderr
    assert "not a sweep results directory" in done.stderr and "Traceback" not in done.stderr
    assert not page.exists() and not list(tmp_path.glob(".*index*"))
    page.write_text("the page before")  # a refused report leaves an existing page as it was
    done = fedstake("report", str(sweeps["token"]), str(sweeps["token"]), "-o", str(page))
    assert done.returncode == 2 and "named twice" in done.stderr
    assert page.read_text() == "the page before"


def test_the_tokenless_map_of_the_combined_page_words_its_bounds_in_fee(combined):
    """Review of issue 9, defect 2, on the real page: no fee bound is read as a slash fraction."""
    text = html.unescape(combined.read_text(encoding="utf-8"))
    tokenless = text[text.index('<article id="sweep-3">') :]
    table = tokenless[tokenless.index('id="sweep-3-phase-diagram"') : tokenless.index('id="sweep-3-payoffs"')]
    assert "slash fraction" not in table and "bound > 1" not in table
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert any(c.startswith("pays from ") or c.startswith("pays throughout") for c in cells), cells


# -- the thesis says whose runs its numbers come from ----------------------------------------------------
def only_design(f: Findings, design: str) -> Findings:
    """``f`` with the runs and points of ``design`` alone."""
    manifest = f.manifest | {"designs": [design]}
    manifest["design_overrides"] = {design: f.manifest["design_overrides"][design]}
    return Findings(
        directory=f.directory,
        manifest=manifest,
        results=f.results[f.results["design"] == design].reset_index(drop=True),
        parameters=f.parameters,
        numeric=f.numeric,
        categorical=f.categorical,
        integer=f.integer,
        designs=[design],
        shape=f.shape,
        x=f.x,
        y=f.y,
        classified=f.classified[f.classified["design"] == design].reset_index(drop=True),
        per_mix=f.per_mix,
        mixes=f.mixes,
    )


def test_a_thesis_read_from_adaptive_runs_says_so_and_prices_them():
    """Review of issue 9, defect 10: where every design adapts, the thesis still said "with fixed
    strategies", and it dropped the cost (it looked for fixed-strategy runs that do not exist)."""
    both = side_by_side(
        TOKEN_WINS, {"token": (D, D, D), "tokenless": (F, F, D)}, shares={"token": 0.97, "tokenless": 0.55}
    )
    c = regimes.compare_regimes([only_design(both, ADAPT)])
    assert all(a.adapts for a in c.answers.values())
    assert "fixed strategies" not in c.thesis
    assert (
        "with owners adapting (the incentives over the whole run) the worst mix's honesty margin" in c.thesis
    )
    adapting = both.results[both.results["design"] == ADAPT]
    for regime in regimes.REGIMES:
        cost = adapting.loc[adapting["regime.kind"] == regime, "network_cost_fiat_per_round"].mean()
        assert c.answers[regime].cost == pytest.approx(cost)
        assert f"{cost:,.0f} fiat per round" in c.thesis
    assert "with owners adapting the network pays" in c.thesis


def test_the_cost_clause_says_it_is_the_fixed_strategy_cost_and_the_token_s_whole_emission():
    """Review of issue 9, defect 16: the cost came after the clause on owners that adapt without saying
    it is the fixed-strategy cost, and the token's cost (its whole emission, the network owner's
    share included) read as what participants are paid."""
    f = side_by_side(
        TOKEN_WINS, {"token": (D, D, D), "tokenless": (F, F, D)}, shares={"token": 0.97, "tokenless": 0.55}
    )
    f.manifest["base_scenario"] |= {"emission": {"owner_share": 0.18}}
    thesis = regimes.compare_regimes([f]).thesis
    costs = thesis[thesis.index("when owners adapt") :]
    assert "with fixed strategies the network pays" in costs
    assert "its whole emission at the token price, the network owner's 18 % share included" in costs
    assert not any(a.adapts for a in regimes.compare_regimes([f]).answers.values())


# -- one axis per unit --------------------------------------------------------------------------------
def test_margins_of_both_regimes_are_never_drawn_on_one_axis_and_every_label_fits():
    """Review of issue 9, defect 8: token π (a fraction) and tokenless fiat shared one y axis, the
    token line looked flat at 0 and the y label was cut off."""
    import matplotlib.pyplot as plt

    from analysis.report import figures, views

    xs = [0.0, 0.2, 0.4, 0.6]
    rows = []
    for regime, margin in (("token", 0.001), ("tokenless", 2.0)):
        for x in xs:
            row = {"regime.kind": regime, "slashing.slash_fraction": x}
            for name in ("trainers", "participation"):
                row |= {f"{name}_mean": margin, f"{name}_lower": margin * 0.8, f"{name}_upper": margin * 1.2}
            rows.append(row)
    units = {r: views.margin_unit(r) for r in ("token", "tokenless")}
    fig = figures.margin_figure(pd.DataFrame(rows), "slashing.slash_fraction", "regime.kind", None, units)
    try:
        fig.canvas.draw()
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(axes) == 4  # two margins × two units
        for ax in axes:
            drawn = {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")}
            assert len(drawn) == 1, drawn  # one regime per axis
        labels = {ax.get_ylabel() for ax in axes if ax.get_ylabel()}
        assert len(labels) == 2
        assert any(units["token"][1] in label.replace("\n", " ") for label in labels)
        assert any(units["tokenless"][1] in label.replace("\n", " ") for label in labels)
        figure_box = fig.bbox
        for ax in axes:
            box = ax.yaxis.label.get_window_extent()
            if ax.get_ylabel():
                assert box.x0 >= 0 and box.y0 >= 0 and box.y1 <= figure_box.height, ax.get_ylabel()
    finally:
        plt.close(fig)


def test_switches_print_as_toml_writes_them():
    from analysis.report.elements import number, table_html
    from analysis.report.figures import level_label

    assert [number(v) for v in (True, np.bool_(False))] == ["true", "false"]
    assert level_label(np.bool_(True)) == "true" and level_label(False) == "false"
    assert level_label(3) == "3" and number(1) == "1"  # a number is not a switch
    page = table_html(pd.DataFrame({"switch": [True, False], "object": pd.Series([np.bool_(True), "x"])}))
    assert re.findall(r"<td[^>]*>(.*?)</td>", page) == ["true", "true", "false", "x"]


def test_the_thesis_says_how_many_trainer_owners_each_network_keeps_and_its_quality(sweeps):
    """A gatekeeper can make cheating unprofitable by ejecting everyone (false positives take the
    honest too), and the quality index does not see it: the thesis says what each network keeps."""
    f = analyze(sweeps["regimes"])
    c = regimes.compare_regimes([f])
    runs = f.results[(f.results["status"] == "ok")]
    for regime, answer in c.answers.items():
        mine = runs[(runs["regime"] == regime) & (runs["design"] == answer.at["design"])]
        expected = mine["trainer_owners_retained"].mean() / mine["trainer_owners_initial"].mean()
        assert answer.kept == pytest.approx(expected)
        assert answer.quality == pytest.approx(mine["final_quality"].mean())
        assert f"{100 * expected:.0f} % under the {regime}" in c.thesis
    assert "of the trainer owners it started with (cheaters included; entrants not counted)" in c.thesis
    assert all(math.isfinite(a.kept_adapting) for a in c.answers.values())  # its adapting design too
    assert ", and when owners adapt " in c.thesis
