"""Reviewing drafted rules before use: a person accepts a draft, replaces it with their own rule, or marks it
as a question for the site; each decision is recorded in the library's rule file with who and when, and the
criterion stops being ``drafted`` (so screening results no longer say they rest on it)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection
from pathlib import Path

from trialmatch.errors import LibraryError
from trialmatch.rules.ast import Condition, Review
from trialmatch.rules.rulefile import CriterionRules, RuleFile, computability_of, dump_rule_file
from trialmatch.rules.syntax import parse_rule


def _signed(who: str, on: dt.date, what: str) -> str:
    return f"{who}, {on.isoformat()}: {what}"


def accepted(entry: CriterionRules, who: str, on: dt.date) -> CriterionRules:
    """The draft kept as it is, now reviewed."""
    return entry.model_copy(update={"drafted": False, "reviewed": _signed(who, on, "accepted")})


def replaced(entry: CriterionRules, rule: Condition, who: str, on: dt.date, what: str = "edited") -> CriterionRules:
    """The criterion with the reviewer's own rule instead of the draft."""
    update = {
        "rule": rule,
        "rule_text": None,
        "parts": (),
        "computability": computability_of(rule),
        "drafted": False,
        "reviewed": _signed(who, on, what),
    }
    return entry.model_copy(update=update)


def marked_review(entry: CriterionRules, reason: str, who: str, on: dt.date) -> CriterionRules:
    """The criterion as a question only the site can answer."""
    return replaced(entry, Review(reason=reason), who, on, "marked review")


def parsed(text: str, concepts: Collection[str]) -> Condition:
    """A reviewer's rule text, checked against the concept library (RuleSyntaxError with the position)."""
    return parse_rule(text, concepts=concepts)


def with_entry(rules: RuleFile, entry: CriterionRules) -> RuleFile:
    """The rule file with one criterion's entry replaced, and the computability of the criteria stated only
    through their sub-items brought up to date."""
    changed = rules.model_copy(update={"criteria": tuple(entry if c.id == entry.id else c for c in rules.criteria)})
    return changed.model_copy(update={"criteria": tuple(_recounted(changed, c) for c in changed.criteria)})


def _recounted(rules: RuleFile, entry: CriterionRules) -> CriterionRules:
    if entry.effective_rule() is not None or entry.qualifies or (whole := rules.resolved_rule(entry.id)) is None:
        return entry
    return entry.model_copy(update={"computability": computability_of(whole)})


def save(rules: RuleFile, path: Path) -> None:
    """Write the rule file whole, renamed into place, so a failed write never leaves half a file."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(dump_rule_file(rules), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise LibraryError(f"cannot write the reviewed rules to {path}: {exc}") from exc
