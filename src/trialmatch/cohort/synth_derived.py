"""The derived values a synthetic cohort's facts entail, vectorised: what ``trialmatch.patients.derive`` makes of
the same patients' FHIR records (``tests/cohort/test_synth_store.py`` checks they agree).

Not modelled, so unknown (NULL) in the direct store: ER and PR status, HER2 on a metastatic specimen (the
synthetic results name no specimen, and a result that names none is presumed primary only when it predates
the first metastasis), RECIST response, progression and measurable disease; the FHIR
records carry nothing that decides them either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from trialmatch.cohort.calls import Call, parse_key
from trialmatch.cohort.synth_store import Derived
from trialmatch.patients.derive.bodysites import VISCERAL
from trialmatch.patients.derive.demographics import NCCN_AGE, PREMENOPAUSAL_BELOW
from trialmatch.patients.derive.timewindow import window_start
from trialmatch.terminology.concepts import default_library

if TYPE_CHECKING:
    from trialmatch.cohort.synth import Cohort

Args = Mapping[str, str]


def _flag(values: np.ndarray, known: np.ndarray | None = None) -> Derived:
    return Derived(np.asarray(values, dtype=bool), known)


def _ecog(c: Cohort, args: Args) -> Derived:
    """The latest ECOG (the only one), unknown when it is older than the ``within`` window."""
    within = args.get("within")
    known = None if not within else c.lab_date >= np.datetime64(window_start(c.as_of, within).isoformat())
    return Derived(c.ecog.astype(float), known)


def _her2_known(c: Cohort, args: Args) -> np.ndarray | None:
    """Where HER2 of the asked specimen is known: the results name no specimen and are dated at diagnosis, so
    they are from the primary when the disease was not yet metastatic then; None when never known."""
    specimen = args.get("specimen")
    if specimen == "metastatic":
        return None
    return np.asarray(c.diagnosed < c.metastatic) if specimen == "primary" else np.ones(len(c.ids), dtype=bool)


def _her2(c: Cohort, args: Args) -> Derived | None:
    """Positive or negative from the IHC (and ISH)."""
    known = _her2_known(c, args)
    return None if known is None else Derived(np.where(c.subtype == "positive", "positive", "negative"), known)


def _her2_low(c: Cohort, args: Args) -> Derived | None:
    known = _her2_known(c, args)
    return None if known is None else _flag(c.subtype == "low", known)


def _lines(c: Cohort, args: Args) -> Derived:
    """Every line begins after the metastatic diagnosis; without any medication the count is unknown."""
    drug = args.get("drug")
    given = ~np.isnat(c.line_start)
    counted = given if not drug else given & _with_drug(c, drug)
    return Derived(counted.sum(axis=1).astype(float), given.any(axis=1))


def _with_drug(c: Cohort, drug: str) -> np.ndarray:
    """Whether each line has a drug that is-a ``drug``: its own, or the previous line's when that ended on the
    day this one started (``lines.build_lines`` carries such episodes over)."""
    isa = default_library().is_a
    own = c.regimen_has(lambda d: d == drug or isa(d, drug))
    carried = np.zeros_like(own)
    carried[:, 1:] = own[:, :-1] & (c.line_end[:, :-1] == c.line_start[:, 1:])
    return np.asarray(own | carried)


def _menopause(c: Cohort) -> tuple[np.ndarray, np.ndarray]:
    """Postmenopausal by age (NCCN; no oophorectomy is ever recorded), and where that is known."""
    age = c.age
    return age >= NCCN_AGE, (age >= NCCN_AGE) | (age < PREMENOPAUSAL_BELOW)


def _postmenopausal(c: Cohort, args: Args) -> Derived:
    return _flag(*_menopause(c))


def _childbearing(c: Cohort, args: Args) -> Derived:
    """Not postmenopausal, known only with a procedure history (sterilising surgery ruled out)."""
    post, known = _menopause(c)
    return _flag(~post, known & c.brain_treated)


def _pregnant(c: Cohort, args: Args) -> Derived:
    """No pregnancy evidence: False only when not of childbearing potential."""
    post, _ = _menopause(c)
    return _flag(np.zeros(len(post), dtype=bool), post & c.brain_treated)


def _breastfeeding(c: Cohort, args: Args) -> Derived:
    post, _ = _menopause(c)
    return _flag(np.zeros(len(post), dtype=bool), post)


def _brain(c: Cohort, args: Args) -> Derived:
    """Untreated brain metastases are active; treated ones (radiotherapy, remission) stable; no steroids, so
    symptoms are unknown for patients with brain metastases."""
    status = args["status"]
    if status == "symptomatic":
        return _flag(np.zeros(len(c.brain), dtype=bool), ~c.brain)
    value = {"any": c.brain, "active": c.brain & ~c.brain_treated, "treated_stable": c.brain_treated}
    return _flag(value[status])


def _only(site: str) -> Callable[[Cohort, Args], Derived]:
    return lambda c, args: _flag(c.site(site) & (c.n_sites == 1))


_DERIVED: dict[str, Callable[[Cohort, Args], Derived | None]] = {
    "age": lambda c, args: Derived(c.age.astype(float), unit="a"),
    "sex": lambda c, args: Derived(np.full(len(c.ids), "female")),
    "ecog": _ecog,
    "her2": _her2,
    "her2_low": _her2_low,
    "lines": _lines,
    "metastatic": lambda c, args: _flag(np.ones(len(c.ids), dtype=bool)),
    "stage": lambda c, args: Derived(np.full(len(c.ids), "IV")),
    "bone_only": _only("bone"),
    "brain_only": _only("brain"),
    "visceral_disease": lambda c, args: _flag(np.any([c.site(s) for s in sorted(VISCERAL)], axis=0)),
    "brain_metastases": _brain,
    "postmenopausal": _postmenopausal,
    "childbearing_potential": _childbearing,
    "pregnant": _pregnant,
    "breastfeeding": _breastfeeding,
}


def derived(c: Cohort, calls: frozenset[Call]) -> dict[Call, Derived]:
    """The value of every call the cohort decides (calls it does not model are left out: unknown)."""
    out: dict[Call, Derived] = {}
    for name, key in calls:
        make = _DERIVED.get(name)
        value = None if make is None else make(c, parse_key(key))
        if value is not None:
            out[(name, key)] = value
    return out
