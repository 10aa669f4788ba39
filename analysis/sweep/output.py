"""Writing results atomically: a reader never sees a half-written file.

A file is written under a temporary name in its own directory and renamed into place, so it is
either complete or absent. When the file cannot be written (its directory is under a file, is
read-only, the disk is full), :class:`OutputError` names the path and the system's reason, and no
temporary file is left behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd


class OutputError(RuntimeError):
    """A file could not be written; the message names it and the system's reason.

    ``path`` is the file that was to be written, ``reason`` the operating system's words for why
    (``strerror``: "Permission denied", "No space left on device", …) and ``errno`` its error
    number (``errno.ENOSPC``, …; None when the failure was not the operating system's), by which
    the command line tells a full or failing disk from a path the user must change.
    """

    def __init__(self, path: Path, reason: str, doing: str = "write", errno: int | None = None):
        super().__init__(f"cannot {doing} {path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.errno = errno


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def atomic_write(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the result to ``path`` (same directory).

    Creates ``path``'s directory if it is missing. Raises :class:`OutputError` when the directory
    cannot be created or the file cannot be written; the temporary file is removed whatever
    happens (including Ctrl-C).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            path, _reason(exc), doing=f"create the directory {path.parent} for", errno=exc.errno
        ) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc), errno=exc.errno) from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; give it a normal file's mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(path, exc.strerror or str(exc), errno=exc.errno) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` as Parquet, atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def json_text(data: Any) -> str:
    """``data`` as indented JSON with sorted keys; NaN and infinities become null."""

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None  # JSON has no NaN or infinity
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(data), indent=2, sort_keys=True) + "\n"


def write_json(data: Any, path: Path) -> None:
    """Write ``data`` to ``path`` as indented JSON (NaN and infinities as null), atomically."""
    text = json_text(data)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
