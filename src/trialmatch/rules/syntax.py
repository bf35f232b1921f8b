"""Parse rule text (the syntax in ``docs/rules.md``) into the rule tree, checking names, scopes and types.

A hand-written recursive-descent parser over characters rather than a token stream, because the syntax is
context-sensitive in small ways: after a number, a unit token runs to the next space, comma or parenthesis
(``10*3/uL``, ``mm[Hg]``), and ``28d`` is a duration inside an argument list. Every error carries the line
and column of the offending text and says what was expected; unknown names end with "Did you mean ...?".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import NoReturn, cast

from trialmatch.errors import RuleSyntaxError
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
    Operator,
    Quantity,
    Review,
    Threshold,
    Timing,
    UlnMultiple,
    Unknown,
    Unless,
    Value,
    When,
)
from trialmatch.rules.comparisons import check_compare
from trialmatch.rules.vocabulary import DERIVED, Argument, DerivedName, lookup
from trialmatch.terminology.concepts import did_you_mean

SPACE = re.compile(r"(?:\s+|#[^\n]*)+")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
CONCEPT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
DURATION = re.compile(r"([0-9]+)(d|w|mo|y)(?![A-Za-z0-9_])")
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
UNIT = re.compile(r"(?:[A-Za-z%\[{/]|10\*)[^\s,)]*")
STRING = re.compile(r'"(?:[^"\\\x00-\x1f\x7f]|\\["\\])*"')
FOUND = re.compile(r"[A-Za-z0-9_.]+|\S")
OPERATOR = re.compile(r"<=|>=|==|!=|<|>|in(?![A-Za-z0-9_])")
# Words that end a number instead of being read as its unit: `1.5 x ULN`, `... unless ...`, and the
# `and`/`or` a writer may reach for, which get a hint towards all(...)/any(...) instead of a bogus unit.
NOT_UNITS = frozenset({"x", "unless", "and", "or"})
SAME_LINE_UNIT = re.compile(r"[ \t]*(" + UNIT.pattern + ")")

CALLS = ("all", "any", "not", "review", "unknown", "when", "condition", "drug", "procedure")
VALUE_CALLS = ("latest", "min", "max", "count_lesions")
EVENT_DOMAINS = ("condition", "drug", "procedure")
# Arguments of derived facts that take a concept rather than a choice or a duration (lines(drug=...)).
HAS_OPTIONS = {
    "condition": ("active", "within", "before", "continuous", "max_gap", "except"),
    "drug": ("active", "within", "before", "continuous", "max_gap", "setting"),
    "procedure": ("active", "within", "before", "continuous", "max_gap"),
}
TIMING_MODES = ("active", "within", "before", "continuous")


class LocatedSyntaxError(RuleSyntaxError):
    """A RuleSyntaxError that keeps its bare message, so a rule file can report it at the file's position."""

    def __init__(self, message: str, *, line: int, column: int, source_line: str) -> None:
        super().__init__(message, line=line, column=column, source_line=source_line)
        self.message = message


class _Failure(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_rule(text: str, *, concepts: Collection[str] | None = None) -> Condition:
    """Parse rule text into a condition; with ``concepts``, every concept named must be one of them."""
    known = frozenset(concepts) if concepts is not None else None
    try:
        return _Parser(text, known).rule()
    except _Failure as failure:
        line = text.count("\n", 0, failure.offset) + 1
        line_start = text.rfind("\n", 0, failure.offset) + 1
        line_end = text.find("\n", failure.offset)
        source_line = text[line_start : len(text) if line_end < 0 else line_end]
        column = failure.offset - line_start + 1
        raise LocatedSyntaxError(failure.message, line=line, column=column, source_line=source_line) from None


class _Scanner:
    """Position, whitespace and comments, and failures that say what was expected and what was found."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> int:
        match = SPACE.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return self.pos

    def peek(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.text, self.skip())
        return match.group() if match else None

    def take(self, pattern: re.Pattern[str], what: str) -> tuple[str, int]:
        start = self.skip()
        match = pattern.match(self.text, start)
        if match is None:
            self.fail_expected(what)
        self.pos = match.end()
        return match.group(), start

    def accept(self, literal: str) -> bool:
        if self.text.startswith(literal, self.skip()):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str, what: str | None = None) -> None:
        if not self.accept(literal):
            self.fail_expected(what or f"'{literal}'")

    def keyword(self, word: str) -> bool:
        if self.peek(NAME) == word:
            self.pos += len(word)
            return True
        return False

    def fail(self, message: str, offset: int) -> NoReturn:
        raise _Failure(message, offset)

    def fail_expected(self, what: str) -> NoReturn:
        offset = self.skip()
        found = FOUND.match(self.text, offset)
        if found is None:
            self.fail(f"expected {what}, found the end of the rule", offset)
        hint = " (combine conditions with all(...) or any(...))" if found.group() in ("and", "or") else ""
        self.fail(f"expected {what}, found '{found.group()}'{hint}", offset)


class _Parser(_Scanner):
    """Conditions, values and thresholds, one method per construct of the syntax."""

    def __init__(self, text: str, concepts: frozenset[str] | None) -> None:
        super().__init__(text)
        self.concepts = concepts
        self.in_lesion = False

    def rule(self) -> Condition:
        node = self.unless_expr()
        if self.skip() < len(self.text):
            self.fail_expected("the end of the rule")
        return node

    def unless_expr(self) -> Condition:
        node = self.condition()
        while self.keyword("unless"):
            self.outside_lesion("unless", self.pos - len("unless"))
            node = Unless(rule=node, exception=self.condition())
        return node

    def condition(self) -> Condition:
        if self.accept("("):
            node = self.unless_expr()
            self.expect(")", "')' or 'unless'")
            return node
        word, start = self.take(WORD, "a condition")
        if word in CALLS:
            return CALL_PARSERS[word](self, word, start)
        if "." in word:
            self.fail(
                f"a concept alone is not a condition: write condition({word}), drug({word}) or "
                f"procedure({word}), or compare latest({word}) with a threshold",
                start,
            )
        entry = self.entry(word, start) if word not in VALUE_CALLS else None
        if entry is not None and entry.type == "boolean":
            return self.flag(entry, start)
        return self.compare(self.value(word, entry, start), word)

    # -- logical constructs ------------------------------------------------------------------------------

    def conditions(self) -> list[Condition]:
        self.expect("(")
        items = [self.unless_expr()]
        while self.accept(","):
            items.append(self.unless_expr())
        self.expect(")", "',' or ')'")
        return items

    def all_any(self, word: str, start: int) -> Condition:
        items = tuple(self.conditions())
        return All(items=items) if word == "all" else Any(items=items)

    def negation(self, word: str, start: int) -> Condition:
        items = self.conditions()
        if len(items) != 1:
            self.fail(f"not(...) takes one condition, got {len(items)}", start)
        return Not(item=items[0])

    def when(self, word: str, start: int) -> Condition:
        self.outside_lesion("when", start)
        items = self.conditions()
        if len(items) not in (2, 3):
            self.fail(
                f"when(...) takes a condition, a requirement and an optional alternative, got {len(items)}",
                start,
            )
        return When(condition=items[0], then=items[1], otherwise=items[2] if len(items) == 3 else None)

    def reasoned(self, word: str, start: int) -> Condition:
        """``review("...")`` or ``unknown("...")``: a leaf that carries only its reason."""
        self.outside_lesion(word, start)
        self.expect("(")
        quoted, _ = self.take(STRING, 'a reason in double quotes (escape " and \\ with a backslash)')
        self.expect(")")
        reason = re.sub(r'\\(["\\])', r"\1", quoted[1:-1])
        return Review(reason=reason) if word == "review" else Unknown(reason=reason)

    # -- events: condition(...), drug(...), procedure(...) ---------------------------------------------------

    def has(self, domain: str, start: int) -> Condition:
        self.outside_lesion(domain, start)
        self.expect("(")
        concept = self.concept(domain)
        options: dict[str, object] = {}
        while self.accept(","):
            key, at = self.take(NAME, f"an option of {domain}(...): {', '.join(HAS_OPTIONS[domain])}")
            if key not in HAS_OPTIONS[domain]:
                hint = did_you_mean(key, HAS_OPTIONS[domain])
                self.fail(
                    f"{domain}(...) has no option '{key}'; it takes {', '.join(HAS_OPTIONS[domain])}.{hint}",
                    at,
                )
            if key in options or (key in TIMING_MODES and options.keys() & set(TIMING_MODES)):
                self.fail(f"'{key}' repeats or contradicts an earlier option", at)
            options[key] = self.has_option(key)
        self.expect(")", "',' or ')'")
        if "max_gap" in options and "continuous" not in options:
            self.fail("max_gap= only goes with continuous=", start)
        return self.build_has(domain, concept, options)

    def has_option(self, key: str) -> object:
        if key == "active":
            return None
        self.expect("=")
        if key == "except":
            return self.concept_list("condition")
        if key == "setting":
            return self.take(NAME, "a disease setting such as metastatic")[0]
        return self.duration()

    def build_has(self, domain: str, concept: str, options: dict[str, object]) -> Has:
        mode = next((m for m in TIMING_MODES if m in options), "ever")
        timing = Timing(
            mode=mode,
            duration=cast(Duration | None, options.get(mode)),
            max_gap=cast(Duration | None, options.get("max_gap")),
        )
        return Has(
            domain=domain,
            concept=concept,
            timing=timing,
            exceptions=cast(tuple[str, ...], options.get("except", ())),
            setting=cast(str | None, options.get("setting")),
        )

    def concept_list(self, domain: str) -> tuple[str, ...]:
        self.expect("[")
        items = [self.concept(domain)]
        while self.accept(","):
            items.append(self.concept(domain))
        self.expect("]", "',' or ']'")
        return tuple(items)

    def concept(self, domain: str | None) -> str:
        """A dotted concept id; ``domain`` None means a measured concept (lab, vital, score, marker ...)."""
        word, at = self.take(CONCEPT, "a concept such as lab.anc or condition.metastasis.brain")
        family = word.split(".", 1)[0]
        if domain is not None and family != domain:
            self.fail(f"expected a {domain}.* concept here, found '{word}'", at)
        if domain is None and family in EVENT_DOMAINS:
            self.fail(f"'{word}' is not measured; use {family}({word}) to ask whether it is recorded", at)
        if self.concepts is not None and word not in self.concepts:
            self.fail(f"unknown concept '{word}'.{did_you_mean(word, self.concepts)}", at)
        return word

    def duration(self) -> Duration:
        text, _ = self.take(DURATION, "a duration such as 28d, 4w, 6mo or 5y")
        match = DURATION.fullmatch(text)
        assert match is not None
        return Duration(amount=int(match.group(1)), unit=match.group(2))

    # -- derived facts and flags -----------------------------------------------------------------------------

    def entry(self, word: str, start: int) -> DerivedName:
        entry = lookup(word)
        if entry is None:
            names = [*CALLS, *VALUE_CALLS, *(d.name for d in DERIVED if self.scope_ok(d))]
            self.fail(f"unknown name '{word}'.{did_you_mean(word, names)}", start)
        if entry.scope == "lesion" and not self.in_lesion:
            self.fail(f"'{word}' describes one lesion: use it inside count_lesions(where=...)", start)
        if entry.scope == "patient" and self.in_lesion:
            self.fail(
                f"'{word}' describes the patient: inside count_lesions(where=...) only lesion attributes",
                start,
            )
        return entry

    def scope_ok(self, entry: DerivedName) -> bool:
        return (entry.scope == "lesion") == self.in_lesion

    def outside_lesion(self, what: str, start: int) -> None:
        if self.in_lesion:
            self.fail(f"{what} cannot be used inside count_lesions(where=...): only lesion attributes can", start)

    def flag(self, entry: DerivedName, start: int) -> Condition:
        args = self.arguments(entry)
        if self.peek(OPERATOR):
            self.fail(f"'{entry.name}' is a yes/no flag: use it alone or as not({entry.name})", self.skip())
        return Flag(name=entry.name, args=args)

    def arguments(self, entry: DerivedName) -> tuple[tuple[str, str], ...]:
        if not self.accept("(") or self.accept(")"):
            return ()
        args: list[tuple[str, str]] = []
        while True:
            key, at = self.take(NAME, f"an argument of {entry.name}")
            argument = entry.argument(key)
            if argument is None:
                names = [a.name for a in entry.arguments]
                takes = ", ".join(names) or "no arguments"
                self.fail(f"{entry.name} has no argument '{key}' (it takes {takes}).{did_you_mean(key, names)}", at)
            if any(k == key for k, _ in args):
                self.fail(f"argument '{key}' given twice", at)
            self.expect("=")
            args.append((key, self.argument_value(entry, argument)))
            if not self.accept(","):
                break
        self.expect(")", "',' or ')'")
        return tuple(args)

    def argument_value(self, entry: DerivedName, argument: Argument) -> str:
        if argument.is_concept:
            return self.concept(argument.name)  # a concept argument is named after its domain (drug=drug.*)
        if argument.is_duration:
            duration = self.duration()
            return f"{duration.amount}{duration.unit}"
        choices = ", ".join(argument.choices)
        word, at = self.take(NAME, f"one of {choices}")
        if word not in argument.choices:
            hint = did_you_mean(word, argument.choices)
            self.fail(f"{entry.name}({argument.name}=...) takes one of {choices}, not '{word}'.{hint}", at)
        return word

    # -- values and comparisons ------------------------------------------------------------------------------

    def value(self, word: str, entry: DerivedName | None, start: int) -> Value:
        if entry is not None:
            return Derived(name=word, args=self.arguments(entry))
        self.outside_lesion(f"{word}(...)", start)
        self.expect("(")
        if word == "count_lesions":
            return self.count_lesions()
        concept = self.concept(None)
        within = self.duration() if self.accept(",") and self.within_key() else None
        self.expect(")", "',' or ')'")
        if word == "latest":
            return Latest(concept=concept, within=within)
        return Extreme(function=word, concept=concept, within=within)

    def within_key(self) -> bool:
        key, at = self.take(NAME, "within=")
        if key != "within":
            self.fail(f"expected within=, found '{key}'", at)
        self.expect("=")
        return True

    def count_lesions(self) -> CountLesions:
        if self.accept(")"):
            return CountLesions()
        key, at = self.take(NAME, "where= or ')'")
        if key != "where":
            self.fail(f"count_lesions(...) takes only where=, found '{key}'", at)
        self.expect("=")
        self.in_lesion = True
        where = self.unless_expr()
        self.in_lesion = False
        self.expect(")")
        return CountLesions(where=where)

    def compare(self, value: Value, word: str) -> Condition:
        op, _ = self.take(OPERATOR, f"a comparison (<, <=, >, >=, ==, != or in) after {word}")
        at = self.skip()
        threshold = self.category_set() if op == "in" else self.threshold()
        check_compare(value, cast(Operator, op), threshold, lambda message: self.fail(message, at))
        return Compare(value=value, op=cast(Operator, op), threshold=threshold)

    def category_set(self) -> CategorySet:
        self.expect("{", "a set of categories such as {CR, PR} after in")
        values = [self.take(NAME, "a category")[0]]
        while self.accept(","):
            values.append(self.take(NAME, "a category")[0])
        self.expect("}", "',' or '}'")
        return CategorySet(values=tuple(values))

    def threshold(self) -> Threshold:
        if self.peek(NUMBER) is None:
            if self.text.startswith("{", self.skip()):
                self.fail("a set of categories needs the operator in", self.pos)
            return Category(value=self.take(NAME, "a number or a category")[0])
        text, at = self.take(NUMBER, "a number")
        number = float(text)
        if not math.isfinite(number):
            self.fail(f"number out of range: {text}", at)
        # A unit sits on the number's line, so a forgotten comma before the next line is not read as a unit.
        match = SAME_LINE_UNIT.match(self.text, self.pos)
        if match and match.group(1) == "x":
            self.pos = match.end()
            self.expect("ULN", "ULN after x")
            return UlnMultiple(factor=number)
        if match is None or match.group(1) in NOT_UNITS:
            return Quantity(value=number)
        self.pos = match.end()
        return Quantity(value=number, unit=match.group(1))


CALL_PARSERS: dict[str, Callable[[_Parser, str, int], Condition]] = {
    "all": _Parser.all_any,
    "any": _Parser.all_any,
    "not": _Parser.negation,
    "review": _Parser.reasoned,
    "unknown": _Parser.reasoned,
    "when": _Parser.when,
    "condition": _Parser.has,
    "drug": _Parser.has,
    "procedure": _Parser.has,
}
