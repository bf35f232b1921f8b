"""The rule tree: immutable nodes over clinical concepts, with a ``kind`` discriminator and no parent pointers.

Two kinds of node exist. *Conditions* evaluate to a status (met / not_met / unknown / review). *Values* are
read from a patient's facts and only appear inside a :class:`Compare` condition.

The text syntax (see ``docs/rules.md`` and :mod:`trialmatch.rules.syntax`) maps one to one onto these nodes,
so ``parse(print(tree)) == tree`` holds for every tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Node(BaseModel):
    """Base of every rule node: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------------------------------------------------------
# Time


class Duration(Node):
    """A span of time as written in a criterion: ``28d``, ``4w``, ``6mo``, ``5y``."""

    kind: Literal["duration"] = "duration"
    amount: int = Field(ge=0)
    unit: Literal["d", "w", "mo", "y"]


class Timing(Node):
    """When an event must have happened, relative to the as-of date.

    ``ever``: at any time; ``active``: the condition is active now / the drug is being taken now;
    ``within``: in the last ``duration`` (for drugs: last dose or end of exposure); ``before``: more than
    ``duration`` ago and not since; ``continuous``: exposure lasting at least ``duration`` with no gap longer
    than ``max_gap``.
    """

    kind: Literal["timing"] = "timing"
    mode: Literal["ever", "active", "within", "before", "continuous"] = "ever"
    duration: Duration | None = None
    max_gap: Duration | None = None


# ---------------------------------------------------------------------------------------------------------------
# Values


class Latest(Node):
    """The most recent value of a measured concept, optionally only if taken within a window before as-of."""

    kind: Literal["latest"] = "latest"
    concept: str
    within: Duration | None = None


class Extreme(Node):
    """The lowest or highest value of a concept in a window: ``max(...) < x`` means every value is below x."""

    kind: Literal["extreme"] = "extreme"
    function: Literal["min", "max"]
    concept: str
    within: Duration | None = None


class Derived(Node):
    """A fact derived from the record by name (age, ecog, her2, lines ...), with its named arguments."""

    kind: Literal["derived"] = "derived"
    name: str
    args: tuple[tuple[str, str], ...] = ()


class CountLesions(Node):
    """The number of lesions (or metastatic foci) satisfying a lesion predicate."""

    kind: Literal["count_lesions"] = "count_lesions"
    where: Condition | None = None


Value = Annotated[Union[Latest, Extreme, Derived, CountLesions], Field(discriminator="kind")]  # noqa: UP007


# ---------------------------------------------------------------------------------------------------------------
# Thresholds


class Quantity(Node):
    """A number with an optional UCUM unit: ``2.0 mg/dL``, ``50 %``, ``18``."""

    kind: Literal["quantity"] = "quantity"
    value: float
    unit: str | None = None


class UlnMultiple(Node):
    """A multiple of the upper limit of normal taken from the value's own reference range: ``1.5 x ULN``."""

    kind: Literal["uln"] = "uln"
    factor: float


class Category(Node):
    """A coded or named category: ``positive``, ``female``, ``PR``."""

    kind: Literal["category"] = "category"
    value: str


class CategorySet(Node):
    """A set of categories for the ``in`` operator: ``{CR, PR}``."""

    kind: Literal["category_set"] = "category_set"
    values: tuple[str, ...]


Threshold = Annotated[Union[Quantity, UlnMultiple, Category, CategorySet], Field(discriminator="kind")]  # noqa: UP007

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "in"]


# ---------------------------------------------------------------------------------------------------------------
# Conditions


class All(Node):
    """Met when every item is met (not_met > unknown > review > met)."""

    kind: Literal["all"] = "all"
    items: tuple[Condition, ...] = Field(min_length=1)


class Any(Node):
    """Met when some item is met (met > unknown > review > not_met)."""

    kind: Literal["any"] = "any"
    items: tuple[Condition, ...] = Field(min_length=1)


class Not(Node):
    """Negation: met ↔ not_met; unknown and review stay as they are."""

    kind: Literal["not"] = "not"
    item: Condition


class Review(Node):
    """What records cannot answer (consent, willingness, judgement): only the site can confirm it."""

    kind: Literal["review"] = "review"
    reason: str


class Unknown(Node):
    """What the rule cannot decide from records yet (text nobody has turned into a rule): always unknown, with
    the question that would settle it. Unlike ``review`` it blocks an eligible verdict."""

    kind: Literal["unknown"] = "unknown"
    reason: str


class When(Node):
    """A conditional requirement: ``then`` if ``condition`` holds, else ``otherwise`` (met when absent)."""

    kind: Literal["when"] = "when"
    condition: Condition
    then: Condition
    otherwise: Condition | None = None


class Unless(Node):
    """``rule`` must hold, unless ``exception`` holds (bilirubin <= 1.5 x ULN unless Gilbert syndrome)."""

    kind: Literal["unless"] = "unless"
    rule: Condition
    exception: Condition


class Compare(Node):
    """A value compared with a threshold."""

    kind: Literal["compare"] = "compare"
    value: Value
    op: Operator
    threshold: Threshold


class Has(Node):
    """A record of a condition, drug (or drug class) or procedure with the given timing.

    ``exceptions`` lists concepts that do not count (other malignancy except carcinoma in situ of the
    cervix); ``setting`` restricts drug exposure to a disease setting (``metastatic``, ``adjuvant`` ...).
    Event history is read closed-world: no record means not_met, unless the record has no entries at all in
    that domain, which makes the answer unknown.
    """

    kind: Literal["has"] = "has"
    domain: Literal["condition", "drug", "procedure"]
    concept: str
    timing: Timing = Timing()
    exceptions: tuple[str, ...] = ()
    setting: str | None = None


class Flag(Node):
    """A boolean fact derived by name: ``measurable_disease``, ``bone_only``, ``childbearing_potential`` ...

    Inside ``count_lesions(where=...)`` flags name lesion attributes: ``measurable``, ``irradiated``,
    ``confluent``, ``visceral``, ``nodal`` ...
    """

    kind: Literal["flag"] = "flag"
    name: str
    args: tuple[tuple[str, str], ...] = ()


Condition = Annotated[
    Union[All, Any, Not, Review, Unknown, When, Unless, Compare, Has, Flag],  # noqa: UP007
    Field(discriminator="kind"),
]

for _model in (CountLesions, All, Any, Not, When, Unless, Compare):
    _model.model_rebuild()


def descendants(node: Node) -> Iterator[Node]:
    """The node and every node inside it (conditions, values, thresholds, timings), depth first."""
    yield node
    for name in type(node).model_fields:
        value = getattr(node, name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Node):
                yield from descendants(child)
