"""What an unrecognised coding may be, judged from its display: the ground for answering "unknown".

History is read closed-world: no record of a malignancy means "no other malignancy" is met. That is only
honest when the patient's codes were understood. A condition whose code nobody recognised but whose display
says "melanoma", or a procedure that says "excision", may well be what the criterion asks about; such a
coding makes the criterion unknown (with "possible <concept>: '<display>' — map it"), never met or not met.
The words are those of the diagnoses and procedures themselves (WHO/ICD-O morphology names, surgical
suffixes); negations such as "benign" or "in situ" are not read as the concept.
"""

from __future__ import annotations

import re

_CONDITION: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(malignan\w*|carcinoma\w*|adenocarcinoma\w*|melanoma\w*|lymphoma\w*|sarcoma\w*|leuka?emia\w*|myeloma\w*)",
            re.IGNORECASE,
        ),
        "condition.malignancy",
    ),
)
_CONDITION_NOT = re.compile(
    r"\b(benign|in situ|non-?malignant|screening|family history|fear of|risk of|suspected absence)\b",
    re.IGNORECASE,
)
_PROCEDURE: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b(radiotherapy|radiation therapy|brachytherapy|irradiation|radiosurgery)\b", re.IGNORECASE),
        "procedure.radiotherapy",
    ),
    (re.compile(r"\bbiops", re.IGNORECASE), "procedure.biopsy"),
    (re.compile(r"\w(ectomy|ectomies)\b|\b(excision|resection|amputation)\b", re.IGNORECASE), "procedure.surgery"),
)
_PROCEDURE_NOT = re.compile(
    r"\b(planning|referral|counsel\w*|education|assessment|screening|history of)\b", re.IGNORECASE
)
POSSIBLE_CONCEPTS = frozenset(c for _, c in (*_CONDITION, *_PROCEDURE))


def possible_concepts(domain: str, display: str | None) -> tuple[str, ...]:
    """The concepts an unrecognised condition or procedure coding's display names, if any."""
    if not display:
        return ()
    if domain == "condition":
        patterns, negation = _CONDITION, _CONDITION_NOT
    elif domain == "procedure":
        patterns, negation = _PROCEDURE, _PROCEDURE_NOT
    else:
        return ()
    if negation.search(display):
        return ()
    return tuple(concept for pattern, concept in patterns if pattern.search(display))
