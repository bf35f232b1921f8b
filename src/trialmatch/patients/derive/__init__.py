"""Derived clinical facts: every name in :mod:`trialmatch.rules.vocabulary`, computed from a PatientRecord.

``derive(name, args, record, as_of)`` answers a patient-scope name, ``derive_lesion`` a lesion-scope one.
Each answer is a :class:`DerivedValue` carrying its evidence, the rule set used, what is missing when the
value is unknown, and when the value will change by the passage of time alone. Facts dated after as-of are
never seen; nothing is cached between calls. See ``docs/derivations.md`` for every convention.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from trialmatch.errors import RuleError
from trialmatch.patients.derive import brain, demographics, her2, hormone, lesions, lines, pet, sites
from trialmatch.patients.derive.base import Context, DerivedValue, IsA, default_is_a
from trialmatch.patients.derive.performance import ecog
from trialmatch.patients.derive.progression import progression
from trialmatch.patients.derive.recist import recist
from trialmatch.patients.derive.timewindow import parse_duration, window_start
from trialmatch.patients.model import Lesion, PatientRecord
from trialmatch.rules.ast import Duration
from trialmatch.rules.vocabulary import lookup

__all__ = [
    "DerivedValue",
    "IsA",
    "derive",
    "derive_lesion",
    "parse_duration",
    "window_start",
]

Args = Mapping[str, str | None]


def _within(args: Args) -> Duration | None:
    text = args.get("within")
    return parse_duration(text) if text else None


def _need(args: Args, name: str) -> str:
    value = args.get(name)
    assert value is not None  # every choice argument has a default in the vocabulary
    return value


_PATIENT: dict[str, Callable[[Context, Args], DerivedValue]] = {
    "age": lambda ctx, a: demographics.age(ctx),
    "sex": lambda ctx, a: demographics.sex(ctx),
    "ecog": lambda ctx, a: ecog(ctx, _within(a)),
    "her2": lambda ctx, a: her2.her2(ctx, _need(a, "specimen")),
    "her2_low": lambda ctx, a: her2.her2_low(ctx, _need(a, "specimen")),
    "er": lambda ctx, a: hormone.receptor_status(ctx, "ER", _need(a, "specimen")),
    "pr": lambda ctx, a: hormone.receptor_status(ctx, "PR", _need(a, "specimen")),
    "lines": lambda ctx, a: lines.lines(ctx, _need(a, "setting"), a.get("drug")),
    "recist": lambda ctx, a: recist(ctx, _need(a, "which")),
    "metastatic": lambda ctx, a: sites.metastatic(ctx),
    "stage": lambda ctx, a: sites.stage_group(ctx),
    "measurable_disease": lambda ctx, a: lesions.measurable_disease(ctx),
    "bone_only": lambda ctx, a: sites.only(ctx, "bone"),
    "brain_only": lambda ctx, a: sites.only(ctx, "brain"),
    "visceral_disease": lambda ctx, a: sites.visceral_disease(ctx),
    "brain_metastases": lambda ctx, a: brain.brain_metastases_status(ctx, _need(a, "status")),
    "progression": lambda ctx, a: progression(ctx, _within(a)),
    "childbearing_potential": lambda ctx, a: demographics.childbearing_potential(ctx),
    "postmenopausal": lambda ctx, a: demographics.postmenopausal(ctx),
    "pregnant": lambda ctx, a: demographics.pregnant(ctx),
    "breastfeeding": lambda ctx, a: demographics.breastfeeding(ctx),
}

_LESION: dict[str, Callable[[Context, Lesion, Args], DerivedValue]] = {
    "diameter": lambda ctx, lesion, a: lesions.diameter(ctx, lesion),
    "measurable": lambda ctx, lesion, a: lesions.measurable(ctx, lesion),
    "irradiated": lambda ctx, lesion, a: lesions.irradiated(ctx, lesion),
    "confluent": lambda ctx, lesion, a: lesions.confluent(lesion),
    "visceral": lambda ctx, lesion, a: lesions.location_flag(ctx, lesion, "visceral"),
    "nodal": lambda ctx, lesion, a: lesions.location_flag(ctx, lesion, "nodal"),
    "bone": lambda ctx, lesion, a: lesions.location_flag(ctx, lesion, "bone"),
    "suv_ratio": lambda ctx, lesion, a: pet.suv_ratio(ctx, lesion, _need(a, "reference"), _need(a, "tracer")),
}


def _arguments(name: str, scope: str, args: Mapping[str, str]) -> dict[str, str | None]:
    """The call's arguments with vocabulary defaults filled in; unknown names raise KeyError."""
    spec = lookup(name)
    if spec is None or spec.scope != scope:
        raise KeyError(name)
    extra = sorted(set(args) - {a.name for a in spec.arguments})
    if extra:
        raise RuleError(f"derived fact '{name}' has no argument '{extra[0]}'")
    resolved = {a.name: args.get(a.name, a.default) for a in spec.arguments}
    for a in spec.arguments:
        value = resolved[a.name]
        if a.choices and value not in a.choices:
            raise RuleError(f"argument '{a.name}' of '{name}' must be one of {', '.join(a.choices)}")
        if a.is_duration and value:
            parse_duration(value)
    return resolved


def derive(
    name: str, args: Mapping[str, str], record: PatientRecord, as_of: dt.date, *, is_a: IsA | None = None
) -> DerivedValue:
    """The patient-scope derived fact ``name`` for ``record`` as of ``as_of``."""
    return derive_in(Context.build(record, as_of, is_a or default_is_a()), name, args)


def derive_in(ctx: Context, name: str, args: Mapping[str, str]) -> DerivedValue:
    """``derive`` in a context already built: a store derives dozens of facts per patient from one view."""
    return _PATIENT[name](ctx, _arguments(name, "patient", args))


def derive_lesion(
    name: str,
    args: Mapping[str, str],
    lesion: Lesion,
    record: PatientRecord,
    as_of: dt.date,
    *,
    is_a: IsA | None = None,
) -> DerivedValue:
    """The lesion-scope derived fact ``name`` for one of the record's lesions."""
    return derive_lesion_in(Context.build(record, as_of, is_a or default_is_a()), name, lesion, args)


def derive_lesion_in(ctx: Context, name: str, lesion: Lesion, args: Mapping[str, str]) -> DerivedValue:
    """``derive_lesion`` in a context already built (one per patient)."""
    return _LESION[name](ctx, lesion, _arguments(name, "lesion", args))
