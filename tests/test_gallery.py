"""The gallery under scenarios/examples/: every example sweep runs, analyzes and reports as a new
user would run it — through the ``fedstake`` command (analyze and report through its entry point
in this process, which saves two interpreters' imports per example) — and its report renders in
Chromium with no console error and no undefined number shown as a number."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .browser import render
from .conftest import ROOT

EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.toml"))
ARTIFACTS = ROOT / "reports" / "test-artifacts"
FEDSTAKE = Path(sys.executable).with_name("fedstake")
#: A NaN or infinity printed as if it were a number ("nan", "inf", "-inf", "NaN %").
#: What each example's report must show beyond the common sections: the answer for its shape.
SHAPE_HEADINGS = {
    "one-axis": "Thresholds along slash fraction",
    "two-axes": "Phase diagram",
    "three-axes": "Phase diagram (slices)",
    "reward-rules": "Verdicts by category",
    "latin-hypercube": "fitted surface",
    "designs-compared": "Designs compared",
    "integer-levels": "Phase diagram",
    "zero-min-stake": "Phase diagram",
    "outside-option-per-mix": "Phase diagram",
    "adaptation-imitation": "Does the network become honest?",
    "adaptation-verifiers-dilemma": "Does the network become honest?",
    "yuma-validators": "Does copying pay? Copiers' dividends against the reveal delay",
    "abstract-vs-mechanistic": "How far the designs' verdicts differ",
    "token-economy": "Sustainability",
}
UNDEFINED_NUMBER = re.compile(r"(?<![\w.])[-+−]?(nan|inf|infinity)(?![\w])", re.IGNORECASE)


def fedstake(*args: str) -> subprocess.CompletedProcess:
    command = [str(FEDSTAKE)] if FEDSTAKE.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def fedstake_here(*args: str) -> subprocess.CompletedProcess:
    """The command's own entry point (``analysis.cli.main``) in this process, its output captured: the
    same code as the console script without a new interpreter importing the analysis (2 s each)."""
    from analysis.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return subprocess.CompletedProcess(["fedstake", *args], status, out.getvalue(), err.getvalue())


def test_the_gallery_covers_every_shape_the_issue_names():
    names = {p.stem for p in EXAMPLES}
    assert {
        "one-axis",
        "two-axes",
        "three-axes",
        "reward-rules",
        "latin-hypercube",
        "designs-compared",
        "integer-levels",
        "zero-min-stake",
        "outside-option-per-mix",
    } <= names
    assert set(SHAPE_HEADINGS) == names, "every example says what its report must show"


@pytest.fixture(scope="module", params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request, tmp_path_factory):
    """An example sweep run by the ``fedstake`` command, then analysed and reported by its entry point."""
    sweep_file = request.param
    tmp = tmp_path_factory.mktemp(sweep_file.stem)
    out, page = tmp / "results", tmp / "report.html"
    runs = fedstake("sweep", str(sweep_file), "--out", str(out), "--workers", "2")
    analysis = fedstake_here("analyze", str(out))
    report = fedstake_here("report", str(out), "-o", str(page))
    return sweep_file.stem, runs, analysis, report, page


def test_example_runs_analyzes_and_reports(example):
    name, runs, analysis, report, page = example
    for step in (runs, analysis, report):
        assert step.returncode == 0, f"{name}: {step.args}\n{step.stderr}"
        assert "Traceback" not in step.stderr + step.stdout, name
    assert "failed runs: 0" in runs.stdout, runs.stdout
    assert not UNDEFINED_NUMBER.search(analysis.stdout), f"{name}: {UNDEFINED_NUMBER.search(analysis.stdout)}"
    assert page.exists()
    if name == "abstract-vs-mechanistic":  # the README quotes how far the two modes' verdicts differ
        readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
        for start in ("- The verdicts under", "- Designs compared"):
            (line,) = [x[2:] for x in analysis.stdout.splitlines() if x.startswith(start)]
            assert f'"{line}"' in readme


def test_example_report_renders_without_errors_or_undefined_numbers(example):
    name, *_, page = example
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rendered = render(page, ARTIFACTS / f"gallery-{name}.png")
    assert rendered.console_errors == [], name
    match = UNDEFINED_NUMBER.search(rendered.text)
    assert match is None, f"{name}: {rendered.text[max(match.start() - 80, 0) : match.end() + 80]!r}"
    for heading in ("Summary", SHAPE_HEADINGS[name], "The base scenario", "How this was computed"):
        assert heading in rendered.text, (name, heading)
