"""Experimental designs: which parameter points a sweep runs.

Sampled designs draw points in the unit hypercube and map each coordinate onto its parameter with
``Parameter.from_unit`` (linear or log scale, whole numbers, or a list of values):

* ``grid`` — the full factorial of every parameter's values (crossed, never zipped);
* ``lhs`` — a Latin hypercube (scipy.stats.qmc);
* ``sobol`` — a scrambled Sobol' sequence (a power-of-2 number of points);
* ``montecarlo`` — independent uniform draws;
* ``saltelli`` — the sample for Sobol' sensitivity indices: from ``points`` = N base rows of a
  scrambled Sobol' sequence in 2d dimensions, the matrices A and B (its two halves) and, for each
  parameter i, AB_i (A with column i taken from B) — N·(d + 2) points in the order A, B, AB_1 … AB_d;
* ``morris`` — Morris elementary-effects screening (SALib): ``points`` = r trajectories of d + 1
  points each on a grid of ``morris_levels`` levels per coordinate, each step changing exactly one
  parameter — r·(d + 1) points in trajectory order, as ``SALib.analyze.morris`` expects them.

Every parameter point is then crossed with the sweep's tokenomics designs and population mixes:
``point = (parameter point × n_designs + design) × n_mixes + mix``. Runs of the same parameter
point and mix share their seeds whatever the design (common random numbers), so designs are
compared on paired runs.

Draws come from the sweep seed (a stream of its own, separate from the runs' streams).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

from analysis.sweep.sweepfile import DEFAULT_MORRIS_LEVELS, Sweep

#: Spawn keys below the sweep seed: runs use (RUNS, point, replication), designs (DESIGN,).
RUNS, DESIGN = 0, 1


def design_rng(sweep: Sweep) -> np.random.Generator:
    """The generator a sweep's design draws from."""
    return np.random.default_rng(np.random.SeedSequence(sweep.seed, spawn_key=(DESIGN,)))


def unit_sample(
    design: str, dimensions: int, points: int, rng: np.random.Generator, *, levels: int = 4
) -> np.ndarray:
    """Rows in [0, 1]^dimensions for a sampled design.

    ``points`` rows for lhs, sobol and montecarlo; N·(d + 2) for saltelli (N = ``points``);
    r·(d + 1) for morris (r = ``points`` trajectories on a grid of ``levels`` levels).
    """
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
    if design == "morris":
        return morris_sample(dimensions, points, levels, rng)
    raise ValueError(f"not a sampled design: {design!r}")


def morris_sample(dimensions: int, trajectories: int, levels: int, rng: np.random.Generator) -> np.ndarray:
    """Morris trajectories in the unit cube: ``trajectories`` blocks of d + 1 rows, one step each.

    Drawn by ``SALib.sample.morris.sample`` (plain trajectories, no optimisation) with a seed
    taken from ``rng``; coordinates lie on the grid {0, 1/(levels − 1), …, 1}.
    """
    from SALib.sample.morris import sample  # SALib takes half a second to import: only when asked

    problem = {
        "num_vars": dimensions,
        "names": [f"x{i}" for i in range(dimensions)],
        "bounds": [[0.0, 1.0]] * dimensions,
    }
    seed = int(rng.integers(2**63))
    return sample(problem, trajectories, num_levels=levels, seed=seed)


class Design:
    """A sweep's points, numbered 0 .. n_points − 1, produced on demand.

    A point is a parameter point crossed with a tokenomics design and a population mix:
    ``point = (parameter point × n_designs + design) × n_mixes + mix`` (see :meth:`locate`).
    Nothing per point is held in memory for a grid (the parameter point is decoded digit by digit)
    and only the unit sample for sampled designs.
    """

    def __init__(self, sweep: Sweep):
        self.parameters = sweep.parameters
        self.paths = [p.path for p in sweep.parameters]
        self.designs = sweep.designs
        self.mixes = sweep.mixes
        if sweep.design == "grid":
            self._grids = [p.grid_values() for p in sweep.parameters]
            self._unit = None
            self.n_design_points = int(np.prod([len(g) for g in self._grids]))
        else:
            levels = sweep.morris_levels or DEFAULT_MORRIS_LEVELS
            self._unit = unit_sample(
                sweep.design, len(self.parameters), sweep.points, design_rng(sweep), levels=levels
            )
            self.n_design_points = len(self._unit)
        self.n_points = self.n_design_points * len(self.designs) * len(self.mixes)

    def __len__(self) -> int:
        return self.n_points

    def locate(self, index: int) -> tuple[int, int, int]:
        """Point ``index`` as (parameter point, design index, mix index)."""
        rest, mix_index = divmod(index, len(self.mixes))
        parameter_point, design_index = divmod(rest, len(self.designs))
        return parameter_point, design_index, mix_index

    def design_name(self, index: int) -> str:
        """The name of point ``index``'s tokenomics design."""
        return self.designs[self.locate(index)[1]][0]

    def mix(self, index: int) -> str:
        """The name of point ``index``'s population mix."""
        return self.mixes[self.locate(index)[2]][0]

    def seed_point(self, index: int) -> int:
        """The point number that seeds point ``index``'s runs: ``parameter point × n_mixes + mix``.

        The design is left out, so every design of a (parameter point, mix) runs on the same seeds
        (common random numbers); without designs it is ``index`` itself.
        """
        parameter_point, _, mix_index = self.locate(index)
        return parameter_point * len(self.mixes) + mix_index

    def point(self, index: int) -> dict[str, Any]:
        """The scenario overrides of point ``index``, in the order they apply: design, mix, values."""
        parameter_point, design_index, mix_index = self.locate(index)
        return {
            **self.designs[design_index][1],
            **self.mixes[mix_index][1],
            **self.design_values(parameter_point),
        }

    def design_values(self, index: int) -> dict[str, Any]:
        """The ``{dotted path: value}`` of parameter point ``index`` (designs and mixes aside)."""
        if self._unit is not None:
            row = self._unit[index]
            return {p.path: p.from_unit(float(u)) for p, u in zip(self.parameters, row, strict=True)}
        values = {}
        for path, grid in zip(reversed(self.paths), reversed(self._grids), strict=True):
            index, digit = divmod(index, len(grid))  # the last parameter varies fastest
            values[path] = grid[digit]
        return {path: values[path] for path in self.paths}


def design_points(sweep: Sweep) -> list[dict[str, Any]]:
    """Every parameter point of the sweep (designs and mixes aside), in order (for small sweeps and tests)."""
    design = Design(sweep)
    return [design.design_values(i) for i in range(design.n_design_points)]


def run_seed(sweep_seed: int, point: int, replication: int) -> int:
    """The integer seed of one run: a 63-bit number from the run's own SeedSequence.

    ``point`` is the seeding point, :meth:`Design.seed_point` (the same for every tokenomics
    design). The seed depends only on (sweep seed, point, replication), never on workers, chunks or
    order, and ``fedstake run`` with this seed and the point's overrides reproduces the run.
    """
    sequence = np.random.SeedSequence(sweep_seed, spawn_key=(RUNS, point, replication))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))
