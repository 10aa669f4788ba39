"""The README's scenario reference is the schema's, word for word."""

from __future__ import annotations

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
