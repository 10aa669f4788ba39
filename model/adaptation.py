"""How adaptive owners revise their strategy, leave the network and join it.

Every K rounds the network books a window: each active owner's realised *return* — fiat profit per
round per unit of committed capital, over the window — and, per strategy, an estimate of what that
strategy returns. (Tokenless, the return is fiat profit per owner per round, and owners ejected
after strikes — barred, or out for good — have one too, their rounds counting at zero income: the
revision rule sees them, so imitators may meet them, but they do not revise, exit or enter.) Then
comes a revision round. Per role (trainer owners, validators), the owners drawn to revise apply
one revision rule, all at once and against the strategies held before the round (a simultaneous
revision); owners whose return fell below the outside option leave; and waiting candidates may
enter. Strategy indices are the role's: trainers 0 honest, 1 lazy, 2 sybil, 3 poisoning;
validators 0 honest_validator, 1 copying_validator. ``choices`` lists the indices an
owner of the group may move to (a one-identity owner cannot become a k-identity Sybil).

Why these rules:

- **imitation** — Schlag's (1998) pairwise proportional imitation: an owner copies a randomly met
  peer with a probability proportional to how much more the peer earned. It needs no model of the
  game, only one observed peer; Schlag shows that switching in proportion to the payoff difference
  is what makes an imitation rule raise expected payoffs in every decision problem (his
  "improving" rules; he divides by the known payoff range, here the observed range ``span``). In a
  large population it moves strategy shares by the replicator dynamics ``Δx_s = x_s (π_s − π̄) / span``.
- **logit** — a noisy best response (the quantal response of McKelvey & Palfrey 1995): an owner
  picks a strategy with probability ``∝ exp(u_s / temperature)`` from the network's estimates
  ``u``. The temperature, in units of return, is how large a difference in returns an owner fails
  to notice; tiny temperatures give the best response, huge ones a uniform pick.
- **none** — owners keep the strategy they were given (the static model).
- **exit at a profit threshold** — the outside option is the opportunity cost of the committed
  capital: an owner leaves when its return falls below ``outside_return + threshold``.
- **entry** — a waiting candidate joins when the estimated return of its strategy beats the outside
  option; ``entry_rate`` is the share of candidates who look each revision round.

Every function is vectorised over one role's owners, and every random function draws a number of
numbers that depends only on the array sizes, never on the returns, so that two runs that differ
in payoffs still use the same stream positions for the same decisions.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class RevisionRule(Protocol):
    """A revision rule: the strategy index of every owner of one role's group after a revision round.

    Arguments, one entry per owner unless said otherwise: ``strategy`` (int) the current strategy
    index; ``window_return`` (float, fiat per round per unit of capital) the realised return over
    the last window, NaN when unmeasured; ``revising`` (bool) who revises now — no one else
    changes; ``choices`` (sorted unique ints) the strategy indices anyone may move to;
    ``estimate`` (float, one per strategy index of the role, NaN where unknown) the network's
    estimate of each strategy's return; ``temperature`` (> 0, units of return) the logit noise.
    """

    def __call__(
        self,
        rng: np.random.Generator,
        strategy: np.ndarray,
        window_return: np.ndarray,
        revising: np.ndarray,
        choices: np.ndarray,
        estimate: np.ndarray,
        temperature: float,
    ) -> np.ndarray: ...


def no_revision(
    rng: np.random.Generator,
    strategy: np.ndarray,
    window_return: np.ndarray,
    revising: np.ndarray,
    choices: np.ndarray,
    estimate: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """Every owner keeps its strategy (a copy of ``strategy``); draws no random numbers."""
    return strategy.copy()


def imitation(
    rng: np.random.Generator,
    strategy: np.ndarray,
    window_return: np.ndarray,
    revising: np.ndarray,
    choices: np.ndarray,
    estimate: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """Pairwise proportional imitation (Schlag 1998, J. Econ. Theory 78, "Why imitate, and if so, how?").

    Each revising owner ``i`` with a finite return meets one other owner ``j``, uniformly among the
    group's owners with a finite return, and adopts ``j``'s strategy — if it is in ``choices`` —
    with probability ``max(0, r_j − r_i) / span``, where ``r`` is the window return (fiat per round
    per unit of capital) and ``span`` the range (max − min) of the group's finite returns, so the
    probability is at most 1. Nobody switches when the span is 0, and an owner keeps its strategy
    when it has no return of its own or no one else has one. ``estimate`` and ``temperature`` are
    not used.

    With ``n`` owners all revising, ``n_s`` of them playing ``s`` and all returns finite, the
    expected change in the share ``x_s = n_s / n`` is ``x_s (π_s − π̄) / span · n / (n − 1)``
    (``π_s`` the mean return of ``s``, ``π̄`` the population mean): the replicator dynamics, scaled
    by ``1 / span``, as ``n`` grows.

    Draws ``2 n`` uniforms: one to pick each owner's model, one to decide its switch.
    """
    n = len(strategy)
    meeting = rng.random(n)
    switching = rng.random(n)
    revised = strategy.copy()

    measured = np.isfinite(window_return)
    peers = np.flatnonzero(measured)
    if peers.size < 2:
        return revised
    peer_returns = window_return[peers]
    span = peer_returns.max() - peer_returns.min()
    if not span > 0:
        return revised

    movers = np.flatnonzero(revising & measured)
    # Draw a model among the peers other than the mover: an index into the m − 1 others, shifted
    # past the mover's own place in the (sorted) peer list.
    own_place = np.searchsorted(peers, movers)
    others = peers.size - 1
    place = np.minimum((meeting[movers] * others).astype(np.intp), others - 1)
    place += place >= own_place
    model = peers[place]

    gain = window_return[model] - window_return[movers]
    adopts = (switching[movers] * span < gain) & _allowed(strategy[model], choices)
    revised[movers[adopts]] = strategy[model[adopts]]
    return revised


def _allowed(strategies: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """Which of ``strategies`` are in ``choices`` (a lookup table: ``np.isin`` costs far more on the
    few strategies there are)."""
    table = np.zeros(max(int(strategies.max(initial=0)), int(choices.max(initial=0))) + 1, dtype=bool)
    table[choices] = True
    return table[strategies]


def logit_probabilities(
    choices: np.ndarray, estimate: np.ndarray, temperature: float
) -> tuple[np.ndarray, np.ndarray]:
    """The strategies a logit reviser may draw and their probabilities (McKelvey & Palfrey 1995).

    ``P(s) = exp(u_s / temperature) / Σ_t exp(u_t / temperature)`` over the strategies ``t`` in
    ``choices`` with a finite estimate ``u`` (returns, fiat per round per unit of capital);
    ``temperature`` is in the same unit. Computed as a softmax shifted by the largest ``u``, so no
    temperature overflows. Returns ``(options, probabilities)``; both are empty when no choice has
    a finite estimate.
    """
    if not temperature > 0:
        raise ValueError(f"logit temperature must be a positive return (> 0), got {temperature!r}")
    choices, estimate = np.asarray(choices, dtype=np.intp), np.asarray(estimate, dtype=float)
    if choices.size and not 0 <= choices[0] <= choices[-1] < estimate.size:
        raise ValueError(
            f"logit choices {choices.tolist()} must be strategy indices of the role, "
            f"0 to {estimate.size - 1} (one estimate per strategy)"
        )
    utility = estimate[choices]
    known = np.isfinite(utility)
    options, utility = choices[known], utility[known]
    if options.size == 0:
        return options, utility
    with np.errstate(over="ignore"):  # a gap / tiny temperature overflows to −inf: weight 0, its limit
        weight = np.exp((utility - utility.max()) / temperature)
    return options, weight / weight.sum()


def logit(
    rng: np.random.Generator,
    strategy: np.ndarray,
    window_return: np.ndarray,
    revising: np.ndarray,
    choices: np.ndarray,
    estimate: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """Noisy best response: the logit quantal response of McKelvey & Palfrey (1995).

    Each revising owner draws its new strategy from ``choices`` with probability
    ``exp(u_s / temperature) / Σ_{t ∈ choices} exp(u_t / temperature)``, ``u = estimate`` (returns,
    fiat per round per unit of capital; ``temperature`` > 0 in the same unit). Strategies whose
    estimate is not finite (NaN: unknown) are left out; when none is known, everyone keeps its
    strategy. Owners' own returns are not used. A revising owner may draw the strategy it already
    plays.

    Draws ``n`` uniforms, one per owner.
    """
    draw = rng.random(len(strategy))
    options, probability = logit_probabilities(choices, estimate, temperature)
    revised = strategy.copy()
    if options.size == 0:
        return revised
    movers = np.flatnonzero(revising)
    cumulative = np.cumsum(probability)
    # Option k takes the draws in [cumulative[k-1], cumulative[k]); a zero-probability option none.
    picked = np.searchsorted(cumulative, draw[movers] * cumulative[-1], side="right")
    revised[movers] = options[np.minimum(picked, options.size - 1)]
    return revised


REVISION_RULES: dict[str, RevisionRule] = {"none": no_revision, "imitation": imitation, "logit": logit}
"""The revision rules by the name a scenario gives them."""


def exits(
    window_return: np.ndarray, active: np.ndarray, outside_return: float, threshold: float
) -> np.ndarray:
    """Who leaves: the active owners whose window return is below the outside option plus a threshold.

    An active owner with a finite ``window_return`` (fiat per round per unit of capital) below
    ``outside_return + threshold`` (same unit) exits — the outside option is the opportunity cost of
    the capital it has committed, and ``threshold`` how much worse it tolerates (negative: how much
    better it demands). Deterministic; owners without a finite return never exit.
    """
    return active & np.isfinite(window_return) & (window_return < outside_return + threshold)


def entrants(
    rng: np.random.Generator,
    candidate_strategy: np.ndarray,
    waiting: np.ndarray,
    estimate: np.ndarray,
    outside_return: float | np.ndarray,
    entry_rate: float,
) -> np.ndarray:
    """Who joins: waiting candidates who look this round and expect to beat the outside option.

    Each candidate looks with probability ``entry_rate`` (per revision round, in [0, 1]); a waiting
    candidate who looks joins when the network's ``estimate`` of its strategy's return (indexed by
    ``candidate_strategy``; fiat per round per unit of capital) is finite and strictly above
    ``outside_return`` (one number, or one per candidate: e.g. the outside option plus what the
    registration costs it per round). Draws one uniform per candidate, waiting or not.
    """
    if not 0.0 <= entry_rate <= 1.0:
        raise ValueError(f"entry_rate must be a probability in [0, 1], got {entry_rate!r}")
    looks = rng.random(len(candidate_strategy)) < entry_rate
    expected = np.asarray(estimate, dtype=float)[np.asarray(candidate_strategy, dtype=np.intp)]
    return waiting & looks & np.isfinite(expected) & (expected > outside_return)
