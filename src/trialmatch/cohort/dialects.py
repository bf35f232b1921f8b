"""The SQL engines rules compile for: one small class each, with the rule features it cannot express.

The compiler asks the dialect before visiting a node; a refused feature raises, naming it, so a criterion is
reported as not compilable rather than run without part of its rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmatch.errors import RuleError
from trialmatch.rules import ast as r


class CompileError(RuleError):
    """A rule (or one of its nodes) that the SQL compiler cannot express exactly."""


@dataclass(frozen=True)
class Dialect:
    """A SQL engine: its sqlglot dialect name and the timing modes it does not support."""

    name: str
    unsupported_timings: frozenset[str] = frozenset({"continuous"})

    def check(self, node: r.Node) -> None:
        """Raise CompileError for a node this engine cannot run exactly."""
        if isinstance(node, r.Has) and node.timing.mode in self.unsupported_timings:
            raise CompileError(
                f"Has: timing '{node.timing.mode}' is not supported on {self.name} "
                "(exposure runs with gaps are not compiled to SQL yet)"
            )


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}
