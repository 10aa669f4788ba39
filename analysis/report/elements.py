"""HTML building blocks of the report: escaped text, numbers, tables, figures with their data.

Everything a user wrote — scenario and sweep names, notes, mix and design names, parameter values,
error messages — goes through :func:`esc`. The page has no script and loads nothing: figures are
PNG ``data:`` URIs and every figure's data is a CSV ``data:`` URI behind a download link, so the
file works offline and can be checked number by number.
"""

from __future__ import annotations

import base64
import html
import math
import re

import numpy as np
import pandas as pd

#: Bigger than this, a figure's CSV is not embedded (the link says so); keeps the page light.
MAX_CSV_BYTES = 2_000_000


def esc(value) -> str:
    """Text made safe for HTML."""
    return html.escape(str(value), quote=True)


def is_number(value) -> bool:
    """True for ints and floats (Python or numpy), not for booleans."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def switch_text(value) -> str | None:
    """A boolean as TOML writes it (``true`` / ``false``); None for anything else."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return None


def number(value, digits: int = 4) -> str:
    """A number as text: ``–`` for missing, ∞ for infinities, thousands separators, ``digits``
    significant figures for floats; a boolean as TOML writes it; anything else escaped as text."""
    if switch_text(value) is not None:
        return switch_text(value)
    if value is None or (is_number(value) and math.isnan(value)):
        return "–"
    if is_number(value) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{value:,}"
    if is_number(value):
        return f"{value:,.{digits}g}"
    return esc(value)


def decimals_for(width: float) -> int:
    """Decimal places that resolve an interval of ``width`` to about a tenth of itself — as many
    digits as the grid and the replications support, and no more."""
    if not math.isfinite(width) or width <= 0:
        return 3
    return max(0, -math.floor(math.log10(width)) + 1)


def estimate_text(estimate: float, low: float, high: float, step: float | None = None) -> str:
    """``0.107 (0.102–0.113)``: an estimate with its interval, rounded to what the interval (or,
    when an end is open, the grid ``step``) resolves. Open ends are written ``<`` / ``>``."""
    if estimate is None or not math.isfinite(estimate):
        return "–"
    finite = math.isfinite(low) and math.isfinite(high)
    places = decimals_for(high - low if finite else (step or abs(estimate) or 1.0))
    text = f"{estimate:.{places}f}"
    if finite:
        return f"{text} ({low:.{places}f}–{high:.{places}f})"
    ends = [
        f"> {low:.{places}f}" if math.isfinite(low) else "",
        f"< {high:.{places}f}" if math.isfinite(high) else "",
    ]
    ends = [e for e in ends if e]
    return f"{text} ({', '.join(ends) or 'band open on both sides'})"


def table_html(df: pd.DataFrame, columns: dict[str, str] | None = None, digits: int = 4) -> str:
    """A DataFrame as an HTML table; ``columns`` maps column → header (and picks the columns)."""
    columns = columns or {c: str(c) for c in df.columns}
    head = "".join(f"<th>{esc(label)}</th>" for label in columns.values())
    rows = []
    for values in df[list(columns)].itertuples(index=False, name=None):
        cells = (
            f"<td>{number(v, digits)}</td>" if is_number(v) else f'<td class="text">{esc(_text(v))}</td>'
            for v in values
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _text(value) -> str:
    if switch_text(value) is not None:
        return switch_text(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "–"
    return str(value)


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (for CSV download names)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-")[:80] or "data"


def csv_link(data: pd.DataFrame, filename: str, label: str = "data (CSV)") -> str:
    """A link that downloads ``data`` as a CSV file, embedded in the page (works offline)."""
    text = data.to_csv(index=False)
    if len(text) > MAX_CSV_BYTES:
        return (
            f'<span class="note">({esc(label)}: {len(text) / 1e6:.1f} MB, too large to embed; '
            "read the results directory with pandas)</span>"
        )
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="csv" download="{esc(slug(filename))}.csv" '
        f'href="data:text/csv;charset=utf-8;base64,{payload}">{esc(label)}</a>'
    )


def image(png: bytes, alt: str, caption: str, data: pd.DataFrame | None = None, filename: str = "") -> str:
    """An inline PNG figure with its caption and, when given, a link to the data it was drawn from."""
    encoded = base64.b64encode(png).decode("ascii")
    link = f" {csv_link(data, filename or alt)}" if data is not None else ""
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}{link}</figcaption></figure>"
    )


def section(anchor: str, title: str, body: str) -> str:
    """A titled section of the page."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def paragraph(text: str, css: str = "") -> str:
    """Escaped text as a paragraph."""
    attribute = f' class="{css}"' if css else ""
    return f"<p{attribute}>{esc(text)}</p>"


def bullet_list(items: list[str], css: str = "") -> str:
    """Escaped text items as a list."""
    attribute = f' class="{css}"' if css else ""
    return f"<ul{attribute}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def interval_text(mean: float, low: float, high: float, digits: int = 3, scale: float = 1.0) -> str:
    """``3.65 (3.52 to 3.78)``: a mean with its interval, ``digits`` significant figures, each
    times ``scale``; the mean alone when the interval is open (one replication) or too narrow to
    show at those digits, ``–`` for none."""
    if mean is None or not math.isfinite(mean):
        return "–"
    text = _significant(mean * scale, digits)
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        ends = _significant(low * scale, digits), _significant(high * scale, digits)
        if ends != (text, text):  # an interval the digits cannot tell from its mean says nothing
            text += f" ({ends[0]} to {ends[1]})"
    return text


def _significant(value: float, digits: int) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 ** (digits - 1) else f"{value:,.{digits}g}"


def nav(links: list[tuple[str, str]], css: str = "") -> str:
    """Links to sections of the page: (anchor, text) each."""
    attribute = f' class="{css}"' if css else ""
    return (
        f"<nav{attribute}>" + "".join(f'<a href="#{esc(a)}">{esc(text)}</a>' for a, text in links) + "</nav>"
    )
