"""Each run's own scenario, read back from a results directory.

A run's scenario is built in layers (the sweep engine's contract): the sweep's base scenario (with
``[fixed]`` applied) → its tokenomics design's overrides → its population mix's overrides → its
swept values. The analysis needs some of those settings per run — the outside option, the token
price, the number of rounds — and must not assume the base's value holds everywhere: a mix, a
design or the sweep itself may set them. :func:`value_per_run` resolves one key for every run.

Older results directories have no ``design`` column and no design fields in their manifest; their
runs all belong to one design, ``"base"``.

**Regimes.** A run is played under one of two regimes (``regime.kind``): the token network, whose
payoff is ``pi_<s>`` — fiat profit per round per unit of capital, compared with the outside option
ω on that capital — or the tokenless federation, where nobody commits capital (π is undefined) and
the payoff is ``profit_fiat_per_round_<s>`` — fiat profit per owner per round — compared with 0,
what zero capital earns outside. :func:`with_regime` gives every run its regime (the results'
``regime`` column, else the run's scenario; results written before regimes existed are token) and
:func:`with_payoffs` its ``payoff_<s>`` columns, the one payoff every margin is computed on.
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from analysis.sweep.sweepfile import REGIME_KIND
from model import Scenario, ScenarioError, scenario_from_dict, with_overrides
from model.params import field_docs

BASE_DESIGN = "base"
#: The scenario key naming a run's regime, and the results column holding it per run.
REGIME_KEY, REGIME = REGIME_KIND, "regime"
TOKEN, TOKENLESS = "token", "tokenless"
#: The regimes, in the order the analysis lists them.
REGIMES = (TOKEN, TOKENLESS)
#: The KPI each regime compares strategies on (``{}`` is the strategy).
PAYOFF_KPI = {TOKEN: "pi_{}", TOKENLESS: "profit_fiat_per_round_{}"}
#: The unit of each regime's payoff, in words.
PAYOFF_UNIT = {TOKEN: "per round per unit of capital", TOKENLESS: "fiat per owner per round"}
#: The outside option's scenario key (token regime: a return per round on the capital committed).
OUTSIDE_OPTION = "costs.outside_option_return_per_round"
#: Designs that draw points rather than cross every parameter's levels.
SAMPLED_DESIGNS = ("lhs", "sobol", "montecarlo", "saltelli", "morris")


def with_design_column(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with a ``design`` column (``"base"`` for every run of an older sweep)."""
    if "design" in results.columns:
        return results
    return results.assign(design=BASE_DESIGN)


def design_names(results: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The tokenomics designs with runs, in the manifest's order (then any others, sorted)."""
    present = set(with_design_column(results)["design"].astype(str))
    listed = [d for d in manifest.get("designs") or [] if d in present]
    return listed + sorted(present - set(listed))


def mix_names(results: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The population mixes with runs, in the manifest's order (then any others, sorted)."""
    present = set(results["mix"].astype(str)) if "mix" in results else {"base"}
    listed = [m for m in manifest.get("mixes") or [] if m in present]
    return listed + sorted(present - set(listed))


@cache
def _schema_defaults() -> dict[str, Any]:
    return {key: default for key, _, default, _ in field_docs(Scenario)}


def base_value(manifest: dict[str, Any], key: str) -> Any:
    """``key``'s value in the sweep's base scenario; the schema's default if the manifest lacks it.

    Raises KeyError naming the key when it is not a scenario key at all.
    """
    node: Any = manifest.get("base_scenario") or {}
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            node = None
            break
        node = node[part]
    if node is not None:
        return node
    defaults = _schema_defaults()
    if key not in defaults:
        raise KeyError(f"{key!r} is not a scenario key; allowed keys are listed in the README")
    return defaults[key]


def value_per_run(results: pd.DataFrame, manifest: dict[str, Any], key: str) -> pd.Series:
    """Each run's own value of scenario ``key``, indexed like ``results``.

    The swept column when ``key`` is varied; otherwise the run's mix override, else its design
    override, else the base scenario's value (the order the layers are applied in, last wins).
    Numbers come back as floats, anything else (a reward rule's name) as objects.
    """
    if key in results.columns:
        return results[key]
    base = base_value(manifest, key)
    values = pd.Series([base] * len(results), index=results.index, dtype=object)
    design_overrides = manifest.get("design_overrides") or {}
    designs = with_design_column(results)["design"].astype(str)
    for design, overrides in design_overrides.items():
        if key in (overrides or {}):
            values[designs == design] = overrides[key]
    mix_overrides = manifest.get("mix_overrides") or {}
    for mix, overrides in mix_overrides.items():
        if key in (overrides or {}):
            values[results["mix"].astype(str) == mix] = overrides[key]
    return values.astype(float) if _all_numbers(values) else values


def _all_numbers(values: pd.Series) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def base_scenario(manifest: dict[str, Any]) -> Scenario | None:
    """The sweep's base scenario as the manifest recorded it (None for older manifests)."""
    data = manifest.get("base_scenario")
    if data is None:
        return None
    try:
        return scenario_from_dict(data)
    except ScenarioError:
        return None


def scenario_for(manifest: dict[str, Any], design: str, mix: str, values: dict[str, Any]) -> Scenario | None:
    """The scenario a run of ``design`` and ``mix`` at swept ``values`` ran (None without a base)."""
    base = base_scenario(manifest)
    if base is None:
        return None
    overrides = (
        dict((manifest.get("design_overrides") or {}).get(design) or {})
        | dict((manifest.get("mix_overrides") or {}).get(mix) or {})
        | dict(values)
    )
    return with_overrides(base, overrides)


# -- regimes and payoffs -------------------------------------------------------------------------
def regime_per_run(results: pd.DataFrame, manifest: dict[str, Any] | None = None) -> pd.Series:
    """Each run's regime, ``"token"`` or ``"tokenless"``, indexed like ``results``.

    The results' ``regime`` column (the sweep engine writes it from each run's own scenario) where
    it has a value; else the run's ``regime.kind`` from ``manifest`` (:func:`value_per_run`); else
    — results and manifests written before regimes existed, or a frame with neither — ``"token"``.
    Raises ValueError naming a value that is not a regime.
    """
    regime = pd.Series(TOKEN, index=results.index, dtype=object)
    if manifest is not None:
        with contextlib.suppress(KeyError):  # a scenario schema without regimes: every run is token
            regime = value_per_run(results, manifest, REGIME_KEY).astype(object)
    if REGIME in results.columns:
        regime = results[REGIME].astype(object).where(results[REGIME].notna(), regime)
    unknown = sorted(set(regime.astype(str)) - set(REGIMES))
    if unknown:
        raise ValueError(
            f"regime {', '.join(map(repr, unknown))} is not allowed: expected one of {', '.join(REGIMES)}"
        )
    return regime


def with_regime(results: pd.DataFrame, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """``results`` with a ``regime`` column holding each run's regime (:func:`regime_per_run`)."""
    return results.assign(**{REGIME: regime_per_run(results, manifest)})


def payoff_column(strategy: str) -> str:
    """The analysis's payoff column of ``strategy``: ``payoff_<strategy>``."""
    return f"payoff_{strategy}"


def payoff_strategies(results: pd.DataFrame) -> list[str]:
    """The strategies with a payoff KPI in ``results`` (``pi_<s>`` or ``profit_fiat_per_round_<s>``)."""
    found: dict[str, None] = {}
    for column in results.columns:
        for template in PAYOFF_KPI.values():
            prefix = template.format("")
            if column.startswith(prefix):
                found[column[len(prefix) :]] = None
    return list(found)


def with_payoffs(results: pd.DataFrame, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """``results`` with its ``regime`` and, per strategy, ``payoff_<s>``: the payoff of the run's regime.

    Token runs: ``pi_<s>`` (fiat profit per round per unit of capital). Tokenless runs:
    ``profit_fiat_per_round_<s>`` (fiat profit per owner per round; there is no capital to divide
    by). NaN where the run's regime's KPI is missing from ``results`` or has no value.
    """
    regime = regime_per_run(results, manifest)
    tokenless = (regime == TOKENLESS).to_numpy()
    columns = {REGIME: regime}
    for strategy in payoff_strategies(results):
        token_kpi, tokenless_kpi = (PAYOFF_KPI[r].format(strategy) for r in REGIMES)
        token_values = _numbers(results, token_kpi)
        tokenless_values = _numbers(results, tokenless_kpi)
        columns[payoff_column(strategy)] = pd.Series(
            np.where(tokenless, tokenless_values, token_values), index=results.index
        )
    return results.assign(**columns)


def _numbers(results: pd.DataFrame, column: str) -> np.ndarray:
    if column not in results:
        return np.full(len(results), np.nan)
    return pd.to_numeric(results[column], errors="coerce").to_numpy(float)


def outside_option_per_run(
    results: pd.DataFrame, outside_option: float | pd.Series, manifest: dict[str, Any] | None = None
) -> pd.Series:
    """The outside option each run's honest payoff is compared with, indexed like ``results``.

    Token runs: ``outside_option`` (ω: one number, or each run's own value as a Series indexed like
    ``results``, see :func:`value_per_run`). Tokenless runs: 0 — an owner commits no capital, and
    zero capital earns nothing outside.
    """
    if isinstance(outside_option, pd.Series):
        omega = outside_option.reindex(results.index).astype(float)
    else:
        omega = pd.Series(float(outside_option), index=results.index)
    return omega.where(regime_per_run(results, manifest) != TOKENLESS, 0.0)
