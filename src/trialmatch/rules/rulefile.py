"""Curated rule files: one YAML document per trial, each criterion with its verbatim text, hash and rule.

The format is described in ``docs/rules.md``. Loading collects every problem in the file (YAML, structure,
rule syntax, consistency) with the file's own line and column, and raises them together, so a curator fixes a
file in one pass. Rules are stored as rule text; the loaded model carries both the parsed tree and the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError
from pydantic_core import ErrorDetails

from trialmatch.errors import RuleError
from trialmatch.rules import yaml_source
from trialmatch.rules.ast import All, Any, Condition, Not, Review, Unknown, Unless, When
from trialmatch.rules.printer import print_rule
from trialmatch.rules.syntax import LocatedSyntaxError, parse_rule
from trialmatch.trials.model import criterion_text_hash

# unknown: nothing of the rule can be decided from records (text the drafter did not understand).
Computability = Literal["computable", "partial", "review", "unknown"]
# Stands in for a rule that failed to parse, so the rest of the file is still checked; never returned.
_PLACEHOLDER = Review(reason="rule text with errors")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RulePart(_Frozen):
    """A separately evaluated part of a compound criterion (``inc-8/anc``), with its own status and reason."""

    id: str
    label: str
    rule: Condition
    rule_text: str | None = None


class CriterionRules(_Frozen):
    """The curated rule of one criterion, with the text it was written for and how far it can be computed."""

    id: str
    text: str
    text_hash: str
    computability: Computability
    rule: Condition | None = None
    rule_text: str | None = None
    parts: tuple[RulePart, ...] = ()
    note: str | None = None
    qualifies: str | None = None
    missing: str | None = None
    drafted: bool = False
    span: tuple[int, int] | None = None
    reviewed: str | None = None

    @property
    def is_exclusion(self) -> bool:
        """Exclusion criteria have ids ``exc-N`` (the trial readers' contract)."""
        return self.id.startswith("exc-")

    def effective_rule(self) -> Condition | None:
        """The rule, or its parts combined; None for a parent whose child criteria carry the rules.

        Parts of an inclusion criterion must all hold; parts of an exclusion criterion are alternatives, any of
        which excludes.
        """
        if self.rule is not None:
            return self.rule
        if not self.parts:
            return None
        items = tuple(p.rule for p in self.parts)
        return Any(items=items) if self.is_exclusion else All(items=items)


class RuleFile(_Frozen):
    """All curated rules of one trial, with provenance; ``rules_version`` identifies it in results."""

    rules_schema: Literal[1]
    trial_id: str
    version: str
    source: str
    curated_by: str
    reviewed_by: str | None = None
    criteria: tuple[CriterionRules, ...] = ()
    _file_hash: str | None = PrivateAttr(default=None)

    @property
    def content_hash(self) -> str:
        """12 hex digits of the SHA-256 of the file's bytes (of the dumped text when not read from a file)."""
        return self._file_hash or _short_hash(dump_rule_file(self).encode("utf-8"))

    @property
    def rules_version(self) -> str:
        """``<version>+<content hash>``: the curated version plus proof of the exact bytes used."""
        return f"{self.version}+{self.content_hash}"

    def criterion(self, criterion_id: str) -> CriterionRules:
        """The criterion with this id; KeyError if the file has none."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)

    def children(self, criterion_id: str) -> tuple[CriterionRules, ...]:
        """The direct sub-items of a criterion (``inc-2.1`` for ``inc-2``)."""
        prefix = f"{criterion_id}."
        return tuple(c for c in self.criteria if c.id.startswith(prefix) and "." not in c.id[len(prefix) :])

    def resolved_rule(self, criterion_id: str) -> Condition | None:
        """The criterion's whole rule: its own or its sub-items', with qualifying exceptions folded in.

        Sub-items of an inclusion must all hold and those of an exclusion are alternatives. An exception waives an
        inclusion requirement (``rule unless exception``) and lifts an exclusion (``all(rule, not(exception))``).
        """
        criterion = self.criterion(criterion_id)
        rule = criterion.effective_rule()
        if rule is None:
            resolved = [self.resolved_rule(c.id) for c in self.children(criterion_id)]
            present = tuple(r for r in resolved if r is not None)
            if present:
                rule = Any(items=present) if criterion.is_exclusion else All(items=present)
        exceptions = tuple(r for c in self.criteria if c.qualifies == criterion_id if (r := c.effective_rule()))
        if rule is None or not exceptions:
            return rule
        exception = exceptions[0] if len(exceptions) == 1 else Any(items=exceptions)
        if criterion.is_exclusion:
            return All(items=(rule, Not(item=exception)))
        return Unless(rule=rule, exception=exception)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a rule file, at the file's 1-based line and column."""

    line: int
    column: int
    message: str

    def render(self, name: str) -> str:
        """``FILE:LINE:COL: message``, the form editors and CI annotations understand."""
        return f"{name}:{self.line}:{self.column}: {self.message}"


class RuleFileError(RuleError):
    """A rule file has problems; ``problems`` lists every one with its position."""

    def __init__(self, name: str, problems: Collection[Problem]) -> None:
        self.name = name
        self.problems = tuple(sorted(problems, key=lambda p: (p.line, p.column)))
        listing = "\n".join(p.render(name) for p in self.problems)
        super().__init__(f"{name}: {len(self.problems)} problem(s)\n{listing}")


def computability_of(rule: Condition) -> Computability:
    """computable without review or unknown leaves; review when every leaf is a review; unknown when no leaf is
    computable and some is unknown; partial when computable leaves stand beside review or unknown ones."""
    leaves = list(_leaves(rule))
    reviews = sum(isinstance(leaf, Review) for leaf in leaves)
    unknowns = sum(isinstance(leaf, Unknown) for leaf in leaves)
    if reviews + unknowns == 0:
        return "computable"
    if reviews == len(leaves):
        return "review"
    return "unknown" if reviews + unknowns == len(leaves) else "partial"


def _leaves(node: Condition) -> Iterator[Condition]:
    match node:
        case All(items=items) | Any(items=items):
            for item in items:
                yield from _leaves(item)
        case Not(item=item):
            yield from _leaves(item)
        case When(condition=condition, then=then, otherwise=otherwise):
            for branch in (condition, then, otherwise):
                if branch is not None:
                    yield from _leaves(branch)
        case Unless(rule=rule, exception=exception):
            yield from _leaves(rule)
            yield from _leaves(exception)
        case _:
            yield node


def consistency_problems(rules: RuleFile) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What contradicts itself in a structurally valid file, each with the YAML path of the culprit."""
    ids = [c.id for c in rules.criteria] + [p.id for c in rules.criteria for p in c.parts]
    seen: set[str] = set()
    for index, criterion in enumerate(rules.criteria):
        at = ("criteria", index)
        for part_index, part in enumerate(criterion.parts):
            if not part.id.startswith(f"{criterion.id}/"):
                yield (
                    (*at, "parts", part_index, "id"),
                    f"part id '{part.id}' must start with '{criterion.id}/'",
                )
        for item_id in (criterion.id, *(p.id for p in criterion.parts)):
            if item_id in seen:
                yield (*at, "id"), f"duplicate id '{item_id}'"
            seen.add(item_id)
        yield from ((at + path, message) for path, message in _criterion_problems(rules, criterion, ids))


def _criterion_problems(
    rules: RuleFile, criterion: CriterionRules, ids: list[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if criterion.text_hash != criterion_text_hash(criterion.text):
        yield (
            ("text_hash",),
            f"text_hash does not match the text (it should be {criterion_text_hash(criterion.text)})",
        )
    if criterion.rule is not None and criterion.parts:
        yield ("parts",), "give either `rule` or `parts`, not both"
    if criterion.qualifies is not None and (criterion.qualifies not in ids or criterion.qualifies == criterion.id):
        yield (
            ("qualifies",),
            f"qualifies '{criterion.qualifies}', which is not another criterion in this file",
        )
    rule = rules.resolved_rule(criterion.id) if criterion.effective_rule() is None else criterion.effective_rule()
    if rule is None:
        yield ("id",), f"'{criterion.id}' has no rule: give `rule`, `parts`, or sub-items {criterion.id}.N"
    elif (actual := computability_of(rule)) != criterion.computability:
        yield ("computability",), f"computability is {criterion.computability}, but the rule is {actual}"


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def load_rule_file(path: Path | str, *, concepts: Collection[str] | None = None) -> RuleFile:
    """Read and check a rule file; OSError if unreadable, RuleFileError listing every problem otherwise."""
    data = Path(path).read_bytes()
    rules = read_rule_file(data, name=str(path), concepts=concepts)
    rules._file_hash = _short_hash(data)
    return rules


def read_rule_file(data: bytes, *, name: str, concepts: Collection[str] | None = None) -> RuleFile:
    """Check and build a rule file from its bytes; ``name`` is used in error messages."""
    try:
        text = data.decode("utf-8")
        root = yaml_source.compose(text)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RuleFileError(name, [Problem(line, 1, "the file is not UTF-8 text")]) from None
    except yaml_source.YamlProblem as problem:
        raise RuleFileError(name, [Problem(problem.line, problem.column, problem.message)]) from None
    if not isinstance(root, yaml.MappingNode):
        raise RuleFileError(name, [Problem(1, 1, "a rule file is a YAML mapping (rules_schema, trial_id, ...)")])
    problems = [Problem(*found) for found in yaml_source.duplicate_keys(root)]
    raw = yaml_source.construct(root)
    assert isinstance(raw, dict)
    failed = dict(_parse_rules(root, raw, text.splitlines(), concepts))
    problems += failed.values()
    try:
        rules = RuleFile.model_validate(raw)
    except ValidationError as error:
        problems += [_validation_problem(root, e) for e in error.errors()]
        raise RuleFileError(name, problems) from None
    for path, message in consistency_problems(rules):
        # A rule that did not parse has no computability to compare; its syntax error says enough.
        if not (path[-1] == "computability" and any(p[:2] == path[:2] for p in failed)):
            problems.append(Problem(*yaml_source.position(root, path), message))
    if problems:
        raise RuleFileError(name, problems)
    return rules


def _parse_rules(
    root: yaml.MappingNode, raw: dict[str, object], lines: list[str], concepts: Collection[str] | None
) -> Iterator[tuple[yaml_source.Path, Problem]]:
    """Replace each rule text in ``raw`` by its tree (keeping the text); yield syntax errors in file terms."""
    for path, holder in _rule_holders(raw):
        if "rule_text" in holder:
            where = yaml_source.position(root, (*path, "rule_text"))
            yield (*path, "rule_text"), Problem(*where, "unknown key rule_text (the text goes in `rule`)")
        if holder.get("rule") is not None:
            problem = _parse_one(yaml_source.find(root, (*path, "rule")), holder, lines, concepts)
            if problem is not None:
                holder["rule"] = _PLACEHOLDER
                yield path, problem


def _parse_one(
    node: yaml.Node, holder: dict[str, object], lines: list[str], concepts: Collection[str] | None
) -> Problem | None:
    text = holder["rule"]
    if not isinstance(text, str) or not isinstance(node, yaml.ScalarNode):
        return Problem(node.start_mark.line + 1, node.start_mark.column + 1, "a rule is rule text (a string)")
    try:
        holder["rule"], holder["rule_text"] = parse_rule(text, concepts=concepts), text.rstrip("\n")
    except LocatedSyntaxError as error:
        return Problem(*yaml_source.inner_position(node, lines, error.line, error.column), error.message)
    return None


def _rule_holders(raw: dict[str, object]) -> Iterator[tuple[yaml_source.Path, dict[str, object]]]:
    """Every mapping that may carry a `rule`: each criterion and each of its parts, with its YAML path."""
    criteria = raw.get("criteria")
    for index, criterion in enumerate(criteria if isinstance(criteria, list) else []):
        if not isinstance(criterion, dict):
            continue
        yield ("criteria", index), criterion
        parts = criterion.get("parts")
        for part_index, part in enumerate(parts if isinstance(parts, list) else []):
            if isinstance(part, dict):
                yield ("criteria", index, "parts", part_index), part


def _validation_problem(root: yaml.MappingNode, error: ErrorDetails) -> Problem:
    path = tuple(error["loc"])
    where = ".".join(str(step) for step in path)
    return Problem(*yaml_source.position(root, path), f"{where}: {error['msg']}" if where else error["msg"])


# -- writing -------------------------------------------------------------------------------------------------


def dump_rule_file(rules: RuleFile) -> str:
    """The file as YAML text: provenance header, then each criterion with its rule printed canonically."""
    reviewed = rules.reviewed_by or "not yet reviewed by a clinician"
    lines = [
        f"# trialmatch curated rules for {yaml_source.comment(rules.trial_id)}",
        f"# Source: {yaml_source.comment(rules.source)}",
        f"# Curated by: {yaml_source.comment(rules.curated_by)}; reviewed by: {yaml_source.comment(reviewed)}",
        "# Bump `version` on every edit; results also record a hash of this file's exact bytes.",
        *(f"{key}: {yaml_source.scalar(getattr(rules, key))}" for key in _HEADER_KEYS),
        "criteria:" if rules.criteria else "criteria: []",
    ]
    for criterion in rules.criteria:
        lines += _criterion_lines(criterion)
    return "\n".join(lines) + "\n"


_HEADER_KEYS = ("rules_schema", "trial_id", "version", "source", "curated_by", "reviewed_by")


def _criterion_lines(criterion: CriterionRules) -> list[str]:
    pad = "    "
    lines = [f"  - id: {yaml_source.scalar(criterion.id)}"]
    lines += [f"{pad}{key}: {yaml_source.quoted(getattr(criterion, key))}" for key in ("text", "text_hash")]
    lines.append(f"{pad}computability: {criterion.computability}")
    if criterion.rule is not None:
        lines += yaml_source.block("rule", print_rule(criterion.rule), pad)
    if criterion.parts:
        lines.append(f"{pad}parts:")
    for part in criterion.parts:
        lines.append(f"{pad}  - id: {yaml_source.scalar(part.id)}")
        lines.append(f"{pad}    label: {yaml_source.quoted(part.label)}")
        lines += yaml_source.block("rule", print_rule(part.rule), pad + "    ")
    for key in ("note", "qualifies", "missing"):
        if (value := getattr(criterion, key)) is not None:
            lines.append(f"{pad}{key}: {yaml_source.scalar(value)}")
    if criterion.drafted:
        lines.append(f"{pad}drafted: true")
    if criterion.span is not None:
        lines.append(f"{pad}span: [{criterion.span[0]}, {criterion.span[1]}]")
    if criterion.reviewed is not None:
        lines.append(f"{pad}reviewed: {yaml_source.scalar(criterion.reviewed)}")
    return lines
