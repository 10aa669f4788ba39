"""The tokenless regime's institutions: an orchestrator that pays fiat, admits by KYC and ejects.

``regime.kind = "tokenless"`` runs the same population, detection, costs, dropout and seed streams
as the token network, under a central orchestrator instead of stake and slashing (README, "The
tokenless regime"). :class:`Orchestrator` holds what the network needs for it, over the network's
arrays, in the order of the round (``FLNetwork.step``):

* **strikes** — every flag is a strike; an identity whose strikes since its admission reach
  ``ejection_strikes`` in round t is ejected: it submits from round t + 1 no more;
* **fees and wages** — each accepted submission (or each submitting identity, by ``fee_basis``) is
  paid ``service_fee_fiat``, scaled pro rata when the fees due exceed the round's budget; each
  present validator is paid its wage (``model.fiat``);
* **re-application**, at the end of round t while a round is left (t < T − 1): an ejected owner
  re-applies at once under a new identity (refused by KYC with probability q, then it waits out
  the ban), when the ban of L rounds ends (re-admitted at the end of round t + L, if that is before
  T − 1 and the ban is not for good), or never. A re-admitted identity re-uses its row (a new
  identity of the same owner) with 0 strikes;
* **KYC** — every application of a trainer identity (at genesis, on entry, on re-application)
  costs ``kyc_cost_fiat``, paid by the applicant, the orchestrator or half each; a Sybil owner's
  2nd..k-th identities are refused with probability q (their cost paid all the same).

Owners: an owner none of whose identities is registered is *barred* while one of them waits for
re-admission (it neither revises nor exits), and *out* otherwise. Its owner-rounds count every
round from its first admission to the end of the run or its chosen exit: barred rounds count, at
zero income.

Random draws (KYC's duplicate detection) come from the run's seventh stream, one uniform per
application in row order, so the token streams are the same in both regimes.
"""

from __future__ import annotations

import numpy as np

from model.fiat import FiatLedger
from model.network import BARRED, IN, NEVER, OUT


class Orchestrator:
    """The tokenless regime's orchestrator for one network ``net`` (an ``FLNetwork``).

    ``rng`` is the run's KYC stream. Construct it after the network laid out its rows; then call
    :meth:`admit_at_genesis` once, before the first round.
    """

    def __init__(self, net, rng: np.random.Generator):
        self.net = net
        self.regime = net.scenario.regime
        self._rng = rng
        nt = net.n_trainers
        self.fiat = FiatLedger(len(net.strategy_index), self.regime.applicant_kyc_share)
        self.strikes = np.zeros(nt, dtype=np.int32)
        """Flags of each trainer identity since it was (last) admitted."""
        self.readmit_at = np.full(nt, NEVER, dtype=np.int64)
        """Round at whose end each ejected identity is re-admitted (NEVER: it is not waiting)."""
        self.exit_round = np.full(len(net.owner_first), NEVER, dtype=np.int64)
        """Round from which each owner that chose to exit no longer counts (NEVER: it did not)."""
        self.readmitted = 0
        """Re-admissions so far."""
        self.refused = 0
        """KYC applications refused as duplicates so far."""
        self._due: dict[int, list[np.ndarray]] = {}  # round -> rows re-admitted at its end (after a ban)
        self._applicants: list[np.ndarray] = []  # rows ejected this round that re-apply at once
        self._emptied: list[np.ndarray] = []  # owners that lost their last registered identity this round
        self._fee_per_unit = self.regime.service_fee_fiat
        self._fees_on_accepted = self.regime.fee_basis == "accepted_submission"

    # -- admission ----------------------------------------------------------------------------
    def apply(self, rows: np.ndarray) -> np.ndarray:
        """KYC applications of new identities ``rows`` (whole owners, in row order): each pays, and
        each but an owner's first identity is refused as a duplicate with probability q. Returns
        the rows admitted."""
        net = self.net
        return rows[~self._kyc(rows, rows != net.owner_first[net.owner[rows]])]

    def _kyc(self, rows: np.ndarray, duplicate: np.ndarray | bool) -> np.ndarray:
        """``rows`` apply: each pays its KYC and draws one uniform; a ``duplicate`` one is refused
        with probability q. Returns which were refused."""
        self.fiat.pay_kyc(rows, self.regime.kyc_cost_fiat)
        refused = duplicate & (self._rng.random(rows.size) < self.regime.kyc_duplicate_detection)
        self.refused += int(np.count_nonzero(refused))
        return refused

    def admit_at_genesis(self) -> np.ndarray:
        """Every starting trainer identity applies before round 0; returns the refused rows."""
        net = self.net
        starting = np.flatnonzero(net.registered[: net.n_trainers])
        admitted = self.apply(starting)
        return np.setdiff1d(starting, admitted, assume_unique=True)

    def owner_rounds(self) -> np.ndarray:
        """Per identity: its owner's rounds so far (first admission to now or its chosen exit) / k,
        so that an owner's identities add up to its rounds."""
        net = self.net
        first = net.join_round[net.owner_first]  # an owner's first identity is always admitted
        end = np.minimum(self.exit_round, net.round)
        rounds = np.clip(end - first, 0, None)  # waiting candidates: first is NEVER
        return rounds[net.owner] / net.identities_per_owner

    # -- the round ----------------------------------------------------------------------------
    def settle(
        self,
        flagged: np.ndarray,
        n_flagged: int,
        accepted: np.ndarray,
        submitting: np.ndarray,
        validators_present: np.ndarray,
    ) -> None:
        """Steps 3-4 of a tokenless round: strikes and ejection, then fees and wages."""
        net, r = self.net, self.regime
        if n_flagged:
            self._strike(flagged.nonzero()[0])
        units = accepted if self._fees_on_accepted else submitting
        self.fiat.pay_fees(units, self._fee_per_unit, r.budget_fiat_per_round)
        self.fiat.pay_wages(slice(net.n_trainers, None), validators_present, r.validator_wage_fiat_per_round)

    def _strike(self, rows: np.ndarray) -> None:
        """One strike for each flagged row; those that reach ``ejection_strikes`` are ejected."""
        self.net.flags[rows] += 1
        strikes = self.strikes
        strikes[rows] += 1
        out = rows[strikes[rows] >= self.regime.ejection_strikes]
        if out.size:
            self._eject(out)

    def _eject(self, rows: np.ndarray) -> None:
        """Deregister ``rows`` in the round under way and line up how their owners come back."""
        net, r = self.net, self.regime
        t = net.round
        net.registered[rows] = False
        net.ejected_identities += int(rows.size)
        owners = net.owner[rows]
        np.subtract.at(net.live_identities, owners, 1)
        emptied = owners[net.live_identities[owners] == 0]
        if emptied.size:
            self._emptied.append(emptied)
        if t >= net.scenario.rounds - 1:
            return  # nobody applies with no round left
        if r.reapply == "new_identity":
            self._applicants.append(rows)
        elif r.reapply == "after_ban":
            self._schedule_after_ban(rows, t)

    def _schedule_after_ban(self, rows: np.ndarray, t: int) -> None:
        """Re-admit ``rows`` (ejected in round t) at the end of round t + L, if that leaves a round."""
        r = self.regime
        back = t + r.ban_rounds
        if r.ban_forever or back >= self.net.scenario.rounds - 1:
            return
        self.readmit_at[rows] = back
        self._due.setdefault(back, []).append(rows)

    def end_round(self, t: int) -> None:
        """Step 6, at the end of round ``t``: re-applications and re-admissions, then the owners
        left with no registered identity are barred (one of theirs waits) or out."""
        cost = self.regime.kyc_cost_fiat
        if self._applicants:
            rows = np.concatenate(self._applicants)
            self._applicants = []
            refused = self._kyc(rows, True)  # a known owner under a new identity: a duplicate
            self._readmit(rows[~refused])
            if refused.any():
                self._schedule_after_ban(rows[refused], t)
        due = self._due.pop(t, None)
        if due is not None:
            rows = np.concatenate(due)
            rows = rows[self.readmit_at[rows] == t]  # an owner that chose to exit cancelled its own
            self.fiat.pay_kyc(rows, cost)  # the ban is over: never refused
            self._readmit(rows)
        if self._emptied:
            emptied = self._emptied[0] if len(self._emptied) == 1 else np.concatenate(self._emptied)
            self._emptied = []
            self._settle_owners(np.unique(emptied))

    def _readmit(self, rows: np.ndarray) -> None:
        """Register ``rows`` again from the next round, with 0 strikes."""
        if not rows.size:
            return
        net = self.net
        net.registered[rows] = True
        self.strikes[rows] = 0
        self.readmit_at[rows] = NEVER
        self.readmitted += int(rows.size)
        owners = net.owner[rows]
        np.add.at(net.live_identities, owners, 1)
        back = owners[net.owner_state[owners] == BARRED]
        if back.size:
            net.move_owners(np.unique(back), IN)

    def _settle_owners(self, owners: np.ndarray) -> None:
        """Owners that lost their last registered identity this round: barred while one of their
        identities waits for re-admission, out for good otherwise."""
        net = self.net
        owners = owners[(net.live_identities[owners] == 0) & (net.owner_state[owners] == IN)]
        if not owners.size:
            return
        waits = np.zeros(len(net.owner_first), dtype=bool)
        waits[net.owner[np.flatnonzero(self.readmit_at != NEVER)]] = True
        waiting = waits[owners]
        if waiting.any():
            net.move_owners(owners[waiting], BARRED)
        if not waiting.all():
            net.move_owners(owners[~waiting], OUT)

    def exit_by_choice(self, owner: int) -> None:
        """An owner chose to leave (adaptation): it counts no more rounds, and none of its ejected
        identities comes back."""
        self.exit_round[owner] = self.net.round
        rows = self.net.owner_rows(owner)
        self.readmit_at[rows[rows < self.net.n_trainers]] = NEVER
