"""The concept library: bundled content, validation of bad files, look-ups, hierarchy and site local maps."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.errors import ConceptError
from trialmatch.terminology.concepts import ICD10CM, LOINC, RXNORM, SNOMED, ConceptLibrary, default_library

# The concept ids every module names (the contract handed to all modules).
CONTRACT_IDS = (
    "lab.anc",
    "lab.wbc",
    "lab.platelets",
    "lab.hemoglobin",
    "lab.bilirubin_total",
    "lab.ast",
    "lab.alt",
    "lab.alp",
    "lab.creatinine",
    "lab.creatinine_clearance",
    "lab.inr",
    "lab.aptt",
    "lab.pt",
    "lab.hcg_urine",
    "lab.hcg_serum",
    "vital.bp_systolic",
    "vital.bp_diastolic",
    "vital.body_weight",
    "vital.body_height",
    "score.ecog",
    "score.karnofsky",
    "obs.lvef",
    "marker.her2_interpretation",
    "marker.her2_ihc",
    "marker.her2_ish",
    "marker.her2_ish_ratio",
    "marker.her2_copy_number",
    "marker.er",
    "marker.er_percent",
    "marker.pr",
    "marker.pr_percent",
    "marker.ctdna",
    "obs.cancer_disease_status",
    "obs.pregnancy_status",
    "obs.breastfeeding_status",
    "obs.recist_response",
    "imaging.tumor_size",
    "imaging.suv",
    "condition.breast_cancer",
    "condition.metastasis",
    "condition.metastasis.brain",
    "condition.metastasis.bone",
    "condition.metastasis.liver",
    "condition.metastasis.lung",
    "condition.metastasis.lymph_node",
    "condition.metastasis.chest_wall",
    "condition.metastasis.skin",
    "condition.metastasis.leptomeningeal",
    "condition.malignancy",
    "condition.carcinoma_in_situ_cervix",
    "condition.nonmelanoma_skin_cancer",
    "condition.heart_failure",
    "condition.nyha_class_3",
    "condition.nyha_class_4",
    "condition.myocardial_infarction",
    "condition.unstable_angina",
    "condition.arrhythmia",
    "condition.hypertension",
    "condition.uncontrolled_hypertension",
    "condition.stroke",
    "condition.gilbert_syndrome",
    "condition.hiv",
    "condition.hepatitis_b",
    "condition.hepatitis_c",
    "condition.pregnancy",
    "condition.interstitial_lung_disease",
    "condition.peripheral_neuropathy",
    "drug.trastuzumab",
    "drug.pertuzumab",
    "drug.trastuzumab_emtansine",
    "drug.trastuzumab_deruxtecan",
    "drug.lapatinib",
    "drug.tucatinib",
    "drug.neratinib",
    "drug.palbociclib",
    "drug.ribociclib",
    "drug.abemaciclib",
    "drug.paclitaxel",
    "drug.docetaxel",
    "drug.doxorubicin",
    "drug.epirubicin",
    "drug.cyclophosphamide",
    "drug.capecitabine",
    "drug.vinorelbine",
    "drug.carboplatin",
    "drug.cisplatin",
    "drug.tamoxifen",
    "drug.letrozole",
    "drug.anastrozole",
    "drug.exemestane",
    "drug.fulvestrant",
    "drug.dexamethasone",
    "drug.prednisone",
    "drug.warfarin",
    "drug.class.anti_her2",
    "drug.class.cdk46_inhibitor",
    "drug.class.chemotherapy",
    "drug.class.anthracycline",
    "drug.class.taxane",
    "drug.class.endocrine",
    "drug.class.corticosteroid",
    "drug.class.anticoagulant",
    "drug.class.anticancer",
    "drug.class.investigational",
    "procedure.surgery",
    "procedure.major_surgery",
    "procedure.radiotherapy",
    "procedure.brain_radiotherapy",
    "procedure.biopsy",
    "procedure.pet_fdg",
    "procedure.pet_zr89_trastuzumab",
    "procedure.ct",
    "procedure.mri",
    "procedure.echocardiogram",
    "procedure.muga",
)

EXAMPLE_MAP = Path(__file__).resolve().parents[2] / "src/trialmatch/data/concepts/local-map.example.csv"


@pytest.fixture(scope="module")
def library() -> ConceptLibrary:
    return default_library()


def test_bundled_library_has_every_contract_id(library: ConceptLibrary) -> None:
    assert set(CONTRACT_IDS) <= library.ids()
    assert default_library() is library
    assert re.fullmatch(r"\S+#[0-9a-f]{12}", library.version)


@pytest.mark.parametrize(
    ("concept_id", "unit"),
    [
        ("lab.anc", "10*3/uL"),
        ("lab.hemoglobin", "g/dL"),
        ("lab.creatinine", "mg/dL"),
        ("lab.inr", "{INR}"),
        ("vital.bp_systolic", "mm[Hg]"),
        ("score.karnofsky", "%"),
        ("imaging.suv", "{SUVbw}g/mL"),
        ("marker.her2_copy_number", "{copies}/{cell}"),
        ("marker.her2_interpretation", None),
        ("lab.hcg_urine", None),
    ],
)
def test_canonical_units(library: ConceptLibrary, concept_id: str, unit: str | None) -> None:
    assert library.get(concept_id).unit == unit


def test_molar_masses(library: ConceptLibrary) -> None:
    assert library.get("lab.creatinine").molar_mass == 113.12
    assert library.get("lab.bilirubin_total").molar_mass == 584.66


def test_did_you_mean(library: ConceptLibrary) -> None:
    with pytest.raises(ConceptError, match=r"^unknown concept 'lab\.ancc'\. Did you mean 'lab\.anc'\?$"):
        library.get("lab.ancc")
    with pytest.raises(ConceptError, match=r"^unknown concept 'zzz'\.$"):
        library.get("zzz")


@pytest.mark.parametrize(
    ("concept_id", "ancestor", "expected"),
    [
        ("drug.paclitaxel", "drug.class.taxane", True),
        ("drug.paclitaxel", "drug.class.chemotherapy", True),
        ("drug.paclitaxel", "drug.class.anticancer", True),
        ("drug.trastuzumab_deruxtecan", "drug.class.anti_her2", True),
        ("drug.trastuzumab_deruxtecan", "drug.class.chemotherapy", False),
        ("drug.ribociclib", "drug.class.cdk46_inhibitor", True),
        ("drug.letrozole", "drug.class.anticancer", True),
        ("drug.dexamethasone", "drug.class.anticancer", False),
        ("condition.nyha_class_3", "condition.heart_failure", True),
        ("condition.metastasis.brain", "condition.metastasis", True),
        ("condition.metastasis.brain", "condition.malignancy", True),
        ("condition.carcinoma_in_situ_cervix", "condition.malignancy", False),
        ("procedure.brain_radiotherapy", "procedure.radiotherapy", True),
        ("procedure.radiotherapy", "procedure.brain_radiotherapy", False),
        ("lab.anc", "lab.anc", True),
    ],
)
def test_is_a(library: ConceptLibrary, concept_id: str, ancestor: str, expected: bool) -> None:
    assert library.is_a(concept_id, ancestor) is expected


def test_is_a_rejects_unknown_ids(library: ConceptLibrary) -> None:
    with pytest.raises(ConceptError, match=r"drug\.class\.taxanes"):
        library.is_a("drug.paclitaxel", "drug.class.taxanes")


@given(st.data())
def test_hierarchy_is_transitive(data: st.DataObject) -> None:
    library = default_library()
    concept_id = data.draw(st.sampled_from(sorted(library.ids())))
    for ancestor in library.ancestors(concept_id):
        assert library.ancestors(ancestor) <= library.ancestors(concept_id)
        assert concept_id in library.descendants(ancestor)
        assert not library.is_a(ancestor, concept_id)


def test_descendants(library: ConceptLibrary) -> None:
    assert library.descendants("drug.class.anthracycline") == {
        "drug.daunorubicin",
        "drug.doxorubicin",
        "drug.epirubicin",
        "drug.idarubicin",
    }
    assert "drug.docetaxel" in library.descendants("drug.class.anticancer")


@pytest.mark.parametrize("code", ["1371041", "1658082", "1658085", "1371046"])
def test_branded_rxnorm_rolls_up_to_ingredient_and_classes(library: ConceptLibrary, code: str) -> None:
    (concept_id,) = library.concepts_for_code(RXNORM, code)
    assert concept_id == "drug.trastuzumab_emtansine"
    assert library.is_a(concept_id, "drug.class.anti_her2")
    assert library.is_a(concept_id, "drug.class.anticancer")


def test_both_tdxd_codes_are_accepted(library: ConceptLibrary) -> None:
    for code in ("2267574", "2267582"):
        assert library.concepts_for_code(RXNORM, code) == ("drug.trastuzumab_deruxtecan",)


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (LOINC, "751-8", ("lab.anc",)),
        (LOINC, "14682-9", ("lab.creatinine",)),
        (SNOMED, "94225005", ("condition.metastasis.brain",)),
        (ICD10CM, "C79.31", ("condition.metastasis.brain",)),
        (ICD10CM, "c7931", ("condition.metastasis.brain",)),
        (ICD10CM, "C79.32", ("condition.metastasis.leptomeningeal",)),
        (ICD10CM, "C78.01", ("condition.metastasis.lung",)),
        (ICD10CM, "C78.4", ("condition.metastasis",)),
        (ICD10CM, "C50.911", ("condition.breast_cancer",)),
        (ICD10CM, "C18.9", ("condition.malignancy",)),
        (ICD10CM, "I50.32", ("condition.heart_failure",)),
        (ICD10CM, "Z99.9", ()),
        (SNOMED, "751-8", ()),
        ("http://dicom.nema.org/resources/ontology/DCM", "126401", ("imaging.suv",)),
    ],
)
def test_concepts_for_code(library: ConceptLibrary, system: str, code: str, expected: tuple[str, ...]) -> None:
    assert library.concepts_for_code(system, code) == expected


@pytest.mark.parametrize(
    ("concept_id", "system", "code", "category"),
    [
        ("marker.her2_interpretation", LOINC, "LA6576-8", "positive"),
        ("marker.her2_interpretation", SNOMED, "10828004", "positive"),
        ("marker.er", SNOMED, "260385009", "negative"),
        ("marker.her2_ish", LOINC, "LA6576-8", "amplified"),
        ("obs.cancer_disease_status", SNOMED, "271299001", "worsened"),
        ("score.ecog", LOINC, "LA9625-0", "3"),
        ("score.karnofsky", LOINC, "LA29175-9", "100"),
        ("marker.her2_interpretation", LOINC, "LA9625-0", None),
        ("obs.cancer_disease_status", LOINC, "LA6576-8", None),
    ],
)
def test_answer_category(
    library: ConceptLibrary, concept_id: str, system: str, code: str, category: str | None
) -> None:
    assert library.answer_category(concept_id, system, code) == category


def test_verified_codes_appear_in_the_code_reference(library: ConceptLibrary, shared_dir: Path) -> None:
    reference = (shared_dir / "domain" / "codes.md").read_text(encoding="utf-8")
    for concept_id in sorted(library.ids()):
        for entry in library.get(concept_id).codes:
            if entry.status in ("verified", "secondary"):
                assert entry.code in reference, f"{concept_id}: {entry.code} is marked {entry.status}"


# ------------------------------------------------------------------------------------------------------------
# Validation of crafted files

GOOD = """
  - id: lab.anc
    label: ANC
    kind: lab
    value_type: number
    unit: 10*3/uL
    codes:
      - {system: 'http://loinc.org', code: 751-8}
  - id: drug.class.anticancer
    label: Anticancer
    kind: drug_class
"""


def write(tmp_path: Path, body: str, name: str = "test.yaml", version: str = "'1'") -> Path:
    path = tmp_path / name
    path.write_text(f"version: {version}\nconcepts:\n{textwrap.dedent(body)}", encoding="utf-8")
    return path


def test_crafted_library_loads(tmp_path: Path) -> None:
    library = ConceptLibrary.load([write(tmp_path, GOOD)])
    assert library.ids() == {"lab.anc", "drug.class.anticancer"}
    assert library.version.startswith("1#")


def test_version_follows_content(tmp_path: Path) -> None:
    first = ConceptLibrary.load([write(tmp_path, GOOD)]).version
    changed = ConceptLibrary.load([write(tmp_path, GOOD.replace("label: ANC", "label: Neutrophils"))]).version
    assert first != changed and first.split("#")[0] == changed.split("#")[0]


BAD = [
    (GOOD.replace("http://loinc.org", "http://loinc.example"), "lab.anc", "unknown code system"),
    (GOOD.replace("    unit: 10*3/uL\n", ""), "lab.anc", "needs a canonical unit"),
    (
        GOOD + "    broader: [drug.class.anticancr]\n",
        "drug.class.anticancer",
        "Did you mean 'drug.class.anticancer'",
    ),
    (
        GOOD + "  - id: lab.neutrophils\n    label: N\n    kind: lab\n    value_type: number\n    unit: '%'\n"
        "    codes:\n      - {system: 'http://loinc.org', code: 751-8}\n",
        "lab.neutrophils",
        "also in 'lab.anc'",
    ),
    (
        GOOD + "    broader: [drug.class.other]\n  - id: drug.class.other\n    label: O\n    kind: drug_class\n"
        "    broader: [drug.class.anticancer]\n",
        "drug.class.anticancer",
        "cycle in broader",
    ),
    (GOOD + "  - id: lab.anc\n    label: again\n    kind: lab\n", "lab.anc", "also defined"),
    (GOOD.replace("kind: lab", "kind: labs"), "lab.anc", "kind"),
    (GOOD.replace("id: lab.anc", "id: ANC"), "ANC", "id"),
]


@pytest.mark.parametrize(("body", "concept_id", "problem"), BAD)
def test_invalid_files_name_file_and_concept(tmp_path: Path, body: str, concept_id: str, problem: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConceptError) as caught:
        ConceptLibrary.load([path])
    message = str(caught.value)
    assert str(path) in message and f"'{concept_id}'" in message and problem in message


def test_duplicate_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ConceptError, match=r"b\.yaml: concept 'lab\.anc' is also defined in .*a\.yaml"):
        ConceptLibrary.load([first, second])


@pytest.mark.parametrize("text", ["concepts: [", "- just a list", "concepts: []\n"])
def test_malformed_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConceptError, match=re.escape(str(path))):
        ConceptLibrary.load([path])


# ------------------------------------------------------------------------------------------------------------
# Site local maps

HEADER = "system,code,concept,unit_hint,note\n"
SITE = "http://hospital.example.org/lab"


def local_map(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "local.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_local_map_adds_site_codes(library: ConceptLibrary, tmp_path: Path) -> None:
    path = local_map(tmp_path, f"{SITE},NEUT,lab.anc,10*9/L,analyser ANC\n{SITE},KAD,drug.trastuzumab_emtansine,,\n")
    site = library.with_local_map(path)
    assert site.concepts_for_code(SITE, "NEUT") == ("lab.anc",)
    assert site.unit_hint(SITE, "NEUT") == "10*9/L"
    assert site.is_a(site.concepts_for_code(SITE, "KAD")[0], "drug.class.anti_her2")
    assert site.version.startswith(library.version + "+local#")
    assert library.concepts_for_code(SITE, "NEUT") == ()


def test_bundled_example_map_loads(library: ConceptLibrary) -> None:
    site = library.with_local_map(EXAMPLE_MAP)
    assert site.concepts_for_code("http://hospital.example.org/fhir/CodeSystem/lab", "CREA") == ("lab.creatinine",)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            f"{SITE},A,lab.anc,,\n{SITE},B,lab.ancc,,\n",
            r"line 3: unknown concept 'lab\.ancc'\. Did you mean 'lab\.anc'",
        ),
        (f"{SITE},A,lab.anc,mg/dL,\n", r"line 2: lab\.anc: cannot convert unit 'mg/dL'"),
        (f"{SITE},A,marker.er,%,\n", r"line 2: marker\.er is coded"),
        (f"{LOINC},751-8,lab.wbc,,\n", r"line 2: code http://loinc\.org\|751-8 is already mapped"),
        (f"{SITE},A,lab.anc,,\n{SITE},A,lab.wbc,,\n", "line 3: .* already mapped"),
        (",A,lab.anc,,\n", "line 2: system and code are required"),
    ],
)
def test_local_map_errors_name_the_line(library: ConceptLibrary, tmp_path: Path, rows: str, problem: str) -> None:
    with pytest.raises(ConceptError, match=problem):
        library.with_local_map(local_map(tmp_path, rows))


def test_local_map_needs_its_columns(library: ConceptLibrary, tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text("system,code\nx,y\n", encoding="utf-8")
    with pytest.raises(ConceptError, match="missing column"):
        library.with_local_map(path)
