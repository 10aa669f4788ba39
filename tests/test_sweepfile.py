"""Sweep files: every problem at once with "did you mean", designs, integer levels, Morris settings."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.sweep.designs import Design
from analysis.sweep.engine import plan_runs, run_sweep
from analysis.sweep.store import StoreError
from analysis.sweep.sweepfile import ONLY_BASE, load_sweep, sweep_from_dict
from model import ScenarioError, with_overrides
from model.params import field_docs
from model.scenario import Scenario, did_you_mean, key_type, scenario_keys

from .conftest import BASELINE
from .sweeps import DESIGNS_AND_MIXES, GRID, write_sweep


def valid() -> dict:
    """A small valid sweep with one design and one mix."""
    return {
        "sweep": {"base": str(BASELINE), "design": "grid", "replications": 2, "seed": 1},
        "fixed": {"rounds": 20},
        "parameters": [{"path": "slashing.slash_fraction", "low": 0.0, "high": 0.5, "steps": 3}],
        "designs": {"strict": {"detection.false_positive_rate": 0.01}},
        "mixes": {"crowded": {"population.honest_trainers": 60}},
    }


def refusal(data: dict) -> list[str]:
    """The problems ``sweep_from_dict`` reports for ``data`` (it must refuse it)."""
    with pytest.raises(ScenarioError) as caught:
        sweep_from_dict(data, Path("."))
    return caught.value.problems


def mentioned(problems: list[str], fragment: str) -> bool:
    return any(fragment in p for p in problems)


# -- every problem at once -------------------------------------------------------------------
def add_parameter(**entry):
    return lambda d: d["parameters"].append(entry)


#: Independent mistakes: (how to make it, a fragment its problem must contain).
MISTAKES = {
    "sweep key typo": (lambda d: d["sweep"].update(replication=3), "'sweep.replication' (did you mean"),
    "replications zero": (lambda d: d["sweep"].update(replications=0), "sweep.replications = 0"),
    "misspelt path": (
        add_parameter(path="slashing.slash_fractoin", values=[0.1]),
        "(did you mean 'slashing.slash_fraction'?)",
    ),
    "parameter key typo": (
        add_parameter(path="quality.learning_rate", values=[0.1], step=3),
        ".step' (did you mean 'steps'?)",
    ),
    "log scale from zero": (
        add_parameter(path="emission.initial_tokens_per_round", low=0, high=10, steps=2, scale="log"),
        "a log scale needs low > 0",
    ),
    "range beyond the key's bounds": (
        lambda d: d["parameters"][0].update(high=1.5),
        "parameter 'slashing.slash_fraction': slashing.slash_fraction = 1.5",
    ),
    "unknown fixed key": (
        lambda d: d["fixed"].update({"costs.train_cost": 1.0}),
        "fixed: 'costs.train_cost' is not a scenario key (did you mean 'costs.train_cost_fiat_per_round'?)",
    ),
    "bad fixed value": (lambda d: d["fixed"].update(rounds=0), "fixed: rounds = 0 is not allowed"),
    "bad mix value": (
        lambda d: d["mixes"]["crowded"].update({"population.lazy_trainers": -1}),
        "mixes.crowded: population.lazy_trainers = -1",
    ),
    "unknown design key": (
        lambda d: d["designs"]["strict"].update({"rewards.rules": "equal"}),
        "designs.strict: 'rewards.rules' is not a scenario key (did you mean 'rewards.rule'?)",
    ),
    "design sets a swept key": (
        lambda d: d["designs"]["strict"].update({"slashing.slash_fraction": 0.2}),
        "designs.strict sets 'slashing.slash_fraction', which the sweep varies",
    ),
    "unknown table": (lambda d: d.update(mix={}), "unknown key 'mix' (did you mean 'mixes'?)"),
}


def test_a_file_with_many_mistakes_lists_every_one():
    data = valid()
    for make, _ in MISTAKES.values():
        make(data)
    problems = refusal(data)
    for name, (_, fragment) in MISTAKES.items():
        assert mentioned(problems, fragment), (name, problems)
    assert len(problems) >= len(MISTAKES)


@settings(max_examples=25, deadline=None)
@given(chosen=st.sets(st.sampled_from(sorted(MISTAKES)), min_size=1))
def test_any_set_of_independent_mistakes_is_reported_in_full(chosen):
    data = valid()
    for name in sorted(chosen):
        MISTAKES[name][0](data)
    problems = refusal(data)
    for name in chosen:
        assert mentioned(problems, MISTAKES[name][1]), (name, problems)
    for name in set(MISTAKES) - chosen:  # and nothing is reported that is not there
        assert not mentioned(problems, MISTAKES[name][1]), (name, problems)


def test_the_file_loader_reports_every_mistake_too(tmp_path):
    body = GRID.replace('path = "rewards.rule"', 'path = "rewards.rul"') + (
        '\n[mixes.m]\n"population.lazy_trainer" = 3\n\n[designs.d]\n"slashing.slash_fractoin" = 0.1\n'
    )
    path = write_sweep(tmp_path, body)
    path.write_text(path.read_text().replace("replications = 3", "replications = 3\npoint = 4"))
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    text = str(caught.value)
    assert "'sweep.point' (did you mean 'points'?)" in text
    assert "parameters[1].path = 'rewards.rul' is not a scenario key (did you mean 'rewards.rule'?)" in text
    assert "mixes.m: 'population.lazy_trainer' is not a scenario key" in text
    assert "designs.d: 'slashing.slash_fractoin' is not a scenario key" in text


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda d: d["sweep"].update(design="grdi"),
            "sweep.design = 'grdi' is not allowed (did you mean 'grid'?)",
        ),
        (lambda d: d["parameters"][0].update(scael="log"), "(did you mean 'scale'?)"),
        (lambda d: d["fixed"].update({"rewards.rulle": "equal"}), "(did you mean 'rewards.rule'?)"),
        (lambda d: d["fixed"].update({"slash_fraction": 0.1}), "(did you mean 'slashing.slash_fraction'?)"),
        (lambda d: d.update(design={}), "unknown key 'design' (did you mean 'designs'?)"),
    ],
)
def test_misspelt_names_get_the_closest_allowed_name(change, fragment):
    data = valid()
    change(data)
    assert mentioned(refusal(data), fragment)


def test_a_name_close_to_nothing_gets_no_suggestion():
    data = valid()
    data["parameters"][0]["path"] = "zzz"
    (problem,) = refusal(data)
    assert "did you mean" not in problem and "scenario reference" in problem


def test_did_you_mean_names_the_closest_allowed_word_or_nothing():
    assert did_you_mean("replication", ["seed", "replications"]) == " (did you mean 'replications'?)"
    assert did_you_mean("xyz", ["seed", "replications"]) == ""
    assert did_you_mean(3, ["3"]) == ""


# -- designs ---------------------------------------------------------------------------------
def test_designs_are_read_in_file_order_and_a_sweep_without_them_has_one_named_base():
    data = valid()
    data["designs"] = {"b": {"rewards.rule": "equal"}, "a": {"rewards.rule": "score_weighted"}}
    sweep = sweep_from_dict(data, Path("."))
    assert sweep.designs == (("b", {"rewards.rule": "equal"}), ("a", {"rewards.rule": "score_weighted"}))
    del data["designs"]
    assert sweep_from_dict(data, Path(".")).designs == ONLY_BASE == (("base", {}),)


def test_unquoted_dotted_keys_in_an_override_table_are_read_as_dotted_keys():
    data = valid()
    data["designs"] = {"d": {"rewards": {"rule": "equal"}}}  # TOML's reading of: rewards.rule = "equal"
    assert sweep_from_dict(data, Path(".")).designs == (("d", {"rewards.rule": "equal"}),)


def test_a_design_and_a_mix_setting_the_same_key_are_refused_naming_both():
    data = valid()
    data["designs"]["strict"]["population.honest_trainers"] = 40
    assert refusal(data) == [
        "designs.strict and mixes.crowded both set 'population.honest_trainers': "
        "a design and a mix may not set the same key"
    ]


def test_a_design_with_a_bad_value_is_refused():
    data = valid()
    data["designs"]["strict"]["detection.false_positive_rate"] = 2.0
    (problem,) = refusal(data)
    assert problem.startswith("designs.strict: detection.false_positive_rate = 2.0 is not allowed")


SHARES = ("slashing.burn_share", "slashing.insurance_share", "slashing.validator_share")


def test_cross_field_rules_are_checked_on_base_fixed_and_each_design():
    data = valid()
    data["designs"] = {"burn": dict(zip(SHARES, (1.0, 0.0, 0.0), strict=True)), "half": {SHARES[0]: 1.0}}
    (problem,) = refusal(data)
    assert problem.startswith("designs.half: slashing.burn_share + ")
    assert "= 1.5 is not allowed: the shares must add up to 1" in problem


def test_cross_field_rules_are_checked_on_every_design_and_mix_pair():
    data = valid()
    data["designs"] = {"cheap": {}, "costly": {"staking.validator_stake_tokens": 50_000.0}}
    data["mixes"] = {"few": {"population.honest_validators": 2}, "many": {"population.honest_validators": 12}}
    sweep_from_dict(data, Path("."))  # each alone fits the genesis supply …
    data["mixes"]["more"] = {"population.honest_validators": 30}
    (problem,) = refusal(data)
    # … but 32 validators staking 50 000 tokens each need more than the baseline's 1e6 tokens
    assert problem.startswith("designs.costly with mixes.more: token.genesis_supply_tokens = 1e+06")


def test_design_checks_do_not_depend_on_the_fixed_overrides_being_valid():
    data = valid()
    data["fixed"]["rounds"] = 0
    data["designs"]["strict"]["detection.false_positive_rate"] = -1.0
    problems = refusal(data)
    assert mentioned(problems, "fixed: rounds = 0")
    assert mentioned(problems, "designs.strict: detection.false_positive_rate = -1.0")


def test_values_are_checked_even_when_the_base_scenario_cannot_be_read():
    data = valid()
    data["sweep"]["base"] = "nowhere.toml"
    data["fixed"]["rounds"] = 0
    data["parameters"][0]["high"] = 2.0
    data["mixes"]["crowded"]["population.lazy_trainers"] = -1
    problems = refusal(data)
    assert mentioned(problems, "sweep.base 'nowhere.toml': cannot read the scenario file")
    assert mentioned(problems, "fixed: rounds = 0 is not allowed")
    assert mentioned(problems, "parameter 'slashing.slash_fraction': slashing.slash_fraction = 2.0")
    assert mentioned(problems, "mixes.crowded: population.lazy_trainers = -1")
    assert len(problems) == 4


# -- content hash ----------------------------------------------------------------------------
# Computed with the code of commit 939cfd7 (before designs existed) for write_sweep(GRID) and for
# write_sweep(GRID with steps = 2 + two mixes): results directories written then must still resume.
# (Both were recomputed once, deliberately, when issue 8 retired a key of scenarios/baseline.toml,
# the base GRID names; such results directories cannot resume under a model that counts differently;
# and again when issue 9 added the scenario's [regime] section and the regime KPIs: a results
# directory written before has fewer columns, and must not be resumed into a table with more;
# and again when issue 10 added the scenario's [stakes] and [yuma] sections; and when issue 11 added
# [fl] and the mechanistic KPIs; and when issue 12 added [market], [fees], [insurance] and the
# economy KPIs.)
HASH_BEFORE_DESIGNS = "3b66a2f0de9e06452340a959531a7dbad018b8d58312ad5c1b6c8ef101a091d2"
HASH_BEFORE_DESIGNS_WITH_MIXES = "859d5159bdf4a7abad31e0fd0e4091b617e17e242bc319ce2928a93a41d615d4"
MIXES = '\n[mixes.base]\n\n[mixes.no-lazy]\n"population.lazy_trainers" = 0\n'


def test_a_sweep_without_designs_keeps_the_content_hash_it_had_before_designs(tmp_path):
    assert load_sweep(write_sweep(tmp_path, GRID)).content_hash() == HASH_BEFORE_DESIGNS
    mixes = load_sweep(write_sweep(tmp_path, GRID.replace("steps = 4", "steps = 2") + MIXES, name="m.toml"))
    assert mixes.content_hash() == HASH_BEFORE_DESIGNS_WITH_MIXES


def test_designs_enter_the_content_hash(tmp_path):
    plain = load_sweep(write_sweep(tmp_path, GRID, name="a.toml"))
    with_designs = load_sweep(write_sweep(tmp_path, GRID + DESIGNS_AND_MIXES, name="b.toml"))
    other = load_sweep(
        write_sweep(
            tmp_path, GRID + DESIGNS_AND_MIXES.replace("0.8", "0.7").replace("0.2", "0.3"), name="c.toml"
        )
    )
    only_base = load_sweep(write_sweep(tmp_path, GRID + "\n[designs.base]\n", name="d.toml"))
    assert len({plain.content_hash(), with_designs.content_hash(), other.content_hash()}) == 3
    assert only_base.content_hash() == plain.content_hash()  # the same runs as no [designs] at all


# -- key types and integer levels ------------------------------------------------------------
def test_key_type_is_the_type_of_every_keys_default():
    for key, _, default, _ in field_docs(Scenario):
        assert key_type(key) is type(default), key
    assert {key_type(k) for k in scenario_keys()} == {float, int, str, bool, tuple}
    assert key_type("regime.ban_forever") is bool
    assert key_type("slashing.slash_fraction") is float
    assert key_type("population.lazy_trainers") is int
    assert key_type("rewards.rule") is str


def test_key_type_of_an_unknown_key_is_refused_with_a_suggestion():
    with pytest.raises(
        ScenarioError, match=r"'slashing\.slash_fractoin' is not a scenario key \(did you mean"
    ):
        key_type("slashing.slash_fractoin")


def with_parameter(**entry) -> dict:
    data = valid()
    data["parameters"] = [entry]
    return data


def test_a_range_over_a_whole_number_key_is_drawn_in_whole_numbers():
    sweep = sweep_from_dict(
        with_parameter(path="population.lazy_trainers", low=0, high=30, steps=4), Path(".")
    )
    (parameter,) = sweep.parameters
    assert parameter.kind == "int"
    assert parameter.grid_values() == [0, 10, 20, 30]


def test_a_real_range_over_a_whole_number_key_is_refused():
    data = with_parameter(path="population.lazy_trainers", low=0, high=30, steps=4, type="real")
    (problem,) = refusal(data)
    assert "type = 'real' is not allowed: population.lazy_trainers takes whole numbers" in problem


def test_whole_number_levels_of_a_real_key_are_accepted():
    for entry in (
        {"values": [800, 1600]},
        {"low": 800, "high": 1600, "steps": 3, "type": "int"},
    ):
        sweep = sweep_from_dict(with_parameter(path="emission.initial_tokens_per_round", **entry), Path("."))
        assert sweep.parameters[0].path == "emission.initial_tokens_per_round"


# -- morris ----------------------------------------------------------------------------------
def morris(**table) -> dict:
    data = valid()
    data["sweep"] = {"base": str(BASELINE), "design": "morris", "seed": 3, **table}
    data["parameters"] = [
        {"path": "slashing.slash_fraction", "low": 0.0, "high": 0.5},
        {"path": "quality.learning_rate", "low": 0.01, "high": 0.1},
    ]
    return data


def test_morris_takes_trajectories_and_even_levels_defaulting_to_four():
    assert sweep_from_dict(morris(points=3), Path(".")).morris_levels == 4
    assert sweep_from_dict(morris(points=3, morris_levels=6), Path(".")).morris_levels == 6
    assert sweep_from_dict(valid(), Path(".")).morris_levels is None


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({}, "sweep.points is required for the 'morris' design (the number of trajectories, >= 2)"),
        ({"points": 1}, "sweep.points = 1 is not allowed for 'morris': expected at least 2 trajectories"),
        ({"points": 4, "morris_levels": 5}, "sweep.morris_levels = 5 is not allowed: expected an even"),
        ({"points": 4, "morris_levels": 0}, "sweep.morris_levels = 0 is not allowed"),
        ({"points": 4, "morris_levels": True}, "sweep.morris_levels = True is not allowed"),
    ],
)
def test_bad_morris_settings_are_refused(table, fragment):
    (problem,) = refusal(morris(**table))
    assert fragment in problem


def test_morris_levels_belong_to_the_morris_design_only():
    data = valid()
    data["sweep"]["morris_levels"] = 4
    assert refusal(data) == ["sweep.morris_levels applies to the 'morris' design only, not to 'grid'"]


def test_morris_refuses_lists_of_values():
    data = morris(points=4)
    data["parameters"].append({"path": "rewards.rule", "values": ["equal", "stake_weighted"]})
    assert refusal(data) == [
        "the 'morris' design needs numeric ranges, not lists of values (parameter 'rewards.rule')"
    ]


def test_morris_levels_enter_the_content_hash():
    four = sweep_from_dict(morris(points=3), Path("."))
    six = sweep_from_dict(morris(points=3, morris_levels=6), Path("."))
    assert four.content_hash() != six.content_hash()
    assert dataclasses.replace(four, morris_levels=6).content_hash() == six.content_hash()


def test_the_valid_sweep_used_here_is_valid():
    sweep = sweep_from_dict(copy.deepcopy(valid()), Path("."))
    assert sweep.fixed == {"rounds": 20} and sweep.base.rounds == 20


@pytest.mark.parametrize(
    ("low", "high", "steps", "scale", "distinct"),
    [(0, 2, 5, "linear", 3), (1, 10, 10, "log", 7)],
)
def test_an_int_grid_that_would_repeat_whole_numbers_is_refused(low, high, steps, scale, distinct):
    data = valid()
    data["parameters"].append(
        {"path": "slashing.ejection_strikes", "low": low, "high": high, "steps": steps, "scale": scale}
    )
    problems = refusal(data)
    assert mentioned(problems, f"steps = {steps} repeats whole numbers")
    assert mentioned(problems, f"holds {distinct} distinct steps")


def test_an_int_grid_with_one_step_per_whole_number_is_accepted():
    data = valid()
    data["parameters"].append({"path": "slashing.ejection_strikes", "low": 0, "high": 4, "steps": 5})
    sweep = sweep_from_dict(data, Path("."))
    assert sweep.parameters[-1].grid_values() == [0, 1, 2, 3, 4]


def test_a_retired_key_is_named_as_retired_with_what_replaced_it_wherever_it_stands(tmp_path):
    body = (
        '\n[[parameters]]\npath = "costs.capital_cost_rate_per_round"\nvalues = [0.0, 0.1]\n'
        '\n[mixes.m]\n"costs.capital_cost_rate_per_round" = 0.001\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(write_sweep(tmp_path, body))
    retired = [p for p in caught.value.problems if "costs.capital_cost_rate_per_round" in p]
    assert len(retired) == 2
    assert all("was retired" in p and "costs.outside_option_return_per_round" in p for p in retired)


def test_a_mix_may_not_pick_the_regime(tmp_path):
    mixes = '\n[mixes.base]\n\n[mixes.no-token]\n"regime.kind" = "tokenless"\n'
    with pytest.raises(ScenarioError, match=r"mixes\.no-token sets 'regime\.kind', which a mix may not"):
        load_sweep(write_sweep(tmp_path, GRID + mixes))


# -- scenario fragments: include ---------------------------------------------------------------
CALIBRATED = """# fedstake calibrate scenarios/mechanistic-digits.toml: 5 seeds x 60 rounds
[detection]
lazy_detection_rate = 0.62        # 95 % CI 0.58 - 0.66
false_positive_rate = 0.04
[behaviour]
lazy_score = 0.81
[quality]
learning_rate = 0.11
"""
CALIBRATED_KEYS = {
    "detection.lazy_detection_rate": 0.62,
    "detection.false_positive_rate": 0.04,
    "behaviour.lazy_score": 0.81,
    "quality.learning_rate": 0.11,
}


def write_fragment(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sweep_including(directory: Path, include: object, body: str = GRID, *, name: str = "sweep.toml") -> Path:
    """A sweep file (``write_sweep``'s) whose ``[fixed]`` table starts with ``include = include``."""
    path = write_sweep(directory, body, name=name)
    line = f"include = {json.dumps(include)}\n"  # a JSON string or list of strings is TOML too
    path.write_text(path.read_text().replace("[fixed]\n", "[fixed]\n" + line, 1), encoding="utf-8")
    return path


def run_scenarios(sweep) -> list[Scenario]:
    """The scenario of every run of ``sweep``, built as the engine builds it."""
    design = Design(sweep)
    runs = plan_runs(sweep, design, np.zeros(len(design) * sweep.replications, dtype=bool))
    return [with_overrides(sweep.base, run.values) for run in runs]


def test_an_included_fragment_sets_the_fixed_keys_of_every_run(tmp_path):
    write_fragment(tmp_path, "calibrated.toml", CALIBRATED)
    sweep = load_sweep(sweep_including(tmp_path, "calibrated.toml"))
    assert {key: sweep.fixed[key] for key in CALIBRATED_KEYS} == CALIBRATED_KEYS
    scenarios = run_scenarios(sweep)
    assert len(scenarios) == 4 * 2 * 3
    for scenario in scenarios:
        assert scenario.detection.lazy_detection_rate == 0.62
        assert scenario.detection.false_positive_rate == 0.04
        assert scenario.behaviour.lazy_score == 0.81
        assert scenario.quality.learning_rate == 0.11
        assert scenario.rounds == 20  # the table's own keys still apply


def test_the_tables_own_keys_override_its_fragment_and_come_after_it(tmp_path):
    write_fragment(tmp_path, "f.toml", "rounds = 60\n[detection]\nfalse_positive_rate = 0.04\n")
    sweep = load_sweep(sweep_including(tmp_path, "f.toml"))  # its [fixed] sets rounds = 20
    assert sweep.fixed["rounds"] == 20 and sweep.base.rounds == 20
    assert sweep.base.detection.false_positive_rate == 0.04
    assert list(sweep.fixed)[:2] == ["rounds", "detection.false_positive_rate"]


FPR, LAZY_RATE, LAZY_SCORE = (
    "detection.false_positive_rate",
    "detection.lazy_detection_rate",
    "behaviour.lazy_score",
)


@pytest.mark.parametrize(
    ("order", "rate", "keys"),
    [
        (["a.toml", "b.toml"], 0.02, [FPR, LAZY_RATE, LAZY_SCORE]),
        (["b.toml", "a.toml"], 0.01, [FPR, LAZY_SCORE, LAZY_RATE]),
    ],
)
def test_later_fragments_override_earlier_ones(tmp_path, order, rate, keys):
    write_fragment(tmp_path, "a.toml", "[detection]\nfalse_positive_rate = 0.01\nlazy_detection_rate = 0.7\n")
    write_fragment(
        tmp_path, "b.toml", "[detection]\nfalse_positive_rate = 0.02\n[behaviour]\nlazy_score = 0.3\n"
    )
    sweep = load_sweep(sweep_including(tmp_path, order))
    assert sweep.base.detection.false_positive_rate == rate
    assert sweep.base.detection.lazy_detection_rate == 0.7  # keys only one fragment sets are kept
    assert sweep.base.behaviour.lazy_score == 0.3
    assert list(sweep.fixed)[:3] == keys  # included keys first, in the order the fragments give them


def test_a_design_and_a_mix_each_include_their_own_fragment(tmp_path):
    write_fragment(
        tmp_path, "strict.toml", "[detection]\nfalse_positive_rate = 0.01\nlazy_detection_rate = 0.9\n"
    )
    write_fragment(tmp_path, "lazy.toml", "[population]\nlazy_trainers = 6\n")
    body = (
        GRID + '\n[designs.strict]\ninclude = "strict.toml"\n"detection.lazy_detection_rate" = 0.8\n'
        '\n[designs.base]\n\n[mixes.lazy]\ninclude = ["lazy.toml"]\n\n[mixes.base]\n'
    )
    sweep = load_sweep(write_sweep(tmp_path, body))
    assert dict(sweep.designs) == {
        "strict": {"detection.false_positive_rate": 0.01, "detection.lazy_detection_rate": 0.8},
        "base": {},
    }
    assert dict(sweep.mixes) == {"lazy": {"population.lazy_trainers": 6}, "base": {}}
    assert "detection.false_positive_rate" not in sweep.fixed  # a design's fragment is the design's
    seen = {(s.detection.false_positive_rate, s.population.lazy_trainers) for s in run_scenarios(sweep)}
    default_rate = sweep.base.detection.false_positive_rate
    assert seen == {(0.01, 6), (0.01, 3), (default_rate, 6), (default_rate, 3)}


def test_included_keys_meet_the_same_overlap_rules_as_the_tables_own(tmp_path):
    write_fragment(tmp_path, "swept.toml", "[slashing]\nslash_fraction = 0.2\n")
    write_fragment(tmp_path, "fpr.toml", "[detection]\nfalse_positive_rate = 0.01\n")
    write_fragment(tmp_path, "regime.toml", '[regime]\nkind = "tokenless"\n')
    body = (
        GRID + '\n[designs.d]\ninclude = ["swept.toml", "fpr.toml"]\n'
        '\n[mixes.m]\ninclude = ["fpr.toml", "regime.toml"]\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(write_sweep(tmp_path, body))
    problems = caught.value.problems
    assert mentioned(problems, "designs.d sets 'slashing.slash_fraction', which the sweep varies")
    assert mentioned(problems, "designs.d and mixes.m both set 'detection.false_positive_rate'")
    assert mentioned(problems, "mixes.m sets 'regime.kind', which a mix may not")


def test_an_included_value_is_checked_like_the_tables_own_and_blamed_on_its_fragment(tmp_path):
    write_fragment(tmp_path, "f.toml", "[detection]\nfalse_positive_rate = 2.0\n")
    with pytest.raises(ScenarioError) as refused:
        load_sweep(sweep_including(tmp_path, "f.toml"))
    (problem,) = refused.value.problems
    assert problem.startswith("fixed.include 'f.toml': detection.false_positive_rate = 2.0 is not allowed")


def test_a_fragments_values_meet_the_rules_across_keys_in_the_scenario_the_sweep_builds(tmp_path):
    """Only each key's own type and range is the fragment's; alpha_low <= alpha_high is judged with
    the [fixed] value that comes after it, as if both were written in [fixed]."""
    write_fragment(tmp_path, "f.toml", "[yuma]\nalpha_low = 0.95\n")
    path = sweep_including(tmp_path, "f.toml")
    path.write_text(path.read_text().replace("[fixed]\n", '[fixed]\n"yuma.alpha_high" = 0.99\n', 1))
    assert load_sweep(path).base.yuma.alpha_low == 0.95
    with pytest.raises(ScenarioError, match=r"fixed: yuma\.alpha_low = 0\.95 is not allowed with"):
        load_sweep(sweep_including(tmp_path, "f.toml", name="default-high.toml"))  # alpha_high 0.9


def test_a_fragment_is_found_relative_to_the_sweep_file_not_the_working_directory(tmp_path, monkeypatch):
    write_fragment(tmp_path, "f.toml", "[detection]\nfalse_positive_rate = 0.07\n")  # a decoy in the cwd
    write_fragment(tmp_path / "sweeps", "f.toml", "[detection]\nfalse_positive_rate = 0.03\n")
    write_fragment(tmp_path / "calibrated", "c.toml", "[behaviour]\nlazy_score = 0.4\n")
    sweep_including(tmp_path / "sweeps", ["f.toml", "../calibrated/c.toml"])
    monkeypatch.chdir(tmp_path)
    sweep = load_sweep(Path("sweeps") / "sweep.toml")
    assert sweep.base.detection.false_positive_rate == 0.03
    assert sweep.base.behaviour.lazy_score == 0.4


#: A mistake in an include: (the fragment's text or None for none, the include, what the problem says).
INCLUDE_MISTAKES = {
    "missing fragment": (None, "f.toml", "cannot read the scenario fragment file"),
    "not TOML": ("[detection\n", "f.toml", "not valid TOML"),
    "too big": ("# " + "x" * (1 << 20) + "\n", "f.toml", "at most MAX_FILE_BYTES"),
    "a directory": ("<dir>", "f.toml", "it is a directory, not a regular file"),
    "not a string": (None, 3, "fixed.include = 3 is not allowed: expected the path of a scenario fragment"),
    "a list with a number": (None, ["f.toml", 2], "fixed.include = ['f.toml', 2] is not allowed"),
    "unknown key": (
        "[detection]\nlazy_detection_rat = 0.6\n",
        "f.toml",
        "'detection.lazy_detection_rat' is not a scenario key "
        "(did you mean 'detection.lazy_detection_rate'?)",
    ),
    "nested include": ('include = "g.toml"\n', "f.toml", "has its own 'include', which is not allowed: "),
    "sweep table": (
        "[sweep]\nseed = 3\n",
        "f.toml",
        "[sweep] is a sweep table: a fragment holds scenario tables only",
    ),
    "parameters table": (
        '[[parameters]]\npath = "rounds"\nvalues = [10]\n',
        "f.toml",
        "[[parameters]] is a sweep table: a fragment holds scenario tables only",
    ),
}


@pytest.mark.parametrize("mistake", sorted(INCLUDE_MISTAKES))
def test_a_bad_include_is_refused_naming_the_file_and_the_key(tmp_path, mistake):
    text, include, fragment = INCLUDE_MISTAKES[mistake]
    if text == "<dir>":
        (tmp_path / "f.toml").mkdir()
    elif text is not None:
        write_fragment(tmp_path, "f.toml", text)
    path = sweep_including(tmp_path, include)
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    problems = caught.value.problems
    assert mentioned(problems, fragment), problems
    if isinstance(include, str):  # the problem names where the include is and the fragment
        assert mentioned(problems, "fixed.include 'f.toml': "), problems
    assert str(path) in str(caught.value)  # and the sweep file


def test_a_fragment_that_cannot_be_read_is_named_by_the_path_it_was_looked_for_at(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_sweep(sweep_including(tmp_path, "nowhere/f.toml"))
    assert mentioned(
        caught.value.problems, f"fixed.include 'nowhere/f.toml': {tmp_path / 'nowhere' / 'f.toml'}: "
    )


def test_every_bad_include_of_a_sweep_is_reported_at_once(tmp_path):
    write_fragment(tmp_path, "typo.toml", "[detection]\nlazy_detection_rat = 0.6\n")
    write_fragment(tmp_path, "nested.toml", 'include = "typo.toml"\n[behaviour]\nlazy_score = 0.5\n')
    write_fragment(tmp_path, "sweep-like.toml", "[sweep]\nseed = 3\n")
    body = GRID + '\n[designs.d]\ninclude = 3\n\n[mixes.m]\ninclude = ["sweep-like.toml", "typo.toml"]\n'
    with pytest.raises(ScenarioError) as caught:
        load_sweep(sweep_including(tmp_path, ["missing.toml", "nested.toml"], body))
    problems = caught.value.problems
    for expected in (
        "fixed.include 'missing.toml': ",
        "fixed.include 'nested.toml': the fragment has its own 'include'",
        "designs.d.include = 3 is not allowed",
        "mixes.m.include 'sweep-like.toml': [sweep] is a sweep table",
        "mixes.m.include 'typo.toml': 'detection.lazy_detection_rat' is not a scenario key",
    ):
        assert mentioned(problems, expected), (expected, problems)


def test_a_key_both_a_fragment_and_its_table_set_is_no_problem(tmp_path):
    write_fragment(tmp_path, "f.toml", "rounds = 40\n[population]\nlazy_trainers = 3\n")
    assert load_sweep(sweep_including(tmp_path, "f.toml")).base.rounds == 20


def test_the_content_hash_follows_the_fragments_values_not_where_they_are_written(tmp_path):
    write_fragment(tmp_path, "f.toml", "[detection]\nfalse_positive_rate = 0.04\n")
    write_fragment(tmp_path, "d.toml", "[slashing]\nburn_share = 1.0\ninsurance_share = 0.0\n")
    write_fragment(tmp_path, "m.toml", "[population]\nlazy_trainers = 0\n")
    body = (
        GRID + '\n[designs.burn]\ninclude = "d.toml"\n"slashing.validator_share" = 0.0\n'
        '\n[mixes.base]\n\n[mixes.no-lazy]\ninclude = "m.toml"\n'
    )
    path = sweep_including(tmp_path, "f.toml", body)
    first = load_sweep(path).content_hash()
    assert load_sweep(path).content_hash() == first  # an unchanged fragment: the same sweep (resumable)
    inline = GRID + DESIGNS_AND_MIXES.split("[designs.insurance]")[0] + MIXES
    written_out = write_sweep(tmp_path, inline, name="inline.toml")
    written_out.write_text(
        written_out.read_text().replace("[fixed]\n", '[fixed]\n"detection.false_positive_rate" = 0.04\n', 1)
    )
    assert load_sweep(written_out).content_hash() == first  # the merged values are what is hashed
    edits = (  # (fragment, old text, new text, whether the sweep's runs change)
        ("f.toml", "0.04", "0.05", True),
        ("d.toml", "insurance_share = 0.0", "insurance_share = 0.0\nvalidator_share = 0.0", False),
        (
            "d.toml",
            "burn_share = 1.0\ninsurance_share = 0.0",
            "burn_share = 0.5\ninsurance_share = 0.5",
            True,
        ),
        ("m.toml", "= 0", "= 1", True),
    )
    hashes = [first]
    for name, old, new, changes in edits:
        target = tmp_path / name
        target.write_text(target.read_text().replace(old, new), encoding="utf-8")
        hashes.append(load_sweep(path).content_hash())
        # the second edit sets a key the design's own table sets to the same value: the same runs
        assert (hashes[-1] != hashes[-2]) == changes, name
    assert len(set(hashes)) == 4


def test_an_edited_fragment_is_refused_by_the_results_directory_an_unchanged_one_resumes(tmp_path):
    fragment = write_fragment(tmp_path, "f.toml", "[detection]\nfalse_positive_rate = 0.04\n")
    path = sweep_including(
        tmp_path, "f.toml", '\n[[parameters]]\npath = "slashing.slash_fraction"\nvalues = [0.1]\n'
    )
    out = tmp_path / "out"
    first = run_sweep(load_sweep(path), out, workers=1, progress=False)
    again = run_sweep(load_sweep(path), out, workers=1, progress=False)
    assert len(first) == 3 and again.equals(first)
    fragment.write_text("[detection]\nfalse_positive_rate = 0.05\n", encoding="utf-8")
    with pytest.raises(StoreError, match="holds results of a different sweep"):
        run_sweep(load_sweep(path), out, workers=1, progress=False)
