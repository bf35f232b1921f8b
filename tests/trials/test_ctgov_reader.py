"""ClinicalTrials.gov API v2 JSON: the real PALLAS record and synthetic records of each shape."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from trialmatch.errors import RecordError, UnrecognizedFormatError
from trialmatch.trials.sources import read_trial_text, read_trials

FIXTURES = Path(__file__).parent / "fixtures"


def test_real_record_criteria(shared_dir: Path) -> None:
    [trial] = read_trials(shared_dir / "fixtures" / "ctgov" / "NCT02513394.json")
    # 21 inclusion: two unbulleted lines are criteria of their own. Exclusion has 13 bullets, two of which
    # are one criterion the source broke after "inducers of", so 12 criteria.
    assert trial.counts() == (21, 12)
    assert trial.criterion("inc-7").text.startswith("FFPE tumor tissue block must be confirmed")
    assert trial.criterion("inc-14").text == (
        "Patients must either be initiating or have already started adjuvant hormonal treatment."
    )
    assert trial.criterion("exc-5").text == (
        "Patients receiving any medications or substances that are potent inhibitors or inducers of "
        "CYP3A isoenzymes within 7 days of randomization."
    )


def test_real_record_words_all_kept(shared_dir: Path) -> None:
    path = shared_dir / "fixtures" / "ctgov" / "NCT02513394.json"
    [trial] = read_trials(path)
    source = json.loads(path.read_text())["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    source_words = [w for w in re.sub(r"^\s*[*-]", " ", source, flags=re.M).split() if w != "-"]
    source_words = [w for w in source_words if w not in ("Inclusion", "Exclusion", "Criteria:")]
    assert " ".join(c.text for c in trial.all_criteria()).split() == source_words


def test_real_record_fields(shared_dir: Path) -> None:
    [trial] = read_trials(shared_dir / "fixtures" / "ctgov" / "NCT02513394.json")
    assert trial.trial_id == "NCT02513394"
    assert trial.aliases == ("AFT-05", "ABCSG 42", "BIG 14-03", "2014-005181-30")
    assert (trial.acronym, trial.phases, trial.recruitment_status) == (
        "PALLAS",
        ("PHASE3",),
        "ACTIVE_NOT_RECRUITING",
    )
    assert (trial.sex, trial.minimum_age_years, trial.maximum_age_years) == ("ALL", 18.0, None)
    assert trial.conditions == ("Breast Cancer",)
    assert [i.name for i in trial.interventions] == ["Palbociclib", "Standard Adjuvant Endocrine Therapy"]
    assert trial.interventions[1].arms == ("Arm A", "Arm B")
    assert trial.start_date == dt.date(2015, 8, 1)
    assert trial.enrollment == 5796
    assert trial.sites and trial.sites[0].city == "Mobile"
    assert trial.source.format == "ctgov-v2-json"


def test_escapes_undone_and_nested_bullets_become_children() -> None:
    [trial] = read_trials(FIXTURES / "ctgov_escapes_nested.json")
    assert trial.criterion("inc-1").text == "Age >= 18 years"
    organ = trial.criterion("inc-2")
    assert [c.id for c in organ.children] == ["inc-2.1", "inc-2.2"]
    assert organ.children[0].text == "ANC > 1.5 x 10^9/L"
    assert trial.criterion("inc-2.2.1").text == "or < 3 x ULN with Gilbert's syndrome"
    assert trial.counts() == (3, 3)
    assert "\\" not in "".join(c.text for c in trial.all_criteria())


def test_broken_bullet_joined_only_when_continuation_cannot_start_a_criterion() -> None:
    [trial] = read_trials(FIXTURES / "ctgov_escapes_nested.json")
    assert trial.criterion("exc-1").text == (
        "Prior treatment with any of the following agents or trastuzumab emtansine within 12 months."
    )
    assert trial.criterion("exc-2").text == "Known brain metastases that are untreated or"
    assert trial.criterion("exc-3").text == "Pregnancy or breastfeeding."


def test_synthetic_record_fields() -> None:
    [trial] = read_trials(FIXTURES / "ctgov_escapes_nested.json")
    assert trial.aliases == ("SYN-001", "2020-000001-11")
    assert trial.phases == ("PHASE1", "PHASE2")
    assert (trial.minimum_age_years, trial.maximum_age_years) == (0.5, 75.0)
    assert trial.completion_date == dt.date(2027, 12, 31)
    assert trial.sites[0].facility == "Synthetic Cancer Center"


@pytest.mark.parametrize(
    ("name", "ids"),
    [("ctgov_list.json", ["NCT90000002", "NCT90000003"]), ("ctgov_studies.json", ["NCT90000002"])],
)
def test_list_and_studies_forms(name: str, ids: list[str]) -> None:
    assert [t.trial_id for t in read_trials(FIXTURES / name)] == ids


def test_criteria_without_headers_are_inclusion() -> None:
    trial = read_trials(FIXTURES / "ctgov_list.json")[1]
    assert [(c.id, c.text) for c in trial.criteria] == [
        ("inc-1", "Measurable disease per RECIST 1.1."),
        ("inc-2", "ECOG 0-1."),
    ]


def test_malformed_json_names_file_and_position() -> None:
    with pytest.raises(RecordError, match=r"malformed\.json: not valid JSON \(line 1, column \d+\)"):
        read_trials(FIXTURES / "malformed.json")


def test_json_that_is_not_a_study() -> None:
    with pytest.raises(UnrecognizedFormatError, match=r"not_a_study\.json: JSON but not a ClinicalTrials\.gov"):
        read_trials(FIXTURES / "not_a_study.json")


def test_study_without_id_is_rejected_by_position() -> None:
    with pytest.raises(RecordError, match=r"x\.json study #2: missing"):
        read_trial_text(
            json.dumps({"studies": [json.loads((FIXTURES / "ctgov_list.json").read_text())[0], {}]}), "x.json"
        )


def _study(**modules: object) -> str:
    protocol = {"identificationModule": {"nctId": "NCT90000555", "briefTitle": "A study"}, **modules}
    return json.dumps({"protocolSection": protocol})


def test_malformed_fields_are_left_empty_not_fatal() -> None:
    eligibility = {"eligibilityCriteria": "Inclusion Criteria:\n\n* Adults\n\nExclusion Criteria:\n\n* Pregnancy"}
    text = _study(
        statusModule={"startDateStruct": {"date": "2024-13"}},
        armsInterventionsModule={"interventions": 7},
        contactsLocationsModule={"locations": "Leuven"},
        eligibilityModule=eligibility,
    )
    [trial] = read_trial_text(text, "odd.json")
    assert (trial.start_date, trial.interventions, trial.sites) == (None, (), ())
    assert trial.counts() == (1, 1)


def test_a_study_without_eligibility_criteria_is_rejected() -> None:
    with pytest.raises(RecordError, match="no eligibility criteria"):
        read_trial_text(_study(eligibilityModule={"sex": "ALL"}), "none.json")
