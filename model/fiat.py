"""The fiat ledger of the tokenless regime: every fiat unit the consortium pays in is in one place.

In the tokenless regime a central orchestrator runs the network on the consortium's money. Each
round the consortium funds it with the fee budget ``B`` and the validators' wages; it also funds the
orchestrator's share of every KYC application. The orchestrator pays

* **service fees** to trainer identities, out of the round's budget (pro rata when the fees due
  exceed it); what is not spent is **returned** to the consortium at the round's end;
* **wages** to the validators it employs, for each round each is present;
* its share of **KYC** costs to the KYC provider, which also receives each applicant's share.

Places: per account (trainer identities, then validators) the fees and wages it received and the
KYC it paid itself; the orchestrator's totals; the KYC provider's receipts. :meth:`FiatLedger.check`
verifies, to a relative ``CONSERVATION_RTOL``:

    funded = fees paid + wages paid + orchestrator KYC + returned,
    Σ account fees = fees paid,   Σ account wages = wages paid,
    KYC received = Σ account KYC + orchestrator KYC,
    fees paid in every round ≤ that round's budget,

and that no amount is negative. All amounts are fiat. The per-account arrays are what the books
(``model.books``) read an identity's income from, so they are kept always, not in an audit mode.
"""

from __future__ import annotations

import numpy as np

from model.ledger import CONSERVATION_RTOL, LedgerError


class FiatLedger:
    """Fiat flows of ``n_accounts`` accounts, the orchestrator and the KYC provider.

    ``applicant_share`` is the share in [0, 1] of each KYC application an applicant pays itself;
    the orchestrator pays the rest.
    """

    def __init__(self, n_accounts: int, applicant_share: float):
        self.fees_fiat = np.zeros(n_accounts)
        """Service fees each account has received."""
        self.wages_fiat = np.zeros(n_accounts)
        """Wages each account (a validator) has received."""
        self.kyc_paid_fiat = np.zeros(n_accounts)
        """KYC each account's owner has paid for it (its own share of every application)."""
        self.applicant_share = float(applicant_share)
        self.funded_fiat = 0.0
        """Everything the consortium paid in: fee budgets, wages and the orchestrator's KYC share."""
        self.fees_paid_fiat = 0.0
        self.wages_paid_fiat = 0.0
        self.kyc_orchestrator_fiat = 0.0
        """The orchestrator's share of all KYC applications."""
        self.returned_fiat = 0.0
        """Fee budget not spent, returned to the consortium at each round's end."""
        self.kyc_received_fiat = 0.0
        """What the KYC provider received: every application's full cost."""
        self.applications = 0
        """KYC applications paid for (admitted or refused)."""
        self.round_fees_fiat = 0.0
        """Fees paid in the last round that paid fees."""
        self.round_wages_fiat = 0.0
        """Wages paid in the last round that paid wages."""
        self.overspend_fiat = 0.0
        """The largest amount by which one round's fees exceeded its budget (0 when none did)."""

    # -- flows -----------------------------------------------------------------------------
    def pay_fees(self, units: np.ndarray, fee_fiat: float, budget_fiat: float) -> float:
        """Fund one round's fee budget and pay ``fee_fiat`` per unit, pro rata if the budget binds.

        ``units`` (bool or 0/1, one per account, or fewer: the first accounts) says which accounts
        earned a fee this round. When the fees due, ``fee_fiat × units``, exceed ``budget_fiat``
        every unit is paid ``budget_fiat / units`` instead. The rest of the budget is returned.
        Returns the fee paid per unit.
        """
        n = int(np.count_nonzero(units))
        due = fee_fiat * n
        per_unit = fee_fiat if due <= budget_fiat else budget_fiat / n
        paid = per_unit * n
        if n and per_unit:
            self.fees_fiat[: len(units)] += units * per_unit
        self.funded_fiat += budget_fiat
        self.fees_paid_fiat += paid
        self.returned_fiat += budget_fiat - paid
        self.round_fees_fiat = paid
        self.overspend_fiat = max(self.overspend_fiat, paid - budget_fiat)
        return per_unit

    def pay_wages(self, accounts: slice, present: np.ndarray, wage_fiat: float) -> None:
        """The consortium funds and the orchestrator pays ``wage_fiat`` to each present account of
        the slice (``present``: one bool per account in it)."""
        n = int(np.count_nonzero(present))
        paid = wage_fiat * n
        if paid:
            self.wages_fiat[accounts] += present * wage_fiat
        self.funded_fiat += paid
        self.wages_paid_fiat += paid
        self.round_wages_fiat = paid

    def pay_kyc(self, accounts: np.ndarray, cost_fiat: float) -> float:
        """One KYC application for each of ``accounts`` (distinct indices): each applicant pays its
        share, the consortium funds the orchestrator's. Returns the total cost of the applications."""
        if not accounts.size:
            return 0.0
        own = cost_fiat * self.applicant_share
        orchestrator = (cost_fiat - own) * accounts.size
        self.kyc_paid_fiat[accounts] += own
        self.funded_fiat += orchestrator
        self.kyc_orchestrator_fiat += orchestrator
        total = cost_fiat * accounts.size
        self.kyc_received_fiat += total
        self.applications += int(accounts.size)
        return total

    # -- views -----------------------------------------------------------------------------
    def income_fiat(self) -> np.ndarray:
        """Each account's fiat income so far: fees + wages − the KYC it paid."""
        return self.fees_fiat + self.wages_fiat - self.kyc_paid_fiat

    @property
    def kyc_total_fiat(self) -> float:
        """All KYC paid, by applicants and by the orchestrator."""
        return self.kyc_received_fiat

    def network_cost_fiat(self) -> float:
        """What the network cost the consortium so far: fees, wages and the orchestrator's KYC."""
        return self.fees_paid_fiat + self.wages_paid_fiat + self.kyc_orchestrator_fiat

    def check(self) -> None:
        """Raise LedgerError if fiat was created or lost, a round overspent its budget, or any
        amount is negative."""
        scale = max(1.0, self.funded_fiat, self.kyc_received_fiat)
        tol = CONSERVATION_RTOL * scale
        spent = self.fees_paid_fiat + self.wages_paid_fiat + self.kyc_orchestrator_fiat + self.returned_fiat
        problems = []
        if abs(self.funded_fiat - spent) > tol:
            problems.append(
                f"funded {self.funded_fiat!r} != fees + wages + orchestrator KYC + returned = {spent!r}"
            )
        for name, accounts, total in (
            ("fees", self.fees_fiat, self.fees_paid_fiat),
            ("wages", self.wages_fiat, self.wages_paid_fiat),
        ):
            if abs(float(accounts.sum()) - total) > tol:
                problems.append(f"accounts' {name} add up to {float(accounts.sum())!r}, paid {total!r}")
        kyc = float(self.kyc_paid_fiat.sum()) + self.kyc_orchestrator_fiat
        if abs(kyc - self.kyc_received_fiat) > tol:
            problems.append(
                f"KYC received {self.kyc_received_fiat!r} != applicants' + orchestrator's {kyc!r}"
            )
        if self.overspend_fiat > tol:
            problems.append(f"a round paid {self.overspend_fiat!r} more in fees than its budget")
        for name, value in (
            ("fees", self.fees_fiat.min(initial=0.0)),
            ("wages", self.wages_fiat.min(initial=0.0)),
            ("KYC paid", self.kyc_paid_fiat.min(initial=0.0)),
            ("returned", self.returned_fiat),
            ("orchestrator KYC", self.kyc_orchestrator_fiat),
        ):
            if value < -tol:
                problems.append(f"negative {name}: {value!r}")
        if problems:
            raise LedgerError("fiat ledger: " + "; ".join(problems))
