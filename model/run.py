"""The one entry point analysis uses: a scenario and a seed in, KPIs (and a trajectory) out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.kpis import check_finite, run_kpis, strategy_figures, strategy_table
from model.network import FLNetwork
from model.scenario import Scenario, with_overrides


@dataclass
class RunResult:
    """What one run produced."""

    scenario: Scenario
    seed: int | None
    """The integer seed, or None when the run was given a SeedSequence."""
    kpis: dict[str, float]
    """Flat KPIs (see ``model.kpis.KPI_DOCS``)."""
    strategies: pd.DataFrame
    """One row per strategy: owners, capital, profit per round and per capital, flags, stake."""
    trajectory: pd.DataFrame | None
    """One row per round, when asked for."""


def run_scenario(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    rounds: int | None = None,
    trajectory: bool = False,
    audit: bool = False,
) -> RunResult:
    """Simulate ``scenario`` with ``seed`` (default: the scenario's) for its rounds (or ``rounds``).

    ``trajectory`` also returns one row per round; ``audit`` keeps and checks every account's books
    (``model.ledger``; slower, the same numbers). Raises ``model.kpis.KPIRangeError`` naming any KPI
    that came out infinite (the schema's bounds are meant to make that impossible) and
    ``model.ledger.LedgerError`` if tokens (or, tokenless, fiat) were not conserved.
    """
    if rounds is not None:
        scenario = with_overrides(scenario, {"rounds": rounds})  # validated like a file
    net = FLNetwork(scenario, seed, record_trajectory=trajectory, audit=audit)
    net.run()
    net.ledger.check()  # conservation and non-negative balances (and, audited, each account's books)
    if net.fiat is not None:
        net.fiat.check()  # tokenless: fiat conservation between budget, fees, wages and KYC
    if net.economy is not None:
        net.economy.check()  # fiat conservation between the pool, participants, users and owner
    figures = strategy_figures(net)
    kpis = run_kpis(net, figures)
    check_finite(kpis)
    used_seed = scenario.seed if seed is None else seed
    return RunResult(
        scenario=scenario,
        seed=used_seed if isinstance(used_seed, int) else None,
        kpis=kpis,
        strategies=strategy_table(net, figures),
        trajectory=net.recorder.frame() if trajectory else None,
    )
