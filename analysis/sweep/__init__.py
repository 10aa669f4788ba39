"""The sweep engine: sweep files, designs, seeds, executors, the results store and progress.

It runs a sweep and writes a results directory — the data contract the rest of ``analysis`` reads
(see the README's "Results directory" section): ``manifest.json`` plus ``runs/*.parquet`` (one row
per run: ids, seed, status, the varied parameters, every KPI) and, on request,
``trajectories/*.parquet``. Nothing here imports the analysis or the report.
"""

from analysis.sweep.check import CheckReport, check_results
from analysis.sweep.engine import (
    SweepInterrupted,
    SweepSummary,
    execute_sweep,
    load_results,
    load_trajectories,
    run_sweep,
)
from analysis.sweep.output import OutputError
from analysis.sweep.store import (
    DamagedPartError,
    DirectoryLockedError,
    DuplicateRunsError,
    ForeignPartError,
    ManifestError,
    ResultStore,
    StoreError,
)
from analysis.sweep.sweepfile import Sweep, load_sweep, sweep_from_dict

__all__ = [
    "CheckReport",
    "DamagedPartError",
    "DirectoryLockedError",
    "DuplicateRunsError",
    "ForeignPartError",
    "ManifestError",
    "OutputError",
    "ResultStore",
    "StoreError",
    "Sweep",
    "SweepInterrupted",
    "SweepSummary",
    "check_results",
    "execute_sweep",
    "load_results",
    "load_sweep",
    "load_trajectories",
    "run_sweep",
    "sweep_from_dict",
]
