"""Feasibility: per trial, how many patients a sponsor can count on (confirmed eligible / possible / excluded),
how many remain after each criterion in protocol order and how many are unknown there, which criteria exclude
the most, and which missing data items would settle the most "possible" patients.

The numbers come from the run's wide status table (one column per top-level criterion), batch by batch, so only
these summaries outlive a batch; :mod:`trialmatch.cohort.feasibility_page` draws them and ``feasibility.csv``
holds the same numbers (:func:`csv_rows`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from trialmatch.atomic import replacing
from trialmatch.cohort.plan import Column, TrialQuery
from trialmatch.cohort.status import MET, NOT_MET
from trialmatch.cohort.store import UNMAPPED, Manifest
from trialmatch.rules import ast as r
from trialmatch.rules.catalog import TrialRules
from trialmatch.trials.model import Criterion

LABEL_CHARS = 60
TOP = 10
UNKNOWN = -1


@dataclass(frozen=True)
class Step:
    """One criterion of the attrition chart, in protocol order."""

    step: int
    criterion_id: str
    type: str
    label: str
    text: str
    remaining_before: int
    excluded: int
    unknown: int
    remaining_after: int


@dataclass(frozen=True)
class Excluder:
    """A criterion by the patients it fails: anywhere in the cohort, and as their only failing criterion."""

    criterion_id: str
    label: str
    fails: int
    only_reason: int


@dataclass(frozen=True)
class MissingItem:
    """The data a criterion reads, by the "possible" patients it is unknown for (``open_in``) and those for whom
    it is the only thing unknown, so recording it would settle them (``settles``)."""

    criterion_id: str
    label: str
    items: tuple[str, ...]
    open_in: int
    settles: int


@dataclass
class TrialFeasibility:
    """One trial's feasibility over the cohort."""

    trial_id: str
    title: str
    patients: int
    eligible: int = 0
    possible: int = 0
    excluded: int = 0
    steps: list[Step] = field(default_factory=list)
    excluders: list[Excluder] = field(default_factory=list)
    missing: list[MissingItem] = field(default_factory=list)
    not_compiled: list[tuple[str, str]] = field(default_factory=list)


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """The criterion's text cut at a word boundary to ``limit`` characters (an ellipsis says it was cut)."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1].rsplit(" ", 1)[0] if " " in words[: limit - 1] else words[: limit - 1]
    return cut.rstrip(",;:") + "…"


def percent(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole``, one decimal (0 of nothing is 0)."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def summarize(bound: TrialRules, query: TrialQuery, wide: pa.Table) -> TrialFeasibility:
    """The trial's feasibility from its columns of the wide table (the verdict logic of :class:`TrialQuery`)."""
    trial = bound.trial
    texts = {c.id: c for c in bound.criteria}  # the record's sex and age limits too
    compiled = query.compiled
    statuses = _statuses(wide, compiled)
    fails = np.column_stack([statuses[:, k] == _failing(c) for k, c in enumerate(compiled)]) if compiled else None
    unknown = statuses == UNKNOWN
    n = wide.num_rows
    failed = fails.any(axis=1) if fails is not None else np.zeros(n, dtype=bool)
    open_ = unknown.any(axis=1) | bool(query.uncompiled)
    possible = ~failed & open_
    result = TrialFeasibility(trial.trial_id, trial.title, n)
    result.excluded = int(failed.sum())
    result.possible = int(possible.sum())
    result.eligible = n - result.excluded - result.possible
    result.not_compiled = [(c.criterion_id, c.error or "") for c in query.uncompiled]
    labels = {c.criterion_id: short_label(texts[c.criterion_id].text) for c in query.columns}
    if fails is not None:
        result.steps = _steps(compiled, texts, fails, unknown)
        result.excluders = _excluders(compiled, labels, fails)
    uncompiled_open = bool(query.uncompiled)
    result.missing = _missing(bound, [texts[c.criterion_id] for c in compiled], unknown, possible, uncompiled_open)
    return result


def _failing(column: Column) -> int:
    return NOT_MET if column.inclusion else MET


def _statuses(wide: pa.Table, columns: Sequence[Column]) -> np.ndarray:
    """Patients × criteria status codes, unknown as -1."""
    matrix = np.full((wide.num_rows, len(columns)), UNKNOWN, dtype=np.int8)
    for k, column in enumerate(columns):
        values = wide.column(column.name).to_numpy(zero_copy_only=False).astype(float)
        matrix[:, k] = np.where(np.isnan(values), UNKNOWN, values).astype(np.int8)
    return matrix


def _steps(
    columns: Sequence[Column], texts: dict[str, Criterion], fails: np.ndarray, unknown: np.ndarray
) -> list[Step]:
    remaining = np.ones(fails.shape[0], dtype=bool)
    steps = []
    for k, column in enumerate(columns):
        before = int(remaining.sum())
        excluded = int((fails[:, k] & remaining).sum())
        open_here = int((unknown[:, k] & remaining).sum())
        remaining &= ~fails[:, k]
        kind = "inclusion" if column.inclusion else "exclusion"
        text = " ".join(texts[column.criterion_id].text.split())
        label = short_label(text)
        steps.append(
            Step(k + 1, column.criterion_id, kind, label, text, before, excluded, open_here, int(remaining.sum()))
        )
    return steps


def _excluders(columns: Sequence[Column], labels: dict[str, str], fails: np.ndarray) -> list[Excluder]:
    alone = fails & (fails.sum(axis=1) == 1)[:, None]
    rows = [
        Excluder(c.criterion_id, labels[c.criterion_id], int(fails[:, k].sum()), int(alone[:, k].sum()))
        for k, c in enumerate(columns)
    ]
    ranked = sorted((x for x in rows if x.fails), key=lambda x: (-x.fails, -x.only_reason))
    return ranked[:TOP]


def _missing(
    bound: TrialRules, criteria: Sequence[Criterion], unknown: np.ndarray, possible: np.ndarray, blocked: bool
) -> list[MissingItem]:
    """Criteria by the "possible" patients their data would settle: those for whom the criterion is the only one
    unknown (none while a criterion of the trial is not compiled, which keeps everyone possible)."""
    alone = unknown.sum(axis=1) == 1
    found = []
    for k, criterion in enumerate(criteria):
        open_in = possible & unknown[:, k]
        if open_in.any():
            settles = 0 if blocked else int((open_in & alone).sum())
            label = short_label(criterion.text)
            found.append(MissingItem(criterion.id, label, items_of(bound, criterion), int(open_in.sum()), settles))
    return sorted(found, key=lambda m: (-m.settles, -m.open_in))[:TOP]


def items_of(bound: TrialRules, criterion: Criterion) -> tuple[str, ...]:
    """The data items a criterion's rules read (concepts, derived facts, lesions), sorted; a criterion without
    any rule needs the criterion itself answered by hand."""
    items: set[str] = set()
    _reads(bound, criterion, items)
    return tuple(sorted(items)) or ("an answer to the criterion",)


def _reads(bound: TrialRules, criterion: Criterion, items: set[str]) -> None:
    """Its own rule, else its sub-items' (as :func:`trialmatch.cohort.plan.compile_trials` reads them)."""
    rule = bound.rule_for(criterion.id)
    if rule is not None:
        _collect(rule, items)
        return
    for child in criterion.children:
        _reads(bound, child, items)


def _collect(node: BaseModel, items: set[str]) -> None:
    if isinstance(node, r.CountLesions):  # the lesion's own attributes are part of the lesion record
        items.add("lesions")
        return
    if isinstance(node, r.Has | r.Latest | r.Extreme):
        items.add(node.concept)
    elif isinstance(node, r.Derived | r.Flag):
        items.add(node.name)
    for name in type(node).model_fields:
        for value in _children(getattr(node, name)):
            _collect(value, items)


def _children(value: object) -> Iterator[BaseModel]:
    if isinstance(value, BaseModel):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _children(item)


def data_coverage(manifest: Manifest, store: Path) -> dict[str, int]:
    """What the store's ingest read and could not use: patients and records, and the distinct codes it did not
    recognise (``unmapped_codes.csv``, when the store has one)."""
    coverage = {
        "patients_read": manifest.patients_read,
        "patients_stored": manifest.patients_stored,
        "patients_rejected": manifest.patients_rejected,
        "records_rejected": manifest.records_rejected,
    }
    unmapped = store / UNMAPPED
    if unmapped.is_file():
        with unmapped.open(newline="", encoding="utf-8") as handle:
            coverage["unrecognised_codes"] = sum(1 for _ in csv.DictReader(handle))
    return coverage


CSV_FIELDS = ("trial_id", "section", "position", "item", "label", "measure", "count", "percent")


def csv_rows(
    trials: Sequence[TrialFeasibility], coverage: dict[str, int], not_screened: Sequence[str]
) -> Iterator[tuple[object, ...]]:
    """``feasibility.csv``: every number of the page, one per row (long form, so sections share one header)."""
    for name, count in coverage.items():
        yield ("", "coverage", 0, name, "", "count", count, "")
    for n, problem in enumerate(not_screened, start=1):
        yield ("", "not_screened", n, "", problem, "", "", "")
    for t in trials:
        for n, (name, count) in enumerate(headline(t), start=1):
            yield (t.trial_id, "headline", n, name, "", "patients", count, percent(count, t.patients))
        for s in t.steps:
            for measure in ("remaining_before", "excluded", "unknown", "remaining_after"):
                count = getattr(s, measure)
                share = percent(count, t.patients)
                yield (t.trial_id, "attrition", s.step, s.criterion_id, s.label, measure, count, share)
        for n, x in enumerate(t.excluders, start=1):
            yield (t.trial_id, "excluding", n, x.criterion_id, x.label, "fails", x.fails, percent(x.fails, t.patients))
            yield (t.trial_id, "excluding", n, x.criterion_id, x.label, "only_reason", x.only_reason, "")
        for n, m in enumerate(t.missing, start=1):
            items = "; ".join(m.items)
            yield (t.trial_id, "missing", n, m.criterion_id, items, "settles", m.settles, "")
            yield (t.trial_id, "missing", n, m.criterion_id, items, "open_in", m.open_in, "")
        for n, (criterion_id, reason) in enumerate(t.not_compiled, start=1):
            yield (t.trial_id, "not_compiled", n, criterion_id, reason, "", "", "")


def headline(t: TrialFeasibility) -> list[tuple[str, int]]:
    """The trial's range: patients, confirmed eligible, possible, excluded."""
    return [("patients", t.patients), ("eligible", t.eligible), ("possible", t.possible), ("excluded", t.excluded)]


def write_csv(
    trials: Sequence[TrialFeasibility], coverage: dict[str, int], not_screened: Sequence[str], path: Path
) -> None:
    """Write ``feasibility.csv``."""
    with replacing(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        writer.writerows(csv_rows(trials, coverage, not_screened))
