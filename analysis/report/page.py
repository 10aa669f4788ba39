"""The self-contained HTML report of a sweep: one file, figures inline, data downloadable, no script.

The page answers in the order a tokenomics designer asks: what the sweep found (plain words), which
design wins where (when the sweep compares designs), where honesty dominates for the sweep's shape
(thresholds of a 1-D sweep, boundary curves of a 2-D one, slices of more), what each strategy earns
near those boundaries (in % of capital and in fiat), how a run unfolds round by round, the region
and what matters most, what was left out, the scenario every run started from, and how it was
computed.

A report of several sweeps (or of one whose runs cover both regimes) opens with "Token or
tokenless?" — the regimes side by side (``analysis.regimes``), the thesis sentence first — and then
gives each sweep's own report as a chapter of the page (:func:`build_combined_report`).
"""

from __future__ import annotations

import html
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import adaptation, boundaries, dominance, regimes, sustainability, theory, validators
from analysis.axes import SLASH
from analysis.findings import STRATEGY_LABELS, Findings, analyze, short
from analysis.report import figures, views
from analysis.report.elements import (
    bullet_list,
    csv_link,
    esc,
    estimate_text,
    image,
    interval_text,
    nav,
    paragraph,
    section,
    table_html,
)
from analysis.report.scenario_table import scenario_table
from analysis.sweep.output import atomic_write
from analysis.sweep.store import ResultStore

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1150px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-bottom: 0.2em; }
.subtitle { color: #555; margin-top: 0; }
.summary li { margin: 0.4em 0; }
table { border-collapse: collapse; font-size: 0.86em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f5f5f5; } td.text { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; }
a.csv { font-size: 0.85em; margin-left: 0.4em; }
nav a { margin-right: 0.8em; font-size: 0.9em; }
"""

#: At most this many payoff figures (designs × mixes); the rest are in the CSV of the first.
MAX_PAYOFF_FIGURES = 4


def build_report(f: Findings) -> str:
    """The report's HTML text."""
    name = f.manifest.get("sweep_name") or f.directory.name
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fedstake report: {esc(name)}</title><style>{CSS}</style></head><body>"
        f"<h1>Where honesty dominates: {esc(name)}</h1>"
        f'<p class="subtitle">{esc(f.manifest.get("notes") or "")}</p>'
        + "".join(report_sections(f))
        + "</body></html>"
    )


def report_sections(f: Findings) -> list[str]:
    """The sections of one sweep's report, in the order a designer asks (empty ones left out); each
    a string that starts with its ``<section id="...">``."""
    sections = [
        section("summary", "Summary", bullet_list(f.summary, "summary")),
        designs_section(f),
        answer_section(f),
        adaptation_section(f),
        payoffs_section(f),
        validators_section(f),
        rounds_section(f),
        sustainability_section(f),
        region_section(f),
        sensitivity_section(f),
        left_out_section(f),
        scenario_section(f),
        section("metadata", "How this was computed", metadata_html(f) + methods_html(f)),
    ]
    return [s for s in sections if s]


# -- several sweeps: token or tokenless? ----------------------------------------------------------
#: What the combined report adds to the styles: each sweep a chapter under its own heading.
COMBINED_CSS = """
nav { margin: 0.8em 0 1.2em; } nav.sweep { margin-top: 0; }
article { margin-top: 3em; }
article > h1 { font-size: 1.45em; border-top: 3px solid #444; padding-top: 0.5em; }
"""
#: The anchor of the comparison section.
REGIMES_ANCHOR = "regimes"


def build_combined_report(
    findings: list[Findings], comparison: regimes.RegimeComparison | None = None
) -> str:
    """The HTML text of a report on several sweeps (or one whose runs cover both regimes).

    It opens with "Token or tokenless?" (``regimes.compare_regimes``: the thesis sentence first),
    then gives each sweep's own report under its own heading, as an article whose section ids are
    prefixed ``sweep-<n>-`` so every id on the page is unique; a navigation bar links them all.
    """
    comparison = comparison or regimes.compare_regimes(findings)
    names = [view.name for view in comparison.sweeps]
    anchors = [f"sweep-{i}" for i in range(1, len(findings) + 1)]
    links = [(REGIMES_ANCHOR, "Token or tokenless?"), *zip(anchors, names, strict=True)]
    articles = [
        sweep_article(f, view, anchor, i, len(findings))
        for i, (f, view, anchor) in enumerate(zip(findings, comparison.sweeps, anchors, strict=True), start=1)
    ]
    title = "Token or tokenless? " + ", ".join(names)
    subtitle = f"{len(findings)} sweep{'s' if len(findings) != 1 else ''}: " + "; ".join(
        f"{name} ({', '.join(view.regimes)}; {f.directory})"
        for name, view, f in zip(names, comparison.sweeps, findings, strict=True)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fedstake report: {esc(title)}</title><style>{CSS}{COMBINED_CSS}</style></head><body>"
        f"<h1>Where honesty dominates: token or tokenless?</h1>"
        f'<p class="subtitle">{esc(subtitle)}</p>'
        + nav(links)
        + regimes_section(comparison, findings)
        + "".join(articles)
        + "</body></html>"
    )


#: The start of every section the report builds (``elements.section``): its id, then its title.
SECTION_START = re.compile(r'^<section id="([^"]*)"><h2>(.*?)</h2>')


def sweep_article(f: Findings, view: regimes.SweepView, anchor: str, number: int, total: int) -> str:
    """One sweep's report as an article of a combined page: its own heading, a navigation bar of its
    sections and its sections, their ids prefixed with ``anchor`` so they are unique on the page."""
    sections, links = [], []
    for text in report_sections(f):
        found = SECTION_START.match(text)
        if found is None:
            raise ValueError(f"a report section does not start with its id: {text[:80]!r}")
        sections.append(text.replace('<section id="', f'<section id="{anchor}-', 1))
        links.append((f"{anchor}-{html.unescape(found.group(1))}", html.unescape(found.group(2))))
    notes = f.manifest.get("notes") or ""
    where = f"Sweep {number} of {total}: {f.directory}, the {' and '.join(view.regimes)} regime"
    where += "s" if len(view.regimes) > 1 else ""
    return (
        f'<article id="{esc(anchor)}"><h1>{esc(view.name)}</h1>'
        f'<p class="subtitle">{esc(where + (". " + notes if notes else "."))}</p>'
        + nav(links, "sweep")
        + "".join(sections)
        + "</article>"
    )


def regimes_section(c: regimes.RegimeComparison, findings: list[Findings]) -> str:
    """Token or tokenless? The comparison's summary (the thesis first), then side by side: where
    honesty dominates, fiat profit per owner by strategy, the honest share after the last round when
    owners adapt, model quality and what each regime costs the network."""
    body = bullet_list(c.summary, "summary")
    body += paragraph(
        "Each sweep below is analysed on its own and judged on its regime's payoff: profit per round per "
        "unit of capital with a token, fiat profit per owner per round without (a tokenless owner commits "
        "no capital). Fiat profit per owner per round is the payoff both regimes have, and what is compared "
        "across them, with one difference: with a token an owner counts the rounds its capital is committed "
        "(once it is returned, it earns the outside option on it), without one every round from its first "
        "admission, ejected or barred rounds included at no income. Runs of a side-by-side sweep share "
        "populations, detection and costs; when the regimes are designs (as in the default study) they also "
        "share their random numbers, so the regimes differ only in their institutions — as levels of a "
        "regime.kind parameter each regime draws its own.",
        "note",
    )
    body += _regime_verdicts_html(c, findings)
    body += _regime_profits_html(c)
    body += _regime_shares_html(c)
    body += _regime_outcomes_html(c)
    return section(REGIMES_ANCHOR, "Token or tokenless?", body)


def _statistic_text(row: dict, scale: float = 1.0, digits: int = 3) -> str:
    """A statistic of ``regimes``' tables as a cell: mean (interval), or why there is no number —
    absent by design in the row's regime, no owner of the strategy, or no value."""
    status = row["status"]
    if status == regimes.VALUE:
        return interval_text(row["mean"], row["low"], row["high"], digits, scale)
    return {regimes.ABSENT: regimes.ABSENT, regimes.NO_OWNERS: regimes.NO_OWNERS}.get(status, "–")


def _group_labels(table: pd.DataFrame) -> list[str]:
    """The columns that tell a comparison table's rows apart: the design, and the sweep and the point
    where they vary."""
    return [
        c for c in ("sweep", "design", "point") if c in table and (c == "design" or table[c].nunique() > 1)
    ]


def _wide(table: pd.DataFrame, column: str, names: dict[str, str], scale: float = 1.0) -> pd.DataFrame:
    """A long statistics table as one row per group (regime, mix, …) and one column per ``column``
    value named by ``names``, each cell a :func:`_statistic_text`."""
    keys = [*_group_labels(table), "regime", "mix"]
    rows = []
    for key, group in table.groupby(keys, sort=False, dropna=False):
        row = dict(zip(keys, key, strict=True))
        by = {r[column]: r for r in group.to_dict("records")}
        row |= {label: _statistic_text(by[name], scale) for name, label in names.items() if name in by}
        rows.append(row)
    return pd.DataFrame(rows)


def _at_answers(c: regimes.RegimeComparison, table: pd.DataFrame, adaptive: bool = False) -> pd.DataFrame:
    """The rows of ``table`` at the point each regime's thesis numbers are read at (its design, or
    with ``adaptive`` the first design whose owners adapt there), from the first side-by-side sweep."""
    parts = []
    for regime, answer in c.answers.items():
        rows = table[
            (table["sweep"] == answer.points["sweep"].iloc[0])
            & (table["regime"] == regime)
            & (table["point"] == answer.at["point"])
        ]
        design = rows["design"].iloc[0] if adaptive and len(rows) else answer.at["design"]
        parts.append(rows[rows["design"] == design])
    return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]


#: The verdicts table of side-by-side sweeps: column of ``RegimeComparison.verdicts`` → header.
VERDICT_HEADERS = {
    "honesty": "honesty",
    "incentives": "incentives alone",
    "adaptive": "network ends honest",
}


def _regime_verdicts_html(c: regimes.RegimeComparison, findings: list[Findings]) -> str:
    body = "<h3>Where honesty dominates</h3>"
    if len(c.verdicts):
        rows = []
        for r in c.verdicts.to_dict("records"):
            row = {k: r[k] for k in _group_labels(c.verdicts)} | {"regime": r["regime"]}
            row["owners"] = "adapt" if r["adapts"] else "fixed strategies"
            row |= {label: r[k] for k, label in VERDICT_HEADERS.items() if isinstance(r.get(k), str) and r[k]}
            for name, label in (("trainers", "trainers' margin"), ("participation", "participation margin")):
                text = interval_text(r[f"{name}_mean"], r[f"{name}_lower"], r[f"{name}_upper"])
                row[f"{label} (95 % bounds)"] = f"{text} {r['unit']}" if text != "–" else "–"
            rows.append(row)
        table = pd.DataFrame(rows)
        body += paragraph(
            "Side by side, at each point of the sweep(s) that run both regimes: the verdict (dominates, "
            "uncertain, fails: the trainers' margin and honest work's margin over the outside option, "
            "worst mix, one-sided 95 % bounds; where owners adapt, the network must also end honest) and the "
            "margins in each regime's own unit.",
            "note",
        )
        body += table_html(table) + csv_link(c.verdicts, "regimes-verdicts")
    if len(c.maps):
        body += paragraph(
            "Each map that runs one regime only: how many of its points dominate, are uncertain or fail "
            "(per design), and where the worst mix's lower bound of the trainers' margin is largest.",
            "note",
        )
        body += table_html(_map_rows(c.maps)) + csv_link(c.maps, "regimes-maps")
        maps = _map_panels(c, findings)
        if maps:
            data = pd.concat(
                [m.panel.classified[["design", m.x, m.y, "honesty"]].assign(sweep=m.title) for m in maps],
                ignore_index=True,
            )
            body += image(
                figures.verdict_maps(
                    maps, "Where honesty dominates, each map with its own closed-form bounds"
                ),
                "verdict maps side by side",
                "Each panel one map on its own axes: green, honesty dominates; yellow, uncertain; red, it "
                "fails. Dots with bars: the simulated deterrence (black) and participation (purple) "
                "boundaries with their 95 % bands; crosses joined by dashes: that regime's closed-form "
                "bounds (in slash fraction with a token, in service fee without) where they fall inside the "
                "swept range.",
                data,
                "regimes-maps",
            )
    if not len(c.verdicts) and not len(c.maps):
        body += paragraph("No sweep here has a verdict to compare.")
    return body


def _map_rows(maps: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in maps.to_dict("records"):
        row = {"sweep": r["sweep"], "regime": r["regime"], "design": r["design"], "points": r["points"]}
        row["dominates"] = f"{r['dominates']} ({r['dominates_share']:.0%})"
        row |= {"uncertain": r["uncertain"], "fails": r["fails"]}
        best = r["best_lower"]
        row["largest lower bound of the trainers' margin"] = (
            f"{'+' if best > 0 else ''}{interval_text(best, math.nan, math.nan)} {r['unit']}"
            if math.isfinite(best)
            else "–"
        )
        row["at"] = r["best_points"] or "–"
        rows.append(row)
    return pd.DataFrame(rows)


def _map_panels(c: regimes.RegimeComparison, findings: list[Findings]) -> list[figures.MapPanel]:
    """The verdict panels of every single-regime map over two numeric axes, each on its own axes."""
    out = []
    for f, view in zip(findings, c.sweeps, strict=True):
        if view.side_by_side or f.shape not in ("2-D", "n-D") or not (f.x and f.y):
            continue
        for panel in views.panels(f):
            title = f"{view.name} ({', '.join(view.regimes)})" + (f"; {panel.title}" if panel.title else "")
            log_x = _spec(f, f.x).get("scale") == "log"
            out.append(figures.MapPanel(title, panel, f.x, f.y, log_x))
    return out


def _regime_profits_html(c: regimes.RegimeComparison) -> str:
    body = "<h3>Fiat profit per owner by strategy</h3>"
    if c.profits.empty:
        return body + paragraph(
            "No sweep here runs both regimes with fixed strategies, so profits are not compared side by side "
            "(each sweep's own payoffs are below).",
            "note",
        )
    shown = _at_answers(c, c.profits)
    if len(shown):
        body += image(
            figures.regime_profits(shown, "Fiat profit per owner per round, with fixed strategies"),
            "fiat profit per owner by strategy and regime",
            "Bars: mean fiat profit per owner per round of each strategy, per mix (starting population); "
            "whiskers: two-sided 95 % intervals over the replications; 'none': no owner played it there.",
            shown,
            "regimes-profits",
        )
    labels = {s: STRATEGY_LABELS.get(s, s) for s in regimes.STRATEGIES}
    body += table_html(_wide(c.profits, "strategy", labels)) + csv_link(c.profits, "regimes-profits-all")
    return body + paragraph(
        "Mean (two-sided 95 % interval), fiat per owner per round, owners keeping their strategies; "
        f"{regimes.NO_OWNERS}: no owner played the strategy in that mix.",
        "note",
    )


def _regime_shares_html(c: regimes.RegimeComparison) -> str:
    body = "<h3>Does the network become honest when owners adapt?</h3>"
    if c.shares.empty:
        return body + paragraph(
            "No sweep here runs both regimes with owners that adapt, so the honest share after the last "
            "round is not compared side by side.",
            "note",
        )
    shown = _at_answers(c, c.shares, adaptive=True)
    panels = []
    for regime, rows in shown.groupby("regime", sort=False):
        points = rows.assign(
            final_share_mean=rows["mean"],
            final_share_band_lower=rows["low"].fillna(rows["mean"]),
            final_share_band_upper=rows["high"].fillna(rows["mean"]),
        )
        panels.append(figures.SharePanel(f"{regime} regime", points))
    rounds = sorted(set(c.shares["rounds"].dropna()))
    after = f"after {rounds[0]:,.0f} rounds" if len(rounds) == 1 else "after the last round"
    if panels:
        body += image(
            figures.share_bars(panels, f"Honest share of trainer owners {after}, owners adapting"),
            "honest share after the last round by regime",
            "Bars: the mean honest share of active trainer owners after the last round (a Sybil owner "
            "counted once), per mix (starting population); whiskers: two-sided 95 % intervals over the "
            "replications; dashed: the level the network must reach to end honest.",
            shown,
            "regimes-honest-share",
        )
    rows = []
    for r in c.shares.to_dict("records"):
        row = {k: r[k] for k in _group_labels(c.shares)} | {"regime": r["regime"], "mix": r["mix"]}
        row["honest at the start"] = adaptation.percent(r["initial"])
        row[f"honest {after}"] = _statistic_text(r, 100.0) + (" %" if r["status"] == regimes.VALUE else "")
        row["level"] = adaptation.percent(r["level"])
        row["runs"] = r["n"]
        rows.append(row)
    return body + table_html(pd.DataFrame(rows)) + csv_link(c.shares, "regimes-honest-share-all")


def _regime_outcomes_html(c: regimes.RegimeComparison) -> str:
    body = "<h3>Model quality</h3>"
    if c.outcomes.empty:
        return body + paragraph(
            "No sweep here runs both regimes, so quality and costs are not compared.", "note"
        )
    labels = dict((kpi, label) for kpi, label, _ in regimes.OUTCOMES)
    quality = c.outcomes[c.outcomes["kpi"].isin(regimes.QUALITY)]
    body += table_html(_wide(quality, "kpi", {k: labels[k] for k in regimes.QUALITY}))
    body += csv_link(quality, "regimes-quality")
    body += "<h3>What each regime costs the network</h3>"
    costs = c.outcomes[c.outcomes["kpi"].isin(regimes.COSTS)]
    body += paragraph(
        "Per round, mean (two-sided 95 % interval) over the replications. The network's cost: with a token, "
        "the tokens emitted at their market value; without, the orchestrator's service fees, validators' "
        "wages and its share of KYC. Slashes move tokens from the flagged (to the burn, the insurance pool "
        f"and honest validators). {regimes.ABSENT}: the cost line means nothing in that regime "
        f"({regimes.absent_reason(regimes.TOKENLESS)}; {regimes.absent_reason(regimes.TOKEN)}).",
        "note",
    )
    body += table_html(_wide(costs, "kpi", {k: labels[k] for k in regimes.COSTS})) + csv_link(
        costs, "regimes-costs"
    )
    return body


# -- designs compared ----------------------------------------------------------------------------
def designs_section(f: Findings) -> str:
    """Per design: verdict counts, the safe band and its cost; then which design wins where."""
    if len(f.designs) < 2 or f.comparison is None or f.comparison.empty:
        return ""
    body = paragraph(
        "Each design is analysed on its own (verdicts hold for every population mix under that design); "
        "runs of different designs share their random numbers (the same seed per point, mix and "
        "replication), so differences between designs are not differences of luck."
    )
    body += table_html(f.comparison, _headers(f.comparison)) + csv_link(f.comparison, "designs-compared")
    if f.winners is not None and not f.winners.empty:
        body += "<h3>Which design wins where</h3>"
        body += paragraph(
            "Per parameter point: the designs under which honesty dominates, and the design with the "
            "largest worst-mix lower bound of the trainers' margin.",
            "note",
        )
        shown = f.winners.head(60).replace({"dominating_designs": {"": "none"}})
        body += table_html(shown, _headers(shown)) + csv_link(f.winners, "winners")
        if len(f.winners) > len(shown):
            body += paragraph(f"First {len(shown)} of {len(f.winners)} points; all are in the CSV.", "note")
    if f.agreement is not None and not f.agreement.empty:
        body += "<h3>How far the designs' verdicts differ</h3>"
        body += paragraph(
            f"Each design against the first ({f.designs[0]}), on the points both were run at: where their "
            "honesty verdicts are the same, and the trainers' margin (mean over replications) of the design "
            "minus the first's — on average and at the point where they are furthest apart. A design that "
            "runs the abstract mode calibrated from the mechanistic one reads here how well the fast mode "
            "stands in for the slow one.",
            "note",
        )
        body += table_html(f.agreement, _headers(f.agreement)) + csv_link(f.agreement, "agreement")
    return section("designs", "Designs compared", body)


def _headers(df: pd.DataFrame) -> dict[str, str]:
    return {c: (short(c) if "." in str(c) else str(c).replace("_", " ")) for c in df.columns}


# -- the answer for the sweep's shape -------------------------------------------------------------
def answer_section(f: Findings) -> str:
    """Thresholds (1-D), boundary curves (2-D, sampled), slices (n-D) or verdicts per category."""
    if f.shape == "1-D":
        return thresholds_section(f)
    if f.shape in ("2-D", "n-D", "sampled") and f.x and f.y:
        return phase_section(f)
    if f.shape == "categorical" or f.categorical:
        return categories_section(f)
    return ""


def thresholds_section(f: Findings) -> str:
    group = "design" if len(f.designs) > 1 else (f.categorical[0] if f.categorical else "design")
    units = {
        value: views.margin_unit(views.regime_of(f, {group: value})) for value in f.classified[group].unique()
    }
    several = len({unit for _, unit in units.values()}) > 1
    body = image(
        figures.margin_lines(f.classified, f.x, group, f.thresholds, units),
        "margins along the swept parameter",
        "Lines: the worst mix's mean margin; bands: its one-sided 95 % lower and upper bounds; dotted: "
        "where a verdict changes."
        + (
            " Each row of panels one unit: margins of runs of different regimes never share an axis."
            if several
            else ""
        ),
        f.classified,
        "margins",
    )
    if f.thresholds is not None and not f.thresholds.empty:
        t = f.thresholds.copy()
        t["threshold (95 % interval)"] = _boundary_texts(t, _step(f, f.x), None, f.x in f.integer, f.named)
        hidden = ("estimate", "band_low", "band_high", "where", "between_low", "between_high", "crossings")
        keep = [c for c in t.columns if c not in hidden]
        body += table_html(t[keep], _headers(t[keep])) + csv_link(f.thresholds, "thresholds")
    else:
        body += paragraph(f"No verdict changes anywhere along {short(f.x)} in the swept range.")
    return section("thresholds", f"Thresholds along {short(f.x)}", body)


def _step(f: Findings, column: str) -> float | None:
    levels = np.sort(pd.to_numeric(f.classified[column], errors="coerce").dropna().unique())
    return float(np.diff(levels).min()) if len(levels) > 1 else None


def phase_section(f: Findings) -> str:
    panels = views.panels(f)
    if not panels:
        return ""
    if f.shape == "sampled":
        how = (
            "Each dot a sampled point. Lines with shaded bands: where the fitted surface of the margin "
            "crosses zero, with its 95 % bootstrap band (the method is under How this was computed); "
            "dashed: the closed form's bounds."
        )
    else:
        how = (
            "Dots with bars: where the margin crosses zero, with its two-sided 95 % band; crosses joined "
            "by dashes: the closed form's bounds where they fall inside the swept range."
        )
    body = image(
        figures.phase_panels(
            panels,
            f.x,
            f.y,
            "trainers",
            "Honesty margin of trainers: honest minus the best deviation",
            **_margin_drawing(f),
        ),
        "phase diagram",
        "Blue: honest trainers earn more than the best cheating strategy; red: less (worst mix). " + how,
        f.classified,
        "phase-diagram",
    )
    table = boundary_table(f)
    if table is not None:
        body += table_html(table, _headers(table)) + csv_link(table, "boundaries")
    ends_honest = (
        " and, where owners adapt, the honest share of trainer owners ends at or above the level"
        if f.adaptation is not None
        else ""
    )
    body += image(
        figures.verdict_panels(panels, f.x, f.y, "honesty", "Where honesty dominates", **_margin_drawing(f)),
        "verdict map",
        "Dominates: the one-sided 95 % lower bound of the trainers' margin is above zero and honest "
        f"work pays at least the outside option{ends_honest}, under every mix; fails: an upper bound "
        "is below zero; uncertain: neither.",
        f.classified[[c for c in f.classified.columns if not c.endswith(("_lower", "_upper"))]],
        "verdicts",
    )
    title = "Phase diagram" + (" (slices)" if f.shape == "n-D" else "")
    return section("phase-diagram", title, body)


def _margin_drawing(f: Findings) -> dict:
    """Drawing options of the maps over (x, y): a sampled design's (:func:`_continuous`), and x on a
    log scale where the sweep swept it in log steps."""
    return _continuous(f) | ({"log_x": True} if _spec(f, f.x).get("scale") == "log" else {})


def _spec(f: Findings, path: str | None) -> dict:
    """The manifest's parameter spec of ``path`` ({} when it has none)."""
    specs = [s for s in f.manifest.get("parameter_specs") or [] if isinstance(s, dict)]
    return next((s for s in specs if s.get("path") == path), {})


def _continuous(f: Findings) -> dict:
    """Drawing options for a sampled design: points on continuous axes, y on its own scale."""
    if f.shape != "sampled":
        return {}
    specs = {s.get("path"): s for s in f.manifest.get("parameter_specs") or [] if isinstance(s, dict)}
    return {"sampled": True, "log_y": specs.get(f.y, {}).get("scale") == "log"}


def boundary_table(f: Findings) -> pd.DataFrame | None:
    """Per design, slice and level of y: simulated boundaries with their bands beside the analytic
    bounds, each saying on which side its margin holds in the axis's own unit (an analytic bound
    outside the range the axis can take: whether it holds at every level or at none), and the share
    of points that dominate."""
    if f.deterrence is None:
        return None
    keys = [c for c in (*f.group_columns, f.y) if c in f.deterrence]
    step = _step(f, f.x)
    frame = f.deterrence[keys]
    out = frame.copy()
    whole = f.x in f.integer
    out["deterrence (simulated)"] = _boundary_texts(f.deterrence, step, "deterrence", whole, f.named)
    if f.participation is not None:
        out["participation (simulated)"] = _boundary_texts(
            frame.merge(f.participation, on=keys, how="left"), step, "participation", whole, f.named
        )
    if f.analytic is not None:
        analytic = frame.merge(f.analytic, on=[k for k in keys if k in f.analytic], how="left")
        approximate = [
            bool(a) if isinstance(a, list | tuple | np.ndarray) else False
            for a in analytic.get("assumptions", [None] * len(analytic))
        ]
        for label in ("deterrence", "participation"):
            feasible = analytic.get(f"{label}_feasible", pd.Series([None] * len(analytic)))
            out[f"{label} (analytic)"] = [
                _analytic_text(v, label, f.x, None if pd.isna(ok) else bool(ok), a)
                for v, ok, a in zip(analytic[label], feasible, approximate, strict=True)
            ]
    if f.shape == "sampled":  # levels of y are the fitted curve's, not sampled points
        return out
    share = f.classified.groupby(keys)["honesty"].apply(lambda s: (s == "dominates").mean()).rename("share")
    shares = frame.merge(share.reset_index(), on=keys, how="left")["share"]
    out["share dominating"] = [f"{v:.0%}" if math.isfinite(v) else "–" for v in shares]
    return out


#: What each boundary's margin does where it holds, in a table cell: honest work deters cheating, or
#: pays (at least the outside option).
BOUNDARY_VERBS = {"deterrence": "deters", "participation": "pays"}


def _holds_text(verb: str, holds: bool) -> str:
    return f"{verb} throughout the range" if holds else f"{verb} nowhere in the range"


def _boundary_texts(
    table: pd.DataFrame,
    step: float | None,
    margin: str | None,
    whole: bool,
    named: dict[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Each boundary row as text that says on which side the margin holds: ``deters from 3.61
    (3.52–3.70) on`` (a rising crossing: it holds above), ``pays up to 0.249 (…)`` (a falling one:
    it holds below) — along a whole-number axis with the two whole numbers the verdict changes
    between (``deters from 3 on (not at 2)``). Outside the range, whether the ``margin`` (None: a
    1-D threshold, whose row names its margin) holds throughout or nowhere, read with its expected
    direction along the axis (``named``: ``boundaries.named_for(x)``; the slash fraction's when
    None)."""
    named = named or boundaries.named_for(None)
    texts = []
    for r in table.itertuples():
        name = margin or getattr(r, "name", None)
        verb = BOUNDARY_VERBS.get(name, "holds")
        rising = named.get(name, (None, boundaries.RISING))[1] == boundaries.RISING
        if r.where == boundaries.INSIDE:
            direction = getattr(r, "direction", None)
            up = direction == boundaries.RISING if isinstance(direction, str) else rising
            low, high = getattr(r, "between_low", math.nan), getattr(r, "between_high", math.nan)
            if whole and math.isfinite(low) and math.isfinite(high):
                text = f"{verb} from {high:g} on (not at {low:g})"
                if not up:
                    text = f"{verb} up to {low:g} (not at {high:g})"
            else:
                estimate = estimate_text(r.estimate, r.band_low, r.band_high, step)
                text = f"{verb} from {estimate} on" if up else f"{verb} up to {estimate}"
            texts.append(text)
        elif r.where in (boundaries.ABOVE_ZERO, boundaries.BELOW_ZERO):  # a 1-D margin of one sign
            texts.append(_holds_text(verb, r.where == boundaries.ABOVE_ZERO))
        elif r.where in (boundaries.BELOW, boundaries.ABOVE):
            # past zero at the first point: a rising margin holds throughout, a falling one nowhere
            texts.append(_holds_text(verb, (r.where == boundaries.BELOW) == rising))
        elif isinstance(r.where, str):
            texts.append(r.where)
        else:
            texts.append("–")
    return texts


def _analytic_text(
    value, bound: str, x: str | None, feasible: bool | None = None, approximate: bool = False
) -> str:
    """An analytic ``bound`` ('deterrence' or 'participation') along the closed form's axis ``x`` as
    text that says on which side it holds, in the axis's own unit: a lower bound ``deters from
    0.097 on``, an upper one ``pays up to 0.249``. A bound outside the range the axis can take
    (``feasible`` False: the analytic table's ``<bound>_feasible``; read off the value when None)
    says whether the margin holds at every level of the axis or at none. ``approximate`` when the
    closed form's assumptions do not hold there (e.g. score-weighted rewards, validator dropout,
    liquid buffers that run dry, a fee budget that binds)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    x = x if x in theory.CLOSED_FORM_AXES else SLASH
    axis = theory.CLOSED_FORM_AXES[x]
    lower = bound == "deterrence" or axis.participation_lower
    verb, noun = BOUNDARY_VERBS[bound], short(x)
    if feasible is None:
        feasible = axis.low <= value <= axis.high
    if feasible:
        shown = f"{value:.3f}" if axis.high <= 1 else f"{value:,.4g}"
        text = f"{verb} from {shown} on" if lower else f"{verb} up to {shown}"
    else:
        below = value < axis.low
        everywhere = below == lower  # a lower bound below the range holds at every level, …
        limit = f"bound < {axis.low:g}" if below else f"bound > {axis.high:g}"
        if math.isinf(value):
            limit = "none needed" if everywhere else "none helps"
        text = f"{verb} at {'every' if everywhere else 'no'} {noun} ({limit})"
    return text + (" (approx.)" if approximate else "")


#: The unit of the margins in the table of verdicts by category, by the regime of the sweep's runs.
CATEGORY_UNITS = {
    regimes.TOKEN: "Margins are in profit per round per unit of capital",
    regimes.TOKENLESS: (
        "Margins are in fiat profit per owner per round (a tokenless owner commits no capital)"
    ),
    regimes.MIXED: (
        "Margins are in each row's regime's unit: profit per round per unit of capital with a token, fiat "
        "profit per owner per round without (a tokenless owner commits no capital)"
    ),
}


def categories_section(f: Findings) -> str:
    columns = [
        "design",
        *f.parameters,
        "honesty",
        "incentives",
        "adaptive",
        "trainers",
        "participation",
        "validators",
        "trainers_mean",
        "trainers_lower",
        "participation_mean",
        "participation_lower",
    ]
    table = f.classified[[c for c in columns if c in f.classified]]
    regime = views.regime_of(f)
    if regime != regimes.TOKEN:  # say each row's regime: its margins' unit depends on it
        table = table.copy()
        table.insert(
            list(table.columns).index("honesty"), "regime", regimes.read_sweep(f).points["regime"].to_numpy()
        )
    body = paragraph(
        "Verdicts side by side per category (robust over every mix). " + CATEGORY_UNITS[regime] + "; lower = "
        "one-sided 95 % lower bound.",
        "note",
    )
    return section(
        "categories",
        "Verdicts by category",
        body + table_html(table, _headers(table)) + csv_link(table, "verdicts-by-category"),
    )


# -- does the network become honest? ----------------------------------------------------------------
#: The per-point columns behind the final-share figure (its CSV).
SHARE_COLUMNS = (
    "mix",
    "level",
    "runs",
    "initial_share",
    "final_share_mean",
    "final_share_lower",
    "final_share_upper",
    "final_share_band_lower",
    "final_share_band_upper",
    "final_share_n",
    "ends",
    "reached",
    "rounds_to_level",
    "entered",
    "exited",
)
#: Most rows of a table shown on the page; the CSV beside it has them all.
MAX_TABLE_ROWS = 60


def adaptation_section(f: Findings) -> str:
    """An adaptive sweep: whether the network ends honest — the verdict in words, the final honest
    share over the swept axes, the basin of honesty, tipping points, time to the level and the
    owners entering and leaving. Empty for fixed strategies."""
    a = f.adaptation
    if a is None:
        return ""
    body = "".join(paragraph(text) for text in _adaptive_verdicts(f))
    body += _share_figure(f)
    body += "<h3>Basin of honesty</h3>" + paragraph(
        "Each mix is a starting population. Under it the network ends honest at a point where the "
        "one-sided 95 % lower bound of the final honest share reaches the level, and falls short where "
        "the upper bound is below it.",
        "note",
    )
    basin = _basin_table(f)
    body += table_html(basin) + csv_link(a.basin, "basin-of-honesty")
    body += "<h3>Tipping points</h3>"
    tipping = _tipping_table(f)
    if tipping is None:
        body += paragraph(
            "No tipping points: they are read along numeric grid axes, between neighbouring levels, and "
            "this sweep varies none (or samples its axes, which have no neighbouring levels).",
            "note",
        )
    else:
        body += paragraph(
            "Along each swept axis, per mix and level of the other axes: where the mean final honest share "
            "crosses the level (linear interpolation between neighbouring levels), with the 95 % interval "
            "where the ends of its two-sided band cross.",
            "note",
        )
        body += table_html(tipping.head(MAX_TABLE_ROWS)) + csv_link(a.tipping, "tipping-points")
        if len(tipping) > MAX_TABLE_ROWS:
            body += paragraph(f"First {MAX_TABLE_ROWS} of {len(tipping)} rows; all are in the CSV.", "note")
    body += "<h3>Time to the level, entries and exits</h3>"
    timing = _timing_table(f)
    body += table_html(timing) + csv_link(a.timing, "time-to-level")
    if not a.missing.empty:
        body += "<h3>Runs without a final honest share</h3>" + paragraph(
            "These runs finished, but no trainer owner was active when the share is read: their honest "
            "share is undefined and they are left out of its statistics; a point where no run of a mix has "
            "one cannot end honest (it is uncertain).",
            "note",
        )
        body += table_html(a.missing, _headers(a.missing))
    return section("adaptation", "Does the network become honest?", body)


def _adaptive_verdicts(f: Findings) -> list[str]:
    """The adaptive verdict per design, in words."""
    a = f.adaptation
    out = []
    for design in f.designs:
        c = f.classified[f.classified["design"] == design]
        under = f"Under design {design}: the" if len(f.designs) > 1 else "The"
        if (c["adaptive"] == adaptation.NOT_ADAPTIVE).all():
            out.append(f"{under} owners do not adapt at any point: the incentives decide alone.")
            continue
        count = {k: (c[k] == dominance.DOMINATES).sum() for k in ("adaptive", "incentives", "honesty")}
        fails = int((c["adaptive"] == dominance.FAILS).sum())
        uncertain = int((c["adaptive"] == dominance.UNCERTAIN).sum())
        out.append(
            f"{under} network ends honest at {count['adaptive']} of {len(c)} points, falls short at "
            f"{fails} and is uncertain at {uncertain}{adaptation.static_points_text(c)}. Ending honest means "
            "that the "
            f"honest share of trainer owners {adaptation.rounds_text(a)} reaches {adaptation.level_text(a)} "
            f"(its one-sided 95 % lower bound) under every mix whose owners adapt "
            f"({adaptation.rules_text(a)}). The incentives alone favour honesty at {count['incentives']}; "
            f"honesty dominates at {count['honesty']}."
        )
    return out


def _share_figure(f: Findings) -> str:
    """The final honest share: a heat map over two numeric axes, lines along one, bars otherwise."""
    panels = views.share_panels(f)
    if not panels:
        return ""
    data = pd.concat([p.points for p in panels], ignore_index=True)
    data = data[["design", *f.parameters, *SHARE_COLUMNS]]
    title = "Mean final honest share of trainer owners"
    if f.shape in ("2-D", "n-D", "sampled") and f.x and f.y:
        png = figures.share_maps(panels, f.x, f.y, title, **_continuous(f))
        alt = f"final honest share over {short(f.x)} and {short(f.y)}"
        share = (
            "the mean final honest share of active trainer owners (a Sybil owner counted once) over the "
            "replications"
        )
        if f.shape == "sampled":  # points drawn, not a grid: no cells to number, no neighbours to cross
            caption = (
                f"Colour: {share} at each sampled point, in %; blue at or above the level, red below. One "
                "panel per mix (starting population)."
            )
        else:
            caption = (
                f"Colour and number: {share}, in %; blue at or above the level, red below. One panel per "
                "mix (starting population). Dots with bars: where the share crosses the level along "
                f"{short(f.x)}, with the 95 % band."
            )
    elif f.x is not None:
        png = figures.share_lines(panels, f.x, title)
        alt = f"final honest share along {short(f.x)}"
        caption = (
            "Lines: the mean final honest share of active trainer owners per mix (starting population); "
            "bands: its two-sided 95 % interval over the replications; dashed: the level; dotted: where the "
            "share crosses it."
        )
    else:
        png = figures.share_bars(panels, title)
        alt = "final honest share per mix"
        caption = (
            "Bars: the mean final honest share of active trainer owners per mix (starting population); "
            "whiskers: its two-sided 95 % interval over the replications; dashed: the level."
        )
    out = image(png, alt, caption, data, "final-honest-share")
    if len(panels) > figures.MAX_PANELS:
        out += paragraph(
            f"The first {figures.MAX_PANELS} of {len(panels)} panels are drawn; every point is in the CSV.",
            "note",
        )
    return out


def _basin_table(f: Findings) -> pd.DataFrame:
    rows = []
    for r in f.adaptation.basin.to_dict("records"):
        where = {"everywhere": "at every point", "nowhere": "at no point"}.get(
            r["ends_honest"], f"at {r['honest_points']} of {r['points']} points"
        )
        row = {"design": r["design"]} if len(f.designs) > 1 else {}
        rows.append(
            row
            | {
                "mix": r["mix"],
                "honest share at the start": adaptation.span_text(r["initial_low"], r["initial_high"]),
                "mean final share over the points": adaptation.span_text(r["final_low"], r["final_high"]),
                "level": adaptation.span_text(r["level_low"], r["level_high"]),
                "ends honest": where,
                "falls short at": r["short_points"],
                "uncertain at": r["undecided_points"],
            }
        )
    return pd.DataFrame(rows)


#: A tipping-point direction in words: on which side of it the network ends honest.
TIPPING_SIDE = {boundaries.RISING: "ends honest above it", boundaries.FALLING: "ends honest below it"}


def _tipping_table(f: Findings) -> pd.DataFrame | None:
    tipping = f.adaptation.tipping
    if tipping.empty:
        return None
    rows = []
    for r in tipping.to_dict("records"):
        axis = r["axis"]
        at = [
            f"{short(p)} = {figures.level_label(r[p])}"
            for p in f.parameters
            if p != axis and not _missing(r[p])
        ]
        if r["where"] != boundaries.INSIDE:
            text = r["where"]
        elif axis in f.integer and math.isfinite(r["between_low"]):
            text = f"between {r['between_low']:g} and {r['between_high']:g}"
        else:
            text = estimate_text(r["estimate"], r["band_low"], r["band_high"], _step(f, axis))
        row = {"design": r["design"]} if len(f.designs) > 1 else {}
        rows.append(
            row
            | {
                "mix": r["mix"],
                "along": short(axis),
                "at": ", ".join(at) or "–",
                "tipping point (95 % interval)": text,
                "there the network": TIPPING_SIDE.get(r["direction"], "–"),
            }
        )
    return pd.DataFrame(rows)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _timing_table(f: Findings) -> pd.DataFrame:
    number, span = adaptation.number_text, adaptation.span_text
    rows = []
    for r in f.adaptation.timing.to_dict("records"):
        row = {"design": r["design"]} if len(f.designs) > 1 else {}
        rows.append(
            row
            | {
                "mix": r["mix"],
                "runs reaching the level": adaptation.percent(r["reached"]),
                "points where every run does": f"{r['points_reached']} of {r['points']}",
                "rounds to the level (mean)": number(r["rounds_mean"]),
                "rounds, point means": span(r["rounds_low"], r["rounds_high"], number),
                "owners entered per run": number(r["entered_mean"]),
                "entered, most at a point": number(r["entered_max"]),
                "owners exited per run": number(r["exited_mean"]),
                "exited, most at a point": number(r["exited_max"]),
            }
        )
    return pd.DataFrame(rows)


# -- payoffs ---------------------------------------------------------------------------------------
def payoffs_section(f: Findings) -> str:
    if f.x is None:
        return ""
    if f.shape == "sampled":
        return section(
            "payoffs",
            "Payoffs per strategy",
            paragraph(
                "A sampled design has one point per level, too few to draw payoff curves at a level; "
                "every run's payoffs are in the results directory (pi_<strategy>, "
                "profit_fiat_per_round_<strategy>).",
                "note",
            ),
        )
    mixes = f.mixes or ["base"]
    chosen = views.selections(f)
    # every mix under the first selection, then the first mix under each other selection
    pairs = [(chosen[0], mix) for mix in mixes] + [(selection, mixes[0]) for selection in chosen[1:]]
    parts = []
    for selection, mix in pairs[:MAX_PAYOFF_FIGURES]:
        stats = views.payoff_statistics(f, selection, mix)
        if stats.empty:
            continue
        label = "; ".join(filter(None, (views.title(f, selection), f"mix {mix}")))
        parts.append(
            image(
                figures.payoff_panels(stats, f.x, f"Payoff per strategy ({label})"),
                f"payoff curves, {label}",
                "Each panel one level where a boundary lies (all levels when none does). "
                + _payoff_rows_text(stats)
                + " Bands: two-sided 95 % intervals over the replications.",
                stats,
                f"payoffs-{label}",
            )
        )
    if len(pairs) > MAX_PAYOFF_FIGURES:
        parts.append(
            paragraph(
                f"{len(pairs) - MAX_PAYOFF_FIGURES} more design, slice, category or mix views are not "
                "drawn; "
                "their numbers are in the results directory.",
                "note",
            )
        )
    return section("payoffs", "Payoffs per strategy", "".join(parts)) if parts else ""


def _payoff_rows_text(stats: pd.DataFrame) -> str:
    """What the rows of a payoff figure show: profit per unit of capital only where some run has
    one (a tokenless owner commits no capital: there it is absent, not zero)."""
    if (stats["unit"] == "pi").any():
        return "Top: profit per round per unit of capital committed; bottom: fiat profit per owner per round."
    return (
        "Fiat profit per owner per round; profit per unit of capital is absent: "
        f"{regimes.absent_reason(regimes.TOKENLESS)} and its owners commit no capital."
    )


def validators_section(f: Findings) -> str:
    """Honest validators against copiers: under Yuma Consensus (:func:`yuma_validators_html`) whether
    copying pays against the reveal delay, when a cabal captures the emission and where honest
    validation dominates; for every sweep, the validators' margin over the swept axes."""
    yuma = yuma_validators_html(f)
    margin = _validator_margin_html(f)
    if yuma:
        margin = "<h4>The validators' margin over the swept axes</h4>" + margin if margin else ""
    return section("validators", "Validators", yuma + margin)


def _validator_margin_html(f: Findings) -> str:
    if f.shape in ("2-D", "n-D", "sampled") and f.x and f.y:
        panels = views.panels(f)
        if panels:
            return image(
                figures.phase_panels(
                    panels,
                    f.x,
                    f.y,
                    "validators",
                    "Validators' margin: honest minus copying",
                    **_margin_drawing(f),
                ),
                "validator margin",
                "Blue: honest evaluation earns more than copying the consensus; red: less (worst mix).",
                f.classified[
                    [
                        "design",
                        *f.parameters,
                        "validators",
                        "validators_mean",
                        "validators_lower",
                        "validators_upper",
                    ]
                ]
                if "design" in f.classified
                else None,
                "validators",
            )
    counts = f.classified["validators"].value_counts()
    text = ", ".join(f"{k} at {v}" for k, v in counts.items())
    return paragraph(f"Honest validation versus copying: {text} point(s).")


#: The headings of the Yuma part of the validators' section, in the order it answers.
YUMA_HEADINGS = {
    "dividends": "Does copying pay? Copiers' dividends against the reveal delay",
    "capture": "When does a cabal capture the trainers' emission?",
    "dominance": "Where honest validation dominates",
}


def yuma_validators_html(f: Findings) -> str:
    """The validators under Yuma Consensus (``analysis.validators``); empty without Yuma runs."""
    v = f.validators
    if v is None:
        return ""
    body = paragraph(
        f"{v.runs} run{'s' if v.runs != 1 else ''} of this sweep played Yuma Consensus (rewards.rule = "
        "yuma) in the token regime: validators vote weights on the trainers' submissions, copiers vote the "
        "consensus they can see, and a cabal votes only for its own trainers. Intervals are two-sided "
        "95 % Student-t intervals over the replications at each level; each level of the other swept "
        "parameters is a curve of its own.",
        "note",
    )
    body += f"<h3>{esc(YUMA_HEADINGS['dividends'])}</h3>" + _dividends_html(f)
    body += f"<h3>{esc(YUMA_HEADINGS['capture'])}</h3>" + _capture_html(f)
    body += f"<h3>{esc(YUMA_HEADINGS['dominance'])}</h3>" + _validator_verdicts_html(f)
    if not v.missing.empty:
        shown = v.missing if len(f.designs) > 1 else v.missing.drop(columns="design")
        body += paragraph("Yuma runs without a value of a KPI, and why:", "note") + table_html(
            shown, _headers(shown)
        )
    return body


def _dividends_html(f: Findings) -> str:
    v = f.validators
    texts = "".join(paragraph(t) for t in v.sentences["dividends"])
    if v.dividends.empty or not (v.dividends["ratio_n"] > 0).any():
        return texts
    panels, left_out = views.ratio_panels(f)
    takes = ", ".join(f"{line:.3g}" for line in sorted(set(v.dividends["take_line"].round(12))))
    levels = sorted(set(v.dividends[validators.DELAY].astype(float)))
    if v.delay_varies:
        read = (
            "Read along each line: at a delay where its band lies below the dashed line, copying the "
            "revealed consensus earns less per unit of stake than evaluating; below the dotted line "
            f"(1 − take = {takes}) copying does not pay a validator whose stake is delegated, whose "
            "delegators would move to an honest one (the Opentensor working paper's criterion)."
        )
    else:
        read = (
            f"The reveal delay is not varied ({delay_levels_text(levels)}): each point is G at that delay, "
            "against G = 1 (dashed) and 1 − take (dotted)."
        )
    caption = (
        "G, the copying validators' dividends per unit of stake divided by the honest validators' "
        "(mean and two-sided 95 % interval over the replications), against the commit-reveal delay in "
        f"rounds. {read}"
    )
    log_y = figures.spans_decades(pd.concat([p.points for p in panels]))
    if log_y:
        caption += f" G is drawn on a log scale: it spans more than a factor of {figures.LOG_SPAN:g}."
    png = figures.interval_lines(
        panels,
        "reveal delay, rounds",
        "G: copiers' ÷ honest validators' dividends per unit of stake",
        "Copier dividends ÷ honest dividends against the reveal delay",
        symlog_x=max(levels) >= 8,
        log_y=log_y,
    )
    out = image(
        png, "copier dividend ratio against reveal delay", caption, v.dividends, "copier-dividend-ratio"
    )
    out += texts + csv_link(v.delays.drop(columns="text"), "shortest-delays", "shortest delays (CSV)")
    if left_out:
        out += paragraph(f"{left_out} more curves are not drawn; every one is in the CSV.", "note")
    return out


def delay_levels_text(levels: list[float]) -> str:
    return ", ".join(validators.delay_text(level) for level in levels)


def _capture_html(f: Findings) -> str:
    v = f.validators
    texts = "".join(paragraph(t) for t in v.sentences["capture"])
    if v.capture.empty or not (v.capture["capture_n"] > 0).any():
        return texts
    panels, left_out = views.capture_panels(f)
    caption = (
        "The cabal's trainers' share of the trainers' emission (mean and two-sided 95 % interval over the "
        "replications) against the share of validator stake the cabal holds (the realised share, mean over "
        "the runs of each level of yuma.cabal_stake_share). Where a band lies wholly above the dashed line "
        "the cabal's trainers take at least half of the emission. The dotted line is where the mechanism "
        "predicts capture: a cabal sets its trainers' consensus once it holds κ of the evaluating "
        "validators' stake (a tie of stake goes to the higher weight) and vetoes everyone else's once it "
        "holds more than 1 − κ, and copiers, holding c of the stake, copy the evaluators' consensus; so "
        "capture from min(κ, 1 − κ) × (1 − c) of all stake."
        + ("" if v.cabal_varies else " The cabal's stake share is not varied: each point is one level.")
    )
    png = figures.interval_lines(
        panels,
        "cabal's share of validator stake (realised)",
        "cabal's trainers' share of the trainers' emission",
        "Cabal capture against the cabal's stake share",
        log_y=False,
    )
    out = image(png, "cabal capture against stake share", caption, v.capture, "cabal-capture")
    out += texts + csv_link(v.thresholds.drop(columns="text"), "capture-thresholds", "thresholds (CSV)")
    if left_out:
        out += paragraph(f"{left_out} more curves are not drawn; every one is in the CSV.", "note")
    return out


def _validator_verdicts_html(f: Findings) -> str:
    v = f.validators
    out = "".join(paragraph(t) for t in v.sentences["dominance"])
    if v.verdicts.empty:
        return out
    axes = views.validator_map_axes(f)
    panels = views.validator_verdict_panels(f) if axes else []
    if axes and panels:
        x, y = axes
        png = figures.verdict_level_map(panels, x, y, "validators", "Honest validation against copying")
        caption = (
            "Per point: green where honest validators' profit per unit of capital beats the copiers' by a "
            "one-sided 95 % lower bound above 0 under every mix (honest validation dominates), red where "
            "an upper bound is below 0 under some mix (copying pays more), yellow where the replications "
            "cannot tell."
        )
        return out + image(png, "validators' verdicts", caption, v.verdicts, "validator-verdicts")
    shown = v.verdicts.head(MAX_TABLE_ROWS)
    out += table_html(shown, _headers(shown)) + csv_link(v.verdicts, "validator-verdicts")
    if len(v.verdicts) > MAX_TABLE_ROWS:
        out += paragraph(f"First {MAX_TABLE_ROWS} of {len(v.verdicts)} points; all are in the CSV.", "note")
    return out


# -- round by round -------------------------------------------------------------------------------
#: What the per-round figures show, per regime.
ROUND_SERIES = {
    regimes.TOKEN: "the trainers' margin, the model's quality and the token stocks",
    regimes.TOKENLESS: (
        "the trainers' margin (fiat per owner), the model's quality, what the round cost the network and "
        "paid in service fees, and the identities ejected and re-admitted"
    ),
}
STRATEGY_SERIES = {
    regimes.TOKEN: (
        "Per strategy, median over replications: its share of all bonded stake, and how many of its "
        "identities are still registered (cheaters that cannot restake after slashes deregister)."
    ),
    regimes.TOKENLESS: (
        "Per strategy, median over replications: its fiat profit per owner in the round (there is no stake), "
        "and how many of its identities are registered (ejected ones leave; re-admitted ones come back)."
    ),
}


def rounds_section(f: Findings) -> str:
    trajectories = ResultStore(f.directory).load("trajectories")
    if trajectories.empty:
        return ""
    selection = views.selections(f)[0]
    picks = views.representative_points(f, selection)
    if not picks:
        return ""
    runs = pd.concat([r for _, r in picks])
    data = trajectories[trajectories["run_id"].isin(runs)]
    where = f" ({views.title(f, selection)})" if views.title(f, selection) else ""
    regime = views.regime_of(f, selection)
    body = image(
        figures.round_bands(trajectories, picks, regime),
        "per-round bands",
        f"Median (line) and 5th–95th percentile (band) across replications at representative points{where}, "
        f"first mix: {ROUND_SERIES.get(regime, ROUND_SERIES[regimes.TOKEN])}.",
        data,
        "rounds",
    )
    body += image(
        figures.strategy_rounds(trajectories, picks, list(views.STRATEGIES), regime),
        "stake and participation per strategy",
        STRATEGY_SERIES.get(regime, STRATEGY_SERIES[regimes.TOKEN]),
    )
    body += _share_rounds(f, trajectories, picks, where)
    return section("rounds", "Round by round", body)


def _share_rounds(f: Findings, trajectories: pd.DataFrame, picks: list, where: str) -> str:
    """An adaptive sweep: the strategy shares round by round at the representative points, and the
    owners that joined and left so far."""
    columns = [
        c
        for c in (*adaptation.TRAINER_SHARES, *adaptation.VALIDATOR_SHARES, *adaptation.FLOWS)
        if c in trajectories
    ]
    if f.adaptation is None or not columns:
        return ""
    runs = pd.concat([r for _, r in picks])
    data = trajectories.loc[trajectories["run_id"].isin(runs), ["run_id", "round", *columns]]
    return image(
        figures.share_rounds(trajectories, picks),
        "strategy shares round by round",
        f"Median (line) and 5th–95th percentile (band) across replications at the same points{where}, "
        "first mix: each strategy's share of the active trainer owners and of the active validators, and "
        "(when any owner joined or left) how many owners have joined and left so far.",
        data,
        "strategy-shares",
    )


# -- sustainability: the token economy --------------------------------------------------------------
#: The sustainability table's KPI columns: KPI → (header, factor to display, unit appended).
SUSTAINABILITY_COLUMNS = {
    "final_price_fiat": ("final price, fiat per token", 1.0, ""),
    "min_price_fiat": ("lowest price, fiat per token", 1.0, ""),
    "queries_per_round": ("users' queries per round", 1.0, ""),
    "fees_fiat_per_round": ("users' fees per round, fiat", 1.0, ""),
    "claims_filed_fiat": ("claims filed, fiat", 1.0, ""),
    "claims_paid_fiat": ("claims paid, fiat", 1.0, ""),
    "claims_unpaid_fiat": ("claims unpaid, fiat", 1.0, ""),
    "coverage_ratio": ("coverage", 100.0, " %"),
    "insolvent_rounds": ("insolvent rounds", 1.0, ""),
}


def sustainability_section(f: Findings) -> str:
    """A sweep whose runs ran a token economy (``analysis.sustainability``): the findings in words,
    per point and mix the price, fees and insurance claims with whether honesty still dominates after
    each halving, and the economy round by round at representative points. Empty without one."""
    s = f.sustainability
    if s is None:
        return ""
    body = "".join(paragraph(text) for text in s.sentences)
    table = _sustainability_table(f)
    body += paragraph(
        "Per point and mix: the mean over the replications (two-sided 95 % interval) of each KPI of the "
        "token economy — prices after the last round and the lowest after any round, users' queries and fees "
        "per round, insurance claims over a run (fiat at the price when paid), the coverage ratio (paid ÷ "
        "filed, over the runs where claims were filed) and the rounds the pool could not pay in full — and "
        "whether honesty still dominates after the first and second halving: the trainers' margin and honest "
        "work's margin over the outside option over the rounds from the halving to the end, one-sided 95 % "
        f"bounds under every mix of the point ('{sustainability.NO_HALVING}': no run got there). A KPI of a "
        "mechanism that did not run is left out.",
        "note",
    )
    keys = [c for c in ("design", *f.parameters) if c in s.per_mix]
    verdicts = [f"after_halving_{k}" for k in sustainability.HALVINGS]
    data = s.per_mix.merge(s.classified[[*keys, *verdicts]], on=keys, how="left")
    body += table_html(table.head(MAX_TABLE_ROWS)) + csv_link(data, "sustainability")
    if len(table) > MAX_TABLE_ROWS:
        body += paragraph(f"First {MAX_TABLE_ROWS} of {len(table)} rows; all are in the CSV.", "note")
    body += _economy_rounds(f)
    return section("sustainability", "Sustainability", body)


def _sustainability_table(f: Findings) -> pd.DataFrame:
    """One row per (design, point, mix): each KPI with a value as ``mean (low to high)``, then the
    point's verdicts after the halvings (left out when no run halved)."""
    s = f.sustainability
    keys = [c for c in ("design", *f.parameters) if c in s.per_mix]
    halvings = [
        k
        for k in sustainability.HALVINGS
        if (s.classified[f"after_halving_{k}"] != sustainability.NO_HALVING).any()
    ]
    verdicts = [f"after_halving_{k}" for k in halvings]
    merged = s.per_mix.merge(s.classified[[*keys, *verdicts]], on=keys, how="left")
    shown_kpis = [k for k in SUSTAINABILITY_COLUMNS if (s.per_mix[f"{k}_n"] > 0).any()]
    rows = []
    for r in merged.to_dict("records"):
        row = {"design": r["design"]} if len(f.designs) > 1 else {}
        row |= {short(p): r[p] for p in f.parameters}
        row["mix"] = r["mix"]
        for kpi in shown_kpis:
            header, scale, unit = SUSTAINABILITY_COLUMNS[kpi]
            if header in row:  # a swept parameter's short name: keep both columns
                header = f"{header} (measured)"
            text = interval_text(r[f"{kpi}_mean"], r[f"{kpi}_low"], r[f"{kpi}_high"], 3, scale)
            row[header] = text + (unit if text != "–" else "")
        for k in halvings:
            row[f"after the {sustainability.ORDINALS[k]} halving"] = r[f"after_halving_{k}"]
        rows.append(row)
    return pd.DataFrame(rows)


def _economy_rounds(f: Findings) -> str:
    """The token economy round by round (median and 5–95 % band across replications) at the points
    :func:`views.economy_picks` chooses, with the halvings' median rounds; a note when the sweep kept
    no trajectories."""
    trajectories = ResultStore(f.directory).load("trajectories")
    if trajectories.empty:
        return paragraph(
            "The runs kept no round-by-round trajectories (trajectories = true in the sweep file's [sweep] "
            "table keeps them), so the price, fees and supply are not drawn round by round.",
            "note",
        )
    picks = views.economy_picks(f)
    panels = figures.economy_panels(trajectories)
    if not picks or not panels:
        return paragraph("The trajectories hold no series of the token economy to draw.", "note")
    runs = pd.concat([r for _, r in picks])
    columns = ["run_id", "round", *[p[0] for p in panels]]
    data = trajectories.loc[trajectories["run_id"].isin(runs), columns]
    marks = []
    picked = f.results[f.results["run_id"].isin(runs)]
    for k in sustainability.HALVINGS:
        column = f"halving_{k}_round"
        if column not in picked:
            continue
        rounds = pd.to_numeric(picked[column], errors="coerce")
        if rounds.notna().any():
            marks.append((float(rounds.median()), f"{sustainability.ORDINALS[k]} halving (median round)"))
    first_mix = f" ({f.mixes[0]})" if len(f.mixes) > 1 else ""
    return image(
        figures.economy_bands(trajectories, picks, marks),
        "token economy round by round",
        "Median (line) and 5th–95th percentile (band) across replications at representative points, first "
        f"mix{first_mix}: the token's price, users' queries and the fees they paid, the circulating supply, "
        "the insurance pool, the claims filed and the honest share of trainer owners — those the runs "
        "recorded; vertical lines: the median round of each halving (dotted the first, dash-dotted the "
        "second).",
        data,
        "economy-rounds",
    )


# -- region, sensitivity, what was left out --------------------------------------------------------
def region_section(f: Findings) -> str:
    """The PRIM box of "honesty dominates", per design; or why there is none."""
    boxes = {d: f.boxes.get(d) for d in f.designs} if f.boxes else {f.designs[0]: f.box}
    parts = []
    for design, box in boxes.items():
        title = f"<h3>Design {esc(design)}</h3>" if len(boxes) > 1 else ""
        if box is None:
            note = (
                f.box_note
                if design == f.designs[0]
                else f"Honesty dominates at no point under design {design}."
            )
            parts.append(title + paragraph(note or "There is no region where honesty dominates."))
            continue
        limits = box.limits.reset_index()
        limits.columns = ["parameter", *limits.columns[1:]]
        limits["parameter"] = limits["parameter"].map(short)
        text = paragraph(
            "PRIM (patient rule induction) box for “honesty dominates”: it holds "
            f"{box.coverage:.0%} of the points where honesty dominates (coverage), and honesty dominates at "
            f"{box.density:.0%} of the points inside it (density); it spans {box.mass:.0%} of all points."
        )
        parts.append(title + text + table_html(limits) + csv_link(limits, f"prim-box-{design}"))
    return section("regions", "Region where honesty dominates", "".join(parts))


#: What the final-share ranking is, in words (the margin's method is the findings' own).
SHARE_SENSITIVITY_METHOD = (
    "correlation ratio η² (and Spearman ρ) of the final honest share of trainer owners, per point"
)


def sensitivity_section(f: Findings) -> str:
    """What matters for the trainers' margin and, in an adaptive sweep, for the final honest share."""
    body = ""
    rankings = [(f.sensitivity, f.sensitivity_method, "sensitivity")]
    rankings.append((f.share_sensitivity, SHARE_SENSITIVITY_METHOD, "sensitivity-final-share"))
    for ranking, method, name in rankings:
        if ranking is None:
            continue
        table = ranking.reset_index().rename(columns={"index": "parameter"})
        body += image(figures.sensitivity_bars(ranking, method), name, method, table, name)
        body += table_html(table, _headers(table))
    return section("sensitivity", "What matters", body) if body else ""


def left_out_section(f: Findings) -> str:
    body = ""
    dropped = getattr(f, "dropped", None)
    if dropped is not None and not dropped.empty:
        body += (
            "<h3>Runs with a missing KPI</h3>"
            + paragraph(
                "These runs finished, but a KPI was undefined for them (not a number) and they are left "
                "out of that KPI's statistics:",
                "note",
            )
            + table_html(dropped, _headers(dropped))
        )
    left_out = getattr(f, "left_out", None)
    if left_out is not None and not left_out.empty:
        body += (
            "<h3>Mixes left out of a margin</h3>"
            + paragraph(
                "A margin compares honest participants with a deviation; in these mixes the deviation "
                "is absent, so the question does not arise there and the verdict rests on the other mixes:",
                "note",
            )
            + table_html(left_out, _headers(left_out))
        )
    failures = f.failures
    if len(failures):
        body += "<h3>Failed runs</h3>" + table_html(
            failures.head(200),
            {"run_id": "run", "point": "point", "mix": "mix", "seed": "seed", "error": "error"},
        )
        if len(failures) > 200:
            body += paragraph(f"First 200 of {len(failures):,}; the rest are in the results table.", "note")
    else:
        body += paragraph("No run failed.")
    return section("failures", "Failed runs and missing values", body)


def scenario_section(f: Findings) -> str:
    table = scenario_table(f.manifest)
    if table.empty:
        return ""
    body = paragraph(
        "Every key of the scenario each run started from: its unit, its value, and what set it — the "
        "default, the base scenario file, the sweep's [fixed] table, a design or mix, or the sweep itself.",
        "note",
    )
    return section(
        "scenario", "The base scenario", body + table_html(table) + csv_link(table, "base-scenario")
    )


# -- provenance -----------------------------------------------------------------------------------
def _rate(runs: int, seconds: float) -> str:
    return f"{runs / seconds:,.1f}" if seconds else "–"


def metadata_html(f: Findings) -> str:
    m = f.manifest
    sessions = [s for s in m.get("sessions") or [] if isinstance(s, dict)]
    runs = len(f.results)
    wall = sum(float(s.get("wall_time_s") or 0.0) for s in sessions)
    executed = sum(int(s.get("runs_executed") or 0) for s in sessions)
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    mixes = f.mixes or ["base"]
    designs = f.designs
    points = m.get("design_points") or max(int(m.get("points") or 0) // max(len(mixes) * len(designs), 1), 0)
    items = [
        ("sweep", m.get("sweep_name")),
        ("sweep file", m.get("sweep_file")),
        ("content hash (SHA-256)", m.get("content_hash")),
        (
            "design of experiments",
            f"{m.get('design')}: {points} parameter points × {len(designs)} design(s) × "
            f"{len(mixes)} mix(es) × "
            f"{m.get('replications')} replications",
        ),
        ("designs", ", ".join(map(str, designs))),
        ("population mixes", ", ".join(map(str, mixes))),
        (
            "seed",
            f"sweep seed {m.get('seed')}; each run's seed derives from "
            "(sweep seed, point, mix, replication), "
            "the same for every design",
        ),
        ("runs", f"{runs:,} of {m.get('total_runs', runs):,} with results; {len(f.failures):,} failed"),
        ("wall time", f"{wall:,.1f} s over {len(sessions)} session(s); {_rate(executed, wall)} runs/s"),
        ("workers", "; ".join(f"{s.get('workers')} × {s.get('executor')}" for s in sessions)),
        ("cores", m.get("cores")),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
        ("git commit", m.get("git_commit") or "not a git checkout"),
        ("report written", time.strftime("%Y-%m-%d %H:%M:%S %z")),
    ]
    rows = "".join(f'<tr><th>{esc(k)}</th><td class="text">{esc(v)}</td></tr>' for k, v in items)
    return f"<table>{rows}</table>"


def methods_html(f: Findings) -> str:
    notes = list(getattr(f, "notes", []) or [])
    if not notes:
        return ""
    return "<h3>Methods</h3>" + bullet_list(notes)


def write_findings(findings: Findings, out: str | Path) -> Path:
    """Write the report of ``findings`` to ``out`` (atomically: a reader never sees half a file)."""
    text = build_report(findings)
    out = Path(out)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out


def write_reports(findings: list[Findings], out: str | Path) -> Path:
    """Write the report of one or more sweeps to ``out`` (atomically). One sweep whose runs share a
    regime gets its own report, exactly as :func:`write_findings` writes it; several sweeps, or one
    whose runs cover both regimes, the combined report that opens with "Token or tokenless?"."""
    if not findings:
        raise ValueError("no sweep to report: name at least one results directory")
    if not regimes.needs_comparison(findings):
        return write_findings(findings[0], out)
    text = build_combined_report(findings)
    out = Path(out)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out


def write_report(directory: str | Path, out: str | Path, slices: dict | None = None) -> Path:
    """Analyse the sweep in ``directory`` and write its report to ``out``."""
    return write_findings(analyze(directory, slices=slices), out)
