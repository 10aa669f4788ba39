"""The results directory of a sweep: run rows streamed to Parquet parts, plus a manifest.

Layout of ``results/NAME/``::

    manifest.json              what was run: the sweep's content hash and text, versions, git
                               commit, cores, workers, executor, start and end of every session
    runs/part-000000120.parquet one part per finished chunk, named by its first run id
    trajectories/part-*.parquet per-round trajectories, downsampled (only when the sweep asks)
    .lock                      locked by the one sweep writing the directory (its pid, host, start)
    damaged/                   damaged parts a resumed sweep set aside (never deleted) and ran again

Every file is written under a temporary name and renamed into place, so a part is either complete
or absent: a sweep stopped by Ctrl-C, ``kill -9`` or a power cut resumes by running exactly the runs
that have no row yet. A directory holding a different sweep (another content hash) is refused.

Nothing read is trusted blindly. The manifest is checked against :data:`MANIFEST_FIELDS` on every
read (:class:`ManifestError`); each part is checked as it is read — readable Parquet with page
checksums, the ID columns, run ids in ``[0, total_runs)``, named for its first run
(:class:`DamagedPartError`); a run in two parts is refused (:class:`DuplicateRunsError`). One
sweep at a time writes a directory: an exclusive ``flock`` on ``.lock``, which the kernel releases
when the writer dies, so there is never a stale lock to clean up (:class:`DirectoryLockedError`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import platform
import re
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.sweep.output import OutputError, atomic_write, write_json

MANIFEST = "manifest.json"
RUNS = "runs"
TRAJECTORIES = "trajectories"
LOCK = ".lock"
DAMAGED = "damaged"
#: Seconds a new writer waits for the lock before refusing: long enough to outlast a reader's
#: momentary probe (:func:`lock_holder`), far shorter than any sweep holds it.
LOCK_PATIENCE_S = 0.5
#: Columns every runs part has had since the first version (``design`` and ``mix`` came later).
RUN_ID_COLUMNS = ("run_id", "point", "replication", "seed", "status", "error")
TRAJECTORY_ID_COLUMNS = ("run_id", "round")
STATUSES = ("ok", "failed")
PART_NAME = re.compile(r"part-(\d{9})\.parquet")


# -- errors ------------------------------------------------------------------------------------
class StoreError(RuntimeError):
    """The results directory cannot be used as asked; the message says why and what to do.

    ``path`` is the file or directory at fault.
    """

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ManifestError(StoreError):
    """``manifest.json`` is missing, unreadable or does not hold what a manifest holds."""


class DamagedPartError(StoreError):
    """A Parquet part cannot be trusted; ``reason`` says why (the message also says what to do)."""

    def __init__(self, path: Path, reason: str, advice: str = ""):
        super().__init__(f"{path} {reason}" + (f"; {advice}" if advice else ""), path)
        self.reason = reason


class DuplicateRunsError(StoreError):
    """Two parts hold the same run (only a directory written by two sweeps at once can)."""


class DirectoryLockedError(StoreError):
    """Another sweep is writing the directory; ``holder`` is what its lock file says about it."""

    def __init__(self, message: str, path: Path, holder: dict[str, Any]):
        super().__init__(message, path)
        self.holder = holder


# -- the manifest's schema ---------------------------------------------------------------------
def _whole(minimum: int | None = None) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and (minimum is None or v >= minimum)


def _real(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    """A finite number >= 0."""
    return _real(v) and math.isfinite(v) and v >= 0


def _string(v: Any) -> bool:
    return isinstance(v, str)


def _optional(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or accepts(v)


def _list_of(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(accepts(x) for x in v)


def _object_of(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, dict) and all(isinstance(k, str) and accepts(x) for k, x in v.items())


def _object(v: Any) -> bool:
    return isinstance(v, dict)


@dataclass(frozen=True)
class Field:
    """A manifest field: what it may hold (``allowed``, in words, and ``accepts``) and whether
    every manifest has it (older manifests lack the optional ones)."""

    name: str
    allowed: str
    accepts: Callable[[Any], bool]
    required: bool = False


_SPEC_FIELDS = (
    Field("path", "a dotted scenario key (a string)", _string, required=True),
    Field("kind", "a string", _optional(_string)),
    Field("low", "a number or null", _optional(_real)),
    Field("high", "a number or null", _optional(_real)),
    Field("steps", "a whole number >= 1 or null", _optional(_whole(1))),
    Field("scale", "a string or null", _optional(_string)),
    Field("values", "a list or null", _optional(lambda v: isinstance(v, list))),
)
_SESSION_FIELDS = (
    Field("started", "a time stamp (a string)", _string),
    Field("finished", "a time stamp (a string)", _string),
    Field("workers", "a whole number >= 1", _whole(1)),
    Field("executor", "a string", _string),
    Field("chunk_size", "a whole number >= 1", _whole(1)),
    Field("runs_executed", "a whole number >= 0", _whole(0)),
    Field("runs_failed", "a whole number >= 0", _whole(0)),
    Field("wall_time_s", "a number of seconds >= 0", _number),
    Field("status", "'complete' or 'interrupted'", lambda v: v in ("complete", "interrupted")),
)
#: Every field the code reads from a manifest.
MANIFEST_FIELDS = (
    Field("content_hash", "the sweep's SHA-256 (a non-empty string)", lambda v: _string(v) and v != "", True),
    Field("design", "a design name (a string)", _string, True),
    Field("parameters", "a list of dotted scenario keys (strings)", _list_of(_string), True),
    Field("points", "a whole number >= 0", _whole(0), True),
    Field("replications", "a whole number >= 1", _whole(1), True),
    Field("total_runs", "a whole number >= 0", _whole(0), True),
    Field("seed", "a whole number", _whole(), True),
    Field("sessions", "a list of session objects", _list_of(_object), True),
    Field("sweep_name", "a string", _optional(_string)),
    Field("sweep_file", "a path (a string) or null", _optional(_string)),
    Field("sweep_text", "a string or null", _optional(_string)),
    Field("notes", "a string or null", _optional(_string)),
    Field("created", "a time stamp (a string)", _string),
    Field("status", "'complete' or 'interrupted'", lambda v: v in ("complete", "interrupted")),
    Field("wall_time_s", "a number of seconds >= 0", _number),
    Field("trajectories", "true or false", lambda v: isinstance(v, bool)),
    Field("trajectory_points", "a whole number >= 2", _whole(2)),
    Field("mixes", "a list of mix names (strings)", _list_of(_string)),
    Field("mix_overrides", "an object of mix name -> {scenario key: value}", _object_of(_object)),
    Field("designs", "a list of design names (strings)", _list_of(_string)),
    Field("design_overrides", "an object of design name -> {scenario key: value}", _object_of(_object)),
    Field("parameter_specs", "a list of parameter objects", _list_of(_object)),
    Field("design_points", "a whole number >= 0", _whole(0)),
    Field("morris_levels", "a whole number >= 2", _whole(2)),
    Field("base_scenario", "an object (the scenario's tables)", _object),
    Field("versions", "an object of name -> version (strings)", _object_of(_string)),
    Field("git_commit", "a commit hash (a string) or null", _optional(_string)),
    Field("cores", "a whole number >= 1 or null", _optional(_whole(1))),
    Field("platform", "a string", _string),
)


def _json_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    return "a list" if isinstance(v, list) else "an object"


def _shown(v: Any, limit: int = 60) -> str:
    text = json.dumps(v, default=str)
    return (text[:limit] + "…" if len(text) > limit else text) + f" ({_json_kind(v)})"


def _field_problems(data: dict[str, Any], fields: tuple[Field, ...], prefix: str = "") -> list[str]:
    problems = []
    for f in fields:
        if f.name not in data:
            if f.required:
                problems.append(f"field '{prefix}{f.name}' is missing; allowed: {f.allowed}")
        elif not f.accepts(data[f.name]):
            problems.append(f"field '{prefix}{f.name}' holds {_shown(data[f.name])}; allowed: {f.allowed}")
    return problems


def _agreement_problems(m: dict[str, Any]) -> list[str]:
    """Fields that are each well-formed but contradict one another."""
    problems = []
    if m["total_runs"] != m["points"] * m["replications"]:
        problems.append(
            f"fields 'total_runs' ({m['total_runs']}), 'points' ({m['points']}) and 'replications' "
            f"({m['replications']}) disagree: total_runs must be points × replications"
        )
    if all(k in m for k in ("design_points", "designs", "mixes")):
        expected = m["design_points"] * max(len(m["designs"]), 1) * max(len(m["mixes"]), 1)
        if m["points"] != expected:
            problems.append(
                f"field 'points' ({m['points']}) disagrees with design_points × designs × mixes ({expected})"
            )
    for names, overrides in (("mixes", "mix_overrides"), ("designs", "design_overrides")):
        if names in m and overrides in m and set(m[overrides]) != set(m[names]):
            problems.append(
                f"field '{overrides}' names {sorted(m[overrides])}; allowed: exactly the {names} "
                f"{sorted(m[names])}"
            )
    return problems


def manifest_problems(manifest: Any) -> list[str]:
    """Everything wrong with a parsed manifest (empty when it is valid)."""
    if not isinstance(manifest, dict):
        return [f"it holds {_json_kind(manifest)}, not an object of fields"]
    problems = _field_problems(manifest, MANIFEST_FIELDS)
    for name, fields in (("parameter_specs", _SPEC_FIELDS), ("sessions", _SESSION_FIELDS)):
        entries = manifest.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                problems += _field_problems(entry, fields, f"{name}[{i}].")
    return problems or _agreement_problems(manifest)


def parse_manifest(raw: bytes, path: Path) -> dict[str, Any]:
    """The manifest in ``raw`` (the bytes of ``path``), checked; ManifestError saying what is wrong.

    A byte-order mark counts as damage: fedstake never writes one, so the file was changed since.
    """
    advice = f"`fedstake check {path.parent}` says what else is damaged"
    if not raw.strip():
        raise ManifestError(f"{path} is empty (damaged?); {advice}", path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ManifestError(
            f"{path} begins with a byte-order mark, which fedstake never writes: it was changed since "
            "(re-saved by an editor?); remove the first 3 bytes to use it again",
            path,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}; damaged?); "
            + advice,
            path,
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}; damaged?); "
            + advice,
            path,
        ) from None
    except RecursionError:
        raise ManifestError(f"{path} is not a manifest (nested too deeply; damaged?)", path) from None
    problems = manifest_problems(data)
    if problems:
        raise ManifestError(f"{path} is not a valid manifest: " + "; ".join(problems), path)
    return data


# -- one writer at a time ----------------------------------------------------------------------
def _holder_text(holder: dict[str, Any]) -> str:
    if not holder:
        return "a sweep that is just starting"
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def lock_holder(directory: str | Path) -> dict[str, Any] | None:
    """Who is writing ``directory`` now (``pid``, ``host``, ``started``), or None if no sweep is.

    Probes the lock for an instant; a writer starting in that instant waits it out
    (:data:`LOCK_PATIENCE_S`).
    """
    try:
        fd = os.open(Path(directory) / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd)
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class WriterLock:
    """The exclusive lock of one results directory, held for the length of a sweep.

    ``flock`` on ``.lock``: the kernel drops it when the holder's process ends, however it ends.
    The file holds the writer's pid, host and start time, for the message that refuses the next.
    """

    def __init__(self, directory: Path):
        self.path = directory / LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise DirectoryLockedError naming the sweep that holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}", self.path) from None
        deadline = time.monotonic() + LOCK_PATIENCE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                holder = _read_holder(fd)
                os.close(fd)
                directory = self.path.parent
                raise DirectoryLockedError(
                    f"{directory} is being written by another sweep ({_holder_text(holder)}); one sweep "
                    "writes a results directory at a time: wait for it to finish (or stop it), or choose "
                    "another --out",
                    directory,
                    holder,
                ) from None
            except OSError as exc:
                os.close(fd)
                raise StoreError(
                    f"cannot lock {self.path}: {exc.strerror}; the results directory must be on a file "
                    "system with file locks",
                    self.path,
                ) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays: removing it would let two writers lock two files)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)  # for the forked workers' copies of the descriptor too
        os.close(fd)


# -- parts -------------------------------------------------------------------------------------
def _parquet_magic(path: Path) -> bool:
    """Whether the file starts and ends with Parquet's magic bytes ``PAR1``."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            return head == b"PAR1" and f.read(4) == b"PAR1"
    except OSError:
        return False


def _first_line(exc: BaseException, limit: int = 120) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text[:limit]


def _read_parquet(path: Path) -> pd.DataFrame:
    """The rows of the Parquet file ``path``, pages verified against their checksums."""
    if path.is_dir():
        raise DamagedPartError(path, "is a directory, not a Parquet file")
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as f:
            table = f.read(use_threads=False)
        return table.to_pandas()
    except PermissionError as exc:
        raise DamagedPartError(path, f"cannot be read: {exc.strerror}") from None
    except Exception as exc:  # a damaged file makes pyarrow raise any of a dozen kinds; each means the same
        if not _parquet_magic(path):
            raise DamagedPartError(path, "is not a Parquet file (damaged?)") from None
        raise DamagedPartError(path, f"is a damaged Parquet file ({_first_line(exc)})") from None


def _few(values: np.ndarray) -> str:
    shown = ", ".join(str(v) for v in values[:3])
    return shown + (f" and {len(values) - 3} more" if len(values) > 3 else "")


def part_problem(frame: pd.DataFrame, path: Path, kind: str, total_runs: int) -> str | None:
    """What is wrong with a part's rows, in words (None when nothing is)."""
    required = RUN_ID_COLUMNS if kind == RUNS else TRAJECTORY_ID_COLUMNS
    missing = [c for c in required if c not in frame.columns]
    if missing:
        return "lacks the column(s) " + ", ".join(f"'{c}'" for c in missing)
    if frame.empty:
        return "holds no rows"
    if not pd.api.types.is_integer_dtype(frame["run_id"]):
        return f"has a run_id column of {frame['run_id'].dtype}, not whole numbers"
    ids = frame["run_id"].to_numpy()
    outside = np.unique(ids[(ids < 0) | (ids >= total_runs)])
    if len(outside):
        return f"has run ids outside [0, {total_runs}): {_few(outside)}"
    if kind == TRAJECTORIES:
        if frame.duplicated(["run_id", "round"]).any():
            return "holds a round of a run more than once"
        return None
    repeated = np.unique(ids[pd.Series(ids).duplicated().to_numpy()])
    if len(repeated):
        return f"holds run(s) {_few(repeated)} more than once"
    statuses = set(frame["status"].dropna().unique()) - set(STATUSES) | (
        {"missing"} if frame["status"].isna().any() else set()
    )
    if statuses:
        return f"has status values other than 'ok' and 'failed': {', '.join(map(repr, sorted(statuses)))}"
    if path.name != f"part-{int(ids.min()):09d}.parquet":
        return f"is named for another chunk: its first run is {int(ids.min())}"
    return None


def read_part(path: Path, kind: str, total_runs: int, advice: str = "") -> pd.DataFrame:
    """The rows of one part, checked; DamagedPartError (naming it and why) when it is damaged."""
    try:
        frame = _read_parquet(path)
    except DamagedPartError as exc:
        raise DamagedPartError(path, exc.reason, advice) from None
    problem = part_problem(frame, path, kind, total_runs)
    if problem:
        raise DamagedPartError(path, problem, advice)
    return frame


@dataclass
class PartCheck:
    """One part as found: its run ids, failed runs and, if it cannot be used, why (``problem``).

    ``leftover`` marks a trajectories part without its runs part: a sweep stopped between writing
    the two. It is not damage; a resumed sweep sets it aside with the damaged ones.
    """

    path: Path
    kind: str
    run_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    failed: int = 0
    problem: str | None = None
    leftover: bool = False

    @property
    def usable(self) -> bool:
        return self.problem is None and not self.leftover


@dataclass
class Survey:
    """Every part of a results directory, checked: what a resumed sweep keeps, redoes, sets aside."""

    total_runs: int
    runs: list[PartCheck]
    trajectories: list[PartCheck]
    #: Paths that should be folders of parts but are not (``runs`` being a file), with why.
    blocked: list[tuple[Path, str]]
    done: np.ndarray
    failed: int
    duplicated: int

    def damaged(self) -> list[PartCheck]:
        return [p for p in self.runs + self.trajectories if p.problem is not None]

    def to_set_aside(self, trajectories_wanted: bool) -> list[PartCheck]:
        """The parts a resumed sweep moves to ``damaged/``: damaged ones, leftovers and, when the
        sweep keeps trajectories, the runs part of each damaged trajectories part (to redo both)."""
        out = [p for p in self.runs + self.trajectories if not p.usable]
        if trajectories_wanted:
            broken = {p.path.name for p in self.trajectories if p.problem is not None}
            out += [p for p in self.runs if p.usable and p.path.name in broken]
        return out

    def kept(self, set_aside: list[PartCheck]) -> tuple[np.ndarray, int]:
        """Which runs have a row once ``set_aside`` is moved away (a bool per run id), and how many
        of those failed."""
        done, failed = self.done.copy(), self.failed
        for part in set_aside:
            if part.kind == RUNS and part.problem is None:
                done[part.run_ids] = False
                failed -= part.failed
        return done, failed


def _check_part(path: Path, kind: str, total_runs: int) -> tuple[PartCheck, pd.DataFrame | None]:
    try:
        frame = read_part(path, kind, total_runs)
    except DamagedPartError as exc:
        return PartCheck(path, kind, problem=exc.reason), None
    failed = int((frame["status"] == "failed").sum()) if kind == RUNS else 0
    return PartCheck(path, kind, frame["run_id"].to_numpy(np.int64), failed), frame


# -- the store ---------------------------------------------------------------------------------
def git_commit() -> str | None:
    """The git commit of the fedstake source tree, when it is a checkout."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def package_versions() -> dict[str, str]:
    """Versions of fedstake and of the libraries its numbers depend on."""
    out = {"python": platform.python_version()}
    for name in ("fedstake", "mesa", "numpy", "pandas", "scipy", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _free_path(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``, … — the first that does not exist."""
    candidate, n = path, 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


class ResultStore:
    """One sweep's results directory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest_path = self.directory / MANIFEST
        self.lock = WriterLock(self.directory)

    # -- the manifest ----------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        """The manifest, checked; StoreError if the directory holds no sweep results,
        ManifestError if its manifest is damaged."""
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"{self.directory} is a file, not a sweep results directory", self.directory)
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"{self.directory} holds no sweep results (no {MANIFEST})", self.manifest_path
            ) from None
        except IsADirectoryError:
            raise ManifestError(
                f"{self.manifest_path} is a directory, not a manifest file (damaged?)", self.manifest_path
            ) from None
        except OSError as exc:
            raise ManifestError(
                f"cannot read {self.manifest_path}: {exc.strerror}", self.manifest_path
            ) from None
        return parse_manifest(raw, self.manifest_path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        try:
            write_json(manifest, self.manifest_path)
        except OutputError as exc:
            raise StoreError(str(exc), exc.path) from None

    def advice(self, manifest: dict[str, Any] | None = None) -> str:
        """What to do about a damaged part: the command that redoes its chunk."""
        sweep = (manifest or {}).get("sweep_file") or "SWEEP.toml"
        return (
            f"run `fedstake sweep {sweep} --out {self.directory}` again to redo that chunk "
            f"(or `fedstake check {self.directory}`)"
        )

    # -- opening for a sweep ---------------------------------------------------------------
    def open_for(self, content_hash: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Lock the directory for this process, then create it for a new sweep or reopen it to
        resume the same sweep. Returns the manifest in force; :meth:`close` unlocks.

        Refuses a file, a directory another sweep is writing (DirectoryLockedError), one that holds
        another sweep's results, one whose manifest is damaged (ManifestError) and anything that is
        not a fedstake results directory.
        """
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"{self.directory} is a file; --out must name a directory", self.directory)
        self._refuse_foreign_directory()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the results directory {self.directory}: {exc.strerror}", self.directory
            ) from None
        self.lock.acquire()
        try:
            return self._open_locked(content_hash, manifest)
        except BaseException:
            self.lock.release()
            raise

    def _refuse_foreign_directory(self) -> None:
        is_results = self.manifest_path.exists() or self.manifest_path.is_symlink()
        if (
            self.directory.is_dir()
            and not is_results
            and any(p.name != LOCK for p in self.directory.iterdir())
        ):
            raise StoreError(
                f"{self.directory} is not empty and is not a fedstake results directory "
                f"(no {MANIFEST}); choose another --out",
                self.directory,
            )

    def _open_locked(self, content_hash: str, manifest: dict[str, Any]) -> dict[str, Any]:
        if self.manifest_path.exists() or self.manifest_path.is_symlink():
            try:
                existing = self.read_manifest()
            except ManifestError as exc:
                raise ManifestError(
                    f"{exc}. The sweep cannot tell what {self.directory} holds, so it will not add to it: "
                    f"restore {MANIFEST} (from a backup) or choose another --out",
                    exc.path,
                ) from None
            if existing["content_hash"] != content_hash:
                raise StoreError(
                    f"{self.directory} holds results of a different sweep "
                    f"({existing.get('sweep_file', '?')}, hash {existing['content_hash'][:12]}…, "
                    f"this one {content_hash[:12]}…); mixing them is refused: choose another --out or "
                    "delete that directory",
                    self.directory,
                )
            self._remove_unfinished_writes()
            return existing
        self._refuse_foreign_directory()  # again, now that no other writer can be creating it
        manifest = {**manifest, "content_hash": content_hash, "created": _now(), "sessions": []}
        self.make_folder(self.directory / RUNS)
        self.write_manifest(manifest)
        return manifest

    def make_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {folder}: {exc.strerror}", folder) from None

    def close(self) -> None:
        """Unlock the directory (a no-op when this process does not hold it)."""
        self.lock.release()

    def _remove_unfinished_writes(self) -> None:
        """Delete temporary files a killed sweep left behind (their chunks will be run again)."""
        for kind in (RUNS, TRAJECTORIES):
            folder = self.directory / kind
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    if tmp.is_file():
                        tmp.unlink(missing_ok=True)

    # -- what the directory holds ----------------------------------------------------------
    def parts(self, kind: str = RUNS) -> list[Path]:
        """The part files of ``kind``, in run-id order (temporary files excluded)."""
        folder = self.directory / kind
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def blocked(self) -> list[tuple[Path, str]]:
        """Paths that should be folders of parts but are something else, with why."""
        out = []
        for kind in (RUNS, TRAJECTORIES):
            folder = self.directory / kind
            if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
                out.append((folder, "is a file, not a folder of parts (damaged?)"))
        return out

    def survey(self, total_runs: int) -> Survey:
        """Check every part (reading each in full). Where two parts hold a run, the first by name
        is kept and the other counted as damaged; trajectories are kept only beside their runs part."""
        owner = np.full(total_runs, -1, dtype=np.int64)
        runs: list[PartCheck] = []
        duplicated = failed = 0
        for path in self.parts(RUNS):
            check, _ = _check_part(path, RUNS, total_runs)
            if check.problem is None:
                clash = check.run_ids[owner[check.run_ids] >= 0]
                if len(clash):
                    first = runs[int(owner[clash[0]])].path.name
                    check.problem = (
                        f"repeats run(s) {_few(clash)} of {first} (written by two sweeps at once?)"
                    )
                    duplicated += len(clash)
                else:
                    owner[check.run_ids] = len(runs)
                    failed += check.failed
            runs.append(check)
        by_name = {p.path.name: p for p in runs if p.problem is None}
        trajectories = [
            self._check_trajectories(path, total_runs, by_name) for path in self.parts(TRAJECTORIES)
        ]
        return Survey(total_runs, runs, trajectories, self.blocked(), owner >= 0, failed, duplicated)

    def _check_trajectories(self, path: Path, total_runs: int, runs: dict[str, PartCheck]) -> PartCheck:
        check, _ = _check_part(path, TRAJECTORIES, total_runs)
        if check.problem is not None:
            return check
        beside = runs.get(path.name)
        if beside is None:
            check.leftover = True
        elif not np.isin(check.run_ids, beside.run_ids).all():
            stray = np.unique(check.run_ids[~np.isin(check.run_ids, beside.run_ids)])
            check.problem = f"holds run(s) {_few(stray)} that its runs part does not"
        return check

    def set_aside(
        self, parts: list[PartCheck], blocked: list[tuple[Path, str]]
    ) -> list[tuple[Path, Path, str]]:
        """Move damaged parts (and folders that are files) into ``damaged/``, deleting nothing.

        Returns (from, to, why) for each move.
        """
        moved = []
        for path, why in blocked:
            moved.append((path, self._move_aside(path, self.directory / DAMAGED / f"{path.name}-file"), why))
        for part in parts:
            why = part.problem or "a trajectories part without its runs part (left by a stopped sweep)"
            moved.append(
                (
                    part.path,
                    self._move_aside(part.path, self.directory / DAMAGED / part.kind / part.path.name),
                    why,
                )
            )
        return moved

    def _move_aside(self, path: Path, target: Path) -> Path:
        self.make_folder(target.parent)
        target = _free_path(target)
        try:
            os.replace(path, target)
        except OSError as exc:
            raise StoreError(f"cannot move the damaged {path} to {target}: {exc.strerror}", path) from None
        return target

    # -- writing and reading rows ----------------------------------------------------------
    def write_part(self, rows: pd.DataFrame, trajectories: pd.DataFrame | None = None) -> None:
        """Write one finished chunk: its run rows and, if any, its trajectories."""
        first = int(rows["run_id"].min())
        if trajectories is not None and len(trajectories):
            self._write(trajectories, TRAJECTORIES, first)
        self._write(rows, RUNS, first)  # last: a part in runs/ means the chunk is complete

    def _write(self, df: pd.DataFrame, kind: str, first: int) -> None:
        path = self.directory / kind / f"part-{first:09d}.parquet"
        table = pa.Table.from_pandas(df, preserve_index=False)
        try:
            atomic_write(path, lambda tmp: pq.write_table(table, tmp, write_page_checksum=True))
        except OutputError as exc:
            raise StoreError(str(exc), exc.path) from None

    def load(self, kind: str = RUNS) -> pd.DataFrame:
        """Every row written so far, sorted by run id (and round, for trajectories), each part
        checked. DamagedPartError for a damaged part, DuplicateRunsError for a run in two parts
        (refused rather than deduplicated: such a directory was written by two sweeps at once, and
        which copy to believe is for ``fedstake sweep`` to settle by redoing them)."""
        manifest = self.read_manifest()
        total = manifest["total_runs"]
        advice = self.advice(manifest)
        for path, why in self.blocked():
            if path.name == kind:
                raise StoreError(f"{path} {why}; {advice.replace('that chunk', 'its runs')}", path)
        frames: list[pd.DataFrame] = []
        paths: list[Path] = []
        owner = np.full(total, -1, dtype=np.int64)  # index in ``frames`` of the part holding each run
        for path in self.parts(kind):
            frame = read_part(path, kind, total, advice)
            ids = np.unique(frame["run_id"].to_numpy(np.int64))
            clash = ids[owner[ids] >= 0]
            if len(clash):
                first = paths[int(owner[clash[0]])]
                raise DuplicateRunsError(
                    f"run(s) {_few(clash)} are in both {first} and {path} (written by two sweeps at "
                    f"once?); {advice.replace('redo that chunk', 'redo the runs held twice')}",
                    path,
                )
            owner[ids] = len(frames)
            frames.append(frame)
            paths.append(path)
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        order = ["run_id", "round"] if kind == TRAJECTORIES else ["run_id"]
        return df.sort_values(order, kind="stable").reset_index(drop=True)


def environment() -> dict[str, Any]:
    """What the manifest records about the machine and the code."""
    return {
        "versions": package_versions(),
        "git_commit": git_commit(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }
