"""The listing-text reader on a page it has never seen, and content-based format detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.errors import RecordError, UnrecognizedFormatError
from trialmatch.trials.aliases import canonical_ids
from trialmatch.trials.sources import read_trial_text, read_trials
from trialmatch.trials.sources.listing_text import looks_like_heading

FIXTURES = Path(__file__).parent / "fixtures"


def test_unseen_page_layout() -> None:
    [trial] = read_trials(FIXTURES / "listing_synthetic.txt")
    assert (trial.trial_id, trial.aliases, trial.acronym) == ("NCT90000009", ("SYN-2024-7",), "SYNTH-1")
    assert trial.phases == ("PHASE1", "PHASE2")
    assert (trial.recruitment_status, trial.status_text) == ("NOT_YET_RECRUITING", "Not yet recruiting")
    assert (trial.sex, trial.minimum_age_years, trial.maximum_age_years) == ("FEMALE", 18.0, 70.0)
    assert trial.conditions == ()
    assert trial.counts() == (3, 2)
    assert trial.criterion("inc-1").text.endswith(
        "metastatic disease documented by imaging within 28 days before registration."
    )
    assert [c.text for c in trial.criterion("inc-2").children] == [
        "absolute neutrophil count ≥ 1.5 x 10^9/L;",
        "platelets ≥ 100 x 10^9/L.",
    ]
    assert trial.criterion("exc-1").text.endswith("that requires immediate local therapy.")
    assert "Contact" not in " ".join(c.text for c in trial.all_criteria())


def test_reader_is_chosen_by_content_not_name(tmp_path: Path) -> None:
    disguised = tmp_path / "page.json"
    disguised.write_bytes((FIXTURES / "listing_synthetic.txt").read_bytes())
    study = tmp_path / "study.txt"
    study.write_bytes((FIXTURES / "ctgov_studies.json").read_bytes())
    assert read_trials(disguised)[0].source.format == "listing-text"
    assert read_trials(study)[0].source.format == "ctgov-v2-json"


@pytest.mark.parametrize(
    ("name", "message"),
    [("empty.txt", "empty file"), ("notes.txt", "not a recognized trial record")],
)
def test_unrecognized_files(name: str, message: str) -> None:
    with pytest.raises(UnrecognizedFormatError, match=message):
        read_trials(FIXTURES / name)


def test_binary_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4\xff\xfe\x00")
    with pytest.raises(UnrecognizedFormatError, match="not a text file"):
        read_trials(path)


def test_headers_without_criteria_are_an_error() -> None:
    with pytest.raises(RecordError, match=r"page\.txt: no criteria"):
        read_trial_text("A Trial of Something New\n\nInclusion Criteria:\n\nExclusion Criteria:\n", "page.txt")


def test_page_without_any_id_gets_a_stable_local_id() -> None:
    text = "A Trial of Something New\n\nInclusion Criteria:\n- Adults.\n"
    first, second = read_trial_text(text, "a.txt")[0], read_trial_text(text, "b.txt")[0]
    assert first.trial_id.startswith("local-") and first.trial_id == second.trial_id


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Sites / Locations", True),
        ("Overall Study Officials:", True),
        ("Study Design", True),
        ("Type of Study:", True),
        ("Pregnancy or lactation", False),
        ("Signed written informed consent.", False),
        ("ECOG 0-1", False),
        ("no recent significant worsening", False),
    ],
)
def test_headings_that_end_a_criteria_list(line: str, heading: bool) -> None:
    assert looks_like_heading(line) is heading


def test_alias_table_by_printed_id_and_by_title() -> None:
    assert canonical_ids(["2000023405"], "Some other title") == ("NCT03530696", ("2000023405",))
    title = (
        "phase ii prospective imaging study evaluating the utility of pre-treatment zr89 labelled "
        "trastuzumab PET/CT and an early FDG-PET/CT response to identify patients with advanced HER2+ BC "
        "unlikely to benefit from a novel antiHER2 therapy - TDM1"
    )
    assert canonical_ids([], title) == ("NCT01565200", ("2011-005437-39",))
    assert canonical_ids(["NCT01565200"], None) == ("NCT01565200", ("2011-005437-39",))


def test_unknown_ids_keep_sponsor_id() -> None:
    assert canonical_ids(["ABC-1", "ABC-2"], "Unknown") == ("ABC-1", ("ABC-2",))
    assert canonical_ids([], "Unknown") == (None, ())
