"""Sweep files: a base scenario, the parameters to vary, a design, replications and a seed.

A sweep file is TOML::

    [sweep]
    name = "slash-x-reward"
    base = "baseline.toml"          # a scenario file, relative to this file
    design = "grid"                 # grid | lhs | sobol | montecarlo | saltelli | morris
    points = 64                     # sampled designs: how many points (saltelli: base samples,
                                    # morris: trajectories, at least 2)
    # morris_levels = 4             # morris only: grid levels per parameter (even, >= 2)
    replications = 10
    seed = 2026

    [fixed]                         # overrides applied to every run
    include = "calibrated.toml"     # a scenario fragment (or a list of them), relative to this file
    "costs.poison_gain_fiat_per_round" = 2.0

    [[parameters]]
    path = "slashing.slash_fraction"
    low = 0.0
    high = 1.0
    steps = 11                      # grid only: evenly spaced values, ends included
    scale = "linear"                # or "log"
    type = "real"                   # or "int" (the default for a whole-number scenario key)

    [[parameters]]
    path = "rewards.rule"
    values = ["equal", "stake_weighted"]

    [designs."equal, burn"]         # tokenomics designs compared side by side: every point is
    "rewards.rule" = "equal"        # run under each (a sweep without [designs] has one, "base")
    "slashing.burn_share" = 1.0
    "slashing.insurance_share" = 0.0
    "slashing.validator_share" = 0.0

    [mixes.many-cheaters]           # population mixes: every point is run under each
    "population.lazy_trainers" = 30  # (a sweep without [mixes] has one, "base")

``[fixed]``, a design and a mix may each ``include`` scenario fragments: TOML files of scenario
tables only (``[detection]``, ``[behaviour]``, ... as ``fedstake calibrate`` writes them), named by
a path relative to the sweep file, or a list of paths. A fragment's keys come first, a later
fragment's override an earlier one's, and the table's own keys override them all; from then on the
merged keys are the table's keys (checked, compared, stored and hashed alike, so editing a fragment
makes another sweep). A fragment may not include another, nor hold a sweep table.

A run's scenario is built in this order: base → fixed → design → mix → the point's swept values.
A design or a mix may not set a key the sweep varies, and a design and a mix may not set the same
key; a mix may not set ``regime.kind`` (a mix is a population: regimes are designs or a parameter).
Every design, every mix and every (design, mix) pair must give a valid scenario with the base
and the fixed overrides (the swept values may still break a cross-field rule at some points: such
runs are recorded as failed).

A parameter's values take the type of its scenario key: integer levels of a real-valued key (say
``values = [800, 1600]``) are real numbers, and a range over a whole-number key (a population) is
drawn in whole numbers unless it says otherwise. A list-valued key (``stakes.validator_stakes_tokens``)
is no parameter: set it under ``[fixed]``, a design or a mix.

Everything is checked before anything runs, and every problem is reported at once: unknown keys
(with the closest allowed name), parameter paths that are not scenario keys, ranges outside what
the scenario allows, designs that cannot take a parameter kind.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides
from model.limits import MAX_SEED, read_toml_file
from model.params import RETIRED_KEYS, to_dict
from model.scenario import did_you_mean, key_type, scenario_keys, value_problem

DESIGNS = ("grid", "lhs", "sobol", "montecarlo", "saltelli", "morris")
#: The scenario key that picks the regime (token or tokenless): a design's or a parameter's, never a mix's.
REGIME_KIND = "regime.kind"
#: Designs that sample the unit cube coordinate by coordinate and so need numeric ranges.
RANGE_ONLY_DESIGNS = ("saltelli", "morris")
TABLES = ("sweep", "fixed", "parameters", "mixes", "designs")
SWEEP_KEYS = {
    "name",
    "base",
    "design",
    "points",
    "morris_levels",
    "replications",
    "seed",
    "trajectories",
    "trajectory_points",
    "notes",
}
PARAMETER_KEYS = {"path", "low", "high", "steps", "scale", "type", "values"}
#: Most runs one sweep may hold (points × designs × mixes × replications); split bigger studies.
MAX_RUNS = 10_000_000
#: Most tokenomics designs, and most population mixes, in one sweep (each is validated against
#: every other, and the report draws one panel per design).
MAX_DESIGNS = MAX_MIXES = 100
#: Most numbers a sampled design draws (its points × parameters), 400 MB of float64 in the parent.
MAX_DESIGN_NUMBERS = 50_000_000
#: Most rounds kept of one run's trajectory (``trajectory_points``).
MAX_TRAJECTORY_POINTS = 1_000
#: Most trajectory rows one sweep keeps (runs × points); the report loads them all at once, at
#: about 300 bytes a row.
MAX_TRAJECTORY_ROWS = 5_000_000
#: Morris grid levels when the sweep does not say.
DEFAULT_MORRIS_LEVELS = 4
#: What a sweep without ``[designs]`` (or ``[mixes]``) has: one entry, "base", overriding nothing.
ONLY_BASE: tuple[tuple[str, dict[str, Any]], ...] = (("base", {}),)
#: The key of ``[fixed]``, a design or a mix that names scenario fragments to merge in.
INCLUDE = "include"
#: What a fragment is called in the problems its reading raises ("cannot read the ... file").
FRAGMENT = "scenario fragment"

Overrides = tuple[tuple[str, dict[str, Any]], ...]
"""Named sets of scenario overrides, in file order: ``((name, {dotted key: value}), ...)``."""


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

    def spec(self) -> dict[str, Any]:
        """The parameter as the manifest records it; fields that do not apply are None."""
        span = {"low": self.low, "high": self.high, "steps": self.steps, "scale": self.scale}
        if self.is_list:
            return {"path": self.path, "kind": "list", **dict.fromkeys(span), "values": list(self.values)}
        return {"path": self.path, "kind": self.kind, **span, "values": None}

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
    """The sampling method: grid, lhs, sobol, montecarlo, saltelli or morris."""
    points: int | None
    """Sampled designs: points drawn (saltelli: base samples N; morris: trajectories r)."""
    replications: int
    seed: int
    trajectories: bool = False
    trajectory_points: int = 50
    notes: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)
    """The ``[fixed]`` overrides by dotted key, the fragments it includes merged in."""
    mixes: Overrides = ONLY_BASE
    """Population mixes, (name, scenario overrides); every design point runs under each."""
    designs: Overrides = ONLY_BASE
    """Tokenomics designs, (name, scenario overrides); every design point runs under each."""
    morris_levels: int | None = None
    """The morris design: grid levels per parameter (None for other designs)."""

    def content_hash(self) -> str:
        """SHA-256 of everything that decides the results (not the file's formatting).

        Designs and Morris levels enter only when present, so a sweep without them keeps the hash
        it had before they existed (and its results directory resumes).
        """
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
        if self.designs != ONLY_BASE:
            spec["designs"] = [[name, overrides] for name, overrides in self.designs]
        if self.morris_levels is not None:
            spec["morris_levels"] = self.morris_levels
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


# -- [sweep] ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Settings:
    """The ``[sweep]`` table's values (defaults where a value was missing or refused)."""

    name: str
    design: str | None
    """None when the file names no known design."""
    points: int | None
    points_refused: bool
    morris_levels: int | None
    replications: int
    seed: int
    trajectories: bool
    trajectory_points: int
    trajectory_points_given: bool
    """Whether the file set ``trajectory_points`` (the default is not held against short runs)."""
    notes: str


def _int_field(
    table: Mapping, key: str, default: Any, minimum: int, maximum: int, problems: list[str]
) -> Any:
    """``table[key]``, a whole number in [minimum, maximum]; ``default`` if missing or refused.

    A number written with an exponent (``1e9``) is a float in TOML, and refused as not whole.
    """
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        problems.append(
            f"sweep.{key} = {value!r} is not allowed: expected a whole number in [{minimum:_}, {maximum:_}]"
        )
        return default
    return value


def _settings(table: Mapping, source: str | None, problems: list[str]) -> _Settings:
    for key in table:
        if key not in SWEEP_KEYS:
            problems.append(
                f"unknown key 'sweep.{key}'{did_you_mean(key, SWEEP_KEYS)}: "
                f"allowed keys are {', '.join(sorted(SWEEP_KEYS))}"
            )
    design = table.get("design", "grid")
    if design not in DESIGNS:
        problems.append(
            f"sweep.design = {design!r} is not allowed{did_you_mean(design, DESIGNS)}: "
            f"expected one of {', '.join(DESIGNS)}"
        )
        design = None
    n_problems = len(problems)
    points = _int_field(table, "points", None, 1, MAX_RUNS, problems)
    points_refused = len(problems) > n_problems
    trajectories = table.get("trajectories", False)
    if not isinstance(trajectories, bool):
        problems.append(f"sweep.trajectories = {trajectories!r} is not allowed: expected true or false")
        trajectories = False
    name = table.get("name", Path(source).stem if source else "sweep")
    notes = table.get("notes", "")
    for key, value in (("name", name), ("notes", notes)):
        if not isinstance(value, str):
            problems.append(f"sweep.{key} = {value!r} is not allowed: expected a string")
    return _Settings(
        name=name if isinstance(name, str) else "sweep",
        design=design,
        points=points,
        points_refused=points_refused,
        morris_levels=_morris_levels(table, design, problems),
        replications=_int_field(table, "replications", 1, 1, MAX_RUNS, problems),
        seed=_int_field(table, "seed", 0, 0, MAX_SEED, problems),
        trajectories=trajectories,
        trajectory_points=_int_field(table, "trajectory_points", 50, 2, MAX_TRAJECTORY_POINTS, problems),
        trajectory_points_given="trajectory_points" in table,
        notes=notes if isinstance(notes, str) else "",
    )


def _morris_levels(table: Mapping, design: str | None, problems: list[str]) -> int | None:
    """The morris design's grid levels: an even whole number >= 2 (default 4); None otherwise."""
    levels = table.get("morris_levels")
    if levels is None:
        return DEFAULT_MORRIS_LEVELS if design == "morris" else None
    if design != "morris":
        if design is not None:  # an unknown design is reported already
            problems.append(f"sweep.morris_levels applies to the 'morris' design only, not to {design!r}")
        return None
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        problems.append(
            f"sweep.morris_levels = {levels!r} is not allowed: expected an even whole number >= 2"
        )
        return DEFAULT_MORRIS_LEVELS
    return levels


# -- [[parameters]] --------------------------------------------------------------------------
def _parameter(i: int, raw: Any, keys: list[str], problems: list[str]) -> Parameter | None:
    where = f"parameters[{i}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a table with a 'path', got {raw!r}")
        return None
    for key in raw:
        if key not in PARAMETER_KEYS:
            problems.append(
                f"unknown key '{where}.{key}'{did_you_mean(key, PARAMETER_KEYS)}: "
                f"allowed keys are {', '.join(sorted(PARAMETER_KEYS))}"
            )
    path = raw.get("path")
    if not isinstance(path, str) or path not in keys:
        problems.append(f"{where}.path = {path!r} {_not_a_key(path, keys)}")
        return None
    where = f"{where} ({path})"
    if key_type(path) is tuple:
        problems.append(
            f"{where}: {path} is a list of numbers, which a sweep cannot vary as a parameter; set it "
            "under [fixed], or compare lists side by side as [designs.NAME] or [mixes.NAME] tables"
        )
        return None
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
    kind = _range_kind(where, path, raw.get("type"), problems)
    if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
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
    parameter = Parameter(path=path, low=low, high=high, steps=steps, scale=scale, kind=kind)
    if kind == "int" and isinstance(steps, int) and not problems_for(where, problems):
        _check_whole_number_steps(where, parameter, problems)
    return parameter


def problems_for(where: str, problems: list[str]) -> bool:
    """Whether a problem was already recorded for the parameter ``where``."""
    return any(p.startswith(where) for p in problems)


def _check_whole_number_steps(where: str, p: Parameter, problems: list[str]) -> None:
    """An int grid whose steps round onto the same whole number would run a point twice and
    weigh it twice in the analysis: refuse it, saying how many distinct steps the range holds."""
    whole_numbers = int(p.high - p.low) + 1
    if p.steps > whole_numbers or len(set(p.grid_values())) < p.steps:
        distinct = len(set(p.grid_values())) if p.steps <= whole_numbers else whole_numbers
        problems.append(
            f"{where}.steps = {p.steps} repeats whole numbers: the range {p.low:g} to {p.high:g}"
            f"{' (log scale)' if p.scale == 'log' else ''} holds {distinct} distinct steps; use "
            f"steps <= {distinct} or a list of values"
        )


def _range_kind(where: str, path: str, declared: Any, problems: list[str]) -> str:
    """A range's kind: as declared, else ``int`` for a whole-number scenario key, else ``real``."""
    whole = key_type(path) is int
    if declared is None:
        return "int" if whole else "real"
    if declared not in ("real", "int"):
        problems.append(f"{where}.type = {declared!r} is not allowed: expected 'real' or 'int'")
        return "int" if whole else "real"
    if declared == "real" and whole:
        problems.append(
            f"{where}.type = 'real' is not allowed: {path} takes whole numbers; use type = 'int' "
            "(or leave 'type' out)"
        )
        return "int"
    return declared


def _parameters(raw: Any, problems: list[str]) -> tuple[list[Parameter], list[Parameter]]:
    """The ``[[parameters]]`` entries that could be read, and those of them with no problem.

    Each problem is reported; a parameter whose own definition has one (a log scale from 0, bad
    steps) is kept for the checks that only need its path, but not mapped onto values.
    """
    if not isinstance(raw, list) or not raw:
        problems.append("at least one [[parameters]] entry is required")
        return [], []
    keys = scenario_keys()
    parameters, sound = [], []
    for i, entry in enumerate(raw):
        before = len(problems)
        parameter = _parameter(i, entry, keys, problems)
        if parameter is not None:
            parameters.append(parameter)
            if len(problems) == before:
                sound.append(parameter)
    counts = Counter(p.path for p in parameters)
    for path in sorted(path for path, n in counts.items() if n > 1):
        problems.append(f"parameter {path!r} is varied twice")
    return parameters, sound


def _check_design_takes(settings: _Settings, parameters: list[Parameter], problems: list[str]) -> None:
    """The sampling method's own demands: a grid's steps, a sampled design's points, numeric ranges."""
    design, points = settings.design, settings.points
    if design is None:
        return
    if design == "grid":
        for p in parameters:
            if not p.is_list and p.steps is None:
                problems.append(f"parameter {p.path!r}: a grid needs 'steps' (or a list of 'values')")
        if points is not None:
            problems.append(
                "sweep.points applies to sampled designs; a grid's size comes from each parameter's steps"
            )
        return
    if points is None:
        if not settings.points_refused:
            what = " (the number of trajectories, >= 2)" if design == "morris" else ""
            problems.append(f"sweep.points is required for the {design!r} design{what}")
    elif design in ("sobol", "saltelli") and points & (points - 1):
        problems.append(f"sweep.points = {points} is not allowed for {design!r}: expected a power of 2")
    elif design == "morris" and points < 2:
        problems.append(
            f"sweep.points = {points} is not allowed for 'morris': expected at least 2 trajectories"
        )
    if design in RANGE_ONLY_DESIGNS:
        for p in parameters:
            if p.is_list:
                problems.append(
                    f"the {design!r} design needs numeric ranges, not lists of values (parameter {p.path!r})"
                )


def _design_size(design: str, parameters: list[Parameter], points: int | None) -> int:
    """Parameter points of a design (designs and mixes aside), computed without building them."""
    if design == "grid":
        return math.prod(len(p.values) if p.is_list else p.steps for p in parameters)
    if design == "saltelli":
        return points * (len(parameters) + 2)
    if design == "morris":
        return points * (len(parameters) + 1)
    return points


def _check_size(
    settings: _Settings, parameters: list[Parameter], n_designs: int, n_mixes: int, problems: list[str]
) -> None:
    """Refuse more than MAX_RUNS runs; ``parameters`` are the sound ones (a lower bound if some aren't)."""
    design = settings.design
    if design is None or (design == "grid" and any(not p.is_list and p.steps is None for p in parameters)):
        return
    if design != "grid" and settings.points is None:
        return
    points = _design_size(design, parameters, settings.points)
    total = points * n_designs * n_mixes * settings.replications
    if total > MAX_RUNS:
        problems.append(
            f"the sweep holds {total:_} runs (points × designs × mixes × replications); at most "
            f"MAX_RUNS = {MAX_RUNS:_} are allowed in one sweep: split it, or use a sampled design"
        )
    numbers = points * len(parameters)
    if design != "grid" and numbers > MAX_DESIGN_NUMBERS:
        problems.append(
            f"the {design!r} design draws {numbers:_} numbers ({points:_} points × {len(parameters)} "
            f"parameters); at most MAX_DESIGN_NUMBERS = {MAX_DESIGN_NUMBERS:_} are allowed: "
            "draw fewer points or vary fewer parameters"
        )
    if settings.trajectories and total <= MAX_RUNS:
        rows = total * settings.trajectory_points
        if rows > MAX_TRAJECTORY_ROWS:
            problems.append(
                f"sweep.trajectories = true keeps {rows:_} trajectory rows ({total:_} runs × "
                f"trajectory_points = {settings.trajectory_points}); at most MAX_TRAJECTORY_ROWS = "
                f"{MAX_TRAJECTORY_ROWS:_} are allowed in one sweep: keep fewer points, or trajectories "
                "in a smaller sweep"
            )


def _largest_rounds(base: Scenario, parameters: list[Parameter], designs: Overrides, mixes: Overrides) -> int:
    """The most rounds any run of the sweep can have (the base's, a design's, a mix's or a swept one)."""
    candidates: list[Any] = [base.rounds]
    candidates += [overrides.get("rounds") for _, overrides in (*designs, *mixes)]
    for p in parameters:
        if p.path == "rounds":
            candidates += list(p.values) if p.is_list else [p.high]
    numbers = [c for c in candidates if isinstance(c, int | float) and not isinstance(c, bool)]
    return int(max(numbers))


def _check_trajectory_points(
    settings: _Settings,
    base: Scenario,
    parameters: list[Parameter],
    designs: Overrides,
    mixes: Overrides,
    problems: list[str],
) -> None:
    """A trajectory cannot keep more points than the longest run has rounds."""
    if not settings.trajectory_points_given:
        return
    rounds = _largest_rounds(base, parameters, designs, mixes)
    if settings.trajectory_points > rounds:
        problems.append(
            f"sweep.trajectory_points = {settings.trajectory_points} is not allowed: at most the rounds "
            f"of the longest run ({rounds:_}), since a trajectory keeps at most one point per round"
        )


# -- [fixed], [mixes.*], [designs.*] ---------------------------------------------------------
def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``: TOML reads an unquoted ``a.b = 1`` as a nested table."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class _Fragments:
    """The scenario fragments a sweep file includes, read relative to its directory, each once."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._read: dict[str, tuple[dict[str, Any], list[str]]] = {}

    def keys_of(self, name: str) -> tuple[dict[str, Any], list[str]]:
        """Fragment ``name``'s scenario overrides by dotted key, and what is wrong with it.

        A key that is not a scenario key is reported and dropped; the others are kept, so the
        sweep's later checks still see them.
        """
        if name not in self._read:
            self._read[name] = self._load(name)
        return self._read[name]

    def _load(self, name: str) -> tuple[dict[str, Any], list[str]]:
        path = self.directory / name
        try:
            data = read_toml_file(path, FRAGMENT)
        except ScenarioError as exc:
            # Where the path led, when it differs from what the include says (a sweep file elsewhere).
            shown = "" if str(path) == name else str(path).replace("\x00", "\\x00") + ": "
            return {}, [f"{shown}{q}" for q in exc.problems]
        problems = []
        if INCLUDE in data:
            problems.append(
                f"the fragment has its own {INCLUDE!r}, which is not allowed: includes are one level "
                "only, so include every fragment from the sweep file"
            )
        for table in (t for t in TABLES if t in data):
            shown = f"[[{table}]]" if table == "parameters" else f"[{table}]"
            problems.append(
                f"{shown} is a sweep table: a fragment holds scenario tables only "
                "([detection], [behaviour], [quality], ...)"
            )
        keys = scenario_keys()
        out = {}
        scenario = {k: v for k, v in data.items() if k != INCLUDE and k not in TABLES}
        for key, value in _flatten(scenario).items():
            if key in keys:
                out[key] = value
            else:
                problems.append(f"{key!r} {_not_a_key(key, keys)}")
        # A value its key does not allow (type, range, choices) is reported here, where the fragment
        # can be named, and dropped; rules across keys are judged on the scenario the sweep builds.
        for key, value in list(out.items()):
            problem = value_problem(key, value)
            if problem is not None:
                problems.append(problem)
                del out[key]
        return out, problems


def _include_names(where: str, include: Any, problems: list[str]) -> list[str]:
    """The fragment paths an ``include`` names: one string, or a list of strings."""
    if isinstance(include, str):
        return [include]
    if isinstance(include, list) and all(isinstance(name, str) for name in include):
        return include
    problems.append(
        f"{where}.{INCLUDE} = {include!r} is not allowed: expected the path of a scenario fragment "
        "(a string) or a list of them"
    )
    return []


def _overrides(where: str, raw: Any, fragments: _Fragments, problems: list[str]) -> dict[str, Any]:
    """A table of scenario overrides by dotted key, its included fragments merged in first.

    Unknown keys (the table's or a fragment's) are reported and dropped.
    """
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a table of scenario keys, got {raw!r}")
        return {}
    out = {}
    names = _include_names(where, raw[INCLUDE], problems) if INCLUDE in raw else []
    for name in names:  # later fragments override earlier ones, the table's own keys all of them
        included, refused = fragments.keys_of(name)
        problems.extend(f"{where}.{INCLUDE} {name!r}: {q}" for q in refused)
        out.update(included)
    keys = scenario_keys()
    for key, value in _flatten({k: v for k, v in raw.items() if k != INCLUDE}).items():
        if key in keys:
            out[key] = value
        else:
            problems.append(f"{where}: {key!r} {_not_a_key(key, keys)}")
    return out


def _not_a_key(key: object, keys: list[str]) -> str:
    """Why ``key`` is refused: retired (and what replaced it), or unknown (and the closest key)."""
    if isinstance(key, str) and key in RETIRED_KEYS:
        return f"was retired: {RETIRED_KEYS[key]}"
    return "is not a scenario key" + (did_you_mean(key, keys) or " (see the README's scenario reference)")


def _named_overrides(table: str, raw: Any, fragments: _Fragments, problems: list[str]) -> Overrides:
    """The ``[TABLE.NAME]`` tables as (name, overrides); one entry, "base", when there are none."""
    if raw is None:
        return ONLY_BASE
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"{table} must hold one or more [{table}.NAME] tables of scenario keys, got {raw!r}")
        return ONLY_BASE
    if len(raw) > MAX_DESIGNS:  # MAX_DESIGNS == MAX_MIXES
        problems.append(
            f"{table} holds {len(raw):_} tables; at most {MAX_DESIGNS} {table} are allowed in one sweep"
        )
        return ONLY_BASE
    return tuple(
        (name, _overrides(f"{table}.{name}", overrides, fragments, problems))
        for name, overrides in raw.items()
    )


def _check_overlaps(
    parameters: list[Parameter], designs: Overrides, mixes: Overrides, problems: list[str]
) -> None:
    """Designs and mixes may not set a swept key, and a design and a mix may not share a key."""
    swept = {p.path for p in parameters}
    for table, noun, entries in (("designs", "design", designs), ("mixes", "mix", mixes)):
        for name, overrides in entries:
            for key in sorted(swept & set(overrides)):
                problems.append(
                    f"{table}.{name} sets {key!r}, which the sweep varies: a {noun} may not override it"
                )
    for name, overrides in mixes:
        if REGIME_KIND in overrides:
            problems.append(
                f"mixes.{name} sets {REGIME_KIND!r}, which a mix may not: a mix is a starting population, "
                "judged alongside the other mixes under one set of institutions; compare regimes with a "
                f"design per regime (designs share their random numbers) or a {REGIME_KIND!r} parameter"
            )
    for design_name, design in designs:
        for mix_name, mix in mixes:
            for key in sorted(set(design) & set(mix) - swept):  # a swept key is reported above
                problems.append(
                    f"designs.{design_name} and mixes.{mix_name} both set {key!r}: "
                    "a design and a mix may not set the same key"
                )


# -- against the scenario --------------------------------------------------------------------
def _applied(scenario: Scenario, overrides: Mapping[str, Any]) -> tuple[Scenario | None, list[str]]:
    """``scenario`` with ``overrides``, or None and what the scenario schema refuses."""
    try:
        return with_overrides(scenario, overrides), []
    except ScenarioError as exc:
        return None, exc.problems


def _refusals(scenario: Scenario, overrides: Mapping[str, Any]) -> list[str]:
    """What the scenario schema refuses in ``scenario`` with ``overrides`` (nothing if valid)."""
    return _applied(scenario, overrides)[1]


def _own(problems: list[str], keys: Iterable[str]) -> list[str]:
    """The problems about the values of ``keys`` themselves (not cross-field rules)."""
    return [q for q in problems if any(q.startswith(f"{key} =") for key in keys)]


def _check_parameters(base: Scenario, parameters: list[Parameter], problems: list[str]) -> None:
    """Every parameter's ends (or values) must be values its scenario key allows.

    Only each key's own type and range are checked here; a combination that breaks a cross-field
    rule (shares that must add up to 1, a genesis supply too small for a population) is recorded as
    a failed run when it comes up.
    """
    data = to_dict(base)
    for p in parameters:
        candidates = list(p.values) if p.is_list else [p.from_unit(0.0), p.from_unit(1.0)]
        for value in candidates:
            try:
                scenario_from_dict(_set(data, p.path, value))
            except ScenarioError as exc:
                problems.extend(f"parameter {p.path!r}: {q}" for q in _own(exc.problems, [p.path]))


def _check_designs_and_mixes(
    base: Scenario, whole: bool, designs: Overrides, mixes: Overrides, problems: list[str]
) -> None:
    """Each design, each mix and each (design, mix) pair must give a valid scenario.

    ``whole`` is False when the base scenario or the fixed overrides were refused: then ``base``
    is a stand-in and only each key's own value is checked (cross-field rules would be judged on
    the wrong scenario).
    """
    valid = {}
    for table, entries in (("designs", designs), ("mixes", mixes)):
        for name, overrides in entries:
            refused = _refusals(base, overrides)
            refused = refused if whole else _own(refused, overrides)
            problems.extend(f"{table}.{name}: {q}" for q in refused)
            valid[table, name] = not refused
    if not whole:
        return
    for design_name, design in designs:
        for mix_name, mix in mixes:
            if not (design and mix and valid["designs", design_name] and valid["mixes", mix_name]):
                continue  # one alone is checked above; a refused one is reported already
            if set(design) & set(mix):
                continue  # refused as an overlap
            refused = _refusals(base, {**design, **mix})
            problems.extend(f"designs.{design_name} with mixes.{mix_name}: {q}" for q in refused)


def _set(data: dict, dotted: str, value: Any) -> dict:
    out = json.loads(json.dumps(data))
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    return out


def _load_base(table: Mapping, directory: Path, problems: list[str]) -> Scenario | None:
    base_name = table.get("base")
    if not isinstance(base_name, str):
        problems.append(f"sweep.base = {base_name!r}: expected the path of a scenario file")
        return None
    try:
        return load_scenario(directory / base_name)
    except ScenarioError as exc:
        problems.extend(f"sweep.base {base_name!r}: {p}" for p in exc.problems)
        return None


def sweep_from_dict(data: Mapping[str, Any], directory: Path, source: str | None = None) -> Sweep:
    """Build and validate a sweep; raise ScenarioError listing every problem in the file at once."""
    problems: list[str] = []
    for key in data:
        if key not in TABLES:
            problems.append(
                f"unknown key {key!r}{did_you_mean(key, TABLES)}: allowed tables are {', '.join(TABLES)}"
            )
    table = data.get("sweep")
    if not isinstance(table, Mapping):
        problems.append("a [sweep] table with at least 'base' is required")
        base = None
        table = {}
    else:
        base = _load_base(table, directory, problems)
    settings = _settings(table, source, problems)
    parameters, sound = _parameters(data.get("parameters"), problems)
    fragments = _Fragments(directory)
    fixed = _overrides("fixed", data.get("fixed", {}), fragments, problems)
    designs = _named_overrides("designs", data.get("designs"), fragments, problems)
    mixes = _named_overrides("mixes", data.get("mixes"), fragments, problems)
    _check_design_takes(settings, parameters, problems)
    _check_overlaps(parameters, designs, mixes, problems)
    _check_size(settings, sound, len(designs), len(mixes), problems)
    # Each key's own values are checked even without a usable base (against the defaults);
    # cross-field rules only on the base with the fixed overrides.
    whole = base is not None
    reference = base if whole else Scenario()
    fixed_base, refused = _applied(reference, fixed)
    problems.extend(f"fixed: {q}" for q in (refused if whole else _own(refused, fixed)))
    if whole and fixed_base is not None:
        base = reference = fixed_base
    else:
        whole = False
    _check_parameters(reference, sound, problems)
    _check_trajectory_points(settings, reference, sound, designs, mixes, problems)
    _check_designs_and_mixes(reference, whole, designs, mixes, problems)
    if problems:
        raise ScenarioError(problems, source, "sweep")
    return Sweep(
        name=settings.name,
        base=base,
        parameters=tuple(parameters),
        design=settings.design,
        points=settings.points,
        replications=settings.replications,
        seed=settings.seed,
        trajectories=settings.trajectories,
        trajectory_points=settings.trajectory_points,
        notes=settings.notes,
        fixed=fixed,
        mixes=mixes,
        designs=designs,
        morris_levels=settings.morris_levels,
    )


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; raise ScenarioError naming every problem.

    The file must be a regular UTF-8 file of at most ``model.limits.MAX_FILE_BYTES``, nested at
    most ``MAX_NESTING_DEPTH`` deep (and so must its base scenario).
    """
    data = read_toml_file(path, "sweep")
    return sweep_from_dict(data, Path(path).parent, str(path))
