"""The base scenario as a table a designer can check: every key, its unit, its value, and who set it.

A key's value in a run comes from (in order) the base scenario file, the sweep's ``[fixed]`` table,
the run's design, its population mix and, for varied keys, the design point. The table says which
of these set each key, so a reader sees at a glance what the sweep held still and what it moved.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pandas as pd

from model.params import field_docs
from model.scenario import Scenario

#: Unit of a key, read from its name (the schema's naming rule: units are in the names).
UNIT_SUFFIXES = (
    ("_tokens_per_round", "tokens per round"),
    ("_fiat_per_round", "fiat per round"),
    ("_tokens", "tokens"),
    ("_fiat", "fiat"),
    ("_rounds", "rounds"),
    ("_per_round", "fraction per round"),
)
FRACTION_WORDS = ("share", "fraction", "probability", "rate")


def unit_of(key: str) -> str:
    """The unit of a scenario key, from its name; ``""`` for counts, names and switches."""
    leaf = key.rsplit(".", 1)[-1]
    for suffix, unit in UNIT_SUFFIXES:
        if leaf.endswith(suffix):
            return unit
    if any(word in leaf for word in FRACTION_WORDS):
        return "fraction in [0, 1]"
    return ""


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def fixed_keys(manifest: dict[str, Any]) -> dict[str, Any]:
    """The sweep's ``[fixed]`` overrides, read back from the sweep text the manifest keeps."""
    text = manifest.get("sweep_text")
    if not isinstance(text, str):
        return {}
    try:
        fixed = tomllib.loads(text).get("fixed", {})
    except tomllib.TOMLDecodeError:
        return {}
    return fixed if isinstance(fixed, dict) else {}


def _value_text(value: Any) -> str:
    """A scenario value as its TOML file writes it (``true`` / ``false`` for booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _range_text(spec: dict[str, Any]) -> str:
    if spec.get("values") is not None:
        return "varied: " + ", ".join(_value_text(v) for v in spec["values"])
    scale = " (log scale)" if spec.get("scale") == "log" else ""
    steps = f", {spec['steps']} steps" if spec.get("steps") else ""
    return f"varied: {spec.get('low')} to {spec.get('high')}{steps}{scale}"


def _overrides_text(kind: str, key: str, overrides: dict[str, dict[str, Any]]) -> str | None:
    setters = {name: values[key] for name, values in overrides.items() if key in values}
    if not setters:
        return None
    listed = "; ".join(f"{name}: {_value_text(value)}" for name, value in setters.items())
    return f"set by {kind} ({listed}); others: the value shown"


def scenario_table(manifest: dict[str, Any]) -> pd.DataFrame:
    """One row per scenario key: ``key``, ``unit``, ``value`` (the base, with ``[fixed]``),
    ``set by`` (default / base file / fixed / a design / a mix / varied, with the range) and
    ``meaning``. Empty when the manifest has no base scenario."""
    base = manifest.get("base_scenario")
    if not isinstance(base, dict):
        return pd.DataFrame(columns=["key", "unit", "value", "set by", "meaning"])
    fixed = fixed_keys(manifest)
    specs = {s.get("path"): s for s in manifest.get("parameter_specs") or [] if isinstance(s, dict)}
    varied = [p for p in manifest.get("parameters") or [] if isinstance(p, str)]
    designs = manifest.get("design_overrides") or {}
    mixes = manifest.get("mix_overrides") or {}
    rows = []
    for key, _allowed, default, doc in field_docs(Scenario):
        value = _get(base, key)
        if key in varied:
            source = _range_text(specs[key]) if key in specs else "varied by the sweep"
        else:
            source = (
                _overrides_text("design", key, designs)
                or _overrides_text("mix", key, mixes)
                or ("fixed by the sweep" if key in fixed else None)
                or ("base scenario file" if value != default else "default")
            )
        rows.append({"key": key, "unit": unit_of(key), "value": value, "set by": source, "meaning": doc})
    return pd.DataFrame(rows)
