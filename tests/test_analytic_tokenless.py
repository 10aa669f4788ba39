"""The tokenless closed form (model/analytic.py, "The tokenless regime"): its chain, its owners, its bounds.

Exact cases are derived by hand; a Monte Carlo written from the spec's round (issue 9), not from
the chain, checks the chain and the owners' sums in every re-application mode.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from model import analytic, run_scenario, with_overrides

FEE_BASES = ("accepted_submission", "participation_round")
#: Standard errors of Monte Carlo noise allowed (a fixed seed: a fixed check, not a flaky one).
Z = 4.0


def tokenless(baseline, **overrides):
    """Baseline run by the orchestrator, with the tokenless closed form's assumptions met."""
    s = with_overrides(
        baseline,
        {
            "regime.kind": "tokenless",
            "dropout.validator_dropout_probability": 0.0,
            "regime.budget_fiat_per_round": 1e9,
            **overrides,
        },
    )
    assert analytic.assumptions_violated(s) == []
    return s


def horizon(p, d, T, strikes, **rules):
    """One identity's chain: flag probability p, dropout d, T rounds, ejected at ``strikes``."""
    return analytic.identity_horizon(p, d, T, strikes, **rules)


# -- the chain: exact cases -------------------------------------------------------------------


@pytest.mark.parametrize(("p", "d", "T"), [(0.3, 0.2, 50), (0.05, 0.0, 200), (1.0, 0.5, 7), (0.9, 0.0, 1)])
def test_one_strike_and_out_for_good_registers_geometrically(p, d, T):
    expected = sum((1.0 - (1.0 - d) * p) ** t for t in range(T))
    for rules in ({"reapply": "never"}, {"reapply": "after_ban", "ban_forever": True}):
        h = horizon(p, d, T, 1, **rules)
        assert h.registered_rounds[0] == pytest.approx(expected, rel=1e-12)
        assert h.applications[0] == 1.0


@pytest.mark.parametrize(
    ("p", "d", "T", "strikes"), [(0.3, 0.2, 60, 3), (0.5, 0.1, 40, 5), (0.2, 0.0, 10, 10)]
)
def test_never_reapplying_stays_until_the_last_strike(p, d, T, strikes):
    # Registered in round t iff fewer than s strikes in the t rounds before it.
    expected = sum(stats.binom.cdf(strikes - 1, t, (1.0 - d) * p) for t in range(T))
    h = horizon(p, d, T, strikes, reapply="never")
    assert h.registered_rounds[0] == pytest.approx(expected, rel=1e-12)
    assert h.submitting_rounds[0] == pytest.approx((1.0 - d) * expected, rel=1e-12)
    assert h.accepted_submissions[0] == pytest.approx((1.0 - d) * (1.0 - p) * expected, rel=1e-12)


def test_after_a_one_round_ban_the_owner_is_back_two_rounds_after_its_ejection():
    # T = 4, s = 1, L = 1, by hand: ejected in round 0 (a), barred in round 1, back in round 2;
    # ejected in round 1 ((1 − a)a), back in round 3; ejected in round 2 would be back in round 4: never.
    a = 0.8 * 0.5
    h = horizon(0.5, 0.2, 4, 1, reapply="after_ban", ban_rounds=1)
    r2 = (1 - a) ** 2 + a
    expected = [1.0, 1 - a, r2, r2 * (1 - a) + (1 - a) * a]
    np.testing.assert_allclose(h.registered[:, 0], expected, rtol=1e-12)
    assert h.applications[0] == pytest.approx(1 + a + (1 - a) * a, rel=1e-12)


@pytest.mark.parametrize("T", [1, 2, 30])
def test_a_new_identity_never_refused_stays_registered_and_pays_a_kyc_per_ejection(T):
    p, d = 0.4, 0.1
    h = horizon(p, d, T, 1, reapply="new_identity", duplicate_detection=0.0, ban_rounds=5)
    np.testing.assert_allclose(h.registered[:, 0], 1.0)
    # Always registered, so ejected with a every round; the last round's ejection applies no more.
    assert h.applications[0] == pytest.approx(1 + (1 - d) * p * (T - 1), rel=1e-12)


@pytest.mark.parametrize(("strikes", "ban", "forever"), [(1, 3, False), (2, 0, False), (3, 4, True)])
def test_a_refused_new_identity_waits_out_the_ban_having_paid_one_more_kyc(strikes, ban, forever):
    p, d, T = 0.6, 0.1, 40
    rules = {"ban_rounds": ban, "ban_forever": forever}
    new = horizon(p, d, T, strikes, reapply="new_identity", duplicate_detection=1.0, **rules)
    after = horizon(p, d, T, strikes, reapply="after_ban", **rules)
    np.testing.assert_allclose(new.registered, after.registered, rtol=1e-12)
    if strikes == 1:  # then ejections in round t are a·r_t, and each before the last round applied once more
        extra = (1 - d) * p * after.registered[:-1, 0].sum()
        assert new.applications[0] - after.applications[0] == pytest.approx(extra, rel=1e-12)
    assert new.applications[0] > after.applications[0]


def test_a_ban_to_the_horizon_is_a_ban_for_good():
    T = 25
    forever = horizon([0.3, 0.7], 0.1, T, 2, reapply="after_ban", ban_forever=True)
    for ban in (T - 1, T, 10 * T):
        h = horizon([0.3, 0.7], 0.1, T, 2, reapply="after_ban", ban_rounds=ban)
        np.testing.assert_array_equal(h.registered, forever.registered)
        np.testing.assert_array_equal(h.applications, forever.applications)


def test_more_strikes_than_rounds_is_no_ejection():
    for strikes in (12, 13, 10**6):
        h = horizon([0.0, 0.5, 1.0], 0.2, 12, strikes, reapply="new_identity", duplicate_detection=0.3)
        np.testing.assert_array_equal(h.registered, 1.0)
        np.testing.assert_array_equal(h.applications, 1.0)
    # s = T − 1 strikes: only an identity flagged in each of the first T − 1 rounds misses the last.
    h = horizon([0.5, 1.0], 0.0, 12, 11, reapply="never")
    np.testing.assert_allclose(h.registered[:, 0], [1.0] * 11 + [1.0 - 0.5**11], rtol=1e-15)
    np.testing.assert_allclose(h.registered[:, 1], [1.0] * 11 + [0.0], atol=1e-15)


@pytest.mark.parametrize(("reapply", "q"), [("new_identity", 0.0), ("new_identity", 0.6), ("after_ban", 0.0)])
def test_a_long_horizon_approaches_the_renewal_limit(reapply, q):
    # A spell lasts s/a rounds on average, then the owner waits q·L (new identity) or L (after the ban)
    # and applies 1 + q or 1 times: registered share and applications per round of the renewal process.
    p, d, strikes, ban, T = 0.2, 0.1, 3, 7, 20_000
    spell = strikes / ((1 - d) * p)
    wait, applying = (q * ban, 1 + q) if reapply == "new_identity" else (ban, 1.0)
    h = horizon(p, d, T, strikes, reapply=reapply, ban_rounds=ban, duplicate_detection=q)
    assert h.registered_rounds[0] / T == pytest.approx(spell / (spell + wait), rel=2e-3)
    assert h.applications[0] / T == pytest.approx(applying / (spell + wait), rel=2e-3)


@settings(max_examples=200, deadline=None)
@given(
    p=st.floats(0, 1),
    d=st.floats(0, 0.95),
    T=st.integers(1, 60),
    strikes=st.integers(1, 8),
    reapply=st.sampled_from(analytic.REAPPLY_MODES),
    ban=st.integers(0, 70),
    forever=st.booleans(),
    q=st.floats(0, 1),
)
def test_the_chain_is_a_probability_and_applications_count_re_entries(
    p, d, T, strikes, reapply, ban, forever, q
):
    h = horizon(p, d, T, strikes, reapply=reapply, ban_rounds=ban, ban_forever=forever, duplicate_detection=q)
    r = h.registered[:, 0]
    assert np.all(r >= -1e-12) and np.all(r <= 1 + 1e-12)
    assert r[0] == 1.0
    assert 1.0 <= h.applications[0] <= 1.0 + 2 * (T - 1) / strikes + 1e-9  # at most two per ejection
    if reapply == "never":
        assert np.all(np.diff(r) <= 1e-15)


# -- owners: exact cases --------------------------------------------------------------------------

NO_FLAGS = {
    "detection.false_positive_rate": 0.0,
    "detection.lazy_detection_rate": 0.0,
    "detection.poison_detection_rate": 0.0,
    "detection.sybil_detection_rate": 0.0,
}


@pytest.mark.parametrize("basis", FEE_BASES)
@pytest.mark.parametrize("payer", ["applicant", "orchestrator", "split"])
def test_without_flags_every_owner_is_paid_for_each_round_it_is_present(baseline, basis, payer):
    s = tokenless(
        baseline,
        rounds=40,
        **NO_FLAGS,
        **{
            "regime.fee_basis": basis,
            "regime.kyc_paid_by": payer,
            "regime.kyc_cost_fiat": 8.0,
            "regime.kyc_duplicate_detection": 0.25,
            "costs.poison_gain_fiat_per_round": 1.5,
        },
    )
    d, T, c, k = 0.08, 40, s.costs.train_cost_fiat_per_round, s.population.sybil_identities_per_owner
    kyc = 8.0 * {"applicant": 1.0, "orchestrator": 0.0, "split": 0.5}[payer]
    table = analytic.tokenless_expected_payoffs(s, fee=3.0)
    admitted = 1 + (k - 1) * 0.75
    expected = {
        "honest": (1 - d, c * (1 - d) + kyc / T),
        "lazy": (1 - d, kyc / T),
        "sybil": (admitted * (1 - d), k * kyc / T),
        "poisoning": (1 - d, (c - 1.5) * (1 - d) + kyc / T),
    }
    for name, (u, v) in expected.items():
        assert table.at[name, "units_per_round_per_owner"] == pytest.approx(u, rel=1e-12)
        assert table.at[name, "cost_fiat_per_round_per_owner"] == pytest.approx(v, rel=1e-12)
        assert table.at[name, "profit_fiat_per_round_per_owner"] == pytest.approx(3.0 * u - v, rel=1e-12)


@pytest.mark.parametrize("reapply", ["after_ban", "new_identity"])
def test_readmitted_the_next_round_with_free_kyc_is_as_good_as_never_ejected(baseline, reapply):
    rules = {"rounds": 50, "regime.kyc_cost_fiat": 0.0, "regime.reapply": reapply, "regime.ban_rounds": 0}
    ejected = analytic.tokenless_expected_payoffs(
        tokenless(baseline, **rules, **{"regime.ejection_strikes": 2})
    )
    never = analytic.tokenless_expected_payoffs(
        tokenless(baseline, **rules, **{"regime.ejection_strikes": 50})
    )
    pd.testing.assert_frame_equal(ejected, never, rtol=1e-12)


def test_validators_earn_their_wage_when_present_and_pay_their_work(baseline):
    s = with_overrides(
        tokenless(baseline),
        {
            "dropout.validator_dropout_probability": 0.1,
            "regime.validator_wage_fiat_per_round": 30.0,
            "costs.validate_cost_fiat_per_round": 12.0,
        },
    )
    table = analytic.tokenless_expected_payoffs(s, fee=1e6)
    assert table.at["honest_validator", "profit_fiat_per_round_per_owner"] == pytest.approx(18.0 * 0.9)
    assert table.at["copying_validator", "profit_fiat_per_round_per_owner"] == pytest.approx(30.0 * 0.9)
    assert (table.loc[["honest_validator", "copying_validator"], "units_per_round_per_owner"] == 0).all()


def test_one_strike_for_good_gives_the_textbook_lazy_bound(baseline):
    # F·[(1 − ε)·A_h − (1 − p)·A_l] ≥ c·A_h, A the expected fraction of the horizon registered.
    T, d = 80, 0.08
    s = tokenless(
        baseline,
        rounds=T,
        **{"regime.ejection_strikes": 1, "regime.reapply": "never", "detection.lazy_detection_rate": 0.2},
    )
    kinds = {kind.name: kind for kind in analytic.trainer_kinds(s)}
    eps, p = kinds["honest"].flag_probability, kinds["lazy"].flag_probability

    def registered_share(flag):
        a = (1 - d) * flag
        return (1 - (1 - a) ** T) / (T * a)

    A_h, A_l = registered_share(eps), registered_share(p)
    c = s.costs.train_cost_fiat_per_round
    textbook = c * A_h / ((1 - eps) * A_h - (1 - p) * A_l)
    assert analytic.tokenless_deterrence_bound_fee(s, "lazy") == pytest.approx(textbook, rel=1e-9)
    assert analytic.tokenless_participation_bound_fee(s) == pytest.approx(
        (c * (1 - d) * A_h + 5.0 / T) / ((1 - d) * (1 - eps) * A_h), rel=1e-9
    )


# -- owners: an independent Monte Carlo of the spec's round ---------------------------------------


def simulate_owners(s, owners: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Per owner of each trainer strategy, per round of the horizon: fee units of both bases and v.

    Written from the spec's round (issue 9, steps 1–8), one boolean per identity, not from the chain.
    """
    rg, T = s.regime, s.rounds
    d, q, strikes = s.dropout.trainer_dropout_probability, rg.kyc_duplicate_detection, rg.ejection_strikes
    kyc = rg.kyc_cost_fiat * {"applicant": 1.0, "orchestrator": 0.0, "split": 0.5}[rg.kyc_paid_by]
    out = {}
    for kind in analytic.trainer_kinds(s):
        if not kind.identities:
            continue
        k = kind.identities_per_owner
        shape = (owners, k)
        registered = np.ones(shape, dtype=bool)
        registered[:, 1:] = rng.random((owners, k - 1)) >= q  # genesis: 2nd..k-th refused with q
        applications = np.full(owners, float(k))
        flags = np.zeros(shape, dtype=np.int64)
        back_from = np.full(shape, -1)  # round from which a barred identity is registered again
        accepted, submitting, trained = np.zeros(owners), np.zeros(owners), np.zeros(owners)
        for t in range(T):
            submits = registered & (rng.random(shape) >= d)
            flagged = submits & (rng.random(shape) < kind.flag_probability)
            submitting += submits.sum(axis=1)
            accepted += (submits & ~flagged).sum(axis=1)
            trained += submits.any(axis=1)
            flags += flagged
            ejected = flagged & (flags >= strikes)
            registered &= ~ejected
            flags[ejected] = 0
            if t == T - 1:
                break
            waiting = np.zeros(shape, dtype=bool)
            if rg.reapply == "new_identity":
                applications += ejected.sum(axis=1)
                refused = ejected & (rng.random(shape) < q)
                registered |= ejected & ~refused
                waiting = refused
            elif rg.reapply == "after_ban":
                waiting = ejected
            if not rg.ban_forever and t + rg.ban_rounds < T - 1:
                back_from[waiting] = t + rg.ban_rounds + 1
            back = back_from == t + 1
            registered |= back
            applications += back.sum(axis=1)
            back_from[back] = -1
        cost = kind.train_cost_fiat * submitting + kyc * applications
        if kind.name == "sybil" and s.behaviour.sybil_update == "honest":
            cost += s.costs.train_cost_fiat_per_round * trained
        if kind.name == "poisoning":
            cost -= s.costs.poison_gain_fiat_per_round * accepted
        out[kind.name] = pd.DataFrame(
            {"accepted_submission": accepted / T, "participation_round": submitting / T, "cost": cost / T}
        )
    return out


def assert_within_band(sample: pd.Series, expected: float, what: str):
    mean, se = sample.mean(), sample.std(ddof=1) / math.sqrt(len(sample))
    slack = 1e-9 * max(1.0, abs(expected))  # zero-variance figures differ only by rounding
    assert abs(mean - expected) <= Z * se + slack, (
        f"{what}: simulated {mean:.6g} ± {se:.2g}, closed form {expected:.6g}"
    )


MONTE_CARLO_BASE = {
    "rounds": 30,
    "population.honest_validators": 4,
    "population.copying_validators": 1,
    "population.sybil_identities_per_owner": 3,
    "dropout.trainer_dropout_probability": 0.15,
    "detection.false_positive_rate": 0.1,
    "detection.lazy_detection_rate": 0.5,
    "detection.poison_detection_rate": 0.3,
    "detection.sybil_detection_rate": 0.25,
    "costs.train_cost_fiat_per_round": 4.0,
    "costs.poison_gain_fiat_per_round": 2.5,
    "regime.kyc_cost_fiat": 3.0,
    "regime.kyc_paid_by": "split",
    "regime.ejection_strikes": 2,
    "regime.ban_rounds": 4,
}
MONTE_CARLO_CASES = [
    ("never", False, 0.0, "honest"),
    ("never", False, 0.0, "cheap"),
    *[
        (reapply, forever, q, "honest")
        for reapply in ("new_identity", "after_ban")
        for forever in (False, True)
        for q in (0.0, 0.5, 1.0)
    ],
    ("new_identity", False, 0.5, "cheap"),
]


@pytest.mark.parametrize(("reapply", "forever", "q", "sybil_update"), MONTE_CARLO_CASES)
def test_the_closed_form_matches_a_monte_carlo_of_the_round(baseline, reapply, forever, q, sybil_update):
    s = tokenless(
        baseline,
        **MONTE_CARLO_BASE,
        **{
            "regime.reapply": reapply,
            "regime.ban_forever": forever,
            "regime.kyc_duplicate_detection": q,
            "behaviour.sybil_update": sybil_update,
        },
    )
    rng = np.random.default_rng([20_261_201, MONTE_CARLO_CASES.index((reapply, forever, q, sybil_update))])
    simulated = simulate_owners(s, 40_000, rng)
    for basis in FEE_BASES:
        table = analytic.tokenless_expected_payoffs(with_overrides(s, {"regime.fee_basis": basis}))
        assert set(table.index) == set(simulated) | {"honest_validator", "copying_validator"}
        for name, sample in simulated.items():
            assert_within_band(
                sample[basis], table.at[name, "units_per_round_per_owner"], f"{name} u ({basis})"
            )
            assert_within_band(sample["cost"], table.at[name, "cost_fiat_per_round_per_owner"], f"{name} v")


# -- the simulation: FLNetwork in the tokenless regime ---------------------------------------------

SEEDS = 50
#: Two-sided t-interval of the seeds' mean (a deterministic seed set: a fixed check, not a flaky one).
CONFIDENCE = 0.999
#: A short horizon, many owners, frequent flags, short bans and a dear KYC: a one-round error in the
#: timing of ejection or re-admission moves the profits by several standard errors.
SIMULATED_BASE = {
    "rounds": 20,
    "population.honest_trainers": 100,
    "population.lazy_trainers": 100,
    "population.sybil_owners": 60,
    "population.sybil_identities_per_owner": 3,
    "population.poisoning_trainers": 100,
    "population.honest_validators": 3,
    "population.copying_validators": 1,
    "detection.false_positive_rate": 0.3,
    "detection.lazy_detection_rate": 0.8,
    "costs.poison_gain_fiat_per_round": 2.0,
    "regime.ejection_strikes": 1,
    "regime.ban_rounds": 1,
    "regime.kyc_cost_fiat": 10.0,
}
SIMULATED_CASES = {
    "new identity, half the duplicates caught": {},
    "after the ban, paid per round, honest Sybil updates": {
        "regime.reapply": "after_ban",
        "regime.fee_basis": "participation_round",
        "behaviour.sybil_update": "honest",
    },
    "two strikes, out for good": {"regime.reapply": "never", "regime.ejection_strikes": 2},
    "every duplicate caught, barred for good, KYC split": {
        "regime.kyc_duplicate_detection": 1.0,
        "regime.ban_forever": True,
        "regime.ejection_strikes": 2,
        "regime.kyc_paid_by": "split",
    },
    "no duplicate caught, no ban, paid per round": {
        "regime.kyc_duplicate_detection": 0.0,
        "regime.ban_rounds": 0,
        "regime.fee_basis": "participation_round",
    },
}


@pytest.mark.parametrize("case", list(SIMULATED_CASES))
def test_simulated_profits_match_the_closed_form(baseline, case):
    s = tokenless(baseline, **{**SIMULATED_BASE, **SIMULATED_CASES[case]})
    prefix = "profit_fiat_per_round_"
    simulated = pd.DataFrame(
        [
            {
                key.removeprefix(prefix): value
                for key, value in run_scenario(s, seed).kpis.items()
                if key.startswith(prefix)
            }
            for seed in range(SEEDS)
        ]
    )
    expected = analytic.tokenless_expected_payoffs(s)["profit_fiat_per_round_per_owner"]
    assert set(expected.index) == set(simulated.columns)
    for name, value in expected.items():
        sample = simulated[name]
        mean, se = sample.mean(), sample.std(ddof=1) / math.sqrt(SEEDS)
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, SEEDS - 1) * se
        slack = 1e-9 * max(1.0, abs(value))  # validators' profit has no variance
        assert abs(mean - value) <= half + slack, (
            f"{case}, {name}: simulated {mean:.6g} ± {half:.2g}, closed form {value:.6g}"
        )


# -- linearity and the bounds ---------------------------------------------------------------------


@st.composite
def tokenless_scenarios(draw, baseline):
    return tokenless(
        baseline,
        **{
            "rounds": draw(st.integers(1, 60)),
            "dropout.trainer_dropout_probability": draw(st.floats(0, 0.9)),
            "detection.false_positive_rate": draw(st.floats(0, 0.3)),
            "detection.lazy_detection_rate": draw(st.floats(0, 1)),
            "detection.poison_detection_rate": draw(st.floats(0, 1)),
            "detection.sybil_detection_rate": draw(st.floats(0, 1)),
            "behaviour.sybil_update": draw(st.sampled_from(["cheap", "honest"])),
            "costs.train_cost_fiat_per_round": draw(st.floats(0, 20)),
            "costs.poison_gain_fiat_per_round": draw(st.floats(0, 20)),
            "regime.fee_basis": draw(st.sampled_from(FEE_BASES)),
            "regime.kyc_cost_fiat": draw(st.floats(0, 50)),
            "regime.kyc_paid_by": draw(st.sampled_from(["applicant", "orchestrator", "split"])),
            "regime.kyc_duplicate_detection": draw(st.floats(0, 1)),
            "regime.ejection_strikes": draw(st.integers(1, 6)),
            "regime.ban_rounds": draw(st.integers(0, 70)),
            "regime.ban_forever": draw(st.booleans()),
            "regime.reapply": draw(st.sampled_from(analytic.REAPPLY_MODES)),
        },
    )


def margin(s, deviation, fee):
    profit = analytic.tokenless_expected_payoffs(s, fee=fee)["profit_fiat_per_round_per_owner"]
    return profit["honest"] - profit[deviation]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), fees=st.tuples(st.floats(0, 100), st.floats(0, 100)))
def test_profit_is_linear_in_the_fee(baseline, data, fees):
    s = data.draw(tokenless_scenarios(baseline))
    lo, hi = (analytic.tokenless_expected_payoffs(s, fee=f)["profit_fiat_per_round_per_owner"] for f in fees)
    mid = analytic.tokenless_expected_payoffs(s, fee=sum(fees) / 2)["profit_fiat_per_round_per_owner"]
    pd.testing.assert_series_equal(mid, (lo + hi) / 2, rtol=1e-9, atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), deviation=st.sampled_from(["lazy", "sybil", "poisoning"]))
def test_the_deterrence_bound_is_where_honest_and_the_deviation_earn_alike(baseline, data, deviation):
    s = data.draw(tokenless_scenarios(baseline))
    bound = analytic.tokenless_deterrence_bound_fee(s, deviation)
    at_zero, at_one = margin(s, deviation, 0.0), margin(s, deviation, 1.0)
    slope = at_one - at_zero  # honest's lead grows by this much per unit of fee
    tolerance = 1e-9 * (1.0 + abs(at_zero) + abs(at_one))
    if bound == -math.inf:  # honest leads at every fee
        assert at_zero >= -tolerance and abs(slope) <= tolerance
    elif bound == math.inf:  # the deviation leads once the fee is high enough
        assert slope < tolerance
        assert slope < -tolerance or at_zero < 0
    else:
        assert abs(at_zero + bound * slope) <= tolerance * (1.0 + abs(bound))
        assert slope > 0
        # A step past the bound that the margin's own rounding cannot swallow: at a bound of 1e12
        # fiat, one more fiat moves the margin by less than the float error of its terms.
        step = max(1.0, 1e-6 * abs(bound))
        assert margin(s, deviation, max(bound, 0.0) + step) > 0


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_the_participation_bound_is_where_honest_work_starts_to_pay(baseline, data):
    s = data.draw(tokenless_scenarios(baseline))
    bound = analytic.tokenless_participation_bound_fee(s)
    honest = analytic.tokenless_expected_payoffs(s, fee=0.0).loc["honest"]
    if math.isinf(bound):
        assert honest["units_per_round_per_owner"] == 0
        assert (honest["cost_fiat_per_round_per_owner"] <= 0) == (bound < 0)
    else:
        assert bound >= 0 or honest["cost_fiat_per_round_per_owner"] < 0
        at = analytic.tokenless_expected_payoffs(s, fee=max(bound, 0.0)).at[
            "honest", "profit_fiat_per_round_per_owner"
        ]
        assert at >= -1e-9 * (1 + abs(bound))
        if bound > 0:
            assert at == pytest.approx(0.0, abs=1e-9 * (1 + bound))
        above = analytic.tokenless_expected_payoffs(s, fee=max(bound, 0.0) + 1.0)
        assert above.at["honest", "profit_fiat_per_round_per_owner"] > 0


def test_a_sybil_owner_paid_per_identity_is_not_deterred_by_any_fee(baseline):
    s = tokenless(baseline, **NO_FLAGS)
    assert analytic.tokenless_deterrence_bound_fee(s, "sybil") == math.inf
    assert margin(s, "sybil", 1e3) < 0


def test_parallel_lines_follow_the_sign_of_the_margin(baseline):
    # No flags: honest and lazy earn the same units; lazy saves the training cost at every fee.
    s = tokenless(baseline, **NO_FLAGS)
    assert analytic.tokenless_deterrence_bound_fee(s, "lazy") == math.inf
    free = with_overrides(s, {"costs.train_cost_fiat_per_round": 0.0})
    assert analytic.tokenless_deterrence_bound_fee(free, "lazy") == -math.inf


# -- assumptions and bad input --------------------------------------------------------------------


def test_tokenless_assumptions_are_reported(baseline):
    s = with_overrides(
        baseline,
        {
            "regime.kind": "tokenless",
            "regime.budget_fiat_per_round": 10.0,
            "adaptation.exit_rule": "profit_threshold",
            "detection.sybil_exposure_correlation": 0.5,
        },
    )
    text = " | ".join(analytic.assumptions_violated(s))
    for words in ("adapt", "budget may bind", "validators drop out", "rho > 0"):
        assert words in text
    assert "ejection" not in text and "liquid buffer" not in text  # the token list is not the tokenless one
    assert analytic.assumptions_violated(tokenless(baseline)) == []


def test_the_token_regime_keeps_its_own_assumptions(baseline):
    s = with_overrides(baseline, {"slashing.ejection_strikes": 3})
    assert analytic.assumptions_violated(s) == analytic.token_assumptions_violated(s)
    assert any("ejection" in line for line in analytic.assumptions_violated(s))


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"flag_probability": 1.5}, "flag_probability"),
        ({"dropout": 1.0}, "dropout"),
        ({"rounds": 0}, "rounds"),
        ({"strikes": 0}, "strikes"),
        ({"strikes": 2.5}, "strikes"),
        ({"reapply": "sometimes"}, "reapply"),
        ({"ban_rounds": -1}, "ban_rounds"),
        ({"duplicate_detection": float("nan")}, "duplicate_detection"),
    ],
)
def test_bad_chain_input_is_named(arguments, words):
    good = {"flag_probability": 0.2, "dropout": 0.1, "rounds": 10, "strikes": 2}
    with pytest.raises(ValueError, match=words):
        analytic.identity_horizon(**{**good, **arguments})


def test_bad_bound_input_is_named(baseline):
    s = tokenless(baseline)
    with pytest.raises(ValueError, match="deviation"):
        analytic.tokenless_deterrence_bound_fee(s, "honest_validator")
    with pytest.raises(ValueError, match="fee"):
        analytic.tokenless_expected_payoffs(s, fee=-1.0)
    no_lazy = with_overrides(s, {"population.lazy_trainers": 0})
    with pytest.raises(ValueError, match="no 'lazy' owners"):
        analytic.tokenless_deterrence_bound_fee(no_lazy, "lazy")
    assert "lazy" not in analytic.tokenless_expected_payoffs(no_lazy).index
