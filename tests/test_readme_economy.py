"""The README's token-economy figures are the code's output (``analysis.report.readme_economy``), and
the numbers its prose quotes are the runs' own."""

from __future__ import annotations

import math

from analysis.report.readme_economy import END, SPIRAL, START, economy_figures_markdown
from model import load_scenario, run_scenario

from .conftest import ROOT


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_carries_the_generated_economy_figures():
    text = readme()
    assert START in text and END in text, "README lacks the economy-figures markers"
    current = text[text.index(START) : text.index(END) + len(END)]
    assert current == economy_figures_markdown(), (
        "README's economy figures are out of date; regenerate them with "
        "`python -m analysis.report.readme_economy --write README.md`"
    )


def test_the_prose_quotes_the_death_spiral_as_it_runs():
    k = run_scenario(load_scenario(SPIRAL)).kpis
    text = " ".join(readme().split())
    assert math.isfinite(k["coverage_ratio"])
    assert f"the death spiral's pays {100 * k['coverage_ratio']:.1f} % of claims" in text
    assert k["honest_trainer_share_final"] == 0.0  # every honest owner left
    assert k["final_price_fiat"] < 0.5 * load_scenario(SPIRAL).token.price_fiat


def test_the_prose_quotes_the_gallery_sweep_as_its_report_does():
    block = readme()[readme().index(START) :]
    compared = next(line for line in block.splitlines() if line.startswith("- Designs compared"))
    fixed = compared.split("under fixed price at ")[1].split(" points")[0]
    market = compared.split("under market at ")[1].split(" points")[0]
    assert f"{fixed} points against {market}" in " ".join(readme().split())
