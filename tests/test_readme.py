"""The README says what the code does: the scenario reference is the schema's and the study's
findings are the code's output, word for word; and it names nothing a clone lacks."""

from __future__ import annotations

import re

import pytest

from analysis.report.readme import END as STUDY_END
from analysis.report.readme import START as STUDY_START
from analysis.report.readme import study_findings_markdown
from analysis.sweep.engine import execute_sweep
from analysis.sweep.sweepfile import load_sweep
from model.reference import END, START, scenario_reference_markdown

from .conftest import ROOT


def test_readme_scenario_reference_matches_the_schema():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme, "README lacks the scenario reference markers"
    current = readme[readme.index(START) : readme.index(END) + len(END)]
    assert current == scenario_reference_markdown(), (
        "README scenario reference is out of date; regenerate it with `python -m model.reference`"
    )


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make report" in readme and "make test" in readme


@pytest.fixture(scope="module")
def study_results(tmp_path_factory):
    """The default study, run as `make report` runs it (2,500 runs: about half a minute)."""
    out = tmp_path_factory.mktemp("study") / "results"
    execute_sweep(load_sweep(ROOT / "scenarios" / "study.toml"), out, workers=2, progress=False)
    return out


def test_readme_study_findings_are_the_code_output(study_results):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert STUDY_START in readme and STUDY_END in readme, "README lacks the study-findings markers"
    current = readme[readme.index(STUDY_START) : readme.index(STUDY_END) + len(STUDY_END)]
    assert current == study_findings_markdown(study_results), (
        "README's study findings are out of date; regenerate them with "
        "`python -m analysis.report.readme results/study --write README.md` after `make report`"
    )


def test_readme_stands_alone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "DESIGN.md" not in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith(("http://", "https://")):
            assert (ROOT / link).exists(), f"README links to {link}, which a clone does not have"
