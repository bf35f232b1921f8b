"""Recognising record codes: ICD-10-CM by hierarchy, SNOMED CT by value set, RxNorm products by ingredient,
drug classes, and the display-name fallback with its refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.terminology.concepts import ICD10CM, RXNORM, SNOMED, ConceptLibrary, default_library


@pytest.fixture(scope="module")
def library() -> ConceptLibrary:
    return default_library()


@pytest.mark.parametrize(
    ("code", "concept", "how"),
    [
        ("C43.9", "condition.malignancy", "hierarchy:icd-10-cm"),  # melanoma of skin: a malignancy
        ("C44.91", "condition.nonmelanoma_skin_cancer", "hierarchy:icd-10-cm"),  # basal cell carcinoma
        ("C4491", "condition.nonmelanoma_skin_cancer", "hierarchy:icd-10-cm"),  # written without its dot
        ("C79.31", "condition.metastasis.brain", "code"),
        ("C79.51", "condition.metastasis.bone", "code"),
        ("C50.912", "condition.breast_cancer", "hierarchy:icd-10-cm"),
        ("C18.7", "condition.malignancy", "hierarchy:icd-10-cm"),  # sigmoid colon
        ("C92.00", "condition.malignancy", "hierarchy:icd-10-cm"),  # acute myeloblastic leukaemia
        ("I21.4", "condition.myocardial_infarction", "hierarchy:icd-10-cm"),
    ],
)
def test_icd10cm_by_hierarchy(library: ConceptLibrary, code: str, concept: str, how: str) -> None:
    found = library.recognise(ICD10CM, code)
    assert found.concepts == (concept,)
    assert found.recognised_by == how


@pytest.mark.parametrize("code", ["D06.9", "D48.5", "D05.10", "C4", "Z85.3"])
def test_icd10cm_in_situ_uncertain_and_history_are_not_malignancies(library: ConceptLibrary, code: str) -> None:
    assert not any(library.is_a(c, "condition.malignancy") for c in library.recognise(ICD10CM, code).concepts)


@pytest.mark.parametrize(
    ("code", "concept"),
    [
        ("372244006", "condition.malignancy"),  # malignant melanoma
        ("363406005", "condition.malignancy"),  # malignant neoplasm of colon
        ("91861009", "condition.malignancy"),  # acute myeloid leukaemia
        ("94225005", "condition.metastasis.brain"),
        ("94381002", "condition.metastasis.liver"),
        ("392021009", "procedure.surgery"),  # lumpectomy of breast
        ("64368001", "procedure.surgery"),  # partial mastectomy
        ("69031006", "procedure.surgery"),  # excision of breast tissue
        ("447759004", "procedure.radiotherapy"),  # brachytherapy of breast
        ("33195004", "procedure.radiotherapy"),  # teleradiotherapy
    ],
)
def test_snomed_by_value_set(library: ConceptLibrary, code: str, concept: str) -> None:
    found = library.recognise(SNOMED, code)
    assert concept in found.concepts
    assert found.recognised_by in ("code",) or str(found.recognised_by).startswith("value_set:")


def test_a_radiotherapy_is_not_a_surgery_and_an_ablation_is_not_radiotherapy(library: ConceptLibrary) -> None:
    assert library.recognise(SNOMED, "447759004").concepts == ("procedure.radiotherapy",)
    assert "procedure.radiotherapy" not in library.recognise(SNOMED, "879916008").concepts  # radiofrequency ablation


@pytest.mark.parametrize(
    ("level", "code", "ingredients"),
    [
        ("IN", "224905", {"drug.trastuzumab"}),
        ("SCD", "583214", {"drug.paclitaxel"}),  # Paclitaxel 100 MG Injection
        ("SCD", "1790099", {"drug.doxorubicin"}),  # 10 ML Doxorubicin Hydrochloride 2 MG/ML Injection
        ("SBD", "1922512", {"drug.trastuzumab"}),  # Herceptin 150 MG Injection
        ("SBD", "1946840", {"drug.abemaciclib"}),  # Verzenio 100 MG Oral Tablet
        ("SBD", "1658086", {"drug.trastuzumab_emtansine"}),  # Trastuzumab Injection [KADCYLA]
        ("SCDG", "1162762", {"drug.trastuzumab"}),  # Trastuzumab Injectable Product
        ("SBDG", "1169113", {"drug.trastuzumab"}),  # Herceptin Injectable Product
        ("BN", "101306", {"drug.trastuzumab"}),  # Herceptin
        ("GPCK", "1000395", {"drug.conjugated_estrogens"}),  # {28 (estrogens, conjugated ... ) } Pack
        ("multi", "2119714", {"drug.trastuzumab"}),  # hyaluronidase-oysk / trastuzumab-oysk
        ("multi", "2382604", {"drug.trastuzumab", "drug.pertuzumab"}),  # hyaluronidase / pertuzumab / trastuzumab
        ("T-DXd", "2267576", {"drug.trastuzumab_deruxtecan"}),  # not also trastuzumab
    ],
)
def test_rxnorm_levels_to_ingredient(library: ConceptLibrary, level: str, code: str, ingredients: set[str]) -> None:
    found = library.recognise(RXNORM, code)
    assert set(found.concepts) == ingredients, level
    assert found.recognised_by in ("rxnorm", "code")


@pytest.mark.parametrize(
    ("drug", "drug_class"),
    [
        ("drug.trastuzumab", "drug.class.anti_her2_antibody"),
        ("drug.trastuzumab_deruxtecan", "drug.class.antibody_drug_conjugate"),
        ("drug.trastuzumab_emtansine", "drug.class.anti_her2"),
        ("drug.tucatinib", "drug.class.her2_tki"),
        ("drug.ribociclib", "drug.class.cdk46_inhibitor"),
        ("drug.epirubicin", "drug.class.anthracycline"),
        ("drug.paclitaxel", "drug.class.taxane"),
        ("drug.carboplatin", "drug.class.platinum"),
        ("drug.capecitabine", "drug.class.fluoropyrimidine"),
        ("drug.capecitabine", "drug.class.antimetabolite"),
        ("drug.letrozole", "drug.class.aromatase_inhibitor"),
        ("drug.tamoxifen", "drug.class.serm"),
        ("drug.fulvestrant", "drug.class.serd"),
        ("drug.goserelin", "drug.class.gnrh_agonist"),
        ("drug.alpelisib", "drug.class.pi3k_akt_mtor_inhibitor"),
        ("drug.pembrolizumab", "drug.class.checkpoint_inhibitor"),
        ("drug.dexamethasone", "drug.class.corticosteroid"),
        ("drug.apixaban", "drug.class.anticoagulant"),
        ("drug.clarithromycin", "drug.class.cyp3a_strong_inhibitor"),
        ("drug.rifampin", "drug.class.cyp3a_strong_inducer"),
        ("drug.estradiol", "drug.class.hormone_replacement"),
        ("drug.fulvestrant", "drug.class.endocrine"),
        ("drug.paclitaxel", "drug.class.anticancer"),
    ],
)
def test_drug_classes(library: ConceptLibrary, drug: str, drug_class: str) -> None:
    assert library.is_a(drug, drug_class)


@pytest.mark.parametrize(
    ("drug", "not_class"),
    [
        ("drug.trastuzumab_emtansine", "drug.class.chemotherapy"),
        ("drug.ethinyl_estradiol", "drug.class.hormone_replacement"),
        ("drug.fulvestrant", "drug.class.chemotherapy"),
    ],
)
def test_drug_class_refusals(library: ConceptLibrary, drug: str, not_class: str) -> None:
    assert not library.is_a(drug, not_class)


@pytest.mark.parametrize(
    ("display", "ingredients"),
    [
        ("Paclitaxel 100 MG Injection", ("drug.paclitaxel",)),
        ("fulvestrant Injectable Product", ("drug.fulvestrant",)),
        ("abemaciclib Oral Product", ("drug.abemaciclib",)),
        ("TUKYSA 150 mg tablets", ("drug.tucatinib",)),
        ("5 ML hyaluronidase-oysk 2000 UNT/ML / trastuzumab 120 MG/ML Injection", ("drug.trastuzumab",)),
        ("Fam-trastuzumab deruxtecan-nxki 100 MG Injection", ("drug.trastuzumab_deruxtecan",)),
        ("Trastuzumab biosimilar study drug", ("drug.trastuzumab",)),  # trastuzumab, not tucatinib
        ("Capecitabinex 500 MG", ()),  # a substring is not a word
        ("Medroxyprogesterone acetate 150 MG/ML Injection", ()),  # not progesterone
        ("Ethinyl Estradiol 0.03 MG / Levonorgestrel 0.15 MG Oral Tablet", ("drug.ethinyl_estradiol",)),
        ("hydrocortisone 10 MG/ML Topical Cream", ()),  # a local dose form is not a systemic steroid
        ("hydrocortisone 10 MG Oral Tablet", ("drug.hydrocortisone",)),
        ("Study drug ABC-123", ()),
    ],
)
def test_name_fallback(library: ConceptLibrary, display: str, ingredients: tuple[str, ...]) -> None:
    found = library.recognise(RXNORM, "0", display, by_name=True)
    assert found.concepts == tuple(sorted(ingredients))
    assert found.recognised_by == ("name" if ingredients else None)


def test_name_fallback_is_only_used_when_asked(library: ConceptLibrary) -> None:
    assert library.recognise(RXNORM, "0", "Paclitaxel 100 MG Injection").concepts == ()


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=20)
_DRUG_NAMES = sorted(
    {n for cid in default_library().ids() for n in default_library().get(cid).names if " " not in n and "-" not in n}
)


@given(name=st.sampled_from(_DRUG_NAMES), before=_WORDS, after=_WORDS)
def test_a_name_between_other_words_is_read(name: str, before: str, after: str) -> None:
    lib = default_library()
    expected = set(lib.ingredients_named(name))
    text = f"{before} {name.upper()} 10 MG {after}"
    assert expected <= set(lib.ingredients_named(text))


@given(name=st.sampled_from(_DRUG_NAMES), glue=st.sampled_from("abcxyz"))
def test_a_name_inside_a_longer_word_is_not_read(name: str, glue: str) -> None:
    lib = default_library()
    assert not set(lib.ingredients_named(name)) & set(lib.ingredients_named(f"{glue}{name}{glue} 10 MG"))
