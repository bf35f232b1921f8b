"""Print a rule tree as canonical rule text: one line when it fits, otherwise one argument per indented line.

``parse_rule(print_rule(tree)) == tree`` for every tree the parser can produce. The printer refuses (with a
RuleError) names and units that would read back as something else, so a tree is never printed wrongly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from trialmatch.errors import RuleError
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
    Value,
    When,
)
from trialmatch.rules.syntax import CONCEPT, DURATION, NAME, NOT_UNITS, UNIT, WORD

WIDTH = 88
INDENT = "  "


@dataclass(frozen=True)
class _Call:
    """``head(arg, arg, ...)tail``, which may break into one argument per line."""

    head: str
    args: tuple[_Doc, ...]
    tail: str = ""


@dataclass(frozen=True)
class _Unless:
    rule: _Doc
    exception: _Doc


_Doc = str | _Call | _Unless


def print_rule(node: Condition, *, width: int = WIDTH) -> str:
    """Canonical text of a rule; trees longer than ``width`` are laid out over several indented lines."""
    return _layout(_condition(node), 0, width)


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float: ``18`` for 18.0, ``1.5``, ``1e+16``."""
    if not math.isfinite(value):
        raise RuleError(f"cannot print the number {value} in a rule")
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


# -- layout --------------------------------------------------------------------------------------------------


def _flat(doc: _Doc) -> str:
    if isinstance(doc, str):
        return doc
    if isinstance(doc, _Unless):
        return f"{_flat(doc.rule)} unless {_flat(doc.exception)}"
    return f"{doc.head}{', '.join(_flat(a) for a in doc.args)}){doc.tail}"


def _layout(doc: _Doc, depth: int, width: int) -> str:
    flat = _flat(doc)
    if isinstance(doc, str) or len(INDENT) * depth + len(flat) <= width:
        return flat
    pad = INDENT * depth
    if isinstance(doc, _Unless):
        return f"{_layout(doc.rule, depth, width)}\n{pad}unless {_layout(doc.exception, depth, width)}"
    inner = ",\n".join(INDENT * (depth + 1) + _layout(a, depth + 1, width) for a in doc.args)
    return f"{doc.head}\n{inner}\n{pad}){doc.tail}"


# -- conditions ----------------------------------------------------------------------------------------------


def _condition(node: Condition) -> _Doc:
    match node:
        case All(items=items) | Any(items=items):
            return _Call(f"{node.kind}(", tuple(_condition(i) for i in items))
        case Not(item=item):
            return _Call("not(", (_condition(item),))
        case Review(reason=reason) | Unknown(reason=reason):
            return f"{node.kind}({_string(reason)})"
        case When(condition=condition, then=then, otherwise=otherwise):
            branches = (condition, then) if otherwise is None else (condition, then, otherwise)
            return _Call("when(", tuple(_condition(b) for b in branches))
        case Unless(rule=rule, exception=exception):
            # `unless` groups to the left, so only an exception that is itself an Unless needs parentheses.
            doc = _condition(exception)
            return _Unless(_condition(rule), _Call("(", (doc,)) if isinstance(exception, Unless) else doc)
        case Compare(value=value, op=op, threshold=threshold):
            return _with_tail(_value(value), f" {op} {_threshold(threshold)}")
        case Has():
            return _Call(f"{node.domain}(", tuple(_has_args(node)))
        case Flag(name=name, args=args):
            return _named(name, args)
    raise RuleError(f"cannot print a {type(node).__name__} node")


def _with_tail(doc: _Doc, tail: str) -> _Doc:
    if isinstance(doc, _Call):
        return _Call(doc.head, doc.args, doc.tail + tail)
    return f"{_flat(doc)}{tail}"


def _has_args(node: Has) -> list[str]:
    args = [_token(node.concept, "concept", CONCEPT), *_timing(node.timing)]
    if node.exceptions:
        args.append(f"except=[{', '.join(_token(c, 'concept', CONCEPT) for c in node.exceptions)}]")
    if node.setting is not None:
        args.append(f"setting={_token(node.setting, 'setting', NAME)}")
    return args


def _timing(timing: Timing) -> list[str]:
    """The timing options; a timing the syntax cannot state (``ever`` with a duration ...) is refused."""
    needs_duration = timing.mode in ("within", "before", "continuous")
    if needs_duration != (timing.duration is not None) or (timing.max_gap is not None and timing.mode != "continuous"):
        raise RuleError(f"cannot print timing {timing.mode!r} with these durations")
    if timing.mode == "ever":
        return []
    if timing.duration is None:
        return [timing.mode]
    options = [f"{timing.mode}={_duration(timing.duration)}"]
    if timing.max_gap is not None:
        options.append(f"max_gap={_duration(timing.max_gap)}")
    return options


# -- values and thresholds -----------------------------------------------------------------------------------


def _value(value: Value) -> _Doc:
    match value:
        case Latest(concept=concept, within=within) | Extreme(concept=concept, within=within):
            function = value.function if isinstance(value, Extreme) else "latest"
            window = "" if within is None else f", within={_duration(within)}"
            return f"{function}({_token(concept, 'concept', CONCEPT)}{window})"
        case Derived(name=name, args=args):
            return _named(name, args)
        case CountLesions(where=where):
            return "count_lesions()" if where is None else _Call("count_lesions(where=", (_condition(where),))
    raise RuleError(f"cannot print a {type(value).__name__} value")


def _threshold(threshold: Threshold) -> str:
    match threshold:
        case Quantity(value=number, unit=None):
            return format_number(number)
        case Quantity(value=number, unit=str(unit)):
            if unit in NOT_UNITS:
                raise RuleError(f"cannot print the unit {unit!r}: it would read back as a keyword")
            return f"{format_number(number)} {_token(unit, 'unit', UNIT)}"
        case UlnMultiple(factor=factor):
            return f"{format_number(factor)} x ULN"
        case Category(value=category):
            return _token(category, "category", NAME)
        case CategorySet(values=values):
            return "{" + ", ".join(_token(v, "category", NAME) for v in values) + "}"
    raise RuleError(f"cannot print a {type(threshold).__name__} threshold")


def _named(name: str, args: tuple[tuple[str, str], ...]) -> str:
    if not args:
        return _token(name, "name", NAME)
    text = ", ".join(f"{_token(k, 'argument', NAME)}={_token(v, 'argument value', WORD, DURATION)}" for k, v in args)
    return f"{_token(name, 'name', NAME)}({text})"


def _duration(duration: Duration) -> str:
    return f"{duration.amount}{duration.unit}"


def _string(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise RuleError("cannot print a review reason containing a line break or control character")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token(text: str, what: str, *patterns: re.Pattern[str]) -> str:
    """``text`` unchanged if it reads back as one token of one of these kinds, else a RuleError."""
    if any(p.fullmatch(text) for p in patterns):
        return text
    raise RuleError(f"cannot print {what} {text!r}: it is not a valid token of the rule syntax")
