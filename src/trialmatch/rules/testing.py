"""Hypothesis strategies for valid rule trees, for round-trip and differential tests (evaluator vs SQL).

Kept in the package (not under ``tests/``) so any test folder can import it without the tests becoming a
package; Hypothesis is a development dependency and is imported only when a strategy is built.
Every tree drawn is one the parser accepts: names, arguments and categories come from the vocabulary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trialmatch.rules.ast import (
    All,
    Any,
    Category,
    CategorySet,
    Compare,
    Condition,
    CountLesions,
    Derived,
    Duration,
    Extreme,
    Flag,
    Has,
    Latest,
    Not,
    Quantity,
    Review,
    Threshold,
    Timing,
    UlnMultiple,
    Unknown,
    Unless,
    When,
)
from trialmatch.rules.vocabulary import DERIVED, Argument, DerivedName

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MEASURED = ("lab.anc", "lab.creatinine", "lab.bilirubin_total", "obs.lvef", "vital.bp_systolic", "score.ecog")
EVENTS = {
    "condition": ("condition.metastasis.brain", "condition.gilbert_syndrome", "condition.malignancy"),
    "drug": ("drug.lapatinib", "drug.class.anti_her2", "drug.class.chemotherapy"),
    "procedure": ("procedure.major_surgery", "procedure.radiotherapy"),
}
UNITS = ("mg/dL", "10*3/uL", "%", "{ratio}", "mm[Hg]", "U/L", "mL/min", "g/dL", "10*9/L", "{SUVbw}g/mL")
REASONS = ("Signed informed consent", 'Patient "agrees"', "back\\slash", "≥ 18 years, per investigator")


def rule_trees(max_leaves: int = 12) -> SearchStrategy[Condition]:
    """Valid patient-level conditions, nested up to ``max_leaves`` leaves."""
    from hypothesis import strategies as st

    leaves = st.one_of(_compares("patient"), _flags("patient"), _has(), _reasoned())
    return st.recursive(leaves, _combinators, max_leaves=max_leaves)


def _combinators(children: SearchStrategy[Condition]) -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    items = st.lists(children, min_size=1, max_size=4).map(tuple)
    return st.one_of(
        items.map(lambda i: All(items=i)),
        items.map(lambda i: Any(items=i)),
        children.map(lambda c: Not(item=c)),
        st.builds(When, condition=children, then=children, otherwise=st.none() | children),
        st.builds(Unless, rule=children, exception=children),
    )


def _lesion_conditions() -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    leaves = st.one_of(_compares("lesion"), _flags("lesion"))
    return st.recursive(
        leaves, lambda c: st.lists(c, min_size=1, max_size=3).map(lambda i: All(items=tuple(i))), max_leaves=4
    )


def _names(type_: str, scope: str) -> list[DerivedName]:
    return [d for d in DERIVED if d.scope == scope and (d.type == type_ or (type_ == "value" and d.type != "boolean"))]


def _args(entry: DerivedName) -> SearchStrategy[tuple[tuple[str, str], ...]]:
    from hypothesis import strategies as st

    def value(argument: Argument) -> SearchStrategy[str]:
        if argument.is_concept:
            return st.sampled_from(EVENTS[argument.name])
        if argument.is_duration:
            return _durations().map(lambda d: f"{d.amount}{d.unit}")
        return st.sampled_from(argument.choices)

    pairs = [st.tuples(st.just(a.name), value(a)) for a in entry.arguments]
    return (
        st.lists(st.one_of(pairs), unique_by=lambda kv: kv[0], max_size=len(pairs)).map(tuple) if pairs else st.just(())
    )


def _flags(scope: str) -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    entries = st.sampled_from(_names("boolean", scope))
    return entries.flatmap(lambda e: _args(e).map(lambda a: Flag(name=e.name, args=a)))


def _compares(scope: str) -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    derived = st.sampled_from(_names("value", scope)).flatmap(_derived_compare)
    if scope == "lesion":
        return derived
    return st.one_of(derived, _measured_compare(), _count_compare())


def _derived_compare(entry: DerivedName) -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    value = _args(entry).map(lambda a: Derived(name=entry.name, args=a))
    thresholds: SearchStrategy[tuple[str, Threshold]]
    if entry.type == "category":
        one = st.builds(Category, value=st.sampled_from(entry.categories))
        some = st.lists(st.sampled_from(entry.categories), min_size=1, unique=True).map(tuple)
        thresholds = st.one_of(
            st.tuples(st.sampled_from(["==", "!="]), one),
            st.tuples(st.just("in"), st.builds(CategorySet, values=some)),
        )
    else:
        unit = st.just(entry.unit) | st.none() if entry.unit else st.none()
        thresholds = st.tuples(_numeric_ops(), st.builds(Quantity, value=_numbers(), unit=unit))
    return st.builds(lambda v, t: Compare(value=v, op=t[0], threshold=t[1]), value, thresholds)


def _measured_compare() -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    within = st.none() | _durations()
    latest = st.builds(Latest, concept=st.sampled_from(MEASURED), within=within)
    extreme = st.builds(
        Extreme, function=st.sampled_from(["min", "max"]), concept=st.sampled_from(MEASURED), within=within
    )
    threshold = st.one_of(
        st.builds(Quantity, value=_numbers(), unit=st.none() | st.sampled_from(UNITS)),
        st.builds(UlnMultiple, factor=_numbers()),
    )
    return st.builds(Compare, value=latest | extreme, op=_numeric_ops(), threshold=threshold)


def _count_compare() -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    count = st.builds(CountLesions, where=st.none() | _lesion_conditions())
    return st.builds(Compare, value=count, op=_numeric_ops(), threshold=st.builds(Quantity, value=_numbers()))


def _has() -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    def build(domain: str) -> SearchStrategy[Condition]:
        exceptions = (
            st.lists(st.sampled_from(EVENTS["condition"]), max_size=2).map(tuple)
            if domain == "condition"
            else st.just(())
        )
        setting = st.none() | st.sampled_from(["metastatic", "adjuvant"]) if domain == "drug" else st.none()
        concept = st.sampled_from(EVENTS[domain])
        return st.builds(
            Has,
            domain=st.just(domain),
            concept=concept,
            timing=_timings(),
            exceptions=exceptions,
            setting=setting,
        )

    return st.sampled_from(sorted(EVENTS)).flatmap(build)


def _timings() -> SearchStrategy[Timing]:
    from hypothesis import strategies as st

    windowed = st.builds(Timing, mode=st.sampled_from(["within", "before"]), duration=_durations())
    continuous = st.builds(Timing, mode=st.just("continuous"), duration=_durations(), max_gap=st.none() | _durations())
    return st.one_of(st.just(Timing()), st.just(Timing(mode="active")), windowed, continuous)


def _reasoned() -> SearchStrategy[Condition]:
    from hypothesis import strategies as st

    printable = st.text(st.characters(min_codepoint=32, blacklist_categories=["Cc", "Cs"]), max_size=30)
    reasons = st.sampled_from(REASONS) | printable
    return st.builds(Review, reason=reasons) | st.builds(Unknown, reason=reasons)


def _durations() -> SearchStrategy[Duration]:
    from hypothesis import strategies as st

    return st.builds(Duration, amount=st.integers(0, 120), unit=st.sampled_from(["d", "w", "mo", "y"]))


def _numbers() -> SearchStrategy[float]:
    from hypothesis import strategies as st

    return st.sampled_from([1.5, 2.0, 100000.0, 0.1, 18.0]) | st.floats(allow_nan=False, allow_infinity=False)


def _numeric_ops() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    return st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
