"""Sweep files: a base scenario, the parameters to vary, a design, replications and a seed.

A sweep file is TOML::

    [sweep]
    name = "slash-x-reward"
    base = "baseline.toml"          # a scenario file, relative to this file
    design = "grid"                 # grid | lhs | sobol | montecarlo | saltelli
    points = 64                     # sampled designs: how many points (saltelli: base samples)
    replications = 10
    seed = 2026

    [fixed]                         # overrides applied to every run
    "costs.poison_gain_fiat_per_round" = 2.0

    [[parameters]]
    path = "slashing.slash_fraction"
    low = 0.0
    high = 1.0
    steps = 11                      # grid only: evenly spaced values, ends included
    scale = "linear"                # or "log"
    type = "real"                   # or "int"

    [[parameters]]
    path = "rewards.rule"
    values = ["equal", "stake_weighted"]

    [mixes.many-cheaters]           # population mixes: every point is run under each
    "population.lazy_trainers" = 30  # (a sweep without [mixes] has one, "base")

Everything is checked before anything runs: unknown keys, parameter paths that are not scenario
keys, ranges outside what the scenario allows, designs that cannot take a parameter kind.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides
from model.params import to_dict
from model.scenario import scenario_keys

DESIGNS = ("grid", "lhs", "sobol", "montecarlo", "saltelli")
SWEEP_KEYS = {
    "name",
    "base",
    "design",
    "points",
    "replications",
    "seed",
    "trajectories",
    "trajectory_points",
    "notes",
}
PARAMETER_KEYS = {"path", "low", "high", "steps", "scale", "type", "values"}
#: Most runs one sweep may hold (points × mixes × replications); split bigger studies.
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Parameter:
    """One varied scenario key: a numeric range or a list of values."""

    path: str
    """Dotted scenario key, e.g. ``slashing.slash_fraction``."""
    low: float | None = None
    """Lower end of the range (inclusive)."""
    high: float | None = None
    """Upper end of the range (inclusive)."""
    steps: int | None = None
    """Grid designs: how many evenly spaced values (on the chosen scale), ends included."""
    scale: str = "linear"
    """``linear`` or ``log`` (log needs low > 0)."""
    kind: str = "real"
    """``real`` or ``int`` (ints are rounded onto whole numbers in [low, high])."""
    values: tuple[Any, ...] | None = None
    """An explicit list of values instead of a range."""

    @property
    def is_list(self) -> bool:
        """True when the parameter takes values from an explicit list."""
        return self.values is not None

    def grid_values(self) -> list[Any]:
        """The values a full-factorial grid takes for this parameter."""
        if self.values is not None:
            return list(self.values)
        return [
            self.from_unit(i / (self.steps - 1)) if self.steps > 1 else self.low for i in range(self.steps)
        ]

    def from_unit(self, u: float) -> Any:
        """Map ``u`` in [0, 1] onto the parameter's values (the inverse CDF of its scale)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.kind == "int":
            lo, hi = self.low - 0.5, self.high + 0.5  # each whole number gets an equal share
            x = (
                lo + u * (hi - lo)
                if self.scale == "linear"
                else math.exp(math.log(lo) + u * math.log(hi / lo))
            )
            return int(min(max(round(x), self.low), self.high))
        if self.scale == "log":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return min(max(x, self.low), self.high)  # no rounding error past the declared ends


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: what to run, how many times, with which seed."""

    name: str
    base: Scenario
    """The base scenario with ``fixed`` overrides applied."""
    parameters: tuple[Parameter, ...]
    design: str
    points: int | None
    replications: int
    seed: int
    trajectories: bool = False
    trajectory_points: int = 50
    notes: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)
    mixes: tuple[tuple[str, dict[str, Any]], ...] = (("base", {}),)
    """Population mixes, (name, scenario overrides); every design point runs under each."""

    def content_hash(self) -> str:
        """SHA-256 of everything that decides the results (not the file's formatting)."""
        spec = {
            "base": to_dict(self.base),
            "parameters": [
                p.__dict__ | {"values": list(p.values) if p.values else None} for p in self.parameters
            ],
            "design": self.design,
            "points": self.points,
            "replications": self.replications,
            "seed": self.seed,
            "trajectories": self.trajectories,
            "trajectory_points": self.trajectory_points,
            "mixes": [[name, overrides] for name, overrides in self.mixes],
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _parameter(i: int, raw: Any, keys: set[str], problems: list[str]) -> Parameter | None:
    where = f"parameters[{i}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a table with a 'path', got {raw!r}")
        return None
    for key in raw:
        if key not in PARAMETER_KEYS:
            problems.append(
                f"unknown key '{where}.{key}': allowed keys are {', '.join(sorted(PARAMETER_KEYS))}"
            )
    path = raw.get("path")
    if not isinstance(path, str) or path not in keys:
        problems.append(
            f"{where}.path = {path!r} is not a scenario key (see the README's scenario reference)"
        )
        return None
    where = f"{where} ({path})"
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, list) or not values:
            problems.append(f"{where}.values = {values!r} is not allowed: expected a non-empty list")
            return None
        extra = {"low", "high", "steps", "scale", "type"} & set(raw)
        if extra:
            problems.append(
                f"{where}: give either 'values' or a range, not both ({', '.join(sorted(extra))})"
            )
        return Parameter(path=path, values=tuple(values))
    low, high = raw.get("low"), raw.get("high")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        problems.append(
            f"{where}: needs numeric 'low' and 'high' (or a list of 'values'), got {low!r}, {high!r}"
        )
        return None
    if not low <= high:
        problems.append(f"{where}: low = {low!r} must not exceed high = {high!r}")
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log"):
        problems.append(f"{where}.scale = {scale!r} is not allowed: expected 'linear' or 'log'")
    elif scale == "log" and low <= 0:
        problems.append(f"{where}: a log scale needs low > 0, got {low!r}")
    kind = raw.get("type", "real")
    if kind not in ("real", "int"):
        problems.append(f"{where}.type = {kind!r} is not allowed: expected 'real' or 'int'")
    elif kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
        problems.append(f"{where}: an int range needs whole-number ends, got low = {low!r}, high = {high!r}")
    elif kind == "int" and scale == "log" and low < 1:
        problems.append(f"{where}: an int range on a log scale needs low >= 1, got {low!r}")
    steps = raw.get("steps")
    if steps is not None and (
        isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_RUNS
    ):
        problems.append(
            f"{where}.steps = {steps!r} is not allowed: expected a whole number in [1, {MAX_RUNS:_}]"
        )
    return Parameter(path=path, low=low, high=high, steps=steps, scale=scale, kind=kind)


def _int_field(table: Mapping, key: str, default: Any, minimum: int, problems: list[str]) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"sweep.{key} = {value!r} is not allowed: expected a whole number >= {minimum}")
        return default
    return value


def sweep_from_dict(data: Mapping[str, Any], directory: Path, source: str | None = None) -> Sweep:
    """Build and validate a sweep; raise ScenarioError listing every problem."""
    problems: list[str] = []
    for key in data:
        if key not in ("sweep", "fixed", "parameters", "mixes"):
            problems.append(f"unknown key {key!r}: allowed tables are sweep, fixed, parameters, mixes")
    table = data.get("sweep")
    if not isinstance(table, Mapping):
        raise ScenarioError([*problems, "a [sweep] table with at least 'base' is required"], source, "sweep")
    for key in table:
        if key not in SWEEP_KEYS:
            problems.append(f"unknown key 'sweep.{key}': allowed keys are {', '.join(sorted(SWEEP_KEYS))}")
    base_name = table.get("base")
    base: Scenario | None = None
    if not isinstance(base_name, str):
        problems.append(f"sweep.base = {base_name!r}: expected the path of a scenario file")
    else:
        try:
            base = load_scenario(directory / base_name)
        except ScenarioError as exc:
            problems.extend(f"sweep.base {base_name!r}: {p}" for p in exc.problems)
    design = table.get("design", "grid")
    if design not in DESIGNS:
        problems.append(f"sweep.design = {design!r} is not allowed: expected one of {', '.join(DESIGNS)}")
    points = _int_field(table, "points", None, 1, problems)
    replications = _int_field(table, "replications", 1, 1, problems)
    seed = _int_field(table, "seed", 0, 0, problems)
    trajectory_points = _int_field(table, "trajectory_points", 50, 2, problems)
    trajectories = table.get("trajectories", False)
    if not isinstance(trajectories, bool):
        problems.append(f"sweep.trajectories = {trajectories!r} is not allowed: expected true or false")
    name = table.get("name", Path(source).stem if source else "sweep")
    notes = table.get("notes", "")
    for key, value in (("name", name), ("notes", notes)):
        if not isinstance(value, str):
            problems.append(f"sweep.{key} = {value!r} is not allowed: expected a string")

    keys = set(scenario_keys())
    raw_parameters = data.get("parameters", [])
    if not isinstance(raw_parameters, list) or not raw_parameters:
        problems.append("at least one [[parameters]] entry is required")
        raw_parameters = []
    parameters = [_parameter(i, raw, keys, problems) for i, raw in enumerate(raw_parameters)]
    parameters = [p for p in parameters if p is not None]
    paths = [p.path for p in parameters]
    for path in {p for p in paths if paths.count(p) > 1}:
        problems.append(f"parameter {path!r} is varied twice")

    fixed = data.get("fixed", {})
    if not isinstance(fixed, Mapping):
        problems.append(f"fixed must be a table of scenario keys, got {fixed!r}")
        fixed = {}
    if design == "grid":
        for p in parameters:
            if not p.is_list and p.steps is None:
                problems.append(f"parameter {p.path!r}: a grid needs 'steps' (or a list of 'values')")
        if points is not None:
            problems.append(
                "sweep.points applies to sampled designs; a grid's size comes from each parameter's steps"
            )
    elif design in DESIGNS:
        if points is None:
            problems.append(f"sweep.points is required for the {design!r} design")
        if design in ("sobol", "saltelli") and points is not None and points & (points - 1):
            problems.append(f"sweep.points = {points} is not allowed for {design!r}: expected a power of 2")
        if design == "saltelli" and any(p.is_list for p in parameters):
            problems.append("the 'saltelli' design needs numeric ranges, not lists of values")

    mixes = _mixes(data.get("mixes"), problems)
    swept = {p.path for p in parameters}
    for mix_name, overrides in mixes:
        for key in sorted(swept & set(overrides)):
            problems.append(
                f"mixes.{mix_name} sets {key!r}, which the sweep varies: a mix may not override it"
            )
    if not problems:
        total = _design_size(design, parameters, points) * len(mixes) * replications
        if total > MAX_RUNS:
            problems.append(
                f"the sweep holds {total:_} runs (points × mixes × replications); at most {MAX_RUNS:_} are "
                "allowed in one sweep: split it, or use a sampled design"
            )
    if base is not None and not problems:
        base = _check_against_scenario(base, fixed, parameters, problems)
    if base is not None and not problems:
        for mix_name, overrides in mixes:
            try:
                with_overrides(base, overrides)
            except ScenarioError as exc:
                problems.extend(f"mixes.{mix_name}: {p}" for p in exc.problems)
    if problems:
        raise ScenarioError(problems, source, "sweep")
    return Sweep(
        name=name,
        base=base,
        parameters=tuple(parameters),
        design=design,
        points=points,
        replications=replications,
        seed=seed,
        trajectories=trajectories,
        trajectory_points=trajectory_points,
        notes=notes,
        fixed=dict(fixed),
        mixes=mixes,
    )


def _design_size(design: str, parameters: list[Parameter], points: int | None) -> int:
    """Design points (mixes aside), computed without building them."""
    if design == "grid":
        return math.prod(len(p.values) if p.is_list else p.steps for p in parameters)
    if design == "saltelli":
        return points * (len(parameters) + 2)
    return points


def _mixes(raw: Any, problems: list[str]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The ``[mixes.NAME]`` tables as (name, overrides); one mix, "base", when there are none."""
    if raw is None:
        return (("base", {}),)
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"mixes must hold one or more [mixes.NAME] tables of scenario keys, got {raw!r}")
        return (("base", {}),)
    out = []
    for name, overrides in raw.items():
        if not isinstance(overrides, Mapping):
            problems.append(f"mixes.{name} must be a table of scenario keys, got {overrides!r}")
            continue
        out.append((name, dict(overrides)))
    return tuple(out)


def _check_against_scenario(base: Scenario, fixed, parameters, problems: list[str]) -> Scenario | None:
    """Apply ``fixed`` and check every parameter's ends (or values) are values the scenario allows.

    Only each key's own type and range are checked here; a combination that breaks a cross-field
    rule (shares that must add up to 1, a genesis supply too small for a population) is recorded as
    a failed run when it comes up.
    """
    try:
        base = with_overrides(base, fixed)
    except ScenarioError as exc:
        problems.extend(f"fixed: {p}" for p in exc.problems)
        return None
    data = to_dict(base)
    for p in parameters:
        candidates = list(p.values) if p.is_list else [p.from_unit(0.0), p.from_unit(1.0)]
        for value in candidates:
            try:
                scenario_from_dict(_set(data, p.path, value))
            except ScenarioError as exc:
                own = [q for q in exc.problems if q.startswith(p.path + " =")]
                problems.extend(f"parameter {p.path!r}: {q}" for q in own)
    return base


def _set(data: dict, dotted: str, value: Any) -> dict:
    out = json.loads(json.dumps(data))
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    return out


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; raise ScenarioError naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"cannot read the sweep file: {exc.strerror}"], str(path), "sweep") from None
    except UnicodeDecodeError:
        raise ScenarioError(["not a text file: a sweep file is UTF-8 TOML"], str(path), "sweep") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"not valid TOML: {exc}"], str(path), "sweep") from None
    return sweep_from_dict(data, path.parent, str(path))
