"""The SQL engines rules compile for, by sqlglot dialect name.

Every rule feature compiles for both engines; a node the compiler cannot express exactly raises
:class:`CompileError`, naming it, so a criterion is reported as not compilable rather than run without part
of its rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmatch.errors import RuleError


class CompileError(RuleError):
    """A rule (or one of its nodes) that the SQL compiler cannot express exactly."""


@dataclass(frozen=True)
class Dialect:
    """A SQL engine: its sqlglot dialect name."""

    name: str


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}
