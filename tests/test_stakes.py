"""Heterogeneous stake: stratified quantile multipliers, seeded deals, exact totals, delegation;
the list-of-numbers scenario field that lists validator stakes, and sweeps that set it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from model import ScenarioError, scenario_from_dict, with_overrides
from model.params import field_docs, to_dict
from model.reference import scenario_reference_markdown
from model.scenario import Scenario, genesis_allocation_tokens, identity_stake_tokens, key_type
from model.stakes import (
    deal,
    delegated_stakes_tokens,
    stake_multipliers,
    total_trainer_stake_tokens,
    total_validator_stake_tokens,
    trainer_owner_stakes_tokens,
    validator_stakes_tokens,
)

from .sweeps import write_sweep

LEVELS = st.integers(min_value=1, max_value=300)
SIGMAS = st.floats(min_value=0.05, max_value=4.0)
TAILS = st.floats(min_value=0.5, max_value=100.0)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def levels(n: int) -> np.ndarray:
    return (np.arange(n) + 0.5) / n


def owner_sizes(s: Scenario) -> np.ndarray:
    """Trainer owners' identity counts in row order: single-identity owners, then the Sybil owners."""
    p = s.population
    single = p.honest_trainers + p.lazy_trainers + p.poisoning_trainers
    return np.array([1] * single + [p.sybil_identities_per_owner] * p.sybil_owners)


def spread(**stakes) -> Scenario:
    """The default scenario with the given [stakes] keys and a supply large enough for them."""
    return scenario_from_dict({"stakes": stakes, "token": {"genesis_supply_tokens": 1e15}})


# -- quantile multipliers --------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(n=LEVELS, sigma=SIGMAS)
def test_lognormal_multipliers_are_scipys_quantiles_at_the_stratified_levels(n, sigma):
    expected = stats.lognorm(s=sigma, scale=math.exp(-(sigma**2) / 2)).ppf(levels(n))
    np.testing.assert_allclose(stake_multipliers("lognormal", n, sigma, 1.5), expected, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(n=LEVELS, a=TAILS)
def test_pareto_multipliers_are_scipys_quantiles_at_the_stratified_levels(n, a):
    expected = stats.pareto(b=a).ppf(levels(n))
    m = stake_multipliers("pareto", n, 1.0, a)
    np.testing.assert_allclose(m, expected, rtol=1e-12)
    assert m.min() >= 1.0


def test_fixed_multipliers_are_ones_and_every_list_ascends():
    np.testing.assert_array_equal(stake_multipliers("fixed", 7, 1.0, 1.5), np.ones(7))
    for distribution in ("lognormal", "pareto"):
        m = stake_multipliers(distribution, 50, 1.0, 1.5)
        assert np.all(np.diff(m) > 0), distribution
    assert stake_multipliers("pareto", 0, 1.0, 1.5).shape == (0,)


def test_one_owner_gets_the_median():
    assert stake_multipliers("lognormal", 1, 2.0, 1.5)[0] == pytest.approx(math.exp(-2.0))
    assert stake_multipliers("pareto", 1, 1.0, 2.0)[0] == pytest.approx(math.sqrt(2.0))


@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_the_lognormal_multipliers_mean_tends_to_one(sigma):
    errors = [abs(stake_multipliers("lognormal", n, sigma, 1.5).mean() - 1) for n in (10, 1_000, 100_000)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3


@pytest.mark.parametrize("a", [2.0, 3.0, 5.0])
def test_the_pareto_multipliers_mean_tends_to_a_over_a_minus_one(a):
    mean = a / (a - 1)
    errors = [abs(stake_multipliers("pareto", n, 1.0, a).mean() - mean) for n in (10, 1_000, 1_000_000)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 2e-3 * mean


def test_a_distribution_without_quantiles_is_refused():
    with pytest.raises(ValueError, match="'listed' has no quantile multipliers"):
        stake_multipliers("listed", 3, 1.0, 1.5)


# -- dealing ---------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(n=LEVELS, seed=SEEDS)
def test_a_deal_is_a_seeded_permutation(n, seed):
    m = stake_multipliers("lognormal", n, 1.0, 1.5)
    dealt = deal(m, np.random.default_rng(seed))
    np.testing.assert_array_equal(np.sort(dealt), m)
    np.testing.assert_array_equal(dealt, deal(m, np.random.default_rng(seed)))
    np.testing.assert_array_equal(deal(m, None), m)


def test_different_seeds_deal_differently():
    m = stake_multipliers("pareto", 40, 1.0, 1.5)
    deals = {tuple(deal(m, np.random.default_rng(seed))) for seed in range(5)}
    assert len(deals) == 5


def test_a_fixed_distribution_draws_nothing():
    rng = np.random.default_rng(3)
    s = Scenario()
    trainer_owner_stakes_tokens(s, owner_sizes(s), rng)
    validator_stakes_tokens(s, rng)
    assert rng.random() == np.random.default_rng(3).random()


# -- trainer owners --------------------------------------------------------------------------
DISTRIBUTIONS = st.sampled_from(["fixed", "lognormal", "pareto"])


@settings(max_examples=60, deadline=None)
@given(
    distribution=DISTRIBUTIONS,
    sigma=SIGMAS,
    a=TAILS,
    k=st.integers(min_value=1, max_value=6),
    sybils=st.integers(min_value=0, max_value=4),
    owner_stake=st.sampled_from([0.0, 600.0, 5_000.0]),
    seed=SEEDS,
)
def test_trainer_stakes_are_floored_and_add_up_to_the_known_total(
    distribution, sigma, a, k, sybils, owner_stake, seed
):
    s = scenario_from_dict(
        {
            "population": {"sybil_owners": sybils, "sybil_identities_per_owner": k},
            "staking": {"trainer_stake_tokens": owner_stake, "min_trainer_stake_tokens": 100.0},
            "stakes": {
                "trainer_distribution": distribution,
                "lognormal_sigma": sigma,
                "pareto_tail_index": a,
            },
            "token": {"genesis_supply_tokens": 1e15},
        }
    )
    sizes = owner_sizes(s)
    stakes = trainer_owner_stakes_tokens(s, sizes, np.random.default_rng(seed))
    assert stakes.shape == sizes.shape
    assert stakes.min() >= s.staking.min_trainer_stake_tokens
    assert total_trainer_stake_tokens(s) == math.fsum(sizes * stakes)  # exactly, whatever the deal
    for size in np.unique(sizes):  # each owner size is one stratified sample, dealt
        base = identity_stake_tokens(s, int(size))
        m = stake_multipliers(distribution, int((sizes == size).sum()), sigma, a)
        expected = np.maximum(s.staking.min_trainer_stake_tokens, base * m)
        np.testing.assert_allclose(np.sort(stakes[sizes == size]), expected, rtol=1e-15)


def test_a_sybil_owners_identities_share_one_multiplier():
    s = spread(trainer_distribution="pareto", pareto_tail_index=1.2)
    s = with_overrides(s, {"staking.trainer_stake_tokens": 1_000.0, "population.sybil_owners": 3})
    sizes = owner_sizes(s)
    k = s.population.sybil_identities_per_owner
    stakes = trainer_owner_stakes_tokens(s, sizes, np.random.default_rng(1))
    owners = 1_000.0 * stake_multipliers("pareto", 3, 1.0, 1.2)
    # each Sybil owner bonds its whole multiplied stake, split evenly over its k identities
    np.testing.assert_allclose(np.sort(stakes[sizes == k] * k), owners)


def test_stakes_below_the_minimum_are_raised_to_it():
    s = spread(trainer_distribution="lognormal", lognormal_sigma=2.0)
    stakes = trainer_owner_stakes_tokens(s, owner_sizes(s), np.random.default_rng(0))
    minimum = s.staking.min_trainer_stake_tokens
    m = stake_multipliers("lognormal", len(stakes) - s.population.sybil_owners, 2.0, 1.5)
    assert (m < 1).sum() == (stakes[: len(m)] == minimum).sum() > 0


def test_the_same_seed_deals_the_same_trainer_stakes_and_other_seeds_do_not():
    s = spread(trainer_distribution="lognormal")
    sizes = owner_sizes(s)
    first = trainer_owner_stakes_tokens(s, sizes, np.random.default_rng(5))
    np.testing.assert_array_equal(first, trainer_owner_stakes_tokens(s, sizes, np.random.default_rng(5)))
    assert not np.array_equal(first, trainer_owner_stakes_tokens(s, sizes, np.random.default_rng(6)))


# -- validators and delegation ---------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(distribution=DISTRIBUTIONS, seed=SEEDS)
def test_validator_stakes_add_up_to_the_known_total(distribution, seed):
    s = spread(validator_distribution=distribution, lognormal_sigma=1.5, pareto_tail_index=0.8)
    own = validator_stakes_tokens(s, np.random.default_rng(seed))
    assert own.shape == (s.validators,)
    assert total_validator_stake_tokens(s) == math.fsum(own)
    expected = s.staking.validator_stake_tokens * stake_multipliers(distribution, s.validators, 1.5, 0.8)
    np.testing.assert_allclose(np.sort(own), expected, rtol=1e-15)


def test_listed_validator_stakes_are_taken_in_row_order():
    listed = [float(x) for x in range(1, 11)]
    s = spread(validator_distribution="listed", validator_stakes_tokens=listed)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(validator_stakes_tokens(s, rng), listed)
    assert rng.random() == np.random.default_rng(0).random()  # nothing drawn
    assert total_validator_stake_tokens(s) == 55.0


@settings(max_examples=60, deadline=None)
@given(
    own=st.lists(st.floats(min_value=1e-3, max_value=1e9), min_size=1, max_size=40),
    delegated=st.floats(min_value=0, max_value=1e12),
    rule=st.sampled_from(["by_stake", "equal"]),
)
def test_delegation_splits_add_up_to_the_delegated_tokens(own, delegated, rule):
    s = spread(delegated_tokens=delegated if delegated >= 1e-9 else 0.0, delegation=rule)
    split = delegated_stakes_tokens(s, np.array(own))
    assert split.shape == (len(own),)
    assert split.min() >= 0
    assert math.fsum(split) == pytest.approx(s.stakes.delegated_tokens, rel=1e-12, abs=0)
    if rule == "equal":
        np.testing.assert_allclose(split, s.stakes.delegated_tokens / len(own))
    else:
        np.testing.assert_allclose(split * sum(own), np.array(own) * s.stakes.delegated_tokens, rtol=1e-9)


def test_no_delegation_gives_nothing_to_anyone():
    np.testing.assert_array_equal(delegated_stakes_tokens(Scenario(), np.array([5.0, 7.0])), [0.0, 0.0])


# -- the genesis supply ----------------------------------------------------------------------
def test_the_genesis_allocation_holds_the_dealt_stakes_and_the_delegated_tokens():
    s = spread(
        trainer_distribution="pareto",
        validator_distribution="lognormal",
        delegated_tokens=12_345.0,
    )
    st_ = s.staking
    identities = s.trainer_identities + s.validators
    extra = identities * (st_.initial_liquid_tokens + st_.registration_cost_tokens)
    expected = total_trainer_stake_tokens(s) + total_validator_stake_tokens(s) + 12_345.0 + extra
    assert genesis_allocation_tokens(s) == pytest.approx(expected, rel=1e-15)
    fixed = Scenario()
    assert total_trainer_stake_tokens(s) > total_trainer_stake_tokens(fixed)  # pareto multipliers >= 1


def test_the_default_stakes_need_what_they_needed_before_stakes_could_spread():
    s = Scenario()  # 88 single owners, 2 Sybil owners of 5, 10 validators; 100 + 1 tokens extra each
    assert genesis_allocation_tokens(s) == 88 * 201 + 2 * 5 * 201 + 10 * 1_101


def test_a_spread_that_exceeds_the_supply_is_refused_naming_the_numbers():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {
                "stakes": {
                    "validator_distribution": "pareto",
                    "pareto_tail_index": 0.5,
                    "delegated_tokens": 5e5,
                }
            }
        )
    (problem,) = caught.value.problems
    assert problem.startswith("token.genesis_supply_tokens = 1e+06 is not allowed")
    s = spread(validator_distribution="pareto", pareto_tail_index=0.5, delegated_tokens=5e5)
    assert f"{total_validator_stake_tokens(s):g}" in problem
    assert "delegated stake 500000" in problem


# -- the list-of-numbers field ---------------------------------------------------------------
def test_a_list_of_numbers_is_read_as_floats_and_round_trips():
    listed = [1000, 2500.5, 1e-9, 1e14, 7, 8, 9, 10, 11, 12]
    s = spread(validator_distribution="listed", validator_stakes_tokens=listed)
    assert s.stakes.validator_stakes_tokens == tuple(float(x) for x in listed)
    assert all(type(x) is float for x in s.stakes.validator_stakes_tokens)
    assert scenario_from_dict(to_dict(s)) == s
    assert with_overrides(s, {"stakes.validator_stakes_tokens": list(s.stakes.validator_stakes_tokens)}) == s
    as_numpy = with_overrides(s, {"stakes.validator_stakes_tokens": np.array(listed)})
    assert as_numpy == s


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([1.0, 0.0], "its element 1 is 0.0"),
        ([1.0, -3], "its element 1 is -3"),
        ([2e15], "its element 0 is 2000000000000000.0"),
        ([1.0, True], "its element 1 is True"),
        ([1.0, "2"], "its element 1 is '2'"),
        ([math.nan], "its element 0 is nan"),
        (1000.0, "= 1000.0 is not allowed"),
        ("1000", "= '1000' is not allowed"),
    ],
)
def test_a_bad_list_of_numbers_is_refused_naming_the_element(value, fragment):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"stakes": {"validator_distribution": "listed", "validator_stakes_tokens": value}})
    assert any(
        "stakes.validator_stakes_tokens" in p and fragment in p and "a list of numbers in [1e-09, 1e+15]" in p
        for p in caught.value.problems
    ), caught.value.problems


def test_the_list_field_is_documented_as_a_list():
    rows = {key: (allowed, default) for key, allowed, default, _ in field_docs(Scenario)}
    assert rows["stakes.validator_stakes_tokens"] == ("a list of numbers in [1e-09, 1e+15]", ())
    assert "| `stakes.validator_stakes_tokens` | `[]` | a list of numbers in [1e-09, 1e+15] |" in (
        scenario_reference_markdown()
    )
    assert key_type("stakes.validator_stakes_tokens") is tuple


# -- sweeps ----------------------------------------------------------------------------------
LISTED_FIXED = """
"stakes.validator_distribution" = "listed"
"stakes.validator_stakes_tokens" = [4000, 1000, 1000, 500]
"""

LISTED_DESIGNS = """
[[parameters]]
path = "slashing.slash_fraction"
values = [0.0, 0.3]

[designs.even]

[designs.whale]
"stakes.validator_stakes_tokens" = [9000.0, 500.0, 500.0, 250.0]
"""


def listed_sweep_file(directory: Path, body: str = LISTED_DESIGNS) -> Path:
    """A small sweep (4 validators: 3 honest, 1 copying) whose [fixed] lists the validator stakes."""
    path = write_sweep(directory, body, header=None)
    text = path.read_text(encoding="utf-8").replace("[fixed]\n", "[fixed]" + LISTED_FIXED, 1)
    text = text.replace("replications = 3", "replications = 1").replace("rounds = 20", "rounds = 5")
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sweep_runs_with_listed_stakes_in_fixed_and_in_a_design(tmp_path):
    from analysis.settings import base_scenario
    from analysis.sweep.engine import execute_sweep, load_results
    from analysis.sweep.store import ResultStore
    from analysis.sweep.sweepfile import load_sweep

    sweep = load_sweep(listed_sweep_file(tmp_path))
    assert sweep.base.stakes.validator_stakes_tokens == (4000.0, 1000.0, 1000.0, 500.0)
    hash_before = sweep.content_hash()
    assert hash_before == load_sweep(listed_sweep_file(tmp_path)).content_hash()

    out = tmp_path / "out"
    first = execute_sweep(sweep, out, workers=1, progress=False)
    results = load_results(out)
    assert len(results) == 2 * 2 and first.executed == 4
    assert (results["status"] == "ok").all(), results["error"].dropna().tolist()
    assert sorted(set(results["design"])) == ["even", "whale"]
    assert "stakes.validator_stakes_tokens" not in results.columns  # only swept keys are columns

    manifest = ResultStore(out).read_manifest()
    assert base_scenario(manifest) == sweep.base  # the manifest's JSON lists read back as tuples
    assert manifest["design_overrides"]["whale"]["stakes.validator_stakes_tokens"] == [9000, 500, 500, 250]

    again = execute_sweep(load_sweep(listed_sweep_file(tmp_path)), out, workers=1, progress=False)
    assert again.already_done == 4 and again.executed == 0  # the same content hash: it resumes


def test_a_different_listed_stake_changes_the_content_hash(tmp_path):
    from analysis.sweep.sweepfile import load_sweep

    one = load_sweep(listed_sweep_file(tmp_path))
    path = listed_sweep_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("[4000, 1000", "[4000, 1001"), encoding="utf-8")
    assert load_sweep(path).content_hash() != one.content_hash()


@pytest.mark.parametrize(
    "entry",
    [
        "values = [[1000, 1000, 1000, 1000], [4000, 1000, 1000, 500]]",
        "low = 1000\nhigh = 2000\nsteps = 2",
    ],
)
def test_a_list_valued_key_cannot_be_a_swept_parameter(tmp_path, entry):
    from analysis.sweep.sweepfile import load_sweep

    body = f'\n[[parameters]]\npath = "stakes.validator_stakes_tokens"\n{entry}\n'
    with pytest.raises(ScenarioError) as caught:
        load_sweep(listed_sweep_file(tmp_path, body))
    (problem,) = caught.value.problems
    assert "parameters[0] (stakes.validator_stakes_tokens)" in problem
    assert "a list of numbers, which a sweep cannot vary as a parameter" in problem
    assert "[fixed]" in problem
