"""The ``fedstake`` command line.

Every command refuses bad input before it runs anything: the message names what is wrong and
what is allowed, the exit status is 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import traceback
from importlib import metadata
from pathlib import Path

from model.kpis import TRAINER_DEVIATIONS
from model.params import ScenarioError

EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 1
#: What a Unix tool killed by SIGPIPE reports (128 + 13).
EXIT_BROKEN_PIPE = 141
#: OS errors that say the machine, not the input, is at fault: exit 1 whatever raised them.
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


class UsageError(Exception):
    """Bad command-line input; the message says what is wrong and what is allowed."""


def package_version() -> str:
    """The installed fedstake version, or ``unknown`` when run from a source tree."""
    try:
        return metadata.version("fedstake")
    except metadata.PackageNotFoundError:
        return "unknown"


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; a whole number >= 0 is allowed")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not allowed; a whole number >= 1 is allowed")
    return value


def _port(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= 65_535:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; a port is a whole number in 1-65535")
    return value


NO_CAPITAL_NOTE = (
    "n/a*: no capital committed (zero stake, zero liquid buffer): profit per unit of capital undefined"
)


def format_summary(result) -> str:
    """A plain-text table of one run: the regime, per-strategy payoffs, then margins and totals.

    A number that is undefined is printed as words, never as ``nan``: ``-`` for a strategy with no
    submissions or stake to speak of, ``n/a*`` (with a footnote) for profit per unit of capital
    when an owner commits no capital, and ``n/a`` with the reason for a margin that has no value.
    A tokenless run (no token, no capital) gets :func:`format_tokenless_summary`.
    """
    s = result.scenario
    if s.regime.kind == "tokenless":
        return format_tokenless_summary(result)
    t = result.strategies
    lines = [
        _header(result),
        TOKEN_REGIME_LINE,
        "",
        f"{'strategy':<18} {'owners':>6} {'at end':>6} {'ids':>5} {'profit/round':>13} {'pi %/round':>11} "
        f"{'flagged':>8} {'stake':>7}",
    ]
    no_capital = (t["owners"] > 0) & (t["capital_fiat_per_owner"] <= 0)
    for name, row in t.iterrows():
        pi = f"{'n/a*' if no_capital[name] else _number(100 * row.pi, '.4f'):>11}"
        lines.append(
            f"{name:<18} {row.owners:>6d} {row.owners_final:>6d} {row.identities:>5d} "
            f"{_number(row.profit_fiat_per_round_per_owner, '.3f'):>13} {pi} "
            f"{_number(row.flag_rate, '.1%'):>8} {_number(row.stake_share, '.1%'):>7}"
        )
    k = result.kpis
    trainer_deviations = [d for d in TRAINER_DEVIATIONS if d in t.index and t.loc[d, "owners"] > 0]
    lines += [
        "",
        "profit/round: fiat per owner per round; pi: profit per round per unit of capital committed",
        *([NO_CAPITAL_NOTE] if no_capital.any() else []),
        "honesty margin, trainers:   "
        + _margin(
            k["margin_trainers"], "honest minus best", no_capital.get("honest", False), trainer_deviations
        ),
        "honesty margin, validators: "
        + _margin(
            k["margin_validators"],
            "honest minus copying",
            False,
            [d for d in ("copying_validator",) if d in t.index and t.loc[d, "owners"] > 0],
        ),
        f"tokens minted {k['minted_tokens']:,.0f}, slashed {k['slashed_tokens']:,.0f}, "
        f"burned {k['burned_tokens']:,.0f}, insurance pool {k['insurance_tokens']:,.0f}",
        f"model quality: final {k['final_quality']:.3f}, mean {k['mean_quality']:.3f}",
        _shares_line(k, s.adaptation.honest_share_level),
        *(_votes_lines(s, k) if s.rewards.rule == "yuma" else []),
        *(fl_lines(s, k) if s.detection.mode == "mechanistic" else []),
        *economy_lines(s, k),
    ]
    return "\n".join(lines)


def economy_lines(s, k) -> list[str]:
    """With a token economy or halvings: the price, the users' fees and claims, and what honest work
    earned after each halving (``model.kpis.ECONOMY_KPIS``); nothing for a fixed price without users."""
    lines = []
    if s.token.price_model == "market":
        lines.append(
            f"market price: {s.token.price_fiat:g} -> {k['final_price_fiat']:.4g} fiat per token (lowest "
            f"{k['min_price_fiat']:.4g}, mean {k['mean_price_fiat']:.4g})"
        )
    if math.isfinite(k["queries_per_round"]):
        lines.append(
            f"users: {k['queries_per_round']:,.0f} queries and {k['fees_fiat_per_round']:,.1f} fiat of fees "
            f"a round on average (paid in {s.fees.paid_in}); {k['fees_burned_tokens']:,.0f} tokens burned "
            "from fees"
        )
    if math.isfinite(k["claims_filed_fiat"]):
        coverage = k["coverage_ratio"]
        covered = f"{coverage:.1%} paid" if math.isfinite(coverage) else "none filed"
        lines.append(
            f"insurance claims: {k['claims_filed_fiat']:,.1f} fiat filed, {covered} "
            f"({k['claims_unpaid_fiat']:,.1f} unpaid; the pool fell short in {k['insolvent_rounds']:.0f} "
            "rounds)"
        )
    for n in (1, 2):
        if math.isfinite(k[f"halving_{n}_round"]):
            lines.append(
                f"after halving {n} (round {k[f'halving_{n}_round']:.0f}): pi honest "
                f"{_number(100 * k[f'pi_honest_after_halving_{n}'], '+.4f')} %/round, margin "
                f"{_number(100 * k[f'margin_trainers_after_halving_{n}'], '+.4f')} %/round"
            )
    return lines


def fl_lines(s, k) -> list[str]:
    """In mechanistic mode: what the real model learned and what the cheaters cost it
    (``model.kpis.FL_KPIS``; the flag rates are in the table above)."""
    f = s.fl
    partition = f"Dirichlet({f.dirichlet_alpha:g})" if f.partition == "dirichlet" else "IID"
    lines = [
        f"learning: {f.dataset}, {partition} shards, {f.aggregator}; poisoners {f.attack.replace('_', ' ')}, "
        f"free-riders {f.free_rider}",
        f"test accuracy {k['final_quality']:.1%} (loss {k['fl_test_loss']:.3f} nats)"
        + (
            f"; the clean twin {k['fl_clean_accuracy']:.1%}: the cheaters cost {k['fl_accuracy_lost']:+.1%}"
            if math.isfinite(k["fl_clean_accuracy"])
            else ""
        ),
    ]
    scores = [
        f"{name} {_number(k[f'fl_{name}_score'], '.3f')}"
        for name in ("lazy", "poison")
        if math.isfinite(k[f"fl_{name}_score"])
    ]
    if scores:
        lines.append("validators' scores, relative to honest work: " + ", ".join(scores))
    if math.isfinite(k["fl_poison_entered_share"]):
        lines.append(f"poisoned submissions that entered the model: {k['fl_poison_entered_share']:.1%}")
    return lines


def _votes_lines(s, k) -> list[str]:
    """Under Yuma Consensus: what the validators' votes did (``model.kpis.YUMA_KPIS``)."""
    y = s.yuma
    delay = f"{y.reveal_delay_rounds} round{'s' if y.reveal_delay_rounds != 1 else ''}"
    g = k["copier_dividend_ratio"]
    copiers = (
        f"copiers earn G = {g:.3f} of the honest median, per unit of stake and round voted"
        if math.isfinite(g)
        else "copiers: G n/a (no copier, or no honest validator outside the cabal, voted and earned)"
    )
    trust = ", ".join(
        f"{name} {_number(k[f'validator_trust_{name}_validator'], '.3f')}" for name in ("honest", "copying")
    )
    lines = [
        f"votes: Yuma Consensus, kappa {y.kappa:g}, reveal delay {delay}",
        copiers,
        f"validator trust (weight kept by consensus): {trust}",
    ]
    if y.cabal_stake_share > 0:
        share = k["cabal_trainer_emission_share"]
        took = f"{share:.1%}" if math.isfinite(share) else "n/a (no cabal member, or no trainer paid)"
        lines.append(
            f"cabal: {k['cabal_stake_share']:.1%} of validator stake; its {y.cabal_trainers} trainers took "
            f"{took} of the trainers' emission"
        )
    if y.validator_slash_fraction > 0:
        lines.append(
            f"validators slashed {k['validator_slashes']:.0f} times for straying from consensus "
            f"({k['validator_slashed_tokens']:,.0f} tokens)"
        )
    return lines


def _header(result) -> str:
    s = result.scenario
    return (
        f"scenario {s.name!r}: {s.rounds} rounds, seed {result.seed}, "
        f"{s.trainer_identities} trainer identities, {s.validators} validators"
    )


TOKEN_REGIME_LINE = "regime: token (stake, slashing and emission; owners are paid in tokens)"
#: What a tokenless service fee pays for, per ``regime.fee_basis``.
FEE_BASIS_WORDS = {
    "accepted_submission": "per accepted submission",
    "participation_round": "per round of participation",
}
#: Who pays for KYC, per ``regime.kyc_paid_by``.
KYC_PAYER_WORDS = {
    "applicant": "paid by the applicant",
    "orchestrator": "paid by the orchestrator",
    "split": "split half and half",
}
#: What an ejected identity's owner does, per ``regime.reapply``.
REAPPLY_WORDS = {
    "new_identity": "re-applies at once under a new identity",
    "after_ban": "re-applies when the ban ends",
    "never": "stays out",
}


def reapply_words(regime) -> str:
    """What an ejected identity's owner does, in words. Under a ban for good the ban never ends, so
    an owner that waits it out — after_ban, or new_identity when KYC recognises it — never comes back."""
    if regime.reapply == "after_ban" and regime.ban_forever:
        return "never comes back (it would wait out a ban that never ends)"
    words = REAPPLY_WORDS.get(regime.reapply, regime.reapply)
    if regime.reapply == "new_identity":
        words += " (if KYC recognises it, " + (
            "it never comes back)" if regime.ban_forever else "it re-applies when the ban ends)"
        )
    return words


def regime_lines(regime) -> list[str]:
    """The tokenless regime's institutions: the orchestrator's fee, budget and wage, KYC, ejection."""
    ban = "for good" if regime.ban_forever else f"{regime.ban_rounds} rounds"
    strikes = f"{regime.ejection_strikes} flag{'s' if regime.ejection_strikes != 1 else ''}"
    basis = FEE_BASIS_WORDS.get(regime.fee_basis, regime.fee_basis)
    payer = KYC_PAYER_WORDS.get(regime.kyc_paid_by, regime.kyc_paid_by)
    reapply = reapply_words(regime)
    return [
        "regime: tokenless (a central orchestrator pays fiat; no token, no stake)",
        f"  service fee {regime.service_fee_fiat:g} fiat {basis}, budget {regime.budget_fiat_per_round:,.0f} "
        f"fiat a round; validators' wage {regime.validator_wage_fiat_per_round:g} fiat a round",
        f"  KYC {regime.kyc_cost_fiat:g} fiat per identity, {payer}; ejected after {strikes}, barred {ban}; "
        f"the owner {reapply}",
    ]


TOKENLESS_NOTE = (
    "profit/round: fiat per owner per round of the horizon (rounds ejected or barred count, at no income); "
    "tokenless owners commit no capital, so there is no profit per unit of capital"
)


def format_tokenless_summary(result) -> str:
    """A tokenless run as plain text: the per-strategy table with fiat profit per owner per round
    (the tokenless payoff; there is no capital, stake or token), margins in fiat, what the
    orchestrator paid (fees, wages, KYC, budget returned), the network's cost per round, ejections
    and re-admissions, quality and the honest owners' shares."""
    t, s, k = result.strategies, result.scenario, result.kpis
    lines = [
        _header(result),
        *regime_lines(s.regime),
        "",
        f"{'strategy':<18} {'owners':>6} {'at end':>6} {'ids':>5} {'profit/round':>13} {'flagged':>8}",
    ]
    for name, row in t.iterrows():
        lines.append(
            f"{name:<18} {row.owners:>6d} {row.owners_final:>6d} {row.identities:>5d} "
            f"{_number(row.profit_fiat_per_round_per_owner, '.3f'):>13} {_number(row.flag_rate, '.1%'):>8}"
        )
    deviations = [d for d in TRAINER_DEVIATIONS if d in t.index and t.loc[d, "owners"] > 0]
    copying = [d for d in ("copying_validator",) if d in t.index and t.loc[d, "owners"] > 0]
    lines += [
        "",
        TOKENLESS_NOTE,
        "honesty margin, trainers:   " + _fiat_margin(k["margin_trainers"], "honest minus best", deviations),
        "honesty margin, validators: "
        + _fiat_margin(k["margin_validators"], "honest minus copying", copying),
        f"orchestrator paid: service fees {k['fees_paid_fiat']:,.0f} fiat, validators' wages "
        f"{k['wages_paid_fiat']:,.0f}; KYC {k['kyc_paid_fiat']:,.0f} (applicants and orchestrator); "
        f"budget returned {_plain(k['budget_returned_fiat']):,.0f}",
        *budget_lines(s, k, result.strategies),
        f"network cost {k['network_cost_fiat_per_round']:,.1f} fiat per round (fees, wages and the "
        "orchestrator's KYC); no token minted, staked or slashed",
        f"identities ejected {k['ejected_identities']:,.0f}, re-admitted {k['readmitted_identities']:,.0f}, "
        f"refused by KYC as duplicates {k['kyc_refused_identities']:,.0f}",
        f"model quality: final {k['final_quality']:.3f}, mean {k['mean_quality']:.3f}",
        _shares_line(k, s.adaptation.honest_share_level),
        *(fl_lines(s, k) if s.detection.mode == "mechanistic" else []),
    ]
    return "\n".join(lines)


#: Fiat amounts closer to zero than this are zero: a sum of per-round remainders keeps rounding errors.
FIAT_ROUNDING = 1e-6


def _plain(value: float) -> float:
    """A fiat total as people read it: a rounding remainder (``-1e-13``) is 0, never ``-0``."""
    return 0.0 if abs(value) < FIAT_ROUNDING else value


def budget_lines(s, k: dict[str, float], strategies) -> list[str]:
    """Whether the fee budget bound, as far as the KPIs tell: none of it returned over the whole run
    means the fees due reached it every round, and where they exceeded it every fee was scaled down
    pro rata (``model.fiat.FiatLedger.pay_fees``); a budget below the fee times the starting trainer
    identities can bind in some rounds. Nothing when it cannot bind."""
    regime = s.regime
    budget = regime.budget_fiat_per_round * s.rounds
    identities = int(
        strategies.loc[[n for n in strategies.index if not n.endswith("_validator")], "identities"].sum()
    )
    most = regime.service_fee_fiat * identities
    if regime.service_fee_fiat <= 0 or most <= regime.budget_fiat_per_round:
        return []
    spent = k["fees_paid_fiat"] / budget if budget > 0 else 1.0
    budget_words = f"the {regime.budget_fiat_per_round:,.0f} fiat budget"
    due = f"up to {regime.service_fee_fiat:g} x {identities} = {most:,.0f} fiat could be due"
    if _plain(k["budget_returned_fiat"]) <= 0:
        return [
            f"the fee budget binds: fees due reached {budget_words} in every round ({due}), so each "
            "round's fees were scaled down pro rata wherever more was due"
        ]
    return [
        f"the fee budget can bind: {due} against {budget_words} a round (fees are scaled down pro rata in "
        f"the rounds where more is due); {spent:.0%} of the budget was spent"
    ]


def _fiat_margin(value: float, meaning: str, deviations: list[str]) -> str:
    """A tokenless margin in fiat per owner per round, or ``n/a`` with the reason it has no value."""
    if value == value:
        return f"{value:+.4f} fiat per owner per round ({meaning})"
    if not deviations:
        return "n/a (no deviating strategy in this scenario to compare with)"
    return "n/a (no owners on one side of the comparison)"


def _shares_line(k: dict[str, float], level: float) -> str:
    """Honest owners' shares at the start and the end, when the level was reached, entries and exits."""
    reached = k["rounds_to_honest_share_level"]
    if reached != reached:  # NaN
        when = f"never reached {level:.0%}"
    elif reached == 0:
        when = f"at or above {level:.0%} from the start"
    else:
        when = f"first reached {level:.0%} after {reached:.0f} round{'s' if reached != 1 else ''}"
    start, end = k["honest_trainer_share_initial"], k["honest_trainer_share_final"]
    trainers = f"{_number(start, '.1%')} -> {_number(end, '.1%')}"
    validators = (
        f"{_number(k['honest_validator_share_initial'], '.1%')} -> "
        f"{_number(k['honest_validator_share_final'], '.1%')}"
    )
    return (
        f"honest owners: trainers {trainers} ({when}), validators {validators}; "
        f"{k['entered_owners']:.0f} owners joined, {k['exited_owners']:.0f} left"
    )


def _number(value: float, spec: str) -> str:
    """``value`` formatted by ``spec``, or ``-`` when it is not a number."""
    return "-" if value != value else format(value, spec)  # NaN is the one value unequal to itself


def _margin(value: float, meaning: str, no_capital: bool, deviations: list[str]) -> str:
    """A margin in % of capital per round, or ``n/a`` with the reason it has no value."""
    if value == value:
        return f"{100 * value:+.4f} %/round ({meaning})"
    if no_capital:
        return "n/a (no capital committed: see n/a* above)"
    if not deviations:
        return "n/a (no deviating strategy in this scenario to compare with)"
    return "n/a (no owners on one side of the comparison)"


def cmd_run(args) -> int:
    """``fedstake run``: simulate one scenario, print its summary, optionally write its results."""
    from model import load_scenario, run_scenario
    from model.params import to_dict

    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; a directory (new or existing) is allowed")
    result = run_scenario(scenario, seed, rounds=args.rounds, trajectory=out is not None)
    print(format_summary(result))
    if out is not None:
        from analysis.sweep.output import write_json, write_parquet

        write_parquet(result.trajectory, out / "rounds.parquet")
        write_parquet(result.strategies.reset_index(), out / "strategies.parquet")
        summary = {
            "fedstake_version": package_version(),
            "seed": seed,
            "scenario": to_dict(result.scenario),
            "kpis": result.kpis,
        }
        write_json(summary, out / "summary.json")
        print(f"\nwrote {out / 'rounds.parquet'}, {out / 'strategies.parquet'}, {out / 'summary.json'}")
    return 0


#: Where ``fedstake viz`` serves its page unless told otherwise.
VIZ_HOST, VIZ_PORT = "localhost", 8765


def cmd_viz(args) -> int:
    """``fedstake viz``: check the scenario as ``run`` does, then become the server of its SolaraViz
    page on localhost (``analysis.viz``) until stopped — the process is replaced by Solara's, so that
    Ctrl-C, ``kill`` or a process manager stop the server itself."""
    import errno
    import importlib.util
    import socket

    from model import load_scenario

    path = Path(args.scenario)
    load_scenario(path)  # a wrong file is refused here, with run's errors, before any server starts
    if importlib.util.find_spec("solara") is None:
        raise UsageError(
            "the page needs the viz extra (Solara): pip install -e '.[viz]' (make viz and make test "
            "install it)"
        )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "is in use: stop what listens there or pass another with --port"
            else:
                why = f"cannot be opened ({exc.strerror}): pass another with --port (above 1023 for a user)"
            raise UsageError(f"port {args.port} {why}") from None
    url = f"http://{VIZ_HOST}:{args.port}"
    print(f"fedstake viz: starting the page of {path} at {url} (ready in a few seconds; Ctrl-C stops it)")
    # Nothing leaves the machine: no usage telemetry, no check for a newer Solara on PyPI (its
    # JavaScript comes from the solara-assets package, served by this server).
    env = {
        **os.environ,
        "FEDSTAKE_VIZ_SCENARIO": str(path.resolve()),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        # Solara's check of Mesa's page code warns about a hook Mesa 3.3 places late: not ours to fix.
        "PYTHONWARNINGS": "ignore::UserWarning:solara.validate_hooks",
    }
    command = [
        sys.executable, "-m", "solara", "run", "analysis.viz_page",
        "--host", VIZ_HOST, "--port", str(args.port), "--production", "--no-open", "--no-check-version",
        "--log-level", "warning",
    ]  # fmt: skip
    sys.stdout.flush()
    os.execve(sys.executable, command, env)


def cmd_calibrate(args) -> int:
    """``fedstake calibrate``: measure a mechanistic scenario over seeds, write the abstract mode's
    parameters as a scenario fragment (``analysis.calibration``)."""
    from analysis.calibration import calibrate, calibration_scenario, fragment_text, write_fragment
    from model import load_scenario

    scenario = load_scenario(args.scenario)
    if args.rounds is not None:
        from model import with_overrides

        scenario = with_overrides(scenario, {"rounds": args.rounds})
    calibration_scenario(scenario)  # refuse an abstract scenario before anything runs
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; a .toml file to write is allowed")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.parent} does not exist")
    first = scenario.seed if args.seed is None else args.seed
    estimates = calibrate(scenario, args.seeds, first)
    text = fragment_text(estimates, scenario, args.scenario, args.seeds, first)
    write_fragment(out, text)
    print(text, end="")
    print(f"\nwrote {out}")
    return 0


def cmd_sweep(args) -> int:
    """``fedstake sweep``: run or resume a sweep into a results directory, then summarise it."""
    from analysis.sweep.engine import SweepInterrupted, execute_sweep
    from analysis.sweep.sweepfile import load_sweep
    from model.limits import read_text_file

    sweep = load_sweep(args.sweep)
    try:
        summary = execute_sweep(
            sweep,
            args.out,
            workers=args.workers,
            executor=args.executor,
            chunk_size=args.chunk_size,
            sweep_file=str(args.sweep),
            sweep_text=read_text_file(args.sweep, "sweep"),
        )
    except SweepInterrupted as stop:
        print(stop.summary.text(), file=sys.stderr)
        return 130
    print(summary.text())
    return 0


def _results_dir(path: str) -> Path:
    """The results directory named on the command line; what is inside is checked when read."""
    from analysis.sweep.store import MANIFEST

    directory = Path(path)
    if not directory.is_dir() or not (directory / MANIFEST).exists():
        raise UsageError(
            f"{directory} is not a sweep results directory (no {MANIFEST}); run `fedstake sweep` first"
        )
    return directory


def cmd_check(args) -> int:
    """``fedstake check``: say what in a results directory is valid, damaged or missing."""
    from analysis.sweep.check import check_results

    report = check_results(args.results)  # it diagnoses a missing manifest too
    print(report.text())
    return 0 if report.ok else 1


def parse_slices(texts: list[str] | None) -> dict[str, list] | None:
    """``--slice PATH=LEVEL[,LEVEL…]`` options as {path: [levels]}; numbers where they parse."""
    if not texts:
        return None
    slices: dict[str, list] = {}
    for text in texts:
        path, sep, levels = text.partition("=")
        if not sep or not path.strip() or not levels.strip():
            raise UsageError(
                f"--slice {text!r}: expected PATH=LEVEL[,LEVEL...], e.g. costs.poison_gain_fiat_per_round=2"
            )
        slices.setdefault(path.strip(), []).extend(_level(v.strip()) for v in levels.split(","))
    return slices


def _level(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _analyze(args):
    """The findings of the results directory named on the command line, or a UsageError."""
    return _findings(_results_dir(args.results), parse_slices(args.slice))


def _findings(directory: Path, slices: dict | None, named: bool = False):
    """The findings of one results directory, or a UsageError; ``named``: the message says which
    directory (one of several) it is about."""
    from analysis.findings import NothingToReport, analyze

    try:
        return analyze(directory, slices=slices)
    except (NothingToReport, ValueError) as exc:
        message = str(exc)
        if named and str(directory) not in message:
            message = f"{directory}: {message}"
        raise UsageError(message) from None


def _results_dirs(paths: list[str]) -> list[Path]:
    """The results directories named on the command line, each checked; every one that is not a
    results directory, or is named twice, is listed in one UsageError."""
    problems, directories = [], []
    for path in paths:
        try:
            directory = _results_dir(path)
        except UsageError as exc:
            problems.append(str(exc))
            continue
        if any(directory.resolve() == d.resolve() for d in directories):
            problems.append(f"{directory} is named twice; name each results directory once")
            continue
        directories.append(directory)
    if len(problems) == 1:
        raise UsageError(problems[0])
    if problems:
        raise UsageError(
            "cannot report these results directories:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return directories


def cmd_report(args) -> int:
    """``fedstake report``: write the HTML report of one or more (finished or partial) sweeps.

    One directory gets its own report. Several — or one whose runs cover both regimes — get one page
    that opens with "Token or tokenless?", the regimes side by side, then each sweep's own report.
    Every directory is checked and analysed before anything is written: one that cannot be read
    stops the command with nothing written.
    """
    from analysis.report.page import write_reports

    names = [Path(r).name for r in args.results]
    out = Path(args.output) if args.output else Path("reports") / f"{'+'.join(names)}.html"
    if out.is_dir():
        raise UsageError(f"-o {out} is a directory; give the path of the .html file to write")
    directories = _results_dirs(args.results)
    slices = parse_slices(args.slice)
    findings = [_findings(d, slices, named=len(directories) > 1) for d in directories]
    written = write_reports(findings, out)
    print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
    return 0


def table_text(table) -> str:
    """A findings table as plain text: numbers to 4 significant figures, ``–`` for a value that is
    not defined, ∞ for an open end — never ``nan`` or ``inf``."""
    from analysis.report.elements import number

    return table.map(lambda v: v if isinstance(v, str) else number(v)).to_string(index=False)


def cmd_analyze(args) -> int:
    """``fedstake analyze``: print the key findings of a sweep as text and a table."""
    from analysis.findings import findings_table

    findings = _analyze(args)
    for line in findings.summary:
        print(f"- {line}")
    print()
    print(table_text(findings_table(findings)))
    return 0


SLICE_HELP = (
    "PATH=LEVEL[,LEVEL...]: for sweeps of 3+ parameters, the levels of another parameter to draw 2-D "
    "slices at (repeatable; default: its lowest, middle and highest level)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedstake",
        description="Agent-based model of a token-incentivised federated-learning network.",
    )
    parser.add_argument("--version", action="version", version=f"fedstake {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="on an error, also print the traceback (for bug reports)"
    )

    run = sub.add_parser("run", parents=[common], help="run one scenario and print its per-strategy summary")
    run.add_argument("scenario", help="scenario TOML file (see scenarios/baseline.toml)")
    run.add_argument("--seed", type=_non_negative_int, help="seed (default: the scenario's seed)")
    run.add_argument("--rounds", type=_positive_int, help="rounds (default: the scenario's rounds)")
    run.add_argument("--out", help="directory for rounds.parquet, strategies.parquet and summary.json")
    run.set_defaults(func=cmd_run)

    viz = sub.add_parser(
        "viz", parents=[common], help="play with one scenario in an interactive page on localhost (SolaraViz)"
    )
    viz.add_argument(
        "scenario",
        nargs="?",
        default="scenarios/baseline.toml",
        help="scenario TOML file (default: the baseline)",
    )
    viz.add_argument("--port", type=_port, default=VIZ_PORT, help=f"port to serve on (default {VIZ_PORT})")
    viz.set_defaults(func=cmd_viz)

    calibrate = sub.add_parser(
        "calibrate",
        parents=[common],
        help="measure a mechanistic scenario over seeds; write the abstract mode's parameters as a fragment",
    )
    calibrate.add_argument("scenario", help="a scenario TOML file with detection.mode = 'mechanistic'")
    calibrate.add_argument("--out", required=True, help="the scenario fragment (.toml) to write")
    calibrate.add_argument("--seeds", type=_positive_int, default=5, help="runs, one per seed (default 5)")
    calibrate.add_argument("--seed", type=_non_negative_int, help="first seed (default: the scenario's seed)")
    calibrate.add_argument("--rounds", type=_positive_int, help="rounds (default: the scenario's rounds)")
    calibrate.set_defaults(func=cmd_calibrate)

    sweep = sub.add_parser(
        "sweep", parents=[common], help="run (or resume) a parameter sweep into a results directory"
    )
    sweep.add_argument("sweep", help="sweep TOML file (see scenarios/sweep-*.toml)")
    sweep.add_argument("--out", required=True, help="results directory, e.g. results/NAME")
    sweep.add_argument(
        "--workers", type=_positive_int, help="local worker processes (default: all cores; 1 runs in-process)"
    )
    sweep.add_argument(
        "--executor", default="local", help="'local' (default) or 'dask://HOST:PORT' of a Dask scheduler"
    )
    sweep.add_argument("--chunk-size", type=_positive_int, help="runs per chunk (default: about 1 s of work)")
    sweep.set_defaults(func=cmd_sweep)

    report = sub.add_parser(
        "report",
        parents=[common],
        help="write the self-contained HTML report of one or more sweeps",
        description=(
            "Write one self-contained HTML page. With several results directories (or one whose runs "
            "cover both regimes) it opens with the token-or-tokenless comparison, then each sweep's report."
        ),
    )
    report.add_argument(
        "results", nargs="+", help="one or more sweeps' results directories, e.g. results/NAME"
    )
    report.add_argument(
        "-o", "--output", help="the .html file to write (default: reports/NAME.html, names joined by +)"
    )
    report.add_argument("--slice", action="append", metavar="PATH=LEVELS", help=SLICE_HELP)
    report.set_defaults(func=cmd_report)

    analyze = sub.add_parser("analyze", parents=[common], help="print the key findings of a sweep")
    analyze.add_argument("results", help="a sweep's results directory, e.g. results/NAME")
    analyze.add_argument("--slice", action="append", metavar="PATH=LEVELS", help=SLICE_HELP)
    analyze.set_defaults(func=cmd_analyze)

    check = sub.add_parser(
        "check", parents=[common], help="say what in a results directory is valid, damaged or missing"
    )
    check.add_argument("results", help="a sweep's results directory, e.g. results/NAME")
    check.set_defaults(func=cmd_check)
    return parser


def explain(exc: BaseException) -> tuple[int, str]:
    """The exit status and the one-line message for an error that reached the command line.

    Status 2: the input cannot be used as it is (a scenario, sweep or results directory, an
    argument); the message names what is wrong and what is allowed or what to do. Status 1: the
    machine could not do it (a disk that is full or read-only, memory), or fedstake itself failed.
    """
    from analysis.sweep.executors import ExecutorError
    from analysis.sweep.output import OutputError
    from analysis.sweep.store import StoreError

    if getattr(exc, "errno", None) in ENVIRONMENT_ERRNOS:  # a full, read-only or failing disk
        return EXIT_ENVIRONMENT, str(exc)
    if isinstance(exc, ScenarioError | UsageError | StoreError | ExecutorError):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, OutputError):
        # a path that cannot name a file (under a file, or a directory) is the user's to change;
        # a full or read-only disk is the machine's
        unusable = exc.path.is_dir() or any(p.exists() and not p.is_dir() for p in exc.path.parents)
        return (EXIT_BAD_INPUT if unusable else EXIT_ENVIRONMENT), str(exc)
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return EXIT_BAD_INPUT, "a path contains a NUL byte; paths are plain text"
    if isinstance(exc, RecursionError):
        return EXIT_BAD_INPUT, "the input is nested too deeply to read"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_ENVIRONMENT, f"{where}{exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return EXIT_ENVIRONMENT, "out of memory: make the run or sweep smaller"
    return EXIT_ENVIRONMENT, (
        f"internal error ({type(exc).__name__}: {exc}); this is a bug in fedstake — run the same "
        "command with --debug and report the traceback"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fedstake`` console script; returns the exit status.

    This is the one error boundary: whatever the user or the disk can cause ends in a message and
    an exit status (2 bad input, 1 environment or internal failure, 130 interrupted), never in a
    traceback — unless ``--debug`` asks for one.
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 on bad arguments
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("fedstake: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``fedstake analyze … | head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        status, message = explain(exc)
        print(f"fedstake: error: {message}", file=sys.stderr)
        if getattr(args, "debug", False):
            traceback.print_exc()
        return status


if __name__ == "__main__":
    sys.exit(main())
