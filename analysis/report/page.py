"""The self-contained HTML report of a sweep: one file, figures inline, data downloadable, no script.

The page answers in the order a tokenomics designer asks: what the sweep found (plain words), which
design wins where (when the sweep compares designs), where honesty dominates for the sweep's shape
(thresholds of a 1-D sweep, boundary curves of a 2-D one, slices of more), what each strategy earns
near those boundaries (in % of capital and in fiat), how a run unfolds round by round, the region
and what matters most, what was left out, the scenario every run started from, and how it was
computed.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import adaptation, boundaries, dominance
from analysis.findings import Findings, analyze, short
from analysis.report import figures, views
from analysis.report.elements import (
    bullet_list,
    csv_link,
    esc,
    estimate_text,
    image,
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
    sections = [
        section("summary", "Summary", bullet_list(f.summary, "summary")),
        designs_section(f),
        answer_section(f),
        adaptation_section(f),
        payoffs_section(f),
        validators_section(f),
        rounds_section(f),
        region_section(f),
        sensitivity_section(f),
        left_out_section(f),
        scenario_section(f),
        section("metadata", "How this was computed", metadata_html(f) + methods_html(f)),
    ]
    sections = [s for s in sections if s]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fedstake report: {esc(name)}</title><style>{CSS}</style></head><body>"
        f"<h1>Where honesty dominates: {esc(name)}</h1>"
        f'<p class="subtitle">{esc(f.manifest.get("notes") or "")}</p>' + "".join(sections) + "</body></html>"
    )


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
    body = image(
        figures.margin_lines(f.classified, f.x, group, f.thresholds),
        "margins along the swept parameter",
        "Lines: the worst mix's mean margin; bands: its one-sided 95 % lower and upper bounds; dotted: "
        "where a verdict changes.",
        f.classified,
        "margins",
    )
    if f.thresholds is not None and not f.thresholds.empty:
        t = f.thresholds.copy()
        t["threshold (95 % interval)"] = _boundary_texts(t, _step(f, f.x), None, f.x in f.integer)
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
            **_continuous(f),
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
        figures.verdict_panels(panels, f.x, f.y, "honesty", "Where honesty dominates", **_continuous(f)),
        "verdict map",
        "Dominates: the one-sided 95 % lower bound of the trainers' margin is above zero and honest "
        f"work pays at least the outside option{ends_honest}, under every mix; fails: an upper bound "
        "is below zero; uncertain: neither.",
        f.classified[[c for c in f.classified.columns if not c.endswith(("_lower", "_upper"))]],
        "verdicts",
    )
    title = "Phase diagram" + (" (slices)" if f.shape == "n-D" else "")
    return section("phase-diagram", title, body)


def _continuous(f: Findings) -> dict:
    """Drawing options for a sampled design: points on continuous axes, y on its own scale."""
    if f.shape != "sampled":
        return {}
    specs = {s.get("path"): s for s in f.manifest.get("parameter_specs") or [] if isinstance(s, dict)}
    return {"sampled": True, "log_y": specs.get(f.y, {}).get("scale") == "log"}


def boundary_table(f: Findings) -> pd.DataFrame | None:
    """Per design, slice and level of y: simulated boundaries with their bands beside the analytic
    bounds (said to be infeasible when outside [0, 1]), and the share of points that dominate."""
    if f.deterrence is None:
        return None
    keys = [c for c in (*f.group_columns, f.y) if c in f.deterrence]
    step = _step(f, f.x)
    frame = f.deterrence[keys]
    out = frame.copy()
    whole = f.x in f.integer
    out["deterrence (simulated)"] = _boundary_texts(f.deterrence, step, "deterrence", whole)
    if f.participation is not None:
        out["participation (simulated)"] = _boundary_texts(
            frame.merge(f.participation, on=keys, how="left"), step, "participation", whole
        )
    if f.analytic is not None:
        analytic = frame.merge(f.analytic, on=[k for k in keys if k in f.analytic], how="left")
        approximate = [
            bool(a) if isinstance(a, list | tuple | np.ndarray) else False
            for a in analytic.get("assumptions", [None] * len(analytic))
        ]
        out["deterrence (analytic)"] = [
            _analytic_text(v, "deterrence", a)
            for v, a in zip(analytic["deterrence"], approximate, strict=True)
        ]
        out["participation (analytic)"] = [
            _analytic_text(v, "participation", a)
            for v, a in zip(analytic["participation"], approximate, strict=True)
        ]
    if f.shape == "sampled":  # levels of y are the fitted curve's, not sampled points
        return out
    share = f.classified.groupby(keys)["honesty"].apply(lambda s: (s == "dominates").mean()).rename("share")
    shares = frame.merge(share.reset_index(), on=keys, how="left")["share"]
    out["share dominating"] = [f"{v:.0%}" if math.isfinite(v) else "–" for v in shares]
    return out


#: What a boundary outside the swept range means, per margin: deterrence rises with the slash
#: fraction (past zero at the first point: it holds throughout), participation falls (past zero at
#: the first point: honest work pays nowhere in the range).
OUTSIDE_RANGE = {
    ("deterrence", boundaries.BELOW): "deters throughout the range",
    ("deterrence", boundaries.ABOVE): "deters nowhere in the range",
    ("participation", boundaries.BELOW): "pays nowhere in the range",
    ("participation", boundaries.ABOVE): "pays throughout the range",
}


def _boundary_texts(table: pd.DataFrame, step: float | None, margin: str | None, whole: bool) -> list[str]:
    """Each boundary row as text: the estimate with its band, or — along a whole-number axis — the
    two whole numbers the verdict changes between; outside the range, what that means for the
    ``margin`` (None: a 1-D threshold, whose row names its margin)."""
    texts = []
    for r in table.itertuples():
        name = margin or getattr(r, "name", None)
        expected = {"deterrence": "rising", "participation": "falling"}.get(name)
        if r.where == boundaries.INSIDE:
            low, high = getattr(r, "between_low", math.nan), getattr(r, "between_high", math.nan)
            if whole and math.isfinite(low) and math.isfinite(high):
                text = f"between {low:g} and {high:g}"
            else:
                text = estimate_text(r.estimate, r.band_low, r.band_high, step)
            direction = getattr(r, "direction", None)
            if isinstance(direction, str) and expected and direction != expected:
                text += f", {direction}"
            texts.append(text)
        elif isinstance(r.where, str):
            texts.append(OUTSIDE_RANGE.get((name, r.where), r.where))
        else:
            texts.append("–")
    return texts


#: How a bound outside [0, 1] reads: it is not a slash fraction one can set.
OUT_OF_RANGE = {
    ("deterrence", "below"): "none needed (bound < 0)",
    ("deterrence", "above"): "infeasible (bound > 1)",
    ("participation", "below"): "pays at no slash fraction (bound < 0)",
    ("participation", "above"): "pays at every slash fraction (bound > 1)",
}


def _analytic_text(value, bound: str, approximate: bool = False) -> str:
    """A slash-fraction ``bound`` ('deterrence' or 'participation') as text; ``approximate`` when
    the closed form's assumptions do not hold there (e.g. score-weighted rewards, validator
    dropout, liquid buffers that run dry)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if value < 0 or value > 1:
        text = OUT_OF_RANGE[(bound, "below" if value < 0 else "above")]
    else:
        text = f"{value:.3f}"
    return text + (" (approx.)" if approximate else "")


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
    body = paragraph(
        "Verdicts side by side per category (robust over every mix). Margins are in profit per round "
        "per unit of capital; lower = one-sided 95 % lower bound.",
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
                "Each panel one level where a boundary lies (all levels when none does). Top: profit "
                "per round per unit of capital committed; bottom: fiat profit per owner per round. "
                "Bands: two-sided 95 % "
                "intervals over the replications.",
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


def validators_section(f: Findings) -> str:
    if f.shape in ("2-D", "n-D", "sampled") and f.x and f.y:
        panels = views.panels(f)
        if panels:
            body = image(
                figures.phase_panels(
                    panels,
                    f.x,
                    f.y,
                    "validators",
                    "Validators' margin: honest minus copying",
                    **_continuous(f),
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
            return section("validators", "Validators", body)
    counts = f.classified["validators"].value_counts()
    text = ", ".join(f"{k} at {v}" for k, v in counts.items())
    return section(
        "validators", "Validators", paragraph(f"Honest validation versus copying: {text} point(s).")
    )


# -- round by round -------------------------------------------------------------------------------
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
    body = image(
        figures.round_bands(trajectories, picks),
        "per-round bands",
        f"Median (line) and 5th–95th percentile (band) across replications at representative points{where}, "
        "first mix: the trainers' margin, the model's quality and the token stocks.",
        data,
        "rounds",
    )
    body += image(
        figures.strategy_rounds(trajectories, picks, list(views.STRATEGIES)),
        "stake and participation per strategy",
        "Per strategy, median over replications: its share of all bonded stake, and how many of its "
        "identities are still registered (cheaters that cannot restake after slashes deregister).",
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


def write_report(directory: str | Path, out: str | Path, slices: dict | None = None) -> Path:
    """Analyse the sweep in ``directory`` and write its report to ``out``."""
    return write_findings(analyze(directory, slices=slices), out)
