"""What cheating submissions are, as pure functions of arrays.

- data poisoning: ``flip_labels`` (train on reversed labels);
- model poisoning: ``sign_flip`` and ``boost`` (send a transformed honest update);
- free riding: ``free_rider_update`` (send something that cost no training);
- Sybil identities: ``near_copies`` (one update sent under many identities, lightly disguised).

An update is a flat (d,) array: the change a party proposes to the global model.
"""

from __future__ import annotations

import numpy as np

#: The free riders' fake updates (Fraboni, Vidal & Lorenzi 2021): see ``free_rider_update``.
FREE_RIDERS = ("received", "replay", "noise")


def flip_labels(labels: np.ndarray, classes: int) -> np.ndarray:
    """Label flipping: class y becomes classes - 1 - y (the full reversal: for digits 0 <-> 9,
    1 <-> 8, ...). Tolpegin, Truex, Gursoy & Liu 2020 ("Data poisoning attacks against federated
    learning systems", ESORICS) flip one source class to one target class; reversing every label
    is the strongest form of the same attack on a balanced task."""
    labels = np.asarray(labels)
    if classes < 1 or (labels.size and (labels.min() < 0 or labels.max() >= classes)):
        raise ValueError(f"labels must be class indices in [0, {classes}) with classes >= 1")
    return classes - 1 - labels


def sign_flip(update: np.ndarray, scale: float) -> np.ndarray:
    """Sign flipping: -scale x update, pushing the model against the direction honest training
    would take: the sign-flipping attack of the Byzantine-robust learning literature (Damaskinos
    et al. 2018; the "directed deviation" of Fang, Cao, Jia & Gong 2020, "Local model poisoning
    attacks to Byzantine-robust federated learning", USENIX Security, has the same aim). Against a
    plain mean in which a share q of the updates flip, the honest direction survives only while
    1 - q > q x scale (for q = 0.3, scale < 7/3)."""
    return -scale * np.asarray(update, dtype=np.float64)


def boost(update: np.ndarray, scale: float) -> np.ndarray:
    """Boosting (scaled model replacement): scale x update. Bagdasaryan, Veit, Hua, Estrin &
    Shmatikov 2020 ("How to backdoor federated learning", AISTATS) scale by gamma = n / eta (n
    clients, server learning rate eta) so that the attacker's model replaces the global one after
    averaging."""
    return scale * np.asarray(update, dtype=np.float64)


def free_rider_update(
    kind: str,
    last_global_delta: np.ndarray,
    round_index: int,
    sigma: float,
    gamma: float,
    rng: np.random.Generator,
    parties: int,
) -> np.ndarray:
    """The fake updates of ``parties`` free riders in round t = ``round_index`` (0-based):
    (parties, d).

    Fraboni, Vidal & Lorenzi 2021, "Free-rider attacks on model aggregation in federated learning"
    (AISTATS):

    - ``"received"``: the received global model sent back unchanged: a zero delta;
    - ``"replay"``: the last global delta (the change the server applied last round), theta^t -
      theta^(t-1);
    - ``"noise"`` (disguised free riding): that delta plus independent Gaussian noise,
      N(0, (sigma (t + 1)^-gamma)^2) per coordinate and per party; the noise decays with the rounds
      like the honest updates' own variation (the paper's sigma t^-gamma, with t + 1 so round 0 is
      defined).

    Only ``"noise"`` draws from ``rng``.
    """
    if kind not in FREE_RIDERS:
        raise ValueError(f"free rider kind {kind!r} is unknown: expected one of {', '.join(FREE_RIDERS)}")
    if parties < 0 or round_index < 0:
        raise ValueError(f"parties = {parties}, round_index = {round_index}: expected both >= 0")
    if not sigma >= 0:
        raise ValueError(f"sigma = {sigma} is not allowed: expected a number >= 0")
    delta = np.asarray(last_global_delta, dtype=np.float64).reshape(-1)
    if kind == "received":
        return np.zeros((parties, delta.size))
    replayed = np.tile(delta, (parties, 1))
    if kind == "replay":
        return replayed
    scale = sigma * (round_index + 1.0) ** -gamma
    return replayed + scale * rng.standard_normal(replayed.shape)


def near_copies(
    update: np.ndarray, copies: int, relative_noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Sybil identities' submissions: ``copies`` copies of one update, each plus independent
    N(0, (relative_noise x rms(update))^2) noise per coordinate, rms(u) = sqrt(mean(u^2)):
    (copies, d). relative_noise = 0 gives exact copies, and a zero update stays zero. One standard
    normal is drawn per coordinate and copy whatever the noise level."""
    if copies < 0:
        raise ValueError(f"copies = {copies} is not allowed: expected a whole number >= 0")
    if not relative_noise >= 0:
        raise ValueError(f"relative_noise = {relative_noise} is not allowed: expected a number >= 0")
    update = np.asarray(update, dtype=np.float64).reshape(-1)
    rms = float(np.sqrt(np.mean(update**2))) if update.size else 0.0
    noise = rng.standard_normal((copies, update.size))
    return update + (relative_noise * rms) * noise
