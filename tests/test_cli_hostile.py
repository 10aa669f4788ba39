"""The command line against damaged results and hostile input: a message and exit status 1 or 2
naming the file, never a traceback, and no valid file changed.

A seeded corpus of damages — the ways disks, editors and interrupted copies break a results
directory, and the ways a hand-written sweep file goes wrong — is applied to copies of one small
finished sweep, and every reading command (`analyze`, `report`, `check`) and a resumed `sweep` is
run on each, in this process (the console script's own `main`), so the whole corpus runs in
seconds.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.sweep.engine import execute_sweep, load_results
from analysis.sweep.sweepfile import load_sweep

from .sweeps import table_hash, write_sweep

BODY = """
[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.5
steps = 3

[mixes."$100 stake"]

[mixes.lazy]
"population.lazy_trainers" = 6
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small finished sweep (with trajectories and a mix named with a dollar sign)."""
    tmp = tmp_path_factory.mktemp("finished")
    header = (
        f'[sweep]\nbase = "{Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"}"\n'
        'design = "grid"\nreplications = 3\nseed = 11\ntrajectories = true\ntrajectory_points = 5\n'
    )
    sweep_file = write_sweep(tmp, BODY, header=header)
    execute_sweep(load_sweep(sweep_file), tmp / "results", workers=1, chunk_size=4, progress=False)
    return sweep_file, tmp / "results"


def digest(directory: Path) -> dict[str, str]:
    """SHA-256 of every file below ``directory`` (what must not change)."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _part(directory: Path, kind: str = "runs") -> Path:
    return sorted((directory / kind).glob("part-*.parquet"))[1]


def _manifest_edit(edit):
    def damage(directory: Path) -> Path:
        path = directory / "manifest.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return damage


def _write(relative: str, content: bytes | None):
    def damage(directory: Path) -> Path:
        path = directory / relative
        if content is None:
            path.unlink()
            path.mkdir()
        else:
            path.write_bytes(content)
        return path

    return damage


def _truncate_part(kind: str, keep: float):
    def damage(directory: Path) -> Path:
        path = _part(directory, kind)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return damage


def _flip_part(seed: int):
    def damage(directory: Path) -> Path:
        path = _part(directory)
        data = bytearray(path.read_bytes())
        rng = random.Random(seed)
        for _ in range(8):
            data[rng.randrange(4, len(data) - 8)] ^= 0xFF
        path.write_bytes(bytes(data))
        return path

    return damage


def _runs_a_file(directory: Path) -> Path:
    shutil.rmtree(directory / "runs")
    (directory / "runs").write_text("not a folder")
    return directory / "runs"


#: name → damage(directory) returning the damaged path (which the message must name).
DAMAGES = {
    "manifest empty": _write("manifest.json", b""),
    "manifest not JSON": _write("manifest.json", b"{not json"),
    "manifest not UTF-8": _write("manifest.json", b"\xff\xfe\x00garbage"),
    "manifest a list": _write("manifest.json", b"[1, 2, 3]"),
    "manifest a directory": _write("manifest.json", None),
    "manifest with a BOM": lambda d: (
        d.joinpath("manifest.json").write_bytes(b"\xef\xbb\xbf" + d.joinpath("manifest.json").read_bytes())
        and d / "manifest.json"
    ),
    "mix_overrides a string": _manifest_edit(lambda m: m.update(mix_overrides="oops")),
    "sessions a number": _manifest_edit(lambda m: m.update(sessions=7)),
    "total_runs wrong": _manifest_edit(lambda m: m.update(total_runs=-1)),
    "runs part truncated": _truncate_part("runs", 0.5),
    "runs part empty": _truncate_part("runs", 0.0),
    "runs part text": lambda d: _part(d).write_text("hello") and _part(d),
    "runs part bytes flipped": _flip_part(3),
    "trajectories part truncated": _truncate_part("trajectories", 0.3),
    "runs a file": _runs_a_file,
}


@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_results_directory_gets_a_message_never_a_traceback(name, finished, tmp_path, capsys):
    _, original = finished
    directory = tmp_path / "results"
    shutil.copytree(original, directory)
    damaged = DAMAGES[name](directory)
    before = digest(directory)
    for command in (
        ["analyze", str(directory)],
        ["report", str(directory), "-o", str(tmp_path / "r.html")],
        ["check", str(directory)],
    ):
        status = main(command)
        captured = capsys.readouterr()
        if status == 0:  # a reader may succeed only if nothing it needs was damaged
            assert command[0] != "check", f"check passed a directory with {name}"
            continue
        assert status in (1, 2), (command, status)
        assert "Traceback" not in captured.err + captured.out
        assert damaged.name in captured.err + captured.out, (command, captured.err)
        assert not (tmp_path / "r.html").exists(), "a refused report wrote a file"
    assert digest(directory) == before, "reading changed a file"


@pytest.mark.parametrize(
    "name", ["runs part truncated", "runs part bytes flipped", "trajectories part truncated"]
)
def test_a_resumed_sweep_redoes_exactly_the_damaged_chunks(name, finished, tmp_path, capsys):
    sweep_file, original = finished
    directory = tmp_path / "results"
    shutil.copytree(original, directory)
    damaged = DAMAGES[name](directory)
    # a chunk's runs and trajectories parts are written together: both are redone, nothing else
    kept = {
        k: v
        for k, v in digest(directory).items()
        if k.startswith("runs/") and v == digest(original).get(k) and not k.endswith(damaged.name)
    }
    assert main(["sweep", str(sweep_file), "--out", str(directory), "--workers", "1"]) == 0
    assert main(["check", str(directory)]) == 0
    capsys.readouterr()
    assert table_hash(load_results(directory)) == table_hash(load_results(original))
    after = digest(directory)
    assert {k for k, v in kept.items() if after.get(k) != v} == set(), "a valid part was rewritten"


def test_an_older_manifest_without_the_mix_list_is_read_from_the_runs(finished, tmp_path, capsys):
    _, original = finished
    directory = tmp_path / "results"
    shutil.copytree(original, directory)
    _manifest_edit(lambda m: m.pop("mixes"))(directory)
    for command in (["analyze", str(directory)], ["check", str(directory)]):
        assert main(command) == 0, capsys.readouterr().err
    assert main(["report", str(directory), "-o", str(tmp_path / "r.html")]) == 0
    assert "$100 stake" in (tmp_path / "r.html").read_text(encoding="utf-8")


SWEEP_DAMAGES = {
    "nested thousands deep": "x = " + "[" * 5000 + "]" * 5000 + "\n",
    "not TOML": "[sweep\nbase = \n",
    "not UTF-8": "\udcff",
    "a NUL byte in the base path": '[sweep]\nbase = "a\\u0000b.toml"\n',
    "trajectory points absurd": (
        '[sweep]\nbase = "../scenarios/baseline.toml"\ntrajectories = true\n'
        "trajectory_points = 1000000000\n"
        '[[parameters]]\npath = "slashing.slash_fraction"\nvalues = [0.1]\n'
    ),
    "base is /dev/zero": '[sweep]\nbase = "/dev/zero"\n[[parameters]]\npath = "rounds"\nvalues = [5]\n',
}


@pytest.mark.parametrize("name", list(SWEEP_DAMAGES))
def test_a_hostile_sweep_file_is_refused_with_exit_2_and_nothing_written(name, tmp_path, capsys):
    path = tmp_path / "sweep.toml"
    text = SWEEP_DAMAGES[name]
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "sweep.toml" in captured.err
    assert not (tmp_path / "out").exists()


def test_an_output_path_under_a_file_is_bad_input(finished, tmp_path, capsys):
    _, results = finished
    (tmp_path / "a-file").write_text("x")
    assert main(["report", str(results), "-o", str(tmp_path / "a-file" / "r.html")]) == 2
    captured = capsys.readouterr()
    assert "a-file" in captured.err and "Traceback" not in captured.err


def test_a_reader_that_goes_away_ends_the_command_quietly(finished):
    # `fedstake analyze RESULTS | head -1`: the pipe closes while the findings are printed.
    import subprocess
    import sys

    _, results = finished
    fedstake = Path(sys.executable).with_name("fedstake")
    command = [str(fedstake)] if fedstake.exists() else [sys.executable, "-m", "analysis.cli"]
    shell = f"{' '.join(command)} analyze {results} | head -c 1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=120
    )
    assert done.stderr == "", done.stderr
