"""Work-list exports: a CSV of pairs, a REDCap import file with its data dictionary, and the answers file.

The REDCap layout: one record per patient (``record_id``) with a repeating instrument ``trial_screening``, one
instance per trial. Coded fields use the numbers of :data:`VERDICT_CODES` and :data:`STATUS_CODES`; the data
dictionary (REDCap's 18-column CSV) is generated from the same tables, so the two cannot disagree.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import yaml

from trialmatch.reports.deciding import first_deciding
from trialmatch.worklist.model import AnswerEvent, Pair, PairStatus
from trialmatch.worklist.store import as_site_answer

CSV_COLUMNS = (
    "patient_id",
    "trial_id",
    "verdict",
    "status",
    "status_by",
    "status_at",
    "status_note",
    "deciding",
    "eligible_from",
    "valid_until",
    "missing",
    "as_of",
    "screened_at",
    "rules_version",
    "change",
)
VERDICT_CODES = {"eligible": 1, "possible": 2, "ineligible": 3}
STATUS_CODES = {status.value: number for number, status in enumerate(PairStatus, start=1)}
INSTRUMENT = "trial_screening"
DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
# (name, form, type, label, choices, validation, identifier, note)
_FIELDS: tuple[tuple[str, str, str, str, dict[str, int] | None, str, bool, str], ...] = (
    ("record_id", "patient", "text", "Patient id", None, "", True, "The patient id of the record screened"),
    ("trial_id", INSTRUMENT, "text", "Trial", None, "", False, "Registry id (NCT number)"),
    ("verdict", INSTRUMENT, "radio", "Verdict", VERDICT_CODES, "", False, "trialmatch's screening verdict"),
    ("status", INSTRUMENT, "radio", "Screening status", STATUS_CODES, "", False, "Where the site stands"),
    ("status_by", INSTRUMENT, "text", "Status set by", None, "", False, ""),
    ("status_date", INSTRUMENT, "text", "Status date", None, "date_ymd", False, ""),
    ("deciding", INSTRUMENT, "notes", "Deciding criterion", None, "", False, "The first criterion deciding it"),
    ("eligible_from", INSTRUMENT, "text", "Eligible from", None, "date_ymd", False, "When a time window passes"),
    ("as_of", INSTRUMENT, "text", "Screened as of", None, "date_ymd", False, ""),
    ("rules_version", INSTRUMENT, "text", "Rules version", None, "", False, "Rule file version and hash"),
)
REDCAP_COLUMNS = (
    "record_id",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    *(f[0] for f in _FIELDS[1:]),
    f"{INSTRUMENT}_complete",
)


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _date(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def pair_row(pair: Pair) -> dict[str, Any]:
    """One pair as a flat row (the CSV export and the page's download)."""
    screening, status = pair.screening, pair.status
    return {
        "patient_id": pair.patient_id,
        "trial_id": pair.trial_id,
        "verdict": screening.verdict,
        "status": pair.current_status.value,
        "status_by": status.by if status else "",
        "status_at": status.at.isoformat(timespec="seconds") if status else "",
        "status_note": (status.note or "") if status else "",
        "deciding": first_deciding(screening.outcome),
        "eligible_from": _date(screening.outcome.eligible_from),
        "valid_until": _date(screening.outcome.valid_until),
        "missing": "; ".join(screening.outcome.missing),
        "as_of": screening.as_of.isoformat(),
        "screened_at": screening.screened_at.isoformat(timespec="seconds"),
        "rules_version": screening.rules_version or "",
        "change": screening.change or "",
    }


def pairs_csv(pairs: Sequence[Pair]) -> str:
    """One row per pair: patient, trial, verdict, status (who, when, note), the deciding criterion, dates."""
    return _csv([pair_row(p) for p in pairs], CSV_COLUMNS)


def redcap_csv(pairs: Sequence[Pair]) -> str:
    """The REDCap import file: one ``trial_screening`` instance per pair, under the patient's record."""
    rows = []
    instance: dict[str, int] = {}
    for pair in pairs:
        number = instance[pair.patient_id] = instance.get(pair.patient_id, 0) + 1
        flat = pair_row(pair)
        rows.append(
            {
                "record_id": pair.patient_id,
                "redcap_repeat_instrument": INSTRUMENT,
                "redcap_repeat_instance": number,
                "trial_id": pair.trial_id,
                "verdict": VERDICT_CODES[pair.screening.verdict],
                "status": STATUS_CODES[pair.current_status.value],
                "status_by": flat["status_by"],
                "status_date": pair.status.at.date().isoformat() if pair.status else "",
                "deciding": flat["deciding"],
                "eligible_from": flat["eligible_from"],
                "as_of": flat["as_of"],
                "rules_version": flat["rules_version"],
                f"{INSTRUMENT}_complete": 2 if not pair.is_open else 1,
            }
        )
    return _csv(rows, REDCAP_COLUMNS)


def redcap_dictionary() -> str:
    """REDCap's data dictionary for :func:`redcap_csv`'s fields."""
    rows = []
    for name, form, kind, label, choices, validation, identifier, note in _FIELDS:
        row = dict.fromkeys(DICTIONARY_COLUMNS, "")
        row |= {
            "Variable / Field Name": name,
            "Form Name": form,
            "Field Type": kind,
            "Field Label": label,
            "Choices, Calculations, OR Slider Labels": " | ".join(f"{n}, {v}" for v, n in (choices or {}).items()),
            "Field Note": note,
            "Text Validation Type OR Show Slider Number": validation,
            "Identifier?": "y" if identifier else "",
        }
        rows.append(row)
    return _csv(rows, DICTIONARY_COLUMNS)


def answers_document(events: Sequence[AnswerEvent]) -> list[dict[str, Any]]:
    """The current answers as ``screen --answers`` reads them."""
    return [as_site_answer(e).model_dump(mode="json", exclude_none=True) for e in events]


def answers_text(events: Sequence[AnswerEvent], *, as_json: bool) -> str:
    """The answers file, YAML (default) or JSON."""
    document = {"answers": answers_document(events)}
    if as_json:
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
