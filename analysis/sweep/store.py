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

Nothing read is trusted blindly. Every file is opened without blocking and read only if it is a
regular file (a FIFO or a device never hangs or floods a reader), the manifest at most
:data:`MANIFEST_MAX_BYTES`. The manifest is checked against :data:`MANIFEST_FIELDS` on every read
(:class:`ManifestError`); each part is checked as it is read — readable Parquet with page
checksums, the ID, parameter and KPI columns (and a ``regime`` column, where there is one, of
regime names), run ids in ``[0, total_runs)``, named for its first run, and of this sweep: point,
replication and seed as the manifest's run numbering and seed give them (:class:`DamagedPartError`);
a run in two parts is refused (:class:`DuplicateRunsError`). A file that cannot be read *now* (an
I/O error, a dangling link) is not damage: it is refused with :class:`StoreError`, never set aside.
One sweep at a time writes a directory: an exclusive ``flock`` on ``.lock``, which the kernel
releases when the writer dies, so there is never a stale lock to clean up
(:class:`DirectoryLockedError`).

Every :class:`StoreError` has an ``errno``: the operating system's error number when the machine
failed (a full, read-only or failing disk), None when what is wrong is the directory's content.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno as errnos
import fcntl
import json
import math
import os
import platform
import re
import socket
import stat
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

from agents import TRAINER_TYPES, VALIDATOR_TYPES
from analysis.sweep.designs import run_seed
from analysis.sweep.output import OutputError, atomic_write, write_json
from model.kpis import kpi_names
from model.params import ScenarioError
from model.scenario import Regime, key_type

MANIFEST = "manifest.json"
RUNS = "runs"
TRAJECTORIES = "trajectories"
LOCK = ".lock"
DAMAGED = "damaged"
#: Seconds a new writer waits for the lock before refusing: long enough to outlast a reader's
#: momentary probe (:func:`lock_holder`), far shorter than any sweep holds it.
LOCK_PATIENCE_S = 0.5
#: Columns every runs part has had since the first version (``design``, ``mix`` and ``regime`` came later).
RUN_ID_COLUMNS = ("run_id", "point", "replication", "seed", "status", "error")
#: The values a runs part's ``regime`` column may hold, the scenario's ``regime.kind`` choices (parts
#: written before regimes existed have no such column).
REGIMES = next(f.metadata["choices"] for f in dataclasses.fields(Regime) if f.name == "kind")
TRAJECTORY_ID_COLUMNS = ("run_id", "round")
STATUSES = ("ok", "failed")
#: Temporary files of a manifest being written (see :func:`analysis.sweep.output.atomic_write`).
MANIFEST_TEMPORARY = re.compile(re.escape(f".{MANIFEST}.") + r".+\.tmp")
#: The most bytes read from a manifest: far more than any manifest holds (a 10,000,000-run
#: sweep's is some hundred KiB), far less than would exhaust memory.
MANIFEST_MAX_BYTES = 64 * 2**20
#: The most bytes read from a part: more than the largest part a sweep writes (a chunk holds at
#: most 1,000 runs and a sweep at most 5,000,000 trajectory rows).
PART_MAX_BYTES = 2 * 2**30
#: The strategies whose KPIs every runs part holds.
STRATEGIES = tuple(cls.strategy for cls in TRAINER_TYPES + VALIDATOR_TYPES)


# -- errors ------------------------------------------------------------------------------------
class StoreError(RuntimeError):
    """The results directory cannot be used as asked; the message says why and what to do.

    ``path`` is the file or directory at fault; ``errno`` the operating system's error number when
    the machine failed (``errno.ENOSPC``, ``errno.EIO``, …), None when the directory's content is
    what is wrong.
    """

    def __init__(self, message: str, path: str | Path | None = None, errno: int | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        self.errno = errno


class ManifestError(StoreError):
    """``manifest.json`` is missing, unreadable or does not hold what a manifest holds.

    ``reason`` says what is wrong with it, without its path or advice on what to do.
    """

    def __init__(
        self, message: str, path: str | Path | None = None, errno: int | None = None, reason: str = ""
    ):
        super().__init__(message, path, errno)
        self.reason = reason or message


class DamagedPartError(StoreError):
    """A Parquet part cannot be trusted; ``reason`` says why (the message also says what to do)."""

    def __init__(self, path: Path, reason: str, advice: str = ""):
        super().__init__(f"{path} {reason}" + (f"; {advice}" if advice else ""), path)
        self.reason = reason


class ForeignPartError(DamagedPartError):
    """A part whose runs are not this sweep's: their point, replication or seed is not what the
    manifest's run numbering and seed give (a part copied from another sweep, or the manifest)."""


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

    def damaged(reason: str, then: str = advice) -> ManifestError:
        return ManifestError(f"{path} {reason}" + (f"; {then}" if then else ""), path, reason=reason)

    if not raw.strip():
        raise damaged("is empty (damaged?)")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise damaged(
            "begins with a byte-order mark, which fedstake never writes: it was changed since "
            "(re-saved by an editor?)",
            "remove the first 3 bytes to use it again",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}; damaged?)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise damaged(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}; damaged?)"
        ) from None
    except RecursionError:
        raise damaged("is not a manifest (nested too deeply; damaged?)", "") from None
    problems = manifest_problems(data)
    if problems:
        raise damaged("is not a valid manifest: " + "; ".join(problems), "")
    return data


# -- reading files that may be anything --------------------------------------------------------
class NotARegularFile(Exception):
    """A path that should be a regular file is something else; ``kind`` says what, in words."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class TooLarge(Exception):
    """A file holds more bytes than a reader accepts."""


def file_kind(mode: int) -> str:
    """What a file of mode ``mode`` is, in words ("a directory", "a FIFO (named pipe)", …)."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (a link to one is followed), at most ``limit``.

    Opened without blocking and checked before reading, so a FIFO, a device (``/dev/zero``) or a
    directory raises :class:`NotARegularFile` instead of hanging or filling memory; a file of more
    than ``limit`` bytes raises :class:`TooLarge`. OSError when it cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(file_kind(mode))
        blocks, size = [], 0
        while size <= limit:
            block = os.read(fd, min(1 << 24, limit + 1 - size))
            if not block:
                break
            blocks.append(block)
            size += len(block)
        if size > limit:
            raise TooLarge(f"more than {limit:,} bytes")
        return b"".join(blocks)
    finally:
        os.close(fd)


def unreadable(path: Path, exc: OSError) -> StoreError:
    """The refusal for a file that exists but cannot be read now (not damage: nothing is moved)."""
    if exc.errno == errnos.ENOENT and path.is_symlink():
        what = f"is a symbolic link to {os.readlink(path)}, which does not exist (an unmounted disk?)"
    else:
        what = f"cannot be read: {exc.strerror or exc}"
    return StoreError(
        f"{path} {what}; fedstake sets aside only files it has read and found damaged, so it stops "
        "here: make it readable and run the command again",
        path,
        exc.errno,
    )


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


def lock_problem(directory: str | Path) -> str | None:
    """What is wrong with ``directory``'s lock file, in words (None when it is absent or a
    regular file): a link, a directory, a FIFO or a device is refused by a sweep."""
    try:
        mode = os.lstat(Path(directory) / LOCK).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return (
        f"is {file_kind(mode)}, not a lock file: fedstake's {LOCK} is always a regular file, and a "
        "sweep will not write through anything else; remove it"
    )


def lock_holder(directory: str | Path) -> dict[str, Any] | None:
    """Who is writing ``directory`` now (``pid``, ``host``, ``started``), or None if no sweep is.

    Probes the lock for an instant; a writer starting in that instant waits it out
    (:data:`LOCK_PATIENCE_S`). A lock file that is not a regular file is never opened for long
    (no blocking on a FIFO): no sweep can hold it, so None.
    """
    try:
        fd = os.open(Path(directory) / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
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
    ``.lock`` is opened without following a link and used only if it is a regular file, so a
    sweep never writes (or truncates) a file a link points to.
    """

    def __init__(self, directory: Path):
        self.path = directory / LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise DirectoryLockedError naming the sweep that holds it."""
        fd = self._open()
        self._wait_for(fd)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        except OSError as exc:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise StoreError(
                f"cannot write the lock file {self.path}: {exc.strerror}", self.path, exc.errno
            ) from None
        self._fd = fd

    def _open(self) -> int:
        """A descriptor of the lock file (created if missing); StoreError if it is not a regular file."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            problem = lock_problem(self.path.parent)
            if problem is not None:  # a link (ELOOP) or a directory (EISDIR)
                raise StoreError(f"{self.path} {problem}", self.path) from None
            only_read = "; a sweep writes its --out (`fedstake check` and `analyze` only read it)"
            raise StoreError(
                f"cannot create the lock file {self.path}: {exc.strerror}"
                + (only_read if exc.errno == errnos.EROFS else ""),
                self.path,
                exc.errno,
            ) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise StoreError(
                f"{self.path} is {file_kind(mode)}, not a lock file: fedstake's {LOCK} is always a regular "
                "file; remove it",
                self.path,
            )
        return fd

    def _wait_for(self, fd: int) -> None:
        """Lock ``fd`` exclusively, waiting up to LOCK_PATIENCE_S; closes it when refusing."""
        deadline = time.monotonic() + LOCK_PATIENCE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
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
                    exc.errno,
                ) from None

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
@dataclass(frozen=True)
class PartContract:
    """What every part of one sweep must hold, as its manifest says.

    Runs are numbered ``run_id = point × replications + replication`` and seeded by
    :func:`~analysis.sweep.designs.run_seed` (sweep seed, seed point, replication), where
    ``point = (parameter point × designs + design) × mixes + mix`` and the seed point is
    ``parameter point × mixes + mix``.
    """

    total_runs: int
    replications: int
    seed: int
    designs: int
    mixes: int
    parameters: tuple[str, ...]
    kpis: tuple[str, ...]
    trajectories: bool

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> PartContract:
        """The contract of the sweep ``manifest`` describes (older manifests: one design, one mix)."""
        return cls(
            total_runs=manifest["total_runs"],
            replications=manifest["replications"],
            seed=manifest["seed"],
            designs=max(len(manifest.get("designs", [])), 1),
            mixes=max(len(manifest.get("mixes", [])), 1),
            parameters=tuple(manifest["parameters"]),
            kpis=tuple(kpi_names(list(STRATEGIES))),
            trajectories=bool(manifest.get("trajectories", False)),
        )

    def seed_point(self, point: int) -> int:
        """The point that seeds ``point``'s runs: its parameter point × mixes + its mix."""
        return point // (self.designs * self.mixes) * self.mixes + point % self.mixes


def _first_line(exc: BaseException, limit: int = 120) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text[:limit]


def _read_parquet(path: Path) -> pd.DataFrame:
    """The rows of the Parquet file ``path``, pages verified against their checksums.

    DamagedPartError when it is not a regular file or not a readable Parquet file; StoreError
    (with the errno) when the system cannot read it now — that is not damage.
    """
    try:
        raw = read_regular(path, PART_MAX_BYTES)
    except NotARegularFile as exc:
        raise DamagedPartError(path, f"is {exc.kind}, not a Parquet file") from None
    except TooLarge as exc:
        raise DamagedPartError(path, f"holds {exc}, more than any part a sweep writes") from None
    except OSError as exc:
        raise unreadable(path, exc) from None
    try:
        with pq.ParquetFile(pa.BufferReader(raw), page_checksum_verification=True) as f:
            table = f.read(use_threads=False)
        return table.to_pandas()
    except MemoryError:
        raise
    except OSError as exc:
        if exc.errno is not None:  # the system failed; pyarrow's decoding errors carry no errno
            raise unreadable(path, exc) from None
        raise _damaged(path, raw, exc) from None
    except Exception as exc:  # a damaged file makes pyarrow raise any of a dozen kinds; each means the same
        raise _damaged(path, raw, exc) from None


def _damaged(path: Path, raw: bytes, exc: BaseException) -> DamagedPartError:
    if not (raw[:4] == b"PAR1" and raw[-4:] == b"PAR1" and len(raw) >= 8):
        return DamagedPartError(path, "is not a Parquet file (damaged?)")
    return DamagedPartError(path, f"is a damaged Parquet file ({_first_line(exc)})")


def _few(values: np.ndarray) -> str:
    shown = ", ".join(str(v) for v in values[:3])
    return shown + (f" and {len(values) - 3} more" if len(values) > 3 else "")


def _column_kind_problem(frame: pd.DataFrame, name: str, allowed: str, accepts: Callable) -> str | None:
    if accepts(frame[name].dtype):
        return None
    return f"has a column '{name}' of {frame[name].dtype}; allowed: {allowed}"


_WHOLE = ("whole numbers", pd.api.types.is_integer_dtype)
_NUMBERS = ("numbers", lambda t: pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t))
#: What a parameter column may hold, by its scenario key's type.
_PARAMETER_KINDS = {
    float: _NUMBERS,
    int: _WHOLE,
    bool: ("true/false", pd.api.types.is_bool_dtype),
    str: ("text", lambda t: pd.api.types.is_object_dtype(t) or pd.api.types.is_string_dtype(t)),
}


def _column_problems(frame: pd.DataFrame, contract: PartContract) -> str | None:
    """A runs part's missing or mistyped parameter and KPI columns (None when all are there)."""
    missing = [c for c in (*contract.parameters, *contract.kpis) if c not in frame.columns]
    if missing:
        return (
            "lacks the column(s) "
            + ", ".join(f"'{c}'" for c in missing[:5])
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    checks = [(c, *_WHOLE) for c in ("point", "replication", "seed")]
    for name in contract.parameters:
        # a key this version does not know: presence is all that is asked
        with contextlib.suppress(ScenarioError, KeyError):
            checks.append((name, *_PARAMETER_KINDS[key_type(name)]))
    checks += [(c, *_NUMBERS) for c in contract.kpis]
    problem = next((p for c in checks if (p := _column_kind_problem(frame, *c)) is not None), None)
    return problem or _regime_problem(frame)


def _regime_problem(frame: pd.DataFrame) -> str | None:
    """What is wrong with a runs part's ``regime`` column, if it has one: each run's regime by name."""
    if "regime" not in frame.columns:
        return None
    regimes = frame["regime"]
    if not (pd.api.types.is_object_dtype(regimes) or pd.api.types.is_string_dtype(regimes)):
        return f"has a column 'regime' of {regimes.dtype}; allowed: text ({', '.join(REGIMES)})"
    unknown = sorted({str(v) for v in regimes if v not in REGIMES})
    if unknown:
        return (
            f"has regime values other than {', '.join(map(repr, REGIMES))}: {', '.join(map(repr, unknown))}"
        )
    return None


def part_problem(frame: pd.DataFrame, path: Path, kind: str, contract: PartContract) -> str | None:
    """What is wrong with a part's rows, in words (None when nothing is). Whether they are this
    sweep's runs is :func:`identity_problem`'s question."""
    total_runs = contract.total_runs
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
    return _column_problems(frame, contract)


def identity_problem(frame: pd.DataFrame, contract: PartContract) -> str | None:
    """Why a (well-formed) runs part's rows are not this sweep's runs, or None when they are.

    Every row's point and replication must be ``divmod(run_id, replications)``; the seeds of the
    part's first and last rows must be :func:`run_seed`'s. (Two seeds per part, not all: a seed
    costs some 10 µs, and a part of another sweep, or a manifest of another sweep, differs in
    every seed.)
    """
    ids = frame["run_id"].to_numpy(np.int64)
    point, replication = np.divmod(ids, contract.replications)
    wrong = (frame["point"].to_numpy() != point) | (frame["replication"].to_numpy() != replication)
    if wrong.any():
        run = int(ids[wrong.argmax()])
        return (
            f"numbers its runs otherwise: run {run} is point {int(frame['point'].iloc[wrong.argmax()])}, "
            f"replication {int(frame['replication'].iloc[wrong.argmax()])}, not point "
            f"{int(point[wrong.argmax()])}, replication {int(replication[wrong.argmax()])} as with "
            f"{contract.replications} replication(s)"
        )
    for row in {0, len(frame) - 1}:
        expected = run_seed(contract.seed, contract.seed_point(int(point[row])), int(replication[row]))
        if int(frame["seed"].iloc[row]) != expected:
            return f"gives run {int(ids[row])} the seed {int(frame['seed'].iloc[row])}, not {expected}"
    return None


def read_part(path: Path, kind: str, contract: PartContract, advice: str = "") -> pd.DataFrame:
    """The rows of one part, checked; DamagedPartError (naming it and why) when it is damaged,
    ForeignPartError when its runs are not this sweep's, StoreError when it cannot be read now."""
    try:
        frame = _read_parquet(path)
    except DamagedPartError as exc:
        raise DamagedPartError(path, exc.reason, advice) from None
    problem = part_problem(frame, path, kind, contract)
    if problem:
        raise DamagedPartError(path, problem, advice)
    if kind == RUNS and (problem := identity_problem(frame, contract)):
        raise ForeignPartError(path, f"is not a part of this sweep: it {problem}", advice)
    return frame


def foreign_manifest_error(manifest_path: Path, parts: int) -> ManifestError:
    """The refusal when no runs part matches the manifest: it is the manifest that is foreign."""
    reason = (
        f"does not belong to these parts: none of the {parts} runs part(s) has the run numbering and "
        "seeds it gives (replaced by another sweep's?)"
    )
    return ManifestError(
        f"{manifest_path} {reason}; nothing was set aside: restore the manifest that came with the "
        "parts, or choose another --out",
        manifest_path,
        reason=reason,
    )


@dataclass
class PartCheck:
    """One part as found: its run ids (and those of its ``ok`` runs), failed runs and, if it
    cannot be used, why (``problem``).

    ``leftover`` marks a trajectories part without its runs part: a sweep stopped between writing
    the two. It is not damage; a resumed sweep sets it aside with the damaged ones. ``foreign``
    marks a part whose runs are not this sweep's.
    """

    path: Path
    kind: str
    run_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    failed: int = 0
    problem: str | None = None
    leftover: bool = False
    ok_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    foreign: bool = False

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


def _check_part(path: Path, kind: str, contract: PartContract) -> PartCheck:
    try:
        frame = read_part(path, kind, contract)
    except ForeignPartError as exc:
        return PartCheck(path, kind, problem=exc.reason, foreign=True)
    except DamagedPartError as exc:
        return PartCheck(path, kind, problem=exc.reason)
    ids = frame["run_id"].to_numpy(np.int64)
    if kind == TRAJECTORIES:
        return PartCheck(path, kind, ids)
    ok = (frame["status"] == "ok").to_numpy()
    return PartCheck(path, kind, ids, int((~ok).sum()), ok_ids=ids[ok])


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
        path = self.manifest_path
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"{self.directory} is a file, not a sweep results directory", self.directory)
        try:
            raw = read_regular(path, MANIFEST_MAX_BYTES)
        except FileNotFoundError:
            if path.is_symlink():
                reason = f"is a symbolic link to {os.readlink(path)}, which does not exist"
                raise ManifestError(f"{path} {reason}", path, errnos.ENOENT, reason) from None
            raise StoreError(f"{self.directory} holds no sweep results (no {MANIFEST})", path) from None
        except NotARegularFile as exc:
            reason = f"is {exc.kind}, not a manifest file (damaged?)"
            raise ManifestError(f"{path} {reason}", path, reason=reason) from None
        except TooLarge as exc:
            reason = f"holds {exc}, far more than any manifest (damaged?)"
            raise ManifestError(f"{path} {reason}", path, reason=reason) from None
        except OSError as exc:
            reason = f"cannot be read: {exc.strerror or exc}"
            raise ManifestError(f"{path} {reason}", path, exc.errno, reason) from None
        return parse_manifest(raw, path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        try:
            write_json(manifest, self.manifest_path)
        except OutputError as exc:
            raise StoreError(str(exc), exc.path, exc.errno) from None

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
                f"cannot create the results directory {self.directory}: {exc.strerror}",
                self.directory,
                exc.errno,
            ) from None
        self.lock.acquire()
        try:
            return self._open_locked(content_hash, manifest)
        except BaseException:
            self.lock.release()
            raise

    def _holds_nothing(self) -> bool:
        """Whether the directory holds nothing a sweep wrote but what one killed before its first
        manifest was in place leaves: the lock file, an empty ``runs/``, temporary manifests."""
        for entry in self.directory.iterdir():
            if entry.name == LOCK or MANIFEST_TEMPORARY.fullmatch(entry.name):
                continue
            if entry.name == RUNS and entry.is_dir() and not entry.is_symlink() and not any(entry.iterdir()):
                continue
            return False
        return True

    def _refuse_foreign_directory(self) -> None:
        is_results = self.manifest_path.exists() or self.manifest_path.is_symlink()
        if self.directory.is_dir() and not is_results and not self._holds_nothing():
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
        self._remove_unfinished_writes()
        manifest = {**manifest, "content_hash": content_hash, "created": _now(), "sessions": []}
        # The manifest first: until it is in place the directory counts as new, so a sweep that
        # failed (or was killed) before it can simply be run again.
        self.write_manifest(manifest)
        self.make_folder(self.directory / RUNS)
        return manifest

    def make_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {folder}: {exc.strerror}", folder, exc.errno) from None

    def close(self) -> None:
        """Unlock the directory (a no-op when this process does not hold it)."""
        self.lock.release()

    def unfinished_writes(self) -> list[Path]:
        """Temporary files a killed sweep left behind: of parts, and of the manifest."""
        found = [p for p in self.directory.iterdir() if MANIFEST_TEMPORARY.fullmatch(p.name)]
        for kind in (RUNS, TRAJECTORIES):
            folder = self.directory / kind
            if folder.is_dir():
                found += folder.glob(".*.tmp")
        return [p for p in found if p.is_file() and not p.is_symlink()]

    def _remove_unfinished_writes(self) -> None:
        """Delete temporary files a killed sweep left behind (their chunks will be run again)."""
        for tmp in self.unfinished_writes():
            tmp.unlink(missing_ok=True)

    # -- what the directory holds ----------------------------------------------------------
    def parts(self, kind: str = RUNS) -> list[Path]:
        """The part files of ``kind``, in run-id order (temporary files excluded)."""
        folder = self.directory / kind
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def blocked(self) -> list[tuple[Path, str]]:
        """Paths that should be folders of parts but are something else, with why.

        StoreError for a folder that is a link to nothing (an unmounted disk?): what it should
        hold may come back, so it is refused rather than set aside and its runs all run again.
        """
        out = []
        for kind in (RUNS, TRAJECTORIES):
            folder = self.directory / kind
            if folder.is_symlink() and not folder.exists():
                raise StoreError(
                    f"{folder} is a symbolic link to {os.readlink(folder)}, which does not exist (an "
                    "unmounted disk?); fedstake will not set it aside and run its runs again: mount or "
                    "restore its target, or remove the link",
                    folder,
                    errnos.ENOENT,
                )
            if folder.exists() and not folder.is_dir():
                out.append((folder, "is a file, not a folder of parts (damaged?)"))
        return out

    def survey(self, manifest: dict[str, Any]) -> Survey:
        """Check every part (reading each in full) against the sweep ``manifest`` describes.

        Where two parts hold a run, the first by name is kept and the other counted as damaged;
        trajectories are kept only beside their runs part and, when the sweep keeps them, a runs
        part must have the trajectories of each of its ``ok`` runs. ManifestError when no runs
        part is of the manifest's sweep (it is the manifest that does not belong); StoreError when
        a part cannot be read now.
        """
        contract = PartContract.of(manifest)
        blocked = self.blocked()
        owner = np.full(contract.total_runs, -1, dtype=np.int64)
        runs: list[PartCheck] = []
        duplicated = 0
        for path in self.parts(RUNS):
            check = _check_part(path, RUNS, contract)
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
            runs.append(check)
        foreign = [p for p in runs if p.foreign]
        if foreign and not any(p.problem is None for p in runs):
            raise foreign_manifest_error(self.manifest_path, len(foreign))
        by_name = {p.path.name: p for p in runs if p.problem is None}
        trajectories = [
            self._check_trajectories(path, contract, by_name) for path in self.parts(TRAJECTORIES)
        ]
        if contract.trajectories:
            with_trajectories = {t.path.name for t in trajectories}
            for part in by_name.values():
                if len(part.ok_ids) and part.path.name not in with_trajectories:
                    part.problem = (
                        f"has {len(part.ok_ids)} ok run(s) but no trajectories part, and this sweep "
                        "keeps trajectories"
                    )
        kept = [p for p in runs if p.problem is None]
        done = np.zeros(contract.total_runs, dtype=bool)
        for part in kept:
            done[part.run_ids] = True
        failed = sum(p.failed for p in kept)
        return Survey(contract.total_runs, runs, trajectories, blocked, done, failed, duplicated)

    def _check_trajectories(
        self, path: Path, contract: PartContract, runs: dict[str, PartCheck]
    ) -> PartCheck:
        check = _check_part(path, TRAJECTORIES, contract)
        if check.problem is not None:
            return check
        beside = runs.get(path.name)
        if beside is None:
            check.leftover = True
        elif not np.isin(check.run_ids, beside.run_ids).all():
            stray = np.unique(check.run_ids[~np.isin(check.run_ids, beside.run_ids)])
            check.problem = f"holds run(s) {_few(stray)} that its runs part does not"
        elif contract.trajectories and not np.isin(beside.ok_ids, check.run_ids).all():
            lacking = beside.ok_ids[~np.isin(beside.ok_ids, check.run_ids)]
            check.problem = f"lacks the trajectories of ok run(s) {_few(lacking)} of its runs part"
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
            raise StoreError(str(exc), exc.path, exc.errno) from None

    def load(self, kind: str = RUNS) -> pd.DataFrame:
        """Every row written so far, sorted by run id (and round, for trajectories), each part
        checked. DamagedPartError for a damaged part (ForeignPartError for a part of another
        sweep), DuplicateRunsError for a run in two parts (refused rather than deduplicated: such a
        directory was written by two sweeps at once, and which copy to believe is for ``fedstake
        sweep`` to settle by redoing them), ManifestError when no runs part is of the manifest's
        sweep, StoreError when a part cannot be read now."""
        manifest = self.read_manifest()
        contract = PartContract.of(manifest)
        advice = self.advice(manifest)
        for path, why in self.blocked():
            if path.name == kind:
                raise StoreError(f"{path} {why}; {advice.replace('that chunk', 'its runs')}", path)
        frames: list[pd.DataFrame] = []
        paths: list[Path] = []
        foreign: list[ForeignPartError] = []
        owner = np.full(contract.total_runs, -1, dtype=np.int64)  # index in ``frames`` of each run's part
        for path in self.parts(kind):
            try:
                frame = read_part(path, kind, contract, advice)
            except ForeignPartError as exc:
                foreign.append(exc)
                continue
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
        if foreign:
            raise foreign_manifest_error(self.manifest_path, len(foreign)) if not frames else foreign[0]
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
