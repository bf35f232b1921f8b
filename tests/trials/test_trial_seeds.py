"""Acceptance: the five bundled seed pages read with the documents' own criteria, ids and facts."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

import pytest

from trialmatch.trials.library import bundled_trials
from trialmatch.trials.model import Trial

SEED_DIR = files("trialmatch").joinpath("data/trials/seeds")

# What each document states (counts of top-level inclusion/exclusion criteria, ids, facts), and the first
# line of page text after its eligibility block, for checking that no criterion text is lost or invented.
EXPECTED: dict[str, dict[str, Any]] = {
    "000": {
        "counts": (12, 16),
        "trial_id": "NCT01565200",
        "aliases": ("2011-005437-39",),
        "title_start": "Phase II Prospective Imaging Study Evaluating the Utility of Pre-treatment zr89",
        "phases": ("PHASE2",),
        "status": ("RECRUITING", "Open (Enrolling)"),
        "sex": None,
        "ages": (18.0, None),
        "conditions": ("HER-2 Positive Breast Cancer",),
        "block_end": "Type of Study:",
    },
    "001": {
        "counts": (4, 4),
        "trial_id": "NCT02286843",
        "aliases": ("14-156",),
        "title_start": "Can HER2 Targeted PET/CT Imaging Identify Unsuspected",
        "phases": ("NA",),
        "status": ("COMPLETED", "Completed"),
        "sex": "FEMALE",
        "ages": (18.0, None),
        "conditions": ("Breast Cancer Metastases HER2 Positive Breast",),
        "block_end": "To learn more about this study",
    },
    "002": {
        "counts": (10, 5),
        "trial_id": "NCT01957332",
        "aliases": (),
        "title_start": "IMaging PAtients for Cancer Drug selecTion - Metastatic Breast Cancer",
        "phases": ("NA",),
        "status": ("ACTIVE_NOT_RECRUITING", "Active, not recruiting"),
        "sex": "ALL",
        "ages": (18.0, None),
        "conditions": ("Metastatic Breast Cancer",),
        "block_end": "Sites / Locations",
    },
    "003": {
        "counts": (10, 9),
        "trial_id": "NCT03530696",
        "aliases": ("2000023405",),
        "title_start": "A Randomized Phase II Study to Evaluate Efficacy of T-DM1 With or Without",
        "phases": ("PHASE2",),
        "status": (None, None),
        "sex": None,
        "ages": (None, None),
        "conditions": (),
        "block_end": "Sub-Investigators",
    },
    "004": {
        "counts": (14, 13),
        "trial_id": "NCT06450314",
        "aliases": ("UC-BCG-2312", "2023-509811-98-00"),
        "title_start": "Decreasing Treatment for Metastatic HER2-Positive Breast Cancer",
        "phases": ("PHASE2",),
        "status": ("RECRUITING", "Active - Recruiting"),
        "sex": "ALL",
        "ages": (18.0, None),
        "conditions": ("Metastatic Cancer", "Breast Cancer"),
        "block_end": "Study Design",
    },
}
_HEADER = re.compile(r"\s*(inclusion|exclusion)( criteria)?:?\s*", re.IGNORECASE)
_MARKER = re.compile(r"^\s*(\d{1,3}[.)]|[-*•])\s+")


def _seed(number: str) -> tuple[str, Trial]:
    """The packaged seed's text and the bundled trial read from it."""
    entry = next(e for e in SEED_DIR.iterdir() if e.name.startswith(f"{number}_"))
    trial = next(t for t in bundled_trials() if t.source.file == entry.name)
    return entry.read_text(encoding="utf-8"), trial


def _eligibility_chars(text: str, block_end: str) -> str:
    """The document's criteria text from the first header to the block end, headers and markers removed."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if _HEADER.fullmatch(line))
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(block_end))
    body = [_MARKER.sub("", line) for line in lines[start:end] if not _HEADER.fullmatch(line)]
    return "".join("".join(body).split())


def test_all_five_seeds_are_bundled() -> None:
    assert sorted(t.trial_id for t in bundled_trials()) == sorted(e["trial_id"] for e in EXPECTED.values())


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_seed_criteria_counts(number: str) -> None:
    _, trial = _seed(number)
    assert trial.counts() == EXPECTED[number]["counts"]


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_no_criterion_text_lost_or_invented(number: str) -> None:
    text, trial = _seed(number)
    criteria_chars = "".join("".join(c.text.split()) for c in trial.all_criteria())
    assert criteria_chars == _eligibility_chars(text, EXPECTED[number]["block_end"])


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_seed_facts(number: str) -> None:
    _, trial = _seed(number)
    expected = EXPECTED[number]
    assert trial.trial_id == expected["trial_id"]
    assert trial.aliases == expected["aliases"]
    assert trial.title.startswith(expected["title_start"])
    assert trial.phases == expected["phases"]
    assert (trial.recruitment_status, trial.status_text) == expected["status"]
    assert trial.sex == expected["sex"]
    assert (trial.minimum_age_years, trial.maximum_age_years) == expected["ages"]
    assert trial.conditions == expected["conditions"]
    assert trial.source.format == "listing-text"


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_ids_follow_document_order(number: str) -> None:
    _, trial = _seed(number)
    inclusion, exclusion = trial.counts()
    expected = [f"inc-{n}" for n in range(1, inclusion + 1)] + [f"exc-{n}" for n in range(1, exclusion + 1)]
    assert [c.id for c in trial.criteria] == expected


def test_seed_002_sub_items_and_single_copy() -> None:
    text, trial = _seed("002")
    parent = trial.criterion("inc-2")
    assert parent.text.endswith("which may include:")
    assert [c.id for c in parent.children] == ["inc-2.1", "inc-2.2"]
    assert parent.children[0].text.startswith("no recent (< 2 weeks prior to screening visit)")
    assert parent.children[1].text.startswith("in case of liver metastases:")
    assert text.count("Signed written informed consent.") == 2
    assert sum(c.text == "Signed written informed consent." for c in trial.all_criteria()) == 1


def test_seed_000_hard_wrapping_undone() -> None:
    _, trial = _seed("000")
    first = trial.criterion("inc-1").text
    assert "invasive carcinoma of the breast with locally recurrent" in first
    assert first.endswith("(in case it is not available for the primary tumor).")
    assert "\n" not in "".join(c.text for c in trial.all_criteria())


def test_seed_004_run_together_words_kept_and_split_right() -> None:
    _, trial = _seed("004")
    assert "trial specificprocedures." in trial.criterion("inc-1").text
    assert trial.criterion("inc-14").text == "Patients must be affiliated to a Social Security System (or equivalent)."
    assert trial.criterion("exc-13").text.startswith("Persons deprived of their liberty")


def test_packaged_seeds_match_shared_copies(shared_dir: Any) -> None:
    for entry in SEED_DIR.iterdir():
        if entry.name.endswith(".txt"):
            assert entry.read_bytes() == (shared_dir / "seeds" / entry.name).read_bytes()
