"""The sweep engine: run every (point, replication) of a sweep, in chunks, and stream the results.

Points cross parameter points with tokenomics designs and population mixes,
``point = (parameter point × n_designs + design) × n_mixes + mix``, and runs are numbered
``run_id = point × replications + replication``. Each run's seed depends only on (sweep seed,
parameter point × n_mixes + mix, replication) — the same for every design, so designs are compared
on common random numbers, and never on workers, chunk size, order or executor — so the table of
results is the same however it was computed. Workers reduce each run to one row of KPIs (and, on
request, a downsampled trajectory); only those rows travel back, and the parent writes each
finished chunk to the results directory at once, keeping nothing but the chunks in flight.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agents import TRAINER_TYPES, VALIDATOR_TYPES
from analysis.sweep.designs import Design, run_seed
from analysis.sweep.executors import make_executor
from analysis.sweep.progress import Progress
from analysis.sweep.store import ResultStore, environment
from analysis.sweep.sweepfile import Sweep
from model import Scenario, run_scenario, with_overrides
from model.kpis import kpi_names
from model.params import to_dict
from model.scenario import key_type

#: Seconds of work a chunk should hold when the chunk size is chosen automatically.
CHUNK_SECONDS = 1.0
STRATEGIES = [cls.strategy for cls in TRAINER_TYPES + VALIDATOR_TYPES]
#: The columns before the parameters and KPIs, in this order.
ID_COLUMNS = ["run_id", "point", "design", "mix", "replication", "seed", "status", "error"]
#: Results column type of a parameter, by the Python type of its scenario key.
COLUMN_TYPES = {float: "float64", int: "int64", bool: "bool", str: "object"}


@dataclass(frozen=True)
class RunSpec:
    """One run: where it sits in the sweep, its seed and its scenario overrides.

    ``values`` holds the design's, the mix's and the point's swept values, in that order.
    """

    run_id: int
    point: int
    design: str
    mix: str
    replication: int
    seed: int
    values: dict[str, Any]


@dataclass(frozen=True)
class ChunkTask:
    """What a worker needs to run a chunk: the base scenario and the runs."""

    base: Scenario
    runs: tuple[RunSpec, ...]
    parameter_dtypes: dict[str, str]
    trajectory_points: int | None


@dataclass
class SweepSummary:
    """How a call to :func:`execute_sweep` went."""

    directory: Path
    total_runs: int
    already_done: int = 0
    executed: int = 0
    failed: int = 0
    failed_total: int = 0
    wall_time_s: float = 0.0
    workers: int = 1
    executor: str = "local"
    chunk_size: int = 1
    interrupted: bool = False
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        return self.executed / self.wall_time_s if self.wall_time_s > 0 else math.nan

    def text(self) -> str:
        """The closing summary printed by ``fedstake sweep``."""
        state = "interrupted" if self.interrupted else "complete"
        lines = [
            f"sweep {state}: {self.already_done + self.executed:,} of {self.total_runs:,} runs have results"
            + (f" ({self.already_done:,} were already done)" if self.already_done else ""),
            f"ran {self.executed:,} runs in {self.wall_time_s:.1f} s ({self.runs_per_second:,.1f} runs/s) "
            f"on {self.workers} {self.executor} worker{'s' if self.workers != 1 else ''}, "
            f"chunks of {self.chunk_size}",
            f"failed runs: {self.failed_total:,}"
            + (" (status 'failed' in the table, with the traceback in 'error')" if self.failed_total else ""),
        ]
        for run_id, message in self.failures[:5]:
            lines.append(f"  run {run_id}: {message}")
        lines.append(f"results: {self.directory}")
        if self.interrupted:
            lines.append("run the same command again to resume where it stopped")
        return "\n".join(lines)


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; ``summary`` says what had been written."""

    def __init__(self, summary: SweepSummary):
        super().__init__("sweep interrupted")
        self.summary = summary


# -- the worker side -------------------------------------------------------------------------
def _downsample(trajectory: pd.DataFrame, points: int) -> pd.DataFrame:
    rows = np.unique(np.linspace(0, len(trajectory) - 1, points).round().astype(int))
    return trajectory.iloc[rows]


def run_chunk(task: ChunkTask) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run a chunk's runs; return their KPI rows (and downsampled trajectories).

    A run that raises is recorded with status ``failed`` and its traceback; the others go on.
    """
    names = kpi_names(STRATEGIES)
    rows, trajectories = [], []
    scenario, scenario_values = None, None
    for run in task.runs:
        row: dict[str, Any] = {
            "run_id": run.run_id,
            "point": run.point,
            "design": run.design,
            "mix": run.mix,
            "replication": run.replication,
            "seed": run.seed,
            **{path: run.values[path] for path in task.parameter_dtypes},
        }
        try:
            if run.values is not scenario_values:  # a point's replications share one scenario
                scenario = with_overrides(task.base, run.values)
                scenario_values = run.values
            result = run_scenario(scenario, run.seed, trajectory=task.trajectory_points is not None)
        except Exception as exc:
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            row.update(dict.fromkeys(names, math.nan))
        else:
            row.update(status="ok", error=None, **result.kpis)
            if result.trajectory is not None:
                t = _downsample(result.trajectory, task.trajectory_points)
                trajectories.append(t.assign(run_id=run.run_id))
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table[ID_COLUMNS + list(task.parameter_dtypes) + names]
    table = table.astype(task.parameter_dtypes | {"error": "object", "design": "object", "mix": "object"})
    trajectory_table = pd.concat(trajectories, ignore_index=True) if trajectories else None
    return table, trajectory_table


# -- the parent side -------------------------------------------------------------------------
def parameter_dtypes(sweep: Sweep) -> dict[str, str]:
    """A fixed column type per varied parameter, so every chunk's table has the same schema.

    The type is the scenario key's, not the written values': ``values = [800, 1600]`` for a
    real-valued key gives a float64 column, a whole-number key int64, a string key object.
    """
    return {p.path: COLUMN_TYPES[key_type(p.path)] for p in sweep.parameters}


def plan_runs(sweep: Sweep, design: Design, done: np.ndarray) -> Iterator[RunSpec]:
    """Every run whose ``done`` flag is unset, in run-id order, generated lazily."""
    reps = sweep.replications
    for point in range(len(design)):
        values = None
        for rep in range(reps):
            run_id = point * reps + rep
            if done[run_id]:
                continue
            if values is None:
                values = design.point(point)
                names = design.design_name(point), design.mix(point)
                seed_point = design.seed_point(point)
            seed = run_seed(sweep.seed, seed_point, rep)
            yield RunSpec(run_id, point, *names, rep, seed, values)


def chunks(runs: Iterator[RunSpec], size: int) -> Iterator[tuple[RunSpec, ...]]:
    """Consecutive groups of ``size`` runs."""
    batch: list[RunSpec] = []
    for run in runs:
        batch.append(run)
        if len(batch) == size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


def automatic_chunk_size(base: Scenario, todo: int, workers: int) -> int:
    """Runs per chunk: about CHUNK_SECONDS of work, but enough chunks to keep every worker busy."""
    start = time.perf_counter()
    run_scenario(base, 0)
    per_run = max(time.perf_counter() - start, 1e-4)
    by_time = max(1, int(CHUNK_SECONDS / per_run))
    by_balance = max(1, math.ceil(todo / (4 * workers)))
    return max(1, min(by_time, by_balance, 1000))


def execute_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    workers: int | None = None,
    executor: str = "local",
    chunk_size: int | None = None,
    progress: bool = True,
    sweep_file: str | None = None,
    sweep_text: str | None = None,
) -> SweepSummary:
    """Run (or resume) ``sweep`` into the results directory ``out``; return how it went.

    Raises ``StoreError`` if ``out`` holds another sweep, ``ExecutorError`` if the executor cannot
    be used, and :class:`SweepInterrupted` on Ctrl-C (after recording what was written).
    """
    design = Design(sweep)
    total = len(design) * sweep.replications
    store = ResultStore(out)
    pool = make_executor(executor, workers)  # before touching ``out``: a bad executor writes nothing
    try:
        store.open_for(
            sweep.content_hash(),
            {
                "sweep_name": sweep.name,
                "sweep_file": sweep_file,
                "sweep_text": sweep_text,
                "notes": sweep.notes,
                "design": sweep.design,
                "parameters": [p.path for p in sweep.parameters],
                "mixes": [name for name, _ in sweep.mixes],
                "mix_overrides": {name: overrides for name, overrides in sweep.mixes},
                "designs": [name for name, _ in sweep.designs],
                "design_overrides": {name: overrides for name, overrides in sweep.designs},
                "parameter_specs": [p.spec() for p in sweep.parameters],
                "design_points": design.n_design_points,
                "base_scenario": to_dict(sweep.base),
                "points": len(design),
                "replications": sweep.replications,
                "total_runs": total,
                "seed": sweep.seed,
                "trajectories": sweep.trajectories,
                **({"morris_levels": sweep.morris_levels} if sweep.design == "morris" else {}),
                **environment(),
            },
        )
    except BaseException:
        pool.close(cancel=True)
        raise
    done, failed_before = store.scan(total)
    already = int(done.sum())
    todo = total - already
    size = chunk_size or automatic_chunk_size(sweep.base, max(todo, 1), pool.workers)
    summary = SweepSummary(
        Path(out), total, already_done=already, workers=pool.workers, executor=pool.name, chunk_size=size
    )
    dtypes = parameter_dtypes(sweep)
    trajectory_points = sweep.trajectory_points if sweep.trajectories else None
    tasks = (
        ChunkTask(sweep.base, batch, dtypes, trajectory_points)
        for batch in chunks(plan_runs(sweep, design, done), size)
    )
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "workers": pool.workers, "executor": executor}
    bar = Progress(total, already, enabled=progress)
    start = time.perf_counter()
    try:
        for table, trajectories in pool.imap_unordered(run_chunk, tasks, max_in_flight=2 * pool.workers):
            store.write_part(table, trajectories)
            failed = table[table["status"] == "failed"]
            summary.executed += len(table)
            summary.failed += len(failed)
            summary.failures += [(int(r.run_id), str(r.error).splitlines()[0]) for r in failed.itertuples()][
                :5
            ]
            bar.update(len(table))
    except KeyboardInterrupt:
        summary.interrupted = True
        pool.close(cancel=True)
    else:
        pool.close()
    finally:
        bar.close()
        summary.wall_time_s = time.perf_counter() - start
        summary.failed_total = failed_before + summary.failed
        complete = not summary.interrupted and summary.already_done + summary.executed == total
        session.update(
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            chunk_size=size,
            runs_executed=summary.executed,
            runs_failed=summary.failed,
            wall_time_s=round(summary.wall_time_s, 3),
            status="complete" if complete else "interrupted",
        )
        manifest = store.read_manifest()
        manifest["sessions"] = [*manifest.get("sessions", []), session]
        manifest["status"] = session["status"]
        manifest["wall_time_s"] = round(sum(s.get("wall_time_s", 0.0) for s in manifest["sessions"]), 3)
        store.write_manifest(manifest)
    if summary.interrupted:
        raise SweepInterrupted(summary)
    return summary


def run_sweep(sweep: Sweep, out: str | Path, **options) -> pd.DataFrame:
    """Run (or resume) a sweep and return its results: one row per run, sorted by run id.

    Columns: ``run_id``, ``point``, ``design``, ``mix``, ``replication``, ``seed``, ``status``
    (``ok`` or ``failed``), ``error`` (the traceback of a failed run), one column per varied
    parameter (its dotted path, typed as its scenario key), then every KPI. Options are those of
    :func:`execute_sweep`.
    """
    execute_sweep(sweep, out, **options)
    return load_results(out)


def load_results(out: str | Path) -> pd.DataFrame:
    """The results table of a (finished or partial) sweep directory."""
    store = ResultStore(out)
    store.read_manifest()
    return store.load()


def load_trajectories(out: str | Path) -> pd.DataFrame:
    """The downsampled per-round trajectories of a sweep that asked for them (else empty)."""
    return ResultStore(out).load("trajectories")
