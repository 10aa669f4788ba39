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

import contextlib
import math
import shlex
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.sweep.designs import Design, run_seed
from analysis.sweep.executors import ExecutorError, make_executor
from analysis.sweep.progress import Progress
from analysis.sweep.store import RUNS, STRATEGIES, ResultStore, environment
from analysis.sweep.sweepfile import REGIME_KIND as REGIME_KEY
from analysis.sweep.sweepfile import Sweep
from model import Scenario, run_scenario, with_overrides
from model.kpis import kpi_names
from model.params import to_dict
from model.scenario import key_type

#: Seconds of work a chunk should hold when the chunk size is chosen automatically.
CHUNK_SECONDS = 1.0
#: The columns before the parameters and KPIs, in this order (``regime``: the run's ``regime.kind``).
ID_COLUMNS = ["run_id", "point", "design", "mix", "regime", "replication", "seed", "status", "error"]
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
    #: Damaged parts moved into ``damaged/`` before running: (from, to, why).
    set_aside: list[tuple[Path, Path, str]] = field(default_factory=list)
    #: The command that resumes the sweep (shown when it was interrupted).
    resume_command: str | None = None

    @property
    def runs_per_second(self) -> float:
        return self.executed / self.wall_time_s if self.wall_time_s > 0 else math.nan

    def text(self) -> str:
        """The closing summary printed by ``fedstake sweep``."""
        state = "interrupted" if self.interrupted else "complete"
        redone = "will be run again" if self.interrupted else "were run again"
        lines = [
            f"set aside {source} as {target}: {why}; its runs {redone}"
            for source, target, why in self.set_aside
        ]
        lines += [
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
            lines.append(
                "finished chunks are kept; to resume where it stopped, run "
                + (f"`{self.resume_command}`" if self.resume_command else "the same command again")
            )
        return "\n".join(lines)


class SweepInterrupted(Exception):
    """SIGINT (Ctrl-C) or SIGTERM stopped the sweep; ``summary`` says what had been written and
    ``signum`` which signal it was (``fedstake sweep`` exits 130 for either, as the README says)."""

    def __init__(self, summary: SweepSummary, signum: int = signal.SIGINT):
        super().__init__(f"sweep interrupted by {signal.Signals(signum).name}")
        self.summary = summary
        self.signum = int(signum)


class StopSignals:
    """SIGINT and SIGTERM stop a sweep, for as long as this context is entered.

    Installed explicitly because the defaults cannot be relied on: a process started in the
    background by a non-interactive shell inherits SIGINT ignored, and Python then installs no
    handler, so Ctrl-C (or ``kill -INT``) would be ignored and the sweep would run on to the end.
    The first signal raises KeyboardInterrupt in the main thread while ``interruptible``; later
    ones (and any while the results are being recorded) are only noted, so the bookkeeping that
    makes the directory resumable is never cut short. The previous handlers come back on exit.
    Outside the main thread (where handlers cannot be set) it does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received: list[int] = []
        self.interruptible = True
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        self.received.append(signum)
        if self.interruptible and len(self.received) == 1:
            raise KeyboardInterrupt

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous.clear()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A block a stop signal does not cut short: one that arrives inside it is noted and
        raises KeyboardInterrupt only once the block is done (writing a chunk and counting it)."""
        interruptible, self.interruptible = self.interruptible, False
        try:
            yield
        finally:
            self.interruptible = interruptible
        if self.received and interruptible:
            raise KeyboardInterrupt


# -- the worker side -------------------------------------------------------------------------
def _downsample(trajectory: pd.DataFrame, points: int) -> pd.DataFrame:
    rows = np.unique(np.linspace(0, len(trajectory) - 1, points).round().astype(int))
    return trajectory.iloc[rows]


def regime_of(base: Scenario, values: dict[str, Any]) -> str:
    """The regime a run with these overrides runs under: its design's, mix's or point's
    ``regime.kind`` when one sets it, else the base scenario's — read without building the scenario,
    so a run the scenario refuses has its regime too."""
    return str(values.get(REGIME_KEY, base.regime.kind))


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
            "regime": regime_of(task.base, run.values),
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
    text = {"error": "object", "design": "object", "mix": "object", "regime": "object"}
    table = table.astype(task.parameter_dtypes | text)
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


def sweep_manifest(sweep: Sweep, design: Design, sweep_file: str | None, sweep_text: str | None) -> dict:
    """What the manifest records about the sweep itself (the store adds hash, dates, sessions)."""
    return {
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
        "total_runs": len(design) * sweep.replications,
        "seed": sweep.seed,
        "trajectories": sweep.trajectories,
        **({"morris_levels": sweep.morris_levels} if sweep.design == "morris" else {}),
        **environment(),
    }


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

    The directory is locked for the length of the call: a second sweep on it is refused. On resume,
    damaged parts are moved into ``damaged/`` and exactly their runs, and the runs without a row,
    are run; valid parts are never rewritten. No more local workers are started than there are
    chunks to run. Raises ``StoreError`` (or a subclass: ``DirectoryLockedError``,
    ``ManifestError``) if ``out`` cannot be used, ``ExecutorError`` if the executor cannot be (or,
    after recording the session as interrupted, if a Dask scheduler is lost), and
    :class:`SweepInterrupted` on SIGINT or SIGTERM (after recording what was written).
    """
    design = Design(sweep)
    total = len(design) * sweep.replications
    store = ResultStore(out)
    pool = make_executor(executor, workers)  # before touching ``out``: a bad executor writes nothing
    try:
        manifest = store.open_for(sweep.content_hash(), sweep_manifest(sweep, design, sweep_file, sweep_text))
    except BaseException:
        pool.close(cancel=True)
        raise
    resume = shlex.join(["fedstake", "sweep", sweep_file, "--out", str(out)]) if sweep_file else None
    summary = SweepSummary(Path(out), total, workers=pool.workers, executor=pool.name, resume_command=resume)
    try:
        with StopSignals() as stop:
            session = {
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "workers": pool.workers,
                "executor": executor,
            }
            _run_sweep(sweep, design, store, manifest, pool, summary, stop, session, chunk_size, progress)
    finally:
        store.close()
    if summary.interrupted:
        raise SweepInterrupted(summary, stop.received[0] if stop.received else signal.SIGINT)
    return summary


def _run_sweep(sweep, design, store, manifest, pool, summary, stop, session, chunk_size, progress) -> None:
    """The locked part of :func:`execute_sweep`: set damaged parts aside, run what is missing,
    record the ``session`` in the manifest. Fills in ``summary``."""
    total = summary.total_runs
    start = time.perf_counter()
    size, bar, failed_before, lost = chunk_size or 1, None, 0, None
    try:
        survey = store.survey(manifest)
        aside = survey.to_set_aside(sweep.trajectories)
        summary.set_aside = store.set_aside(aside, survey.blocked)
        if survey.blocked:
            store.make_folder(store.directory / RUNS)
        done, failed_before = survey.kept(aside)
        summary.already_done = int(done.sum())
        size = chunk_size or automatic_chunk_size(
            sweep.base, max(total - summary.already_done, 1), pool.workers
        )
        summary.chunk_size = size
        pool.limit(math.ceil((total - summary.already_done) / size))
        summary.workers = session["workers"] = pool.workers
        dtypes = parameter_dtypes(sweep)
        trajectory_points = sweep.trajectory_points if sweep.trajectories else None
        tasks = (
            ChunkTask(sweep.base, batch, dtypes, trajectory_points)
            for batch in chunks(plan_runs(sweep, design, done), size)
        )
        bar = Progress(total, summary.already_done, enabled=progress)
        for table, trajectories in pool.imap_unordered(run_chunk, tasks, max_in_flight=2 * pool.workers):
            with stop.deferred():  # a chunk written is a chunk counted, or the manifest would lie
                store.write_part(table, trajectories)
                _count(summary, table)
                bar.update(len(table))
    except KeyboardInterrupt:
        summary.interrupted = True
        pool.close(cancel=True)
    except ExecutorError as exc:  # the Dask scheduler went away: record the session, then say so
        summary.interrupted, lost = True, exc
        pool.close(cancel=True)
    except BaseException:
        pool.close(cancel=True)
        if not stop.received:
            raise
        summary.interrupted = True  # the stop signal reached the workers first and broke the pool
    else:
        stop.interruptible = False
        pool.close()
    finally:
        stop.interruptible = False
        if bar is not None:
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
    sessions = [*manifest["sessions"], session]
    store.write_manifest(
        manifest
        | {
            "sessions": sessions,
            "status": session["status"],
            "wall_time_s": round(sum(s.get("wall_time_s", 0.0) for s in sessions), 3),
        }
    )
    if lost is not None:
        raise lost


def _count(summary: SweepSummary, table: pd.DataFrame) -> None:
    """Add a written chunk's runs and failures to ``summary``."""
    failed = table[table["status"] == "failed"]
    summary.executed += len(table)
    summary.failed += len(failed)
    summary.failures += [(int(r.run_id), str(r.error).splitlines()[0]) for r in failed.itertuples()][:5]


def run_sweep(sweep: Sweep, out: str | Path, **options) -> pd.DataFrame:
    """Run (or resume) a sweep and return its results: one row per run, sorted by run id.

    Columns: ``run_id``, ``point``, ``design``, ``mix``, ``regime`` (``token`` or ``tokenless``:
    the run's own ``regime.kind``), ``replication``, ``seed``, ``status`` (``ok`` or ``failed``),
    ``error`` (the traceback of a failed run), one column per varied parameter (its dotted path,
    typed as its scenario key), then every KPI. Options are those of :func:`execute_sweep`.
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
