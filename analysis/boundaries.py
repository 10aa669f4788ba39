"""Where a margin changes sign along an axis, with the confidence band of each crossing.

Along an axis ``x`` a point statistic (the worst mix's mean margin) changes sign wherever it crosses
zero between two neighbouring points; the crossing is found by linear interpolation. A margin may
cross several times and in either direction — **rising** (from < 0 to ≥ 0) or **falling** (from ≥ 0
to < 0) — and :func:`crossings` finds every one.

The band around a crossing comes from the two-sided band of the margin (``<name>_band_lower`` and
``<name>_band_upper``, a two-sided 95 % interval per point: one-sided 97.5 % bounds). For a rising
crossing the upper band end reaches zero first (the band's low end) and the lower band end last (its
high end); for a falling crossing it is the other way round. A band end whose bound never crosses
inside the swept range is ±inf.

Two uses:

* :func:`thresholds` — a 1-D sweep: every crossing of the trainers' margin (deterrence) and of the
  participation margin, each with its band and direction;
* :func:`boundary` — per level of a second parameter ``y``: the one crossing that bounds the region
  where the margin holds. For deterrence the margin (honest minus cheating) is expected to rise with
  slashing, so it is the first rising crossing — the minimum slash fraction at that reward level;
  for participation (honest profit minus the outside option, eroded by false-positive slashing) the
  first falling one. Between the two lies the safe band for slashing.

Along the tokenless federation's service fee both margins rise — a higher fee raises honest profit
more than a cheater's, and raises honest profit above zero — so both boundaries are lower bounds
on the fee: :func:`named_for` gives each boundary's expected direction along an axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.axes import SERVICE_FEE

INSIDE, BELOW, ABOVE = "inside", "below range", "above range"
RISING, FALLING = "rising", "falling"
#: A 1-D threshold row for a margin that never changes sign.
ABOVE_ZERO, BELOW_ZERO = "above zero throughout", "below zero throughout"
#: No point has a value of the margin (e.g. no cheating strategy present in any mix).
NO_DATA = "no data"
#: What each named boundary is about: the margin in ``dominance.classify`` and its expected direction
#: along the slash fraction (and any axis not in :data:`PARTICIPATION_RISES_ALONG`).
NAMED = {"deterrence": ("trainers", RISING), "participation": ("participation", FALLING)}
#: Axes along which honest work's participation margin is expected to rise (a lower bound): the
#: tokenless service fee and the users' inference fees (their price per query and their number of
#: queries), which pay honest work more the higher they are.
PARTICIPATION_RISES_ALONG = (SERVICE_FEE, "fees.fee_per_query_fiat", "fees.queries_per_round")


def named_for(x: str | None) -> dict[str, tuple[str, str]]:
    """:data:`NAMED` with each boundary's expected direction along axis ``x``: participation rises
    along the axes of :data:`PARTICIPATION_RISES_ALONG` (a lower bound), falls along the others."""
    if x in PARTICIPATION_RISES_ALONG:
        return NAMED | {"participation": ("participation", RISING)}
    return dict(NAMED)


#: The columns of :func:`boundary_row`, in order.
ROW_COLUMNS = (
    "estimate",
    "band_low",
    "band_high",
    "where",
    "direction",
    "crossings",
    "between_low",
    "between_high",
)


@dataclass(frozen=True)
class Crossing:
    """A sign change of a statistic along an axis."""

    x: float
    """Where it crosses zero (linear interpolation between the two neighbouring points)."""
    direction: str
    """``rising`` (from < 0 to ≥ 0) or ``falling`` (from ≥ 0 to < 0)."""
    left: float = math.nan
    """The neighbouring point below (or at) ``x`` on the old side of the sign change."""
    right: float = math.nan
    """The neighbouring point above (or at) ``x`` on the new side: the sign changes between the two."""


def crossings(x: Sequence[float], v: Sequence[float]) -> list[Crossing]:
    """Every sign change of ``v`` along ``x`` (sorted ascending), in order. NaN points are skipped.

    Zero counts as non-negative, so a statistic that touches zero and turns back crosses twice at
    that point. An infinite value next to a finite one puts the crossing at the finite point.
    """
    x, v = np.asarray(x, float), np.asarray(v, float)
    keep = ~np.isnan(v)
    x, v = x[keep], v[keep]
    found = []
    for i in range(len(x) - 1):
        a, b = v[i], v[i + 1]
        if (a < 0) == (b < 0):
            continue
        direction = RISING if a < 0 else FALLING
        if math.isinf(a) and math.isinf(b):
            at = (x[i] + x[i + 1]) / 2
        elif math.isinf(a):
            at = x[i + 1]
        elif math.isinf(b):
            at = x[i]
        else:
            at = x[i] + (-a / (b - a)) * (x[i + 1] - x[i])
        found.append(Crossing(float(at), direction, float(x[i]), float(x[i + 1])))
    return found


def band_around(found: Crossing, x, band_lower, band_upper) -> tuple[float, float]:
    """(low, high) of the band around ``found``: where the band's bounds cross in its direction.

    The low end is the nearest such crossing at or below the estimate, the high end the nearest at
    or above; ±inf when that bound does not cross inside the range on that side.
    """
    leading, trailing = (band_upper, band_lower) if found.direction == RISING else (band_lower, band_upper)
    lows = [c.x for c in crossings(x, leading) if c.direction == found.direction and c.x <= found.x]
    highs = [c.x for c in crossings(x, trailing) if c.direction == found.direction and c.x >= found.x]
    return (max(lows) if lows else -math.inf), (min(highs) if highs else math.inf)


def _band_columns(table: pd.DataFrame, name: str) -> tuple[str, str]:
    """The two-sided band's columns, or the one-sided bounds for tables that lack a band."""
    if f"{name}_band_lower" in table:
        return f"{name}_band_lower", f"{name}_band_upper"
    return f"{name}_lower", f"{name}_upper"


def _series(group: pd.DataFrame, x: str, name: str) -> tuple[np.ndarray, ...]:
    g = group.sort_values(x)
    low, high = _band_columns(g, name)
    return (
        g[x].to_numpy(float),
        g[f"{name}_mean"].to_numpy(float),
        g[low].to_numpy(float),
        g[high].to_numpy(float),
    )


def groups(table: pd.DataFrame, by: list[str]):
    """``(key, rows)`` per group of ``table`` by the ``by`` columns, the key as ``{column: value}``;
    one group ``({}, table)`` when ``by`` is empty. NaN levels form groups of their own."""
    if not by:
        yield {}, table
        return
    for key, group in table.groupby(by, sort=True, dropna=False):
        yield dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)), group


def boundary_row(xs, mean, band_lower, band_upper, rising: bool) -> dict:
    """The boundary of one series: ``estimate``, ``band_low``, ``band_high``, ``where``,
    ``direction``, ``crossings`` (how many sign changes the mean has in all) and ``between_low``
    / ``between_high`` (the two neighbouring points the sign changes between).

    The estimate is the first crossing in the expected direction (``rising`` or not); failing
    that, the first crossing the other way (``direction`` says which). With no crossing ``where``
    is ``below range`` (the mean is already past zero at the first point: it holds throughout for
    a rising margin, nowhere for a falling one), ``above range``, or ``no data`` (no point has a
    value); estimate, band and neighbours are then NaN.
    """
    expected = RISING if rising else FALLING
    found = crossings(xs, mean)
    row = {
        "estimate": math.nan,
        "band_low": math.nan,
        "band_high": math.nan,
        "where": ABOVE,
        "direction": expected,
        "crossings": len(found),
        "between_low": math.nan,
        "between_high": math.nan,
    }
    pick = next((c for c in found if c.direction == expected), found[0] if found else None)
    if pick is not None:
        low, high = band_around(pick, xs, band_lower, band_upper)
        row |= {"estimate": pick.x, "band_low": low, "band_high": high, "where": INSIDE}
        row |= {"direction": pick.direction, "between_low": pick.left, "between_high": pick.right}
    else:
        finite = mean[~np.isnan(mean)]
        if not len(finite):
            row["where"] = NO_DATA
        elif (finite[0] >= 0) if rising else (finite[0] < 0):
            row["where"] = BELOW
    return row


def boundary(
    classified: pd.DataFrame,
    x: str,
    y: str | None,
    name: str,
    rising: bool,
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per level of ``y`` (and per ``by`` group): the boundary in ``x`` of statistic ``name``.

    ``classified`` is the output of ``dominance.classify`` (worst-mix ``<name>_mean`` and band per
    point). ``by`` defaults to ``["design"]`` when that column is present. Columns: the ``by``
    columns, ``y`` (when given), then those of :func:`boundary_row`: ``estimate``, ``band_low``,
    ``band_high``, ``where`` (``inside``, ``below range`` or ``above range``), ``direction``,
    ``crossings``, ``between_low`` and ``between_high``. Outside the range the estimate and band
    are NaN; a band end whose bound never crosses inside the range is ±inf.
    """
    by = list(by) if by is not None else (["design"] if "design" in classified else [])
    levels = [*by, y] if y is not None else by
    rows = []
    for key, group in groups(classified, levels):
        rows.append(key | boundary_row(*_series(group, x, name), rising))
    return pd.DataFrame(rows, columns=[*levels, *ROW_COLUMNS])


#: The columns of a thresholds table after its grouping columns.
THRESHOLD_COLUMNS = (
    "name",
    "estimate",
    "band_low",
    "band_high",
    "direction",
    "where",
    "between_low",
    "between_high",
)


def thresholds(classified: pd.DataFrame, x: str, by: Sequence[str] = ()) -> pd.DataFrame:
    """A 1-D sweep's thresholds: every level of ``x`` where a verdict's margin changes sign.

    For ``deterrence`` (the trainers' margin) and ``participation`` (honest profit minus the
    outside option), per ``by`` group: one row per crossing of the worst-mix mean, with
    ``estimate``, the band (``band_low``, ``band_high``), ``direction`` (rising / falling),
    ``where`` = ``inside`` and ``between_low`` / ``between_high`` (the neighbouring levels the sign
    changes between); a margin that never changes sign gets one row with ``where`` = ``above zero
    throughout``, ``below zero throughout`` or ``no data`` (NaN estimate, band and neighbours, no
    direction).
    """
    by = list(by)
    rows = []
    for key, group in groups(classified, by):
        for label, (name, _) in NAMED.items():
            xs, mean, band_lower, band_upper = _series(group, x, name)
            found = crossings(xs, mean)
            for c in found:
                low, high = band_around(c, xs, band_lower, band_upper)
                rows.append(
                    key
                    | {
                        "name": label,
                        "estimate": c.x,
                        "band_low": low,
                        "band_high": high,
                        "direction": c.direction,
                        "where": INSIDE,
                        "between_low": c.left,
                        "between_high": c.right,
                    }
                )
            if not found:
                finite = mean[~np.isnan(mean)]
                where = NO_DATA if not len(finite) else ABOVE_ZERO if finite[0] >= 0 else BELOW_ZERO
                rows.append(
                    key
                    | {
                        "name": label,
                        "estimate": math.nan,
                        "band_low": math.nan,
                        "band_high": math.nan,
                        "direction": None,
                        "where": where,
                        "between_low": math.nan,
                        "between_high": math.nan,
                    }
                )
    return pd.DataFrame(rows, columns=[*by, *THRESHOLD_COLUMNS])
