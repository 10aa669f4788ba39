"""The interactive single run: a SolaraViz page to play with one design (``fedstake viz``).

Mesa's own ``SolaraViz`` runs the model — step, play, reset, and the controls of
:data:`CONTROLS` — and the components here draw what a designer watches while it runs: each
strategy's profit per unit of capital and stake share, the honest share and the model's quality, the
token stocks, and the honesty margins beside the closed form's prediction (``model.analytic``). The
page runs the network as it is: :class:`PlayableNetwork` is ``model.network.FLNetwork`` built from a
scenario with the controls' values, recording its trajectory (``model.recording``), nothing copied.

The controls take effect on **Reset**, as in every Mesa page: move them, press Reset, then Step or
Play. A combination the scenario schema refuses (say, shares that do not add up) keeps the loaded
scenario running and says what was wrong.

``analysis.viz_page`` is the module ``solara run`` serves; it reads the scenario's path from the
``FEDSTAKE_VIZ_SCENARIO`` environment variable, which ``fedstake viz`` sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # the page draws figures on the server: no display

import matplotlib.pyplot as plt
import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from model.analytic import assumptions_violated, expected_payoffs, tokenless_expected_payoffs
from model.kpis import TRAINER_DEVIATIONS
from model.network import FLNetwork
from model.params import ScenarioError
from model.scenario import Scenario, genesis_allocation_tokens, with_overrides

#: The strategies' colours, the same on every figure.
COLOURS = {
    "honest": "#27ae60",
    "lazy": "#f39c12",
    "sybil": "#8e44ad",
    "poisoning": "#c0392b",
    "honest_validator": "#2c3e50",
    "copying_validator": "#7f8c8d",
}


@dataclass(frozen=True)
class Control:
    """One control of the page: the scenario key it sets, and its widget."""

    key: str
    """Dotted scenario key (``slashing.slash_fraction``); the slash destinations are weights, see
    :data:`SLASH_WEIGHTS`."""
    label: str
    kind: str
    """``float``, ``int`` or ``select``."""
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The model keyword the control sets: the dotted key with ``__`` for each dot."""
        return self.key.replace(".", "__")

    def widget(self, value) -> dict:
        """Mesa's description of the widget, starting at ``value``."""
        if self.kind == "select":
            return {"type": "Select", "value": value, "values": list(self.choices), "label": self.label}
        kind = "SliderFloat" if self.kind == "float" else "SliderInt"
        low, high = self.low, max(self.high, value)
        return {"type": kind, "value": value, "min": low, "max": high, "step": self.step, "label": self.label}


#: Where slashed tokens go, as three weights the page turns into shares (each ÷ their sum), so that
#: any position of the three sliders is a valid split.
SLASH_WEIGHTS = ("slashing.burn_share", "slashing.insurance_share", "slashing.validator_share")

CONTROLS = (
    Control("slashing.slash_fraction", "slash fraction", "float"),
    Control("slashing.burn_share", "slashed: weight to the burn", "float"),
    Control("slashing.insurance_share", "slashed: weight to insurance", "float"),
    Control("slashing.validator_share", "slashed: weight to validators", "float"),
    Control("emission.initial_tokens_per_round", "emission, tokens a round", "float", 0, 10_000, 50),
    Control(
        "emission.schedule",
        "emission schedule",
        "select",
        choices=("constant", "exponential_decay", "halving"),
    ),
    Control(
        "rewards.rule", "reward rule", "select", choices=("equal", "stake_weighted", "score_weighted", "yuma")
    ),
    Control("detection.lazy_detection_rate", "detection: lazy", "float"),
    Control("detection.poison_detection_rate", "detection: poison", "float"),
    Control("detection.sybil_detection_rate", "detection: Sybil copies", "float"),
    Control("detection.false_positive_rate", "false positives (honest flagged)", "float", 0, 0.5, 0.005),
    Control("staking.min_trainer_stake_tokens", "trainer stake, tokens", "float", 0, 5_000, 50),
    Control("staking.validator_stake_tokens", "validator stake, tokens", "float", 50, 20_000, 50),
    Control("staking.initial_liquid_tokens", "liquid buffer, tokens", "float", 0, 20_000, 50),
    Control("costs.poison_gain_fiat_per_round", "poisoner's outside gain, fiat a round", "float", 0, 50, 0.5),
    Control("population.honest_trainers", "honest trainers", "int", 0, 300, 1),
    Control("population.lazy_trainers", "lazy trainers", "int", 0, 300, 1),
    Control("population.sybil_owners", "Sybil owners", "int", 0, 50, 1),
    Control("population.poisoning_trainers", "poisoners", "int", 0, 300, 1),
    Control("population.honest_validators", "honest validators", "int", 0, 64, 1),
    Control("population.copying_validators", "copying validators", "int", 0, 64, 1),
    Control("adaptation.revision", "adaptation: revision", "select", choices=("none", "imitation", "logit")),
    Control("adaptation.exit_rule", "adaptation: exit", "select", choices=("none", "profit_threshold")),
    Control("token.price_model", "token price", "select", choices=("fixed", "market")),
)


def scenario_value(scenario: Scenario, key: str):
    """The value of dotted ``key`` in ``scenario``."""
    node = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node


def playable_scenario(base: Scenario, settings: dict) -> tuple[Scenario, list[str]]:
    """``base`` with the controls' ``settings`` (model keywords: dotted keys with ``__``), and what
    was wrong with them (empty: nothing; then ``base`` itself is returned).

    The slash destinations are normalised weights (all 0: the base scenario's shares); the genesis
    supply is raised to what the population needs when the sliders ask for more than it holds."""
    overrides = {name.replace("__", "."): value for name, value in settings.items()}
    weights = [float(overrides.get(key, scenario_value(base, key))) for key in SLASH_WEIGHTS]
    if sum(weights) > 0:
        overrides.update(zip(SLASH_WEIGHTS, (w / sum(weights) for w in weights), strict=True))
    else:
        overrides.update({key: scenario_value(base, key) for key in SLASH_WEIGHTS})
    try:
        scenario = with_overrides(base, overrides)
    except ScenarioError as exc:
        if not any("genesis_supply_tokens" in p for p in exc.problems):
            return base, list(exc.problems)
        try:  # only the supply is short: give the population what it stakes (or the other problems)
            roomy = with_overrides(base, {**overrides, "token.genesis_supply_tokens": 1e15})
            need = math.ceil(genesis_allocation_tokens(roomy))
            scenario = with_overrides(base, {**overrides, "token.genesis_supply_tokens": need})
        except ScenarioError as again:
            return base, list(again.problems)
    return scenario, []


class PlayableNetwork(FLNetwork):
    """``FLNetwork`` as the page plays it: built from ``base`` with the controls' values, recording its
    trajectory, and stopping (``running`` False) after the scenario's last round."""

    def __init__(self, base: Scenario, seed: int = 0, **kwargs):
        # (Mesa's page requires the catch-all to be named kwargs.) Each is a control's value.
        scenario, self.problems = playable_scenario(base, kwargs)
        super().__init__(scenario, seed, record_trajectory=True)
        self.run_seed = seed
        """The seed this run was built with."""
        self.running = scenario.rounds > 0

    def step(self) -> None:
        """One round, unless the scenario's rounds are all run."""
        if self.round >= self.scenario.rounds:
            self.running = False
            return
        super().step()
        self.running = self.round < self.scenario.rounds


# -- what the page draws -----------------------------------------------------------------------------
def running_pi(net: FLNetwork) -> np.ndarray:
    """Per round run (rows) and strategy (columns): the payoff from round 0 up to that round, per
    round — profit per unit of capital (the running ``pi_<s>``) in the token regime, profit per owner
    in fiat in the tokenless one (nobody commits capital there); NaN where a strategy has none yet."""
    recorder, t = net.recorder, net.round
    scale = np.cumsum((recorder.owners if net.tokenless else recorder.capital)[:t], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, np.cumsum(recorder.profit[:t], axis=0) / scale, np.nan)


def running_margin(pi: np.ndarray, strategies: list[str]) -> np.ndarray:
    """The trainers' margin round by round from running ``pi``: honest minus the best deviation present."""
    others = [strategies.index(d) for d in TRAINER_DEVIATIONS if d in strategies]
    best = np.nanmax(np.where(np.isnan(pi[:, others]), -np.inf, pi[:, others]), axis=1)
    best[np.isneginf(best)] = np.nan
    return pi[:, strategies.index("honest")] - best


def predicted_margin(scenario: Scenario) -> float:
    """The closed form's trainers' margin (``model.analytic``: per unit of capital, or tokenless per
    owner in fiat), NaN when it has none."""
    if scenario.regime.tokenless:
        pi = tokenless_expected_payoffs(scenario)["profit_fiat_per_round_per_owner"]
    else:
        pi = expected_payoffs(scenario)["pi"]
    others = [pi[d] for d in TRAINER_DEVIATIONS if d in pi.index and math.isfinite(pi[d])]
    if "honest" not in pi.index or not others:
        return math.nan
    return float(pi["honest"] - max(others))


def _figure():
    return plt.subplots(figsize=(5.6, 3.4), layout="constrained")


def _finish(ax, title: str):
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("round")


def _payoff_unit(net: FLNetwork) -> tuple[float, str]:
    """How payoffs are drawn: (factor, unit) — % of capital a round, or tokenless fiat per owner."""
    return (1.0, "fiat per owner a round") if net.tokenless else (100.0, "% of capital a round")


def payoffs_figure(net: FLNetwork):
    """Each strategy's running payoff: profit per unit of capital (tokenless: per owner, in fiat)."""
    fig, ax = _figure()
    pi = running_pi(net)
    factor, unit = _payoff_unit(net)
    rounds = np.arange(1, net.round + 1)
    for i, name in enumerate(net.strategies):
        ax.plot(rounds, factor * pi[:, i], color=COLOURS[name], label=name.replace("_", " "))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.legend(fontsize=7, loc="best")
    _finish(ax, f"Profit so far, {unit}")
    return fig


def stakes_figure(net: FLNetwork):
    """Each strategy's share of all bonded stake, % (tokenless, where nobody stakes: its registered
    identities)."""
    fig, ax = _figure()
    recorder = net.recorder
    values = recorder.registered if net.tokenless else 100 * recorder.stake_share
    rounds = np.arange(1, net.round + 1)
    for i, name in enumerate(net.strategies):
        ax.plot(rounds, values[: net.round, i], color=COLOURS[name], label=name.replace("_", " "))
    _finish(
        ax,
        "Registered identities (no stake without a token)" if net.tokenless else "Share of bonded stake, %",
    )
    return fig


def margins_figure(net: FLNetwork):
    """The trainers' margin so far beside the closed form's prediction (flagged when approximate)."""
    fig, ax = _figure()
    factor, unit = _payoff_unit(net)
    rounds = np.arange(1, net.round + 1)
    margin = running_margin(running_pi(net), net.strategies)
    ax.plot(rounds, factor * margin, color=COLOURS["honest"], label="simulated, so far")
    s = net.scenario
    # The closed form is built from detection rates; where votes or a real task flag, it has nothing
    # to say, and drawing it would move with controls the run ignores.
    own_flags = s.detection.mode == "mechanistic" or (s.rewards.rule == "yuma" and not net.tokenless)
    predicted = math.nan if own_flags else predicted_margin(s)
    if math.isfinite(predicted):
        exact = not assumptions_violated(s)
        label = "closed form" + ("" if exact else " (approximate here)")
        ax.axhline(factor * predicted, color="black", linestyle="--", linewidth=1, label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    why = no_margin_reason(net, margin)
    if why:
        ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize=9, wrap=True)
    if own_flags:
        ax.text(
            0.01,
            0.02,
            "no closed form: the flags come from votes or a real task",
            transform=ax.transAxes,
            fontsize=7,
        )
    ax.legend(fontsize=7)
    _finish(ax, f"Trainers' honesty margin, {unit}")
    return fig


def no_margin_reason(net: FLNetwork, margin: np.ndarray) -> str:
    """Why the margin has no value yet, in words ('' when it has one)."""
    if np.isfinite(margin).any():
        return ""
    if net.round == 0:
        return "no round run yet: press Step"
    counts = dict(zip(net.strategies, net.initial_owner_counts.tolist(), strict=True))
    if not counts["honest"]:
        return "no margin: no honest trainer"
    if not any(counts[d] for d in TRAINER_DEVIATIONS):
        return "no margin: no cheating trainer to out-earn"
    return "no margin: no capital committed (zero stake and buffer)"


def population_figure(net: FLNetwork):
    """The honest share of trainer owners and the global model's quality, in %."""
    fig, ax = _figure()
    rounds = np.arange(1, net.round + 1)
    ax.plot(rounds, 100 * net.recorder.shares[: net.round, 0], color=COLOURS["honest"], label="honest owners")
    ax.plot(rounds, 100 * net.recorder.series("quality"), color="#2980b9", label="model quality")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=7)
    _finish(ax, "Honest share of trainer owners and model quality, %")
    return fig


def tokens_figure(net: FLNetwork):
    """Circulating supply, minted and burned since genesis, and the insurance pool, in tokens
    (tokenless, where no token exists: what the orchestrator has paid, in fiat)."""
    fig, ax = _figure()
    rounds = np.arange(1, net.round + 1)
    recorder = net.recorder
    if net.tokenless:
        values, title = recorder.flows_so_far[: net.round, :4], "Paid by the consortium so far, fiat"
        names = ("service fees", "wages", "KYC", "network cost")
    else:
        values, title = recorder.stocks[: net.round], "Token stocks, tokens"
        names = ("supply", "minted since genesis", "burned since genesis", "insurance pool")
    for i, (name, colour) in enumerate(zip(names, ("#2c3e50", "#27ae60", "#c0392b", "#2980b9"), strict=True)):
        ax.plot(rounds, values[:, i], color=colour, label=name)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.legend(fontsize=7)
    _finish(ax, title)
    return fig


def _drawn(make):
    """A Solara component drawing ``make(model)`` afresh after every step."""

    @solara.component
    def Figure(model):
        update_counter.get()
        fig = make(model)
        plt.close(fig)
        return solara.FigureMatplotlib(fig, format="png")

    Figure.__name__ = make.__name__
    return Figure


def ignored_controls(scenario: Scenario) -> list[str]:
    """What of the page's controls this scenario does not use, in words (empty: it uses them all)."""
    out = []
    if scenario.regime.tokenless:
        out.append("the token's controls (slashing, emission, rewards, stakes, price): the tokenless regime")
    if scenario.detection.mode == "mechanistic":
        out.append("the detection rates: mechanistic detection measures its flags")
    elif scenario.rewards.rule == "yuma" and not scenario.regime.tokenless:
        out.append("the detection rates: under Yuma Consensus the validators' votes flag")
    return out


@solara.component
def RunSummary(model):
    """The round, the key settings in force, the controls this scenario does not use, and what (if
    anything) the controls asked for in vain."""
    update_counter.get()
    s = model.scenario
    sl = s.slashing
    lines = [f"{s.name} — round {model.round} of {s.rounds}, seed {model.run_seed}"]
    if s.regime.tokenless:
        r = s.regime
        lines.append(
            f"tokenless: service fee {r.service_fee_fiat:g} fiat, ejection after {r.ejection_strikes} "
            f"strikes, KYC {r.kyc_cost_fiat:g} fiat"
        )
    else:
        lines.append(
            f"slash fraction {sl.slash_fraction:g} (burn {sl.burn_share:.0%}, insurance "
            f"{sl.insurance_share:.0%}, validators {sl.validator_share:.0%}); {s.rewards.rule} rewards; "
            f"{s.emission.schedule} emission of {s.emission.initial_tokens_per_round:g} tokens a round; "
            f"price {model.price_fiat:.4g} ({s.token.price_model})"
        )
    p = s.population
    lines.append(
        f"trainers: {p.honest_trainers} honest, {p.lazy_trainers} lazy, {p.sybil_owners} Sybil owners × "
        f"{p.sybil_identities_per_owner}, {p.poisoning_trainers} poisoning; validators: "
        f"{p.honest_validators} honest, {p.copying_validators} copying"
    )
    ignored = ignored_controls(s)
    if ignored:
        lines.append("Not used by this scenario: " + "; ".join(ignored) + ".")
    if not model.running:
        lines.append("Run complete: press Reset to play again.")
    with solara.Column():
        for line in lines:  # plain text: solara.Markdown would fetch KaTeX from a CDN
            solara.Text(line)
        if model.problems:
            solara.Error(
                "These settings are not allowed, so the loaded scenario runs instead: "
                + "; ".join(model.problems)
            )


COMPONENTS = [
    (RunSummary, 0),
    (_drawn(margins_figure), 0),
    (_drawn(payoffs_figure), 0),
    (_drawn(stakes_figure), 0),
    (_drawn(population_figure), 0),
    (_drawn(tokens_figure), 0),
]


def make_page(base: Scenario, seed: int | None = None):
    """The SolaraViz page of ``base`` as a Solara component: controls at the scenario's own values,
    the seed among them. Each browser session (each tab, each reload) gets a network of its own."""
    seed = base.seed if seed is None else seed
    params = {
        "base": base,
        "seed": {"type": "SliderInt", "value": seed, "min": 0, "max": max(99, seed), "step": 1},
    }
    for control in CONTROLS:
        params[control.name] = control.widget(scenario_value(base, control.key))

    @solara.component
    def Page():
        model = solara.use_memo(lambda: PlayableNetwork(base, seed), [])
        return SolaraViz(model, components=COMPONENTS, model_params=params, name=f"fedstake — {base.name}")

    return Page
