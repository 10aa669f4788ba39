"""Each run's own scenario, read back from a results directory.

A run's scenario is built in layers (the sweep engine's contract): the sweep's base scenario (with
``[fixed]`` applied) → its tokenomics design's overrides → its population mix's overrides → its
swept values. The analysis needs some of those settings per run — the outside option, the token
price, the number of rounds — and must not assume the base's value holds everywhere: a mix, a
design or the sweep itself may set them. :func:`value_per_run` resolves one key for every run.

Older results directories have no ``design`` column and no design fields in their manifest; their
runs all belong to one design, ``"base"``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

from model import Scenario, ScenarioError, scenario_from_dict, with_overrides
from model.params import field_docs

BASE_DESIGN = "base"
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
