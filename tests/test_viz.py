"""The interactive page (``fedstake viz``, ``analysis.viz``): what it plays and draws, the command's
refusals, and the page itself served by the command and driven in Chromium — it renders with no
console error, a control moves, Reset and Step run the model, and a plot changes."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from analysis.cli import main
from analysis.viz import (
    CONTROLS,
    SLASH_WEIGHTS,
    PlayableNetwork,
    payoffs_figure,
    playable_scenario,
    predicted_margin,
    running_margin,
    running_pi,
    scenario_value,
)
from model import load_scenario, run_scenario, with_overrides
from model.analytic import expected_payoffs

from .browser import browse
from .conftest import BASELINE, ROOT

ARTIFACTS = ROOT / "reports" / "test-artifacts"
SMALL = {
    "rounds": 40,
    "population.honest_trainers": 12,
    "population.lazy_trainers": 3,
    "population.sybil_owners": 1,
    "population.poisoning_trainers": 3,
    "population.honest_validators": 3,
    "population.copying_validators": 1,
}


def small():
    return with_overrides(load_scenario(BASELINE), SMALL)


# -- what the page plays -------------------------------------------------------------------------------
def test_every_control_names_a_scenario_key_and_starts_at_its_value():
    base = load_scenario(BASELINE)
    for control in CONTROLS:
        value = scenario_value(base, control.key)
        widget = control.widget(value)
        assert widget["value"] == value
        if control.kind == "select":
            assert value in widget["values"]
        else:
            assert widget["min"] <= value <= widget["max"]


def test_slash_destinations_are_weights_made_shares():
    base = small()
    scenario, problems = playable_scenario(
        base,
        {"slashing__burn_share": 1.0, "slashing__insurance_share": 1.0, "slashing__validator_share": 2.0},
    )
    assert problems == []
    assert [scenario_value(scenario, key) for key in SLASH_WEIGHTS] == [0.25, 0.25, 0.5]
    zero = {name.replace(".", "__"): 0.0 for name in SLASH_WEIGHTS}
    scenario, problems = playable_scenario(base, zero)  # no weight at all: the loaded split stands
    assert [scenario_value(scenario, k) for k in SLASH_WEIGHTS] == [
        scenario_value(base, k) for k in SLASH_WEIGHTS
    ]


def test_a_bigger_population_gets_the_genesis_supply_it_needs():
    base = with_overrides(small(), {"token.genesis_supply_tokens": 10_000.0})
    scenario, problems = playable_scenario(base, {"population__honest_trainers": 200})
    assert problems == [] and scenario.population.honest_trainers == 200
    assert scenario.token.genesis_supply_tokens > 10_000.0


def test_a_short_supply_and_another_problem_together_are_both_a_message_not_a_crash():
    base = with_overrides(small(), {"token.genesis_supply_tokens": 10_000.0})
    settings = {"population__honest_trainers": 200, "population__honest_validators": 0}
    scenario, problems = playable_scenario(base, {**settings, "population__copying_validators": 0})
    assert scenario == base and any("validator" in p for p in problems)


def test_settings_the_schema_refuses_keep_the_loaded_scenario_and_say_why():
    base = small()
    scenario, problems = playable_scenario(
        base, {"population__honest_validators": 0, "population__copying_validators": 0}
    )
    assert scenario == base
    assert any("validator" in p for p in problems)
    net = PlayableNetwork(base, 1, population__honest_validators=0, population__copying_validators=0)
    assert net.scenario == base and net.problems == problems


def test_the_played_network_stops_after_its_last_round_and_its_running_pi_is_the_runs():
    net = PlayableNetwork(small(), 4)
    for _ in range(small().rounds + 3):  # Play keeps pressing Step: the network stops at the end
        net.step()
    assert net.round == small().rounds and not net.running
    kpis = run_scenario(small(), 4).kpis
    pi = running_pi(net)[-1]
    for i, name in enumerate(net.strategies):
        assert pi[i] == pytest.approx(kpis[f"pi_{name}"], rel=1e-9, abs=1e-12), name
    assert running_margin(running_pi(net), net.strategies)[-1] == pytest.approx(
        kpis["margin_trainers"], rel=1e-9
    )


def test_the_closed_form_line_is_the_analytic_margin():
    s = small()
    pi = expected_payoffs(s)["pi"]
    assert predicted_margin(s) == pytest.approx(pi["honest"] - max(pi["lazy"], pi["sybil"], pi["poisoning"]))
    alone = with_overrides(
        s, {"population.lazy_trainers": 0, "population.sybil_owners": 0, "population.poisoning_trainers": 0}
    )
    assert math.isnan(predicted_margin(alone))  # nobody to out-earn: no margin to predict


def test_a_figure_draws_every_strategy_round_by_round():
    net = PlayableNetwork(small(), 2)
    for _ in range(5):
        net.step()
    fig = payoffs_figure(net)
    lines = fig.axes[0].get_lines()
    assert len([line for line in lines if len(line.get_xdata()) == 5]) == len(net.strategies)


# -- the command ---------------------------------------------------------------------------------------
def test_a_wrong_scenario_is_refused_before_any_server_starts(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[slashing]\nslash_fraction = 2.0\n[token]\nprice_model = "auction"\n', encoding="utf-8")
    assert main(["viz", str(bad), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "slashing.slash_fraction = 2.0 is not allowed" in err and "price_model" in err
    assert main(["run", str(bad)]) == 2 and capsys.readouterr().err == err  # run's own errors


def test_a_busy_port_is_refused_with_what_to_do(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["viz", str(BASELINE), "--port", str(busy.getsockname()[1])]) == 2
    assert "is in use" in capsys.readouterr().err


def test_ports_outside_the_range_are_refused_in_one_message(capsys):
    for port in ("0", "-5", "70000", "http"):
        with pytest.raises(SystemExit) as stop:
            main(["viz", str(BASELINE), "--port", port])
        assert stop.value.code == 2
        assert "a port is a whole number in 1-65535" in capsys.readouterr().err


def test_a_margin_without_a_value_says_why_and_ignored_controls_are_named():
    from analysis.viz import ignored_controls, no_margin_reason

    net = PlayableNetwork(small(), 1)
    assert (
        no_margin_reason(net, running_margin(running_pi(net), net.strategies))
        == "no round run yet: press Step"
    )
    alone = PlayableNetwork(
        small(), 1, population__lazy_trainers=0, population__sybil_owners=0, population__poisoning_trainers=0
    )
    alone.step()
    assert "no cheating trainer" in no_margin_reason(
        alone, running_margin(running_pi(alone), alone.strategies)
    )
    assert ignored_controls(small()) == []
    assert "votes flag" in ignored_controls(with_overrides(small(), {"rewards.rule": "yuma"}))[0]
    assert "tokenless" in ignored_controls(load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml"))[0]


# -- the page, served and driven -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """``fedstake viz`` on the baseline, as a user starts it; its URL once it answers."""
    port = free_port()
    fedstake = Path(sys.executable).with_name("fedstake")
    server = subprocess.Popen(
        [str(fedstake), "viz", str(BASELINE), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"fedstake viz did not serve {url}:\n{server.stdout.read()}"
                    ) from None
                time.sleep(0.3)
        yield url, server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
        server.wait(timeout=10)


#: A checksum of the pixels of the page's ``n``-th figure (the images are re-created blobs on every
#: render, so their addresses change whether or not what they show does).
FIGURE_SUM = """
(async () => {
  const img = document.querySelectorAll('img')[%d];
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) %% 1000000007;
  return sum;
})()
"""


#: The slash fraction's slider (its label shows the value while it moves, so the text starts with it).
SLASH_SLIDER = (
    "[...document.querySelectorAll('[role=slider]')]"
    ".find(e => e.closest('.v-input') && e.closest('.v-input').innerText.trim().startsWith('slash fraction'))"
)


RENDER_SLIDER = SLASH_SLIDER.replace("slash fraction", "Render Interval (steps)")


def click(page, text: str) -> None:
    """Click the page's button labelled ``text``."""
    found = page.evaluate(
        "(() => { const b = [...document.querySelectorAll('button')]"
        f".find(b => b.innerText.trim() === {text!r}); if (!b) return false; b.click(); return true; }})()"
    )
    assert found, f"no button {text!r} on the page"


def press(page, key: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        page.command(
            "Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}
        )


def test_the_page_renders_moves_a_control_steps_and_redraws(served):
    url, server = served
    with browse(url, height=1100) as page:
        page.wait_for("document.body.innerText.includes('round 0 of 200')", 60, "the page's first render")
        page.wait_for("document.querySelectorAll('img').length >= 5", 30, "the figures")
        text = page.evaluate("document.body.innerText")
        for words in ("slash fraction", "reward rule", "honest trainers", "RESET", "STEP"):
            assert words in text
        assert "Traceback" not in text and "Error" not in text
        # Move the slash fraction to its end with the keyboard, as a person would, then Reset.
        focused = page.evaluate(
            f"(() => {{ const s = {SLASH_SLIDER}; s.focus(); return s.getAttribute('aria-valuenow'); }})()"
        )
        assert focused == "0.1"
        press(page, "End", 35)
        page.wait_for(f"{SLASH_SLIDER}.getAttribute('aria-valuenow') === '1'", 10, "the slider at its end")
        click(page, "RESET")
        page.wait_for(
            "document.body.innerText.includes('slash fraction 1 (')", 30, "the reset network's settings"
        )
        before = page.evaluate(FIGURE_SUM % 0)
        for _ in range(3):
            click(page, "STEP")
            time.sleep(0.3)
        page.wait_for("document.body.innerText.includes('round 3 of 200')", 30, "three rounds stepped")
        page.wait_for("document.querySelectorAll('img').length >= 5", 30, "the figures redrawn")
        time.sleep(0.5)
        after = page.evaluate(FIGURE_SUM % 0)
        assert after != before, "the margins figure did not change after three steps"
        # A hundred rounds in one press (the render interval at its end), for the screenshot.
        page.evaluate(f"{RENDER_SLIDER}.focus()")
        press(page, "End", 35)
        page.wait_for(
            f"{RENDER_SLIDER}.getAttribute('aria-valuenow') === '100'", 10, "a render interval of 100"
        )
        click(page, "STEP")
        page.wait_for("document.body.innerText.includes('round 103 of 200')", 60, "a hundred rounds more")
        time.sleep(1.0)
        page.screenshot(ARTIFACTS / "viz.png")
        assert page.errors == [], page.errors
    assert server.poll() is None  # still serving until stopped


def test_each_tab_plays_a_network_of_its_own(served):
    """The first test stepped its tab's network to round 103; a new tab starts at round 0."""
    url, _ = served
    with browse(url) as page:
        page.wait_for("document.body.innerText.includes('round 0 of 200')", 60, "a network of its own")
        assert page.errors == []


def test_stopping_the_command_stops_the_server(served):
    """``kill`` (SIGTERM) on the process ``fedstake viz`` started as stops the server: the port is free."""
    url, server = served
    server.send_signal(15)
    assert server.wait(timeout=15) is not None
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_tokenless_federation_is_drawn_per_owner_in_fiat():
    """No token, no capital: payoffs per owner in fiat, the tokenless closed form, fiat paid for tokens."""
    from model.analytic import tokenless_expected_payoffs

    s = with_overrides(load_scenario(ROOT / "scenarios" / "baseline-tokenless.toml"), SMALL)
    net = PlayableNetwork(s, 3)
    for _ in range(s.rounds):
        net.step()
    kpis = run_scenario(s, 3).kpis
    assert running_margin(running_pi(net), net.strategies)[-1] == pytest.approx(
        kpis["margin_trainers"], rel=1e-9
    )
    profit = tokenless_expected_payoffs(s)["profit_fiat_per_round_per_owner"]
    assert predicted_margin(s) == pytest.approx(
        profit["honest"] - max(profit["lazy"], profit["sybil"], profit["poisoning"])
    )
    for line in payoffs_figure(net).axes[0].get_lines()[:4]:
        assert np.isfinite(line.get_ydata()).any()
