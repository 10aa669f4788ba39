"""Calibrating the abstract mode from the mechanistic one (``fedstake calibrate``).

The abstract mode needs numbers a designer would otherwise guess: how often each kind of
submission is flagged, how honest validators score cheating work, how fast the model learns and
how hard accepted poison hurts it. The mechanistic mode (``model.fl``) measures them. This module
runs a mechanistic scenario over several seeds and turns what it measured into the abstract
mode's parameters, each with a 95 % confidence interval over seeds, written as a scenario
fragment that a sweep can include (``include = "fragment.toml"`` in ``[fixed]`` or a design).

What is measured, per seed (one run each):

* ``detection.<kind>_rate`` — the share of that strategy's submissions flagged (honest ones: the
  false-positive rate). The abstract rates are rates at full honest validation, so the calibration
  runs count copying validators as honest. A cheap Sybil copy is flagged in abstract mode as lazy
  work *or* as a duplicate, ``1 − (1 − lazy)(1 − dup)``; the duplicate rate is solved from that;
* ``behaviour.lazy_score`` and ``poison_score`` — honest validators' mean score of those
  submissions over their mean score of honest ones; ``detection.score_noise_sd`` — how far one
  validator's score of an honest submission lies from the validators' mean score of it (their
  disagreement: the abstract mode's independent noise per validator), over the mean honest score;
* ``quality.initial_quality`` — the untrained model's test accuracy; ``quality.learning_rate`` and
  ``poison_damage`` — the least-squares fit, over rounds, of the abstract quality update
  ``Δq = lr · w (1 − q) − damage · p · q`` to the test accuracy (``w``: honest work per accepted
  submission, ``p``: the poisoned share of them). The mechanistic curve need not have that shape:
  the fit is the closest abstract summary, and the fragment says so.

The interval is Student's t over seeds (none with one seed), clipped to what the key allows; a
mean outside that range is clipped too, and the comment says so. A parameter the runs cannot
identify (no submission of that kind, no accepted poison) is left out of the fragment, with the
reason in a comment.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from model import Scenario, with_overrides
from model.network import FLNetwork
from model.params import ScenarioError

#: Default number of seeds (runs) a calibration averages over.
DEFAULT_SEEDS = 5
#: The trainer strategies whose flag rate calibrates a detection rate, in the network's order.
RATE_KEYS = {
    "honest": "detection.false_positive_rate",
    "lazy": "detection.lazy_detection_rate",
    "sybil": "detection.sybil_detection_rate",
    "poisoning": "detection.poison_detection_rate",
}
#: Each calibrated key's allowed range (the scenario schema's).
BOUNDS = {
    **dict.fromkeys(RATE_KEYS.values(), (0.0, 1.0)),
    "behaviour.lazy_score": (0.0, 1.0),
    "behaviour.poison_score": (0.0, 1.0),
    "detection.score_noise_sd": (0.0, 100.0),
    "quality.initial_quality": (0.0, 1.0),
    "quality.learning_rate": (0.0, 1.0),
    "quality.poison_damage": (0.0, 1.0),
}


@dataclass(frozen=True)
class Estimate:
    """One calibrated abstract-mode parameter."""

    key: str
    """The dotted scenario key."""
    per_seed: tuple[float, ...]
    """Its measurement in each seed's run (NaN where that run could not identify it)."""
    meaning: str
    """What was measured, in a few words (the fragment's comment)."""

    @property
    def seeds(self) -> int:
        """Runs that identified it."""
        return int(np.count_nonzero(np.isfinite(self.per_seed)))

    @property
    def mean(self) -> float:
        """The mean over the runs that identified it (NaN: none did), before clipping."""
        known = np.asarray(self.per_seed, float)
        known = known[np.isfinite(known)]
        return float(known.mean()) if known.size else math.nan

    @property
    def value(self) -> float:
        """``mean`` clipped to the key's range (NaN: no run identified it)."""
        low, high = BOUNDS[self.key]
        return math.nan if math.isnan(self.mean) else float(np.clip(self.mean, low, high))

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % confidence interval of the mean (Student t over seeds), clipped to the key's range;
        None with fewer than two runs identifying it."""
        known = np.asarray(self.per_seed, float)
        known = known[np.isfinite(known)]
        if known.size < 2:
            return None
        half = stats.t.ppf(0.975, known.size - 1) * known.std(ddof=1) / math.sqrt(known.size)
        low, high = BOUNDS[self.key]
        mean = known.mean()
        return float(np.clip(mean - half, low, high)), float(np.clip(mean + half, low, high))


def calibration_scenario(scenario: Scenario) -> Scenario:
    """The scenario the calibration runs: mechanistic, with its copying validators counted as honest
    (the abstract detection rates are rates at full honest validation)."""
    if scenario.detection.mode != "mechanistic":
        raise ScenarioError(
            [
                f"detection.mode = {scenario.detection.mode!r} is not allowed here: calibration measures a "
                "mechanistic run; set detection.mode = 'mechanistic' (and its [fl] section)"
            ],
            None,
            "scenario",
        )
    p = scenario.population
    return with_overrides(
        scenario,
        {
            "population.honest_validators": p.honest_validators + p.copying_validators,
            "population.copying_validators": 0,
        },
    )


def calibrate(
    scenario: Scenario, seeds: int = DEFAULT_SEEDS, first_seed: int | None = None
) -> list[Estimate]:
    """Run ``scenario`` (mechanistic) once per seed, ``first_seed`` (default: the scenario's) onwards,
    and estimate the abstract mode's parameters from what the runs measured."""
    s = calibration_scenario(scenario)
    first = s.seed if first_seed is None else first_seed
    rows = [_measure(s, first + i) for i in range(seeds)]
    estimates = []
    for key in rows[0]:
        meaning, _ = rows[0][key]
        estimates.append(Estimate(key, tuple(row[key][1] for row in rows), meaning))
    return estimates


def _measure(s: Scenario, seed: int) -> dict[str, tuple[str, float]]:
    """One run's measurements: key → (what it is, the value; NaN when this run cannot tell)."""
    from model.kpis import strategy_figures

    net = FLNetwork(s, seed)
    net.run()
    figures = strategy_figures(net)
    rates = dict(zip(net.strategies, figures["flag_rate"].tolist(), strict=False))
    task = net.task
    out: dict[str, tuple[str, float]] = {}
    for strategy, key in RATE_KEYS.items():
        out[key] = (f"share of {strategy} submissions flagged", rates.get(strategy, math.nan))
    if s.behaviour.sybil_update == "cheap":  # flagged as lazy work or as a duplicate
        lazy, sybil = out[RATE_KEYS["lazy"]][1], out[RATE_KEYS["sybil"]][1]
        duplicate = 1.0 - (1.0 - sybil) / (1.0 - lazy) if lazy < 1.0 else math.nan
        out[RATE_KEYS["sybil"]] = (
            "duplicate rate solved from the Sybil copies' flags, 1 - (1 - sybil) / (1 - lazy) (it needs lazy "
            "submissions, not all flagged)",
            duplicate,
        )
    out["behaviour.lazy_score"] = ("lazy submissions' mean score over honest ones'", task.relative_score(1))
    out["behaviour.poison_score"] = (
        "poisoned submissions' mean score over honest ones'",
        task.relative_score(3),
    )
    out["detection.score_noise_sd"] = (
        "sd of validators' scores of one honest submission around their mean, over the mean score",
        task.honest_score_spread(),
    )
    out["quality.initial_quality"] = ("test accuracy of the untrained model", task.initial_accuracy)
    learning, damage = quality_rates(np.asarray(task.trace, float))
    out["quality.learning_rate"] = ("fit of dq = lr w (1 - q) - damage p q to test accuracy", learning)
    out["quality.poison_damage"] = ("the same fit's damage (needs accepted poison)", damage)
    return out


def quality_rates(trace: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(lr, damage)`` of ``Δq = lr · w (1 − q) − damage · p · q`` over rounds (rows of
    ``trace``: accuracy before, after, honest work share ``w``, poison share ``p``). Damage is NaN
    when no round accepted poison (it cannot be told), both NaN with no round at all."""
    if not len(trace):
        return math.nan, math.nan
    before, after, work, poison = trace.T
    change = after - before
    x = np.column_stack([work * (1.0 - before), -poison * before])
    identified = np.abs(x).sum(axis=0) > 0
    coefficients = np.full(2, math.nan)
    if identified.any():
        solution, *_ = np.linalg.lstsq(x[:, identified], change, rcond=None)
        coefficients[identified] = solution
    return float(coefficients[0]), float(coefficients[1])


def fragment_text(estimates: list[Estimate], scenario: Scenario, source: str, seeds: int, first: int) -> str:
    """The scenario fragment: ``detection.mode = "abstract"`` and each identified estimate, by section,
    with its interval and meaning in a comment; a left-out parameter is named with the reason."""
    fl = scenario.fl
    lines = [
        f"# Abstract-mode parameters calibrated by `fedstake calibrate` from {source}",
        f"# (scenario {scenario.name!r}, detection.mode = 'mechanistic', fl.dataset = {fl.dataset!r},",
        f"# fl.aggregator = {fl.aggregator!r}, fl.attack = {fl.attack!r}): {seeds} seed{'s' * (seeds != 1)}",
        f"# from {first}, {scenario.rounds} rounds each, copying validators counted as honest.",
        "# Each value is the mean over seeds; its comment gives the 95 % confidence interval (Student t).",
        '# Use it in a sweep: include = "<this file>" under [fixed] or a [designs.NAME] table.',
        "",
        "[detection]",
        'mode = "abstract"',
    ]
    section = "detection"
    for estimate in sorted(estimates, key=lambda e: _section_order(e.key)):
        table, name = estimate.key.split(".")
        if table != section:
            lines += ["", f"[{table}]"]
            section = table
        value = estimate.value
        if math.isnan(value):
            lines.append(f"# {name}: not identified by these runs ({estimate.meaning})")
            continue
        interval = estimate.interval
        ci = (
            "one seed: no interval" if interval is None else f"95 % CI [{interval[0]:.4g}, {interval[1]:.4g}]"
        )
        if estimate.mean != value:
            ci += f"; the mean, {estimate.mean:.4g}, clipped to what the key allows"
        lines.append(f"{name} = {value:.6g}  # {ci}; {estimate.meaning}")
    return "\n".join(lines) + "\n"


def _section_order(key: str) -> tuple[int, str]:
    return (["detection", "behaviour", "quality"].index(key.split(".")[0]), key)


def write_fragment(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file renamed over it)."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
