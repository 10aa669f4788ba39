"""Experimental designs: which parameter points a sweep runs.

Sampled designs draw points in the unit hypercube and map each coordinate onto its parameter with
``Parameter.from_unit`` (linear or log scale, whole numbers, or a list of values):

* ``grid`` — the full factorial of every parameter's values (crossed, never zipped);
* ``lhs`` — a Latin hypercube (scipy.stats.qmc);
* ``sobol`` — a scrambled Sobol' sequence (a power-of-2 number of points);
* ``montecarlo`` — independent uniform draws;
* ``saltelli`` — the sample for Sobol' sensitivity indices: from ``points`` = N base rows of a
  scrambled Sobol' sequence in 2d dimensions, the matrices A and B (its two halves) and, for each
  parameter i, AB_i (A with column i taken from B) — N·(d + 2) points in the order A, B, AB_1 … AB_d.

Draws come from the sweep seed (a stream of its own, separate from the runs' streams).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

from analysis.sweep.sweepfile import Sweep

#: Spawn keys below the sweep seed: runs use (RUNS, point, replication), designs (DESIGN,).
RUNS, DESIGN = 0, 1


def design_rng(sweep: Sweep) -> np.random.Generator:
    """The generator a sweep's design draws from."""
    return np.random.default_rng(np.random.SeedSequence(sweep.seed, spawn_key=(DESIGN,)))


def unit_sample(design: str, dimensions: int, points: int, rng: np.random.Generator) -> np.ndarray:
    """``points`` rows in [0, 1)^dimensions for a sampled design (saltelli: N·(d + 2) rows)."""
    if design == "lhs":
        return qmc.LatinHypercube(dimensions, rng=rng).random(points)
    if design == "sobol":
        return qmc.Sobol(dimensions, scramble=True, rng=rng).random_base2(int(np.log2(points)))
    if design == "montecarlo":
        return rng.random((points, dimensions))
    if design == "saltelli":
        base = qmc.Sobol(2 * dimensions, scramble=True, rng=rng).random_base2(int(np.log2(points)))
        a, b = base[:, :dimensions], base[:, dimensions:]
        blocks = [a, b]
        for i in range(dimensions):
            ab = a.copy()
            ab[:, i] = b[:, i]
            blocks.append(ab)
        return np.vstack(blocks)
    raise ValueError(f"not a sampled design: {design!r}")


class Design:
    """A sweep's points, numbered 0 .. n_points − 1, produced on demand.

    A point is a design point crossed with a population mix: point ``i`` is design point
    ``i // n_mixes`` under mix ``i % n_mixes``. Nothing per point is held in memory for a grid (the
    design index is decoded digit by digit) and only the unit sample for sampled designs.
    """

    def __init__(self, sweep: Sweep):
        self.parameters = sweep.parameters
        self.paths = [p.path for p in sweep.parameters]
        self.mixes = sweep.mixes
        if sweep.design == "grid":
            self._grids = [p.grid_values() for p in sweep.parameters]
            self._unit = None
            self.n_design_points = int(np.prod([len(g) for g in self._grids]))
        else:
            self._unit = unit_sample(sweep.design, len(self.parameters), sweep.points, design_rng(sweep))
            self.n_design_points = len(self._unit)
        self.n_points = self.n_design_points * len(self.mixes)

    def __len__(self) -> int:
        return self.n_points

    def mix(self, index: int) -> str:
        """The name of point ``index``'s population mix."""
        return self.mixes[index % len(self.mixes)][0]

    def point(self, index: int) -> dict[str, Any]:
        """The scenario overrides of point ``index``: its parameter values, then its mix's."""
        design_index, mix_index = divmod(index, len(self.mixes))
        return {**self.design_values(design_index), **self.mixes[mix_index][1]}

    def design_values(self, index: int) -> dict[str, Any]:
        """The ``{dotted path: value}`` of design point ``index`` (mixes aside)."""
        if self._unit is not None:
            row = self._unit[index]
            return {p.path: p.from_unit(float(u)) for p, u in zip(self.parameters, row, strict=True)}
        values = {}
        for path, grid in zip(reversed(self.paths), reversed(self._grids), strict=True):
            index, digit = divmod(index, len(grid))  # the last parameter varies fastest
            values[path] = grid[digit]
        return {path: values[path] for path in self.paths}


def design_points(sweep: Sweep) -> list[dict[str, Any]]:
    """Every design point of the sweep (mixes aside), in order (for small designs and tests)."""
    design = Design(sweep)
    return [design.design_values(i) for i in range(design.n_design_points)]


def run_seed(sweep_seed: int, point: int, replication: int) -> int:
    """The integer seed of one run: a 63-bit number from the run's own SeedSequence.

    Depends only on (sweep seed, point, replication), never on workers, chunks or order, and
    ``fedstake run`` with this seed and the point's values reproduces the run.
    """
    sequence = np.random.SeedSequence(sweep_seed, spawn_key=(RUNS, point, replication))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))
