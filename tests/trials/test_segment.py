"""Criteria splitting shared by the readers: markers, wrapping, sub-items, broken bullets, duplicates."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.trials.model import Criterion, CriterionType
from trialmatch.trials.segment import build_criteria, header_kind, parse_line, parse_lines, split_sections


def _split(text: str) -> tuple[Criterion, ...]:
    return build_criteria(split_sections(parse_lines(text.splitlines()), preamble=CriterionType.INCLUSION))


def test_markers_are_read_and_kept_out_of_text() -> None:
    assert parse_line("  12. Age ≥ 18") == parse_line("  12. Age ≥ 18")
    numbered = parse_line("  12. Age ≥ 18")
    assert (numbered.indent, numbered.marker, numbered.number, numbered.text) == (2, "number", 12, "Age ≥ 18")
    assert parse_line("-Patients must consent").text == "Patients must consent"
    assert parse_line("1.5 x ULN or less").marker is None
    assert parse_line("i.e. stable disease").marker is None


def test_document_numbering_is_kept() -> None:
    criteria = _split("Inclusion Criteria:\n3. Third listed first.\n7. Then seventh.\n")
    assert [c.id for c in criteria] == ["inc-3", "inc-7"]


def test_repeated_numbers_fall_back_to_order() -> None:
    criteria = _split("1. One.\n1. Also one.\n")
    assert [c.id for c in criteria] == ["inc-1", "inc-2"]


def test_unmarked_lines_between_bullets_are_criteria() -> None:
    text = "* First criterion.\n\nAn unbulleted criterion.\n\n* Last criterion."
    assert [c.text for c in _split(text)] == [
        "First criterion.",
        "An unbulleted criterion.",
        "Last criterion.",
    ]


def test_bullet_wrapped_onto_lowercase_line_is_one_criterion() -> None:
    criteria = _split("- Untreated brain metastases that require\n  immediate therapy.\n- Pregnancy.")
    assert [c.text for c in criteria] == [
        "Untreated brain metastases that require immediate therapy.",
        "Pregnancy.",
    ]


def test_colon_line_takes_lowercase_items_as_children() -> None:
    text = "Adequate function, which may include:\n- no recent decline;\n- in case of x: no rise.\nNext one."
    [parent, following] = _split(text)
    assert [(c.id, c.text) for c in parent.children] == [
        ("inc-1.1", "no recent decline;"),
        ("inc-1.2", "in case of x: no rise."),
    ]
    assert following.id == "inc-2"


def test_sections_and_duplicate_copies() -> None:
    block = "Inclusion Criteria:\n- Consent.\nExclusion Criteria:\n- Pregnancy.\n"
    criteria = _split(block + block)
    assert [(c.id, c.type, c.text) for c in criteria] == [
        ("inc-1", CriterionType.INCLUSION, "Consent."),
        ("exc-1", CriterionType.EXCLUSION, "Pregnancy."),
    ]


def test_header_with_text_on_the_same_line() -> None:
    criteria = _split("Inclusion criteria: Women age > 18\nExclusion Criteria: none listed.")
    assert [(c.id, c.text) for c in criteria] == [("inc-1", "Women age > 18"), ("exc-1", "none listed.")]


def test_hyphen_at_line_end_joins_word() -> None:
    [criterion] = _split("1. Prior anti-\nHER2 therapy allowed.")
    assert criterion.text == "Prior anti-HER2 therapy allowed."


_WORDS = st.sampled_from(
    [
        "patients",
        "with",
        "measurable",
        "disease",
        "adequate",
        "marrow",
        "function",
        "prior",
        "therapy",
        "ECOG",
    ]
)
_SENTENCE = st.lists(_WORDS, min_size=3, max_size=25).map(lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + ".")


@given(st.lists(_SENTENCE, min_size=1, max_size=8), st.sampled_from(["* ", "- ", "• "]))
def test_bullets_round_trip(sentences: list[str], marker: str) -> None:
    text = "Inclusion Criteria:\n\n" + "\n".join(marker + s for s in sentences)
    assert [c.text for c in _split(text)] == sentences


@given(st.lists(_SENTENCE, min_size=1, max_size=8), st.integers(min_value=25, max_value=90))
def test_hard_wrapped_numbered_list_round_trips(sentences: list[str], width: int) -> None:
    items = [
        textwrap.fill(s, width=width, initial_indent=f"{n}. ", break_on_hyphens=False)
        for n, s in enumerate(sentences, start=1)
    ]
    criteria = _split("Exclusion Criteria:\n\n" + "\n\n".join(items))
    assert [(c.id, c.type, c.text) for c in criteria] == [
        (f"exc-{n}", CriterionType.EXCLUSION, s) for n, s in enumerate(sentences, start=1)
    ]


@given(st.lists(_SENTENCE, min_size=1, max_size=6, unique=True))
def test_a_page_printing_criteria_twice_keeps_one_copy(sentences: list[str]) -> None:
    copy = "Inclusion Criteria:\n" + "\n".join(sentences) + "\n"
    assert _split(copy + copy) == _split(copy)


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        # heading variants of the ClinicalTrials.gov corpus (../shared/fixtures/ctgov-corpus)
        ("Key Exclusion Criteria", CriterionType.EXCLUSION),
        ("Exclusion Criteria (All Arms):", CriterionType.EXCLUSION),
        ("Part 3 exclusion criteria:", CriterionType.EXCLUSION),
        ("* Additional exclusion criteria for dose expansion cohort 2:", CriterionType.EXCLUSION),
        ("GROUP 1 Patient Inclusion criteria", CriterionType.INCLUSION),
        ("The main inclusion criteria include but are not limited to the following:", CriterionType.INCLUSION),
        ("PSYCHIATRIC EXCLUSION CRITERIA", CriterionType.EXCLUSION),
    ],
)
def test_heading_variants_open_their_section(header: str, kind: CriterionType) -> None:
    criteria = _split(f"Inclusion Criteria:\n- Consent.\n{header}\n- Pregnancy.\n")
    assert [(c.type, c.text) for c in criteria] == [(CriterionType.INCLUSION, "Consent."), (kind, "Pregnancy.")]


@pytest.mark.parametrize(
    "line",
    [
        "Other protocol-defined inclusion/exclusion criteria apply.",
        "Patients not meeting inclusion criteria for organ function.",
        "There are no exclusion criteria for the study.",
        "Patients must meet all inclusion criteria",
    ],
)
def test_sentences_about_criteria_are_not_headings(line: str) -> None:
    assert header_kind(parse_line(line)) is None
