"""The self-contained HTML report of a sweep: one file, figures inline, no script, no external file.

Every piece of text that comes from a user — scenario and sweep names, notes, parameter values,
error messages — goes through ``html.escape``.
"""

from __future__ import annotations

import base64
import html
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.findings import Findings, analyze, findings_table, short
from analysis.report import figures
from analysis.sweep.output import atomic_write
from analysis.sweep.store import ResultStore

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.subtitle { color: #555; margin-top: 0; }
.summary li { margin: 0.4em 0; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f5f5f5; } td.text { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; }
"""


def esc(value) -> str:
    """Text made safe for HTML."""
    return html.escape(str(value), quote=True)


def image(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        return f"{value:,.{digits}g}"
    return esc(value)


def table_html(df: pd.DataFrame, columns: dict[str, str] | None = None) -> str:
    """A DataFrame as an HTML table; ``columns`` maps column → header (and picks the columns)."""
    columns = columns or {c: c for c in df.columns}
    head = "".join(f"<th>{esc(label)}</th>" for label in columns.values())
    rows = []
    for _, row in df.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            cells.append(f"<td>{number(v)}</td>" if numeric else f'<td class="text">{esc(v)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def representative_points(f: Findings) -> list[tuple[str, pd.Series]]:
    """Up to three points at the middle reward level: one that fails, one near the boundary, one
    where honesty dominates — each as (label, run ids of its replications, first mix)."""
    if f.y is None or f.deterrence is None:
        return []
    levels = sorted(f.classified[f.y].unique())
    level = levels[len(levels) // 2]
    at = f.classified[f.classified[f.y] == level].sort_values(f.x)
    mix = (f.manifest.get("mixes") or ["base"])[0]
    chosen = []
    failing = at[at["honesty"] == "fails"]
    if len(failing):
        chosen.append(("fails", failing.iloc[0][f.x]))
    boundary = f.deterrence.set_index(f.y).loc[level]
    if boundary["where"] == "inside":
        nearest = at.iloc[(at[f.x] - boundary["estimate"]).abs().argsort().iloc[0]][f.x]
        chosen.append(("near the boundary", nearest))
    winning = at[at["honesty"] == "dominates"]
    if len(winning):
        chosen.append(("dominates", winning.iloc[len(winning) // 2][f.x]))
    picks = []
    for label, x_value in chosen:
        at_y = f.results[f.y] == level if isinstance(level, str) else np.isclose(f.results[f.y], level)
        rows = f.results[np.isclose(f.results[f.x], x_value) & at_y & (f.results["mix"] == mix)]
        picks.append((f"{label}: {short(f.x)} {x_value:.3g}", rows["run_id"]))
    return picks


def _design_points(m: dict) -> int:
    return int(m.get("points", 0)) // max(len(m.get("mixes") or [1]), 1)


def _rate(runs: int, seconds: float) -> str:
    return f"{runs / seconds:,.1f}" if seconds else "–"


def metadata_html(f: Findings) -> str:
    m = f.manifest
    sessions = m.get("sessions", [])
    runs = len(f.results)
    wall = sum(s.get("wall_time_s", 0.0) for s in sessions)
    executed = sum(s.get("runs_executed", 0) for s in sessions)
    versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
    items = [
        ("sweep", m.get("sweep_name")),
        ("sweep file", m.get("sweep_file")),
        ("content hash (SHA-256)", m.get("content_hash")),
        (
            "design",
            f"{m.get('design')}: {m.get('points')} points ({_design_points(m)} parameter points × "
            f"{len(m.get('mixes') or [1])} mixes) × {m.get('replications')} replications",
        ),
        ("population mixes", ", ".join(m.get("mixes") or ["base"])),
        (
            "seed",
            f"sweep seed {m.get('seed')}; each run's seed derives from (sweep seed, point, replication)",
        ),
        ("runs", f"{runs:,} of {m.get('total_runs', runs):,} with results; {len(f.failures):,} failed"),
        (
            "wall time",
            f"{wall:,.1f} s over {len(sessions)} session(s); {_rate(executed, wall)} runs/s",
        ),
        ("workers", "; ".join(f"{s.get('workers')} × {s.get('executor')}" for s in sessions)),
        ("cores", m.get("cores")),
        ("versions", versions),
        ("git commit", m.get("git_commit") or "not a git checkout"),
        ("report written", time.strftime("%Y-%m-%d %H:%M:%S %z")),
    ]
    rows = "".join(f'<tr><th>{esc(k)}</th><td class="text">{esc(v)}</td></tr>' for k, v in items)
    return f"<table>{rows}</table>"


def build_report(f: Findings) -> str:
    """The report's HTML text."""
    name = f.manifest.get("sweep_name") or f.directory.name
    parts = [
        f"<h1>Where honesty dominates: {esc(name)}</h1>",
        f'<p class="subtitle">{esc(f.manifest.get("notes") or "")}</p>',
        section(
            "summary",
            "Summary",
            "<ul class='summary'>" + "".join(f"<li>{esc(s)}</li>" for s in f.summary) + "</ul>",
        ),
    ]
    if f.x and f.y:
        phase = image(
            figures.phase_diagram(f),
            "phase diagram",
            "Blue: honest trainers earn more than the best cheating strategy; red: less. "
            "Dots with bars: where the margin crosses zero and its 95 % band; "
            "crosses joined by dashes: the closed form's bounds.",
        )
        if f.analytic is not None:
            phase += table_html(
                findings_table(f),
                {
                    f.y: short(f.y),
                    "deterrence": "deterrence (sim.)",
                    "det_low": "band low",
                    "det_high": "band high",
                    "det_analytic": "deterrence (analytic)",
                    "participation": "participation (sim.)",
                    "part_analytic": "participation (analytic)",
                    "share_dominates": "share of points where honesty dominates",
                },
            )
        parts.append(section("phase-diagram", "Phase diagram", phase))
        parts.append(
            section(
                "verdicts",
                "Verdicts",
                image(
                    figures.verdict_map(f),
                    "verdict map",
                    "Honesty dominates / is uncertain / fails at each point "
                    "(trainers beat every deviation and honest work pays, under every mix).",
                ),
            )
        )
        mixes = f.manifest.get("mixes") or ["base"]
        parts.append(
            section(
                "payoffs",
                "Payoffs per strategy",
                "".join(
                    image(
                        figures.payoff_curves(f, mix),
                        f"payoff curves, {mix}",
                        "Mean profit per round per unit of capital of each strategy's owners.",
                    )
                    for mix in mixes
                ),
            )
        )
        parts.append(
            section(
                "validators",
                "Validators",
                image(
                    figures.phase_diagram(f, "validators", "Validators' margin: honest minus copying"),
                    "validator margin",
                    "Blue: honest evaluation earns more than copying the consensus; red: less.",
                ),
            )
        )
    trajectories = ResultStore(f.directory).load("trajectories")
    picks = representative_points(f)
    if len(trajectories) and picks:
        parts.append(
            section(
                "rounds",
                "Round by round",
                image(
                    figures.round_bands(trajectories, picks),
                    "per-round bands",
                    "Median (line) and 5th–95th percentile (band) across replications, at three points of "
                    "the middle reward level (first mix).",
                ),
            )
        )
    parts.append(section("regions", "Region where honesty dominates", region_html(f)))
    if f.sensitivity is not None:
        table = f.sensitivity
        parts.append(
            section(
                "sensitivity",
                "What matters",
                image(
                    figures.sensitivity_bars(table, f.sensitivity_method), "sensitivity", f.sensitivity_method
                )
                + table_html(table.reset_index().rename(columns={"index": "parameter"})),
            )
        )
    failures = f.failures
    body = (
        table_html(
            failures.head(200),
            {"run_id": "run", "point": "point", "mix": "mix", "seed": "seed", "error": "error"},
        )
        if len(failures)
        else "<p>No run failed.</p>"
    )
    parts.append(section("failures", "Failed runs", body))
    parts.append(section("metadata", "How this was computed", metadata_html(f)))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fedstake report: {esc(name)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )


def region_html(f: Findings) -> str:
    box = f.box
    if box is None:
        return "<p>Honesty dominates nowhere in this sweep, so there is no region to describe.</p>"
    limits = box.limits.reset_index()
    limits.columns = ["parameter", *limits.columns[1:]]
    limits["parameter"] = limits["parameter"].map(short)
    text = (
        "<p>PRIM (patient rule induction) box for “honesty dominates”: it holds "
        f"{box.coverage:.0%} of the points where honesty dominates (coverage), and honesty dominates at "
        f"{box.density:.0%} of the points inside it "
        f"(density); it spans {box.mass:.0%} of all points.</p>"
    )
    return text + table_html(limits, {c: c for c in limits.columns})


def write_report(directory: str | Path, out: str | Path) -> Path:
    """Analyse the sweep in ``directory`` and write its report to ``out`` (atomically)."""
    findings = analyze(directory)
    text = build_report(findings)
    out = Path(out)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out
