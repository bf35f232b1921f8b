"""An imported Athena vocabulary (hand-made files in Athena's exact layout) answers what the pack does not
know: SNOMED CT is-a through CONCEPT_ANCESTOR, RxNorm products to their ingredients and so to drug classes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.errors import ConceptError
from trialmatch.terminology.athena import AthenaVocabulary, import_athena
from trialmatch.terminology.concepts import RXNORM, SNOMED, default_library

CONCEPT_HEADER = (
    "concept_id",
    "concept_name",
    "domain_id",
    "vocabulary_id",
    "concept_class_id",
    "standard_concept",
    "concept_code",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
)
CONCEPT = [
    ("4000001", "Malignant neoplastic disease", "Condition", "SNOMED", "Clinical Finding", "363346000"),
    (
        "4000002",
        'Hand-made malignant disorder "variant" of test site',
        "Condition",
        "SNOMED",
        "Clinical Finding",
        "900000000000001",
    ),
    ("4000003", "Surgical procedure", "Procedure", "SNOMED", "Procedure", "387713003"),
    ("4000004", "Hand-made excision of a test site", "Procedure", "SNOMED", "Procedure", "900000000000002"),
    ("1000001", "paclitaxel", "Drug", "RxNorm", "Ingredient", "56946"),
    ("1000002", "Zyxotax 6 MG/ML Injectable Solution", "Drug", "RxNorm", "Branded Drug", "99999901"),
    ("1000003", "Hand-made viral sinusitis", "Condition", "SNOMED", "Clinical Finding", "900000000000003"),
]
ANCESTOR = [
    "ancestor_concept_id\tdescendant_concept_id\tmin_levels_of_separation\tmax_levels_of_separation",
    "4000001\t4000001\t0\t0",
    "4000001\t4000002\t2\t3",
    "4000002\t4000002\t0\t0",
    "4000003\t4000004\t1\t1",
    "1000001\t1000002\t2\t2",
    "1000003\t1000003\t0\t0",
]
RELATIONSHIP = [
    "concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\tvalid_end_date\tinvalid_reason",
    "1000002\t1000001\tHas ingredient\t20200101\t20991231\t",
]


def _concept_lines() -> list[str]:
    """CONCEPT.csv as Athena writes it: tab-separated, unquoted, a standard concept valid until 2099."""
    rows = ["\t".join(CONCEPT_HEADER)]
    for cid, name, domain, vocabulary, concept_class, code in CONCEPT:
        rows.append("\t".join((cid, name, domain, vocabulary, concept_class, "S", code, "20020131", "20991231", "")))
    return rows


SYNONYM = ["concept_id\tconcept_synonym_name\tlanguage_concept_id", "1000001\tPaclitaxel\t4180186"]


@pytest.fixture
def download(tmp_path: Path) -> Path:
    folder = tmp_path / "athena"
    folder.mkdir()
    for name, lines in (
        ("CONCEPT", _concept_lines()),
        ("CONCEPT_ANCESTOR", ANCESTOR),
        ("CONCEPT_RELATIONSHIP", RELATIONSHIP),
        ("CONCEPT_SYNONYM", SYNONYM),
    ):
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_imported_vocabulary_answers_is_a_and_ingredients(download: Path, tmp_path: Path) -> None:
    summary = import_athena(download, tmp_path / "vocabulary.duckdb")
    assert summary.rows == {"CONCEPT": 7, "CONCEPT_ANCESTOR": 6, "CONCEPT_RELATIONSHIP": 1, "CONCEPT_SYNONYM": 1}
    library = default_library().with_vocabulary(AthenaVocabulary(summary.path))
    malignant = library.recognise(SNOMED, "900000000000001")
    assert malignant.concepts == ("condition.malignancy",)
    assert malignant.recognised_by == f"hierarchy:{SNOMED}"
    assert library.recognise(SNOMED, "900000000000002").concepts == ("procedure.surgery",)
    drug = library.recognise(RXNORM, "99999901")
    assert drug.concepts == ("drug.paclitaxel",) and drug.recognised_by == "rxnorm"
    assert library.is_a(drug.concepts[0], "drug.class.taxane")
    assert library.recognise(SNOMED, "900000000000003").concepts == ()
    assert library.display_of(SNOMED, "900000000000001") == 'Hand-made malignant disorder "variant" of test site'
    assert "+athena#" in library.version


def test_without_an_import_nothing_changes(download: Path) -> None:
    assert default_library().recognise(SNOMED, "900000000000001").concepts == ()


def test_a_folder_that_is_not_an_athena_download_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConceptError, match="CONCEPT, CONCEPT_ANCESTOR missing"):
        import_athena(tmp_path, tmp_path / "v.duckdb")


def test_import_athena_command_writes_the_user_vocabulary(
    download: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "home" / "vocabulary.duckdb"
    monkeypatch.setenv("TRIALMATCH_VOCABULARY", str(target))
    result = CliRunner().invoke(app, ["terminology", "import-athena", str(download)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and "CONCEPT 7" in result.output
