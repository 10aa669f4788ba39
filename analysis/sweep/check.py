"""Checking a results directory: what is valid, what is damaged, what is missing.

:func:`check_results` reads everything and changes nothing (``fedstake check RESULTS``). Its
:class:`CheckReport` says whether the manifest is valid, which parts are valid or damaged (and
why), how many runs are present, missing, held twice or failed out of the sweep's total, and
whether a sweep is writing the directory now. ``ok`` means nothing is damaged or unreadable and
the lock file is one a sweep can use; a sweep that was stopped part-way is ``ok`` but not
``complete``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.sweep.store import (
    DAMAGED,
    LOCK,
    MANIFEST,
    RUNS,
    TRAJECTORIES,
    ManifestError,
    PartCheck,
    ResultStore,
    StoreError,
    lock_holder,
    lock_problem,
)


@dataclass
class CheckReport:
    """What :func:`check_results` found in ``directory``."""

    directory: Path
    #: Why the manifest cannot be used (None when it is valid).
    manifest_problem: str | None
    manifest: dict[str, Any] = field(default_factory=dict)
    total_runs: int = 0
    runs: list[PartCheck] = field(default_factory=list)
    trajectories: list[PartCheck] = field(default_factory=list)
    #: Paths that should be folders of parts but are not, with why.
    blocked: list[tuple[Path, str]] = field(default_factory=list)
    present: int = 0
    duplicated: int = 0
    failed: int = 0
    #: Temporary files of writes a stopped sweep did not finish.
    unfinished: int = 0
    #: Files earlier resumed sweeps set aside in ``damaged/``.
    set_aside: int = 0
    #: The sweep writing the directory now (pid, host, started), or None.
    writer: dict[str, Any] | None = None
    #: Why ``.lock`` cannot be a sweep's lock (a link, a directory, a FIFO), or None.
    lock_problem: str | None = None
    #: A file that exists but cannot be read now (an I/O error, a link to nothing), and why; the
    #: parts were not all checked.
    unreadable: str | None = None

    @property
    def missing(self) -> int:
        return self.total_runs - self.present

    @property
    def damaged(self) -> list[PartCheck]:
        return [p for p in self.runs + self.trajectories if p.problem is not None]

    @property
    def ok(self) -> bool:
        """Nothing is damaged: the manifest is valid, every part is, and no run is held twice."""
        return (
            self.manifest_problem is None
            and not self.damaged
            and not self.blocked
            and self.lock_problem is None
            and self.unreadable is None
        )

    @property
    def complete(self) -> bool:
        """Nothing is damaged and every run has a row."""
        return self.ok and self.missing == 0

    def text(self) -> str:
        """The report ``fedstake check`` prints."""
        verdict = "DAMAGED" if not self.ok else "ok" if self.complete else "ok, incomplete"
        lines = [f"{self.directory}: {verdict}"]
        if self.manifest_problem is not None:
            lines += [
                f"{MANIFEST}: {self.manifest_problem}",
                "parts: not checked (without a valid manifest the sweep's size is unknown)",
            ]
        elif self.unreadable is not None:
            lines += [self.unreadable, "parts: not all checked (one cannot be read now)"]
        else:
            lines += self._runs_lines()
        if self.lock_problem is not None:
            lines.append(f"{self.directory / LOCK}: {self.lock_problem}")
        if self.writer is not None:
            w = self.writer
            lines.append(
                f"a sweep is writing it now: pid {w.get('pid', '?')} on {w.get('host', '?')}, "
                f"started {w.get('started', '?')}"
            )
        elif self.unfinished:
            lines.append(
                f"{self.unfinished} unfinished temporary file(s) left by a stopped sweep "
                "(removed when it resumes)"
            )
        if self.set_aside:
            lines.append(f"{self.set_aside} file(s) in {DAMAGED}/, set aside by an earlier resumed sweep")
        lines += self._advice()
        return "\n".join(lines)

    def _runs_lines(self) -> list[str]:
        sweep = self.manifest.get("sweep_name") or "?"
        lines = [
            f"{MANIFEST}: valid (sweep {sweep}, {self.total_runs:,} runs)",
            f"runs: {self.present:,} of {self.total_runs:,} present, {self.missing:,} missing, "
            f"{self.duplicated:,} held twice, {self.failed:,} failed (status 'failed')",
        ]
        for kind, parts in ((RUNS, self.runs), (TRAJECTORIES, self.trajectories)):
            if not parts and kind == TRAJECTORIES:
                continue
            bad = [p for p in parts if p.problem is not None]
            leftover = [p for p in parts if p.leftover]
            lines.append(
                f"{kind} parts: {len(parts) - len(bad) - len(leftover)} valid, {len(bad)} damaged"
                + (f", {len(leftover)} without their runs part (left by a stopped sweep)" if leftover else "")
            )
            lines += [f"  {p.path}: {p.problem}" for p in bad]
        lines += [f"{path}: {why}" for path, why in self.blocked]
        return lines

    def _advice(self) -> list[str]:
        lock = (
            [f"to repair: remove {self.directory / LOCK} (a sweep refuses it)"] if self.lock_problem else []
        )
        if self.unreadable is not None:
            return ["to repair: make it readable (a disk to mount? a failing disk?), then check again"]
        if self.manifest_problem is not None:
            return [
                f"to repair: restore {self.directory / MANIFEST} (from a backup), or run the sweep again "
                "into a new --out; a sweep will not add to a directory whose manifest it cannot read"
            ]
        damaged = bool(self.damaged or self.blocked)
        if not damaged and (self.missing == 0 or self.writer is not None):
            return lock
        sweep = self.manifest.get("sweep_file") or "SWEEP.toml"
        what = (
            "it sets damaged parts aside in damaged/ and runs their runs again"
            if damaged
            else "it runs the missing runs"
        )
        return (
            [*lock, f"then run `fedstake sweep {sweep} --out {self.directory}` ({what})"]
            if lock
            else [f"to repair: run `fedstake sweep {sweep} --out {self.directory}` ({what})"]
        )


def check_results(directory: str | Path) -> CheckReport:
    """Check every file of the results directory ``directory`` without changing any.

    Raises StoreError only when ``directory`` is missing or is a file; everything else wrong is
    in the report (a file that cannot be read now as ``unreadable``).
    """
    store = ResultStore(directory)
    if not store.directory.is_dir():
        what = "is a file" if store.directory.exists() else "does not exist"
        raise StoreError(f"{store.directory} {what}; a sweep results directory is allowed", store.directory)
    report = CheckReport(
        store.directory,
        manifest_problem=None,
        writer=lock_holder(store.directory),
        lock_problem=lock_problem(store.directory),
    )
    report.unfinished = len(store.unfinished_writes())
    damaged = store.directory / DAMAGED
    report.set_aside = sum(1 for p in damaged.rglob("*") if not p.is_dir()) if damaged.is_dir() else 0
    try:
        report.manifest = store.read_manifest()
    except ManifestError as exc:
        report.manifest_problem = exc.reason
        return report
    except StoreError as exc:  # no manifest at all
        report.manifest_problem = f"missing ({exc})"
        return report
    report.total_runs = report.manifest["total_runs"]
    try:
        survey = store.survey(report.manifest)
    except ManifestError as exc:  # no part is of the manifest's sweep
        report.manifest_problem = exc.reason
        return report
    except StoreError as exc:
        report.unreadable = str(exc)
        return report
    report.runs, report.trajectories, report.blocked = survey.runs, survey.trajectories, survey.blocked
    report.present = int(survey.done.sum())
    report.duplicated, report.failed = survey.duplicated, survey.failed
    return report
