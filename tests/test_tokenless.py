"""The tokenless regime (issue 9): an orchestrator that pays fiat fees, admits by KYC and ejects.

Mechanisms are checked against their exact definitions (tokenless-regime semantics in the README
and ``model.regimes``): ejection at exactly ``s`` strikes, re-admission after exactly ``L`` rounds,
the three re-application modes, KYC's duplicate detection, the budget's pro-rata scaling, both fee
bases and the three KYC payers; and the regimes share their random streams, so a run that cannot
eject anyone sees, round by round, what the token run of the same population sees. The every-round
invariants (fiat conservation, no token moving) are in ``tests/test_invariants.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.sweep.designs import Design
from analysis.sweep.engine import plan_runs, regime_of
from analysis.sweep.sweepfile import load_sweep
from model import ScenarioError, load_scenario, run_scenario, with_overrides
from model.books import identity_profit_fiat
from model.kpis import NAN_REASONS, ORCHESTRATOR_KPIS, TOKEN_KPIS, run_kpis
from model.network import BARRED, IN, NEVER, OUT, FLNetwork
from model.scenario import genesis_allocation_tokens

from .conftest import ROOT

#: Rates that make cheaters (and, with it, honest work) flagged often, for runs that must eject.
OFTEN_FLAGGED = {
    "detection.false_positive_rate": 0.2,
    "detection.lazy_detection_rate": 0.9,
    "detection.poison_detection_rate": 0.9,
    "detection.sybil_detection_rate": 0.5,
}


def tokenless(base, regime: dict | None = None, overrides: dict | None = None):
    """``base`` run by the orchestrator: ``regime`` sets ``regime.*`` keys, ``overrides`` others."""
    keys = {"regime.kind": "tokenless"} | {f"regime.{k}": v for k, v in (regime or {}).items()}
    return with_overrides(base, keys | (overrides or {}))


def step_all(net: FLNetwork) -> list[np.ndarray]:
    """Run every round; return which rows were registered before round 0 and after each round
    (index t + 1: after round t)."""
    after = [net.registered.copy()]
    for _ in range(net.scenario.rounds - net.round):
        net.step()
        after.append(net.registered.copy())
    return after


def kpis_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        x == b[k] or (math.isnan(x) and math.isnan(b[k])) for k, x in a.items()
    )


# -- the scenario ------------------------------------------------------------------------------


def test_a_tokenless_scenario_needs_no_token(small):
    # The token regime's genesis check would refuse this supply: no population fits in one token.
    s = tokenless(small, overrides={"token.genesis_supply_tokens": 1.0})
    assert genesis_allocation_tokens(s) == 0.0
    net = FLNetwork(s, 1)
    net.run()
    assert net.ledger.treasury_tokens == 1.0  # the genesis supply stays in the treasury


# -- seeds -------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_tokenless_run(small):
    s = tokenless(
        small,
        {"kyc_duplicate_detection": 0.5, "reapply": "new_identity", "ban_rounds": 5},
        OFTEN_FLAGGED
        | {
            "adaptation.revision": "imitation",
            "adaptation.exit_rule": "profit_threshold",
            "adaptation.entry_candidates": 10,
        },
    )
    a, b = run_scenario(s, 11, trajectory=True), run_scenario(s, 11, trajectory=True)
    assert a.kpis["readmitted_identities"] > 0 and a.kpis["kyc_refused_identities"] > 0
    assert kpis_equal(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    pd.testing.assert_frame_equal(a.strategies, b.strategies)
    assert not kpis_equal(a.kpis, run_scenario(s, 12).kpis)


def test_token_and_tokenless_runs_share_presence_detection_and_quality_round_by_round(small):
    # Nobody can leave either run (no slashing or ejection in the token one; strikes out of reach
    # and no duplicate refused in the tokenless one), so both must see the same draws.
    token = with_overrides(
        small,
        {
            "slashing.slash_fraction": 0.0,
            "slashing.ejection_strikes": 0,
            "detection.sybil_exposure_correlation": 0.4,
        },
    )
    free = tokenless(token, {"ejection_strikes": small.rounds + 1, "kyc_duplicate_detection": 0.0})
    a, b = FLNetwork(token, 21), FLNetwork(free, 21)
    assert a.n_trainers == b.n_trainers
    for _ in range(small.rounds):
        a.step()
        b.step()
        np.testing.assert_array_equal(a.submitting, b.submitting)
        np.testing.assert_array_equal(a.flags, b.flags)
        assert a.quality == b.quality
    for name in ("honest_validator_share", "accepted", "flagged", "quality"):
        np.testing.assert_array_equal(a.recorder.series(name), b.recorder.series(name))
    assert a.flags.sum() > 0 and b.orchestrator.readmitted == b.ejected_identities == 0


# -- ejection and re-admission -----------------------------------------------------------------


@pytest.mark.parametrize("strikes", [1, 2, 4])
def test_an_identity_is_ejected_at_exactly_s_strikes(small, strikes):
    s = tokenless(
        small,
        {"ejection_strikes": strikes, "reapply": "never", "kyc_duplicate_detection": 0.0},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 3)
    nt = net.n_trainers
    for _ in range(s.rounds):
        net.step()
        np.testing.assert_array_equal(net.registered[:nt], net.flags[:nt] < strikes)
    assert net.flags.max() == strikes  # an ejected identity is flagged no more: it submits no more
    assert net.ejected_identities == np.count_nonzero(net.flags >= strikes) > 0
    assert (net.flags[nt:] == 0).all()  # validators are never flagged or ejected
    assert net.orchestrator.readmitted == 0
    # Owners all of whose identities are ejected are out for good (none waits to come back).
    assert (net.owner_state[net.live_identities == 0] == OUT).all()


def test_the_agent_view_reads_strikes_and_registration(small):
    s = tokenless(small, {"ejection_strikes": 2}, OFTEN_FLAGGED)
    net = FLNetwork(s, 3)
    net.run()
    trainers = [agent for agent in net.agents if agent.account < net.n_trainers]
    assert any(not agent.registered for agent in trainers)
    for agent in trainers:
        assert agent.strikes == net.orchestrator.strikes[agent.account]
        assert agent.registered == net.registered[agent.account]
        assert agent.strikes < 2 or not agent.registered


def ejections_and_returns(history: list[np.ndarray], nt: int) -> tuple[list, list]:
    """(row, round) of every ejection and every re-admission, from ``step_all``'s history."""
    before = history[0][:nt]
    out, back = [], []
    for t, registered in enumerate(history[1:]):
        now = registered[:nt]
        out += [(row, t) for row in np.flatnonzero(before & ~now).tolist()]
        back += [(row, t) for row in np.flatnonzero(~before & now).tolist()]
        before = now
    return out, back


@pytest.mark.parametrize("ban", [3, 17])
def test_a_banned_identity_is_readmitted_after_exactly_l_rounds(small, ban):
    # after_ban: ejected in round t, re-admitted (paying KYC) at the end of round t + L, so registered
    # from round t + L + 1 — unless t + L >= T - 1 (no round left to take part in).
    cost = 4.0
    s = tokenless(
        small,
        {"ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": ban, "kyc_cost_fiat": cost},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 5)
    genesis_kyc = net.fiat.kyc_paid_fiat.copy()
    history = step_all(net)
    out, back = ejections_and_returns(history, net.n_trainers)
    last = s.rounds - 1
    expected = sorted((row, t + ban) for row, t in out if t + ban < last)
    assert len(expected) > 5
    assert sorted(back) == expected
    assert net.orchestrator.readmitted == len(expected)
    returns = np.bincount([row for row, _ in back], minlength=len(genesis_kyc))
    np.testing.assert_allclose(net.fiat.kyc_paid_fiat, genesis_kyc + cost * returns)


def test_a_ban_of_zero_rounds_readmits_at_the_end_of_the_same_round(small):
    s = tokenless(
        small,
        {"ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": 0},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 6)
    history = step_all(net)
    out, back = ejections_and_returns(history, net.n_trainers)
    # Every ejection before the last round is undone by the round's end: nobody is seen out before.
    last = s.rounds - 1
    assert back == [] and all(t == last for _, t in out)
    assert net.orchestrator.readmitted == net.ejected_identities - len(out) > 0


def test_a_ban_forever_keeps_ejected_owners_out(small):
    s = tokenless(
        small,
        {"ejection_strikes": 2, "reapply": "after_ban", "ban_forever": True, "ban_rounds": 0},
        OFTEN_FLAGGED,
    )
    result = run_scenario(s, 7)
    assert result.kpis["ejected_identities"] > 0
    assert result.kpis["readmitted_identities"] == 0


def test_new_identity_reapplicants_are_admitted_at_once_unless_kyc_recognises_them(small):
    cost = 3.0
    common = {"ejection_strikes": 1, "ban_rounds": 4, "kyc_cost_fiat": cost, "reapply": "new_identity"}
    last = small.rounds - 1

    # q = 0: every identity ejected before the last round is back for the next one, with 0 strikes.
    net = FLNetwork(tokenless(small, common | {"kyc_duplicate_detection": 0.0}, OFTEN_FLAGGED), 8)
    genesis_kyc = net.fiat.kyc_paid_fiat.copy()
    history = step_all(net)
    out, back = ejections_and_returns(history, net.n_trainers)
    assert back == [] and all(t == last for _, t in out)  # never seen out after a round but the last
    readmitted = net.orchestrator.readmitted
    assert readmitted == net.ejected_identities - len(out) > 0
    assert net.orchestrator.refused == 0
    assert net.fiat.kyc_paid_fiat.sum() == pytest.approx(genesis_kyc.sum() + cost * readmitted)
    assert (net.orchestrator.strikes[net.registered[: net.n_trainers]] == 0).all()  # strikes = 1 ejects

    # q = 1: every re-application is refused (its KYC paid); the owner waits out the ban and pays
    # again to come back at t + L.
    net = FLNetwork(tokenless(small, common | {"kyc_duplicate_detection": 1.0}, OFTEN_FLAGGED), 8)
    genesis_kyc, refused_at_genesis = net.fiat.kyc_paid_fiat.copy(), net.orchestrator.refused
    assert refused_at_genesis == small.population.sybil_owners * (
        small.population.sybil_identities_per_owner - 1
    )
    history = step_all(net)
    out, back = ejections_and_returns(history, net.n_trainers)
    applied = [(row, t) for row, t in out if t < last]
    assert net.orchestrator.refused - refused_at_genesis == len(applied) > 0
    assert sorted(back) == sorted((row, t + 4) for row, t in applied if t + 4 < last)
    expected_kyc = genesis_kyc.sum() + cost * (len(applied) + len(back))
    assert net.fiat.kyc_paid_fiat.sum() == pytest.approx(expected_kyc)


def test_never_reapplying_owners_stay_out_and_pay_no_more_kyc(small):
    s = tokenless(
        small,
        {"ejection_strikes": 1, "reapply": "never"},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 9)
    genesis_applications = net.fiat.applications
    step_all(net)
    assert net.ejected_identities > 0 and net.orchestrator.readmitted == 0
    assert net.fiat.applications == genesis_applications


# -- KYC ---------------------------------------------------------------------------------------


def test_kyc_refuses_a_binomial_share_of_sybil_duplicates_at_genesis(small):
    owners, k, q, seeds = 300, 5, 0.3, 10
    s = tokenless(
        small,
        {"kyc_duplicate_detection": q, "kyc_cost_fiat": 2.0},
        {
            "rounds": 1,
            "population.honest_trainers": 0,
            "population.lazy_trainers": 0,
            "population.poisoning_trainers": 0,
            "population.sybil_owners": owners,
            "population.sybil_identities_per_owner": k,
        },
    )
    refused = 0
    for seed in range(seeds):
        net = FLNetwork(s, seed)
        registered = net.registered[: net.n_trainers]
        assert registered[net.owner_first[:owners]].all()  # an owner's first identity is never a duplicate
        assert net.fiat.kyc_received_fiat == 2.0 * owners * k  # refused applications are paid too
        assert net.orchestrator.refused == owners * k - np.count_nonzero(registered)
        assert net.initial_identities[2] == np.count_nonzero(registered)
        refused += net.orchestrator.refused
    n = seeds * owners * (k - 1)
    z = (refused - n * q) / math.sqrt(n * q * (1 - q))
    assert abs(z) < 4, f"{refused} refusals of {n} duplicates at q = {q}: z = {z:.2f}"


@pytest.mark.parametrize(("payer", "share"), [("applicant", 1.0), ("orchestrator", 0.0), ("split", 0.5)])
def test_kyc_is_paid_by_the_applicant_the_orchestrator_or_half_each(small, payer, share):
    cost = 6.0
    s = tokenless(
        small,
        {"kyc_paid_by": payer, "kyc_cost_fiat": cost, "ejection_strikes": 1, "kyc_duplicate_detection": 0.4},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 10)
    net.run()
    fiat = net.fiat
    applications = fiat.applications
    assert applications > net.n_trainers  # genesis and re-applications: the same draws for every payer
    assert fiat.kyc_received_fiat == pytest.approx(cost * applications)
    assert fiat.kyc_paid_fiat.sum() == pytest.approx(share * cost * applications)
    assert fiat.kyc_orchestrator_fiat == pytest.approx((1 - share) * cost * applications)
    assert fiat.network_cost_fiat() == pytest.approx(
        fiat.fees_paid_fiat + fiat.wages_paid_fiat + (1 - share) * cost * applications
    )
    # Each identity's profit: fees + wages − its KYC share − work + outside gains − shared training.
    net.charge_work()
    expected = (
        fiat.fees_fiat
        + fiat.wages_fiat
        - fiat.kyc_paid_fiat
        - net.work_cost_fiat
        + net.gain_fiat
        - net.extra_cost_fiat
    )
    np.testing.assert_allclose(identity_profit_fiat(net), expected)


# -- fees and wages ----------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["accepted_submission", "participation_round"])
def test_fees_pay_each_accepted_submission_or_each_round_of_participation(small, basis):
    fee, wage = 3.5, 11.0
    s = tokenless(
        small,
        {
            "fee_basis": basis,
            "service_fee_fiat": fee,
            "budget_fiat_per_round": 1e6,
            "validator_wage_fiat_per_round": wage,
            "ejection_strikes": 2,
        },
    )
    net = FLNetwork(s, 12)
    net.run()
    nt = net.n_trainers
    submissions, flags = net.active_rounds[:nt], net.flags[:nt]
    units = submissions - flags if basis == "accepted_submission" else submissions
    np.testing.assert_allclose(net.fiat.fees_fiat[:nt], fee * units)
    np.testing.assert_allclose(net.fiat.wages_fiat[nt:], wage * net.active_rounds[nt:])
    assert not net.fiat.fees_fiat[nt:].any() and not net.fiat.wages_fiat[:nt].any()
    assert net.fiat.returned_fiat == pytest.approx(1e6 * s.rounds - fee * units.sum())


def test_a_binding_budget_scales_every_fee_of_the_round_pro_rata(small):
    fee, budget = 10.0, 55.0
    s = tokenless(small, {"service_fee_fiat": fee, "budget_fiat_per_round": budget})
    net = FLNetwork(s, 13)
    nt = net.n_trainers
    for _ in range(s.rounds):
        before = net.fiat.fees_fiat[:nt].copy()
        net.step()
        units = net.recorder.series("accepted")[-1]
        assert fee * units > budget  # it binds in every round of this run
        paid = net.fiat.fees_fiat[:nt] - before
        accepted = paid > 0
        assert np.count_nonzero(accepted) == units
        np.testing.assert_allclose(paid[accepted], fee * min(1.0, budget / (fee * units)))
        assert net.fiat.round_fees_fiat == pytest.approx(budget)
    assert net.fiat.returned_fiat == pytest.approx(0.0, abs=1e-9)
    net.fiat.check()


# -- books, KPIs, trajectory -------------------------------------------------------------------


def test_an_owner_counts_every_round_from_admission_to_the_end_even_ejected(small):
    s = tokenless(
        small,
        {"ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": 10},
        OFTEN_FLAGGED,
    )
    net = FLNetwork(s, 14)
    saw_barred = False
    for _ in range(s.rounds):
        net.step()
        saw_barred |= bool((net.owner_state == BARRED).any())
    assert saw_barred and net.ejected_identities > 0
    net.close_books()
    profit, capital_rounds, owner_rounds = net.books.totals[:, :3].T
    np.testing.assert_allclose(owner_rounds, net.initial_owner_counts * s.rounds)
    assert not capital_rounds.any()
    table = run_scenario(s, 14).strategies
    np.testing.assert_allclose(
        table["profit_fiat_per_round_per_owner"], profit / (net.initial_owner_counts * s.rounds)
    )
    assert table["pi"].isna().all() and table["stake_share"].isna().all()
    assert (table["regime"] == "tokenless").all()


def nan_reason(name: str) -> str | None:
    """The NAN_REASONS entry that covers KPI ``name`` (``<s>`` patterns included), or None."""
    if name in NAN_REASONS:
        return NAN_REASONS[name]
    for pattern, reason in NAN_REASONS.items():
        head, sep, tail = pattern.partition("<s>")
        if sep and name.startswith(head) and name.endswith(tail):
            return reason
    return None


def test_kpis_absent_in_one_regime_are_nan_there_and_present_in_the_other(small):
    token = run_scenario(small, 15).kpis
    free = run_scenario(tokenless(small), 15).kpis
    assert token.keys() == free.keys()
    strategies = ("honest", "lazy", "sybil", "poisoning", "honest_validator", "copying_validator")
    token_only = [*TOKEN_KPIS, "slashed_fiat_per_round"] + [
        f"{p}_{s}" for p in ("pi", "stake_share") for s in strategies
    ]
    for name in token_only:
        assert math.isnan(free[name]) and not math.isnan(token[name]), name
        assert "the tokenless regime has no token" in nan_reason(name)
    for name in ORCHESTRATOR_KPIS:
        assert math.isnan(token[name]) and not math.isnan(free[name]), name
        assert "the token regime has no orchestrator" in nan_reason(name)
    for name in ("network_cost_fiat_per_round", "ejected_identities", "margin_trainers", "margin_validators"):
        assert not math.isnan(token[name]) and not math.isnan(free[name]), name
    # Tokenless margins compare fiat profit per owner per round.
    best = max(
        free["profit_fiat_per_round_lazy"],
        free["profit_fiat_per_round_sybil"],
        free["profit_fiat_per_round_poisoning"],
    )
    assert free["margin_trainers"] == pytest.approx(free["profit_fiat_per_round_honest"] - best)
    assert token["network_cost_fiat_per_round"] == pytest.approx(token["minted_tokens"] / small.rounds)
    for kpis in (token, free):
        assert all(nan_reason(name) for name, value in kpis.items() if math.isnan(value))


def test_the_tokenless_trajectory_adds_up_to_the_run_totals(small):
    s = tokenless(
        small,
        {"ejection_strikes": 2, "kyc_paid_by": "split", "budget_fiat_per_round": 40.0},
        OFTEN_FLAGGED,
    )
    result = run_scenario(s, 16, trajectory=True)
    t, k = result.trajectory, result.kpis
    assert t["fees_paid_fiat"].sum() == pytest.approx(k["fees_paid_fiat"])
    assert t["wages_paid_fiat"].sum() == pytest.approx(k["wages_paid_fiat"])
    assert t["kyc_paid_fiat"].sum() == pytest.approx(k["kyc_paid_fiat"])  # round 0 holds genesis KYC
    assert t["network_cost_fiat"].mean() == pytest.approx(k["network_cost_fiat_per_round"])
    assert t["ejected"].sum() == k["ejected_identities"] > 0
    assert t["readmitted"].sum() == k["readmitted_identities"] > 0
    assert (t["fees_paid_fiat"] <= 40.0 * (1 + 1e-12)).all()
    for column in ("minted_tokens", "slashed_tokens", "supply_tokens", "pi_honest", "stake_share_honest"):
        assert t[column].isna().all(), column
    assert t["profit_fiat_per_round_honest"].notna().all()
    # With no owner ever leaving the books, every round's per-owner profits average to the run's.
    assert t["profit_fiat_per_round_honest"].mean() == pytest.approx(k["profit_fiat_per_round_honest"])

    token = run_scenario(small, 16, trajectory=True).trajectory
    for column in ("fees_paid_fiat", "wages_paid_fiat", "kyc_paid_fiat", "readmitted"):
        assert token[column].isna().all(), column
    assert token["network_cost_fiat"].sum() == pytest.approx(token["minted_tokens"].sum())


def test_token_regime_kpis_are_unchanged_by_the_tokenless_regime(baseline):
    # Pinned from the code before issue 9 (`git archive 1b9f0ec`, run_scenario(baseline, 1) and the
    # adaptive variant below, seed 3): the token path must give the same numbers to the last bit.
    k = run_scenario(baseline, 1).kpis
    assert k["pi_honest"] == 0.018539756465341593
    assert k["margin_trainers"] == 0.02810952019630798
    assert k["profit_fiat_per_round_sybil"] == -14.439776704286343
    assert k["slashed_tokens"] == 7240.0 and k["burned_tokens"] == 3728.0
    assert k["mean_quality"] == 0.8638855860051358
    adaptive = with_overrides(
        baseline,
        {
            "adaptation.revision": "imitation",
            "adaptation.exit_rule": "profit_threshold",
            "adaptation.entry_candidates": 20,
            "slashing.ejection_strikes": 3,
        },
    )
    k = run_scenario(adaptive, 3).kpis
    assert k["pi_honest"] == 0.01746563188597881
    assert k["margin_trainers"] == 0.02293007465840452
    assert (k["exited_owners"], k["entered_owners"], k["slashed_tokens"]) == (23.0, 13.0, 1420.0)


# -- adaptation --------------------------------------------------------------------------------


def test_tokenless_owners_exit_below_zero_profit_and_barred_owners_wait(small):
    # No fee: poisoners lose their training cost every round (less their gain) and leave at the
    # first decision; lazy owners earn exactly 0 and stay (the outside option is 0, and the KYC
    # they paid at genesis is sunk). Honest owners all flagged in round 0 (strikes = 1) are barred
    # then and neither exit nor revise: they come back after the ban, at the end of round 0 + L.
    ban = 15
    s = tokenless(
        small,
        {
            "service_fee_fiat": 0.0,
            "kyc_cost_fiat": 5.0,
            "ejection_strikes": 1,
            "reapply": "after_ban",
            "ban_rounds": ban,
        },
        {
            "adaptation.exit_rule": "profit_threshold",
            "adaptation.revision": "imitation",
            "adaptation.revision_probability": 1.0,
            "adaptation.revision_interval_rounds": 10,
            "detection.false_positive_rate": 1.0,
            "detection.lazy_detection_rate": 0.0,
            "detection.poison_detection_rate": 0.0,
            "population.sybil_owners": 0,
            "population.copying_validators": 0,  # so that detection runs at full power: h = 1
            "dropout.trainer_dropout_probability": 0.0,
            "dropout.validator_dropout_probability": 0.0,
        },
    )
    net = FLNetwork(s, 17)
    honest = net.strategy_index[net.owner_first] == 0
    lazy = net.strategy_index[net.owner_first] == 1
    poison = net.strategy_index[net.owner_first] == 3
    net.step()
    assert (net.owner_state[honest] == BARRED).all()  # flagged at once, waiting out the ban
    for _ in range(9):
        net.step()  # the decision after round 9
    assert (net.owner_state[honest] == BARRED).all()  # barred owners neither exit nor revise
    assert (net.owner_state[poison] == OUT).all()  # paid training, earned nothing: below 0
    assert (net.owner_state[lazy] == IN).all() and (net.strategy_index[net.owner_first[lazy]] == 1).all()
    assert (net.orchestrator.exit_round[poison] == 10).all()
    while net.round <= ban:
        net.step()
    assert (net.owner_state[honest] == IN).all()  # re-admitted at the end of round L
    assert net.orchestrator.readmitted == np.count_nonzero(honest)
    net.run()
    net.close_books()
    # Poisoners count 10 owner-rounds each (until their exit); honest owners, barred at every
    # decision and finally out for good (their last ban ends past the horizon), every round.
    assert (net.orchestrator.exit_round[honest] == NEVER).all() and (net.owner_state[honest] == OUT).all()
    owner_rounds = net.books.totals[:, 2]
    assert owner_rounds[3] == 10 * np.count_nonzero(poison)
    assert owner_rounds[0] == s.rounds * np.count_nonzero(honest)


def watch_trainer_revisions(net: FLNetwork) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Record what the trainer owners' revision rule is shown at each decision: (strategy, window
    return, revising), one entry per trainer owner. A decision calls the rule for the trainers,
    then for the validators; only the first call of each pair is kept."""
    shown, calls = [], [0]
    rule = net._revise

    def watching(rng, strategy, window_return, revising, *rest):
        if calls[0] % 2 == 0:
            shown.append((strategy.copy(), window_return.copy(), revising.copy()))
        calls[0] += 1
        return rule(rng, strategy, window_return, revising, *rest)

    net._revise = watching
    return shown


def test_a_barred_owner_is_a_model_for_imitators(small):
    # One honest owner paid 1 a round for training that costs 2 earns -1 per round; one lazy owner,
    # flagged (a strike, ejected) in round 0 and barred past the first decision, earns 0 over the
    # window. The honest owner revises and can meet only the barred owner, who earned more: with
    # two returns the span is their gap, so it adopts lazy for sure. (Shown only the owners in the
    # network, it would meet nobody and keep honest: the survivorship bias of issue 9's review.)
    s = tokenless(
        small,
        {"service_fee_fiat": 1.0, "ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": 30},
        {
            "population.honest_trainers": 1,
            "population.lazy_trainers": 1,
            "population.sybil_owners": 0,
            "population.poisoning_trainers": 0,
            "population.honest_validators": 1,
            "population.copying_validators": 0,
            "costs.train_cost_fiat_per_round": 2.0,
            "detection.false_positive_rate": 0.0,
            "detection.lazy_detection_rate": 1.0,
            "dropout.trainer_dropout_probability": 0.0,
            "dropout.validator_dropout_probability": 0.0,
            "adaptation.revision": "imitation",
            "adaptation.revision_probability": 1.0,
            "adaptation.revision_interval_rounds": 10,
        },
    )
    net = FLNetwork(s, 5)
    shown = watch_trainer_revisions(net)
    for _ in range(10):
        net.step()
    assert net.owner_state.tolist()[:2] == [IN, BARRED]
    strategy, window_return, revising = shown[0]
    assert strategy.tolist() == [0, 1]
    np.testing.assert_allclose(window_return, [1.0 - 2.0, 0.0])  # fiat per owner per round
    assert revising.tolist() == [True, False]  # the barred owner is seen but does not revise
    assert net.strategy_index[net.owner_first[0]] == 1  # the honest owner now plays lazy


def test_imitators_see_ejected_owners_at_their_window_profit_and_the_estimates_count_them(small):
    # No dropout, no false positive, cheaters always caught: honest owners earn F − c every round;
    # lazy owners and poisoners are ejected at their first submission (round 0), barred until the
    # end of round 30, re-admitted, ejected again in round 31 and then out for good (the next ban
    # ends past the horizon) — never by their own choice. So at every decision each owner's window
    # return is known exactly (fiat per owner per round: lazy 0; a poisoner pays c in each window
    # where it submitted once), every ejected owner is shown to the revision rule with it, and each
    # strategy's estimate is the mean of its owners' returns, ejected owners included.
    fee, cost, window = 5.0, 2.0, 10
    s = tokenless(
        small,
        {"service_fee_fiat": fee, "ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": 30},
        {
            "population.sybil_owners": 0,
            "population.copying_validators": 0,  # detection at full power: h = 1
            "costs.train_cost_fiat_per_round": cost,
            "costs.poison_gain_fiat_per_round": 0.0,
            "detection.false_positive_rate": 0.0,
            "detection.lazy_detection_rate": 1.0,
            "detection.poison_detection_rate": 1.0,
            "dropout.trainer_dropout_probability": 0.0,
            "dropout.validator_dropout_probability": 0.0,
            "adaptation.revision": "imitation",
            "adaptation.revision_probability": 1.0,
            "adaptation.revision_interval_rounds": window,
        },
    )
    net = FLNetwork(s, 6)
    shown = watch_trainer_revisions(net)
    trainers = net.owner_is_trainer
    strategy = net.strategy_index[net.owner_first][trainers]
    honest, lazy, poison = (strategy == 0), (strategy == 1), (strategy == 3)
    poison_return = {10: -cost / window, 20: 0.0, 30: 0.0, 40: -cost / window, 50: 0.0}
    states = {}
    while net.round < s.rounds:
        net.step()
        if net.round % window == 0 and net.round < s.rounds:
            states[net.round] = net.owner_state[trainers].copy()
            returns = shown[-1][1]
            np.testing.assert_allclose(returns[honest], fee - cost)
            np.testing.assert_allclose(returns[lazy], 0.0)
            np.testing.assert_allclose(returns[poison], poison_return[net.round], atol=1e-12)
            assert not shown[-1][2][lazy | poison].any()  # ejected owners do not revise
            for s_index in (0, 1, 3):
                assert net._estimate[s_index] == pytest.approx(returns[strategy == s_index].mean(), abs=1e-12)
            assert math.isnan(net._estimate[2])  # no Sybil owner: no estimate
    assert len(shown) == 5
    assert (states[30][lazy | poison] == BARRED).all() and (states[40][lazy | poison] == OUT).all()
    assert (net.orchestrator.exit_round == NEVER).all()
    np.testing.assert_array_equal(
        net.strategy_index[net.owner_first][trainers], strategy
    )  # nobody gains by switching


def test_owners_that_chose_to_exit_are_no_models_but_barred_ones_are(small):
    # No fee: poisoners (training cost, no gain) leave at the first decision; honest owners, flagged
    # at every submission (strikes = 1), are barred at the decisions after rounds 9 and 19 (the first
    # ban ends at the end of round 15; ejected again in round 16). Lazy owners earn 0 and stay.
    cost, window = 2.0, 10
    s = tokenless(
        small,
        {"service_fee_fiat": 0.0, "ejection_strikes": 1, "reapply": "after_ban", "ban_rounds": 15},
        {
            "population.sybil_owners": 0,
            "population.copying_validators": 0,
            "costs.train_cost_fiat_per_round": cost,
            "costs.poison_gain_fiat_per_round": 0.0,
            "detection.false_positive_rate": 1.0,
            "detection.lazy_detection_rate": 0.0,
            "detection.poison_detection_rate": 0.0,
            "dropout.trainer_dropout_probability": 0.0,
            "dropout.validator_dropout_probability": 0.0,
            "adaptation.revision": "imitation",
            "adaptation.revision_probability": 1.0,
            "adaptation.revision_interval_rounds": window,
            "adaptation.exit_rule": "profit_threshold",
        },
    )
    net = FLNetwork(s, 7)
    shown = watch_trainer_revisions(net)
    trainers = net.owner_is_trainer
    strategy = net.strategy_index[net.owner_first][trainers]
    honest, lazy, poison = (strategy == 0), (strategy == 1), (strategy == 3)
    for _ in range(2 * window):
        net.step()
    (_, first, _), (_, second, _) = shown
    assert (net.owner_state[trainers][poison] == OUT).all() and (
        net.owner_state[trainers][honest] == BARRED
    ).all()
    assert (net.orchestrator.exit_round[: len(strategy)][poison] == window).all()  # at the first decision
    assert np.isnan(first[poison]).all() and np.isnan(second[poison]).all()  # gone by choice: no one's model
    np.testing.assert_allclose(first[honest], -cost / window)  # trained in round 0, then barred
    np.testing.assert_allclose(second[honest], -cost / window)  # trained in round 16, then barred
    np.testing.assert_allclose(second[lazy], 0.0)
    # The estimate of honest play counts the barred owners' rounds at zero income.
    assert net._estimate[0] == pytest.approx(-cost / window)


def test_seeing_ejected_owners_makes_the_side_by_side_owners_more_honest(monkeypatch):
    # Issue 9's review: imitators shown only the owners in the network (the survivors: lazy owners
    # earning fees, not those ejected and earning nothing) drift to free-riding. The default
    # side-by-side's adaptive tokenless runs, on their own seeds, with ejected owners shown (the
    # model) against survivors only: the final honest share of trainer owners rises in each mix, and
    # over all runs by more than twice the standard error of the paired differences.
    sweep = load_sweep(ROOT / "scenarios" / "study-regimes.toml")
    design = Design(sweep)
    runs = [
        run
        for run in plan_runs(sweep, design, np.zeros(len(design) * sweep.replications, dtype=bool))
        if regime_of(sweep.base, run.values) == "tokenless"
        and run.values.get("adaptation.revision") == "imitation"
    ]
    assert runs, "the side-by-side has no adaptive tokenless design"

    def final_honest_shares() -> np.ndarray:
        return np.array(
            [
                run_scenario(with_overrides(sweep.base, run.values), run.seed).kpis[
                    "honest_trainer_share_final"
                ]
                for run in runs
            ]
        )

    seen = final_honest_shares()
    monkeypatch.setattr(FLNetwork, "_measured_owners", lambda net: net.owner_state == IN)
    survivors = final_honest_shares()
    gain = seen - survivors
    mixes = np.array([run.mix for run in runs])
    for mix in np.unique(mixes):
        assert gain[mixes == mix].mean() > 0, mix
    assert gain.mean() > 2 * gain.std(ddof=1) / math.sqrt(gain.size)


def test_tokenless_entrants_apply_to_kyc(small):
    # Candidates who join pay KYC for each identity; with q = 1 a Sybil candidate keeps one.
    s = tokenless(
        small,
        {"kyc_duplicate_detection": 1.0, "kyc_cost_fiat": 1.0, "ejection_strikes": small.rounds + 1},
        {
            "adaptation.entry_candidates": 30,
            "adaptation.entry_rate": 1.0,
            "adaptation.entry_sybil_share": 0.5,
            "adaptation.revision_interval_rounds": 5,
        },
    )
    net = FLNetwork(s, 18)
    net.run()
    k = s.population.sybil_identities_per_owner
    joined = (net.join_round[net.owner_first] > 0) & (net.join_round[net.owner_first] != NEVER)
    sybil = net.strategy_index[net.owner_first] == 2
    assert (joined & sybil).any() and (joined & ~sybil).any()
    assert (net.live_identities[joined & sybil] == 1).all()
    applied = int(net.owner_size[joined].sum())
    starting = s.trainer_identities
    assert net.fiat.applications == starting + applied
    assert net.orchestrator.refused == (s.population.sybil_owners + np.count_nonzero(joined & sybil)) * (
        k - 1
    )


@pytest.mark.parametrize(
    ("cost", "payer", "join"),
    [(0.0, "applicant", True), (1e6, "applicant", False), (1e6, "orchestrator", True)],
)
def test_a_candidate_enters_only_if_the_fees_pay_back_its_own_kyc_share(small, cost, payer, join):
    # Honest candidates expect a positive profit per round (fee 5 per accepted submission against a
    # training cost of 2); a KYC they must pay themselves of 1e6 is more than the rounds left repay.
    s = tokenless(
        small,
        {"kyc_cost_fiat": cost, "kyc_paid_by": payer},
        {
            "adaptation.entry_candidates": 10,
            "adaptation.entry_rate": 1.0,
            "adaptation.entry_honest_share": 1.0,
            "adaptation.entry_lazy_share": 0.0,
            "adaptation.entry_sybil_share": 0.0,
            "adaptation.entry_poisoning_share": 0.0,
        },
    )
    assert (run_scenario(s, 19).kpis["entered_owners"] == 10) is join


@pytest.mark.parametrize("regime", ["token", "tokenless"])
def test_trainer_owner_counts_are_the_strategy_tables(regime):
    scenario = with_overrides(
        load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml"), {"regime.kind": regime}
    )
    result = run_scenario(scenario)
    trainers = result.strategies[result.strategies["role"] == "trainer"]
    assert result.kpis["trainer_owners_initial"] == trainers["owners"].sum() == 90
    assert result.kpis["trainer_owners_final"] == trainers["owners_final"].sum()
    assert result.kpis["trainer_owners_retained"] == result.kpis["trainer_owners_final"]  # nobody entered


def test_retained_trainer_owners_are_starters_still_in_not_entrants():
    """A network that loses its starting owners and takes in others does not 'keep' them."""
    scenario = with_overrides(
        load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml"),
        {
            "adaptation.revision": "imitation",
            "adaptation.exit_rule": "profit_threshold",
            "adaptation.entry_candidates": 40,
            "adaptation.entry_rate": 1.0,
        },
    )
    net = FLNetwork(scenario, 3)
    net.run()
    k = run_kpis(net)
    starters = net.owner_is_trainer & (net.join_round[net.owner_first] == 0)
    assert k["trainer_owners_retained"] == np.count_nonzero(starters & (net.owner_state == IN))
    assert net.entered_owners > 0 and k["trainer_owners_final"] > k["trainer_owners_retained"]
    assert k["trainer_owners_retained"] <= k["trainer_owners_initial"]


def test_one_strike_for_good_empties_the_network_of_honest_trainers_too():
    """With false positives, a gatekeeper that ejects for good at the first flag loses its honest
    trainers as well: expected survivors after T rounds, n·(1 − (1 − d)·ε·h)^T."""
    s = with_overrides(
        load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml"),
        {
            "regime.ejection_strikes": 1,
            "regime.reapply": "never",
            "detection.false_positive_rate": 0.05,
            "dropout.validator_dropout_probability": 0.0,
            "rounds": 100,
        },
    )
    finals = [run_scenario(s, seed).kpis for seed in range(20)]
    honest_left = np.mean([k["trainer_owners_final"] for k in finals])  # cheaters are gone long before
    expected = 70 * (1 - 0.92 * 0.05 * 0.8) ** 100
    assert abs(honest_left - expected) < 4 * math.sqrt(expected / 20) + 0.5
    assert all(k["final_quality"] > 0.9 for k in finals)  # the quality index does not see the loss


def test_a_tokenless_scenario_is_not_refused_for_rules_of_the_sections_it_ignores():
    base = load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml")
    odd_token_sections = {"rewards.rule": "stake_weighted", "staking.min_trainer_stake_tokens": 0.0}
    result = run_scenario(with_overrides(base, {**odd_token_sections, "rounds": 5}))
    assert result.kpis["trainer_owners_final"] > 0
    with pytest.raises(ScenarioError, match="stake_weighted"):  # the same keys bind a token network
        with_overrides(base, {**odd_token_sections, "regime.kind": "token"})
