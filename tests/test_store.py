"""The results directory is never corrupted and never trusted blindly.

Every damage a user can do to a results directory — to the manifest, to a part, to the folders —
ends in a StoreError naming the file (never a traceback); a resumed sweep sets damaged parts aside
and redoes exactly their runs; one sweep at a time writes a directory; SIGINT and SIGTERM stop a
sweep even when it was started with SIGINT ignored; failed writes name the path and the reason.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.sweep.check import check_results
from analysis.sweep.engine import execute_sweep, load_results, load_trajectories
from analysis.sweep.output import OutputError, atomic_write, write_json
from analysis.sweep.store import (
    DamagedPartError,
    DirectoryLockedError,
    DuplicateRunsError,
    ForeignPartError,
    ManifestError,
    PartContract,
    StoreError,
    WriterLock,
    lock_holder,
)
from analysis.sweep.sweepfile import load_sweep

from .conftest import BASELINE, ROOT
from .sweeps import GRID, table_hash, write_sweep

FEDSTAKE = Path(sys.executable).with_name("fedstake")
COMMAND = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
#: 24 runs in six parts of four.
CHUNK = 4


def sweep_into(sweep, out: Path, **options):
    return execute_sweep(sweep, out, workers=1, chunk_size=CHUNK, progress=False, **options)


def stats(directory: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, mtime, size) of every file under ``directory``, by relative path."""
    return {
        str(p.relative_to(directory)): (s.st_ino, s.st_mtime_ns, s.st_size)
        for p in directory.rglob("*")
        if p.is_file() and p.name != ".lock"
        for s in [p.stat()]
    }


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("store-sweep"), GRID)


@pytest.fixture(scope="module")
def sweep(sweep_file):
    return load_sweep(sweep_file)


@pytest.fixture(scope="module")
def pristine(sweep, sweep_file, tmp_path_factory) -> Path:
    """A complete results directory of ``sweep``, never modified: tests damage copies of it."""
    out = tmp_path_factory.mktemp("pristine") / "out"
    sweep_into(sweep, out, sweep_file=str(sweep_file))
    return out


@pytest.fixture(scope="module")
def reference(pristine) -> str:
    return table_hash(load_results(pristine))


@pytest.fixture
def results(pristine, tmp_path) -> Path:
    """A fresh copy of the complete results directory."""
    out = tmp_path / "results"
    shutil.copytree(pristine, out)
    return out


def part(results: Path, first: int, kind: str = "runs") -> Path:
    return results / kind / f"part-{first:09d}.parquet"


# -- the manifest ------------------------------------------------------------------------------
def _edit(field: str, value):
    def edit(manifest: Path) -> None:
        data = json.loads(manifest.read_text())
        if value is _MISSING:
            del data[field]
        else:
            data[field] = value
        manifest.write_text(json.dumps(data))

    return edit


_MISSING = object()
MANIFEST_DAMAGES = {
    "empty": (lambda m: m.write_bytes(b""), "is empty"),
    "not JSON": (lambda m: m.write_text('{"content_hash": '), "is not valid JSON (line 1"),
    "not UTF-8": (lambda m: m.write_bytes(b'{"a": "\xff\xfe"}'), "is not UTF-8 text (byte 0xff at offset 7"),
    "a JSON list": (lambda m: m.write_text("[1, 2]"), "holds a list, not an object of fields"),
    "a byte-order mark": (lambda m: m.write_bytes(b"\xef\xbb\xbf" + m.read_bytes()), "byte-order mark"),
    "mix_overrides a list": (
        _edit("mix_overrides", ["base"]),
        "field 'mix_overrides' holds [\"base\"] (a list); allowed: an object of mix name",
    ),
    "mixes a string": (_edit("mixes", "base"), "field 'mixes' holds \"base\" (a string); allowed: a list"),
    "sessions missing": (_edit("sessions", _MISSING), "field 'sessions' is missing; allowed: a list"),
    "sessions a number": (_edit("sessions", 3), "field 'sessions' holds 3 (a number)"),
    "a session's wall time a string": (
        _edit("sessions", [{"wall_time_s": "fast"}]),
        "field 'sessions[0].wall_time_s' holds \"fast\" (a string); allowed: a number of seconds >= 0",
    ),
    "total_runs a string": (_edit("total_runs", "24"), "field 'total_runs' holds \"24\" (a string)"),
    "total_runs disagreeing": (_edit("total_runs", 25), "total_runs must be points × replications"),
    "replications true": (_edit("replications", True), "field 'replications' holds true (true/false)"),
    "content_hash missing": (_edit("content_hash", _MISSING), "field 'content_hash' is missing"),
    "a parameter spec without a path": (
        _edit("parameter_specs", [{"kind": "real"}]),
        "field 'parameter_specs[0].path' is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_DAMAGES))
def test_a_damaged_manifest_is_named_by_every_reader_and_the_sweep(case, results, sweep):
    damage, fragment = MANIFEST_DAMAGES[case]
    manifest = results / "manifest.json"
    damage(manifest)
    before = stats(results)
    for read in (load_results, load_trajectories):
        with pytest.raises(ManifestError) as raised:
            read(results)
        assert str(manifest) in str(raised.value) and fragment in str(raised.value)
        assert raised.value.path == manifest
    report = check_results(results)
    assert not report.ok and fragment in report.manifest_problem
    assert "restore" in report.text()
    with pytest.raises(ManifestError, match="will not add to it") as raised:
        sweep_into(sweep, results)
    assert fragment in str(raised.value)
    assert stats(results) == before  # nothing was written, moved or deleted


def test_a_manifest_that_is_a_directory_is_refused(results, sweep):
    manifest = results / "manifest.json"
    manifest.unlink()
    manifest.mkdir()
    with pytest.raises(ManifestError, match="is a directory, not a manifest file") as raised:
        load_results(results)
    assert raised.value.path == manifest
    assert not check_results(results).ok
    with pytest.raises(ManifestError):
        sweep_into(sweep, results)


def test_an_older_manifest_without_designs_and_mixes_is_read(results, reference):
    manifest = results / "manifest.json"
    data = json.loads(manifest.read_text())
    for field in (
        "designs",
        "design_overrides",
        "parameter_specs",
        "design_points",
        "mixes",
        "mix_overrides",
    ):
        del data[field]
    manifest.write_text(json.dumps(data))
    assert table_hash(load_results(results)) == reference
    assert check_results(results).complete


def test_results_path_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="is a file") as raised:
        load_results(blocker)
    assert raised.value.path == blocker
    with pytest.raises(StoreError, match="is a file"):
        check_results(blocker)


# -- parts -------------------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def _text(path: Path) -> None:
    path.write_text("run_id,status\n0,ok\n")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def _rewrite(path: Path, change) -> None:
    pq.write_table(pa.Table.from_pandas(change(pd.read_parquet(path)), preserve_index=False), path)


def _flip_in_first_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[60] ^= 0x10  # inside the first column's first data page: only its checksum can tell
    path.write_bytes(bytes(data))


PART_DAMAGES = {
    "truncated": (_truncate, "is not a Parquet file (damaged?)"),
    "replaced by text": (_text, "is not a Parquet file (damaged?)"),
    "a directory": (_directory, "is a directory, not a Parquet file"),
    "a byte flipped in a page": (_flip_in_first_page, "is a damaged Parquet file"),
    "without the status column": (lambda p: _rewrite(p, lambda d: d.drop(columns="status")), "'status'"),
    "run ids outside the sweep": (
        lambda p: _rewrite(p, lambda d: d.assign(run_id=d["run_id"] + 100)),
        "has run ids outside [0, 24): 108, 109, 110 and 1 more",
    ),
    "another chunk's rows": (
        lambda p: _rewrite(p, lambda d: d.assign(run_id=d["run_id"] - 4)),
        "is named for another chunk: its first run is 4",
    ),
    "an unknown status": (lambda p: _rewrite(p, lambda d: d.assign(status="oj")), "'oj'"),
    "no rows": (lambda p: _rewrite(p, lambda d: d.iloc[:0]), "holds no rows"),
}


@pytest.mark.parametrize("case", sorted(PART_DAMAGES))
def test_a_damaged_part_is_named_and_the_resumed_sweep_redoes_exactly_its_chunk(
    case, results, sweep, sweep_file, reference
):
    damage, fragment = PART_DAMAGES[case]
    damaged = part(results, 8)
    damage(damaged)
    with pytest.raises(DamagedPartError) as raised:
        load_results(results)
    message = str(raised.value)
    assert message.startswith(f"{damaged} ") and fragment in message
    assert f"`fedstake sweep {sweep_file} --out {results}` again to redo that chunk" in message
    assert f"`fedstake check {results}`" in message
    report = check_results(results)
    assert not report.ok and [p.path for p in report.damaged] == [damaged]
    assert fragment in report.damaged[0].problem and fragment in report.text()
    assert report.present == 20 and report.missing == 4

    untouched = {k: v for k, v in stats(results).items() if k.startswith("runs/") and "000000008" not in k}
    summary = sweep_into(sweep, results)
    assert summary.executed == CHUNK and summary.already_done == 20
    assert [(source, why) for source, _, why in summary.set_aside] == [(damaged, report.damaged[0].problem)]
    assert "set aside" in summary.text()
    assert (results / "damaged" / "runs" / damaged.name).exists()  # moved, not deleted
    after = stats(results)
    assert {k: after[k] for k in untouched} == untouched  # valid parts never rewritten
    assert table_hash(load_results(results)) == reference
    assert check_results(results).complete


def test_runs_being_a_file_is_named_and_set_aside_by_the_sweep(results, sweep, reference):
    shutil.rmtree(results / "runs")
    (results / "runs").write_text("not a folder")
    with pytest.raises(StoreError, match="runs is a file, not a folder of parts") as raised:
        load_results(results)
    assert raised.value.path == results / "runs"
    assert not check_results(results).ok
    summary = sweep_into(sweep, results)
    assert summary.executed == 24
    assert (results / "damaged" / "runs-file").read_text() == "not a folder"
    assert table_hash(load_results(results)) == reference


def test_a_run_in_two_parts_is_refused_and_the_sweep_keeps_the_first(results, sweep, reference):
    rows = pd.concat([pd.read_parquet(part(results, 0)), pd.read_parquet(part(results, 4))])
    overlap = part(results, 2)  # runs 2..5: 2 and 3 are in part 0, 4 and 5 in part 4
    pq.write_table(pa.Table.from_pandas(rows[rows["run_id"].between(2, 5)], preserve_index=False), overlap)
    with pytest.raises(DuplicateRunsError) as raised:
        load_results(results)
    assert f"run(s) 2, 3 are in both {part(results, 0)} and {overlap}" in str(raised.value)
    report = check_results(results)
    assert not report.ok and report.duplicated == 2 and report.present == 24
    assert [p.path for p in report.damaged] == [overlap]
    summary = sweep_into(sweep, results)
    assert summary.executed == 0 and [s for s, _, _ in summary.set_aside] == [overlap]
    assert table_hash(load_results(results)) == reference


def test_unfinished_writes_are_reported_and_removed_on_resume(results, sweep, reference):
    part(results, 20).unlink()
    (results / "runs" / ".part-000000020.parquet.abc.tmp").write_bytes(b"PAR1half")
    report = check_results(results)
    assert report.ok and not report.complete and report.missing == 4 and report.unfinished == 1
    assert "run the missing runs" in report.text() or "runs the missing runs" in report.text()
    sweep_into(sweep, results)
    assert not list((results / "runs").glob(".*.tmp"))
    assert table_hash(load_results(results)) == reference


# -- trajectories ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trajectory_sweep(tmp_path_factory):
    header = f'[sweep]\nbase = "{BASELINE}"\nreplications = 2\ntrajectories = true\ntrajectory_points = 3\n'
    return load_sweep(
        write_sweep(tmp_path_factory.mktemp("traj"), GRID.replace("steps = 4", "steps = 2"), header=header)
    )


def trajectory_hash(df: pd.DataFrame) -> str:
    """table_hash of trajectories, in a fixed row order (a run has many rows)."""
    return table_hash(df.sort_values(["run_id", "round"]).assign(run_id=np.arange(len(df))))


def test_damaged_trajectories_redo_their_chunk_and_leftovers_are_set_aside(trajectory_sweep, tmp_path):
    whole = tmp_path / "whole"
    sweep_into(trajectory_sweep, whole)
    expected = trajectory_hash(load_trajectories(whole)), table_hash(load_results(whole))
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    _text(part(out, 4, "trajectories"))
    part(out, 0).unlink()  # a sweep stopped between writing part 0's trajectories and its runs
    with pytest.raises(DamagedPartError, match=r"trajectories/part-000000004\.parquet is not a Parquet"):
        load_trajectories(out)
    report = check_results(out)
    assert not report.ok and [p.path for p in report.damaged] == [part(out, 4, "trajectories")]
    assert "1 without their runs part" in report.text()
    summary = sweep_into(trajectory_sweep, out)
    moved = {source for source, _, _ in summary.set_aside}
    assert moved == {part(out, 0, "trajectories"), part(out, 4, "trajectories"), part(out, 4)}
    assert (trajectory_hash(load_trajectories(out)), table_hash(load_results(out))) == expected


# -- one writer at a time ----------------------------------------------------------------------
def test_a_second_writer_is_refused_naming_the_first(results, sweep):
    lock = WriterLock(results)
    lock.acquire()
    try:
        holder = lock_holder(results)
        assert holder["pid"] == os.getpid() and holder["host"] and holder["started"]
        before = stats(results)
        with pytest.raises(DirectoryLockedError, match=f"another sweep \\(pid {os.getpid()} on ") as raised:
            sweep_into(sweep, results)
        assert raised.value.holder == holder
        assert stats(results) == before
        assert check_results(results).writer == holder
    finally:
        lock.release()
    assert lock_holder(results) is None
    sweep_into(sweep, results)  # released: the next sweep may write


def test_a_new_directory_is_locked_too_and_unlocked_after(sweep, tmp_path):
    out = tmp_path / "new"
    sweep_into(sweep, out)
    assert lock_holder(out) is None
    assert sorted(p.name for p in out.iterdir()) == [".lock", "manifest.json", "runs"]


def test_a_directory_that_is_not_results_is_refused_without_a_lock_file_left(sweep, tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(StoreError, match="not a fedstake results directory"):
        sweep_into(sweep, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


@pytest.fixture(scope="module")
def slow_sweep_file(tmp_path_factory) -> Path:
    """A sweep of 120 runs that takes seconds, long enough to be signalled or raced part-way."""
    path = write_sweep(tmp_path_factory.mktemp("slow"), GRID.replace("steps = 4", "steps = 20"))
    path.write_text(path.read_text().replace("rounds = 20", "rounds = 600"))
    return path


@pytest.fixture(scope="module")
def slow_reference(slow_sweep_file, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("slow-ref") / "out"
    execute_sweep(load_sweep(slow_sweep_file), out, workers=2, chunk_size=2, progress=False)
    return table_hash(load_results(out))


def start_sweep(sweep_file: Path, out: Path, *extra: str, ignore_sigint: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [*COMMAND, "sweep", str(sweep_file), "--out", str(out), "--chunk-size", "2", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A job started in the background by a non-interactive shell inherits SIGINT ignored.
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None,
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the sweep ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_sweeps_on_one_directory_the_second_is_refused(slow_sweep_file, slow_reference, tmp_path):
    out = tmp_path / "out"
    first = start_sweep(slow_sweep_file, out, "--workers", "2")
    wait_for(lambda: (lock_holder(out) or {}).get("pid") == first.pid, first)
    with pytest.raises(DirectoryLockedError, match=f"pid {first.pid} on .*, started "):
        execute_sweep(load_sweep(slow_sweep_file), out, workers=1, chunk_size=3, progress=False)
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    table = load_results(out)
    assert list(table["run_id"]) == list(range(120))  # every run once
    assert table_hash(table) == slow_reference
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 1


# -- stopping ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signum", "workers"), [(signal.SIGINT, "1"), (signal.SIGINT, "2"), (signal.SIGTERM, "2")]
)
def test_a_signal_stops_a_sweep_started_with_sigint_ignored(
    signum, workers, slow_sweep_file, slow_reference, tmp_path
):
    out = tmp_path / "out"
    proc = start_sweep(slow_sweep_file, out, "--workers", workers, ignore_sigint=True)
    wait_for(lambda: len(list((out / "runs").glob("part-*.parquet"))) >= 2, proc)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "sweep interrupted" in stderr and "Traceback" not in stderr
    assert f"to resume where it stopped, run `fedstake sweep {slow_sweep_file} --out {out}`" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    kept = stats(out / "runs")
    assert 0 < len(load_results(out)) < 120  # stopped part-way, finished chunks kept
    assert lock_holder(out) is None and not list((out / "runs").glob(".*.tmp"))

    resumed = subprocess.run(
        [*COMMAND, "sweep", str(slow_sweep_file), "--out", str(out), "--workers", "2", "--chunk-size", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    after = stats(out / "runs")
    assert {k: after[k] for k in kept} == kept
    assert table_hash(load_results(out)) == slow_reference


# -- writing files -----------------------------------------------------------------------------
def _no_temporaries(folder: Path) -> bool:
    return not list(folder.glob(".*.tmp"))


def test_writing_under_a_file_names_the_path_and_the_reason(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    target = blocker / "sub" / "summary.json"
    with pytest.raises(OutputError) as raised:
        write_json({"a": 1}, target)
    assert str(raised.value).startswith(f"cannot create the directory {blocker / 'sub'} for {target}: ")
    assert "Not a directory" in str(raised.value) and raised.value.path == target


def test_a_full_disk_names_the_path_and_leaves_no_temporary_file(tmp_path):
    def full(tmp):
        Path(tmp).write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / "rounds.parquet"
    with pytest.raises(OutputError, match=f"cannot write {target}: No space left on device"):
        atomic_write(target, full)
    assert not target.exists() and _no_temporaries(tmp_path)


def test_writing_over_a_directory_names_it(tmp_path):
    (tmp_path / "report.html").mkdir()
    with pytest.raises(OutputError, match=r"report\.html: Is a directory"):
        atomic_write(tmp_path / "report.html", lambda tmp: Path(tmp).write_text("x"))
    assert _no_temporaries(tmp_path)


def test_a_directory_without_write_permission_names_the_path(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("analysis.sweep.output.tempfile.mkstemp", refused)
    with pytest.raises(OutputError, match=f"cannot write {tmp_path / 'x.json'}: Permission denied"):
        write_json({}, tmp_path / "x.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_directory_refuses_a_sweep_by_name(sweep, tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="Permission denied"):
            sweep_into(sweep, tmp_path / "out")
        with pytest.raises(OutputError, match="Permission denied"):
            write_json({}, tmp_path / "x.json")
    finally:
        tmp_path.chmod(0o755)


def test_a_disk_filling_up_mid_sweep_stops_it_with_the_path_and_it_resumes(
    sweep, tmp_path, monkeypatch, reference
):
    import analysis.sweep.store as store_module

    real, calls = store_module.pq.write_table, []

    def fill_up(table, where, **kwargs):
        calls.append(where)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(table, where, **kwargs)

    out = tmp_path / "out"
    monkeypatch.setattr(store_module.pq, "write_table", fill_up)
    with pytest.raises(StoreError, match=r"part-000000008\.parquet: No space left on device"):
        sweep_into(sweep, out)
    monkeypatch.undo()
    assert lock_holder(out) is None and _no_temporaries(out / "runs")
    assert len(load_results(out)) == 8
    sweep_into(sweep, out)
    assert table_hash(load_results(out)) == reference


# -- fuzz: any damage ends in a StoreError naming the file, and the sweep repairs it ----------
DAMAGE_KINDS = ("truncate", "flip", "delete", "text", "directory")


def _damage(path: Path, kind: str, where: float, bit: int) -> None:
    data = path.read_bytes()
    offset = min(int(where * len(data)), len(data) - 1)
    if kind == "truncate":
        path.write_bytes(data[:offset])
    elif kind == "flip":
        path.write_bytes(data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1 :])
    elif kind == "delete":
        path.unlink()
    elif kind == "text":
        path.write_text("this is not what it was\n")
    else:
        path.unlink()
        path.mkdir()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(["manifest.json", *(f"runs/part-{i:09d}.parquet" for i in range(0, 24, CHUNK))]),
    kind=st.sampled_from(DAMAGE_KINDS),
    where=st.floats(0, 1, exclude_max=True),
    bit=st.integers(0, 7),
)
def test_any_damage_is_named_never_a_traceback_and_a_sweep_repairs_it(
    pristine, sweep, reference, tmp_path_factory, target, kind, where, bit
):
    out = tmp_path_factory.mktemp("fuzz") / "out"
    shutil.copytree(pristine, out)
    damaged = out / target
    _damage(damaged, kind, where, bit)
    valid = {k: v for k, v in stats(out).items() if k != target}

    try:
        table = load_results(out)
    except StoreError as exc:
        assert str(damaged) in str(exc) or (kind == "delete" and target == "manifest.json"), exc
        loaded = False
    else:
        loaded = True
        assert table["run_id"].is_unique
    report = check_results(out)  # never raises on an existing directory
    assert report.ok == loaded
    after = stats(out)
    assert {k: after[k] for k in valid} == valid  # reading changed nothing

    try:
        sweep_into(sweep, out)
    except StoreError as exc:
        assert target == "manifest.json", exc  # only a damaged manifest stops the sweep
        assert str(out) in str(exc)
        return
    assert table_hash(load_results(out)) == reference
    after = stats(out)
    assert {k: after[k] for k in valid if k.startswith("runs/")} == {
        k: v for k, v in valid.items() if k.startswith("runs/")
    }


# -- hostile files inside a results directory (issue 14 follow-up) ----------------------------
def finishes(call, seconds: float = 10.0, unblock: Path | None = None):
    """``call()``'s result, or fail if it has not returned within ``seconds`` (a reader blocked on
    the FIFO ``unblock`` is released by opening it for writing, so the test never hangs)."""
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if unblock is not None:
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(seconds)
        pytest.fail(f"{call} blocked for more than {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_lock_that_is_a_link_is_refused_and_what_it_points_to_is_untouched(results, sweep, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (results / ".lock").unlink()
    (results / ".lock").symlink_to(victim)
    report = check_results(results)
    assert not report.ok and "is a symbolic link, not a lock file" in report.text()
    with pytest.raises(StoreError, match=r"\.lock is a symbolic link, not a lock file") as raised:
        sweep_into(sweep, results)
    assert raised.value.errno is None  # the directory's content, not the machine: exit 2
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_lock_that_is_a_fifo_or_a_directory_is_reported_by_check_and_refused_by_a_sweep(
    kind, results, sweep
):
    lock = results / ".lock"
    lock.unlink(missing_ok=True)
    os.mkfifo(lock) if kind == "fifo" else lock.mkdir()
    assert finishes(lambda: lock_holder(results), unblock=lock if kind == "fifo" else None) is None
    report = finishes(lambda: check_results(results), unblock=lock if kind == "fifo" else None)
    assert not report.ok and report.lock_problem.startswith("is a ")
    assert f"remove {lock}" in report.text()
    with pytest.raises(StoreError, match=r"\.lock is a (FIFO|directory)"):
        finishes(lambda: sweep_into(sweep, results))


def test_a_part_that_is_a_fifo_is_damaged_not_a_hang(results, sweep, reference):
    fifo = part(results, 8)
    fifo.unlink()
    os.mkfifo(fifo)
    with pytest.raises(DamagedPartError, match=r"part-000000008\.parquet is a FIFO \(named pipe\)"):
        finishes(lambda: load_results(results), unblock=fifo)
    report = finishes(lambda: check_results(results), unblock=fifo)
    assert [p.path for p in report.damaged] == [fifo]
    summary = finishes(lambda: sweep_into(sweep, results), seconds=60, unblock=fifo)
    assert summary.executed == CHUNK
    assert table_hash(load_results(results)) == reference


def test_a_manifest_that_is_a_fifo_or_a_device_is_refused_without_reading_it(results, sweep):
    manifest = results / "manifest.json"
    manifest.unlink()
    manifest.symlink_to("/dev/zero")  # read in full, this would fill memory
    with pytest.raises(ManifestError, match="is a character device, not a manifest file"):
        load_results(results)
    manifest.unlink()
    os.mkfifo(manifest)
    with pytest.raises(ManifestError, match=r"is a FIFO \(named pipe\), not a manifest file"):
        finishes(lambda: load_results(results), unblock=manifest)
    assert "is a FIFO" in finishes(lambda: check_results(results), unblock=manifest).manifest_problem
    with pytest.raises(ManifestError):
        finishes(lambda: sweep_into(sweep, results), unblock=manifest)


def test_a_manifest_larger_than_the_limit_is_refused(results, monkeypatch):
    import analysis.sweep.store as store_module

    size = (results / "manifest.json").stat().st_size
    monkeypatch.setattr(store_module, "MANIFEST_MAX_BYTES", size - 1)
    with pytest.raises(ManifestError, match=f"holds more than {size - 1:,} bytes"):
        load_results(results)
    monkeypatch.setattr(store_module, "MANIFEST_MAX_BYTES", size)
    assert len(load_results(results)) == 24


# -- parts and manifests of another sweep ------------------------------------------------------
FOREIGN_PARTS = {
    "another sweep's seeds": (lambda d: d.assign(seed=d["seed"] + 1), "gives run 8 the seed"),
    "numbered with other replications": (
        lambda d: d.assign(point=d["run_id"] // 2, replication=d["run_id"] % 2),
        "numbers its runs otherwise: run 8 is point 4, replication 0, not point 2, replication 2",
    ),
}


@pytest.mark.parametrize("case", sorted(FOREIGN_PARTS))
def test_a_part_of_another_sweep_is_damaged_and_redone(case, results, sweep, reference):
    change, fragment = FOREIGN_PARTS[case]
    foreign = part(results, 8)
    _rewrite(foreign, change)
    with pytest.raises(ForeignPartError, match="is not a part of this sweep") as raised:
        load_results(results)
    assert fragment in str(raised.value) and raised.value.path == foreign
    report = check_results(results)
    assert [p.path for p in report.damaged] == [foreign] and fragment in report.text()
    summary = sweep_into(sweep, results)
    assert summary.executed == CHUNK and [s for s, _, _ in summary.set_aside] == [foreign]
    assert table_hash(load_results(results)) == reference


def test_a_manifest_of_another_sweep_is_refused_and_nothing_is_set_aside(results, sweep):
    _edit("seed", 12)(results / "manifest.json")  # valid, same content hash, another sweep's seeds
    before = stats(results)
    with pytest.raises(ManifestError, match="does not belong to these parts: none of the 6 runs part"):
        load_results(results)
    report = check_results(results)
    assert not report.ok and report.manifest_problem.startswith("does not belong to these parts")
    with pytest.raises(ManifestError, match="does not belong to these parts"):
        sweep_into(sweep, results)
    assert stats(results) == before and not (results / "damaged").exists()


PART_COLUMN_DAMAGES = {
    "a KPI column missing": (lambda d: d.drop(columns="pi_honest"), "lacks the column(s) 'pi_honest'", ""),
    "a parameter column missing": (
        lambda d: d.drop(columns="rewards.rule"),
        "lacks the column(s) 'rewards.rule'",
        "",
    ),
    "a KPI column of text": (
        lambda d: d.assign(final_quality=d["final_quality"].astype(str)),
        "has a column 'final_quality' of ",
        "; allowed: numbers",
    ),
    "a real parameter of text": (
        lambda d: d.assign(**{"slashing.slash_fraction": "half"}),
        "has a column 'slashing.slash_fraction' of ",
        "; allowed: numbers",
    ),
    "seeds as reals": (
        lambda d: d.assign(seed=d["seed"].astype(float)),
        "has a column 'seed' of float64",
        "; allowed: whole numbers",
    ),
}


@pytest.mark.parametrize("case", sorted(PART_COLUMN_DAMAGES))
def test_a_part_without_this_sweeps_columns_is_damaged(case, results):
    change, begins, ends = PART_COLUMN_DAMAGES[case]
    _rewrite(part(results, 8), change)
    with pytest.raises(DamagedPartError) as raised:
        load_results(results)
    assert raised.value.reason.startswith(begins) and raised.value.reason.endswith(ends)
    assert [p.problem for p in check_results(results).damaged] == [raised.value.reason]


@given(
    parameter_point=st.integers(0, 10**6),
    designs=st.integers(1, 100),
    design=st.integers(0, 99),
    mixes=st.integers(1, 100),
    mix=st.integers(0, 99),
)
def test_the_seed_point_leaves_the_design_out(parameter_point, designs, design, mixes, mix):
    design, mix = design % designs, mix % mixes
    contract = PartContract(1, 1, 0, designs, mixes, (), (), False)
    point = (parameter_point * designs + design) * mixes + mix
    assert contract.seed_point(point) == parameter_point * mixes + mix


# -- a first write that fails; a lock that cannot be written -----------------------------------
def test_a_sweep_whose_first_manifest_write_failed_can_be_run_again(sweep, tmp_path, monkeypatch, reference):
    import analysis.sweep.store as store_module

    def full(data, path):
        raise OutputError(path, os.strerror(errno.ENOSPC), errno=errno.ENOSPC)

    out = tmp_path / "out"
    monkeypatch.setattr(store_module, "write_json", full)
    with pytest.raises(StoreError, match="No space left on device") as raised:
        sweep_into(sweep, out)
    assert raised.value.errno == errno.ENOSPC  # the machine's failure: exit 1
    monkeypatch.undo()
    sweep_into(sweep, out)
    assert table_hash(load_results(out)) == reference


def test_what_a_kill_before_the_first_manifest_leaves_counts_as_new(sweep, tmp_path, reference):
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)  # an older fedstake made runs/ before the manifest
    (out / ".lock").write_text("")
    (out / ".manifest.json.k1ll3d.tmp").write_text('{"half": ')
    assert check_results(out).unfinished == 1
    sweep_into(sweep, out)
    assert sorted(p.name for p in out.iterdir()) == [".lock", "manifest.json", "runs"]
    assert table_hash(load_results(out)) == reference


def test_a_temporary_manifest_left_by_a_kill_is_removed_on_resume(results, sweep):
    (results / ".manifest.json.k1ll3d.tmp").write_text('{"half": ')
    report = check_results(results)
    assert report.ok and report.unfinished == 1
    sweep_into(sweep, results)
    assert not list(results.glob(".manifest.json.*.tmp"))


def test_a_lock_that_cannot_be_written_is_not_left_held(results, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(StoreError, match=r"cannot write the lock file .*\.lock: No space") as raised:
        WriterLock(results).acquire()
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC and raised.value.path == results / ".lock"
    assert lock_holder(results) is None


def test_a_read_only_directory_refuses_the_lock_as_the_machines_failure(results, sweep, monkeypatch):
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".lock") and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(StoreError, match="Read-only file system; a sweep writes its --out") as raised:
        sweep_into(sweep, results)
    assert raised.value.errno == errno.EROFS


def test_a_disk_filling_up_carries_its_errno(sweep, tmp_path, monkeypatch):
    import analysis.sweep.store as store_module

    def full(table, where, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module.pq, "write_table", full)
    with pytest.raises(StoreError) as raised:
        sweep_into(sweep, tmp_path / "out")
    assert raised.value.errno == errno.ENOSPC


# -- reading that fails is not damage ----------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [MemoryError(), OSError(errno.EIO, os.strerror(errno.EIO)), OSError(errno.ESTALE, "Stale file handle")],
    ids=["memory", "EIO", "ESTALE"],
)
def test_a_part_that_cannot_be_read_now_is_refused_never_set_aside(failure, results, sweep, monkeypatch):
    import analysis.sweep.store as store_module

    real, calls = store_module.pq.ParquetFile, []

    class Failing(real):
        def __init__(self, source, *args, **kwargs):
            calls.append(source)
            if len(calls) == 3:
                raise failure
            super().__init__(source, *args, **kwargs)

    monkeypatch.setattr(store_module.pq, "ParquetFile", Failing)
    expected = MemoryError if isinstance(failure, MemoryError) else StoreError
    before = stats(results)
    for read in (load_results, lambda r: sweep_into(sweep, r)):
        calls.clear()
        with pytest.raises(expected) as raised:
            read(results)
        if expected is StoreError:
            assert not isinstance(raised.value, DamagedPartError)
            assert raised.value.errno == failure.errno and raised.value.path == part(results, 8)
            assert "cannot be read" in str(raised.value)
    calls.clear()
    if expected is MemoryError:
        with pytest.raises(MemoryError):
            check_results(results)
    else:
        report = check_results(results)
        assert not report.ok and not report.damaged
        assert report.unreadable.startswith(f"{part(results, 8)} cannot be read: {failure.strerror}")
    assert stats(results) == before and not (results / "damaged").exists()


def test_a_runs_link_to_nothing_is_refused_not_set_aside(results, sweep, tmp_path):
    shutil.rmtree(results / "runs")
    (results / "runs").symlink_to(tmp_path / "unmounted" / "runs")
    with pytest.raises(StoreError, match=r"is a symbolic link to .*, which does not exist"):
        load_results(results)
    report = check_results(results)
    assert not report.ok and "which does not exist" in report.text()
    with pytest.raises(StoreError, match="which does not exist"):
        sweep_into(sweep, results)
    assert (results / "runs").is_symlink() and not (results / "damaged").exists()


# -- trajectories a sweep keeps must be there --------------------------------------------------
def test_a_missing_trajectories_part_is_damage_and_both_are_redone(trajectory_sweep, tmp_path):
    whole = tmp_path / "whole"
    sweep_into(trajectory_sweep, whole)
    expected = trajectory_hash(load_trajectories(whole)), table_hash(load_results(whole))
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    part(out, 4, "trajectories").unlink()
    report = check_results(out)
    assert [p.path for p in report.damaged] == [part(out, 4)]
    assert "has 4 ok run(s) but no trajectories part" in report.text()
    summary = sweep_into(trajectory_sweep, out)
    assert summary.executed == CHUNK and [s for s, _, _ in summary.set_aside] == [part(out, 4)]
    assert (trajectory_hash(load_trajectories(out)), table_hash(load_results(out))) == expected


def test_trajectories_lacking_an_ok_run_are_damage_and_both_are_redone(trajectory_sweep, tmp_path):
    whole = tmp_path / "whole"
    sweep_into(trajectory_sweep, whole)
    expected = trajectory_hash(load_trajectories(whole)), table_hash(load_results(whole))
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    _rewrite(part(out, 4, "trajectories"), lambda d: d[d["run_id"] != 6])
    report = check_results(out)
    assert [p.problem for p in report.damaged] == ["lacks the trajectories of ok run(s) 6 of its runs part"]
    summary = sweep_into(trajectory_sweep, out)
    assert {s for s, _, _ in summary.set_aside} == {part(out, 4), part(out, 4, "trajectories")}
    assert (trajectory_hash(load_trajectories(out)), table_hash(load_results(out))) == expected


# -- small things ------------------------------------------------------------------------------
def test_checks_report_of_a_damaged_manifest_does_not_advise_running_check(results):
    (results / "manifest.json").write_text('{"content_hash": ')
    text = check_results(results).text()
    assert "is not valid JSON (line 1" in text and "fedstake check" not in text
