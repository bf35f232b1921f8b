"""The public API: every vocabulary name is derived, arguments are checked, durations and windows."""

from __future__ import annotations

import datetime as dt

import pytest
from derive_factory import AS_OF, lesion, record

from trialmatch.errors import RuleError
from trialmatch.patients.derive import DerivedValue, derive, derive_lesion, parse_duration, window_start
from trialmatch.patients.derive.timewindow import expires_on
from trialmatch.rules.ast import Duration
from trialmatch.rules.vocabulary import DERIVED


@pytest.mark.parametrize("spec", DERIVED, ids=lambda d: d.name)
def test_every_vocabulary_name_is_derived_and_unknown_on_an_empty_record(spec: object) -> None:
    empty = record(birth=None, sex=None, lesions=(lesion("L1"),))
    if spec.scope == "patient":
        result = derive(spec.name, {}, empty, AS_OF)
    else:
        result = derive_lesion(spec.name, {}, empty.lesions[0], empty, AS_OF)
    assert isinstance(result, DerivedValue)
    assert result.value is None
    assert result.missing and "N/A" not in result.explanation


def test_unknown_name_scope_and_arguments() -> None:
    with pytest.raises(KeyError):
        derive("tumour_mood", {}, record(), AS_OF)
    with pytest.raises(KeyError):
        derive("diameter", {}, record(), AS_OF)
    with pytest.raises(RuleError, match="must be one of"):
        derive("her2", {"specimen": "blood"}, record(), AS_OF)
    with pytest.raises(RuleError, match="has no argument"):
        derive("age", {"within": "28d"}, record(), AS_OF)
    with pytest.raises(RuleError, match="not a duration"):
        derive("ecog", {"within": "a month"}, record(), AS_OF)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [("28d", 28, "d"), ("4w", 4, "w"), ("6mo", 6, "mo"), ("5y", 5, "y"), (" 12 mo", 12, "mo")],
)
def test_parse_duration(text: str, amount: int, unit: str) -> None:
    assert parse_duration(text) == Duration(amount=amount, unit=unit)


@pytest.mark.parametrize(
    ("as_of", "duration", "start"),
    [
        ("2024-03-29", "28d", "2024-03-01"),
        ("2024-03-31", "1mo", "2024-02-29"),
        ("2023-03-31", "1mo", "2023-02-28"),
        ("2024-08-31", "6mo", "2024-02-29"),
        ("2024-02-29", "1y", "2023-02-28"),
        ("2024-06-01", "2w", "2024-05-18"),
    ],
)
def test_window_start_uses_calendar_arithmetic_with_month_end_clamp(as_of: str, duration: str, start: str) -> None:
    assert window_start(dt.date.fromisoformat(as_of), duration) == dt.date.fromisoformat(start)


@pytest.mark.parametrize("duration", ["28d", "1mo", "6mo", "1y"])
@pytest.mark.parametrize("observed", ["2024-01-31", "2024-02-29", "2023-12-31", "2024-05-15"])
def test_expires_on_is_the_first_day_the_window_excludes_the_fact(observed: str, duration: str) -> None:
    seen, span = dt.date.fromisoformat(observed), parse_duration(duration)
    expiry = expires_on(seen, span)
    assert window_start(expiry, span) > seen
    assert window_start(expiry - dt.timedelta(days=1), span) <= seen
