"""Detection modes: which submissions validators flag, chosen by name in the scenario.

Abstract mode: a submission of kind k is flagged with probability ``rate_k × h``, where ``h`` is the
honest validators' share of the active validation stake (copiers detect nothing); honest work is
flagged at the false-positive rate the same way. One uniform number per identity and round decides
both availability and detection: the identity is away when ``u < d`` (its dropout probability) and,
given it is present, ``(u − d) / (1 − d)`` is again uniform on [0, 1), so it is flagged when
``u < d + (1 − d) · rate · h``.
"""

from __future__ import annotations

import numpy as np


class AbstractDetection:
    """Flags with fixed per-kind rates scaled by the honest share of validation stake."""

    def __init__(self, detection_rate: np.ndarray, dropout_probability: float):
        self._away_below = dropout_probability
        self._rate = detection_rate  # the network's array: a strategy revision changes it in place

    def flagged_if_submitting(self, uniforms: np.ndarray, honest_share: np.ndarray) -> np.ndarray:
        """For a block of rounds (rows of ``uniforms``, one ``honest_share`` per row): who would be
        flagged if they submitted. The network keeps only those who did."""
        threshold = ((1.0 - self._away_below) * self._rate) * honest_share[:, None]
        threshold += self._away_below
        return uniforms < threshold


class MechanisticDetection(AbstractDetection):
    """Mechanistic mode (``model.fl``): nobody is flagged in advance — the validators' scores of the
    real updates decide each round in the network. The same uniform still decides availability."""

    def flagged_if_submitting(self, uniforms: np.ndarray, honest_share: np.ndarray) -> np.ndarray:
        return np.zeros(uniforms.shape, dtype=bool)


DETECTION_MODES = {"abstract": AbstractDetection, "mechanistic": MechanisticDetection}
