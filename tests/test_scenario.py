"""The scenario schema: defaults, loading, overrides and refusal of bad input."""

from __future__ import annotations

import dataclasses

import pytest

from model import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides
from model.params import field_docs
from model.scenario import scenario_keys

from .conftest import ROOT


def test_every_shipped_scenario_and_sweep_file_loads():
    from analysis.sweep.sweepfile import Sweep, load_sweep

    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert len(files) >= 3
    for path in files:
        if "[sweep]" in path.read_text(encoding="utf-8"):
            assert isinstance(load_sweep(path), Sweep)
        else:
            assert isinstance(load_scenario(path), Scenario)


def test_baseline_is_about_100_trainers_and_10_validators(baseline):
    assert 90 <= baseline.trainer_identities <= 110
    assert baseline.validators == 10


def test_every_field_has_a_docstring_and_allowed_values():
    rows = field_docs(Scenario)
    assert len(rows) > 40
    for key, allowed, _default, doc in rows:
        assert doc.strip(), key
        assert allowed.strip(), key


def test_defaults_build_a_valid_scenario():
    assert scenario_from_dict({}) == Scenario()


def test_override_replaces_only_the_named_key(baseline):
    s = with_overrides(baseline, {"slashing.slash_fraction": 0.3})
    assert s.slashing.slash_fraction == 0.3
    assert dataclasses.replace(s, slashing=baseline.slashing) == baseline


def test_integer_valued_float_is_accepted_for_an_int_field():
    assert scenario_from_dict({"rounds": 20.0}).rounds == 20


def test_int_is_accepted_for_a_float_field():
    s = scenario_from_dict({"slashing": {"slash_fraction": 1}})
    assert s.slashing.slash_fraction == 1.0 and isinstance(s.slashing.slash_fraction, float)


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"slashing": {"slash_fraction": 1.5}}, ["slashing.slash_fraction", "1.5", "[0, 1]"]),
        (
            {"staking": {"min_trainer_stake_tokens": -5}},
            ["staking.min_trainer_stake_tokens", "-5", "0, or a number in [1e-09, 1e+15]"],
        ),
        ({"slahsing": {"slash_fraction": 0.2}}, ["unknown key 'slahsing'", "did you mean 'slashing'"]),
        ({"slashing": {"slash_fraktion": 0.2}}, ["unknown key 'slashing.slash_fraktion'", "slash_fraction"]),
        ({"rounds": "many"}, ["rounds = 'many'", "a whole number"]),
        ({"rounds": True}, ["rounds = True", "a whole number"]),
        ({"rounds": 2.5}, ["rounds = 2.5", "a whole number"]),
        ({"rewards": {"rule": "quadratic"}}, ["rewards.rule = 'quadratic'", "'equal'", "'yuma'"]),
        ({"population": 5}, ["population must be a table"]),
        (
            {"emission": {"owner_share": 0.5, "trainer_share": 0.5, "validator_share": 0.5}},
            ["emission.owner_share + emission.trainer_share + emission.validator_share", "add up to 1"],
        ),
        ({"token": {"genesis_supply_tokens": 10}}, ["token.genesis_supply_tokens = 10", "needs"]),
        (
            {"population": {"honest_validators": 0, "copying_validators": 0}},
            ["at least one validator"],
        ),
        ({"dropout": {"trainer_dropout_probability": 1.0}}, ["trainer_dropout_probability = 1.0", "[0, 1)"]),
        (
            {"rewards": {"rule": "stake_weighted"}, "staking": {"min_trainer_stake_tokens": 0}},
            ["'stake_weighted' is not allowed with staking.min_trainer_stake_tokens = 0"],
        ),
        ({"staking": {"unbonding_period_rounds": 10**11}}, ["unbonding_period_rounds", "1_000_000"]),
        ({"population": {"sybil_owners": 5000, "sybil_identities_per_owner": 1000}}, ["trainer identities"]),
        ({"regime": {"kind": "fiat"}}, ["regime.kind = 'fiat'", "'token', 'tokenless'"]),
        (
            {"regime": {"reapply": "later"}},
            ["regime.reapply = 'later'", "'new_identity'", "'after_ban'", "'never'"],
        ),
        ({"regime": {"ban_forever": 1}}, ["regime.ban_forever = 1", "true or false"]),
        ({"regime": {"ejection_strikes": 0}}, ["regime.ejection_strikes = 0", "[1, 1_000_000]"]),
        ({"regime": {"kyc_duplicate_detection": 1.5}}, ["regime.kyc_duplicate_detection = 1.5", "[0, 1]"]),
        ({"regime": {"service_fee_fiat": -1}}, ["regime.service_fee_fiat = -1", "[0, 1_000_000_000_000]"]),
        ({"regime": {"budget_fiat_per_round": 1e19}}, ["regime.budget_fiat_per_round = 1e+19", "[0, 1e+18]"]),
    ],
)
def test_bad_values_are_refused_with_key_value_and_what_is_allowed(data, fragments):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_reported_at_once():
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"rounds": 0, "slashing": {"slash_fraction": 2}, "oops": 1})
    assert len(info.value.problems) == 3


def test_override_with_unknown_key_is_refused(baseline):
    with pytest.raises(ScenarioError, match=r"unknown key 'slashing\.fraction'"):
        with_overrides(baseline, {"slashing.fraction": 0.2})


def test_unreadable_and_malformed_files_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("rounds = = 3\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)


def test_scenario_keys_are_dotted_leaves():
    keys = scenario_keys()
    assert "slashing.slash_fraction" in keys
    assert "population" not in keys


def test_a_retired_key_is_refused_naming_what_replaced_it():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"costs": {"capital_cost_rate_per_round": 0.001}})
    (problem,) = caught.value.problems
    assert "'costs.capital_cost_rate_per_round' was retired" in problem
    assert "costs.outside_option_return_per_round" in problem


def test_entry_weights_are_normalised_so_one_can_be_swept_alone():
    from model.scenario import candidate_owners

    s = scenario_from_dict(
        {
            "adaptation": {
                "entry_candidates": 10,
                "entry_honest_share": 0.3,
                "entry_lazy_share": 0.1,
                "entry_sybil_share": 0.0,
                "entry_poisoning_share": 0.1,
            }
        }
    )
    assert candidate_owners(s) == {"honest": 6, "lazy": 2, "sybil": 0, "poisoning": 2}
    with pytest.raises(ScenarioError, match="give some strategy a weight > 0"):
        scenario_from_dict(
            {
                "adaptation": {
                    "entry_candidates": 5,
                    "entry_honest_share": 0,
                    "entry_lazy_share": 0,
                    "entry_sybil_share": 0,
                    "entry_poisoning_share": 0,
                }
            }
        )


def test_the_tokenless_baseline_is_the_baseline_network_under_an_orchestrator(baseline):
    from model.scenario import genesis_allocation_tokens

    tokenless = load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml")
    assert tokenless.regime.kind == "tokenless" and baseline.regime.kind == "token"
    for section in ("rounds", "seed", "population", "detection", "behaviour", "quality", "costs", "dropout"):
        assert getattr(tokenless, section) == getattr(baseline, section), section
    r = tokenless.regime
    assert r.budget_fiat_per_round >= r.service_fee_fiat * tokenless.trainer_identities  # never binds
    assert (r.kyc_cost_fiat, r.kyc_paid_by, r.ejection_strikes, r.ban_rounds) == (5.0, "applicant", 3, 50)
    assert (r.reapply, r.kyc_duplicate_detection, r.validator_wage_fiat_per_round) == (
        "new_identity",
        0.5,
        25.0,
    )
    assert genesis_allocation_tokens(tokenless) == 0.0 < genesis_allocation_tokens(baseline)


# -- issue 10: [stakes] and [yuma] -----------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (
            {"stakes": {"trainer_distribution": "listed"}},
            ["stakes.trainer_distribution = 'listed'", "'pareto'"],
        ),
        ({"stakes": {"validator_distribution": "zipf"}}, ["'fixed', 'lognormal', 'pareto', 'listed'"]),
        ({"stakes": {"lognormal_sigma": 0}}, ["stakes.lognormal_sigma = 0", "(0, 4]"]),
        ({"stakes": {"pareto_tail_index": 0.4}}, ["stakes.pareto_tail_index = 0.4", "[0.5, 100]"]),
        ({"stakes": {"delegation": "random"}}, ["stakes.delegation = 'random'", "'by_stake', 'equal'"]),
        ({"stakes": {"validator_take": 1.2}}, ["stakes.validator_take = 1.2", "[0, 1]"]),
        ({"stakes": {"delegated_tokens": -1}}, ["stakes.delegated_tokens = -1", "0, or a number"]),
        ({"yuma": {"quality_persistence": 1.0}}, ["yuma.quality_persistence = 1.0", "[0, 1)"]),
        ({"yuma": {"evaluation_effort": 0}}, ["yuma.evaluation_effort = 0", "(0, 100]"]),
        ({"yuma": {"bonds_moving_average": 0.5}}, ["yuma.bonds_moving_average = 0.5", "[0, 1_000_000]"]),
        ({"yuma": {"validator_slash_rounds": 0}}, ["yuma.validator_slash_rounds = 0", "[1, 1_000_000]"]),
        ({"yuma": {"alpha_sigmoid_steepness": 2e4}}, ["yuma.alpha_sigmoid_steepness", "[-10_000, 10_000]"]),
        ({"yuma": {"cabal_trainers": "honest"}}, ["yuma.cabal_trainers = 'honest'", "'lazy', 'sybil'"]),
        ({"yuma": {"yuma3": 1}}, ["yuma.yuma3 = 1", "true or false"]),
    ],
)
def test_bad_stakes_and_yuma_values_are_refused(data, fragments):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_yuma_is_a_reward_rule_and_its_sections_default_to_subtensors_values():
    s = scenario_from_dict({"rewards": {"rule": "yuma"}})
    assert s.rewards.rule == "yuma"
    y = s.yuma
    assert (y.kappa, y.bond_penalty, y.bonds_moving_average) == (0.5, 1.0, 900_000)
    assert (y.yuma3, y.liquid_alpha, y.alpha_low, y.alpha_high) == (False, False, 0.7, 0.9)
    assert s.stakes.validator_take == 0.18 and s.stakes.validator_distribution == "fixed"


def test_a_listed_stake_per_validator_is_required_naming_both_counts():
    data = {
        "population": {"honest_validators": 3, "copying_validators": 2},
        "stakes": {"validator_distribution": "listed", "validator_stakes_tokens": [1000.0] * 4},
    }
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    (problem,) = caught.value.problems
    assert "stakes.validator_stakes_tokens lists 4 stakes" in problem
    assert "needs one per validator, 5 here (3 honest and 2 copying" in problem
    data["stakes"]["validator_stakes_tokens"] = [1000.0] * 5
    assert scenario_from_dict(data).stakes.validator_stakes_tokens == (1000.0,) * 5


def test_listing_nothing_under_listed_is_refused():
    with pytest.raises(ScenarioError, match="lists 0 stakes, which is not allowed"):
        scenario_from_dict({"stakes": {"validator_distribution": "listed"}})


@pytest.mark.parametrize("distribution", ["fixed", "lognormal", "pareto"])
def test_a_stake_list_without_listed_is_refused(distribution):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {"stakes": {"validator_distribution": distribution, "validator_stakes_tokens": [1000.0] * 10}}
        )
    (problem,) = caught.value.problems
    assert f"lists 10 stakes, which is not allowed with stakes.validator_distribution = {distribution!r}" in (
        problem
    )
    assert "set stakes.validator_distribution = 'listed' or leave the list empty" in problem


def test_alpha_low_may_not_exceed_alpha_high():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"yuma": {"alpha_low": 0.95, "alpha_high": 0.9}})
    (problem,) = caught.value.problems
    assert problem.startswith("yuma.alpha_low = 0.95 is not allowed with yuma.alpha_high = 0.9")
    assert scenario_from_dict({"yuma": {"alpha_low": 0.9, "alpha_high": 0.9}}).yuma.alpha_low == 0.9


def test_every_problem_with_stakes_is_reported_at_once():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {
                "stakes": {"validator_stakes_tokens": [1.0], "lognormal_sigma": 9},
                "yuma": {"alpha_low": 1.0, "alpha_high": 0.0, "kappa": 2},
            }
        )
    assert len(caught.value.problems) == 4


def test_a_refused_list_element_is_named_once_not_again_as_a_wrong_length():
    """A list with one bad element is refused and stands at its default (empty) while the rest is
    checked; the rule that wants one stake per validator would then name a length the file never
    gave. It is left out: only the element's own problem is listed."""
    stakes = [1000.0] * 10
    stakes[1] = "x"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {"stakes": {"validator_distribution": "listed", "validator_stakes_tokens": stakes}}
        )
    (problem,) = caught.value.problems
    assert "its element 1 is 'x'" in problem
