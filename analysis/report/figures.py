"""The report's figures, drawn with matplotlib and returned as PNG bytes (to embed inline).

Each function takes plain DataFrames (the findings' tables, or summaries of the results) so the
same drawing serves every design, slice and mix; the page embeds the same DataFrame as CSV beside
the figure. Legends sit below the axes, never on the data.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, TwoSlopeNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from analysis import boundaries
from analysis.findings import STRATEGY_LABELS, short
from analysis.regimes import MARGIN_UNITS, TOKEN, TOKENLESS

VERDICT_COLOURS = {"fails": "#c0392b", "uncertain": "#f1c40f", "dominates": "#27ae60"}
STRATEGY_COLOURS = {
    "honest": "#1f77b4",
    "lazy": "#ff7f0e",
    "sybil": "#9467bd",
    "poisoning": "#d62728",
    "honest_validator": "#2ca02c",
    "copying_validator": "#8c564b",
}
PICK_COLOURS = ["#c0392b", "#f39c12", "#27ae60", "#2c3e50"]
DPI = 100
#: At most this many panels in one small-multiples figure (designs × slices).
MAX_PANELS = 12

# matplotlib reads "$...$" in any text as mathematics; user text (mix and design names) is literal.
plt.rcParams["text.parse_math"] = False


def png(fig) -> bytes:
    """Render ``fig`` to PNG bytes and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    plt.close(fig)
    return buffer.getvalue()


def level_label(value) -> str:
    """A level as a tick label: numbers compactly, a switch as TOML writes it (``true`` / ``false``),
    anything else (a rule's name) as is."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return f"{value:,.4g}"
    return str(value)


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (for pcolormesh)."""
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    middle = (values[:-1] + values[1:]) / 2
    return np.concatenate([[2 * values[0] - middle[0]], middle, [2 * values[-1] - middle[-1]]])


def _grid(n: int) -> tuple[int, int]:
    columns = min(n, 3)
    return math.ceil(n / columns), columns


#: Width one legend entry needs at font size 8 (a swatch and a label like "copying validators"), inches.
LEGEND_ENTRY_INCHES = 1.7


def _sampled_points(
    ax, points: pd.DataFrame, x: str, y: str, column: str, norm, log_y: bool, scale: float = 100.0
):
    """A sampled design's points coloured by ``column`` times ``scale`` (a fraction drawn in %, by
    default); the colour mapping."""
    mesh = ax.scatter(
        points[x],
        points[y],
        c=points[column] * scale,
        cmap="RdBu",
        norm=norm,
        s=28,
        edgecolors="grey",
        linewidths=0.3,
    )
    if log_y:
        _log_axis(ax)
    return mesh


def _legend_below(fig, handles, labels, columns: int = 3) -> None:
    """A legend under the axes (constrained layout makes room for it), never on the data; never
    more columns than fit the figure's width, so no label is cut off."""
    if handles:
        fit = max(1, int(fig.get_figwidth() // LEGEND_ENTRY_INCHES))
        fig.legend(
            handles, labels, loc="outside lower center", ncol=min(columns, fit), fontsize=8, frameon=False
        )


#: The unit of a token run's margins (profit per round per unit of capital, drawn in %), and of a
#: tokenless run's (fiat profit per owner per round: a tokenless owner commits no capital).
TOKEN_MARGIN_UNIT = MARGIN_UNITS[TOKEN]
TOKENLESS_MARGIN_UNIT = MARGIN_UNITS[TOKENLESS]


@dataclass
class Panel:
    """One (design, slice) of a two-parameter view: its title and the rows that belong to it, and
    the unit its margins are drawn in (``scale`` times the margin, in ``unit``)."""

    title: str
    classified: pd.DataFrame
    deterrence: pd.DataFrame | None = None
    participation: pd.DataFrame | None = None
    analytic: pd.DataFrame | None = None
    scale: float = TOKEN_MARGIN_UNIT[0]
    unit: str = TOKEN_MARGIN_UNIT[1]


def _matrix(classified: pd.DataFrame, x: str, y: str, column: str):
    table = classified.pivot_table(index=y, columns=x, values=column, aggfunc="first", dropna=False)
    return table.columns.to_numpy(float), table.index.to_numpy(), table.to_numpy(float)


def _panel_grid(n: int, panel_height: float):
    """A figure with ``n`` panels in rows of at most three (constrained layout, room for a legend)."""
    rows, columns = _grid(n)
    return plt.subplots(
        rows,
        columns,
        figsize=(max(5.2 * columns, 7.5), panel_height * rows + 0.8),
        squeeze=False,
        layout="constrained",
    )


def _finish_grid(axes, used: int, y_label: str) -> None:
    """Label the first column's y axes and hide the panels left empty."""
    for ax in axes[:, 0]:
        ax.set_ylabel(y_label)
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def _margin_norm(panels: list[Panel], column: str) -> TwoSlopeNorm:
    """A colour scale centred on zero that holds every panel's ``column`` in its display unit."""
    values = np.concatenate([p.classified[column].to_numpy(float) * p.scale for p in panels])
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    return TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)


def phase_panels(
    panels: list[Panel],
    x: str,
    y: str,
    name: str,
    title: str,
    sampled: bool = False,
    log_y: bool = False,
    log_x: bool = False,
) -> bytes:
    """The worst mix's mean margin ``name`` over (x, y), one panel per design/slice, on one colour
    scale, with the simulated boundaries (95 % bands) and the analytic bounds. A grid is drawn as
    a heatmap (one row per level of y); a ``sampled`` design as its points, on continuous axes
    (``log_y``: y on a log scale), with the fitted boundary as a curve and its band shaded;
    ``log_x``: x on a log scale (a range swept in log steps). Panels whose margins are in different
    units (a token and a tokenless panel) get a colour scale each."""
    panels = panels[:MAX_PANELS]
    fig, axes = _panel_grid(len(panels), 3.6)
    shared = len({p.unit for p in panels}) == 1
    norm = _margin_norm(panels, f"{name}_mean")
    mesh = None
    for ax, panel in zip(axes.flat, panels, strict=False):
        if not shared:
            norm = _margin_norm([panel], f"{name}_mean")
        if sampled:
            mesh = _sampled_points(ax, panel.classified, x, y, f"{name}_mean", norm, log_y, panel.scale)
            if name == "trainers":
                _draw_curve(ax, panel.deterrence, y, "black", "fitted deterrence boundary (95 % band)")
                _draw_curve(
                    ax, panel.participation, y, "#6a1b9a", "fitted participation boundary (95 % band)"
                )
                _draw_analytic_curve(ax, panel.analytic, y)
        else:
            xs, ys, z = _matrix(panel.classified, x, y, f"{name}_mean")
            index = np.arange(len(ys), dtype=float)
            mesh = ax.pcolormesh(
                _x_edges(xs, log_x), _edges(index), z * panel.scale, cmap="RdBu", norm=norm, shading="flat"
            )
            if name == "trainers":
                _draw_boundary(
                    ax, panel.deterrence, y, ys, "black", "simulated deterrence boundary (95 % band)"
                )
                _draw_boundary(
                    ax, panel.participation, y, ys, "#6a1b9a", "simulated participation boundary (95 % band)"
                )
                _draw_analytic(ax, panel.analytic, y, ys, xs)
            ax.set_yticks(index, [level_label(v) for v in ys])
        if log_x:
            _log_x_axis(ax)
        ax.set_xlabel(short(x))
        ax.set_title(panel.title, fontsize=9)
        if not shared:
            fig.colorbar(mesh, ax=ax, label=f"margin, {panel.unit}", shrink=0.9)
    _finish_grid(axes, len(panels), short(y))
    if shared:
        fig.colorbar(mesh, ax=axes, label=f"margin, {panels[0].unit} (worst mix)", shrink=0.9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    _legend_below(fig, handles, labels, 2)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


def _log_axis(ax) -> None:
    """A log-scaled y axis labelled with plain numbers (labels are never parsed as mathtext)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: level_label(value)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _log_x_axis(ax) -> None:
    """A log-scaled x axis labelled with plain numbers."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: level_label(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _x_edges(xs: np.ndarray, log_x: bool) -> np.ndarray:
    """Cell edges around the levels of x: midway between them, in log space on a log axis."""
    if log_x and len(xs) and (xs > 0).all():
        return np.exp(_edges(np.log(xs)))
    return _edges(xs)


def _draw_curve(ax, table: pd.DataFrame | None, y: str, colour: str, label: str) -> None:
    """A fitted boundary over continuous y: the estimate as a line, its band shaded."""
    if table is None or table.empty:
        return
    t = table[table["where"] == boundaries.INSIDE].sort_values(y)
    if t.empty:
        return
    left, right = ax.get_xlim()
    ys = t[y].to_numpy(float)
    low = np.clip(t["band_low"].to_numpy(float), left, right)
    high = np.clip(t["band_high"].to_numpy(float), left, right)
    ax.fill_betweenx(ys, low, high, color=colour, alpha=0.15, linewidth=0)
    ax.plot(t["estimate"], ys, color=colour, marker=".", label=label)


def _draw_analytic_curve(ax, analytic: pd.DataFrame | None, y: str) -> None:
    if analytic is None or analytic.empty:
        return
    a = analytic.sort_values(y)
    left, right = ax.get_xlim()
    for column, colour in (("deterrence", "black"), ("participation", "#6a1b9a")):
        values = a[column].to_numpy(float)
        shown = np.where((values >= left) & (values <= right), values, np.nan)
        if np.isfinite(shown).any():
            ax.plot(shown, a[y], linestyle="--", color=colour, label=f"analytic {column} bound")


def _draw_boundary(ax, table: pd.DataFrame | None, y: str, ys: np.ndarray, colour: str, label: str) -> None:
    if table is None or table.empty:
        return
    t = table.drop_duplicates(y).set_index(y).reindex(ys)
    inside = (t["where"] == boundaries.INSIDE).to_numpy()
    rows = np.arange(len(ys))[inside]
    if not len(rows):
        return
    est = t["estimate"].to_numpy(float)[inside]
    left, right = ax.get_xlim()  # a band end beyond the swept range is drawn to its edge
    low = np.clip(t["band_low"].to_numpy(float)[inside], left, right)
    high = np.clip(t["band_high"].to_numpy(float)[inside], left, right)
    ax.errorbar(est, rows, xerr=[est - low, high - est], fmt="o", color=colour, capsize=4, label=label)


def _draw_analytic(ax, analytic: pd.DataFrame | None, y: str, ys: np.ndarray, xs: np.ndarray) -> None:
    if analytic is None or analytic.empty:
        return
    a = analytic.drop_duplicates(y).set_index(y).reindex(ys)
    rows = np.arange(len(ys))
    for column, colour in (("deterrence", "black"), ("participation", "#6a1b9a")):
        values = a[column].to_numpy(float)
        shown = np.where((values >= xs.min()) & (values <= xs.max()), values, np.nan)
        if np.isfinite(shown).any():
            ax.plot(shown, rows, linestyle="--", marker="x", color=colour, label=f"analytic {column} bound")


def verdict_panels(
    panels: list[Panel],
    x: str,
    y: str,
    column: str,
    title: str,
    sampled: bool = False,
    log_y: bool = False,
    log_x: bool = False,
) -> bytes:
    """Categorical maps of dominates / uncertain / fails over (x, y), one panel per design/slice
    (a ``sampled`` design: its points, coloured by verdict; ``log_x``: x on a log scale)."""
    panels = panels[:MAX_PANELS]
    order = list(VERDICT_COLOURS)
    fig, axes = _panel_grid(len(panels), 3.0)
    cmap = ListedColormap(list(VERDICT_COLOURS.values()))
    for ax, panel in zip(axes.flat, panels, strict=False):
        codes = panel.classified.assign(
            code=panel.classified[column].map({v: i for i, v in enumerate(order)})
        )
        if sampled:
            ax.scatter(codes[x], codes[y], c=codes["code"], cmap=cmap, vmin=-0.5, vmax=2.5, s=28)
            if log_y:
                _log_axis(ax)
        else:
            xs, ys, z = _matrix(codes, x, y, "code")
            index = np.arange(len(ys), dtype=float)
            ax.pcolormesh(
                _x_edges(xs, log_x), _edges(index), z, cmap=cmap, vmin=-0.5, vmax=2.5, shading="flat"
            )
            ax.set_yticks(index, [level_label(v) for v in ys])
        if log_x:
            _log_x_axis(ax)
        ax.set_xlabel(short(x))
        ax.set_title(panel.title, fontsize=9)
    _finish_grid(axes, len(panels), short(y))
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in VERDICT_COLOURS.values()]
    _legend_below(fig, handles, order)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


def margin_lines(
    classified: pd.DataFrame,
    x: str,
    group: str,
    thresholds: pd.DataFrame | None,
    units: dict | None = None,
) -> bytes:
    """:func:`margin_figure` as PNG bytes."""
    return png(margin_figure(classified, x, group, thresholds, units))


def margin_figure(
    classified: pd.DataFrame,
    x: str,
    group: str,
    thresholds: pd.DataFrame | None,
    units: dict | None = None,
):
    """1-D sweeps: the worst mix's mean margins against ``x`` with their one-sided 95 % bounds, one
    line per ``group`` value (a design or category), and the thresholds found. ``units`` gives each
    group value's (factor to display, unit in words) — a token group's margins per unit of capital
    in %, a tokenless one's in fiat per owner; a value not named is drawn as a token group. Groups
    whose margins are in different units are never drawn on one axis: each unit gets a row of
    panels of its own, with its unit on its y axis. Returns the matplotlib figure."""
    groups = list(dict.fromkeys(classified[group])) if group in classified else [None]
    unit_of = {value: (units or {}).get(value, TOKEN_MARGIN_UNIT) for value in groups}
    rows = list(dict.fromkeys(unit for _, unit in unit_of.values()))
    fig, axes = plt.subplots(
        len(rows), 2, figsize=(11, 3.6 * len(rows) + 0.6), sharex=True, squeeze=False, layout="constrained"
    )
    for colour_index, value in enumerate(groups):
        points = classified if value is None else classified[classified[group] == value]
        points = points.sort_values(x)
        colour = PICK_COLOURS[colour_index % len(PICK_COLOURS)]
        scale, unit = unit_of[value]
        row = axes[rows.index(unit)]
        for ax, name in zip(row, ("trainers", "participation"), strict=True):
            xs = points[x].to_numpy(float)
            ax.fill_between(
                xs, points[f"{name}_lower"] * scale, points[f"{name}_upper"] * scale, color=colour, alpha=0.15
            )
            ax.plot(
                xs,
                points[f"{name}_mean"] * scale,
                color=colour,
                marker=".",
                label=level_label(value) if value is not None else None,
            )
        if thresholds is not None and not thresholds.empty:
            mine = (
                thresholds
                if value is None or group not in thresholds
                else thresholds[thresholds[group] == value]
            )
            for ax, name in zip(row, ("deterrence", "participation"), strict=True):
                for estimate in mine.loc[mine["name"] == name, "estimate"].dropna():
                    ax.axvline(
                        estimate, color=colour if len(groups) > 1 else "grey", linestyle=":", linewidth=1
                    )
    axes[0][0].set_title("Trainers: honest minus the best cheating strategy")
    axes[0][1].set_title("Participation: honest profit minus the outside option")
    for row, unit in zip(axes, rows, strict=True):
        row[0].set_ylabel(textwrap.fill(f"margin, {unit} (worst mix)", 34))
        for ax in row:
            ax.axhline(0, color="grey", linewidth=0.8)
    for ax in axes[-1]:
        ax.set_xlabel(short(x))
    handles, labels = _unique_handles(axes)
    _legend_below(fig, handles, labels, 4)
    return fig


#: The payoff figure's rows: (unit in the statistics, factor to display, axis label).
PAYOFF_UNITS = (
    ("pi", 100.0, "profit, % of capital per round"),
    ("fiat", 1.0, "profit, fiat per owner per round"),
)


def payoff_panels(stats: pd.DataFrame, x: str, title: str) -> bytes:
    """Payoff per strategy against ``x``, one column of panels per level (``panel``), the top row in
    % of capital per round and the bottom row in fiat per owner per round; bands are two-sided 95 %
    intervals over the replications. ``stats``: panel, x, strategy, unit ('pi' | 'fiat'), mean,
    low, high. A unit without a value anywhere (profit per unit of capital in a tokenless sweep, where
    no owner commits capital) gets no row."""
    levels = list(dict.fromkeys(stats["panel"]))
    units = [
        (unit, scale, label)
        for unit, scale, label in PAYOFF_UNITS
        if np.isfinite(stats.loc[stats["unit"] == unit, "mean"].to_numpy(float)).any()
    ] or list(PAYOFF_UNITS[1:])
    fig, axes = plt.subplots(
        len(units),
        len(levels),
        figsize=(max(4.3 * len(levels), 6.5), 3.3 * len(units)),
        squeeze=False,
        sharex="col",
        layout="constrained",
    )
    for column, level in enumerate(levels):
        for row, (unit, scale, _) in enumerate(units):
            ax = axes[row][column]
            data = stats[(stats["panel"] == level) & (stats["unit"] == unit)]
            for strategy, colour in STRATEGY_COLOURS.items():
                s = data[data["strategy"] == strategy].sort_values(x)
                if s.empty or s["mean"].isna().all():
                    continue
                xs = s[x].to_numpy(float)
                ax.fill_between(
                    xs, s["low"] * scale, s["high"] * scale, color=colour, alpha=0.15, linewidth=0
                )
                ax.plot(xs, s["mean"] * scale, color=colour, label=STRATEGY_LABELS.get(strategy, strategy))
            ax.axhline(0, color="grey", linewidth=0.8)
            if row == 0:
                ax.set_title(str(level), fontsize=9)
            if row == len(units) - 1:
                ax.set_xlabel(short(x))
    for row, (_, _, label) in enumerate(units):
        axes[row][0].set_ylabel(label)
    handles, labels = [], []
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    _legend_below(fig, handles, labels, 6)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


#: The per-round series drawn, per regime: (column, factor to display, title). The token network's
#: are its margin per unit of capital and its token stocks; the tokenless federation has no token
#: (its stocks are absent) and no capital: its margin is in fiat per owner, and what it pays and
#: whom it ejects take the stocks' place.
TRAJECTORY_PANELS = {
    TOKEN: (
        ("margin_trainers", 100.0, "Trainers' margin in the round, % of capital"),
        ("quality", 1.0, "Global model quality"),
        ("supply_tokens", 1.0, "Circulating supply, tokens"),
        ("minted_total_tokens", 1.0, "Minted since genesis, tokens"),
        ("burned_total_tokens", 1.0, "Burned since genesis, tokens"),
        ("insurance_tokens", 1.0, "Insurance pool, tokens"),
    ),
    TOKENLESS: (
        ("margin_trainers", 1.0, "Trainers' margin in the round, fiat per owner"),
        ("quality", 1.0, "Global model quality"),
        ("network_cost_fiat", 1.0, "Network cost in the round, fiat"),
        ("fees_paid_fiat", 1.0, "Service fees paid in the round, fiat"),
        ("ejected", 1.0, "Identities ejected in the round"),
        ("readmitted", 1.0, "Identities re-admitted in the round"),
    ),
}


def round_bands(trajectories: pd.DataFrame, picks: list[tuple[str, pd.Series]], regime: str = TOKEN) -> bytes:
    """Median and 5th–95th percentile, across replications, of per-round series at a few points:
    the ``regime``'s series (:data:`TRAJECTORY_PANELS`)."""
    panels = [p for p in TRAJECTORY_PANELS.get(regime, TRAJECTORY_PANELS[TOKEN]) if p[0] in trajectories]
    return _band_panels(trajectories, picks, panels)


#: The token economy's per-round series (:func:`economy_bands`): (column, factor to display, title).
ECONOMY_PANELS = (
    ("price_fiat", 1.0, "Token price, fiat per token"),
    ("queries", 1.0, "Users' queries in the round"),
    ("fees_fiat", 1.0, "Fees paid in the round, fiat"),
    ("supply_tokens", 1.0, "Circulating supply, tokens"),
    ("insurance_tokens", 1.0, "Insurance pool, tokens"),
    ("claims_filed_fiat", 1.0, "Insurance claims filed in the round, fiat"),
    ("share_honest", 100.0, "Honest share of trainer owners, %"),
)


def economy_panels(trajectories: pd.DataFrame) -> list[tuple[str, float, str]]:
    """The :data:`ECONOMY_PANELS` the trajectories have a value of (a series all NaN — a mechanism that
    was off — is left out; claims only when some were filed)."""
    out = []
    for panel in ECONOMY_PANELS:
        column = panel[0]
        if column not in trajectories:
            continue
        values = pd.to_numeric(trajectories[column], errors="coerce")
        if values.notna().any() and (column != "claims_filed_fiat" or (values.fillna(0) != 0).any()):
            out.append(panel)
    return out


def economy_bands(
    trajectories: pd.DataFrame,
    picks: list[tuple[str, pd.Series]],
    marks: list[tuple[float, str]] | None = None,
) -> bytes:
    """The token economy round by round at a few points: median and 5th–95th percentile across
    replications of the token's price, users' queries and fees, the supply, the insurance pool, the
    claims filed and the honest share of trainer owners (those the runs recorded:
    :func:`economy_panels`); ``marks``: (round, label) drawn as vertical lines (the halvings), each in
    its own style of :data:`MARK_STYLES`."""
    return _band_panels(trajectories, picks, economy_panels(trajectories), marks or [])


#: Line styles of the rounds marked on band panels (the first halving, the second).
MARK_STYLES = (":", "-.", "--")


def _band_panels(
    trajectories: pd.DataFrame,
    picks: list[tuple[str, pd.Series]],
    panels: list[tuple[str, float, str]] | tuple,
    marks: list[tuple[float, str]] | None = None,
) -> bytes:
    """One panel per series (column, factor, title), one colour per pick: median (line) and 5th–95th
    percentile (band) across its runs, round by round; ``marks`` as vertical lines (:data:`MARK_STYLES`)."""
    rows, columns = _grid(len(panels))
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.4 * columns, 3.0 * rows + 0.6), squeeze=False, layout="constrained"
    )
    for (label, runs), colour in zip(picks, PICK_COLOURS, strict=False):
        t = trajectories[trajectories["run_id"].isin(runs)]
        quantiles = t.groupby("round")[[p[0] for p in panels]].quantile([0.05, 0.5, 0.95])
        for ax, (column, scale, _) in zip(axes.flat, panels, strict=False):
            q = quantiles[column].unstack()
            ax.fill_between(q.index, q[0.05] * scale, q[0.95] * scale, color=colour, alpha=0.2, linewidth=0)
            ax.plot(q.index, q[0.5] * scale, color=colour, label=label)
    for ax, (column, _, title) in zip(axes.flat, panels, strict=False):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("round")
        if column == "margin_trainers":
            ax.axhline(0, color="grey", linewidth=0.8)
        for (at, label), style in zip(marks or [], MARK_STYLES, strict=False):
            ax.axvline(at, color="grey", linestyle=style, linewidth=1, label=label)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    _legend_below(fig, handles, labels)
    return png(fig)


#: The per-strategy series drawn round by round, per regime: (column prefix, factor, axis label).
STRATEGY_ROUND_ROWS = {
    TOKEN: (
        ("stake_share_", 100.0, "share of bonded stake, %"),
        ("registered_", 1.0, "registered identities"),
    ),
    TOKENLESS: (
        ("profit_fiat_per_round_", 1.0, "profit in the round, fiat per owner"),
        ("registered_", 1.0, "registered identities"),
    ),
}


def strategy_rounds(
    trajectories: pd.DataFrame,
    picks: list[tuple[str, pd.Series]],
    strategies: list[str],
    regime: str = TOKEN,
) -> bytes:
    """Per strategy, round by round (median over replications), one column of panels per
    representative point: with a token its share of bonded stake, without one (no stake) its profit
    in the round per owner; and its registered identities."""
    series = STRATEGY_ROUND_ROWS.get(regime, STRATEGY_ROUND_ROWS[TOKEN])
    fig, axes = plt.subplots(
        2, len(picks), figsize=(4.4 * len(picks), 6.0), squeeze=False, sharey="row", layout="constrained"
    )
    for column, (label, runs) in enumerate(picks):
        t = trajectories[trajectories["run_id"].isin(runs)]
        for row, (prefix, scale, _) in enumerate(series):
            ax = axes[row][column]
            names = [s for s in strategies if f"{prefix}{s}" in t]
            medians = t.groupby("round")[[f"{prefix}{s}" for s in names]].median()
            for s in names:
                ax.plot(
                    medians.index,
                    medians[f"{prefix}{s}"] * scale,
                    color=STRATEGY_COLOURS.get(s),
                    label=STRATEGY_LABELS.get(s, s),
                )
            if row == 0:
                ax.set_title(textwrap.fill(label, 45), fontsize=8)
            else:
                ax.set_xlabel("round")
    for row, (_, _, axis_label) in enumerate(series):
        axes[row][0].set_ylabel(axis_label)
    handles, labels = axes[0][0].get_legend_handles_labels()
    _legend_below(fig, handles, labels, 6)
    return png(fig)


def sensitivity_bars(table: pd.DataFrame, method: str) -> bytes:
    """Horizontal bars of parameter importance (Sobol' S1/ST with intervals, Morris μ*, or η²)."""
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(table)), layout="constrained")
    names = [short(n) for n in table.index]
    pos = np.arange(len(table))
    if "ST" in table:
        ax.barh(pos + 0.2, table["ST"], height=0.4, label="total (ST)", color="#34495e")
        ax.barh(pos - 0.2, table["S1"], height=0.4, label="first order (S1)", color="#95a5a6")
        for column, offset in (("ST", 0.2), ("S1", -0.2)):
            err = [table[column] - table[f"{column}_low"], table[f"{column}_high"] - table[column]]
            ax.errorbar(
                table[column], pos + offset, xerr=np.clip(err, 0, None), fmt="none", color="black", capsize=3
            )
        _legend_below(fig, *ax.get_legend_handles_labels(), 2)
    elif "mu_star" in table:
        ax.barh(pos, table["mu_star"], xerr=table.get("mu_star_conf"), color="#34495e", capsize=3)
        ax.set_xlabel("Morris μ* (mean absolute elementary effect; bar: 95 % interval)")
    else:
        ax.barh(pos, table["eta2"], color="#34495e")
        ax.set_xlabel("η² (share of the margin's variance explained)")
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.set_title(method, fontsize=9)
    return png(fig)


# -- adaptation: the honest share of owners ---------------------------------------------------------
@dataclass
class SharePanel:
    """One view of the final honest share: a title, the per-point rows of
    ``adaptation.point_statistics`` it shows (one mix, or several for lines and bars) and the
    tipping points along x that belong to it."""

    title: str
    points: pd.DataFrame
    tipping: pd.DataFrame | None = None


def _share_norm(levels: pd.Series) -> TwoSlopeNorm:
    """Colours from 0 to 100 % centred on the level (blue: at or above it; red: below)."""
    level = float(np.nanmedian(levels.to_numpy(float))) * 100 if len(levels) else 90.0
    return TwoSlopeNorm(vmin=0.0, vcenter=min(max(level, 1e-6), 100.0 - 1e-6), vmax=100.0)


def share_maps(
    panels: list[SharePanel], x: str, y: str, title: str, sampled: bool = False, log_y: bool = False
) -> bytes:
    """The mean final honest share over (x, y), one panel per design/slice/category and mix, on one
    colour scale centred on the level; each cell says its share in %, the tipping points along x are
    drawn with their 95 % bands. A ``sampled`` design is drawn as its points."""
    panels = panels[:MAX_PANELS]
    fig, axes = _panel_grid(len(panels), 3.6)
    norm = _share_norm(pd.concat([p.points["level"] for p in panels]))
    mesh = None
    for ax, panel in zip(axes.flat, panels, strict=False):
        points = panel.points
        if sampled:
            mesh = _sampled_points(ax, points, x, y, "final_share_mean", norm, log_y)
        else:
            xs, ys, z = _matrix(points, x, y, "final_share_mean")
            index = np.arange(len(ys), dtype=float)
            mesh = ax.pcolormesh(_edges(xs), _edges(index), z * 100, cmap="RdBu", norm=norm, shading="flat")
            if z.size <= 160:
                for (row, column), value in np.ndenumerate(z):
                    if math.isfinite(value):
                        ax.text(
                            xs[column], row + 0.25, f"{100 * value:.0f}", ha="center", va="center", fontsize=7
                        )
            _draw_tipping(ax, panel.tipping, y, ys, f"tipping point in {short(x)} (95 % band)")
            ax.set_yticks(index, [level_label(v) for v in ys])
        ax.set_xlabel(short(x))
        ax.set_title(textwrap.fill(panel.title, 50), fontsize=9)
    _finish_grid(axes, len(panels), short(y))
    fig.colorbar(mesh, ax=axes, label="mean final honest share of trainer owners, %", shrink=0.9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    _legend_below(fig, handles, labels, 2)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


def _draw_tipping(ax, tipping: pd.DataFrame | None, y: str, ys: np.ndarray, label: str) -> None:
    """Every crossing of the level along x, at its row of y, with its band (cut at the swept range)."""
    if tipping is None or tipping.empty:
        return
    inside = tipping[tipping["where"] == boundaries.INSIDE]
    rows = [_row_of(ys, v) for v in inside[y]]
    keep = [r is not None for r in rows]
    if not any(keep):
        return
    est = inside["estimate"].to_numpy(float)[keep]
    left, right = ax.get_xlim()
    low = np.clip(inside["band_low"].to_numpy(float)[keep], left, right)
    high = np.clip(inside["band_high"].to_numpy(float)[keep], left, right)
    at = [r for r in rows if r is not None]
    ax.errorbar(est, at, xerr=[est - low, high - est], fmt="o", color="black", capsize=4, label=label)


def _row_of(ys: np.ndarray, value) -> int | None:
    """The row of level ``value`` among the heat map's levels of y (numbers within rounding)."""
    for i, level in enumerate(ys):
        if level == value or (
            isinstance(value, int | float | np.number)
            and isinstance(level, int | float | np.number)
            and math.isclose(float(level), float(value), rel_tol=1e-9, abs_tol=1e-12)
        ):
            return i
    return None


def _level_lines(ax, points: pd.DataFrame, colours: dict[str, str]) -> None:
    """The level as a dashed line: one grey line when every mix names the same, else one per mix."""
    levels = points.groupby("mix", sort=False)["level"].median()
    if levels.nunique() <= 1:
        ax.axhline(
            levels.iloc[0] * 100,
            color="grey",
            linestyle="--",
            linewidth=1,
            label=f"level {100 * levels.iloc[0]:.3g} %",
        )
        return
    for mix, level in levels.items():
        ax.axhline(
            level * 100,
            color=colours[mix],
            linestyle="--",
            linewidth=1,
            label=f"level of {mix}: {100 * level:.3g} %",
        )


#: One colour per population mix, in the order the mixes come.
MIX_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f", "#bcbd22")


def _mix_colours(panels: list[SharePanel]) -> dict[str, str]:
    mixes = list(dict.fromkeys(m for p in panels for m in p.points["mix"]))
    return {m: MIX_COLOURS[i % len(MIX_COLOURS)] for i, m in enumerate(mixes)}


def share_lines(panels: list[SharePanel], x: str, title: str) -> bytes:
    """1-D sweeps: the mean final honest share along ``x`` with its two-sided 95 % band, one line per
    mix and one panel per design/category; dashed: the level; dotted: the tipping points."""
    panels = panels[:MAX_PANELS]
    fig, axes = _panel_grid(len(panels), 3.4)
    colours = _mix_colours(panels)
    for ax, panel in zip(axes.flat, panels, strict=False):
        for mix, rows in panel.points.groupby("mix", sort=False):
            rows = rows.sort_values(x)
            xs = rows[x].to_numpy(float)
            colour = colours[mix]
            ax.fill_between(
                xs,
                rows["final_share_band_lower"] * 100,
                rows["final_share_band_upper"] * 100,
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
            ax.plot(xs, rows["final_share_mean"] * 100, color=colour, marker=".", label=f"mix {mix}")
            tipping = panel.tipping
            if tipping is not None and len(tipping):
                for value in tipping.loc[tipping["mix"] == mix, "estimate"].dropna():
                    ax.axvline(value, color=colour, linestyle=":", linewidth=1)
        _level_lines(ax, panel.points, colours)
        ax.set_ylim(-2, 102)
        ax.set_xlabel(short(x))
        ax.set_title(textwrap.fill(panel.title, 50), fontsize=9)
    _finish_grid(axes, len(panels), "final honest share, %")
    handles, labels = _unique_handles(axes)
    _legend_below(fig, handles, labels, 4)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


def _unique_handles(axes) -> tuple[list, list[str]]:
    handles, labels = [], []
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    return handles, labels


def share_bars(panels: list[SharePanel], title: str) -> bytes:
    """Sweeps without a numeric axis: the mean final honest share per mix as bars with their
    two-sided 95 % bands, one panel per design/category; dashed: the level."""
    panels = panels[:MAX_PANELS]
    fig, axes = _panel_grid(len(panels), 3.0)
    colours = _mix_colours(panels)
    for ax, panel in zip(axes.flat, panels, strict=False):
        rows = panel.points.groupby("mix", sort=False)[
            ["final_share_mean", "final_share_band_lower", "final_share_band_upper"]
        ].mean()
        pos = np.arange(len(rows))
        mean = rows["final_share_mean"].to_numpy(float) * 100
        low = rows["final_share_band_lower"].to_numpy(float) * 100
        high = rows["final_share_band_upper"].to_numpy(float) * 100
        ax.bar(pos, mean, color=[colours[m] for m in rows.index], alpha=0.8)
        ax.errorbar(
            pos,
            mean,
            yerr=[np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)],
            fmt="none",
            color="black",
            capsize=4,
        )
        _level_lines(ax, panel.points, colours)
        ax.set_xticks(pos, [textwrap.fill(str(m), 16) for m in rows.index], fontsize=8)
        ax.set_ylim(0, 102)
        ax.set_title(textwrap.fill(panel.title or "all runs", 50), fontsize=9)
    _finish_grid(axes, len(panels), "final honest share, %")
    handles, labels = _unique_handles(axes)
    _legend_below(fig, handles, labels, 4)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


#: The strategy-share trajectories: rows of panels, each (title, y label, scale, series → colour key).
SHARE_ROWS = (
    (
        "trainer owners by strategy, % of active",
        100.0,
        {
            "share_honest": "honest",
            "share_lazy": "lazy",
            "share_sybil": "sybil",
            "share_poisoning": "poisoning",
        },
    ),
    (
        "validators by strategy, % of active",
        100.0,
        {"share_honest_validator": "honest_validator", "share_copying_validator": "copying_validator"},
    ),
    ("owners that joined and left so far", 1.0, {"entered_total": "entered", "exited_total": "exited"}),
)
FLOW_COLOURS = {"entered": "#17becf", "exited": "#7f7f7f"}


def _any_nonzero(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Whether any of ``columns`` (those ``frame`` has) holds a value other than zero."""
    present = [c for c in columns if c in frame]
    return bool(present) and bool((frame[present].fillna(0) != 0).to_numpy().any())


def share_rounds(trajectories: pd.DataFrame, picks: list[tuple[str, pd.Series]]) -> bytes:
    """Strategy shares round by round at a few points: one column per point, rows for the trainer
    owners' strategies, the validators' and the owners that joined and left so far; a row whose
    series are all zero (no owner ever joined or left) is left out. Median (line) and 5th–95th
    percentile (band) across replications."""
    rows = [r for r in SHARE_ROWS if _any_nonzero(trajectories, list(r[2]))]
    fig, axes = plt.subplots(
        len(rows),
        len(picks),
        figsize=(max(4.4 * len(picks), 8.0), 2.9 * len(rows) + 0.8),
        squeeze=False,
        sharey="row",
        layout="constrained",
    )
    for column, (label, runs) in enumerate(picks):
        t = trajectories[trajectories["run_id"].isin(runs)]
        for row, (ylabel, scale, series) in enumerate(rows):
            ax = axes[row][column]
            names = [c for c in series if c in t]
            quantiles = t.groupby("round")[names].quantile([0.05, 0.5, 0.95])
            for name in names:
                key = series[name]
                colour = STRATEGY_COLOURS.get(key) or FLOW_COLOURS.get(key)
                q = quantiles[name].unstack()
                ax.fill_between(
                    q.index, q[0.05] * scale, q[0.95] * scale, color=colour, alpha=0.2, linewidth=0
                )
                ax.plot(
                    q.index, q[0.5] * scale, color=colour, label=STRATEGY_LABELS.get(key, f"owners {key}")
                )
            if column == 0:
                ax.set_ylabel(textwrap.fill(ylabel, 28), fontsize=8)
            if row == 0:
                ax.set_title(textwrap.fill(label, 45), fontsize=8)
            if row == len(rows) - 1:
                ax.set_xlabel("round")
    handles, labels = _unique_handles(axes)
    _legend_below(fig, handles, labels, 4)
    return png(fig)


# -- token or tokenless: the regimes side by side -----------------------------------------------------
#: The rows of the profit figure: the trainers' strategies, then the validators' (their profits
#: are an order of magnitude apart, so each row has its own scale).
PROFIT_ROWS = (
    ("trainers", ("honest", "lazy", "sybil", "poisoning")),
    ("validators", ("honest_validator", "copying_validator")),
)


def regime_profits(stats: pd.DataFrame, title: str) -> bytes:
    """Fiat profit per owner per round by strategy, one column of panels per regime side by side
    (trainers above, validators below, each row on one scale), one bar per mix with its two-sided
    95 % interval. A strategy no owner played in a mix is marked "none" at zero.

    ``stats``: regime, mix, strategy, mean, low, high (``regimes.profit_table``'s columns)."""
    regimes = list(dict.fromkeys(stats["regime"]))
    mixes = list(dict.fromkeys(stats["mix"]))
    rows = [(role, names) for role, names in PROFIT_ROWS if stats["strategy"].isin(names).any()]
    fig, axes = plt.subplots(
        len(rows),
        len(regimes),
        figsize=(max(5.4 * len(regimes), 7.5), 3.3 * len(rows) + 0.9),
        squeeze=False,
        sharey="row",
        layout="constrained",
    )
    width = 0.8 / max(len(mixes), 1)
    for column, regime in enumerate(regimes):
        for row, (role, names) in enumerate(rows):
            ax = axes[row][column]
            data = stats[(stats["regime"] == regime) & stats["strategy"].isin(names)]
            shown = [s for s in names if s in set(data["strategy"])]
            pos = np.arange(len(shown))
            for j, mix in enumerate(mixes):
                per = data[data["mix"] == mix].set_index("strategy").reindex(shown)
                mean = per["mean"].to_numpy(float)
                low = np.where(np.isfinite(per["low"].to_numpy(float)), per["low"].to_numpy(float), mean)
                high = np.where(np.isfinite(per["high"].to_numpy(float)), per["high"].to_numpy(float), mean)
                at = pos - 0.4 + width * (j + 0.5)
                drawn = np.isfinite(mean)
                ax.bar(
                    at[drawn], mean[drawn], width, color=MIX_COLOURS[j % len(MIX_COLOURS)], label=f"mix {mix}"
                )
                ax.errorbar(
                    at[drawn],
                    mean[drawn],
                    yerr=[np.clip(mean - low, 0, None)[drawn], np.clip(high - mean, 0, None)[drawn]],
                    fmt="none",
                    color="black",
                    capsize=3,
                )
                for x_at in at[~drawn]:
                    ax.text(x_at, 0, "none", ha="center", va="bottom", fontsize=7, rotation=90, color="#555")
            ax.axhline(0, color="grey", linewidth=0.8)
            ax.set_xticks(pos, [textwrap.fill(STRATEGY_LABELS.get(s, s), 14) for s in shown], fontsize=8)
            ax.set_title(f"{regime} regime: {role}", fontsize=10)
    for row in range(len(rows)):
        axes[row][0].set_ylabel("fiat profit per owner per round")
    handles, labels = _unique_handles(axes)
    _legend_below(fig, handles, labels, 4)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


@dataclass
class MapPanel:
    """One panel of maps drawn side by side: a two-parameter view (``Panel``) of its own sweep, with
    its own axes (``x``, ``y``; ``log_x`` for a range swept in log steps)."""

    title: str
    panel: Panel
    x: str
    y: str
    log_x: bool = False


def verdict_maps(maps: list[MapPanel], title: str) -> bytes:
    """Where honesty dominates on maps of different sweeps side by side — say, slash fraction ×
    emission with a token and service fee × ejection strikes without: each panel its verdicts
    (dominates / uncertain / fails) over its own axes, its simulated boundaries with their 95 %
    bands, and its own closed form's bounds."""
    maps = maps[:MAX_PANELS]
    fig, axes = _panel_grid(len(maps), 3.4)
    cmap = ListedColormap(list(VERDICT_COLOURS.values()))
    codes = {v: i for i, v in enumerate(VERDICT_COLOURS)}
    for ax, m in zip(axes.flat, maps, strict=False):
        classified = m.panel.classified.assign(code=m.panel.classified["honesty"].map(codes))
        xs, ys, z = _matrix(classified, m.x, m.y, "code")
        index = np.arange(len(ys), dtype=float)
        ax.pcolormesh(_x_edges(xs, m.log_x), _edges(index), z, cmap=cmap, vmin=-0.5, vmax=2.5, shading="flat")
        _draw_boundary(ax, m.panel.deterrence, m.y, ys, "black", "simulated deterrence boundary (95 % band)")
        _draw_boundary(
            ax, m.panel.participation, m.y, ys, "#6a1b9a", "simulated participation boundary (95 % band)"
        )
        _draw_analytic(ax, m.panel.analytic, m.y, ys, xs)
        ax.set_yticks(index, [level_label(v) for v in ys])
        if m.log_x:
            _log_x_axis(ax)
        ax.set_xlabel(short(m.x))
        ax.set_ylabel(short(m.y))
        ax.set_title(textwrap.fill(m.title, 50), fontsize=9)
    for ax in list(axes.flat)[len(maps) :]:
        ax.set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in VERDICT_COLOURS.values()]
    labels = list(VERDICT_COLOURS)
    for h, label in zip(*_unique_handles(axes), strict=True):
        handles.append(h)
        labels.append(label)
    _legend_below(fig, handles, labels, 3)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


# -- validators under Yuma Consensus ----------------------------------------------------------------
#: Positive values spanning more than this factor are drawn on a log scale (:func:`interval_lines`).
LOG_SPAN = 10.0


def spans_decades(points: pd.DataFrame) -> bool:
    """Whether the ``mean``, ``low`` and ``high`` values are positive and span more than :data:`LOG_SPAN`."""
    values = points[["mean", "low", "high"]].to_numpy(float)
    values = values[np.isfinite(values)]
    return bool(values.size) and bool((values > 0).all()) and values.max() / values.min() > LOG_SPAN


@dataclass
class LinePanel:
    """One panel of lines with 95 % bands: ``points`` has the columns ``curve`` (a line's label), ``x``,
    ``mean``, ``low`` and ``high`` (an open end, from one replication, is drawn as no band); ``hlines``
    and ``vlines`` are reference lines as (value, label, style)."""

    title: str
    points: pd.DataFrame
    hlines: list[tuple[float, str, str]]
    vlines: list[tuple[float, str, str]]


def interval_lines(
    panels: list[LinePanel],
    x_label: str,
    y_label: str,
    title: str,
    symlog_x: bool = False,
    log_y: bool | None = None,
) -> bytes:
    """Each panel's curves (one colour per curve label, at most :data:`MIX_COLOURS` of them) with their
    two-sided 95 % bands and error bars, and its reference lines; ``symlog_x``: x on a scale linear
    near 0 and logarithmic beyond 1 (reveal delays 0, 1, 2, 4, … rounds). ``log_y`` None: positive
    values spanning more than a factor of :data:`LOG_SPAN` are drawn on a log scale, so that the
    reference lines stay readable beside values far above them; True or False: as said."""
    panels = panels[:MAX_PANELS]
    if log_y is None:
        log_y = spans_decades(pd.concat([p.points for p in panels]))
    fig, axes = _panel_grid(len(panels), 3.4)
    labels = list(dict.fromkeys(c for p in panels for c in p.points["curve"]))
    colours = {c: MIX_COLOURS[i % len(MIX_COLOURS)] for i, c in enumerate(labels)}
    for ax, panel in zip(axes.flat, panels, strict=False):
        for curve, rows in panel.points.groupby("curve", sort=False):
            rows = rows.sort_values("x")
            rows = rows[np.isfinite(rows["mean"].to_numpy(float))]
            if rows.empty:
                continue
            xs, mean = rows["x"].to_numpy(float), rows["mean"].to_numpy(float)
            low = np.where(np.isfinite(rows["low"].to_numpy(float)), rows["low"].to_numpy(float), mean)
            high = np.where(np.isfinite(rows["high"].to_numpy(float)), rows["high"].to_numpy(float), mean)
            colour = colours[curve]
            ax.fill_between(xs, low, high, color=colour, alpha=0.15, linewidth=0)
            ax.errorbar(
                xs,
                mean,
                yerr=[mean - low, high - mean],
                color=colour,
                marker="o",
                ms=3,
                capsize=3,
                label=curve,
            )
        for value, label, style in panel.hlines:
            ax.axhline(value, color="grey", linestyle=style, linewidth=1, label=label)
        for value, label, style in panel.vlines:
            ax.axvline(value, color="#6a1b9a", linestyle=style, linewidth=1, label=label)
        if log_y:
            _log_axis(ax)
        if symlog_x:
            ax.set_xscale("symlog", linthresh=1.0)
            ticks = sorted(set(panel.points["x"].dropna().astype(float)))
            ax.set_xticks(ticks, [level_label(t) for t in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(x_label)
        ax.set_title(textwrap.fill(panel.title or "all Yuma runs", 50), fontsize=9)
    _finish_grid(axes, len(panels), textwrap.fill(y_label, 40))
    handles, names = _unique_handles(axes)
    _legend_below(fig, handles, names, 3)
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)


def verdict_level_map(panels: list[Panel], x: str, y: str, column: str, title: str) -> bytes:
    """Verdicts (dominates / uncertain / fails) of ``column`` over the levels of two grid axes, one cell
    per point and every level the same width (levels such as 0, 1, 2, 4, 8 rounds stay readable), one
    panel per design/category; the axes are labelled with the levels themselves."""
    panels = panels[:MAX_PANELS]
    fig, axes = _panel_grid(len(panels), 3.0)
    cmap = ListedColormap(list(VERDICT_COLOURS.values()))
    codes = {v: i for i, v in enumerate(VERDICT_COLOURS)}
    for ax, panel in zip(axes.flat, panels, strict=False):
        xs, ys, z = _matrix(panel.classified.assign(code=panel.classified[column].map(codes)), x, y, "code")
        columns, rows = np.arange(len(xs), dtype=float), np.arange(len(ys), dtype=float)
        ax.pcolormesh(_edges(columns), _edges(rows), z, cmap=cmap, vmin=-0.5, vmax=2.5, shading="flat")
        ax.set_xticks(columns, [level_label(v) for v in xs])
        ax.set_yticks(rows, [level_label(v) for v in ys])
        ax.set_xlabel(short(x))
        ax.set_title(textwrap.fill(panel.title, 50), fontsize=9)
    _finish_grid(axes, len(panels), short(y))
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in VERDICT_COLOURS.values()]
    _legend_below(fig, handles, list(VERDICT_COLOURS))
    fig.suptitle(textwrap.fill(title, 90))
    return png(fig)
