"""The report's figures, drawn with matplotlib and returned as PNG bytes (to embed inline)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, TwoSlopeNorm

from analysis import boundaries
from analysis.findings import STRATEGY_LABELS, Findings, short

VERDICT_COLOURS = {"fails": "#c0392b", "uncertain": "#f1c40f", "dominates": "#27ae60"}
STRATEGY_COLOURS = {
    "honest": "#1f77b4",
    "lazy": "#ff7f0e",
    "sybil": "#9467bd",
    "poisoning": "#d62728",
    "honest_validator": "#2ca02c",
    "copying_validator": "#8c564b",
}
DPI = 110


def png(fig) -> bytes:
    """Render ``fig`` to PNG bytes and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (for pcolormesh)."""
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    middle = (values[:-1] + values[1:]) / 2
    return np.concatenate([[2 * values[0] - middle[0]], middle, [2 * values[-1] - middle[-1]]])


def level_label(value) -> str:
    """A y level as a tick label: numbers compactly, anything else (a rule's name) as is."""
    return f"{value:,.4g}" if isinstance(value, int | float | np.integer | np.floating) else str(value)


def _matrix(
    classified: pd.DataFrame, x: str, y: str, column: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x centres (numbers), y levels (numbers or names, one row each) and the values between."""
    table = classified.pivot_table(index=y, columns=x, values=column, aggfunc="first")
    return table.columns.to_numpy(float), table.index.to_numpy(), table.to_numpy(float)


def phase_diagram(f: Findings, name: str = "trainers", title: str | None = None) -> bytes:
    """Heatmap of the worst mix's mean margin over (x, y) with simulated and analytic boundaries."""
    xs, ys, z = _matrix(f.classified, f.x, f.y, f"{name}_mean")
    rows = np.arange(len(ys))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    limit = np.nanmax(np.abs(z)) * 100 if np.isfinite(z).any() else 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    mesh = ax.pcolormesh(
        _edges(xs), _edges(rows.astype(float)), z * 100, cmap="RdBu", norm=norm, shading="flat"
    )
    fig.colorbar(mesh, ax=ax, label="margin, % of capital per round (worst mix)")
    if name == "trainers":
        _draw_boundary(ax, f.deterrence, f.y, ys, "black", "simulated deterrence boundary (95 % band)")
        _draw_boundary(
            ax, f.participation, f.y, ys, "#6a1b9a", "simulated participation boundary (95 % band)"
        )
        if f.analytic is not None:
            lo, hi = xs.min(), xs.max()
            for column, colour, label in (
                ("deterrence", "black", "analytic deterrence bound"),
                ("participation", "#6a1b9a", "analytic participation bound"),
            ):
                values = f.analytic.set_index(f.y)[column].reindex(ys).to_numpy(float)
                shown = np.where((values >= lo) & (values <= hi), values, np.nan)
                ax.plot(shown, rows, linestyle="--", marker="x", color=colour, label=label)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    ax.set_yticks(rows, [level_label(v) for v in ys])
    ax.set_xlabel(short(f.x))
    ax.set_ylabel(short(f.y))
    ax.set_title(title or "Honesty margin of trainers: honest minus the best cheating strategy")
    return png(fig)


def _draw_boundary(ax, table: pd.DataFrame | None, y: str, ys: np.ndarray, colour: str, label: str) -> None:
    if table is None:
        return
    t = table.set_index(y).reindex(ys)
    inside = t["where"] == boundaries.INSIDE
    rows = np.arange(len(ys))[inside.to_numpy()]
    est = t.loc[inside, "estimate"].to_numpy(float)
    left, right = ax.get_xlim()  # a band end beyond the swept range is drawn to its edge
    low = np.clip(t.loc[inside, "band_low"].to_numpy(float), left, right)
    high = np.clip(t.loc[inside, "band_high"].to_numpy(float), left, right)
    if len(rows):
        ax.errorbar(est, rows, xerr=[est - low, high - est], fmt="o", color=colour, capsize=4, label=label)


def verdict_map(f: Findings, column: str = "honesty", title: str = "Where honesty dominates") -> bytes:
    """Categorical map of dominates / uncertain / fails over (x, y)."""
    order = list(VERDICT_COLOURS)
    codes = f.classified.assign(code=f.classified[column].map({v: i for i, v in enumerate(order)}))
    xs, ys, z = _matrix(codes, f.x, f.y, "code")
    rows = np.arange(len(ys))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    cmap = ListedColormap(list(VERDICT_COLOURS.values()))
    ax.pcolormesh(_edges(xs), _edges(rows.astype(float)), z, cmap=cmap, vmin=-0.5, vmax=2.5, shading="flat")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in VERDICT_COLOURS.values()]
    ax.legend(handles, order, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    ax.set_yticks(rows, [level_label(v) for v in ys])
    ax.set_xlabel(short(f.x))
    ax.set_ylabel(short(f.y))
    ax.set_title(title)
    return png(fig)


def payoff_curves(f: Findings, mix: str) -> bytes:
    """Mean profit per round per unit of capital of each strategy against x, at a few y levels."""
    data = f.per_mix[f.per_mix["mix"] == mix]
    levels = sorted(data[f.y].unique()) if f.y else [None]
    picks = sorted({levels[0], levels[len(levels) // 2], levels[-1]}, key=levels.index)
    fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 3.6), sharey=True, squeeze=False)
    for ax, level in zip(axes[0], picks, strict=True):
        rows = (data[data[f.y] == level] if f.y else data).sort_values(f.x)
        for strategy, colour in STRATEGY_COLOURS.items():
            column = f"pi_{strategy}"
            if column in rows and rows[column].notna().any():
                ax.plot(rows[f.x], rows[column] * 100, color=colour, label=STRATEGY_LABELS[strategy])
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel(short(f.x))
        ax.set_title(f"{level_label(level)} {short(f.y)}" if f.y else "")
    axes[0][0].set_ylabel("profit, % of capital per round")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.suptitle(f"Payoff per strategy (mix: {mix})", y=1.03)
    return png(fig)


def round_bands(trajectories: pd.DataFrame, picks: list[tuple[str, pd.Series]]) -> bytes:
    """Median and 5th–95th percentile, across replications, of per-round series at a few points."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for (label, runs), colour in zip(picks, ["#c0392b", "#f39c12", "#27ae60"], strict=False):
        t = trajectories[trajectories["run_id"].isin(runs)]
        for ax, column, scale in ((axes[0], "margin_trainers", 100), (axes[1], "quality", 1)):
            g = t.groupby("round")[column]
            q = g.quantile([0.05, 0.5, 0.95]).unstack()
            ax.fill_between(q.index, q[0.05] * scale, q[0.95] * scale, color=colour, alpha=0.2)
            ax.plot(q.index, q[0.5] * scale, color=colour, label=label)
    axes[0].axhline(0, color="grey", linewidth=0.8)
    axes[0].set_title("Trainers' margin in each round, % of capital")
    axes[1].set_title("Global model quality")
    for ax in axes:
        ax.set_xlabel("round")
    axes[0].legend(fontsize=8)
    return png(fig)


def sensitivity_bars(table: pd.DataFrame, method: str) -> bytes:
    """Horizontal bars of parameter importance (Sobol' S1/ST with intervals, or η²)."""
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(table)))
    names = [short(n) for n in table.index]
    pos = np.arange(len(table))
    if "ST" in table:
        ax.barh(pos + 0.2, table["ST"], height=0.4, label="total (ST)", color="#34495e")
        ax.barh(pos - 0.2, table["S1"], height=0.4, label="first order (S1)", color="#95a5a6")
        for column, offset in (("ST", 0.2), ("S1", -0.2)):
            err = [table[column] - table[f"{column}_low"], table[f"{column}_high"] - table[column]]
            ax.errorbar(table[column], pos + offset, xerr=err, fmt="none", color="black", capsize=3)
        ax.legend(fontsize=8)
    else:
        ax.barh(pos, table["eta2"], color="#34495e")
        ax.set_xlabel("η² (share of the margin's variance explained)")
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.set_title(method)
    return png(fig)
