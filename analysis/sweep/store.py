"""The results directory of a sweep: run rows streamed to Parquet parts, plus a manifest.

Layout of ``results/NAME/``::

    manifest.json              what was run: the sweep's content hash and text, versions, git
                               commit, cores, workers, executor, start and end of every session
    runs/part-000000120.parquet one part per finished chunk, named by its first run id
    trajectories/part-*.parquet per-round trajectories, downsampled (only when the sweep asks)

Every file is written under a temporary name and renamed into place, so a part is either complete
or absent: a sweep stopped by Ctrl-C, ``kill -9`` or a power cut resumes by running exactly the runs
that have no row yet. A directory holding a different sweep (another content hash) is refused.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.sweep.output import atomic_write, write_json

MANIFEST = "manifest.json"
RUNS = "runs"
TRAJECTORIES = "trajectories"


class StoreError(RuntimeError):
    """The results directory cannot be used for this sweep; the message says why."""


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


class ResultStore:
    """One sweep's results directory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest_path = self.directory / MANIFEST

    # -- opening ---------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        """The manifest; StoreError if the directory holds no sweep results."""
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"{self.directory} holds no sweep results (no {MANIFEST})") from None
        except json.JSONDecodeError as exc:
            raise StoreError(f"{self.manifest_path} is not valid JSON: {exc}") from None

    def open_for(self, content_hash: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the directory for a new sweep, or reopen it to resume the same sweep.

        Returns the manifest in force. Refuses a directory that holds another sweep's results, or
        anything that is not a fedstake results directory.
        """
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"{self.directory} is a file; --out must name a directory")
        if self.manifest_path.exists():
            existing = self.read_manifest()
            if existing.get("content_hash") != content_hash:
                raise StoreError(
                    f"{self.directory} holds results of a different sweep "
                    f"({existing.get('sweep_file', '?')}, hash {str(existing.get('content_hash'))[:12]}…, "
                    f"this one {content_hash[:12]}…); mixing them is refused: choose another --out or "
                    "delete that directory"
                )
            self._remove_unfinished_writes()
            return existing
        if self.directory.exists() and any(self.directory.iterdir()):
            raise StoreError(f"{self.directory} is not empty and is not a fedstake results directory")
        try:
            (self.directory / RUNS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the results directory {self.directory}: {exc.strerror}"
            ) from None
        manifest = {**manifest, "content_hash": content_hash, "created": _now(), "sessions": []}
        self.write_manifest(manifest)
        return manifest

    def _remove_unfinished_writes(self) -> None:
        """Delete temporary files a killed sweep left behind (their chunks will be run again)."""
        for kind in (RUNS, TRAJECTORIES):
            for tmp in (self.directory / kind).glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        write_json(manifest, self.manifest_path)

    # -- runs ------------------------------------------------------------------------------
    def _parts(self, kind: str = RUNS) -> list[Path]:
        folder = self.directory / kind
        return sorted(folder.glob("part-*.parquet")) if folder.exists() else []

    def scan(self, total_runs: int) -> tuple[np.ndarray, int]:
        """Which runs already have a row (a bool per run id) and how many of those failed.

        Reads only the ``run_id`` and ``status`` columns, so it stays cheap for large sweeps.
        """
        done = np.zeros(total_runs, dtype=bool)
        failed = 0
        for part in self._parts():
            table = pq.read_table(part, columns=["run_id", "status"])
            done[table.column("run_id").to_numpy()] = True
            failed += int(np.count_nonzero(table.column("status").to_numpy(zero_copy_only=False) == "failed"))
        return done, failed

    def write_part(self, rows: pd.DataFrame, trajectories: pd.DataFrame | None = None) -> None:
        """Write one finished chunk: its run rows and, if any, its trajectories."""
        first = int(rows["run_id"].min())
        if trajectories is not None and len(trajectories):
            self._write(trajectories, TRAJECTORIES, first)
        self._write(rows, RUNS, first)  # last: a part in runs/ means the chunk is complete

    def _write(self, df: pd.DataFrame, kind: str, first: int) -> None:
        path = self.directory / kind / f"part-{first:09d}.parquet"
        table = pa.Table.from_pandas(df, preserve_index=False)
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))

    def load(self, kind: str = RUNS) -> pd.DataFrame:
        """Every row written so far, sorted by run id (and round, for trajectories)."""
        parts = self._parts(kind)
        if not parts:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
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
