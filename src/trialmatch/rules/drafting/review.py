"""What records cannot answer: consent, willingness, compliance, judgement, tissue, life expectancy, allergies.
Each is a recognised review (what the site must confirm), never "not understood"; it covers its whole clause."""

from __future__ import annotations

import re

from trialmatch.rules.ast import Review
from trialmatch.rules.drafting.patterns import Finding, clause, shortened
from trialmatch.trials.model import CriterionType

TOPICS: tuple[tuple[str, str], ...] = (
    (
        r"informed\s+consent|written\s+consent|\bIC\b|consent\s+form|sign(?:ed)?\s+(?:and\s+\w+\s+)?(?:written\s+)?consent",
        "Signed informed consent",
    ),
    (r"informed\s+of\s+the\s+investigational", "Informed of the investigational nature of the study"),
    (
        r"willing|able\s+to\s+comply|unable\s+to\s+comply|inability\s+to\s+comply|complian(?:ce|t)|follow-?up\s+schedule",
        "Willing and able to comply with the protocol",
    ),
    (
        r"judge?ment|opinion\s+of\s+the\s+investigator|investigator'?s?\s+(?:opinion|discretion)|judged\s+by|considered\s+by"
        r"|clinician'?s\s+evaluation|clinically\s+(?:significant|important)",
        "Investigator's judgement",
    ),
    (r"life\s+expectancy", "Life expectancy as the trial requires"),
    (
        r"tumou?r\s+(?:blocks?|tissue|samples?)|unstained\s+slides|archival|tissue\s+(?:block|sample)",
        "Tumour tissue available",
    ),
    (r"hypersensitivity|allerg(?:y|ic)", "No hypersensitivity or allergy as stated"),
    (r"swallow", "Able to swallow oral medication"),
    (r"social\s+security|health\s+insurance", "Covered by social security or health insurance"),
    (r"deprived\s+of\s+(?:their\s+)?liberty|guardianship|custody", "Not deprived of liberty or under guardianship"),
    (
        r"uncontrolled\s+(?:intercurrent|systemic)\s+(?:illness|disease)|severe,?\s+uncontrolled|serious\s+(?:medical|concurrent)"
        r"|major\s+concurrent\s+disease|intercurrent\s+illness",
        "No serious uncontrolled illness (investigator's judgement)",
    ),
    (
        # Not "protocol" or "biopsy" alone: "protocol therapy" and "biopsy-proven" carry facts records hold.
        r"study\s+procedures|able\s+to\s+undergo|weight\s+limits?",
        "A study procedure or protocol requirement",
    ),
)
_TOPIC = re.compile("|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(TOPICS)), re.I)
_MAX_REASON = 110


def _reason(label: str, text: str) -> str:
    return f"{label}: {shortened(text, _MAX_REASON)}"


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """One review per clause that names a topic only the site can confirm."""
    out: list[Finding] = []
    for match in _TOPIC.finditer(text):
        start, end = clause(text, match.start())
        if out and out[-1].span == (start, end):
            continue
        label = next(TOPICS[int(k[1:])][1] for k, v in match.groupdict().items() if v is not None)
        reason = _reason(label, text[start:end])
        out.append(Finding("review", (start, end), Review(reason=reason), "confirm", is_review=True))
    return out
