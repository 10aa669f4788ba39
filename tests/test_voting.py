"""Validators vote under Yuma Consensus (``rewards.rule = "yuma"``, ``model.voting``): detection, rewards
and the copiers' and cabal's fortunes come out of the votes. Whole runs: the ledger's invariants every
round (delegators and validator slashes included), the votes' mechanics, and the issue's properties —
with no commit-reveal copiers earn at least what honest validators earn, a long enough delay makes
copying pay less, and a cabal holding more than κ of the stake captures the trainers' emission."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Scenario, run_scenario, with_overrides
from model.network import FLNetwork
from model.voting import cabal_members

#: A small voting network: fast, and every strategy present.
SMALL = {
    "rounds": 60,
    "rewards.rule": "yuma",
    "population.honest_trainers": 30,
    "population.lazy_trainers": 6,
    "population.sybil_owners": 1,
    "population.sybil_identities_per_owner": 3,
    "population.poisoning_trainers": 4,
    "population.honest_validators": 6,
    "population.copying_validators": 2,
    "token.genesis_supply_tokens": 1e7,
}


def small(**overrides) -> Scenario:
    """The small voting network with dotted-key overrides (``yuma__kappa`` stands for ``yuma.kappa``)."""
    return with_overrides(Scenario(), SMALL | {k.replace("__", "."): v for k, v in overrides.items()})


@st.composite
def voting_scenarios(draw) -> Scenario:
    """Random voting networks over every knob of [yuma] and [stakes] that moves tokens."""
    validators = draw(st.integers(1, 5))
    copiers = draw(st.integers(0, 3))
    distribution = draw(st.sampled_from(["fixed", "lognormal", "pareto", "listed"]))
    overrides = {
        "rounds": draw(st.integers(1, 30)),
        "rewards.rule": "yuma",
        "population.honest_trainers": draw(st.integers(0, 8)),
        "population.lazy_trainers": draw(st.integers(0, 4)),
        "population.sybil_owners": draw(st.integers(0, 2)),
        "population.sybil_identities_per_owner": draw(st.integers(1, 3)),
        "population.poisoning_trainers": draw(st.integers(1, 4)),
        "population.honest_validators": validators,
        "population.copying_validators": copiers,
        "token.genesis_supply_tokens": 1e9,
        "staking.initial_liquid_tokens": draw(st.sampled_from([0.0, 50.0, 500.0])),
        "slashing.slash_fraction": draw(st.floats(0.0, 1.0)),
        "dropout.trainer_dropout_probability": draw(st.floats(0.0, 0.5)),
        "dropout.validator_dropout_probability": draw(st.floats(0.0, 0.5)),
        "stakes.trainer_distribution": draw(st.sampled_from(["fixed", "lognormal", "pareto"])),
        "stakes.validator_distribution": distribution,
        "stakes.delegated_tokens": draw(st.sampled_from([0.0, 5_000.0])),
        "stakes.delegation": draw(st.sampled_from(["by_stake", "equal"])),
        "stakes.validator_take": draw(st.floats(0.0, 1.0)),
        "yuma.kappa": draw(st.floats(0.0, 1.0)),
        "yuma.bond_penalty": draw(st.floats(0.0, 1.0)),
        "yuma.yuma3": draw(st.booleans()),
        "yuma.liquid_alpha": draw(st.booleans()),
        "yuma.reveal_delay_rounds": draw(st.integers(0, 5)),
        "yuma.flag_threshold": draw(st.floats(0.0, 1.0)),
        "yuma.quality_drift_sd": draw(st.floats(0.0, 0.5)),
        "yuma.cabal_stake_share": draw(st.floats(0.0, 1.0)),
        "yuma.cabal_trainers": draw(st.sampled_from(["lazy", "sybil", "poisoning"])),
        "yuma.validator_slash_fraction": draw(st.floats(0.0, 1.0)),
        "yuma.validator_slash_tolerance": draw(st.floats(0.0, 1.0)),
        "yuma.validator_slash_rounds": draw(st.integers(1, 3)),
    }
    if distribution == "listed":
        overrides["stakes.validator_stakes_tokens"] = [
            draw(st.floats(1.0, 5_000.0)) for _ in range(validators + copiers)
        ]
    return with_overrides(Scenario(), overrides)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=voting_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_ledger_invariants_hold_every_round_under_votes(scenario, seed):
    net = FLNetwork(scenario, seed, audit=True)
    ledger, nt = net.ledger, net.n_trainers
    ledger.check()
    fraction = max(scenario.slashing.slash_fraction, scenario.yuma.validator_slash_fraction)
    for _ in range(scenario.rounds):
        wealth_before = ledger.liquid + ledger.stake + ledger.unbonding
        pools_before = ledger.insurance_tokens + ledger.treasury_tokens + ledger.delegators_tokens
        stake_before = ledger.stake.sum()
        minted_before, slashed_before = ledger.minted_tokens, ledger.slashed_tokens
        net.step()
        ledger.check()  # conservation, each account's books, nothing negative (delegators included)
        minted = ledger.minted_tokens - minted_before
        slashed = ledger.slashed_tokens - slashed_before
        tol = 1e-7 * max(1.0, ledger.expected_supply_tokens())
        assert slashed <= stake_before * fraction + tol
        gained = (ledger.liquid + ledger.stake + ledger.unbonding - wealth_before).clip(min=0).sum()
        pools = ledger.insurance_tokens + ledger.treasury_tokens + ledger.delegators_tokens - pools_before
        assert gained + max(pools, 0.0) <= minted + slashed + tol
        assert ledger.delegators_tokens >= net.delegated_tokens.sum() - tol  # delegators never lose
        # Validators never stake more than they brought (they are slashed, never topped up).
        assert (ledger.stake[nt:] <= net.stake_required[nt:] * (1 + 1e-12)).all()


def test_same_seed_same_votes_and_the_other_rules_unchanged_by_them():
    a = run_scenario(small(), seed=7).kpis
    b = run_scenario(small(), seed=7).kpis
    assert a == pytest.approx(b, nan_ok=True, rel=0, abs=0)
    assert run_scenario(small(), seed=8).kpis != a
    # The votes' KPIs exist only under yuma; the other rules report them absent.
    equal = run_scenario(small(rewards__rule="equal"), seed=7).kpis
    assert math.isnan(equal["copier_dividend_ratio"]) and math.isnan(
        equal["validator_trust_honest_validator"]
    )
    assert not math.isnan(a["validator_trust_honest_validator"])


def test_votes_flag_what_validators_see_below_the_threshold():
    """With no noise and no drift, validators see each strategy's score exactly: honest 1, lazy and
    cheap Sybil copies 0.2, disguised poison 0.8. A threshold of 0.5 × the median (an honest 1's
    weight) flags every lazy and Sybil submission and no honest or poisoned one; 0.9 catches the
    poison too; 0 flags nobody."""
    exact = {"detection__score_noise_sd": 0.0, "yuma__quality_drift_sd": 0.0}
    k = run_scenario(small(**exact), seed=1).kpis
    assert k["flag_rate_honest"] == 0 and k["flag_rate_poisoning"] == 0
    assert k["flag_rate_lazy"] == 1 and k["flag_rate_sybil"] == 1
    strict = run_scenario(small(**exact, yuma__flag_threshold=0.9), seed=1).kpis
    assert strict["flag_rate_poisoning"] == 1 and strict["flag_rate_honest"] == 0
    lenient = run_scenario(small(**exact, yuma__flag_threshold=0.0), seed=1).kpis
    assert all(lenient[f"flag_rate_{s}"] == 0 for s in ("honest", "lazy", "sybil", "poisoning"))


def test_noisy_votes_make_false_positives_and_effort_removes_them():
    noisy = run_scenario(small(detection__score_noise_sd=0.6, yuma__flag_threshold=0.8), seed=2).kpis
    careful = small(detection__score_noise_sd=0.6, yuma__flag_threshold=0.8, yuma__evaluation_effort=100.0)
    assert noisy["flag_rate_honest"] > 0.01
    assert run_scenario(careful, seed=2).kpis["flag_rate_honest"] < noisy["flag_rate_honest"]
    # Effort costs: the honest validator pays validate cost × effort a round.
    net = FLNetwork(careful, 2)
    assert net.validate_cost_fiat[net.detects][0] == pytest.approx(
        100.0 * careful.costs.validate_cost_fiat_per_round
    )


def copier_ratio(delay: int, seed: int, **overrides) -> float:
    return run_scenario(small(yuma__reveal_delay_rounds=delay, **overrides), seed=seed).kpis[
        "copier_dividend_ratio"
    ]


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0.02, 0.3),
    drift=st.floats(0.0, 0.3),
    yuma3=st.booleans(),
    validators=st.sampled_from(["fixed", "pareto"]),
)
def test_without_commit_reveal_copiers_earn_at_least_what_honest_validators_earn(
    seed, noise, drift, yuma3, validators
):
    """d = 0: a copier sets this round's consensus of the others' weights, which consensus keeps, while
    it clips an honest validator's noisy view; with the bond penalty on (β = 1, subtensor's default)
    bonds are bought on the clipped weights, so the copier's dividends per unit of stake are at least
    the honest median (G ≥ 1). Validators are always present here: a round away decays a validator's
    bonds and so its next rounds' dividends, a few per cent of noise in G that has nothing to do with
    copying. (With β = 0 copying buys nothing: the next test.)"""
    g = copier_ratio(
        0,
        seed,
        dropout__validator_dropout_probability=0.0,
        detection__score_noise_sd=noise,
        yuma__quality_drift_sd=drift,
        yuma__yuma3=yuma3,
        stakes__validator_distribution=validators,
    )
    assert g >= 1.0 - 1e-9


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), noise=st.floats(0.02, 0.1), yuma3=st.booleans())
def test_a_long_enough_reveal_delay_makes_copying_pay_less(seed, noise, yuma3):
    """With submissions' quality drifting (sd 0.3, persistence 0.9), the consensus revealed 20 rounds
    late is stale: copiers earn less per unit of stake and round voted than honest validators (G < 1),
    less than without commit-reveal, and less than copiers 20 rounds late on quality that does not
    drift (whose copy is stale only in who submits). G counts the rounds a copier voted, so the 20
    rounds it abstains, with nothing revealed yet, do not make it look poorer."""
    common = {
        "detection__score_noise_sd": noise,
        "yuma__yuma3": yuma3,
        "dropout__validator_dropout_probability": 0.0,
    }
    late = copier_ratio(20, seed, yuma__quality_drift_sd=0.3, **common)
    assert late < 1.0
    assert late < copier_ratio(0, seed, yuma__quality_drift_sd=0.3, **common)
    assert late < copier_ratio(20, seed, yuma__quality_drift_sd=0.0, **common)


def test_without_the_bond_penalty_copying_buys_no_dividends():
    """β = 0: bonds are bought on the raw weights, not the clipped ones, so a copier's agreement with
    consensus earns it no more bonds than an honest validator's noisy weights do: G is 1 within 1 %.
    The d = 0 advantage above is the penalty's (β = 1, subtensor's default)."""
    for seed in range(3):
        g = copier_ratio(
            0,
            seed,
            dropout__validator_dropout_probability=0.0,
            detection__score_noise_sd=0.2,
            yuma__bond_penalty=0.0,
        )
        assert g == pytest.approx(1.0, abs=0.01)


def test_copiers_with_most_of_the_stake_copy_the_evaluators_and_keep_the_network_alive():
    """Copiers holding 70 % of the stake, 1 round late: before anything is revealed they abstain, and
    then they copy the evaluators' consensus of the round before, never their own, so consensus does
    not freeze at zero: lazy submissions are still flagged and honest validators keep their weight.
    With κ = 1 (consensus needs all the stake) the same holds for the baseline's two copiers."""
    majority = small(population__honest_validators=3, population__copying_validators=7)
    k = run_scenario(majority, seed=6).kpis
    assert k["flag_rate_lazy"] > 0.9 and k["validator_trust_honest_validator"] > 0.5
    assert k["copier_dividend_ratio"] > 0
    unanimous = run_scenario(small(yuma__kappa=1.0), seed=6).kpis
    assert unanimous["flag_rate_lazy"] > 0.9 and unanimous["validator_trust_honest_validator"] > 0.5


def test_a_validator_slashed_to_nothing_sits_out_and_is_not_slashed_again():
    s = small(
        yuma__validator_slash_fraction=1.0,
        yuma__validator_slash_tolerance=0.0,
        yuma__validator_slash_rounds=1,
        rounds=40,
    )
    net = FLNetwork(s, 7, audit=True)
    net.run()
    net.ledger.check()
    nt = net.n_trainers
    assert not net.ledger.stake[nt:].any()  # every validator strays at tolerance 0, once
    assert net.votes.slashes == len(net.detects)
    k = run_scenario(s, seed=7).kpis
    assert k["validator_slashes"] == len(net.detects)
    assert k["validator_slashed_tokens"] == pytest.approx(net.stake_required[nt:].sum())


def test_a_validator_that_switches_strategy_is_counted_under_each_strategy_it_played():
    """Owners adapt: validators revise between evaluating and copying. The votes' totals are booked
    to the strategy played in each stretch, so both strategies have KPIs, and the rounds booked add up
    to every round a validator voted."""
    s = small(
        rounds=120,
        adaptation__revision="imitation",
        adaptation__revision_probability=1.0,
        costs__validate_cost_fiat_per_round=40.0,
    )
    net = FLNetwork(s, 8)
    net.run()
    k = run_scenario(s, seed=8).kpis
    assert not math.isnan(k["validator_trust_honest_validator"])
    assert not math.isnan(k["validator_trust_copying_validator"])
    net.votes.book_roles(net.detects)
    by_role = net.votes.by_role[2]
    assert (by_role > 0).all(axis=1).any()  # a validator voted under both strategies
    assert by_role.sum() <= s.rounds * len(net.detects)


def test_a_cabal_captures_the_trainers_emission_once_it_can_set_or_veto_consensus():
    """No copiers, 8 validators of equal stake, the cabal voting only for its lazy trainers. Consensus of a
    column is the largest weight that κ of the stake sets at or above: a cabal with more than κ of the
    stake sets its trainers' consensus (promotes them), and one with more than 1 − κ sets everyone
    else's to 0 (vetoes them). Under κ = 0.5 both need a majority: 3 of 8 validators (37.5 %) get the lazy
    trainers only what their 0.2 score is worth, 5 of 8 take all the trainers' emission. Raising κ to 0.7
    does not protect the network, it lowers the veto to 30 %: 3 of 8 then capture it all, 2 of 8 do not."""
    base = {
        "population__honest_validators": 8,
        "population__copying_validators": 0,
        "dropout__validator_dropout_probability": 0.0,  # the shares hold every round
    }

    def captured(share: float, kappa: float) -> float:
        kpis = run_scenario(small(**base, yuma__cabal_stake_share=share, yuma__kappa=kappa), seed=3).kpis
        assert kpis["cabal_stake_share"] == pytest.approx(share)
        return kpis["cabal_trainer_emission_share"]

    assert captured(0.625, 0.5) == pytest.approx(1.0)
    assert captured(0.375, 0.5) < 0.05
    assert captured(0.375, 0.7) == pytest.approx(1.0)
    assert captured(0.25, 0.7) < 0.05


def test_cabal_members_come_nearest_the_share_by_whole_validators():
    stake = np.array([1.0, 3.0, 1.0, 5.0])
    honest = np.array([True, True, False, True])
    members, share = cabal_members(stake, honest, 0.35)
    assert members.tolist() == [True, True, False, False] and share == pytest.approx(0.4)
    assert cabal_members(stake, honest, 0.0)[1] == 0.0
    members, share = cabal_members(stake, honest, 1.0)
    assert members.tolist() == [True, True, False, True] and share == pytest.approx(0.9)


def test_validators_that_stray_are_slashed_and_weigh_less():
    """Copiers 20 rounds late on drifting quality keep little of their weight: with a tolerance of 0.05
    they are slashed every 2 straying rounds; honest validators with little noise are not."""
    s = small(
        yuma__reveal_delay_rounds=20,
        yuma__quality_drift_sd=0.3,
        detection__score_noise_sd=0.02,
        yuma__validator_slash_fraction=0.1,
        yuma__validator_slash_tolerance=0.05,
        yuma__validator_slash_rounds=2,
    )
    net = FLNetwork(s, 4, audit=True)
    net.run()
    net.ledger.check()
    nt = net.n_trainers
    own = net.ledger.stake[nt:]
    assert (own[net.detects] == net.stake_required[nt:][net.detects]).all()
    assert (own[~net.detects] < net.stake_required[nt:][~net.detects]).all()
    assert net.votes.slashes > 0
    np.testing.assert_allclose(net.stake_weight, own + net.delegated_tokens)


def test_delegators_are_paid_their_share_of_what_their_stake_earns():
    """All validators equal, each gets as much delegated as it holds: half of each validator's income is
    earned on delegated stake, and delegators get (1 − take) of that half."""
    s = small(stakes__delegated_tokens=8_000.0, stakes__validator_take=0.2)
    net = FLNetwork(s, 5, audit=True)
    net.run()
    ledger = net.ledger
    ledger.check()
    net.votes.book_roles(net.detects)
    income = net.votes.by_role[0].sum()
    assert ledger.delegators_tokens - 8_000.0 == pytest.approx(income * 0.5 * 0.8)


def test_the_shipped_yuma_baseline_runs_and_its_summary_reports_the_votes():
    """scenarios/baseline-yuma.toml is the baseline with votes: `fedstake run` names the consensus, G and
    the validators' trust; a run without votes prints none of it, and a cabal and validator slashing
    get a line each when they are on."""
    from analysis.cli import format_summary
    from model import load_scenario

    from .conftest import ROOT

    voting = load_scenario(ROOT / "scenarios" / "baseline-yuma.toml")
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    same = {"rewards.rule": "equal", "name": baseline.name, "description": baseline.description}
    assert with_overrides(voting, same) == baseline  # the baseline but for the rule ([yuma] at its defaults)
    text = format_summary(run_scenario(voting, rounds=40))
    assert "votes: Yuma Consensus, kappa 0.5, reveal delay 1 round" in text
    assert "copiers earn G = " in text and "validator trust (weight kept by consensus): honest 0." in text
    assert "cabal:" not in text and "slashed" not in text.split("votes:")[1]
    assert "votes:" not in format_summary(run_scenario(baseline, rounds=40))
    both = with_overrides(voting, {"yuma.cabal_stake_share": 0.3, "yuma.validator_slash_fraction": 0.1})
    text = format_summary(run_scenario(both, rounds=40))
    assert "cabal: 30.0% of validator stake; its lazy trainers took " in text
    assert "validators slashed " in text
    no_copiers = with_overrides(voting, {"population.copying_validators": 0})
    assert "copiers: G n/a (no copier" in format_summary(run_scenario(no_copiers, rounds=40))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sd=st.floats(0.0, 2.0),
    persistence=st.floats(0.0, 0.99),
    width=st.integers(1, 300),
    rounds=st.integers(1, 400),
)
def test_the_quality_drift_is_the_ar1_recurrence_round_by_round(seed, sd, persistence, width, rounds):
    """DriftPath works the drift out a block at a time; it is the recurrence x_0 = σ η_0,
    x_t = φ x_{t−1} + √(1 − φ²) σ η_t over the same normals, across block boundaries."""
    from model.randomness import RoundDraws, block_rounds
    from model.voting import DriftPath

    path = DriftPath(np.random.default_rng(seed), width, rounds, sd, persistence)
    draws = RoundDraws(np.random.default_rng(seed), width, block_rounds(width, rounds), normal=True)
    x = sd * draws.row(0)
    for t in range(rounds):
        if t:
            x = persistence * x + math.sqrt(1.0 - persistence**2) * sd * draws.row(t)
        np.testing.assert_allclose(path.row(t), x, rtol=1e-9, atol=1e-12)


def test_the_readme_shows_what_fedstake_run_prints_for_the_yuma_baseline():
    """The README's sample of the votes' lines is the command's own output."""
    from analysis.cli import format_summary
    from model import load_scenario

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    result = run_scenario(load_scenario(ROOT / "scenarios" / "baseline-yuma.toml"))
    summary = format_summary(result)
    votes = summary[summary.index("votes: Yuma Consensus") :]
    assert f"```\n{votes}\n```" in readme
    k = result.kpis
    said = " ".join(readme[readme.index(votes) :].split()[:120])  # the paragraph after the sample
    assert f"costs the baseline's copiers {round(100 * (1 - k['copier_dividend_ratio']))} %" in said
    assert f"honesty margin for validators −{-100 * k['margin_validators']:.2f} %" in said
    assert f"flag {100 * k['flag_rate_lazy']:.0f} % of lazy submissions" in said
    assert k["flag_rate_sybil"] == 1 and f"poison ({100 * k['flag_rate_poisoning']:.1f} %" in said


def test_with_a_cabal_the_validators_margin_compares_copiers_with_the_honest_outside_it():
    """The cabal's members play the honest strategy but earn what the cabal captures: the validators'
    margin compares copiers with the honest validators outside the cabal, as G does. Without a cabal
    it is the strategies' margin."""
    from model.books import committed_rounds, identity_profit_fiat

    s = small(yuma__cabal_stake_share=0.5, rounds=40)
    net = FLNetwork(s, 9)
    net.run()
    k = run_scenario(s, seed=9).kpis
    nt = net.n_trainers
    profit, capital = identity_profit_fiat(net)[nt:], (net.capital_fiat * committed_rounds(net))[nt:]
    outside = net.detects & ~net.votes.cabal
    pi_outside = profit[outside].sum() / capital[outside].sum()
    assert k["margin_validators"] == pytest.approx(pi_outside - k["pi_copying_validator"], rel=1e-9)
    assert k["margin_validators"] != pytest.approx(k["pi_honest_validator"] - k["pi_copying_validator"])
    plain = run_scenario(small(rounds=40), seed=9).kpis
    assert plain["margin_validators"] == pytest.approx(
        plain["pi_honest_validator"] - plain["pi_copying_validator"]
    )


def test_copiers_that_never_vote_are_paid_nothing():
    """No evaluator: copiers never see anything revealed and abstain every round. Nobody votes, so no
    weight reaches consensus and nobody may be paid by stake: neither pool is minted (a pool nobody
    can receive is not), and the copiers earn nothing."""
    s = small(population__honest_validators=0, population__copying_validators=3, rounds=30)
    k = run_scenario(s, seed=10).kpis
    burned = s.staking.registration_cost_tokens * s.token.price_fiat  # the registration, and nothing earned
    assert k["profit_fiat_per_round_copying_validator"] == pytest.approx(-burned / 30)
    assert k["minted_tokens"] == pytest.approx(
        30 * s.emission.initial_tokens_per_round * s.emission.owner_share
    )
