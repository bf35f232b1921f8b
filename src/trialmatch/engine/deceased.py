"""The death gate: a patient the record says has died is not screenable (contract field ``deceased``).

Every trial's verdict is ineligible, failed by one criterion of id ``deceased`` that cites the record; the
trial's own criteria are still shown, evaluated as of the date of death (ages and time windows stop there),
and nothing is listed as missing: no data would make the patient eligible.
"""

from __future__ import annotations

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, Deceased, EvidenceItem, TrialOutcome
from trialmatch.patients.model import PatientRecord

CRITERION_ID = "deceased"
CRITERION_TEXT = "Alive at the screening date"


def death_of(record: PatientRecord) -> Deceased:
    """The contract's ``deceased`` object for a record that says the patient died."""
    return Deceased(date=record.deceased_on)


def gate_criterion(record: PatientRecord) -> CriterionOutcome:
    """The ``deceased`` criterion, not met, citing the Patient record."""
    died = record.deceased_on
    reason = (
        f"The record says the patient died on {died.isoformat()}."
        if died
        else "The record says the patient has died (no date of death recorded)."
    )
    evidence = EvidenceItem(
        fact="deceased", value=True, date=died.isoformat() if died else None, source=f"Patient/{record.patient_id}"
    )
    return CriterionOutcome(
        id=CRITERION_ID,
        type="inclusion",
        text=CRITERION_TEXT,
        status=Status.NOT_MET,
        reason=reason,
        evidence=(evidence,),
    )


def gate(trial: TrialOutcome, criterion: CriterionOutcome) -> TrialOutcome:
    """``trial`` with the death gate in front: ineligible, failed by ``deceased`` alone."""
    return trial.model_copy(
        update={
            "verdict": "ineligible",
            "failed": (CRITERION_ID,),
            "missing": (),
            "eligible_from": None,
            "valid_until": None,
            "criteria": (criterion, *trial.criteria),
        }
    )
