"""Benchmark: fedstake's round loop against a trivial per-agent Mesa loop, in one run.

For 1,000 and 10,000 trainers (plus 10 % validators, 200 rounds) it times

* fedstake: ``FLNetwork(...).run()`` on a scaled copy of ``scenarios/baseline.toml``;
* trivial Mesa: a model whose agents each do one float update per step via ``agents.shuffle_do``,
  with the same number of agents and steps;

and prints participant-rounds per second for both and their ratio, for the step loop alone (what
"per participant-round" measures) and end to end (construction included). It also times the
baseline scenario end to end, and the baseline with adaptive owners (imitation every 10 rounds,
profit-threshold exit, 20 entry candidates) against the same rounds without. Each figure is the
best of ``--repeats`` runs.

The bars: fedstake ≥ 10× the trivial loop per participant-round at both sizes, and the baseline
scenario under 50 ms (issue 2); adaptation at most 2× the time of the static baseline (issue 8).

    python bench/bench_model.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import mesa

from model import load_scenario, with_overrides
from model.network import FLNetwork

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
ROUNDS = 200


class FloatAgent(mesa.Agent):
    """Holds one float and grows it by 1 % per step: the least an agent can do."""

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.wealth = 1.0

    def step(self) -> None:
        self.wealth += 0.01 * self.wealth


class TrivialModel(mesa.Model):
    """``n`` FloatAgents stepped in random order, one Python call per agent per step."""

    def __init__(self, n: int, seed: int = 1):
        super().__init__(seed=seed)
        FloatAgent.create_agents(self, n)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def scaled_scenario(trainers: int):
    """The baseline's strategy mix and tokenomics at ``trainers`` trainer owners (+10 % validators)."""
    base = load_scenario(BASELINE)
    return with_overrides(
        base,
        {
            "rounds": ROUNDS,
            "population.honest_trainers": trainers * 70 // 100,
            "population.lazy_trainers": trainers * 10 // 100,
            "population.sybil_owners": trainers * 2 // 100,
            "population.poisoning_trainers": trainers * 10 // 100,
            "population.honest_validators": trainers * 8 // 100,
            "population.copying_validators": trainers * 2 // 100,
            "token.genesis_supply_tokens": 1e9,
        },
    )


def time_model(build, run) -> tuple[float, float]:
    """(construction seconds, step-loop seconds) of one fresh model."""
    t0 = time.perf_counter()
    model = build()
    t1 = time.perf_counter()
    run(model)
    return t1 - t0, time.perf_counter() - t1


def best_of_interleaved(repeats: int, *contenders) -> list[tuple[float, float]]:
    """Best (construction, step loop) seconds per contender, each ``(build, run)``.

    The contenders take turns within every repeat, so a noisy neighbour on a shared machine slows
    them alike and the ratio stays fair.
    """
    best = [(float("inf"), float("inf")) for _ in contenders]
    for _ in range(repeats):
        for i, (build, run) in enumerate(contenders):
            b, r = time_model(build, run)
            best[i] = (min(best[i][0], b), min(best[i][1], r))
    return best


#: The adaptation measurement's owners: they revise, may exit, and candidates wait to enter.
ADAPTATION = {
    "adaptation.revision": "imitation",
    "adaptation.exit_rule": "profit_threshold",
    "adaptation.entry_candidates": 20,
}


def run_trivial(model: TrivialModel) -> None:
    for _ in range(ROUNDS):
        model.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, mesa {mesa.__version__}, {platform.machine()}")
    print(f"{ROUNDS} rounds; rates in million participant-rounds per second; best of {args.repeats}\n")
    header = (
        f"{'trainers':>8} {'particip.':>9} | {'fedstake':>9} {'trivial':>8} {'ratio':>6} | "
        f"{'fedstake e2e':>12} {'trivial e2e':>11} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for trainers in (1_000, 10_000):
        scenario = scaled_scenario(trainers)
        participants = scenario.trainer_identities + scenario.validators
        work = participants * ROUNDS / 1e6
        (fb, fr), (tb, tr) = best_of_interleaved(
            args.repeats,
            (lambda s=scenario: FLNetwork(s, 1), FLNetwork.run),
            (lambda n=participants: TrivialModel(n), run_trivial),
        )
        print(
            f"{trainers:>8,} {participants:>9,} | {work / fr:>9.1f} {work / tr:>8.2f} {tr / fr:>5.1f}x | "
            f"{work / (fb + fr):>12.1f} {work / (tb + tr):>11.2f} {(tb + tr) / (fb + fr):>5.1f}x"
        )
    baseline = load_scenario(BASELINE)
    ((bb, br),) = best_of_interleaved(args.repeats, (lambda: FLNetwork(baseline, 1), FLNetwork.run))
    print(
        f"\nbaseline scenario ({baseline.trainer_identities} trainer identities, "
        f"{baseline.validators} validators, {baseline.rounds} rounds): "
        f"{1e3 * (bb + br):.1f} ms end to end ({1e3 * bb:.1f} ms construction)"
    )
    adaptive = with_overrides(baseline, ADAPTATION)
    (sb, sr), (ab, ar) = best_of_interleaved(
        args.repeats,
        (lambda: FLNetwork(baseline, 1), FLNetwork.run),
        (lambda: FLNetwork(adaptive, 1), FLNetwork.run),
    )
    print(
        f"adaptive baseline (imitation every {adaptive.adaptation.revision_interval_rounds} rounds, "
        f"profit-threshold exit, {adaptive.adaptation.entry_candidates} entry candidates): "
        f"{1e3 * (ab + ar):.1f} ms end to end against {1e3 * (sb + sr):.1f} ms static, "
        f"ratio {(ab + ar) / (sb + sr):.2f}x (bar: at most 2x)"
    )


if __name__ == "__main__":
    main()
