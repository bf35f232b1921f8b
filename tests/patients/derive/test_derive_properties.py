"""Properties: fact order never matters, and facts dated after as-of never change a derived value."""

from __future__ import annotations

import datetime as dt

from derive_factory import AS_OF, coded, condition, lesion, measure, med, procedure, record, snomed
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.patients.derive import DerivedValue, derive, derive_lesion
from trialmatch.patients.model import PatientRecord
from trialmatch.rules.vocabulary import DERIVED

LESIONS = (lesion("L1", site="10200004"), lesion("L2", site="39607008"), lesion("N1", is_lymph_node=True))
MAX, MEAN = snomed("56851009"), snomed("373098007")

POOL = (
    coded("marker.her2_ihc", "2019-03-01", "2+", specimen="P", specimen_site="primary", source="Observation/ihc-p"),
    measure("marker.her2_ish_ratio", "2019-03-05", 2.1, specimen="P", source="Observation/ratio-p"),
    measure("marker.her2_copy_number", "2019-03-05", 4.4, specimen="P", source="Observation/cn-p"),
    coded("marker.her2_ihc", "2023-02-01", "1+", specimen="M", specimen_site="metastatic", source="Observation/ihc-m"),
    coded("marker.her2_ihc", "2023-02-01", "3+", source="Observation/ihc-x"),
    measure("marker.er_percent", "2019-03-01", 5, specimen="P", source="Observation/er-p"),
    coded("marker.pr", "2019-03-01", "Negative", specimen="P", source="Observation/pr-p"),
    measure("score.ecog", "2024-05-10", 1, source="Observation/ecog-1"),
    measure("score.karnofsky", "2024-05-10", 70, source="Observation/kps-1"),
    measure("score.ecog", "2023-01-10", 0, source="Observation/ecog-0"),
    condition("condition.breast_cancer", "2019-02-20", source="Condition/bc"),
    condition("condition.metastasis.liver", "2022-11-01", source="Condition/liver"),
    condition("condition.metastasis.brain", "2023-03-01", source="Condition/brain"),
    condition("condition.metastasis.bone", "2022-11-01", clinical_status="remission", source="Condition/bone"),
    med(["drug.doxorubicin", "drug.cyclophosphamide"], "2019-04-01", "2019-06-01", source="Med/ac"),
    med(["drug.paclitaxel", "drug.trastuzumab"], "2019-06-20", "2020-06-01", source="Med/th"),
    med(["drug.docetaxel", "drug.trastuzumab", "drug.pertuzumab"], "2022-11-20", "2023-08-01", source="Med/thp"),
    med("drug.trastuzumab_deruxtecan", "2023-09-01", status="active", record_type="request", source="Med/tdxd"),
    med("drug.dexamethasone", "2024-05-01", status="active", source="Med/dex"),
    procedure("procedure.biopsy", "2019-02-25", source="Procedure/biopsy"),
    procedure("procedure.brain_radiotherapy", "2023-03-20", source="Procedure/srs"),
    procedure("procedure.radiotherapy", "2023-01-05", focus=("L2",), source="Procedure/rt"),
    procedure("procedure.pet_fdg", "2024-04-01", source="Procedure/pet-1"),
    measure("imaging.suv", "2024-04-01", 7.5, focus="L1", method=MAX, part_of="pet-1", source="Observation/suv-l1"),
    measure("imaging.suv", "2024-04-01", 2.5, method=MEAN, body_site=snomed("10200004"), part_of="pet-1",
            source="Observation/suv-liver"),
    measure("imaging.tumor_size", "2022-11-05", 40, focus="L1", source="Observation/l1-a"),
    measure("imaging.tumor_size", "2022-11-05", 22, focus="L2", source="Observation/l2-a"),
    measure("imaging.tumor_size", "2022-11-05", 18, focus="N1", source="Observation/n1-a"),
    measure("imaging.tumor_size", "2023-08-10", 20, focus="L1", source="Observation/l1-b"),
    measure("imaging.tumor_size", "2023-08-10", 25, focus="L2", source="Observation/l2-b"),
    measure("imaging.tumor_size", "2024-05-02", 30, focus="L1", source="Observation/l1-c"),
    measure("imaging.tumor_size", "2024-05-02", 12, focus="L3", source="Observation/l3-c"),
    coded("obs.cancer_disease_status", "2023-08-12", "Worsened", source="Observation/cds-1"),
    coded("obs.cancer_disease_status", "2024-05-05", "Stable", focus="brain", source="Observation/cds-2"),
    coded("lab.hcg_serum", "2024-05-28", "Negative", source="Observation/hcg"),
    measure("score.ecog", "2024-05-20", 9, flags=("implausible",), source="Observation/ecog-bad"),
)  # fmt: skip


def _calls() -> list[tuple[str, str, dict[str, str]]]:
    calls = []
    for spec in DERIVED:
        variants: list[dict[str, str]] = [{}]
        for arg in spec.arguments:
            if arg.choices:
                variants += [{arg.name: choice} for choice in arg.choices]
            elif arg.name == "within":
                variants += [{"within": "28d"}, {"within": "6mo"}]
            else:
                variants += [{arg.name: "drug.class.anti_her2"}]
        calls += [(spec.scope, spec.name, args) for args in variants]
    return calls


CALLS = _calls()


def _everything(rec: PatientRecord, as_of: dt.date = AS_OF) -> list[DerivedValue]:
    out = []
    for scope, name, args in CALLS:
        if scope == "patient":
            out.append(derive(name, args, rec, as_of))
        else:
            out += [derive_lesion(name, args, item, rec, as_of) for item in rec.lesions]
    return out


def _shifted(fact: object, days: int) -> object:
    """The fact moved to ``days`` after as-of (every date field)."""
    later = AS_OF + dt.timedelta(days=days)
    fields = {"date", "onset", "start", "recorded"} & set(type(fact).model_fields)
    update = {name: later for name in fields if getattr(fact, name) is not None}
    if getattr(fact, "end", None) is not None:
        update["end"] = later + dt.timedelta(days=30)
    return fact.model_copy(update={**update, "source": f"{fact.source}-future"})


facts = st.lists(st.sampled_from(POOL), unique_by=lambda f: f.source, min_size=1, max_size=len(POOL))


@settings(max_examples=25, deadline=None)
@given(chosen=facts, data=st.data())
def test_fact_order_changes_no_derived_value(chosen: list, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(chosen))
    assert _everything(record(*chosen, lesions=LESIONS)) == _everything(record(*shuffled, lesions=LESIONS))


@settings(max_examples=25, deadline=None)
@given(chosen=facts, future=st.lists(st.tuples(st.sampled_from(POOL), st.integers(1, 400)), max_size=8))
def test_facts_after_as_of_never_change_a_value(chosen: list, future: list) -> None:
    later = {f.source: f for f in (_shifted(fact, days) for fact, days in future)}
    base = record(*chosen, lesions=LESIONS)
    assert _everything(base) == _everything(record(*chosen, *later.values(), lesions=LESIONS))
