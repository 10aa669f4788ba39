"""The README says what the code does: the scenario reference is the schema's and the study's
findings are the code's output, word for word; and it names nothing a clone lacks."""

from __future__ import annotations

import re

from analysis.report.readme import END as STUDY_END
from analysis.report.readme import START as STUDY_START
from analysis.report.readme import STUDY_SWEEPS as README_STUDY
from analysis.report.readme import study_findings_markdown
from model.reference import END, START, scenario_reference_markdown

from .conftest import ROOT, STUDY_SWEEPS


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


def test_readme_study_findings_are_the_code_output(study_sweeps):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert STUDY_START in readme and STUDY_END in readme, "README lacks the study-findings markers"
    current = readme[readme.index(STUDY_START) : readme.index(STUDY_END) + len(STUDY_END)]
    assert current == study_findings_markdown(*(study_sweeps(name) for name in STUDY_SWEEPS)), (
        "README's study findings are out of date; regenerate them with "
        f"`python -m analysis.report.readme {' '.join(README_STUDY)} --write README.md` after `make report`"
    )


def test_readme_study_is_the_one_make_report_runs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"STUDY_SWEEPS := {' '.join(STUDY_SWEEPS)}" in makefile
    assert tuple(f"results/{name}" for name in STUDY_SWEEPS) == README_STUDY


def test_readme_stands_alone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "DESIGN.md" not in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith(("http://", "https://")):
            assert (ROOT / link).exists(), f"README links to {link}, which a clone does not have"
