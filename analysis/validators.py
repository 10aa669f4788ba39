"""Validators under Yuma Consensus: does copying pay, when does a cabal capture, where does honest
validation dominate?

Runs whose reward rule is ``"yuma"`` (from the base scenario, ``[fixed]``, a design, a mix or a
swept parameter: ``analysis.adaptation.setting_per_run``) played in the token regime carry the
Yuma KPIs of the data contract. From those alone this module answers three questions, per
tokenomics design, population mix and level of every other swept parameter (a *curve*; nothing is
pooled over levels):

1. **Does copying pay?** ``copier_dividend_ratio`` G — the copying validators' dividends per unit
   of stake weight divided by the honest validators' (the Opentensor working paper's G) — against
   the commit-reveal delay ``yuma.reveal_delay_rounds``: its mean and two-sided 95 % Student-t
   interval over the replications per level. G = 1 is where copying earns as much per unit of
   stake as evaluating; below ``1 − take`` (``stakes.validator_take``, 0.18 by default) copying no
   longer pays a validator whose stake is delegated, since its delegators would rather delegate to
   an honest one (the paper's criterion). Read per curve: the shortest delay at which G's upper
   95 % bound is below 1, and below ``1 − take``.
2. **When does a cabal capture the emission?** ``cabal_trainer_emission_share`` (the share of the
   trainers' emission paid to the cabal's own trainers) against the realised ``cabal_stake_share``
   per level of ``yuma.cabal_stake_share``: the smallest stake share at which the lower end of its
   95 % interval reaches one half, set beside the share the mechanism predicts. Consensus is the
   largest weight κ of the voting stake sets at or above, so a cabal sets its own trainers'
   consensus once it holds more than κ of the evaluating validators' stake, and sets everyone
   else's to 0 once it holds more than 1 − κ; copiers (holding c of the stake) copy the evaluators'
   consensus and so follow it. Predicted capture: above min(κ, 1 − κ) × (1 − c) of all stake.
3. **Where does honest validation dominate?** The validators' margin (``margin_validators``: the
   honest validators' π minus the copiers') classified by ``analysis.dominance`` — the same
   one-sided bounds and worst case over mixes as the trainers' margin — at the points with Yuma
   runs.

A KPI that is NaN (G without copying validators, or without an honest validator outside the cabal;
the capture share without a cabal) is left out of its statistics and the runs are counted with the
reason (:attr:`Validators.missing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import dominance
from analysis.adaptation import setting_per_run
from analysis.settings import REGIME, TOKEN, with_design_column
from analysis.summary import short

RULE, YUMA = "rewards.rule", "yuma"
DELAY = "yuma.reveal_delay_rounds"
CABAL = "yuma.cabal_stake_share"
KAPPA = "yuma.kappa"
TAKE = "stakes.validator_take"
#: The model's defaults, used for results written before a key existed in the scenario schema.
DEFAULTS = {DELAY: 1, CABAL: 0.0, KAPPA: 0.5, TAKE: 0.18}
#: The parameters as people say them.
NAMES = {DELAY: "reveal delay", CABAL: "cabal stake share", KAPPA: "κ", TAKE: "validator take"}
#: The runs table's Yuma KPIs read here.
RATIO = "copier_dividend_ratio"
CABAL_SHARE = "cabal_stake_share"
COPIER_SHARE = "copier_stake_share"
CAPTURE = "cabal_trainer_emission_share"
#: Coverage of the intervals drawn and read (two-sided, Student t over the replications).
BAND = dominance.BAND
#: The share of the trainers' emission that counts as captured.
CAPTURED = 0.5
#: Most sentences per question on the page; the tables hold every curve.
MAX_SENTENCES = 6


@dataclass
class Validators:
    """What the Yuma runs of a sweep show about validators. Tables are DataFrames."""

    runs: int
    """Ok Yuma runs in the token regime (the runs the tables are built from)."""
    curve_columns: list[str]
    """The columns a curve of :attr:`dividends` is one level of: design, mix and the swept
    parameters other than the delay."""
    capture_columns: list[str]
    """The same for :attr:`capture`: design, mix and the swept parameters other than the cabal's share."""
    dividends: pd.DataFrame
    """Per curve and reveal delay (column ``yuma.reveal_delay_rounds``): ``runs``, ``ratio_mean``,
    ``ratio_low``, ``ratio_high`` (two-sided 95 %), ``ratio_n`` (runs with a value), ``take`` and
    ``take_line`` (= 1 − take)."""
    delays: pd.DataFrame
    """Per curve: ``levels`` (delays with a value of G), ``below_one`` and ``below_take`` (the
    shortest delay whose upper bound of G is below 1, below 1 − take; NaN: none), ``take`` and the
    sentence ``text``."""
    capture: pd.DataFrame
    """Per curve and set cabal share (column ``yuma.cabal_stake_share``): ``runs``, ``stake_share``
    (mean realised share), ``capture_mean``, ``capture_low``, ``capture_high``, ``capture_n`` and
    ``kappa``."""
    thresholds: pd.DataFrame
    """Per curve: ``levels`` (cabal shares with a capture value), ``captures_at`` (the set share of
    the smallest realised stake share whose capture interval's lower end is ≥ 0.5; NaN: none),
    ``stake_share`` there (realised), ``kappa`` and the sentence ``text``."""
    verdicts: pd.DataFrame
    """One row per (design, point) with Yuma runs: the parameters, ``validators`` (dominates /
    uncertain / fails), ``validators_mean``, ``_lower``, ``_upper`` (worst mix) and ``copiers``
    (whether some mix there has copying validators)."""
    missing: pd.DataFrame
    """One row per (design, mix, KPI, reason): Yuma runs whose KPI is NaN, ``runs`` of ``of``."""
    delay_varies: bool
    cabal_varies: bool
    designs: list[str] = field(default_factory=list)
    """The sweep's designs (a curve names its design when there are several)."""
    mixes: list[str] = field(default_factory=list)
    """The sweep's mixes (a curve names its mix when there are several)."""
    sentences: dict[str, list[str]] = field(default_factory=dict)
    """The findings in words, per question: ``dividends``, ``capture``, ``dominance``."""
    summary: list[str] = field(default_factory=list)
    """One sentence per question, for the report's summary."""
    notes: list[str] = field(default_factory=list)


# -- reading the runs ------------------------------------------------------------------------------
def yuma_per_run(results: pd.DataFrame, manifest: dict[str, Any]) -> pd.Series:
    """Whether each run's reward rule is Yuma Consensus (swept, set by a mix, a design or the base)."""
    if results.empty:
        return pd.Series(False, index=results.index, dtype=bool)
    return (setting_per_run(results, manifest, RULE, "equal").astype(str) == YUMA).astype(bool)


def _number(results: pd.DataFrame, manifest: dict[str, Any], key: str) -> pd.Series:
    values = setting_per_run(results, manifest, key, DEFAULTS[key])
    return pd.to_numeric(values, errors="coerce").astype(float)


def _kpi(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index)


def interval(values: pd.Series) -> tuple[float, float, float, int]:
    """(mean, low, high, n): the two-sided 95 % Student-t interval of ``values`` (NaNs dropped);
    with one value nothing can be concluded: its ends are −inf and +inf."""
    mean, _, low, high, n = dominance.interval(values, (1 + BAND) / 2)
    return mean, low, high, n


# -- the analysis ------------------------------------------------------------------------------------
def analyze_validators(
    results: pd.DataFrame,
    manifest: dict[str, Any],
    parameters: list[str],
    classified: pd.DataFrame,
    per_mix: pd.DataFrame | None = None,
) -> Validators | None:
    """The validators' questions for the sweep's Yuma runs (see the module docstring); None when no
    run of the sweep is played under ``rewards.rule = "yuma"``.

    ``results`` are the sweep's runs with their ``design`` and ``regime`` columns, ``parameters``
    the varied keys, ``classified`` and ``per_mix`` the dominance tables of every point
    (``analysis.dominance.classify_statistics``, ``point_statistics``).
    """
    results = with_design_column(results)
    yuma = yuma_per_run(results, manifest)
    if not yuma.any():
        return None
    token = results[REGIME] == TOKEN if REGIME in results else pd.Series(True, index=results.index)
    runs = results[yuma & token & (results["status"] == "ok")].copy()
    for key in (DELAY, CABAL, KAPPA, TAKE):
        if key not in parameters:
            runs[key] = _number(runs, manifest, key)
    delay_levels = runs[DELAY].dropna().unique()
    cabal_levels = runs[CABAL].dropna().unique()
    others = [p for p in parameters if p not in (DELAY, CABAL)]
    v = Validators(
        runs=len(runs),
        curve_columns=["design", "mix", *(p for p in parameters if p != DELAY)],
        capture_columns=["design", "mix", *(p for p in parameters if p != CABAL)],
        dividends=pd.DataFrame(),
        delays=pd.DataFrame(),
        capture=pd.DataFrame(),
        thresholds=pd.DataFrame(),
        verdicts=_verdicts(results, yuma, parameters, classified, per_mix),
        missing=_missing(runs, manifest),
        delay_varies=len(delay_levels) > 1,
        cabal_varies=len(cabal_levels) > 1,
        designs=sorted(set(results["design"].astype(str))),
        mixes=sorted(set(results["mix"].astype(str))),
    )
    v.dividends = dividend_statistics(runs, v.curve_columns)
    v.delays = _delays(v)
    v.capture = _capture(runs, v.capture_columns)
    v.thresholds = _thresholds(v)
    v.sentences = {
        "dividends": _dividend_sentences(v, len(runs), int(yuma.sum())),
        "capture": _capture_sentences(v, len(runs)),
        "dominance": _dominance_sentences(v, parameters),
    }
    v.summary = _summary(v)
    v.notes = _notes(v, others)
    return v


def _group(frame: pd.DataFrame, columns: list[str]):
    return frame.groupby(columns, sort=True, dropna=False)


def dividend_statistics(runs: pd.DataFrame, curve: list[str]) -> pd.DataFrame:
    """Per ``curve`` columns' levels and reveal delay: G's mean and two-sided 95 % interval over the
    ``runs`` (the columns of :attr:`Validators.dividends`). ``runs`` hold the delay and the take."""
    columns = [*curve, DELAY, "runs", "ratio_mean", "ratio_low", "ratio_high", "ratio_n", "take", "take_line"]
    rows = []
    ratio = _kpi(runs, RATIO)
    for key, group in _group(runs, [*curve, DELAY]):
        mean, low, high, n = interval(ratio.loc[group.index])
        take = float(group[TAKE].iloc[0])
        rows.append([*key, len(group), mean, low, high, n, take, 1.0 - take])
    return pd.DataFrame(rows, columns=columns)


def _capture(runs: pd.DataFrame, curve: list[str]) -> pd.DataFrame:
    columns = [*curve, CABAL, "runs", "stake_share", "capture_mean", "capture_low", "capture_high"]
    columns += ["capture_n", "kappa", "copier_share", "predicted_low", "predicted"]
    rows = []
    captured = _kpi(runs, CAPTURE)
    realised = _kpi(runs, CABAL_SHARE)
    copiers = _kpi(runs, COPIER_SHARE)
    for key, group in _group(runs, [*curve, CABAL]):
        mean, low, high, n = interval(captured.loc[group.index])
        share = realised.loc[group.index]
        stake = float(share.mean()) if share.notna().any() else float(key[-1])
        kappa = float(group[KAPPA].iloc[0])
        c = copiers.loc[group.index]
        c = float(c.mean()) if c.notna().any() else 0.0
        rows.append([*key, len(group), stake, mean, low, high, n, kappa, c, *predicted_capture(kappa, c)])
    return pd.DataFrame(rows, columns=columns)


#: Realised shares within this of the prediction count as reaching it (they are sums of floats).
PREDICTION_TOLERANCE = 1e-9


def predicted_capture(kappa: float, copier_share: float) -> tuple[float, float]:
    """The stake shares between which the mechanism puts a cabal's capture of the trainers' emission.

    A cabal sets its own trainers' consensus once it holds κ of the evaluating validators' stake (a
    tie of stake goes to the higher weight) and sets everyone else's to 0 once it holds more than
    1 − κ; copiers holding c of all stake copy the evaluators' consensus and so follow it. Below
    min(κ, 1 − κ) × (1 − c) of all stake it can do neither; from max(κ, 1 − κ) × (1 − c) it does both
    and takes everything. In between (κ ≠ ½) it either promotes its trainers beside the others or
    vetoes the others, and whether that is half the emission depends on how many trainers each side
    has. Returns (low, high); at κ = ½ they are one share."""
    return min(kappa, 1.0 - kappa) * (1.0 - copier_share), max(kappa, 1.0 - kappa) * (1.0 - copier_share)


def _curves(table: pd.DataFrame, columns: list[str]):
    if table.empty:
        return []
    return list(_group(table, columns))


def _delays(v: Validators) -> pd.DataFrame:
    rows = []
    for key, curve in _curves(v.dividends, v.curve_columns):
        curve = curve.sort_values(DELAY)
        valued = curve[curve["ratio_n"] > 0]
        take = float(curve["take"].iloc[0])
        below_one = first_delay_below(curve, 1.0)
        below_take = first_delay_below(curve, 1.0 - take)
        where = dict(zip(v.curve_columns, key, strict=True))
        text = _dividend_text(v, where, curve, valued, below_one, below_take, take)
        rows.append([*key, len(valued), below_one, below_take, take, text])
    columns = [*v.curve_columns, "levels", "below_one", "below_take", "take", "text"]
    return pd.DataFrame(rows, columns=columns)


def first_delay_below(curve: pd.DataFrame, line: float) -> float:
    """The shortest reveal delay of one curve of :attr:`Validators.dividends` at which G's upper 95 %
    bound is below ``line``; NaN when it is at no delay (or G has no value at any)."""
    below = curve[(curve["ratio_n"] > 0) & (curve["ratio_high"] < line)]
    return float(below[DELAY].min()) if len(below) else math.nan


def _thresholds(v: Validators) -> pd.DataFrame:
    rows = []
    for key, curve in _curves(v.capture, v.capture_columns):
        curve = curve.sort_values(["stake_share", CABAL])
        valued = curve[curve["capture_n"] > 0]
        hits = valued[valued["capture_low"] >= CAPTURED]
        at = float(hits[CABAL].iloc[0]) if len(hits) else math.nan
        stake = float(hits["stake_share"].iloc[0]) if len(hits) else math.nan
        kappa = float(curve["kappa"].iloc[0])
        predicted = float(curve["predicted_low"].mean()), float(curve["predicted"].mean())
        where = dict(zip(v.capture_columns, key, strict=True))
        text = _capture_text(v, where, curve, valued, hits, kappa, predicted)
        predicted = predicted[1]
        rows.append([*key, len(valued), at, stake, kappa, predicted, text])
    columns = [*v.capture_columns, "levels", "captures_at", "stake_share", "kappa", "predicted", "text"]
    return pd.DataFrame(rows, columns=columns)


def _verdicts(
    results: pd.DataFrame,
    yuma: pd.Series,
    parameters: list[str],
    classified: pd.DataFrame,
    per_mix: pd.DataFrame | None,
) -> pd.DataFrame:
    """The validators' verdict at the (design, point)s with some Yuma run."""
    keys = ["design", *parameters]
    columns = [*keys, "validators", "validators_mean", "validators_lower", "validators_upper"]
    with_yuma = results.loc[yuma, keys].drop_duplicates()
    table = classified.merge(with_yuma, on=keys, how="inner")[columns] if len(with_yuma) else None
    if table is None or table.empty:
        return pd.DataFrame(columns=[*columns, "copiers"])
    if per_mix is not None and "validators_absent" in per_mix:
        present = ~per_mix["validators_absent"].astype(bool)
        copiers = per_mix.assign(copiers=present).groupby(keys, sort=True, dropna=False)["copiers"].any()
        table = table.merge(copiers.reset_index(), on=keys, how="left")
        table["copiers"] = table["copiers"].fillna(False).astype(bool)
    else:
        table["copiers"] = table["validators_mean"].notna()
    # A point with no margin to read (no honest or no copying validators anywhere) has no verdict.
    table.loc[table["validators_mean"].isna(), "copiers"] = False
    return table.reset_index(drop=True)


def _missing(runs: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """Yuma runs whose G or capture share is NaN, per (design, mix), with the reason."""
    copiers = pd.to_numeric(
        setting_per_run(runs, manifest, "population.copying_validators", 0), errors="coerce"
    ).fillna(0)
    honest = pd.to_numeric(
        setting_per_run(runs, manifest, "population.honest_validators", 0), errors="coerce"
    ).fillna(0)
    rows = []
    for (design, mix), group in _group(runs, ["design", "mix"]):
        ratio = _kpi(group, RATIO).isna()
        no_copiers = ratio & (copiers.loc[group.index] == 0)
        no_honest = ratio & ~no_copiers & (honest.loc[group.index] == 0)
        for count, reason in (
            (int(no_copiers.sum()), "no copying validators: G compares copiers with honest validators"),
            (int(no_honest.sum()), "no honest validators: G compares copiers with honest validators"),
            (
                int((ratio & ~no_copiers & ~no_honest).sum()),
                "no copier or honest validator outside the cabal earned a dividend per unit of stake "
                "to compare (G undefined)",
            ),
        ):
            if count:
                rows.append([design, mix, RATIO, count, len(group), reason])
        capture = _kpi(group, CAPTURE).isna()
        no_cabal = capture & (group[CABAL].astype(float) == 0)
        for count, reason in (
            (int(no_cabal.sum()), "no cabal (yuma.cabal_stake_share = 0): nothing to capture"),
            (int((capture & ~no_cabal).sum()), "the capture share is undefined (no trainer emission paid)"),
        ):
            if count:
                rows.append([design, mix, CAPTURE, count, len(group), reason])
    return pd.DataFrame(rows, columns=["design", "mix", "kpi", "runs", "of", "reason"])


# -- sentences -------------------------------------------------------------------------------------
def number(value: float, digits: int = 3) -> str:
    """A number as people write it, ``digits`` significant figures; ``n/a`` when undefined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def delay_text(value: float) -> str:
    rounds = round(value)
    return f"{rounds} round{'s' if rounds != 1 else ''}"


def with_interval(mean: float, low: float, high: float) -> str:
    """``1.23 (95 % interval 1.1 to 1.36)``; the mean alone when the digits cannot tell the interval
    from it, and saying so when the interval is open (one run)."""
    if math.isfinite(low) and math.isfinite(high):
        if number(low) == number(high) == number(mean):
            return f"{number(mean)} (in every run)" if low == high else number(mean)
        return f"{number(mean)} (95 % interval {number(low)} to {number(high)})"
    return f"{number(mean)} (one run: no interval)"


def name(parameter: str) -> str:
    """A parameter's name as people say it."""
    return NAMES.get(parameter, short(parameter))


def where_text(where: dict[str, Any], several_designs: bool, several_mixes: bool) -> str:
    """A curve in words (``design X, mix Y, cabal stake share = 0.3``), empty for the only curve."""
    parts = []
    if several_designs:
        parts.append(f"design {where['design']}")
    if several_mixes:
        parts.append(f"mix {where['mix']}")
    parts += [f"{name(k)} = {_level(value)}" for k, value in where.items() if k not in ("design", "mix")]
    return ", ".join(parts)


def _level(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _lead(v: Validators, where: dict[str, Any]) -> str:
    text = where_text(where, len(v.designs) > 1, len(v.mixes) > 1)
    return f"{_capital(text)}: " if text else ""


def _dividend_text(
    v: Validators,
    where: dict[str, Any],
    curve: pd.DataFrame,
    valued: pd.DataFrame,
    below_one: float,
    below_take: float,
    take: float,
) -> str:
    lead = _lead(v, where)
    line = f"1 − take = {number(1 - take)} (take {number(100 * take)} %)"
    if valued.empty:
        return (
            f"{lead}G, the copiers' dividends per unit of stake over the honest validators', is undefined "
            f"in every run ({_reason(v, where, RATIO)})."
        )
    if len(valued) == 1:
        r = valued.iloc[0]
        return _capital(
            f"{lead}at the one reveal delay with a value, {delay_text(r[DELAY])}, G = "
            f"{with_interval(r['ratio_mean'], r['ratio_low'], r['ratio_high'])}: {_verdict_on_g(r, take)}."
        )
    first, last = valued.iloc[0], valued.iloc[-1]
    start = (
        f"G is {with_interval(first['ratio_mean'], first['ratio_low'], first['ratio_high'])} at a reveal "
        f"delay of {delay_text(first[DELAY])} and "
        f"{with_interval(last['ratio_mean'], last['ratio_low'], last['ratio_high'])} at "
        f"{delay_text(last[DELAY])}"
    )
    swept = f"{round(first[DELAY])} to {delay_text(last[DELAY])}"
    if math.isnan(below_one):
        end = (
            f"; its upper 95 % bound is below 1 at no delay swept ({swept}): at none can the replications "
            "tell that copying earns less per unit of stake than evaluating"
        )
    else:
        end = f"; the shortest delay at which its upper 95 % bound is below 1 is {delay_text(below_one)}"
        if math.isnan(below_take):
            end += f", and it is below {line} at no delay swept"
        elif below_take == below_one:
            end += f", where it is also below {line}: there copying does not pay a delegated validator"
        else:
            end += f", and below {line} at {delay_text(below_take)}: there copying does not pay a delegated "
            end += "validator"
    return _capital(f"{lead}{start}{end}.")


def _verdict_on_g(r: pd.Series, take: float) -> str:
    low, high = r["ratio_low"], r["ratio_high"]
    line = 1.0 - take
    if high < line:
        return f"below 1 − take = {number(line)}, copying does not pay a delegated validator"
    if high < 1:
        return f"below 1 but not surely below 1 − take = {number(line)}"
    if low > 1:
        return "above 1, copying out-earns evaluating per unit of stake"
    return "not surely below 1"


def _reason(v: Validators, where: dict[str, Any], kpi: str) -> str:
    rows = v.missing[
        (v.missing["kpi"] == kpi)
        & (v.missing["design"] == where.get("design"))
        & (v.missing["mix"] == where.get("mix"))
    ]
    return "; ".join(rows["reason"]) if len(rows) else "no run with a value"


def _capture_text(
    v: Validators,
    where: dict[str, Any],
    curve: pd.DataFrame,
    valued: pd.DataFrame,
    hits: pd.DataFrame,
    kappa: float,
    predicted: tuple[float, float],
) -> str:
    lead = _lead(v, where)
    if valued.empty:
        if (curve[CABAL] == 0).all():
            return f"{lead}no cabal (cabal stake share 0): nothing to capture."
        return f"{lead}the cabal's capture share is undefined in every run ({_reason(v, where, CAPTURE)})."
    low, high = predicted
    why = _prediction_text(kappa, float(curve["copier_share"].mean()), low, high)
    # Levels where the mechanism predicts capture but the cabal's trainers do not surely take half.
    sure = valued[valued["stake_share"] >= high - PREDICTION_TOLERANCE]
    missed = sure[sure["capture_low"] < CAPTURED]
    if len(hits):
        r = hits.iloc[0]
        share = r["stake_share"]
        if share < low - PREDICTION_TOLERANCE:
            side = f"below {why}: earlier than the mechanism predicts"
        elif (missed["stake_share"] < share).any():
            side = f"{why}: later than the mechanism predicts"
        else:
            side = f"consistent with {why}, as the mechanism predicts"
        after = missed[missed["stake_share"] > share]
        if len(after):
            side += (
                f"; but at a stake share of {number(after['stake_share'].iloc[0])} the cabal's trainers do "
                "not surely take half"
            )
        return (
            f"{lead}the smallest cabal stake share at which the cabal's trainers take at least half of the "
            f"trainers' emission (lower 95 % bound ≥ 0.5) is {number(r[CABAL])} (realised "
            f"{number(share)}), where they take "
            f"{with_interval(r['capture_mean'], r['capture_low'], r['capture_high'])}; that is {side}."
        )
    top = valued.loc[valued["capture_mean"].idxmax()]
    largest = valued.iloc[-1]
    prediction = (
        f"the largest share swept reaches {why}, so the mechanism predicts capture there"
        if largest["stake_share"] >= high - PREDICTION_TOLERANCE
        else f"no share swept reaches {why}, so the mechanism does not predict it"
    )
    return (
        f"{lead}at no cabal stake share swept (up to {number(largest[CABAL])}, realised "
        f"{number(largest['stake_share'])}) is the lower 95 % bound of the cabal's trainers' share of the "
        f"emission at least 0.5; the most they take is "
        f"{with_interval(top['capture_mean'], top['capture_low'], top['capture_high'])} at "
        f"{number(top[CABAL])}; {prediction}."
    )


def _prediction_text(kappa: float, copier_share: float, low: float, high: float) -> str:
    """The predicted capture shares in words, with where they come from."""
    copiers = (
        f"copiers hold c = {number(copier_share)} of the stake and copy the evaluators' consensus"
        if copier_share > 0
        else "no copiers"
    )
    if abs(high - low) <= PREDICTION_TOLERANCE:
        factor = " × (1 − c)" if copier_share > 0 else ""
        return f"κ{factor} = {number(high)} (κ = {number(kappa)}; {copiers})"
    factor = " × (1 − c)" if copier_share > 0 else ""
    return (
        f"min(κ, 1 − κ){factor} = {number(low)} to max(κ, 1 − κ){factor} = {number(high)} (κ = "
        f"{number(kappa)}; {copiers}; between the two, whether the cabal takes half depends on how "
        "many trainers each side has)"
    )


def _dividend_sentences(v: Validators, runs: int, yuma_runs: int) -> list[str]:
    if not runs:
        return [
            f"No Yuma run finished in the token regime ({yuma_runs} Yuma run{'s' if yuma_runs != 1 else ''} "
            "in all): there is nothing to read G or the cabal's capture from."
        ]
    if not (v.dividends["ratio_n"] > 0).any():
        return [
            "G, the copiers' dividends per unit of stake over the honest validators', is undefined in every "
            f"Yuma run ({_reason_all(v, RATIO)})."
        ]
    return _limited(v.delays["text"].tolist(), "curves")


def _capture_sentences(v: Validators, runs: int) -> list[str]:
    if not runs:
        return []
    if not (v.capture["capture_n"] > 0).any():
        if (v.capture[CABAL] == 0).all():
            return ["No Yuma run has a cabal (yuma.cabal_stake_share = 0): there is nothing to capture."]
        return [f"The cabal's capture share is undefined in every Yuma run ({_reason_all(v, CAPTURE)})."]
    return _limited(v.thresholds["text"].tolist(), "curves")


def _limited(texts: list[str], what: str) -> list[str]:
    texts = [_capital(t) for t in texts]
    if len(texts) <= MAX_SENTENCES:
        return texts
    return [
        *texts[:MAX_SENTENCES],
        f"… and {len(texts) - MAX_SENTENCES} more {what}: every one is in the CSV.",
    ]


def _capital(text: str) -> str:
    """The sentence with its first letter capitalised, unless that is a symbol such as κ (whose capital
    Κ would read as another letter)."""
    return text[:1].upper() + text[1:] if text[:1].isascii() else text


def _dominance_sentences(v: Validators, parameters: list[str]) -> list[str]:
    t = v.verdicts
    if t.empty:
        return []
    with_copiers = t[t["copiers"]]
    if with_copiers.empty:
        return [
            f"No Yuma point has copying validators ({len(t)} point{'s' if len(t) != 1 else ''}): there "
            "is no validators' margin to judge."
        ]
    count = {
        k: int((with_copiers["validators"] == k).sum())
        for k in (dominance.DOMINATES, dominance.UNCERTAIN, dominance.FAILS)
    }
    n = len(with_copiers)
    out = [
        f"Honest validation dominates copying (the validators' margin's one-sided 95 % lower bound above 0 "
        f"under every mix) at {count[dominance.DOMINATES]} of {n} Yuma point{'s' if n != 1 else ''} with "
        f"copiers, fails at {count[dominance.FAILS]} and is uncertain at {count[dominance.UNCERTAIN]}"
        + (f"; {len(t) - n} more have no copiers." if len(t) > n else ".")
    ]
    if DELAY in parameters and v.delay_varies:
        out.append(_from_delay(v, with_copiers, [p for p in parameters if p != DELAY]))
    return out


def from_delay(verdicts: pd.DataFrame) -> float:
    """The shortest reveal delay from which honest validation dominates at every point of that delay
    and of every longer one, among ``verdicts`` (rows of :attr:`Validators.verdicts`); NaN if none."""
    by_delay = verdicts.groupby(DELAY, sort=True)["validators"].agg(
        lambda s: (s == dominance.DOMINATES).all()
    )
    holds = by_delay.to_numpy(bool)
    tail = np.logical_and.accumulate(holds[::-1])[::-1]  # dominates at this delay and every longer one
    return float(by_delay.index[int(np.argmax(tail))]) if tail.any() else math.nan


def _from_delay(v: Validators, verdicts: pd.DataFrame, others: list[str]) -> str:
    """Per design and level of the other swept parameters, the delay from which honest validation
    dominates (:func:`from_delay`), the levels with the same answer named together."""
    keys = ["design", *others]
    answers: dict[float, list[dict[str, Any]]] = {}
    for key, rows in verdicts.groupby(keys, sort=True, dropna=False):
        answers.setdefault(from_delay(rows), []).append(dict(zip(keys, key, strict=True)))
    if len(answers) == 1:
        delay = next(iter(answers))
        if math.isnan(delay):
            return "At no reveal delay swept does honest validation dominate at every point from there on."
        swept = "at every point swept"
        return f"From a reveal delay of {delay_text(delay)} on, honest validation dominates {swept}."
    parts = []
    for delay, places in sorted(answers.items(), key=lambda item: (math.isnan(item[0]), item[0])):
        at = _places_text(v, places, others)
        if math.isnan(delay):
            parts.append(f"at no reveal delay swept does it dominate from there on at {at}")
        else:
            parts.append(f"from a reveal delay of {delay_text(delay)} on it dominates at {at}")
    return "Honest validation: " + "; ".join(parts) + "."


def _places_text(v: Validators, places: list[dict[str, Any]], others: list[str]) -> str:
    """Levels of the other parameters in words: one parameter's levels listed together
    (``cabal stake share = 0, 0.2 and 0.3``), several parameters' combinations one by one."""
    if len(others) == 1 and len(v.designs) == 1:
        levels = [_level(p[others[0]]) for p in places]
        listed = levels[0] if len(levels) == 1 else f"{', '.join(levels[:-1])} and {levels[-1]}"
        return f"{name(others[0])} = {listed}"
    return "; ".join(where_text(p | {"mix": ""}, len(v.designs) > 1, False) for p in places)


def _summary(v: Validators) -> list[str]:
    out = []
    if len(v.delays):
        out.append("Validators under Yuma Consensus: " + _spread(v.delays, ("below_one", "below_take"), v))
    if len(v.thresholds) and not (v.thresholds["levels"] == 0).all():
        out.append(_capture_spread(v))
    return out


def _spread(delays: pd.DataFrame, columns: tuple[str, str], v: Validators) -> str:
    """The shortest delays of every curve in one sentence: their range for each line (1 and 1 − take),
    both lines at once when every curve crosses them at the same delay."""
    if len(delays) == 1:
        return _uncapital(delays["text"].iloc[0])
    valued = delays[delays["levels"] > 0]
    if valued.empty:
        return "G is undefined in every run (" + _reason_all(v, RATIO) + ")."
    one, take = (valued[c].to_numpy(float) for c in columns)
    if np.array_equal(one, take, equal_nan=True):
        return _shortest_delays(valued[columns[0]], "below 1, and below 1 − take,", len(valued)) + "."
    parts = [
        _shortest_delays(valued[column], f"below {line}", len(valued))
        for column, line in zip(columns, ("1", "1 − take"), strict=True)
    ]
    return "; ".join(parts) + "."


def _shortest_delays(found: pd.Series, what: str, curves: int) -> str:
    found = found.dropna()
    if found.empty:
        return f"G's upper 95 % bound is {what} at no delay swept on any of the {curves} curves"
    low, high = found.min(), found.max()
    span = delay_text(low) if low == high else f"{round(low)} to {delay_text(high)}"
    if len(found) == curves:
        return f"the shortest delay at which G's upper 95 % bound is {what} is {span} on the {curves} curves"
    return (
        f"the shortest delay at which G's upper 95 % bound is {what} is {span} on {len(found)} of the "
        f"{curves} curves (on the others no delay swept is)"
    )


def _capture_spread(v: Validators) -> str:
    """The capture thresholds of every curve in one sentence: their range, beside the prediction."""
    t = v.thresholds[v.thresholds["levels"] > 0]
    if len(t) == 1:
        return "Cabal: " + _uncapital(t["text"].iloc[0])
    found = t["stake_share"].dropna()
    predicted = sorted(set(t["predicted"].round(12)))
    kappa = (
        f"the share from which the mechanism predicts it, {number(predicted[0])}"
        if len(predicted) == 1
        else f"the shares from which the mechanism predicts it, {number(predicted[0])} to "
        f"{number(predicted[-1])}"
    )
    if found.empty:
        return (
            f"Cabal: on none of the {len(t)} curves do the cabal's trainers take at least half of the "
            f"trainers' emission (lower 95 % bound ≥ 0.5) at the stake shares swept ({kappa})."
        )
    low, high = number(found.min()), number(found.max())
    share = f"a realised stake share of {low}" if low == high else f"realised stake shares of {low} to {high}"
    curves = f"on all {len(t)} curves" if len(found) == len(t) else f"on {len(found)} of the {len(t)} curves"
    return (
        f"Cabal: the smallest stake share at which the cabal's trainers take at least half of the trainers' "
        f"emission (lower 95 % bound ≥ 0.5) is {share} {curves}, beside {kappa}."
    )


def _uncapital(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _reason_all(v: Validators, kpi: str) -> str:
    rows = v.missing[v.missing["kpi"] == kpi]
    return "; ".join(dict.fromkeys(rows["reason"])) if len(rows) else "no run with a value"


def _notes(v: Validators, others: list[str]) -> list[str]:
    notes = [
        f"Validators under Yuma Consensus: {v.runs} ok token-regime Yuma run{'s' if v.runs != 1 else ''}. "
        "G (copier_dividend_ratio) and the cabal's share of the trainers' emission "
        "(cabal_trainer_emission_share) get two-sided 95 % Student-t intervals over the replications per "
        "level; nothing is pooled over the levels of other swept parameters"
        + (f" ({', '.join(others)}): each level is a curve of its own." if others else ".")
    ]
    if not v.delay_varies:
        notes.append(
            "The reveal delay (yuma.reveal_delay_rounds) does not vary in the Yuma runs: G is read at the "
            "one delay played."
        )
    if not v.cabal_varies:
        notes.append(
            "The cabal's stake share (yuma.cabal_stake_share) does not vary in the Yuma runs: there is no "
            "capture threshold to find."
        )
    for r in v.missing.itertuples():
        notes.append(f"{r.kpi}: {r.runs} of {r.of} Yuma runs of design {r.design}, mix {r.mix}: {r.reason}.")
    return notes
