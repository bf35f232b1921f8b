"""Which derived facts a store holds: each (name, arguments) call, keyed with the vocabulary's defaults.

Choice arguments are enumerated (every specimen, every setting); open arguments (a ``within`` duration, a
``drug`` class) only as the rules given at ingest use them. The SQL compiler refuses a call the store does
not hold, naming it, rather than reading a missing row as unknown.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from trialmatch.rules import ast as r
from trialmatch.rules.vocabulary import DERIVED, Scope, lookup

Call = tuple[str, str]
"""(name, canonical argument key), e.g. ``("her2", "specimen=latest")``."""


@dataclass(frozen=True)
class Calls:
    """The derived calls a store holds, per scope, and the concepts whose latest reading sits beside the patient."""

    patient: frozenset[Call]
    lesion: frozenset[Call]
    latest: frozenset[str] = frozenset()


def args_key(name: str, args: Iterable[tuple[str, str]]) -> str:
    """The canonical key of a call: every argument with its default filled in, in the vocabulary's order."""
    spec = lookup(name)
    given = dict(args)
    if spec is None:
        return ",".join(f"{k}={v}" for k, v in sorted(given.items()))
    resolved = ((a.name, given.get(a.name, a.default)) for a in spec.arguments)
    return ",".join(f"{k}={v}" for k, v in resolved if v is not None)


def parse_key(key: str) -> dict[str, str]:
    """The arguments of a canonical key, for the deriver."""
    return dict(part.split("=", 1) for part in key.split(",") if part)


def default_calls(scope: Scope) -> set[Call]:
    """Every call of ``scope`` names over all choice values (open arguments left at their default)."""
    calls: set[Call] = set()
    for spec in (d for d in DERIVED if d.scope == scope):
        choices = [[(a.name, c) for c in a.choices] for a in spec.arguments if a.choices]
        for combo in itertools.product(*choices):
            calls.add((spec.name, args_key(spec.name, combo)))
    return calls


def rule_calls(rule: r.Node, scope: Scope) -> set[Call]:
    """The calls of ``scope`` names a rule tree makes."""
    found: set[Call] = set()
    for node in _walk(rule):
        if isinstance(node, r.Derived | r.Flag):
            spec = lookup(node.name)
            if spec is not None and spec.scope == scope:
                found.add((node.name, args_key(node.name, node.args)))
    return found


def _walk(node: r.Node) -> Iterator[r.Node]:
    yield node
    for value in node.__dict__.values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, r.Node):
                yield from _walk(child)
