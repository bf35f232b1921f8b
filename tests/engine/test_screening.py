"""Screening one patient against a trial: verdicts, eligible-from, valid-until, answers, exceptions, staleness."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from trialmatch.engine.answers import SiteAnswer, SiteAnswers, load_answers
from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import TrialOutcome
from trialmatch.engine.ranking import rank, select_trials
from trialmatch.engine.screening import screen_patient, screen_trial
from trialmatch.errors import InputError
from trialmatch.patients.model import ConditionFact, Measurement, MedicationFact, PatientRecord, ProcedureFact
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.rulefile import read_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.model import Criterion, CriterionType, Site, Trial, TrialSource, criterion_text_hash

AS_OF = dt.date(2026, 3, 1)
INC, EXC = CriterionType.INCLUSION, CriterionType.EXCLUSION
TEXTS = {
    "inc-1": (INC, "Age 18 years or older"),
    "inc-2": (INC, "LVEF of at least 50% measured within 28 days"),
    "inc-3": (INC, "Signed informed consent"),
    "inc-4": (INC, "Adequate organ function: ANC >= 1.5 x 10^9/L and creatinine <= 1.5 x ULN"),
    "inc-5": (INC, "A criterion nobody has written a rule for"),
    "exc-1": (EXC, "Lapatinib within 15 days before enrolment"),
    "exc-2": (EXC, "Active brain metastases"),
    "exc-3": (EXC, "Brain metastases treated with radiotherapy are allowed"),
    "exc-4": (EXC, "Myocardial infarction or unstable angina within 6 months"),
}
RULES = {
    "inc-1": ("computable", "rule: age >= 18"),
    "inc-2": ("computable", "rule: latest(obs.lvef, within=28d) >= 50 %"),
    "inc-3": ("review", 'rule: review("Signed informed consent")'),
    "inc-4": (
        "computable",
        "parts:\n"
        "      - id: inc-4/anc\n        label: ANC\n        rule: latest(lab.anc, within=28d) >= 1.5 10*3/uL\n"
        "      - id: inc-4/creatinine\n        label: Creatinine\n"
        "        rule: latest(lab.creatinine, within=28d) <= 1.5 x ULN",
    ),
    "exc-1": ("computable", "rule: drug(drug.lapatinib, within=15d)"),
    "exc-2": ("computable", "rule: condition(condition.metastasis.brain, active)"),
    "exc-3": ("computable", "qualifies: exc-2\n    rule: procedure(procedure.brain_radiotherapy)"),
    "exc-4": (
        "computable",
        "parts:\n"
        "      - id: exc-4/mi\n        label: MI\n"
        "        rule: condition(condition.myocardial_infarction, within=6mo)\n"
        "      - id: exc-4/angina\n        label: Unstable angina\n"
        "        rule: condition(condition.unstable_angina, within=6mo)",
    ),
}


def make_trial(texts: dict[str, tuple[CriterionType, str]] = TEXTS, **fields: object) -> Trial:
    criteria = tuple(Criterion(id=cid, type=ctype, text=text) for cid, (ctype, text) in texts.items())
    values: dict[str, object] = {"trial_id": "NCT00000001", "title": "A test trial", "criteria": criteria}
    values.update(fields)
    return Trial(source=TrialSource(format="test"), **values)  # type: ignore[arg-type]


def rule_file_bytes() -> bytes:
    lines = [
        "rules_schema: 1",
        "trial_id: NCT00000001",
        'version: "1"',
        "source: test",
        "curated_by: tests",
        "criteria:",
    ]
    for cid, (computability, body) in RULES.items():
        text = TEXTS[cid][1]
        lines += [
            f"  - id: {cid}",
            f'    text: "{text}"',
            f'    text_hash: "{criterion_text_hash(text)}"',
            f"    computability: {computability}",
            f"    {body}",
        ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def bound() -> TrialRules:
    rules = read_rule_file(rule_file_bytes(), name="test.rules.yaml", concepts=default_library().ids())
    return TrialRules(trial=make_trial(), rules=rules)


def measurement(concept: str, value: float, unit: str, days_ago: int, high: float | None = None) -> Measurement:
    return Measurement(
        concept=concept,
        value=value,
        unit=unit,
        high=high,
        date=AS_OF - dt.timedelta(days=days_ago),
        source=f"Observation/{concept}",
    )


def patient(*facts: object, born: dt.date = dt.date(1970, 5, 2)) -> PatientRecord:
    return PatientRecord(
        patient_id="p1",
        birth_date=born,
        sex="female",
        measurements=tuple(f for f in facts if isinstance(f, Measurement)),
        conditions=tuple(f for f in facts if isinstance(f, ConditionFact)),
        medications=tuple(f for f in facts if isinstance(f, MedicationFact)),
        procedures=tuple(f for f in facts if isinstance(f, ProcedureFact)),
    )


FIT = (
    measurement("obs.lvef", 60, "%", 10),
    measurement("lab.anc", 3.2, "10*3/uL", 5),
    measurement("lab.creatinine", 0.8, "mg/dL", 5, high=1.1),
    ConditionFact(concept="condition.hypertension", onset=dt.date(2015, 1, 1), source="Condition/htn"),
    MedicationFact(
        concepts=("drug.trastuzumab",), record_type="administration", start=dt.date(2025, 1, 1), source="Med/t"
    ),
)
CONSENT = SiteAnswers(
    answers=(
        SiteAnswer(trial_id="NCT00000001", criterion_id="inc-3", status=Status.MET, by="Dr A", date=AS_OF),
        SiteAnswer(trial_id="NCT00000001", criterion_id="inc-5", status=Status.MET, by="Dr A", date=AS_OF),
    )
)


def screen(bound: TrialRules, record: PatientRecord, answers: SiteAnswers | None = None) -> TrialOutcome:
    return screen_trial(record, bound, AS_OF, answers or SiteAnswers())


def by_id(outcome: TrialOutcome, cid: str) -> Status:
    return next(c.status for c in outcome.criteria if c.id == cid)


def test_possible_with_an_unruled_criterion_and_review_listed(bound: TrialRules) -> None:
    outcome = screen(bound, patient(*FIT))
    assert outcome.verdict == "possible"
    assert by_id(outcome, "inc-5") is Status.UNKNOWN
    assert outcome.needs_review == ("inc-3",)
    assert outcome.failed == ()
    assert "a rule (or a site answer) for inc-5" in outcome.missing


def test_answers_turn_possible_into_eligible_and_say_who(bound: TrialRules) -> None:
    outcome = screen(bound, patient(*FIT), CONSENT)
    assert outcome.verdict == "eligible"
    answered = {c.id: c.answered_by for c in outcome.criteria if c.answered_by}
    assert answered == {"inc-3": f"Dr A on {AS_OF.isoformat()}", "inc-5": f"Dr A on {AS_OF.isoformat()}"}


def test_valid_until_is_when_the_lvef_ages_out_of_its_window(bound: TrialRules) -> None:
    outcome = screen(bound, patient(*FIT), CONSENT)
    # LVEF taken 10 days before as-of stays within 28 days for 18 more days; the labs (5 days old) for 23.
    assert outcome.valid_until == AS_OF + dt.timedelta(days=19)


def test_washout_gives_ineligible_with_an_eligible_from_date(bound: TrialRules) -> None:
    last_dose = AS_OF - dt.timedelta(days=10)
    lapatinib = MedicationFact(
        concepts=("drug.lapatinib",), record_type="administration", start=last_dose, source="Med/lap"
    )
    outcome = screen(bound, patient(*FIT, lapatinib), CONSENT)
    assert outcome.verdict == "ineligible"
    assert outcome.failed == ("exc-1",)
    assert outcome.eligible_from == last_dose + dt.timedelta(days=16)
    assert outcome.valid_until is None


def test_a_failure_that_time_does_not_cure_has_no_eligible_from(bound: TrialRules) -> None:
    low_lvef = measurement("obs.lvef", 40, "%", 3)
    outcome = screen(bound, patient(low_lvef, *FIT[1:]), CONSENT)
    assert outcome.failed == ("inc-2",)
    assert outcome.eligible_from is None


def test_exception_lifts_the_exclusion_it_qualifies(bound: TrialRules) -> None:
    brain = ConditionFact(
        concept="condition.metastasis.brain",
        category="secondary-cancer",
        clinical_status="active",
        onset=dt.date(2025, 6, 1),
        source="Condition/brain",
    )
    radiotherapy = ProcedureFact(
        concept="procedure.brain_radiotherapy", start=dt.date(2025, 7, 1), source="Procedure/srs"
    )
    # With no procedure history at all, whether the metastases were treated is unknown, not "no".
    assert by_id(screen(bound, patient(*FIT, brain)), "exc-2") is Status.UNKNOWN
    biopsy = ProcedureFact(concept="procedure.biopsy", start=dt.date(2025, 5, 1), source="Procedure/bx")
    assert by_id(screen(bound, patient(*FIT, brain, biopsy)), "exc-2") is Status.MET
    treated = screen(bound, patient(*FIT, brain, radiotherapy))
    assert by_id(treated, "exc-2") is Status.NOT_MET
    exception = next(c for c in treated.criteria if c.id == "exc-3")
    assert exception.status is Status.NOT_MET and "exc-2" in exception.reason


def test_exclusion_parts_are_alternatives_and_old_events_do_not_count(bound: TrialRules) -> None:
    recent_mi = ConditionFact(
        concept="condition.myocardial_infarction", onset=AS_OF - dt.timedelta(days=40), source="Condition/mi"
    )
    outcome = screen(bound, patient(*FIT, recent_mi))
    exc4 = next(c for c in outcome.criteria if c.id == "exc-4")
    assert exc4.status is Status.MET
    assert {p.id: p.status for p in exc4.parts} == {"exc-4/mi": Status.MET, "exc-4/angina": Status.NOT_MET}
    assert outcome.eligible_from == dt.date(2026, 7, 21)  # six calendar months after 2026-01-20, plus a day
    old_mi = recent_mi.model_copy(update={"onset": dt.date(2022, 1, 1)})
    assert by_id(screen(bound, patient(*FIT, old_mi)), "exc-4") is Status.NOT_MET


def test_inclusion_parts_must_all_hold_and_missing_says_what(bound: TrialRules) -> None:
    outcome = screen(bound, patient(*FIT[:2], *FIT[3:]))  # no creatinine
    inc4 = next(c for c in outcome.criteria if c.id == "inc-4")
    assert inc4.status is Status.UNKNOWN
    assert [p.status for p in inc4.parts] == [Status.MET, Status.UNKNOWN]
    assert any("creatinine" in m.lower() for m in outcome.missing)


def test_stale_rule_is_unknown_and_reported() -> None:
    rules = read_rule_file(rule_file_bytes(), name="test.rules.yaml")
    changed = dict(TEXTS, **{"inc-1": (INC, "Age 21 years or older")})
    outcome = screen(TrialRules(trial=make_trial(changed), rules=rules), patient(*FIT), CONSENT)
    assert by_id(outcome, "inc-1") is Status.UNKNOWN
    assert outcome.stale_rules == ("inc-1",)
    assert outcome.verdict == "possible"


def test_an_answer_never_silently_overrides_the_records(bound: TrialRules) -> None:
    disagree = SiteAnswers(
        answers=(SiteAnswer(trial_id="NCT00000001", criterion_id="inc-2", status=Status.NOT_MET, by="Dr B"),)
    )
    inc2 = next(c for c in screen(bound, patient(*FIT), disagree).criteria if c.id == "inc-2")
    assert inc2.status is Status.MET
    assert "disagrees with the records" in inc2.reason


def test_no_rules_at_all_makes_every_criterion_unknown_never_review() -> None:
    outcome = screen(TrialRules(trial=make_trial(), rules=None), patient(*FIT))
    assert {c.status for c in outcome.criteria} == {Status.UNKNOWN}
    assert outcome.verdict == "possible"


def test_ranking_puts_eligible_first_and_open_trials_before_closed(bound: TrialRules) -> None:
    closed = TrialRules(trial=make_trial(trial_id="NCT00000002", recruitment_status="COMPLETED"), rules=bound.rules)
    open_ = TrialRules(trial=make_trial(trial_id="NCT00000003", recruitment_status="RECRUITING"), rules=bound.rules)
    unruled = TrialRules(trial=make_trial(trial_id="NCT00000004"), rules=None)
    outcome = screen_patient(patient(*FIT), [unruled, closed, open_], AS_OF)
    assert [t.trial_id for t in outcome.trials] == ["NCT00000003", "NCT00000002", "NCT00000004"]
    assert [t.verdict for t in rank(reversed(outcome.trials))] == ["possible", "possible", "possible"]


def test_recruitment_filters_keep_trials_whose_status_or_sites_are_unstated() -> None:
    trials = [
        make_trial(trial_id="A", recruitment_status="RECRUITING", sites=(Site(country="Netherlands"),)),
        make_trial(trial_id="B", recruitment_status="COMPLETED", sites=(Site(country="Netherlands"),)),
        make_trial(trial_id="C", recruitment_status=None),
        make_trial(trial_id="D", recruitment_status="RECRUITING", sites=(Site(country="France"),)),
    ]
    assert [t.trial_id for t in select_trials(trials, recruiting_only=True)] == ["A", "C", "D"]
    assert [t.trial_id for t in select_trials(trials, country="netherlands")] == ["A", "B", "C"]


def test_result_json_follows_the_contract(bound: TrialRules, shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "contracts" / "screening-result.schema.json").read_text())
    outcome = screen_patient(patient(*FIT), [bound], AS_OF, CONSENT, concepts_version="test")
    document = outcome.to_json_dict()
    jsonschema.validate(document, schema)
    assert document["as_of"] == AS_OF.isoformat()
    assert document["trials"][0]["rules_version"].startswith("1+")


def test_answers_file_errors_name_the_entry(tmp_path: Path) -> None:
    good = tmp_path / "answers.yaml"
    good.write_text("- {trial_id: NCT1, criterion_id: inc-3, status: met, by: Dr A, date: 2026-01-02}\n")
    assert load_answers(good).answers[0].answered_by == "Dr A on 2026-01-02"
    bad = tmp_path / "bad.json"
    bad.write_text('[{"trial_id": "NCT1", "criterion_id": "inc-3", "status": "maybe", "by": "x"}]')
    with pytest.raises(InputError, match=r"answer 1 is invalid \(check: status\)"):
        load_answers(bad)


def test_answers_file_errors_never_quote_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "answers.yaml"
    broken.write_text("- {trial_id: NCT1, note: viral load 12345 copies\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_answers(broken)
    assert "12345" not in str(caught.value) and "line" in str(caught.value)
    binary = tmp_path / "answers.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InputError, match="UTF-8"):
        load_answers(binary)
